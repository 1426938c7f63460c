//! The record of questions the knowledge base could not answer (seed 002: 对于资料库内没有的问题,
//! 记录问题内容): an append-only JSON-lines file, each write synced before it is acknowledged,
//! summarised by question with counts, the last time it was asked and the entry that came
//! closest (where a similar question might go, if that entry is the right one). A question the
//! shop will never answer can be dismissed, and the file compacted to one line per question.
//!
//! Writers share a lock on `FILE.lock` beside the file; compaction takes it alone, so an append
//! made while the file is rewritten is never lost, whichever process makes it.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::journal::{self, Stamp, now};

use crate::error::Error;
use crate::text::normalize::normalize_free;

/// The gap file inside an on-disk index's directory, used when there is one.
pub const INDEX_FILE: &str = "gaps.jsonl";

/// Characters of a question that are recorded: a customer's question is a line or two; a
/// longer text is cut here (and marked …), so no one can fill the disk with a few requests.
pub const MAX_QUESTION_CHARS: usize = 200;
/// Questions a compacted file keeps: past it, the least asked (then the longest unasked) go.
pub const MAX_QUESTIONS: usize = 10_000;
/// Size past which the service's recorder compacts the file (one line per question, at most
/// `MAX_QUESTIONS` of them), and again after each further quarter of it: the file stays under
/// about 12 MiB (10,000 questions of 200 characters compact to 6–9 MiB).
pub const COMPACT_AT: u64 = 8 * 1024 * 1024;
/// Unreadable lines a compaction keeps as they were (a damaged file's evidence), the first ones.
const MAX_UNREADABLE: usize = 100;

#[derive(Debug, Serialize, Deserialize)]
struct Line {
    question: String,
    /// Unix seconds.
    at: u64,
    #[serde(default)]
    confidence: f32,
    /// The best suggestion's id (absent in files written before it was recorded, or when
    /// nothing matched at all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closest: Option<String>,
    /// How many times it was asked: one, but for a compacted file's lines.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    count: u64,
    /// The shop dismissed the question at `at`: what was recorded of it before is dropped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    dismissed: bool,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// What `GapLog::compact` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Compacted {
    /// Lines before, and after (one per open question, plus any unreadable line, kept as it
    /// was).
    pub lines_before: usize,
    pub lines_after: usize,
    /// Open questions left out to stay within `MAX_QUESTIONS` (the least asked).
    pub evicted: usize,
}

/// One question's tally while a file is read; `at` is when it was last asked.
struct Tally {
    gap: Gap,
    at: u64,
}

/// Questions that differ only in script, width, case or punctuation are one question; one of
/// no letters at all (🙏🙏, ？？) is itself.
pub(crate) fn key(question: &str) -> String {
    let normalized = normalize_free(question);
    let letters: String = normalized.chars().filter(|c| c.is_alphanumeric()).collect();
    if letters.is_empty() {
        normalized.trim().to_owned()
    } else {
        letters
    }
}

/// The file's open questions, in no particular order, and its unreadable lines.
fn tally(text: &str) -> (Vec<Tally>, Vec<&str>) {
    let mut by_key: HashMap<String, Tally> = HashMap::new();
    let mut unreadable = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(l) = serde_json::from_str::<Line>(line) else {
            unreadable.push(line);
            continue;
        };
        let key = key(&l.question);
        if l.dismissed {
            by_key.remove(&key);
            continue;
        }
        let entry = by_key.entry(key).or_insert_with(|| Tally {
            gap: Gap {
                question: l.question.clone(),
                count: 0,
                last_seen: String::new(),
                best_confidence: 0.0,
                closest: None,
                answered_by: None,
            },
            at: 0,
        });
        entry.gap.count += l.count;
        if l.confidence >= entry.gap.best_confidence && l.closest.is_some() {
            entry.gap.closest = l.closest;
        }
        entry.gap.best_confidence = entry.gap.best_confidence.max(l.confidence);
        if l.at >= entry.at {
            entry.at = l.at;
            entry.gap.question = l.question;
        }
    }
    (by_key.into_values().collect(), unreadable)
}

/// One unanswered question, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Gap {
    /// The question as last asked.
    pub question: String,
    pub count: u64,
    /// RFC 3339, UTC.
    pub last_seen: String,
    /// The best confidence any suggestion reached for it.
    pub best_confidence: f32,
    /// The entry (or phrase) that reached it: where the question may belong as a similar
    /// question, or the nearest thing the knowledge base has. None (null) when nothing matched.
    pub closest: Option<String>,
    /// The entry that answers it now, confidently, when the knowledge base has been changed
    /// since (`Suggester::recheck`): the gap is closed. None when it is still open, or not
    /// checked.
    pub answered_by: Option<String>,
}

