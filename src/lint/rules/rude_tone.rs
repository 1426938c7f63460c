//! `rude-tone`: a sentence whose meaning is rude service language, judged by a small model over
//! the sentence's embedding rather than by listed words — the don'ts the other rules' patterns
//! have not met (insults, put-downs, sending the customer away, stonewalling in new wording).
//!
//! The whole story is here and beside it:
//! - `lexicons/rude-tone.jsonl`: the labelled sentences it learns from, our own writing for many
//!   trades (shops, banks, hospitals, delivery, hotels, counters …), `rude` or `polite`;
//! - `scripts/fit-tone`: embeds them (and their Traditional spelling, and the shipped knowledge
//!   base's answers and phrases as polite) with [`features`], fits the model and writes
//!   `lexicons/rude-tone.model.json`, which is compiled in;
//! - the check below: each sentence no other don't-rule flagged is judged, at most
//!   [`MAX_JUDGED`] per draft, each sentence's verdict kept in a bounded cache.
//!
//! It runs only where the meaning model is loaded ([`crate::Linter::with_meaning`]: the CLI's
//! `lint` and `audit` and the service, unless `KEFU_MODEL=off`); `Linter::new` leaves it idle.

use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;
use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::embed::{Encoder, Role as EmbedRole};
use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::{BuildContext, Check, Draft, Hit, Role, Severity};
use crate::text::{Clauses, Span};

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "rude-tone",
        code: "KF306",
        severity: Severity::Warning,
        message: "这句话的意思像服务禁语：请换成商量、说明或致歉的说法",
        message_en: "This sentence reads as rude service language (judged by meaning); rephrase it",
        what: "a sentence whose meaning is rude to the customer (put-downs, insults, sending the customer away, stonewalling) in wording no pattern lists; judged by a small model over the sentence's meaning",
        why: "服务禁语的说法千变万化，列不完；按意思判断，新说法也能发现。它是模型的判断，所以只作提醒（warning），由人决定怎么改。",
        bad: &[
            "这种事也好意思来问",
            "就这条件还挑三拣四",
            "别在这儿浪费我口水",
        ],
        good: &[
            "请问您是第一次在我们店购物吗？",
            "您反映的问题我已经记下来了",
            "好的，马上为您处理",
        ],
        instead: "说明原因和能做的事，用商量的口吻：“您看这样可以吗？”",
        whole_message: false,
        words_section: DEFAULT_SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

/// Sentences judged per draft at most (the first ones no other rule flagged): a draft is a
/// few sentences, and each judgement embeds one (a few milliseconds).
pub const MAX_JUDGED: usize = 8;
/// Sentences longer than this (characters) are not judged: the model learned from sentences an
/// agent writes, and a long passage is a knowledge-base answer, not a remark.
const MAX_SENTENCE_CHARS: usize = 80;
/// Sentences with fewer Chinese characters than this are not judged: a word or two (好的,
/// 再见, 不行) says too little for meaning, and the pattern rules (`curt-reply`,
/// `bare-refusal`, `blunt-language`) judge those.
const MIN_SENTENCE_HAN: usize = 3;
/// Verdicts kept by sentence text; emptied when full.
const CACHE_CAP: usize = 4096;

/// The surface marks the model sees beside the embedding, in the fitted model's order: 您,
/// 请, 谢, apologies, soft particles, 你, negation, question marks, exclamation, go/get-out
/// verbs. Each counts its matches, at most 3; then ln(1 + characters).
const MARKS: &[&str] = &[
    "您",
    "[请請]",
    "[谢謝]",
    "抱歉|对不起|對不起|不好意思",
    "[哦呢呀啦哒噠嘛~～哟喲滴]",
    "你",
    "[不没沒别別无無]",
    "[？?吗嗎]",
    "[！!]",
    "[去滚滾]",
];

fn marks() -> &'static [Regex] {
    static MARK_RES: OnceLock<Vec<Regex>> = OnceLock::new();
    MARK_RES.get_or_init(|| {
        MARKS
            .iter()
            .map(|m| Regex::new(m).expect("rude-tone marks are valid patterns"))
            .collect()
    })
}

/// What the model reads of a sentence: its embedding, then its surface marks.
pub fn features(encoder: &Encoder, sentence: &str) -> Vec<f32> {
    let mut v = encoder.embed(sentence, EmbedRole::Query);
    for re in marks() {
        v.push(re.find_iter(sentence).take(3).count() as f32);
    }
    v.push((1.0 + sentence.chars().count() as f32).ln());
    v
}

