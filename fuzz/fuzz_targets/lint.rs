//! Fuzzes the linter: any draft, in any role, with or without the customer's message, must
//! lint without panicking, with spans that slice the draft in all three units.
#![no_main]

use kefu::{LintRequest, Linter, Role};
use libfuzzer_sys::fuzz_target;

static LINTER: std::sync::LazyLock<Linter> =
    std::sync::LazyLock::new(|| Linter::with_defaults().expect("shipped rules load"));

fuzz_target!(|input: (u8, &str, Option<&str>)| {
    let (role, text, customer) = input;
    let role = match role % 3 {
        0 => Role::Reply,
        1 => Role::Closing,
        _ => Role::Opening,
    };
    let result = LINTER.lint(&LintRequest {
        text,
        role,
        customer,
    });
    let units: Vec<u16> = text.encode_utf16().collect();
    for f in &result.findings {
        assert_eq!(&text[f.span.start..f.span.end], f.text);
        assert_eq!(
            String::from_utf16(&units[f.utf16.start..f.utf16.end]).unwrap(),
            f.text
        );
        assert_eq!(
            text.chars()
                .skip(f.chars.start)
                .take(f.chars.end - f.chars.start)
                .collect::<String>(),
            f.text
        );
    }
    assert!(result.score <= 100);
});
