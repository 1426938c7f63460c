//! `kefu audit`: streams a transcript file (JSONL, optionally gzip) through the audit on all
//! cores, with a progress bar on a terminal, and writes JSON, JSONL or CSV.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use rayon::prelude::*;

use kefu::audit::model::{Conversation, Grouper, Line};
use kefu::audit::report::{self, Aggregator};
use kefu::audit::{ConversationAudit, Settings, audit_with};
use kefu::{Config, Linter};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Transcripts: one conversation per line, or one message per line (a conversation's
    /// messages together); `-` for stdin; gzip is recognised.
    file: String,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// With `--format csv`: one row per agent instead of per conversation.
    #[arg(long, value_enum)]
    by: Option<By>,
    /// Write the report here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Fail on the first malformed line instead of reporting and skipping it.
    #[arg(long)]
    strict: bool,
    /// A customer waiting longer than this many seconds should get an apology (default:
    /// `[audit] long-wait` in kefu.toml, else 60).
    #[arg(long, value_name = "SECONDS", value_parser = seconds, allow_negative_numbers = true)]
    long_wait: Option<i64>,
    /// Match customer turns against the knowledge base: most-asked entries and unanswered
    /// questions (slower: one search per customer turn).
    #[arg(long)]
    topics: bool,
    /// The knowledge base for --topics (JSONL or CSV; default: the shipped one).
    #[arg(long, value_name = "FILE", requires = "topics")]
    kb: Option<PathBuf>,
    /// An agent who promised to come back (稍等, 我去查) should within this many seconds
    /// (default: `[audit] promise` in kefu.toml, else 120).
    #[arg(long, value_name = "SECONDS", value_parser = seconds, allow_negative_numbers = true)]
    promise: Option<i64>,
    /// Conversations on the review-first list (worst outcome first).
    #[arg(long, value_name = "N", default_value_t = report::REVIEW_FIRST)]
    review: usize,
    /// Messages (one per line) are held in memory up to this many MiB while their
    /// conversations are joined; past it they go to temporary files.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    spill_after: usize,
    /// The file holds conversations graded by people (`{"id","turns","rating":{"S":…}}`): print
    /// how each of kefu's scores agrees with each grade (Spearman, Kendall) instead of a report.
    #[arg(long, conflicts_with_all = ["format", "by", "topics"])]
    eval: bool,
    /// With --eval: also write each conversation's scores, outcome features and grades as JSON
    /// lines (what `scripts/fit-outcome` fits the outcome model on).
    #[arg(long, value_name = "FILE", requires = "eval")]
    save: Option<PathBuf>,
}

