//! `kefu audit` through the real binary: both input shapes, gzip, bad lines, every format.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit/chats.jsonl")
}

fn audit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kefu"))
        .arg("audit")
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn json_report_per_conversation_and_agent() {
    let o = audit(&[fixture().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(
        v["summary"]["conversations"], 5,
        "three whole conversations and two grouped from messages"
    );
    assert_eq!(v["summary"]["bad_lines"], 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("chats.jsonl:3:"));
    let convs = v["conversations"].as_array().unwrap();
    let c1 = convs.iter().find(|c| c["id"] == "c1").unwrap();
    assert_eq!(
        (
            c1["manner"].as_f64(),
            c1["greeting"].as_bool(),
            c1["farewell"].as_bool()
        ),
        (Some(100.0), Some(true), Some(true))
    );
    // The customer's 好的 after the agent's answer: resolved, the best outcome of the five.
    assert_eq!(c1["outcome"]["status"], "resolved");
    assert_eq!(c1["first_response_secs"], 20);
    let c2 = convs.iter().find(|c| c["id"] == "c2").unwrap();
    let rules: Vec<&str> = c2["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    for r in [
        "blaming-customer",
        "blunt-language",
        "missing-apology",
        "missing-greeting",
        "no-apology-after-wait",
        "unanswered-question",
    ] {
        assert!(rules.contains(&r), "{r} missing from {rules:?}");
    }
    assert!(c2["score"].as_f64().unwrap() < 50.0);
    assert_eq!(c2["outcome"]["status"], "escalated", "我要投诉");
    let threat = &c2["outcome"]["evidence"][c2["outcome"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["rule"] == "outcome-escalation")
        .unwrap()];
    assert_eq!(
        (threat["turn"].as_u64(), threat["text"].as_str()),
        (Some(4), Some("投诉"))
    );
    let review = v["summary"]["review_first"].as_array().unwrap();
    assert_eq!(review[0]["id"], "c2", "the worst outcome is read first");
    assert!(
        review[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("升级投诉")
    );
    assert!(
        review[0]["turns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["role"] == "agent" && t["text"] == "爱买不买"),
        "the review quotes what the agent said: {}",
        review[0]
    );
    let wang = v["summary"]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "小王")
        .unwrap();
    assert_eq!(wang["conversations"], 3);
    assert_eq!(
        wang["consistency"]["busy_conversations"], 2,
        "c3 and c4 overlap"
    );
    assert!(wang["consistency"]["busy_drop"].as_f64().unwrap() > 0.0);
    assert_eq!(wang["worst_conversations"][0][0], "c4");
    let c5 = convs.iter().find(|c| c["id"] == "c5").unwrap();
    assert!(
        c5["evidence"].to_string().contains("promise-not-kept"),
        "{c5}"
    );
}

#[test]
fn jsonl_streams_csv_tables_and_gzip() {
    let o = audit(&[fixture().to_str().unwrap(), "--format", "jsonl"]);
    let ids: Vec<String> = out(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // Whole conversations as they come, then those joined from messages.
    assert_eq!(ids, ["c1", "c2", "c5", "c3", "c4"]);
    let o = audit(&[fixture().to_str().unwrap(), "--format", "csv"]);
    let csv = out(&o);
    assert!(
        csv.starts_with("id,agent,score,manner,outcome,status,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 6);
    // The rules a conversation broke, each once (c2 misses an apology twice).
    let c2 = csv.lines().find(|l| l.starts_with("c2,")).unwrap();
    let rules: Vec<&str> = c2.rsplit(',').next().unwrap().split(' ').collect();
    assert!(rules.contains(&"missing-apology"), "{c2}");
    let mut unique = rules.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), rules.len(), "{c2}");
    let o = audit(&[
        fixture().to_str().unwrap(),
        "--format",
        "csv",
        "--by",
        "agent",
    ]);
    assert!(
        out(&o).lines().any(|l| l.starts_with("小王,3,")),
        "{}",
        out(&o)
    );

    let dir = crate::scratch::work_dir("audit");
    let gz = dir.join("chats.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(fixture()).unwrap()).unwrap();
    enc.finish().unwrap();
    let report = dir.join("report.json");
    let o = audit(&[gz.to_str().unwrap(), "-o", report.to_str().unwrap()]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(v["summary"]["conversations"], 5);
}

#[test]
fn strict_fails_on_a_bad_line() {
    let o = audit(&[fixture().to_str().unwrap(), "--strict"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("chats.jsonl:3:"));
    let o = audit(&["missing.jsonl"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_file_with_no_conversation_in_it_is_an_error() {
    // The shop's knowledge base given by mistake: every line is valid JSON, none a conversation.
    let kb = Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicons/kb.jsonl");
    let o = audit(&[kb.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("kb.jsonl: no conversation could be read") && err.contains("kb.jsonl:1:"),
        "{err}"
    );
    // An empty file is an empty report, not an error.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    assert!(audit(&[empty.to_str().unwrap()]).status.success());
}

#[test]
fn topics_match_customer_turns_against_the_knowledge_base() {
    let o = audit(&[fixture().to_str().unwrap(), "--topics"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let topics: Vec<&str> = v["summary"]["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t[0].as_str().unwrap())
        .collect();
    assert!(
        topics.contains(&"invoice-how"),
        "能开发票吗 asks about invoices: {topics:?}"
    );
    assert!(v["summary"]["unanswered"].is_array());
    let without = audit(&[fixture().to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out(&without)).unwrap();
    assert_eq!(
        v["summary"]["topics"],
        serde_json::json!([]),
        "topics only when asked for"
    );
}

#[test]
fn html_report_is_self_contained() {
    let dir = crate::scratch::work_dir("audit-html");
    let page = dir.join("report.html");
    let o = audit(&[
        fixture().to_str().unwrap(),
        "--topics",
        "--format",
        "html",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    for needed in [
        "小王",
        "小李",
        "<svg",
        "客服质检报告",
        "优先复查",
        "升级投诉",
        "爱买不买",
        "综合分分布",
        "服务规范问题",
        "忙时与闲时",
        "blunt-language",
        "c2",
    ] {
        assert!(html.contains(needed), "{needed} missing from the report");
    }
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "nothing is fetched from the network"
    );
    assert!(!html.contains('`'), "no literal Markdown");
    assert!(!html.contains("四個"), "one script: Simplified throughout");
}

/// The shop's response-time policy: `[audit]` in kefu.toml, overridden by the flags; c4's
/// customer waited 95 s for a reply with no apology.
#[test]
fn the_response_time_policy_is_the_shops_to_set() {
    let dir = crate::scratch::work_dir("audit-policy");
    let in_dir = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kefu"))
            .arg("audit")
            .arg(fixture())
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let c4_flagged = |o: &Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_str(&out(o)).unwrap();
        let c4 = v["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "c4")
            .unwrap()
            .clone();
        c4["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["rule"] == "no-apology-after-wait")
    };
    assert!(c4_flagged(&in_dir(&[])), "60 s by default");
    std::fs::write(dir.join("kefu.toml"), "[audit]\nlong-wait = 120\n").unwrap();
    assert!(!c4_flagged(&in_dir(&[])), "the shop allows two minutes");
    assert!(c4_flagged(&in_dir(&["--long-wait", "90"])), "the flag wins");
    for bad in ["0", "-5", "一分钟"] {
        let o = in_dir(&["--long-wait", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("--long-wait"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    std::fs::write(dir.join("kefu.toml"), "[audit]\n\npromise = 0\n").unwrap();
    let o = in_dir(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("kefu.toml:3"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Chat systems export one message per line sorted by time, so conversations interleave.
/// Each is reported once, whole, however its lines are spread — also when messages go to disk.
#[test]
fn interleaved_messages_make_one_conversation_each() {
    let dir = crate::scratch::work_dir("audit-interleaved");
    let mut text = String::new();
    for i in 0..3 {
        for c in ["a", "b", "c"] {
            let (role, said) = if i % 2 == 0 {
                ("customer", format!("第{i}个问题：订单{c}到哪了？"))
            } else {
                ("agent", format!("您好，订单{c}已发货，请您留意😊"))
            };
            text.push_str(&format!(
                r#"{{"conversation":"{c}","role":"{role}","text":"{said}","ts":{},"agent":"小王"}}"#,
                1714530000 + i * 10
            ));
            text.push('\n');
        }
    }
    let file = write(&dir, "by-time.jsonl", &text);
    for spill in ["512", "0"] {
        let o = audit(&[
            file.to_str().unwrap(),
            "--format",
            "jsonl",
            "--spill-after",
            spill,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut rows: Vec<(String, usize)> = out(&o)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["id"].as_str().unwrap().to_owned(),
                    v["agent_messages"].as_u64().unwrap() as usize,
                )
            })
            .collect();
        rows.sort();
        assert_eq!(
            rows,
            [("a".into(), 1), ("b".into(), 1), ("c".into(), 1)],
            "spill after {spill} MiB"
        );
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("repeat an id"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The same id on two whole-conversation lines is reported as given, with a warning.
    let twice = r#"{"id":"x","turns":[{"role":"customer","text":"在吗"}]}"#;
    let file = write(&dir, "twice.jsonl", &format!("{twice}\n{twice}\n"));
    let o = audit(&[file.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("1 conversation(s) repeat an id already reported (first: x)"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A customer nobody answered is the worst outcome, not a perfect score.
#[test]
fn a_customer_never_answered_scores_low_and_is_read_first() {
    let dir = crate::scratch::work_dir("audit-no-reply");
    let file = write(
        &dir,
        "chats.jsonl",
        concat!(
            r#"{"id":"x","agent":"小王","turns":[{"role":"customer","text":"在吗？怎么没人回复"}]}"#,
            "\n",
            r#"{"id":"y","agent":"小王","turns":[{"role":"customer","text":"能開發票嗎"},{"role":"agent","text":"您好，可以的，請在訂單頁申請。"},{"role":"customer","text":"好的，謝謝🙏"}]}"#,
            "\n"
        ),
    );
    let o = audit(&[file.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let by_id = |id: &str| {
        v["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let (x, y) = (by_id("x"), by_id("y"));
    assert_eq!(x["outcome"]["status"], "no-reply");
    assert_eq!(x["outcome"]["score"], 0.0);
    assert!(x["score"].as_f64().unwrap() < 30.0, "{x}");
    assert_eq!(
        y["outcome"]["status"], "resolved",
        "Traditional and emoji: {y}"
    );
    assert!(y["score"].as_f64().unwrap() > 70.0, "{y}");
    assert_eq!(v["summary"]["review_first"][0]["id"], "x");
    let wang = &v["summary"]["agents"][0];
    assert_eq!(
        (wang["no_reply"].as_u64(), wang["resolved_share"].as_f64()),
        (Some(1), Some(0.5))
    );
    assert_eq!(v["summary"]["outcomes"]["no-reply"], 1);
    // The review list is as long as asked.
    let o = audit(&[file.to_str().unwrap(), "--review", "1"]);
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["summary"]["review_first"].as_array().unwrap().len(), 1);
}

/// `[audit]` weights decide how manner and outcome make the score.
#[test]
fn the_score_weights_are_the_shops_to_set() {
    let dir = crate::scratch::work_dir("audit-weights");
    let score = |toml: &str| {
        std::fs::write(dir.join("kefu.toml"), toml).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_kefu"))
            .args(["audit", "--format", "jsonl"])
            .arg(fixture())
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_str(out(&o).lines().next().unwrap()).unwrap();
        (
            v["score"].as_f64().unwrap(),
            v["manner"].as_f64().unwrap(),
            v["outcome"]["score"].as_f64().unwrap(),
        )
    };
    let (s, m, _) = score("[audit]\nmanner-weight = 1\noutcome-weight = 0\n");
    assert!((s - m).abs() < 1e-3, "manner alone: {s} vs {m}");
    let (s, _, o) = score("[audit]\nmanner-weight = 0\noutcome-weight = 2\n");
    assert!((s - o).abs() < 1e-3, "outcome alone: {s} vs {o}");
    std::fs::write(dir.join("kefu.toml"), "[audit]\n\nmanner-weight = -1\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .arg("audit")
        .arg(fixture())
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("kefu.toml:3") && err.contains("weight"),
        "{err}"
    );
}

/// `kefu audit --eval`: a shop checks the audit against its own QA team's grades.
#[test]
fn eval_correlates_each_score_with_each_grade() {
    let dir = crate::scratch::work_dir("audit-eval");
    let graded = [
        ("好的，谢谢，已经解决了👍", 2.0),
        ("收到，谢谢", 1.5),
        ("嗯", 0.5),
        ("那什么时候到？", -0.5),
        ("还是没到，太慢了", -1.0),
        ("再不处理我就投诉！！[怒]", -2.0),
    ];
    let text: String = graded
        .iter()
        .enumerate()
        .map(|(i, (last, grade))| {
            format!(
                r#"{{"id":"g{i}","turns":[{{"role":"customer","text":"我的快递到哪了"}},{{"role":"agent","text":"您好，已为您查询，明天送达"}},{{"role":"customer","text":"{last}"}}],"rating":{{"S":{grade},"QA":{}}}}}"#,
                -grade
            ) + "\n"
        })
        .collect();
    let file = write(&dir, "graded.jsonl", &text);
    let saved = dir.join("run.jsonl");
    let o = audit(&[
        "--eval",
        file.to_str().unwrap(),
        "--save",
        saved.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = out(&o);
    let row = |score: &str, rating: &str| -> f64 {
        let line = table
            .lines()
            .find(|l| l.split_whitespace().take(2).eq([score, rating]))
            .unwrap_or_else(|| panic!("no {score} {rating} row in\n{table}"));
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    };
    assert!(row("outcome", "S") > 0.9, "{table}");
    assert!(
        row("outcome", "QA") < -0.9,
        "a grade where lower is better: {table}"
    );
    assert!(
        table.contains("kendall") && table.contains("worst found"),
        "{table}"
    );
    assert_eq!(std::fs::read_to_string(&saved).unwrap().lines().count(), 6);
    // A line without grades names its file and line.
    let file = write(
        &dir,
        "ungraded.jsonl",
        &format!(
            "{}\n{}",
            text.lines().next().unwrap(),
            r#"{"id":"x","turns":[]}"#
        ),
    );
    let o = audit(&["--eval", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ungraded.jsonl:2:") && err.contains("rating"),
        "{err}"
    );
}
