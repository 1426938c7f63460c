//! Transcripts as read from JSON lines: one conversation per line, or one message per line
//! grouped by conversation id wherever its lines are (spilling to disk past a memory budget);
//! timestamps in RFC 3339 or Unix seconds.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};

use serde::{Deserialize, Deserializer, Serialize};

/// Who wrote a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Agent,
    Customer,
}

/// One message of a conversation.
#[derive(Debug, Clone, Deserialize)]
pub struct Turn {
    pub role: Speaker,
    pub text: String,
    /// Unix seconds.
    #[serde(default, deserialize_with = "timestamp")]
    pub ts: Option<i64>,
    /// The agent who wrote it, when conversations are handed over.
    #[serde(default)]
    pub agent: Option<String>,
}

/// A whole conversation.
#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    pub id: String,
    #[serde(default)]
    pub agent: Option<String>,
    pub turns: Vec<Turn>,
}

/// One message per line, as chat systems export them.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageLine {
    pub conversation: String,
    pub role: Speaker,
    pub text: String,
    #[serde(default, deserialize_with = "timestamp")]
    pub ts: Option<i64>,
    #[serde(default)]
    pub agent: Option<String>,
}

/// A line of input: either shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Line {
    Conversation(Conversation),
    Message(MessageLine),
}

impl Line {
    /// Parses one line of input. serde's untagged enums name no field when neither shape
    /// fits, so a line that fails is parsed again (only then) to say which shape it meant and
    /// what is wrong with it: `turns[1].ts …`, a missing `text`, …
    pub fn parse(line: &str) -> Result<Self, String> {
        serde_json::from_str(line).map_err(|e| {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
                return crate::error::json_line_error(&e);
            };
            let detail = if value.get("turns").is_some() {
                serde_json::from_value::<Conversation>(value).err()
            } else if value.get("conversation").is_some() {
                serde_json::from_value::<MessageLine>(value).err()
            } else {
                None
            };
            match detail {
                Some(e) => e.to_string(),
                None => "neither a conversation {\"id\",\"turns\":[…]} nor a message \
                         {\"conversation\",\"role\",\"text\"}"
                    .to_owned(),
            }
        })
    }
}

/// Joins one-message-per-line input into conversations by id, wherever in the input each
/// conversation's messages are (chat systems export by time, so conversations interleave:
/// a, b, a, b). A conversation's turns keep the order of their lines. Messages are held in
/// memory up to a budget; past it they are spilled to temporary files partitioned by
/// conversation id, and [`Grouper::finish`] reads back one partition at a time, so memory stays
/// near the budget whatever the input's size.
#[derive(Debug)]
pub struct Grouper {
    /// Conversations being joined, in the order of their first line.
    open: Vec<Conversation>,
    index: HashMap<String, usize>,
    /// Bytes held in `open`, roughly.
    held: usize,
    budget: usize,
    spill: Option<Spill>,
}

/// Temporary files holding spilled messages, one per partition of conversation ids.
#[derive(Debug)]
struct Spill {
    _dir: tempfile::TempDir,
    paths: Vec<std::path::PathBuf>,
    parts: Vec<BufWriter<File>>,
}

/// Partitions of spilled messages: each is read back whole, so each holds about 1/64 of them.
const PARTITIONS: usize = 64;

/// Bytes a held message costs beyond its text, for the budget.
const MESSAGE_OVERHEAD: usize = 96;

impl Default for Grouper {
    /// Everything in memory: for inputs already bounded (an HTTP body).
    fn default() -> Self {
        Self::with_budget(usize::MAX)
    }
}

impl Grouper {
    /// Holds about `budget` bytes of messages in memory before spilling to disk.
    pub fn with_budget(budget: usize) -> Self {
        Self {
            open: Vec::new(),
            index: HashMap::new(),
            held: 0,
            budget,
            spill: None,
        }
    }

