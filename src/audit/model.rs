//! Transcripts as read from JSON lines: one conversation per line, or one message per line
//! grouped by conversation; timestamps in RFC 3339 or Unix seconds.

use serde::{Deserialize, Deserializer};

/// Who wrote a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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

/// Joins one-message-per-line input into conversations (a conversation's lines together).
#[derive(Debug, Default)]
pub struct Grouper {
    current: Option<Conversation>,
}

impl Grouper {
    /// Adds a line; finished conversations go to `out`.
    pub fn push(&mut self, line: Line, out: &mut Vec<Conversation>) {
        match line {
            Line::Conversation(c) => {
                self.flush(out);
                out.push(c);
            }
            Line::Message(m) => {
                if self
                    .current
                    .as_ref()
                    .is_some_and(|c| c.id != m.conversation)
                {
                    self.flush(out);
                }
                let c = self.current.get_or_insert_with(|| Conversation {
                    id: m.conversation.clone(),
                    agent: None,
                    turns: Vec::new(),
                });
                if c.agent.is_none() {
                    c.agent.clone_from(&m.agent);
                }
                c.turns.push(Turn {
                    role: m.role,
                    text: m.text,
                    ts: m.ts,
                    agent: m.agent,
                });
            }
        }
    }

    /// Ends the conversation being joined.
    pub fn flush(&mut self, out: &mut Vec<Conversation>) {
        out.extend(self.current.take());
    }
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
        Some(Raw::Seconds(s)) => Ok(Some(s as i64)),
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
}
