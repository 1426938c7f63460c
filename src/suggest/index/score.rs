//! Lexical scoring over an open index: the searched fields' postings held in memory with their
//! BM25 term-frequency parts, the entries holding each term and character, and term-at-a-time
//! BM25 over them (`KbIndex::top_docs`), with single-character BM25 for paraphrases that share
//! no whole word.

use std::cell::RefCell;
use std::collections::BinaryHeap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, Searcher};

use crate::error::Error;

use super::*;

/// One searched field's postings in one segment, read out of tantivy once (the segment never
/// changes: a later open of the index that still holds it shares what was read) with their
/// BM25 term-frequency part worked out for this open index. A question looks up a few dozen
/// terms: a hash lookup costs a tenth of a walk down tantivy's FST, and a run of ready floats
/// saves decoding blocks and field-length codes for every posting. 13 bytes per posting (the
/// term frequency and length code kept beside the BM25 part): by the 8-byte figures measured
/// before, about 1.6 MB for the 745-entry evaluation KB and 27 MB for 10,000 entries with their
/// similar questions (41,000 documents, each carrying its entry's answer words).
pub(super) struct Postings {
    pub(super) field: Field,
    pub(super) read: Arc<SegmentPostings>,
    /// For each term, how many entries (and phrases) hold it in the whole index, however many
    /// of their question variants do (`count_entries`).
    pub(super) entries: Vec<u32>,
    /// `tf / (tf + K1 · (1 − B + B · len / avg_len))` for the posting at the same place in
    /// `read.docs`: BM25 without the term's IDF and `1 + K1`. It depends on the mean length
    /// over the whole index, so each open works it out again.
    pub(super) parts: Vec<f32>,
}

/// What was read of one field of one segment: every term's documents, with the term's
/// frequency and the document's encoded field length.
pub(super) struct SegmentPostings {
    /// Each term's run in `docs`: (start, length = its document frequency, its number).
    pub(super) terms: FxHashMap<Box<str>, (u32, u32, u32)>,
    pub(super) docs: Vec<DocId>,
    tf: Vec<u32>,
    /// tantivy's one-byte code of the document's field length.
    length_code: Vec<u8>,
}

impl SegmentPostings {
    /// Reads `field` of `segment`.
    pub(super) fn read(segment: &tantivy::SegmentReader, field: Field) -> Result<Self, Error> {
        let index_error = |e: std::io::Error| Error::Index(e.to_string());
        let inverted = segment.inverted_index(field).map_err(tv)?;
        let lengths = segment.get_fieldnorms_reader(field).map_err(tv)?;
        let mut out = Self {
            terms: FxHashMap::default(),
            docs: Vec::new(),
            tf: Vec::new(),
            length_code: Vec::new(),
        };
        let mut stream = inverted.terms().stream().map_err(index_error)?;
        while stream.advance() {
            // A text field's keys are the terms' UTF-8 bytes (our tokenizers make only text).
            let Ok(term) = std::str::from_utf8(stream.key()) else {
                continue;
            };
            let start = out.docs.len();
            let mut postings = inverted
                .read_block_postings_from_terminfo(stream.value(), IndexRecordOption::WithFreqs)
                .map_err(index_error)?;
            while !postings.docs().is_empty() {
                for (&doc, &tf) in postings.docs().iter().zip(postings.freqs()) {
                    out.docs.push(doc);
                    out.tf.push(tf);
                    out.length_code.push(lengths.fieldnorm_id(doc));
                }
                postings.advance();
            }
            let run = (start as u32, (out.docs.len() - start) as u32);
            let ord = out.terms.len() as u32;
            out.terms.insert(term.into(), (run.0, run.1, ord));
        }
        Ok(out)
    }
}

