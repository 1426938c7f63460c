//! One draft under analysis: the original text, its normalised views, clauses and (computed only
//! when a rule needs them) jieba words, with the guards lexicon entries are checked against.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

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
    /// Whether the reply holds a softener, read on first use.
    softened: OnceCell<bool>,
    /// What is read of a whole clause, once per clause however many matches ask: a long draft
    /// with many matches stays linear.
    per_clause: RefCell<HashMap<Span, ClauseFacts>>,
}

/// Facts about one clause, each computed on first use.
#[derive(Debug, Default, Clone)]
struct ClauseFacts {
    ours: Option<bool>,
    polite_before: Option<bool>,
    core: Option<Span>,
    words: Option<std::rc::Rc<[Word]>>,
}

/// A clause longer than this (bytes) takes its words from the whole draft, segmented once,
/// instead of being segmented on its own.
const LONG_CLAUSE: usize = 512;

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
            softened: OnceCell::new(),
            per_clause: RefCell::new(HashMap::new()),
        }
    }

    /// A fact of `clause`, computed by `compute` the first time and kept.
    fn clause_fact<T: Clone>(
        &self,
        clause: Span,
        get: impl Fn(&ClauseFacts) -> Option<T>,
        set: impl Fn(&mut ClauseFacts, T),
        compute: impl FnOnce() -> T,
    ) -> T {
        if let Some(v) = self.per_clause.borrow().get(&clause).and_then(&get) {
            return v;
        }
        let v = compute();
        set(
            self.per_clause.borrow_mut().entry(clause).or_default(),
            v.clone(),
        );
        v
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
    /// when only a clause or two need words. Kept per clause; a long clause takes its words from
    /// the whole draft's.
    pub fn words_in(&self, span: Span) -> std::rc::Rc<[Word]> {
        self.clause_fact(
            span,
            |f| f.words.clone(),
            |f, w| f.words = Some(w),
            || {
                if self.words.get().is_some() || span.len() > LONG_CLAUSE {
                    let all = self.words();
                    let from = all.partition_point(|w| w.span.start < span.start);
                    return all[from..]
                        .iter()
                        .take_while(|w| w.span.end <= span.end)
                        .copied()
                        .collect();
                }
                words(span.slice(&self.norm.simp))
                    .into_iter()
                    .map(|w| Word {
                        span: Span::new(w.span.start + span.start, w.span.end + span.start),
                    })
                    .collect()
            },
        )
    }

    /// The word containing byte `pos`.
    pub fn word_at(&self, pos: usize) -> Option<&Word> {
        // Words are in order and do not overlap.
        let ws = self.words();
        let k = ws.partition_point(|w| w.span.start <= pos);
        ws[..k].last().filter(|w| pos < w.span.end)
    }

    fn on_word_boundaries(&self, span: Span) -> bool {
        let ws = self.words();
        ws.binary_search_by_key(&span.start, |w| w.span.start)
            .is_ok()
            && ws.binary_search_by_key(&span.end, |w| w.span.end).is_ok()
    }

    /// The clause that contains `span`'s start.
    pub fn clause_of(&self, span: Span) -> Option<&Clause> {
        self.clauses.at(span.start)
    }

    /// Whether the reply holds a softener (`common.txt [softener]`: 抱歉, 理解…) that is not
    /// negated (不理解 is none): a refusal or a rule cited is then a kind one.
    pub fn softened(&self) -> bool {
        *self.softened.get_or_init(|| {
            self.common
                .softeners
                .find_iter(self.fold())
                .any(|m| !self.negated(Span::new(m.start(), m.end())))
        })
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
        self.clause_fact(
            clause,
            |f| f.ours,
            |f, v| f.ours = Some(v),
            || self.common.ours.is_match(clause.slice(self.fold())),
        )
    }

    /// Whether the sentence holding `clause`, up to the clause's end, has a polite marker (请, 麻烦…).
    pub fn polite_before(&self, clause: &Clause) -> bool {
        let clauses = &self.clauses.clauses;
        let Ok(here) = clauses.binary_search_by_key(&clause.span.start, |c| c.span.start) else {
            return self.common.polite.is_match(clause.span.slice(self.fold()));
        };
        let cached = |k: usize| {
            self.per_clause
                .borrow()
                .get(&clauses[k].span)
                .and_then(|f| f.polite_before)
        };
        // Back to the sentence's first clause or the last one already read, then forward, each
        // clause's stretch read once: a marker in an earlier clause carries on to the later ones.
        let mut first = here;
        while first > 0 && clauses[first - 1].sentence == clause.sentence && cached(first).is_none()
        {
            first -= 1;
        }
        let mut polite = first > 0
            && clauses[first - 1].sentence == clause.sentence
            && cached(first - 1).unwrap_or(false);
        for k in first..=here {
            if let Some(known) = cached(k) {
                polite = known;
                continue;
            }
            let from = if k == first {
                clauses[k].span.start
            } else {
                clauses[k - 1].span.end
            };
            polite = polite
                || self
                    .common
                    .polite
                    .is_match(&self.fold()[from.min(clauses[k].span.start)..clauses[k].span.end]);
            self.per_clause
                .borrow_mut()
                .entry(clauses[k].span)
                .or_default()
                .polite_before = Some(polite);
        }
        polite
    }

    /// A clause without leading subject/adverb words (我, 那, 就, 亲…) and trailing particles.
    pub fn core(&self, clause: Span) -> Span {
        self.clause_fact(
            clause,
            |f| f.core,
            |f, v| f.core = Some(v),
            || self.core_uncached(clause),
        )
    }

    fn core_uncached(&self, clause: Span) -> Span {
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
        if flags.unsoftened && self.softened() {
            return false;
        }
        true
    }

    /// Whether a noun, or a name in Latin letters, stands right before `span` in its clause: the
    /// subject of what follows is then someone or something else (持卡人必须…, 商品不得…: a
    /// rule, not an order at the customer). Segments the clause only when asked, for a match.
    fn noun_before(&self, span: Span, clause: Span) -> bool {
        let words = self.words_in(clause);
        let Some(prev) = words[..words.partition_point(|w| w.span.end <= span.start)].last() else {
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
