//! The `--jsonl` loop shared by `lint` and `suggest`: one request per line from a file or stdin,
//! one JSON line out per request, in order; a bad line gets an error object naming its number.

use std::io::{self, BufRead, BufWriter, Write};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::json;

/// Runs `handle` on every non-blank line of `source` (a path, or `-` for stdin) and writes its
/// answer. Returns whether any line failed.
pub fn each_line<T: Serialize>(
    source: &str,
    mut handle: impl FnMut(&str) -> Result<T, String>,
) -> Result<bool> {
    let mut input: Box<dyn BufRead> = if source == "-" {
        Box::new(io::stdin().lock())
    } else {
        let file = std::fs::File::open(source).with_context(|| format!("opening {source}"))?;
        Box::new(io::BufReader::new(file))
    };
    let name = if source == "-" { "<stdin>" } else { source };
    let mut out = BufWriter::new(io::stdout().lock());
    let mut failed = false;
    let mut bytes = Vec::new();
    let mut line_no = 0;
    while super::input::read_line(&mut input, &mut bytes)
        .with_context(|| format!("reading {name}:{}", line_no + 1))?
    {
        line_no += 1;
        let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        let answer = match std::str::from_utf8(text) {
            Err(_) => Err("not valid UTF-8".to_owned()),
            Ok(s) if s.trim().is_empty() => continue,
            Ok(s) => handle(s),
        };
        match answer {
            Ok(value) => serde_json::to_writer(&mut out, &value)?,
            Err(message) => {
                failed = true;
                let message = format!("{name}:{line_no}: {message}");
                serde_json::to_writer(
                    &mut out,
                    &json!({"line": line_no, "error": {"code": "bad_request", "message": message}}),
                )?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(failed)
}
