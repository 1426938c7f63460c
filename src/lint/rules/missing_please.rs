//! `missing-please`: a request to the customer that doesn't lead with 请 or another polite
//! marker (三要: 「请」字当头).

use rustc_hash::FxHashSet as HashSet;

use aho_corasick::AhoCorasick;

use crate::error::Error;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::{BuildContext, Check, Draft, Hit, Role, Severity};
use crate::text::Span;
use crate::text::clause::Clause;

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "missing-please",
        code: "KF101",
        severity: Severity::Warning,
        message: "向客户提出请求时，请以“请”字当头",
        message_en: "Lead a request to the customer with 请",
        what: "a request to the customer (提供/发/稍等/确认/填写/上传/联系…, 把…发过来, or the object first: 订单号发一下) with no 请/麻烦/劳驾/烦请 before it",
        why: "没有“请”的要求听起来像命令；“请”字当头，客户更愿意配合。",
        bad: &[
            "把订单号发过来",
            "稍等一下",
            "您提供一下收货地址",
            "填寫退貨單號",
            "收货地址发我一下",
        ],
        good: &[
            "请把订单号发给我们",
            "麻烦您稍等一下",
            "我们发货后会通知您",
            "如果方便的话提供一下订单号",
            "订单帮您查一下",
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
    /// Clauses holding these as whole words are conditions too: 时 of 付款时, which as a
    /// substring would also skip every clause naming hours (24小时内发货).
    skip_words: HashSet<String>,
    /// Degree adverbs: right after the verb they make it a statement's subject (支付更快捷).
    degree: HashSet<String>,
    /// Words that introduce the object before the verb (把订单号发过来).
    disposal: Vec<String>,
    /// Words after a request verb that make a clause naming its object first a request
    /// (订单号发一下, 地址发我一下), where a bare noun and verb may be a label (订单确认), and
    /// whose 我/我们 name whom the customer acts for; longest first, for taking them off the end
    /// of a clause.
    markers: Vec<String>,
    /// The request verbs a clause naming its object first may end with (发, 提供, 填写…): not
    /// looking or checking, which is more often what we do (订单看一下).
    handover: HashSet<String>,
    /// The markers' last characters: most clauses end with none of them.
    marker_ends: HashSet<char>,
    /// First characters of the verbs and disposal words: a clause whose core starts with none of
    /// them, and ends with no marker, is no request, and needs no segmentation.
    starts: HashSet<char>,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    let lex = cx.lexicon(RULE.doc.id);
    let verbs: HashSet<String> = lex.words("verb").into_iter().collect();
    let disposal = lex.words("disposal");
    let mut markers = lex.words("marker");
    markers.sort_by_key(|m| std::cmp::Reverse(m.len()));
    let starts = verbs
        .iter()
        .chain(&disposal)
        .filter_map(|w| w.chars().next())
        .collect();
    Ok(Box::new(MissingPlease {
        verbs,
        starts,
        skip: AhoCorasick::new(lex.words("skip")).map_err(|e| Error::Lexicon(e.to_string()))?,
        skip_words: lex.words("skip-word").into_iter().collect(),
        degree: lex.words("degree").into_iter().collect(),
        disposal,
        handover: lex.words("handover").into_iter().collect(),
        marker_ends: markers
            .iter()
            .filter_map(|m| m.chars().next_back())
            .collect(),
        markers,
    }))
}

impl MissingPlease {
    /// The length of `text` without the request markers that end it (发我一下 → 发).
    fn without_markers(&self, mut text: &str) -> usize {
        while text
            .chars()
            .next_back()
            .is_some_and(|c| self.marker_ends.contains(&c))
        {
            let Some(m) = self
                .markers
                .iter()
                .find(|m| text.ends_with(m.as_str()) && m.len() < text.len())
            else {
                break;
            };
            text = &text[..text.len() - m.len()];
        }
        text.len()
    }

    /// Where the verb starts in a clause, its ending markers left out, that names its object
    /// first and then asks for it (订单号发, of 订单号发一下): a handover verb ends it, and what
    /// comes before is one noun (订单号, 收货地址), which jieba's dictionary tags as such.
    fn object_first(&self, text: &str) -> Option<usize> {
        // The longest verb of up to four characters: 告诉 rather than 诉.
        let at = text
            .char_indices()
            .rev()
            .take(4)
            .map(|(i, _)| i)
            .filter(|&i| i > 0 && self.handover.contains(&text[i..]))
            .last()?;
        is_noun(&text[..at]).then_some(at)
    }

