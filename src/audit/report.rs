//! Rolls conversation audits up per agent — scores, outcomes (resolved, escalated, negative
//! endings), deductions by rule, response times, worst conversations, and 四个一样 consistency
//! (busy vs idle, hour of day) — keeps the review-first list, and renders the report as JSON
//! or CSV.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::ConversationAudit;
use super::model::{Conversation, Speaker};
use super::outcome::{Sentiment, Status};
use crate::text::normalize::normalize_free;

/// What a report keeps of each conversation: enough for the per-agent figures, not the text.
#[derive(Debug, Clone)]
struct Seen {
    id: String,
    score: f32,
    manner: f32,
    outcome: f32,
    status: Status,
    negative_end: bool,
    escalation: bool,
    started: Option<i64>,
    ended: Option<i64>,
    evidence: usize,
}

#[derive(Debug, Default)]
struct AgentAcc {
    conversations: Vec<Seen>,
    messages: usize,
    by_rule: BTreeMap<String, usize>,
    first_response: Vec<i64>,
    response: Vec<i64>,
}

/// Collects conversation audits (in any order) into a report.
#[derive(Debug)]
pub struct Aggregator {
    agents: BTreeMap<String, AgentAcc>,
    conversations: usize,
    bad_lines: Vec<(usize, String)>,
    topics: HashMap<String, usize>,
    /// Unanswered questions by normalised text: (as last asked, count).
    unanswered: HashMap<String, (String, usize)>,
    /// The conversations to read first, worst outcome first; at most `review_len` once finished.
    review: Vec<ReviewItem>,
    review_len: usize,
    outcomes: BTreeMap<&'static str, usize>,
    /// Hashes of the conversation ids seen, to catch one id reported twice.
    seen: rustc_hash::FxHashSet<u64>,
    duplicate_ids: usize,
    duplicate_sample: Option<String>,
}

/// Ids remembered for the duplicate check (8 bytes each); past this, ids are no longer checked.
const SEEN_CAP: usize = 10_000_000;

impl Default for Aggregator {
    fn default() -> Self {
        Self::with_review(REVIEW_FIRST)
    }
}

/// Conversations on the review-first list by default.
pub const REVIEW_FIRST: usize = 20;

/// Turns a review item quotes, and characters of each.
const REVIEW_TURNS: usize = 6;
const REVIEW_CHARS: usize = 200;

/// A conversation a QA lead should read, with the turns that show why.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    pub id: String,
    pub agent: String,
    pub score: f32,
    pub manner: f32,
    pub outcome: f32,
    pub status: Status,
    /// Why, in one line.
    pub reason: String,
    /// The turns with evidence, in order: what the customer and the agent said there.
    pub turns: Vec<ReviewTurn>,
}

/// One quoted turn of a review item.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewTurn {
    /// Index in the conversation.
    pub turn: usize,
    pub role: &'static str,
    /// The turn's text, cut at 200 characters.
    pub text: String,
    /// The checks and rules with evidence in this turn.
    pub rules: Vec<String>,
}

impl ReviewItem {
    fn of(a: &ConversationAudit, c: &Conversation) -> Self {
        let mut turns: Vec<ReviewTurn> = Vec::new();
        let outcome = a.outcome.evidence.iter();
        // Outcome evidence first (what the customer said), then the manner's errors, warnings.
        let mut flagged: Vec<&super::Evidence> = outcome.collect();
        let mut manner: Vec<&super::Evidence> = a.evidence.iter().collect();
        manner.sort_by_key(|e| std::cmp::Reverse(e.severity));
        flagged.extend(manner);
        for e in flagged {
            if let Some(t) = turns.iter_mut().find(|t| t.turn == e.turn) {
                // The manner's "unanswered" says again what the outcome already shows.
                let said = e.rule == "unanswered-question"
                    && t.rules
                        .iter()
                        .any(|r| r == "outcome-no-reply" || r == "outcome-open-question");
                if !said && !t.rules.contains(&e.rule) {
                    t.rules.push(e.rule.clone());
                }
                continue;
            }
            if turns.len() == REVIEW_TURNS {
                continue;
            }
            let Some(t) = c.turns.get(e.turn) else {
                continue;
            };
            let (role, text) = (t.role, t.text.trim());
            let cut: String = text.chars().take(REVIEW_CHARS).collect();
            let more = if text.chars().count() > REVIEW_CHARS {
                "…"
            } else {
                ""
            };
            turns.push(ReviewTurn {
                turn: e.turn,
                role: match role {
                    Speaker::Agent => "agent",
                    Speaker::Customer => "customer",
                },
                text: format!("{cut}{more}"),
                rules: vec![e.rule.clone()],
            });
        }
        turns.sort_by_key(|t| t.turn);
        Self {
            id: a.id.clone(),
            agent: a.agent.clone(),
            score: a.score,
            manner: a.manner,
            outcome: a.outcome.score,
            status: a.outcome.status,
            reason: a.outcome.reason.clone(),
            turns,
        }
    }

