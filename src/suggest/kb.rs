//! The knowledge base (FAQ entries) and phrase library: the data model, JSONL and CSV import
//! with per-line errors, validation, and the shipped defaults.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::text::normalize::normalize_free;

/// The shipped knowledge base and phrase library.
pub const DEFAULT_KB: &str = include_str!("../../lexicons/kb.jsonl");
pub const DEFAULT_PHRASES: &str = include_str!("../../lexicons/phrases.jsonl");

/// One FAQ entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KbEntry {
    pub id: String,
    pub question: String,
    /// Other ways customers ask the same thing.
    #[serde(default)]
    pub similar: Vec<String>,
    /// May hold `{name}`-style variables the caller fills.
    pub answer: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One phrase-library entry (标准话术 / 快捷短语).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phrase {
    pub id: String,
    /// greeting, waiting, apology, thanks, closing, …
    pub scene: String,
    pub text: String,
    /// Words customers use that call for this phrase (在吗, 有人吗…).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A problem with one line or row of an import file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads JSON lines, one `T` per line (blank lines skipped), each with its line number; a
/// line that does not parse is an error naming it.
pub fn json_lines<T: serde::de::DeserializeOwned>(text: &str) -> (Vec<(usize, T)>, Vec<LineError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(line) {
            Ok(v) => out.push((i + 1, v)),
            Err(e) => errors.push(LineError {
                line: i + 1,
                message: crate::error::json_line_error(&e),
            }),
        }
    }
    (out, errors)
}

/// What an import read: the good records with their line numbers, and the bad lines.
#[derive(Debug, Clone, Default)]
pub struct Loaded<T> {
    pub records: Vec<(usize, T)>,
    pub errors: Vec<LineError>,
}

impl<T> Loaded<T> {
    /// The records, last one winning where ids repeat (the documented import behaviour).
    pub fn dedup_last_wins(self, id: impl Fn(&T) -> &str) -> Vec<T> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut out: Vec<T> = Vec::new();
        for (_, r) in self.records {
            match index.get(id(&r)) {
                Some(&i) => out[i] = r,
                None => {
                    index.insert(id(&r).to_owned(), out.len());
                    out.push(r);
                }
            }
        }
        out
    }
}

/// Record types that can be imported.
pub trait Record: for<'de> Deserialize<'de> + Sized {
    /// The columns a CSV header must name.
    const COLUMNS: &'static [&'static str];
    /// Required fields that must not be blank.
    fn required(&self) -> Vec<(&'static str, &str)>;
    /// Builds a record from a CSV row (header → value), so list fields can be split.
    fn from_row(row: &HashMap<String, String>) -> Result<Self, String>;
}

impl Record for KbEntry {
    const COLUMNS: &'static [&'static str] = &["id", "question", "answer"];

    fn required(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("id", &self.id),
            ("question", &self.question),
            ("answer", &self.answer),
        ]
    }

    fn from_row(row: &HashMap<String, String>) -> Result<Self, String> {
        Ok(Self {
            id: field(row, "id")?,
            question: field(row, "question")?,
            similar: list(row, "similar"),
            answer: field(row, "answer")?,
            category: row.get("category").cloned().unwrap_or_default(),
            tags: list(row, "tags"),
        })
    }
}

impl Record for Phrase {
    const COLUMNS: &'static [&'static str] = &["id", "scene", "text"];

    fn required(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("id", &self.id),
            ("scene", &self.scene),
            ("text", &self.text),
        ]
    }

    fn from_row(row: &HashMap<String, String>) -> Result<Self, String> {
        Ok(Self {
            id: field(row, "id")?,
            scene: field(row, "scene")?,
            text: field(row, "text")?,
            tags: list(row, "tags"),
        })
    }
}

fn field(row: &HashMap<String, String>, name: &str) -> Result<String, String> {
    row.get(name)
        .cloned()
        .ok_or_else(|| format!("missing column `{name}`"))
}

