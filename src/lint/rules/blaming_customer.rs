//! `blaming-customer`: reproaching or blaming the customer (三不: 不责备埋怨客户).

use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::rules::LexiconCheck;
use crate::lint::{BuildContext, Check, Role, Severity};

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "blaming-customer",
        code: "KF203",
        severity: Severity::Error,
        message: "责备客户：请不要埋怨客户，先致歉再帮忙解决",
        message_en: "Blaming the customer; apologise and help instead",
        what: "reproaching the customer: 是你自己没看清/早就告诉过你了/谁让你……/你自己的问题, for timing (怎么现在才说/早干什么去了), ignorance (这么简单都不懂), asking again (都说了还问), mistakes (地址怎么瞎写), a trait (你真麻烦/你怎么这么挑剔), or in a question (你签收的时候没检查吗？)",
        why: "客户来咨询是需要帮助，不是来听批评的；即使是客户的失误，责备只会激怒客户、失去订单。",
        bad: &[
            "是你自己没看清楚",
            "早就告诉过你了",
            "谁让你不看详情的",
            "您怎么这么不讲理",
            "怎么现在才说",
            "这么简单都不懂",
            "你自己签收的时候没检查吗？",
        ],
        good: &[
            "可能是我们没有说明清楚，给您添麻烦了",
            "不是您的问题，我们来处理",
            "我再为您详细说明一下",
        ],
        instead: "把责任揽到自己身上：可能是我们没说清楚，我再为您说明一下",
        whole_message: false,
        words_section: DEFAULT_SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

const SUGGESTIONS: &[&str] = &[
    "可能是我们没有说明清楚，我再为您详细说明一下",
    "给您添麻烦了，我们一起来看看怎么解决",
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
            "blaming-customer",
            &[
                ("是你自己没看清楚", &["是你自己没看清"], "blame"),
                ("早就告诉过你了", &["早就告诉过你了"], "reproach"),
                (
                    "您怎么这么不讲理",
                    &["您怎么这么不讲理"],
                    "blame with polite pronoun",
                ),
                ("是妳自己沒看清楚", &["是妳自己沒看清"], "Traditional"),
                (
                    "不是您的问题，我们来处理",
                    &[],
                    "negated: the agent clears the customer",
                ),
                ("可能是我们没有说明清楚", &[], "taking the blame"),
                (
                    "详情页写得很清楚了",
                    &["写得很清楚了"],
                    "it is written clearly: read it",
                ),
                ("我已经說得很明白了", &["說得很明白了"], "Traditional"),
                (
                    "说明书上写得清清楚楚的",
                    &["写得清清楚楚"],
                    "doubled intensive",
                ),
                ("可能是我们之前没有讲得很清楚了", &[], "negated: ours"),
                (
                    "说明书写得很清楚，您可以按步骤操作",
                    &[],
                    "pointing to instructions is no reproach",
                ),
                ("我这样说清楚了吗", &[], "asking whether it is clear"),
                (
                    "这个问题我刚才已经回答过了",
                    &["这个问题我刚才已经回答过了"],
                    "answered already",
                ),
                ("没看到我发的消息吗", &["没看到我发的消息"], "scroll up"),
                ("自己往上翻", &["自己往上翻"], "scroll up"),
                (
                    "拍之前不问清楚",
                    &["拍之前不问清楚"],
                    "you should have asked",
                ),
                (
                    "您买的时候怎么不看清楚",
                    &["您买的时候怎么不看清楚"],
                    "you should have looked",
                ),
                (
                    "如果您买的时候没看清楚也没关系，我们支持七天无理由",
                    &[],
                    "reassuring, not reproaching",
                ),
                ("下次注意点", &["下次注意点"], "lecturing"),
                ("这个很简单的，您都不会吗", &["您都不会吗"], "can't even"),
                (
                    "给您添麻烦了，下次我们一定注意点",
                    &[],
                    "our own promise to take care",
                ),
            ],
        );
    }

    /// Each kind of blame, in every form a writer may give it.
    #[test]
    fn kinds() {
        use crate::lint::rules::testing::caught_in_every_form;
        caught_in_every_form(&[
            "怎么现在才说",
            "早干什么去了",
            "这么简单都不懂",
            "都说了好几遍了还问",
            "地址怎么瞎写",
            "你怎么这么挑剔",
            "你们这些人就是事多",
            "你自己签收的时候没检查吗",
            "你肯定是没按说明书操作",
            "这是你自己的问题",
        ]);
    }
}
