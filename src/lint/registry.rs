//! The ordered list of rules and the fixed-section docs every rule carries; `kefu rules`,
//! `kefu explain` and the README's rule table are generated from these.

use super::{BuildContext, Check, Severity, rules};
use crate::error::Error;

/// A rule's documentation and defaults.
#[derive(Debug)]
pub struct RuleDoc {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// Short code (KF1xx the three musts, KF2xx the three don'ts, KF3xx tone, KF4xx commitments).
    pub code: &'static str,
    pub severity: Severity,
    /// One line, in Chinese, shown with every finding.
    pub message: &'static str,
    /// The same line in English.
    pub message_en: &'static str,
    /// What it flags.
    pub what: &'static str,
    /// Why it hurts the customer.
    pub why: &'static str,
    /// Drafts it flags.
    pub bad: &'static [&'static str],
    /// Drafts it accepts.
    pub good: &'static [&'static str],
    /// What to write instead.
    pub instead: &'static str,
    /// Judges the whole message rather than words in it, so quotes and allow-listed words don't
    /// exempt it.
    pub whole_message: bool,
    /// The lexicon section a config's `words = [...]` adds to.
    pub words_section: &'static str,
    /// The role the examples are written for.
    pub example_role: super::Role,
    /// The customer message the examples answer, for context rules.
    pub example_customer: Option<&'static str>,
}

/// A rule: its docs and how to build its check.
pub struct RuleDef {
    pub doc: RuleDoc,
    pub build: fn(&BuildContext<'_>) -> Result<Box<dyn Check>, Error>,
}

impl std::fmt::Debug for RuleDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.doc.id)
    }
}

/// Every rule, in the order findings of equal position are reported.
pub static RULES: &[RuleDef] = &[
    rules::missing_please::RULE,
    rules::informal_address::RULE,
    rules::missing_farewell::RULE,
    rules::blunt_language::RULE,
    rules::shirking::RULE,
    rules::blaming_customer::RULE,
    rules::imperative_tone::RULE,
    rules::rhetorical_question::RULE,
    rules::emotional_tone::RULE,
    rules::curt_reply::RULE,
    rules::bare_refusal::RULE,
    rules::rude_tone::RULE,
    rules::over_promise::RULE,
    rules::missing_deadline::RULE,
    rules::missing_apology::RULE,
];

/// The rule with this id or code.
pub fn find(id_or_code: &str) -> Option<&'static RuleDef> {
    RULES
        .iter()
        .find(|r| r.doc.id == id_or_code || r.doc.code.eq_ignore_ascii_case(id_or_code))
}

/// The README's rule table, generated from the docs.
pub fn markdown_table() -> String {
    let mut out =
        String::from("| rule | code | severity | flags | message |\n|---|---|---|---|---|\n");
    for r in RULES {
        let d = &r.doc;
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            d.id,
            d.code,
            d.severity,
            d.what.replace('\n', " "),
            d.message
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.doc.id), "duplicate id {}", r.doc.id);
            assert!(seen.insert(r.doc.code), "duplicate code {}", r.doc.code);
            assert!(r.doc.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert!(
                !r.doc.bad.is_empty() && !r.doc.good.is_empty(),
                "{} needs examples",
                r.doc.id
            );
        }
    }

    /// The docs' examples are tests: each bad one is flagged by its rule, each good one is not.
    #[test]
    fn doc_examples_hold() {
        use crate::lint::rules::testing::flagged_in;
        let mut failures = Vec::new();
        for r in RULES {
            let d = &r.doc;
            for bad in d.bad {
                if flagged_in(d.id, bad, d.example_role, d.example_customer).is_empty() {
                    failures.push(format!("{}: bad example not flagged: {bad}", d.id));
                }
            }
            for good in d.good {
                let got = flagged_in(d.id, good, d.example_role, d.example_customer);
                if !got.is_empty() {
                    failures.push(format!("{}: good example flagged {got:?}: {good}", d.id));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn finds_by_id_or_code() {
        assert_eq!(find("shirking").unwrap().doc.id, "shirking");
        assert_eq!(find("kf202").unwrap().doc.id, "shirking");
        assert!(find("no-such-rule").is_none());
    }
}
