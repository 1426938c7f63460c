//! The real `kefu` binary: output, exit status and errors as a user sees them.

use std::process::Output;

fn kefu(args: &[&str]) -> Output {
    kefu_in(args, None, std::env::temp_dir().as_path())
}

fn kefu_in(args: &[&str], stdin: Option<&[u8]>, dir: &std::path::Path) -> Output {
    crate::bin::run(dir, args, stdin.unwrap_or_default())
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

use crate::scratch::work_dir;

#[test]
fn text_output_underlines_the_flagged_text() {
    let o = kefu(&["lint", "你好，把订单号发过来"]);
    let out = stdout(&o);
    assert!(
        out.contains("warning[informal-address]: 称呼客户请用“您”"),
        "{out}"
    );
    assert!(out.contains("1 | 你好，把订单号发过来"), "{out}");
    // 你 is two columns wide: two carets under it.
    assert!(out.contains("  | ^^\n"), "{out}");
    assert!(out.contains("= fix: 您"), "{out}");
    assert!(out.contains("fixed: 您好，请把订单号发过来"), "{out}");
    assert_eq!(
        o.status.code(),
        Some(0),
        "only warnings: exit 0 with --fail-on error"
    );
}

#[test]
fn a_failing_draft_is_not_presented_as_fixed() {
    for (draft, kept) in [
        ("你以为你是谁！", "您以为您是谁！"),
        ("妳以為妳是誰！", "您以為您是誰！"),
        ("我没时间和你废话", "我没时间和您废话"),
    ] {
        let o = kefu(&["lint", draft]);
        let out = stdout(&o);
        assert!(
            out.contains("(fails: the pass mark is 80)"),
            "{draft}: {out}"
        );
        assert!(
            out.contains(&format!(
                "safe fixes applied, 1 problem(s) left to rewrite by hand: {kept}"
            )),
            "{draft}: {out}"
        );
        assert!(!out.contains("fixed:"), "{draft}: {out}");
        assert_eq!(o.status.code(), Some(1), "an error-level finding: {out}");
    }
    // One stretch is one problem: 没办法 inside 我们也没办法 is not counted twice.
    let o = kefu(&["lint", "--format", "json", "我们也没办法"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["score"], 75, "{v}");
}

#[test]
fn exit_status_follows_fail_on() {
    assert_eq!(kefu(&["lint", "爱买不买"]).status.code(), Some(1));
    assert_eq!(
        kefu(&["lint", "--fail-on", "never", "爱买不买"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        kefu(&["lint", "--fail-on", "warning", "你好"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        kefu(&["lint", "您好，请问有什么可以帮您？"]).status.code(),
        Some(0)
    );
    assert_eq!(kefu(&["lint", "--no-such-flag"]).status.code(), Some(2));
}

#[test]
fn json_output_is_one_result_object() {
    let o = kefu(&["lint", "--format", "json", "😀你好"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"][0]["utf16"]["start"], 2);
    assert_eq!(v["fixed"], "😀您好");
}

#[test]
fn fix_prints_the_fixed_draft() {
    let o = kefu(&["lint", "--fix", "妳好，填寫退貨單號"]);
    assert_eq!(stdout(&o), "您好，請填寫退貨單號\n");
}

#[test]
fn role_and_customer_enable_context_rules() {
    let o = kefu(&[
        "lint",
        "--format",
        "json",
        "--role",
        "closing",
        "已经为您登记了。",
    ]);
    assert!(stdout(&o).contains("missing-farewell"));
    let o = kefu(&[
        "lint",
        "--format",
        "json",
        "--customer",
        "东西坏了，太差了",
        "我们查一下",
    ]);
    assert!(stdout(&o).contains("missing-apology"));
}

#[test]
fn jsonl_reports_bad_lines_and_lints_the_rest() {
    let input = "{\"text\":\"你好\"}\nnot json\n\n{\"text\":\"已登记\",\"role\":\"closing\"}\n{\"txt\":\"x\"}\n{\"text\":\"好的\",\"role\":\"boss\"}\n";
    let o = kefu_in(
        &["lint", "--jsonl"],
        Some(input.as_bytes()),
        &std::env::temp_dir(),
    );
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        5,
        "blank line skipped, every other line answered"
    );
    assert_eq!(lines[0]["fixed"], "您好");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["error"]["code"], "bad_request");
    assert!(
        lines[2]["findings"]
            .to_string()
            .contains("missing-farewell")
    );
    assert_eq!(lines[3]["line"], 5);
    assert!(
        lines[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("txt"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4]["line"], 6);
    assert_eq!(o.status.code(), Some(1), "bad lines make the run fail");
}

#[test]
fn invalid_utf8_is_a_clear_error() {
    let dir = work_dir("utf8");
    let file = dir.join("draft.txt");
    std::fs::write(&file, b"\xe4\xbd\xa0\xe5\xa5\xbd\n\xff\xfe").unwrap();
    let o = kefu(&["lint", "--file", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("draft.txt:2: not valid UTF-8"),
        "{}",
        stderr(&o)
    );
    let jsonl = dir.join("drafts.jsonl");
    std::fs::write(&jsonl, b"{\"text\":\"\xff\"}\n{\"text\":\"ok\"}\n").unwrap();
    let o = kefu(&["lint", "--jsonl", jsonl.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("drafts.jsonl:1: not valid UTF-8"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 2);
    let o = kefu(&["lint", "--file", dir.join("missing.txt").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.txt"), "{}", stderr(&o));
}

#[test]
fn stdin_draft() {
    let o = kefu_in(
        &["lint", "--fix"],
        Some("你好".as_bytes()),
        &std::env::temp_dir(),
    );
    assert_eq!(stdout(&o), "您好\n");
    // `-` names stdin, as a draft or as --file, rather than being the draft.
    for args in [&["lint", "-"][..], &["lint", "--file", "-"]] {
        let o = kefu_in(
            args,
            Some("你這樣說我也沒辦法🙄".as_bytes()),
            &std::env::temp_dir(),
        );
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stdout(&o));
        assert!(stdout(&o).contains("error[shirking]"), "{}", stdout(&o));
    }
    // Bytes that are not UTF-8 are refused at their line.
    let o = kefu_in(
        &["lint", "-"],
        Some(b"\xe4\xbd\xa0\xe5\xa5\xbd\n\xff"),
        &std::env::temp_dir(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("<stdin>:2: not valid UTF-8"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn rules_and_explain() {
    let out = stdout(&kefu(&["rules"]));
    for id in [
        "informal-address",
        "missing-please",
        "missing-farewell",
        "blunt-language",
        "shirking",
        "blaming-customer",
        "imperative-tone",
        "rhetorical-question",
        "emotional-tone",
        "over-promise",
        "missing-deadline",
        "missing-apology",
        "curt-reply",
        "bare-refusal",
    ] {
        assert!(out.contains(id), "{id} missing from `kefu rules`");
    }
    let out = stdout(&kefu(&["explain", "shirking"]));
    for section in [
        "## What it flags",
        "## Why it hurts the customer",
        "## Example",
        "✗ ",
        "✓ ",
        "## Use instead",
    ] {
        assert!(out.contains(section), "{section} missing:\n{out}");
    }
    assert!(stdout(&kefu(&["explain", "KF201"])).starts_with("blunt-language"));
    let o = kefu(&["explain", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown rule `no-such-rule`"));
}

#[test]
fn config_file_in_the_working_directory() {
    let dir = work_dir("config");
    std::fs::write(
        dir.join("kefu.toml"),
        "[rules.blunt-language]\nenabled = false\n",
    )
    .unwrap();
    let o = kefu_in(&["lint", "--format", "json", "爱买不买"], None, &dir);
    assert!(!stdout(&o).contains("blunt-language"), "{}", stdout(&o));
    assert!(stdout(&kefu_in(&["rules"], None, &dir)).contains("blunt-language       KF201  off"));
    std::fs::write(
        dir.join("bad.toml"),
        "# shop rules\n[rules.blunt]\nenabled = false\n",
    )
    .unwrap();
    let o = kefu_in(&["lint", "--config", "bad.toml", "你好"], None, &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.toml:2: unknown rule `blunt`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn readme_rule_table_is_generated_from_the_rule_docs() {
    let table = stdout(&kefu(&["rules", "--markdown"]));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&table),
        "README's rule table is stale: paste `kefu rules --markdown`"
    );
}

/// A reader that stops early (`kefu … | head -1`) ends kefu quietly with success, whether the
/// output went through stdout's JSON lines, a rendered report or a table, and with stderr
/// closed too (`2>&1 | head -1`).
#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = work_dir("closed-pipe");
    let many = dir.join("many.jsonl");
    let line = "{\"text\":\"你好，把订单号发过来\"}\n";
    // Far more output than a pipe holds (64 KiB), so writing must meet the closed pipe.
    std::fs::write(&many, line.repeat(2_000)).unwrap();
    let many = many.to_str().unwrap().to_owned();
    for args in [
        vec!["lint", "--jsonl", many.as_str()],
        vec!["rules"],
        vec!["kb", "phrases"],
    ] {
        for stderr_too in [false, true] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_kefu"))
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let mut first = String::new();
            BufReader::new(stdout).read_line(&mut first).unwrap();
            // The reader is gone; with stderr_too, stderr is closed as well.
            if stderr_too {
                drop(child.stderr.take());
            }
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!first.is_empty(), "{args:?}: nothing written");
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?} (stderr closed: {stderr_too}): {err}"
            );
            assert!(
                !err.contains("panicked") && !err.contains("Broken pipe"),
                "{args:?}: {err}"
            );
        }
    }
}

/// A knowledge base saved by Excel on Chinese Windows (GBK) is refused at its line with what to
/// do about it; bytes that are no known encoding get the plain error.
#[test]
fn a_gbk_csv_says_how_to_save_it_as_utf8() {
    let dir = work_dir("gbk-csv");
    // "id,question,answer / q1,怎么退货？,您好，请申请退货。" in GBK.
    let mut gbk = b"id,question,answer\nq1,".to_vec();
    gbk.extend_from_slice(&[
        0xd4, 0xf5, 0xc3, 0xb4, 0xcd, 0xcb, 0xbb, 0xf5, 0xa3, 0xbf, b',', 0xc4, 0xfa, 0xba, 0xc3,
        0xa3, 0xac, 0xc7, 0xeb, 0xc9, 0xea, 0xc7, 0xeb, 0xcd, 0xcb, 0xbb, 0xf5, 0xa1, 0xa3, b'\n',
    ]);
    let file = dir.join("kb.csv");
    std::fs::write(&file, gbk).unwrap();
    let o = kefu(&["kb", "check", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("kb.csv:2: not valid UTF-8; it reads as GBK"),
        "{err}"
    );
    assert!(
        err.contains("CSV UTF-8") && err.contains("iconv -f GB18030"),
        "{err}"
    );
    std::fs::write(&file, b"id,question,answer\n\xff\xfe\x00\x01\n").unwrap();
    let err = stderr(&kefu(&["kb", "check", file.to_str().unwrap()]));
    assert!(
        err.contains("kb.csv:2: not valid UTF-8") && !err.contains("GBK"),
        "{err}"
    );
}

/// A CSV row whose quote is never closed is reported at its line, and the rows it would have
/// swallowed are still read (no silent loss); quoted cells over two lines and stray quotes in
/// unquoted cells load.
#[test]
fn a_broken_csv_quote_loses_no_row() {
    let dir = work_dir("broken-quote");
    let file = dir.join("kb.csv");
    std::fs::write(
        &file,
        "id,question,answer,category\n\
         q1,怎么退货,\"您好，请在订单页申请退货,售后\n\
         q2,怎么换货,您好，请申请换货,售后\n\
         q3,屏幕多大,\"6.1\"\" 屏幕，\n轻薄\",商品\n\
         q4,12\"屏幕有吗,有的,商品\n",
    )
    .unwrap();
    let o = kefu(&["kb", "check", file.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(
        out.contains("kb.csv:2: a quote `\"` opened on this line is not closed on it"),
        "{out}"
    );
    assert!(out.ends_with("3 entries, 1 problem(s)\n"), "{out}");
}

/// An input that never ends a line (`/dev/zero`) or never ends at all is refused with the file
/// and line named, in bounded memory, instead of being read until the machine runs out.
#[test]
fn endless_inputs_are_refused_with_their_place() {
    for (args, said) in [
        (
            &["lint", "--jsonl", "/dev/zero"][..],
            "/dev/zero:1: a line longer than 16 MiB",
        ),
        (
            &["suggest", "--jsonl", "/dev/zero"][..],
            "/dev/zero:1: a line longer than 16 MiB",
        ),
        (
            &["audit", "/dev/zero"][..],
            "/dev/zero:1: a line longer than 16 MiB",
        ),
        (
            &["lint", "--file", "/dev/zero"][..],
            "/dev/zero: larger than 64 MiB",
        ),
        (
            &["kb", "import", "/dev/zero", "--index", "zero-index"][..],
            "larger than 512 MiB",
        ),
    ] {
        let o = kefu(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(said), "{args:?}: {}", stderr(&o));
    }
    // Lines after a long one that is still under the cap are read as usual.
    let dir = work_dir("longline");
    let mut input = format!("{{\"text\":\"{}\"}}\n", "请稍等".repeat(100_000)).into_bytes();
    input.extend_from_slice("{\"text\":\"你好\"}\n".as_bytes());
    let o = kefu_in(&["lint", "--jsonl", "-"], Some(&input), &dir);
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stderr(&o));
}

/// `kefu lint` judges meaning with the model the build fetched: a put-down no pattern lists is
/// flagged `rude-tone` (a warning, no fix), a polite draft is not, and the rule turns off in
/// the shop's config and with `KEFU_MODEL=off`.
#[test]
fn lint_judges_the_meaning_of_what_patterns_miss() {
    let dir = work_dir("meaning");
    let rude = "您好，已经为您查询。你这点常识都没有还来办业务？";
    let o = kefu_in(&["lint", "--format", "json", rude], None, &dir);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let found: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "rude-tone")
        .collect();
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0]["text"], "你这点常识都没有还来办业务？");
    assert_eq!(found[0]["severity"], "warning");
    assert!(found[0]["fix"].is_null());
    assert_eq!(v["remaining"].as_u64(), Some(1), "{v}");
    // Traditional, in a JSONL batch with a polite draft beside it.
    let o = kefu_in(
        &["lint", "--jsonl", "-"],
        Some("{\"text\":\"這種事也好意思來問\"}\n{\"text\":\"感謝您的耐心等待，已經為您處理好了。\"}\n".as_bytes()),
        &dir,
    );
    let lines: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert!(lines[0].contains("\"rude-tone\""), "{}", lines[0]);
    assert!(!lines[1].contains("\"rude-tone\""), "{}", lines[1]);
    // Off in the shop's config, and without the model.
    std::fs::write(
        dir.join("kefu.toml"),
        "[rules.rude-tone]\nenabled = false\n",
    )
    .unwrap();
    let o = kefu_in(&["lint", "--format", "json", rude], None, &dir);
    assert!(!stdout(&o).contains("rude-tone"), "{}", stdout(&o));
    std::fs::remove_file(dir.join("kefu.toml")).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["lint", "--format", "json", rude])
        .current_dir(&dir)
        .env("KEFU_MODEL", "off")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&o.stdout).contains("rude-tone"));
}
