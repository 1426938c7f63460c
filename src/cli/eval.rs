//! `kefu eval`: retrieval quality on labelled queries or on the knowledge base itself
//! (held-out similar questions, entries left out), the reliability of confidence, and runs
//! saved and compared.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use kefu::suggest::eval;
use kefu::suggest::kb::{self};

use super::suggest::*;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("measured_on").required(true)))]
pub struct EvalArgs {
    /// Labelled queries: one {"qid","text","relevant":[ids]} per line.
    #[arg(long, value_name = "FILE", group = "measured_on")]
    queries: Option<PathBuf>,
    /// No labelled queries: ask each entry's similar questions, held out of the index one
    /// round at a time, and expect their own entry back.
    #[arg(long, group = "measured_on")]
    holdout: bool,
    /// No labelled queries: leave every eighth entry out of the index in turn and ask its
    /// questions, which the rest cannot answer: the share answered is the share answered
    /// wrongly (what a shop sees for questions its knowledge base lacks).
    #[arg(long, group = "measured_on")]
    absent: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also list the queries whose first suggestion is wrong: the query, the expected entry and
    /// its rank, and what came first.
    #[arg(long)]
    misses: bool,
    /// Keep every query's rank in FILE (JSON lines), to compare a later run with.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Compare with a run kept by --save: the figures before and after over the queries both
    /// asked, and the queries whose first suggestion became right or stopped being right.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Also say the lowest confidence threshold at which the answered queries are right first
    /// at least this share of the time (0–1), and how many it leaves answered.
    #[arg(long, value_name = "SHARE", value_parser = parse_precision)]
    precision: Option<f64>,
    #[command(flatten)]
    source: KbSource,
}

pub(super) fn parse_precision(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "a precision is a share between 0 and 1 (0.9 for 90 %), not {s}"
        )),
    }
}

/// The reliability table (bands with no query left out) and the threshold for a precision.
pub(super) fn print_reliability(r: &eval::Report) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "reliability     confidence  queries  right first")?;
    for b in r.reliability.iter().filter(|b| b.queries > 0) {
        writeln!(
            out,
            "                {:.1}–{:.1}     {:7}  {:.3}",
            b.from,
            b.to,
            b.queries,
            b.right as f64 / b.queries as f64
        )?;
    }
    if let Some(t) = &r.for_precision {
        match t.threshold {
            Some(threshold) => writeln!(
                out,
                "precision {:.2}  at threshold {threshold:.2}: {:.1} % answered, {:.3} right",
                t.precision,
                t.answered * 100.0,
                t.reached
            )?,
            None => writeln!(
                out,
                "precision {:.2}  reached at no threshold: even the most confident first \
                 suggestions are right less often",
                t.precision
            )?,
        }
    }
    Ok(())
}