/// An append-only gap file.
#[derive(Debug, Clone)]
pub struct GapLog {
    path: PathBuf,
    /// The last summary with the file's size and time it was made from: listings of an
    /// unchanged file (and listings waiting on one being made) share it.
    summarised: Arc<Mutex<Option<Summarised>>>,
}

/// A summary and the state of the file it was made from.
type Summarised = (Stamp, Arc<[Gap]>);

impl GapLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            summarised: Arc::default(),
        }
    }

    /// The gap file kept inside an on-disk index's directory.
    pub fn in_index(dir: &Path) -> Self {
        Self::new(dir.join(INDEX_FILE))
    }

    /// The gap file a command uses: the one named, else the index's (`in_index`); none when
    /// neither is given (nothing is written where the user did not ask).
    pub fn chosen(file: Option<&Path>, index: Option<&Path>) -> Option<Self> {
        match (file, index) {
            (Some(f), _) => Some(Self::new(f)),
            (None, Some(dir)) => Some(Self::in_index(dir)),
            (None, None) => None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one unanswered question with its best suggestion's id and confidence, if any;
    /// returns once it is on disk.
    pub fn record(&self, question: &str, closest: Option<(&str, f32)>) -> Result<(), Error> {
        self.append(&asked(question, closest)?)
    }

    /// Appends whole lines (`asked`'s), synced, under the shared lock.
    pub(crate) fn append(&self, lines: &[u8]) -> Result<(), Error> {
        journal::append(&self.path, lines)
    }

    /// `FILE.lock` beside the file, locked shared (appending) or alone (rewriting).
    pub(crate) fn lock(&self, alone: bool) -> Result<File, Error> {
        journal::lock(&self.path, alone)
    }

    /// The file's text; None when there is no file yet.
    fn read(&self) -> Result<Option<String>, Error> {
        journal::read(&self.path)
    }

    /// Dismisses an open question (matched as the summary matches them: script, width, case
    /// and punctuation aside): it leaves the list, and is listed again only if asked again,
    /// counted from then. Returns it as it was summarised, or None when no open question
    /// matches.
    pub fn dismiss(&self, question: &str) -> Result<Option<Gap>, Error> {
        let wanted = key(question);
        if wanted.is_empty() {
            return Ok(None);
        }
        let Some(gap) = self
            .summary()?
            .into_iter()
            .find(|g| key(&g.question) == wanted)
        else {
            return Ok(None);
        };
        let mut line = serde_json::to_vec(&Line {
            question: gap.question.clone(),
            at: now(),
            confidence: 0.0,
            closest: None,
            count: 1,
            dismissed: true,
        })
        .map_err(|e| Error::Invalid(e.to_string()))?;
        line.push(b'\n');
        self.append(&line)?;
        Ok(Some(gap))
    }

    /// Rewrites the file as one line per open question (its count, last time, best confidence
    /// and closest entry), dropping the dismissed ones and, past `MAX_QUESTIONS`, the least
    /// asked (ties: the longest unasked); the first unreadable lines are kept as they were.
    /// Through a temporary file renamed over it, while no one appends: an interruption leaves
    /// the old file whole.
    pub fn compact(&self) -> Result<Compacted, Error> {
        let _alone = self.lock(true)?;
        let Some(text) = self.read()? else {
            return Ok(Compacted {
                lines_before: 0,
                lines_after: 0,
                evicted: 0,
            });
        };
        let lines_before = text.lines().filter(|l| !l.trim().is_empty()).count();
        let (mut tallies, mut unreadable) = tally(&text);
        unreadable.truncate(MAX_UNREADABLE);
        let mut evicted = 0;
        if tallies.len() > MAX_QUESTIONS {
            tallies.sort_by(|a, b| b.gap.count.cmp(&a.gap.count).then(b.at.cmp(&a.at)));
            evicted = tallies.len() - MAX_QUESTIONS;
            tallies.truncate(MAX_QUESTIONS);
        }
        tallies.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| a.gap.question.cmp(&b.gap.question))
        });
        let mut out = Vec::with_capacity(text.len() / 2);
        for line in &unreadable {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        for t in &tallies {
            serde_json::to_writer(
                &mut out,
                &Line {
                    question: t.gap.question.clone(),
                    at: t.at,
                    confidence: t.gap.best_confidence,
                    closest: t.gap.closest.clone(),
                    count: t.gap.count,
                    dismissed: false,
                },
            )
            .map_err(|e| Error::Invalid(e.to_string()))?;
            out.push(b'\n');
        }
        journal::replace(&self.path, &out)?;
        Ok(Compacted {
            lines_before,
            lines_after: unreadable.len() + tallies.len(),
            evicted,
        })
    }

    /// Unanswered questions, most asked first (ties: most recent first, then by question).
    /// Questions that differ only in script, width, case or punctuation count as one.
    /// Unreadable lines are skipped.
    pub fn summary(&self) -> Result<Vec<Gap>, Error> {
        let mut summarised = self
            .summarised
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let stamp = journal::stamp(&self.path);
        if let (Some(stamp), Some((made_from, gaps))) = (stamp, summarised.as_ref())
            && stamp == *made_from
        {
            return Ok(gaps.to_vec());
        }
        let gaps = self.summarise()?;
        if let Some(stamp) = stamp {
            *summarised = Some((stamp, gaps.clone().into()));
        }
        Ok(gaps)
    }

    fn summarise(&self) -> Result<Vec<Gap>, Error> {
        let Some(text) = self.read()? else {
            return Ok(Vec::new());
        };
        let (mut tallies, _) = tally(&text);
        tallies.sort_by(|a, b| {
            (b.gap.count.cmp(&a.gap.count))
                .then(b.at.cmp(&a.at))
                .then_with(|| a.gap.question.cmp(&b.gap.question))
        });
        Ok(tallies
            .into_iter()
            .map(|Tally { mut gap, at }| {
                gap.last_seen = journal::rfc3339(at);
                gap
            })
            .collect())
    }
}

