//! `kefu kb`: maintaining a knowledge base — import, check, analyse, phrases, reindex, export,
//! learn, the learned pairs, mining transcripts and the unanswered questions.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};

use kefu::suggest::gaps::GapLog;
use kefu::suggest::kb::{self, KbEntry, Phrase};
use kefu::suggest::{Analysis, Suggester, learn};
use kefu::{Config, LintRequest, Linter};

use super::suggest::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GapsFormat {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LearnedStatus {
    Learned,
    Pending,
    Undone,
    All,
}

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Build a persistent on-disk index from a knowledge base (duplicate ids: the last wins).
    Import {
        /// Knowledge base, JSONL or CSV.
        file: PathBuf,
        /// Phrase library to index with it (default: the shipped one).
        #[arg(long, value_name = "FILE")]
        phrases: Option<PathBuf>,
        /// Index no phrase library at all: the knowledge base alone.
        #[arg(long, conflicts_with = "phrases")]
        no_phrases: bool,
        /// The shop's own retrieval synonyms (`canonical: variant, …` per line), kept with the
        /// index and used by every command that opens it.
        #[arg(long, value_name = "FILE")]
        synonyms: Option<PathBuf>,
        /// Where to build the index (a directory, created if missing; an existing index there is
        /// replaced).
        #[arg(long, value_name = "DIR")]
        index: PathBuf,
    },
    /// Validate a knowledge base: malformed lines, empty fields, duplicate ids, one question under
    /// two entries, and answers that break the service rules; and a phrase library likewise.
    Check {
        /// Knowledge base, JSONL or CSV.
        #[arg(required_unless_present = "phrases")]
        file: Option<PathBuf>,
        /// Phrase library to check (JSONL or CSV): malformed lines, empty fields, duplicate ids
        /// and phrases that break the service rules.
        #[arg(long, value_name = "FILE")]
        phrases: Option<PathBuf>,
    },
    /// Show how a question is analysed for retrieval: its normalised text, the same with every
    /// word in its canonical spelling (what characters and bigrams come from), each word and the
    /// term it is searched as (synonyms folded, filler dropped), and how many entries hold it.
    Analyze {
        /// The question, as a customer would type it.
        question: String,
        #[command(flatten)]
        files: super::KbFiles,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List the phrase library (快捷短语) as a quick-reply panel shows it: its scenes, and the
    /// phrases of one scene or all, each with the variables to fill and its lint result.
    Phrases {
        /// Only this scene's phrases (greeting, waiting, closing…; letter case aside).
        #[arg(long)]
        scene: Option<String>,
        /// The shop's phrase library (JSONL or CSV) instead of the shipped one.
        #[arg(long, value_name = "FILE", conflicts_with = "index")]
        phrases: Option<PathBuf>,
        /// The phrase library of the on-disk index built by `kefu kb import`.
        #[arg(long, value_name = "DIR")]
        index: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Rebuild an on-disk index from its own entries and phrases with this kefu's word lists
    /// (and the shop's synonyms kept in it): after an upgrade, without losing edits made over HTTP.
    Reindex {
        /// The on-disk index to rebuild in place.
        #[arg(long, value_name = "DIR")]
        index: PathBuf,
    },
    /// Write the knowledge base out as JSONL, the import format, one entry per line by id: an
    /// on-disk index with the edits made over HTTP, or the shipped one to start a shop's own from.
    Export {
        #[command(flatten)]
        files: super::KbFiles,
        /// Write to FILE (replaced only once complete) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Learn from the shop: add the questions agents answered with an entry (accepted pairs,
    /// one {"question","id"} per line) as that entry's similar questions, and write the new
    /// knowledge base as JSONL. A question the entry holds already, or another entry holds
    /// word for word, is not added; the report says which.
    Learn {
        #[command(flatten)]
        files: super::KbFiles,
        /// The accepted pairs: one {"question","id"} per line.
        #[arg(long, value_name = "FILE")]
        accepted: PathBuf,
        /// Add a question only once it was accepted for the same entry this many times.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        min_count: u64,
        /// Where to write the new knowledge base (replaced only once complete).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Mine past conversations (as `kefu audit` reads them) for the knowledge base: questions
    /// agents answered with an entry's answer that kefu does not find first, proposed as that
    /// entry's similar questions; groups of alike questions kefu cannot answer, with the
    /// agents' real replies as draft answers. For a KB owner to review.
    Mine(super::mine::MineArgs),
    /// What the service learned from agents' inserted suggestions (POST /v1/suggest/feedback):
    /// each question with the entry it now belongs to, how often agents chose it and when it
    /// was learned; --status pending lists the choices still waiting for confirmation.
    Learned {
        /// The on-disk index the service writes to (its feedback.jsonl).
        #[arg(long, value_name = "DIR")]
        index: PathBuf,
        #[arg(long, value_enum, default_value_t = LearnedStatus::Learned)]
        status: LearnedStatus,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The questions customers asked that the knowledge base could not answer, most frequent
    /// first. With the shop's knowledge base (--kb or --index) each is asked again: those it
    /// answers now are closed, and left out unless --all.
    Gaps {
        /// The gap file (also KEFU_GAPS; default: DIR/gaps.jsonl with --index).
        #[arg(long, value_name = "FILE", env = "KEFU_GAPS")]
        file: Option<PathBuf>,
        /// The knowledge base to ask them again (--index: also where the gap file is; the
        /// shipped one is not asked, it only changes with kefu).
        #[command(flatten)]
        source: KbSource,
        /// Also list the questions the knowledge base answers now.
        #[arg(long)]
        all: bool,
        /// List only the N most asked.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
        /// csv: question, count, last seen, best confidence, closest and answering entry, with
        /// a header row, for the spreadsheet the knowledge base is kept in.
        #[arg(long, value_enum, default_value_t = GapsFormat::Text)]
        format: GapsFormat,
        /// Dismiss a recorded question the shop will not answer, written as listed (script,
        /// width and punctuation aside); repeatable. It is listed again only if asked again.
        #[arg(long, value_name = "QUESTION", conflicts_with_all = ["all", "limit", "format"])]
        dismiss: Vec<String>,
        /// Rewrite the gap file as one line per open question, dropping dismissed ones (after
        /// any --dismiss). Safe while `kefu serve` or `kefu suggest` records into it.
        #[arg(long, conflicts_with_all = ["all", "limit", "format"])]
        compact: bool,
    },
}

/// `kb gaps --dismiss … --compact`: dismisses the questions named, then compacts the file.
/// Exit 1 when a question named is not an open one (the others are still dismissed).
pub(super) fn tend_gaps(log: &GapLog, dismiss: &[String], compact: bool) -> Result<ExitCode> {
    let file = log.path().display();
    let mut out = io::stdout().lock();
    let mut missing = 0;
    for question in dismiss {
        match log.dismiss(question)? {
            Some(gap) => writeln!(
                out,
                "dismissed: {} (asked {} time{}, last {})",
                clipped(&gap.question),
                gap.count,
                if gap.count == 1 { "" } else { "s" },
                gap.last_seen
            )?,
            None => {
                missing += 1;
                eprintln!(
                    "kefu: {file}: no open question `{}` to dismiss",
                    clipped(question)
                );
            }
        }
    }
    if compact {
        let done = log.compact()?;
        writeln!(
            out,
            "compacted {file}: {} lines → {}",
            done.lines_before, done.lines_after
        )?;
    }
    Ok(if missing > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub fn kb(cmd: KbCommand, config: Option<&Path>) -> Result<ExitCode> {
    match cmd {
        KbCommand::Import {
            file,
            phrases,
            no_phrases,
            synonyms,
            index,
        } => {
            let analyzer = kefu::suggest::Sources {
                synonyms,
                ..Default::default()
            }
            .analyzer()?;
            let entries = load::<KbEntry>(&file, |e| &e.id)?;
            let phrases = match phrases {
                Some(p) => load::<Phrase>(&p, |e| &e.id)?,
                None if no_phrases => Vec::new(),
                None => kb::parse::<Phrase>(kb::DEFAULT_PHRASES).dedup_last_wins(|p| &p.id),
            };
            let s = Suggester::build_with(&entries, &phrases, Some(&index), analyzer)?;
            writeln!(
                std::io::stdout(),
                "indexed {} entries and {} phrases ({} documents) into {}",
                entries.len(),
                phrases.len(),
                s.num_docs(),
                index.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Check { file, phrases } => {
            let linter = Linter::with_meaning(&Config::discover(config)?)?;
            let mut problems = 0;
            if let Some(file) = &file {
                problems += check_kb(file, &linter)?;
            }
            if let Some(file) = &phrases {
                problems += check_phrases(file, &linter)?;
            }
            Ok(if problems == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        KbCommand::Analyze {
            question,
            files,
            format,
        } => {
            let analysis = open(files.sources())?.analyze(&question)?;
            let mut out = io::stdout().lock();
            match format {
                Format::Json => writeln!(out, "{}", serde_json::to_string(&analysis)?)?,
                Format::Text => write_analysis(&mut out, &question, &analysis)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Phrases {
            scene,
            phrases,
            index,
            format,
        } => {
            let sources = kefu::suggest::Sources {
                phrases,
                index,
                ..Default::default()
            };
            let library = sources.phrases(warn_skipped)?;
            let linter = Linter::with_meaning(&Config::discover(config)?)?;
            // An empty scene (a script's unset variable) lists them all, as `?scene=` does.
            let scene = scene.filter(|s| !s.trim().is_empty());
            let panel = kefu::suggest::panel::list(&library, &linter, scene.as_deref());
            if let Some(message) = scene.as_deref().and_then(|s| panel.unknown_scene(s)) {
                bail!(message);
            }
            let mut out = io::stdout().lock();
            match format {
                Format::Json => writeln!(out, "{}", serde_json::to_string(&panel)?)?,
                Format::Text => write_panel(&mut out, &panel)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Reindex { index } => {
            let (entries, phrases) = Suggester::reindex(&index)?;
            writeln!(
                std::io::stdout(),
                "re-indexed {entries} entries and {phrases} phrases in {}",
                index.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Learn {
            files,
            accepted,
            min_count,
            output,
        } => {
            let suggester = open(files.sources())?;
            let mut entries = suggester.entries().to_vec();
            let (pairs, errors) = learn::parse_accepted(&kb::read_file(&accepted)?);
            for e in &errors {
                warn_skipped(&accepted, e);
            }
            if pairs.is_empty() {
                bail!("{}: no accepted pairs", accepted.display());
            }
            let analyzer = suggester.analyzer();
            let learned = learn::learn(&mut entries, &pairs, &analyzer, min_count as usize);
            let mut text = String::new();
            for e in &entries {
                text.push_str(&serde_json::to_string(e)?);
                text.push('\n');
            }
            kb::write_replacing(&output, text.as_bytes())
                .with_context(|| format!("{}: cannot write", output.display()))?;
            let mut out = io::stdout().lock();
            let touched: std::collections::BTreeSet<&str> =
                learned.added.iter().map(|(id, _)| id.as_str()).collect();
            writeln!(
                out,
                "learned {} similar question{} for {} entr{} → {}",
                learned.added.len(),
                if learned.added.len() == 1 { "" } else { "s" },
                touched.len(),
                if touched.len() == 1 { "y" } else { "ies" },
                output.display()
            )?;
            for (id, question) in &learned.added {
                writeln!(out, "  + [{id}] {question}")?;
            }
            if learned.already > 0 {
                writeln!(out, "{} already held by their entry", learned.already)?;
            }
            if learned.unconfirmed > 0 {
                writeln!(
                    out,
                    "{} accepted fewer than {min_count} times: left for later",
                    learned.unconfirmed
                )?;
            }
            for (question, wanted, holder) in &learned.conflicts {
                writeln!(
                    out,
                    "not added: {question} (for {wanted}) is held word for word by {holder}"
                )?;
            }
            for (line, id) in &learned.unknown {
                eprintln!(
                    "warning: {}:{line}: no entry `{id}` in the knowledge base (skipped)",
                    accepted.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Export { files, output } => {
            // An index is read by its stored fields, so one an upgrade refuses still exports.
            let entries = match &files.index {
                Some(dir) => kefu::suggest::index::read_stored(dir)?.0,
                None => open(files.sources())?.entries().to_vec(),
            };
            let mut text = String::new();
            for e in &entries {
                text.push_str(&serde_json::to_string(e)?);
                text.push('\n');
            }
            match output {
                None => io::stdout().lock().write_all(text.as_bytes())?,
                Some(path) => {
                    // An interrupted export never leaves a half-written knowledge base.
                    kb::write_replacing(&path, text.as_bytes())
                        .with_context(|| format!("{}: cannot write", path.display()))?;
                    eprintln!("exported {} entries to {}", entries.len(), path.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Mine(args) => super::mine::run(args, config),
        KbCommand::Learned {
            index,
            status,
            format,
        } => {
            use kefu::suggest::feedback::{FeedbackLog, PairStatus};
            if !index.join("meta.json").is_file() {
                bail!(
                    "{}: not an index built by `kefu kb import`",
                    index.display()
                );
            }
            let log = FeedbackLog::in_index(&index);
            let pairs = log.pairs(match status {
                LearnedStatus::Learned => Some(PairStatus::Learned),
                LearnedStatus::Pending => Some(PairStatus::Pending),
                LearnedStatus::Undone => Some(PairStatus::Undone),
                LearnedStatus::All => None,
            })?;
            let mut out = io::stdout().lock();
            match format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &pairs)?;
                    writeln!(out)?;
                }
                Format::Text if pairs.is_empty() => {
                    writeln!(
                        out,
                        "nothing {} in {}",
                        match status {
                            LearnedStatus::Learned => "learned",
                            LearnedStatus::Pending => "pending",
                            LearnedStatus::Undone => "undone",
                            LearnedStatus::All => "recorded",
                        },
                        log.path().display()
                    )?;
                }
                Format::Text => {
                    for p in &pairs {
                        let when = p.since.as_deref().unwrap_or(&p.last_chosen);
                        writeln!(
                            out,
                            "{:<8} {:>4}×  {}  →  {}  ({when})",
                            format!("{:?}", p.status).to_lowercase(),
                            p.count,
                            p.question,
                            p.id
                        )?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Gaps {
            file,
            source,
            all,
            limit,
            format,
            dismiss,
            compact,
        } => {
            let Some(log) = source.gap_log(file.as_deref()) else {
                bail!(
                    "which gap file? name it with --file FILE (or KEFU_GAPS), or give the \
                     on-disk index with --index DIR"
                );
            };
            if !dismiss.is_empty() || compact {
                return tend_gaps(&log, &dismiss, compact);
            }
            let mut gaps = log.summary()?;
            let recorded = gaps.len();
            // Only the shop's own knowledge base changes between the questions and now (and a
            // gap file written with one KB must not be closed by another).
            let shops_own = source.files.kb.is_some() || source.files.index.is_some();
            if shops_own && recorded > 0 {
                source.open()?.recheck(&mut gaps)?;
            }
            if !all {
                gaps.retain(|g| g.answered_by.is_none());
            }
            let closed = recorded - gaps.iter().filter(|g| g.answered_by.is_none()).count();
            let listed = gaps.len();
            if let Some(n) = limit {
                gaps.truncate(usize::try_from(n).unwrap_or(usize::MAX));
            }
            let mut out = io::stdout().lock();
            match format {
                GapsFormat::Json => writeln!(out, "{}", serde_json::to_string(&gaps)?)?,
                GapsFormat::Csv => {
                    let mut csv = csv::Writer::from_writer(out);
                    csv.write_record([
                        "question",
                        "count",
                        "last_seen",
                        "best_confidence",
                        "closest",
                        "answered_by",
                    ])?;
                    for g in &gaps {
                        csv.write_record([
                            g.question.as_str(),
                            &g.count.to_string(),
                            &g.last_seen,
                            &format!("{:.2}", g.best_confidence),
                            g.closest.as_deref().unwrap_or(""),
                            g.answered_by.as_deref().unwrap_or(""),
                        ])?;
                    }
                    csv.flush()?;
                }
                GapsFormat::Text => {
                    if recorded == 0 {
                        writeln!(
                            out,
                            "no unanswered questions recorded in {}",
                            log.path().display()
                        )?;
                    }
                    for g in &gaps {
                        let question = clipped(&g.question);
                        write!(out, "{:>5}  {}  {question}", g.count, g.last_seen)?;
                        match (&g.answered_by, &g.closest) {
                            (Some(id), _) => writeln!(out, "  (answered now: {id})")?,
                            (None, Some(id)) => writeln!(
                                out,
                                "  (closest: {id}, confidence {:.2})",
                                g.best_confidence
                            )?,
                            (None, None) => writeln!(out, "  (nothing close)")?,
                        }
                    }
                    if gaps.len() < listed {
                        writeln!(
                            out,
                            "({} more, asked less often: --limit lists more)",
                            listed - gaps.len()
                        )?;
                    }
                    if closed > 0 && !all {
                        writeln!(
                            out,
                            "({closed} more recorded, answered by the knowledge base now: --all lists them)"
                        )?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `kb analyze` as text: one line per word, then the bigrams.
pub(super) fn write_analysis(out: &mut impl Write, question: &str, a: &Analysis) -> io::Result<()> {
    writeln!(out, "question    {question}")?;
    writeln!(out, "normalised  {}", a.normalized)?;
    writeln!(out, "canonical   {}", a.canonical)?;
    writeln!(
        out,
        "words (as written → as searched · weight · entries holding it):"
    )?;
    for w in &a.words {
        let word = &w.word;
        let term = if word.searched_as == word.written {
            word.written.clone()
        } else {
            format!("{} → {}", word.written, word.searched_as)
        };
        if word.filler {
            writeln!(out, "  {term} · filler, not searched")?;
        } else {
            writeln!(
                out,
                "  {term} · weight {:.2} · {} in questions, {} in answers",
                word.weight, w.questions, w.answers
            )?;
        }
    }
    let bigrams: Vec<String> = a
        .bigrams
        .iter()
        .map(|b| format!("{} {}", b.bigram, b.questions))
        .collect();
    writeln!(
        out,
        "bigrams (entries holding it in questions): {}",
        bigrams.join(" · ")
    )
}

/// The phrase panel as text: the scenes with their counts, then each listed scene's phrases.
pub(super) fn write_panel(
    out: &mut impl Write,
    panel: &kefu::suggest::panel::PhraseList,
) -> io::Result<()> {
    if panel.scenes.is_empty() {
        return writeln!(out, "the phrase library is empty");
    }
    let scenes: Vec<String> = panel
        .scenes
        .iter()
        .map(|s| format!("{} {}", s.scene, s.phrases))
        .collect();
    writeln!(out, "scenes: {}", scenes.join(" · "))?;
    let mut scene = None;
    for p in &panel.phrases {
        if scene != Some(&p.scene) {
            writeln!(out, "\n{}", p.scene)?;
            scene = Some(&p.scene);
        }
        write!(out, "  [{}] {}", p.id, p.text)?;
        if !p.vars.is_empty() {
            write!(out, "  (fill: {})", p.vars.join(", "))?;
        }
        if !p.lint.findings.is_empty() {
            // Each rule once, in the order the draft breaks them.
            let mut rules: Vec<&str> = Vec::new();
            for f in &p.lint.findings {
                if !rules.contains(&f.rule) {
                    rules.push(f.rule);
                }
            }
            write!(out, "  (lint {}/100: {})", p.lint.score, rules.join(", "))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `kefu kb check FILE`: prints each problem of a knowledge base with its line, notes entries
/// that share an answer, and returns how many problems there are.
fn check_kb(file: &Path, linter: &Linter) -> Result<usize> {
    let text = kb::read_file(file)?;
    let loaded = kb::parse::<KbEntry>(&text);
    let mut problems = print_line_errors(file, &kb::validate(&loaded))?;
    let answers = loaded
        .records
        .iter()
        .map(|(l, e)| (*l, "answer", &e.id, &e.answer));
    problems += lint_texts(file, linter, answers)?;
    // Not a problem (a generic answer may serve many questions), but worth knowing.
    const SHOWN: usize = 8;
    for group in kb::shared_answers(&loaded) {
        let (line, first) = group[0];
        let mut others: Vec<String> = group[1..]
            .iter()
            .take(SHOWN)
            .map(|(l, e)| format!("`{}` (line {l})", e.id))
            .collect();
        if group.len() - 1 > SHOWN {
            others.push(format!("{} more", group.len() - 1 - SHOWN));
        }
        writeln!(
            std::io::stdout(),
            "{}:{line}: note: `{}` has the same answer as {}: suggestions offer it once, for whichever matches best",
            file.display(),
            first.id,
            others.join(", ")
        )?;
    }
    writeln!(
        std::io::stdout(),
        "{} entries, {problems} problem(s)",
        loaded.records.len()
    )?;
    Ok(problems)
}

/// `kefu kb check --phrases FILE`: as `check_kb`, for a phrase library.
fn check_phrases(file: &Path, linter: &Linter) -> Result<usize> {
    let text = kb::read_file(file)?;
    let loaded = kb::parse::<Phrase>(&text);
    let mut problems = print_line_errors(file, &kb::validate_phrases(&loaded))?;
    let texts = loaded
        .records
        .iter()
        .map(|(l, p)| (*l, "phrase", &p.id, &p.text));
    problems += lint_texts(file, linter, texts)?;
    writeln!(
        std::io::stdout(),
        "{} phrases, {problems} problem(s)",
        loaded.records.len()
    )?;
    Ok(problems)
}

/// Prints each problem as `file:line: message` and counts them.
fn print_line_errors(file: &Path, errors: &[kb::LineError]) -> std::io::Result<usize> {
    for e in errors {
        writeln!(
            std::io::stdout(),
            "{}:{}: {}",
            file.display(),
            e.line,
            e.message
        )?;
    }
    Ok(errors.len())
}

/// Lints each (line, what, id, text), prints every finding with its line, and counts them.
fn lint_texts<'a>(
    file: &Path,
    linter: &Linter,
    texts: impl Iterator<Item = (usize, &'a str, &'a String, &'a String)>,
) -> std::io::Result<usize> {
    let mut findings = 0;
    for (line, what, id, text) in texts {
        for f in &linter.lint(&LintRequest::new(text)).findings {
            writeln!(
                std::io::stdout(),
                "{}:{line}: {what} of `{id}`: {}[{}] {} «{}»",
                file.display(),
                f.severity,
                f.rule,
                f.message,
                f.text
            )?;
            findings += 1;
        }
    }
    Ok(findings)
}
