//! How a conversation ended for the customer: resolved or acknowledged, still unresolved,
//! escalated, never answered; the customer's mood at the start and at the end; asking again.
//! Read from the customer's own words by word class (`lexicons/outcome.txt`), emoji, Weibo-style
//! `[表情]` codes and the shape of the dialogue, and combined into a 0–100 outcome score by a
//! linear model fitted on conversations rated by people (`scripts/fit-outcome`).

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::Evidence;
use super::model::{Conversation, Speaker};
use crate::lexicon::{classes, fold_entry};
use crate::lint::Severity;
use crate::text::Span;
use crate::text::bigram::{jaccard, letter_bigrams};

/// The shipped word classes of the outcome checks.
pub const FILE: &str = include_str!("../../lexicons/outcome.txt");

/// One outcome check: its id (the `rule` of its evidence) and its documentation.
#[derive(Debug, Clone, Copy)]
pub struct CheckDoc {
    pub id: &'static str,
    pub severity: Severity,
    /// One line, Chinese: what the evidence says.
    pub message: &'static str,
    pub what: &'static str,
    pub why: &'static str,
    /// Customer (or, for `outcome-deflected`, agent) lines it fires on.
    pub fires: &'static [&'static str],
    /// Lines it leaves alone.
    pub quiet: &'static [&'static str],
}

/// Every outcome check, in the order `kefu rules` lists them.
pub const CHECKS: &[CheckDoc] = &[
    CheckDoc {
        id: "outcome-no-reply",
        severity: Severity::Error,
        message: "客户的消息没有得到任何回复",
        what: "the customer wrote and no agent turn (with text) answered at all",
        why: "没人回复是最差的结果：客户的问题一点都没有处理。",
        fires: &["在吗？怎么没人回复"],
        quiet: &[],
    },
    CheckDoc {
        id: "outcome-resolved",
        severity: Severity::Info,
        message: "客户确认问题已解决或收到答复",
        what: "the customer's last reply (after an agent answered) says it works or takes the answer in: 解决了, 可以了, 到账了, 好的, 收到, 明白了 (not after a negation: 还没解决)",
        why: "客户亲口确认是问题解决最可靠的信号。",
        fires: &["重试了一下，成功了", "好的，收到", "退款已到賬"],
        quiet: &["还没解决", "好了吗？"],
    },
    CheckDoc {
        id: "outcome-thanks",
        severity: Severity::Info,
        message: "客户致谢或称赞",
        what: "thanks or praise in the customer's last reply: 谢谢, 辛苦了, 满意, 给力, 👍, [赞] (not 不满意)",
        why: "以感谢结束的对话，客户的满意度最高。",
        fires: &["谢谢啦👍", "客服很耐心[赞]", "感謝！"],
        quiet: &["不满意", "谢谢你们的敷衍"],
    },
    CheckDoc {
        id: "outcome-unresolved",
        severity: Severity::Warning,
        message: "客户说问题仍未解决",
        what: "the customer's last reply says the problem is still there: 还没, 怎么还, 仍然, 一直, 没人回复, 不行, 等了…",
        why: "问题没有解决，客户还会再来，也更可能投诉。",
        fires: &["怎么还没到", "还是不行", "已经等了一下午了，仍然没人联系"],
        quiet: &["已经到了，谢谢"],
    },
    CheckDoc {
        id: "outcome-open-question",
        severity: Severity::Warning,
        message: "客户最后的问题没有得到回复",
        what: "the conversation ends on a customer question (？, 吗, 呢…) that came after an agent reply and got none",
        why: "客户带着疑问离开，问题没有被回答。",
        fires: &["那我什么时候能收到？"],
        quiet: &["好的，谢谢"],
    },
    CheckDoc {
        id: "outcome-escalation",
        severity: Severity::Error,
        message: "客户要投诉、差评或找第三方",
        what: "any customer turn threatens to take it further: 投诉, 差评, 曝光, 12315, 消协, 工信部, 律师, 起诉, 举报, 转网, 再也不…",
        why: "升级投诉是质检首先要看的对话：处理不好会带来差评、罚款和舆情。",
        fires: &["再不处理我就打12315", "我要给差评", "已經向消協投訴了"],
        quiet: &["电话是13151234567"],
    },
    CheckDoc {
        id: "outcome-repeated",
        severity: Severity::Warning,
        message: "客户重复提问或说不是第一次了",
        what: "a customer reply says this is not the first time (第几次, 好几次, 说过了, 又是, 反复…) or repeats an earlier customer turn almost word for word",
        why: "重复询问说明前面的回复没有解决问题，客户在反复联系。",
        fires: &["这已经是第几次了", "我都说过了"],
        quiet: &["第一次用，请问怎么设置"],
    },
    CheckDoc {
        id: "outcome-negative-end",
        severity: Severity::Warning,
        message: "客户最后的情绪是负面的",
        what: "the customer's last reply is negative: complaint and abuse words (失望, 敷衍, 垃圾, 无耻…), arguing questions (难道, 凭什么, 有什么用), negative emoji and [表情] codes, ！！/？？",
        why: "客户带着不满离开，满意度最低，也最可能流失。",
        fires: &["你们这样有什么用？", "太失望了😡", "敷衍[怒]"],
        quiet: &["好的，谢谢"],
    },
    CheckDoc {
        id: "outcome-negative-start",
        severity: Severity::Info,
        message: "客户一开始就带着情绪",
        what: "the customer's first message is negative (same word classes as outcome-negative-end)",
        why: "带着情绪来的客户更难满意：这是背景，不是客服的错，但说明这场对话需要更多安抚。",
        fires: &["什么破网，一直断！！"],
        quiet: &["请问怎么开发票"],
    },
    CheckDoc {
        id: "outcome-deflected",
        severity: Severity::Info,
        message: "客服最后的回复是转交或请客户等待，没有给出解决办法",
        what: "the agent's last reply hands the problem on: 私信, 已反馈, 已记录, 核实, 转交, 耐心等待, 不断完善…",
        why: "转交和等待不是解决：客户的问题还悬着。",
        fires: &["您的问题已反馈，请耐心等待"],
        quiet: &["已经为您退款，24小时内到账"],
    },
];

