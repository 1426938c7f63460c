//! Invariants over arbitrary input: linting never panics, spans fall on char boundaries and all
//! three units slice to `text`, and linting `fixed` again finds nothing safe left to fix.

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
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

fn check(text: &str, role: Role, customer: Option<&str>) -> Result<(), TestCaseError> {
    let r = linter().lint(&LintRequest {
        text,
        role,
        customer,
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
