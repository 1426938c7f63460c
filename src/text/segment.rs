//! The one shared jieba segmenter, loaded once with the shop-domain user dictionary
//! (`lexicons/userdict.txt`), and the word tokens it yields as spans of the original text.

use std::sync::OnceLock;

use jieba_rs::Jieba;

use super::span::Span;

/// The shipped domain dictionary: jieba's `word [freq] [tag]` lines.
pub const USER_DICT: &str = include_str!("../../lexicons/userdict.txt");

/// Retrieval synonyms (`lexicons/synonyms.txt`); their words join the dictionary.
const SYNONYMS: &str = include_str!("../../lexicons/synonyms.txt");

/// A word of the text, as a span of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    pub span: Span,
}

/// The process-wide segmenter. Building it parses jieba's dictionary (tens of milliseconds), so it
/// happens once, on first use.
pub fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(|| {
        let mut jieba = Jieba::new();
        let mut reader = std::io::BufReader::new(USER_DICT.as_bytes());
        // The shipped dictionary is tested to load; a failure here would be a build defect.
        jieba
            .load_dict(&mut reader)
            .expect("lexicons/userdict.txt is a valid jieba dictionary");
        // Every synonym stays one word, so it can be folded to its canonical spelling. They
        // come normalised (`pos机`, not `POS机`), as the text retrieval segments is.
        for (_, group) in crate::lexicon::synonyms::parse(SYNONYMS).flatten() {
            for word in std::iter::once(&group.canonical).chain(&group.variants) {
                if word.chars().count() >= 2 && !jieba.has_word(word) {
                    jieba.add_word(word, Some(2000), None);
                }
            }
        }
        jieba
    })
}

/// Words of `text` (normally the Simplified view, which has the original's byte layout).
///
/// Dictionary words only, without jieba's HMM guessing of unknown words: the rules ask "is this
/// a known word here", and the HMM would triple the cost of the hot path.
pub fn words(text: &str) -> Vec<Word> {
    jieba()
        .cut(text, false)
        .into_iter()
        .map(|t| Word {
            span: Span::new(t.byte_start, t.byte_end),
        })
        .collect()
}

/// The first letter of a word's part-of-speech tag in jieba's dictionary (ICTCLAS-style: `v`
/// verb, `r` pronoun, `n` noun…), `x` when the word is unknown.
pub fn pos(word: &str) -> char {
    jieba()
        .tag(word, false)
        .first()
        .filter(|t| t.word == word)
        .and_then(|t| t.tag.chars().next())
        .unwrap_or('x')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_words_stay_whole() {
        let ws: Vec<&str> = words("支持七天无理由退货，还有运费险")
            .iter()
            .map(|w| w.span.slice("支持七天无理由退货，还有运费险"))
            .collect();
        assert!(ws.contains(&"七天无理由"), "{ws:?}");
        assert!(ws.contains(&"运费险"), "{ws:?}");
    }

    #[test]
    fn mini_is_one_word() {
        let text = "这款迷你小风扇";
        let ws: Vec<&str> = words(text).iter().map(|w| w.span.slice(text)).collect();
        assert!(ws.contains(&"迷你"), "{ws:?}");
    }

    #[test]
    fn spans_slice_the_text() {
        let text = "亲😀，您的订单已发货";
        let joined: String = words(text).iter().map(|w| w.span.slice(text)).collect();
        assert_eq!(joined, text);
    }
}
