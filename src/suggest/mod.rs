//! Reply suggestion: finds the best answers for a customer question in the knowledge base and
//! phrase library (tantivy + jieba), says honestly when none is good enough, fills `{variables}`
//! and lints every answer it offers.

pub mod analyze;
pub mod confidence;
pub mod eval;
pub mod feedback;
pub mod gaps;
pub mod index;
pub mod journal;
pub mod kb;
pub mod learn;
pub mod mine;
pub mod overlap;
pub mod panel;
pub mod recorder;
pub mod semantic;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use regex::Regex;
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::lint::{LintRequest, LintResult, Linter};
use crate::text::Normalized;
use crate::text::normalize::in_script;
use analyze::Analyzer;
pub use confidence::{Closeness, Evidence};
use index::{KbIndex, WeightedTerm};
use kb::{KbEntry, Phrase};
use overlap::Overlap;

/// Characters of a question that are searched (its first ones).
pub const MAX_QUESTION_CHARS: usize = 1_000;

/// Below this confidence the best suggestion is not offered as an answer (see
/// `Evidence::confidence`). With meaning, on the evaluation FAQ 90 % of the questions answered
/// at 0.6 have the right entry first, and of the shipped knowledge base's questions asked with
/// their entry left out 5 % are answered (BENCHMARKS.md).
pub const DEFAULT_THRESHOLD: f32 = 0.6;

/// `threshold` if it is a confidence (0–1), else what is wrong with it: for every place a
/// threshold is given (flags, environment, the config file).
pub fn check_threshold(threshold: f32) -> Result<f32, String> {
    if (0.0..=1.0).contains(&threshold) {
        Ok(threshold)
    } else {
        Err(format!(
            "the confidence threshold must be between 0 and 1, not {threshold}"
        ))
    }
}
/// Most suggestions one request may ask for.
pub const MAX_K: usize = 50;

/// Field weights, measured with `kefu eval` (see BENCHMARKS.md). Single characters weigh most
/// because there are many of each and their IDF is low; a shared rare word still decides.
const W_QUESTION_WORDS: f32 = 1.0;
const W_QUESTION_BIGRAMS: f32 = 0.6;
const W_QUESTION_CHARS: f32 = 2.0;
const W_ANSWER_WORDS: f32 = 0.5;
/// Weight of the ordered character overlap (`overlap::Overlap::similarity`, 0–1) beside the
/// BM25 evidence scaled to 0–1 by the best candidate's. Anywhere from 0.3 to 0.5 ranks the
/// evaluation set the same to within half a point.
const W_ORDER: f32 = 0.4;
/// Documents taken from the index's first stage to be rescored with characters and grouped by
/// entry: at least this many, and four per suggestion asked for (an entry can fill several
/// places with its variants). On the evaluation set ranking is the same from 30 up to 200.
const CANDIDATES: usize = 50;
const CANDIDATES_PER_SUGGESTION: usize = 4;
/// Candidates reranked with the ordered overlap: at least this many, and two per suggestion
/// asked for. On the evaluation set ranking is the same from 10 up to all 50.
const RERANKED: usize = 20;

/// Weight of the semantic similarity (standardised over the entries, see `semantic`) beside
/// the lexical score. On the evaluation FAQ (BENCHMARKS.md) 0.2 to 0.5 rank within a point of
/// each other; more lets meaning override a shared rare word.
const W_MEANING: f32 = 0.3;
/// Entries nearest in meaning that join the lexical candidates even when they share no word.
const MEANING_CANDIDATES: usize = 10;

/// Sentences of one message asked alone (`Suggester::search`), at most.
const MAX_SENTENCES: usize = 8;

/// Where a suggestion comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Kb,
    Phrase,
}

/// One suggested answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub id: String,
    pub source: Source,
    /// The knowledge-base question (or the phrase's scene).
    pub question: String,
    /// The variant (question or similar question) that matched best.
    pub matched_question: String,
    /// The answer, with variables filled from the request.
    pub answer: String,
    /// The ranking score: the BM25 evidence relative to the best candidate's (at most 1), plus
    /// the weighted ordered character overlap, plus (with the model) 0.3 × the entry's
    /// similarity in meaning standardised over the knowledge base. It orders the suggestions of
    /// one request; use `confidence` to compare across requests.
    pub score: f32,
    /// 0–1: the estimated chance that this is the right answer (1 for a question the knowledge
    /// base holds word for word under one answer); `answered` when the first one reaches the
    /// threshold (default 0.6). `kefu eval` shows how it holds on a shop's own questions.
    pub confidence: f32,
    /// Query terms found in the matched question or answer.
    pub matched: Vec<String>,
    /// Other entries with the very same answer that matched too, lower: the answer is offered
    /// once, and their places go to other answers.
    pub also: Vec<String>,
    /// Variables the answer uses that the request did not fill (left as `{name}`).
    pub missing_vars: Vec<String>,
    pub category: String,
    /// The answer's own lint result: an agent is never offered an impolite reply unawares.
    pub lint: LintResult,
}

/// The result of one suggestion request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestResult {
    /// Whether the best suggestion is confident enough to offer.
    pub answered: bool,
    /// The top-k found, best first, offered or not.
    pub suggestions: Vec<Suggestion>,
}

/// A question to answer.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestRequest {
    /// The customer's question; not blank.
    #[schema(min_length = 1, pattern = r"\S")]
    pub question: String,
    /// How many suggestions, 1–50 (default 3).
    #[serde(default = "default_k", deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 50)]
    pub k: usize,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Whether an unanswered question goes into the gap log (default true). Clients that look
    /// up as the user types send `false`, so half-typed questions are not recorded.
    #[serde(default = "yes")]
    pub record: bool,
}

fn yes() -> bool {
    true
}

fn default_k() -> usize {
    3
}

/// A count written as `5` or `5.0` (JSON has one number type; some clients send floats).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = f64::deserialize(d)?;
    if n.fract() == 0.0 && (0.0..=(u32::MAX as f64)).contains(&n) {
        Ok(n as usize)
    } else {
        Err(serde::de::Error::custom(format!(
            "expected a whole number, not {n}"
        )))
    }
}

impl SuggestRequest {
    pub fn new(question: impl Into<String>) -> Self {
        Self {
            question: question.into(),
            ..Self::default()
        }
    }
}

/// The same defaults a JSON request gets for the fields it leaves out.
impl Default for SuggestRequest {
    fn default() -> Self {
        Self {
            question: String::new(),
            k: default_k(),
            vars: BTreeMap::new(),
            record: true,
        }
    }
}

