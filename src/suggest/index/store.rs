//! An index on disk: the analysis kept beside it (the shop's synonyms, the analysis
//! fingerprint that refuses an index built with other word lists), opening its directory, and
//! reading its stored documents back as entries and phrases (`kefu kb export`, `reindex`).

use std::collections::BTreeMap;

use std::path::Path;
use std::sync::Arc;

use tantivy::{DocAddress, Index, TantivyDocument};

use crate::error::Error;
use crate::suggest::analyze::Analyzer;
use crate::suggest::kb::{KbEntry, Phrase};

use super::*;

/// Files kept beside an on-disk index: the shop's synonyms it was built with, and the
/// fingerprint of its analysis (`Analyzer::fingerprint`).
pub(super) const SHOP_SYNONYMS_FILE: &str = "shop-synonyms.txt";
pub(super) const ANALYSIS_FILE: &str = "kefu-analysis.txt";

/// The analysis an on-disk index was built with: the shipped tables and the shop's synonyms
/// kept beside it. An index built with other lexicons (an earlier kefu) is refused: its terms
/// would not match the questions' terms.
pub(super) fn stored_analyzer(dir: &Path) -> Result<Arc<Analyzer>, Error> {
    let analyzer = kept_analyzer(dir)?;
    if !built_with(dir, &analyzer) {
        return Err(Error::Index(format!(
            "{}: built with other word lists (an earlier kefu, or other shop synonyms); \
             rebuild it from its own entries with `kefu kb reindex --index {}`",
            dir.display(),
            dir.display()
        )));
    }
    Ok(analyzer)
}

/// Whether the index in `dir` says it was built with `analyzer` (its fingerprint, kept beside
/// it).
pub(super) fn built_with(dir: &Path, analyzer: &Analyzer) -> bool {
    let stored = std::fs::read_to_string(dir.join(ANALYSIS_FILE)).unwrap_or_default();
    stored.trim() == analyzer.fingerprint()
}

/// This kefu's analysis with the shop's synonyms kept in `dir`, whatever the index there was
/// built with.
pub(super) fn kept_analyzer(dir: &Path) -> Result<Arc<Analyzer>, Error> {
    let synonyms = dir.join(SHOP_SYNONYMS_FILE);
    if !synonyms.is_file() {
        return Ok(Arc::clone(Analyzer::shipped()));
    }
    let text = crate::suggest::kb::read_file(&synonyms)?;
    Ok(Arc::new(Analyzer::with_shop_synonyms(
        &text,
        &synonyms.display().to_string(),
    )?))
}

/// The stored fields of one document, as read back from an index.
pub(super) struct StoredDoc<'a> {
    pub(super) id: &'a str,
    pub(super) source: &'a str,
    pub(super) question: &'a str,
    pub(super) variant: &'a str,
    pub(super) answer: &'a str,
    pub(super) category: &'a str,
    pub(super) tags: &'a [String],
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
    pub(super) fn phrase(&self) -> Phrase {
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
pub(super) fn regroup<'a>(
    docs: impl Iterator<Item = StoredDoc<'a>>,
) -> (Vec<KbEntry>, Vec<Phrase>) {
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
pub(super) fn open_dir(dir: &Path) -> Result<Index, Error> {
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
pub(super) fn store_analyzer(dir: &Path, analyzer: &Analyzer) -> Result<(), Error> {
    let write = |name: &str, text: &str| -> Result<(), Error> {
        let path = dir.join(name);
        crate::suggest::kb::write_replacing(&path, text.as_bytes())
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

pub(super) fn tv(e: tantivy::TantivyError) -> Error {
    Error::Index(e.to_string())
}
