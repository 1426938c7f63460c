//! The tantivy side of suggestion: the schema, the jieba-word and character-bigram tokenizers
//! registered on it, and building an index in memory or on disk from a knowledge base and phrase
//! library. Each question variant (the question and every similar question) is its own document,
//! so a short paraphrase is scored against the phrasing it resembles, not against all of them.

use std::cell::RefCell;
use std::collections::{BTreeMap, BinaryHeap};

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::Path;
use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{PreTokenizedString, Token, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, doc,
};

use super::analyze::{Analyzer, Indexed, Term};
use super::kb::{KbEntry, Phrase};
use super::overlap::Chars;
use crate::error::Error;

pub const WORDS: &str = "kefu_words";
pub const BIGRAMS: &str = "kefu_bigrams";

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub source: Field,
    pub question: Field,
    pub variant: Field,
    pub answer: Field,
    pub category: Field,
    pub tags: Field,
    /// Words of the variant (question or similar question).
    pub q_words: Field,
    /// Character bigrams of the variant.
    pub q_bigrams: Field,
    /// Words of the answer.
    pub a_words: Field,
    /// The variant's analysed words and bigrams, stored (space-separated) so ranking features
    /// need no re-analysis at query time.
    pub v_terms: Field,
    pub v_bigrams: Field,
    /// The variant's characters as ranking reads them (`Analyzer::chars`), stored so opening an
    /// index segments nothing.
    pub v_chars: Field,
}

fn text_field(tokenizer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        source: b.add_text_field("source", STRING | STORED),
        question: b.add_text_field("question", STORED),
        variant: b.add_text_field("variant", STORED),
        answer: b.add_text_field("answer", STORED),
        category: b.add_text_field("category", STORED),
        tags: b.add_text_field("tags", STORED),
        q_words: b.add_text_field("q_words", text_field(WORDS)),
        q_bigrams: b.add_text_field("q_bigrams", text_field(BIGRAMS)),
        a_words: b.add_text_field("a_words", text_field(WORDS)),
        v_terms: b.add_text_field("v_terms", STORED),
        v_bigrams: b.add_text_field("v_bigrams", STORED),
        v_chars: b.add_text_field("v_chars", STORED),
    };
    (b.build(), fields)
}

/// Tokens from a ready list of terms.
pub struct Terms {
    tokens: Vec<Token>,
    next: usize,
}

impl Terms {
    fn new(terms: Vec<Term>) -> Self {
        let tokens = terms.into_iter().map(token).collect();
        Self { tokens, next: 0 }
    }
}

fn token(t: Term) -> Token {
    Token {
        offset_from: t.from,
        offset_to: t.to,
        position: t.position,
        text: t.text,
        position_length: 1,
    }
}

/// `text` with the terms the field's tokenizer would make of it, worked out once already.
fn pre_tokenized(text: &str, terms: &[Term]) -> PreTokenizedString {
    PreTokenizedString {
        text: text.to_owned(),
        tokens: terms.iter().cloned().map(token).collect(),
    }
}

/// Terms' texts joined by spaces, for the stored term lists.
fn joined(terms: &[Term]) -> String {
    let texts: Vec<&str> = terms.iter().map(|t| t.text.as_str()).collect();
    texts.join(" ")
}

impl TokenStream for Terms {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// jieba search-mode words with synonyms folded and filler dropped.
#[derive(Clone, Debug)]
pub struct WordTokenizer(Arc<Analyzer>);

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = Terms;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Terms {
        Terms::new(self.0.words(text))
    }
}

/// Character bigrams.
#[derive(Clone, Debug)]
pub struct BigramTokenizer(Arc<Analyzer>);

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = Terms;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Terms {
        Terms::new(self.0.bigrams(text))
    }
}

fn split_tags(s: &str) -> Vec<String> {
    s.split('|')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn register(index: &Index, analyzer: &Arc<Analyzer>) {
    index
        .tokenizers()
        .register(WORDS, WordTokenizer(Arc::clone(analyzer)));
    index
        .tokenizers()
        .register(BIGRAMS, BigramTokenizer(Arc::clone(analyzer)));
}

/// Files kept beside an on-disk index: the shop's synonyms it was built with, and the
/// fingerprint of its analysis (`Analyzer::fingerprint`).
const SHOP_SYNONYMS_FILE: &str = "shop-synonyms.txt";
const ANALYSIS_FILE: &str = "kefu-analysis.txt";

/// The analysis an on-disk index was built with: the shipped tables and the shop's synonyms
/// kept beside it. An index built with other lexicons (an earlier kefu) is refused: its terms
/// would not match the questions' terms.
fn stored_analyzer(dir: &Path) -> Result<Arc<Analyzer>, Error> {
    let analyzer = kept_analyzer(dir)?;
    let stored = std::fs::read_to_string(dir.join(ANALYSIS_FILE)).unwrap_or_default();
    if stored.trim() != analyzer.fingerprint() {
        return Err(Error::Index(format!(
            "{}: built with other word lists (an earlier kefu, or other shop synonyms); \
             rebuild it from its own entries with `kefu kb reindex --index {}`",
            dir.display(),
            dir.display()
        )));
    }
    Ok(analyzer)
}

/// This kefu's analysis with the shop's synonyms kept in `dir`, whatever the index there was
/// built with.
fn kept_analyzer(dir: &Path) -> Result<Arc<Analyzer>, Error> {
    let synonyms = dir.join(SHOP_SYNONYMS_FILE);
    if !synonyms.is_file() {
        return Ok(Arc::clone(Analyzer::shipped()));
    }
    let text = super::kb::read_file(&synonyms)?;
    Ok(Arc::new(Analyzer::with_shop_synonyms(
        &text,
        &synonyms.display().to_string(),
    )?))
}

/// The stored fields of one document, as read back from an index.
struct StoredDoc<'a> {
    id: &'a str,
    source: &'a str,
    question: &'a str,
    variant: &'a str,
    answer: &'a str,
    category: &'a str,
    tags: &'a [String],
}

impl<'a> From<&'a DocInfo> for StoredDoc<'a> {
    fn from(d: &'a DocInfo) -> Self {
        Self {
            id: &d.id,
            source: &d.source,
            question: &d.question,
            variant: &d.variant,
            answer: &d.answer,
            category: &d.category,
            tags: &d.tags,
        }
    }
}