/// Where a suggester's knowledge base and phrase library come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub kb: Option<PathBuf>,
    pub phrases: Option<PathBuf>,
    /// An on-disk index built by `kefu kb import`; the files are not read when it is given.
    pub index: Option<PathBuf>,
    /// No phrase library at all when `phrases` is not given (instead of the shipped one).
    pub no_phrases: bool,
    /// The shop's own synonyms (`lexicons/synonyms.txt` format), added to the shipped ones.
    /// An on-disk index keeps those it was built with.
    pub synonyms: Option<PathBuf>,
}

impl Sources {
    /// Opens the index, or indexes the files in memory (the shipped ones where none is named).
    /// Bad lines are handed to `warn` with their file and skipped.
    pub fn open(&self, mut warn: impl FnMut(&Path, &kb::LineError)) -> Result<Suggester, Error> {
        if let Some(dir) = &self.index {
            if let Some(s) = &self.synonyms {
                return Err(Error::Invalid(format!(
                    "{}: an on-disk index keeps the synonyms it was built with; to change them, \
                     import it again with `kefu kb import FILE --synonyms {} --index {}`",
                    s.display(),
                    s.display(),
                    dir.display()
                )));
            }
            return Suggester::open(dir);
        }
        let analyzer = self.analyzer()?;
        let entries = match &self.kb {
            Some(p) => kb::load_file::<KbEntry>(p, |e| &e.id, &mut warn)?,
            None => kb::parse::<KbEntry>(kb::DEFAULT_KB).dedup_last_wins(|e| &e.id),
        };
        let phrases = self.phrase_file(&mut warn)?;
        Suggester::build_with(&entries, &phrases, None, analyzer)
    }

    /// The phrase library alone, in its own order, with nothing indexed but an on-disk index
    /// opened: what a quick-reply panel lists. Bad lines go to `warn` as for `open`.
    pub fn phrases(
        &self,
        mut warn: impl FnMut(&Path, &kb::LineError),
    ) -> Result<Vec<Phrase>, Error> {
        match &self.index {
            Some(dir) => Ok(Suggester::open(dir)?.phrases()),
            None => self.phrase_file(&mut warn),
        }
    }

    /// The named phrase library, none, or the shipped one.
    fn phrase_file(
        &self,
        warn: &mut impl FnMut(&Path, &kb::LineError),
    ) -> Result<Vec<Phrase>, Error> {
        Ok(match &self.phrases {
            Some(p) => kb::load_file::<Phrase>(p, |p| &p.id, warn)?,
            None if self.no_phrases => Vec::new(),
            None => kb::parse::<Phrase>(kb::DEFAULT_PHRASES).dedup_last_wins(|p| &p.id),
        })
    }

    /// The shipped analysis, plus the shop's synonyms when a file is named.
    pub fn analyzer(&self) -> Result<Arc<Analyzer>, Error> {
        match &self.synonyms {
            None => Ok(Arc::clone(Analyzer::shipped())),
            Some(path) => Ok(Arc::new(Analyzer::with_shop_synonyms(
                &kb::read_file(path)?,
                &path.display().to_string(),
            )?)),
        }
    }
}

/// The knowledge base and phrase library, indexed. Cheap to share across threads.
pub struct Suggester {
    kb: KbIndex,
    /// Entries embedded for meaning, when a model is there (`semantic::encoder`).
    semantic: Option<semantic::Semantic>,
    threshold: f32,
}

impl std::fmt::Debug for Suggester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suggester")
            .field("docs", &self.kb.num_docs())
            .finish()
    }
}

impl Suggester {
    /// The shipped knowledge base and phrase library, indexed in memory.
    pub fn with_defaults() -> Result<Self, Error> {
        let kb = kb::parse::<KbEntry>(kb::DEFAULT_KB).dedup_last_wins(|e| &e.id);
        let phrases = kb::parse::<Phrase>(kb::DEFAULT_PHRASES).dedup_last_wins(|p| &p.id);
        Self::build(&kb, &phrases, None)
    }

    /// Indexes `kb` and `phrases`, in memory or in `dir`, with the shipped analysis.
    pub fn build(kb: &[KbEntry], phrases: &[Phrase], dir: Option<&Path>) -> Result<Self, Error> {
        Self::build_with(kb, phrases, dir, Arc::clone(Analyzer::shipped()))
    }

    /// Indexes `kb` and `phrases` with `analyzer` (the shipped tables plus a shop's synonyms);
    /// an index in `dir` keeps the shop's synonyms beside it and is opened with them.
    pub fn build_with(
        kb: &[KbEntry],
        phrases: &[Phrase],
        dir: Option<&Path>,
        analyzer: Arc<Analyzer>,
    ) -> Result<Self, Error> {
        Ok(Self::with_index(KbIndex::build(
            kb, phrases, dir, analyzer,
        )?))
    }

