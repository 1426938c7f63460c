//! `informal-address`: 你/妳 addressing the customer where 您 is due (三要: 「您」字不离口).

use super::Exceptions;
use crate::error::Error;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::{BuildContext, Check, Draft, Hit, Role, Severity};
use crate::text::Span;

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "informal-address",
        code: "KF102",
        severity: Severity::Warning,
        message: "称呼客户请用“您”",
        message_en: "Address the customer as 您",
        what: "你/妳/你们 addressing the customer (not inside words like 迷你, not inside quotes); 你好 becomes 您好",
        why: "“您”是对客户最基本的尊重；用“你”显得随意，客户会觉得不被重视。",
        bad: &[
            "你好，请问有什么可以帮你？",
            "妳的訂單已發貨",
            "你们的订单已合并发货",
        ],
        good: &[
            "您好，请问有什么可以帮您？",
            "这款迷你风扇很受欢迎",
            "您说的“你们发错了”我们已经记录",
        ],
        instead: "把“你”换成“您”：您好 / 您的订单",
        whole_message: false,
        words_section: Exceptions::SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

#[derive(Debug)]
struct InformalAddress {
    /// Words in which 你 is not a pronoun (迷你…).
    exceptions: Exceptions,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    Ok(Box::new(InformalAddress {
        exceptions: Exceptions::new(cx, RULE.doc.id)?,
    }))
}

impl Check for InformalAddress {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        let text = draft.text;
        if !text.contains(['你', '妳']) {
            return;
        }
        let exempt = self.exceptions.spans(draft);
        for (i, c) in text.char_indices() {
            if c != '你' && c != '妳' || exempt.iter().any(|s| s.start <= i && i < s.end) {
                continue;
            }
            // Ending a dictionary word that is no pronoun, verb or preposition (迷你), 你 is no
            // pronoun either. Only that two-character word is looked up: segmenting the whole
            // draft for it would cost more than the rest of the rule.
            if let Some(prev) = draft.simp()[..i]
                .chars()
                .next_back()
                .filter(|p| p.is_alphabetic())
            {
                let word = &draft.simp()[i - prev.len_utf8()..i + c.len_utf8()];
                if crate::text::segment::jieba().has_word(word)
                    && !matches!(crate::text::segment::pos(word), 'r' | 'v' | 'p')
                {
                    continue;
                }
            }
            // 你们 is one customer in a chat: 您, never 您们.
            let end = i + c.len_utf8();
            let end = match text[end..].chars().next() {
                Some(m @ ('们' | '們')) => end + m.len_utf8(),
                _ => end,
            };
            out.push(Hit::safe_fix(Span::new(i, end), "您".to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::LintRequest;
    use crate::lint::rules::testing::{check, linter};

    #[test]
    fn cases() {
        check(
            "informal-address",
            &[
                ("你好，把订单号发过来", &["你"], "greeting with 你"),
                ("你们的订单已合并发货", &["你们"], "你们"),
                ("你們的訂單已合併發貨", &["你們"], "Traditional 你們"),
                ("妳的訂單已發貨", &["妳"], "Traditional 妳"),
                ("😀你好😀你的包裹", &["你", "你"], "emoji around"),
                ("您好，这款迷你风扇很受欢迎", &[], "迷你 is not a pronoun"),
                (
                    "您说的“你们发错了”我们已经记录",
                    &[],
                    "quoted customer words",
                ),
                ("您好，請問有什麼可以幫您", &[], "already 您"),
                ("不分你我，都是一家人", &[], "fixed expression"),
            ],
        );
    }

    #[test]
    fn fix_turns_ni_into_nin() {
        let r = linter().lint(&LintRequest::new("你好，你的订单已发货"));
        assert_eq!(r.fixed, "您好，您的订单已发货");
        let r = linter().lint(&LintRequest::new("你们的订单已合并发货"));
        assert_eq!(r.fixed, "您的订单已合并发货", "not 您们");
    }
}
