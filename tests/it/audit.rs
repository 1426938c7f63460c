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
            c1["score"].as_f64(),
            c1["greeting"].as_bool(),
            c1["farewell"].as_bool()
        ),
        (Some(100.0), Some(true), Some(true))
    );
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
    assert_eq!(ids, ["c1", "c2", "c3", "c4", "c5"]);
    let o = audit(&[fixture().to_str().unwrap(), "--format", "csv"]);
    let csv = out(&o);
    assert!(csv.starts_with("id,agent,score,"), "{csv}");
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
        "Score distribution per agent",
        "Deductions by rule",
        "busy vs idle",
        "blunt-language",
        "c2",
    ] {
        assert!(html.contains(needed), "{needed} missing from the report");
    }
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "nothing is fetched from the network"
    );
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
