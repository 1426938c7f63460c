//! Human-readable lint output in the style of rustc and ruff: the draft line, the flagged text
//! underlined (CJK and emoji are two columns wide), the rule, the message and the fix.

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use kefu::LintResult;

pub fn text(out: &mut impl Write, draft: &str, result: &LintResult) -> io::Result<()> {
    for f in &result.findings {
        let line_start = draft[..f.span.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = draft[f.span.start..]
            .find('\n')
            .map_or(draft.len(), |i| f.span.start + i);
        let line_no = draft[..line_start].matches('\n').count() + 1;
        let col = draft[line_start..f.span.start].chars().count() + 1;
        let line = &draft[line_start..line_end];
        let pad = UnicodeWidthStr::width(&draft[line_start..f.span.start]);
        let flagged_end = f.span.end.min(line_end);
        let width = UnicodeWidthStr::width(&draft[f.span.start..flagged_end]).max(1);
        let gutter = " ".repeat(line_no.to_string().len());
        writeln!(out, "{}[{}]: {}", f.severity, f.rule, f.message)?;
        writeln!(out, "{gutter}--> {line_no}:{col}")?;
        writeln!(out, "{gutter} |")?;
        writeln!(out, "{line_no} | {line}")?;
        writeln!(out, "{gutter} | {}{}", " ".repeat(pad), "^".repeat(width))?;
        if let Some(fix) = &f.fix {
            let kind = if fix.safe {
                "fix"
            } else {
                "fix (review first)"
            };
            writeln!(out, "{gutter} = {kind}: {}", fix.replacement)?;
        }
        for s in &f.suggestions {
            writeln!(out, "{gutter} = try: {s}")?;
        }
        writeln!(out)?;
    }
    if result.omitted > 0 {
        writeln!(
            out,
            "… and {} more finding(s) not listed (the first {} are)",
            result.omitted,
            kefu::lint::MAX_FINDINGS
        )?;
    }
    let count = |sev| result.findings.iter().filter(|f| f.severity == sev).count();
    use kefu::Severity::*;
    let verdict = if result.passed { "passes" } else { "fails" };
    writeln!(
        out,
        "score {}/100 ({verdict}: the pass mark is {}) · {} error(s), {} warning(s), {} info",
        result.score,
        kefu::PASS_MARK,
        count(Error),
        count(Warning),
        count(Info)
    )?;
    match (result.fixed != draft, result.remaining) {
        (true, 0) => writeln!(out, "fixed: {}", result.fixed)?,
        (true, n) => writeln!(
            out,
            "safe fixes applied, {n} problem(s) left to rewrite by hand: {}",
            result.fixed
        )?,
        (false, 0) => {}
        (false, n) => writeln!(out, "no safe fix: {n} problem(s) to rewrite by hand")?,
    }
    Ok(())
}