pub fn eval(args: EvalArgs) -> Result<ExitCode> {
    // A bad baseline is found before the run, not after it.
    let baseline = match &args.baseline {
        None => None,
        Some(path) => {
            let text = kb::read_file(path)?;
            let ranks = eval::parse_ranks(&text)
                .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.line, e.message))?;
            Some((path, ranks))
        }
    };
    let suggester = args.source.open_for_eval()?;
    let mut r = match &args.queries {
        None if args.absent => eval::absent(&suggester)?,
        None => eval::holdout(&suggester)?,
        Some(path) => {
            let text = kb::read_file(path)?;
            let (queries, errors) = eval::parse_queries(&text);
            for e in &errors {
                warn_skipped(path, e);
            }
            if queries.is_empty() {
                bail!("{}: no valid queries", path.display());
            }
            eval::run(&suggester, &queries)?
        }
    };
    if !args.misses {
        r.misses.clear();
    }
    if let Some(p) = args.precision {
        r = r.with_precision(p);
    }
    let comparison = baseline.map(|(path, before)| (path, eval::compare(&before, &r.ranks)));
    if let Some(path) = &args.save {
        kb::write_replacing(path, eval::ranks_jsonl(&r.ranks).as_bytes())
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    match args.format {
        Format::Json => {
            let mut v = serde_json::to_value(&r)?;
            if let Some((_, c)) = &comparison {
                v["baseline"] = serde_json::to_value(c)?;
            }
            writeln!(std::io::stdout(), "{v}")?;
        }
        Format::Text => {
            match r.held_out_rounds {
                Some(rounds) if r.entries_left_out => writeln!(
                    std::io::stdout(),
                    "queries         {} (their entries left out, {rounds} rounds: none can be \
                     answered rightly, so the answered share is the wrongly answered share)",
                    r.queries
                )?,
                Some(rounds) => writeln!(
                    std::io::stdout(),
                    "queries         {} (similar questions held out, {rounds} rounds)",
                    r.queries
                )?,
                None => writeln!(std::io::stdout(), "queries         {}", r.queries)?,
            }
            writeln!(std::io::stdout(), "recall@1        {:.3}", r.recall_at_1)?;
            writeln!(std::io::stdout(), "recall@5        {:.3}", r.recall_at_5)?;
            writeln!(std::io::stdout(), "MRR@10          {:.3}", r.mrr)?;
            writeln!(
                std::io::stdout(),
                "no-answer rate  {:.3} (threshold {:.2})",
                r.no_answer_rate,
                r.threshold
            )?;
            writeln!(
                std::io::stdout(),
                "precision when answered {:.3}",
                r.answered_precision
            )?;
            writeln!(
                std::io::stdout(),
                "latency µs      p50 {:.0} · p90 {:.0} · p99 {:.0}",
                r.latency_us_p50,
                r.latency_us_p90,
                r.latency_us_p99
            )?;
            print_reliability(&r)?;
            if !r.misses.is_empty() {
                writeln!(
                    std::io::stdout(),
                    "\nmisses ({}): query → expected | got first",
                    r.misses.len()
                )?;
            }
            for m in &r.misses {
                let expected: Vec<String> = m
                    .expected
                    .iter()
                    .map(|(id, q)| format!("[{id}] {q}"))
                    .collect();
                let mut rank = m
                    .rank
                    .map_or("not in top 10".to_owned(), |r| format!("rank {r}"));
                if let Some(r) = m.same_answer_at {
                    rank.push_str(&format!("; its very answer at rank {r}"));
                }
                let got = m
                    .got
                    .as_ref()
                    .map_or("nothing".to_owned(), |(id, q)| format!("[{id}] {q}"));
                writeln!(
                    std::io::stdout(),
                    "{} {}\n    expected {} ({rank})\n    got      {got}",
                    m.qid,
                    m.text,
                    expected.join(" / ")
                )?;
            }
            if let Some((path, c)) = &comparison {
                print_comparison(path, c)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The text form of `eval --baseline`.
pub(super) fn print_comparison(path: &Path, c: &eval::Comparison) -> std::io::Result<()> {
    write!(
        std::io::stdout(),
        "\nagainst {} ({} queries in both",
        path.display(),
        c.queries
    )?;
    if c.new_queries > 0 {
        write!(std::io::stdout(), "; {} new ones left out", c.new_queries)?;
    }
    writeln!(std::io::stdout(), ")")?;
    let (b, a) = (&c.before, &c.after);
    for (name, b, a) in [
        ("recall@1", b.recall_at_1, a.recall_at_1),
        ("recall@5", b.recall_at_5, a.recall_at_5),
        ("MRR@10  ", b.mrr, a.mrr),
    ] {
        writeln!(
            std::io::stdout(),
            "{name}        {b:.3} → {a:.3} ({:+.3})",
            a - b
        )?;
    }
    let rank = |r: Option<usize>| r.map_or("not in top 10".to_owned(), |r| format!("rank {r}"));
    for (title, changes) in [("first now", &c.fixed), ("no longer first", &c.broken)] {
        writeln!(std::io::stdout(), "{title} ({}):", changes.len())?;
        for ch in changes.iter() {
            writeln!(
                std::io::stdout(),
                "  {} {} ({} → {})",
                ch.qid,
                ch.text,
                rank(ch.before),
                rank(ch.after)
            )?;
        }
    }
    Ok(())
}
