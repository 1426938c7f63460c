//! Command-line interface: clap definitions and dispatch to one module per command.

mod lint;
mod render;
mod rules;

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
}

pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint(args) => lint::run(args, cli.config.as_deref()),
        Command::Rules(args) => rules::list(&args, cli.config.as_deref()),
        Command::Explain(args) => rules::explain(&args),
    }
}