    /// Opens an on-disk index.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        Ok(Self::with_index(KbIndex::open(dir)?))
    }

    /// Opens the on-disk index in `dir` as it is now (after a write), taking from this
    /// suggester, an earlier open of the same directory, what is unchanged: the documents and
    /// postings of the segments both hold and the vectors of unchanged entries. Costs about
    /// what the write changed, not the whole knowledge base. Keeps the threshold.
    pub fn reopen(&self, dir: &Path) -> Result<Self, Error> {
        let kb = self.kb.reopen(dir)?;
        let same_analysis = Arc::ptr_eq(&kb.analyzer, &self.kb.analyzer);
        let previous = self.semantic.as_ref().filter(|_| same_analysis);
        Ok(Self::with_index_after(kb, previous).with_threshold(self.threshold))
    }

    fn with_index(kb: KbIndex) -> Self {
        Self::with_index_after(kb, None)
    }

    fn with_index_after(kb: KbIndex, previous: Option<&semantic::Semantic>) -> Self {
        let semantic = semantic::encoder().map(|encoder| {
            let docs = kb.docs();
            let entries = docs.iter().map(|d| d.entry as usize + 1).max().unwrap_or(0);
            let normalize = |t: &str| kb.analyzer.normalize(t);
            semantic::Semantic::build(encoder, docs, entries, normalize, previous)
        });
        Self {
            kb,
            semantic,
            threshold: DEFAULT_THRESHOLD,
        }
    }

    /// Whether answers are also found by meaning (a model is loaded), besides shared words.
    /// A question's embedding (a unit vector) as a search takes it, when this suggester ranks
    /// by meaning: from the recent ones when it was searched lately.
    pub fn meaning_of(&self, question: &str) -> Option<Arc<[f32]>> {
        let analyzer = self.analyzer();
        (self.semantic.as_ref()).map(|s| s.vector(&analyzer.normalize(question)))
    }

    pub fn semantic(&self) -> bool {
        self.semantic.is_some()
    }

    pub fn with_threshold(mut self, threshold: f32) -> Self {
        self.threshold = threshold;
        self
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The knowledge-base entries, in id order.
    pub fn entries(&self) -> &[KbEntry] {
        self.kb.entries()
    }

    /// The knowledge-base entry `id`, if there is one.
    pub fn entry(&self, id: &str) -> Option<&KbEntry> {
        self.kb.entry(id)
    }

    /// The phrase library, in its own order.
    pub fn phrases(&self) -> Vec<Phrase> {
        self.kb.phrases()
    }

    /// The phrase library as a quick-reply panel shows it: every scene, and the phrases of
    /// `scene` (all of them without one), each with its variables and lint result.
    pub fn phrase_panel(&self, linter: &Linter, scene: Option<&str>) -> panel::PhraseList {
        panel::list(&self.kb.phrases(), linter, scene)
    }

    /// The knowledge-base entries and the phrases, in id order: what this was built from.
    pub fn contents(&self) -> (Vec<KbEntry>, Vec<Phrase>) {
        self.kb.contents()
    }

    /// How this suggester analyses text (the shipped tables and the shop's synonyms).
    pub fn analyzer(&self) -> Arc<Analyzer> {
        Arc::clone(&self.kb.analyzer)
    }

    /// Rebuilds the on-disk index in `dir` from its own contents with this kefu's analysis
    /// (see `KbIndex::reindex`); returns the entries and phrases re-indexed.
    pub fn reindex(dir: &Path) -> Result<(usize, usize), Error> {
        KbIndex::reindex(dir)
    }

    /// Writes changes to the on-disk index in `dir`; returns once they are durable. The
    /// changes are seen by `Suggester::open(dir)` (or `reopen`), not by this one.
    pub fn update(dir: &Path, upserts: &[KbEntry], deletes: &[String]) -> Result<(), Error> {
        KbIndex::update(dir, upserts, deletes)
    }

    /// Number of indexed documents (question variants and phrase triggers).
    pub fn num_docs(&self) -> u64 {
        self.kb.num_docs()
    }

    /// The top `k` answers for a question. An empty question or a `k` out of 1..=50 is an error.
    pub fn suggest(&self, linter: &Linter, req: &SuggestRequest) -> Result<SuggestResult, Error> {
        if req.question.trim().is_empty() {
            return Err(Error::Invalid("`question` is empty".to_owned()));
        }
        if !(1..=MAX_K).contains(&req.k) {
            return Err(Error::Invalid(format!(
                "`k` must be between 1 and {MAX_K}, not {}",
                req.k
            )));
        }
        let hits = self.search(&req.question, req.k)?;
        let script = Normalized::new(&req.question).script;
        let answered = hits.first().is_some_and(|h| h.confidence >= self.threshold);
        let suggestions = hits
            .into_iter()
            .map(|h| {
                // Answer in the customer's script; the caller's variables go in as given.
                let template = in_script(&h.doc.answer, script);
                let (answer, missing_vars) = fill_vars(&template, &req.vars);
                // The shop's own answer: its meaning is judged once by `kefu kb check`, not
                // on every suggestion.
                let lint = linter.lint(&LintRequest {
                    skip_meaning: true,
                    ..LintRequest::new(&answer)
                });
                Suggestion {
                    id: h.doc.id.clone(),
                    source: h.source(),
                    // A phrase's "question" is its scene, as a panel shows it (问候).
                    question: match h.source() {
                        Source::Phrase => panel::scene_label(&h.doc.question).to_owned(),
                        _ => h.doc.question.clone(),
                    },
                    matched_question: h.doc.variant.clone(),
                    answer,
                    score: h.score,
                    confidence: h.confidence,
                    matched: h.matched,
                    also: h.also.iter().map(|id| id.to_string()).collect(),
                    missing_vars,
                    category: h.doc.category.clone(),
                    lint,
                }
            })
            .collect();
        Ok(SuggestResult {
            answered,
            suggestions,
        })
    }

    /// Ranked entries for a question, without filling or linting: what `eval` measures.
    ///
    /// The index's first stage scores every document by BM25 over the words of the question
    /// variant, its character bigrams and the answer's words, each term also weighed by its
    /// rarity in general Chinese; the best candidates add BM25 of single characters (for
    /// paraphrases that share no whole word: 单子 and 签购单), then the leading ones are
    /// reranked with the ordered character overlap. Variants are grouped by entry, the best one
    /// standing for it.
    ///
    /// A message that asks several things in several sentences (还没发货能退款吗？另外能开发票吗)
    /// covers each answer only in part; an entry that is the best answer to one of its
    /// sentences asked alone is as sure as that sentence makes it, but no surer than the
    /// suggestions above it. The ranking stays the whole message's.
    ///
    /// Only the first [`MAX_QUESTION_CHARS`] characters are searched: a customer's message has
    /// asked its question well before, and a pasted page must cost no more than a message.
    pub fn search(&self, question: &str, k: usize) -> Result<Vec<Hit<'_>>, Error> {
        let question = match question.char_indices().nth(MAX_QUESTION_CHARS) {
            Some((end, _)) => &question[..end],
            None => question,
        };
        let mut hits = self.search_message(question, k)?;
        let sentences = sentences(question);
        if sentences.len() > 1 {
            // A customer asks a few things at once; a pasted wall of text is not asked
            // sentence by sentence beyond the first few.
            for sentence in sentences.into_iter().take(MAX_SENTENCES) {
                let Some(best) = self.search_message(sentence, 1)?.into_iter().next() else {
                    continue;
                };
                if let Some(hit) = hits.iter_mut().find(|h| h.doc.answer == best.doc.answer) {
                    hit.confidence = hit.confidence.max(best.confidence);
                }
            }
        }
        // A suggestion ranked below another is the right one less often (on the evaluation
        // set, of the 166 questions where a lower one covered them better, the first was right
        // for 41, the better-covering one for 11; a short sentence's best entry, 华为PAY安全吗
        // for 安全吗, is no surer): none is more confident than those above.
        let mut cap = 1.0f32;
        for hit in &mut hits {
            hit.confidence = hit.confidence.min(cap);
            cap = hit.confidence;
        }
        Ok(hits)
    }

    /// `search` of the whole message at once.
    fn search_message(&self, question: &str, k: usize) -> Result<Vec<Hit<'_>>, Error> {
        let analyzer = &self.kb.analyzer;
        let f = self.kb.fields;
        let analyze::Query {
            words,
            bigrams,
            chars: query_chars,
        } = analyzer.query(question);
        // Every term also counts by how rare it is in general Chinese (`everyday_weight`,
        // `bigram_weight`), in the index's score and in coverage.
        let word_rarity: Vec<f32> = words.iter().map(|t| analyzer.everyday_weight(t)).collect();
        let bigram_rarity: Vec<f32> = bigrams.iter().map(|t| analyzer.bigram_weight(t)).collect();
        let mut clauses: Vec<WeightedTerm<'_>> = Vec::new();
        for (t, &w) in words.iter().zip(&word_rarity) {
            clauses.push(WeightedTerm::new(f.q_words, t, W_QUESTION_WORDS * w));
            clauses.push(WeightedTerm::new(f.a_words, t, W_ANSWER_WORDS * w));
        }
        for (t, &w) in bigrams.iter().zip(&bigram_rarity) {
            clauses.push(WeightedTerm::new(f.q_bigrams, t, W_QUESTION_BIGRAMS * w));
        }
        let mut chars = self.kb.char_weights(query_chars.iter().copied());
        for (c, idf) in &mut chars {
            *idf *= analyzer.everyday_weight(c.encode_utf8(&mut [0; 4]));
        }
        // A message of filler alone (您好😊) asks nothing a knowledge base answers.
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let meaning = (self.semantic.as_ref()).map(|s| s.scores(&analyzer.normalize(question)));
        let (top, idf) = self
            .kb
            .top_docs(&clauses, CANDIDATES.max(k * CANDIDATES_PER_SUGGESTION));
        // The question's words and bigrams with their weight in the question fields, for coverage.
        let weighted = |text: String, rarity: f32, idf: f32| Weighted {
            weight: rarity * idf,
            id: self.kb.term_id(&text),
            text,
        };
        let words: Vec<Weighted> = words
            .into_iter()
            .zip(word_rarity)
            .zip(idf.iter().step_by(2))
            .map(|((t, rarity), &idf)| weighted(t, rarity, idf))
            .collect();
        let bigrams: Vec<Weighted> = bigrams
            .into_iter()
            .zip(bigram_rarity)
            .zip(&idf[2 * words.len()..])
            .map(|((t, rarity), &idf)| weighted(t, rarity, idf))
            .collect();
        // Characters are added to the index's score on the candidates (see `char_bm25`).
        let mut ranked: Vec<(f32, &index::DocInfo)> = top
            .into_iter()
            .filter_map(|(score, addr)| {
                let info = self.kb.info(addr)?;
                Some((
                    score + W_QUESTION_CHARS * self.kb.char_bm25(&chars, info),
                    info,
                ))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        // The leading candidates are reranked: their evidence relative to the best one's (so
        // the overlap's weight means the same for short and long questions) plus the ordered
        // overlap. Everything after them keeps its relative evidence, which is never above a
        // reranked candidate's score (the overlap only adds).
        if let Some(&(best, _)) = ranked.first().filter(|r| r.0 > 0.0) {
            let mut order = Overlap::new(&query_chars);
            let reranked = ranked.len().min(RERANKED.max(2 * k));
            for (i, (score, info)) in ranked.iter_mut().enumerate() {
                *score /= best;
                if i < reranked {
                    *score += W_ORDER * order.similarity(&info.chars);
                }
            }
            ranked[..reranked].sort_by(|a, b| b.0.total_cmp(&a.0));
        }
        // Meaning: every candidate gains its entry's standardised similarity, and the entries
        // nearest in meaning join with none of the lexical evidence (paraphrases that share
        // no word: 签字的单子 and 签购单).
        // (Not when no word matched at all: that question is off the knowledge base's topics,
        // and the nearest entries in meaning would only be the least far.)
        if let (Some(meaning), Some(semantic), false) =
            (&meaning, &self.semantic, ranked.is_empty())
        {
            let z = &meaning.standard;
            let mut nearest: Vec<u32> = (0..z.len() as u32).collect();
            let n = MEANING_CANDIDATES.max(k).min(nearest.len());
            if n > 0 {
                nearest.select_nth_unstable_by(n - 1, |&a, &b| {
                    z[b as usize].total_cmp(&z[a as usize])
                });
            }
            for &entry in &nearest[..n] {
                if !ranked.iter().any(|(_, d)| d.entry == entry) {
                    let doc = &self.kb.docs()[semantic.first_doc[entry as usize] as usize];
                    ranked.push((0.0, doc));
                }
            }
            for (score, doc) in &mut ranked {
                *score += W_MEANING * z[doc.entry as usize];
            }
            ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        }
        // The question as the index holds its variants' characters, to know a variant asked
        // word for word.
        let asked = overlap::Chars::new(&query_chars);
        let mut hits: Vec<Hit> = Vec::new();
        let mut seen = FxHashSet::default();
        for &(score, doc) in &ranked {
            if !seen.insert(doc.id.as_str()) {
                continue; // a better variant of this entry ranked first
            }
            // An entry with the very answer of one above offers nothing new: it is folded in.
            if let Some(twin) = hits.iter_mut().find(|h| h.doc.answer == doc.answer) {
                twin.also.push(doc.id.as_str());
                continue;
            }
            let (coverage, matched) = coverage(&words, &bigrams, doc);
            // The lead over the best candidate with another answer: negative below the top.
            let rival = ranked.iter().find(|(_, other)| other.answer != doc.answer);
            let is_asked = |d: &index::DocInfo| {
                !asked.is_empty() && d.chars.order == asked.order && d.chars.counts == asked.counts
            };
            let evidence = Evidence {
                coverage,
                lead: score - rival.map_or(0.0, |&(s, _)| s),
                exact: is_asked(doc),
                // Two knowledge-base answers to the very same question: a conflict in the KB
                // (phrases that share a trigger are alternatives of one scene).
                contested: rival.is_some_and(|(_, other)| {
                    is_asked(other) && other.source != "phrase" && doc.source != "phrase"
                }),
                meaning: meaning.as_ref().map(|m| {
                    let e = doc.entry as usize;
                    Closeness {
                        cosine: m.cosine[e],
                        standard: m.standard[e],
                        margin: m.margin(e).max(-1.0),
                    }
                }),
            };
            hits.push(Hit {
                doc,
                score,
                confidence: evidence.confidence(),
                evidence,
                matched,
                also: Vec::new(),
            });
            if hits.len() == k {
                break;
            }
        }
        Ok(hits)
    }

    /// Asks each recorded gap again and sets `answered_by` where the knowledge base now answers
    /// it: what a KB owner sees after adding the question, or a similar one, to an entry.
    pub fn recheck(&self, gaps: &mut [gaps::Gap]) -> Result<(), Error> {
        for gap in gaps {
            let hits = self.search(&gap.question, 1)?;
            gap.answered_by = (hits.first())
                .filter(|h| h.confidence >= self.threshold)
                .map(|h| h.id().to_owned());
        }
        Ok(())
    }

    /// How `question` is analysed for this index, and how many entries hold each of its terms:
    /// what `kefu kb analyze` shows a KB owner checking synonyms and filler words. An empty
    /// question is an error.
    pub fn analyze(&self, question: &str) -> Result<Analysis, Error> {
        if question.trim().is_empty() {
            return Err(Error::Invalid("`question` is empty".to_owned()));
        }
        let analyze::Explained {
            normalized,
            canonical,
            words,
            bigrams,
        } = self.kb.analyzer.explain(question);
        let f = self.kb.fields;
        Ok(Analysis {
            normalized,
            canonical,
            words: words
                .into_iter()
                .map(|word| WordInIndex {
                    questions: self.kb.entries_with(f.q_words, &word.searched_as),
                    answers: self.kb.entries_with(f.a_words, &word.searched_as),
                    word,
                })
                .collect(),
            bigrams: bigrams
                .into_iter()
                .map(|bigram| BigramInIndex {
                    questions: self.kb.entries_with(f.q_bigrams, &bigram),
                    bigram,
                })
                .collect(),
        })
    }
}