impl Postings {
    /// `read`'s postings scored for an index whose mean length of the field is `avg_len`.
    pub(super) fn new(field: Field, read: Arc<SegmentPostings>, avg_len: f32) -> Self {
        let norm_by_code: [f32; 256] = std::array::from_fn(|code| {
            let len = FieldNormReader::id_to_fieldnorm(code as u8) as f32;
            K1 * (1.0 - B + B * len / avg_len.max(f32::EPSILON))
        });
        let parts = (read.tf.iter().zip(&read.length_code))
            .map(|(&tf, &code)| {
                let tf = tf as f32;
                tf / (tf + norm_by_code[usize::from(code)])
            })
            .collect();
        Self {
            field,
            entries: vec![0; read.terms.len()],
            read,
            parts,
        }
    }

    /// The term numbers and runs of this segment's field.
    pub(super) fn terms(&self) -> &FxHashMap<Box<str>, (u32, u32, u32)> {
        &self.read.terms
    }

    /// A term's documents and their term-frequency parts, and how many entries of the whole
    /// index hold it.
    pub(super) fn get(&self, term: &str) -> Option<(&[DocId], &[f32], u32)> {
        let &(start, len, ord) = self.read.terms.get(term)?;
        let run = start as usize..(start + len) as usize;
        Some((
            &self.read.docs[run.clone()],
            &self.parts[run],
            self.entries[ord as usize],
        ))
    }
}

/// Numbers the entries (and phrases) of `docs` from 0, in order of first appearance, into
/// each document's `entry`; returns how many there are.
pub(super) fn number_entries(docs: &mut [DocInfo]) -> usize {
    let mut numbers: FxHashMap<(&str, &str), u32> = FxHashMap::default();
    let entry: Vec<u32> = docs
        .iter()
        .map(|d| {
            let next = numbers.len() as u32;
            *numbers.entry((&d.source, &d.id)).or_insert(next)
        })
        .collect();
    let count = numbers.len();
    for (d, e) in docs.iter_mut().zip(entry) {
        d.entry = e;
    }
    count
}

/// How many entries hold each character in some question variant.
pub(super) fn char_df(docs: &[DocInfo]) -> FxHashMap<char, u32> {
    // Each entry's variants one after another, so a character's last counted entry tells
    // whether this one is counted yet.
    let mut by_entry: Vec<&DocInfo> = docs.iter().collect();
    by_entry.sort_by_key(|d| d.entry);
    // (entries, the last entry counted)
    let mut df: FxHashMap<char, (u32, u32)> = FxHashMap::default();
    for d in by_entry {
        for &(c, _) in &d.chars.counts {
            let (count, last) = df.entry(c).or_insert((0, u32::MAX));
            if *last != d.entry {
                *last = d.entry;
                *count += 1;
            }
        }
    }
    df.into_iter().map(|(c, (count, _))| (c, count)).collect()
}

/// Fills every `Postings::entries`: for each field and term, the distinct entries among its
/// documents in all segments (deleted documents, `u32::MAX` in `entry_of[segment][doc]`, left
/// out). `marks[entry]` holds the last term counted for it, so each posting is looked at once.
pub(super) fn count_entries(postings: &mut [Vec<Postings>], entry_of: &[Vec<u32>], entries: usize) {
    let mut marks = vec![u32::MAX; entries];
    let mut counted: Vec<(usize, usize, u32, u32)> = Vec::new();
    let mut term_no = 0u32;
    let fields = postings.first().map_or(0, Vec::len);
    for f in 0..fields {
        for seg in 0..postings.len() {
            for term in postings[seg][f].terms().keys() {
                // A term is counted once, over all segments, from the first segment holding it.
                if postings[..seg]
                    .iter()
                    .any(|s| s[f].terms().contains_key(term))
                {
                    continue;
                }
                let mut count = 0;
                let first = counted.len();
                for (s, segment) in postings.iter().enumerate().skip(seg) {
                    let Some(&(start, len, ord)) = segment[f].terms().get(term) else {
                        continue;
                    };
                    counted.push((s, f, ord, 0));
                    for &doc in &segment[f].read.docs[start as usize..(start + len) as usize] {
                        let entry = entry_of[s][doc as usize];
                        if entry != u32::MAX && marks[entry as usize] != term_no {
                            marks[entry as usize] = term_no;
                            count += 1;
                        }
                    }
                }
                for c in &mut counted[first..] {
                    c.3 = count;
                }
                term_no += 1;
            }
        }
    }
    for (s, f, ord, count) in counted {
        postings[s][f].entries[ord as usize] = count;
    }
}

