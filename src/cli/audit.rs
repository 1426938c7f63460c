//! `kefu audit`: streams a transcript file (JSONL, optionally gzip) through the audit on all
//! cores, with a progress bar on a terminal, and writes JSON, JSONL or CSV.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use rayon::prelude::*;

use kefu::audit::model::{Grouper, Line};
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
    let linter = Linter::new(&config)?;
    // Flags over the shop's policy, over the defaults.
    let policy = Settings::from_config(&config.audit);
    let settings = Settings {
        long_wait: args.long_wait.unwrap_or(policy.long_wait),
        promise: args.promise.unwrap_or(policy.promise),
    };
    let kb = if args.topics {
        let sources = kefu::suggest::Sources {
            kb: args.kb.clone(),
            ..Default::default()
        };
        Some(super::suggest::open(sources)?)
    } else {
        None
    };
    let (input, size) = open(&args.file)?;
    let progress = progress_bar(size);
    let counted = Counted {
        inner: input,
        progress: progress.clone(),
    };
    let mut reader = BufReader::with_capacity(1 << 16, counted);
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(io::BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    let per_conversation_csv = args.format == Format::Csv && args.by.is_none();
    if per_conversation_csv {
        writeln!(out, "{}", report::conversation_csv_header())?;
    }
    let mut agg = Aggregator::default();
    let mut kept: Vec<ConversationAudit> = Vec::new();
    let mut truncated = false;
    let mut grouper = Grouper::default();
    let mut line_no = 0;
    let mut lines: Vec<(usize, String)> = Vec::with_capacity(CHUNK);
    loop {
        lines.clear();
        let mut buf = Vec::new();
        while lines.len() < CHUNK {
            buf.clear();
            if reader
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("reading {}", args.file))?
                == 0
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
        let done = lines.is_empty();
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
                Ok(l) => grouper.push(l, &mut conversations),
                Err(e) if args.strict => bail!("{}:{n}: {e}", args.file),
                Err(e) => agg.bad_line(n, format!("{}:{n}: {e}", args.file)),
            }
        }
        if done {
            grouper.flush(&mut conversations);
        }
        let audits: Vec<ConversationAudit> = conversations
            .par_iter()
            .map(|c| audit_with(&linter, &settings, kb.as_ref(), c))
            .collect();
        for a in audits {
            agg.add(&a);
            match args.format {
                Format::Jsonl => {
                    serde_json::to_writer(&mut out, &a)?;
                    out.write_all(b"\n")?;
                }
                Format::Csv if per_conversation_csv => {
                    writeln!(out, "{}", report::conversation_csv_row(&a))?
                }
                // The JSON report holds conversations up to a cap so memory stays bounded;
                // `--format jsonl` streams them all.
                Format::Json if kept.len() < JSON_KEEP => kept.push(a),
                Format::Json => truncated = true,
                Format::Csv | Format::Html => {}
            }
        }
        if done {
            break;
        }
    }
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
        Format::Html => out.write_all(kefu::audit::html::render(&report).as_bytes())?,
        _ => {}
    }
    out.flush()?;
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