/// The line that records one asking, now, with the best suggestion's id and confidence.
pub(crate) fn asked(question: &str, closest: Option<(&str, f32)>) -> Result<Vec<u8>, Error> {
    let mut line = serde_json::to_vec(&Line {
        question: cut(question.trim()),
        at: now(),
        confidence: closest.map_or(0.0, |c| c.1),
        closest: closest.map(|c| c.0.to_owned()),
        count: 1,
        dismissed: false,
    })
    .map_err(|e| Error::Invalid(e.to_string()))?;
    line.push(b'\n');
    Ok(line)
}

/// The question as recorded: its first `MAX_QUESTION_CHARS` characters, … marking a cut.
fn cut(question: &str) -> String {
    match question.char_indices().nth(MAX_QUESTION_CHARS) {
        Some((end, _)) => format!("{}…", &question[..end]),
        None => question.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn records_survive_and_are_summarised() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        let log = GapLog::new(dir.join("gaps.jsonl"));
        log.record("可以开增值税专票吗？", Some(("invoice-how", 0.2)))
            .unwrap();
        log.record("能寄到国外吗", None).unwrap();
        log.record("可以開增值稅專票嗎", Some(("invoice-vat", 0.3)))
            .unwrap();
        // A line written before the closest entry was recorded still reads; a torn one is
        // skipped.
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(
                "{\"question\":\"能便宜点吗\",\"at\":1,\"confidence\":0.1}\ntorn line\n".as_bytes(),
            )
            .unwrap();
        let gaps = GapLog::new(log.path()).summary().unwrap();
        assert_eq!(gaps.len(), 3);
        assert_eq!(gaps[0].count, 2, "Traditional and Simplified count as one");
        assert_eq!(gaps[0].question, "可以開增值稅專票嗎");
        assert!((gaps[0].best_confidence - 0.3).abs() < 1e-6);
        assert_eq!(
            gaps[0].closest.as_deref(),
            Some("invoice-vat"),
            "the best one's"
        );
        assert_eq!(gaps[1].question, "能寄到国外吗");
        assert_eq!(gaps[1].closest, None, "nothing matched");
        assert_eq!(gaps[2].question, "能便宜点吗");
        assert_eq!(gaps[2].closest, None, "an older line, without it");
        assert!(gaps[0].last_seen.ends_with('Z'));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn dismissed_questions_leave_until_asked_again() {
        let scratch = tempfile::tempdir().unwrap();
        let log = GapLog::new(scratch.path().join("gaps.jsonl"));
        for _ in 0..3 {
            log.record("你们卖自行车吗🚲", Some(("faq-7", 0.1)))
                .unwrap();
        }
        log.record("能开发票吗", None).unwrap();
        assert_eq!(log.dismiss("有没有卖摩托车").unwrap(), None, "not recorded");
        assert_eq!(log.dismiss("  ").unwrap(), None);
        // Dismissed as written in Traditional, with other punctuation.
        let gone = log.dismiss("你們賣自行車嗎？").unwrap().unwrap();
        assert_eq!(
            (gone.question.as_str(), gone.count),
            ("你们卖自行车吗🚲", 3)
        );
        let gaps = log.summary().unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].question, "能开发票吗");
        assert_eq!(
            log.dismiss("你们卖自行车吗🚲").unwrap(),
            None,
            "already dismissed"
        );
        log.record("你们卖自行车吗", None).unwrap();
        let gaps = log.summary().unwrap();
        let again = gaps
            .iter()
            .find(|g| g.question == "你们卖自行车吗")
            .unwrap();
        assert_eq!(again.count, 1, "counted from the dismissal on");
        assert_eq!(again.closest, None, "what came before is dropped");
        // A question of emoji alone is a question of its own, and can be dismissed too.
        log.record("🙏🙏", None).unwrap();
        log.record("？？", None).unwrap();
        assert_eq!(log.summary().unwrap().len(), 4);
        assert_eq!(log.dismiss("🙏🙏").unwrap().unwrap().question, "🙏🙏");
        let left: Vec<String> = log
            .summary()
            .unwrap()
            .into_iter()
            .map(|g| g.question)
            .collect();
        assert!(
            left.contains(&"？？".to_owned()) && !left.contains(&"🙏🙏".to_owned()),
            "{left:?}"
        );
    }

    /// A question is recorded up to `MAX_QUESTION_CHARS` characters; a compaction keeps the
    /// `MAX_QUESTIONS` most asked.
    #[test]
    fn the_file_is_bounded_in_question_length_and_count() {
        let scratch = tempfile::tempdir().unwrap();
        let log = GapLog::new(scratch.path().join("gaps.jsonl"));
        let long = "我想问一下😀".repeat(10_000);
        log.record(&long, None).unwrap();
        let gaps = log.summary().unwrap();
        assert_eq!(gaps[0].question.chars().count(), MAX_QUESTION_CHARS + 1);
        assert!(gaps[0].question.ends_with("😀我想…"), "cut on a character");
        assert!(std::fs::metadata(log.path()).unwrap().len() < 1024);
        // Many distinct questions, the even ones asked twice: the least asked go first.
        let mut lines = Vec::new();
        for i in 0..MAX_QUESTIONS + 50 {
            for _ in 0..1 + usize::from(i % 2 == 0) {
                lines.extend(asked(&format!("第{i}号商品有货吗"), None).unwrap());
            }
        }
        log.append(&lines).unwrap();
        let done = log.compact().unwrap();
        assert_eq!(done.evicted, 51);
        assert_eq!(done.lines_after, MAX_QUESTIONS);
        let kept = log.summary().unwrap();
        assert_eq!(kept.len(), MAX_QUESTIONS);
        let twice = kept.iter().filter(|g| g.count == 2).count();
        assert_eq!(
            twice,
            (MAX_QUESTIONS + 50) / 2,
            "every question asked twice is kept"
        );
    }

    #[test]
    fn compaction_keeps_the_summary_and_every_append() {
        let scratch = tempfile::tempdir().unwrap();
        let log = GapLog::new(scratch.path().join("sub").join("gaps.jsonl"));
        assert_eq!(
            log.compact().unwrap(),
            Compacted {
                lines_before: 0,
                lines_after: 0,
                evicted: 0
            },
            "no file yet"
        );
        log.record("可以开增值税专票吗？", Some(("invoice-how", 0.2)))
            .unwrap();
        log.record("可以開增值稅專票嗎", Some(("invoice-vat", 0.3)))
            .unwrap();
        log.record("能寄到国外吗", None).unwrap();
        log.record("你们卖自行车吗", None).unwrap();
        log.dismiss("你们卖自行车吗").unwrap().unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(b"torn line\n")
            .unwrap();
        let before = log.summary().unwrap();
        let done = log.compact().unwrap();
        assert_eq!(
            done,
            Compacted {
                lines_before: 6,
                lines_after: 3,
                evicted: 0
            }
        );
        assert_eq!(log.summary().unwrap(), before, "the same list");
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(text.starts_with("torn line\n"), "kept as it was: {text}");
        assert!(!text.contains("自行车"), "dismissed ones dropped: {text}");
        // Counts go on from the compacted line.
        log.record("能寄到國外嗎", None).unwrap();
        let gaps = log.summary().unwrap();
        let abroad = gaps.iter().find(|g| g.question == "能寄到國外嗎").unwrap();
        assert_eq!(abroad.count, 2, "{gaps:?}");
        assert_eq!(log.compact().unwrap().lines_after, 3);

        // Appends made while the file is rewritten, from other threads, are all kept.
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        log.record(&format!("问题{w}号第{}遍", i % 5), None)
                            .unwrap();
                    }
                })
            })
            .collect();
        for _ in 0..20 {
            log.compact().unwrap();
        }
        for w in writers {
            w.join().unwrap();
        }
        let gaps = log.summary().unwrap();
        let asked: u64 = gaps
            .iter()
            .filter(|g| g.question.starts_with("问题"))
            .map(|g| g.count)
            .sum();
        assert_eq!(asked, 200, "{gaps:?}");
        assert_eq!(log.compact().unwrap().lines_after, 3 + 20);
    }
}