    /// Adds a message to its conversation.
    pub fn push(&mut self, m: MessageLine) -> io::Result<()> {
        self.held += m.text.len() + m.conversation.len() + MESSAGE_OVERHEAD;
        let k = match self.index.get(&m.conversation) {
            Some(&k) => k,
            None => {
                self.index.insert(m.conversation.clone(), self.open.len());
                self.open.push(Conversation {
                    id: m.conversation,
                    agent: None,
                    turns: Vec::new(),
                });
                self.open.len() - 1
            }
        };
        let c = &mut self.open[k];
        if c.agent.is_none() {
            c.agent.clone_from(&m.agent);
        }
        c.turns.push(Turn {
            role: m.role,
            text: m.text,
            ts: m.ts,
            agent: m.agent,
        });
        if self.held > self.budget {
            self.spill_held()?;
        }
        Ok(())
    }

    /// Whether messages went to disk.
    pub fn spilled(&self) -> bool {
        self.spill.is_some()
    }

    fn spill_held(&mut self) -> io::Result<()> {
        if self.spill.is_none() {
            let dir = tempfile::Builder::new().prefix("kefu-audit-").tempdir()?;
            let paths: Vec<_> = (0..PARTITIONS)
                .map(|i| dir.path().join(format!("part-{i:02}.jsonl")))
                .collect();
            let parts = paths
                .iter()
                .map(|p| File::create(p).map(BufWriter::new))
                .collect::<io::Result<_>>()?;
            self.spill = Some(Spill {
                _dir: dir,
                paths,
                parts,
            });
        }
        let spill = self.spill.as_mut().expect("created above");
        for c in self.open.drain(..) {
            let part = &mut spill.parts[partition(&c.id)];
            for t in c.turns {
                let line = Spilled {
                    conversation: &c.id,
                    role: t.role,
                    text: &t.text,
                    ts: t.ts,
                    agent: t.agent.as_deref(),
                    conversation_agent: c.agent.as_deref(),
                };
                serde_json::to_writer(&mut *part, &line)?;
                part.write_all(b"\n")?;
            }
        }
        self.index.clear();
        self.held = 0;
        Ok(())
    }

    /// Ends the input: the joined conversations, in batches (one when nothing was spilled).
    pub fn finish(mut self) -> io::Result<Batches> {
        if self.spill.is_none() {
            return Ok(Batches {
                memory: Some(self.open),
                paths: Vec::new(),
                _spill: None,
            });
        }
        self.spill_held()?;
        let mut spill = self.spill.take().expect("spilled");
        for p in &mut spill.parts {
            p.flush()?;
        }
        spill.parts.clear();
        let mut paths = spill.paths.clone();
        paths.reverse();
        Ok(Batches {
            memory: None,
            paths,
            _spill: Some(spill),
        })
    }
}

/// The conversations of a finished [`Grouper`], a batch at a time.
#[derive(Debug)]
pub struct Batches {
    memory: Option<Vec<Conversation>>,
    /// Partitions not read yet, last first.
    paths: Vec<std::path::PathBuf>,
    _spill: Option<Spill>,
}

impl Batches {
    /// The next batch of whole conversations; `None` at the end.
    pub fn next_batch(&mut self) -> io::Result<Option<Vec<Conversation>>> {
        if let Some(m) = self.memory.take() {
            return Ok(Some(m));
        }
        let Some(path) = self.paths.pop() else {
            return Ok(None);
        };
        let mut open: Vec<Conversation> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for line in BufReader::new(File::open(&path)?).lines() {
            let s: Respilled = serde_json::from_str(&line?).map_err(io::Error::other)?;
            let k = *index.entry(s.conversation.clone()).or_insert_with(|| {
                open.push(Conversation {
                    id: s.conversation.clone(),
                    agent: s.conversation_agent.clone(),
                    turns: Vec::new(),
                });
                open.len() - 1
            });
            let c = &mut open[k];
            if c.agent.is_none() {
                c.agent = s.conversation_agent;
            }
            c.turns.push(Turn {
                role: s.role,
                text: s.text,
                ts: s.ts,
                agent: s.agent,
            });
        }
        Ok(Some(open))
    }
}

fn partition(id: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    id.hash(&mut h);
    (h.finish() % PARTITIONS as u64) as usize
}

