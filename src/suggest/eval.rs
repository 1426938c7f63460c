//! Retrieval quality on a labelled query set, or on a knowledge base's own similar questions
//! held out in turn: recall@1, recall@5, MRR, the no-answer rate and latency percentiles — what
//! a knowledge-base owner runs to see whether a change helped.

use std::collections::HashMap;
use std::sync::Arc;
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
    /// With `holdout`: how many rounds of held-out similar questions were asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out_rounds: Option<usize>,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    /// Mean reciprocal rank of the first relevant entry in the top 10.
    pub mrr: f64,
    /// The confidence threshold the two figures below are taken at.
    pub threshold: f32,
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
    let mut tally = Tally::default();
    tally.add(suggester, queries)?;
    Ok(tally.report(suggester.threshold(), None))
}

/// Measures a knowledge base that has no labelled queries on its own similar questions: each
/// round holds one similar question out of every entry that has that many, indexes the rest
/// (with the same analysis and phrases) and asks the held-out questions, whose right answer is
/// their own entry. A paraphrase the KB doesn't hold is what customers send, so this tells
/// whether a change to the entries or synonyms helps, without a query log. An error if no
/// entry has a similar question.
pub fn holdout(suggester: &Suggester) -> Result<Report, Error> {
    let (entries, phrases) = suggester.contents();
    let analyzer = suggester.analyzer();
    let rounds = entries.iter().map(|e| e.similar.len()).max().unwrap_or(0);
    if rounds == 0 {
        return Err(Error::Invalid(
            "no entry has a similar question to hold out; give labelled queries with --queries"
                .to_owned(),
        ));
    }
    let mut tally = Tally::default();
    for round in 0..rounds {
        let mut kept = entries.clone();
        let mut queries = Vec::new();
        for e in &mut kept {
            if round < e.similar.len() {
                queries.push(EvalQuery {
                    qid: format!("{}~{}", e.id, round + 1),
                    text: e.similar.remove(round),
                    relevant: vec![e.id.clone()],
                });
            }
        }
        let rest = Suggester::build_with(&kept, &phrases, None, Arc::clone(&analyzer))?
            .with_threshold(suggester.threshold());
        tally.add(&rest, &queries)?;
    }
    Ok(tally.report(suggester.threshold(), Some(rounds)))
}

/// Counts over the queries run so far.
#[derive(Default)]
struct Tally {
    queries: usize,
    r1: usize,
    r5: usize,
    mrr: f64,
    unanswered: usize,
    answered_right: usize,
    latencies: Vec<f64>,
    misses: Vec<Miss>,
}

impl Tally {
    fn add(&mut self, suggester: &Suggester, queries: &[EvalQuery]) -> Result<(), Error> {
        let questions: HashMap<String, String> = suggester
            .entries()
            .into_iter()
            .map(|e| (e.id, e.question))
            .collect();
        for q in queries {
            let start = Instant::now();
            let hits = suggester.search(&q.text, 10)?;
            self.latencies.push(start.elapsed().as_secs_f64() * 1e6);
            self.queries += 1;
            let rank = hits
                .iter()
                .position(|h| q.relevant.iter().any(|r| r == h.id()));
            if rank == Some(0) {
                self.r1 += 1;
            }
            if rank.is_some_and(|r| r < 5) {
                self.r5 += 1;
            }
            if let Some(r) = rank {
                self.mrr += 1.0 / (r as f64 + 1.0);
            }
            if rank != Some(0) {
                self.misses.push(Miss {
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
                self.unanswered += 1;
            } else if rank == Some(0) {
                self.answered_right += 1;
            }
        }
        Ok(())
    }

    fn report(mut self, threshold: f32, held_out_rounds: Option<usize>) -> Report {
        let n = self.queries.max(1) as f64;
        self.latencies.sort_by(f64::total_cmp);
        let latencies = &self.latencies;
        let pct = |p: f64| {
            if latencies.is_empty() {
                0.0
            } else {
                latencies[((latencies.len() - 1) as f64 * p).round() as usize]
            }
        };
        let answered = self.queries - self.unanswered;
        Report {
            queries: self.queries,
            held_out_rounds,
            recall_at_1: self.r1 as f64 / n,
            recall_at_5: self.r5 as f64 / n,
            mrr: self.mrr / n,
            threshold,
            no_answer_rate: self.unanswered as f64 / n,
            answered_precision: if answered == 0 {
                0.0
            } else {
                self.answered_right as f64 / answered as f64
            },
            latency_us_p50: pct(0.5),
            latency_us_p90: pct(0.9),
            latency_us_p99: pct(0.99),
            misses: self.misses,
        }
    }
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
