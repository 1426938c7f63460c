//! Agents' choices, kept for learning: each suggestion an agent inserts is a pair (the
//! customer's question, the entry whose answer went out), appended to `feedback.jsonl` beside
//! the index and synced before it is acknowledged. Pairs are tallied by entry and question
//! (script, width, case and punctuation aside); once a pair has been chosen often enough the
//! service learns it (the question becomes a similar question of the entry) and marks it
//! learned here, and a KB owner can undo that (marked undone: never learned again by itself).
//!
//! The file is bounded: past `COMPACT_AT` it is rewritten as one line per pair, and past
//! `MAX_PENDING` pairs waiting for confirmation the least chosen (then the longest unchosen)
//! are forgotten, so a flood of invented questions costs neither disk nor memory for long.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use super::gaps::{MAX_QUESTION_CHARS, key};
use super::journal::{self, Stamp, now};
use crate::error::Error;

/// The feedback file inside an on-disk index's directory.
pub const INDEX_FILE: &str = "feedback.jsonl";
/// Pairs still waiting for confirmation that are kept; past it the least chosen go.
pub const MAX_PENDING: usize = 10_000;
/// Size past which the file is rewritten as one line per pair (about 10,000 pairs of 200
/// characters fit in it).
pub const COMPACT_AT: u64 = 4 * 1024 * 1024;
/// Times a pair must be chosen before it is learned, by default.
pub const DEFAULT_LEARN_AFTER: u32 = 3;

/// Where a pair stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PairStatus {
    /// Chosen, not (yet) learned.
    #[default]
    Pending,
    /// Added to the entry as a similar question.
    Learned,
    /// Learned, then taken back by a KB owner: counted, never learned again by itself.
    Undone,
}

impl PairStatus {
    fn is_pending(&self) -> bool {
        *self == PairStatus::Pending
    }
}

/// One line of the file: an agent's choice (`count` 1, `status` pending), a change of status
/// (`count` 0), or a compacted pair (its count, status and `since`).
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    question: String,
    id: String,
    /// Unix seconds: when chosen (for a compacted pair, last chosen), or when the status changed.
    at: u64,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    count: u64,
    #[serde(default, skip_serializing_if = "PairStatus::is_pending")]
    status: PairStatus,
    /// A compacted pair's time of its status change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<u64>,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// A pair as listed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Pair {
    /// The customer's question, as first chosen.
    pub question: String,
    /// The entry agents chose for it.
    pub id: String,
    /// Times agents chose it.
    pub count: u64,
    pub status: PairStatus,
    /// RFC 3339, UTC.
    pub last_chosen: String,
    /// When it was learned or undone (RFC 3339, UTC); None (null) while pending.
    pub since: Option<String>,
}

#[derive(Debug, Clone)]
struct Tally {
    question: String,
    count: u64,
    last: u64,
    status: PairStatus,
    since: u64,
}

impl Tally {
    fn pair(&self, id: &str) -> Pair {
        Pair {
            question: self.question.clone(),
            id: id.to_owned(),
            count: self.count,
            status: self.status,
            last_chosen: journal::rfc3339(self.last),
            since: (!self.status.is_pending()).then(|| journal::rfc3339(self.since)),
        }
    }
}

/// A question's key (script, width, case and punctuation aside); None for one of no letters
/// or digits (🙏, ？？), which cannot be learned.
fn pair_key(question: &str) -> Option<String> {
    question
        .chars()
        .any(char::is_alphanumeric)
        .then(|| key(question))
}

/// Pairs by (entry id, question key), and the file's stamp they were read at.
#[derive(Debug, Default)]
struct State {
    stamp: Option<Stamp>,
    pairs: HashMap<(String, String), Tally>,
}

impl State {
    fn add(&mut self, l: Line) {
        let Some(k) = pair_key(&l.question) else {
            return;
        };
        let t = self.pairs.entry((l.id, k)).or_insert_with(|| Tally {
            question: l.question,
            count: 0,
            last: 0,
            status: PairStatus::Pending,
            since: 0,
        });
        t.count += l.count;
        if l.count > 0 {
            t.last = t.last.max(l.at);
        }
        if !l.status.is_pending() {
            t.status = l.status;
            t.since = l.since.unwrap_or(l.at);
        }
    }

    /// Forgets the least chosen pending pairs (then the longest unchosen) past `MAX_PENDING`.
    fn evict(&mut self) -> usize {
        let pending = self
            .pairs
            .values()
            .filter(|t| t.status.is_pending())
            .count();
        if pending <= MAX_PENDING {
            return 0;
        }
        let mut ranked: Vec<(u64, u64, (String, String))> = (self.pairs.iter())
            .filter(|(_, t)| t.status.is_pending())
            .map(|(k, t)| (t.count, t.last, k.clone()))
            .collect();
        ranked.sort_unstable();
        let gone = pending - MAX_PENDING;
        for (_, _, k) in ranked.into_iter().take(gone) {
            self.pairs.remove(&k);
        }
        gone
    }
}