/// A question as analysed for an index (`Suggester::analyze`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Analysis {
    /// Traditional→Simplified, width and case folded, the shop's synonyms replaced.
    pub normalized: String,
    /// The normalised text with every word in its canonical spelling: what the characters and
    /// bigrams are taken from.
    pub canonical: String,
    pub words: Vec<WordInIndex>,
    pub bigrams: Vec<BigramInIndex>,
}

/// A word of an analysed question, and how many entries hold the term it is searched as.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WordInIndex {
    #[serde(flatten)]
    pub word: analyze::AnalysedWord,
    /// Entries (and phrases) with it in their question or a similar one.
    pub questions: usize,
    /// Entries (and phrases) with it in their answer.
    pub answers: usize,
}

/// A character bigram of an analysed question, and how many entries' questions hold it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BigramInIndex {
    pub bigram: String,
    pub questions: usize,
}

/// A ranked entry before filling and linting.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    /// The variant that matched best, with its entry's stored fields.
    pub doc: &'a index::DocInfo,
    pub score: f32,
    pub confidence: f32,
    pub evidence: Evidence,
    pub matched: Vec<String>,
    /// Lower-ranked entries with the very same answer, folded into this one.
    pub also: Vec<&'a str>,
}

impl Hit<'_> {
    pub fn id(&self) -> &str {
        &self.doc.id
    }

    pub fn source(&self) -> Source {
        if self.doc.source == "phrase" {
            Source::Phrase
        } else {
            Source::Kb
        }
    }
}