/// Finds a check's documentation by id.
pub fn find(id: &str) -> Option<&'static CheckDoc> {
    CHECKS.iter().find(|c| c.id == id)
}

/// The customer's mood in a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Negative,
    Neutral,
    Positive,
}

/// How the conversation ended, one word for roll-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The customer was never answered.
    NoReply,
    /// The customer threatened to complain and did not end content.
    Escalated,
    /// The customer says the problem is still there, asks again unanswered, or ends upset.
    Unresolved,
    /// Nothing says either way (often: the agent handed the problem on).
    Open,
    /// The customer thanked or confirmed.
    Acknowledged,
    /// The customer says the problem is solved.
    Resolved,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NoReply => "no-reply",
            Self::Escalated => "escalated",
            Self::Unresolved => "unresolved",
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    /// The label a Chinese QA team reads.
    pub const fn label(self) -> &'static str {
        match self {
            Self::NoReply => "未回复",
            Self::Escalated => "升级投诉",
            Self::Unresolved => "未解决",
            Self::Open => "未见结果",
            Self::Acknowledged => "客户认可",
            Self::Resolved => "已解决",
        }
    }
}

/// The model's inputs, each from one reading of the conversation. `end_*`, `resolved`,
/// `unresolved` and `explaining` read the customer's last reply to an agent (0 when the customer
/// never replied to one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Features {
    /// Positive words, emoji and codes in the last reply (0–2).
    pub end_positive: f32,
    /// Negative ones in the last reply (0–3).
    pub end_negative: f32,
    /// Negative ones in the customer's first message (0–3).
    pub start_negative: f32,
    /// The last reply says solved or confirms (0/1).
    pub resolved: f32,
    /// The last reply says still not solved (0/1).
    pub unresolved: f32,
    /// A customer turn threatens escalation (0/1).
    pub escalation: f32,
    /// The customer asks again (0/1).
    pub repeated: f32,
    /// The conversation ends on the customer's unanswered question (0/1).
    pub open_question: f32,
    /// Hand-on words in the agent's last reply (0–3).
    pub deflected: f32,
    /// Length of the last reply, in units of 140 characters (0–1): a customer still explaining.
    pub explaining: f32,
}

