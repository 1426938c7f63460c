//! The audit report as one self-contained HTML page in Chinese (inline CSS and SVG charts,
//! nothing fetched) that a QA lead can read without help: outcomes, the conversations to read
//! first with what was said, agents, rules, response times and 四个一样.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Settings;
use super::outcome::Status;
use super::report::Report;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Counts as counts, means with one decimal.
fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A horizontal bar chart: one labelled bar per item, scaled to the largest value. A table, so a
/// long label wraps instead of running into its bar.
fn bars(title: &str, items: &[(String, f64)], unit: &str) -> String {
    if items.is_empty() {
        return format!(
            "<figure><figcaption>{}</figcaption><p class=\"note\">无数据</p></figure>",
            esc(title)
        );
    }
    let max = items
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let mut out = format!(
        r#"<figure><figcaption>{}</figcaption><table class="bars">"#,
        esc(title)
    );
    for (label, v) in items {
        let w = (v / max * 100.0).max(0.5);
        let _ = write!(
            out,
            r#"<tr><td class="label">{}</td><td class="bar"><span style="width:{w:.1}%"></span><em>{}{unit}</em></td></tr>"#,
            esc(label),
            number(*v),
        );
    }
    out.push_str("</table></figure>");
    out
}

/// Score bands of the per-agent chart, with their colours.
const BANDS: [(&str, &str); 4] = [
    ("0–39", "#d9534f"),
    ("40–59", "#f0ad4e"),
    ("60–79", "#9fc5e8"),
    ("80–100", "#4a7bd0"),
];

/// One stacked bar per agent: the share of conversations in each score band.
fn agent_bands(report: &Report) -> String {
    let row = 28;
    let height = report.agents.len() * row + 40;
    let mut svg = format!(
        r#"<figure><figcaption>各客服对话的综合分分布（按对话占比）</figcaption><svg role="img" width="100%" style="max-width:720px" viewBox="0 0 720 {height}">"#
    );
    for (i, (label, colour)) in BANDS.iter().enumerate() {
        let x = 250 + i * 110;
        let _ = write!(
            svg,
            r##"<rect x="{x}" y="4" width="14" height="14" fill="{colour}"/><text x="{}" y="16" font-size="12">{label} 分</text>"##,
            x + 18
        );
    }
    for (i, a) in report.agents.iter().enumerate() {
        let y = i * row + 30;
        let h = &a.score_histogram;
        let counts = [
            h[..4].iter().sum::<usize>(),
            h[4..6].iter().sum(),
            h[6..8].iter().sum(),
            h[8..].iter().sum(),
        ];
        let total = counts.iter().sum::<usize>().max(1) as f64;
        let _ = write!(
            svg,
            r#"<text x="0" y="{}" font-size="13">{}（{} 段）</text>"#,
            y + 14,
            esc(&a.agent),
            a.conversations
        );
        let mut x = 250.0;
        for (n, (_, colour)) in counts.iter().zip(BANDS) {
            let w = *n as f64 / total * 440.0;
            if w > 0.0 {
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="18" fill="{colour}"><title>{n}</title></rect>"#
                );
            }
            x += w;
        }
    }
    svg.push_str("</svg></figure>");
    svg
}

fn label(id: &str) -> String {
    match super::describe(id) {
        Some(m) => format!("{m}（{id}）"),
        None => id.to_owned(),
    }
}

