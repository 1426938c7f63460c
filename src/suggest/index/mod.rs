//! The tantivy side of suggestion: the schema, the jieba-word and character-bigram tokenizers
//! registered on it, and building an index in memory or on disk from a knowledge base and phrase
//! library. Each question variant (the question and every similar question) is its own document,
//! so a short paraphrase is scored against the phrasing it resembles, not against all of them.
//!
//! The index is split by job: `schema` (fields and tokenizers), `store` (an index on disk and
//! what is kept beside it), `score` (postings in memory and BM25), and here the open index
//! itself: building, updating, opening and the in-memory table of documents.

mod schema;
mod score;
mod store;

pub use schema::*;
pub use score::*;
pub use store::*;

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::Path;
use std::sync::Arc;

use tantivy::schema::{Field, Value};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, doc};

use crate::error::Error;
use crate::suggest::analyze::{Analyzer, Indexed};
use crate::suggest::kb::{KbEntry, Phrase};
use crate::suggest::overlap::Chars;

/// What ranking needs of one document, held in memory so a query fetches nothing from the
/// document store: its entry's number in this open index and the document's own fields (read
/// once, and shared with later opens of the index while its segment lasts), which it derefs to.
#[derive(Debug, Clone)]
pub struct DocInfo {
    /// The entry (or phrase) it is a question variant of, numbered from 0 in the open index.
    pub entry: u32,
    fields: Arc<DocFields>,
}

impl std::ops::Deref for DocInfo {
    type Target = DocFields;

    fn deref(&self) -> &DocFields {
        &self.fields
    }
}

/// A document's stored fields and analysis, as `DocInfo` holds them.
#[derive(Debug)]
pub struct DocFields {
    pub id: String,
    pub source: String,
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
        Self::with_reader(index, fields, analyzer, None)
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
        Self::open_after(dir, None)
    }

    /// Opens the index in `dir` as it is now, taking from `self` (an earlier open of the same
    /// directory) what it read of the segments both hold: after a write, only the segments the
    /// write and its merges made are read, not the whole knowledge base.
    pub fn reopen(&self, dir: &Path) -> Result<Self, Error> {
        Self::open_after(dir, Some(self))
    }

    fn open_after(dir: &Path, previous: Option<&Self>) -> Result<Self, Error> {
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
        // The analysis of the earlier open, when the index still says it was built with it.
        let same_analysis = previous.filter(|p| built_with(dir, &p.analyzer));
        let analyzer = match same_analysis {
            Some(p) => Arc::clone(&p.analyzer),
            None => stored_analyzer(dir)?,
        };
        register(&index, &analyzer);
        Self::with_reader(index, fields, analyzer, same_analysis)
    }

    /// Reads what ranking needs of every document and field, from `previous` for the segments
    /// it holds too (a segment never changes; only more of its documents may be deleted).
    fn with_reader(
        index: Index,
        fields: Fields,
        analyzer: Arc<Analyzer>,
        previous: Option<&Self>,
    ) -> Result<Self, Error> {
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tv)?;
        let searcher = reader.searcher();
        // Each segment of the earlier open, by id.
        let earlier: FxHashMap<tantivy::index::SegmentId, usize> = previous
            .map(|p| {
                let segments = p.searcher.segment_readers().iter();
                segments
                    .enumerate()
                    .map(|(ord, s)| (s.segment_id(), ord))
                    .collect()
            })
            .unwrap_or_default();
        let mut docs = Vec::new();
        // Ids of the earlier open stay what they were, so its documents' terms keep theirs.
        let mut vocabulary = previous.map_or_else(FxHashMap::default, |p| p.vocabulary.clone());
        let mut addr = Vec::new();
        let mut total_chars = 0u64;
        let mut read: Vec<Option<&[Postings]>> = Vec::new();
        for (seg, segment) in searcher.segment_readers().iter().enumerate() {
            let mut map = vec![u32::MAX; segment.max_doc() as usize];
            let kept = previous.zip(earlier.get(&segment.segment_id()));
            read.push(kept.map(|(p, &ord)| p.postings[ord].as_slice()));
            for doc_id in segment.doc_ids_alive() {
                map[doc_id as usize] = docs.len() as u32;
                let info = match kept {
                    Some((p, &ord)) => p.docs[p.addr[ord][doc_id as usize] as usize].clone(),
                    None => {
                        let doc: TantivyDocument = searcher
                            .doc(DocAddress::new(seg as u32, doc_id))
                            .map_err(tv)?;
                        doc_info(&doc, &fields, &mut vocabulary)
                    }
                };
                total_chars += info.chars.len() as u64;
                docs.push(info);
            }
            addr.push(map);
        }
        let entries = number_entries(&mut docs);
        let char_df = char_df(&docs);
        let stats = Stats::new(&searcher, &fields, entries)?;
        let char_avg_len = total_chars as f32 / docs.len().max(1) as f32;
        let mut postings = (searcher.segment_readers().iter().zip(&read))
            .map(|(segment, earlier)| {
                stats
                    .tokens
                    .iter()
                    .enumerate()
                    .map(|(f, &(field, tokens))| {
                        let avg_len = tokens as f32 / stats.docs.max(1) as f32;
                        let read = match earlier {
                            Some(p) => Arc::clone(&p[f].read),
                            None => Arc::new(SegmentPostings::read(segment, field)?),
                        };
                        Ok(Postings::new(field, read, avg_len))
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

/// What ranking needs of a stored document; its words and bigrams are numbered in
/// `vocabulary` (new ones added).
fn doc_info(
    doc: &TantivyDocument,
    fields: &Fields,
    vocabulary: &mut FxHashMap<Box<str>, u32>,
) -> DocInfo {
    let mut ids = |f| {
        let mut ids: Vec<u32> = stored(doc, f)
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
    let terms = ids(fields.v_terms);
    let bigrams = ids(fields.v_bigrams);
    let text: Vec<char> = stored(doc, fields.v_chars).chars().collect();
    let fields = DocFields {
        id: stored(doc, fields.id).to_owned(),
        source: stored(doc, fields.source).to_owned(),
        question: stored(doc, fields.question).to_owned(),
        variant: stored(doc, fields.variant).to_owned(),
        answer: stored(doc, fields.answer).to_owned(),
        category: stored(doc, fields.category).to_owned(),
        tags: split_tags(stored(doc, fields.tags)),
        terms,
        bigrams,
        chars: Chars::new(&text),
    };
    DocInfo {
        entry: 0,
        fields: Arc::new(fields),
    }
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
    use tantivy::schema::{IndexRecordOption, STORED, STRING, Schema};

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
