//! Text analysis for retrieval, shared by indexing and querying: normalisation (Traditional→
//! Simplified, width, case), jieba search-mode words with synonyms folded to one spelling, filler
//! words dropped, and characters and character bigrams (of the text with its words in their
//! canonical spelling) for evidence that word segmentation misses.

use aho_corasick::{AhoCorasick, MatchKind};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::Serialize;

use crate::error::Error;
use crate::lexicon::synonyms;
use std::sync::{Arc, OnceLock};

use crate::text::normalize::normalize_free;
use crate::text::segment::jieba;
use jieba_rs::Token;

/// Shipped synonyms: `canonical: variant, variant…` per line.
pub const SYNONYMS: &str = include_str!("../../lexicons/synonyms.txt");
/// Shipped filler words: one per line.
pub const FILLER: &str = include_str!("../../lexicons/filler.txt");
/// How common words are in general Chinese: `word idf` per line (see the file's header).
pub const GENERAL_IDF: &str = include_str!("../../lexicons/general-idf.txt");
/// A word's query weight is scaled by its general IDF over this (at most 1): everyday words
/// count less, rare and domain words (not listed) count fully.
const EVERYDAY_IDF: f32 = 8.0;

/// What decides how text is analysed besides the word lists (`Analyzer::fingerprint`): raised
/// when the code changes what an indexed text becomes, so an index built before is refused.
/// 2: characters and bigrams are taken from the text with its words in canonical spelling.
/// 3: a number of `MIN_NUMBER` digits or more is one bigram, and a word of its own inside a word.
/// 4: an A-not-A question word (能不能) yields no inner words.
/// 5: a text of filler words alone keeps those of two characters or more (谢谢啦 → 谢谢).
const ANALYSIS_VERSION: &str = "5";
/// Digits from which a number is a code (an error code, a merchant or card number, an amount)
/// that matches as a whole: 1000057 and 1000075 share four digit pairs and mean different
/// things. The characters keep every digit, so a code quoted with a digit too many or too few
/// still finds its question, only with less evidence.
const MIN_NUMBER: usize = 3;

/// A retrieval token: its text and position (the index of the default-mode word it falls in, so
/// the overlapping sub-words of search mode share their word's position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub position: usize,
    /// Byte range in the normalised text (for characters and bigrams: in the canonical text,
    /// `Explained::canonical`).
    pub from: usize,
    pub to: usize,
}

/// Synonym, filler and general-frequency tables, built once.
#[derive(Debug, Clone, Default)]
pub struct Analyzer {
    synonyms: HashMap<String, String>,
    filler: HashSet<String>,
    /// The one-character filler words, for `chars`.
    filler_chars: HashSet<char>,
    general_idf: HashMap<String, f32>,
    shop: Option<ShopSynonyms>,
}

/// A shop's own synonyms: each variant is replaced by its canonical spelling in the normalised
/// text, before segmentation, so they work for words the segmenter doesn't know (SF, 顺丰速运).
#[derive(Debug, Clone)]
struct ShopSynonyms {
    variants: AhoCorasick,
    canonical: Vec<String>,
    /// The file as given, to be kept with an on-disk index.
    text: String,
}

/// A question analysed for retrieval, each kind of term once, in order of appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub words: Vec<String>,
    pub bigrams: Vec<String>,
    /// Its characters in order, repeats kept (the ordered overlap needs them).
    pub chars: Vec<char>,
}

/// A knowledge-base question as the index holds it (`Analyzer::indexed`): its words and bigrams
/// with their places, and its characters in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Indexed {
    pub words: Vec<Term>,
    pub bigrams: Vec<Term>,
    pub chars: String,
}

/// A text as retrieval analyses it (`Analyzer::explain`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained {
    /// Traditional→Simplified, width and case folded, the shop's synonyms replaced.
    pub normalized: String,
    /// The normalised text with every word spelled as its synonym group's canonical word (如何
    /// → 怎么): what the characters and bigrams are taken from.
    pub canonical: String,
    /// Every word jieba found, in order (the dictionary words inside a long word just before it).
    pub words: Vec<AnalysedWord>,
    /// The character bigrams, in order.
    pub bigrams: Vec<String>,
}

