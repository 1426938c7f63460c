//! Fixture triples under `tests/fixtures/lint/`: `NAME.draft.txt` is linted; the safe fixes must
//! give `NAME.fixed.txt`, and the findings (`rule text` per line, in order) `NAME.findings.txt`.

use std::path::Path;

use kefu::{LintRequest, Linter};

#[test]
fn fixture_triples() {
    let linter = Linter::with_defaults().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".draft.txt").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 8, "fixtures missing: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let read =
            |ext: &str| std::fs::read_to_string(dir.join(format!("{name}.{ext}.txt"))).unwrap();
        let draft = read("draft");
        let result = linter.lint(&LintRequest::new(&draft));
        if result.fixed != read("fixed") {
            failures.push(format!("{name}: fixed {:?}", result.fixed));
        }
        let got: Vec<String> = result
            .findings
            .iter()
            .map(|f| format!("{} {}", f.rule, f.text))
            .collect();
        let want: Vec<String> = read("findings")
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if got != want {
            failures.push(format!("{name}: findings {got:?}, expected {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