/// Coverage, 0–1, the first factor of a suggestion's confidence: the IDF-weighted share of the
/// customer's words found in the matched question, averaged with the same share of its
/// character bigrams. It means the same thing for every query — 1.0 when everything the
/// customer asked about is in the knowledge-base question, 0.5 when half of it is — which is
/// why one threshold serves all queries. Also returns the query words found.
/// The sentences of a message, split at sentence-final punctuation (either width) and line
/// ends; those with no letter or digit are left out.
fn sentences(message: &str) -> Vec<&str> {
    message
        .split(['。', '？', '！', '；', '?', '!', ';', '\n', '…'])
        .filter(|s| s.chars().any(char::is_alphanumeric))
        .collect()
}

fn coverage(words: &[Weighted], bigrams: &[Weighted], doc: &index::DocInfo) -> (f32, Vec<String>) {
    let share = |terms: &[Weighted], have: &[u32]| {
        // Folds from +0.0: an empty float sum is −0.0, which would print as a confidence of -0.00.
        let all = terms.iter().fold(0.0, |sum, t| sum + t.weight);
        let hit = terms
            .iter()
            .filter(|t| t.is_in(have))
            .fold(0.0, |sum, t| sum + t.weight);
        if all > 0.0 { hit / all } else { 0.0 }
    };
    let matched = words
        .iter()
        .filter(|t| t.is_in(&doc.terms))
        .map(|t| t.text.clone())
        .collect();
    (
        (share(words, &doc.terms) + share(bigrams, &doc.bigrams)) / 2.0,
        matched,
    )
}

/// A term of the question with its weight, and its id in the index's vocabulary if any
/// question variant has it.
struct Weighted {
    text: String,
    weight: f32,
    id: Option<u32>,
}

impl Weighted {
    /// Whether a document's sorted term ids hold this term.
    fn is_in(&self, ids: &[u32]) -> bool {
        self.id.is_some_and(|id| ids.binary_search(&id).is_ok())
    }
}

/// A `{name}` variable of an answer, the name captured.
pub(crate) fn variable() -> &'static Regex {
    static VAR: OnceLock<Regex> = OnceLock::new();
    VAR.get_or_init(|| Regex::new(r"\{([A-Za-z_][A-Za-z0-9_]*)\}").expect("valid regex"))
}

/// Fills `{name}` variables from `vars`; unknown ones stay visible and are reported.
pub fn fill_vars(answer: &str, vars: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let re = variable();
    let mut missing = Vec::new();
    let filled = re.replace_all(answer, |c: &regex::Captures<'_>| match vars.get(&c[1]) {
        Some(v) => v.clone(),
        None => {
            if !missing.contains(&c[1].to_owned()) {
                missing.push(c[1].to_owned());
            }
            c[0].to_owned()
        }
    });
    (filled.into_owned(), missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_and_missing_ones_reported() {
        let vars = BTreeMap::from([("name".to_owned(), "张先生".to_owned())]);
        let (s, missing) = fill_vars("{name}您好，订单{order_id}已发货，{name}请查收", &vars);
        assert_eq!(s, "张先生您好，订单{order_id}已发货，张先生请查收");
        assert_eq!(missing, ["order_id"]);
    }
}