/// A list cell: items separated by `|`, `;`, `；` or new lines (what spreadsheets hold).
fn list(row: &HashMap<String, String>, name: &str) -> Vec<String> {
    row.get(name)
        .map(|s| {
            s.split(['|', ';', '；', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses JSONL (one object per line) or CSV with a header row, by content: a first
/// non-blank character of `{` means JSONL. A UTF-8 byte-order mark is ignored.
pub fn parse<T: Record>(text: &str) -> Loaded<T> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Loaded {
            records: Vec::new(),
            errors: vec![LineError {
                line: 1,
                message: format!("empty: expected JSONL or CSV with {}", columns::<T>()),
            }],
        };
    }
    if text.trim_start().starts_with('{') {
        parse_jsonl(text)
    } else {
        parse_csv(text)
    }
}

fn check<T: Record>(r: T) -> Result<T, String> {
    for (name, value) in r.required() {
        if value.trim().is_empty() {
            return Err(format!("`{name}` is empty"));
        }
    }
    Ok(r)
}

fn parse_jsonl<T: Record>(text: &str) -> Loaded<T> {
    let mut out = Loaded {
        records: Vec::new(),
        errors: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(line)
            .map_err(|e| crate::error::json_line_error(&e))
            .and_then(check)
        {
            Ok(r) => out.records.push((i + 1, r)),
            Err(message) => out.errors.push(LineError {
                line: i + 1,
                message,
            }),
        }
    }
    out
}

/// Reads the CSV rows of `text` (no header), whose first line is line `first_line + 1` of the
/// file. A row that runs over several lines with an odd number of quote marks has a quote that
/// is never closed (`"您好，…` with no closing `"`), which swallowed the lines after it: that row
/// is reported, and every line after it is read again from there, so every row the user gave is
/// either loaded or reported at its line.
fn rows<T: Record>(text: &str, first_line: usize, headers: &[String], out: &mut Loaded<T>) {
    // A loop, not recursion: a file of many broken quotes must not run out of stack.
    let (mut text, mut first_line) = (text, first_line);
    'again: loop {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(text.as_bytes());
        // Streamed, each row's extent from where the reader stands after it: a restart after a
        // broken quote reads on from there, so a file of many of them stays linear.
        let mut records = reader.records();
        while let Some(row) = records.next() {
            let (line, byte) = match &row {
                Ok(rec) => rec.position(),
                Err(e) => e.position(),
            }
            .map_or((0, text.len()), |p| (p.line() as usize, p.byte() as usize));
            let end = (records.reader().position().byte() as usize).min(text.len());
            let line = first_line + line;
            let raw = text[byte.min(end)..end].trim_end_matches(['\r', '\n']);
            // Quotes come in pairs ("" inside a cell too): an odd count over several lines is a
            // quote never closed; so is a row over several lines with the wrong number of
            // fields, its quote closed only at a quote of some later row.
            // A line inside the cell with a whole row's commas is a row it swallowed too.
            let row_commas = headers.len().saturating_sub(1).max(1);
            let unclosed = raw.contains('\n')
                && raw.contains('"')
                && (raw.matches('"').count() % 2 == 1
                    || row.as_ref().is_ok_and(|r| r.len() != headers.len())
                    || raw
                        .lines()
                        .skip(1)
                        .any(|l| l.matches(',').count() >= row_commas));
            if let Some((first, rest)) = raw.split_once('\n').filter(|_| unclosed) {
                out.errors.push(LineError {
                    line,
                    message: format!(
                        "a quote `\"` opened on this line is not closed on it, so the {} line(s) \
                         after it were read into one cell: close the quote (or write a quote \
                         inside a cell as `\"\"`); the lines after it are read again",
                        rest.lines().count()
                    ),
                });
                // The quote's true end is unknown: every line after this one starts over.
                let after = (byte.min(end) + first.len() + 1).min(text.len());
                text = &text[after..];
                first_line = line;
                continue 'again;
            }
            let result = match &row {
                Ok(rec) if rec.len() != headers.len() => Err(format!(
                    "{} fields, the header has {}",
                    rec.len(),
                    headers.len()
                )),
                Ok(rec) => {
                    let map: HashMap<String, String> = headers
                        .iter()
                        .cloned()
                        .zip(rec.iter().map(str::to_owned))
                        .collect();
                    T::from_row(&map).and_then(check)
                }
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(r) => out.records.push((line, r)),
                Err(message) => out.errors.push(LineError { line, message }),
            }
        }
        return;
    }
}

fn parse_csv<T: Record>(text: &str) -> Loaded<T> {
    let mut out = Loaded {
        records: Vec::new(),
        errors: Vec::new(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_lowercase()).collect(),
        Err(e) => {
            out.errors.push(LineError {
                line: 1,
                message: format!("bad CSV header: {e}"),
            });
            return out;
        }
    };
    let missing: Vec<String> = T::COLUMNS
        .iter()
        .filter(|c| !headers.iter().any(|h| h == *c))
        .map(|c| format!("`{c}`"))
        .collect();
    if !missing.is_empty() {
        // Every row would fail alike: say it once, for the header.
        out.errors.push(LineError {
            line: 1,
            message: format!(
                "the header row ({}) has no {} column{}: a CSV needs {}, and a JSONL line starts with `{{`",
                headers.join(", "),
                missing.join(", "),
                if missing.len() > 1 { "s" } else { "" },
                columns::<T>()
            ),
        });
        return out;
    }
    let body_start = reader.position().byte() as usize;
    rows(
        &text[body_start.min(text.len())..],
        reader.position().line() as usize - 1,
        &headers,
        &mut out,
    );
    if out.records.is_empty() && out.errors.is_empty() {
        out.errors.push(LineError {
            line: 1,
            message: "a header row and no entries under it".to_owned(),
        });
    }
    out
}

/// The required columns as prose: "id, question, answer".
fn columns<T: Record>() -> String {
    T::COLUMNS.join(", ")
}

/// Largest knowledge-base, phrase or synonym file read (a shop's FAQ is a few MiB; the
/// cap stops `/dev/zero` or a wrong multi-gigabyte file from taking all memory).
pub const MAX_FILE: u64 = 512 << 20;

/// Reads a file as UTF-8, naming it in the error.
pub fn read_file(path: &Path) -> Result<String, Error> {
    use std::io::Read;
    let io = |source| Error::Io {
        path: path.to_owned(),
        io: source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} MiB: split it, or is it the right file?",
                MAX_FILE >> 20
            ),
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        Error::InvalidUtf8 {
            location: format!("{}:{line}", path.display()),
            hint: gbk_hint(e.as_bytes()),
        }
    })
}