/// One word of an analysed text.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AnalysedWord {
    /// As it stands in the normalised text.
    pub written: String,
    /// The term it is searched as: the canonical word of its synonym group, or itself.
    pub searched_as: String,
    /// Left out of the search as a filler word (亲, 请问, 吗 …).
    pub filler: bool,
    /// How much it counts by its rarity in general Chinese, 0–1 (`everyday_weight`).
    pub weight: f32,
}

impl Analyzer {
    /// The shipped tables.
    pub fn shipped() -> &'static Arc<Analyzer> {
        static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
        A.get_or_init(|| Arc::new(Analyzer::new(SYNONYMS, FILLER, GENERAL_IDF)))
    }

    /// The shipped tables and a shop's own synonyms, written like `lexicons/synonyms.txt`
    /// (`canonical: variant, variant…` per line, `#` comments). Each variant must be at least two
    /// characters: it replaces text wherever it occurs (longest first), and a single character
    /// would change too many other words. `source` names the file in errors.
    pub fn with_shop_synonyms(text: &str, source: &str) -> Result<Self, Error> {
        let mut patterns: Vec<String> = Vec::new();
        let mut canonical: Vec<String> = Vec::new();
        for group in synonyms::parse(text) {
            let error = |line: usize, message: String| Error::Config {
                location: format!("{source}:{line}"),
                message,
            };
            let (line, group) = group.map_err(|e| error(e.line, e.message))?;
            for v in group.variants {
                if v.chars().count() < 2 {
                    return Err(error(
                        line,
                        format!("`{v}` is one character; a shop synonym must be at least two"),
                    ));
                }
                if let Some(i) = patterns.iter().position(|p| *p == v)
                    && canonical[i] != group.canonical
                {
                    return Err(error(
                        line,
                        format!("`{v}` is already a synonym of `{}`", canonical[i]),
                    ));
                }
                patterns.push(v);
                canonical.push(group.canonical.clone());
            }
        }
        let variants = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| Error::Config {
                location: source.to_owned(),
                message: e.to_string(),
            })?;
        let mut analyzer = Analyzer::clone(Analyzer::shipped());
        analyzer.shop = Some(ShopSynonyms {
            variants,
            canonical,
            text: text.to_owned(),
        });
        Ok(analyzer)
    }

    /// Identifies everything that decides how text is cut into indexed terms: the domain
    /// dictionary, the synonyms (shipped and the shop's) and the filler words. An on-disk index
    /// is only valid for the analysis it was built with.
    pub fn fingerprint(&self) -> String {
        let h = crate::fingerprint::fnv1a_parts(&[
            ANALYSIS_VERSION.as_bytes(),
            crate::text::segment::USER_DICT.as_bytes(),
            SYNONYMS.as_bytes(),
            FILLER.as_bytes(),
            self.shop_synonyms().unwrap_or("").as_bytes(),
        ]);
        format!("{h:016x}")
    }

    /// The shop's synonyms file as given, if there is one.
    pub fn shop_synonyms(&self) -> Option<&str> {
        self.shop.as_ref().map(|s| s.text.as_str())
    }

    /// Normalised text (Traditional→Simplified, width, case) with the shop's synonyms folded.
    /// `text` normalised (Traditional as Simplified, width and case folded) with the shop's
    /// synonyms replaced: what every other analysis starts from, and what is embedded.
    pub fn normalize(&self, text: &str) -> String {
        let norm = normalize_free(text);
        match &self.shop {
            Some(shop) => shop.variants.replace_all(&norm, &shop.canonical),
            None => norm,
        }
    }

    pub fn new(synonyms: &str, filler: &str, general_idf: &str) -> Self {
        // The shipped file is tested to read cleanly (`lexicon::synonyms`).
        let mut map = HashMap::default();
        for (_, group) in synonyms::parse(synonyms).flatten() {
            for v in group.variants {
                map.insert(v, group.canonical.clone());
            }
        }
        let general_idf = lines(general_idf)
            .filter_map(|l| {
                let (word, idf) = l.split_once(' ')?;
                Some((word.to_owned(), idf.trim().parse().ok()?))
            })
            .collect();
        let filler: HashSet<String> = lines(filler).map(normalize_free).collect();
        let filler_chars = filler
            .iter()
            .filter_map(|w| {
                let mut cs = w.chars();
                cs.next().filter(|_| cs.next().is_none())
            })
            .collect();
        Self {
            synonyms: map,
            filler,
            filler_chars,
            general_idf,
            shop: None,
        }
    }

    /// How much a query term counts, 0–1, by how common it is in general Chinese: a
    /// knowledge base's own statistics say 今天 or 想 is rare when its questions happen not to
    /// use them, and customers use them all the time.
    pub fn everyday_weight(&self, term: &str) -> f32 {
        self.general_idf
            .get(term)
            .map_or(1.0, |idf| (idf / EVERYDAY_IDF).clamp(0.0, 1.0))
    }

    /// `everyday_weight` of a character bigram: its own if it is a word of general Chinese,
    /// else its rarer character's. A bigram across two words (以用 of 可以用) is listed nowhere,
    /// and would otherwise count as fully as a rare domain word.
    pub fn bigram_weight(&self, bigram: &str) -> f32 {
        if self.general_idf.contains_key(bigram) {
            return self.everyday_weight(bigram);
        }
        bigram
            .chars()
            .map(|c| self.everyday_weight(c.encode_utf8(&mut [0; 4])))
            .fold(0.0, f32::max)
    }

    /// Every word the synonym table knows, so the segmenter keeps them whole.
    pub fn dictionary_words(&self) -> impl Iterator<Item = &str> {
        self.synonyms
            .iter()
            .flat_map(|(k, v)| [k.as_str(), v.as_str()])
    }

    /// Words of `text` for the index and for queries. Filler words are dropped unless the text
    /// has nothing else (在吗 is all filler, and still means something).
    pub fn words(&self, text: &str) -> Vec<Term> {
        let norm = self.normalize(text);
        self.kept(self.cut_words(&jieba().cut(&norm, false)))
    }

    /// A knowledge-base text's words, bigrams and characters, as `words`, `bigrams` and `chars`
    /// give them, from one segmentation.
    pub fn indexed(&self, text: &str) -> Indexed {
        let norm = self.normalize(text);
        let cut = jieba().cut(&norm, false);
        let words = self.kept(self.cut_words(&cut));
        let canonical = self.canonical(&cut);
        Indexed {
            words,
            bigrams: self.normalized_bigrams(&canonical),
            chars: self.normalized_chars(&canonical).map(|(_, c)| c).collect(),
        }
    }

    /// A customer's question: its distinct words and bigrams and its characters, from the
    /// same analysis as a knowledge-base question's (`indexed`).
    pub fn query(&self, text: &str) -> Query {
        let distinct = |terms: Vec<Term>| -> Vec<String> {
            let mut seen = HashSet::default();
            let first: Vec<bool> = terms.iter().map(|t| seen.insert(t.text.as_str())).collect();
            terms
                .into_iter()
                .zip(first)
                .filter_map(|(t, first)| first.then_some(t.text))
                .collect()
        };
        let Indexed {
            words,
            bigrams,
            chars,
        } = self.indexed(text);
        Query {
            words: distinct(words),
            bigrams: distinct(bigrams),
            chars: chars.chars().collect(),
        }
    }

    /// How `text` is analysed, word by word: what a KB owner looks at to see why a question
    /// does or doesn't meet an entry (a synonym missing, a word cut differently, a filler).
    pub fn explain(&self, text: &str) -> Explained {
        let normalized = self.normalize(text);
        let cut = jieba().cut(&normalized, false);
        let all = self.cut_words(&cut);
        let kept = self.kept(all.clone());
        let canonical = self.canonical(&cut);
        let words = all
            .into_iter()
            .map(|t| AnalysedWord {
                written: normalized[t.from..t.to].to_owned(),
                filler: !kept.contains(&t),
                weight: self.everyday_weight(&t.text),
                searched_as: t.text,
            })
            .collect();
        let bigrams = self
            .normalized_bigrams(&canonical)
            .into_iter()
            .map(|t| t.text)
            .collect();
        Explained {
            normalized,
            canonical,
            words,
            bigrams,
        }
    }

    /// `all` without its filler words, unless nothing else is left; then without its
    /// one-character particles, if words are left (谢谢啦 is 谢谢, 在吗 stays whole).
    fn kept(&self, all: Vec<Term>) -> Vec<Term> {
        if !all.iter().all(|t| self.filler.contains(&t.text)) {
            return all
                .into_iter()
                .filter(|t| !self.filler.contains(&t.text))
                .collect();
        }
        let long = |t: &Term| t.text.chars().nth(1).is_some();
        if all.iter().any(long) {
            all.into_iter().filter(long).collect()
        } else {
            all
        }
    }

    /// The search-mode words of a default-mode cut, synonyms folded.
    fn cut_words(&self, cut: &[Token<'_>]) -> Vec<Term> {
        let j = jieba();
        let mut out = Vec::with_capacity(cut.len() * 2);
        for (position, w) in cut.iter().enumerate() {
            if !w.word.chars().any(char::is_alphanumeric) {
                continue;
            }
            // Search mode: a long word also yields the dictionary words inside it.
            // Not in an A-not-A question (能不能, 是不是, 有没有, 有木有, 可不可以): its inner words
            // (不能, 不是, 没有) say the opposite of what is asked.
            let chars: Vec<(usize, char)> = w.word.char_indices().collect();
            let a_not_a = chars.len() > 2
                && matches!(chars[1].1, '不' | '没' | '木')
                && chars[0].1 == chars[2].1;
            if chars.len() > 2 && !a_not_a {
                for n in [2, 3] {
                    for s in 0..chars.len().saturating_sub(n - 1) {
                        let start = chars[s].0;
                        let end = chars.get(s + n).map_or(w.word.len(), |c| c.0);
                        let sub = &w.word[start..end];
                        if sub.len() < w.word.len() && j.has_word(sub) {
                            out.push(self.term(
                                sub,
                                position,
                                w.byte_start + start,
                                w.byte_start + end,
                            ));
                        }
                    }
                }
            }
            // A code inside a word (bb1000057) is also a word of its own.
            let mut s = 0;
            while s < w.word.len() {
                let run = digit_run(&w.word[s..]);
                if run >= MIN_NUMBER && run < w.word.len() {
                    let (from, to) = (w.byte_start + s, w.byte_start + s + run);
                    out.push(self.term(&w.word[s..s + run], position, from, to));
                }
                // Digits are one byte; anything else moves to its next character.
                s += run.max(w.word[s..].chars().next().map_or(1, char::len_utf8));
            }
            out.push(self.term(w.word, position, w.byte_start, w.byte_end));
        }
        out
    }

    /// The cut text again, each word in its canonical spelling: characters and bigrams then
    /// agree with the words (如何处理 and 怎么处理 share 怎么, not only 处理).
    fn canonical(&self, cut: &[Token<'_>]) -> String {
        let mut out = String::with_capacity(cut.iter().map(|w| w.word.len()).sum());
        for w in cut {
            out.push_str(self.synonyms.get(w.word).map_or(w.word, String::as_str));
        }
        out
    }

    fn term(&self, word: &str, position: usize, from: usize, to: usize) -> Term {
        let text = self
            .synonyms
            .get(word)
            .cloned()
            .unwrap_or_else(|| word.to_owned());
        Term {
            text,
            position,
            from,
            to,
        }
    }

    /// Single characters of the text's words and numbers, filler characters dropped: the
    /// weakest evidence (单 in 单子 and 签购单), for paraphrases that share no word.
    pub fn chars(&self, text: &str) -> String {
        self.normalized_chars(&self.canonical_text(text))
            .map(|(_, c)| c)
            .collect()
    }

    fn normalized_chars<'a>(&'a self, norm: &'a str) -> impl Iterator<Item = (usize, char)> + 'a {
        norm.char_indices()
            .filter(|(_, c)| c.is_alphanumeric() && !self.filler_chars.contains(c))
    }

    /// Character bigrams of the text's words and numbers (filler characters kept: bigrams are
    /// the fallback evidence, and their IDF already discounts common ones); a number of three
    /// digits or more is one term instead of its digit pairs (`MIN_NUMBER`).
    pub fn bigrams(&self, text: &str) -> Vec<Term> {
        self.normalized_bigrams(&self.canonical_text(text))
    }

    /// `text` normalised, with every word in its canonical spelling (`Explained::canonical`).
    fn canonical_text(&self, text: &str) -> String {
        let norm = self.normalize(text);
        self.canonical(&jieba().cut(&norm, false))
    }

    fn normalized_bigrams(&self, norm: &str) -> Vec<Term> {
        let chars: Vec<(usize, char)> = norm
            .char_indices()
            .filter(|(_, c)| c.is_alphanumeric())
            .collect();
        let mut out = Vec::with_capacity(chars.len());
        let mut number_end = 0;
        for (i, pair) in chars.windows(2).enumerate() {
            let (a, ca) = pair[0];
            let (b, cb) = pair[1];
            if b < number_end {
                continue; // inside a number, which is one term
            }
            if ca.is_ascii_digit() {
                let run = digit_run(&norm[a..]);
                if run >= MIN_NUMBER {
                    number_end = a + run;
                    out.push(Term {
                        text: norm[a..number_end].to_owned(),
                        position: i,
                        from: a,
                        to: number_end,
                    });
                    continue;
                }
            }
            // Only adjacent characters make a bigram.
            if a + ca.len_utf8() != b {
                continue;
            }
            let to = b + cb.len_utf8();
            out.push(Term {
                text: norm[a..to].to_owned(),
                position: i,
                from: a,
                to,
            });
        }
        if out.is_empty()
            && let Some(&(a, c)) = chars.first()
        {
            out.push(Term {
                text: c.to_string(),
                position: 0,
                from: a,
                to: a + c.len_utf8(),
            });
        }
        out
    }
}

/// How many ASCII digits `text` starts with (width-folded, so full-width digits count too).
fn digit_run(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_digit).count()
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        Analyzer::shipped()
            .words(text)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn a_number_is_one_term_not_digit_pairs() {
        let a = Analyzer::shipped();
        let bigrams: Vec<String> = a
            .bigrams("报错1000057了")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(bigrams, ["报错", "错1", "1000057", "7了"]);
        // Short numbers are still pairs: 12 in 12月 is no code.
        let bigrams: Vec<String> = a.bigrams("12月").into_iter().map(|t| t.text).collect();
        assert_eq!(bigrams, ["12", "2月"]);
        // A code written inside a word is a word of its own too.
        assert!(words("bb1000057什么意思").contains(&"1000057".to_owned()));
        assert_eq!(
            a.query("ＢＢ１００００５７").words,
            ["1000057", "bb1000057"]
        );
    }

    #[test]
    fn synonyms_fold_to_one_spelling() {
        assert!(
            words("我想退钱").contains(&"退款".to_owned()),
            "{:?}",
            words("我想退钱")
        );
        assert!(
            words("快递到哪了").contains(&"物流".to_owned()),
            "{:?}",
            words("快递到哪了")
        );
    }

    #[test]
    fn payment_words_fold_too_and_card_kinds_stay_apart() {
        assert!(words("刷卡机坏了").contains(&"pos机".to_owned()));
        assert!(
            words("POS机坏了").contains(&"pos机".to_owned()),
            "{:?}",
            words("POS机坏了")
        );
        assert!(words("ＰＯＳ機壞了").contains(&"pos机".to_owned()));
        assert!(words("芯片卡是什么").contains(&"ic卡".to_owned()));
        // A credit card is not any bank card: 信用卡 questions must not match 储蓄卡 ones.
        assert!(words("信用卡能分期吗").contains(&"信用卡".to_owned()));
    }

    #[test]
    fn shop_synonyms_fold_before_segmentation() {
        let a =
            Analyzer::with_shop_synonyms("\u{feff}# 本店\n花呗: 螞蟻花唄, hb\n", "s.txt").unwrap();
        let words: Vec<String> = a.words("能用HB嗎").into_iter().map(|t| t.text).collect();
        assert!(words.contains(&"花呗".to_owned()), "{words:?}");
        assert_eq!(a.query("蚂蚁花呗可以吗").words, a.query("花呗可以吗").words);
        // The shipped synonyms still apply.
        assert!(a.query("退钱").words.contains(&"退款".to_owned()));
        assert_ne!(a.fingerprint(), Analyzer::shipped().fingerprint());
        assert_eq!(
            a.shop_synonyms(),
            Some("\u{feff}# 本店\n花呗: 螞蟻花唄, hb\n")
        );
    }

    #[test]
    fn bad_shop_synonyms_are_named_by_line() {
        for (text, line, message) in [
            ("花呗 蚂蚁花呗", 1, "expected"),
            ("# x\n\n分期: 分", 3, "one character"),
            ("花呗: hb\n分期: hb", 2, "already a synonym"),
            (": hb", 1, "empty"),
            ("花呗:", 1, "no variants"),
        ] {
            let e = Analyzer::with_shop_synonyms(text, "s.txt")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(&format!("s.txt:{line}: ")), "{text:?}: {e}");
            assert!(e.contains(message), "{text:?}: {e}");
        }
    }

    #[test]
    fn everyday_words_weigh_less_than_domain_words() {
        let a = Analyzer::shipped();
        for everyday in ["今天", "想", "怎么办", "我"] {
            assert!(a.everyday_weight(everyday) < 0.9, "{everyday}");
        }
        for domain in ["运费险", "签购单", "七天无理由"] {
            assert_eq!(a.everyday_weight(domain), 1.0, "{domain}");
        }
        assert!(a.everyday_weight("我") < a.everyday_weight("今天"));
    }

    #[test]
    fn filler_is_dropped_unless_nothing_else_is_left() {
        let w = words("亲，请问运费险怎么用呢？");
        assert!(
            !w.iter().any(|t| t == "亲" || t == "请问" || t == "呢"),
            "{w:?}"
        );
        assert!(w.contains(&"运费险".to_owned()), "{w:?}");
        assert!(!words("在吗").is_empty());
        assert_eq!(words("谢谢啦！"), ["谢谢"], "all filler: the particle goes");
        assert_eq!(words("哦"), ["哦"], "nothing else at all");
    }

    #[test]
    fn traditional_and_full_width_analyse_like_simplified() {
        assert_eq!(words("運費險怎麼用"), words("运费险怎么用"));
        assert_eq!(words("ＯＫ"), words("ok"));
    }

    #[test]
    fn search_mode_subwords_share_their_words_position() {
        let terms = Analyzer::shipped().words("七天无理由退货");
        let pos: Vec<(String, usize)> =
            terms.iter().map(|t| (t.text.clone(), t.position)).collect();
        let whole = pos
            .iter()
            .find(|(t, _)| t == "七天无理由")
            .expect("whole word kept")
            .1;
        assert!(
            pos.iter().any(|(t, p)| t == "无理由" && *p == whole)
                || pos.iter().any(|(t, p)| t == "理由" && *p == whole),
            "{pos:?}"
        );
    }

    #[test]
    fn a_not_a_questions_do_not_ask_their_negation() {
        for (question, whole, negation) in [
            ("能不能退款", "能不能", "不能"),
            ("是不是正品", "是不是", "不是"),
            ("有沒有優惠券🎫", "有没有", "没有"),
            ("有木有优惠券", "有没有", "没有"),
        ] {
            let terms = words(question);
            assert!(
                terms.iter().any(|t| t == whole || t == "可以"),
                "{question}: {terms:?}"
            );
            assert!(
                !terms.iter().any(|t| t == negation),
                "{question}: {terms:?}"
            );
        }
        // Other long words still yield theirs.
        assert!(
            words("七天无理由退货")
                .iter()
                .any(|t| t == "理由" || t == "无理由")
        );
    }

    #[test]
    fn a_query_is_analysed_like_indexed_text() {
        let a = Analyzer::shipped();
        let text = "親，請問退錢要多久？退錢🙂ＯＫ嗎";
        let q = a.query(text);
        let texts = |terms: Vec<Term>| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for t in terms {
                if !out.contains(&t.text) {
                    out.push(t.text);
                }
            }
            out
        };
        assert_eq!(q.words, texts(a.words(text)));
        assert_eq!(q.bigrams, texts(a.bigrams(text)));
        // What the index is built from: the same terms, at the same places.
        let indexed = a.indexed(text);
        assert_eq!(indexed.words, a.words(text));
        assert_eq!(indexed.bigrams, a.bigrams(text));
        assert_eq!(indexed.chars, a.chars(text));
        assert_eq!(q.chars.iter().collect::<String>(), indexed.chars);
        assert_eq!(q.words.iter().filter(|w| *w == "退款").count(), 1);
        assert!(!q.chars.contains(&'亲'), "{:?}", q.chars);
    }

    #[test]
    fn characters_and_bigrams_see_words_in_their_canonical_spelling() {
        let a = Analyzer::shipped();
        // 如何 and 怎么 are one word to the word layer; the characters and bigrams agree, so
        // the two spellings of a question share 怎么 rather than nothing but 处理.
        let formal = a.query("如何處理？");
        let spoken = a.query("怎么处理😅");
        assert_eq!(formal.chars, spoken.chars);
        assert_eq!(formal.bigrams, spoken.bigrams);
        assert_eq!(formal.bigrams, ["怎么", "么处", "处理"]);
        let chars = a.chars("如何处理");
        assert_eq!(chars, spoken.chars.iter().collect::<String>());
        assert!(chars.starts_with('怎'), "{chars}");
        // Words that are no synonym keep their spelling.
        assert_eq!(a.explain("签购单").canonical, "签购单");
    }

    #[test]
    fn bigrams_across_everyday_characters_weigh_little() {
        let a = Analyzer::shipped();
        // 以用 (of 可以用) is no word; both characters are everyday ones.
        assert!(a.bigram_weight("以用") < 0.6, "{}", a.bigram_weight("以用"));
        // A listed word keeps its own weight, an unlisted domain bigram counts fully.
        assert_eq!(a.bigram_weight("可以"), a.everyday_weight("可以"));
        assert_eq!(a.bigram_weight("签购"), 1.0);
    }

    #[test]
    fn explain_shows_every_word_as_written_and_as_searched() {
        let a = Analyzer::shipped();
        let text = "親，請問退錢要多久？";
        let e = a.explain(text);
        assert_eq!(e.normalized, "亲,请问退钱要多久?");
        assert_eq!(e.canonical, "亲,请问退款要多久?");
        let searched: Vec<&str> = e
            .words
            .iter()
            .filter(|w| !w.filler)
            .map(|w| w.searched_as.as_str())
            .collect();
        let words = a.words(text);
        assert_eq!(
            searched,
            words.iter().map(|t| t.text.as_str()).collect::<Vec<_>>()
        );
        let refund = e.words.iter().find(|w| w.written == "退钱").unwrap();
        assert_eq!(refund.searched_as, "退款");
        let filler: Vec<&str> = e
            .words
            .iter()
            .filter(|w| w.filler)
            .map(|w| w.written.as_str())
            .collect();
        assert_eq!(filler, ["亲", "请问"]);
        assert_eq!(e.bigrams, a.query(text).bigrams);
        // All filler: only the one-character words are dropped, as in the search.
        let all_filler = a.explain("亲，请问");
        let dropped: Vec<(&str, bool)> = all_filler
            .words
            .iter()
            .map(|w| (w.written.as_str(), w.filler))
            .collect();
        assert_eq!(dropped, [("亲", true), ("请问", false)]);
    }

    #[test]
    fn bigrams_skip_punctuation() {
        let b: Vec<String> = Analyzer::shipped()
            .bigrams("退款，多久")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(b, ["退款", "多久"]);
    }
}
