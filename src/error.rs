//! The library's error type. Analysis never fails; loading files and configuration can.

use std::path::PathBuf;

/// What can go wrong while loading rules, lexicons, configuration or input files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The I/O error is part of the message, not a `source()`: printed as a chain, it would
    /// be said twice.
    #[error("{}: {io}", path.display())]
    Io { path: PathBuf, io: std::io::Error },
    /// A configuration problem, located as `file:line`.
    #[error("{location}: {message}")]
    Config { location: String, message: String },
    #[error("lexicon {0}")]
    Lexicon(String),
    #[error("unknown rule `{0}` (`kefu rules` lists them)")]
    UnknownRule(String),
    /// A request with an invalid value (an empty question, `k` out of range).
    #[error("{0}")]
    Invalid(String),
    /// The search index could not be built or opened.
    #[error("index: {0}")]
    Index(String),
    /// `hint` says what to do when the bytes are a known other encoding (GBK), else is empty.
    #[error("{location}: not valid UTF-8{hint}")]
    InvalidUtf8 { location: String, hint: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A JSON-lines record that does not parse, said for its line: serde's message without its "at
/// line 1 column N" (each record is the first line of its own text), with the column kept.
pub fn json_line_error(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let what = message
        .rfind(" at line ")
        .map_or(&message[..], |i| &message[..i]);
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("not valid JSON: {what} (column {})", e.column())
        }
        _ => format!("{what} (column {})", e.column()),
    }
}
