//! One draft under analysis: the original text, its normalised views, clauses and (computed only
//! when a rule needs them) jieba words, with the guards lexicon entries are checked against.

use std::cell::OnceCell;

use super::matcher::{RawMatch, Scanner};
use super::{Common, LintRequest, Role};
use crate::lexicon::{Entry, Flags};
use crate::text::clause::{Clause, Clauses};
use crate::text::normalize::{Normalized, Script, in_script};
use crate::text::segment::{Word, words};
use crate::text::span::Span;

/// A draft and everything rules read from it. Built once per lint call.
pub struct Draft<'a> {
    pub text: &'a str,
    pub role: Role,
    /// The customer's message being answered, normalised.
    pub customer: Option<Normalized>,
    pub common: &'a Common,
    norm: Normalized,
    clauses: Clauses,
    words: OnceCell<Vec<Word>>,
    scanner: &'a Scanner,
    scan: OnceCell<Vec<RawMatch>>,
}

impl<'a> Draft<'a> {
    pub fn new(req: &LintRequest<'a>, common: &'a Common, scanner: &'a Scanner) -> Self {
        Self {
            text: req.text,
            role: req.role,
            customer: req
                .customer
                .filter(|c| !c.trim().is_empty())
                .map(Normalized::new),
            common,
            norm: Normalized::new(req.text),
            clauses: Clauses::new(req.text),
            words: OnceCell::new(),
            scanner,
            scan: OnceCell::new(),
        }
    }

    /// Every lexicon entry occurring in the folded view, from one scan shared by all rules.
    pub fn scan(&self) -> &[RawMatch] {
        self.scan.get_or_init(|| self.scanner.scan(&self.norm.fold))
    }

