//! Applies fixes: safe ones only, in text order, skipping any that overlap one already applied.

use super::Finding;

/// The text with every safe fix of `findings` applied. Overlapping fixes after the first are
/// skipped; `Linter::lint` lints the result again while one was.
pub fn apply_fixes(text: &str, findings: &[Finding]) -> String {
    apply_counting_skips(text, findings).0
}

/// `apply_fixes`, also saying whether an overlapping safe fix was skipped.
pub fn apply_counting_skips(text: &str, findings: &[Finding]) -> (String, bool) {
    let mut edits: Vec<_> = findings
        .iter()
        .filter_map(|f| {
            f.fix
                .as_ref()
                .filter(|x| x.safe)
                .map(|x| (f.span, x.replacement.as_str()))
        })
        .collect();
    if edits.is_empty() {
        return (text.to_owned(), false);
    }
    edits.sort_by_key(|(span, _)| (span.start, span.end));
    let mut out = String::with_capacity(text.len() + 16);
    let mut pos = 0;
    let mut skipped = false;
    for (span, replacement) in edits {
        if span.start < pos {
            skipped = true;
            continue;
        }
        out.push_str(&text[pos..span.start]);
        out.push_str(replacement);
        pos = span.end;
    }
    out.push_str(&text[pos..]);
    (out, skipped)
}
