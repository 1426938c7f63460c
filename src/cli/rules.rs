//! `kefu rules` and `kefu explain`: the rule docs, generated from each rule's fixed sections.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use kefu::lint::registry::{self, RULES};
use kefu::{Config, Linter};

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Print the README's markdown table instead.
    #[arg(long)]
    markdown: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule id (e.g. blunt-language) or code (e.g. KF201).
    rule: String,
}

pub fn list(args: &RulesArgs, config: Option<&Path>) -> Result<ExitCode> {
    let mut out = io::stdout().lock();
    if args.markdown {
        write!(out, "{}", registry::markdown_table())?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::discover(config)?;
    let linter = Linter::new(&config)?;
    let enabled: Vec<_> = linter.enabled_rules().collect();
    let no_model = kefu::suggest::semantic::model_path().is_none();
    for rule in RULES {
        let d = &rule.doc;
        let state = enabled
            .iter()
            .find(|(e, _)| e.id == d.id)
            .map_or_else(|| "off".to_owned(), |(_, sev)| sev.to_string());
        writeln!(out, "{:<20} {}  {:<8} {}", d.id, d.code, state, d.message)?;
        if no_model && state != "off" && d.id == kefu::lint::rules::rude_tone::RULE.doc.id {
            writeln!(
                out,
                "{:<35} (idle: no meaning model; scripts/fetch-model, or KEFU_MODEL)",
                ""
            )?;
        }
    }
    writeln!(
        out,
        "\noutcome checks (kefu audit: how the conversation ended for the customer)"
    )?;
    for c in kefu::audit::outcome::CHECKS {
        writeln!(
            out,
            "{:<24} {:<8} {}",
            c.id,
            c.severity.to_string(),
            c.message
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `kefu explain` for an outcome check of the audit.
fn explain_outcome(c: &kefu::audit::outcome::CheckDoc) -> Result<ExitCode> {
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} (outcome check of kefu audit) · severity: {}",
        c.id, c.severity
    )?;
    writeln!(out, "{}\n", c.message)?;
    writeln!(out, "## What it reads\n{}\n", c.what)?;
    writeln!(out, "## Why it matters\n{}\n", c.why)?;
    writeln!(out, "## Example")?;
    for f in c.fires {
        writeln!(out, "  ● {f}")?;
    }
    for q in c.quiet {
        writeln!(out, "  ○ {q}")?;
    }
    writeln!(
        out,
        "\n## Word classes\nlexicons/outcome.txt; the outcome score's weights: src/audit/outcome.rs (MODEL), fitted by scripts/fit-outcome"
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn explain(args: &ExplainArgs) -> Result<ExitCode> {
    if let Some(c) = kefu::audit::outcome::find(&args.rule) {
        return explain_outcome(c);
    }
    let Some(rule) = registry::find(&args.rule) else {
        anyhow::bail!("unknown rule `{}` (`kefu rules` lists them)", args.rule);
    };
    let d = &rule.doc;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} ({}) · default severity: {}",
        d.id, d.code, d.severity
    )?;
    writeln!(out, "{}\n{}\n", d.message, d.message_en)?;
    writeln!(out, "## What it flags\n{}\n", d.what)?;
    writeln!(out, "## Why it hurts the customer\n{}\n", d.why)?;
    writeln!(out, "## Example")?;
    if let Some(c) = d.example_customer {
        writeln!(out, "  (customer: {c})")?;
    }
    for b in d.bad {
        writeln!(out, "  ✗ {b}")?;
    }
    for g in d.good {
        writeln!(out, "  ✓ {g}")?;
    }
    writeln!(out, "\n## Use instead\n{}", d.instead)?;
    Ok(ExitCode::SUCCESS)
}