    fn order(a: &Self, b: &Self) -> std::cmp::Ordering {
        Self::rank(a.outcome, a.score, &a.id, b)
    }

    /// Where a conversation with these scores stands against a kept item: worst outcome first,
    /// then lowest score, then by id so the list does not depend on input order.
    fn rank(outcome: f32, score: f32, id: &str, b: &Self) -> std::cmp::Ordering {
        outcome
            .total_cmp(&b.outcome)
            .then(score.total_cmp(&b.score))
            .then_with(|| id.cmp(&b.id))
    }
}

/// Distinct unanswered questions kept; past this, those asked once are dropped.
const UNANSWERED_CAP: usize = 20_000;

/// Per-agent figures.
#[derive(Debug, Clone, Serialize)]
pub struct AgentReport {
    pub agent: String,
    pub conversations: usize,
    pub messages: usize,
    pub score_mean: f32,
    pub score_median: f32,
    pub score_worst: f32,
    /// Mean service-manner score.
    pub manner_mean: f32,
    /// Mean outcome score.
    pub outcome_mean: f32,
    /// Share of conversations the customer ended resolved or acknowledged (thanks, confirms).
    pub resolved_share: f32,
    /// Conversations in which the customer threatened escalation (投诉, 差评, 12315…).
    pub escalations: usize,
    /// Conversations the customer ended in a negative mood.
    pub negative_endings: usize,
    /// Conversations in which the customer was never answered.
    pub no_reply: usize,
    /// Conversations by outcome status.
    pub outcomes: BTreeMap<&'static str, usize>,
    pub deductions_by_rule: BTreeMap<String, usize>,
    pub first_response_p50_secs: Option<i64>,
    pub response_p50_secs: Option<i64>,
    pub response_p90_secs: Option<i64>,
    /// The lowest-scoring conversations: `(id, score)`.
    pub worst_conversations: Vec<(String, f32)>,
    /// Conversations per score band (overall score): 0–9, 10–19, …, 90–100.
    pub score_histogram: [usize; 10],
    pub consistency: Consistency,
}

/// 四个一样 (same service busy or idle, at any hour), as numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Consistency {
    /// How busy is defined.
    pub definition: &'static str,
    pub busy_conversations: usize,
    pub busy_score_mean: Option<f32>,
    pub idle_conversations: usize,
    pub idle_score_mean: Option<f32>,
    /// Idle mean minus busy mean: how much service drops when busy (0 = consistent).
    pub busy_drop: Option<f32>,
    /// Mean score by hour of day (UTC+8, shop time), for hours with conversations.
    pub by_hour: BTreeMap<u8, f32>,
    /// Highest hourly mean minus lowest.
    pub hourly_spread: Option<f32>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub conversations: usize,
    pub bad_lines: usize,
    /// `(line, message)` of the first bad lines.
    pub bad_line_samples: Vec<(usize, String)>,
    /// Conversations whose id an earlier one had: conversation lines that repeat an id, or a
    /// conversation given both whole and as messages.
    pub duplicate_ids: usize,
    /// The first such id.
    pub duplicate_sample: Option<String>,
    /// Conversations by outcome status (resolved, acknowledged, open, unresolved, escalated,
    /// no-reply).
    pub outcomes: BTreeMap<&'static str, usize>,
    /// The conversations a QA lead should read first: those that ended badly (no reply,
    /// escalated, unresolved, an outcome under 50) or with an error in the agent's manner;
    /// worst outcome first, then lowest score.
    pub review_first: Vec<ReviewItem>,
    pub agents: Vec<AgentReport>,
    /// The knowledge-base entries customers asked about most: `(id, count)` (with `--topics`).
    pub topics: Vec<(String, usize)>,
    /// The questions the knowledge base could not answer, most asked first (with `--topics`).
    pub unanswered: Vec<(String, usize)>,
}