/// The weights of the outcome model, in the order of [`Features`], then the intercept. Fitted
/// by least squares to people's mean satisfaction rating (−2…2) of real helpdesk conversations
/// (`scripts/fit-outcome`; see BENCHMARKS.md) and rounded. The score is `50 + 25 × (b + w·x)`,
/// so a point of rating is 25 points of score.
const MODEL: [f32; 11] = [
    0.52, -0.13, -0.09, 0.50, -0.06, -0.20, -0.01, -0.30, -0.13, -0.65, 0.06,
];

/// A conversation's outcome: the score, the one-word status, the mood at either end, and the
/// evidence for each signal.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// 0–100: 50 is a neutral ending; near 100 the customer thanked and confirmed, near 0 they
    /// were never answered or left angry.
    pub score: f32,
    pub status: Status,
    pub sentiment_start: Sentiment,
    pub sentiment_end: Sentiment,
    pub escalation: bool,
    pub repeated: bool,
    /// Why it needs (or needs no) review, in one line.
    pub reason: String,
    pub features: Features,
    pub evidence: Vec<Evidence>,
}

struct Lexicon {
    thanks: Regex,
    confirm: Regex,
    resolved: Regex,
    praise: Regex,
    negator: Regex,
    complaint: Regex,
    abuse: Regex,
    rhetorical: Regex,
    still_not: Regex,
    escalation: Regex,
    repeat: Regex,
    deferral: Regex,
    positive_emoji: Regex,
    negative_emoji: Regex,
    positive_code: Regex,
    negative_code: Regex,
    mention: Regex,
    code: Regex,
    pile_up: Regex,
    question_end: Regex,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let classes = classes::parse(FILE);
    let class = |name: &str| {
        let alt = classes
            .get(name)
            .unwrap_or_else(|| panic!("lexicons/outcome.txt has no [{name}]"));
        Regex::new(alt).expect("an alternation of escaped words")
    };
    let code = |name: &str| {
        Regex::new(&format!(r"^\[{}\]$", classes[name])).expect("an alternation of escaped words")
    };
    Lexicon {
        thanks: class("thanks"),
        confirm: class("confirm"),
        resolved: class("resolved"),
        praise: class("praise"),
        negator: class("negator"),
        complaint: class("complaint"),
        abuse: class("abuse"),
        rhetorical: class("rhetorical"),
        still_not: class("still-not"),
        escalation: class("escalation"),
        repeat: class("repeat"),
        deferral: class("deferral"),
        positive_emoji: class("positive-emoji"),
        negative_emoji: class("negative-emoji"),
        positive_code: code("positive-code"),
        negative_code: code("negative-code"),
        // @name up to a space or punctuation: Weibo and group-chat mentions.
        mention: Regex::new(r"@[^\s@:：,，.。!！?？、;；()（）\[\]]{1,30}")
            .expect("a literal regex"),
        code: Regex::new(r"\[[^\[\]\s]{1,8}\]").expect("a literal regex"),
        pile_up: Regex::new(r"[!！?？]{2,}").expect("a literal regex"),
        question_end: Regex::new(r"(?:[?？]|[吗吧呢么嘛][。.~～…]*)\s*$").expect("a literal regex"),
    }
});

/// A class word found in a turn.
#[derive(Debug, Clone, Copy)]
struct Hit {
    span: Span,
}

/// One customer turn, read.
#[derive(Debug, Default)]
struct Reading {
    positive: Vec<Hit>,
    negative: Vec<Hit>,
    thanks: Vec<Hit>,
    resolved: Vec<Hit>,
    still_not: Vec<Hit>,
    escalation: Vec<Hit>,
    repeat: Vec<Hit>,
    /// Characters that carry meaning (mentions and codes left out).
    chars: usize,
    question: bool,
}

impl Reading {
    fn sentiment(&self) -> Sentiment {
        match self.positive.len().cmp(&self.negative.len()) {
            std::cmp::Ordering::Greater => Sentiment::Positive,
            std::cmp::Ordering::Less => Sentiment::Negative,
            std::cmp::Ordering::Equal => Sentiment::Neutral,
        }
    }
}