    /// Flags `clause` if it is a request to the customer with no polite marker before it in
    /// its sentence.
    fn check_clause(&self, draft: &Draft<'_>, clause: &Clause, out: &mut Vec<Hit>) {
        let fold = draft.fold();
        let ctext = clause.span.slice(fold);
        let core = draft.core(clause.span);
        let core_text = core.slice(fold);
        let verb_first = core_text
            .chars()
            .next()
            .is_some_and(|c| self.starts.contains(&c));
        // Who acts: 我 or 我们 anywhere in a clause make it what we do (我们确认一下, 通知我们的
        // 仓库), except as the markers ending it, which name whom the customer does it for
        // (发给我们, 稍等我一下, 拍个视频给我). A clause about us needs no segmenting.
        let unmarked = self.without_markers(core_text);
        let marked = unmarked < core_text.len();
        // The object first, with nothing before it (订单号发一下; not 这个问题确认一下,
        // which may be what we do): 请 goes with 把 before it.
        let object_first = (marked
            && !fold[clause.span.start..core.start]
                .chars()
                .any(char::is_alphanumeric))
        .then(|| {
            self.object_first(&core_text[..unmarked]).or_else(|| {
                // 给 of the marker 给我 is the verb itself (订单号给我).
                (core_text[unmarked..].starts_with('给') && is_noun(&core_text[..unmarked]))
                    .then_some(unmarked)
            })
        })
        .flatten();
        if !(verb_first || object_first.is_some())
            || draft.is_ours(Span::new(clause.span.start, core.start + unmarked))
            || self.skip.is_match(ctext)
            // A bare verb before a colon is a heading (注意：此步骤将删除…).
            || matches!(clause.end_mark, Some('：' | ':')) && self.verbs.contains(core_text)
            || draft.polite_before(clause)
        {
            return;
        }
        // 请 goes before the request: with 把 before an object named first.
        let ask = |span: Span, please: &str| {
            Hit::safe_fix(
                span,
                format!("{}{}", draft.say(please), span.slice(draft.text)),
            )
        };
        if object_first.is_some() {
            out.push(ask(core, "请把"));
            return;
        }
        let words: Vec<(Span, &str)> = draft
            .words_in(clause.span)
            .iter()
            .map(|w| (w.span, w.span.slice(fold)))
            .skip_while(|(_, w)| {
                draft.common.lead.contains(*w)
                    || *w == "你"
                    || !w.chars().any(char::is_alphanumeric)
            })
            .filter(|(s, _)| s.end <= core.end)
            .collect();
        let Some(&(first, word)) = words.first() else {
            return;
        };
        if words.iter().any(|(_, w)| self.skip_words.contains(*w)) {
            return;
        }
        let verb = if self.verbs.contains(word) {
            first
        } else if let Some(&(next, _)) = words
            .get(1)
            .filter(|(next, _)| self.verbs.contains(&fold[first.start..next.end]))
        {
            // A verb jieba cuts in two (等 + 一下 of 等一下) is one verb of the list.
            Span::new(first.start, next.end)
        } else if self.disposal.iter().any(|d| d == word) {
            let Some(&(verb, _)) = words.iter().find(|(_, w)| self.verbs.contains(*w)) else {
                return;
            };
            verb
        } else {
            return;
        };
        // 退不了, 发不出去: a verb negated after it says what can't be done, not what to do.
        if fold[verb.end..].starts_with(['不', '没']) {
            return;
        }
        // 支付更快捷, 付款很方便: a verb, a degree adverb and the one word the clause ends with
        // say what the verb is like (but 填写更详细的地址 asks for something).
        let mut after = words.iter().skip_while(|(s, _)| s.start < verb.end);
        if let (Some((_, adverb)), Some(_), None) = (after.next(), after.next(), after.next())
            && self.degree.contains(*adverb)
        {
            return;
        }
        out.push(ask(Span::new(clause.span.start, verb.end), "请"));
    }
}

/// Whether `object` is one noun of jieba's dictionary (订单号, 收货地址).
fn is_noun(object: &str) -> bool {
    // A dictionary lookup first: tagging costs more, and most clauses fail the lookup.
    crate::text::segment::jieba().has_word(object) && crate::text::segment::pos(object) == 'n'
}

