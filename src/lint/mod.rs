//! The service-language linter: rules built once from lexicons and config, run over a draft,
//! returning findings with exact spans, fixes and a politeness score.

mod draft;
mod fix;
pub mod matcher;
pub mod registry;
pub mod rules;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};

pub use draft::Draft;
pub use fix::apply_fixes;
pub use registry::{RULES, RuleDef, RuleDoc};

use crate::config::Config;
use crate::error::Error;
use crate::lexicon::{self, Lexicon, fold_entry};
use crate::text::normalize::Script;
use crate::text::span::{Span, offsets_many};

/// How much a finding matters.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    /// Points a finding of this severity takes off the score.
    pub const fn penalty(self) -> u32 {
        match self {
            Self::Info => 3,
            Self::Warning => 10,
            Self::Error => 25,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Self::Info),
            "warning" => Ok(Self::Warning),
            "error" => Ok(Self::Error),
            other => Err(format!(
                "unknown severity `{other}` (expected error, warning or info)"
            )),
        }
    }
}

/// Where a message stands in the conversation; some rules apply only to some roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An ordinary reply.
    #[default]
    Reply,
    /// The agent's first message: a greeting is expected.
    Opening,
    /// The agent's last message: a farewell is expected.
    Closing,
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reply" => Ok(Self::Reply),
            "opening" => Ok(Self::Opening),
            "closing" => Ok(Self::Closing),
            other => Err(format!(
                "unknown role `{other}` (expected reply, opening or closing)"
            )),
        }
    }
}

/// A replacement for a finding's span, and whether it can be applied without review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Fix {
    pub replacement: String,
    /// Safe fixes keep the meaning and are applied by `--fix` and in `fixed`.
    pub safe: bool,
}

/// What a rule check reports; the engine adds the rule's id, severity and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub span: Span,
    pub fix: Option<Fix>,
    pub suggestions: Vec<String>,
}

impl Hit {
    pub fn new(span: Span) -> Self {
        Self {
            span,
            fix: None,
            suggestions: Vec::new(),
        }
    }

    /// A hit whose fix is safe to apply unseen: `replacement` takes the place of `span`.
    pub fn safe_fix(span: Span, replacement: String) -> Self {
        Self {
            span,
            fix: Some(Fix {
                replacement,
                safe: true,
            }),
            suggestions: Vec::new(),
        }
    }

    /// A hit whose fix puts `apology` (Simplified; said in the writer's script) before `span`.
    /// Putting words in the agent's mouth needs a human look, so the fix is not safe.
    pub fn apology_first(
        draft: &Draft<'_>,
        span: Span,
        apology: &str,
        suggestions: &[&str],
    ) -> Self {
        Self {
            span,
            fix: Some(Fix {
                replacement: format!("{}{}", draft.say(apology), span.slice(draft.text)),
                safe: false,
            }),
            suggestions: suggestions.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// One problem in a draft. `span` (bytes), `chars` and `utf16` all slice the input to `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: &'static str,
    pub text: String,
    pub span: Span,
    pub chars: Span,
    pub utf16: Span,
    pub fix: Option<Fix>,
    pub suggestions: Vec<String>,
}

/// The score a draft needs to pass. One error takes 25 points, so a draft with an error-level
/// finding never passes; three warnings don't either.
pub const PASS_MARK: u32 = 80;

/// The result of linting one draft: the public contract shared by the CLI, HTTP API and browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LintResult {
    /// 0–100; 100 means nothing to improve. 100 minus each finding's penalty (error 25, warning
    /// 10, info 3), where findings that overlap count once, at the worst of them.
    pub score: u32,
    /// Whether the draft as written reaches the pass mark (80; no error-level finding passes).
    pub passed: bool,
    pub findings: Vec<Finding>,
    /// The draft with every safe fix applied.
    pub fixed: String,
    /// Findings the safe fixes leave for a person to rewrite (those with no safe fix): when not
    /// 0, `fixed` still has problems and is no clean result.
    pub remaining: usize,
    /// Findings past the first [`MAX_FINDINGS`] (by place) that are not listed; score,
    /// `remaining` and `fixed` still count them all. Absent when none were left out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

/// Findings listed for one draft at most: a text with more is no draft, and listing every one
/// would make the answer many times the text.
pub const MAX_FINDINGS: usize = 200;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl LintResult {
    /// The most severe finding's severity.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// A draft to lint with its context.
#[derive(Debug, Clone, Copy, Default)]
pub struct LintRequest<'a> {
    pub text: &'a str,
    pub role: Role,
    /// The customer message being answered, for `missing-apology`.
    pub customer: Option<&'a str>,
    /// Leave out the rules that judge meaning (`rude-tone`) for this draft even when the
    /// linter has them: bulk work that must stay cheap (the service's `/v1/audit`).
    pub skip_meaning: bool,
}

impl<'a> LintRequest<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            ..Self::default()
        }
    }
}