#[cfg(test)]
mod retrieval_tests {
    use super::*;

    fn shipped() -> &'static (Suggester, Linter) {
        static S: OnceLock<(Suggester, Linter)> = OnceLock::new();
        S.get_or_init(|| {
            (
                Suggester::with_defaults().unwrap(),
                Linter::with_defaults().unwrap(),
            )
        })
    }

    fn top(question: &str) -> SuggestResult {
        let (s, l) = shipped();
        s.suggest(l, &SuggestRequest::new(question)).unwrap()
    }

    /// A suggester reopened after each of many writes (new, changed and deleted entries, and
    /// the merges they cause), taking over what the earlier open read, holds what one opened
    /// afresh holds and answers as it does; and it did take over the unchanged segments.
    #[test]
    fn a_reopen_after_writes_answers_as_a_fresh_open() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let shipped_kb = kb::parse::<KbEntry>(kb::DEFAULT_KB).dedup_last_wins(|e| &e.id);
        let phrases = kb::parse::<Phrase>(kb::DEFAULT_PHRASES).dedup_last_wins(|p| &p.id);
        Suggester::build(&shipped_kb, &phrases, Some(dir)).unwrap();
        let mut s = Suggester::open(dir).unwrap().with_threshold(0.5);
        let linter = &shipped().1;
        let questions = [
            "还没发货能退款吗",
            "發票怎麼開？",
            "第7个新问题怎么处理",
            "快递到哪了😊",
            "换货运费谁出呢",
        ];
        let untouched = shipped_kb.last().unwrap().id.clone();
        for round in 0..40 {
            let changed = &shipped_kb[round % (shipped_kb.len() - 1)];
            let upserts = vec![
                KbEntry {
                    id: format!("new-{round}"),
                    question: format!("第{round}个新问题怎么处理"),
                    similar: vec![format!("第{round}个问题咋办")],
                    answer: "您好，请您稍等，我为您查询。".to_owned(),
                    category: String::new(),
                    tags: Vec::new(),
                },
                KbEntry {
                    similar: vec![format!("{}呢", changed.question)],
                    answer: format!("{}（第{round}次修改）", changed.answer),
                    ..changed.clone()
                },
            ];
            let deletes: Vec<String> = (round % 3 == 2)
                .then(|| format!("new-{}", round - 2))
                .into_iter()
                .collect();
            Suggester::update(dir, &upserts, &deletes).unwrap();
            let reopened = s.reopen(dir).unwrap();
            let kept = |a: &Suggester, b: &Suggester| {
                let first = |s: &Suggester| {
                    let doc = s.kb.docs().iter().find(|d| d.id == untouched).unwrap();
                    &**doc as *const index::DocFields
                };
                std::ptr::eq(first(a), first(b))
            };
            if round % 8 == 7 {
                let fresh = Suggester::open(dir).unwrap().with_threshold(0.5);
                assert!(!kept(&fresh, &reopened), "a fresh open reads everything");
                let listed = |s: &Suggester| {
                    let docs = s.kb.docs().iter();
                    docs.map(|d| (d.entry, d.id.clone(), d.variant.clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(listed(&reopened), listed(&fresh), "round {round}");
                assert_eq!(reopened.entries(), fresh.entries());
                assert_eq!(reopened.threshold(), 0.5);
                for q in questions {
                    let answer = |s: &Suggester| {
                        let mut req = SuggestRequest::new(q);
                        req.k = 10;
                        serde_json::to_value(s.suggest(linter, &req).unwrap()).unwrap()
                    };
                    assert_eq!(answer(&reopened), answer(&fresh), "round {round}: {q}");
                }
            }
            // The segment holding the untouched entry is only ever merged away; most rounds
            // it is shared.
            if round == 0 {
                assert!(kept(&s, &reopened), "the unchanged segment was read again");
            }
            s = reopened;
        }
        // A directory with no index in it is an error naming it; the suggester is untouched.
        let nowhere = scratch.path().join("没有索引");
        let e = s.reopen(&nowhere).unwrap_err().to_string();
        assert!(e.contains("没有索引") && e.contains("no index here"), "{e}");
        assert!(s.entry("new-39").is_some());
    }

    /// A message asking two things in two sentences is answered: each sentence's best entry
    /// is as sure as that sentence alone makes it, in either script; the ranking is the whole
    /// message's.
    #[test]
    fn a_message_of_two_questions_is_answered() {
        for message in [
            "还没发货能退款吗？另外能开发票吗",
            "還沒發貨能退款嗎？另外能開發票嗎🙏",
            "还没发货能退款吗\n能开发票吗",
        ] {
            let r = top(message);
            assert!(r.answered, "{message}: {r:?}");
            for id in ["refund-before-ship", "invoice-how"] {
                let s = r.suggestions.iter().find(|s| s.id == id);
                assert!(
                    s.is_some_and(|s| s.confidence >= 0.5),
                    "{message}: {id} in {r:?}"
                );
            }
            let (s, _) = shipped();
            let whole = s.search_message(message, 3).unwrap();
            let ids = |hits: &[Hit]| hits.iter().map(|h| h.id().to_owned()).collect::<Vec<_>>();
            assert_eq!(
                ids(&s.search(message, 3).unwrap()),
                ids(&whole),
                "{message}"
            );
        }
        // One sentence, or sentences with nothing to ask, are searched once.
        assert_eq!(sentences("还没发货能退款吗"), ["还没发货能退款吗"]);
        assert_eq!(
            sentences("在吗？？🙏。能开发票吗？"),
            ["在吗", "能开发票吗"]
        );
    }

    /// Below the first, a suggestion is never more confident than the one above it: an agent
    /// reading the list top down sees the likeliest answer first and sure ones only where
    /// the ranking agrees.
    #[test]
    fn confidence_falls_with_rank_for_a_single_question() {
        let (s, _) = shipped();
        for question in [
            "退货运费谁出",
            "發票怎麼開😀",
            "怎么改地址",
            "你们家衣服起球吗",
            "会员积分",
        ] {
            let hits = s.search(question, 10).unwrap();
            assert!(hits.len() > 1, "{question}");
            for pair in hits.windows(2) {
                assert!(
                    pair[0].confidence >= pair[1].confidence,
                    "{question}: {hits:?}"
                );
            }
        }
    }

    /// Real ways customers ask, and the entry that answers them.
    #[test]
    fn customer_questions_find_their_answers() {
        let cases = [
            ("我拍下了还没付款，订单怎么就关闭了", "order-timeout-close"),
            ("亲，运费险怎么用？", "return-insurance"),
            ("親，運費險怎麼用？", "return-insurance"),
            ("我想退钱，还没发货", "refund-before-ship"),
            ("快递到哪了", "ship-track"),
            ("东西收到是坏的", "quality-problem"),
            ("能开专票吗", "invoice-vat"),
            ("多久自动确认收货", "receipt-auto-confirm"),
            ("发什么快递😀", "ship-courier"),
            ("ＯＫ，那什么时候发货？", "ship-when"),
            // Spoken question words: 啥 for 什么, 咋 for 怎么, 几时 for 什么时候.
            ("我买的东西啥时候发货啊", "ship-when"),
            ("幾時發貨", "ship-when"),
            ("这两款有啥区别", "pre-compare"),
            ("杯子碎了咋办", "ship-damaged"),
            // 补货 in the shop's dictionary: jieba alone reads 啥时 + 候补 + 货.
            ("啥时候补货", "pre-restock"),
            // Fading (掉色) is not a colour unlike the photo (色差).
            ("衣服洗了一次就掉色了", "pre-fading"),
            // Internet spellings: 神马 for 什么, 咋个 for 怎么, 有木有 for 有没有.
            ("神马时候发货", "ship-when"),
            ("咋个退货", "return-how"),
            ("有木有优惠券", "pre-coupon-get"),
        ];
        // Each is first. Confidence is the estimated chance of being right: most of these are
        // more likely right than not (the default threshold of 0.8 answers only the surest).
        let mut failures = Vec::new();
        let mut likely = 0;
        for (q, want) in cases {
            let r = top(q);
            let got: Vec<(&str, f32)> = (r.suggestions.iter())
                .map(|s| (s.id.as_str(), s.confidence))
                .collect();
            match got.first() {
                Some(&(id, confidence)) if id == want => likely += usize::from(confidence >= 0.5),
                _ => failures.push(format!("{q}: expected {want}, got {got:?}")),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(likely * 3 >= cases.len() * 2, "{likely} of {}", cases.len());
    }

    /// With the model the build fetched, meaning finds what words alone rank wrong: 付钱之后
    /// 多久寄出 shares 付款 and 多久 with 拍下后多久内要付款, but asks when the parcel leaves.
    #[test]
    fn meaning_finds_paraphrases_that_share_few_words() {
        let (s, _) = shipped();
        assert!(
            s.semantic(),
            "the semantic model is missing: run scripts/fetch-model"
        );
        for (q, want) in [
            ("付钱之后多久寄出", "ship-when"),
            ("衣服穿着大了，能换个小的吗", "exchange-size"),
            ("衣服穿着大了，能換個小的嗎", "exchange-size"),
        ] {
            let hits = s.search(q, 3).unwrap();
            assert_eq!(hits[0].id(), want, "{q}");
            let m = hits[0].evidence.meaning.expect("meaning evidence");
            // Among the nearest in meaning (not always the nearest: words and meaning decide
            // together).
            assert!(m.standard > 1.5 && m.margin > -0.05, "{q}: {m:?}");
        }
        // A question the knowledge base cannot answer is not offered as one.
        let r = top("你们支持数字人民币硬钱包碰一碰付款吗");
        assert!(!r.answered, "{r:?}");
    }

    #[test]
    fn traditional_questions_get_traditional_answers() {
        let r = top("親，運費險怎麼用？");
        let answer = &r.suggestions[0].answer;
        assert!(
            answer.contains("運費險") && answer.contains("您好"),
            "{answer}"
        );
        assert_eq!(
            r.suggestions[0].lint.score, 100,
            "still polite: {:?}",
            r.suggestions[0].lint.findings
        );
        assert!(top("运费险怎么用").suggestions[0].answer.contains("运费险"));
    }

    #[test]
    fn says_honestly_when_it_has_no_answer() {
        let r = top("你们卖不卖汽车轮胎");
        assert!(!r.answered);
        assert!(
            !r.suggestions.is_empty(),
            "still shows the closest candidates"
        );
        assert!(r.suggestions[0].confidence < DEFAULT_THRESHOLD);
    }

    #[test]
    fn greetings_find_the_phrase_library() {
        let r = top("在吗");
        assert!(r.answered);
        assert_eq!(r.suggestions[0].source, Source::Phrase);
    }

    /// `analyze` counts entries, not question variants: an entry whose question and similar
    /// questions all say 退款 counts once.
    #[test]
    fn analysis_counts_the_entries_holding_a_term() {
        let (s, _) = shipped();
        let a = s.analyze("退钱").unwrap();
        assert!(s.analyze(" ").is_err());
        let refund = &a.words[0];
        assert_eq!(refund.word.searched_as, "退款");
        let analyzer = Analyzer::shipped();
        let has = |text: &str| analyzer.words(text).iter().any(|t| t.text == "退款");
        let entries = s.entries();
        let in_questions = entries
            .iter()
            .filter(|e| has(&e.question) || e.similar.iter().any(|q| has(q)))
            .count();
        let in_answers = entries.iter().filter(|e| has(&e.answer)).count();
        assert!(in_questions > 1, "{in_questions}");
        assert_eq!(refund.questions, in_questions);
        assert_eq!(refund.answers, in_answers);
    }

    #[test]
    fn bad_requests_are_errors() {
        let (s, l) = shipped();
        assert!(s.suggest(l, &SuggestRequest::new("   ")).is_err());
        let mut req = SuggestRequest::new("运费险");
        req.k = 0;
        assert!(s.suggest(l, &req).unwrap_err().to_string().contains("`k`"));
        req.k = 51;
        assert!(s.suggest(l, &req).is_err());
    }

    #[test]
    fn suggestions_are_ranked_and_carry_their_lint() {
        let mut req = SuggestRequest::new("怎么退货");
        req.k = 5;
        let (s, l) = shipped();
        let r = s.suggest(l, &req).unwrap();
        assert_eq!(r.suggestions.len(), 5);
        assert!(r.suggestions.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(r.suggestions.iter().all(|s| s.lint.score == 100));
        assert!(
            r.suggestions
                .iter()
                .all(|s| s.confidence >= 0.0 && s.confidence <= 1.0)
        );
    }

    /// Every shipped answer and phrase passes the linter with no warning or error.
    #[test]
    fn shipped_answers_are_polite() {
        let linter = &shipped().1;
        let kb = kb::parse::<KbEntry>(kb::DEFAULT_KB);
        let phrases = kb::parse::<Phrase>(kb::DEFAULT_PHRASES);
        let texts = kb
            .records
            .iter()
            .map(|(_, e)| (&e.id, &e.answer))
            .chain(phrases.records.iter().map(|(_, p)| (&p.id, &p.text)));
        let mut failures = Vec::new();
        for (id, text) in texts {
            // As shipped, and as a Traditional-writing customer receives it.
            let traditional = in_script(text, crate::text::Script::Traditional);
            for t in [text.as_str(), traditional.as_str()] {
                let r = linter.lint(&LintRequest::new(t));
                for f in r
                    .findings
                    .iter()
                    .filter(|f| f.severity >= crate::Severity::Warning)
                {
                    failures.push(format!("{id}: {} «{}» in {t}", f.rule, f.text));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// A question the knowledge base holds word for word is sure, unless two different
    /// answers hold it; the same answer under two entries is no tie; a poor match stays weak.
    #[test]
    fn confidence_falls_when_two_answers_fit_equally() {
        let build = |csv: &str| {
            let kb = kb::parse::<KbEntry>(csv).dedup_last_wins(|e| &e.id);
            Suggester::build(&kb, &[], None).unwrap()
        };
        let head = "id,question,answer\n";
        let other = "c,发票怎么开,请在订单页申请开票。\n";
        let two_answers = build(&format!(
            "{head}a,运费险怎么理赔,退货后自动理赔。\nb,运费险怎么理赔,请联系保险公司理赔。\n{other}"
        ));
        let one_answer = build(&format!(
            "{head}a,运费险怎么理赔,退货后自动理赔。\nb,运费险怎么理赔,退货后自动理赔。\n{other}"
        ));
        let top = |s: &Suggester, q: &str| s.search(q, 2).unwrap()[0].confidence;
        let tied = top(&two_answers, "运费险怎么理赔");
        let clear = top(&one_answer, "运费险怎么理赔");
        assert!((clear - 1.0).abs() < 1e-4, "{clear}");
        assert!(tied < DEFAULT_THRESHOLD, "{tied}");
        // The runner-up is never more confident than the top.
        assert!(two_answers.search("运费险怎么理赔", 2).unwrap()[1].confidence <= tied);
        // A weak match stays weak, however far ahead of the rest it is.
        let weak = one_answer
            .search("发票抬头能写公司名称和税号吗", 1)
            .unwrap();
        assert_eq!(weak[0].id(), "c");
        assert!(
            weak[0].confidence < DEFAULT_THRESHOLD,
            "{}",
            weak[0].confidence
        );
    }

    /// Entries with the very same answer are offered once, at the best one's place, naming the
    /// others; the places below go to other answers.
    #[test]
    fn the_same_answer_is_offered_once() {
        let kb = kb::parse::<KbEntry>(concat!(
            "id,question,answer\n",
            "uk,英国银联客服电话,您可以于当地拨打00-800-800-95516咨询。\n",
            "fr,法国银联客服电话,您可以于当地拨打00-800-800-95516咨询。\n",
            "de,德国银联客服电话,您可以于当地拨打00-800-800-95516咨询。\n",
            "kr,韩国银联客服电话,您可以于当地拨打001-800-800-95516咨询。\n",
            "home,国内银联客服电话是多少,请您拨打95516。\n",
        ))
        .dedup_last_wins(|e| &e.id);
        let s = Suggester::build(&kb, &[], None).unwrap();
        // Traditional, with an emoji: the UK entry first, its twins folded into it.
        let hits = s.search("在英國怎麼聯繫銀聯客服電話😥", 3).unwrap();
        let ids: Vec<&str> = hits.iter().map(Hit::id).collect();
        assert_eq!(ids[0], "uk");
        let mut also = hits[0].also.clone();
        also.sort_unstable();
        assert_eq!(also, ["de", "fr"]);
        assert_eq!(ids[1..], ["kr", "home"]);
        let answers: std::collections::HashSet<&str> =
            hits.iter().map(|h| h.doc.answer.as_str()).collect();
        assert_eq!(answers.len(), 3, "three different answers");
        // Asked about France, the French entry is the one offered.
        let hits = s.search("法国的银联客服电话", 3).unwrap();
        assert_eq!(hits[0].id(), "fr");
    }

    #[test]
    fn a_quoted_code_finds_the_question_about_that_code() {
        // A code matches as a whole: 5100035 shares five digit pairs with 5100030, and used to
        // outrank the longer question that quotes the customer's own code.
        let kb = kb::parse::<KbEntry>(concat!(
            r#"{"id":"format","question":"我输入了号码后，出现了报文格式错误（5100030），怎么办","answer":"您好，这是报文格式错误，请您核对后重试。"}"#,
            "\n",
            r#"{"id":"code-35","question":"5100035","answer":"您好，这个错误提示表示交易超时。"}"#,
            "\n",
            r#"{"id":"code-57","question":"为什么在线支付报错1000057","answer":"您好，这表示卡片状态异常。"}"#,
            "\n",
            r#"{"id":"code-58","question":"为什么在线支付报错1000058","answer":"您好，这表示交易未获授权。"}"#,
        ))
        .dedup_last_wins(|e| &e.id);
        let s = Suggester::build(&kb, &[], None).unwrap();
        for (question, id) in [
            ("5100030", "format"),
            ("bb1000057什么意思", "code-57"),
            ("5100030😭", "format"),
            ("支付時報錯１００００５８", "code-58"),
        ] {
            let hits = s.search(question, 3).unwrap();
            assert_eq!(hits[0].id(), id, "{question}");
        }
    }

    #[test]
    fn a_shops_own_kb_and_an_on_disk_index() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        let kb = kb::parse::<KbEntry>(
            "id,question,similar,answer\nk1,能用消费券吗,可以用券吗|券能抵扣吗,您好，{name}，本店支持使用消费券抵扣。\n",
        )
        .dedup_last_wins(|e| &e.id);
        Suggester::build(&kb, &[], Some(&dir)).unwrap();
        let reopened = Suggester::open(&dir).unwrap();
        let linter = &shipped().1;
        let mut req = SuggestRequest::new("可以用券吗");
        req.vars.insert("name".into(), "张先生".into());
        let r = reopened.suggest(linter, &req).unwrap();
        assert!(r.answered);
        assert_eq!(
            r.suggestions[0].answer,
            "您好，张先生，本店支持使用消费券抵扣。"
        );
        assert!(
            Suggester::open(&dir.join("nowhere"))
                .unwrap_err()
                .to_string()
                .contains("kefu kb import")
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
