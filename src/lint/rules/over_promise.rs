//! `over-promise`: promising lightly what the shop cannot guarantee (seed 003: 不要轻易承诺).

use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::rules::LexiconCheck;
use crate::lint::{BuildContext, Check, Role, Severity};

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "over-promise",
        code: "KF401",
        severity: Severity::Warning,
        message: "承诺过满：不要轻易许诺做不到的事",
        message_en: "Over-promising; don't promise what you can't guarantee",
        what: "light promises: 绝对/保证/百分之百/肯定没问题/包您满意, and an outcome promised in any words (一定能按时送到/肯定能修好), not an effort (一定尽快)",
        why: "许诺做不到时，客户的失望会变成投诉；说清楚能做的和预计时间，比拍胸脯更可信。",
        bad: &[
            "绝对没问题",
            "保证明天到",
            "百分之百正品，包您满意",
            "肯定不会坏",
            "您放心，我们一定能按时送到",
        ],
        good: &[
            "正常情况下明天能到，我们会帮您留意物流",
            "我们不能保证明天送达，会尽量帮您催促",
            "缴纳保证金后即可开通",
        ],
        instead: "说实际情况和会做的事：正常情况下……，我们会帮您跟进",
        whole_message: false,
        words_section: DEFAULT_SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

const SUGGESTIONS: &[&str] = &[
    "正常情况下……，我们会帮您跟进",
    "我们会尽力为您争取，有进展第一时间告诉您",
];

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    Ok(Box::new(LexiconCheck::new(cx, RULE.doc.id, SUGGESTIONS)?))
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "over-promise",
            &[
                ("绝对没问题", &["绝对没问题"], "over-promise"),
                ("保证明天到", &["保证明天到"], "promising delivery"),
                (
                    "仓库那边说明天一定发出",
                    &["一定发出"],
                    "promising the dispatch day",
                ),
                ("明天一定送到😊", &["一定送到"], "promising delivery"),
                ("我們一定給您發", &["一定給您發"], "Traditional"),
                ("不一定发出", &[], "negated"),
                (
                    "百分之百正品，包您满意",
                    &["百分之百正品", "包您满意"],
                    "two promises",
                ),
                ("我們不能保證明天送達", &[], "negated, Traditional"),
                (
                    "缴纳保证金后即可开通",
                    &[],
                    "保证金 is a deposit, not a promise",
                ),
                (
                    "为了保证您的账户安全，请不要把验证码告诉他人",
                    &[],
                    "a purpose, not a promise",
                ),
                (
                    "為保證您的包裹完好，我們用了加厚紙箱😊",
                    &[],
                    "a purpose, Traditional",
                ),
                (
                    "赠品以实物为准，我们不做任何保证哦",
                    &[],
                    "refusing to promise",
                ),
                (
                    "为了保证新鲜我们发顺丰，保证明天到",
                    &["保证明天到"],
                    "the purpose exempts itself only",
                ),
            ],
        );
    }

    /// An outcome promised in other words, in every form a writer may give it.
    #[test]
    fn kinds() {
        use crate::lint::rules::testing::caught_in_every_form;
        caught_in_every_form(&["我们一定能按时送到", "明天肯定能修好", "百分之百没问题"]);
    }
}
