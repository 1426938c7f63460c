//! `kefu suggest`, `kefu kb` and `kefu eval`: answers from the knowledge base, its maintenance,
//! and measuring retrieval quality.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};

use kefu::suggest::gaps::GapLog;
use kefu::suggest::kb::{self, KbEntry, Phrase};
use kefu::suggest::recorder::Recorder;
use kefu::suggest::{Analysis, SuggestRequest, SuggestResult, Suggester, eval, learn};
use kefu::{Config, LintRequest, Linter};

/// Where the knowledge base comes from.
#[derive(Debug, Args)]
pub struct KbSource {
    #[command(flatten)]
    files: super::KbFiles,
    /// Confidence below which a question counts as unanswered (0–1).
    #[arg(long, default_value_t = kefu::suggest::DEFAULT_THRESHOLD, value_parser = threshold, allow_negative_numbers = true)]
    threshold: f32,
}

impl KbSource {
    fn open(&self) -> Result<Suggester> {
        self.open_sources(self.files.sources())
    }

    /// For `eval`: a knowledge base given without `--phrases` is measured alone. Its queries are
    /// labelled with its own ids, so the shipped phrases could only take places from it.
    fn open_for_eval(&self) -> Result<Suggester> {
        let mut sources = self.files.sources();
        sources.no_phrases |= sources.kb.is_some();
        self.open_sources(sources)
    }

    fn open_sources(&self, sources: kefu::suggest::Sources) -> Result<Suggester> {
        Ok(open(sources)?.with_threshold(self.threshold))
    }

