//! `kefu lint`: one draft from the command line, a file or stdin, or many drafts as JSON lines.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde::Deserialize;

use kefu::{Config, LintRequest, LintResult, Linter, Role, Severity};

use super::render;

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The draft to check; `-` or none reads it from stdin (when no --file/--jsonl is given).
    text: Option<String>,
    /// Read the draft from a file (`-`: stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["text", "jsonl"])]
    file: Option<PathBuf>,
    /// Read one JSON request per line ({"text","role","customer"}) from FILE or - (stdin) and
    /// write one JSON result per line.
    #[arg(long, value_name = "FILE|-", num_args = 0..=1, default_missing_value = "-", conflicts_with = "text")]
    jsonl: Option<String>,
    /// Output format for a single draft.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print the draft with every safe fix applied, instead of the findings.
    #[arg(long)]
    fix: bool,
    /// Where the message stands in the conversation (closing enables missing-farewell).
    #[arg(long, value_enum, default_value_t = RoleArg::Reply)]
    role: RoleArg,
    /// The customer message being answered (enables missing-apology).
    #[arg(long, value_name = "TEXT")]
    customer: Option<String>,
    /// Exit with status 1 when a finding at or above this severity is present.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Reply,
    Opening,
    Closing,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Reply => Self::Reply,
            RoleArg::Opening => Self::Opening,
            RoleArg::Closing => Self::Closing,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    fn fails(self, result: &LintResult) -> bool {
        let threshold = match self {
            Self::Error => Severity::Error,
            Self::Warning => Severity::Warning,
            Self::Info => Severity::Info,
            Self::Never => return false,
        };
        result.worst().is_some_and(|w| w >= threshold)
    }
}

/// One line of `--jsonl` input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRequest {
    text: String,
    #[serde(default)]
    role: Role,
    customer: Option<String>,
}

pub fn run(args: LintArgs, config: Option<&Path>) -> Result<ExitCode> {
    let config = Config::discover(config)?;
    let linter = Linter::with_meaning(&config).context("building the rules")?;
    if let Some(source) = &args.jsonl {
        return jsonl(&linter, source, args.fail_on);
    }
    let text = match (&args.text, &args.file) {
        (Some(t), _) if t != "-" => t.clone(),
        (None, Some(path)) => super::read_text(path)?,
        _ => super::read_text(Path::new("-"))?,
    };
    let req = LintRequest {
        text: &text,
        role: args.role.into(),
        customer: args.customer.as_deref(),
        skip_meaning: false,
    };
    let result = linter.lint(&req);
    let mut out = io::stdout().lock();
    if args.fix {
        writeln!(out, "{}", result.fixed)?;
    } else {
        match args.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string(&result)?)?,
            Format::Text => render::text(&mut out, &text, &result)?,
        }
    }
    Ok(exit(args.fail_on.fails(&result)))
}

fn jsonl(linter: &Linter, source: &str, fail_on: FailOn) -> Result<ExitCode> {
    let mut findings_fail = false;
    let bad_lines = super::jsonl::each_line(source, |line| {
        let req: JsonRequest =
            serde_json::from_str(line).map_err(|e| kefu::error::json_line_error(&e))?;
        let result = linter.lint(&LintRequest {
            text: &req.text,
            role: req.role,
            customer: req.customer.as_deref(),
            skip_meaning: false,
        });
        findings_fail |= fail_on.fails(&result);
        Ok(result)
    })?;
    Ok(exit(bad_lines || findings_fail))
}

fn exit(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