/// What to do when a file that is not UTF-8 reads whole as GBK (GB18030), the encoding Excel
/// and Notepad save in on Chinese Windows; empty otherwise.
pub fn gbk_hint(bytes: &[u8]) -> String {
    let reads_as_gbk = encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .is_some_and(|text| text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    if reads_as_gbk {
        "; it reads as GBK (GB18030), as Excel saves a CSV on Chinese Windows: save it again as \
         \"CSV UTF-8\" (Excel: Save As → CSV UTF-8), or convert it with \
         `iconv -f GB18030 -t UTF-8 FILE > FILE.utf8.csv`"
            .to_owned()
    } else {
        String::new()
    }
}

/// Writes `path` through a temporary file beside it (`NAME.partial`), synced, then renamed over
/// it (the directory synced too): an interruption leaves the old file, if any, whole, and never
/// a half-written one.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let Some(name) = path.file_name() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path names no file",
        ));
    };
    let mut tmp_name = name.to_owned();
    tmp_name.push(".partial");
    let tmp = path.with_file_name(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable once the directory is (a directory opens read-only on
        // Unix; elsewhere the rename is left to the system).
        #[cfg(unix)]
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Reads and parses an import file; bad lines go to `warn` and are skipped, repeated ids keep
/// the last. A file with no valid record is an error.
pub fn load_file<T: Record>(
    path: &Path,
    id: impl Fn(&T) -> &str,
    warn: &mut impl FnMut(&Path, &LineError),
) -> Result<Vec<T>, Error> {
    let loaded = parse::<T>(&read_file(path)?);
    for e in &loaded.errors {
        warn(path, e);
    }
    if loaded.records.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: no valid entries",
            path.display()
        )));
    }
    Ok(loaded.dedup_last_wins(id))
}

