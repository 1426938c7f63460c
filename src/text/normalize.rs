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
        let script = detect_script(text, &simp_edits);
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

/// Also builds what script detection of a draft with Traditional chars needs (a few tens of
/// milliseconds of OpenCC lookups): for a long-running service, not a one-shot command.
pub fn warm_up_scripts() {
    warm_up();
    evidence_table();
    s2tw();
}

/// What a char says of the script it is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    None,
    /// The Traditional form of a Simplified char: OpenCC writes that char back as this one
    /// (說 of 说, 後 of 后).
    Traditional,
    /// A Simplified char OpenCC writes another way in Traditional (们, 说, 发).
    Simplified,
}

/// Traditional when the draft holds more chars of Traditional writing than of Simplified
/// writing. A char the t2s table changes only as a variant (呵 → 嗬, 彷 → 仿) is written in
/// Simplified text too and counts for neither, so 我们会精心呵护您的宝贝 stays Simplified, and a
/// mixed draft (請把地址发过来) is taken for the script most of it is in.
fn detect_script(text: &str, simp_edits: &[(usize, char, char)]) -> Script {
    if simp_edits.is_empty() {
        return Script::Simplified;
    }
    let table = evidence_table();
    let of = |c: char| {
        let i = (c as u32).wrapping_sub(CJK_FIRST) as usize;
        table.get(i).copied().unwrap_or(Evidence::None)
    };
    // The particle 着 written 著 (is_particle_zhe) is Traditional, though 著 is Simplified too.
    let traditional = simp_edits
        .iter()
        .filter(|&&(_, c, s)| of(c) == Evidence::Traditional || c == '著' && s == '着')
        .count();
    if traditional == 0 {
        return Script::Simplified;
    }
    let simplified = text
        .chars()
        .filter(|&c| !c.is_ascii() && of(c) == Evidence::Simplified)
        .count();
    if traditional >= simplified {
        Script::Traditional
    } else {
        Script::Simplified
    }
}

/// For every char of the table's range, what it says of the script, worked out once from the
/// t2s table and OpenCC's Simplified→Traditional tables (a few thousand single-char lookups).
fn evidence_table() -> &'static [Evidence] {
    static TABLE: OnceLock<Vec<Evidence>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let t2s = t2s_table();
        let converters: Vec<&OpenCC> = [s2t(), s2tw()].into_iter().flatten().collect();
        let mut buf = [0u8; 4];
        let mut table = vec![Evidence::None; t2s.len()];
        for (i, simp) in t2s.iter().enumerate() {
            let (Some(simp), Some(c)) = (*simp, char::from_u32(CJK_FIRST + i as u32)) else {
                continue;
            };
            let simp_str = simp.encode_utf8(&mut buf);
            let round_trip = converters.iter().any(|cc| cc.convert(simp_str).contains(c));
            if round_trip {
                table[i] = Evidence::Traditional;
                let j = (simp as u32).wrapping_sub(CJK_FIRST) as usize;
                if t2s.get(j).is_some_and(Option::is_none) {
                    table[j] = Evidence::Simplified;
                }
            }
        }
        table
    })
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

fn s2t() -> Option<&'static OpenCC> {
    static S2T: OnceLock<Option<OpenCC>> = OnceLock::new();
    S2T.get_or_init(|| OpenCC::from_config(BuiltinConfig::S2t).ok())
        .as_ref()
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
        // Simplified characters the t2s table maps as variants are no sign of Traditional.
        for simplified in [
            "我们会精心呵护您的宝贝",
            "呵呵",
            "彷徨",
            "捍卫权益",
            "瞭望塔",
            "涅槃",
            "大阪",
            "磐石",
        ] {
            assert_eq!(
                Normalized::new(simplified).script,
                Script::Simplified,
                "{simplified}"
            );
        }
        for traditional in [
            "以後再說",
            "關係",
            "頭髮",
            "乾淨的衣服",
            "請稍等",
            "麵包好吃嗎",
        ] {
            assert_eq!(
                Normalized::new(traditional).script,
                Script::Traditional,
                "{traditional}"
            );
        }
        // Over the whole range: a char the t2s table changes only as a variant never makes a
        // Simplified draft Traditional, and every Simplified char written the Traditional way
        // (as fixes and answers are rendered) reads as Traditional again.
        let table = evidence_table();
        for (i, evidence) in table.iter().enumerate() {
            let c = char::from_u32(CJK_FIRST + i as u32).unwrap_or(' ');
            let changed = simplified_char(c) != c;
            if changed && *evidence == Evidence::None {
                let draft = format!("{c}{c}");
                assert_eq!(
                    Normalized::new(&draft).script,
                    Script::Simplified,
                    "{draft}"
                );
            }
            if *evidence == Evidence::Simplified {
                let written = in_script(&c.to_string(), Script::Traditional);
                if written != c.to_string() {
                    assert_eq!(
                        Normalized::new(&written).script,
                        Script::Traditional,
                        "{c} → {written}"
                    );
                }
            }
        }
        // A mixed draft is taken for the script most of it is in.
        assert_eq!(Normalized::new("請把地址发过来").script, Script::Simplified);
        assert_eq!(
            Normalized::new("請把地址發过來").script,
            Script::Traditional
        );
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
