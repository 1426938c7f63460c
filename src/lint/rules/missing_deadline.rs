//! `missing-deadline`: deferring the customer (我们会处理/稍后回复/等通知) without a concrete time
//! — seed 000: 如果不能及时解决问题，应该给用户一个期限承诺.

use crate::error::Error;
use crate::lint::matcher::Matcher;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::{BuildContext, Check, Draft, Hit, Role, Severity};

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "missing-deadline",
        code: "KF402",
        severity: Severity::Info,
        message: "只说会处理却没给时间，请给客户一个明确的期限",
        message_en: "Deferring without a time; give the customer a concrete deadline",
        what: "deferring (我们会处理/稍后回复/等通知/尽快/有消息通知您) with no concrete time (24小时内/今天/明天下午/3个工作日…) in the message",
        why: "没有期限的“会处理”让客户不知道要等多久，只能反复追问；给出期限并按时反馈，客户才会安心。",
        bad: &[
            "我们会尽快处理的",
            "等通知吧",
            "已经反馈给仓库了，有消息通知您",
        ],
        good: &[
            "我们会在24小时内给您回复",
            "已经反馈给仓库，今天下午5点前给您答复",
            "明天上午为您补发",
        ],
        instead: "加上具体时间：我们会在24小时内给您答复",
        whole_message: false,
        words_section: "defer",
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

#[derive(Debug)]
struct MissingDeadline {
    defer: Matcher,
    time: Matcher,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    let lex = cx.lexicon(RULE.doc.id);
    Ok(Box::new(MissingDeadline {
        defer: cx.matcher(lex.section("defer")),
        time: cx.matcher(lex.section("time")),
    }))
}

impl Check for MissingDeadline {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        if !self.defer.occurs(draft) || self.time.occurs(draft) {
            return;
        }
        if let Some(m) = self.defer.find(draft).into_iter().next() {
            let mut hit = Hit::new(m.span);
            hit.suggestions = vec![
                "我们会在24小时内给您答复".to_owned(),
                "预计今天下午5点前给您回复".to_owned(),
            ];
            out.push(hit);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "missing-deadline",
            &[
                ("我们会尽快处理的", &["会尽快处理"], "no time given"),
                ("等通知吧", &["等通知"], "no time given"),
                (
                    "已经反馈给仓库了，有消息通知您",
                    &["已经反馈"],
                    "first deferral is flagged",
                ),
                ("我們會盡快處理", &["會盡快處理"], "Traditional"),
                ("我们会在24小时内给您回复", &[], "concrete time"),
                (
                    "已经反馈给仓库，今天下午5点前给您答复",
                    &[],
                    "concrete time",
                ),
                ("我们会在２４小时内尽快处理", &[], "full-width digits"),
                ("三个工作日内处理完成", &[], "time in Chinese numerals"),
            ],
        );
    }
}