impl Check for MissingPlease {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        // One 请 serves its whole sentence (`polite_before`): once a request in a sentence is
        // flagged, the 请 its fix puts there covers the requests after it (填写退货单号，上传照片
        // is flagged once, as 请填写退货单号，上传照片 is not at all).
        let mut flagged_sentence = None;
        for clause in &draft.clauses().clauses {
            if flagged_sentence == Some(clause.sentence) {
                continue;
            }
            let before = out.len();
            self.check_clause(draft, clause, out);
            if out.len() > before {
                flagged_sentence = Some(clause.sentence);
            }
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
                (
                    "填写退货单号，上传商品照片",
                    &["填写"],
                    "requests of one sentence: flagged once, where one 请 covers them all",
                ),
                (
                    "提供一下訂單號😊，稍等一下",
                    &["提供"],
                    "one sentence, Traditional, with an emoji",
                ),
                (
                    "您可以打开App，点击我的订单，选择申请退款",
                    &[],
                    "steps of a way the customer can take",
                ),
                (
                    "您可登錄官網，填寫退貨單號",
                    &[],
                    "what the customer can do, Traditional",
                ),
                (
                    "1、填写退货单号。2、上传商品照片。3、提供一下订单号",
                    &["填写"],
                    "numbered steps are one instruction: flagged once",
                ),
                (
                    "请按以下步骤操作：1.填写退货单号 2.上传商品照片😊",
                    &[],
                    "one 请 before the steps asks for all",
                ),
                (
                    "注意：此操作会删除您的地址",
                    &[],
                    "a heading before a colon",
                ),
                ("注意查收哦😊", &["注意"], "注意 asking the customer"),
                (
                    "把订单号发过来。稍等一下",
                    &["把订单号发过来", "稍等"],
                    "two sentences, two requests",
                ),
                ("我们发货后会通知您", &[], "a statement about us"),
                (
                    "如果方便的话提供一下订单号",
                    &[],
                    "a condition, politely put",
                ),
                ("发货后会通知您", &[], "发货 is not the request verb 发"),
                (
                    "付款时，手机不要息屏",
                    &[],
                    "a time clause: when the customer pays",
                ),
                ("簽收時當面檢查包裹😊", &[], "a time clause, Traditional"),
                ("支付更快捷，也更安全", &[], "the verb as the subject"),
                ("付款很方便😊", &[], "the verb as the subject"),
                (
                    "添加银联卡则无法开启家庭共享",
                    &[],
                    "a condition without 如果",
                ),
                ("填写更详细的地址", &["填写"], "更 before what is asked for"),
                ("提供更多信息", &["提供"], "更 before what is asked for"),
                ("退不了", &[], "what can't be done"),
                ("發不出去😢", &[], "what can't be done, Traditional"),
                (
                    "提供一下24小时内的付款截图",
                    &["提供"],
                    "时 inside 小时 is no time clause",
                ),
                ("订单号发一下", &["订单号发一下"], "the object first"),
                ("订单号给我", &["订单号给我"], "给 of 给我 is the verb"),
                ("發票給我們😊", &["發票給我們"], "给 of 给我们, Traditional"),
                ("赠品给您", &[], "what we give"),
                (
                    "订单号发一下😊",
                    &["订单号发一下"],
                    "object first, emoji after",
                ),
                (
                    "亲，收货地址发我一下哈",
                    &["收货地址发我一下"],
                    "object first, with 我",
                ),
                (
                    "照片上傳一下",
                    &["照片上傳一下"],
                    "object first, Traditional",
                ),
                ("订单号告诉我", &["订单号告诉我"], "object first, 告诉我"),
                ("订单帮您查一下", &[], "we look it up for the customer"),
                ("这个问题确认一下", &[], "no noun first: could be ours"),
                ("稍后发一下", &[], "an adverb, not an object"),
                ("订单确认", &[], "a label, no request marker"),
                ("订单看一下", &[], "more often what we are about to do"),
                ("物流核实一下", &[], "checking is ours"),
                (
                    "颜色选一下哦",
                    &["颜色选一下"],
                    "choosing is the customer's",
                ),
                (
                    "订单号发一下就可以了",
                    &[],
                    "a condition: more follows the request",
                ),
                ("麻烦订单号发一下", &[], "polite already"),
                (
                    "把订单号发给我们",
                    &["把订单号发给"],
                    "us after the verb: still a request",
                ),
                ("如有疑问，联系我们", &["联系"], "us alone after the verb"),
                ("我们确认一下", &[], "us before the verb: what we do"),
                ("我这边核实一下", &[], "what I do"),
                ("稍等我一下", &["稍等"], "me after the verb"),
                ("等一下", &["等一下"], "a verb jieba cuts in two"),
                ("您等一下哈", &["您等一下"], "cut in two, after 您"),
                ("我们等一下再处理", &[], "what we do"),
                ("等下次活动再买更划算", &[], "等 of 等下次 is no request"),
                ("拍个视频给我", &["拍"], "me ending the clause"),
                ("留个电话给我们", &["留"], "us ending the clause"),
                ("记得五星好评哦", &["记得"], "a reminder is a request too"),
                ("我记得您上次买过", &[], "what I remember"),
                ("通知我们的仓库尽快发货", &[], "may be what we do"),
                ("看我们这边能不能帮您申请", &[], "what we look into"),
            ],
        );
    }

    #[test]
    fn fix_inserts_please_in_the_writers_script() {
        let r = linter().lint(&LintRequest::new("您好，填寫退貨單號"));
        assert_eq!(r.fixed, "您好，請填寫退貨單號");
        let r = linter().lint(&LintRequest::new("把订单号发过来"));
        assert_eq!(r.fixed, "请把订单号发过来");
        let r = linter().lint(&LintRequest::new("亲，订单号发一下"));
        assert_eq!(r.fixed, "亲，请把订单号发一下");
        let r = linter().lint(&LintRequest::new("訂單號發一下"));
        assert_eq!(r.fixed, "請把訂單號發一下");
    }
}