impl Aggregator {
    /// An aggregator that keeps `n` conversations on the review-first list.
    pub fn with_review(n: usize) -> Self {
        Self {
            agents: BTreeMap::new(),
            conversations: 0,
            bad_lines: Vec::new(),
            topics: HashMap::new(),
            unanswered: HashMap::new(),
            review: Vec::new(),
            review_len: n,
            outcomes: BTreeMap::new(),
            seen: rustc_hash::FxHashSet::default(),
            duplicate_ids: 0,
            duplicate_sample: None,
        }
    }

    /// Adds the audit of conversation `c`, whose turns the review-first list quotes.
    pub fn add(&mut self, a: &ConversationAudit, c: &Conversation) {
        self.conversations += 1;
        if self.seen.len() < SEEN_CAP && !self.seen.insert(id_hash(&a.id)) {
            self.duplicate_ids += 1;
            self.duplicate_sample.get_or_insert_with(|| a.id.clone());
        }
        *self.outcomes.entry(a.outcome.status.as_str()).or_default() += 1;
        // Worth a read: a bad ending, or an error in the agent's manner.
        let worth = matches!(
            a.outcome.status,
            Status::NoReply | Status::Escalated | Status::Unresolved
        ) || a.outcome.score < 50.0
            || a.evidence
                .iter()
                .any(|e| e.severity == crate::lint::Severity::Error);
        let full = self.review.len() >= self.review_len;
        let worse = |w: &ReviewItem| ReviewItem::rank(a.outcome.score, a.score, &a.id, w).is_lt();
        if worth && self.review_len > 0 && (!full || self.review.last().is_some_and(worse)) {
            self.review.push(ReviewItem::of(a, c));
            self.review.sort_by(ReviewItem::order);
            self.review.truncate(self.review_len);
        }
        for t in &a.topics {
            *self.topics.entry(t.clone()).or_default() += 1;
        }
        for q in &a.unanswered {
            let key: String = normalize_free(q)
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            let e = self.unanswered.entry(key).or_insert_with(|| (q.clone(), 0));
            e.0.clone_from(q);
            e.1 += 1;
        }
        if self.unanswered.len() > UNANSWERED_CAP {
            self.unanswered.retain(|_, (_, n)| *n > 1);
        }
        let acc = self.agents.entry(a.agent.clone()).or_default();
        acc.messages += a.agent_messages;
        for e in &a.evidence {
            *acc.by_rule.entry(e.rule.clone()).or_default() += 1;
        }
        acc.first_response.extend(a.first_response_secs);
        acc.response.extend(&a.response_secs);
        acc.conversations.push(Seen {
            id: a.id.clone(),
            score: a.score,
            manner: a.manner,
            outcome: a.outcome.score,
            status: a.outcome.status,
            negative_end: a.outcome.sentiment_end == Sentiment::Negative,
            escalation: a.outcome.escalation,
            started: a.started,
            ended: a.ended,
            evidence: a.evidence.len(),
        });
    }

    /// Notes an unreadable line, which the report counts.
    pub fn bad_line(&mut self, line: usize, message: String) {
        self.bad_lines.push((line, message));
    }

    pub fn finish(mut self) -> Report {
        let agents = self
            .agents
            .iter_mut()
            .map(|(name, acc)| agent_report(name, acc))
            .collect();
        let mut topics: Vec<(String, usize)> = self.topics.into_iter().collect();
        topics.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        topics.truncate(20);
        let mut unanswered: Vec<(String, usize)> = self.unanswered.into_values().collect();
        unanswered.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        unanswered.truncate(20);
        Report {
            duplicate_ids: self.duplicate_ids,
            duplicate_sample: self.duplicate_sample,
            outcomes: self.outcomes,
            review_first: self.review,
            topics,
            unanswered,
            conversations: self.conversations,
            bad_lines: self.bad_lines.len(),
            bad_line_samples: self.bad_lines.into_iter().take(20).collect(),
            agents,
        }
    }
}

fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    id.hash(&mut h);
    h.finish()
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    (!sorted.is_empty()).then(|| sorted[((sorted.len() - 1) as f64 * p).round() as usize])
}

fn mean(xs: impl Iterator<Item = f32>) -> Option<f32> {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f32)
}

fn agent_report(name: &str, acc: &mut AgentAcc) -> AgentReport {
    let mut scores: Vec<f32> = acc.conversations.iter().map(|c| c.score).collect();
    scores.sort_by(f32::total_cmp);
    acc.first_response.sort_unstable();
    acc.response.sort_unstable();
    let mut worst: Vec<&Seen> = acc.conversations.iter().collect();
    worst.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then(b.evidence.cmp(&a.evidence))
    });
    AgentReport {
        agent: name.to_owned(),
        conversations: acc.conversations.len(),
        messages: acc.messages,
        score_mean: mean(scores.iter().copied()).unwrap_or(100.0),
        score_median: scores.get(scores.len() / 2).copied().unwrap_or(100.0),
        score_worst: scores.first().copied().unwrap_or(100.0),
        manner_mean: mean(acc.conversations.iter().map(|c| c.manner)).unwrap_or(100.0),
        outcome_mean: mean(acc.conversations.iter().map(|c| c.outcome)).unwrap_or(50.0),
        resolved_share: mean(acc.conversations.iter().map(|c| {
            f32::from(u8::from(matches!(
                c.status,
                Status::Resolved | Status::Acknowledged
            )))
        }))
        .unwrap_or(0.0),
        escalations: acc.conversations.iter().filter(|c| c.escalation).count(),
        negative_endings: acc.conversations.iter().filter(|c| c.negative_end).count(),
        no_reply: acc
            .conversations
            .iter()
            .filter(|c| c.status == Status::NoReply)
            .count(),
        outcomes: acc.conversations.iter().fold(BTreeMap::new(), |mut m, c| {
            *m.entry(c.status.as_str()).or_default() += 1;
            m
        }),
        deductions_by_rule: acc.by_rule.clone(),
        first_response_p50_secs: percentile(&acc.first_response, 0.5),
        response_p50_secs: percentile(&acc.response, 0.5),
        response_p90_secs: percentile(&acc.response, 0.9),
        score_histogram: histogram(&scores),
        worst_conversations: worst
            .iter()
            .take(5)
            .map(|c| (c.id.clone(), c.score))
            .collect(),
        consistency: consistency(&acc.conversations),
    }
}

fn histogram(scores: &[f32]) -> [usize; 10] {
    let mut h = [0; 10];
    for s in scores {
        h[((*s / 10.0) as usize).min(9)] += 1;
    }
    h
}

/// Busy: another conversation of the same agent overlapped this one in time.
fn consistency(convs: &[Seen]) -> Consistency {
    let mut timed: Vec<&Seen> = convs.iter().filter(|c| c.started.is_some()).collect();
    timed.sort_by_key(|c| c.started);
    let mut busy = vec![false; timed.len()];
    for i in 0..timed.len() {
        let end_i = timed[i].ended.or(timed[i].started).unwrap_or_default();
        for j in i + 1..timed.len() {
            if timed[j].started.unwrap_or_default() > end_i {
                break;
            }
            busy[i] = true;
            busy[j] = true;
        }
    }
    let busy_mean = mean(
        timed
            .iter()
            .zip(&busy)
            .filter(|(_, b)| **b)
            .map(|(c, _)| c.score),
    );
    let idle_mean = mean(
        timed
            .iter()
            .zip(&busy)
            .filter(|(_, b)| !**b)
            .map(|(c, _)| c.score),
    );
    let mut hours: BTreeMap<u8, (f32, usize)> = BTreeMap::new();
    for c in &timed {
        let hour = ((c.started.unwrap_or_default() + 8 * 3600).rem_euclid(86_400) / 3600) as u8;
        let e = hours.entry(hour).or_default();
        e.0 += c.score;
        e.1 += 1;
    }
    let by_hour: BTreeMap<u8, f32> = hours
        .into_iter()
        .map(|(h, (s, n))| (h, s / n as f32))
        .collect();
    let hourly_spread = (!by_hour.is_empty()).then(|| {
        let max = by_hour.values().copied().fold(f32::MIN, f32::max);
        let min = by_hour.values().copied().fold(f32::MAX, f32::min);
        max - min
    });
    Consistency {
        definition: "busy = the agent had another conversation open at the same time (by turn timestamps)",
        busy_conversations: busy.iter().filter(|b| **b).count(),
        busy_score_mean: busy_mean,
        idle_conversations: busy.iter().filter(|b| !**b).count(),
        idle_score_mean: idle_mean,
        busy_drop: idle_mean.zip(busy_mean).map(|(i, b)| i - b),
        by_hour,
        hourly_spread,
    }
}

