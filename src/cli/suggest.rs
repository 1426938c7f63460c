//! `kefu suggest`: answers from the knowledge base for a question, and what `kefu kb` and
//! `kefu eval` share with it (where the knowledge base comes from, checking and loading it).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use kefu::suggest::gaps::GapLog;
use kefu::suggest::kb;
use kefu::suggest::recorder::Recorder;
use kefu::suggest::{SuggestRequest, SuggestResult, Suggester};
use kefu::{Config, Linter};

/// Where the knowledge base comes from.
#[derive(Debug, Args)]
pub struct KbSource {
    #[command(flatten)]
    pub(super) files: super::KbFiles,
    /// Confidence below which a question counts as unanswered (0–1).
    #[arg(long, default_value_t = kefu::suggest::DEFAULT_THRESHOLD, value_parser = threshold, allow_negative_numbers = true)]
    threshold: f32,
}

impl KbSource {
    pub(super) fn open(&self) -> Result<Suggester> {
        self.open_sources(self.files.sources())
    }

    /// For `eval`: a knowledge base given without `--phrases` is measured alone. Its queries are
    /// labelled with its own ids, so the shipped phrases could only take places from it.
    pub(super) fn open_for_eval(&self) -> Result<Suggester> {
        let mut sources = self.files.sources();
        sources.no_phrases |= sources.kb.is_some();
        self.open_sources(sources)
    }

    fn open_sources(&self, sources: kefu::suggest::Sources) -> Result<Suggester> {
        Ok(open(sources)?.with_threshold(self.threshold))
    }

    /// The gap file: the one named, else inside the index directory; none without either.
    pub(super) fn gap_log(&self, explicit: Option<&Path>) -> Option<GapLog> {
        GapLog::chosen(explicit, self.files.index.as_deref())
    }
}

/// Parses a `--threshold` value: a confidence, 0–1.
pub(super) fn threshold(value: &str) -> Result<f32, String> {
    let t: f32 = value
        .parse()
        .map_err(|_| format!("`{value}` is not a number"))?;
    kefu::suggest::check_threshold(t)
}

/// Reports a skipped line of a knowledge-base or phrase file on stderr, with its number.
pub(super) fn warn_skipped(file: &Path, e: &kb::LineError) {
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
pub(super) fn load<T: kb::Record>(path: &Path, id: impl Fn(&T) -> &str) -> Result<Vec<T>> {
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
    let linter = Linter::with_meaning(&Config::discover(config)?)?;
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

/// Most characters of a customer's message echoed in text output.
pub(super) const ECHOED: usize = 60;

/// `text` as echoed in text output: a long message is cut after `ECHOED` characters, saying
/// how long it is (the JSON output always carries it whole).
pub(super) fn clipped(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(ECHOED) {
        None => text.into(),
        Some((cut, _)) => format!("{}… ({} characters)", &text[..cut], text.chars().count()).into(),
    }
}
