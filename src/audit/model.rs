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