/// A message as spilled to disk (times already in Unix seconds).
#[derive(Serialize)]
struct Spilled<'a> {
    conversation: &'a str,
    role: Speaker,
    text: &'a str,
    ts: Option<i64>,
    agent: Option<&'a str>,
    conversation_agent: Option<&'a str>,
}

#[derive(Deserialize)]
struct Respilled {
    conversation: String,
    role: Speaker,
    text: String,
    ts: Option<i64>,
    agent: Option<String>,
    conversation_agent: Option<String>,
}

/// A numeric `ts` as Unix seconds. Chat systems often export milliseconds: a number of 10¹¹ or
/// more (in seconds, the year 5138) is read as milliseconds. A time outside the years
/// -9999–9999 is an error, so differences of two times never overflow.
fn seconds(n: f64) -> Result<i64, String> {
    let secs = if n.abs() >= 1e11 { n / 1000.0 } else { n };
    jiff::Timestamp::from_second(secs.floor() as i64)
        .map(|t| t.as_second())
        .map_err(|_| {
            let n = if n.abs() < 1e15 {
                n.to_string()
            } else {
                format!("{n:e}")
            };
            format!("`ts` {n} is out of range: Unix seconds or milliseconds")
        })
}

fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(f64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Seconds(s)) => seconds(s).map(Some).map_err(serde::de::Error::custom),
        Some(Raw::Text(t)) => t
            .parse::<jiff::Timestamp>()
            .map(|ts| Some(ts.as_second()))
            .map_err(|e| serde::de::Error::custom(format!("`ts` {t:?} is not RFC 3339: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_and_both_timestamp_forms() {
        let l: Line = serde_json::from_str(
            r#"{"id":"c1","agent":"小王","turns":[{"role":"customer","text":"在吗","ts":"2024-05-01T10:00:00+08:00"},{"role":"agent","text":"您好","ts":1714528860}]}"#,
        )
        .unwrap();
        let Line::Conversation(c) = l else {
            panic!("a conversation")
        };
        assert_eq!(c.turns[0].ts, Some(1714528800));
        assert_eq!(c.turns[1].ts, Some(1714528860));
        let l: Line =
            serde_json::from_str(r#"{"conversation":"c2","role":"agent","text":"您好"}"#).unwrap();
        assert!(matches!(l, Line::Message(m) if m.conversation == "c2"));
        assert!(
            serde_json::from_str::<Line>(
                r#"{"id":"c3","turns":[{"role":"agent","text":"x","ts":"yesterday"}]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn a_line_that_fits_neither_shape_says_what_is_wrong() {
        let error = |line: &str| Line::parse(line).unwrap_err();
        assert!(
            error(r#"{"id":"c","turns":[{"role":"客服","text":"在"}]}"#)
                .contains("unknown variant `客服`")
        );
        assert_eq!(
            error(r#"{"conversation":"c","role":"agent"}"#),
            "missing field `text`"
        );
        assert!(
            error(r#"{"id":"c","turns":[{"role":"agent","text":"x","ts":"昨天"}]}"#)
                .contains("not RFC 3339")
        );
        for shapeless in [r#"{"问题":"在吗"}"#, "[1,2]", "\"在吗\""] {
            assert!(
                error(shapeless).starts_with("neither a conversation"),
                "{shapeless}"
            );
        }
        assert!(error("{\"id\":").starts_with("not valid JSON"));
    }

    #[test]
    fn milliseconds_are_read_and_times_out_of_range_refused() {
        let ts = |n: &str| {
            serde_json::from_str::<MessageLine>(&format!(
                r#"{{"conversation":"c","role":"customer","text":"在嗎😀","ts":{n}}}"#
            ))
            .map(|m| m.ts)
            .map_err(|e| e.to_string())
        };
        assert_eq!(ts("1714528800"), Ok(Some(1714528800)));
        assert_eq!(ts("1714528800123"), Ok(Some(1714528800)), "milliseconds");
        assert_eq!(ts("1714528800.9"), Ok(Some(1714528800)));
        assert_eq!(ts("-86400"), Ok(Some(-86400)));
        for n in ["1e30", "-1e30", "9223372036854775807", "1e300"] {
            let e = ts(n).unwrap_err();
            assert!(e.contains("out of range"), "{n}: {e}");
        }
    }
}
