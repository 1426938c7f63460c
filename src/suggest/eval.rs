//! Retrieval quality on a labelled query set, or on a knowledge base's own similar questions
//! held out in turn: recall@1, recall@5, MRR, the no-answer rate and latency percentiles — what
//! a knowledge-base owner runs to see whether a change helped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Suggester;
use super::kb::KbEntry;
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
    /// With `holdout`: how many rounds of held-out similar questions were asked (with
    /// `absent`, of entries left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out_rounds: Option<usize>,
    /// With `absent`: every query's entry was left out, so none can be answered rightly.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub entries_left_out: bool,
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
    /// Reliability: the queries by the first suggestion's confidence, in bands of 0.1, and the
    /// share of each whose first suggestion is right. Confidence means what it says when the
    /// share is near the band's.
    pub reliability: Vec<Band>,
    /// The lowest threshold at which the answered queries are at least this precise (when a
    /// precision was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub for_precision: Option<ThresholdFor>,
    /// The queries whose first suggestion is not relevant, in input order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub misses: Vec<Miss>,
    /// Every query's rank, in input order: what `--save` keeps for a later `--baseline`.
    #[serde(skip)]
    pub ranks: Vec<QueryRank>,
}

/// The queries whose first suggestion's confidence lies in `[from, to)` (the last band takes
/// 1.0 too), and how many of them are right first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub from: f32,
    pub to: f32,
    pub queries: usize,
    pub right: usize,
}

/// The threshold that reaches a precision asked for (`kefu eval --precision`), and what it
/// leaves answered; `threshold` is None when no threshold reaches it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdFor {
    pub precision: f64,
    pub threshold: Option<f32>,
    /// Share of the queries answered at that threshold.
    pub answered: f64,
    /// The precision reached there.
    pub reached: f64,
}

impl Report {
    /// Adds the lowest threshold at which the answered queries are right first at least
    /// `precision` of the time (`kefu eval --precision`).
    pub fn with_precision(mut self, precision: f64) -> Self {
        self.for_precision = Some(threshold_for(&firsts(&self.ranks), self.queries, precision));
        self
    }
}

/// Each query's first suggestion's confidence, and whether it is right.
fn firsts(ranks: &[QueryRank]) -> Vec<(f32, bool)> {
    (ranks.iter())
        .filter_map(|r| Some((r.first.as_ref()?.confidence, r.rank == Some(1))))
        .collect()
}

/// The reliability table of (confidence, right first) pairs.
pub fn reliability(firsts: &[(f32, bool)]) -> Vec<Band> {
    let mut bands: Vec<Band> = (0..10)
        .map(|i| Band {
            from: i as f32 / 10.0,
            to: (i + 1) as f32 / 10.0,
            queries: 0,
            right: 0,
        })
        .collect();
    for &(confidence, right) in firsts {
        let band = &mut bands[((confidence * 10.0) as usize).min(9)];
        band.queries += 1;
        band.right += usize::from(right);
    }
    bands
}

/// The lowest threshold whose answered queries (confidence at or above it) are right first at
/// least `precision` of the time, over `queries` queries in all.
pub fn threshold_for(firsts: &[(f32, bool)], queries: usize, precision: f64) -> ThresholdFor {
    let mut sorted = firsts.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut right, mut best) = (0usize, None);
    for (i, &(confidence, ok)) in sorted.iter().enumerate() {
        right += usize::from(ok);
        // A threshold sits at a confidence, taking every query tied with it.
        let last_of_tie = sorted.get(i + 1).is_none_or(|next| next.0 < confidence);
        if last_of_tie && right as f64 >= precision * (i + 1) as f64 {
            best = Some((confidence, i + 1, right));
        }
    }
    match best {
        Some((threshold, answered, right)) => ThresholdFor {
            precision,
            threshold: Some(threshold),
            answered: answered as f64 / queries.max(1) as f64,
            reached: right as f64 / answered as f64,
        },
        None => ThresholdFor {
            precision,
            threshold: None,
            answered: 0.0,
            reached: 0.0,
        },
    }
}