/// A rule's check, built once from its lexicon.
pub trait Check: Send + Sync {
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Hit>);

    /// Whether the check runs after every other rule, on what they left (`rude-tone`, which
    /// judges meaning and must not judge a sentence another don't-rule already flags).
    fn after_others(&self) -> bool {
        false
    }

    /// The check given the spans the other don't-rules flagged; by default the plain check.
    fn check_rest(&self, draft: &Draft<'_>, flagged: &[Span], out: &mut Vec<Hit>) {
        let _ = flagged;
        self.check(draft, out);
    }
}

struct ActiveRule {
    def: &'static RuleDef,
    severity: Severity,
    check: Box<dyn Check>,
}

/// The shared word classes from `lexicons/common.txt`.
#[derive(Debug)]
pub struct Common {
    /// Words after which a flagged phrase is negated (不是您的问题).
    pub negators: Vec<String>,
    /// Words that make a request polite (请, 麻烦…).
    pub polite: AhoCorasick,
    /// Words of regret or understanding that make a refusal kind (抱歉, 理解…).
    pub softeners: AhoCorasick,
    /// Words that make a clause about us or for the customer (我们, 为您…).
    pub ours: AhoCorasick,
    /// Words that may lead a clause before its core (亲, 那, 就…).
    pub lead: rustc_hash::FxHashSet<String>,
    /// The same words, for finding the longest one at the start of a text.
    lead_prefix: AhoCorasick,
    /// Particles that may end a clause (了, 啊, 哦…), one character each.
    pub particles: Vec<char>,
}

impl Common {
    /// Byte length of the longest lead word `text` starts with.
    pub fn lead_len(&self, text: &str) -> Option<usize> {
        let input = aho_corasick::Input::new(text).anchored(aho_corasick::Anchored::Yes);
        self.lead_prefix.find(input).map(|m| m.end())
    }

    fn new(lex: &Lexicon) -> Result<Self, Error> {
        let build = |section: &str| {
            AhoCorasick::new(lex.words(section))
                .map_err(|e| Error::Lexicon(format!("common.txt [{section}]: {e}")))
        };
        let by_length_desc = |section: &str| {
            let mut w = lex.words(section);
            w.sort_by_key(|s| std::cmp::Reverse(s.len()));
            w
        };
        Ok(Self {
            negators: by_length_desc("negation"),
            polite: build("polite")?,
            softeners: build("softener")?,
            ours: build("ours")?,
            lead: lex.words("lead").into_iter().collect(),
            lead_prefix: AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .start_kind(aho_corasick::StartKind::Anchored)
                .build(lex.words("lead"))
                .map_err(|e| Error::Lexicon(format!("common.txt [lead]: {e}")))?,
            particles: lex
                .words("particles")
                .iter()
                .filter_map(|w| w.chars().next().filter(|_| w.chars().count() == 1))
                .collect(),
        })
    }
}

/// The lint engine: every enabled rule, built once. Cheap to share across threads.
pub struct Linter {
    rules: Vec<ActiveRule>,
    /// Built by [`Linter::with_meaning`].
    meaning: bool,
    common: Common,
    scanner: matcher::Scanner,
    allow: Option<AhoCorasick>,
}

