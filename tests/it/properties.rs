//! Invariants over arbitrary input: linting never panics, spans fall on char boundaries and all
//! three units slice to `text`, and linting `fixed` again finds nothing safe left to fix;
//! suggesting never panics, keeps its result contract, and ranks a question written in
//! Traditional characters as it ranks the Simplified one; auditing any transcript lines never
//! panics, counts every line once, and keeps scores and response times in range; reading a
//! knowledge-base file accounts for every line as an entry or an error.

use std::collections::BTreeMap;

use kefu::audit::{Settings, audit_text};
use kefu::suggest::kb::{self, KbEntry, Loaded};
use kefu::suggest::{SuggestRequest, SuggestResult, Suggester};
use kefu::{LintRequest, Linter, Role};
use proptest::prelude::*;

fn linter() -> &'static Linter {
    static L: std::sync::OnceLock<Linter> = std::sync::OnceLock::new();
    L.get_or_init(|| Linter::with_defaults().unwrap())
}

/// Drafts made of the pieces that trip linters: flagged words, polite words, quotes, emoji,
/// Traditional characters and both widths of punctuation.
fn draft() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "你",
        "您",
        "妳",
        "你好",
        "迷你",
        "请",
        "把订单号发过来",
        "稍等",
        "不知道",
        "不行",
        "！！",
        "？？",
        "？",
        "。",
        "，",
        ",",
        "!",
        "“",
        "”",
        "「",
        "」",
        "😀",
        "👨‍👩‍👧",
        "再见",
        "再見",
        "不是您的问题",
        "请不要着急",
        "你必须",
        "赶紧",
        "难道",
        "吗",
        "呵呵",
        "保证",
        "我们会尽快处理",
        "嗯",
        "找快递",
        "是你自己没看清",
        "訂單",
        "發貨",
        " ",
        "\n",
        "a",
        "1",
        "24小时",
        "抱歉",
        "1、",
        "2.",
        "（3）",
        "填写退货单号",
        "为了保证",
        "您可以",
        "商品必须",
        "付款时",
        "不能退",
        "支付更快捷",
        "退不了",
        "订单号给我",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

fn check(text: &str, role: Role, customer: Option<&str>) -> Result<(), TestCaseError> {
    let r = linter().lint(&LintRequest {
        text,
        role,
        customer,
        skip_meaning: false,
    });
    let units: Vec<u16> = text.encode_utf16().collect();
    let chars: Vec<char> = text.chars().collect();
    prop_assert!(r.score <= 100);
    for f in &r.findings {
        prop_assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
        prop_assert_eq!(&text[f.span.start..f.span.end], f.text.as_str());
        prop_assert_eq!(
            chars[f.chars.start..f.chars.end].iter().collect::<String>(),
            f.text.clone()
        );
        prop_assert_eq!(
            String::from_utf16(&units[f.utf16.start..f.utf16.end]).unwrap(),
            f.text.clone()
        );
    }
    let again = linter().lint(&LintRequest {
        text: &r.fixed,
        role,
        customer,
        skip_meaning: false,
    });
    let left: Vec<_> = again
        .findings
        .iter()
        .filter(|f| f.fix.as_ref().is_some_and(|x| x.safe))
        .map(|f| (f.rule, f.text.clone()))
        .collect();
    prop_assert!(
        left.is_empty(),
        "fixed {:?} still has safe fixes {:?}",
        r.fixed,
        left
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check(&text, Role::Reply, None)?;
    }

    #[test]
    fn service_drafts_hold_the_invariants(text in draft(), closing in any::<bool>()) {
        let role = if closing { Role::Closing } else { Role::Reply };
        check(&text, role, Some("太慢了，怎么还没到"))?;
    }
}

fn suggester() -> &'static Suggester {
    static S: std::sync::OnceLock<Suggester> = std::sync::OnceLock::new();
    S.get_or_init(|| Suggester::with_defaults().unwrap())
}

