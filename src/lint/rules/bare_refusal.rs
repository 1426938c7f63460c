//! `bare-refusal`: a reply that turns the customer down with no word of regret (不能退,
//! 无法开发票) — seed 000: 要多对顾客道歉; 三不: 不使用生硬语言.

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashSet as HashSet;

use super::Exceptions;
use crate::error::Error;
use crate::lint::matcher::{Matcher, TextMatcher};
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::{BuildContext, Check, Draft, Hit, Role, Severity};
use crate::text::Span;

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "bare-refusal",
        code: "KF305",
        severity: Severity::Warning,
        message: "拒绝客户时请先致歉，并尽量说明能为客户做什么",
        message_en: "A refusal with no apology; say sorry and what you can do instead",
        what: "a reply that refuses what customers ask a shop for (不能退/不支持货到付款/无法开发票/退不了…, leading its first sentence) with no 抱歉/不好意思/遗憾/理解 anywhere in it",
        why: "光秃秃的“不能”像一堵墙：客户只听到拒绝。先致歉、再给替代办法，拒绝也能让客户感到被重视。",
        bad: &[
            "这款不能开发票",
            "这款不退不换",
            "本店不支持货到付款，拍下付款就行",
        ],
        good: &[
            "非常抱歉，这款不能退，可以为您换货",
            "不好意思，本店暂不支持货到付款，您可以用花呗分期",
            "请在签收时检查包裹，否则无法退换",
            "我们不能保证明天送达，预计后天到",
        ],
        instead: "致歉 + 原因 + 替代办法：非常抱歉，这款是定制商品不能退，我们可以为您……",
        whole_message: false,
        words_section: "refusal",
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

const APOLOGY: &str = "非常抱歉，";

#[derive(Debug)]
struct BareRefusal {
    refusal: Matcher,
    /// What customers ask a shop for: the refusal's clause must name one.
    service: AhoCorasick,
    subjects: HashSet<String>,
    skip: AhoCorasick,
    exceptions: Exceptions,
    /// A reply to a complaint is missing-apology's to judge, when it runs: one apology asked
    /// for, not two.
    complaint: Option<TextMatcher>,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    let lex = cx.lexicon(RULE.doc.id);
    Ok(Box::new(BareRefusal {
        refusal: cx.matcher(lex.section("refusal")),
        service: AhoCorasick::new(lex.words("service"))
            .map_err(|e| Error::Lexicon(e.to_string()))?,
        subjects: lex.words("subject").into_iter().collect(),
        skip: AhoCorasick::new(lex.words("skip")).map_err(|e| Error::Lexicon(e.to_string()))?,
        exceptions: Exceptions::new(cx, RULE.doc.id)?,
        complaint: cx
            .is_enabled(super::missing_apology::RULE.doc.id)
            .then(|| TextMatcher::new(cx.lexicon("missing-apology").section("complaint")))
            .transpose()?,
    }))
}

impl BareRefusal {
    /// Whether the refusal at `at` leads its clause's core, or follows one subject word that
    /// leads the clause or its core (这款不退, 亲，我们这边不支持).
    fn leads(&self, draft: &Draft<'_>, clause: Span, core: Span, at: Span) -> bool {
        let fold = draft.fold();
        let in_core = &fold[core.start..at.start];
        in_core.is_empty()
            || self.subjects.contains(in_core)
            || self.subjects.contains(&fold[clause.start..at.start])
    }
}

