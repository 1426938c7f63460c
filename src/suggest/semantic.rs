//! The semantic retriever: each entry's question, similar questions and answer embedded once
//! (`crate::embed`), each customer question embedded as it comes, and the cosine of the two
//! standardised over the knowledge base, so the ranker can add it to the lexical evidence.
//! Vectors are cached on disk by text, so an index opens without embedding again.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::index::DocInfo;
use crate::embed::{Encoder, Role};

/// Characters of an entry's text (question, similar questions, answer) that are embedded:
/// about 100 tokens, where the answer has said what it is about. On the evaluation FAQ 150 and
/// 300 rank the same (100 loses half a point), and embedding costs in proportion.
const PASSAGE_CHARS: usize = 150;
/// Most vectors the disk cache keeps (768 bytes each); beyond, it keeps the last index's.
const CACHE_CAP: usize = 200_000;

/// Where the shared encoder comes from: the model named by `KEFU_MODEL`, else the one the build
/// fetched (`crate::embed::BUILT_IN_PATH`) when it is there; none when `KEFU_MODEL=off`.
pub fn model_path() -> Option<PathBuf> {
    match std::env::var_os("KEFU_MODEL") {
        Some(v) if v == "off" || v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
        None => Some(PathBuf::from(crate::embed::BUILT_IN_PATH)).filter(|p| p.exists()),
    }
}

/// The encoder every suggester shares: the model of [`model_path`]; none when there is none.
/// A model that is named but cannot be read is an error said once, and the ranker goes on
/// with words alone.
pub fn encoder() -> Option<Arc<Encoder>> {
    static ENCODER: OnceLock<Option<Arc<Encoder>>> = OnceLock::new();
    ENCODER
        .get_or_init(|| {
            let Some(path) = model_path() else {
                if std::env::var_os("KEFU_MODEL").is_none() {
                    tracing::info!(
                        "no semantic model at {}: suggestions rank by words alone \
                         (run scripts/fetch-model, or set KEFU_MODEL)",
                        crate::embed::BUILT_IN_PATH
                    );
                }
                return None;
            };
            match Encoder::load(&path) {
                Ok(e) => Some(Arc::new(e)),
                Err(e) => {
                    tracing::error!("{e}: suggestions rank by words alone");
                    None
                }
            }
        })
        .clone()
}

/// The embedded text of an entry: its question, similar questions and answer, cut short.
fn passage<'a>(docs: impl Iterator<Item = &'a DocInfo>) -> String {
    let mut docs = docs.peekable();
    let Some(first) = docs.peek().copied() else {
        return String::new();
    };
    let mut text = String::with_capacity(PASSAGE_CHARS * 3);
    let mut room = PASSAGE_CHARS;
    // Each piece pushed as far as there is room: a long answer is not copied whole.
    let mut push = |piece: &str| {
        let cut = piece
            .char_indices()
            .nth(room)
            .map_or(piece.len(), |(at, _)| at);
        room -= piece[..cut].chars().count();
        text.push_str(&piece[..cut]);
    };
    push(&first.question);
    for d in docs {
        if d.variant != first.question {
            push("\n");
            push(&d.variant);
        }
    }
    push("\n");
    push(&first.answer);
    text
}

/// Questions whose vectors are kept (a chat client asks the same question again as the
/// conversation is reopened or the agent switches back); the store is emptied when full.
const RECENT_QUESTIONS: usize = 1024;

/// Each entry's vector, by entry number.
pub struct Semantic {
    encoder: Arc<Encoder>,
    dim: usize,
    vectors: Vec<f32>,
    /// Each entry's passage as built from its documents (`key` of `passage`), and the cache key
    /// of the text embedded (normalised): what a later build of the same knowledge base
    /// takes over without normalising or looking up again.
    passages: Vec<u64>,
    keys: Vec<u64>,
    /// The vectors of recent questions, by their normalised text.
    recent: Mutex<FxHashMap<Box<str>, Arc<[f32]>>>,
    /// The first document of each entry: what stands for it when only meaning finds it.
    pub first_doc: Vec<u32>,
}