/// Whether a match stands as a word: an ASCII word or number must not run on into ASCII letters
/// or digits (`ok` in `book`, `315` in a phone number).
fn stands_alone(text: &str, span: Span) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let inner = &text[span.start..span.end];
    let first = inner.chars().next();
    let last = inner.chars().next_back();
    !(alnum(first) && alnum(text[..span.start].chars().next_back())
        || alnum(last) && alnum(text[span.end..].chars().next()))
}

/// Whether a negation stands right before the match (within two characters): 不满意, 没解决了,
/// 不太满意.
fn negated(text: &str, start: usize) -> bool {
    let from = text[..start]
        .char_indices()
        .rev()
        .take(2)
        .last()
        .map_or(start, |(i, _)| i);
    LEXICON.negator.is_match(&text[from..start])
}

/// Whether the clause after a match makes it a question: 好了吗, 解决了没有, 到账了？
fn asked(text: &str, end: usize) -> bool {
    text[end..]
        .chars()
        .take_while(|c| !matches!(c, '，' | ',' | '。' | '！' | '!' | '；' | ';' | '\n'))
        .take(6)
        .any(|c| matches!(c, '吗' | '么' | '嘛' | '没' | '呢' | '?' | '？'))
}

fn hits(re: &Regex, text: &str) -> Vec<Hit> {
    re.find_iter(text)
        .map(|m| Span {
            start: m.start(),
            end: m.end(),
        })
        .filter(|s| stands_alone(text, *s))
        .map(|span| Hit { span })
        .collect()
}

/// Reads one customer turn. Spans are byte spans of the turn's text.
fn read(text: &str) -> Reading {
    let lx = &*LEXICON;
    // Folding keeps every char's byte length, so spans in `folded` are spans of `text`.
    let mut folded = fold_entry(text);
    let mut r = Reading::default();
    // Codes are read, then blanked with mentions so their words count once and names not at all.
    let mut blank: Vec<Span> = Vec::new();
    for m in lx.code.find_iter(&folded) {
        let span = Span {
            start: m.start(),
            end: m.end(),
        };
        if lx.positive_code.is_match(m.as_str()) {
            r.positive.push(Hit { span });
        } else if lx.negative_code.is_match(m.as_str()) {
            r.negative.push(Hit { span });
        }
        blank.push(span);
    }
    blank.extend(lx.mention.find_iter(&folded).map(|m| Span {
        start: m.start(),
        end: m.end(),
    }));
    if !blank.is_empty() {
        let mut bytes = folded.into_bytes();
        for s in &blank {
            bytes[s.start..s.end].fill(b' ');
        }
        folded = String::from_utf8(bytes).expect("whole chars replaced by spaces");
    }
    let t = folded.as_str();
    r.chars = t
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_ascii_punctuation())
        .count();
    r.question = lx.question_end.is_match(t);
    // Positive words turn negative after a negation (不满意, 没解决).
    for re in [&lx.thanks, &lx.praise] {
        for h in hits(re, t) {
            if negated(t, h.span.start) {
                r.negative.push(h);
            } else {
                r.positive.push(h);
                if std::ptr::eq(re, &lx.thanks) {
                    r.thanks.push(h);
                }
            }
        }
    }
    for re in [&lx.resolved, &lx.confirm] {
        for h in hits(re, t) {
            if asked(t, h.span.end) {
                continue; // 好了吗？ 到账了没有: a question, not a confirmation
            }
            if negated(t, h.span.start) {
                r.still_not.push(h);
            } else {
                r.resolved.push(h);
            }
        }
    }
    r.positive.extend(hits(&lx.positive_emoji, t));
    for re in [
        &lx.complaint,
        &lx.abuse,
        &lx.rhetorical,
        &lx.negative_emoji,
        &lx.pile_up,
    ] {
        r.negative.extend(hits(re, t));
    }
    r.still_not.extend(hits(&lx.still_not, t));
    r.escalation = hits(&lx.escalation, t);
    r.repeat = hits(&lx.repeat, t);
    r
}