/// Documents with their scores, best first.
pub type Ranked = Vec<(f32, DocAddress)>;

/// A weighted term of a query: `boost` multiplies its BM25 score.
#[derive(Debug, Clone, Copy)]
pub struct WeightedTerm<'a> {
    pub field: Field,
    pub text: &'a str,
    pub boost: f32,
}

impl<'a> WeightedTerm<'a> {
    pub fn new(field: Field, text: &'a str, boost: f32) -> Self {
        Self { field, text, boost }
    }
}

/// A scored document as one integer, ordered best first: higher score, then lower address
/// (tantivy's order). Ranking compares candidates hundreds of times a question; an integer
/// compares in one instruction where a float and an address take a dozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Candidate(u128);

impl Candidate {
    pub(super) fn new(score: f32, doc: DocAddress) -> Self {
        // `f32::total_cmp`'s order as unsigned bits, inverted so that a higher score is less.
        let ordered = !(flip_negative(score.to_bits()) ^ 0x8000_0000);
        Self(u128::from(ordered) << 64 | u128::from(doc.segment_ord) << 32 | u128::from(doc.doc_id))
    }

    pub(super) fn score(self) -> f32 {
        f32::from_bits(flip_negative(!((self.0 >> 64) as u32) ^ 0x8000_0000))
    }

    pub(super) fn doc(self) -> DocAddress {
        DocAddress::new((self.0 >> 32) as u32, self.0 as u32)
    }
}

/// Flips every bit but the sign of a negative float's bits (its own inverse): what makes
/// `total_cmp` an integer comparison.
pub(super) fn flip_negative(bits: u32) -> u32 {
    bits ^ ((((bits as i32) >> 31) as u32) >> 1)
}

/// A term in more than this share of the documents is left out of ranking…
pub(super) const COMMON_SHARE: f32 = 1.0 / 3.0;
/// …or, for a word of the answers, in more than this share: answers are long, so a word in a
/// tenth of them says little about which one answers the question (on the evaluation set,
/// leaving them out ranks as well or slightly better, with 5% fewer instructions per question).
pub(super) const ANSWER_COMMON_SHARE: f32 = 0.1;
/// …in an index of at least this many documents (in a small one, shares mean little).
pub(super) const COMMON_MIN_DOCS: f32 = 100.0;

/// BM25 parameters, tantivy's.
pub(super) const K1: f32 = 1.2;
pub(super) const B: f32 = 0.75;

/// BM25's inverse document frequency, as tantivy computes it: ln(1 + (n − df + ½) / (df + ½)).
pub(super) fn idf(df: f32, n: f32) -> f32 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Per-thread score accumulators for `top_docs`, reused across queries: `scores` is zero but
/// for the slots listed in `touched`.
#[derive(Default)]
pub(super) struct Accumulators {
    pub(super) scores: Vec<f32>,
    pub(super) touched: Vec<u32>,
}

thread_local! {
    static ACCUMULATORS: RefCell<Accumulators> = RefCell::default();
}

/// BM25 collection statistics of an immutable index, computed once: tokens per searched field,
/// the number of documents (question variants, for field lengths) and of entries (for IDF).
#[derive(Debug, Clone)]
pub struct Stats {
    pub(super) tokens: Vec<(Field, u64)>,
    pub(super) docs: u64,
    pub(super) entries: usize,
}