    /// The gap file: the one named, else inside the index directory; none without either.
    fn gap_log(&self, explicit: Option<&Path>) -> Option<GapLog> {
        GapLog::chosen(explicit, self.files.index.as_deref())
    }
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

/// Parses a `--threshold` value: a confidence, 0–1.
pub(super) fn threshold(value: &str) -> Result<f32, String> {
    let t: f32 = value
        .parse()
        .map_err(|_| format!("`{value}` is not a number"))?;
    kefu::suggest::check_threshold(t)
}

/// Reports a skipped line of a knowledge-base or phrase file on stderr, with its number.
fn warn_skipped(file: &Path, e: &kb::LineError) {
    eprintln!(
        "warning: {}:{}: {} (skipped)",
        file.display(),
        e.line,
        e.message
    );
}

/// Opens the knowledge base and phrases; bad lines are reported and skipped.
pub(super) fn open(sources: kefu::suggest::Sources) -> Result<Suggester> {
    Ok(sources.open(warn_skipped)?)
}

/// Loads an import file: bad lines are reported and skipped.
fn load<T: kb::Record>(path: &Path, id: impl Fn(&T) -> &str) -> Result<Vec<T>> {
    Ok(kb::load_file(path, id, &mut warn_skipped)?)
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// The customer's question; `-` reads it from stdin, as does none when stdin is not a
    /// terminal.
    question: Option<String>,
    /// Read one request per line ({"question","k","vars"}) from FILE or - and write one result per line.
    #[arg(long, value_name = "FILE|-", num_args = 0..=1, default_missing_value = "-", conflicts_with = "question")]
    jsonl: Option<String>,
    /// How many suggestions (1–50).
    #[arg(short, long, default_value_t = 3)]
    k: usize,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Where unanswered questions are recorded (also KEFU_GAPS; default: DIR/gaps.jsonl with
    /// --index, else nowhere).
    #[arg(long, value_name = "FILE", env = "KEFU_GAPS")]
    gaps: Option<PathBuf>,
    /// Don't record unanswered questions.
    #[arg(long)]
    no_record: bool,
    #[command(flatten)]
    source: KbSource,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn suggest(args: SuggestArgs, config: Option<&Path>) -> Result<ExitCode> {
    let linter = Linter::new(&Config::discover(config)?)?;
    let suggester = args.source.open()?;
    // Written by the recorder's thread while the questions are answered, in batches (one sync
    // each); every one is written before the command ends.
    let log = (!args.no_record)
        .then(|| args.source.gap_log(args.gaps.as_deref()))
        .flatten();
    let unrecorded = !args.no_record && log.is_none();
    let recorder = log.map(|log| Recorder::start(log, 1024)).transpose()?;
    let unanswered = std::cell::Cell::new(false);
    // A write that fails (or a writer that stopped) is reported by the flush, `recorded`.
    let record = |req: &SuggestRequest, result: &SuggestResult| {
        unanswered.set(unanswered.get() || (req.record && !result.answered));
        if let Some(recorder) = &recorder
            && req.record
            && !result.answered
        {
            let closest = (result.suggestions.first()).map(|s| (s.id.as_str(), s.confidence));
            let _ = recorder.record_waiting(&req.question, closest);
        }
    };
    let recorded = || -> Result<()> {
        // Said once, on stderr: where the gaps would go is the user's choice.
        if unrecorded && unanswered.get() {
            eprintln!(
                "note: unanswered questions are not recorded; --gaps FILE (or KEFU_GAPS), or \
                 --index DIR, records them for `kefu kb gaps`"
            );
        }
        if let Some(recorder) = &recorder {
            recorder.flush().with_context(|| {
                format!(
                    "recording unanswered questions in {}",
                    recorder.log().path().display()
                )
            })?;
        }
        Ok(())
    };
    if let Some(source) = &args.jsonl {
        let failed = super::jsonl::each_line(source, |line| {
            let req: SuggestRequest =
                serde_json::from_str(line).map_err(|e| kefu::error::json_line_error(&e))?;
            let result = suggester
                .suggest(&linter, &req)
                .map_err(|e| e.to_string())?;
            record(&req, &result);
            Ok(result)
        })?;
        recorded()?;
        return Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let question = match args.question {
        Some(q) if q != "-" => q,
        None if io::stdin().is_terminal() => {
            bail!("give a question, or --jsonl to read requests")
        }
        _ => super::read_text(Path::new("-"))?.trim().to_owned(),
    };
    let req = SuggestRequest {
        question,
        k: args.k,
        ..SuggestRequest::default()
    };
    let result = suggester.suggest(&linter, &req)?;
    record(&req, &result);
    recorded()?;
    let mut out = io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string(&result)?)?,
        Format::Text => {
            let question = clipped(&req.question);
            if result.answered {
                writeln!(out, "best answers for: {question}")?;
            } else if result.suggestions.is_empty() {
                writeln!(
                    out,
                    "no good answer for: {question} (nothing in the knowledge base matches it)"
                )?;
            } else {
                writeln!(
                    out,
                    "no good answer for: {question} (closest candidates below)"
                )?;
            }
            for (i, s) in result.suggestions.iter().enumerate() {
                writeln!(
                    out,
                    "\n{}. [{}] confidence {:.2} · {} · lint {}/100",
                    i + 1,
                    s.id,
                    s.confidence,
                    s.matched_question,
                    s.lint.score
                )?;
                writeln!(out, "   matched: {}", s.matched.join(" "))?;
                if !s.also.is_empty() {
                    writeln!(out, "   same answer as: {}", s.also.join(", "))?;
                }
                writeln!(out, "   {}", s.answer)?;
                if !s.missing_vars.is_empty() {
                    writeln!(out, "   fill in: {}", s.missing_vars.join(", "))?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

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
fn tend_gaps(log: &GapLog, dismiss: &[String], compact: bool) -> Result<ExitCode> {
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
            let linter = Linter::new(&Config::discover(config)?)?;
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
            let linter = Linter::new(&Config::discover(config)?)?;
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

/// Most characters of a customer's message echoed in text output.
const ECHOED: usize = 60;

/// `text` as echoed in text output: a long message is cut after `ECHOED` characters, saying
/// how long it is (the JSON output always carries it whole).
fn clipped(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(ECHOED) {
        None => text.into(),
        Some((cut, _)) => format!("{}… ({} characters)", &text[..cut], text.chars().count()).into(),
    }
}

/// `kb analyze` as text: one line per word, then the bigrams.
fn write_analysis(out: &mut impl Write, question: &str, a: &Analysis) -> io::Result<()> {
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

fn parse_precision(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "a precision is a share between 0 and 1 (0.9 for 90 %), not {s}"
        )),
    }
}

/// The reliability table (bands with no query left out) and the threshold for a precision.
fn print_reliability(r: &eval::Report) -> Result<()> {
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
fn print_comparison(path: &Path, c: &eval::Comparison) -> std::io::Result<()> {
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

/// The phrase panel as text: the scenes with their counts, then each listed scene's phrases.
fn write_panel(out: &mut impl Write, panel: &kefu::suggest::panel::PhraseList) -> io::Result<()> {
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
