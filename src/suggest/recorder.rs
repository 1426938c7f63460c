//! Recording unanswered questions off the answering path: a bounded queue to one writer thread
//! that appends whatever has queued up with one write and one sync (group commit). A busy
//! service then syncs once per batch rather than once per question, runs one thread for it,
//! and an answer never waits on the disk: when the queue is full a question goes unrecorded
//! and is counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use super::gaps::{Gap, GapLog, asked};
use crate::error::Error;

/// Most lines one write takes.
const BATCH: usize = 4096;

enum Msg {
    Line(Vec<u8>),
    /// Answered once everything queued before it is written.
    Flush(mpsc::Sender<()>),
}

/// What a recorder has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Questions written to the gap file.
    pub recorded: u64,
    /// Questions not queued: the queue was full.
    pub dropped: u64,
    /// Questions whose write failed.
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counts {
    recorded: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
}

/// The writer of one gap file. Dropping it writes what is queued, then stops the thread.
pub struct Recorder {
    log: GapLog,
    tx: Option<SyncSender<Msg>>,
    writer: Option<JoinHandle<()>>,
    counts: Arc<Counts>,
    /// The first write error since the last `flush`.
    error: Arc<Mutex<Option<Error>>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("log", &self.log)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Recorder {
    /// Starts the writer thread; up to `queue` questions wait for it before `record` drops
    /// them.
    pub fn start(log: GapLog, queue: usize) -> Result<Self, Error> {
        let (tx, rx) = mpsc::sync_channel(queue.max(1));
        let counts = Arc::<Counts>::default();
        let error = Arc::<Mutex<Option<Error>>>::default();
        let writer = {
            let (to, counts, error) = (log.clone(), Arc::clone(&counts), Arc::clone(&error));
            std::thread::Builder::new()
                .name("kefu-gaps".to_owned())
                .spawn(move || write_batches(&to, &rx, &counts, &error))
                .map_err(|io| Error::Io {
                    path: log.path().to_owned(),
                    io,
                })?
        };
        Ok(Self {
            log,
            tx: Some(tx),
            writer: Some(writer),
            counts,
            error,
        })
    }

    /// The gap file written to.
    pub fn log(&self) -> &GapLog {
        &self.log
    }

    /// Queues one unanswered question without waiting; false when it was dropped (the queue is
    /// full, or the writer has stopped).
    pub fn record(&self, question: &str, closest: Option<(&str, f32)>) -> bool {
        let queued = asked(question, closest)
            .ok()
            .zip(self.tx.as_ref())
            .is_some_and(|(line, tx)| match tx.try_send(Msg::Line(line)) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            });
        if !queued {
            let dropped = self.counts.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped == 1 || dropped.is_multiple_of(1000) {
                tracing::warn!(
                    file = %self.log.path().display(),
                    dropped,
                    "unanswered questions arrive faster than the gap file takes them: some go unrecorded"
                );
            }
        }
        queued
    }

    /// Queues one unanswered question, waiting for room in the queue (for batch work, where
    /// nothing should go unrecorded).
    pub fn record_waiting(
        &self,
        question: &str,
        closest: Option<(&str, f32)>,
    ) -> Result<(), Error> {
        let line = asked(question, closest)?;
        self.tx
            .as_ref()
            .and_then(|tx| tx.send(Msg::Line(line)).ok())
            .ok_or_else(|| self.stopped())
    }

