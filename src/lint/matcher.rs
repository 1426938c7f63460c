//! Finds lexicon entries in a draft's folded view. Every rule's entries go into one `Scanner` —
//! one Aho-Corasick automaton for the literals, one for the literals every match of a pattern
//! must start (or end) with, and one `RegexSet` for the few patterns with none — so a draft is
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
    /// For each pattern with them, one or two sets of literals every match contains
    /// (`required_literals`); trigger i is set `triggered[i].1` of entry `triggered[i].0`,
    /// whose regex runs only when the draft holds a literal of each of its `required[entry]`
    /// sets. Many small regexes run when their words are there, instead of one set of them:
    /// word classes under bounded repeats make a set's lazy DFA grow without end on new text.
    triggers: Option<AhoCorasick>,
    triggered: Vec<(usize, u8)>,
    required: Vec<u8>,
    /// Regex-set pattern i is entry `regex[i]`: the patterns with no such literals.
    regex: Vec<usize>,
    regex_set: Option<RegexSet>,
}

/// Chars nearly every draft holds: a literal of one of them alone says little about a draft.
const COMMON_CHARS: &str = "你我不没了的是在有就也都还要会能这那个一好吗呢吧啊";

/// Sets of literals such that every match of `pattern` contains a literal of each set: the
/// best set that starts a run of the pattern's parts and the best that ends one (`{you}…{trait}`:
/// the ways of writing 你, and the traits). A set is better when its shortest literal is: two
/// chars or more, else one char not among `COMMON_CHARS`, else one of them; on a tie the smaller
/// set. Empty when the pattern has none (an unbounded or optional start and end).
fn required_literals(pattern: &str) -> Vec<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
    use regex_syntax::hir::{Hir, HirKind};
    let Ok(hir) = regex_syntax::parse(pattern) else {
        return Vec::new();
    };
    let parts: Vec<Hir> = match hir.kind() {
        HirKind::Concat(parts) => parts.clone(),
        _ => vec![hir.clone()],
    };
    let weight = |seq: &Seq| -> Option<u32> {
        seq.literals()?
            .iter()
            .map(|l| {
                let text = std::str::from_utf8(l.as_bytes()).unwrap_or("");
                match text.chars().count() {
                    0 => 0,
                    1 if COMMON_CHARS.contains(text) => 1,
                    1 => 2,
                    _ => 3,
                }
            })
            .min()
    };
    let best = |kind: ExtractKind| {
        let mut best: Option<(u32, usize, Seq)> = None;
        for i in 0..parts.len() {
            // Every run of consecutive parts is required; the extractor accounts for optional
            // parts at the run's edge by taking in what may come instead.
            let run = match kind {
                ExtractKind::Prefix => Hir::concat(parts[i..].to_vec()),
                _ => Hir::concat(parts[..=i].to_vec()),
            };
            let mut seq = Extractor::new()
                .kind(kind.clone())
                .limit_total(500)
                .extract(&run);
            seq.dedup();
            let (Some(w), Some(n)) = (weight(&seq), seq.len()) else {
                continue;
            };
            // One char of CJK text at least (3 bytes): a shorter literal is in every draft.
            if w == 0 || seq.min_literal_len().unwrap_or(0) < 3 {
                continue;
            }
            if best
                .as_ref()
                .is_none_or(|(bw, bn, _)| w > *bw || w == *bw && n < *bn)
            {
                best = Some((w, n, seq));
            }
        }
        best.and_then(|(_, _, seq)| {
            seq.literals()
                .map(|ls| ls.iter().map(|l| l.as_bytes().to_vec()).collect::<Vec<_>>())
        })
    };
    let mut sets: Vec<Vec<Vec<u8>>> = [ExtractKind::Prefix, ExtractKind::Suffix]
        .into_iter()
        .filter_map(best)
        .collect();
    sets.dedup();
    sets
}

/// An automaton reporting every occurrence of `words`, or none when there are no words.
fn every_occurrence<W: AsRef<[u8]>>(
    words: &[W],
    kind: Option<AhoCorasickKind>,
) -> Result<Option<AhoCorasick>, Error> {
    if words.is_empty() {
        return Ok(None);
    }
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(kind)
        .build(words)
        .map(Some)
        .map_err(|e| Error::Lexicon(e.to_string()))
}