impl StoredDoc<'_> {
    /// The phrase a phrase document belongs to: its scene is kept as the question, its text as
    /// the answer.
    fn phrase(&self) -> Phrase {
        Phrase {
            id: self.id.to_owned(),
            scene: self.question.to_owned(),
            text: self.answer.to_owned(),
            tags: self.tags.to_vec(),
        }
    }
}

/// Knowledge-base entries and phrases put back together from their documents (one per
/// question variant; phrases have one per trigger), each kind in id order.
fn regroup<'a>(docs: impl Iterator<Item = StoredDoc<'a>>) -> (Vec<KbEntry>, Vec<Phrase>) {
    let mut entries: BTreeMap<&str, KbEntry> = BTreeMap::new();
    let mut phrases: BTreeMap<&str, Phrase> = BTreeMap::new();
    for d in docs {
        if d.source == "phrase" {
            phrases.entry(d.id).or_insert_with(|| d.phrase());
            continue;
        }
        let e = entries.entry(d.id).or_insert_with(|| KbEntry {
            id: d.id.to_owned(),
            question: d.question.to_owned(),
            similar: Vec::new(),
            answer: d.answer.to_owned(),
            category: d.category.to_owned(),
            tags: d.tags.to_vec(),
        });
        if d.variant != d.question {
            e.similar.push(d.variant.to_owned());
        }
    }
    (
        entries.into_values().collect(),
        phrases.into_values().collect(),
    )
}

/// The entries and phrases of the on-disk index in `dir`, read from its stored fields by name
/// alone: no analysis or exact schema is needed, so an index built by an earlier kefu or with
/// other word lists can still be exported and rebuilt.
pub fn read_stored(dir: &Path) -> Result<(Vec<KbEntry>, Vec<Phrase>), Error> {
    let index = open_dir(dir)?;
    let schema = index.schema();
    let field = |name: &str| {
        schema.get_field(name).map_err(|_| {
            Error::Index(format!(
                "{}: no `{name}` field: not an index kefu built",
                dir.display()
            ))
        })
    };
    let (id, source, question) = (field("id")?, field("source")?, field("question")?);
    let (variant, answer) = (field("variant")?, field("answer")?);
    let (category, tags) = (field("category")?, field("tags")?);
    let searcher = index.reader().map_err(tv)?.searcher();
    let mut docs: Vec<TantivyDocument> = Vec::new();
    for (seg, segment) in searcher.segment_readers().iter().enumerate() {
        for doc_id in segment.doc_ids_alive() {
            docs.push(
                searcher
                    .doc(DocAddress::new(seg as u32, doc_id))
                    .map_err(tv)?,
            );
        }
    }
    let doc_tags: Vec<Vec<String>> = docs.iter().map(|d| split_tags(stored(d, tags))).collect();
    Ok(regroup(docs.iter().zip(&doc_tags).map(|(d, tags)| {
        StoredDoc {
            id: stored(d, id),
            source: stored(d, source),
            question: stored(d, question),
            variant: stored(d, variant),
            answer: stored(d, answer),
            category: stored(d, category),
            tags,
        }
    })))
}

/// Opens the tantivy index in `dir`, saying so when there is none.
fn open_dir(dir: &Path) -> Result<Index, Error> {
    if !dir.join("meta.json").is_file() {
        return Err(Error::Index(format!(
            "{}: no index here (build one with `kefu kb import FILE --index {}`)",
            dir.display(),
            dir.display()
        )));
    }
    Index::open_in_dir(dir).map_err(|e| Error::Index(format!("{}: {e}", dir.display())))
}

/// Records the analysis an index in `dir` was built with. Written after the index is
/// committed, each file through a rename, so a crash leaves an index that is refused rather
/// than one that silently mismatches.
fn store_analyzer(dir: &Path, analyzer: &Analyzer) -> Result<(), Error> {
    let write = |name: &str, text: &str| -> Result<(), Error> {
        let path = dir.join(name);
        super::kb::write_replacing(&path, text.as_bytes())
            .map_err(|source| Error::Io { path, io: source })
    };
    let synonyms = dir.join(SHOP_SYNONYMS_FILE);
    match analyzer.shop_synonyms() {
        Some(text) => write(SHOP_SYNONYMS_FILE, text)?,
        None => {
            if let Err(source) = std::fs::remove_file(&synonyms)
                && source.kind() != std::io::ErrorKind::NotFound
            {
                return Err(Error::Io {
                    path: synonyms,
                    io: source,
                });
            }
        }
    }
    write(ANALYSIS_FILE, &analyzer.fingerprint())
}

fn tv(e: tantivy::TantivyError) -> Error {
    Error::Index(e.to_string())
}

/// What ranking needs of one document, held in memory so a query fetches nothing from the
/// document store.
#[derive(Debug, Clone)]
pub struct DocInfo {
    pub id: String,
    pub source: String,
    /// The entry (or phrase) it is a question variant of, numbered from 0 in the open index.
    pub entry: u32,
    pub question: String,
    pub variant: String,
    pub answer: String,
    pub category: String,
    pub tags: Vec<String>,
    /// The variant's distinct words and bigrams, as ids in the index's vocabulary
    /// (`KbIndex::term_id`), sorted.
    pub terms: Vec<u32>,
    pub bigrams: Vec<u32>,
    /// The variant's characters (filler dropped), for BM25 and the ordered overlap.
    pub chars: Chars,
}

/// An open index, a searcher over its (immutable) contents, and every document's `DocInfo`.
pub struct KbIndex {
    pub index: Index,
    /// How this index's text and its questions are analysed.
    pub analyzer: Arc<Analyzer>,
    pub reader: IndexReader,
    pub searcher: Searcher,
    pub fields: Fields,
    docs: Vec<DocInfo>,
    /// `addr[segment_ord][doc_id]` is the document's index in `docs`.
    addr: Vec<Vec<u32>>,
    /// Collection statistics BM25 needs, computed once (the contents never change).
    pub stats: Stats,
    /// Entries holding each character (`char_df`), and the mean characters per document.
    char_df: FxHashMap<char, u32>,
    char_avg_len: f32,
    /// Every word and bigram of the question variants, numbered (for `DocInfo::terms`).
    vocabulary: FxHashMap<Box<str>, u32>,
    /// `postings[segment_ord]`: the searched fields' postings in each segment.
    postings: Vec<Vec<Postings>>,
    /// The knowledge-base entries rebuilt from `docs`, in id order: worked out the first time
    /// they are asked for, then kept (the contents never change).
    entries: std::sync::OnceLock<Box<[KbEntry]>>,
}