/// Question pieces as customers type them, each in Simplified and in Traditional: the shipped
/// knowledge base's words, fillers, synonyms, numbers, Latin, emoji and both widths.
const PIECES: &[(&str, &str)] = &[
    ("我拍下了", "我拍下了"),
    ("还没付款", "還沒付款"),
    ("订单", "訂單"),
    ("怎么就关闭了", "怎麼就關閉了"),
    ("还没发货", "還沒發貨"),
    ("能不能", "能不能"),
    ("退钱", "退錢"),
    ("退款", "退款"),
    ("发票", "發票"),
    ("怎么开", "怎麼開"),
    ("快递", "快遞"),
    ("到哪了", "到哪了"),
    ("运费险", "運費險"),
    ("七天无理由", "七天無理由"),
    ("确认收货", "確認收貨"),
    ("尺码", "尺碼"),
    ("优惠券", "優惠券"),
    ("亲", "親"),
    ("请问", "請問"),
    ("你好", "你好"),
    ("吗", "嗎"),
    ("呢", "呢"),
    ("？", "？"),
    ("?", "?"),
    ("！", "！"),
    ("，", "，"),
    (" ", " "),
    ("😭", "😭"),
    ("👍🏻", "👍🏻"),
    ("1234567890123", "1234567890123"),
    ("ＯＫ", "ＯＫ"),
    ("iPhone", "iPhone"),
    ("{name}", "{name}"),
];

fn question() -> impl Strategy<Value = (String, String)> {
    prop::collection::vec(prop::sample::select(PIECES), 1..10).prop_map(|pieces| {
        let simplified = pieces.iter().map(|p| p.0).collect();
        let traditional = pieces.iter().map(|p| p.1).collect();
        (simplified, traditional)
    })
}

fn ask(question: &str, k: usize) -> Result<SuggestResult, kefu::Error> {
    let request = SuggestRequest {
        question: question.to_owned(),
        k,
        vars: BTreeMap::from([("name".to_owned(), "张先生".to_owned())]),
        record: false,
    };
    suggester().suggest(linter(), &request)
}

fn check_suggest(question: &str, k: usize) -> Result<Option<SuggestResult>, TestCaseError> {
    let result = ask(question, k);
    if question.trim().is_empty() {
        prop_assert!(result.is_err(), "a blank question is an error");
        return Ok(None);
    }
    let r = result.map_err(|e| TestCaseError::fail(format!("{question:?}: {e}")))?;
    prop_assert!(r.suggestions.len() <= k);
    let first = r.suggestions.first();
    prop_assert_eq!(
        r.answered,
        first.is_some_and(|s| s.confidence >= suggester().threshold())
    );
    let mut ids = std::collections::HashSet::new();
    for (i, s) in r.suggestions.iter().enumerate() {
        prop_assert!((0.0..=1.0).contains(&s.confidence), "{}", s.confidence);
        prop_assert!(s.score.is_finite());
        if i > 0 {
            prop_assert!(
                r.suggestions[i - 1].score >= s.score,
                "best first: {:?}",
                r.suggestions
            );
        }
        prop_assert!(ids.insert(s.id.clone()), "{} offered twice", s.id);
        if i > 0 {
            // Confidence falls with rank.
            prop_assert!(
                r.suggestions[i - 1].confidence >= s.confidence,
                "{:?}",
                r.suggestions
            );
        }
        for folded in &s.also {
            prop_assert!(r.suggestions.iter().all(|o| &o.id != folded));
        }
        for var in &s.missing_vars {
            let var = format!("{{{var}}}");
            prop_assert!(s.answer.contains(&var), "{var} reported but not visible");
        }
        prop_assert!(
            !s.answer.contains("{name}"),
            "`name` was given: {}",
            s.answer
        );
        for f in &s.lint.findings {
            prop_assert_eq!(&s.answer[f.span.start..f.span.end], f.text.as_str());
        }
    }
    Ok(Some(r))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn suggesting_arbitrary_strings_keeps_the_contract(text in any::<String>(), k in 1usize..=50) {
        check_suggest(&text, k)?;
    }

    #[test]
    fn traditional_questions_rank_as_simplified_ones((simplified, traditional) in question(), k in 1usize..=10) {
        let s = check_suggest(&simplified, k)?;
        let t = check_suggest(&traditional, k)?;
        let ranking = |r: &Option<SuggestResult>| -> Vec<(String, String)> {
            r.iter()
                .flat_map(|r| &r.suggestions)
                .map(|s| (s.id.clone(), format!("{:.4}", s.score)))
                .collect()
        };
        prop_assert_eq!(ranking(&s), ranking(&t), "{} / {}", simplified, traditional);
    }
}

