//! `missing-farewell`: a conversation's closing message without 再见 or another farewell
//! (三要: 「再见」结尾). Runs only when the role is `closing`.

use crate::error::Error;
use crate::lint::matcher::Matcher;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::{BuildContext, Check, Draft, Fix, Hit, Role, Severity};
use crate::text::Span;
use crate::text::clause::is_clause_end;

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "missing-farewell",
        code: "KF103",
        severity: Severity::Warning,
        message: "结束语请以“再见”等告别语结尾",
        message_en: "End the closing message with a farewell",
        what: "a closing message (role `closing`) without 再见/拜拜/祝您生活愉快/欢迎下次光临 or another farewell",
        why: "有始有终的告别让客户感到被尊重，也明确告诉客户这次服务结束了。",
        bad: &["好的，已经为您登记了。", "問題已處理"],
        good: &[
            "好的，已经为您登记了，祝您生活愉快，再见！",
            "感谢您的支持，欢迎下次光临~",
        ],
        instead: "在结束语末尾加上告别：……，祝您生活愉快，再见！",
        whole_message: true,
        words_section: "farewell",
        example_role: Role::Closing,
        example_customer: None,
    },
    build,
};

const FAREWELL: &str = "祝您生活愉快，再见！";

#[derive(Debug)]
struct MissingFarewell {
    farewells: Matcher,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    Ok(Box::new(MissingFarewell {
        farewells: cx.matcher(cx.lexicon(RULE.doc.id).section(RULE.doc.words_section)),
    }))
}

impl Check for MissingFarewell {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        if draft.role != Role::Closing || self.farewells.occurs(draft) {
            return;
        }
        let Some(last) = draft.clauses().clauses.last() else {
            return;
        };
        // The last clause and whatever trails it (punctuation, emoji), so the farewell goes last.
        let span = Span::new(last.span.start, draft.text.trim_end().len());
        let tail = span.slice(draft.text);
        // After an emoji or a quote mark, too, the farewell is a clause of its own (好的😊，…).
        let sep = if tail.ends_with(is_clause_end) {
            ""
        } else {
            "，"
        };
        out.push(Hit {
            span,
            fix: Some(Fix {
                replacement: format!("{tail}{}{}", draft.say(sep), draft.say(FAREWELL)),
                safe: true,
            }),
            suggestions: vec![
                FAREWELL.to_owned(),
                "感谢您的耐心，欢迎下次光临，再见！".to_owned(),
            ],
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{flagged_in, linter};
    use crate::lint::{LintRequest, Role};

    fn closing(text: &str) -> Vec<String> {
        flagged_in("missing-farewell", text, Role::Closing, None)
    }

    #[test]
    fn cases() {
        assert_eq!(closing("好的，已经为您登记了。"), ["已经为您登记了。"]);
        assert_eq!(closing("問題已處理"), ["問題已處理"]);
        assert!(closing("好的，祝您生活愉快，再见！").is_empty(), "has 再见");
        assert!(
            closing("感謝您的支持，再見😊").is_empty(),
            "Traditional 再見"
        );
        assert!(closing("欢迎下次光临~").is_empty(), "another farewell");
        assert!(
            flagged_in(
                "missing-farewell",
                "好的，已经为您登记了。",
                Role::Reply,
                None
            )
            .is_empty(),
            "only for closings"
        );
    }

    #[test]
    fn fix_appends_in_the_writers_script() {
        let lint = |t| {
            linter()
                .lint(&LintRequest {
                    text: t,
                    role: Role::Closing,
                    customer: None,
                    skip_meaning: false,
                })
                .fixed
        };
        assert_eq!(
            lint("已经为您登记了。"),
            "已经为您登记了。祝您生活愉快，再见！"
        );
        assert_eq!(lint("問題已處理"), "問題已處理，祝您生活愉快，再見！");
    }
}
