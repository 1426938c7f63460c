//! One rule per file, each with its docs, its check and its unit tests; the generic
//! lexicon-driven check most "don't" rules are built on lives here.

pub mod blaming_customer;
pub mod blunt_language;
pub mod curt_reply;
pub mod emotional_tone;
pub mod imperative_tone;
pub mod informal_address;
pub mod missing_apology;
pub mod missing_deadline;
pub mod missing_farewell;
pub mod missing_please;
pub mod over_promise;
pub mod rhetorical_question;
pub mod shirking;

use aho_corasick::AhoCorasick;

use super::matcher::Matcher;
use super::{BuildContext, Draft, Fix, Hit};
use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::text::Span;

/// Flags every accepted match of a lexicon section, with the entry's fix and suggestions (or the
/// rule's default suggestions when the entry has none), except where the match overlaps one of
/// the rule's `[exception]` phrases (为了保证 is no promise).
#[derive(Debug)]
pub struct LexiconCheck {
    pub matcher: Matcher,
    pub default_suggestions: &'static [&'static str],
    exceptions: Option<AhoCorasick>,
}

/// The lexicon section of phrases inside which a rule's entries are not flagged.
pub const EXCEPTION_SECTION: &str = "exception";

impl LexiconCheck {
    pub fn new(
        cx: &BuildContext<'_>,
        rule: &str,
        default_suggestions: &'static [&'static str],
    ) -> Result<Self, Error> {
        let lexicon = cx.lexicon(rule);
        let words = lexicon.words(EXCEPTION_SECTION);
        let exceptions = if words.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(words).map_err(|e| Error::Lexicon(e.to_string()))?)
        };
        Ok(Self {
            matcher: cx.matcher(lexicon.section(DEFAULT_SECTION)),
            default_suggestions,
            exceptions,
        })
    }

    pub fn run(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        let mut exempt: Option<Vec<Span>> = None;
        for m in self.matcher.find(draft) {
            if let Some(ac) = &self.exceptions {
                // Searched once per draft, and only when the rule matched at all.
                let exempt = exempt.get_or_insert_with(|| {
                    ac.find_overlapping_iter(draft.fold())
                        .map(|e| Span::new(e.start(), e.end()))
                        .collect()
                });
                if exempt.iter().any(|e| e.overlaps(m.span)) {
                    continue;
                }
            }
            let suggestions = if m.entry.suggestions.is_empty() {
                self.default_suggestions
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            } else {
                m.entry.suggestions.clone()
            };
            out.push(Hit {
                span: m.span,
                fix: m.entry.fix.as_ref().map(|f| Fix {
                    replacement: draft.say(f),
                    safe: true,
                }),
                suggestions,
            });
        }
    }
}

impl super::Check for LexiconCheck {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        self.run(draft, out);
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! The `check` helper every rule's table of cases uses.

    use std::sync::OnceLock;

    use crate::lint::{LintRequest, Linter, Role};

    pub fn linter() -> &'static Linter {
        static L: OnceLock<Linter> = OnceLock::new();
        L.get_or_init(|| Linter::with_defaults().expect("shipped rules build"))
    }

    /// The texts `rule` flags in `draft` (as a reply with no customer message).
    pub fn flagged(rule: &str, draft: &str) -> Vec<String> {
        flagged_in(rule, draft, Role::Reply, None)
    }

    pub fn flagged_in(rule: &str, draft: &str, role: Role, customer: Option<&str>) -> Vec<String> {
        linter()
            .lint(&LintRequest {
                text: draft,
                role,
                customer,
            })
            .findings
            .into_iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.text)
            .collect()
    }

    /// Asserts that `rule` flags exactly `expected` in each draft; an empty list is a negative
    /// case, whose reason is the third element.
    pub fn check(rule: &str, cases: &[(&str, &[&str], &str)]) {
        let mut failures = Vec::new();
        for (draft, expected, why) in cases {
            let got = flagged(rule, draft);
            if got != *expected {
                failures.push(format!(
                    "  {draft:?}: expected {expected:?}, got {got:?} ({why})"
                ));
            }
        }
        assert!(failures.is_empty(), "{rule}:\n{}", failures.join("\n"));
    }
}