/// One searched field's postings in one segment, read out of tantivy once per open index (the
/// contents never change) with their BM25 term-frequency part worked out. A question looks up
/// a few dozen terms: a hash lookup costs a tenth of a walk down tantivy's FST, and a run of
/// ready floats saves decoding blocks and field-length codes for every posting. 8 bytes per
/// posting: about 1 MB for the 745-entry evaluation KB, 17 MB for 10,000 entries with their
/// similar questions (41,000 documents, each carrying its entry's answer words).
struct Postings {
    field: Field,
    /// Each term's run in `docs` and `parts`: (start, length = its document frequency), and
    /// its place in `entries`.
    terms: FxHashMap<Box<str>, (u32, u32, u32)>,
    /// For each term, how many entries (and phrases) hold it in the whole index, however many
    /// of their question variants do (`count_entries`).
    entries: Vec<u32>,
    docs: Vec<DocId>,
    /// `tf / (tf + K1 · (1 − B + B · len / avg_len))` for the document at the same place, with
    /// tantivy's encoded field length: BM25 without the term's IDF and `1 + K1`.
    parts: Vec<f32>,
}

impl Postings {
    /// Reads `field` of `segment`; `avg_len` is the field's mean length over the whole index.
    fn load(segment: &tantivy::SegmentReader, field: Field, avg_len: f32) -> Result<Self, Error> {
        let index_error = |e: std::io::Error| Error::Index(e.to_string());
        let inverted = segment.inverted_index(field).map_err(tv)?;
        let lengths = segment.get_fieldnorms_reader(field).map_err(tv)?;
        let norm_by_code: [f32; 256] = std::array::from_fn(|code| {
            let len = FieldNormReader::id_to_fieldnorm(code as u8) as f32;
            K1 * (1.0 - B + B * len / avg_len.max(f32::EPSILON))
        });
        let mut out = Self {
            field,
            terms: FxHashMap::default(),
            entries: Vec::new(),
            docs: Vec::new(),
            parts: Vec::new(),
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
                    let tf = tf as f32;
                    let norm = norm_by_code[usize::from(lengths.fieldnorm_id(doc))];
                    out.docs.push(doc);
                    out.parts.push(tf / (tf + norm));
                }
                postings.advance();
            }
            let run = (start as u32, (out.docs.len() - start) as u32);
            let ord = out.terms.len() as u32;
            out.terms.insert(term.into(), (run.0, run.1, ord));
        }
        out.entries = vec![0; out.terms.len()];
        Ok(out)
    }

    /// A term's documents and their term-frequency parts, and how many entries of the whole
    /// index hold it.
    fn get(&self, term: &str) -> Option<(&[DocId], &[f32], u32)> {
        let &(start, len, ord) = self.terms.get(term)?;
        let run = start as usize..(start + len) as usize;
        Some((
            &self.docs[run.clone()],
            &self.parts[run],
            self.entries[ord as usize],
        ))
    }
}

