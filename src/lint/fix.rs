//! Applies fixes: safe ones only, in text order, skipping any that overlap one already applied.

use super::Finding;

/// The text with every safe fix of `findings` applied. Overlapping fixes after the first are
/// skipped; `Linter::lint` applies again until nothing safe is left.
pub fn apply_fixes(text: &str, findings: &[Finding]) -> String {
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
        return text.to_owned();
    }
    edits.sort_by_key(|(span, _)| (span.start, span.end));
    let mut out = String::with_capacity(text.len() + 16);
    let mut pos = 0;
    for (span, replacement) in edits {
        if span.start < pos {
            continue;
        }
        out.push_str(&text[pos..span.start]);
        out.push_str(replacement);
        pos = span.end;
    }
    out.push_str(&text[pos..]);
    out
}
