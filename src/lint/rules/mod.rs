//! One rule per file, each with its docs, its check and its unit tests; the generic
//! lexicon-driven check most "don't" rules are built on lives here.

pub mod bare_refusal;
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

/// A rule's `[exception]` phrases: stretches of a draft inside which its matches are not flagged
/// (迷你 for informal-address, 为了保证 for over-promise).
#[derive(Debug)]
pub struct Exceptions(Option<AhoCorasick>);

impl Exceptions {
    /// The lexicon section that holds them.
    pub const SECTION: &'static str = "exception";

    pub fn new(cx: &BuildContext<'_>, rule: &str) -> Result<Self, Error> {
        let words = cx.lexicon(rule).words(Self::SECTION);
        if words.is_empty() {
            return Ok(Self(None));
        }
        AhoCorasick::new(words)
            .map(|ac| Self(Some(ac)))
            .map_err(|e| Error::Lexicon(e.to_string()))
    }

    /// Whether the rule has any.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Where they occur in the draft (folded: both scripts, 你 and 您).
    pub fn spans(&self, draft: &Draft<'_>) -> Vec<Span> {
        self.0.as_ref().map_or_else(Vec::new, |ac| {
            ac.find_overlapping_iter(draft.fold())
                .map(|m| Span::new(m.start(), m.end()))
                .collect()
        })
    }
}

/// Flags every accepted match of a lexicon section, with the entry's fix and suggestions (or the
/// rule's default suggestions when the entry has none), except where the match overlaps one of
/// the rule's `[exception]` phrases (为了保证 is no promise).
#[derive(Debug)]
pub struct LexiconCheck {
    pub matcher: Matcher,
    pub default_suggestions: &'static [&'static str],
    exceptions: Exceptions,
}

impl LexiconCheck {
    pub fn new(
        cx: &BuildContext<'_>,
        rule: &str,
        default_suggestions: &'static [&'static str],
    ) -> Result<Self, Error> {
        Ok(Self {
            matcher: cx.matcher(cx.lexicon(rule).section(DEFAULT_SECTION)),
            default_suggestions,
            exceptions: Exceptions::new(cx, rule)?,
        })
    }

    pub fn run(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        let mut exempt: Option<Vec<Span>> = None;
        for m in self.matcher.find(draft) {
            if !self.exceptions.is_empty() {
                // Searched once per draft, and only when the rule matched at all.
                let exempt = exempt.get_or_insert_with(|| self.exceptions.spans(draft));
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