/// Findings of `kb check`: everything wrong with a knowledge base, each with its line.
pub fn validate(loaded: &Loaded<KbEntry>) -> Vec<LineError> {
    let mut errors = loaded.errors.clone();
    errors.extend(duplicate_ids(
        loaded.records.iter().map(|(l, e)| (*l, e.id.as_str())),
    ));
    for (line, e) in &loaded.records {
        if e.similar.iter().any(|s| s.trim().is_empty()) {
            errors.push(LineError {
                line: *line,
                message: "an empty similar question".to_owned(),
            });
        }
    }
    // The same question (script, width, case and punctuation aside) under two entries: a
    // customer who asks it gets both answers, tied.
    let mut asked: HashMap<String, (usize, &str)> = HashMap::new();
    for (line, e) in &loaded.records {
        for q in std::iter::once(&e.question).chain(&e.similar) {
            let key: String = normalize_free(q)
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            if key.is_empty() {
                continue;
            }
            match asked.get(&key) {
                Some(&(first, id)) if id != e.id => errors.push(LineError {
                    line: *line,
                    message: format!(
                        "the question `{}` is also asked under `{id}` (line {first}): a customer asking it gets both answers, tied",
                        q.trim()
                    ),
                }),
                Some(_) => {}
                None => {
                    asked.insert(key, (*line, e.id.as_str()));
                }
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    errors
}

/// The problems of a phrase library: malformed lines and rows, empty fields, duplicate ids.
pub fn validate_phrases(loaded: &Loaded<Phrase>) -> Vec<LineError> {
    let mut errors = loaded.errors.clone();
    errors.extend(duplicate_ids(
        loaded.records.iter().map(|(l, p)| (*l, p.id.as_str())),
    ));
    errors.sort_by_key(|e| e.line);
    errors
}

/// An error for each id seen on an earlier line.
fn duplicate_ids<'a>(ids: impl Iterator<Item = (usize, &'a str)>) -> Vec<LineError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    ids.filter_map(|(line, id)| {
        let first = seen.insert(id, line)?;
        seen.insert(id, first);
        Some(LineError {
            line,
            message: format!("duplicate id `{id}` (first on line {first})"),
        })
    })
    .collect()
}