    /// Waits until everything queued so far is written; the first write error since the last
    /// flush, if any.
    pub fn flush(&self) -> Result<(), Error> {
        let (ack, done) = mpsc::channel();
        self.tx
            .as_ref()
            .and_then(|tx| tx.send(Msg::Flush(ack)).ok())
            .and_then(|()| done.recv().ok())
            .ok_or_else(|| self.stopped())?;
        match self
            .error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Dismisses a recorded question (`GapLog::dismiss`) once what is queued is written: an
    /// asking still in the queue would otherwise follow the dismissal and bring it back.
    pub fn dismiss(&self, question: &str) -> Result<Option<Gap>, Error> {
        self.flush()?;
        self.log.dismiss(question)
    }

    pub fn stats(&self) -> Stats {
        Stats {
            recorded: self.counts.recorded.load(Ordering::Relaxed),
            dropped: self.counts.dropped.load(Ordering::Relaxed),
            failed: self.counts.failed.load(Ordering::Relaxed),
        }
    }

    fn stopped(&self) -> Error {
        Error::Invalid(format!(
            "the writer of {} has stopped",
            self.log.path().display()
        ))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what is in it and stop.
        self.tx.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread: takes what has queued up (up to `BATCH` lines), appends it with one
/// write and one sync, answers the flushes among it; until the queue is closed and empty.
fn write_batches(log: &GapLog, rx: &Receiver<Msg>, counts: &Counts, error: &Mutex<Option<Error>>) {
    let mut floor = 0;
    while let Ok(first) = rx.recv() {
        let mut lines = Vec::new();
        let mut n = 0u64;
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Line(line) => {
                    lines.extend_from_slice(&line);
                    n += 1;
                }
                Msg::Flush(ack) => flushes.push(ack),
            }
            if n < BATCH as u64 {
                next = rx.try_recv().ok();
            }
        }
        if n > 0 {
            match log.append(&lines) {
                Ok(()) => {
                    counts.recorded.fetch_add(n, Ordering::Relaxed);
                    keep_bounded(log, &mut floor);
                }
                Err(e) => {
                    counts.failed.fetch_add(n, Ordering::Relaxed);
                    tracing::warn!(error = %e, lines = n, "could not record unanswered questions");
                    error
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(e);
                }
            }
        }
        for ack in flushes {
            let _ = ack.send(());
        }
    }
}

/// Compacts the file once it has grown past `COMPACT_AT`, so a flood of distinct questions
/// cannot fill the disk: one line per question, the least asked evicted past `MAX_QUESTIONS`.
/// `floor` is the size the last compaction left: a file of long questions that stays near the
/// cap even compacted is compacted again only once another quarter of the cap was appended.
fn keep_bounded(log: &GapLog, floor: &mut u64) {
    let size = |log: &GapLog| std::fs::metadata(log.path()).map_or(0, |m| m.len());
    let now = size(log);
    if now <= super::gaps::COMPACT_AT || now - (*floor).min(now) <= super::gaps::COMPACT_AT / 4 {
        return;
    }
    let done = log.compact();
    *floor = size(log);
    match done {
        Ok(done) => tracing::info!(
            file = %log.path().display(),
            lines_before = done.lines_before,
            lines_after = done.lines_after,
            evicted = done.evicted,
            "compacted the unanswered questions"
        ),
        Err(e) => tracing::warn!(error = %e, "could not compact the unanswered questions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_batches_and_flushes() {
        let scratch = tempfile::tempdir().unwrap();
        let log = GapLog::new(scratch.path().join("gaps.jsonl"));
        let recorder = Recorder::start(log.clone(), 100_000).unwrap();
        for i in 0..5000 {
            assert!(recorder.record(&format!("有没有{}号自行车🚲", i % 10), Some(("bike", 0.1))));
        }
        recorder.flush().unwrap();
        assert_eq!(
            recorder.stats(),
            Stats {
                recorded: 5000,
                dropped: 0,
                failed: 0
            }
        );
        let gaps = log.summary().unwrap();
        assert_eq!(gaps.len(), 10);
        assert!(gaps.iter().all(|g| g.count == 500), "{gaps:?}");
        // Dropping it writes what is still queued.
        recorder.record_waiting("能寄到國外嗎", None).unwrap();
        drop(recorder);
        assert_eq!(log.summary().unwrap().len(), 11);
    }

    /// A flood of distinct long questions leaves a file under its cap, the most asked kept.
    #[test]
    fn a_flood_of_distinct_questions_stays_under_the_cap() {
        let scratch = tempfile::tempdir().unwrap();
        let log = GapLog::new(scratch.path().join("gaps.jsonl"));
        let recorder = Recorder::start(log.clone(), 100_000).unwrap();
        let filler = "请问这个有没有货".repeat(100);
        recorder.record_waiting("能寄到国外吗", None).unwrap();
        recorder.record_waiting("能寄到国外吗", None).unwrap();
        for i in 0..25_000 {
            recorder
                .record_waiting(&format!("{i}{filler}"), None)
                .unwrap();
        }
        recorder.flush().unwrap();
        let size = std::fs::metadata(log.path()).unwrap().len();
        assert!(
            size < super::super::gaps::COMPACT_AT + 4 * 1024 * 1024,
            "{size}"
        );
        let gaps = log.summary().unwrap();
        assert!(
            gaps.len() <= super::super::gaps::MAX_QUESTIONS + 8000,
            "{}",
            gaps.len()
        );
        assert_eq!(
            (gaps[0].question.as_str(), gaps[0].count),
            ("能寄到国外吗", 2)
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_rather_than_waits() {
        let scratch = tempfile::tempdir().unwrap();
        let log = GapLog::new(scratch.path().join("gaps.jsonl"));
        let recorder = Recorder::start(log.clone(), 1).unwrap();
        let queued = (0..2000)
            .filter(|i| recorder.record(&format!("问题{i}"), None))
            .count() as u64;
        recorder.flush().unwrap();
        let stats = recorder.stats();
        assert_eq!(stats.recorded, queued);
        assert_eq!(stats.dropped, 2000 - queued);
        assert!(stats.dropped > 0, "{stats:?}");
        assert_eq!(log.summary().unwrap().len() as u64, queued);
    }

    #[test]
    fn a_question_still_queued_is_dismissed_too() {
        let scratch = tempfile::tempdir().unwrap();
        let log = GapLog::new(scratch.path().join("gaps.jsonl"));
        let recorder = Arc::new(Recorder::start(log.clone(), 10).unwrap());
        // The writer is held up (as by a compaction) while the question is asked and dismissed.
        let held = log.lock(true).unwrap();
        assert!(recorder.record("有賣滑板嗎🛹", None));
        let dismissing = {
            let recorder = Arc::clone(&recorder);
            std::thread::spawn(move || recorder.dismiss("有卖滑板吗"))
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!log.path().exists(), "the writer is held up");
        drop(held);
        let gone = dismissing.join().unwrap().unwrap();
        assert_eq!(gone.map(|g| g.question).as_deref(), Some("有賣滑板嗎🛹"));
        assert!(log.summary().unwrap().is_empty());
    }

    #[test]
    fn a_write_that_fails_is_reported_by_the_flush() {
        let scratch = tempfile::tempdir().unwrap();
        // The gap file's place is taken by a directory.
        let path = scratch.path().join("gaps.jsonl");
        std::fs::create_dir(&path).unwrap();
        let recorder = Recorder::start(GapLog::new(&path), 10).unwrap();
        recorder.record_waiting("能开发票吗", None).unwrap();
        let e = recorder.flush().unwrap_err();
        assert!(e.to_string().contains("gaps.jsonl"), "{e}");
        assert_eq!(recorder.stats().failed, 1);
        recorder.flush().unwrap();
    }
}