impl Scanner {
    fn new(entries: Vec<Entry>) -> Result<Self, Error> {
        let mut literal = Vec::new();
        let mut regex = Vec::new();
        let mut words = Vec::new();
        let mut patterns = Vec::new();
        let mut trigger_words: Vec<Vec<u8>> = Vec::new();
        let mut triggered = Vec::new();
        let mut required = vec![0u8; entries.len()];
        for (i, e) in entries.iter().enumerate() {
            match &e.pattern {
                Pattern::Literal(s) => {
                    literal.push(i);
                    words.push(s.as_str());
                }
                Pattern::Regex(re) => {
                    let sets = required_literals(re.as_str());
                    if sets.is_empty() {
                        regex.push(i);
                        patterns.push(re.as_str());
                    }
                    required[i] = sets.len() as u8;
                    for (k, lits) in sets.into_iter().enumerate() {
                        triggered.extend(std::iter::repeat_n((i, k as u8), lits.len()));
                        trigger_words.extend(lits);
                    }
                }
            }
        }
        // Every match, overlapping ones too. The literals' automaton is a full DFA, the fastest
        // scan over short drafts; the triggers' (thousands of literals) the default NFA, which
        // takes a tenth of the memory.
        let automaton = every_occurrence(&words, Some(AhoCorasickKind::DFA))?;
        let triggers = every_occurrence(&trigger_words, None)?;
        let regex_set = if patterns.is_empty() {
            None
        } else {
            Some(RegexSet::new(&patterns).map_err(|e| Error::Lexicon(e.to_string()))?)
        };
        Ok(Self {
            entries,
            automaton,
            literal,
            triggers,
            triggered,
            required,
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
        let mut run: Vec<usize> = Vec::new();
        if let Some(ac) = &self.triggers {
            let mut hits: Vec<(usize, u8)> = ac
                .find_overlapping_iter(folded)
                .map(|m| self.triggered[m.pattern().as_usize()])
                .collect();
            hits.sort_unstable();
            hits.dedup();
            // Sorted by entry: a regex runs when each of its sets has a literal in the draft.
            for group in hits.chunk_by(|a, b| a.0 == b.0) {
                if group.len() == usize::from(self.required[group[0].0]) {
                    run.push(group[0].0);
                }
            }
        }
        if let Some(set) = &self.regex_set {
            run.extend(set.matches(folded).iter().map(|k| self.regex[k]));
        }
        for id in run {
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
            // Longest first, each kept unless it overlaps one kept before: the kept spans never
            // overlap, so only the neighbours by start need checking.
            let mut kept: std::collections::BTreeMap<usize, Match<'d>> =
                std::collections::BTreeMap::new();
            for m in found {
                let before = kept
                    .range(..=m.span.start)
                    .next_back()
                    .is_some_and(|(_, k)| k.span.overlaps(m.span));
                let after = kept
                    .range(m.span.start..)
                    .next()
                    .is_some_and(|(_, k)| k.span.overlaps(m.span));
                if !before && !after {
                    kept.insert(m.span.start, m);
                }
            }
            found = kept.into_values().collect();
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

#[cfg(test)]
mod tests {
    use super::required_literals;

    fn sets(pattern: &str) -> Vec<Vec<String>> {
        required_literals(pattern)
            .into_iter()
            .map(|set| {
                set.into_iter()
                    .map(|l| String::from_utf8(l).unwrap())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn patterns_are_run_only_where_their_words_are() {
        // A pronoun leads, the content ends: the content words are the trigger, not 你.
        let s = sets("(你|你们)(真|太)?(麻烦|挑剔)");
        assert!(
            s.contains(&vec!["麻烦".to_owned(), "挑剔".to_owned()]),
            "{s:?}"
        );
        assert!(s.iter().all(|set| !set.contains(&"你".to_owned())), "{s:?}");
        // An inner literal is found when the edges are open.
        let s = sets(r"(不|没)\p{Han}{1,3}就是(不|没)\p{Han}{1,3}");
        assert!(s.iter().flatten().any(|l| l.starts_with("就是")), "{s:?}");
        // Nothing but open classes: no literal to wait for, so the pattern is always scanned.
        assert!(
            sets(r"[0-9]+\s*(分钟|小时)")
                .iter()
                .all(|set| set.iter().all(|l| !l.is_empty()))
        );
        assert!(sets(r"\p{Han}+").is_empty());
    }
}
