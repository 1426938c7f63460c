//! Fuzzes suggestion on the shipped knowledge base: any question and any `k` is answered or
//! refused with an error, never a panic, and the result keeps its contract.
#![no_main]

use kefu::Linter;
use kefu::suggest::{SuggestRequest, Suggester};
use libfuzzer_sys::fuzz_target;

static SHIPPED: std::sync::LazyLock<(Suggester, Linter)> = std::sync::LazyLock::new(|| {
    let suggester = Suggester::with_defaults().expect("shipped knowledge base loads");
    (
        suggester,
        Linter::with_defaults().expect("shipped rules load"),
    )
});

fuzz_target!(|input: (u8, &str)| {
    let (k, question) = input;
    let (suggester, linter) = &*SHIPPED;
    let request = SuggestRequest {
        question: question.to_owned(),
        k: usize::from(k % 52),
        ..SuggestRequest::default()
    };
    let Ok(result) = suggester.suggest(linter, &request) else {
        return;
    };
    assert!(result.suggestions.len() <= request.k);
    for pair in result.suggestions.windows(2) {
        assert!(pair[0].score >= pair[1].score);
    }
    for s in &result.suggestions {
        assert!((0.0..=1.0).contains(&s.confidence));
    }
    let _ = suggester.analyze(question);
});
