//! Word classes (`lexicons/classes.txt`): named lists of words that a lexicon's `re:` patterns
//! name as `{class}`, so a rule is written once per kind of phrase (`{you}{insult}`) instead of
//! once per sentence.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use super::fold_entry;

/// The shipped classes file.
pub const FILE: &str = include_str!("../../lexicons/classes.txt");

/// Each class as a regex alternation of its folded words, longest first.
static CLASSES: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| parse(FILE));

/// Reads the classes format: `[name]` headings, one word per line below, `#` comments. Words are
/// folded like every lexicon entry (Traditional→Simplified, 您→你), so each is written once. A
/// line `{other}` takes in every word of a class defined above it.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut words: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_owned());
            continue;
        }
        if let Some(name) = &current {
            let included = line
                .strip_prefix('{')
                .and_then(|l| l.strip_suffix('}'))
                .map(|other| words.get(other).cloned().unwrap_or_default());
            let entry = words.entry(name.clone()).or_default();
            match included {
                Some(other) => entry.extend(other),
                None => entry.push(fold_entry(line)),
            }
        }
    }
    words
        .into_iter()
        .map(|(name, mut ws)| {
            ws.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
            ws.dedup();
            let alt: Vec<String> = ws.iter().map(|w| regex::escape(w)).collect();
            (name, format!("(?:{})", alt.join("|")))
        })
        .collect()
}

/// The names of the shipped classes.
pub fn names() -> impl Iterator<Item = &'static str> {
    CLASSES.keys().map(String::as_str)
}

/// Replaces every `{name}` in a pattern with its class's alternation. A brace followed by a
/// digit is a regex repetition (`{0,12}`) and stays as it is.
pub fn expand(pattern: &str) -> Result<String, String> {
    expand_with(pattern, &CLASSES)
}

fn expand_with(pattern: &str, classes: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let is_name = after.starts_with(|c: char| c.is_ascii_lowercase());
        match after.find('}').filter(|_| is_name) {
            Some(close) => {
                let name = &after[..close];
                let alt = classes.get(name).ok_or_else(|| {
                    let known: Vec<&str> = classes.keys().map(String::as_str).collect();
                    format!(
                        "unknown word class `{{{name}}}` (classes in lexicons/classes.txt: {})",
                        known.join(", ")
                    )
                })?;
                out.push_str(alt);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_expand_to_folded_alternations_longest_first() {
        let classes = parse("# c\n[you]\n你\n您們\n[x]\na.b\n[y]\n{you}\n他\n");
        assert_eq!(classes["you"], "(?:你们|你)");
        assert_eq!(classes["y"], "(?:你们|他|你)");
        assert_eq!(
            expand_with("{you}是谁", &classes).unwrap(),
            "(?:你们|你)是谁"
        );
        assert_eq!(expand_with("a{x}", &classes).unwrap(), r"a(?:a\.b)");
        // Repetitions are regex syntax, not classes.
        assert_eq!(expand_with("[^，]{0,12}", &classes).unwrap(), "[^，]{0,12}");
        let err = expand_with("{nope}", &classes).unwrap_err();
        assert!(err.contains("`{nope}`") && err.contains("you"), "{err}");
    }

    #[test]
    fn the_shipped_classes_load_and_are_not_empty() {
        assert!(names().count() >= 10);
        for (name, alt) in CLASSES.iter() {
            assert!(alt.len() > 4, "class {name} is empty");
            regex::Regex::new(alt).unwrap_or_else(|e| panic!("class {name}: {e}"));
        }
    }
}
