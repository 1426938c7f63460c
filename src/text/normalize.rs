//! Script-aware normalisation that keeps byte offsets: every view has exactly the byte layout of
//! the original text, so a match found in a view is a valid span of the original.

use std::sync::OnceLock;

use ferrous_opencc::{OpenCC, config::BuiltinConfig};

/// The script a writer uses; fixes and suggestions are rendered in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Simplified,
    Traditional,
}

/// Views of one draft, each with the same byte length and char boundaries as the original.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// Traditional characters mapped to Simplified, one char for one char.
    pub simp: String,
    /// `simp` with the ways of saying "you" (您/妳) folded to 你 and ASCII lower-cased, so one
    /// lexicon entry matches every polite or impolite, Simplified or Traditional spelling.
    pub fold: String,
    pub script: Script,
}

impl Normalized {
    pub fn new(text: &str) -> Self {
        // Most chars change in neither view, so both start as copies of the text and only the
        // changed chars are written over (every change keeps the char's byte length). A text
        // with many changes (Traditional) is built char by char instead.
        let mut simp_edits: Vec<(usize, char, char)> = Vec::new();
        let mut fold_edits: Vec<(usize, char, char)> = Vec::new();
        for (i, c) in text.char_indices() {
            let s = if c.is_ascii() {
                c
            } else {
                simplified_at(text, i, c)
            };
            if s != c {
                simp_edits.push((i, c, s));
            }
            let f = fold_char(s);
            if f != c {
                fold_edits.push((i, c, f));
            }
        }
        let script = if simp_edits.is_empty() {
            Script::Simplified
        } else {
            Script::Traditional
        };
        Self {
            simp: patched(text, &simp_edits),
            fold: patched(text, &fold_edits),
            script,
        }
    }
}

/// `text` with the chars at the given byte offsets replaced by same-length chars.
fn patched(text: &str, edits: &[(usize, char, char)]) -> String {
    if edits.len() > 8 {
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for &(i, old, new) in edits {
            out.push_str(&text[pos..i]);
            out.push(new);
            pos = i + old.len_utf8();
        }
        out.push_str(&text[pos..]);
        return out;
    }
    let mut out = text.to_owned();
    let mut buf = [0u8; 4];
    for &(i, old, new) in edits {
        out.replace_range(i..i + old.len_utf8(), new.encode_utf8(&mut buf));
    }
    out
}

/// Builds the conversion table now, so the first draft doesn't pay for it.
pub fn warm_up() {
    t2s_table();
}

/// The Simplified form of the char `c` at byte `i` of `text`, where the neighbours decide it.
fn simplified_at(text: &str, i: usize, c: char) -> char {
    if c == '著' && is_particle_zhe(text, i) {
        '着'
    } else {
        simplified_char(c)
    }
}

/// 著 is the Traditional spelling of the particle 着 (等著, 看著, 著急), and also a Simplified
/// character of its own (著名, 显著, 著作). Conversion tables leave it alone; it is read as 着
/// unless a neighbour makes it one of the 著 words.
fn is_particle_zhe(text: &str, i: usize) -> bool {
    let prev = text[..i].chars().next_back();
    let next = text[i + '著'.len_utf8()..].chars().next();
    !matches!(
        next,
        Some('名' | '作' | '述' | '称' | '稱' | '书' | '書' | '录' | '錄' | '者')
    ) && !matches!(
        prev,
        Some(
            '显' | '顯'
                | '土'
                | '卓'
                | '昭'
                | '巨'
                | '专'
                | '專'
                | '原'
                | '遗'
                | '遺'
                | '名'
                | '论'
                | '論'
                | '编'
                | '編'
                | '译'
                | '譯'
                | '撰'
                | '拙'
                | '合'
                | '新'
                | '大'
        )
    )
}

fn simplified_char(c: char) -> char {
    let i = (c as u32).wrapping_sub(CJK_FIRST) as usize;
    t2s_table().get(i).copied().flatten().unwrap_or(c)
}

fn fold_char(c: char) -> char {
    match c {
        '您' | '妳' => '你',
        c => c.to_ascii_lowercase(),
    }
}

