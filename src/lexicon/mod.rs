//! Rule word lists as data: the line format of `lexicons/*.txt`, the embedded defaults, and a
//! loader that returns every entry it could read plus the errors (file:line) of those it couldn't.

pub mod classes;
pub mod synonyms;

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;

use crate::text::normalize::{fold, to_simplified_same_len};

/// Embedded lexicon files: `(file name, contents)`.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("common.txt", include_str!("../../lexicons/common.txt")),
    (
        "informal-address.txt",
        include_str!("../../lexicons/informal-address.txt"),
    ),
    (
        "missing-please.txt",
        include_str!("../../lexicons/missing-please.txt"),
    ),
    (
        "missing-farewell.txt",
        include_str!("../../lexicons/missing-farewell.txt"),
    ),
    (
        "blunt-language.txt",
        include_str!("../../lexicons/blunt-language.txt"),
    ),
    ("shirking.txt", include_str!("../../lexicons/shirking.txt")),
    (
        "blaming-customer.txt",
        include_str!("../../lexicons/blaming-customer.txt"),
    ),
    (
        "imperative-tone.txt",
        include_str!("../../lexicons/imperative-tone.txt"),
    ),
    (
        "rhetorical-question.txt",
        include_str!("../../lexicons/rhetorical-question.txt"),
    ),
    (
        "emotional-tone.txt",
        include_str!("../../lexicons/emotional-tone.txt"),
    ),
    (
        "over-promise.txt",
        include_str!("../../lexicons/over-promise.txt"),
    ),
    (
        "missing-deadline.txt",
        include_str!("../../lexicons/missing-deadline.txt"),
    ),
    (
        "missing-apology.txt",
        include_str!("../../lexicons/missing-apology.txt"),
    ),
    (
        "curt-reply.txt",
        include_str!("../../lexicons/curt-reply.txt"),
    ),
    (
        "bare-refusal.txt",
        include_str!("../../lexicons/bare-refusal.txt"),
    ),
];

/// The section an entry belongs to when its file names none.
pub const DEFAULT_SECTION: &str = "flag";

/// Where an entry came from, for error messages and `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// What an entry matches.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Literal text, already in the folded view's spelling (Simplified, 你, lower case).
    Literal(String),
    /// A regular expression run on the folded view.
    Regex(Regex),
}

/// Conditions that narrow where an entry applies (see `lexicons/README.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// The match must be the whole clause, bar a leading subject/adverb and trailing particles.
    pub bare: bool,
    /// Only when the clause is not about what we do or do for the customer.
    pub customer: bool,
    /// The match must start and end on jieba word boundaries.
    pub word: bool,
    /// The match must begin its clause.
    pub start: bool,
    /// Still a match right after a negation (不/没/别/无法…).
    pub neg_ok: bool,
    /// Only when the sentence, up to the match's clause, has no polite marker (请, 麻烦, 您可以…):
    /// 到前台去 is a brush-off, 请您到前台办理 is not.
    pub plain: bool,
    /// The match must end its clause, but for particles after it (急什么！, 找平台去吧).
    pub end: bool,
    /// The match must be the whole message, but for lead words and particles (不能提供！).
    pub alone: bool,
    /// Addressed to the customer: not when a noun right before it is its subject (持卡人必须…).
    pub addressed: bool,
    /// Only when the reply holds no softener (`common.txt [softener]`: 抱歉, 理解…): a rule
    /// cited with an apology or understanding is an explanation, not a brush-off.
    pub unsoftened: bool,
}

/// One line of a lexicon.
#[derive(Debug, Clone)]
pub struct Entry {
    pub pattern: Pattern,
    /// The entry as written, for display.
    pub source: String,
    pub flags: Flags,
    /// Rewrites to offer; Simplified, rendered in the writer's script when shown.
    pub suggestions: Vec<String>,
    /// A safe replacement for the matched text, if the entry has one.
    pub fix: Option<String>,
    pub origin: Origin,
}

/// A problem with one lexicon line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexiconError {
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for LexiconError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// The entries of one file (or of a config's additions), by section.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    pub sections: BTreeMap<String, Vec<Entry>>,
}