/// The feedback file and its tally.
#[derive(Debug)]
pub struct FeedbackLog {
    path: PathBuf,
    state: Mutex<State>,
}

impl FeedbackLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            state: Mutex::default(),
        }
    }

    /// The feedback file kept inside an on-disk index's directory.
    pub fn in_index(dir: &Path) -> Self {
        Self::new(dir.join(INDEX_FILE))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's pairs (unreadable lines skipped), at its present stamp.
    fn read(&self) -> Result<State, Error> {
        let mut read = State {
            stamp: journal::stamp(&self.path),
            ..State::default()
        };
        for line in (journal::read(&self.path)?.unwrap_or_default().lines())
            .filter_map(|l| serde_json::from_str::<Line>(l).ok())
        {
            read.add(line);
        }
        read.evict();
        Ok(read)
    }

    /// The tally, read again if the file changed since (another process wrote to it).
    fn fresh(&self) -> Result<MutexGuard<'_, State>, Error> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if journal::stamp(&self.path) != state.stamp {
            *state = self.read()?;
        }
        Ok(state)
    }

    /// Appends a line and counts it; compacts the file once it has grown past `COMPACT_AT`.
    fn write(&self, state: &mut State, line: Line) -> Result<(), Error> {
        let mut bytes = serde_json::to_vec(&line).map_err(|e| Error::Invalid(e.to_string()))?;
        bytes.push(b'\n');
        journal::append(&self.path, &bytes)?;
        state.add(line);
        state.evict();
        state.stamp = journal::stamp(&self.path);
        if state.stamp.is_some_and(|(len, _)| len > COMPACT_AT) {
            self.rewrite(state)?;
        }
        Ok(())
    }

    /// Records that an agent chose entry `id` for `question` (its first `MAX_QUESTION_CHARS`
    /// characters); returns the pair as it stands now. A question of no letters is not a pair:
    /// None.
    pub fn choose(&self, question: &str, id: &str) -> Result<Option<Pair>, Error> {
        let question: String = question.trim().chars().take(MAX_QUESTION_CHARS).collect();
        let Some(k) = pair_key(&question) else {
            return Ok(None);
        };
        let mut state = self.fresh()?;
        let line = Line {
            question,
            id: id.to_owned(),
            at: now(),
            count: 1,
            status: PairStatus::Pending,
            since: None,
        };
        self.write(&mut state, line)?;
        Ok(state.pairs.get(&(id.to_owned(), k)).map(|t| t.pair(id)))
    }

    /// The pair of `question` and entry `id`, if one was recorded.
    pub fn get(&self, question: &str, id: &str) -> Result<Option<Pair>, Error> {
        let state = self.fresh()?;
        Ok(state
            .pairs
            .get(&(id.to_owned(), key(question)))
            .map(|t| t.pair(id)))
    }

    /// Marks a recorded pair learned or undone; returns it as it stands now, or None when no
    /// such pair was recorded.
    pub fn mark(
        &self,
        question: &str,
        id: &str,
        status: PairStatus,
    ) -> Result<Option<Pair>, Error> {
        let mut state = self.fresh()?;
        let k = (id.to_owned(), key(question));
        let Some(recorded) = state.pairs.get(&k).map(|t| t.question.clone()) else {
            return Ok(None);
        };
        let line = Line {
            question: recorded,
            id: id.to_owned(),
            at: now(),
            count: 0,
            status,
            since: None,
        };
        self.write(&mut state, line)?;
        Ok(state.pairs.get(&k).map(|t| t.pair(id)))
    }

    /// The pairs with a status (all when None): learned and undone ones most recent first,
    /// pending ones most chosen first (ties: most recently chosen, then by question).
    pub fn pairs(&self, status: Option<PairStatus>) -> Result<Vec<Pair>, Error> {
        let state = self.fresh()?;
        let mut listed: Vec<(&(String, String), &Tally)> = (state.pairs.iter())
            .filter(|(_, t)| status.is_none_or(|s| t.status == s))
            .collect();
        listed.sort_by(|(ka, a), (kb, b)| {
            (a.status.is_pending().cmp(&b.status.is_pending()))
                .then(b.since.cmp(&a.since))
                .then(b.count.cmp(&a.count))
                .then(b.last.cmp(&a.last))
                .then_with(|| a.question.cmp(&b.question))
                .then_with(|| ka.0.cmp(&kb.0))
        });
        Ok(listed.into_iter().map(|((id, _), t)| t.pair(id)).collect())
    }

    /// Rewrites the file as one line per pair, while no one appends.
    pub fn compact(&self) -> Result<(), Error> {
        let mut state = self.fresh()?;
        self.rewrite(&mut state)
    }

    fn rewrite(&self, state: &mut State) -> Result<(), Error> {
        let _alone = journal::lock(&self.path, true)?;
        // Lines another process appended since the tally was read are counted first.
        if journal::stamp(&self.path) != state.stamp {
            *state = self.read()?;
        }
        let mut pairs: Vec<(&(String, String), &Tally)> = state.pairs.iter().collect();
        pairs.sort_by(|(ka, a), (kb, b)| a.last.cmp(&b.last).then_with(|| ka.cmp(kb)));
        let mut out = Vec::new();
        for ((id, _), t) in pairs {
            serde_json::to_writer(
                &mut out,
                &Line {
                    question: t.question.clone(),
                    id: id.clone(),
                    at: t.last,
                    count: t.count,
                    status: t.status,
                    since: (!t.status.is_pending()).then_some(t.since),
                },
            )
            .map_err(|e| Error::Invalid(e.to_string()))?;
            out.push(b'\n');
        }
        journal::replace(&self.path, &out)?;
        state.stamp = journal::stamp(&self.path);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_tallied_by_pair_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let log = FeedbackLog::in_index(dir.path());
        let first = log.choose("能开专票吗？", "invoice").unwrap().unwrap();
        assert_eq!((first.count, first.status), (1, PairStatus::Pending));
        // Traditional, full-width and without punctuation: the same pair.
        let again = log.choose("能開專票嗎", "invoice").unwrap().unwrap();
        assert_eq!(again.count, 2);
        assert_eq!(again.question, "能开专票吗？", "kept as first chosen");
        // The same question chosen for another entry is another pair.
        assert_eq!(log.choose("能开专票吗", "vat").unwrap().unwrap().count, 1);
        assert_eq!(log.choose("？？🙏", "invoice").unwrap(), None);
        let learned = log
            .mark("能开专票吗", "invoice", PairStatus::Learned)
            .unwrap()
            .unwrap();
        assert_eq!(learned.status, PairStatus::Learned);
        assert!(learned.since.unwrap().ends_with('Z'));
        assert_eq!(
            log.mark("没选过", "invoice", PairStatus::Learned).unwrap(),
            None
        );

        let reopened = FeedbackLog::in_index(dir.path());
        let all = reopened.pairs(None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].id.as_str(), all[0].status),
            ("invoice", PairStatus::Learned)
        );
        assert_eq!(all[0].count, 2);
        assert_eq!(
            reopened.pairs(Some(PairStatus::Pending)).unwrap()[0].id,
            "vat"
        );
        // Compaction keeps every pair as it stood.
        reopened.compact().unwrap();
        let text = std::fs::read_to_string(reopened.path()).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(FeedbackLog::in_index(dir.path()).pairs(None).unwrap(), all);
    }

    #[test]
    fn an_undone_pair_stays_undone_and_counts_on() {
        let dir = tempfile::tempdir().unwrap();
        let log = FeedbackLog::in_index(dir.path());
        log.choose("衣服大了能换吗", "exchange").unwrap();
        log.mark("衣服大了能换吗", "exchange", PairStatus::Learned)
            .unwrap();
        log.mark("衣服大了能换吗", "exchange", PairStatus::Undone)
            .unwrap();
        let p = log.choose("衣服大了能换吗", "exchange").unwrap().unwrap();
        assert_eq!((p.count, p.status), (2, PairStatus::Undone));
    }

    #[test]
    fn a_flood_of_invented_questions_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let log = FeedbackLog::in_index(dir.path());
        log.choose("怎么开发票", "invoice").unwrap();
        log.choose("怎么开发票", "invoice").unwrap();
        // Written straight to the file, as a flood would leave it.
        let mut flood = String::new();
        for n in 0..MAX_PENDING + 50 {
            flood.push_str(&format!(
                "{{\"question\":\"问题{n}{}\",\"id\":\"x\",\"at\":{n}}}\n",
                "长".repeat(300)
            ));
        }
        let mut text = std::fs::read_to_string(log.path()).unwrap();
        text.push_str(&flood);
        std::fs::write(log.path(), text).unwrap();
        let pending = log.pairs(Some(PairStatus::Pending)).unwrap();
        assert_eq!(pending.len(), MAX_PENDING);
        assert_eq!(pending[0].question, "怎么开发票", "the most chosen stays");
        // A choice now compacts the file (it is past COMPACT_AT) to one line per pair kept.
        log.choose("怎么开发票", "invoice").unwrap();
        let lines = std::fs::read_to_string(log.path()).unwrap().lines().count();
        assert_eq!(lines, MAX_PENDING);
        assert_eq!(log.get("怎么开发票", "invoice").unwrap().unwrap().count, 3);
    }
}