/// Entries that give the very same answer, grouped by it in file order (each group's first
/// entry first): suggestions offer such an answer once, so a KB owner may prefer one entry
/// with similar questions. Entries with an answer of their own are left out.
pub fn shared_answers(loaded: &Loaded<KbEntry>) -> Vec<Vec<(usize, &KbEntry)>> {
    let mut groups: Vec<Vec<(usize, &KbEntry)>> = Vec::new();
    let mut by_answer: HashMap<&str, usize> = HashMap::new();
    for (line, e) in &loaded.records {
        match by_answer.get(e.answer.as_str()) {
            Some(&g) => groups[g].push((*line, e)),
            None => {
                by_answer.insert(e.answer.as_str(), groups.len());
                groups.push(vec![(*line, e)]);
            }
        }
    }
    groups.retain(|g| g.len() > 1);
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_with_optional_fields_and_bad_lines() {
        let text = "{\"id\":\"a\",\"question\":\"运费险怎么用\",\"answer\":\"您好……\"}\n\nnot json\n{\"id\":\"b\",\"question\":\"\",\"answer\":\"x\"}\n{\"id\":\"c\",\"question\":\"q\",\"similar\":[\"q2\"],\"answer\":\"a\",\"tags\":[\"t\"]}\n";
        let l: Loaded<KbEntry> = parse(text);
        assert_eq!(
            l.records
                .iter()
                .map(|(n, e)| (*n, e.id.as_str()))
                .collect::<Vec<_>>(),
            [(1, "a"), (5, "c")]
        );
        let lines: Vec<usize> = l.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4]);
        assert!(l.errors[1].message.contains("`question` is empty"));
    }

    #[test]
    fn a_header_without_the_required_columns_is_one_error_on_line_one() {
        // A spreadsheet exported with Chinese column names: every row would fail alike.
        let text = "编号,问题,答案\nk1,怎么退款,您好，请在订单页申请退款\nk2,怎么开发票,您好，请联系客服开票\n";
        let l: Loaded<KbEntry> = parse(text);
        assert!(l.records.is_empty());
        assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
        assert_eq!(l.errors[0].line, 1);
        let message = &l.errors[0].message;
        assert!(
            message.contains("(编号, 问题, 答案)")
                && message.contains("`id`, `question`, `answer` columns"),
            "{message}"
        );
        let phrases: Loaded<Phrase> = parse("id,scene,文本\np1,greeting,您好😊\n");
        assert_eq!(phrases.errors.len(), 1);
        assert!(
            phrases.errors[0].message.contains("no `text` column:"),
            "{:?}",
            phrases.errors
        );
    }

    #[test]
    fn an_empty_file_or_a_bare_header_is_an_error() {
        for text in ["", "\u{feff}", " \n\n", "id,question,answer\n"] {
            let l: Loaded<KbEntry> = parse(text);
            assert!(l.records.is_empty(), "{text:?}");
            assert_eq!(l.errors.len(), 1, "{text:?}: {:?}", l.errors);
            assert_eq!(l.errors[0].line, 1, "{text:?}");
        }
        let l: Loaded<KbEntry> = parse("");
        assert!(l.errors[0].message.starts_with("empty"), "{:?}", l.errors);
    }

    #[test]
    fn every_csv_row_is_loaded_or_reported_at_its_line() {
        // Line 2 opens a quote it never closes; lines 3 and 4 are good rows it would swallow;
        // line 5 holds a quoted cell over two lines (good); line 7 a stray quote mid-cell.
        let text = "id,question,answer\n\
                    q1,怎么退货,\"您好，请申请退货\n\
                    q2,怎么换货,您好，请申请换货\n\
                    q3,发什么快递,默认中通\n";
        let loaded = parse::<KbEntry>(text);
        let ids: Vec<(usize, &str)> = loaded
            .records
            .iter()
            .map(|(l, e)| (*l, e.id.as_str()))
            .collect();
        assert_eq!(ids, [(3, "q2"), (4, "q3")], "{:?}", loaded.errors);
        assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
        assert_eq!(loaded.errors[0].line, 2);
        assert!(
            loaded.errors[0].message.contains("not closed on it"),
            "{:?}",
            loaded.errors
        );
        // A cell over two lines and a stray quote inside an unquoted cell are no problem.
        let text = "id,question,answer\nq1,怎么退货,\"您好，\n请申请退货\"\nq2,12\"屏幕,有的\nq3,发货,今天\n";
        let loaded = parse::<KbEntry>(text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let ids: Vec<(usize, &str)> = loaded
            .records
            .iter()
            .map(|(l, e)| (*l, e.id.as_str()))
            .collect();
        assert_eq!(ids, [(2, "q1"), (4, "q2"), (5, "q3")]);
    }

    #[test]
    fn csv_with_bom_header_lists_and_quotes() {
        let text = "\u{feff}id,question,similar,answer,category,tags\nk1,怎么退款,退钱|如何退款,\"您好，请在订单页申请退款，谢谢\",售后,退款\nk2,缺列\nk3,發票怎麼開,,您好，请在订单页申请开票,发票,\n";
        let l: Loaded<KbEntry> = parse(text);
        assert_eq!(l.records.len(), 2, "{:?}", l.errors);
        assert_eq!(l.records[0].1.similar, ["退钱", "如何退款"]);
        assert_eq!(l.records[0].1.answer, "您好，请在订单页申请退款，谢谢");
        assert_eq!(l.errors[0].line, 3);
    }

    #[test]
    fn duplicates_last_wins_on_import_and_are_errors_in_check() {
        let text = "{\"id\":\"a\",\"question\":\"q1\",\"answer\":\"x\"}\n{\"id\":\"a\",\"question\":\"q2\",\"answer\":\"y\"}\n";
        let l: Loaded<KbEntry> = parse(text);
        let errors = validate(&l);
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[0]
                .message
                .contains("duplicate id `a` (first on line 1)")
        );
        let kb = l.dedup_last_wins(|e| &e.id);
        assert_eq!(kb.len(), 1);
        assert_eq!(kb[0].question, "q2");
    }

    #[test]
    fn shipped_defaults_load_cleanly() {
        let kb: Loaded<KbEntry> = parse(DEFAULT_KB);
        assert!(kb.errors.is_empty(), "{:?}", kb.errors);
        assert!(validate(&kb).is_empty(), "{:?}", validate(&kb));
        assert!(kb.records.len() >= 150, "only {} entries", kb.records.len());
        let with_similar = kb
            .records
            .iter()
            .filter(|(_, e)| e.similar.len() >= 2)
            .count();
        assert!(
            with_similar * 10 >= kb.records.len() * 8,
            "most entries need several similar questions"
        );
        let phrases: Loaded<Phrase> = parse(DEFAULT_PHRASES);
        assert!(phrases.errors.is_empty(), "{:?}", phrases.errors);
        assert!(phrases.records.len() >= 30);
    }
}
