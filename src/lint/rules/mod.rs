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
pub mod rude_tone;
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

    /// A linter that also judges meaning (`rude-tone`), with the model the build fetched.
    pub fn meaning_linter() -> &'static Linter {
        static L: OnceLock<Linter> = OnceLock::new();
        L.get_or_init(|| {
            Linter::with_meaning(&crate::config::Config::default()).expect("shipped rules build")
        })
    }

    pub fn flagged_in(rule: &str, draft: &str, role: Role, customer: Option<&str>) -> Vec<String> {
        let linter = if rule == super::rude_tone::RULE.doc.id {
            meaning_linter()
        } else {
            linter()
        };
        linter
            .lint(&LintRequest {
                text: draft,
                role,
                customer,
                skip_meaning: false,
            })
            .findings
            .into_iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.text)
            .collect()
    }

    /// The rules that are no don'ts: the three musts and the advice on what a reply lacks.
    const NOT_DONTS: &[&str] = &[
        "missing-please",
        "informal-address",
        "missing-farewell",
        "missing-deadline",
        "missing-apology",
    ];

    /// The don't-rule findings of a draft, as `rule:text`.
    fn donts(draft: &str) -> Vec<String> {
        linter()
            .lint(&LintRequest::new(draft))
            .findings
            .into_iter()
            .filter(|f| !NOT_DONTS.contains(&f.rule))
            .map(|f| format!("{}:{}", f.rule, f.text))
            .collect()
    }

    /// Asserts that a don't-rule catches each phrase in every form a writer may give it: as
    /// written, with a trailing ！ or ？, with 您 for 你, and in Traditional characters. The
    /// phrases are the kinds of the calling rule's file; where two rules cover one stretch the
    /// worse finding is the one kept, so the rule that catches it may be another.
    pub fn caught_in_every_form(phrases: &[&str]) {
        use crate::text::normalize::{Script, in_script};
        let mut failures = Vec::new();
        for phrase in phrases {
            let forms = [
                (*phrase).to_owned(),
                format!("{phrase}！"),
                format!("{phrase}？"),
                phrase.replace('你', "您"),
                in_script(phrase, Script::Traditional),
            ];
            for form in forms {
                if donts(&form).is_empty() {
                    failures.push(format!("  {form:?} (from {phrase:?})"));
                }
            }
        }
        assert!(failures.is_empty(), "missed:\n{}", failures.join("\n"));
    }

    /// Asserts that no don't-rule (every rule but the musts and the advice on what a reply
    /// lacks) flags any of the drafts, in Simplified or Traditional.
    pub fn no_dont_flags(drafts: &[&str]) {
        use crate::text::normalize::{Script, in_script};
        let mut failures = Vec::new();
        for draft in drafts {
            for form in [(*draft).to_owned(), in_script(draft, Script::Traditional)] {
                let found = donts(&form);
                if !found.is_empty() {
                    failures.push(format!("  {form:?}: {found:?}"));
                }
            }
        }
        assert!(failures.is_empty(), "flagged:\n{}", failures.join("\n"));
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

#[cfg(test)]
mod tests {
    use super::testing::no_dont_flags;

    /// Polite replies, from shops and other trades, built like the rude kinds the don't-rules
    /// catch: negations, quotes of the customer, offers of help, apologies, conditions, efforts.
    #[test]
    fn polite_replies_stay_clean() {
        no_dont_flags(&[
            "请您到3号窗口办理",
            "您可以联系快递员确认一下",
            "我帮您问一下快递",
            "不是您的问题，是我们系统的原因，非常抱歉",
            "您说的“你们太慢了”我们已经记下，马上改进",
            "请问还有什么可以帮您的吗？",
            "非常抱歉，这款暂时没有现货，到货后第一时间通知您",
            "您别着急，我马上为您查询",
            "我们一定尽快给您答复",
            "我们一定尽力帮您解决",
            "如果您买的时候没看清楚也没关系，我们支持七天无理由",
            "好的",
            "是的",
            "不客气",
            "没关系",
            "请问您方便什么时候收货呢？",
            "我们没有收到您的退款申请，请您再提交一次",
            "您的包裹没有问题，请您放心",
            "请问您是需要开发票吗？",
            "为了您的安全，请您系好安全带",
            "这是您的房卡，请您收好",
            "您提的建议很好，我们会向上级反映",
            "请您不要着急，慢慢说",
            "我们会精心呵护您的宝贝",
            "请问您有生活垃圾需要我帮您带走吗？",
            "如有疑问，您可以拨打12315投诉",
            "这个问题需要咨询医生，我帮您联系",
            "我们不会泄露您的个人信息",
            "欢迎您下次再来",
            "感谢您的支持，有您这样的顾客是我们的幸运",
            "没什么，这是我们应该做的",
        ]);
    }
}
