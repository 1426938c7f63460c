//! The HTTP service: every route and error status through `router(state)` in-process, and the
//! real binary on a free loopback port.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kefu::Linter;
use kefu::server::{AppState, Settings, router};
use kefu::suggest::Suggester;
use serde_json::{Value, json};
use tower::ServiceExt;

fn state() -> AppState {
    static S: OnceLock<AppState> = OnceLock::new();
    S.get_or_init(|| {
        let settings = Settings {
            max_batch: 3,
            cors_origins: vec!["chrome-extension://kefu".to_owned()],
            ..Settings::default()
        };
        AppState::new(
            Linter::with_defaults().unwrap(),
            Suggester::with_defaults().unwrap(),
            settings,
        )
    })
    .clone()
}

async fn call(
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    send_to(state(), req.body(body.into()).unwrap()).await
}

/// Sends a request through `router(state)`; the body as JSON, or as a string when it isn't.
async fn send_to(state: AppState, req: Request<Body>) -> (StatusCode, Value) {
    let resp = router(state).oneshot(req).await.unwrap();
    let status = resp.status();
    assert!(
        resp.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

async fn post(uri: &str, body: Value) -> (StatusCode, Value) {
    call("POST", uri, Some("application/json"), body.to_string()).await
}

#[tokio::test]
async fn lint_returns_the_result_contract() {
    let (status, v) = post("/v1/lint", json!({"text": "😀你好，把订单号发过来"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["fixed"], "😀您好，请把订单号发过来");
    assert_eq!(v["findings"][0]["utf16"], json!({"start": 2, "end": 3}));
    let (_, v) = post("/v1/lint", json!({"text": "已登记", "role": "closing"})).await;
    assert!(v["findings"].to_string().contains("missing-farewell"));
    let (_, v) = post(
        "/v1/lint",
        json!({"text": "我们查一下", "customer": "東西壞了"}),
    )
    .await;
    assert!(v["findings"].to_string().contains("missing-apology"));
    let (status, v) = post("/v1/lint", json!({"text": ""})).await;
    assert_eq!((status, v["score"].clone()), (StatusCode::OK, json!(100)));
    assert_eq!(
        (v["passed"].clone(), v["remaining"].clone()),
        (json!(true), json!(0))
    );
}

#[tokio::test]
async fn a_rude_draft_fails_and_its_safe_fixes_leave_problems() {
    // The safe fixes only turn 你 into 您: the insult stays, and the answer says so.
    let (status, v) = post("/v1/lint", json!({"text": "你以为你是谁！"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["passed"], json!(false), "{v}");
    assert!(
        v["score"].as_u64().unwrap() < u64::from(kefu::PASS_MARK),
        "{v}"
    );
    assert_eq!(v["fixed"], "您以为您是谁！");
    assert_eq!(v["remaining"], json!(1), "{v}");
    // A polite draft whose safe fixes resolve everything passes and has nothing left.
    let (_, v) = post("/v1/lint", json!({"text": "你好，请稍等"})).await;
    assert_eq!(
        (v["passed"].clone(), v["remaining"].clone()),
        (json!(true), json!(0)),
        "{v}"
    );
    // A closing bare refusal gets no farewell appended to it.
    let (_, v) = post("/v1/lint", json!({"text": "不能退", "role": "closing"})).await;
    assert_eq!(v["fixed"], "不能退", "{v}");
    assert_eq!(v["passed"], json!(false), "{v}");
}

#[tokio::test]
async fn batch_answers_in_order_up_to_its_limit() {
    let (status, v) = post(
        "/v1/lint/batch",
        json!({"items": [{"text": "你好"}, {"text": "您好"}, {"text": "爱买不买"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0]["fixed"], "您好");
    assert_eq!(r[1]["findings"], json!([]));
    assert_eq!(r[2]["findings"][0]["rule"], "blunt-language");
    let (status, v) = post(
        "/v1/lint/batch",
        json!({"items": [{"text": "1"}, {"text": "2"}, {"text": "3"}, {"text": "4"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 3")
    );
}

#[tokio::test]
async fn suggest_answers_and_validates() {
    let (status, v) = post(
        "/v1/suggest",
        json!({"question": "親，運費險怎麼用？", "k": 2, "vars": {"name": "张先生"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["answered"], true);
    assert_eq!(v["suggestions"][0]["id"], "return-insurance");
    assert_eq!(v["suggestions"].as_array().unwrap().len(), 2);
    assert_eq!(v["suggestions"][0]["lint"]["score"], 100);
    for (body, want) in [
        (json!({"question": "运费险", "k": 0}), "`k`"),
        (json!({"question": "运费险", "k": 51}), "`k`"),
        (json!({"question": "  "}), "`question` is empty"),
    ] {
        let (status, v) = post("/v1/suggest", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            v["error"]["message"].as_str().unwrap().contains(want),
            "{v}"
        );
    }
}

#[tokio::test]
async fn analyze_shows_how_a_question_is_searched() {
    let (status, v) = post("/v1/suggest/analyze", json!({"question": "親，我想退錢🙂"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["normalized"], "亲,我想退钱🙂");
    let words = v["words"].as_array().unwrap();
    let refund = words.iter().find(|w| w["written"] == "退钱").unwrap();
    assert_eq!(refund["searched_as"], "退款");
    assert_eq!(refund["filler"], false);
    assert!(refund["questions"].as_u64().unwrap() > 1, "{v}");
    assert!(
        words
            .iter()
            .any(|w| w["written"] == "亲" && w["filler"] == true),
        "{v}"
    );
    assert!(!v["bigrams"].as_array().unwrap().is_empty());
    let (status, v) = post("/v1/suggest/analyze", json!({"question": " "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`question` is empty")
    );
    let (status, v) = post("/v1/suggest/analyze", json!({"text": "退钱"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("text"),
        "{v}"
    );
}

#[tokio::test]
async fn phrases_fill_a_quick_reply_panel() {
    let (status, all) = call("GET", "/v1/phrases", None, "").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let scenes = all["scenes"].as_array().unwrap();
    let listed: u64 = scenes.iter().map(|s| s["phrases"].as_u64().unwrap()).sum();
    assert_eq!(listed as usize, all["phrases"].as_array().unwrap().len());
    assert!(scenes.iter().any(|s| s["scene"] == "greeting"), "{all}");
    // Every shipped phrase is polite; the one with a courier and a tracking number says so.
    for p in all["phrases"].as_array().unwrap() {
        assert_eq!(p["lint"]["findings"], json!([]), "{p}");
    }
    assert!(
        all["phrases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["vars"].as_array().is_some_and(|v| !v.is_empty())),
        "{all}"
    );
    // One scene, named in any letter case; the scenes are listed all the same.
    let (status, closing) = call("GET", "/v1/phrases?scene=Closing", None, "").await;
    assert_eq!(status, StatusCode::OK, "{closing}");
    assert_eq!(closing["scenes"], all["scenes"]);
    let phrases = closing["phrases"].as_array().unwrap();
    assert!(!phrases.is_empty());
    for p in phrases {
        assert_eq!(p["scene"], "closing", "{p}");
        assert!(p["text"].as_str().unwrap().contains("再见"), "{p}");
    }
    // The label a panel shows (问候) names the scene as well as its id.
    let (status, by_label) = call("GET", "/v1/phrases?scene=%E9%97%AE%E5%80%99", None, "").await;
    assert_eq!(status, StatusCode::OK, "{by_label}");
    let greeting = by_label["phrases"].as_array().unwrap();
    assert!(
        !greeting.is_empty() && greeting.iter().all(|p| p["scene"] == "greeting"),
        "{by_label}"
    );
    assert!(
        all["scenes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["label"] == "问候"),
        "{all}"
    );
    // A scene the library lacks (告别) is a 404 naming the scenes it has, ids and labels.
    let (status, none) = call("GET", "/v1/phrases?scene=%E5%91%8A%E5%88%AB", None, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
    let message = none["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`告别`") && message.contains("greeting (问候)"),
        "{none}"
    );
    let (status, v) = call("GET", "/v1/phrases?scene=a&scene=b", None, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("scene"),
        "{v}"
    );
    let (status, _) = call("POST", "/v1/phrases", Some("application/json"), "{}").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let (s, v) = call("POST", "/v1/lint", Some("application/json"), "{bad json").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (s, v) = post("/v1/lint", json!({"txt": "你好"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("txt"),
        "names the field: {v}"
    );
    // A body with a UTF-8 byte order mark (as Windows tools save one) is read without it.
    let (s, v) = call(
        "POST",
        "/v1/lint",
        Some("application/json"),
        "\u{feff}{\"text\":\"你好\"}",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["fixed"], "您好", "{v}");
    // A mistyped field or a body of the wrong shape is said in words, not serde's.
    let (s, v) = post("/v1/suggest", json!({"question": "x", "k": "3"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"]["message"], r#"`k` must be a number, not the string "3""#,
        "{v}"
    );
    let (s, v) = post("/v1/lint", json!(["你好"])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("the body must be a JSON object"), "{v}");
    assert!(!message.contains("LintBody"), "no type names: {v}");
    let (s, v) = post("/v1/lint", json!({"role": "closing"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("text"),
        "names the missing field: {v}"
    );
    let (s, v) = call(
        "POST",
        "/v1/lint",
        Some("text/plain"),
        "{\"text\":\"你好\"}",
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let big = json!({"text": "好".repeat(30_000)}).to_string();
    let (s, v) = call("POST", "/v1/lint", Some("application/json"), big).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 64 KiB (65536 bytes)"),
        "the 413 says the route's limit: {v}"
    );
    // Routes that read raw bodies answer the same JSON, with their own limit.
    let (s, v) = call(
        "POST",
        "/v1/audit",
        Some("application/x-ndjson"),
        "a".repeat(9 * 1024 * 1024),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("8 MiB"),
        "{v}"
    );
    let (s, v) = call("GET", "/v1/lint", None, Body::empty()).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    let (s, v) = call("GET", "/v2/nothing", None, Body::empty()).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = call(
        "POST",
        "/v1/lint",
        Some("application/json"),
        vec![0xff, 0xfe],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let (s, v) = call("GET", "/healthz", None, Body::empty()).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (_, v) = call("GET", "/readyz", None, Body::empty()).await;
    assert_eq!(v["rules"], 15);
    assert!(v["kb_documents"].as_u64().unwrap() > 500);
    post("/v1/lint", json!({"text": "你好"})).await;
    let (_, text) = call("GET", "/metrics", None, Body::empty()).await;
    let text = text.as_str().unwrap().to_owned();
    assert!(
        text.contains("kefu_requests_total{route=\"/v1/lint\"}"),
        "{text}"
    );
    assert!(text.contains("kefu_request_duration_seconds_bucket{route=\"/v1/lint\",le=\"+Inf\"}"));
    assert!(text.contains("kefu_kb_documents "));
    assert!(
        !text.contains("kefu_gaps_"),
        "this service records no gaps: {text}"
    );
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/lint")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap()
    };
    let ok = router(state())
        .oneshot(preflight("chrome-extension://kefu"))
        .await
        .unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "chrome-extension://kefu"
    );
    let other = router(state())
        .oneshot(preflight("https://evil.example"))
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The real binary: starts on a free port, answers over a socket, stops cleanly on SIGTERM.
#[test]
fn the_binary_serves_on_a_real_socket() {
    let (child, addr) = serve(|_| {});
    let body = "{\"text\":\"妳好，填寫退貨單號\"}";
    let resp = http(
        &addr,
        &format!(
            "POST /v1/lint HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("您好，請填寫退貨單號"), "{resp}");
    let resp = http(
        &addr,
        &format!("GET /nope HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    assert!(
        resp.starts_with("HTTP/1.1 404") && resp.contains("\"not_found\""),
        "{resp}"
    );
    stop(child);
}

/// A supervisor may signal as soon as it reads the ready line: SIGHUP then reloads (the service
/// keeps answering) and SIGTERM stops it gracefully, never the signals' default kill.
#[test]
fn signals_sent_with_the_ready_line_are_handled() {
    // The window was a few microseconds wide: several rounds make a regression show.
    for round in 0..10 {
        let (child, addr) = serve(|_| {});
        if round % 3 == 0 {
            signal(&child, "-HUP");
            let resp = http(
                &addr,
                &format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
            );
            assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        }
        stop(child);
    }
}

async fn form(body: &str) -> (StatusCode, Value) {
    call(
        "POST",
        "/v2/check",
        Some("application/x-www-form-urlencoded"),
        body.to_owned(),
    )
    .await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn languagetool_check_answers_in_utf16() {
    let text = "😀你好，把订单号发过来";
    let (status, v) = form(&format!("language=zh-CN&text={}", urlencode(text))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["language"]["code"], "zh-CN");
    let m = &v["matches"][0];
    assert_eq!(
        (m["offset"].as_u64(), m["length"].as_u64()),
        (Some(2), Some(1)),
        "after an emoji: {m}"
    );
    assert_eq!(m["rule"]["id"], "informal-address");
    assert_eq!(m["rule"]["category"]["name"], "三要");
    assert_eq!(m["replacements"][0]["value"], "您");
    let ctx = &m["context"];
    let units: Vec<u16> = ctx["text"].as_str().unwrap().encode_utf16().collect();
    let (o, l) = (
        ctx["offset"].as_u64().unwrap() as usize,
        ctx["length"].as_u64().unwrap() as usize,
    );
    assert_eq!(String::from_utf16(&units[o..o + l]).unwrap(), "你");
}

#[tokio::test]
async fn languagetool_rule_filters_annotations_and_errors() {
    let text = urlencode("你好，爱买不买");
    let (_, v) = form(&format!(
        "language=auto&text={text}&disabledRules=informal-address"
    ))
    .await;
    let rules: Vec<&str> = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["rule"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["blunt-language"]);
    let (_, v) = form(&format!(
        "language=auto&text={text}&enabledRules=informal-address&enabledOnly=true"
    ))
    .await;
    assert_eq!(v["matches"].as_array().unwrap().len(), 1);
    // Markup is skipped; offsets count it, as LanguageTool's do.
    let data =
        r#"{"annotation":[{"markup":"<p>"},{"text":"你好"},{"markup":"</p>","interpretAs":"\n"}]}"#;
    let (status, v) = form(&format!("language=zh-CN&data={}", urlencode(data))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["matches"][0]["offset"], 3);
    let (s, _) = form("language=de-DE&text=Hallo").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // An empty language is refused (as LanguageTool does) rather than taken for auto.
    let (s, v) = form(&format!("language=&text={text}")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`language` is empty"),
        "{v}"
    );
    let (s, _) = form(&format!("text={text}")).await;
    assert_eq!(s, StatusCode::OK, "no language at all is auto");
    let (s, _) = form("language=zh-CN").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = form(&format!("text={text}&disabledRules=no-such-rule")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = call("POST", "/v2/check", Some("application/json"), "{}").await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, v) = call("GET", "/v2/languages", None, Body::empty()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|l| l["longCode"] == "zh-CN")
    );
}

#[tokio::test]
async fn reload_swaps_rules_and_keeps_the_old_set_on_a_broken_file() {
    let dir = crate::scratch::work_dir("reload");
    let config = dir.join("kefu.toml");
    std::fs::write(&config, "").unwrap();
    let source = config.clone();
    let loader = std::sync::Arc::new(move || -> Result<kefu::server::Engine, kefu::Error> {
        let linter = Linter::new(&kefu::Config::load(&source)?)?;
        Ok(kefu::server::Engine::new(
            linter,
            Suggester::with_defaults()?,
        ))
    });
    let settings = Settings {
        admin_token: Some("s3cret".to_owned()),
        ..Settings::default()
    };
    let state = AppState::new(
        Linter::with_defaults().unwrap(),
        Suggester::with_defaults().unwrap(),
        settings,
    )
    .with_loader(loader);
    let send = |req: Request<Body>| send_to(state.clone(), req);
    let reload = |token: Option<&str>| {
        let mut r = Request::builder().method("POST").uri("/v1/admin/reload");
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.body(Body::empty()).unwrap()
    };
    let lint = || {
        Request::builder()
            .method("POST")
            .uri("/v1/lint")
            .header("content-type", "application/json")
            .body(Body::from(json!({"text": "爱买不买"}).to_string()))
            .unwrap()
    };
    assert_eq!(send(reload(None)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(reload(Some("wrong"))).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, v) = send(lint()).await;
    assert_eq!(v["findings"][0]["rule"], "blunt-language");
    std::fs::write(&config, "[rules.blunt-language]\nenabled = false\n").unwrap();
    let (status, v) = send(reload(Some("s3cret"))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(send(lint()).await.1["findings"], json!([]));
    std::fs::write(&config, "[rules.no-such-rule]\nenabled = false\n").unwrap();
    let (status, v) = send(reload(Some("s3cret"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("kefu.toml:1"),
        "{v}"
    );
    assert_eq!(
        send(lint()).await.1["findings"],
        json!([]),
        "the old set keeps serving"
    );
}

#[tokio::test]
async fn admin_routes_are_refused_without_a_configured_token() {
    let (status, v) = call("POST", "/v1/admin/reload", None, Body::empty()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("KEFU_ADMIN_TOKEN")
    );
}

/// SIGHUP makes the running binary reload its config file.
#[test]
fn sighup_reloads_the_config() {
    let dir = crate::scratch::work_dir("hup");
    std::fs::write(dir.join("kefu.toml"), "").unwrap();
    let (child, addr) = serve(|cmd| {
        cmd.current_dir(&dir);
    });
    let lint = || {
        let body = "{\"text\":\"爱买不买\"}";
        http(
            &addr,
            &format!(
                "POST /v1/lint HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    assert!(lint().contains("blunt-language"));
    std::fs::write(
        dir.join("kefu.toml"),
        "[rules.blunt-language]\nenabled = false\n",
    )
    .unwrap();
    signal(&child, "-HUP");
    let reloaded = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        !lint().contains("blunt-language")
    });
    stop(child);
    assert!(reloaded, "SIGHUP did not reload the config");
}

fn bearer(req: axum::http::request::Builder) -> axum::http::request::Builder {
    req.header("authorization", "Bearer kb-token")
}

/// A service over the shipped knowledge base in an on-disk index in `dir`, writable with the
/// token `kb-token` (`bearer`), with `settings` otherwise; and the entries it holds.
fn shipped_in_index(
    dir: &std::path::Path,
    settings: Settings,
) -> (AppState, Vec<kefu::suggest::kb::KbEntry>) {
    let shipped =
        kefu::suggest::kb::parse::<kefu::suggest::kb::KbEntry>(kefu::suggest::kb::DEFAULT_KB)
            .dedup_last_wins(|e| &e.id);
    let suggester = Suggester::build(&shipped, &[], Some(dir)).unwrap();
    let settings = Settings {
        admin_token: Some("kb-token".to_owned()),
        index_dir: Some(dir.to_path_buf()),
        ..settings
    };
    let state = AppState::new(Linter::with_defaults().unwrap(), suggester, settings);
    (state, shipped)
}

#[tokio::test]
async fn kb_routes_read_write_and_refuse() {
    let dir = crate::scratch::work_dir("kbroutes");
    let (state, shipped) = shipped_in_index(
        &dir,
        Settings {
            gaps: Some(kefu::suggest::gaps::GapLog::new(dir.join("gaps.jsonl"))),
            // Every recorded question is asked again at each listing, however slow the build.
            recheck_budget: std::time::Duration::from_secs(600),
            ..Settings::default()
        },
    );
    let send = |req: Request<Body>| send_to(state.clone(), req);
    let get = |uri: &str| Request::builder().uri(uri).body(Body::empty()).unwrap();
    let (s, v) = send(get("/v1/kb?offset=2&limit=3")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], shipped.len());
    assert_eq!(v["entries"].as_array().unwrap().len(), 3);
    assert_eq!(
        send(get("/v1/kb?limit=0")).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        send(get("/v1/kb?limit=abc")).await.0,
        StatusCode::BAD_REQUEST
    );
    let (s, v) = send(get("/v1/kb/return-insurance")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["question"], "运费险怎么用？");
    assert!(v["similar"].as_array().unwrap().len() >= 2);
    assert_eq!(send(get("/v1/kb/nope")).await.0, StatusCode::NOT_FOUND);
    let (s, v) = send(get("/v1/kb/%FF")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an id that is not UTF-8");
    assert_eq!(v["error"]["code"], "bad_request", "{v}");

    let entry = json!({"question": "能用消费券吗", "similar": ["可以用券吗"], "answer": "您好，本店支持使用消费券抵扣。"});
    let put = |id: &str, body: &Value, auth: bool| {
        let mut r = Request::builder()
            .method("PUT")
            .uri(format!("/v1/kb/{id}"))
            .header("content-type", "application/json");
        if auth {
            r = bearer(r);
        }
        r.body(Body::from(body.to_string())).unwrap()
    };
    assert_eq!(
        send(put("coupon", &entry, false)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, v) = send(put("coupon", &entry, true)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ask = || {
        Request::builder()
            .method("POST")
            .uri("/v1/suggest")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"question": "可以用券吗", "k": 1}).to_string(),
            ))
            .unwrap()
    };
    assert_eq!(
        send(ask()).await.1["suggestions"][0]["id"],
        "coupon",
        "the next suggest sees the write"
    );
    assert_eq!(
        send(put("coupon", &json!({"question": "", "answer": "x"}), true))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        send(put(
            "coupon",
            &json!({"id": "other", "question": "q", "answer": "a"}),
            true
        ))
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let del = |id: &str| {
        bearer(
            Request::builder()
                .method("DELETE")
                .uri(format!("/v1/kb/{id}")),
        )
        .body(Body::empty())
        .unwrap()
    };
    assert_eq!(send(del("coupon")).await.0, StatusCode::OK);
    assert_eq!(send(get("/v1/kb/coupon")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(send(del("coupon")).await.0, StatusCode::NOT_FOUND);

    let csv = "id,question,similar,answer\nc1,支持以旧换新吗,能以旧换新吗,您好，本店暂不支持以旧换新。\nbroken\n";
    let import = bearer(Request::builder().method("POST").uri("/v1/kb/import"))
        .body(Body::from(csv))
        .unwrap();
    let (s, v) = send(import).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["imported"], 1);
    assert_eq!(v["errors"][0]["line"], 3);
    // Nothing importable: 422, saying why (the first bad line) rather than only that.
    for (body, why) in [
        (
            "问题,答案\n怎么退款,请在订单页申请退款\n",
            "line 1: the header row (问题, 答案) has no `id`, `question`, `answer` columns",
        ),
        (
            "{\"id\":\"x\"}\n{\"id\":\"y\",\"question\":\"?\"}\n",
            "line 1: ",
        ),
        ("  \n", "line 1: empty"),
    ] {
        let import = bearer(Request::builder().method("POST").uri("/v1/kb/import"))
            .body(Body::from(body))
            .unwrap();
        let (s, v) = send(import).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("no valid entries: {why}")),
            "{message}"
        );
    }
    let (_, v) = send(get("/v1/kb/c1")).await;
    assert_eq!(
        v["question"], "支持以旧换新吗",
        "a rejected import changes nothing: {v}"
    );

    let suggest = |body: Value| {
        Request::builder()
            .method("POST")
            .uri("/v1/suggest")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    // A lookup made as the user types asks not to be recorded.
    let (s, v) = send(suggest(
        json!({"question": "你们卖不卖自行车", "record": false}),
    ))
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["answered"], false, "{v}");
    send(suggest(json!({"question": "你们卖不卖汽车轮胎"}))).await;
    for _ in 0..3 {
        send(suggest(json!({"question": "有沒有賣摩托車頭盔的🏍️"}))).await;
    }
    // Recording happens off the request path: wait until what is queued is written.
    state.flush_gaps().unwrap();
    let (_, recorded) = send(get("/v1/kb/gaps")).await;
    assert_eq!(
        recorded["total"], 2,
        "only the recorded questions: {recorded}"
    );
    assert_eq!(
        recorded["gaps"][0]["question"], "有沒有賣摩托車頭盔的🏍️",
        "most asked first: {recorded}"
    );
    assert_eq!(recorded["gaps"][0]["count"], 3, "{recorded}");
    let metrics = send(get("/metrics")).await.1;
    let metrics = metrics.as_str().unwrap_or_default();
    assert!(
        metrics.contains("kefu_gaps_recorded_total 4\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kefu_gaps_unrecorded_total{reason=\"queue_full\"} 0\n"),
        "{metrics}"
    );
    assert_eq!(
        recorded["gaps"][1]["question"], "你们卖不卖汽车轮胎",
        "{recorded}"
    );
    assert!(
        recorded["gaps"][1]["closest"].is_string(),
        "the nearest entry is named: {recorded}"
    );
    // Paged like the entries.
    let (_, v) = send(get("/v1/kb/gaps?limit=1&offset=1")).await;
    assert_eq!(
        (&v["total"], &v["offset"], &v["limit"]),
        (&json!(2), &json!(1), &json!(1)),
        "{v}"
    );
    assert_eq!(v["gaps"][0]["question"], "你们卖不卖汽车轮胎", "{v}");
    for (bad, status) in [
        ("/v1/kb/gaps?limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/kb/gaps?limit=501", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/kb/gaps?offset=-1", StatusCode::BAD_REQUEST),
        (
            "/v1/kb/gaps?offset=1000000001",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v1/kb/gaps?offset=123345964530685603479552",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, v) = send(get(bad)).await;
        assert_eq!(s, status, "{bad}: {v}");
        assert!(v["error"]["message"].is_string(), "{bad}: {v}");
    }
    // The shop answers one: the knowledge base changed, so the gaps are asked again (not
    // answered from the listings above); the closed one is listed again only on request.
    let tyres = json!({"question": "卖汽车轮胎吗", "similar": ["你们卖不卖汽车轮胎"],
                       "answer": "您好，本店暂不销售汽车轮胎，感谢您的关注。"});
    assert_eq!(send(put("tyres", &tyres, true)).await.0, StatusCode::OK);
    let (_, v) = send(get("/v1/kb/gaps")).await;
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["gaps"][0]["question"], "有沒有賣摩托車頭盔的🏍️", "{v}");
    let (_, v) = send(get("/v1/kb/gaps?all=true")).await;
    assert_eq!(v["total"], 2, "{v}");
    assert_eq!(v["gaps"][1]["answered_by"], "tyres", "{v}");
    assert_eq!(
        send(get("/v1/kb/gaps?all=maybe")).await.0,
        StatusCode::BAD_REQUEST
    );

    // A question the shop will not answer is dismissed (as listed, script and emoji aside).
    let dismiss = |body: Value, token: bool| {
        let req = Request::builder()
            .method("POST")
            .uri("/v1/kb/gaps/dismiss")
            .header("content-type", "application/json");
        if token { bearer(req) } else { req }
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    for (body, token, status) in [
        (
            json!({"question": "有没有卖摩托车头盔的"}),
            false,
            StatusCode::UNAUTHORIZED,
        ),
        (
            json!({"question": " "}),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"question": "有没有卖摩托车头盔的", "why": "x"}),
            true,
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"question": "有没有卖自行车"}),
            true,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, v) = send(dismiss(body.clone(), token)).await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(v["error"]["message"].is_string(), "{body}: {v}");
    }
    let (s, v) = send(dismiss(json!({"question": "有没有卖摩托车头盔的？"}), true)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (&v["gap"]["question"], &v["gap"]["count"]),
        (&json!("有沒有賣摩托車頭盔的🏍️"), &json!(3)),
        "{v}"
    );
    // A question asked just before it is dismissed is dismissed with it (what is queued for
    // the gap file is written first).
    for i in 0..20 {
        send(suggest(json!({"question": format!("有賣{i}號滑板嗎🛹")}))).await;
        let (s, v) = send(dismiss(
            json!({"question": format!("有卖{i}号滑板吗")}),
            true,
        ))
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (_, v) = send(get("/v1/kb/gaps")).await;
    assert_eq!(v["total"], 0, "{v}");
    let (_, v) = send(get("/v1/kb/gaps?all=true")).await;
    assert_eq!(v["total"], 1, "the closed one stays on record: {v}");

    // Without an on-disk index the knowledge base is read-only.
    let put_ro = Request::builder()
        .method("PUT")
        .uri("/v1/kb/x")
        .header("content-type", "application/json")
        .header("authorization", "Bearer whatever")
        .body(Body::from(entry.to_string()))
        .unwrap();
    assert_eq!(
        router(state_without_index())
            .oneshot(put_ro)
            .await
            .unwrap()
            .status(),
        StatusCode::CONFLICT
    );
    // Nor does it record questions to dismiss.
    let dismiss_ro = Request::builder()
        .method("POST")
        .uri("/v1/kb/gaps/dismiss")
        .header("content-type", "application/json")
        .header("authorization", "Bearer whatever")
        .body(Body::from(json!({"question": "能寄到国外吗"}).to_string()))
        .unwrap();
    assert_eq!(
        router(state_without_index())
            .oneshot(dismiss_ro)
            .await
            .unwrap()
            .status(),
        StatusCode::CONFLICT
    );
}

fn state_without_index() -> AppState {
    AppState::new(
        Linter::with_defaults().unwrap(),
        Suggester::with_defaults().unwrap(),
        Settings {
            admin_token: Some("whatever".to_owned()),
            ..Settings::default()
        },
    )
}

/// Builds `DIR/idx` from the shop fixture with `kefu kb import`.
fn import_shop(dir: &std::path::Path) {
    let csv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kb/shop.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["kb", "import", csv.to_str().unwrap(), "--index", "idx"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
}

fn start_server(dir: &std::path::Path, index: &str) -> (std::process::Child, String) {
    serve(|cmd| {
        cmd.args(["--index", index])
            .env("KEFU_ADMIN_TOKEN", "durable")
            .current_dir(dir);
    })
}

/// The unanswered questions of the last requests are in the gap file once the service has
/// stopped on SIGTERM, however soon after them it came.
#[test]
fn unanswered_questions_are_written_before_the_service_exits() {
    let dir = crate::scratch::work_dir("gaps-at-exit");
    import_shop(&dir);
    let (child, addr) = start_server(&dir, "idx");
    for i in 0..40 {
        let v = post_json(
            &addr,
            "/v1/suggest",
            &json!({"question": format!("你們賣不賣{i}號自行車🚲")}),
        );
        assert_eq!(v["answered"], false, "{v}");
    }
    stop(child);
    let text = std::fs::read_to_string(dir.join("idx/gaps.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 40, "{text}");
    assert!(text.contains("你們賣不賣39號自行車🚲"), "{text}");
}

/// Every write the service acknowledged is there after SIGKILL and a restart.
#[test]
fn acknowledged_kb_writes_survive_sigkill() {
    let dir = crate::scratch::work_dir("durable");
    import_shop(&dir);
    let (mut child, addr) = start_server(&dir, "idx");
    let writer_addr = addr.clone();
    // The kill comes once a few writes are acknowledged, while more are on their way, however
    // fast this machine writes.
    let acked_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&acked_so_far);
    let writer = std::thread::spawn(move || {
        let mut acked = Vec::new();
        for i in 0..400 {
            let body = format!(
                "{{\"question\":\"问题{i}怎么办\",\"answer\":\"您好，这是第{i}条答案。\"}}"
            );
            let req = format!(
                "PUT /v1/kb/k{i} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer durable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let Ok(mut s) = TcpStream::connect(&writer_addr) else {
                break;
            };
            if s.write_all(req.as_bytes()).is_err() {
                break;
            }
            let mut resp = String::new();
            let _ = s.read_to_string(&mut resp);
            if resp.starts_with("HTTP/1.1 200") {
                acked.push(format!("k{i}"));
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            } else {
                break;
            }
        }
        acked
    });
    let patience = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while acked_so_far.load(std::sync::atomic::Ordering::SeqCst) < 5
        && std::time::Instant::now() < patience
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    signal(&child, "-KILL");
    child.wait().unwrap();
    let acked = writer.join().unwrap();
    assert!(
        acked.len() >= 3,
        "too few writes before the kill to prove anything: {}",
        acked.len()
    );
    let (child, addr) = start_server(&dir, "idx");
    let missing: Vec<&String> = acked
        .iter()
        .filter(|id| {
            !http(
                &addr,
                &format!(
                    "GET /v1/kb/{id} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                ),
            )
            .starts_with("HTTP/1.1 200")
        })
        .collect();
    stop(child);
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost: {missing:?}",
        missing.len(),
        acked.len()
    );
}

/// `[server]` in kefu.toml, then KEFU_* variables, then flags.
#[test]
fn server_settings_precedence() {
    let dir = crate::scratch::work_dir("precedence");
    std::fs::write(
        dir.join("kefu.toml"),
        "[server]\naddr = \"not-an-address\"\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .arg("serve")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("[server] addr `not-an-address`"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .arg("serve")
        .env("KEFU_ADDR", "127.0.0.1:0")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("kefu listening on http://127.0.0.1:"),
        "the variable overrides the file: {line}"
    );
    stop(child);
    std::fs::write(dir.join("kefu.toml"), "[server]\nmax-connections = 0\n").unwrap();
    let said = refused_to_serve(&dir);
    assert!(said.contains("`max-connections`"), "{said}");
    let o = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["serve", "--header-timeout", "0"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "a zero timeout is refused");
}

/// `[server] log-format = "json"`: every line the service logs is a JSON object a collector can
/// read, requests carrying their id; the flag overrides the file, and a bad value in the file
/// is refused at its line.
#[test]
fn logs_are_json_lines_when_asked() {
    let dir = crate::scratch::work_dir("json-logs");
    std::fs::write(dir.join("kefu.toml"), "[server]\nlog-format = \"json\"\n").unwrap();
    let (mut child, addr) = serve(|cmd| {
        cmd.current_dir(&dir)
            .env("KEFU_LOG", "debug,tantivy=warn")
            .stderr(Stdio::piped());
    });
    let stderr = child.stderr.take().unwrap();
    let body = json!({"question": "還沒發貨可以退錢嗎🙏"}).to_string();
    let resp = http(
        &addr,
        &format!(
            "POST /v1/suggest HTTP/1.1\r\nHost: localhost\r\nx-request-id: qa-42\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    stop(child);
    let mut logged = String::new();
    BufReader::new(stderr).read_to_string(&mut logged).unwrap();
    let lines: Vec<Value> = logged
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let said = |message: &str| {
        lines
            .iter()
            .find(|l| l["fields"]["message"] == message)
            .unwrap_or_else(|| panic!("no `{message}` in {logged}"))
    };
    assert_eq!(said("serving")["fields"]["addr"], addr.as_str());
    said("stopped");
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == "qa-42" && l["span"]["path"] == "/v1/suggest"),
        "{logged}"
    );

    // The flag wins over the file.
    let (mut child, _) = serve(|cmd| {
        cmd.current_dir(&dir)
            .args(["--log-format", "text"])
            .stderr(Stdio::piped());
    });
    let stderr = child.stderr.take().unwrap();
    stop(child);
    let mut logged = String::new();
    BufReader::new(stderr).read_to_string(&mut logged).unwrap();
    assert!(
        logged.contains(" INFO ") && logged.contains("serving"),
        "{logged}"
    );
    assert!(
        !logged.contains('\u{1b}'),
        "no colour codes off a terminal: {logged}"
    );

    std::fs::write(dir.join("kefu.toml"), "[server]\nlog-format = \"xml\"\n").unwrap();
    let said = refused_to_serve(&dir);
    assert!(said.contains("kefu.toml:2"), "{said}");
}

/// The confidence threshold of a running service: `[server] threshold`, overridden by the flag;
/// one outside 0–1 stops it starting.
#[test]
fn the_threshold_is_the_shops_to_set() {
    let dir = crate::scratch::work_dir("threshold");
    let answered = |addr: &str| {
        post_json(
            addr,
            "/v1/suggest",
            &json!({"question": "你们卖汽车吗", "record": false}),
        )["answered"]
            .clone()
    };
    // The default leaves an unrelated question unanswered…
    let (child, addr) = serve(|cmd| {
        cmd.current_dir(&dir);
    });
    assert_eq!(answered(&addr), false);
    stop(child);
    // …a shop that wants every best guess offered sets 0 in kefu.toml…
    std::fs::write(dir.join("kefu.toml"), "[server]\nthreshold = 0.0\n").unwrap();
    let (child, addr) = serve(|cmd| {
        cmd.current_dir(&dir);
    });
    assert_eq!(answered(&addr), true);
    stop(child);
    // …and the flag overrides the file.
    let (child, addr) = serve(|cmd| {
        cmd.args(["--threshold", "0.3"]).current_dir(&dir);
    });
    assert_eq!(answered(&addr), false);
    stop(child);
    std::fs::write(dir.join("kefu.toml"), "[server]\nthreshold = 1.5\n").unwrap();
    let refused = refused_to_serve(&dir);
    assert!(refused.contains("between 0 and 1, not 1.5"), "{refused}");
}

/// The real service judges meaning in `/v1/lint`: a put-down no pattern lists comes back as
/// `rude-tone`, the polite sentence beside it does not, and the same draft again is answered
/// from the remembered verdict.
#[test]
fn the_service_lints_by_meaning_too() {
    let (child, addr) = serve(|_| {});
    let text = "您好，已经为您查询。你这点常识都没有还来办业务？";
    for _ in 0..2 {
        let v = post_json(&addr, "/v1/lint", &json!({ "text": text }));
        let rude: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "rude-tone")
            .map(|f| f["text"].as_str().unwrap())
            .collect();
        assert_eq!(rude, ["你这点常识都没有还来办业务？"], "{v}");
        assert_eq!(v["passed"], true, "a warning alone passes: {v}");
    }
    stop(child);
}

/// `[server] no-phrases` serves the knowledge base alone; with a phrase file too it is refused.
#[test]
fn a_service_without_the_phrase_library() {
    let dir = crate::scratch::work_dir("no-phrases");
    std::fs::write(dir.join("kefu.toml"), "[server]\nno-phrases = true\n").unwrap();
    let (child, addr) = serve(|cmd| {
        cmd.current_dir(&dir);
    });
    let json = post_json(
        &addr,
        "/v1/suggest",
        &json!({"question": "抱歉让您久等了🙏", "k": 5, "record": false}),
    );
    let sources: Vec<&str> = json["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert!(
        !sources.is_empty() && sources.iter().all(|&s| s == "kb"),
        "{sources:?}"
    );
    stop(child);
    std::fs::write(
        dir.join("kefu.toml"),
        "[server]\nno-phrases = true\nphrases = \"phrases.jsonl\"\n",
    )
    .unwrap();
    let refused = refused_to_serve(&dir);
    assert!(
        refused.contains("`no-phrases` cannot be used with `phrases`"),
        "{refused}"
    );
}

/// POSTs `body` as JSON to a running `kefu serve` and returns the JSON answered.
fn post_json(addr: &str, path: &str, body: &Value) -> Value {
    let body = body.to_string();
    let resp = http(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    serde_json::from_str(&resp[resp.find("\r\n\r\n").unwrap() + 4..]).unwrap()
}

/// Stops a `kefu serve` started by `serve` as an operator would (SIGTERM), and checks that it
/// finished gracefully: exit 0, not killed by the signal.
fn stop(mut child: std::process::Child) {
    signal(&child, "-TERM");
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
}

/// Sends a signal (`-TERM`, `-HUP`) to a child process.
fn signal(child: &std::process::Child, which: &str) {
    let sent = Command::new("kill")
        .args([which, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill {which}");
}

/// Runs `kefu serve` in `dir`, expecting its configuration to be refused before it listens
/// (exit 2); returns what it said on stderr.
fn refused_to_serve(dir: &std::path::Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The OpenAPI document describes exactly the routes the router answers.
#[tokio::test]
async fn openapi_covers_every_route() {
    let (status, doc) = call("GET", "/openapi.json", None, Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["license"]["name"], "MIT OR Apache-2.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut described = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            described.push((method.to_uppercase(), path.replace("{id}", "some-id")));
        }
    }
    for (method, path) in &described {
        let (s, _) = call(method, path, Some("application/json"), "{}").await;
        assert!(
            s != StatusCode::NOT_FOUND || path.contains("some-id"),
            "{method} {path} is described but not routed"
        );
        assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
    for route in [
        "/v1/audit",
        "/v1/lint",
        "/v1/lint/batch",
        "/v1/suggest",
        "/v1/suggest/analyze",
        "/v1/phrases",
        "/v2/check",
        "/v2/languages",
        "/v1/kb",
        "/v1/kb/{id}",
        "/v1/kb/import",
        "/v1/kb/gaps",
        "/v1/admin/reload",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} is routed but not described"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(
        schemas["Finding"]["properties"]
            .as_object()
            .unwrap()
            .contains_key("utf16")
    );
}

#[tokio::test]
async fn audit_route_takes_jsonl_or_an_array() {
    let jsonl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/audit/chats.jsonl"
    ))
    .unwrap();
    let (s, v) = call("POST", "/v1/audit", Some("application/x-ndjson"), jsonl).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["summary"]["conversations"], 5);
    assert_eq!(v["summary"]["bad_lines"], 1);
    // The outcome side, as `kefu audit` gives it: per conversation, per agent, review first.
    assert_eq!(v["summary"]["review_first"][0]["id"], "c2");
    assert_eq!(v["summary"]["outcomes"]["escalated"], 1);
    let c2 = v["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "c2")
        .unwrap();
    assert_eq!(c2["outcome"]["status"], "escalated");
    assert!(c2["manner"].as_f64().unwrap() < 50.0 && c2["score"].as_f64().unwrap() < 50.0);
    let li = v["summary"]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "小李")
        .unwrap();
    assert_eq!(li["escalations"], 1);
    let array = json!([{"id": "a1", "agent": "小王", "turns": [{"role": "customer", "text": "在吗"}, {"role": "agent", "text": "在"}]}]);
    let (s, v) = call(
        "POST",
        "/v1/audit",
        Some("application/json"),
        array.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["conversations"][0]["id"], "a1");
    assert!(
        v["conversations"][0]["evidence"]
            .to_string()
            .contains("curt-reply")
    );
    let (s, v) = call(
        "POST",
        "/v1/audit",
        Some("application/json"),
        "[{\"nope\": 1}]",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // JSONL in which no line is a conversation or a message: the wrong document.
    let (s, v) = call(
        "POST",
        "/v1/audit",
        Some("application/x-ndjson"),
        "{\"id\":\"q1\",\"question\":\"退款\"}\n{\"nope\":1}\n",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("no conversation could be read: 2 malformed line(s)"),
        "{message}"
    );
    // No body at all is a client's mistake, not an empty report.
    for body in ["", " \n"] {
        let (s, v) = call("POST", "/v1/audit", Some("application/x-ndjson"), body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("empty"),
            "{v}"
        );
    }
    let (s, v) = call("POST", "/v1/audit", Some("application/json"), "[]").await;
    assert_eq!(s, StatusCode::OK, "an empty array is an empty report: {v}");
    assert_eq!(v["summary"]["conversations"], 0);

    // The response-time policy: the shop's (`[audit]`, carried by the engine), then the query's.
    let waited = json!([{"id": "w1", "agent": "小王", "turns": [
        {"role": "customer", "text": "在嗎？😠", "ts": 1714530005},
        {"role": "agent", "text": "您好，請問有什麼可以幫您？", "ts": 1714530100}
    ]}])
    .to_string();
    let flagged = |v: &Value| {
        v["conversations"][0]["evidence"]
            .to_string()
            .contains("no-apology-after-wait")
    };
    let (_, v) = call(
        "POST",
        "/v1/audit",
        Some("application/json"),
        waited.clone(),
    )
    .await;
    assert!(flagged(&v), "95 s > 60 s: {v}");
    let (_, v) = call(
        "POST",
        "/v1/audit?long_wait=120",
        Some("application/json"),
        waited.clone(),
    )
    .await;
    assert!(!flagged(&v), "{v}");
    let patient = AppState::from_engine(
        kefu::server::Engine::new(
            Linter::with_defaults().unwrap(),
            Suggester::with_defaults().unwrap(),
        )
        .with_audit(kefu::audit::Settings {
            long_wait: 120,
            promise: 120,
            ..Default::default()
        }),
        Settings::default(),
    );
    let audit = |uri: &str| {
        Request::builder()
            .method("POST")
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(waited.clone()))
            .unwrap()
    };
    let (_, v) = send_to(patient.clone(), audit("/v1/audit")).await;
    assert!(!flagged(&v), "the shop allows two minutes: {v}");
    let (_, v) = send_to(patient, audit("/v1/audit?long_wait=90")).await;
    assert!(flagged(&v), "the query wins: {v}");
    for (uri, status) in [
        ("/v1/audit?long_wait=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/audit?promise=-1", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/audit?long_wait=一分钟", StatusCode::BAD_REQUEST),
    ] {
        let (s, v) = call("POST", uri, Some("application/json"), waited.clone()).await;
        assert_eq!(s, status, "{uri}: {v}");
        assert!(v["error"]["message"].is_string(), "{uri}: {v}");
    }
}

/// Starts `kefu serve` on a free loopback port (`configure` adds to the command) and returns it
/// with the address it listens on, read from its first line of output.
fn serve(configure: impl FnOnce(&mut Command)) -> (std::process::Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kefu"));
    cmd.args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    configure(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("kefu listening on http://")
        .expect(&line)
        .to_owned();
    (child, addr)
}

#[tokio::test]
async fn the_playground_page_and_its_assets_are_embedded() {
    let fetch = |uri: &str, etag: Option<&str>| {
        let mut req = Request::builder().uri(uri);
        if let Some(tag) = etag {
            req = req.header("if-none-match", tag);
        }
        let req = req.body(Body::empty()).unwrap();
        async move {
            let resp = router(state()).oneshot(req).await.unwrap();
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, headers, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    let (status, headers, page) = fetch("/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(page.contains("回复草稿"), "{page}");

    // Every script and stylesheet the page names is served, with its type.
    for (asset, mime) in [
        ("/assets/playground.js", "text/javascript; charset=utf-8"),
        ("/assets/playground.css", "text/css; charset=utf-8"),
        (
            "/assets/kefu-highlight.js",
            "text/javascript; charset=utf-8",
        ),
        ("/assets/kefu-api.js", "text/javascript; charset=utf-8"),
        ("/assets/icon.svg", "image/svg+xml"),
    ] {
        assert!(page.contains(asset), "the page refers to {asset}");
        let (status, headers, _) = fetch(asset, None).await;
        assert_eq!(status, StatusCode::OK, "{asset}");
        assert_eq!(headers["content-type"], mime, "{asset}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }

    // The page underlines and calls the server with the extension's own scripts, byte for byte.
    for shared in ["kefu-highlight.js", "kefu-api.js"] {
        let (_, _, script) = fetch(&format!("/assets/{shared}"), None).await;
        let on_disk = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("extension")
                .join(shared),
        )
        .unwrap();
        assert_eq!(script, on_disk, "{shared}");
    }
    let (_, headers, _) = fetch("/assets/kefu-highlight.js", None).await;

    // Revalidation answers 304 with no body; a stale tag gets the file.
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, body) = fetch("/assets/kefu-highlight.js", Some(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    let (status, _, _) = fetch("/assets/kefu-highlight.js", Some("\"stale\"")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, v) = call("GET", "/assets/nothing.js", None, Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "not_found", "{v}");
}

#[test]
fn the_extension_manifest_is_complete_and_versioned_with_the_crate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("extension");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["manifest_version"], 3);
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    let mut files: Vec<String> = vec![
        manifest["background"]["service_worker"]
            .as_str()
            .unwrap()
            .into(),
        manifest["options_ui"]["page"].as_str().unwrap().into(),
        manifest["action"]["default_popup"].as_str().unwrap().into(),
    ];
    for script in manifest["content_scripts"].as_array().unwrap() {
        for js in script["js"].as_array().unwrap() {
            files.push(js.as_str().unwrap().into());
        }
    }
    for file in &files {
        assert!(
            dir.join(file).is_file(),
            "the manifest names {file}, which is missing"
        );
    }
}

/// `--addr` takes a host name as well as an IP address; a bad one is refused, naming it.
#[test]
fn serve_listens_on_a_host_name() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["serve", "--addr", "localhost:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("kefu listening on http://127.0.0.1:"),
        "{line}"
    );
    // (A name that does not resolve is said the same way; not tried here, as that would ask
    // the network's resolver.)
    for (bad, says) in [("localhost", "not HOST:PORT"), ("8080", "not HOST:PORT")] {
        let o = Command::new(env!("CARGO_BIN_EXE_kefu"))
            .args(["serve", "--addr", bad])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(
            err.contains(&format!("--addr `{bad}`")) && err.contains(says),
            "{bad}: {err}"
        );
    }
}

/// What a hostile caller tries first: another host name (DNS rebinding), a body sent to an
/// admin route without the token, an odd request id, a plain-text audit from a web page.
#[tokio::test]
async fn hostile_requests_are_refused_before_work_is_done() {
    let guarded = AppState::new(
        Linter::with_defaults().unwrap(),
        Suggester::with_defaults().unwrap(),
        Settings {
            admin_token: Some("s3cret-token".to_owned()),
            hosts: Some(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]),
            ..Settings::default()
        },
    );
    let send = |method: &str, uri: &str, headers: &[(&str, &str)], body: String| {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Body::from(body)).unwrap();
        let state = guarded.clone();
        async move {
            let resp = router(state).oneshot(req).await.unwrap();
            let status = resp.status();
            let id = resp.headers().get("x-request-id").cloned();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            (status, v, id)
        }
    };
    // A page whose name was rebound to 127.0.0.1 sends its own name as Host.
    let (s, v, _) = send(
        "GET",
        "/v1/kb/gaps",
        &[("host", "evil.example")],
        String::new(),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::MISDIRECTED_REQUEST, Some("misdirected_request"))
    );
    let (s, _, _) = send(
        "GET",
        "/healthz",
        &[("host", "localhost:8080")],
        String::new(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "a port after the name is fine");
    let (s, _, _) = send(
        "GET",
        "/healthz",
        &[("host", "127.0.0.1:8080")],
        String::new(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let local = [("host", "localhost")];
    // Without the token an admin route answers 401 whatever the body: it is not read.
    let (s, v, _) = send(
        "PUT",
        "/v1/kb/x",
        &[("host", "localhost"), ("content-type", "application/json")],
        "{not json".to_owned(),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    for (scheme, token) in [
        ("Bearer", "s3cret"),
        ("Bearer", "s3cret-token-and-more"),
        ("Basic", "s3cret-token"),
    ] {
        let auth = format!("{scheme} {token}");
        let (s, _, _) = send(
            "POST",
            "/v1/kb/import",
            &[
                ("host", "localhost"),
                ("authorization", &auth),
                ("content-type", "application/x-ndjson"),
            ],
            "x".repeat(1000),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{auth}");
    }
    // The scheme in any case; the token right: past the check (no index here: 409).
    let (s, v, _) = send(
        "DELETE",
        "/v1/kb/x",
        &[
            ("host", "localhost"),
            ("authorization", "bearer s3cret-token"),
        ],
        String::new(),
    )
    .await;
    assert_ne!(s, StatusCode::UNAUTHORIZED, "{v}");
    // A plain request id is echoed; a long or spaced one is replaced by the service's own.
    let lint = r#"{"text":"您好"}"#.to_owned();
    let json = ("content-type", "application/json");
    let (_, _, id) = send(
        "POST",
        "/v1/lint",
        &[local[0], json, ("x-request-id", "qa-42")],
        lint.clone(),
    )
    .await;
    assert_eq!(id.unwrap(), "qa-42");
    let long = "x".repeat(8 * 1024);
    for bad in ["has spaces in it", long.as_str()] {
        let (_, _, id) = send(
            "POST",
            "/v1/lint",
            &[local[0], json, ("x-request-id", bad)],
            lint.clone(),
        )
        .await;
        let id = id.unwrap();
        assert!(id.to_str().unwrap().starts_with("req-"), "{id:?}");
    }
    // An audit must say it is JSON: a plain-text post (what a web page can send without a
    // preflight) is refused.
    let jsonl = r#"{"id":"a","turns":[{"role":"customer","text":"在吗"}]}"#.to_owned();
    let (s, v, _) = send(
        "POST",
        "/v1/audit",
        &[local[0], ("content-type", "text/plain")],
        jsonl.clone(),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let (s, _, _) = send(
        "POST",
        "/v1/audit",
        &[
            local[0],
            ("content-type", "application/x-ndjson; charset=utf-8"),
        ],
        jsonl,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

/// A long draft is linted on the blocking pool and answers exactly as a short one would.
#[tokio::test]
async fn a_long_draft_answers_as_a_short_one() {
    let piece = "你等着吧，这不是我们的问题。";
    let long = piece.repeat(1000);
    let (s, v) = call(
        "POST",
        "/v1/lint",
        Some("application/json"),
        json!({"text": long}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, one) = call(
        "POST",
        "/v1/lint",
        Some("application/json"),
        json!({"text": piece}).to_string(),
    )
    .await;
    let n = one["findings"].as_array().unwrap().len();
    assert!(n > 0);
    let listed = v["findings"].as_array().unwrap().len();
    assert_eq!(listed, kefu::lint::MAX_FINDINGS.min(n * 1000));
    assert_eq!(
        listed + v["omitted"].as_u64().unwrap_or(0) as usize,
        n * 1000
    );
}

/// Idle and half-sent connections are closed after the header timeout, connections past the cap
/// are closed at once, and once the idle ones are gone the service answers again: a client that
/// opens sockets and sends nothing cannot hold the service.
#[test]
fn idle_connections_are_closed_and_capped() {
    let (child, addr) = serve(|cmd| {
        cmd.args(["--header-timeout", "1", "--max-connections", "4"]);
    });
    let started = std::time::Instant::now();
    let mut idle: Vec<TcpStream> = (0..4)
        .map(|i| {
            let mut s = TcpStream::connect(&addr).unwrap();
            if i % 2 == 1 {
                // Half a request: the headers never end.
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
                    .unwrap();
            }
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // The fifth connection is over the cap: closed without an answer.
    let mut over = TcpStream::connect(&addr).unwrap();
    over.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ =
        over.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = over.read_to_string(&mut answer);
    assert!(
        answer.is_empty(),
        "a connection over the cap is not served: {answer}"
    );
    // Every idle connection is closed by the service after about a second.
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = Vec::new();
        match s.read_to_end(&mut buf) {
            Ok(_) => {}
            Err(e) => assert_ne!(e.kind(), std::io::ErrorKind::WouldBlock, "still open"),
        }
        // A half-sent request may get a 408 before the close; an idle one gets nothing.
        let text = String::from_utf8_lossy(&buf);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // Their slots are free again.
    let resp = http(
        &addr,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // A keep-alive client that goes quiet is closed too, and a stop does not wait for it.
    let mut kept = TcpStream::connect(&addr).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    stop(child);
}

/// A reload that read the knowledge base before a write was acknowledged must not swap in what
/// it read over the write: writes wait for a reload in progress, so the next read sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_never_hides_an_acknowledged_write() {
    let dir = crate::scratch::work_dir("reloadorder");
    let shipped =
        kefu::suggest::kb::parse::<kefu::suggest::kb::KbEntry>(kefu::suggest::kb::DEFAULT_KB)
            .dedup_last_wins(|e| &e.id);
    let suggester = Suggester::build(&shipped, &[], Some(&dir)).unwrap();
    let settings = Settings {
        admin_token: Some("kb-token".to_owned()),
        index_dir: Some(dir.to_path_buf()),
        ..Settings::default()
    };
    let from = dir.to_path_buf();
    // A slow reload: it reads the index, then takes its time building the rest.
    let state = AppState::new(Linter::with_defaults().unwrap(), suggester, settings).with_loader(
        std::sync::Arc::new(move || {
            let suggester = Suggester::open(&from)?;
            std::thread::sleep(Duration::from_millis(500));
            Ok(kefu::server::Engine::new(
                Linter::with_defaults()?,
                suggester,
            ))
        }),
    );
    let authorized = |method: &str, uri: &str, body: Body| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", "Bearer kb-token")
            .header("content-type", "application/json")
            .body(body)
            .unwrap()
    };
    let reloading = tokio::spawn(send_to(
        state.clone(),
        authorized("POST", "/v1/admin/reload", Body::empty()),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let entry = json!({"question": "能开专票吗", "answer": "您好，可以开具增值税专用发票。"});
    let (s, v) = send_to(
        state.clone(),
        authorized("PUT", "/v1/kb/vat-invoice", Body::from(entry.to_string())),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(reloading.await.unwrap().0, StatusCode::OK);
    let (s, v) = send_to(
        state.clone(),
        Request::builder()
            .uri("/v1/kb/vat-invoice")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "the acknowledged write is seen: {v}");
}

/// A gap listing asks recorded questions again only within its budget: with none, every gap is
/// listed as open and counted in `unchecked`; with time, each is asked and `unchecked` is 0.
#[tokio::test]
async fn a_gap_listing_asks_again_within_its_budget() {
    let dir = crate::scratch::work_dir("recheckbudget");
    let log = kefu::suggest::gaps::GapLog::new(dir.join("gaps.jsonl"));
    for q in [
        "你们卖不卖汽车轮胎",
        "有沒有賣摩托車頭盔的🏍️",
        "运费险怎么用？",
    ] {
        log.record(q, None).unwrap();
    }
    let listing = |budget| {
        let settings = Settings {
            gaps: Some(log.clone()),
            recheck_budget: budget,
            ..Settings::default()
        };
        let state = AppState::new(
            Linter::with_defaults().unwrap(),
            Suggester::with_defaults().unwrap(),
            settings,
        );
        let req = Request::builder()
            .uri("/v1/kb/gaps?all=true")
            .body(Body::empty())
            .unwrap();
        send_to(state, req)
    };
    let (s, v) = listing(Duration::ZERO).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["total"].as_u64(), v["unchecked"].as_u64()),
        (Some(3), Some(3)),
        "{v}"
    );
    assert!(
        v["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["answered_by"].is_null())
    );
    let (_, v) = listing(Duration::from_secs(600)).await;
    assert_eq!(v["unchecked"], 0, "{v}");
    // The shipped knowledge base holds the return-insurance question word for word.
    let answered: Vec<_> = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| !g["answered_by"].is_null())
        .collect();
    assert_eq!(answered.len(), 1, "{v}");
    assert_eq!(answered[0]["question"], "运费险怎么用？");
}

/// Agents' inserted suggestions are recorded and, once the same pairing is confirmed, learned as
/// a similar question the next suggestion finds word for word; a KB owner lists and undoes it.
#[tokio::test(flavor = "multi_thread")]
async fn agents_choices_are_learned_listed_and_undone() {
    let dir = crate::scratch::work_dir("learn");
    let (state, _) = shipped_in_index(
        &dir,
        Settings {
            feedback: Some(std::sync::Arc::new(
                kefu::suggest::feedback::FeedbackLog::in_index(&dir),
            )),
            learn_after: Some(2),
            ..Settings::default()
        },
    );
    let send = |req: Request<Body>| send_to(state.clone(), req);
    let json_req = |uri: &str, body: Value| {
        (json_req_builder(uri).body(Body::from(body.to_string()))).unwrap()
    };
    let get = |uri: &str| Request::builder().uri(uri).body(Body::empty()).unwrap();
    let asked = "衣服有点大，能换小一码吗";
    let suggest = || send(json_req("/v1/suggest", json!({"question": asked, "k": 1})));

    let (s, v) = send(json_req(
        "/v1/suggest/feedback",
        json!({"question": asked, "id": "exchange-size"}),
    ))
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "recorded");
    assert_eq!(
        (v["count"].as_u64(), v["learn_after"].as_u64()),
        (Some(1), Some(2))
    );
    // The second choice, in Traditional with other punctuation, confirms the same pairing.
    let (s, v) = send(json_req(
        "/v1/suggest/feedback",
        json!({"question": "衣服有點大 能換小一碼嗎？", "id": "exchange-size"}),
    ))
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "learned", "{v}");
    let (_, v) = send(get("/v1/kb/exchange-size")).await;
    assert!(
        v["similar"].as_array().unwrap().iter().any(|q| q == asked),
        "{v}"
    );
    let (_, v) = suggest().await;
    assert_eq!(v["suggestions"][0]["id"], "exchange-size", "{v}");
    assert_eq!(v["answered"], true, "held word for word now: {v}");

    let (s, v) = send(get("/v1/kb/learned")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["pairs"][0]["question"], asked);
    assert_eq!(v["pairs"][0]["status"], "learned");
    assert_eq!(v["learn_after"], 2);

    // Bad choices are refused with the documented JSON errors.
    for (body, status) in [
        (
            json!({"question": asked, "id": "no-such-entry"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"question": " ", "id": "exchange-size"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"question": "🙏🙏？", "id": "exchange-size"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"question": "长".repeat(201), "id": "exchange-size"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"question": asked}), StatusCode::BAD_REQUEST),
    ] {
        let (s, v) = send(json_req("/v1/suggest/feedback", body.clone())).await;
        assert_eq!(s, status, "{body} → {v}");
        assert!(v["error"]["code"].is_string(), "{v}");
    }
    // Another entry's own question is not learned for this one: a tie is the owner's call.
    for _ in 0..2 {
        send(json_req(
            "/v1/suggest/feedback",
            json!({"question": "发错货了怎么办", "id": "exchange-size"}),
        ))
        .await;
    }
    let (_, v) = send(json_req(
        "/v1/suggest/feedback",
        json!({"question": "发错货了怎么办", "id": "exchange-size"}),
    ))
    .await;
    assert_eq!(v["status"], "conflict", "{v}");
    assert_eq!(v["held_by"], "wrong-item");

    // Undo needs the token, takes the question out, and the pair is not learned again.
    let undo = json!({"question": asked, "id": "exchange-size"});
    assert_eq!(
        send(json_req("/v1/kb/learned/undo", undo.clone())).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, v) = send(
        bearer(json_req_builder("/v1/kb/learned/undo"))
            .body(Body::from(undo.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["pair"]["status"], "undone");
    let (_, v) = send(get("/v1/kb/exchange-size")).await;
    assert!(
        !v["similar"].as_array().unwrap().iter().any(|q| q == asked),
        "{v}"
    );
    let (_, v) = send(json_req("/v1/suggest/feedback", undo.clone())).await;
    assert_eq!(
        (v["status"].as_str(), v["count"].as_u64()),
        (Some("undone"), Some(3))
    );
    let (s, _) = send(
        bearer(json_req_builder("/v1/kb/learned/undo"))
            .body(Body::from(undo.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no longer learned");
    let (_, v) = send(get("/v1/kb/learned?status=all")).await;
    assert_eq!(v["total"], 2, "{v}");
    let (s, v) = send(get("/v1/kb/learned?status=maybe")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // A read-only service says why it cannot learn.
    let (s, v) = send_to(
        state_without_index(),
        json_req(
            "/v1/suggest/feedback",
            json!({"question": asked, "id": "exchange-size"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "read_only");
}

fn json_req_builder(uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json")
}

/// What the real service learned from agents is kept in the index's directory: it survives a
/// restart, and `kefu kb learned` lists it.
#[test]
fn learned_questions_survive_a_restart_and_are_listed() {
    let dir = crate::scratch::work_dir("learned-restart");
    import_shop(&dir);
    let learn = |cmd: &mut Command| {
        cmd.args(["--index", "idx", "--learn-after", "2"])
            .current_dir(&dir);
    };
    let (child, addr) = serve(learn);
    let choice = json!({"question": "充电头是几瓦的呀？", "id": "s4"});
    assert_eq!(
        post_json(&addr, "/v1/suggest/feedback", &choice)["status"],
        "recorded"
    );
    stop(child);
    // The first choice is remembered across the restart; the second confirms it.
    let (child, addr) = serve(learn);
    let v = post_json(&addr, "/v1/suggest/feedback", &choice);
    assert_eq!(
        (v["status"].as_str(), v["count"].as_u64()),
        (Some("learned"), Some(2)),
        "{v}"
    );
    stop(child);
    let (child, addr) = serve(learn);
    let v = post_json(
        &addr,
        "/v1/suggest",
        &json!({"question": "充电头是几瓦的呀"}),
    );
    assert_eq!(v["suggestions"][0]["id"], "s4", "{v}");
    assert_eq!(
        v["suggestions"][0]["confidence"], 1.0,
        "held word for word: {v}"
    );
    stop(child);

    let kefu = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kefu"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let o = kefu(&["kb", "learned", "--index", "idx"]);
    assert!(o.status.success(), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("learned") && text.contains("充电头是几瓦的呀？") && text.contains("s4"),
        "{text}"
    );
    let o = kefu(&[
        "kb", "learned", "--index", "idx", "--status", "pending", "--format", "json",
    ]);
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), "[]");
    let o = kefu(&["kb", "learned", "--index", "nowhere"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("nowhere"),
        "{o:?}"
    );
    // A service told not to learn refuses feedback with the reason.
    let (child, addr) = serve(|cmd| {
        cmd.args(["--index", "idx", "--learn", "off"])
            .current_dir(&dir);
    });
    let v = post_json(&addr, "/v1/suggest/feedback", &choice);
    assert_eq!(v["error"]["code"], "learning_off", "{v}");
    stop(child);
}
