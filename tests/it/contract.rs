//! The lint result's JSON shape and offsets: the contract the CLI, HTTP API and browser share.

use kefu::{LintRequest, Linter, Role};
use serde_json::Value;

fn linter() -> &'static Linter {
    static L: std::sync::OnceLock<Linter> = std::sync::OnceLock::new();
    L.get_or_init(|| Linter::with_defaults().unwrap())
}

fn json(text: &str) -> Value {
    serde_json::to_value(linter().lint(&LintRequest::new(text))).unwrap()
}

/// Every finding's byte, char and UTF-16 ranges slice the input to its `text`.
fn assert_offsets(input: &str, v: &Value) {
    let units: Vec<u16> = input.encode_utf16().collect();
    let chars: Vec<char> = input.chars().collect();
    for f in v["findings"].as_array().unwrap() {
        let text = f["text"].as_str().unwrap();
        let n = |k: &str, e: &str| f[k][e].as_u64().unwrap() as usize;
        assert_eq!(&input[n("span", "start")..n("span", "end")], text);
        assert_eq!(
            chars[n("chars", "start")..n("chars", "end")]
                .iter()
                .collect::<String>(),
            text
        );
        assert_eq!(
            String::from_utf16(&units[n("utf16", "start")..n("utf16", "end")]).unwrap(),
            text
        );
    }
}

#[test]
fn result_has_the_documented_shape() {
    let v = json("你好，把订单号发过来");
    assert!(v["score"].as_u64().unwrap() <= 100);
    assert_eq!(v["fixed"], "您好，请把订单号发过来");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["informal-address", "missing-please"]);
    let informal = &v["findings"][0];
    assert_eq!(informal["severity"], "warning");
    assert_eq!(informal["message"], "称呼客户请用“您”");
    assert_eq!(informal["text"], "你");
    assert_eq!(informal["span"], serde_json::json!({"start": 0, "end": 3}));
    assert_eq!(informal["chars"], serde_json::json!({"start": 0, "end": 1}));
    assert_eq!(informal["utf16"], serde_json::json!({"start": 0, "end": 1}));
    assert_eq!(
        informal["fix"],
        serde_json::json!({"replacement": "您", "safe": true})
    );
    assert!(informal["suggestions"].is_array());
}

#[test]
fn offsets_after_emoji_and_in_traditional_text() {
    for input in [
        "😀😀你好，把订单号发过来🙏",
        "親，妳的訂單已發貨，不知道的話自己看吧！！",
        "👨‍👩‍👧 你必须今天付款，呵呵",
        "第一行没问题\n第二行：你去找快递吧",
    ] {
        let v = json(input);
        assert!(!v["findings"].as_array().unwrap().is_empty(), "{input}");
        assert_offsets(input, &v);
    }
    let v = json("😀你好");
    let f = &v["findings"][0];
    assert_eq!(
        (f["chars"]["start"].as_u64(), f["utf16"]["start"].as_u64()),
        (Some(1), Some(2))
    );
}

#[test]
fn empty_and_blank_drafts_are_clean() {
    for input in ["", "   ", "\n\t", "　"] {
        let r = linter().lint(&LintRequest::new(input));
        assert_eq!(r.score, 100, "{input:?}");
        assert!(r.findings.is_empty());
        assert_eq!(r.fixed, input);
    }
}

#[test]
fn a_polite_reply_scores_100() {
    let r = linter().lint(&LintRequest::new(
        "您好，请稍等，我马上为您查询订单，谢谢您的耐心！",
    ));
    assert_eq!(r.score, 100, "{:?}", r.findings);
}

#[test]
fn score_falls_with_severity() {
    let mild = linter().lint(&LintRequest::new("你好"));
    let harsh = linter().lint(&LintRequest::new("爱买不买，关我什么事"));
    assert!(
        mild.score > harsh.score,
        "{} vs {}",
        mild.score,
        harsh.score
    );
    assert_eq!(harsh.score, 50);
}

#[test]
fn context_rules_need_their_context() {
    let text = "已经帮您催了";
    let plain = linter().lint(&LintRequest::new(text));
    assert!(plain.findings.iter().all(|f| f.rule != "missing-apology"));
    let complaint = linter().lint(&LintRequest {
        text,
        role: Role::Reply,
        customer: Some("怎么还没发货，太慢了"),
        skip_meaning: false,
    });
    assert!(
        complaint
            .findings
            .iter()
            .any(|f| f.rule == "missing-apology")
    );
}

#[test]
fn a_very_long_draft_is_linted_whole() {
    let text = "您好，请稍等。".repeat(2000) + "你必须今天付款";
    let r = linter().lint(&LintRequest::new(&text));
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "imperative-tone")
        .unwrap();
    assert_eq!(f.span.start, text.len() - "你必须今天付款".len());
}

#[test]
fn shop_config_changes_rules() {
    let config = kefu::Config::parse(
        "kefu.toml",
        "allow = [\"你的衣橱\"]\n[rules.over-promise]\nenabled = false\n[rules.blunt-language]\nseverity = \"info\"\nwords = [\"爱要不要 => 您可以再考虑一下\", \"看着给\"]\n",
    )
    .unwrap();
    let shop = Linter::new(&config).unwrap();
    let r = shop.lint(&LintRequest::new("欢迎光临你的衣橱，保证正品，看着给吧"));
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule).collect();
    assert!(
        !rules.contains(&"informal-address"),
        "allow-listed brand: {rules:?}"
    );
    assert!(!rules.contains(&"over-promise"), "switched off: {rules:?}");
    let added = r
        .findings
        .iter()
        .find(|f| f.text == "看着给")
        .expect("shop word flagged");
    assert_eq!(added.severity, kefu::Severity::Info);
}
