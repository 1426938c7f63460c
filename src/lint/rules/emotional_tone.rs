//! `emotional-tone`: words and punctuation that show the agent's mood (呵呵/无语/晕/烦死了,
//! ！！！/？？？) — seed 003: no 带有情绪色彩的词.

use regex::Regex;

use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::rules::LexiconCheck;
use crate::lint::{BuildContext, Check, Draft, Hit, Role, Severity};
use crate::text::Span;

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "emotional-tone",
        code: "KF303",
        severity: Severity::Warning,
        message: "带有情绪色彩：请保持平和、专业的语气",
        message_en: "Emotional wording; keep a calm, professional tone",
        what: "mood words and shouting: 呵呵/无语/晕/烦死了/服了, runs of ！！！ or ？？？",
        why: "客服的情绪会直接传给客户；不耐烦的语气词和连串感叹号、问号，让客户觉得被嫌弃。",
        bad: &[
            "呵呵，您自己看吧",
            "无语了",
            "已经发货了！！！",
            "什么？？？",
        ],
        good: &[
            "好的，已经为您发货了！",
            "谢谢您的耐心~",
            "这款头晕的客户也能用吗？我帮您问一下",
        ],
        instead: "去掉语气词，一个句子最多一个感叹号或问号",
        whole_message: false,
        words_section: DEFAULT_SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

#[derive(Debug)]
struct EmotionalTone {
    words: LexiconCheck,
    /// Two or more ! or ? in a row.
    shouting: Regex,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    Ok(Box::new(EmotionalTone {
        words: LexiconCheck::new(cx, RULE.doc.id, &["（去掉这个词）"])?,
        shouting: Regex::new("[!?！？]{2,}").map_err(|e| Error::Lexicon(e.to_string()))?,
    }))
}

impl Check for EmotionalTone {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        self.words.run(draft, out);
        for m in self.shouting.find_iter(draft.text) {
            // Keep one mark, in the writer's width: a question stays a question.
            let first = m.as_str().chars().next().unwrap_or('！');
            let one = match first {
                '?' => "?",
                '？' => "？",
                '!' => "!",
                _ => "！",
            };
            out.push(Hit::safe_fix(Span::new(m.start(), m.end()), one.to_owned()));
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
            "emotional-tone",
            &[
                ("呵呵，您自己看吧", &["呵呵"], "mood word"),
                ("无语了", &["无语了"], "mood word"),
                ("已经发货了！！！", &["！！！"], "shouting"),
                ("什么???", &["???"], "half-width"),
                ("我暈", &["我暈"], "Traditional"),
                (
                    "这款头晕的客户也能用",
                    &[],
                    "晕 inside 头晕 is not a mood word",
                ),
                (
                    "好的，已经为您发货了！",
                    &[],
                    "one exclamation mark is fine",
                ),
                ("一切正常，切换一下就好", &[], "切 inside words"),
            ],
        );
    }

    #[test]
    fn shouting_is_cut_to_one_mark() {
        assert_eq!(
            linter().lint(&LintRequest::new("已经发货了！！！")).fixed,
            "已经发货了！"
        );
        assert_eq!(
            linter().lint(&LintRequest::new("真的吗？？")).fixed,
            "真的吗？"
        );
    }
}