/// A conversation line, or a broken one; timestamps anywhere from far past to far future, in
/// seconds, milliseconds, RFC 3339, or none.
fn transcript_line() -> impl Strategy<Value = String> {
    let ts = prop_oneof![
        Just(serde_json::Value::Null),
        (1_700_000_000i64..1_700_000_600).prop_map(serde_json::Value::from),
        (1_700_000_000_000i64..1_700_000_600_000).prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("2024-05-01T10:00:00+08:00")),
        Just(serde_json::Value::from("昨天")),
    ];
    let turn = (any::<bool>(), draft(), ts).prop_map(|(agent, text, ts)| {
        serde_json::json!({"role": if agent { "agent" } else { "customer" }, "text": text, "ts": ts})
    });
    let conversation = (0u32..1000, prop::collection::vec(turn, 0..8)).prop_map(|(id, turns)| {
        serde_json::json!({"id": format!("c{id}"), "agent": "小王", "turns": turns}).to_string()
    });
    prop_oneof![
        8 => conversation,
        1 => any::<String>().prop_map(|s| s.replace(['\n', '\r'], " ")),
        1 => Just("{\"id\":\"c\",\"turns\":[".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn auditing_counts_every_line_and_keeps_figures_in_range(lines in prop::collection::vec(transcript_line(), 1..12)) {
        let text = lines.join("\n");
        let counted = lines.iter().filter(|l| !l.trim().is_empty()).count();
        if text.trim_start().starts_with('[') {
            return Ok(()); // a JSON array: one document, not lines
        }
        let report = audit_text(linter(), &Settings::default(), &text)
            .map_err(TestCaseError::fail)?;
        let summary = &report["summary"];
        prop_assert_eq!(
            summary["conversations"].as_u64().unwrap() + summary["bad_lines"].as_u64().unwrap(),
            counted as u64,
            "{}", report
        );
        for c in report["conversations"].as_array().unwrap() {
            let score = c["score"].as_f64().unwrap();
            prop_assert!((0.0..=100.0).contains(&score), "{}", c);
            for wait in c["response_secs"].as_array().unwrap() {
                prop_assert!(wait.as_i64().unwrap() >= 0, "{}", c);
            }
        }
    }
}

/// A JSONL knowledge-base line: a whole entry, one missing a field or with a blank one, a
/// wrong type, broken JSON, or nothing.
fn kb_line() -> impl Strategy<Value = String> {
    let text = prop::sample::select(vec![
        "怎么退款",
        "發票怎麼開",
        "运费险😀",
        "",
        "  ",
        "请稍等{name}",
    ]);
    prop_oneof![
        6 => (0u8..20, text.clone(), text.clone(), text).prop_map(|(id, q, a, similar)| {
            serde_json::json!({"id": format!("k{id}"), "question": q, "answer": a, "similar": [similar]}).to_string()
        }),
        1 => Just(r#"{"id":"k1","question":"在吗"}"#.to_owned()),
        1 => Just(r#"{"id":7,"question":"在吗","answer":"您好"}"#.to_owned()),
        1 => Just(r#"{"id":"k1","question":"在吗","answer":"#.to_owned()),
        1 => Just(String::new()),
    ]
}

/// A CSV row: cells with commas, quotes, line breaks and list separators, and rows with too
/// few or too many cells.
fn csv_row() -> impl Strategy<Value = String> {
    let cell = prop::sample::select(vec![
        "k1",
        "k2",
        "怎么退款",
        "\"您好，请在订单页申请退款\"",
        "\"第一行\n第二行\"",
        "退钱|退款",
        "",
        "\"他说\"\"好\"\"\"",
    ]);
    prop::collection::vec(cell, 1..6).prop_map(|cells| cells.join(","))
}

fn kb_text() -> impl Strategy<Value = (String, bool)> {
    let header = prop::sample::select(vec![
        "id,question,answer",
        "\u{feff}id,question,similar,answer,category,tags",
        "ID, Question ,Answer",
        "id,问题,answer",
    ]);
    prop_oneof![
        prop::collection::vec(kb_line(), 0..10).prop_map(|l| (l.join("\n"), true)),
        (header, prop::collection::vec(csv_row(), 0..8))
            .prop_map(|(h, rows)| (format!("{h}\n{}", rows.join("\n")), false)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_knowledge_base_line_is_an_entry_or_an_error((text, jsonl) in kb_text()) {
        let loaded: Loaded<KbEntry> = kb::parse(&text);
        let lines = text.lines().count().max(1);
        let mut seen = std::collections::HashSet::new();
        for line in loaded.records.iter().map(|(l, _)| *l).chain(loaded.errors.iter().map(|e| e.line)) {
            prop_assert!((1..=lines).contains(&line), "line {} of {}: {:?}", line, lines, text);
            prop_assert!(seen.insert(line), "line {} counted twice: {:?}", line, text);
        }
        for (_, e) in &loaded.records {
            prop_assert!(!e.id.trim().is_empty() && !e.question.trim().is_empty() && !e.answer.trim().is_empty());
        }
        prop_assert!(!loaded.errors.is_empty() || !loaded.records.is_empty(), "nothing read and nothing said: {:?}", text);
        if jsonl && text.trim_start().starts_with('{') {
            let written = text.lines().filter(|l| !l.trim().is_empty()).count();
            prop_assert_eq!(loaded.records.len() + loaded.errors.len(), written);
        }
    }
}

/// A long draft dense with matches: every finding is found, at the right place in all three
/// units, however far into the text (the offsets of all findings come from one walk).
#[test]
fn dense_long_drafts_find_every_match_at_its_place() {
    let n = 20_000;
    let text = format!("😀{}", "你好x".repeat(n));
    let r = linter().lint(&LintRequest::new(&text));
    // Every match is found and fixed; the first MAX_FINDINGS are listed, the rest counted.
    assert_eq!(r.findings.len(), kefu::lint::MAX_FINDINGS);
    assert_eq!(r.findings.len() + r.omitted, n);
    assert!(r.findings.iter().all(|f| f.rule == "informal-address"));
    assert_eq!(r.score, 0);
    assert_eq!(r.fixed, format!("😀{}", "您好x".repeat(n)));
    let last = r.findings.last().unwrap();
    let at = kefu::lint::MAX_FINDINGS - 1;
    assert_eq!(last.chars.start, 1 + 3 * at, "the emoji is one char");
    assert_eq!(last.utf16.start, 2 + 3 * at, "and two UTF-16 units");
    // A match after 60,000 characters is placed right.
    let text = format!("😀{}你好", "谢谢".repeat(30_000));
    let r = linter().lint(&LintRequest::new(&text));
    let last = r
        .findings
        .iter()
        .find(|f| f.rule == "informal-address")
        .unwrap();
    assert_eq!(last.chars.start, 1 + 60_000);
    assert_eq!(last.utf16.start, 2 + 60_000);
    assert_eq!(&text[last.span.start..last.span.end], "你");
    // One clause of 60,000 characters, every other one an order: still every match judged.
    let one_clause = "你必须".repeat(20_000);
    let r = linter().lint(&LintRequest::new(&one_clause));
    assert!(r.findings.iter().any(|f| f.rule == "imperative-tone"));
    assert!(r.findings.len() + r.omitted >= 20_000, "{}", r.omitted);
}
