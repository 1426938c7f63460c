//! Fuzzes the audit of a transcript body (JSONL or a JSON array): any text gives a report or
//! an error, never a panic.
#![no_main]

use kefu::Linter;
use kefu::audit::{Settings, audit_text};
use libfuzzer_sys::fuzz_target;

static LINTER: std::sync::LazyLock<Linter> =
    std::sync::LazyLock::new(|| Linter::with_defaults().expect("shipped rules load"));

fuzz_target!(|text: &str| {
    let _ = audit_text(&LINTER, &Settings::default(), text);
});