/// CSV, one row per conversation.
pub fn conversation_csv_header() -> &'static str {
    "id,agent,score,manner,outcome,status,sentiment_start,sentiment_end,escalation,repeated,agent_messages,greeting,farewell,first_response_secs,deductions,reason,rules"
}

pub fn conversation_csv_row(a: &ConversationAudit) -> String {
    // Each rule once, in the order first met.
    let mut rules: Vec<&str> = Vec::new();
    for e in &a.evidence {
        if !rules.contains(&e.rule.as_str()) {
            rules.push(&e.rule);
        }
    }
    csv_line(&[
        a.id.clone(),
        a.agent.clone(),
        format!("{:.1}", a.score),
        format!("{:.1}", a.manner),
        format!("{:.1}", a.outcome.score),
        a.outcome.status.as_str().to_owned(),
        sentiment(a.outcome.sentiment_start).to_owned(),
        sentiment(a.outcome.sentiment_end).to_owned(),
        a.outcome.escalation.to_string(),
        a.outcome.repeated.to_string(),
        a.agent_messages.to_string(),
        a.greeting.to_string(),
        a.farewell.to_string(),
        a.first_response_secs
            .map_or_else(String::new, |s| s.to_string()),
        a.evidence.len().to_string(),
        a.outcome.reason.clone(),
        rules.join(" "),
    ])
}

fn sentiment(s: Sentiment) -> &'static str {
    match s {
        Sentiment::Negative => "negative",
        Sentiment::Neutral => "neutral",
        Sentiment::Positive => "positive",
    }
}

/// CSV, one row per agent.
pub fn agent_csv(report: &Report) -> String {
    let mut out = String::from(
        "agent,conversations,messages,score_mean,score_median,score_worst,manner_mean,outcome_mean,resolved_share,escalations,negative_endings,no_reply,first_response_p50_secs,response_p90_secs,busy_score_mean,idle_score_mean\n",
    );
    let opt = |x: Option<f32>| x.map_or_else(String::new, |v| format!("{v:.1}"));
    for a in &report.agents {
        out.push_str(&csv_line(&[
            a.agent.clone(),
            a.conversations.to_string(),
            a.messages.to_string(),
            format!("{:.1}", a.score_mean),
            format!("{:.1}", a.score_median),
            format!("{:.1}", a.score_worst),
            format!("{:.1}", a.manner_mean),
            format!("{:.1}", a.outcome_mean),
            format!("{:.3}", a.resolved_share),
            a.escalations.to_string(),
            a.negative_endings.to_string(),
            a.no_reply.to_string(),
            a.first_response_p50_secs
                .map_or_else(String::new, |s| s.to_string()),
            a.response_p90_secs
                .map_or_else(String::new, |s| s.to_string()),
            opt(a.consistency.busy_score_mean),
            opt(a.consistency.idle_score_mean),
        ]));
        out.push('\n');
    }
    out
}

/// One CSV record (quoted where a field needs it), without its line end.
fn csv_line(fields: &[String]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(256)
        .from_writer(Vec::new());
    w.write_record(fields).expect("writing to memory");
    let mut bytes = w.into_inner().expect("writing to memory");
    bytes.pop(); // the line end
    String::from_utf8(bytes).expect("UTF-8 fields make a UTF-8 line")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_where_they_need_it() {
        let line = csv_line(&[
            "c,1".to_owned(),
            "他说\"好\"".to_owned(),
            "第一行\n第二行".to_owned(),
            "小王😀".to_owned(),
            String::new(),
        ]);
        assert_eq!(
            line,
            "\"c,1\",\"他说\"\"好\"\"\",\"第一行\n第二行\",小王😀,"
        );
    }
}