/// Whether a customer message closes the matter and needs no answer: thanks or a confirmation
/// (谢谢, 好的, 收到, 解决了), not a question, not upset.
pub fn closes(text: &str) -> bool {
    let r = read(text);
    (!r.thanks.is_empty() || !r.resolved.is_empty())
        && r.still_not.is_empty()
        && !r.question
        && r.sentiment() != Sentiment::Negative
}

/// Two customer turns this alike (bigram Jaccard), of at least [`REPEAT_MIN_CHARS`], are the same
/// ask made again.
const REPEAT_SIMILARITY: f32 = 0.5;
const REPEAT_MIN_CHARS: usize = 6;

/// Reads the outcome of one conversation.
pub fn assess(c: &Conversation) -> Outcome {
    let spoken = |i: &usize| !c.turns[*i].text.trim().is_empty();
    let customer: Vec<usize> = (0..c.turns.len())
        .filter(|&i| c.turns[i].role == Speaker::Customer)
        .filter(spoken)
        .collect();
    let agent: Vec<usize> = (0..c.turns.len())
        .filter(|&i| c.turns[i].role == Speaker::Agent)
        .filter(spoken)
        .collect();
    let mut evidence = Vec::new();
    let mut found = |turn: usize, id: &str, span: Option<Span>| {
        let doc = find(id).expect("a documented check");
        evidence.push(Evidence {
            turn,
            rule: id.to_owned(),
            severity: doc.severity,
            message: doc.message.to_owned(),
            text: span.map_or_else(String::new, |s| {
                c.turns[turn].text[s.start..s.end].to_owned()
            }),
            span,
        });
    };
    if agent.is_empty() {
        let Some(&last) = customer.last() else {
            // Nobody said anything: nothing to judge.
            return Outcome::neutral();
        };
        found(last, "outcome-no-reply", None);
        return Outcome {
            score: 0.0,
            status: Status::NoReply,
            sentiment_start: read(&c.turns[customer[0]].text).sentiment(),
            sentiment_end: read(&c.turns[last].text).sentiment(),
            escalation: false,
            repeated: false,
            reason: format!(
                "{}：{}",
                Status::NoReply.label(),
                find("outcome-no-reply").map_or("", |d| d.message)
            ),
            features: Features::default(),
            evidence,
        };
    }
    let readings: Vec<Reading> = customer.iter().map(|&i| read(&c.turns[i].text)).collect();
    // A reply: a customer turn after an agent turn that itself answered the customer (an agent's
    // greeting before the customer's first word answers nothing).
    let first_answer = agent
        .iter()
        .copied()
        .find(|&a| customer.first().is_some_and(|&k| k < a));
    let replies: Vec<usize> = (0..customer.len())
        .filter(|&k| first_answer.is_some_and(|a| customer[k] > a))
        .collect();
    let mut f = Features::default();
    let mut x = Outcome::neutral();
    if let Some(&k) = replies.last() {
        let (turn, r) = (customer[k], &readings[k]);
        f.end_positive = r.positive.len().min(2) as f32;
        f.end_negative = r.negative.len().min(3) as f32;
        f.resolved = f32::from(u8::from(!r.resolved.is_empty()));
        f.unresolved = f32::from(u8::from(!r.still_not.is_empty()));
        f.explaining = (r.chars as f32 / 140.0).min(1.0);
        let last_turn = c.turns.iter().rposition(|t| !t.text.trim().is_empty());
        if last_turn == Some(turn) && r.question {
            f.open_question = 1.0;
            found(turn, "outcome-open-question", None);
        }
        x.sentiment_end = r.sentiment();
        if let Some(h) = r.resolved.first() {
            found(turn, "outcome-resolved", Some(h.span));
        }
        if let Some(h) = r.thanks.first().or(r.positive.first())
            && x.sentiment_end == Sentiment::Positive
        {
            found(turn, "outcome-thanks", Some(h.span));
        }
        if let Some(h) = r.still_not.first() {
            found(turn, "outcome-unresolved", Some(h.span));
        }
        if x.sentiment_end == Sentiment::Negative {
            found(
                turn,
                "outcome-negative-end",
                r.negative.first().map(|h| h.span),
            );
        }
    } else if let Some(r) = readings.last() {
        // The customer never replied to an answer: their only words set the mood at both ends.
        x.sentiment_end = r.sentiment();
    }
    if let Some(r) = readings.first() {
        f.start_negative = r.negative.len().min(3) as f32;
        x.sentiment_start = r.sentiment();
        if x.sentiment_start == Sentiment::Negative {
            found(
                customer[0],
                "outcome-negative-start",
                r.negative.first().map(|h| h.span),
            );
        }
    }
    if let Some(k) = readings.iter().position(|r| !r.escalation.is_empty()) {
        f.escalation = 1.0;
        found(
            customer[k],
            "outcome-escalation",
            Some(readings[k].escalation[0].span),
        );
    }
    let grams: Vec<Vec<(char, char)>> = customer
        .iter()
        .map(|&i| letter_bigrams(&c.turns[i].text))
        .collect();
    let repeat = replies.iter().find_map(|&k| {
        if let Some(h) = readings[k].repeat.first() {
            return Some((k, Some(h.span)));
        }
        (readings[k].chars >= REPEAT_MIN_CHARS
            && (0..k).any(|j| jaccard(&grams[j], &grams[k]) >= REPEAT_SIMILARITY))
        .then_some((k, None))
    });
    if let Some((k, span)) = repeat {
        f.repeated = 1.0;
        found(customer[k], "outcome-repeated", span);
    }
    if let Some(&last_agent) = agent.last() {
        let text = fold_entry(&c.turns[last_agent].text);
        let deferrals = hits(&LEXICON.deferral, &text);
        f.deflected = deferrals.len().min(3) as f32;
        if let Some(h) = deferrals.first() {
            found(last_agent, "outcome-deflected", Some(h.span));
        }
    }
    evidence.sort_by_key(|e| e.turn);
    x.score = score(&f);
    x.escalation = f.escalation > 0.0;
    x.repeated = f.repeated > 0.0;
    x.status = if f.resolved > 0.0 && f.unresolved == 0.0 && x.sentiment_end != Sentiment::Negative
    {
        Status::Resolved
    } else if x.sentiment_end == Sentiment::Positive {
        Status::Acknowledged
    } else if x.escalation {
        Status::Escalated
    } else if f.unresolved > 0.0 || f.open_question > 0.0 || x.sentiment_end == Sentiment::Negative
    {
        Status::Unresolved
    } else {
        Status::Open
    };
    x.reason = reason(x.status, &evidence, c);
    x.features = f;
    x.evidence = evidence;
    x
}

