//! Prints what `rude-tone`'s model reads of each training sentence, for `scripts/fit-tone`:
//! one JSON line `{"text","label","set","x"}` per sentence of `lexicons/rude-tone.jsonl` (rude or
//! polite), per sentence of the shipped knowledge base's answers and phrase library (polite),
//! and the same in Traditional spelling where it differs.

use std::path::Path;

use kefu::lint::rules::rude_tone::{self, features};
use kefu::text::Clauses;
use kefu::text::normalize::{Script, in_script};
use rayon::prelude::*;
use serde_json::{Value, json};

fn lines(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}:{}: {e}", n + 1)))
        .collect()
}

/// A text's sentences, as the rule cuts a draft.
fn sentences(text: &str) -> Vec<String> {
    rude_tone::sentences(text, &Clauses::new(text))
        .into_iter()
        .map(|s| s.slice(text).to_owned())
        .collect()
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let encoder = kefu::embed::Encoder::load(Path::new(kefu::embed::BUILT_IN_PATH))
        .expect("the model (scripts/fetch-model)");
    let mut items: Vec<(String, String, String)> = Vec::new();
    for v in lines(&format!("{root}/lexicons/rude-tone.jsonl")) {
        let label = v["label"].as_str().expect("label").to_owned();
        assert!(label == "rude" || label == "polite", "label {label}");
        let set = v["set"].as_str().expect("set").to_owned();
        items.push((v["text"].as_str().expect("text").to_owned(), label, set));
    }
    for (file, field) in [("kb", "answer"), ("phrases", "text")] {
        for v in lines(&format!("{root}/lexicons/{file}.jsonl")) {
            for s in sentences(v[field].as_str().unwrap_or_default()) {
                items.push((s, "polite".to_owned(), file.to_owned()));
            }
        }
    }
    let traditional: Vec<_> = items
        .iter()
        .map(|(t, l, s)| (in_script(t, Script::Traditional), l.clone(), s.clone()))
        .collect();
    items.extend(traditional);
    let mut seen = std::collections::HashSet::new();
    items.retain(|(t, _, _)| seen.insert(t.clone()));
    let rows: Vec<String> = items
        .par_iter()
        .map(|(t, l, s)| {
            json!({"text": t, "label": l, "set": s, "x": features(&encoder, t)}).to_string()
        })
        .collect();
    for r in rows {
        println!("{r}");
    }
}
