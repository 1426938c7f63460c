//! QA audit of past conversations: every agent turn through the linter with its role and the
//! customer message it answers, plus the checks that need a whole conversation (greeting,
//! response times, apology after a long wait, the customer's last question left unanswered) —
//! the service manner — and how the conversation ended for the customer (`outcome`); the two
//! combine into the conversation's score.

pub mod eval;
pub mod html;
pub mod model;
pub mod outcome;
pub mod report;

use serde::Serialize;

use crate::lint::{LintRequest, Linter, Role, Severity};
use crate::suggest::Suggester;
use crate::text::Span;
use model::{Conversation, Speaker};

/// Audit settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// A customer waiting longer than this (seconds) should get an apology for the wait.
    pub long_wait: i64,
    /// An agent who says they will come back (稍等, 我去查) should within this many seconds.
    pub promise: i64,
    /// The weight of the service manner in a conversation's score.
    pub manner_weight: f32,
    /// The weight of the outcome for the customer in a conversation's score.
    pub outcome_weight: f32,
    /// Whether agent turns are judged by meaning too (`rude-tone`, where the linter has it):
    /// a few milliseconds per new sentence, so the service's `/v1/audit` leaves it out.
    pub meaning: bool,
}

impl Settings {
    /// The shop's policy (`[audit]` in kefu.toml) over the defaults.
    pub fn from_config(config: &crate::config::AuditConfig) -> Self {
        let default = Self::default();
        Self {
            long_wait: config.long_wait.unwrap_or(default.long_wait),
            promise: config.promise.unwrap_or(default.promise),
            manner_weight: config.manner_weight.unwrap_or(default.manner_weight),
            outcome_weight: config.outcome_weight.unwrap_or(default.outcome_weight),
            meaning: default.meaning,
        }
    }

    /// A conversation's score from its manner and outcome scores, by the weights.
    pub fn combine(&self, manner: f32, outcome: f32) -> f32 {
        let total = self.manner_weight + self.outcome_weight;
        if total <= 0.0 {
            return manner;
        }
        (self.manner_weight * manner + self.outcome_weight * outcome) / total
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            long_wait: 60,
            promise: 120,
            manner_weight: DEFAULT_MANNER_WEIGHT,
            outcome_weight: DEFAULT_OUTCOME_WEIGHT,
            meaning: true,
        }
    }
}

/// The default weights of manner and outcome in a conversation's score. On conversations rated
/// by people the outcome tracks their satisfaction and the manner hardly at all (BENCHMARKS.md,
/// "Audit outcome"); the manner still counts, for what the agent controls.
pub const DEFAULT_MANNER_WEIGHT: f32 = 0.2;
pub const DEFAULT_OUTCOME_WEIGHT: f32 = 0.8;

/// The checks that need the whole conversation, with what their evidence says.
pub const CONVERSATION_CHECKS: &[(&str, &str)] = &[
    ("missing-greeting", "开场没有问候客户"),
    ("no-apology-after-wait", "客户久等后，回复没有致歉"),
    ("promise-not-kept", "答应稍后回复，却没有按时回来"),
    ("unanswered-question", "客户最后的消息没有得到回复"),
];

/// What a rule or check id means, in one Chinese line: a lint rule, a conversation check or an
/// outcome check.
pub fn describe(id: &str) -> Option<&'static str> {
    crate::lint::registry::find(id)
        .map(|r| r.doc.message)
        .or_else(|| {
            CONVERSATION_CHECKS
                .iter()
                .find(|(c, _)| *c == id)
                .map(|(_, m)| *m)
        })
        .or_else(|| outcome::find(id).map(|c| c.message))
}

/// Points a conversation-level finding takes off the conversation's score.
const CONVERSATION_PENALTY: f32 = 10.0;

/// One deduction with its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Index of the turn in the conversation.
    pub turn: usize,
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// The flagged text, and where it is in the turn (bytes), when the finding is in a turn.
    pub text: String,
    pub span: Option<Span>,
}

/// The audit of one conversation.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationAudit {
    pub id: String,
    /// The agent who wrote most of its agent turns.
    pub agent: String,
    /// 0–100: manner and outcome by the `[audit]` weights (default 0.2 and 0.8).
    pub score: f32,
    /// 0–100: the service manner: the mean lint score of the agent's turns, less 10 per
    /// conversation finding (in `evidence`).
    pub manner: f32,
    /// How the conversation ended for the customer, with its own evidence.
    pub outcome: outcome::Outcome,
    pub agent_messages: usize,
    pub greeting: bool,
    pub farewell: bool,
    /// Seconds from the first customer message to the first agent reply.
    pub first_response_secs: Option<i64>,
    /// Seconds from each customer message to the next agent reply.
    pub response_secs: Vec<i64>,
    /// Unix seconds of the first turn, when known.
    pub started: Option<i64>,
    pub ended: Option<i64>,
    pub evidence: Vec<Evidence>,
    /// Knowledge-base entries the customer asked about (with `--topics`).
    pub topics: Vec<String>,
    /// Customer questions the knowledge base could not answer (with `--topics`).
    pub unanswered: Vec<String>,
}

