//! The record of questions the knowledge base could not answer (seed 002: 对于资料库内没有的问题,
//! 记录问题内容): an append-only JSON-lines file, each write synced before it is acknowledged,
//! summarised by question with counts, the last time it was asked and the entry that came
//! closest (where a similar question might go, if that entry is the right one).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::text::normalize::normalize_free;

/// The gap file used when none is named.
pub const DEFAULT_FILE: &str = "kefu-gaps.jsonl";
/// The gap file inside an on-disk index's directory, used when there is one.
pub const INDEX_FILE: &str = "gaps.jsonl";

#[derive(Debug, Serialize, Deserialize)]
struct Line {
    question: String,
    /// Unix seconds.
    at: u64,
    confidence: f32,
    /// The best suggestion's id (absent in files written before it was recorded, or when
    /// nothing matched at all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closest: Option<String>,
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
}

impl GapLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The gap file kept inside an on-disk index's directory.
    pub fn in_index(dir: &Path) -> Self {
        Self::new(dir.join(INDEX_FILE))
    }

    /// The gap file a command uses: the one named, else the index's (`in_index`), else
    /// `DEFAULT_FILE` in the working directory.
    pub fn chosen(file: Option<&Path>, index: Option<&Path>) -> Self {
        match (file, index) {
            (Some(f), _) => Self::new(f),
            (None, Some(dir)) => Self::in_index(dir),
            (None, None) => Self::new(DEFAULT_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one unanswered question with its best suggestion's id and confidence, if any;
    /// returns once it is on disk.
    pub fn record(&self, question: &str, closest: Option<(&str, f32)>) -> Result<(), Error> {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut line = serde_json::to_vec(&Line {
            question: question.trim().to_owned(),
            at,
            confidence: closest.map_or(0.0, |c| c.1),
            closest: closest.map(|c| c.0.to_owned()),
        })
        .map_err(|e| Error::Invalid(e.to_string()))?;
        line.push(b'\n');
        let io = |source| Error::Io {
            path: self.path.clone(),
            io: source,
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        // One write of the whole line: appends from several processes don't interleave.
        file.write_all(&line).map_err(io)?;
        file.sync_data().map_err(io)
    }

    /// Unanswered questions, most asked first (ties: most recent first, then by question).
    /// Questions that differ only in script, width, case or punctuation count as one.
    /// Unreadable lines are skipped.
    pub fn summary(&self) -> Result<Vec<Gap>, Error> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(Error::Io {
                    path: self.path.clone(),
                    io: source,
                });
            }
        };
        let mut by_key: HashMap<String, (Gap, u64)> = HashMap::new();
        for line in text.lines() {
            let Ok(l) = serde_json::from_str::<Line>(line) else {
                continue;
            };
            let key: String = normalize_free(&l.question)
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            let entry = by_key.entry(key).or_insert_with(|| {
                (
                    Gap {
                        question: l.question.clone(),
                        count: 0,
                        last_seen: String::new(),
                        best_confidence: 0.0,
                        closest: None,
                        answered_by: None,
                    },
                    0,
                )
            });
            entry.0.count += 1;
            if l.confidence >= entry.0.best_confidence && l.closest.is_some() {
                entry.0.closest = l.closest;
            }
            entry.0.best_confidence = entry.0.best_confidence.max(l.confidence);
            if l.at >= entry.1 {
                entry.1 = l.at;
                entry.0.question = l.question;
            }
        }
        let mut gaps: Vec<(Gap, u64)> = by_key.into_values().collect();
        gaps.sort_by(|a, b| {
            (b.0.count.cmp(&a.0.count))
                .then(b.1.cmp(&a.1))
                .then_with(|| a.0.question.cmp(&b.0.question))
        });
        Ok(gaps
            .into_iter()
            .map(|(mut g, at)| {
                g.last_seen =
                    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(at))
                        .to_string();
                g
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
