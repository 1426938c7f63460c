//! The encoder's tokenizer: XLM-RoBERTa's SentencePiece unigram model (its pieces, their log
//! probabilities and its character normalisation), read from the model file, cutting text by
//! Viterbi into the most probable pieces.

use rustc_hash::FxHashMap;

/// The SentencePiece word-boundary mark (U+2581) that stands for a space.
const META: char = '\u{2581}';

/// Pieces and normalisation, as the model was trained with.
pub struct Tokenizer {
    pieces: FxHashMap<Box<str>, u32>,
    scores: Vec<f32>,
    /// Characters rewritten before cutting (full-width forms, compatibility characters).
    normalize: FxHashMap<char, Box<str>>,
    /// The score of a character no piece covers: below every piece, so any piece is preferred.
    unknown_score: f32,
    /// The longest piece, in bytes.
    longest: usize,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
}

impl Tokenizer {
    pub fn new(
        pieces: Vec<String>,
        scores: Vec<f32>,
        normalize: FxHashMap<char, Box<str>>,
        (bos, eos, unk): (u32, u32, u32),
    ) -> Self {
        let unknown_score = scores.iter().copied().fold(f32::INFINITY, f32::min) - 10.0;
        let longest = pieces.iter().map(String::len).max().unwrap_or(1);
        let pieces = pieces
            .into_iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(i, p)| (p.into_boxed_str(), i as u32))
            .rev() // the first of two equal pieces wins, as in SentencePiece
            .collect();
        Self {
            pieces,
            scores,
            normalize,
            unknown_score,
            longest,
            bos,
            eos,
            unk,
        }
    }

    /// The pieces of `text`, without the sentence marks: normalised, runs of spaces made one,
    /// a boundary mark in front, every space a boundary mark, then the most probable cut.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut chars: Vec<char> = Vec::with_capacity(text.len() + 1);
        for c in text.chars() {
            match self.normalize.get(&c) {
                Some(to) => chars.extend(to.chars()),
                None => chars.push(c),
            }
        }
        chars.dedup_by(|b, a| *a == ' ' && *b == ' ');
        let mut buf = String::with_capacity(chars.len() * 3 + 3);
        if chars.first() != Some(&' ') {
            buf.push(META);
        }
        buf.extend(chars.iter().map(|&c| if c == ' ' { META } else { c }));
        // Byte offsets of the character starts, and the end.
        let starts: Vec<usize> = buf
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(buf.len()))
            .collect();
        let n = starts.len() - 1;
        let mut best = vec![f32::NEG_INFINITY; n + 1];
        // (piece, start char) of the best cut ending at each char; `None` piece: unknown.
        let mut back: Vec<(Option<u32>, usize)> = vec![(None, 0); n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] == f32::NEG_INFINITY {
                continue;
            }
            for e in i + 1..=n {
                let piece = &buf[starts[i]..starts[e]];
                if piece.len() > self.longest {
                    break;
                }
                if let Some(&id) = self.pieces.get(piece)
                    && id != self.unk
                {
                    let score = best[i] + self.scores[id as usize];
                    if score > best[e] {
                        best[e] = score;
                        back[e] = (Some(id), i);
                    }
                }
            }
            let score = best[i] + self.unknown_score;
            if score > best[i + 1] {
                best[i + 1] = score;
                back[i + 1] = (None, i);
            }
        }
        let mut ids = Vec::new();
        let mut at = n;
        while at > 0 {
            let (id, from) = back[at];
            ids.push(id.unwrap_or(self.unk));
            at = from;
        }
        ids.reverse();
        ids
    }
}