impl Stats {
    pub(super) fn new(searcher: &Searcher, fields: &Fields, entries: usize) -> Result<Self, Error> {
        let mut tokens = Vec::new();
        for f in [fields.q_words, fields.q_bigrams, fields.a_words] {
            let mut total = 0;
            for segment in searcher.segment_readers() {
                total += segment.inverted_index(f).map_err(tv)?.total_num_tokens();
            }
            tokens.push((f, total));
        }
        Ok(Self {
            tokens,
            docs: searcher.num_docs(),
            entries,
        })
    }
}

impl KbIndex {
    /// The `limit` best documents for a weighted disjunction of terms, by the sum of their
    /// boosted BM25 scores — what a tantivy `BooleanQuery` of boosted `TermQuery`s computes
    /// (same IDF formula, same field-length codes), but term at a time: each term's postings
    /// (held in memory, see `Postings`) are added into per-document accumulators. For the few
    /// dozen terms of a question that is several times faster than the document-at-a-time
    /// union, which pays for a heap of scorers on every document and cannot skip blocks once
    /// clauses are boosted.
    ///
    /// Two differences: the IDF counts entries (and phrases), not documents, so an entry's
    /// similar questions don't make its words look common (with one question per entry the
    /// scores are tantivy's); and in an index of 100 documents or more, terms found in over a
    /// third of them (answer words: a tenth) are left out (unless nothing else is left) — they
    /// barely separate documents and their posting lists are the longest.
    ///
    /// Also returns each term's IDF, for the caller's own use of the same statistics.
    pub fn top_docs(&self, terms: &[WeightedTerm<'_>], limit: usize) -> (Ranked, Vec<f32>) {
        let segments = self.searcher.segment_readers();
        // Each term's postings in each segment, its document frequency overall (for the common
        // share) and the entries holding it (for the IDF).
        type Found<'p> = Option<(&'p [DocId], &'p [f32], u32)>;
        let mut found: Vec<Vec<Found<'_>>> = Vec::with_capacity(segments.len());
        let mut doc_freq = vec![0u64; terms.len()];
        let mut entry_freq = vec![0u32; terms.len()];
        for fields in &self.postings {
            let mut row = Vec::with_capacity(terms.len());
            for ((t, df), ef) in terms.iter().zip(&mut doc_freq).zip(&mut entry_freq) {
                let postings = fields
                    .iter()
                    .find(|p| p.field == t.field)
                    .and_then(|p| p.get(t.text));
                if let Some((docs, _, entries)) = postings {
                    *df += docs.len() as u64;
                    *ef = entries;
                }
                row.push(postings);
            }
            found.push(row);
        }
        let n = self.stats.docs as f32;
        let idf: Vec<f32> = entry_freq
            .iter()
            .map(|&ef| idf(ef as f32, self.stats.entries as f32))
            .collect();
        // Terms in more than a third of a sizeable index can't tell documents apart, and their
        // posting lists are the longest: they are left out of ranking (not of the IDFs returned),
        // unless nothing else is left.
        let mut common: Vec<bool> = doc_freq
            .iter()
            .zip(terms)
            .map(|(&df, t)| {
                let share = if t.field == self.fields.a_words {
                    ANSWER_COMMON_SHARE
                } else {
                    COMMON_SHARE
                };
                n >= COMMON_MIN_DOCS && df as f32 > n * share
            })
            .collect();
        if doc_freq.iter().zip(&common).all(|(&df, &c)| c || df == 0) {
            common.fill(false);
        }
        // The best `limit` so far, worst on top: most documents fail one comparison with it.
        let mut best: BinaryHeap<Candidate> = BinaryHeap::with_capacity(limit);
        ACCUMULATORS.with_borrow_mut(|acc| {
            for (seg, segment) in segments.iter().enumerate() {
                // Only the slots the last use touched need resetting.
                for &d in &acc.touched {
                    acc.scores[d as usize] = 0.0;
                }
                acc.touched.clear();
                let max_doc = segment.max_doc() as usize;
                if acc.scores.len() < max_doc {
                    acc.scores.resize(max_doc, 0.0);
                }
                for ((t, postings), (&idf, &common)) in
                    terms.iter().zip(&found[seg]).zip(idf.iter().zip(&common))
                {
                    let Some((docs, parts, _)) = postings else {
                        continue;
                    };
                    if common {
                        continue;
                    }
                    let weight = idf * (1.0 + K1) * t.boost;
                    for (&doc, &part) in docs.iter().zip(*parts) {
                        let slot = &mut acc.scores[doc as usize];
                        if *slot == 0.0 {
                            acc.touched.push(doc);
                        }
                        *slot += weight * part;
                    }
                }
                let alive = segment.alive_bitset();
                for &d in &acc.touched {
                    let c = Candidate::new(acc.scores[d as usize], DocAddress::new(seg as u32, d));
                    if limit == 0 || alive.is_some_and(|a| a.is_deleted(d)) {
                        continue;
                    }
                    if best.len() < limit {
                        best.push(c);
                    } else if let Some(mut worst) = best.peek_mut().filter(|worst| c < **worst) {
                        // Replacing the top sifts it down once, half of a push and a pop.
                        *worst = c;
                    }
                }
            }
        });
        let mut best = best.into_vec();
        best.sort_unstable();
        let best = best.into_iter().map(|c| (c.score(), c.doc())).collect();
        (best, idf)
    }

    /// How many entries (or phrases) have `term` in `field`, one of the searched fields: their
    /// question or a similar one (`q_words`, `q_bigrams`), or their answer (`a_words`).
    pub fn entries_with(&self, field: Field, term: &str) -> usize {
        self.postings
            .iter()
            .find_map(|fields| {
                let postings = fields.iter().find(|p| p.field == field)?;
                postings.get(term).map(|(_, _, entries)| entries as usize)
            })
            .unwrap_or(0)
    }

    /// The distinct characters of a question with their IDF (over entries, as `top_docs`), sorted.
    pub fn char_weights(&self, chars: impl Iterator<Item = char>) -> Vec<(char, f32)> {
        let n = self.stats.entries as f32;
        let mut out: Vec<(char, f32)> = chars.map(|c| (c, 0.0)).collect();
        out.sort_unstable_by_key(|(c, _)| *c);
        out.dedup_by_key(|(c, _)| *c);
        for (c, idf) in &mut out {
            let df = self.char_df.get(c).copied().unwrap_or(0) as f32;
            *idf = self::idf(df, n);
        }
        out
    }

    /// BM25 (k1 1.2, b 0.75, as tantivy's) of a document's characters for weighted query
    /// characters (as `char_weights` gives them: sorted). Characters are scored here, on the candidates only, rather than in the
    /// index: every character sits in thousands of documents of a large knowledge base, and a
    /// disjunction over those posting lists would cost more than everything else together.
    pub fn char_bm25(&self, query: &[(char, f32)], doc: &DocInfo) -> f32 {
        let norm = K1 * (1.0 - B + B * doc.chars.len() as f32 / self.char_avg_len.max(1.0));
        // Both lists are sorted by character: one merge pass.
        let chars = &doc.chars.counts;
        let (mut i, mut j, mut sum) = (0, 0, 0.0);
        while i < query.len() && j < chars.len() {
            let (qc, idf) = query[i];
            let (dc, tf) = chars[j];
            if qc == dc {
                let tf = f32::from(tf);
                sum += idf * tf * (K1 + 1.0) / (tf + norm);
            }
            i += usize::from(qc <= dc);
            j += usize::from(dc <= qc);
        }
        sum
    }

    /// The id of a word or bigram found in some question variant (see `DocInfo::terms`).
    pub fn term_id(&self, term: &str) -> Option<u32> {
        self.vocabulary.get(term).copied()
    }
}