const GREETINGS: &[&str] = &[
    "您好",
    "你好",
    "欢迎",
    "歡迎",
    "在的",
    "很高兴为您服务",
    "很高興為您服務",
    "亲",
    "親",
];
/// Words with which an agent promises to come back.
const PROMISES: &[&str] = &[
    "稍等",
    "稍候",
    "我去查",
    "我查一下",
    "我查下",
    "我去问",
    "我问一下",
    "马上回复",
    "馬上回覆",
    "请等一下",
    "請等一下",
    "等我一下",
    "我去核实",
    "我核实一下",
];
const APOLOGIES: &[&str] = &[
    "抱歉",
    "对不起",
    "對不起",
    "不好意思",
    "久等",
    "见谅",
    "見諒",
];

/// Audits one conversation.
pub fn audit(linter: &Linter, settings: &Settings, c: &Conversation) -> ConversationAudit {
    audit_with(linter, settings, None, c)
}

/// Audits one conversation, also matching its customer turns against a knowledge base: which
/// entries customers asked about (`topics`) and which questions it could not answer.
pub fn audit_with(
    linter: &Linter,
    settings: &Settings,
    kb: Option<&Suggester>,
    c: &Conversation,
) -> ConversationAudit {
    let mut a = audit_turns(linter, settings, c);
    if let Some(s) = kb {
        for t in c.turns.iter().filter(|t| t.role == Speaker::Customer) {
            // Short turns (好的, 嗯) are acknowledgements, not questions.
            if t.text.chars().filter(|ch| ch.is_alphanumeric()).count() < 4 {
                continue;
            }
            match s.search(&t.text, 1).ok().and_then(|h| h.into_iter().next()) {
                Some(h) if h.confidence >= s.threshold() => {
                    if h.source() == crate::suggest::Source::Kb {
                        a.topics.push(h.id().to_owned());
                    }
                }
                _ => a.unanswered.push(t.text.trim().to_owned()),
            }
        }
    }
    a
}

fn audit_turns(linter: &Linter, settings: &Settings, c: &Conversation) -> ConversationAudit {
    // An agent turn with no text (an export's placeholder) is no turn.
    let agent_turns: Vec<usize> = (0..c.turns.len())
        .filter(|&i| c.turns[i].role == Speaker::Agent && !c.turns[i].text.trim().is_empty())
        .collect();
    let (first_agent, last_agent) = (agent_turns.first().copied(), agent_turns.last().copied());
    let mut evidence = Vec::new();
    let mut scores = Vec::new();
    let mut farewell = false;
    let mut last_customer: Option<usize> = None;
    for (i, turn) in c.turns.iter().enumerate() {
        if turn.role == Speaker::Customer {
            last_customer = Some(i);
            continue;
        }
        if turn.text.trim().is_empty() {
            continue;
        }
        let role = if Some(i) == last_agent && agent_turns.len() > 1 {
            Role::Closing
        } else if Some(i) == first_agent {
            Role::Opening
        } else {
            Role::Reply
        };
        // The customer message this turn answers: the latest one since the previous agent turn.
        let answers =
            last_customer.filter(|&k| !c.turns[k + 1..i].iter().any(|t| t.role == Speaker::Agent));
        let result = linter.lint(&LintRequest {
            text: &turn.text,
            role,
            customer: answers.map(|k| c.turns[k].text.as_str()),
            skip_meaning: !settings.meaning,
        });
        if role == Role::Closing {
            farewell = !result.findings.iter().any(|f| f.rule == "missing-farewell");
        }
        scores.push(result.score as f32);
        evidence.extend(result.findings.into_iter().map(|f| Evidence {
            turn: i,
            rule: f.rule.to_owned(),
            severity: f.severity,
            message: f.message.to_owned(),
            text: f.text,
            span: Some(f.span),
        }));
    }
    let mut conversation_finding = |turn: usize, rule: &str, message: &str| {
        evidence.push(Evidence {
            turn,
            rule: rule.to_owned(),
            severity: Severity::Warning,
            message: message.to_owned(),
            text: String::new(),
            span: None,
        });
    };
    let greeting =
        first_agent.is_some_and(|i| GREETINGS.iter().any(|g| c.turns[i].text.contains(g)));
    if let Some(i) = first_agent
        && !greeting
    {
        conversation_finding(i, "missing-greeting", "开场没有问候客户（您好/欢迎光临）");
    }
    // Response times: each customer message to the next agent turn.
    let mut response_secs = Vec::new();
    let mut waiting_since: Option<i64> = None;
    let mut first_response_secs = None;
    for (i, t) in c.turns.iter().enumerate() {
        match t.role {
            Speaker::Customer => {
                if waiting_since.is_none() {
                    waiting_since = t.ts;
                }
            }
            Speaker::Agent => {
                if let (Some(since), Some(now)) = (waiting_since, t.ts) {
                    let wait = (now - since).max(0);
                    response_secs.push(wait);
                    first_response_secs.get_or_insert(wait);
                    if wait > settings.long_wait && !APOLOGIES.iter().any(|a| t.text.contains(a)) {
                        conversation_finding(
                            i,
                            "no-apology-after-wait",
                            &format!("客户等了{wait}秒，回复里没有为久等致歉"),
                        );
                    }
                }
                waiting_since = None;
            }
        }
    }
    // A promise to come back, and the next agent turn much later (or never).
    for (pos, &i) in agent_turns.iter().enumerate() {
        let t = &c.turns[i];
        if !PROMISES.iter().any(|p| t.text.contains(p)) {
            continue;
        }
        let next = agent_turns.get(pos + 1).map(|&j| &c.turns[j]);
        let kept = match (t.ts, next.and_then(|n| n.ts)) {
            (Some(said), Some(back)) => back - said <= settings.promise,
            (_, None) if next.is_none() => false,
            _ => true, // no timestamps to judge by
        };
        if !kept {
            conversation_finding(
                i,
                "promise-not-kept",
                &format!("答应客户稍后回复，但{}秒内没有回来", settings.promise),
            );
        }
    }
    // The customer's last message unanswered (after an agent reply, or with no agent turn at
    // all), unless it closes the matter (谢谢, 好的). Empty turns are not there.
    if let Some(last) = c.turns.iter().rposition(|t| !t.text.trim().is_empty())
        && c.turns[last].role == Speaker::Customer
        && !outcome::closes(&c.turns[last].text)
    {
        conversation_finding(last, "unanswered-question", "客户最后的消息没有得到回复");
    }
    let conversation_findings = evidence.iter().filter(|e| e.span.is_none()).count() as f32;
    let mean = if scores.is_empty() {
        100.0
    } else {
        scores.iter().sum::<f32>() / scores.len() as f32
    };
    evidence.sort_by_key(|e| e.turn);
    let manner = (mean - CONVERSATION_PENALTY * conversation_findings).clamp(0.0, 100.0);
    let outcome = outcome::assess(c);
    ConversationAudit {
        id: c.id.clone(),
        agent: main_agent(c),
        score: outcome::round1(settings.combine(manner, outcome.score)),
        manner,
        outcome,
        agent_messages: agent_turns.len(),
        greeting,
        farewell,
        first_response_secs,
        response_secs,
        started: c.turns.iter().find_map(|t| t.ts),
        ended: c.turns.iter().rev().find_map(|t| t.ts),
        evidence,
        topics: Vec::new(),
        unanswered: Vec::new(),
    }
}

