//! `curt-reply`: a whole reply that is only 嗯/哦/好/行/知道了 — seed 001: don't sound like a cold
//! robot.

use rustc_hash::FxHashSet as HashSet;

use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::{BuildContext, Check, Draft, Hit, Role, Severity};
use crate::text::Span;

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "curt-reply",
        code: "KF304",
        severity: Severity::Warning,
        message: "回复过于简短冷淡，请多说一句让客户安心的话",
        message_en: "Curt reply; add a sentence that reassures the customer",
        what: "a reply that is only 嗯/哦/好/行/知道了/收到 (punctuation and emoji aside)",
        why: "一个字的回复像机器人在敷衍；客户无法确定问题是否被重视、接下来会怎样。",
        bad: &["嗯", "哦。", "知道了", "行吧"],
        good: &[
            "好的，收到，马上为您处理~",
            "嗯嗯，明白了，我这就帮您查一下",
        ],
        instead: "确认 + 下一步：好的，收到，马上为您处理",
        whole_message: true,
        words_section: DEFAULT_SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

const SUGGESTIONS: &[&str] = &[
    "好的，收到，马上为您处理~",
    "明白了，我这就帮您查一下，请稍等",
];

#[derive(Debug)]
struct CurtReply {
    replies: HashSet<String>,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    Ok(Box::new(CurtReply {
        replies: cx
            .lexicon(RULE.doc.id)
            .words(DEFAULT_SECTION)
            .into_iter()
            .collect(),
    }))
}

impl Check for CurtReply {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        let fold = draft.fold();
        // The words alone: no punctuation, white space, emoji or other symbols.
        let words = || fold.chars().filter(|c| c.is_alphanumeric());
        if !(1..=4).contains(&words().take(5).count())
            || !self.replies.contains(&words().collect::<String>())
        {
            return;
        }
        let trimmed = draft.text.trim();
        let start = draft.text.len() - draft.text.trim_start().len();
        let mut hit = Hit::new(Span::new(start, start + trimmed.len()));
        hit.suggestions = SUGGESTIONS.iter().map(|s| (*s).to_owned()).collect();
        out.push(hit);
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "curt-reply",
            &[
                ("嗯", &["嗯"], "one word"),
                ("哦。", &["哦。"], "one word and a full stop"),
                (
                    " 知道了 ",
                    &["知道了"],
                    "surrounding spaces are not part of it",
                ),
                ("行吧😑", &["行吧😑"], "emoji does not soften it"),
                ("OK", &["OK"], "ASCII"),
                ("好的，收到，马上为您处理~", &[], "says what happens next"),
                ("嗯嗯，明白了，我这就帮您查一下", &[], "more than a grunt"),
            ],
        );
    }
}