/// A one-hidden-layer network over [`features`], standardised; fitted by `scripts/fit-tone`.
#[derive(Debug, Deserialize)]
struct Model {
    /// FNV-1a of the files it was fitted on (`lexicons/rude-tone.jsonl`, `kb.jsonl`,
    /// `phrases.jsonl`), so a test finds a model older than its data.
    #[cfg_attr(not(test), allow(dead_code))]
    inputs: String,
    hidden: usize,
    mean: Vec<f32>,
    scale: Vec<f32>,
    /// Feature-major: `w1[i * hidden + j]` links feature i to hidden unit j.
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: f32,
    /// The probability from which a sentence is flagged.
    threshold: f32,
}

impl Model {
    fn shipped() -> &'static Model {
        static MODEL: OnceLock<Model> = OnceLock::new();
        MODEL.get_or_init(|| {
            let m: Model =
                serde_json::from_str(include_str!("../../../lexicons/rude-tone.model.json"))
                    .expect("lexicons/rude-tone.model.json is the fitted model");
            let n = m.mean.len();
            assert!(
                m.scale.len() == n
                    && m.w1.len() == n * m.hidden
                    && m.b1.len() == m.hidden
                    && m.w2.len() == m.hidden,
                "lexicons/rude-tone.model.json: shapes disagree"
            );
            m
        })
    }

    /// The probability that the sentence with these features is rude.
    fn probability(&self, x: &[f32]) -> f32 {
        let mut h = self.b1.clone();
        for (i, &xi) in x.iter().enumerate().take(self.mean.len()) {
            let z = (xi - self.mean[i]) / self.scale[i];
            if z == 0.0 {
                continue;
            }
            let row = &self.w1[i * self.hidden..(i + 1) * self.hidden];
            for (hj, wj) in h.iter_mut().zip(row) {
                *hj += z * wj;
            }
        }
        let out = self.b2
            + h.iter()
                .zip(&self.w2)
                .map(|(hj, wj)| hj.max(0.0) * wj)
                .sum::<f32>();
        1.0 / (1.0 + (-out).exp())
    }
}

/// The judge: the shared encoder (loaded on first use) and the verdicts so far.
struct Judge {
    encoder: OnceLock<Option<Arc<Encoder>>>,
    verdicts: Mutex<FxHashMap<Box<str>, f32>>,
}

impl Judge {
    fn encoder(&self) -> Option<&Encoder> {
        self.encoder
            .get_or_init(crate::suggest::semantic::encoder)
            .as_deref()
    }

    /// The probability that `sentence` is rude, from the cache or the model.
    fn probability(&self, sentence: &str) -> Option<f32> {
        if let Some(&p) = self.verdicts.lock().ok()?.get(sentence) {
            return Some(p);
        }
        let encoder = self.encoder()?;
        let p = Model::shipped().probability(&features(encoder, sentence));
        if let Ok(mut v) = self.verdicts.lock() {
            if v.len() >= CACHE_CAP {
                v.clear();
            }
            v.insert(sentence.into(), p);
        }
        Some(p)
    }
}

struct RudeTone {
    /// None when the linter was built without meaning.
    judge: Option<Judge>,
}

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    Ok(Box::new(RudeTone {
        judge: cx.meaning.then(|| Judge {
            encoder: OnceLock::new(),
            verdicts: Mutex::new(FxHashMap::default()),
        }),
    }))
}

/// The sentences of `text` as its clauses number them (`crate::text::clause`: split at 。！？.
/// and line breaks, numbered steps kept whole), each from its first clause to the mark that
/// ends it, and only those holding [`MIN_SENTENCE_HAN`] Chinese characters: what the rule
/// judges, and what `scripts/fit-tone` learns from.
pub fn sentences(text: &str, clauses: &Clauses) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut last_sentence = None;
    for c in &clauses.clauses {
        // The clause is trimmed: its mark may stand after spaces (可以  .).
        let end = c
            .end_mark
            .filter(|m| !m.is_whitespace())
            .and_then(|m| {
                let after = &text[c.span.end..];
                let at = after.find(m)?;
                after[..at]
                    .chars()
                    .all(char::is_whitespace)
                    .then(|| c.span.end + at + m.len_utf8())
            })
            .unwrap_or(c.span.end);
        match out.last_mut() {
            Some(s) if last_sentence == Some(c.sentence) => s.end = end,
            _ => out.push(Span::new(c.span.start, end)),
        }
        last_sentence = Some(c.sentence);
    }
    out.retain(|s| s.slice(text).chars().filter(|c| is_han(*c)).count() >= MIN_SENTENCE_HAN);
    out
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

