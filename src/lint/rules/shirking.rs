//! `shirking`: pushing responsibility away from the shop (三不: 不说推卸责任的话).

use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::rules::LexiconCheck;
use crate::lint::{BuildContext, Check, Role, Severity};

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "shirking",
        code: "KF202",
        severity: Severity::Error,
        message: "推卸责任：请主动承担，说清楚我们会怎么帮客户解决",
        message_en: "Shirking responsibility; own the problem and say what we will do",
        what: "pushing responsibility away: 不归我管/这不是我的责任/找快递去/这是仓库的事/我处理不了/跟我们没关系, with no one named (我们这边不管这个) or sending the customer to a third party (你找平台去/你去营业厅问)",
        why: "客户只认店铺，不关心是哪个部门的问题；推给快递、仓库或平台，客户会觉得被踢皮球，矛盾升级。",
        bad: &[
            "这不归我管",
            "你去找快递吧",
            "这是仓库的问题，跟我们没关系",
            "我处理不了",
            "我们这边不管这个",
            "你去营业厅问吧",
        ],
        good: &[
            "我这边马上帮您联系快递核实，今天下班前给您答复",
            "非常抱歉，我们来为您跟进处理",
            "不是您的问题，我们来处理",
        ],
        instead: "把问题揽过来：我这边帮您联系……，会在……之前给您答复",
        whole_message: false,
        words_section: DEFAULT_SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

const SUGGESTIONS: &[&str] = &[
    "我这边马上帮您联系处理，稍后给您答复",
    "非常抱歉，这个问题我们来为您跟进",
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
            "shirking",
            &[
                ("这不归我管", &["这不归我管"], "shirking"),
                ("这事得找售后", &["这事得找售后"], "sent elsewhere"),
                ("我帮您找售后处理", &[], "we act for the customer"),
                ("您需要找售后吗？我帮您转接", &[], "offering the handover"),
                ("按规定只能这样", &["按规定只能这样"], "the rules say so"),
                ("这是公司规定", &["这是公司规定"], "a rule cited as a wall"),
                (
                    "这是公司的规定，我理解您的不便，我们看看还有没有别的办法",
                    &[],
                    "a rule cited with understanding explains",
                ),
                (
                    "非常抱歉，这是平台规定的",
                    &[],
                    "a rule cited with an apology explains",
                ),
                (
                    "这是公司规定，不理解也没用",
                    &["这是公司规定"],
                    "a negated softener softens nothing",
                ),
                (
                    "我们这边规定就是这样",
                    &["规定就是这样"],
                    "the rules say so",
                ),
                ("有问题找平台😊", &["有问题找平台"], "sent to the platform"),
                ("有問題你去找淘寶", &["有問題你去找淘寶"], "Traditional"),
                ("有问题我帮您找平台小二处理", &[], "we act for the customer"),
                (
                    "我也不知道怎么办",
                    &["我也不知道怎么办"],
                    "leaving it with the customer",
                ),
                ("我帮您找小二介入", &[], "we act for the customer"),
                ("你找小二吧", &["你找小二"], "sent to the platform"),
                ("我们又不是故意的", &["我们又不是故意的"], "defensive"),
                ("那我能怎么样呢", &["我能怎么样"], "helpless"),
                ("我能怎么办理退款呢", &[], "怎么办理 is a question"),
                ("我还有什么办法能帮您呢", &[], "offering help"),
                (
                    "反正我们是按规定来的",
                    &["我们是按规定来的"],
                    "hiding behind the rules",
                ),
                (
                    "我们会按规定为您办理退款",
                    &[],
                    "following the rules for the customer",
                ),
                ("你去找快递吧", &["你去找快递"], "pushing to the courier"),
                (
                    "这是仓库的问题，跟我们没关系",
                    &["这是仓库的问题", "跟我们没关系"],
                    "two shirks",
                ),
                ("我處理不了", &["我處理不了"], "Traditional"),
                (
                    "我这边马上帮您联系快递核实",
                    &[],
                    "we contact the courier for the customer",
                ),
                ("不是您的问题，我们来处理", &[], "taking responsibility"),
            ],
        );
    }

    /// Each kind of shirking, in every form a writer may give it.
    #[test]
    fn kinds() {
        use crate::lint::rules::testing::caught_in_every_form;
        caught_in_every_form(&[
            "我们这边不管这个",
            "这事不归我们管",
            "你找平台去",
            "你去营业厅问吧",
            "那是航空公司的事",
            "我只负责接电话",
            "我又不是医生",
            "跟我们没有任何关系",
            "不是我们的错",
        ]);
    }
}
