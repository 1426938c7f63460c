//! The audit report as one self-contained HTML page (inline CSS and SVG charts, nothing fetched)
//! that a QA lead can read without help.

use std::fmt::Write;

use super::report::Report;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart: one labelled bar per item, scaled to the largest value.
fn bars(title: &str, items: &[(String, f64)], unit: &str) -> String {
    let max = items
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let row = 26;
    let height = items.len() * row + 10;
    let mut svg = format!(
        r#"<figure><figcaption>{}</figcaption><svg role="img" width="640" height="{height}" viewBox="0 0 640 {height}">"#,
        esc(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = i * row + 5;
        let w = (v / max * 380.0).max(1.0);
        let _ = write!(
            svg,
            r##"<text x="0" y="{}" font-size="13">{}</text><rect x="190" y="{y}" width="{w:.1}" height="18" fill="#4a7bd0"/><text x="{:.1}" y="{}" font-size="12">{}{unit}</text>"##,
            y + 14,
            esc(label),
            195.0 + w,
            y + 14,
            // Counts as counts, means with one decimal.
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            },
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// The report page.
pub fn render(report: &Report) -> String {
    let mut h = String::from(
        r#"<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>kefu QA audit</title><style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2em;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f5f9}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}
figcaption{font-weight:600;margin-bottom:.3em}.note{color:#555;font-size:.9em}</style></head><body>
<h1>客服质检报告 · QA audit</h1>"#,
    );
    let _ = write!(
        h,
        "<p>{} conversations audited, {} malformed line(s) skipped. Scores are 0–100: the mean lint score of an agent's messages in a conversation, less 10 for each conversation finding (no greeting, no apology after a long wait, a promise not kept, the customer's last message unanswered).</p>",
        report.conversations, report.bad_lines
    );
    h.push_str("<h2>Agents</h2><table><tr><th>agent</th><th>conversations</th><th>messages</th><th>mean</th><th>median</th><th>worst</th><th>first reply p50 (s)</th><th>reply p90 (s)</th></tr>");
    let opt = |x: Option<i64>| x.map_or_else(|| "–".to_owned(), |v| v.to_string());
    for a in &report.agents {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.agent),
            a.conversations,
            a.messages,
            a.score_mean,
            a.score_median,
            a.score_worst,
            opt(a.first_response_p50_secs),
            opt(a.response_p90_secs)
        );
    }
    h.push_str("</table>");
    h.push_str("<h2>Score distribution per agent</h2>");
    for a in &report.agents {
        let items: Vec<(String, f64)> = a
            .score_histogram
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    format!("{}–{}", i * 10, if i == 9 { 100 } else { i * 10 + 9 }),
                    *n as f64,
                )
            })
            .collect();
        h.push_str(&bars(
            &format!("{} · conversations per score band", a.agent),
            &items,
            "",
        ));
    }
    let mut by_rule: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for a in &report.agents {
        for (r, n) in &a.deductions_by_rule {
            *by_rule.entry(r.as_str()).or_default() += n;
        }
    }
    let mut rules: Vec<(String, f64)> = by_rule
        .into_iter()
        .map(|(r, n)| (r.to_owned(), n as f64))
        .collect();
    rules.sort_by(|a, b| b.1.total_cmp(&a.1));
    h.push_str("<h2>Deductions by rule</h2>");
    h.push_str(&bars(
        "findings across all conversations (`kefu explain RULE` says what each means)",
        &rules,
        "",
    ));
    h.push_str("<h2>Response times</h2>");
    let times: Vec<(String, f64)> = report
        .agents
        .iter()
        .filter_map(|a| a.response_p90_secs.map(|s| (a.agent.clone(), s as f64)))
        .collect();
    h.push_str(&bars(
        "90th percentile of the time to answer a customer message",
        &times,
        " s",
    ));
    h.push_str("<h2>四個一樣 · consistency</h2><p class=\"note\">Busy means the agent had another conversation open at the same time. A positive drop means service got worse when busy; the hourly spread is the gap between the agent's best and worst hour (shop time, UTC+8).</p>");
    h.push_str("<table><tr><th>agent</th><th>busy conv.</th><th>busy mean</th><th>idle conv.</th><th>idle mean</th><th>drop when busy</th><th>hourly spread</th></tr>");
    let f = |x: Option<f32>| x.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"));
    let mut busy_bars = Vec::new();
    for a in &report.agents {
        let c = &a.consistency;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.agent),
            c.busy_conversations,
            f(c.busy_score_mean),
            c.idle_conversations,
            f(c.idle_score_mean),
            f(c.busy_drop),
            f(c.hourly_spread)
        );
        if let Some(b) = c.busy_score_mean {
            busy_bars.push((format!("{} · busy", a.agent), f64::from(b)));
        }
        if let Some(i) = c.idle_score_mean {
            busy_bars.push((format!("{} · idle", a.agent), f64::from(i)));
        }
    }
    h.push_str("</table>");
    h.push_str(&bars("mean score, busy vs idle", &busy_bars, ""));
    h.push_str("<h2>Worst conversations</h2><table><tr><th>agent</th><th>conversation</th><th>score</th></tr>");
    for a in &report.agents {
        for (id, s) in &a.worst_conversations {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{s:.1}</td></tr>",
                esc(&a.agent),
                esc(id)
            );
        }
    }
    h.push_str("</table><p class=\"note\">The evidence for each deduction (turn, rule, text) is in <code>kefu audit --format jsonl</code>.</p>");
    if !report.topics.is_empty() || !report.unanswered.is_empty() {
        h.push_str("<h2>Topics</h2>");
        let t: Vec<(String, f64)> = report
            .topics
            .iter()
            .map(|(id, n)| (id.clone(), *n as f64))
            .collect();
        h.push_str(&bars(
            "knowledge-base entries customers asked about most",
            &t,
            "",
        ));
        h.push_str(
            "<table><tr><th>questions the knowledge base could not answer</th><th>times</th></tr>",
        );
        for (q, n) in &report.unanswered {
            let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(q));
        }
        h.push_str("</table>");
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped() {
        assert_eq!(
            esc("<b>\"小王\" & co</b>"),
            "&lt;b&gt;&quot;小王&quot; &amp; co&lt;/b&gt;"
        );
        let svg = bars("t<", &[("a<b".to_owned(), 2.0), ("c".to_owned(), 0.0)], "");
        assert!(svg.contains("a&lt;b") && svg.contains("t&lt;"));
    }
}