impl Check for RudeTone {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>) {
        self.check_rest(draft, &[], out);
    }

    fn after_others(&self) -> bool {
        true
    }

    fn check_rest(&self, draft: &Draft<'_>, flagged: &[Span], out: &mut Vec<Hit>) {
        let Some(judge) = &self.judge else { return };
        let model = Model::shipped();
        let mut judged = 0;
        for span in sentences(draft.text, draft.clauses()) {
            if judged == MAX_JUDGED {
                break;
            }
            let sentence = span.slice(draft.text);
            if flagged.iter().any(|f| f.overlaps(span))
                || sentence.chars().count() > MAX_SENTENCE_CHARS
                || draft.clauses().is_quoted(span)
            {
                continue;
            }
            judged += 1;
            match judge.probability(sentence) {
                Some(p) if p >= model.threshold => out.push(Hit {
                    span,
                    fix: None,
                    suggestions: vec![
                        "说明原因和能为客户做的事".to_owned(),
                        "用商量的口吻：您看这样可以吗？".to_owned(),
                    ],
                }),
                Some(_) => {}
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{flagged, meaning_linter as linter};
    use crate::lint::{LintRequest, Linter};

    fn judged(draft: &str) -> Vec<String> {
        flagged("rude-tone", draft)
    }

    #[test]
    fn flags_rude_meaning_no_pattern_lists() {
        // Written for this test, in trades and wording the training sentences do not hold.
        for rude in [
            "你连个快递单都填不明白吗",
            "你这点常识都没有还来办业务",
            "就这条件还挑三拣四！",
            "這種事也好意思來問",
        ] {
            assert!(!judged(rude).is_empty(), "not flagged: {rude}");
        }
    }

    #[test]
    fn polite_replies_stay_clean() {
        for polite in [
            "您好，请问有什么可以帮您？",
            "非常抱歉给您带来不便，我们马上为您补发。",
            "请问您的订单号是多少呢？",
            "您的包裹预计明天送达，请注意查收，再见！",
            "感謝您的耐心等待，已經為您處理好了。",
            "不客气，有问题随时找我哦~",
        ] {
            assert!(judged(polite).is_empty(), "flagged: {polite}");
        }
    }

    #[test]
    fn the_span_is_the_sentence_and_flagged_sentences_are_left_to_their_rule() {
        let draft = "您好，已经为您查询。你这点常识都没有还来办业务？";
        let found = judged(draft);
        assert_eq!(found, ["你这点常识都没有还来办业务？"]);
        // A sentence another don't-rule flags is not judged again: one problem, one finding.
        let r = linter().lint(&LintRequest::new("你有病吧"));
        assert!(r.findings.iter().all(|f| f.rule != "rude-tone"), "{r:?}");
    }

    #[test]
    fn sentences_end_at_their_mark_whatever_stands_between() {
        use crate::text::Clauses;
        let text = "1岁喝三豆饮没问题可以\u{a0} .陈姥姥：场外指导😀 退高烧！！\n好的";
        let got: Vec<&str> = super::sentences(text, &Clauses::new(text))
            .iter()
            .map(|s| s.slice(text))
            .collect();
        assert_eq!(
            got,
            [
                "1岁喝三豆饮没问题可以\u{a0} .",
                "陈姥姥：场外指导😀 退高烧！"
            ]
        );
    }

    #[test]
    fn a_linter_without_meaning_leaves_it_idle() {
        let plain = Linter::with_defaults().unwrap();
        let r = plain.lint(&LintRequest::new("你连个快递单都填不明白吗"));
        assert!(r.findings.iter().all(|f| f.rule != "rude-tone"));
    }

    #[test]
    fn the_shipped_model_holds_together_and_is_fitted_on_the_shipped_files() {
        let m = super::Model::shipped();
        assert_eq!(m.mean.len(), 384 + super::MARKS.len() + 1);
        assert!(m.threshold > 0.5 && m.threshold < 1.0);
        let mut bytes = Vec::new();
        for name in ["rude-tone.jsonl", "kb.jsonl", "phrases.jsonl"] {
            let path = format!("{}/lexicons/{name}", env!("CARGO_MANIFEST_DIR"));
            bytes.extend(std::fs::read(path).unwrap());
        }
        assert_eq!(
            m.inputs,
            format!("{:016x}", crate::embed::fnv(&bytes)),
            "lexicons/rude-tone.jsonl, kb.jsonl or phrases.jsonl changed: run scripts/fit-tone"
        );
    }
}