impl fmt::Debug for Linter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Linter")
            .field(
                "rules",
                &self.rules.iter().map(|r| r.def.doc.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Everything a rule may read when it is built.
pub struct BuildContext<'a> {
    pub lexicons: &'a BTreeMap<String, Lexicon>,
    scan: matcher::ScanBuilder,
    /// The rules the shop's configuration turns off.
    disabled: Vec<&'a str>,
    /// Whether checks may judge meaning with the shared encoder ([`Linter::with_meaning`]).
    pub meaning: bool,
}

impl BuildContext<'_> {
    /// Whether the rule `id` runs (a rule that leaves a case to another asks).
    pub fn is_enabled(&self, id: &str) -> bool {
        !self.disabled.contains(&id)
    }

    /// A matcher for lexicon entries, scanned together with every other rule's.
    pub fn matcher(&self, entries: &[lexicon::Entry]) -> matcher::Matcher {
        self.scan.add(entries)
    }

    /// The lexicon of `stem` (`lexicons/{stem}.txt` plus config additions).
    pub fn lexicon(&self, stem: &str) -> &Lexicon {
        static EMPTY: std::sync::OnceLock<Lexicon> = std::sync::OnceLock::new();
        self.lexicons
            .get(stem)
            .unwrap_or_else(|| EMPTY.get_or_init(Lexicon::default))
    }
}

impl Linter {
    /// The linter with the shipped rules and lexicons and no shop configuration.
    pub fn with_defaults() -> Result<Self, Error> {
        Self::new(&Config::default())
    }

    /// Builds every enabled rule from the embedded lexicons plus the config's additions. The
    /// rules that judge meaning (`rude-tone`) stay idle: see [`Linter::with_meaning`].
    pub fn new(config: &Config) -> Result<Self, Error> {
        Self::build(config, false)
    }

    /// As [`Linter::new`], and the rules that judge meaning run too, with the shared encoder
    /// (`crate::suggest::semantic::encoder`, loaded on first use; none when `KEFU_MODEL=off`
    /// or no model is installed, and then they stay idle). A sentence they judge costs a few
    /// milliseconds the first time and is then remembered.
    pub fn with_meaning(config: &Config) -> Result<Self, Error> {
        Self::build(config, true)
    }