    /// The lexicon entry behind a raw match's id.
    pub fn entry(&self, id: usize) -> &'a Entry {
        self.scanner.entry(id)
    }

    /// Simplified view (same byte layout as the original).
    pub fn simp(&self) -> &str {
        &self.norm.simp
    }

    /// Folded view lexicons match against: Simplified, 您/妳 → 你, ASCII lower case.
    pub fn fold(&self) -> &str {
        &self.norm.fold
    }

    pub fn script(&self) -> Script {
        self.norm.script
    }

    /// Renders Simplified text in the writer's script.
    pub fn say(&self, simplified: &str) -> String {
        in_script(simplified, self.norm.script)
    }

    pub fn clauses(&self) -> &Clauses {
        &self.clauses
    }

    /// Jieba words of the Simplified view, segmented on first use.
    pub fn words(&self) -> &[Word] {
        self.words.get_or_init(|| words(&self.norm.simp))
    }

    /// The words of `span` (a clause), segmented on their own: cheaper than the whole draft
    /// when only a clause or two need words.
    pub fn words_in(&self, span: Span) -> Vec<Word> {
        if let Some(all) = self.words.get() {
            return all
                .iter()
                .filter(|w| span.contains(w.span))
                .copied()
                .collect();
        }
        words(span.slice(&self.norm.simp))
            .into_iter()
            .map(|w| Word {
                span: Span::new(w.span.start + span.start, w.span.end + span.start),
            })
            .collect()
    }

    /// The word containing byte `pos`.
    pub fn word_at(&self, pos: usize) -> Option<&Word> {
        self.words()
            .iter()
            .find(|w| w.span.start <= pos && pos < w.span.end)
    }

    fn on_word_boundaries(&self, span: Span) -> bool {
        let ws = self.words();
        ws.iter().any(|w| w.span.start == span.start) && ws.iter().any(|w| w.span.end == span.end)
    }

    /// The clause that contains `span`'s start.
    pub fn clause_of(&self, span: Span) -> Option<&Clause> {
        self.clauses.at(span.start)
    }

    /// Whether `span` comes right after a negation in its clause (不是您的问题, 不能保证).
    pub fn negated(&self, span: Span) -> bool {
        let start = self.clause_of(span).map_or(0, |c| c.span.start);
        let before = &self.fold()[start..span.start];
        self.common.negators.iter().any(|n| {
            before.ends_with(n.as_str()) && !is_a_not_a(&before[..before.len() - n.len()], n)
        })
    }

    /// Whether a clause speaks of what we do or do for the customer (我们马上处理, 为您查询).
    pub fn is_ours(&self, clause: Span) -> bool {
        self.common.ours.is_match(clause.slice(self.fold()))
    }

    /// Whether the sentence holding `clause`, up to the clause's end, has a polite marker (请, 麻烦…).
    pub fn polite_before(&self, clause: &Clause) -> bool {
        let start = self
            .clauses
            .clauses
            .iter()
            .find(|c| c.sentence == clause.sentence)
            .map_or(clause.span.start, |c| c.span.start);
        self.common
            .polite
            .is_match(&self.fold()[start..clause.span.end])
    }

    /// A clause without leading subject/adverb words (我, 那, 就, 亲…) and trailing particles.
    pub fn core(&self, clause: Span) -> Span {
        let fold = self.fold();
        let (mut s, mut e) = (clause.start, clause.end);
        while let Some(n) = self.common.lead_len(&fold[s..e]) {
            if s + n >= e {
                break;
            }
            s += n;
        }
        'tail: loop {
            let t = fold[s..e].trim_end_matches(|c: char| !c.is_alphanumeric());
            if t.len() < e - s && !t.is_empty() {
                e = s + t.len();
                continue;
            }
            match fold[s..e].chars().next_back() {
                Some(p) if self.common.particles.contains(&p) && e - p.len_utf8() > s => {
                    e -= p.len_utf8();
                    continue 'tail;
                }
                _ => break,
            }
        }
        Span::new(s, e)
    }

    /// Whether a lexicon match at `span` meets the entry's flags (see `lexicons/README.md`).
    pub fn accepts(&self, span: Span, flags: Flags) -> bool {
        if !flags.neg_ok && self.negated(span) {
            return false;
        }
        let clause = self
            .clause_of(span)
            .map_or(Span::new(0, self.text.len()), |c| c.span);
        if flags.start && self.core_start(clause) != span.start {
            return false;
        }
        if flags.alone && !self.is_bare(span, Span::new(0, self.text.len())) {
            return false;
        }
        if flags.end && !self.ends_clause(span, clause) {
            return false;
        }
        if flags.bare && !self.is_bare(span, clause) {
            return false;
        }
        if flags.customer && self.is_ours(clause) {
            return false;
        }
        if flags.addressed && self.noun_before(span, clause) {
            return false;
        }
        if flags.plain && self.clause_of(span).is_some_and(|c| self.polite_before(c)) {
            return false;
        }
        if flags.word && !self.on_word_boundaries(span) {
            return false;
        }
        true
    }

    /// Whether a noun, or a name in Latin letters, stands right before `span` in its clause: the
    /// subject of what follows is then someone or something else (持卡人必须…, 商品不得…: a
    /// rule, not an order at the customer). Segments the clause only when asked, for a match.
    fn noun_before(&self, span: Span, clause: Span) -> bool {
        let words = self.words_in(clause);
        let Some(prev) = words.iter().rev().find(|w| w.span.end <= span.start) else {
            return false;
        };
        if prev.span.end != span.start {
            return false;
        }
        let word = prev.span.slice(self.simp());
        word.chars().any(|c| c.is_ascii_alphabetic()) && word.chars().all(|c| c.is_ascii_alphanumeric())
            // Two characters at least: 时 of 收货时必须… is no subject.
            || word.chars().nth(1).is_some() && crate::text::segment::pos(word) == 'n'
    }

    /// Whether `span` is all its clause holds, but for lead words before it and particles after.
    fn is_bare(&self, span: Span, clause: Span) -> bool {
        let fold = self.fold();
        let mut before = &fold[clause.start..span.start.max(clause.start)];
        while !before.is_empty() {
            match self.common.lead_len(before) {
                Some(n) => before = &before[n..],
                None => return false,
            }
        }
        self.ends_clause(span, clause)
    }

    /// Whether nothing but particles and punctuation follows `span` in its clause.
    fn ends_clause(&self, span: Span, clause: Span) -> bool {
        let fold = self.fold();
        let mut after = &fold[span.end.min(clause.end)..clause.end];
        'tail: while !after.is_empty() {
            after = after.trim_start_matches(|c: char| !c.is_alphanumeric());
            if let Some(p) = after
                .chars()
                .next()
                .filter(|p| self.common.particles.contains(p))
            {
                after = &after[p.len_utf8()..];
                continue 'tail;
            }
            if !after.is_empty() {
                return false;
            }
        }
        true
    }

    fn core_start(&self, clause: Span) -> usize {
        self.core(clause).start
    }
}

/// Whether negator `neg` after `before` is the middle of an A-not-A question (能不能, 要不要,
/// 有没有): 能不能快点 asks, it does not negate 快点.
fn is_a_not_a(before: &str, neg: &str) -> bool {
    let mut n = neg.chars();
    let (Some(first), Some(verb)) = (n.next(), n.next()) else {
        return false;
    };
    matches!(first, '不' | '没') && before.ends_with(verb)
}