impl Semantic {
    /// Embeds the entries of `docs` (numbered by `DocInfo::entry`), each text passed through
    /// `normalize` (the index's analysis: Simplified, folded, the shop's synonyms in their
    /// canonical spelling, as questions will be), from the cache where it has them. The vector
    /// of an entry whose passage is unchanged is taken from `previous` (a build with the same
    /// encoder and analysis): after a write to a large knowledge base only the entries it
    /// changed are looked up or embedded.
    pub fn build(
        encoder: Arc<Encoder>,
        docs: &[DocInfo],
        entries: usize,
        normalize: impl Fn(&str) -> String,
        previous: Option<&Semantic>,
    ) -> Self {
        let dim = encoder.dim();
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); entries];
        for (i, d) in docs.iter().enumerate() {
            members[d.entry as usize].push(i as u32);
        }
        let passages: Vec<String> = (members.iter())
            .map(|m| passage(m.iter().map(|&i| &docs[i as usize])))
            .collect();
        let passage_keys: Vec<u64> = passages.iter().map(|p| key(p)).collect();
        let previous = previous.filter(|p| Arc::ptr_eq(&p.encoder, &encoder));
        let earlier: FxHashMap<u64, usize> = previous
            .map(|p| {
                p.passages
                    .iter()
                    .enumerate()
                    .map(|(i, &k)| (k, i))
                    .collect()
            })
            .unwrap_or_default();
        let mut vectors = vec![0.0; entries * dim];
        let mut keys = vec![0; entries];
        // (entry, normalised text) of the entries `previous` lacks.
        let mut missing: Vec<(usize, String)> = Vec::new();
        for (e, k) in passage_keys.iter().enumerate() {
            match previous.zip(earlier.get(k)) {
                Some((p, &at)) => {
                    vectors[e * dim..(e + 1) * dim]
                        .copy_from_slice(&p.vectors[at * dim..(at + 1) * dim]);
                    keys[e] = p.keys[at];
                }
                None => {
                    let text = normalize(&passages[e]);
                    keys[e] = key(&text);
                    missing.push((e, text));
                }
            }
        }
        let texts: Vec<(u64, &str)> = (missing.iter())
            .map(|(e, t)| (keys[*e], t.as_str()))
            .collect();
        let found = lookup_or_embed(cache(&encoder), &encoder, &texts, &keys);
        for ((e, _), v) in missing.iter().zip(found.chunks_exact(dim)) {
            vectors[e * dim..(e + 1) * dim].copy_from_slice(v);
        }
        Self {
            encoder,
            dim,
            vectors,
            passages: passage_keys,
            keys,
            recent: Mutex::new(FxHashMap::default()),
            first_doc: members
                .iter()
                .map(|m| m.first().copied().unwrap_or(0))
                .collect(),
        }
    }

    /// Each entry's similarity to `question` (normalised as `build` normalised the entries):
    /// the cosine, and the cosine standardised over the
    /// entries (mean 0, standard deviation 1): how much nearer in meaning than the rest,
    /// whatever the model's scale.
    pub fn scores(&self, question: &str) -> Meaning {
        let q = self.question_vector(question);
        let sims: Vec<f32> = self
            .vectors
            .chunks_exact(self.dim)
            .map(|v| crate::embed::dot(&q, v))
            .collect();
        let n = sims.len().max(1) as f32;
        let mean = sims.iter().sum::<f32>() / n;
        let sd = (sims.iter().map(|s| (s - mean) * (s - mean)).sum::<f32>() / n).sqrt();
        let standard = if sd < 1e-6 {
            vec![0.0; sims.len()]
        } else {
            sims.iter().map(|s| (s - mean) / sd).collect()
        };
        let mut nearest = (0, f32::NEG_INFINITY, f32::NEG_INFINITY);
        for (i, &c) in sims.iter().enumerate() {
            if c > nearest.1 {
                nearest = (i, c, nearest.1);
            } else if c > nearest.2 {
                nearest.2 = c;
            }
        }
        Meaning {
            cosine: sims,
            standard,
            nearest,
        }
    }
}