const STYLE: &str = r#"body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:2em auto;max-width:1040px;padding:0 1em;color:#222;line-height:1.5}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f5f9;font-weight:600;white-space:nowrap}td:first-child{white-space:nowrap}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}
figcaption{font-weight:600;margin-bottom:.3em}.note{color:#555;font-size:.9em}
.review{border:1px solid #ddd;border-left:4px solid #d9534f;border-radius:4px;padding:.6em 1em;margin:.8em 0}
.review h3{margin:0 0 .3em;font-size:1em}.review .reason{margin:.2em 0 .5em}
.turn{margin:.25em 0;padding:.3em .6em;border-radius:4px}.customer{background:#fff4e5}.agent{background:#eef4ff}
.who{font-weight:600;margin-right:.5em}.tag{display:inline-block;font-size:.8em;color:#a33;border:1px solid #e3b3b3;border-radius:3px;padding:0 .4em;margin-left:.4em}
.status{display:inline-block;border-radius:3px;padding:0 .4em;color:#fff;font-size:.85em;margin-left:.4em}
table.bars{border:0;margin:.3em 0;width:100%;max-width:760px}table.bars td{border:0;padding:2px 6px;vertical-align:middle}
table.bars td.label{text-align:left;width:16em;font-size:.9em}table.bars td.bar{text-align:left;white-space:nowrap}
table.bars td.bar span{display:inline-block;height:16px;background:#4a7bd0;vertical-align:middle;max-width:calc(100% - 5em)}
table.bars td.bar em{font-style:normal;font-size:.85em;margin-left:.4em}
.wide{overflow-x:auto;max-width:100%}
.s-no-reply,.s-escalated{background:#c9302c}.s-unresolved{background:#ec971f}.s-open{background:#888}.s-acknowledged,.s-resolved{background:#449d44}"#;

/// The report page; `settings` says how the scores were weighted.
pub fn render(report: &Report, settings: &Settings) -> String {
    let mut h = format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>客服质检报告</title><style>{STYLE}</style></head><body>
<h1>客服质检报告</h1>"#
    );
    let _ = write!(
        h,
        "<p>共审核 {} 段对话{}。每段对话的<b>综合分</b>（0–100）= 服务规范分 × {} + 结果分 × {}（权重可在 kefu.toml 的 [audit] 中设置）。",
        report.conversations,
        if report.bad_lines > 0 {
            format!("，跳过 {} 行无法读取的记录", report.bad_lines)
        } else {
            String::new()
        },
        settings.manner_weight,
        settings.outcome_weight,
    );
    h.push_str("<b>服务规范分</b>：客服每条消息的规范得分的平均，每项对话级问题（未问候、久等未致歉、承诺未兑现、客户消息未回复）再扣 10 分。<b>结果分</b>：客户这边的结果——是否致谢或确认解决、是否仍未解决、是否要投诉、结束时的情绪；50 分表示看不出结果。</p>");

    h.push_str("<h2>对话结果</h2>");
    let order = [
        Status::Resolved,
        Status::Acknowledged,
        Status::Open,
        Status::Unresolved,
        Status::Escalated,
        Status::NoReply,
    ];
    let outcomes: Vec<(String, f64)> = order
        .iter()
        .map(|s| {
            (
                s.label().to_owned(),
                report.outcomes.get(s.as_str()).copied().unwrap_or(0) as f64,
            )
        })
        .collect();
    h.push_str(&bars("各结果的对话数", &outcomes, " 段"));

    h.push_str("<h2>优先复查</h2><p class=\"note\">结果最差的对话排在最前（同分按综合分）。每段列出有问题的轮次：客户和客服当时说了什么，以及命中的检查。</p>");
    if report.review_first.is_empty() {
        h.push_str("<p>没有需要复查的对话。</p>");
    }
    for r in &report.review_first {
        let _ = write!(
            h,
            r#"<section class="review"><h3>{} · 客服 {}<span class="status s-{}">{}</span></h3><div class="note">综合分 {:.1} · 服务规范 {:.1} · 结果 {:.1}</div><p class="reason">{}</p>"#,
            esc(&r.id),
            esc(&r.agent),
            r.status.as_str(),
            r.status.label(),
            r.score,
            r.manner,
            r.outcome,
            esc(&r.reason)
        );
        for t in &r.turns {
            let (class, who) = if t.role == "agent" {
                ("agent", "客服")
            } else {
                ("customer", "客户")
            };
            let tags: String = t
                .rules
                .iter()
                .map(|id| {
                    format!(
                        r#"<span class="tag" title="{}">{}</span>"#,
                        esc(id),
                        esc(super::describe(id).unwrap_or(id))
                    )
                })
                .collect();
            let _ = write!(
                h,
                r#"<div class="turn {class}"><span class="who">第{}轮 {who}</span>{}{tags}</div>"#,
                t.turn + 1,
                esc(&t.text)
            );
        }
        h.push_str("</section>");
    }

    h.push_str(r#"<h2>客服汇总</h2><div class="wide"><table><tr><th>客服</th><th>对话</th><th>消息</th><th>综合均分</th><th>规范均分</th><th>结果均分</th><th title="客户确认解决或致谢的对话占比">解决/认可</th><th title="客户提到投诉、差评、12315 等的对话">投诉升级</th><th>负面结束</th><th>未回复</th><th>首响中位</th><th>响应 P90</th></tr>"#);
    let opt = |x: Option<i64>| x.map_or_else(|| "–".to_owned(), |v| v.to_string());
    for a in &report.agents {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.0}%</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.agent),
            a.conversations,
            a.messages,
            a.score_mean,
            a.manner_mean,
            a.outcome_mean,
            a.resolved_share * 100.0,
            a.escalations,
            a.negative_endings,
            a.no_reply,
            opt(a.first_response_p50_secs),
            opt(a.response_p90_secs)
        );
    }
    h.push_str("</table></div><p class=\"note\">均分为 0–100；首响中位、响应 P90 的单位为秒。</p>");
    h.push_str(&agent_bands(report));
    let resolved: Vec<(String, f64)> = report
        .agents
        .iter()
        .map(|a| (a.agent.clone(), f64::from(a.resolved_share * 100.0).round()))
        .collect();
    h.push_str(&bars("各客服的解决/认可率", &resolved, "%"));

    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &report.agents {
        for (r, n) in &a.deductions_by_rule {
            *by_rule.entry(r.as_str()).or_default() += n;
        }
    }
    let mut rules: Vec<(String, f64)> = by_rule
        .into_iter()
        .map(|(r, n)| (label(r), n as f64))
        .collect();
    rules.sort_by(|a, b| b.1.total_cmp(&a.1));
    h.push_str("<h2>服务规范问题</h2>");
    h.push_str(&bars(
        "全部对话中各规则的命中次数（kefu explain 规则名 可查看说明）",
        &rules,
        " 次",
    ));

    h.push_str("<h2>响应时间</h2>");
    let times: Vec<(String, f64)> = report
        .agents
        .iter()
        .filter_map(|a| a.response_p90_secs.map(|s| (a.agent.clone(), s as f64)))
        .collect();
    h.push_str(&bars("回复客户消息所用时间的 90 分位", &times, " 秒"));

    h.push_str("<h2>四个一样</h2><p class=\"note\">忙时：客服同时还有其他对话在进行。“忙时下降”为正，说明忙时服务变差；“时段差”为客服最好与最差时段（北京时间）的均分之差。</p>");
    h.push_str("<div class=\"wide\"><table><tr><th>客服</th><th>忙时对话</th><th>忙时均分</th><th>闲时对话</th><th>闲时均分</th><th>忙时下降</th><th>时段差</th></tr>");
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
        if let (Some(b), Some(i)) = (c.busy_score_mean, c.idle_score_mean) {
            busy_bars.push((format!("{} · 忙时", a.agent), f64::from(b)));
            busy_bars.push((format!("{} · 闲时", a.agent), f64::from(i)));
        }
    }
    h.push_str("</table></div>");
    if !busy_bars.is_empty() {
        h.push_str(&bars("忙时与闲时的综合分均值", &busy_bars, ""));
    }

    if !report.topics.is_empty() || !report.unanswered.is_empty() {
        h.push_str("<h2>咨询主题</h2>");
        let t: Vec<(String, f64)> = report
            .topics
            .iter()
            .map(|(id, n)| (id.clone(), *n as f64))
            .collect();
        h.push_str(&bars("客户问得最多的知识库条目", &t, " 次"));
        h.push_str("<table><tr><th>知识库答不上的问题</th><th>次数</th></tr>");
        for (q, n) in &report.unanswered {
            let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(q));
        }
        h.push_str("</table>");
    }
    h.push_str("<p class=\"note\">每项扣分的证据（轮次、规则、原文）见 <code>kefu audit --format jsonl</code>。</p></body></html>\n");
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
        let chart = bars("t<", &[("a<b".to_owned(), 2.0), ("c".to_owned(), 0.0)], "");
        assert!(chart.contains("a&lt;b") && chart.contains("t&lt;"));
    }
}