/// Where one query's first relevant entry ranked: a line of a saved run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRank {
    pub qid: String,
    pub text: String,
    /// 1-based, in the top 10; None (null) when it is not there.
    pub rank: Option<usize>,
    /// The first suggestion's confidence and what it was worked out from: what
    /// `scripts/fit-confidence` fits the confidence model on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<First>,
}

/// The first suggestion of a saved query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct First {
    pub confidence: f32,
    pub evidence: super::Evidence,
}

/// Recall@1, recall@5 and MRR@10 of a set of ranks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub mrr: f64,
}

impl Figures {
    fn of(ranks: impl Iterator<Item = Option<usize>>) -> Self {
        let (mut n, mut r1, mut r5, mut rr) = (0usize, 0usize, 0usize, 0.0);
        for rank in ranks {
            n += 1;
            r1 += usize::from(rank == Some(1));
            r5 += usize::from(rank.is_some_and(|r| r <= 5));
            rr += rank.map_or(0.0, |r| 1.0 / r as f64);
        }
        let n = n.max(1) as f64;
        Self {
            recall_at_1: r1 as f64 / n,
            recall_at_5: r5 as f64 / n,
            mrr: rr / n,
        }
    }
}

/// A query whose first suggestion became right, or stopped being right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub qid: String,
    pub text: String,
    pub before: Option<usize>,
    pub after: Option<usize>,
}

/// This run against a saved one, over the queries both asked (matched by `qid`): what a change
/// to the knowledge base or the synonyms won and lost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Queries in both runs; the figures are over these.
    pub queries: usize,
    /// Queries of this run the saved one did not ask.
    pub new_queries: usize,
    pub before: Figures,
    pub after: Figures,
    /// First now, not before.
    pub fixed: Vec<Change>,
    /// First before, not now.
    pub broken: Vec<Change>,
}

/// Compares `after` with `before` (see `Comparison`).
pub fn compare(before: &[QueryRank], after: &[QueryRank]) -> Comparison {
    let was: HashMap<&str, Option<usize>> =
        before.iter().map(|q| (q.qid.as_str(), q.rank)).collect();
    let both: Vec<(&QueryRank, Option<usize>)> = after
        .iter()
        .filter_map(|q| Some((q, *was.get(q.qid.as_str())?)))
        .collect();
    let change = |(q, before): &(&QueryRank, Option<usize>)| Change {
        qid: q.qid.clone(),
        text: q.text.clone(),
        before: *before,
        after: q.rank,
    };
    Comparison {
        queries: both.len(),
        new_queries: after.len() - both.len(),
        before: Figures::of(both.iter().map(|(_, b)| *b)),
        after: Figures::of(both.iter().map(|(q, _)| q.rank)),
        fixed: (both.iter())
            .filter(|(q, b)| q.rank == Some(1) && *b != Some(1))
            .map(change)
            .collect(),
        broken: (both.iter())
            .filter(|(q, b)| q.rank != Some(1) && *b == Some(1))
            .map(change)
            .collect(),
    }
}

/// Reads a run saved by `--save`: one `QueryRank` per line. A bad line is an error naming it.
pub fn parse_ranks(text: &str) -> Result<Vec<QueryRank>, super::kb::LineError> {
    match super::kb::json_lines(text) {
        (ranks, errors) if errors.is_empty() => Ok(ranks.into_iter().map(|(_, r)| r).collect()),
        (_, mut errors) => Err(errors.swap_remove(0)),
    }
}

/// A run's ranks as `parse_ranks` reads them.
pub fn ranks_jsonl(ranks: &[QueryRank]) -> String {
    let mut out = String::new();
    for r in ranks {
        out.push_str(&serde_json::to_string(r).expect("ranks serialize"));
        out.push('\n');
    }
    out
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
    /// When a relevant entry has the very answer of a suggestion above it, and was folded into
    /// it (`Hit::also`): that suggestion's rank (1-based). The customer would get the right
    /// answer there; the measures still count only the relevant entries themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_answer_at: Option<usize>,
    /// The first suggestion, with its question.
    pub got: Option<(String, String)>,
}