/// The model's score of a reading.
pub fn score(f: &Features) -> f32 {
    let x = [
        f.end_positive,
        f.end_negative,
        f.start_negative,
        f.resolved,
        f.unresolved,
        f.escalation,
        f.repeated,
        f.open_question,
        f.deflected,
        f.explaining,
    ];
    let rating = MODEL[10] + x.iter().zip(&MODEL).map(|(x, w)| x * w).sum::<f32>();
    round1((50.0 + 25.0 * rating).clamp(0.0, 100.0))
}

/// To one decimal, as reports show scores.
pub fn round1(x: f32) -> f32 {
    (x * 10.0).round() / 10.0
}

/// One line for the review list: the status and the words that show it.
fn reason(status: Status, evidence: &[Evidence], c: &Conversation) -> String {
    let pick = |ids: &[&str]| {
        ids.iter()
            .find_map(|id| evidence.iter().find(|e| e.rule == *id))
    };
    let shown = match status {
        Status::NoReply => pick(&["outcome-no-reply"]),
        Status::Escalated => pick(&["outcome-escalation"]),
        Status::Unresolved => pick(&[
            "outcome-unresolved",
            "outcome-negative-end",
            "outcome-open-question",
            "outcome-repeated",
        ]),
        Status::Open => pick(&["outcome-deflected", "outcome-negative-start"]),
        Status::Acknowledged => pick(&["outcome-thanks"]),
        Status::Resolved => pick(&["outcome-resolved"]),
    };
    let Some(e) = shown else {
        return format!("{}：客户没有表态", status.label());
    };
    let turn = c.turns[e.turn].text.trim();
    let quote: String = turn.chars().take(40).collect();
    let more = if turn.chars().count() > 40 { "…" } else { "" };
    format!(
        "{}：{}（第{}轮“{quote}{more}”）",
        status.label(),
        e.message,
        e.turn + 1
    )
}

