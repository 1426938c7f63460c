//! `kefu kb mine`: past conversations mined for the knowledge base, as similar questions to
//! learn and drafts of new entries for a KB owner to review (`kefu::suggest::mine`).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use kefu::suggest::kb;
use kefu::suggest::mine::{Mined, Miner};
use kefu::{Config, Linter};

use super::suggest::clipped;

#[derive(Debug, Args)]
pub struct MineArgs {
    /// Conversations, JSON lines as `kefu audit` reads them (one conversation or one message
    /// per line, gzip or not; `-` for standard input).
    chats: String,
    #[command(flatten)]
    files: super::KbFiles,
    /// Propose only questions asked at least N times (a group's questions together).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    min_count: u64,
    /// Write the proposed similar questions as accepted pairs ({"question","id"} per line), the
    /// file `kefu kb learn --accepted` applies once reviewed.
    #[arg(long, value_name = "FILE")]
    pairs: Option<PathBuf>,
    /// Write the groups of unanswered questions with their draft answers, one JSON object a line.
    #[arg(long, value_name = "FILE")]
    drafts: Option<PathBuf>,
    /// Everything found as one JSON document on standard output instead of the summary.
    #[arg(long)]
    json: bool,
    /// Proposals of each kind the summary shows.
    #[arg(long, value_name = "N", default_value_t = 20)]
    limit: usize,
    /// Messages (one per line) held in memory up to this many MiB while their conversations are
    /// joined; past it they go to temporary files.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    spill_after: usize,
}

pub fn run(args: MineArgs, config: Option<&Path>) -> Result<ExitCode> {
    let linter = Linter::with_meaning(&Config::discover(config)?)?;
    let suggester = super::suggest::open(args.files.sources())?;
    let mut miner = Miner::new(&suggester);
    let mut bad = 0usize;
    let progress = super::audit::read_conversations(
        &args.chats,
        args.spill_after,
        |n, e| {
            bad += 1;
            if bad <= 10 {
                eprintln!("warning: {}:{n}: {e} (skipped)", args.chats);
            }
            Ok(())
        },
        |conversations| Ok(miner.add(conversations)?),
    )?;
    progress.finish_and_clear();
    if bad > 10 {
        eprintln!("warning: {} more bad lines skipped", bad - 10);
    }
    let mined = miner.finish(&linter, args.min_count as usize);
    if let Some(path) = &args.pairs {
        let mut text = String::new();
        for p in &mined.similar {
            text.push_str(&serde_json::to_string(
                &serde_json::json!({"question": p.question, "id": p.id}),
            )?);
            text.push('\n');
        }
        kb::write_replacing(path, text.as_bytes())
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    if let Some(path) = &args.drafts {
        let mut text = String::new();
        for g in &mined.new_entries {
            text.push_str(&serde_json::to_string(g)?);
            text.push('\n');
        }
        kb::write_replacing(path, text.as_bytes())
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &mined)?;
        writeln!(out)?;
    } else {
        summary(&mut out, &mined, &args)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The readable summary: counts, then the first proposals of each kind.
fn summary(out: &mut impl Write, m: &Mined, args: &MineArgs) -> io::Result<()> {
    writeln!(
        out,
        "{} conversations, {} questions answered by agents; {} with a knowledge-base answer, {} of them found already",
        m.conversations, m.exchanges, m.answered_from_kb, m.already_found
    )?;
    writeln!(
        out,
        "\nsimilar questions to learn ({}; the answer agents gave → the entry):",
        m.similar.len()
    )?;
    for p in m.similar.iter().take(args.limit) {
        let now = match (&p.rank, &p.first) {
            (Some(1), _) => "first now, not sure".to_owned(),
            (Some(r), Some(first)) => format!("now {r}th, after {first}"),
            (None, Some(first)) => format!("now not in the first 5; {first} comes first"),
            _ => "now nothing found".to_owned(),
        };
        writeln!(
            out,
            "  {:>3}×  {}  →  {} ({})  [{now}]",
            p.count, p.question, p.id, p.entry_question
        )?;
    }
    more(out, m.similar.len(), args.limit)?;
    writeln!(
        out,
        "\nquestions the knowledge base cannot answer ({} groups), with the agents' replies:",
        m.new_entries.len()
    )?;
    for g in m.new_entries.iter().take(args.limit) {
        let asked: Vec<String> = (g.questions.iter().take(3))
            .map(|a| format!("{} ({})", clipped(&a.question), a.count))
            .collect();
        writeln!(out, "  {:>3}×  {}", g.count, asked.join(" / "))?;
        for d in &g.drafts {
            let verdict = if d.passed { "passes" } else { "fails" };
            writeln!(
                out,
                "        {}× {}  [lint {} {verdict}]",
                d.count, d.answer, d.score
            )?;
        }
    }
    more(out, m.new_entries.len(), args.limit)?;
    if args.pairs.is_none() && !m.similar.is_empty() {
        writeln!(
            out,
            "\n--pairs FILE writes the similar questions for `kefu kb learn --accepted FILE` once reviewed"
        )?;
    }
    Ok(())
}

fn more(out: &mut impl Write, total: usize, shown: usize) -> io::Result<()> {
    if total > shown {
        writeln!(out, "  … and {} more (--limit, --json)", total - shown)?;
    }
    Ok(())
}