    fn build(config: &Config, meaning: bool) -> Result<Self, Error> {
        let (mut lexicons, errors) = lexicon::embedded();
        if let Some(e) = errors.first() {
            return Err(Error::Lexicon(e.to_string()));
        }
        for (id, settings) in &config.rules {
            let def = registry::find(id).ok_or_else(|| Error::UnknownRule(id.clone()))?;
            let lex = lexicons.entry(def.doc.id.to_owned()).or_default();
            lex.extend(settings.additions.clone());
        }
        let common = Common::new(lexicons.get("common").unwrap_or(&Lexicon::default()))?;
        let cx = BuildContext {
            lexicons: &lexicons,
            scan: matcher::ScanBuilder::default(),
            disabled: config
                .rules
                .iter()
                .filter(|(_, s)| s.enabled == Some(false))
                .filter_map(|(id, _)| registry::find(id).map(|def| def.doc.id))
                .collect(),
            meaning,
        };
        let mut rules = Vec::new();
        for def in RULES {
            let settings = config.rules.get(def.doc.id);
            if settings.and_then(|s| s.enabled) == Some(false) {
                continue;
            }
            rules.push(ActiveRule {
                def,
                severity: settings
                    .and_then(|s| s.severity)
                    .unwrap_or(def.doc.severity),
                check: (def.build)(&cx)?,
            });
        }
        let scanner = cx.scan.build()?;
        let allow_words: Vec<String> = config
            .allow
            .iter()
            .map(|w| fold_entry(w))
            .filter(|w| !w.is_empty())
            .collect();
        let allow = if allow_words.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(allow_words).map_err(|e| Error::Config {
                location: "allow".into(),
                message: e.to_string(),
            })?)
        };
        // Warm the shared segmenter so the first request doesn't pay for it.
        crate::text::segment::jieba();
        crate::text::normalize::warm_up();
        Ok(Self {
            rules,
            meaning,
            common,
            scanner,
            allow,
        })
    }

    /// Ids of the rules that run.
    pub fn enabled_rules(&self) -> impl Iterator<Item = (&'static RuleDoc, Severity)> + '_ {
        self.rules.iter().map(|r| (&r.def.doc, r.severity))
    }

    /// Lints one draft. Never fails: an empty or blank draft is a clean result.
    pub fn lint(&self, req: &LintRequest<'_>) -> LintResult {
        let mut findings = self.findings(req, !req.skip_meaning);
        let (mut fixed, mut skipped) = fix::apply_counting_skips(req.text, &findings);
        // Of two overlapping fixes only one is applied per pass: when one was left out, the
        // fixed text is linted again (a few passes reach the fixed point). Otherwise it is
        // final: no fix makes text another safe fix would change (tested).
        for _ in 0..3 {
            if !skipped {
                break;
            }
            // Meaning is not judged again: its findings carry no fix.
            let again = self.findings(
                &LintRequest {
                    text: &fixed,
                    ..*req
                },
                false,
            );
            (fixed, skipped) = fix::apply_counting_skips(&fixed, &again);
        }
        let score = score(&findings);
        let remaining = findings
            .iter()
            .filter(|f| !f.fix.as_ref().is_some_and(|x| x.safe))
            .count();
        let omitted = findings.len().saturating_sub(MAX_FINDINGS);
        findings.truncate(MAX_FINDINGS);
        findings.shrink_to_fit();
        LintResult {
            score,
            passed: score >= PASS_MARK,
            remaining,
            findings,
            fixed,
            omitted,
        }
    }

    /// Whether the rules that judge meaning run (built by [`Linter::with_meaning`], enabled).
    pub fn judges_meaning(&self) -> bool {
        self.meaning && self.rules.iter().any(|r| r.check.after_others())
    }

    fn findings(&self, req: &LintRequest<'_>, meaning: bool) -> Vec<Finding> {
        if req.text.trim().is_empty() {
            return Vec::new();
        }
        let draft = Draft::new(req, &self.common, &self.scanner);
        let mut allowed: Vec<Span> = self.allow.as_ref().map_or_else(Vec::new, |ac| {
            ac.find_overlapping_iter(draft.fold())
                .map(|m| Span::new(m.start(), m.end()))
                .collect()
        });
        allowed.sort_unstable();
        let longest = allowed.iter().map(|a| a.len()).max().unwrap_or(0);
        // An allowed phrase overlapping a hit starts less than `longest` bytes before it: a
        // binary search finds the few to look at.
        let allowed_over = |hit: Span| {
            let from = allowed.partition_point(|a| a.start + longest <= hit.start);
            allowed[from..]
                .iter()
                .take_while(|a| a.start < hit.end)
                .any(|a| a.overlaps(hit))
        };
        // Every rule's hits first, then their offsets in one walk over the text. The rules that
        // judge what the others left run last, given the spans the don't-rules flagged.
        let mut kept: Vec<(&ActiveRule, Hit)> = Vec::new();
        let mut hits = Vec::new();
        let meaning = meaning && self.meaning;
        let first = self.rules.iter().filter(|r| !r.check.after_others());
        let last = self
            .rules
            .iter()
            .filter(|r| meaning && r.check.after_others());
        let mut flagged: Option<Vec<Span>> = None;
        for (rule, after) in first.map(|r| (r, false)).chain(last.map(|r| (r, true))) {
            hits.clear();
            if after {
                let flagged = flagged.get_or_insert_with(|| {
                    kept.iter()
                        .filter(|(r, _)| Weight::of(r.def.doc.id).is_dont())
                        .map(|(_, h)| h.span)
                        .collect()
                });
                rule.check.check_rest(&draft, flagged, &mut hits);
            } else {
                rule.check.check(&draft, &mut hits);
            }
            for hit in hits.drain(..) {
                let whole_message = rule.def.doc.whole_message;
                if !whole_message && (draft.clauses().is_quoted(hit.span) || allowed_over(hit.span))
                {
                    continue;
                }
                kept.push((rule, hit));
            }
        }
        let spans: Vec<Span> = kept.iter().map(|(_, h)| h.span).collect();
        let mut findings: Vec<Finding> = kept
            .into_iter()
            .zip(offsets_many(req.text, &spans))
            .map(|((rule, hit), o)| Finding {
                rule: rule.def.doc.id,
                severity: rule.severity,
                message: rule.def.doc.message,
                text: hit.span.slice(req.text).to_owned(),
                span: o.span,
                chars: o.chars,
                utf16: o.utf16,
                fix: hit.fix,
                suggestions: match draft.script() {
                    Script::Simplified => hit.suggestions,
                    Script::Traditional => hit.suggestions.iter().map(|s| draft.say(s)).collect(),
                },
            })
            .collect();
        findings.sort_by(|a, b| {
            a.span
                .start
                .cmp(&b.span.start)
                .then(b.severity.cmp(&a.severity))
        });
        drop_repeated_donts(&mut findings);
        // A farewell appended to a draft that must be rewritten (不能退 + 再见) makes it read as
        // a finished reply: it is then offered, not applied.
        if findings.iter().any(|f| {
            f.severity == Severity::Error && !Weight::of(f.rule).must || f.rule == "bare-refusal"
        }) {
            for f in findings.iter_mut().filter(|f| f.rule == "missing-farewell") {
                if let Some(fix) = &mut f.fix {
                    fix.safe = false;
                }
            }
        }
        findings
    }
}

