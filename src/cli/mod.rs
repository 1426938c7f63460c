//! Command-line interface: clap definitions and dispatch to one module per command.

mod audit;
mod eval;
mod input;
mod jsonl;
mod kb;
mod lint;
mod mine;
mod render;
mod rules;
mod serve;
mod suggest;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// kefu (客服): service-language linting for Chinese customer-service teams.
#[derive(Debug, Parser)]
#[command(name = "kefu", version, about, long_about = None)]
pub struct Cli {
    /// Shop configuration (default: ./kefu.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a draft reply against the service-language rules.
    Lint(lint::LintArgs),
    /// List every rule with its id, code, severity and message.
    Rules(rules::RulesArgs),
    /// Explain one rule: what it flags, why, examples, what to write instead.
    Explain(rules::ExplainArgs),
    /// Suggest answers to a customer question from the knowledge base and phrase library.
    Suggest(suggest::SuggestArgs),
    /// Maintain a knowledge base: import into an on-disk index, check, list unanswered questions.
    #[command(subcommand)]
    Kb(kb::KbCommand),
    /// Measure retrieval quality on labelled queries, or on the KB's own similar questions held
    /// out in turn (recall@1/5, MRR, no-answer rate, latency).
    Eval(eval::EvalArgs),
    /// Run the HTTP service (lint, suggest, health and metrics) on 127.0.0.1:8080.
    Serve(serve::ServeArgs),
    /// Audit past conversations for QA: per conversation and per agent.
    Audit(audit::AuditArgs),
}

/// Where the knowledge base and phrase library come from: the flags `suggest`, `eval` and
/// `serve` share.
#[derive(Debug, Clone, clap::Args)]
pub struct KbFiles {
    /// The shop's knowledge base (JSONL or CSV) instead of the shipped one.
    #[arg(long, value_name = "FILE", conflicts_with = "index")]
    kb: Option<PathBuf>,
    /// The shop's phrase library (JSONL or CSV) instead of the shipped one.
    #[arg(long, value_name = "FILE", conflicts_with = "index")]
    phrases: Option<PathBuf>,
    /// No phrase library at all: suggest from the knowledge base alone (for a shop whose
    /// greetings and closings are not the shipped online-shop ones).
    #[arg(long, conflicts_with_all = ["phrases", "index"])]
    no_phrases: bool,
    /// The shop's own retrieval synonyms, added to the shipped ones: `canonical: variant,
    /// variant…` per line (an on-disk index keeps those it was imported with).
    #[arg(long, value_name = "FILE", conflicts_with = "index")]
    synonyms: Option<PathBuf>,
    /// Open the on-disk index built by `kefu kb import` instead of indexing in memory.
    #[arg(long, value_name = "DIR")]
    index: Option<PathBuf>,
}

impl KbFiles {
    fn sources(&self) -> kefu::suggest::Sources {
        kefu::suggest::Sources {
            kb: self.kb.clone(),
            phrases: self.phrases.clone(),
            index: self.index.clone(),
            no_phrases: self.no_phrases,
            synonyms: self.synonyms.clone(),
        }
    }
}

pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint(args) => lint::run(args, cli.config.as_deref()),
        Command::Rules(args) => rules::list(&args, cli.config.as_deref()),
        Command::Explain(args) => rules::explain(&args),
        Command::Suggest(args) => suggest::suggest(args, cli.config.as_deref()),
        Command::Kb(cmd) => kb::kb(cmd, cli.config.as_deref()),
        Command::Eval(args) => eval::eval(args),
        Command::Serve(args) => serve::serve(args, cli.config.as_deref()),
        Command::Audit(args) => audit::run(args, cli.config.as_deref()),
    }
}

/// The whole of a text file, or of stdin for `-`; invalid UTF-8 is an error naming the file
/// (`<stdin>`) and line.
fn read_text(path: &std::path::Path) -> Result<String> {
    use anyhow::Context;
    let (name, bytes) = if path == std::path::Path::new("-") {
        let buf = input::read_all(std::io::stdin()).context("reading stdin")?;
        ("<stdin>".to_owned(), buf)
    } else {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| format!("reading {name}"))?;
        let bytes = input::read_all(file).with_context(|| format!("reading {name}"))?;
        (name, bytes)
    };
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        anyhow::anyhow!("{name}:{line}: not valid UTF-8")
    })
}
