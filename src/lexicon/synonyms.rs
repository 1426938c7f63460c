//! The synonyms line format, `canonical: variant, variant…` (`#` comments), read in one place for
//! the shipped retrieval synonyms, a shop's own, and the segmenter that keeps their words whole.
//! Every spelling comes back normalised as retrieval sees text (Traditional→Simplified, width,
//! ASCII lower case), so `POS机` in the file is the `pos机` the segmenter meets.

use crate::text::normalize::normalize_free;

/// One line: a canonical spelling and the variants folded to it (none empty, none equal to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymGroup {
    pub canonical: String,
    pub variants: Vec<String>,
}

/// A line that is not `canonical: variant, …`: its number (from 1) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymError {
    pub line: usize,
    pub message: String,
}

/// The groups of `text` with their line numbers, and an error for each line that isn't one.
pub fn parse(text: &str) -> impl Iterator<Item = Result<(usize, SynonymGroup), SynonymError>> {
    text.lines().enumerate().filter_map(|(n, line)| {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let error = |message: String| {
            Some(Err(SynonymError {
                line: n + 1,
                message,
            }))
        };
        let Some((canonical, variants)) = line.split_once([':', '：']) else {
            return error("expected `canonical: variant, variant…`".to_owned());
        };
        let canonical = normalize_free(canonical.trim());
        if canonical.is_empty() {
            return error("the canonical spelling before `:` is empty".to_owned());
        }
        let variants: Vec<String> = variants
            .split([',', '，', '、'])
            .map(|v| normalize_free(v.trim()))
            .filter(|v| !v.is_empty() && *v != canonical)
            .collect();
        if variants.is_empty() {
            return error(format!("`{canonical}` has no variants after `:`"));
        }
        Some(Ok((
            n + 1,
            SynonymGroup {
                canonical,
                variants,
            },
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_back_normalised_with_their_lines() {
        let text = "\u{feff}# 注释\n\nPOS机: 刷卡機, ＰＯＳ终端，pos机\n退款：退钱、 把钱退 ";
        let groups: Vec<_> = parse(text).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            groups,
            [
                (
                    3,
                    SynonymGroup {
                        canonical: "pos机".into(),
                        variants: vec!["刷卡机".into(), "pos终端".into()],
                    }
                ),
                (
                    4,
                    SynonymGroup {
                        canonical: "退款".into(),
                        variants: vec!["退钱".into(), "把钱退".into()],
                    }
                ),
            ]
        );
    }

    #[test]
    fn bad_lines_are_named() {
        for (text, line, message) in [
            ("花呗 蚂蚁花呗", 1, "expected"),
            ("# x\n: hb", 2, "empty"),
            ("花呗:  ,花呗", 1, "no variants"),
        ] {
            let e = parse(text).find_map(Result::err).unwrap();
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.message.contains(message), "{text:?}: {}", e.message);
        }
    }

    #[test]
    fn the_shipped_file_reads_cleanly() {
        let errors: Vec<_> = parse(crate::suggest::analyze::SYNONYMS)
            .filter_map(Result::err)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}