/// What the engine weighs of a finding's rule when findings meet, looked up once per finding.
#[derive(Debug, Clone, Copy)]
struct Weight {
    /// One of the three musts (KF1xx: 请, 您, 再见), whose safe fixes apply even inside a
    /// stretch another rule flags.
    must: bool,
    /// Judges the whole message (missing-apology): its span is where the fix goes, not words at
    /// fault, so it neither gives way to nor shares a penalty with another finding.
    whole: bool,
    /// The rule's place in `RULES`: of two equal findings the earlier rule's stays.
    order: usize,
}

impl Weight {
    fn of(rule: &str) -> Self {
        RULES.iter().position(|r| r.doc.id == rule).map_or(
            Self {
                must: false,
                whole: false,
                order: usize::MAX,
            },
            |order| {
                let doc = &RULES[order].doc;
                Self {
                    must: doc.code.starts_with("KF1"),
                    whole: doc.whole_message,
                    order,
                }
            },
        )
    }

    /// Whether the finding stands for words at fault that another may share (not a must, not
    /// a whole-message finding).
    fn is_dont(self) -> bool {
        !self.must && !self.whole
    }
}

/// One stretch of text is one problem: of two don't-rule findings that overlap (没办法 under
/// blunt-language inside 我们也没办法 under shirking), the lesser is dropped — lower severity,
/// then the shorter span, then the later rule. Findings arrive sorted by start.
fn drop_repeated_donts(findings: &mut Vec<Finding>) {
    if findings.len() < 2 {
        return;
    }
    let weights: Vec<Weight> = findings.iter().map(|f| Weight::of(f.rule)).collect();
    let rank = |i: usize| {
        let f = &findings[i];
        (
            f.severity,
            f.span.len(),
            std::cmp::Reverse(weights[i].order),
        )
    };
    let mut keep = vec![true; findings.len()];
    for i in 0..findings.len() {
        if !weights[i].is_dont() {
            continue;
        }
        for j in i + 1..findings.len() {
            if findings[j].span.start >= findings[i].span.end {
                break;
            }
            if !keep[j] || !weights[j].is_dont() || !findings[i].span.overlaps(findings[j].span) {
                continue;
            }
            if rank(i) >= rank(j) {
                keep[j] = false;
            } else {
                keep[i] = false;
                break;
            }
        }
    }
    let mut k = keep.iter();
    findings.retain(|_| *k.next().unwrap_or(&true));
}

/// 100 minus the penalties, where a run of overlapping findings (a must's fix inside a don't's
/// stretch) is charged once, at its worst severity; a whole-message finding is charged on its
/// own. Findings arrive sorted by start.
fn score(findings: &[Finding]) -> u32 {
    let mut penalty = 0;
    let mut run: Option<(usize, u32)> = None; // (end of the run, its worst penalty)
    for f in findings {
        if Weight::of(f.rule).whole {
            penalty += f.severity.penalty();
            continue;
        }
        let p = f.severity.penalty();
        run = match run {
            Some((end, worst)) if f.span.start < end => Some((end.max(f.span.end), worst.max(p))),
            Some((_, worst)) => {
                penalty += worst;
                Some((f.span.end, p))
            }
            None => Some((f.span.end, p)),
        };
    }
    penalty += run.map_or(0, |(_, worst)| worst);
    100u32.saturating_sub(penalty)
}
