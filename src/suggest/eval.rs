//! Retrieval quality on a labelled query set: recall@1, recall@5, MRR, the no-answer rate and
//! latency percentiles — what a knowledge-base owner runs to see whether a change helped.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Suggester;
use crate::error::Error;

/// A query with the ids of the entries that answer it.
#[derive(Debug, Clone, Deserialize)]
pub struct EvalQuery {
    pub qid: String,
    pub text: String,
    pub relevant: Vec<String>,
}

/// The figures of one evaluation run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub queries: usize,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    /// Mean reciprocal rank of the first relevant entry in the top 10.
    pub mrr: f64,
    /// Share of queries whose best suggestion is below the confidence threshold.
    pub no_answer_rate: f64,
    /// Share of the confident answers whose top suggestion is relevant.
    pub answered_precision: f64,
    pub latency_us_p50: f64,
    pub latency_us_p90: f64,
    pub latency_us_p99: f64,
    /// The queries whose first suggestion is not relevant, in input order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub misses: Vec<Miss>,
}

/// A query whose first suggestion is not relevant: what a knowledge-base owner looks at to
/// decide which similar question or synonym to add.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub qid: String,
    pub text: String,
    /// The relevant entries, with their questions.
    pub expected: Vec<(String, String)>,
    /// Rank (1-based) of the first relevant entry in the top 10, if it is there.
    pub rank: Option<usize>,
    /// The first suggestion, with its question.
    pub got: Option<(String, String)>,
}

/// Runs every query through the suggester's ranking.
pub fn run(suggester: &Suggester, queries: &[EvalQuery]) -> Result<Report, Error> {
    let (mut r1, mut r5, mut mrr, mut unanswered, mut answered_right) =
        (0usize, 0usize, 0.0, 0usize, 0usize);
    let mut latencies = Vec::with_capacity(queries.len());
    let mut misses = Vec::new();
    let questions: std::collections::HashMap<String, String> = suggester
        .entries()
        .into_iter()
        .map(|e| (e.id, e.question))
        .collect();
    for q in queries {
        let start = Instant::now();
        let hits = suggester.search(&q.text, 10)?;
        latencies.push(start.elapsed().as_secs_f64() * 1e6);
        let rank = hits
            .iter()
            .position(|h| q.relevant.iter().any(|r| r == h.id()));
        if rank == Some(0) {
            r1 += 1;
        }
        if rank.is_some_and(|r| r < 5) {
            r5 += 1;
        }
        if let Some(r) = rank {
            mrr += 1.0 / (r as f64 + 1.0);
        }
        if rank != Some(0) {
            misses.push(Miss {
                qid: q.qid.clone(),
                text: q.text.clone(),
                expected: q
                    .relevant
                    .iter()
                    .map(|id| (id.clone(), questions.get(id).cloned().unwrap_or_default()))
                    .collect(),
                rank: rank.map(|r| r + 1),
                got: hits
                    .first()
                    .map(|h| (h.doc.id.clone(), h.doc.question.clone())),
            });
        }
        let answered = hits
            .first()
            .is_some_and(|h| h.confidence >= suggester.threshold());
        if !answered {
            unanswered += 1;
        } else if rank == Some(0) {
            answered_right += 1;
        }
    }
    let n = queries.len().max(1) as f64;
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if latencies.is_empty() {
            0.0
        } else {
            latencies[((latencies.len() - 1) as f64 * p).round() as usize]
        }
    };
    let answered = queries.len() - unanswered;
    Ok(Report {
        queries: queries.len(),
        recall_at_1: r1 as f64 / n,
        recall_at_5: r5 as f64 / n,
        mrr: mrr / n,
        no_answer_rate: unanswered as f64 / n,
        answered_precision: if answered == 0 {
            0.0
        } else {
            answered_right as f64 / answered as f64
        },
        latency_us_p50: pct(0.5),
        latency_us_p90: pct(0.9),
        latency_us_p99: pct(0.99),
        misses,
    })
}

/// Parses a JSONL query file; bad lines are errors naming their line.
pub fn parse_queries(text: &str) -> (Vec<EvalQuery>, Vec<super::kb::LineError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<EvalQuery>(line) {
            Ok(q) => out.push(q),
            Err(e) => errors.push(super::kb::LineError {
                line: i + 1,
                message: e.to_string(),
            }),
        }
    }
    (out, errors)
}
