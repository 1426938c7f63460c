//! Scratch directories for the integration tests: one per test, removed when the test ends,
//! whether it passed or failed.

use std::ops::Deref;
use std::path::Path;

pub struct WorkDir(tempfile::TempDir);

impl Deref for WorkDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for WorkDir {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

/// A new empty directory named after the test (`kefu-it-NAME-…` in the system's temp dir).
pub fn work_dir(name: &str) -> WorkDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("kefu-it-{name}-"))
        .tempdir()
        .expect("a scratch directory in the system's temp dir");
    WorkDir(dir)
}