/// Traditional→Simplified, char for char, keeping every char's byte length (so spans found in
/// the result are spans of `text`).
pub fn to_simplified_same_len(text: &str) -> String {
    text.char_indices()
        .map(|(i, c)| simplified_at(text, i, c))
        .collect()
}

/// The CJK range the table covers: Extension A, the Unified Ideographs and the compatibility block.
const CJK_FIRST: u32 = 0x3400;
const CJK_LAST: u32 = 0xFAFF;

/// `fast2s`'s mapping laid out as a dense table, built once: one array load per char on the hot
/// path instead of a hash lookup. Only mappings that keep the byte length are taken.
fn t2s_table() -> &'static [Option<char>] {
    static TABLE: OnceLock<Vec<Option<char>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut buf = [0u8; 4];
        (CJK_FIRST..=CJK_LAST)
            .map(|cp| {
                let c = char::from_u32(cp)?;
                let simp = fast2s::convert(c.encode_utf8(&mut buf));
                let mut chars = simp.chars();
                match (chars.next(), chars.next()) {
                    (Some(s), None) if s != c && s.len_utf8() == c.len_utf8() => Some(s),
                    _ => None,
                }
            })
            .collect()
    })
}

/// Folds 您/妳 to 你 and ASCII to lower case; both keep every char's byte length.
pub fn fold(simp: &str) -> String {
    simp.chars().map(fold_char).collect()
}

/// Full normalisation for matching text that needs no span mapping (knowledge-base questions,
/// lexicon entries): Traditional→Simplified, full-width ASCII to half-width, lower case.
pub fn normalize_free(text: &str) -> String {
    text.char_indices()
        .map(|(i, c)| simplified_at(text, i, c))
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Renders Simplified text in the writer's script. Traditional is written in the forms Taiwan
/// prints (為, 著, 裡), not OpenCC's reference forms (爲, 着, 裏), which readers find odd.
pub fn in_script(text: &str, script: Script) -> String {
    match script {
        Script::Simplified => text.to_owned(),
        Script::Traditional => s2tw().map_or_else(|| text.to_owned(), |cc| cc.convert(text)),
    }
}

fn s2tw() -> Option<&'static OpenCC> {
    static S2TW: OnceLock<Option<OpenCC>> = OnceLock::new();
    S2TW.get_or_init(|| OpenCC::from_config(BuiltinConfig::S2tw).ok())
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_maps_char_for_char() {
        let n = Normalized::new("您好，請提供訂單號，謝謝！再見");
        assert_eq!(n.script, Script::Traditional);
        assert_eq!(n.simp, "您好，请提供订单号，谢谢！再见");
        assert_eq!(n.fold, "你好，请提供订单号，谢谢！再见");
    }

    #[test]
    fn the_particle_zhe_is_read_as_simplified() {
        let n = Normalized::new("請您等著，我們忙著處理");
        assert_eq!(n.simp, "请您等着，我们忙着处理");
        // 著 in its own words stays.
        assert_eq!(
            to_simplified_same_len("显著、著名、著作、土著"),
            "显著、著名、著作、土著"
        );
        assert_eq!(Normalized::new("著名品牌").script, Script::Simplified);
    }

    #[test]
    fn simplified_is_detected() {
        assert_eq!(Normalized::new("亲，请稍等😀").script, Script::Simplified);
        assert_eq!(Normalized::new("").script, Script::Simplified);
    }

    #[test]
    fn every_cjk_char_keeps_its_byte_length() {
        for cp in 0x3400u32..=0x9FFF {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let s = c.to_string();
            assert_eq!(to_simplified_same_len(&s).len(), s.len(), "U+{cp:04X}");
        }
    }

    #[test]
    fn fixes_render_in_the_writers_script() {
        assert_eq!(in_script("请", Script::Traditional), "請");
        assert_eq!(in_script("再见", Script::Traditional), "再見");
        assert_eq!(in_script("再见", Script::Simplified), "再见");
        assert_eq!(
            in_script(
                "金额以保单为准，请耐心等着，包裹里有发票",
                Script::Traditional
            ),
            "金額以保單為準，請耐心等著，包裹裡有發票"
        );
    }

    #[test]
    fn free_normalisation_folds_width() {
        assert_eq!(normalize_free("ＯＫ，運費險"), "ok,运费险");
    }
}
