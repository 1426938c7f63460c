//! Finds lexicon entries in a draft's folded view. Every rule's entries go into one `Scanner` —
//! one Aho-Corasick automaton for the literals, one `RegexSet` for the patterns — so a draft is
//! scanned once however many rules there are; each rule's `Matcher` then takes its own matches
//! and checks them against their entries' guards.

use std::cell::RefCell;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexSet};

use super::Draft;
use crate::error::Error;
use crate::lexicon::{Entry, Pattern};
use crate::text::span::Span;

/// A match of entry `id` before any guard is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawMatch {
    pub id: usize,
    pub span: Span,
}

/// An accepted match of one entry.
#[derive(Debug, Clone, Copy)]
pub struct Match<'m> {
    pub span: Span,
    pub entry: &'m Entry,
}

/// Collects the entries of every rule while rules are built.
#[derive(Debug, Default)]
pub struct ScanBuilder {
    entries: RefCell<Vec<Entry>>,
}

impl ScanBuilder {
    /// Registers a lexicon section and returns the matcher for it.
    pub fn add(&self, entries: &[Entry]) -> Matcher {
        let mut all = self.entries.borrow_mut();
        let start = all.len();
        all.extend_from_slice(entries);
        Matcher {
            ids: start..all.len(),
        }
    }

    pub fn build(self) -> Result<Scanner, Error> {
        Scanner::new(self.entries.into_inner())
    }
}

/// The compiled entries of every rule.
#[derive(Debug)]
pub struct Scanner {
    entries: Vec<Entry>,
    automaton: Option<AhoCorasick>,
    /// Automaton pattern i is entry `literal[i]`.
    literal: Vec<usize>,
    /// Regex-set pattern i is entry `regex[i]`.
    regex: Vec<usize>,
    regex_set: Option<RegexSet>,
}

impl Scanner {
    fn new(entries: Vec<Entry>) -> Result<Self, Error> {
        let mut literal = Vec::new();
        let mut regex = Vec::new();
        let mut words = Vec::new();
        let mut patterns = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match &e.pattern {
                Pattern::Literal(s) => {
                    literal.push(i);
                    words.push(s.as_str());
                }
                Pattern::Regex(re) => {
                    regex.push(i);
                    patterns.push(re.as_str());
                }
            }
        }
        let automaton = if words.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    // A full DFA is the fastest scan over short drafts.
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&words)
                    .map_err(|e| Error::Lexicon(e.to_string()))?,
            )
        };
        let regex_set = if patterns.is_empty() {
            None
        } else {
            Some(RegexSet::new(&patterns).map_err(|e| Error::Lexicon(e.to_string()))?)
        };
        Ok(Self {
            entries,
            automaton,
            literal,
            regex,
            regex_set,
        })
    }

    pub fn entry(&self, id: usize) -> &Entry {
        &self.entries[id]
    }

    /// Every occurrence of every entry in `folded`, guards not applied.
    pub fn scan(&self, folded: &str) -> Vec<RawMatch> {
        let mut out = Vec::new();
        if let Some(ac) = &self.automaton {
            for m in ac.find_overlapping_iter(folded) {
                out.push(RawMatch {
                    id: self.literal[m.pattern().as_usize()],
                    span: Span::new(m.start(), m.end()),
                });
            }
        }
        if let Some(set) = &self.regex_set {
            let hits = set.matches(folded);
            for k in hits.iter() {
                let id = self.regex[k];
                if let Pattern::Regex(re) = &self.entries[id].pattern {
                    out.extend(
                        re.find_iter(folded)
                            .filter(|m| !m.is_empty())
                            .map(|m| RawMatch {
                                id,
                                span: Span::new(m.start(), m.end()),
                            }),
                    );
                }
            }
        }
        out
    }
}

/// One lexicon section's share of the scanner.
#[derive(Debug, Clone)]
pub struct Matcher {
    ids: Range<usize>,
}

impl Matcher {
    /// Whether any entry occurs in the draft where its flags accept it (a negated apology,
    /// 不是我们的问题, is none).
    pub fn occurs(&self, draft: &Draft<'_>) -> bool {
        draft
            .scan()
            .iter()
            .any(|m| self.ids.contains(&m.id) && draft.accepts(m.span, draft.entry(m.id).flags))
    }

    /// Every accepted match in the draft, longest first where two overlap, in text order.
    pub fn find<'d>(&self, draft: &'d Draft<'_>) -> Vec<Match<'d>> {
        let mut found: Vec<Match<'d>> = draft
            .scan()
            .iter()
            .filter(|m| self.ids.contains(&m.id))
            .map(|m| Match {
                span: m.span,
                entry: draft.entry(m.id),
            })
            .filter(|m| draft.accepts(m.span, m.entry.flags))
            .collect();
        if found.len() > 1 {
            found.sort_by(|a, b| {
                b.span
                    .len()
                    .cmp(&a.span.len())
                    .then(a.span.start.cmp(&b.span.start))
            });
            let mut kept: Vec<Match<'d>> = Vec::with_capacity(found.len());
            for m in found {
                if !kept.iter().any(|k| k.span.overlaps(m.span)) {
                    kept.push(m);
                }
            }
            kept.sort_by_key(|m| m.span.start);
            found = kept;
        }
        found
    }
}

/// A lexicon section with its own automaton, for text other than the draft (the customer's
/// message).
#[derive(Debug)]
pub struct TextMatcher {
    automaton: Option<AhoCorasick>,
    regexes: Vec<Regex>,
}

impl TextMatcher {
    pub fn new(entries: &[Entry]) -> Result<Self, Error> {
        let mut words = Vec::new();
        let mut regexes = Vec::new();
        for e in entries {
            match &e.pattern {
                Pattern::Literal(s) => words.push(s.as_str()),
                Pattern::Regex(re) => regexes.push(re.clone()),
            }
        }
        let automaton = if words.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&words).map_err(|e| Error::Lexicon(e.to_string()))?)
        };
        Ok(Self { automaton, regexes })
    }

    /// Whether any entry occurs in `folded`.
    pub fn occurs_in(&self, folded: &str) -> bool {
        self.automaton.as_ref().is_some_and(|a| a.is_match(folded))
            || self.regexes.iter().any(|r| r.is_match(folded))
    }
}