impl Check for BareRefusal {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        let found = self.refusal.find(draft);
        if found.is_empty()
            || draft.softened()
            || draft
                .customer
                .as_ref()
                .zip(self.complaint.as_ref())
                .is_some_and(|(c, complaint)| complaint.occurs_in(&c.fold))
        {
            return;
        }
        let exceptions = self.exceptions.spans(draft);
        let fold = draft.fold();
        // A refusal answers at once (不能退，…); one further on, after the answer, is a notice of
        // a policy (…。定制商品不支持七天无理由退货).
        let first_sentence = draft.clauses().clauses.first().map(|c| c.sentence);
        for m in found {
            let Some(clause) = draft.clause_of(m.span) else {
                continue;
            };
            if Some(clause.sentence) != first_sentence {
                break;
            }
            let core = draft.core(clause.span);
            // The core without its last particle may end inside the refusal (退不了).
            let end = core.end.max(m.span.end);
            // A bare 不行！ names no service: blunt-language's; 退不了 does.
            if m.span.start < core.start
                || m.span.end > clause.span.end
                || !self.leads(draft, clause.span, core, m.span)
                || !self.service.is_match(&fold[m.span.start..end])
                // 无法送达的包裹: the refusal describes a noun.
                || fold[m.span.end..end].trim_end_matches('的').contains('的')
                || self.skip.is_match(clause.span.slice(fold))
                || exceptions.iter().any(|e| e.overlaps(m.span))
            {
                continue;
            }
            // One apology serves the reply: the first refusal is where it goes.
            let span = Span::new(clause.span.start, end);
            out.push(Hit::apology_first(
                draft,
                span,
                APOLOGY,
                &[
                    "非常抱歉，这个暂时无法办理，我们可以为您……",
                    "不好意思，这个确实不支持，您看……可以吗",
                ],
            ));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::Role;
    use crate::lint::rules::testing::{check, flagged_in};

    #[test]
    fn cases() {
        check(
            "bare-refusal",
            &[
                ("这款不能开发票", &["这款不能开发票"], "a bare refusal"),
                ("这件不能退😊", &["这件不能退"], "emoji after it"),
                (
                    "這款不退不換",
                    &["這款不退不換"],
                    "Traditional, after a subject",
                ),
                (
                    "亲，这个不支持货到付款，拍下付款就行",
                    &["这个不支持货到付款"],
                    "after lead words; only the refusing clause",
                ),
                (
                    "我们无法开专票，只能开普票，没办法改",
                    &["我们无法开专票"],
                    "one apology serves the reply: the first refusal",
                ),
                (
                    "非常抱歉，这款不能退，可以为您换货",
                    &[],
                    "an apology anywhere",
                ),
                ("不好意思，本店暫不支持貨到付款", &[], "Traditional apology"),
                ("很遗憾，无法为您开具发票", &[], "regret"),
                ("不行！", &[], "bare 不行 alone is blunt-language's"),
                ("退不了", &["退不了"], "the refusal is the clause"),
                (
                    "请在签收时检查包裹，否则无法退换",
                    &[],
                    "a condition, not a refusal",
                ),
                ("不能退吗？", &[], "a question"),
                ("我们不能保证明天送达，预计后天到", &[], "not a refusal"),
                (
                    "拍拍卡只支持IC卡，不支持磁条卡",
                    &[],
                    "what a product can't do is no refusal",
                ),
                (
                    "这个价格不能再优惠了",
                    &["这个价格不能再优惠"],
                    "after a subject",
                ),
                ("亲，我们不包邮的", &[], "blunt-language's"),
                ("无法送达的包裹会退回", &[], "the refusal describes a noun"),
                ("退款后无法恢复订单", &[], "the refusal leads no clause"),
                (
                    "您好，部分商品支持定制。定制商品不支持七天无理由退货，请您提前知悉",
                    &[],
                    "a policy noted after the answer",
                ),
                (
                    "客户说“不能退”是什么意思",
                    &[],
                    "quoted words are not the agent's",
                ),
            ],
        );
    }

    #[test]
    fn a_complaint_is_left_to_missing_apology() {
        let customer = Some("东西坏了，太差了");
        let found = |rule| flagged_in(rule, "不能退，只能换", Role::Reply, customer);
        assert!(found("bare-refusal").is_empty());
        assert_eq!(found("missing-apology"), ["不能退"]);
        assert_eq!(
            flagged_in(
                "bare-refusal",
                "不能退，只能换",
                Role::Reply,
                Some("能退吗")
            ),
            ["不能退"],
            "a question is no complaint"
        );
    }

    #[test]
    fn with_missing_apology_turned_off_a_complaint_is_its_own() {
        let config = crate::Config::parse("kefu.toml", "[rules.KF403]\nenabled = false\n").unwrap();
        let linter = crate::lint::Linter::new(&config).unwrap();
        let r = linter.lint(&crate::lint::LintRequest {
            text: "不能退，只能换",
            role: Role::Reply,
            customer: Some("东西坏了，太差了"),
            skip_meaning: false,
        });
        let rules: Vec<&str> = r.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["bare-refusal"]);
    }
}