/// Runs every query through the suggester's ranking.
pub fn run(suggester: &Suggester, queries: &[EvalQuery]) -> Result<Report, Error> {
    let mut tally = Tally::default();
    tally.add(suggester, queries)?;
    Ok(tally.report(suggester.threshold(), None))
}

/// Most rounds of `holdout`, each of which indexes the whole knowledge base again.
const MAX_ROUNDS: usize = 8;

/// Measures a knowledge base that has no labelled queries on its own similar questions: round
/// r holds out every entry's r-th similar question (and the (r + 8)-th, …, when an entry has
/// more than eight), indexes the rest (with the same analysis and phrases) and asks the
/// held-out questions, whose right answer is their own entry; an entry always keeps its main
/// question. A paraphrase the KB doesn't hold is what customers send, so this tells whether a
/// change to the entries or synonyms helps, without a query log. An error if no entry has a
/// similar question.
pub fn holdout(suggester: &Suggester) -> Result<Report, Error> {
    let (entries, phrases) = suggester.contents();
    let analyzer = suggester.analyzer();
    let most = entries.iter().map(|e| e.similar.len()).max().unwrap_or(0);
    let rounds = most.min(MAX_ROUNDS);
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
            for (i, text) in std::mem::take(&mut e.similar).into_iter().enumerate() {
                if i % rounds == round {
                    queries.push(EvalQuery {
                        qid: format!("{}~{}", e.id, i + 1),
                        text,
                        relevant: vec![e.id.clone()],
                    });
                } else {
                    e.similar.push(text);
                }
            }
        }
        let rest = Suggester::build_with(&kept, &phrases, None, Arc::clone(&analyzer))?
            .with_threshold(suggester.threshold());
        tally.add(&rest, &queries)?;
    }
    Ok(tally.report(suggester.threshold(), Some(rounds)))
}

/// Measures how often kefu answers what its knowledge base cannot: round r leaves out every
/// eighth entry (those at r, r + 8, …) and asks their questions and similar questions of the
/// rest (with the same analysis and phrases). No first suggestion can be right, so the share
/// answered is the share wrongly answered, and the saved run gives `scripts/fit-confidence` the
/// questions without an answer that customers also send. An error for an empty knowledge base.
pub fn absent(suggester: &Suggester) -> Result<Report, Error> {
    let (entries, phrases) = suggester.contents();
    if entries.len() < 2 {
        return Err(Error::Invalid(
            "leaving entries out needs a knowledge base of two entries or more".to_owned(),
        ));
    }
    let analyzer = suggester.analyzer();
    let rounds = MAX_ROUNDS.min(entries.len());
    let mut tally = Tally::default();
    for round in 0..rounds {
        let left_out = |i: usize| i % rounds == round;
        let kept: Vec<KbEntry> = (entries.iter().enumerate())
            .filter(|&(i, _)| !left_out(i))
            .map(|(_, e)| e.clone())
            .collect();
        let queries: Vec<EvalQuery> = (entries.iter().enumerate())
            .filter(|&(i, _)| left_out(i))
            .flat_map(|(_, e)| {
                let texts = std::iter::once(&e.question).chain(&e.similar);
                texts.enumerate().map(|(i, text)| EvalQuery {
                    qid: format!("{}~{i}", e.id),
                    text: text.clone(),
                    relevant: vec![e.id.clone()],
                })
            })
            .collect();
        let rest = Suggester::build_with(&kept, &phrases, None, Arc::clone(&analyzer))?
            .with_threshold(suggester.threshold());
        tally.add(&rest, &queries)?;
    }
    let mut report = tally.report(suggester.threshold(), Some(rounds));
    report.entries_left_out = true;
    Ok(report)
}

/// Counts over the queries run so far.
#[derive(Default)]
struct Tally {
    unanswered: usize,
    answered_right: usize,
    latencies: Vec<f64>,
    misses: Vec<Miss>,
    ranks: Vec<QueryRank>,
}