impl Semantic {
    /// The question's vector (normalised as `scores` takes it), from the recent ones when it
    /// was asked lately.
    pub fn vector(&self, question: &str) -> Arc<[f32]> {
        self.question_vector(question)
    }

    /// The question's vector, from the recent ones when it was asked lately.
    fn question_vector(&self, question: &str) -> Arc<[f32]> {
        let lock = || (self.recent.lock()).unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(v) = lock().get(question) {
            return Arc::clone(v);
        }
        // Embedded without the lock held: other questions go on meanwhile.
        let v: Arc<[f32]> = self.encoder.embed(question, Role::Query).into();
        let mut recent = lock();
        if recent.len() >= RECENT_QUESTIONS {
            recent.clear();
        }
        recent.insert(question.into(), Arc::clone(&v));
        v
    }
}

/// A question's similarity to every entry, by entry number (`Semantic::scores`).
pub struct Meaning {
    pub cosine: Vec<f32>,
    pub standard: Vec<f32>,
    /// The nearest entry and its cosine, and the second nearest's cosine.
    nearest: (usize, f32, f32),
}

impl Meaning {
    /// The entry's cosine less the nearest other entry's: positive when it is the nearest.
    pub fn margin(&self, entry: usize) -> f32 {
        let (first, best, second) = self.nearest;
        self.cosine[entry] - if entry == first { second } else { best }
    }
}

/// Vectors already computed, by a hash of the text, kept in `KEFU_CACHE_DIR` (default
/// `$XDG_CACHE_HOME/kefu` or `~/.cache/kefu`) so that opening an index does not embed again:
/// one file per model, new vectors appended, rewritten only when it passes `CACHE_CAP`.
struct Cache {
    file: Option<PathBuf>,
    vectors: FxHashMap<u64, Box<[half::f16]>>,
}

fn cache(encoder: &Encoder) -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| {
        let dir = std::env::var_os("KEFU_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("kefu")))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kefu")));
        let name = format!("passages-{:016x}.bin", encoder.fingerprint());
        let file = dir.map(|d| d.join(name));
        let vectors = (file.as_deref())
            .map(|f| read_cache(f, encoder.dim()))
            .unwrap_or_default();
        Mutex::new(Cache { file, vectors })
    })
}

/// FNV-1a of the text: stable across versions and platforms, unlike the standard hasher.
fn key(text: &str) -> u64 {
    crate::embed::fnv(text.as_bytes())
}

const CACHE_MAGIC: &[u8; 8] = b"KEFUVEC1";

/// The cache file's vectors; nothing when it is missing or of another size of vector. A record
/// cut short at the end (a write interrupted) is left out.
fn read_cache(path: &std::path::Path, dim: usize) -> FxHashMap<u64, Box<[half::f16]>> {
    let mut map = FxHashMap::default();
    let Ok(bytes) = std::fs::read(path) else {
        return map;
    };
    let Some(rest) = bytes.strip_prefix(CACHE_MAGIC) else {
        return map;
    };
    let Some((stored, rest)) = rest.split_first_chunk::<4>() else {
        return map;
    };
    if u32::from_le_bytes(*stored) as usize != dim {
        return map;
    }
    for record in rest.chunks_exact(8 + dim * 2) {
        let (k, v) = record.split_at(8);
        let vector = v
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]))
            .collect();
        map.insert(u64::from_le_bytes(k.try_into().unwrap()), vector);
    }
    map
}

