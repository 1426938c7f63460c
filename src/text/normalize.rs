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
        let simp = to_simplified_same_len(text);
        let script = if simp == text {
            Script::Simplified
        } else {
            Script::Traditional
        };
        let fold = fold(&simp);
        Self { simp, fold, script }
    }
}

/// Traditional→Simplified, char for char. `fast2s` maps three-byte chars to three-byte chars;
/// should a mapping ever change the byte length, the original text is kept so spans stay valid.
pub fn to_simplified_same_len(text: &str) -> String {
    let simp = fast2s::convert(text);
    if simp.len() == text.len() && same_boundaries(text, &simp) {
        simp
    } else {
        text.to_owned()
    }
}

fn same_boundaries(a: &str, b: &str) -> bool {
    a.char_indices()
        .map(|(i, _)| i)
        .eq(b.char_indices().map(|(i, _)| i))
}

/// Folds 您/妳 to 你 and ASCII to lower case; both keep every char's byte length.
pub fn fold(simp: &str) -> String {
    simp.chars()
        .map(|c| match c {
            '您' | '妳' => '你',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Full normalisation for matching text that needs no span mapping (knowledge-base questions,
/// lexicon entries): Traditional→Simplified, full-width ASCII to half-width, lower case.
pub fn normalize_free(text: &str) -> String {
    fast2s::convert(text)
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Renders Simplified text in the writer's script.
pub fn in_script(text: &str, script: Script) -> String {
    match script {
        Script::Simplified => text.to_owned(),
        Script::Traditional => s2t().map_or_else(|| text.to_owned(), |cc| cc.convert(text)),
    }
}

fn s2t() -> Option<&'static OpenCC> {
    static S2T: OnceLock<Option<OpenCC>> = OnceLock::new();
    S2T.get_or_init(|| OpenCC::from_config(BuiltinConfig::S2t).ok())
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
            assert_eq!(fast2s::convert(&s).len(), s.len(), "U+{cp:04X}");
        }
    }

    #[test]
    fn fixes_render_in_the_writers_script() {
        assert_eq!(in_script("请", Script::Traditional), "請");
        assert_eq!(in_script("再见", Script::Traditional), "再見");
        assert_eq!(in_script("再见", Script::Simplified), "再见");
    }

    #[test]
    fn free_normalisation_folds_width() {
        assert_eq!(normalize_free("ＯＫ，運費險"), "ok,运费险");
    }
}
