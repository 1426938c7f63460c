//! Append-only JSON-lines files kept beside an index (the gap log, agents' feedback): each
//! append is one synced write under a shared lock on `FILE.lock`, and a rewrite (compaction)
//! takes the lock alone, so no append is lost whichever process makes it.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;

/// The error for `path`.
fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        io: source,
    }
}

/// Appends whole lines, synced, under the shared lock: one write, so appends from several
/// processes don't interleave. Returns once they are on disk.
pub(crate) fn append(path: &Path, lines: &[u8]) -> Result<(), Error> {
    let _shared = lock(path, false)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io(path))?;
    file.write_all(lines).map_err(io(path))?;
    file.sync_data().map_err(io(path))
}

/// `FILE.lock` beside the file, locked shared (appending) or alone (rewriting); the lock goes
/// with the returned handle. Creates the file's directory if need be.
pub(crate) fn lock(path: &Path, alone: bool) -> Result<File, Error> {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".lock");
    let lock_path = path.with_file_name(name);
    let io = io(&lock_path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(&io)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(&io)?;
    if alone {
        file.lock()
    } else {
        file.lock_shared()
    }
    .map_err(&io)?;
    Ok(file)
}

/// The file's text; None when there is no file yet.
pub(crate) fn read(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(io(path)(source)),
    }
}

/// Replaces the file's contents through a temporary file renamed over it: an interruption
/// leaves the old file whole.
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::suggest::kb::write_replacing(path, bytes).map_err(io(path))
}

/// A file's size and modification time: changed by every append and rewrite. None when there
/// is no file.
pub(crate) type Stamp = (u64, Option<SystemTime>);

pub(crate) fn stamp(path: &Path) -> Option<Stamp> {
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.len(), m.modified().ok()))
}

/// Unix seconds.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Unix seconds as RFC 3339, UTC.
pub(crate) fn rfc3339(at: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(at)).to_string()
}
