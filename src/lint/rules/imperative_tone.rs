//! `imperative-tone`: orders at the customer (你必须/赶紧/快点/等着/不准…, and bare verb-first
//! commands ending in ！) — seed 003: 避免用命令式.

use rustc_hash::FxHashSet as HashSet;

use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::rules::LexiconCheck;
use crate::lint::{BuildContext, Check, Draft, Hit, Role, Severity};

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "imperative-tone",
        code: "KF301",
        severity: Severity::Warning,
        message: "命令语气：请用商量、建议的口吻",
        message_en: "Imperative tone; suggest rather than order",
        what: "orders at the customer: 你必须/赶紧/快点/等着/不准/给我…, do-it-yourself (自己拿/你自己数清楚), sent to a spot (后面排队去), manners ordered (小声点), and bare verb-first commands ending in ！",
        why: "客户是来咨询的，不是来接任务的；命令式的句子让客户觉得被指使，极易引起反感。",
        bad: &[
            "你必须先付款",
            "赶紧确认收货",
            "等着吧",
            "记住了！",
            "自己拿",
            "后面排队去",
        ],
        good: &[
            "麻烦您先付款，我们马上安排发货",
            "我们马上为您处理",
            "请您耐心等待，有消息第一时间通知您",
        ],
        instead: "改成建议或请求：麻烦您……/ 建议您……/ 您可以……",
        whole_message: false,
        words_section: DEFAULT_SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

const SUGGESTIONS: &[&str] = &["麻烦您……", "建议您……", "您可以……"];

#[derive(Debug)]
struct ImperativeTone {
    words: LexiconCheck,
    /// Request verbs `missing-please` already covers; a bare command with one of them is its case.
    request_verbs: HashSet<String>,
    /// Verbs of courtesy (欢迎, 感谢…) that lead greetings, not commands.
    courtesy: HashSet<String>,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    Ok(Box::new(ImperativeTone {
        words: LexiconCheck::new(cx, RULE.doc.id, SUGGESTIONS)?,
        request_verbs: cx
            .lexicon("missing-please")
            .words("verb")
            .into_iter()
            .collect(),
        courtesy: cx
            .lexicon(RULE.doc.id)
            .words("courtesy")
            .into_iter()
            .collect(),
    }))
}

impl Check for ImperativeTone {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        let before = out.len();
        self.words.run(draft, out);
        let fold = draft.fold();
        for clause in &draft.clauses().clauses {
            if !matches!(clause.end_mark, Some('！' | '!'))
                || out[before..].iter().any(|h| clause.span.overlaps(h.span))
                || draft.is_ours(clause.span)
                || draft.polite_before(clause)
            {
                continue;
            }
            let core = draft.core(clause.span);
            let courteous = |at: usize| {
                self.courtesy
                    .iter()
                    .any(|w| fold[at..].starts_with(w.as_str()))
            };
            if courteous(clause.span.start) || courteous(core.start) {
                continue;
            }
            let Some(first) = draft.words_in(core).first().copied() else {
                continue;
            };
            let word = first.span.slice(fold);
            if first.span.start == core.start
                && !self.request_verbs.contains(word)
                && !self.courtesy.contains(word)
                && crate::text::segment::pos(word) == 'v'
            {
                let mut hit = Hit::new(clause.span);
                hit.suggestions = SUGGESTIONS.iter().map(|s| (*s).to_owned()).collect();
                out.push(hit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "imperative-tone",
            &[
                ("你必须先付款", &["你必须"], "必须 at the customer"),
                ("赶紧确认收货", &["赶紧"], "hurrying the customer"),
                ("等着吧", &["等着吧"], "dismissive order"),
                ("记住了！", &["记住了"], "bare verb-first command"),
                ("趕緊確認收貨", &["趕緊"], "Traditional"),
                ("我们马上为您处理", &[], "马上 about what we do"),
                ("我们会赶紧帮您催一下快递", &[], "赶紧 about what we do"),
                ("请您耐心等待，有消息第一时间通知您", &[], "polite request"),
                ("请不要着急", &[], "negated, with 请"),
                ("谢谢您！", &[], "thanks, not a command"),
                (
                    "感谢您的支持，欢迎下次光临！",
                    &[],
                    "a welcome, not a command",
                ),
                ("祝您购物愉快，再见！", &[], "a farewell, not a command"),
                (
                    "您可以在订单页查看物流！",
                    &[],
                    "what the customer can do, not a command",
                ),
                ("您可通過官方App查詢！", &[], "a modal verb, Traditional"),
                ("尺码表供您参考哦！", &[], "an offer"),
                ("供您参考！😊", &[], "an offer, leading"),
                ("可以联系快递！", &[], "a modal verb, no subject"),
                ("去查物流！", &["去查物流"], "still a bare command"),
                (
                    "退货商品必须保持吊牌完好",
                    &[],
                    "a rule about the goods, not an order",
                ),
                (
                    "持卡人不得將卡片轉借他人",
                    &[],
                    "a rule about someone, Traditional",
                ),
                (
                    "如需使用iPhone必须先登录",
                    &[],
                    "a Latin name as the subject",
                ),
                ("您必须先付款", &["您必须"], "an order at the customer"),
                ("必须先付款😤", &["必须"], "an order with no subject"),
                ("收货时必须当面验货", &["必须"], "时 is no subject"),
            ],
        );
    }

    /// Each kind of order, in every form a writer may give it.
    #[test]
    fn kinds() {
        use crate::lint::rules::testing::caught_in_every_form;
        caught_in_every_form(&[
            "自己拿",
            "你自己数清楚",
            "后面排队去",
            "小声点",
            "能不能快点",
            "你到底办不办",
        ]);
    }
}