impl Lexicon {
    /// Parses a lexicon file. Bad lines are reported and skipped; the rest loads.
    pub fn parse(file: &str, text: &str) -> (Self, Vec<LexiconError>) {
        let mut lex = Self::default();
        let mut errors = Vec::new();
        let mut section = DEFAULT_SECTION.to_owned();
        for (i, raw) in text.lines().enumerate() {
            let origin = Origin {
                file: file.to_owned(),
                line: i + 1,
            };
            let line = raw.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_owned();
                continue;
            }
            match parse_entry(line, origin.clone()) {
                Ok(entry) => lex.sections.entry(section.clone()).or_default().push(entry),
                Err(message) => errors.push(LexiconError { origin, message }),
            }
        }
        (lex, errors)
    }

    /// Parses one entry line into `section`.
    pub fn push_line(
        &mut self,
        section: &str,
        line: &str,
        origin: Origin,
    ) -> Result<(), LexiconError> {
        match parse_entry(line.trim(), origin.clone()) {
            Ok(entry) => {
                self.sections
                    .entry(section.to_owned())
                    .or_default()
                    .push(entry);
                Ok(())
            }
            Err(message) => Err(LexiconError { origin, message }),
        }
    }

    /// The entries of `section` (empty if absent).
    pub fn section(&self, name: &str) -> &[Entry] {
        self.sections.get(name).map_or(&[], Vec::as_slice)
    }

    /// Literal words of a section, for word classes such as negators or polite markers.
    pub fn words(&self, name: &str) -> Vec<String> {
        self.section(name)
            .iter()
            .filter_map(|e| match &e.pattern {
                Pattern::Literal(s) => Some(s.clone()),
                Pattern::Regex(_) => None,
            })
            .collect()
    }

    /// Adds another lexicon's entries after this one's.
    pub fn extend(&mut self, other: Lexicon) {
        for (name, entries) in other.sections {
            self.sections.entry(name).or_default().extend(entries);
        }
    }

    /// Number of entries in all sections.
    pub fn len(&self) -> usize {
        self.sections.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The folded spelling lexicon literals are stored in, matching `Normalized::fold`.
pub fn fold_entry(text: &str) -> String {
    fold(&to_simplified_same_len(text))
}

fn parse_entry(line: &str, origin: Origin) -> Result<Entry, String> {
    let (head, tail) = match line.split_once("=>") {
        Some((h, t)) => (h.trim(), Some(t.trim())),
        None => (line, None),
    };
    let mut flags = Flags::default();
    let mut pattern_text = head;
    // Flags are trailing `@name` words.
    while let Some((rest, flag)) = pattern_text.rsplit_once(" @") {
        match flag.trim() {
            "bare" => flags.bare = true,
            "customer" => flags.customer = true,
            "word" => flags.word = true,
            "start" => flags.start = true,
            "neg-ok" => flags.neg_ok = true,
            "addressed" => flags.addressed = true,
            "plain" => flags.plain = true,
            "end" => flags.end = true,
            "alone" => flags.alone = true,
            "unsoftened" => flags.unsoftened = true,
            other => {
                return Err(format!(
                    "unknown flag `@{other}` (known: @bare @customer @word @start @neg-ok @addressed @plain @end @alone @unsoftened)"
                ));
            }
        }
        pattern_text = rest.trim_end();
    }
    if pattern_text.is_empty() {
        return Err("empty pattern".to_owned());
    }
    let pattern = if let Some(re) = pattern_text.strip_prefix("re:") {
        let re = classes::expand(re)?;
        Pattern::Regex(Regex::new(&fold_entry(&re)).map_err(|e| format!("bad regex: {e}"))?)
    } else {
        let folded = fold_entry(pattern_text);
        // A single character is too often part of another word (晕 in 头晕, 切 in 一切).
        if folded.chars().count() == 1 {
            flags.word = true;
        }
        Pattern::Literal(folded)
    };
    let mut suggestions = Vec::new();
    let mut fix = None;
    for part in tail.into_iter().flat_map(|t| t.split('|')) {
        let part = part.trim();
        if let Some(f) = part.strip_prefix("fix:") {
            fix = Some(f.trim().to_owned());
        } else if !part.is_empty() {
            suggestions.push(part.to_owned());
        }
    }
    if tail.is_some() && suggestions.is_empty() && fix.is_none() {
        return Err("`=>` with no suggestion after it".to_owned());
    }
    Ok(Entry {
        pattern,
        source: pattern_text.to_owned(),
        flags,
        suggestions,
        fix,
        origin,
    })
}

/// All embedded lexicons merged into one per file stem (`blunt-language`, `common`, …).
pub fn embedded() -> (BTreeMap<String, Lexicon>, Vec<LexiconError>) {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for (file, text) in EMBEDDED {
        let (lex, errs) = Lexicon::parse(&format!("lexicons/{file}"), text);
        errors.extend(errs);
        out.insert(file.trim_end_matches(".txt").to_owned(), lex);
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_suggestions_and_fix() {
        let (lex, errors) = Lexicon::parse(
            "t.txt",
            "# comment\n不知道 @bare => 我帮您查一下 | 请稍等\n[polite]\n請\n你好 => fix:您好\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let e = &lex.section(DEFAULT_SECTION)[0];
        assert!(e.flags.bare && !e.flags.word);
        assert!(
            lex.section("polite")[0].flags.word,
            "one-char entries are whole words"
        );
        assert_eq!(e.suggestions, ["我帮您查一下", "请稍等"]);
        assert_eq!(lex.words("polite"), ["请", "你好"]);
        let fix = &lex.section("polite")[1];
        assert_eq!(fix.fix.as_deref(), Some("您好"));
        assert!(matches!(&fix.pattern, Pattern::Literal(s) if s == "你好"));
    }

    #[test]
    fn bad_lines_are_reported_with_line_numbers_and_skipped() {
        let (lex, errors) = Lexicon::parse("shop.txt", "好词\nre:([ @bare\n词 @loud\n另一个词\n");
        assert_eq!(lex.len(), 2);
        let lines: Vec<usize> = errors.iter().map(|e| e.origin.line).collect();
        assert_eq!(lines, [2, 3]);
        assert!(
            errors[1]
                .to_string()
                .starts_with("shop.txt:3: unknown flag")
        );
    }

    #[test]
    fn embedded_lexicons_load_cleanly_and_are_broad() {
        let (lexicons, errors) = embedded();
        assert!(errors.is_empty(), "{errors:?}");
        let total: usize = lexicons.values().map(Lexicon::len).sum();
        assert!(total >= 500, "only {total} lexicon entries");
    }
}