fn seconds(s: &str) -> Result<i64, String> {
    let n: i64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number of seconds"))?;
    kefu::config::check_seconds(n)
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Json,
    Jsonl,
    Csv,
    /// A self-contained page with tables and charts (use with -o).
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum By {
    Agent,
}

/// Lines read and audited together.
const CHUNK: usize = 4096;
/// Conversations the JSON report lists in full.
const JSON_KEEP: usize = 2_000;

pub fn run(args: AuditArgs, config: Option<&Path>) -> Result<ExitCode> {
    let config = Config::discover(config)?;
    let linter = Linter::with_meaning(&config)?;
    // Flags over the shop's policy, over the defaults.
    let policy = Settings::from_config(&config.audit);
    let settings = Settings {
        long_wait: args.long_wait.unwrap_or(policy.long_wait),
        promise: args.promise.unwrap_or(policy.promise),
        ..policy
    };
    if args.eval {
        return evaluate(&args, &linter, &settings);
    }
    let kb = if args.topics {
        let sources = kefu::suggest::Sources {
            kb: args.kb.clone(),
            ..Default::default()
        };
        Some(super::suggest::open(sources)?)
    } else {
        None
    };
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(io::BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    let per_conversation_csv = args.format == Format::Csv && args.by.is_none();
    let mut sink = Sink {
        agg: Aggregator::with_review(args.review),
        kept: Vec::new(),
        truncated: false,
        format: args.format,
        per_conversation_csv,
        out,
    };
    if per_conversation_csv {
        writeln!(sink.out, "{}", report::conversation_csv_header())?;
    }
    let audit_all = |conversations: &[Conversation]| -> Vec<ConversationAudit> {
        conversations
            .par_iter()
            .map(|c| audit_with(&linter, &settings, kb.as_ref(), c))
            .collect()
    };
    // Both the bad lines and the conversations go to the sink, in the order they are read.
    let shared = std::cell::RefCell::new(sink);
    let progress = read_conversations(
        &args.file,
        args.spill_after,
        |n, e| {
            if args.strict {
                bail!("{}:{n}: {e}", args.file)
            }
            (shared.borrow_mut().agg).bad_line(n, format!("{}:{n}: {e}", args.file));
            Ok(())
        },
        |conversations| (shared.borrow_mut()).take(conversations, audit_all(conversations)),
    )?;
    let sink = shared.into_inner();
    let Sink {
        agg,
        kept,
        truncated,
        mut out,
        ..
    } = sink;
    progress.finish_and_clear();
    let report = agg.finish();
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({"summary": &report, "conversations": kept, "conversations_truncated": truncated});
            serde_json::to_writer_pretty(&mut out, &doc)?;
            out.write_all(b"\n")?;
        }
        Format::Csv if !per_conversation_csv => {
            out.write_all(report::agent_csv(&report).as_bytes())?
        }
        Format::Html => out.write_all(kefu::audit::html::render(&report, &settings).as_bytes())?,
        _ => {}
    }
    out.flush()?;
    if let Some(id) = &report.duplicate_sample {
        eprintln!(
            "warning: {} conversation(s) repeat an id already reported (first: {id}); \
             messages of one conversation are joined wherever they are, but whole-conversation \
             lines with the same id are reported separately",
            report.duplicate_ids
        );
    }
    if report.bad_lines > 0 {
        // Not one conversation read: the wrong file, most likely (a knowledge base, a CSV).
        if report.conversations == 0 {
            bail!(
                "{}: no conversation could be read: {} malformed line(s) (first: {})",
                args.file,
                report.bad_lines,
                report.bad_line_samples[0].1
            );
        }
        eprintln!(
            "warning: {} malformed line(s) skipped (first: {})",
            report.bad_lines, report.bad_line_samples[0].1
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Where audits go: the roll-up, and the stream or the kept list of the chosen format.
struct Sink {
    agg: Aggregator,
    kept: Vec<ConversationAudit>,
    truncated: bool,
    format: Format,
    per_conversation_csv: bool,
    out: Box<dyn Write>,
}

impl Sink {
    fn take(
        &mut self,
        conversations: &[Conversation],
        audits: Vec<ConversationAudit>,
    ) -> Result<()> {
        for (a, c) in audits.into_iter().zip(conversations) {
            self.agg.add(&a, c);
            match self.format {
                Format::Jsonl => {
                    serde_json::to_writer(&mut self.out, &a)?;
                    self.out.write_all(b"\n")?;
                }
                Format::Csv if self.per_conversation_csv => {
                    writeln!(self.out, "{}", report::conversation_csv_row(&a))?
                }
                // The JSON report holds conversations up to a cap so memory stays bounded;
                // `--format jsonl` streams them all.
                Format::Json if self.kept.len() < JSON_KEEP => self.kept.push(a),
                Format::Json => self.truncated = true,
                Format::Csv | Format::Html => {}
            }
        }
        Ok(())
    }
}

/// `kefu audit --eval`: the agreement of kefu's scores with people's grades.
fn evaluate(args: &AuditArgs, linter: &Linter, settings: &Settings) -> Result<ExitCode> {
    use kefu::audit::eval::{self, Rated};
    let (input, _) = open(&args.file)?;
    let mut rated = Vec::new();
    let mut input = BufReader::new(input);
    let mut bytes = Vec::new();
    let mut n = 0;
    while super::input::read_line(&mut input, &mut bytes)
        .with_context(|| format!("reading {}:{}", args.file, n + 1))?
    {
        n += 1;
        let line = std::str::from_utf8(&bytes)
            .map_err(|_| anyhow::anyhow!("{}:{n}: not valid UTF-8", args.file))?;
        if line.trim().is_empty() {
            continue;
        }
        let r = Rated::parse(line).map_err(|e| anyhow::anyhow!("{}:{n}: {e}", args.file))?;
        rated.push(r);
    }
    if rated.len() < 3 {
        bail!(
            "{}: {} graded conversation(s): at least 3 are needed to correlate",
            args.file,
            rated.len()
        );
    }
    let rows: Vec<(ConversationAudit, std::collections::BTreeMap<String, f64>)> = rated
        .into_par_iter()
        .map(|r| {
            (
                audit_with(linter, settings, None, &r.conversation),
                r.rating,
            )
        })
        .collect();
    if let Some(path) = &args.save {
        let mut w = io::BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        for (a, rating) in &rows {
            let line = serde_json::json!({
                "id": a.id, "score": a.score, "manner": a.manner, "outcome": a.outcome.score,
                "status": a.outcome.status, "features": a.outcome.features, "rating": rating,
            });
            serde_json::to_writer(&mut w, &line)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    }
    let agreements = eval::agreements(&rows);
    if agreements.is_empty() {
        bail!("{}: the conversations share no rating name", args.file);
    }
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} conversations · weights manner {} / outcome {}",
        rows.len(),
        settings.manner_weight,
        settings.outcome_weight
    )?;
    writeln!(
        out,
        "{:<8} {:<8} {:>10} {:>10} {:>12}",
        "score", "rating", "spearman", "kendall", "worst found"
    )?;
    for a in &agreements {
        let kendall = a
            .kendall
            .map_or_else(|| "n/a".to_owned(), |k| format!("{k:.3}"));
        writeln!(
            out,
            "{:<8} {:<8} {:>10.3} {:>10} {:>11.1}%",
            a.score,
            a.rating,
            a.spearman,
            kendall,
            a.worst_found * 100.0
        )?;
    }
    writeln!(
        out,
        "worst found: of the {:.0}% of conversations people rated lowest, the share kefu's score also puts in its lowest {:.0}%",
        eval::WORST_SHARE * 100.0,
        eval::WORST_SHARE * 100.0
    )?;
    if rows.len() > eval::KENDALL_MAX {
        writeln!(
            out,
            "kendall: n/a past {} conversations (it compares every pair)",
            eval::KENDALL_MAX
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads transcripts (a file or `-`, gzip or not) in either layout and hands them to `take` in
/// batches of at most `CHUNK` conversations: whole-conversation lines as they come, messages
/// once the input has ended (a conversation's next message may be anywhere below), grouped by
/// conversation id and spilled to disk past `spill_after` MiB. Each line that is neither goes to
/// `bad` with its number. Returns the progress bar (on a terminal), for the caller to clear
/// once it has written its output.
pub(super) fn read_conversations(
    file: &str,
    spill_after: usize,
    mut bad: impl FnMut(usize, String) -> Result<()>,
    mut take: impl FnMut(&[Conversation]) -> Result<()>,
) -> Result<indicatif::ProgressBar> {
    let (input, size) = open(file)?;
    let progress = progress_bar(size);
    let counted = Counted {
        inner: input,
        progress: progress.clone(),
    };
    let mut reader = BufReader::with_capacity(1 << 16, counted);
    let mut grouper = Grouper::with_budget(spill_after.saturating_mul(1 << 20));
    let mut line_no = 0;
    let mut lines: Vec<(usize, String)> = Vec::with_capacity(CHUNK);
    loop {
        lines.clear();
        let mut buf = Vec::new();
        while lines.len() < CHUNK {
            if !super::input::read_line(&mut reader, &mut buf)
                .with_context(|| format!("reading {file}:{}", line_no + 1))?
            {
                break;
            }
            line_no += 1;
            match String::from_utf8(std::mem::take(&mut buf)) {
                Ok(s) if s.trim().is_empty() => {}
                Ok(s) => lines.push((line_no, s)),
                Err(_) => lines.push((line_no, String::from("\u{0}invalid utf-8"))),
            }
        }
        if lines.is_empty() {
            break;
        }
        let parsed: Vec<(usize, Result<Line, String>)> = lines
            .par_iter()
            .map(|(n, s)| {
                let r = if s.starts_with('\u{0}') {
                    Err("not valid UTF-8".to_owned())
                } else {
                    Line::parse(s)
                };
                (*n, r)
            })
            .collect();
        let mut conversations = Vec::new();
        for (n, line) in parsed {
            match line {
                Ok(Line::Conversation(c)) => conversations.push(c),
                Ok(Line::Message(m)) => grouper
                    .push(m)
                    .context("spilling messages to a temporary file")?,
                Err(e) => bad(n, e)?,
            }
        }
        take(&conversations)?;
    }
    let mut batches = grouper.finish().context("reading back spilled messages")?;
    while let Some(batch) = batches
        .next_batch()
        .context("reading back spilled messages")?
    {
        for part in batch.chunks(CHUNK) {
            take(part)?;
        }
    }
    Ok(progress)
}

fn open(file: &str) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
    let (raw, size): (Box<dyn Read + Send>, Option<u64>) = if file == "-" {
        (Box::new(io::stdin()), None)
    } else {
        let f = File::open(file).with_context(|| format!("opening {file}"))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    let mut buffered = BufReader::new(raw);
    let gzip = buffered
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    if gzip {
        // The progress bar counts compressed bytes read, which is what the size measures.
        Ok((Box::new(flate2::read::MultiGzDecoder::new(buffered)), size))
    } else {
        Ok((Box::new(buffered), size))
    }
}

fn progress_bar(size: Option<u64>) -> indicatif::ProgressBar {
    if !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match size {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {wide_bar}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Counts bytes read for the progress bar.
struct Counted<R> {
    inner: R,
    progress: indicatif::ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}
