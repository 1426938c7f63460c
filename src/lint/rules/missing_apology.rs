//! `missing-apology`: the customer complains and the reply has no apology — seed 000: 要多对顾客道歉.
//! Runs only when the customer's message is given.

use crate::error::Error;
use crate::lint::matcher::{Matcher, TextMatcher};
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::{BuildContext, Check, Draft, Hit, Role, Severity};
use crate::text::Span;

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "missing-apology",
        code: "KF403",
        severity: Severity::Warning,
        message: "客户在抱怨，回复里请先致歉",
        message_en: "The customer is complaining; apologise first",
        what: "a reply to a complaint (慢/坏了/发错/投诉/差评/还没到…, given as `customer`) with no 抱歉/对不起/不好意思",
        why: "多对顾客道歉不是贬低公司，而是展现诚信；先安抚情绪，客户才听得进解决办法。",
        bad: &["已经帮您催了", "我们查一下"],
        good: &[
            "非常抱歉让您久等了，已经帮您催了",
            "不好意思给您添麻烦了，我们马上查一下",
        ],
        instead: "先致歉再说办法：非常抱歉给您带来不便，我们马上……",
        whole_message: true,
        words_section: "complaint",
        example_role: Role::Reply,
        example_customer: Some("都一个星期了还没到，太慢了！"),
    },
    build,
};

const APOLOGY: &str = "非常抱歉给您带来不便，";

#[derive(Debug)]
struct MissingApology {
    /// Matched against the customer's message, not the draft.
    complaint: TextMatcher,
    apology: Matcher,
    /// Greeting words: a first clause of nothing else keeps its place before the apology.
    greeting: Vec<String>,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    let lex = cx.lexicon(RULE.doc.id);
    Ok(Box::new(MissingApology {
        complaint: TextMatcher::new(lex.section("complaint"))?,
        apology: cx.matcher(lex.section("apology")),
        greeting: {
            let mut g = lex.words("greeting");
            g.sort_by_key(|w| std::cmp::Reverse(w.len()));
            g
        },
    }))
}

impl Check for MissingApology {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        let Some(customer) = &draft.customer else {
            return;
        };
        if !self.complaint.occurs_in(&customer.fold) || self.apology.occurs(draft) {
            return;
        }
        // The apology goes after a greeting (您好，非常抱歉…), not before it.
        let clauses = &draft.clauses().clauses;
        let Some(first) = clauses
            .iter()
            .find(|c| !self.is_greeting(c.span.slice(draft.fold())))
            .or(clauses.first())
        else {
            return;
        };
        let span = Span::new(first.span.start, first.span.end);
        out.push(Hit::apology_first(
            draft,
            span,
            APOLOGY,
            &[APOLOGY, "不好意思让您久等了，"],
        ));
    }
}

impl MissingApology {
    /// Whether a clause (folded) is greeting words alone, punctuation and emoji aside.
    fn is_greeting(&self, clause: &str) -> bool {
        let mut rest = clause.trim_matches(|c: char| !c.is_alphanumeric());
        if rest.is_empty() {
            return false;
        }
        'strip: while !rest.is_empty() {
            for g in &self.greeting {
                if let Some(r) = rest.strip_prefix(g.as_str()) {
                    rest = r.trim_start_matches(|c: char| !c.is_alphanumeric());
                    continue 'strip;
                }
            }
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::Role;
    use crate::lint::rules::testing::flagged_in;

    fn reply(customer: &str, text: &str) -> Vec<String> {
        flagged_in("missing-apology", text, Role::Reply, Some(customer))
    }

    #[test]
    fn cases() {
        assert_eq!(
            reply("都一个星期了还没到，太慢了！", "已经帮您催了，请耐心等待"),
            ["已经帮您催了"]
        );
        assert_eq!(reply("收到的杯子是碎的", "我们查一下"), ["我们查一下"]);
        assert_eq!(
            reply("收到的杯子是碎的", "您好😊，我们查一下"),
            ["我们查一下"],
            "the apology goes after the greeting"
        );
        assert_eq!(
            reply("杯子是碎的", "親，您好！我們查一下"),
            ["我們查一下"],
            "Traditional, greeting words in a row"
        );
        assert_eq!(
            reply("東西壞了，怎麼回事", "我們查一下"),
            ["我們查一下"],
            "Traditional"
        );
        assert!(
            reply("太慢了", "非常抱歉让您久等了，已经帮您催了").is_empty(),
            "apologised"
        );
        assert!(
            reply("太慢了", "不好意思，马上帮您催").is_empty(),
            "apologised"
        );
        assert_eq!(
            reply("等了三天还没发货", "这不是我们的问题，是快递的事"),
            ["这不是我们的问题"],
            "a negated 是我们的问题 is no apology"
        );
        assert!(
            reply("请问有红色吗", "有的，请拍下即可").is_empty(),
            "no complaint"
        );
        assert!(
            flagged_in("missing-apology", "我们查一下", Role::Reply, None).is_empty(),
            "no customer message"
        );
    }
}