/// Numbers the entries (and phrases) of `docs` from 0, in order of first appearance, into
/// each document's `entry`; returns how many there are.
fn number_entries(docs: &mut [DocInfo]) -> usize {
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
fn char_df(docs: &[DocInfo]) -> FxHashMap<char, u32> {
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
fn count_entries(postings: &mut [Vec<Postings>], entry_of: &[Vec<u32>], entries: usize) {
    let mut marks = vec![u32::MAX; entries];
    let mut counted: Vec<(usize, usize, u32, u32)> = Vec::new();
    let mut term_no = 0u32;
    let fields = postings.first().map_or(0, Vec::len);
    for f in 0..fields {
        for seg in 0..postings.len() {
            for term in postings[seg][f].terms.keys() {
                // A term is counted once, over all segments, from the first segment holding it.
                if postings[..seg]
                    .iter()
                    .any(|s| s[f].terms.contains_key(term))
                {
                    continue;
                }
                let mut count = 0;
                let first = counted.len();
                for (s, segment) in postings.iter().enumerate().skip(seg) {
                    let Some(&(start, len, ord)) = segment[f].terms.get(term) else {
                        continue;
                    };
                    counted.push((s, f, ord, 0));
                    for &doc in &segment[f].docs[start as usize..(start + len) as usize] {
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
struct Candidate(u128);

impl Candidate {
    fn new(score: f32, doc: DocAddress) -> Self {
        // `f32::total_cmp`'s order as unsigned bits, inverted so that a higher score is less.
        let ordered = !(flip_negative(score.to_bits()) ^ 0x8000_0000);
        Self(u128::from(ordered) << 64 | u128::from(doc.segment_ord) << 32 | u128::from(doc.doc_id))
    }

    fn score(self) -> f32 {
        f32::from_bits(flip_negative(!((self.0 >> 64) as u32) ^ 0x8000_0000))
    }

    fn doc(self) -> DocAddress {
        DocAddress::new((self.0 >> 32) as u32, self.0 as u32)
    }
}

/// Flips every bit but the sign of a negative float's bits (its own inverse): what makes
/// `total_cmp` an integer comparison.
fn flip_negative(bits: u32) -> u32 {
    bits ^ ((((bits as i32) >> 31) as u32) >> 1)
}

/// A term in more than this share of the documents is left out of ranking…
const COMMON_SHARE: f32 = 1.0 / 3.0;
/// …or, for a word of the answers, in more than this share: answers are long, so a word in a
/// tenth of them says little about which one answers the question (on the evaluation set,
/// leaving them out ranks as well or slightly better, with 5% fewer instructions per question).
const ANSWER_COMMON_SHARE: f32 = 0.1;
/// …in an index of at least this many documents (in a small one, shares mean little).
const COMMON_MIN_DOCS: f32 = 100.0;

/// BM25 parameters, tantivy's.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// BM25's inverse document frequency, as tantivy computes it: ln(1 + (n − df + ½) / (df + ½)).
fn idf(df: f32, n: f32) -> f32 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Per-thread score accumulators for `top_docs`, reused across queries: `scores` is zero but
/// for the slots listed in `touched`.
#[derive(Default)]
struct Accumulators {
    scores: Vec<f32>,
    touched: Vec<u32>,
}

thread_local! {
    static ACCUMULATORS: RefCell<Accumulators> = RefCell::default();
}

/// BM25 collection statistics of an immutable index, computed once: tokens per searched field,
/// the number of documents (question variants, for field lengths) and of entries (for IDF).
#[derive(Debug, Clone)]
pub struct Stats {
    tokens: Vec<(Field, u64)>,
    docs: u64,
    entries: usize,
}

impl Stats {
    fn new(searcher: &Searcher, fields: &Fields, entries: usize) -> Result<Self, Error> {
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
    /// Builds an index of `kb` and `phrases` in memory, or in `dir` (replacing what is there).
    pub fn build(
        kb: &[KbEntry],
        phrases: &[Phrase],
        dir: Option<&Path>,
        analyzer: Arc<Analyzer>,
    ) -> Result<Self, Error> {
        let (schema, fields) = schema();
        let index = match dir {
            None => Index::create_in_ram(schema),
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                    path: dir.to_owned(),
                    io: source,
                })?;
                let mmap = tantivy::directory::MmapDirectory::open(dir)
                    .map_err(|e| Error::Index(e.to_string()))?;
                Index::open_or_create(mmap, schema).map_err(tv)?
            }
        };
        register(&index, &analyzer);
        let mut writer = index
            .writer_with_num_threads::<TantivyDocument>(1, 50_000_000)
            .map_err(tv)?;
        writer.delete_all_documents().map_err(tv)?;
        for e in kb {
            add_entry(&writer, &fields, &analyzer, e)?;
        }
        for p in phrases {
            // What customers say that calls for the phrase is its "question"; the scene too.
            let variants = std::iter::once(&p.scene).chain(&p.tags);
            let tags = p.tags.join("|");
            let doc = Stored {
                id: &p.id,
                source: "phrase",
                question: &p.scene,
                answer: &p.text,
                category: &p.scene,
                tags: &tags,
            };
            add_variants(&writer, &fields, &analyzer, &doc, variants)?;
        }
        writer.commit().map_err(tv)?;
        if let Some(dir) = dir {
            store_analyzer(dir, &analyzer)?;
        }
        Self::with_reader(index, fields, analyzer)
    }

    /// Writes knowledge-base changes to the on-disk index in `dir` and returns once they are
    /// committed (tantivy syncs the files before a commit completes): entries replace any with
    /// the same id, `deletes` go. Open the index again to see them.
    pub fn update(dir: &Path, upserts: &[KbEntry], deletes: &[String]) -> Result<(), Error> {
        let (_, fields) = schema();
        let index =
            Index::open_in_dir(dir).map_err(|e| Error::Index(format!("{}: {e}", dir.display())))?;
        let analyzer = stored_analyzer(dir)?;
        register(&index, &analyzer);
        let mut writer = index
            .writer_with_num_threads::<TantivyDocument>(1, 15_000_000)
            .map_err(tv)?;
        // A write cut off by a crash may have left files of the commit it never finished; a
        // retry of the same write would name its files the same and fail on them. They are
        // not part of the index: remove them first.
        writer.garbage_collect_files().wait().map_err(tv)?;
        for id in upserts.iter().map(|e| &e.id).chain(deletes) {
            writer.delete_term(tantivy::Term::from_field_text(fields.id, id));
        }
        for e in upserts {
            add_entry(&writer, &fields, &analyzer, e)?;
        }
        writer.commit().map_err(tv)?;
        // Each write adds a segment; the merges the commit started are waited for, so small
        // segments are folded together and the count stays low however many writes come.
        writer.wait_merging_threads().map_err(tv)?;
        Ok(())
    }

    /// Segments the index is made of (one per write, until merged).
    pub fn segments(&self) -> usize {
        self.searcher.segment_readers().len()
    }

    /// The knowledge-base entries and the phrases, rebuilt from their documents, in id order.
    pub fn contents(&self) -> (Vec<KbEntry>, Vec<Phrase>) {
        regroup(self.docs.iter().map(StoredDoc::from))
    }

    /// The phrases, in the order they were indexed (the library's own order).
    pub fn phrases(&self) -> Vec<Phrase> {
        let mut seen = FxHashSet::default();
        let phrases = self.docs.iter().filter(|d| d.source == "phrase");
        // A phrase is one document per trigger; the first stands for it.
        let firsts = phrases.filter(|d| seen.insert(d.id.as_str()));
        firsts.map(|d| StoredDoc::from(d).phrase()).collect()
    }

    /// The knowledge-base entries (not phrases), rebuilt from their question variants, in id
    /// order (once per open index).
    pub fn entries(&self) -> &[KbEntry] {
        self.entries.get_or_init(|| {
            let kb = self.docs.iter().filter(|d| d.source == "kb");
            regroup(kb.map(StoredDoc::from)).0.into_boxed_slice()
        })
    }

    /// The knowledge-base entry `id`, if there is one.
    pub fn entry(&self, id: &str) -> Option<&KbEntry> {
        let entries = self.entries();
        let at = entries.binary_search_by(|e| e.id.as_str().cmp(id)).ok()?;
        Some(&entries[at])
    }

    /// Rebuilds the on-disk index in `dir` from its own stored entries and phrases with this
    /// kefu's analysis (and the shop's synonyms kept there): after an upgrade changed the word
    /// lists, without going back to an import file that lacks the edits made over HTTP. The old
    /// contents give way in one commit, or, when the index's layout is another version's, the
    /// new index is built beside it and swapped in; either way an interruption loses nothing.
    /// Returns the entries and phrases re-indexed.
    pub fn reindex(dir: &Path) -> Result<(usize, usize), Error> {
        let (entries, phrases) = read_stored(dir)?;
        let analyzer = kept_analyzer(dir)?;
        let counts = (entries.len(), phrases.len());
        if open_dir(dir)?.schema() == schema().0 {
            Self::build(&entries, &phrases, Some(dir), analyzer)?;
            return Ok(counts);
        }
        let with_suffix = |suffix: &str| {
            let mut name = dir.file_name().unwrap_or_default().to_owned();
            name.push(suffix);
            dir.with_file_name(name)
        };
        let (fresh, previous) = (with_suffix(".reindex"), with_suffix(".previous"));
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io { path, io: source }
        };
        if fresh.exists() {
            std::fs::remove_dir_all(&fresh).map_err(io(&fresh))?;
        }
        Self::build(&entries, &phrases, Some(&fresh), analyzer)?;
        // What else lives with the index: the unanswered questions.
        let gaps = dir.join(super::gaps::INDEX_FILE);
        if gaps.is_file() {
            std::fs::copy(&gaps, fresh.join(super::gaps::INDEX_FILE)).map_err(io(&gaps))?;
        }
        std::fs::rename(dir, &previous).map_err(io(dir))?;
        std::fs::rename(&fresh, dir).map_err(io(&fresh))?;
        std::fs::remove_dir_all(&previous).map_err(io(&previous))?;
        Ok(counts)
    }

    /// Opens an index built by `kefu kb import`.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let index = open_dir(dir)?;
        let (expected, fields) = schema();
        if index.schema() != expected {
            return Err(Error::Index(format!(
                "{}: built by another version of kefu; rebuild it from its own entries with \
                 `kefu kb reindex --index {}`",
                dir.display(),
                dir.display()
            )));
        }
        let analyzer = stored_analyzer(dir)?;
        register(&index, &analyzer);
        Self::with_reader(index, fields, analyzer)
    }

    fn with_reader(index: Index, fields: Fields, analyzer: Arc<Analyzer>) -> Result<Self, Error> {
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tv)?;
        let searcher = reader.searcher();
        let mut docs = Vec::new();
        let mut vocabulary: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut addr = Vec::new();
        let mut total_chars = 0u64;
        for (seg, segment) in searcher.segment_readers().iter().enumerate() {
            let mut map = vec![u32::MAX; segment.max_doc() as usize];
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = searcher
                    .doc(DocAddress::new(seg as u32, doc_id))
                    .map_err(tv)?;
                let mut ids = |f| {
                    let mut ids: Vec<u32> = stored(&doc, f)
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(|t| {
                            let next = vocabulary.len() as u32;
                            *vocabulary.entry(t.into()).or_insert(next)
                        })
                        .collect();
                    ids.sort_unstable();
                    ids.dedup();
                    ids
                };
                map[doc_id as usize] = docs.len() as u32;
                let text: Vec<char> = stored(&doc, fields.v_chars).chars().collect();
                let chars = Chars::new(&text);
                total_chars += chars.len() as u64;
                docs.push(DocInfo {
                    id: stored(&doc, fields.id).to_owned(),
                    source: stored(&doc, fields.source).to_owned(),
                    entry: 0,
                    question: stored(&doc, fields.question).to_owned(),
                    variant: stored(&doc, fields.variant).to_owned(),
                    answer: stored(&doc, fields.answer).to_owned(),
                    category: stored(&doc, fields.category).to_owned(),
                    tags: split_tags(stored(&doc, fields.tags)),
                    terms: ids(fields.v_terms),
                    bigrams: ids(fields.v_bigrams),
                    chars,
                });
            }
            addr.push(map);
        }
        let entries = number_entries(&mut docs);
        let char_df = char_df(&docs);
        let stats = Stats::new(&searcher, &fields, entries)?;
        let char_avg_len = total_chars as f32 / docs.len().max(1) as f32;
        let mut postings = searcher
            .segment_readers()
            .iter()
            .map(|segment| {
                stats
                    .tokens
                    .iter()
                    .map(|&(field, tokens)| {
                        let avg_len = tokens as f32 / stats.docs.max(1) as f32;
                        Postings::load(segment, field, avg_len)
                    })
                    .collect::<Result<Vec<_>, Error>>()
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let entry_of: Vec<Vec<u32>> = addr
            .iter()
            .map(|map| {
                map.iter()
                    .map(|&i| docs.get(i as usize).map_or(u32::MAX, |d| d.entry))
                    .collect()
            })
            .collect();
        count_entries(&mut postings, &entry_of, entries);
        Ok(Self {
            index,
            analyzer,
            reader,
            searcher,
            fields,
            docs,
            addr,
            stats,
            char_df,
            char_avg_len,
            vocabulary,
            postings,
            entries: std::sync::OnceLock::new(),
        })
    }

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

    /// The in-memory information of a search hit.
    /// Every document, in the order of their entries' numbers.
    pub fn docs(&self) -> &[DocInfo] {
        &self.docs
    }

    pub fn info(&self, a: DocAddress) -> Option<&DocInfo> {
        let i = *self
            .addr
            .get(a.segment_ord as usize)?
            .get(a.doc_id as usize)?;
        self.docs.get(i as usize)
    }

    /// Number of documents (question variants and phrase triggers).
    pub fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }
}

/// The stored fields every document of an entry shares.
struct Stored<'a> {
    id: &'a str,
    source: &'a str,
    question: &'a str,
    answer: &'a str,
    category: &'a str,
    tags: &'a str,
}

fn add_entry(
    writer: &tantivy::IndexWriter<TantivyDocument>,
    fields: &Fields,
    analyzer: &Analyzer,
    e: &KbEntry,
) -> Result<(), Error> {
    let tags = e.tags.join("|");
    let doc = Stored {
        id: &e.id,
        source: "kb",
        question: &e.question,
        answer: &e.answer,
        category: &e.category,
        tags: &tags,
    };
    add_variants(
        writer,
        fields,
        analyzer,
        &doc,
        std::iter::once(&e.question).chain(&e.similar),
    )
}

/// One document per question variant. Each text is analysed once (the answer once for all
/// variants) and handed to tantivy as the tokens its fields' tokenizers would make.
fn add_variants<'v>(
    writer: &tantivy::IndexWriter<TantivyDocument>,
    fields: &Fields,
    analyzer: &Analyzer,
    d: &Stored<'_>,
    variants: impl Iterator<Item = &'v String>,
) -> Result<(), Error> {
    let answer = analyzer.words(d.answer);
    for variant in variants {
        let Indexed {
            words,
            bigrams,
            chars,
        } = analyzer.indexed(variant);
        let mut doc = doc!(
            fields.id => d.id,
            fields.source => d.source,
            fields.question => d.question,
            fields.variant => variant.as_str(),
            fields.answer => d.answer,
            fields.category => d.category,
            fields.tags => d.tags,
            fields.v_terms => joined(&words),
            fields.v_bigrams => joined(&bigrams),
            fields.v_chars => chars,
        );
        doc.add_pre_tokenized_text(fields.q_words, pre_tokenized(variant, &words));
        doc.add_pre_tokenized_text(fields.q_bigrams, pre_tokenized(variant, &bigrams));
        doc.add_pre_tokenized_text(fields.a_words, pre_tokenized(d.answer, &answer));
        writer.add_document(doc).map_err(tv)?;
    }
    Ok(())
}

/// Reads a stored text field.
pub fn stored(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};

    use super::*;
    use crate::suggest::kb::{self, DEFAULT_KB, DEFAULT_PHRASES};

    #[test]
    fn candidates_order_best_first_and_keep_their_score_and_address() {
        let scores = [
            f32::INFINITY,
            12.5,
            1.0,
            f32::MIN_POSITIVE,
            0.0,
            -0.0,
            -1e-30,
            -3.0,
            f32::NEG_INFINITY,
        ];
        let at = |s: u32, d: u32| DocAddress::new(s, d);
        let mut all: Vec<Candidate> = Vec::new();
        for (i, &score) in scores.iter().enumerate() {
            for doc in [at(0, 7), at(1, 0), at(0, u32::MAX)] {
                let c = Candidate::new(score, doc);
                assert_eq!(c.score().to_bits(), score.to_bits(), "{score}");
                assert_eq!(c.doc(), doc);
                all.push(c);
            }
            assert!(
                i == 0 || all[3 * i - 1] < all[3 * i],
                "{score} ranks below the one above"
            );
        }
        let mut sorted = all.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted
                .iter()
                .map(|c| c.score().to_bits())
                .collect::<Vec<_>>(),
            all.iter().map(|c| c.score().to_bits()).collect::<Vec<_>>()
        );
        // Equal scores: the lower address first, segment before document.
        assert!(Candidate::new(1.0, at(0, u32::MAX)) < Candidate::new(1.0, at(1, 0)));
        assert!(Candidate::new(1.0, at(0, 7)) < Candidate::new(1.0, at(0, 8)));
        // The same order as comparing the floats.
        for pair in scores.windows(2) {
            assert_eq!(
                Candidate::new(pair[0], at(0, 0)).cmp(&Candidate::new(pair[1], at(0, 0))),
                pair[1].total_cmp(&pair[0])
            );
        }
    }

    fn shipped() -> KbIndex {
        let entries = kb::parse::<KbEntry>(DEFAULT_KB).dedup_last_wins(|e| &e.id);
        let phrases = kb::parse::<Phrase>(DEFAULT_PHRASES).dedup_last_wins(|p| &p.id);
        KbIndex::build(&entries, &phrases, None, Arc::clone(Analyzer::shipped())).unwrap()
    }

    /// `top_docs` ranks and scores as tantivy's own disjunction of boosted term queries, on an
    /// index with one question per entry (where entries and documents are the same count, so
    /// the IDFs agree: see `idf_counts_entries_not_their_question_variants`).
    #[test]
    fn term_at_a_time_scores_match_tantivys_boolean_query() {
        let mut entries = kb::parse::<KbEntry>(DEFAULT_KB).dedup_last_wins(|e| &e.id);
        for e in &mut entries {
            e.similar.clear();
        }
        let kb = KbIndex::build(&entries, &[], None, Arc::clone(Analyzer::shipped())).unwrap();
        let f = kb.fields;
        for question in [
            "我拍下了还没付款，订单怎么就关闭了",
            "退款多久到账",
            "发什么快递，包邮吗",
        ] {
            let analyzer = Analyzer::shipped();
            let words: Vec<String> = analyzer
                .words(question)
                .into_iter()
                .map(|t| t.text)
                .collect();
            let bigrams: Vec<String> = analyzer
                .bigrams(question)
                .into_iter()
                .map(|t| t.text)
                .collect();
            let mut terms = Vec::new();
            for w in &words {
                terms.push(WeightedTerm::new(f.q_words, w, 1.0));
                terms.push(WeightedTerm::new(f.a_words, w, 0.5));
            }
            for b in &bigrams {
                terms.push(WeightedTerm::new(f.q_bigrams, b, 0.6));
            }
            let (ours, _) = kb.top_docs(&terms, 20);

            // The same query to tantivy, less the terms `top_docs` leaves out as too common.
            let n = kb.searcher.num_docs() as f32;
            let clauses: Vec<(Occur, Box<dyn Query>)> = terms
                .iter()
                .filter(|t| {
                    let term = tantivy::Term::from_field_text(t.field, t.text);
                    let df = kb.searcher.doc_freq(&term).unwrap() as f32;
                    let share = if t.field == f.a_words {
                        ANSWER_COMMON_SHARE
                    } else {
                        COMMON_SHARE
                    };
                    df <= n * share
                })
                .map(|t| {
                    let q = TermQuery::new(
                        tantivy::Term::from_field_text(t.field, t.text),
                        IndexRecordOption::WithFreqs,
                    );
                    let q: Box<dyn Query> = Box::new(BoostQuery::new(Box::new(q), t.boost));
                    (Occur::Should, q)
                })
                .collect();
            let theirs = kb
                .searcher
                .search(&BooleanQuery::new(clauses), &TopDocs::with_limit(20))
                .unwrap();
            assert_eq!(ours.len(), 20, "{question}");
            assert_eq!(ours.len(), theirs.len(), "{question}");
            for ((a, da), (b, db)) in ours.iter().zip(&theirs) {
                assert!((a - b).abs() < 1e-3 * b.max(1.0), "{question}: {a} vs {b}");
                // Equal scores may come in either order; different ones must not.
                if da != db {
                    let other = ours.iter().find(|(_, d)| d == db).map(|(s, _)| *s);
                    assert!(other.is_some_and(|s| (s - b).abs() < 1e-3), "{question}");
                }
            }
        }
    }

    /// Sub-words share their word's position, so a phrase query through tantivy's own parser
    /// (with the index's tokenizer) finds a phrase that starts or ends inside a longer word,
    /// and word order still counts.
    #[test]
    fn phrase_queries_see_sub_words_at_their_words_position() {
        let kb = shipped();
        let parser = tantivy::query::QueryParser::for_index(&kb.index, vec![kb.fields.q_words]);
        let questions = |q: &str| -> Vec<String> {
            let query = parser.parse_query(q).unwrap();
            let hits = kb
                .searcher
                .search(&query, &TopDocs::with_limit(50))
                .unwrap();
            hits.into_iter()
                .filter_map(|(_, a)| kb.info(a).map(|d| d.variant.clone()))
                .collect()
        };
        let wanted = "支持七天无理由退货吗？";
        // 无理由 and 理由 are sub-words of 七天无理由; 退货 is the next word.
        for phrase in ["\"七天无理由退货\"", "\"无理由退货\"", "\"理由退货\""] {
            assert!(questions(phrase).iter().any(|v| v == wanted), "{phrase}");
        }
        assert!(!questions("\"退货无理由\"").iter().any(|v| v == wanted));
        // Traditional text is tokenized like Simplified.
        assert!(questions("\"無理由退貨\"").iter().any(|v| v == wanted));
    }

    /// An index of another version's layout (here: its search fields indexed another way) is
    /// rebuilt from its stored fields beside it and swapped in, its gap file carried over.
    #[test]
    fn reindex_rebuilds_another_versions_index_from_its_stored_fields() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        let mut b = Schema::builder();
        let names = [
            "id", "source", "question", "variant", "answer", "category", "tags",
        ];
        let f: Vec<Field> = names
            .iter()
            .map(|n| b.add_text_field(n, STRING | STORED))
            .collect();
        let words = b.add_text_field("q_words", tantivy::schema::TEXT);
        let old = Index::create_in_dir(&dir, b.build()).unwrap();
        let mut writer = old.writer::<TantivyDocument>(15_000_000).unwrap();
        let docs = [
            [
                "ship",
                "kb",
                "多久发货",
                "多久发货",
                "48小时内发货。",
                "物流",
                "发货",
            ],
            [
                "ship",
                "kb",
                "多久发货",
                "什么时候发货",
                "48小时内发货。",
                "物流",
                "发货",
            ],
            [
                "hello",
                "phrase",
                "greeting",
                "greeting",
                "您好，请问有什么可以帮您？",
                "greeting",
                "在吗|有人吗",
            ],
            [
                "hello",
                "phrase",
                "greeting",
                "在吗",
                "您好，请问有什么可以帮您？",
                "greeting",
                "在吗|有人吗",
            ],
        ];
        for d in docs {
            let mut doc = TantivyDocument::default();
            for (field, text) in f.iter().zip(d) {
                doc.add_text(*field, text);
            }
            doc.add_text(words, d[3]);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        drop(writer);
        std::fs::write(dir.join(crate::suggest::gaps::INDEX_FILE), "{}\n").unwrap();
        assert!(KbIndex::open(&dir).is_err(), "another layout is refused");

        assert_eq!(KbIndex::reindex(&dir).unwrap(), (1, 1));
        let kb = KbIndex::open(&dir).unwrap();
        let entries = kb.entries();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].similar, ["什么时候发货"]);
        assert_eq!(entries[0].tags, ["发货"]);
        let (_, phrases) = read_stored(&dir).unwrap();
        assert_eq!(phrases[0].tags, ["在吗", "有人吗"]);
        assert_eq!(phrases[0].text, "您好，请问有什么可以帮您？");
        let gaps = std::fs::read_to_string(dir.join(crate::suggest::gaps::INDEX_FILE)).unwrap();
        assert_eq!(gaps, "{}\n");
        // The index built beside it and the one it replaced are gone.
        let name = dir.file_name().unwrap().to_str().unwrap();
        let sibling = |suffix: &str| dir.with_file_name(format!("{name}{suffix}"));
        assert!(!sibling(".previous").exists() && !sibling(".reindex").exists());
    }

    #[test]
    fn unknown_terms_score_nothing() {
        let kb = shipped();
        let (none, idf) = kb.top_docs(
            &[WeightedTerm::new(kb.fields.q_words, "不存在的词语", 1.0)],
            10,
        );
        assert!(none.is_empty());
        assert_eq!(idf.len(), 1, "one IDF per term, known or not");
        assert!(kb.top_docs(&[], 10).0.is_empty());
    }

    /// An in-memory index of entries `e0, e1, …` with these questions and answers.
    fn index_of(qa: impl Iterator<Item = (String, &'static str)>) -> KbIndex {
        let entries: Vec<KbEntry> = qa
            .enumerate()
            .map(|(i, (question, answer))| KbEntry {
                id: format!("e{i}"),
                question,
                similar: Vec::new(),
                answer: answer.to_owned(),
                category: String::new(),
                tags: Vec::new(),
            })
            .collect();
        KbIndex::build(&entries, &[], None, Arc::clone(Analyzer::shipped())).unwrap()
    }

    /// A word all six phrasings of one entry use is as rare as a word of one entry's single
    /// question: the IDF counts entries (and phrases), so an entry's similar questions don't make
    /// its own words look common. Deleted documents of an updated index don't count.
    #[test]
    fn idf_counts_entries_not_their_question_variants() {
        let entry = |id: &str, question: &str, similar: &[&str]| KbEntry {
            id: id.to_owned(),
            question: question.to_owned(),
            similar: similar.iter().map(|s| s.to_string()).collect(),
            answer: "您好，请您稍等，我为您查询。".to_owned(),
            category: String::new(),
            tags: Vec::new(),
        };
        let refund = entry(
            "refund",
            "怎么申请退款",
            &[
                "退款怎么操作",
                "我要退款",
                "退款流程",
                "退款去哪里申请",
                "退款多久到账",
            ],
        );
        let entries = [
            refund.clone(),
            entry("invoice", "发票怎么开", &[]),
            entry("address", "收货地址写错了", &["地址能改吗"]),
        ];
        let phrase = Phrase {
            id: "wait".to_owned(),
            scene: "waiting".to_owned(),
            text: "请您稍等。".to_owned(),
            tags: vec!["等一下".to_owned()],
        };
        let scratch = tempfile::tempdir().unwrap();
        let analyzer = Arc::clone(Analyzer::shipped());
        KbIndex::build(&entries, &[phrase], Some(scratch.path()), analyzer).unwrap();
        // Rewriting an entry deletes its documents and adds new ones in another segment.
        KbIndex::update(scratch.path(), &[refund], &[]).unwrap();
        let kb = KbIndex::open(scratch.path()).unwrap();
        let f = kb.fields;
        assert_eq!(kb.num_docs(), 11);
        assert_eq!(kb.entries_with(f.q_words, "退款"), 1);
        assert_eq!(kb.entries_with(f.q_words, "收货地址"), 1);
        assert_eq!(kb.entries_with(f.q_words, "轮胎"), 0);
        assert_eq!(kb.entries_with(f.a_words, "查询"), 3);
        let (_, idfs) = kb.top_docs(
            &[
                WeightedTerm::new(f.q_words, "退款", 1.0),
                WeightedTerm::new(f.q_words, "发票", 1.0),
            ],
            5,
        );
        // Three entries and a phrase; each word in one of them.
        assert_eq!(idfs[0], idf(1.0, 4.0));
        assert_eq!(idfs[0], idfs[1]);
        assert_eq!(
            kb.char_weights("退发".chars()),
            [('发', idf(1.0, 4.0)), ('退', idf(1.0, 4.0))]
        );
    }

    /// A write cut off after its files were written but before its commit landed (the state a
    /// crash leaves: here `meta.json` put back as it was) is retried as it was sent, and
    /// succeeds: the unfinished commit's files are cleared first, not collided with.
    #[test]
    fn a_write_retried_after_a_crash_succeeds() {
        let entry = |answer: &str| KbEntry {
            id: if answer.contains("发票") {
                "invoice"
            } else {
                "ship"
            }
            .to_owned(),
            question: "多久发货".to_owned(),
            similar: vec!["什么时候发货".to_owned()],
            answer: answer.to_owned(),
            category: String::new(),
            tags: Vec::new(),
        };
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let analyzer = Arc::clone(Analyzer::shipped());
        let kb = [entry("48小时内发货。"), entry("发票随货寄出。")];
        KbIndex::build(&kb, &[], Some(dir), analyzer).unwrap();
        let files = |dir: &Path| {
            let names = std::fs::read_dir(dir)
                .unwrap()
                .map(|f| f.unwrap().file_name());
            let read = |name: String| (std::fs::read(dir.join(&name)).unwrap(), name);
            names
                .map(|n| read(n.into_string().unwrap()))
                .collect::<Vec<_>>()
        };
        let managed = |bytes: &[u8]| serde_json::from_slice::<Vec<String>>(bytes).unwrap();
        let before = files(dir);
        let edit = [entry("24小时内发货。")];
        KbIndex::update(dir, &edit, &[]).unwrap();
        // A crash just before the commit: the files from before are all there (the clean-up
        // after a commit never ran), the new ones too, and the list of files kefu's index
        // manages names both; `meta.json` is the one from before.
        let mut names = managed(&std::fs::read(dir.join(".managed.json")).unwrap());
        for (bytes, name) in before {
            if name == ".managed.json" {
                names.extend(managed(&bytes));
            } else {
                std::fs::write(dir.join(&name), bytes).unwrap();
            }
        }
        std::fs::write(
            dir.join(".managed.json"),
            serde_json::to_vec(&names).unwrap(),
        )
        .unwrap();
        let entries = |dir| KbIndex::open(dir).unwrap().entries().to_vec();
        assert_eq!(
            entries(dir)[1].answer,
            "48小时内发货。",
            "the commit was undone"
        );
        KbIndex::update(dir, &edit, &[]).unwrap();
        assert_eq!(entries(dir)[1].answer, "24小时内发货。");
        assert_eq!(entries(dir).len(), 2);
    }

    /// A thousand single-entry writes leave a handful of segments, not a thousand: the merges
    /// each write starts finish before it returns.
    #[test]
    fn many_small_writes_are_merged() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let entry = |i: usize| KbEntry {
            id: format!("e{i}"),
            question: format!("第{i}个问题怎么办"),
            similar: Vec::new(),
            answer: "您好，请您稍等。".to_owned(),
            category: String::new(),
            tags: Vec::new(),
        };
        KbIndex::build(&[entry(0)], &[], Some(dir), Arc::clone(Analyzer::shipped())).unwrap();
        for i in 1..300 {
            KbIndex::update(dir, &[entry(i % 200)], &[]).unwrap();
        }
        let kb = KbIndex::open(dir).unwrap();
        assert_eq!(kb.entries().len(), 200);
        assert!(kb.segments() <= 20, "{} segments", kb.segments());
    }

    /// Terms in more than a third of a large index are left out of ranking, unless they are all
    /// the question has.
    #[test]
    fn common_terms_rank_nothing_unless_nothing_else_is_left() {
        let kb = index_of((0..120).map(|i| (format!("订单{i}怎么退货"), "请您在订单页面申请退货")));
        let f = kb.fields;
        let common = WeightedTerm::new(f.q_words, "退货", 1.0);
        let rare = WeightedTerm::new(f.q_words, "7", 1.0);
        // Alone, the common word still finds documents.
        let (alone, idf) = kb.top_docs(&[common], 200);
        assert_eq!(alone.len(), 120);
        assert_eq!(idf.len(), 1);
        // With a rare word beside it, only the rare word ranks: one document, and the common
        // word's IDF is still reported.
        let (ranked, idf) = kb.top_docs(&[common, rare], 200);
        assert_eq!(ranked.len(), 1, "{ranked:?}");
        assert_eq!(kb.info(ranked[0].1).unwrap().id, "e7");
        assert!(idf[0] < idf[1] && idf[0] > 0.0, "{idf:?}");
        // The same holds for a word found in every answer.
        let answer = WeightedTerm::new(f.a_words, "申请", 1.0);
        let (ranked, _) = kb.top_docs(&[answer, rare], 200);
        assert_eq!(ranked.len(), 1, "{ranked:?}");
    }

    /// Answer words found in more than a tenth of the answers don't rank, question words do.
    #[test]
    fn answer_words_are_common_sooner_than_question_words() {
        let kb = index_of((0..200).map(|i| {
            if i % 5 == 0 {
                (format!("发票{i}"), "发票随货寄出")
            } else {
                (format!("问题{i}"), "稍后回复")
            }
        }));
        let f = kb.fields;
        let rare = WeightedTerm::new(f.q_words, "7", 1.0);
        // 发票 is in a fifth of the questions and of the answers.
        let in_questions = WeightedTerm::new(f.q_words, "发票", 1.0);
        let in_answers = WeightedTerm::new(f.a_words, "发票", 1.0);
        let (ranked, _) = kb.top_docs(&[in_questions, rare], 500);
        assert_eq!(ranked.len(), 41, "the question word still ranks");
        let (ranked, _) = kb.top_docs(&[in_answers, rare], 500);
        assert_eq!(ranked.len(), 1, "the answer word does not");
    }
}
