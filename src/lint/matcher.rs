//! Finds a lexicon's entries in a draft's folded view: one Aho-Corasick automaton for the literal
//! entries, the regex entries after it, each match checked against its entry's guards.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::RegexSet;

use super::Draft;
use crate::error::Error;
use crate::lexicon::{Entry, Pattern};
use crate::text::span::Span;

/// A compiled lexicon section.
#[derive(Debug)]
pub struct Matcher {
    entries: Vec<Entry>,
    /// Automaton over the literal entries; pattern i is `entries[literal[i]]`.
    automaton: Option<AhoCorasick>,
    literal: Vec<usize>,
    regex: Vec<usize>,
    /// All regex entries in one automaton: one scan says which (if any) need running.
    regex_set: Option<RegexSet>,
}

/// An accepted match of one entry.
#[derive(Debug, Clone, Copy)]
pub struct Match<'m> {
    pub span: Span,
    pub entry: &'m Entry,
}

impl Matcher {
    pub fn new(entries: &[Entry]) -> Result<Self, Error> {
        let mut literal = Vec::new();
        let mut regex = Vec::new();
        let mut words = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match &e.pattern {
                Pattern::Literal(s) => {
                    literal.push(i);
                    words.push(s.as_str());
                }
                Pattern::Regex(_) => regex.push(i),
            }
        }
        let regex_set = if regex.is_empty() {
            None
        } else {
            let patterns = regex.iter().map(|&i| match &entries[i].pattern {
                Pattern::Regex(re) => re.as_str().to_owned(),
                Pattern::Literal(_) => unreachable!("regex indices point at regex entries"),
            });
            Some(RegexSet::new(patterns).map_err(|e| Error::Lexicon(e.to_string()))?)
        };
        let automaton = if words.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    // Lexicons are small; a full DFA is the fastest scan over short drafts.
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&words)
                    .map_err(|e| Error::Lexicon(e.to_string()))?,
            )
        };
        Ok(Self {
            entries: entries.to_vec(),
            automaton,
            literal,
            regex,
            regex_set,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether any entry occurs in `text` (already folded), guards not applied.
    pub fn occurs_in(&self, folded: &str) -> bool {
        self.automaton.as_ref().is_some_and(|a| a.is_match(folded))
            || self.regex_set.as_ref().is_some_and(|set| set.is_match(folded))
    }

    /// Every accepted match in the draft, longest first where two overlap, in text order.
    pub fn find<'m>(&'m self, draft: &Draft<'_>) -> Vec<Match<'m>> {
        let fold = draft.fold();
        let mut found: Vec<Match<'m>> = Vec::new();
        if let Some(ac) = &self.automaton {
            for m in ac.find_overlapping_iter(fold) {
                let entry = &self.entries[self.literal[m.pattern().as_usize()]];
                let span = Span::new(m.start(), m.end());
                if draft.accepts(span, entry.flags) {
                    found.push(Match { span, entry });
                }
            }
        }
        let regex_hits = self
            .regex_set
            .as_ref()
            .map(|set| set.matches(fold))
            .filter(regex::SetMatches::matched_any);
        for k in regex_hits.iter().flat_map(|m| m.iter()) {
            let entry = &self.entries[self.regex[k]];
            if let Pattern::Regex(re) = &entry.pattern {
                for m in re.find_iter(fold) {
                    let span = Span::new(m.start(), m.end());
                    if !span.is_empty() && draft.accepts(span, entry.flags) {
                        found.push(Match { span, entry });
                    }
                }
            }
        }
        if found.len() > 1 {
            found.sort_by(|a, b| {
                b.span
                    .len()
                    .cmp(&a.span.len())
                    .then(a.span.start.cmp(&b.span.start))
            });
            let mut kept: Vec<Match<'m>> = Vec::with_capacity(found.len());
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