fn record(out: &mut Vec<u8>, key: u64, vector: &[half::f16]) {
    out.extend_from_slice(&key.to_le_bytes());
    for x in vector {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

impl Cache {
    /// Appends the vectors of `keys` to the file (one write, so that processes sharing the
    /// file do not interleave records), starting it if there is none.
    fn append(&self, keys: &[u64], dim: usize) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)?;
        let mut bytes = Vec::with_capacity(keys.len() * (8 + dim * 2) + 12);
        if out.metadata()?.len() == 0 {
            bytes.extend_from_slice(CACHE_MAGIC);
            bytes.extend_from_slice(&(dim as u32).to_le_bytes());
        }
        for k in keys {
            record(&mut bytes, *k, &self.vectors[k]);
        }
        out.write_all(&bytes)
    }

    /// Writes the file anew with the vectors held now (through a renamed temporary).
    fn rewrite(&self, dim: usize) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut bytes = Vec::with_capacity(self.vectors.len() * (8 + dim * 2) + 12);
        bytes.extend_from_slice(CACHE_MAGIC);
        bytes.extend_from_slice(&(dim as u32).to_le_bytes());
        for (k, v) in &self.vectors {
            record(&mut bytes, *k, v);
        }
        super::kb::write_replacing(file, &bytes)
    }
}

/// The vectors of `texts` (each with its `key`), in order, embedding (in parallel) those the
/// cache lacks. When the cache is full it keeps those of `texts` and of `keep` (the whole
/// knowledge base's).
fn lookup_or_embed(
    cache: &Mutex<Cache>,
    encoder: &Encoder,
    texts: &[(u64, &str)],
    keep: &[u64],
) -> Vec<f32> {
    let dim = encoder.dim();
    let keys: Vec<u64> = texts.iter().map(|&(k, _)| k).collect();
    let missing: Vec<usize> = {
        let cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        (0..texts.len())
            .filter(|&i| cache.vectors.get(&keys[i]).is_none_or(|v| v.len() != dim))
            .collect()
    };
    let fresh: Vec<Vec<f32>> = missing
        .par_iter()
        .map(|&i| encoder.embed(texts[i].1, Role::Passage))
        .collect();
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if !fresh.is_empty() {
        let full = cache.vectors.len() + fresh.len() > CACHE_CAP;
        if full {
            let keep: rustc_hash::FxHashSet<u64> = keys.iter().chain(keep).copied().collect();
            cache.vectors.retain(|k, _| keep.contains(k));
        }
        let mut added = Vec::with_capacity(fresh.len());
        for (&i, v) in missing.iter().zip(&fresh) {
            let v = v.iter().map(|&x| half::f16::from_f32(x)).collect();
            cache.vectors.insert(keys[i], v);
            added.push(keys[i]);
        }
        let written = if full {
            cache.rewrite(dim)
        } else {
            cache.append(&added, dim)
        };
        if let Err(e) = written {
            tracing::warn!("semantic vectors not cached: {e}");
        }
    }
    let mut out = Vec::with_capacity(texts.len() * dim);
    for k in &keys {
        out.extend(cache.vectors[k].iter().map(|x| x.to_f32()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_file_keeps_whole_records_and_only_its_own_size() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/passages.bin");
        let v = |x: f32| -> Box<[half::f16]> { vec![half::f16::from_f32(x); 4].into() };
        let mut cache = Cache {
            file: Some(file.clone()),
            vectors: FxHashMap::default(),
        };
        cache.vectors.insert(1, v(0.5));
        cache.append(&[1], 4).unwrap();
        cache.vectors.insert(2, v(-0.25));
        cache.vectors.insert(3, v(1.0));
        cache.append(&[2, 3], 4).unwrap();
        let read = read_cache(&file, 4);
        assert_eq!(read.len(), 3);
        assert_eq!(read[&2][0].to_f32(), -0.25);
        // A write cut short loses its record, not the file.
        let len = std::fs::metadata(&file).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
        f.set_len(len - 3).unwrap();
        assert_eq!(read_cache(&file, 4).len(), 2);
        // Vectors of another size are another model's: none is used.
        assert!(read_cache(&file, 384).is_empty());
        cache.vectors.remove(&1);
        cache.rewrite(4).unwrap();
        assert_eq!(read_cache(&file, 4).len(), 2);
    }
}