/// Audits a whole body of text — JSONL (conversation or message lines) or a JSON array of
/// conversations — into the JSON report: `{"summary", "conversations"}`. Malformed lines are
/// counted in the summary; an unreadable array is an error.
pub fn audit_text(
    linter: &Linter,
    settings: &Settings,
    text: &str,
) -> Result<serde_json::Value, String> {
    let mut lines: Vec<(usize, model::Line)> = Vec::new();
    let mut agg = report::Aggregator::default();
    if text.trim_start().starts_with('[') {
        let convs: Vec<Conversation> = serde_json::from_str(text)
            .map_err(|e| format!("not a JSON array of conversations: {e}"))?;
        lines.extend(convs.into_iter().map(|c| (0, model::Line::Conversation(c))));
    } else {
        for (i, l) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match model::Line::parse(l) {
                Ok(line) => lines.push((i + 1, line)),
                Err(e) => agg.bad_line(i + 1, format!("line {}: {e}", i + 1)),
            }
        }
    }
    let mut conversations: Vec<Conversation> = Vec::new();
    let mut grouper = model::Grouper::default();
    for (_, line) in lines {
        match line {
            model::Line::Conversation(c) => conversations.push(c),
            model::Line::Message(m) => grouper.push(m).map_err(|e| e.to_string())?,
        }
    }
    let mut batches = grouper.finish().map_err(|e| e.to_string())?;
    while let Some(b) = batches.next_batch().map_err(|e| e.to_string())? {
        conversations.extend(b);
    }
    let audits: Vec<ConversationAudit> = conversations
        .iter()
        .map(|c| audit(linter, settings, c))
        .collect();
    for (a, c) in audits.iter().zip(&conversations) {
        agg.add(a, c);
    }
    Ok(serde_json::json!({"summary": agg.finish(), "conversations": audits}))
}

fn main_agent(c: &Conversation) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for t in c.turns.iter().filter(|t| t.role == Speaker::Agent) {
        let name = t
            .agent
            .as_deref()
            .or(c.agent.as_deref())
            .unwrap_or("(unknown)");
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, k)) => *k += 1,
            None => counts.push((name, 1)),
        }
    }
    counts.iter().max_by_key(|(_, k)| *k).map_or_else(
        || c.agent.clone().unwrap_or_else(|| "(unknown)".to_owned()),
        |(n, _)| (*n).to_owned(),
    )
}