impl Outcome {
    fn neutral() -> Self {
        Self {
            score: score(&Features::default()),
            status: Status::Open,
            sentiment_start: Sentiment::Neutral,
            sentiment_end: Sentiment::Neutral,
            escalation: false,
            repeated: false,
            reason: String::new(),
            features: Features::default(),
            evidence: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::model::Turn;

    fn turn(role: Speaker, text: &str) -> Turn {
        Turn {
            role,
            text: text.to_owned(),
            ts: None,
            agent: None,
        }
    }

    fn conversation(turns: &[(Speaker, &str)]) -> Conversation {
        Conversation {
            id: "c".to_owned(),
            agent: None,
            turns: turns.iter().map(|(r, t)| turn(*r, t)).collect(),
        }
    }

    /// A customer's question, the agent's answer, and `last` from the customer.
    fn ending(last: &str) -> Outcome {
        assess(&conversation(&[
            (Speaker::Customer, "我的快递到哪了"),
            (Speaker::Agent, "您好，已为您查询，明天送达"),
            (Speaker::Customer, last),
        ]))
    }

    /// Where each check reads: the conversation its documented lines are tried in.
    fn tried(id: &str, line: &str) -> Outcome {
        match id {
            "outcome-no-reply" => assess(&conversation(&[(Speaker::Customer, line)])),
            "outcome-negative-start" => assess(&conversation(&[
                (Speaker::Customer, line),
                (Speaker::Agent, "您好，请问是哪里的网络？"),
            ])),
            "outcome-deflected" => assess(&conversation(&[
                (Speaker::Customer, "宽带断了"),
                (Speaker::Agent, line),
            ])),
            "outcome-repeated" => assess(&conversation(&[
                (Speaker::Customer, "宽带断了"),
                (Speaker::Agent, "您好，请重启光猫试试"),
                (Speaker::Customer, line),
            ])),
            _ => ending(line),
        }
    }

    fn fired(o: &Outcome, id: &str) -> bool {
        o.evidence.iter().any(|e| e.rule == id)
    }

    #[test]
    fn every_check_fires_on_its_documented_lines_and_not_on_its_quiet_ones() {
        for check in CHECKS {
            for line in check.fires {
                assert!(
                    fired(&tried(check.id, line), check.id),
                    "{} should fire on {line}",
                    check.id
                );
            }
            for line in check.quiet {
                assert!(
                    !fired(&tried(check.id, line), check.id),
                    "{} should not fire on {line}",
                    check.id
                );
            }
        }
    }

    #[test]
    fn every_check_reads_traditional_as_simplified() {
        use crate::text::normalize::{Script, in_script};
        for check in CHECKS {
            for line in check.fires {
                let traditional = in_script(line, Script::Traditional);
                assert!(
                    fired(&tried(check.id, &traditional), check.id),
                    "{} should fire on {traditional}",
                    check.id
                );
            }
        }
    }

    #[test]
    fn evidence_spans_point_at_the_words_in_the_turn() {
        let o = ending("謝謝您，問題已經解決了👍");
        let e = o
            .evidence
            .iter()
            .find(|e| e.rule == "outcome-resolved")
            .unwrap();
        assert_eq!(e.turn, 2);
        assert_eq!(e.text, "解決了", "Traditional, found through folding");
        let span = e.span.unwrap();
        assert_eq!(&"謝謝您，問題已經解決了👍"[span.start..span.end], "解決了");
        assert_eq!(o.status, Status::Resolved);
        assert_eq!(o.sentiment_end, Sentiment::Positive);
    }

    #[test]
    fn the_endings_are_ordered_as_a_customer_would_rate_them() {
        let thanked = ending("收到了，谢谢！辛苦了").score;
        let silent = assess(&conversation(&[
            (Speaker::Customer, "我的快递到哪了"),
            (Speaker::Agent, "您好，已为您查询，明天送达"),
        ]))
        .score;
        let still = ending("还是没到，你们到底管不管？").score;
        let angry = ending("你们这是敷衍！！再不处理我就打12315投诉[怒]").score;
        let never = assess(&conversation(&[(Speaker::Customer, "在吗？怎么没人回复")])).score;
        assert!(thanked > silent, "{thanked} > {silent}");
        assert!(silent > still, "{silent} > {still}");
        assert!(still > angry, "{still} > {angry}");
        assert_eq!(never, 0.0);
        assert!(angry > never);
    }

    #[test]
    fn statuses() {
        assert_eq!(ending("好的，明白了").status, Status::Resolved);
        assert_eq!(ending("客服很耐心，赞一个").status, Status::Acknowledged);
        assert_eq!(ending("我要给差评").status, Status::Escalated);
        assert_eq!(ending("怎么还没到").status, Status::Unresolved);
        assert_eq!(ending("那大概几点？").status, Status::Unresolved);
        assert_eq!(ending("我在公司").status, Status::Open);
        assert_eq!(
            assess(&conversation(&[(Speaker::Customer, "在吗")])).status,
            Status::NoReply
        );
        // An empty agent turn is no reply.
        assert_eq!(
            assess(&conversation(&[
                (Speaker::Customer, "在吗"),
                (Speaker::Agent, " ")
            ]))
            .status,
            Status::NoReply
        );
        // Nobody said anything: nothing to judge, not a failure.
        assert_eq!(assess(&conversation(&[])).status, Status::Open);
    }

    #[test]
    fn negation_turns_praise_and_resolution_round() {
        let o = ending("不满意，问题没解决了");
        assert_eq!(o.sentiment_end, Sentiment::Negative);
        assert!(!fired(&o, "outcome-resolved") && fired(&o, "outcome-unresolved"));
        assert_eq!(
            ending("非常满意").sentiment_end,
            Sentiment::Positive,
            "非常 is no negation"
        );
        assert_eq!(ending("还不错").sentiment_end, Sentiment::Positive);
    }

    #[test]
    fn emoji_codes_and_mentions() {
        assert_eq!(ending("[赞][赞]").sentiment_end, Sentiment::Positive);
        assert_eq!(ending("[怒][抓狂]").sentiment_end, Sentiment::Negative);
        assert_eq!(ending("😡😡").sentiment_end, Sentiment::Negative);
        assert_eq!(ending("👍").sentiment_end, Sentiment::Positive);
        // Words inside a mention or an unknown code are not the customer's words.
        assert_eq!(
            ending("@投诉小助手 @满意度客服 我在家").status,
            Status::Open
        );
        assert!(!fired(&ending("[投诉] 我在家"), "outcome-escalation"));
        // An ASCII word or number must stand alone.
        assert!(!fired(&ending("my book"), "outcome-resolved"));
        assert!(fired(&ending("ok"), "outcome-resolved"));
        assert!(!fired(&ending("电话13152345678"), "outcome-escalation"));
        assert!(fired(&ending("打315热线"), "outcome-escalation"));
    }

    #[test]
    fn asking_the_same_again_is_repeated_even_without_a_repeat_word() {
        let o = assess(&conversation(&[
            (Speaker::Customer, "我的退款什么时候到账"),
            (Speaker::Agent, "您好，请提供订单号"),
            (Speaker::Customer, "我的退款什么时候到账啊"),
        ]));
        assert!(o.repeated);
        let e = o
            .evidence
            .iter()
            .find(|e| e.rule == "outcome-repeated")
            .unwrap();
        assert_eq!(e.turn, 2);
    }

    #[test]
    fn an_agent_greeting_before_the_customer_speaks_answers_nothing() {
        // The customer's only message is the question, not a reply to an answer.
        let o = assess(&conversation(&[
            (Speaker::Agent, "您好，欢迎光临"),
            (
                Speaker::Customer,
                "这件衣服有没有大一码的，我穿XL，胸围一百一十公分左右，肩宽四十八公分",
            ),
        ]));
        assert_eq!(o.features.explaining, 0.0);
        assert_eq!(o.features.open_question, 0.0);
    }

    #[test]
    fn closing_words_need_no_answer() {
        assert!(closes("好的，谢谢"));
        assert!(closes("收到👌"));
        assert!(!closes("谢谢，那什么时候到？"));
        assert!(!closes("还没解决"));
        assert!(!closes("在吗"));
    }
}
