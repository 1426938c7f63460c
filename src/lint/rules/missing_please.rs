//! `missing-please`: a request to the customer that doesn't lead with 请 or another polite
//! marker (三要: 「请」字当头).

use std::collections::HashSet;

use aho_corasick::AhoCorasick;

use crate::error::Error;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::{BuildContext, Check, Draft, Fix, Hit, Role, Severity};
use crate::text::Span;

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "missing-please",
        code: "KF101",
        severity: Severity::Warning,
        message: "向客户提出请求时，请以“请”字当头",
        message_en: "Lead a request to the customer with 请",
        what: "a request to the customer (提供/发/稍等/确认/填写/上传/联系…, or 把…发过来) with no 请/麻烦/劳驾/烦请 before it",
        why: "没有“请”的要求听起来像命令；“请”字当头，客户更愿意配合。",
        bad: &[
            "把订单号发过来",
            "稍等一下",
            "您提供一下收货地址",
            "填寫退貨單號",
        ],
        good: &[
            "请把订单号发给我们",
            "麻烦您稍等一下",
            "我们发货后会通知您",
            "如果方便的话提供一下订单号",
        ],
        instead: "在请求前加“请”或“麻烦您”：请您提供一下收货地址",
        whole_message: false,
        words_section: "verb",
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

#[derive(Debug)]
struct MissingPlease {
    verbs: HashSet<String>,
    /// Clauses holding these are conditions or statements, not requests (如果, 后…).
    skip: AhoCorasick,
    /// Words that introduce the object before the verb (把订单号发过来).
    disposal: Vec<String>,
    /// First characters of the verbs and disposal words: a clause whose core starts with none of
    /// them is no request, and needs no segmentation.
    starts: HashSet<char>,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    let lex = cx.lexicon(RULE.doc.id);
    let verbs: HashSet<String> = lex.words("verb").into_iter().collect();
    let disposal = lex.words("disposal");
    let starts = verbs
        .iter()
        .chain(&disposal)
        .filter_map(|w| w.chars().next())
        .collect();
    Ok(Box::new(MissingPlease {
        verbs,
        starts,
        skip: AhoCorasick::new(lex.words("skip")).map_err(|e| Error::Lexicon(e.to_string()))?,
        disposal,
    }))
}

impl Check for MissingPlease {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        let fold = draft.fold();
        for clause in &draft.clauses().clauses {
            let ctext = clause.span.slice(fold);
            let core = draft.core(clause.span);
            if !fold[core.start..]
                .chars()
                .next()
                .is_some_and(|c| self.starts.contains(&c))
                || draft.is_ours(clause.span)
                || self.skip.is_match(ctext)
                || draft.polite_before(clause)
            {
                continue;
            }
            let words = draft.words_in(clause.span);
            let mut words = words
                .iter()
                .map(|w| (w.span, w.span.slice(fold)))
                .skip_while(|(_, w)| {
                    draft.common.lead.contains(*w)
                        || *w == "你"
                        || !w.chars().any(char::is_alphanumeric)
                });
            let Some((first, word)) = words.next() else {
                continue;
            };
            let verb_end = if self.verbs.contains(word) {
                Some(first.end)
            } else if self.disposal.iter().any(|d| d == word) {
                words
                    .find(|(_, w)| self.verbs.contains(*w))
                    .map(|(s, _)| s.end)
            } else {
                None
            };
            let Some(end) = verb_end else { continue };
            let span = Span::new(clause.span.start, end);
            out.push(Hit {
                span,
                fix: Some(Fix {
                    replacement: format!("{}{}", draft.say("请"), span.slice(draft.text)),
                    safe: true,
                }),
                suggestions: Vec::new(),
            });
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
            "missing-please",
            &[
                ("把订单号发过来", &["把订单号发过来"], "disposal request"),
                ("亲，稍等一下", &["稍等"], "request after a greeting word"),
                (
                    "您提供一下收货地址",
                    &["您提供"],
                    "request with 您 but no 请",
                ),
                ("填寫退貨單號", &["填寫"], "Traditional"),
                ("请把订单号发给我们", &[], "has 请"),
                ("麻烦您稍等一下", &[], "has 麻烦"),
                ("请您先确认一下，然后拍下", &[], "请 covers the sentence"),
                ("我们发货后会通知您", &[], "a statement about us"),
                (
                    "如果方便的话提供一下订单号",
                    &[],
                    "a condition, politely put",
                ),
                ("发货后会通知您", &[], "发货 is not the request verb 发"),
            ],
        );
    }

    #[test]
    fn fix_inserts_please_in_the_writers_script() {
        let r = linter().lint(&LintRequest::new("您好，填寫退貨單號"));
        assert_eq!(r.fixed, "您好，請填寫退貨單號");
        let r = linter().lint(&LintRequest::new("把订单号发过来"));
        assert_eq!(r.fixed, "请把订单号发过来");
    }
}
