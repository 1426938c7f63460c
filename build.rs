//! Build step: fetches the semantic model into `models/` (scripts/fetch-model) when it is not
//! there, so `cargo run --release -- serve` ranks by meaning on a fresh machine. Without it (no
//! network, no python3, or KEFU_NO_FETCH=1) kefu builds and ranks by words alone.

use std::path::Path;
use std::process::Command;

fn main() {
    let model = "models/e5-small-q4.bin";
    println!("cargo:rerun-if-changed={model}");
    println!("cargo:rerun-if-changed=scripts/fetch-model");
    println!("cargo:rerun-if-env-changed=KEFU_NO_FETCH");
    if Path::new(model).exists() || std::env::var_os("KEFU_NO_FETCH").is_some_and(|v| v == "1") {
        return;
    }
    match Command::new("scripts/fetch-model").status() {
        Ok(s) if s.success() => {}
        Ok(s) => println!(
            "cargo:warning=scripts/fetch-model failed ({s}): kefu will rank suggestions by words \
             alone until the model is at {model}"
        ),
        Err(e) => println!("cargo:warning=could not run scripts/fetch-model: {e}"),
    }
}
