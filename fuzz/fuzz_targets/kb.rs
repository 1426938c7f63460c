//! Fuzzes reading a knowledge base and a phrase library (JSONL or CSV): any text is read into
//! entries and line errors, never a panic, and what is read can be indexed and searched.
#![no_main]

use kefu::suggest::Suggester;
use kefu::suggest::kb::{self, KbEntry, Loaded, Phrase};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let loaded: Loaded<KbEntry> = kb::parse(text);
    let phrases: Loaded<Phrase> = kb::parse(text);
    let lines = text.lines().count().max(1);
    for e in &loaded.errors {
        assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line);
    }
    let entries = loaded.dedup_last_wins(|e| &e.id);
    let phrases = phrases.dedup_last_wins(|p| &p.id);
    if entries.len() + phrases.len() > 0 && entries.len() < 50 {
        let suggester = Suggester::build(&entries, &phrases, None).expect("parsed entries index");
        for e in &entries {
            let _ = suggester.search(&e.question, 3);
        }
    }
});
