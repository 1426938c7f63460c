//! `rhetorical-question`: rhetorical questions at the customer (seed 003: 避免反问式).

use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::rules::LexiconCheck;
use crate::lint::{BuildContext, Check, Role, Severity};

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "rhetorical-question",
        code: "KF302",
        severity: Severity::Warning,
        message: "反问语气：请改用陈述或礼貌的询问",
        message_en: "Rhetorical question; state it or ask politely",
        what: "反问: 难道……吗/不是……吗/你不会自己看吗/不是告诉你了吗/你没看到吗",
        why: "反问句暗示客户无知，听起来像在质问；客户是来咨询的，不是来被考的。",
        bad: &[
            "难道你没收到短信吗？",
            "不是告诉你了吗？",
            "你不会自己看吗",
            "这还用问吗",
        ],
        good: &[
            "请问您收到短信了吗？",
            "我再为您说明一下",
            "是不是页面没有显示出来呢？",
        ],
        instead: "直接说明或礼貌询问：请问您……了吗？/ 我再为您说明一下",
        whole_message: false,
        words_section: DEFAULT_SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

const SUGGESTIONS: &[&str] = &["我再为您说明一下", "请问您……了吗？"];

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    Ok(Box::new(LexiconCheck::new(cx, RULE.doc.id, SUGGESTIONS)?))
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "rhetorical-question",
            &[
                ("难道你没收到短信吗？", &["难道你没收到短信吗"], "难道…吗"),
                ("不是告诉你了吗？", &["不是告诉你了吗"], "不是…吗"),
                ("自己不会看吗？", &["自己不会看吗"], "自己不会…吗, no 你"),
                ("您可以自己查看一下物流吗", &[], "a polite question"),
                ("你不會自己看嗎", &["你不會自己看嗎"], "Traditional"),
                ("请问您收到短信了吗？", &[], "a polite question"),
                (
                    "是不是页面没有显示出来呢？",
                    &[],
                    "是不是 is a genuine question",
                ),
                ("不是您的问题哦", &[], "不是 without 吗 is a statement"),
            ],
        );
    }

    /// Each kind of rhetorical question, in every form a writer may give it.
    #[test]
    fn kinds() {
        use crate::lint::rules::testing::caught_in_every_form;
        caught_in_every_form(&[
            "这还用问",
            "你懂不懂",
            "你到底想怎么样",
            "要试到什么时候",
            "你问我我问谁",
            "跟我说有什么用",
        ]);
    }
}