impl Tally {
    fn add(&mut self, suggester: &Suggester, queries: &[EvalQuery]) -> Result<(), Error> {
        let questions: HashMap<&str, &str> = suggester
            .entries()
            .iter()
            .map(|e| (e.id.as_str(), e.question.as_str()))
            .collect();
        for q in queries {
            let start = Instant::now();
            let hits = suggester.search(&q.text, 10)?;
            self.latencies.push(start.elapsed().as_secs_f64() * 1e6);
            let rank = hits
                .iter()
                .position(|h| q.relevant.iter().any(|r| r == h.id()));
            self.ranks.push(QueryRank {
                qid: q.qid.clone(),
                text: q.text.clone(),
                rank: rank.map(|r| r + 1),
                first: hits.first().map(|h| First {
                    confidence: h.confidence,
                    evidence: h.evidence,
                }),
            });
            if rank != Some(0) {
                self.misses.push(Miss {
                    qid: q.qid.clone(),
                    text: q.text.clone(),
                    expected: q
                        .relevant
                        .iter()
                        .map(|id| {
                            (
                                id.clone(),
                                questions
                                    .get(id.as_str())
                                    .map(|q| q.to_string())
                                    .unwrap_or_default(),
                            )
                        })
                        .collect(),
                    rank: rank.map(|r| r + 1),
                    same_answer_at: hits
                        .iter()
                        .position(|h| h.also.iter().any(|a| q.relevant.iter().any(|r| r == a)))
                        .map(|r| r + 1),
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
        let n = self.ranks.len().max(1) as f64;
        self.latencies.sort_by(f64::total_cmp);
        let latencies = &self.latencies;
        let pct = |p: f64| {
            if latencies.is_empty() {
                0.0
            } else {
                latencies[((latencies.len() - 1) as f64 * p).round() as usize]
            }
        };
        let queries = self.ranks.len();
        let answered = queries - self.unanswered;
        let figures = Figures::of(self.ranks.iter().map(|r| r.rank));
        let firsts = firsts(&self.ranks);
        Report {
            queries,
            held_out_rounds,
            entries_left_out: false,
            recall_at_1: figures.recall_at_1,
            recall_at_5: figures.recall_at_5,
            mrr: figures.mrr,
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
            reliability: reliability(&firsts),
            for_precision: None,
            misses: self.misses,
            ranks: self.ranks,
        }
    }
}

/// Parses a JSONL query file; bad lines are errors naming their line.
pub fn parse_queries(text: &str) -> (Vec<EvalQuery>, Vec<super::kb::LineError>) {
    let (queries, errors) = super::kb::json_lines(text);
    (queries.into_iter().map(|(_, q)| q).collect(), errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reliability_bands_and_the_threshold_for_a_precision() {
        let firsts = [
            (0.95, true),
            (0.9, true),
            (0.9, false),
            (0.72, true),
            (0.55, false),
            (0.3, true),
            (1.0, true),
        ];
        let bands = reliability(&firsts);
        assert_eq!(bands.len(), 10);
        let nine = &bands[9];
        assert_eq!(
            (nine.queries, nine.right),
            (4, 3),
            "1.0 falls in the last band"
        );
        assert_eq!(
            (bands[7].queries, bands[5].queries, bands[3].queries),
            (1, 1, 1)
        );
        // Sorted: 1.0 ✓, 0.95 ✓, 0.9 ✓ ✗ (a tie goes in whole), 0.72 ✓, 0.55 ✗, 0.3 ✓.
        let t = threshold_for(&firsts, 8, 0.8);
        assert_eq!(t.threshold, Some(0.72));
        assert!((t.answered - 5.0 / 8.0).abs() < 1e-9 && (t.reached - 0.8).abs() < 1e-9);
        assert_eq!(threshold_for(&firsts, 8, 1.0).threshold, Some(0.95));
        let never = threshold_for(&[(0.9, false)], 1, 0.5);
        assert_eq!((never.threshold, never.answered), (None, 0.0));
    }

    #[test]
    fn entries_left_out_can_only_be_answered_wrongly() {
        let kb = crate::suggest::kb::parse::<KbEntry>(concat!(
            "id,question,similar,answer\n",
            "a,运费险怎么理赔,运费险怎么赔|运费险理赔流程,退货后自动理赔。\n",
            "b,发票怎么开,能开发票吗,请在订单页申请开票。\n",
            "c,什么时候发货,多久发货,付款后48小时内发货。\n",
        ))
        .dedup_last_wins(|e| &e.id);
        let s = Suggester::build(&kb, &[], None).unwrap();
        let r = absent(&s).unwrap();
        assert_eq!(r.queries, 7);
        assert_eq!((r.recall_at_1, r.held_out_rounds), (0.0, Some(3)));
        assert!(r.entries_left_out);
        let one = Suggester::build(&kb[..1], &[], None).unwrap();
        assert!(absent(&one).is_err());
    }
    use crate::suggest::kb::KbEntry;

    fn entry(id: &str, question: &str, similar: &[&str], answer: &str) -> KbEntry {
        KbEntry {
            id: id.to_owned(),
            question: question.to_owned(),
            similar: similar.iter().map(|s| s.to_string()).collect(),
            answer: answer.to_owned(),
            category: String::new(),
            tags: Vec::new(),
        }
    }

    /// A relevant entry folded into a suggestion with its very answer is still a miss, and the
    /// miss says where that answer was offered.
    #[test]
    fn a_relevant_entry_folded_into_its_twin_is_a_miss_that_says_so() {
        let call = "您可以于当地拨打00-800-800-95516咨询。";
        let kb = [
            entry("uk", "英国银联客服电话", &[], call),
            entry("fr", "法国银联客服电话", &[], call),
            entry("home", "国内银联客服电话是多少", &[], "请您拨打95516。"),
        ];
        let s = Suggester::build(&kb, &[], None).unwrap();
        let query = |qid: &str, text: &str, relevant: &str| EvalQuery {
            qid: qid.to_owned(),
            text: text.to_owned(),
            relevant: vec![relevant.to_owned()],
        };
        let r = run(
            &s,
            &[
                query("q1", "在英國怎麼聯繫銀聯客服😥", "fr"),
                query("q2", "在法国打什么客服电话", "fr"),
            ],
        )
        .unwrap();
        assert_eq!(
            r.recall_at_1, 0.5,
            "only the French question finds `fr` itself"
        );
        assert_eq!(r.misses.len(), 1);
        let miss = &r.misses[0];
        assert_eq!((miss.qid.as_str(), miss.rank), ("q1", None));
        assert_eq!(miss.same_answer_at, Some(1));
        assert_eq!(miss.got.as_ref().map(|g| g.0.as_str()), Some("uk"));
    }

    #[test]
    fn holdout_asks_every_similar_question_once_in_at_most_eight_rounds() {
        let refund = [
            "怎么退钱",
            "退款怎么申请",
            "我想退款",
            "能退錢嗎",
            "不想要了能退吗",
            "退款流程是什么",
            "申请退款在哪里",
            "钱能退回来吗",
            "退款要多久",
            "退款😭",
        ];
        let kb = [
            entry(
                "refund",
                "怎么申请退款？",
                &refund,
                "您好，请在订单页面申请退款。",
            ),
            entry(
                "ship",
                "什么时候发货？",
                &["几时发货"],
                "您好，付款后48小时内发货。",
            ),
            entry("invoice", "能开发票吗？", &[], "您好，可以开具电子发票。"),
        ];
        let s = Suggester::build(&kb, &[], None).unwrap();
        let r = holdout(&s).unwrap();
        assert_eq!(r.queries, refund.len() + 1);
        assert_eq!(r.held_out_rounds, Some(8));
        // With its main question still indexed, a held-out paraphrase finds its entry.
        assert!(r.recall_at_5 >= 0.9, "{r:?}");

        // Nothing to hold out: an error that says what to do instead.
        let bare = [entry(
            "invoice",
            "能开发票吗？",
            &[],
            "您好，可以开具电子发票。",
        )];
        let e = holdout(&Suggester::build(&bare, &[], None).unwrap()).unwrap_err();
        assert!(e.to_string().contains("--queries"), "{e}");
    }
}
