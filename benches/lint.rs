//! Lint latency over realistic agent drafts of about 20, 40, 200 and 1,000 characters, and with
//! meaning judged (`rude-tone`): a sentence seen before and a new one.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kefu::{LintRequest, Linter};

const D20: &str = "你好，把订单号发过来，我帮您查一下";
const D40: &str =
    "亲，你好！您的订单已经发货了，单号稍后发你，不知道的话自己去查，有问题随时联系我们。";
const D200: &str = "您好，欢迎光临本店！关于您咨询的退款问题，我们这边已经帮您核实过了：您的订单目前还没有发货，可以直接申请退款，系统会在两天内自动处理。如果已经发货了，需要您拒收或者收到货后申请退货退款，退货运费由运费险承担。这不归我管的部分，我也帮您联系了售后同事，他们会尽快处理的。您看还有什么需要帮忙的吗？赶紧确认一下收货地址，呵呵！！";

fn draft_1000() -> String {
    let mut s = String::new();
    while s.chars().count() < 1000 {
        s.push_str(D200);
    }
    s.chars().take(1000).collect()
}

fn bench(c: &mut Criterion) {
    let linter = Linter::with_defaults().expect("shipped rules build");
    let long = draft_1000();
    let mut group = c.benchmark_group("lint");
    for (name, text) in [
        ("20", D20),
        ("40", D40),
        ("200", D200),
        ("1000", long.as_str()),
    ] {
        let req = LintRequest::new(text);
        // The benchmark must measure real work: every draft here has findings.
        assert!(
            !linter.lint(&req).findings.is_empty(),
            "draft {name} has no findings"
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("chars", name), &req, |b, req| {
            b.iter(|| linter.lint(black_box(req)));
        });
    }
    // Dense drafts of 60,000 characters, a match every few characters, in one clause or many:
    // the cost must grow with the text, not with its square.
    for (name, unit) in [
        ("dense-60k-informal", "你好x"),
        ("dense-60k-one-clause", "必须"),
        ("dense-60k-clauses", "你等着吧，"),
    ] {
        let text: String = unit.chars().cycle().take(60_000).collect();
        let req = LintRequest::new(&text);
        let found = linter.lint(&req);
        assert!(
            found.findings.len() + found.omitted > 1_000,
            "{name} must find much"
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("dense", name), &req, |b, req| {
            b.iter(|| linter.lint(black_box(req)));
        });
    }
    group.finish();
}

fn bench_meaning(c: &mut Criterion) {
    if kefu::suggest::semantic::encoder().is_none() {
        eprintln!("no meaning model: lint-meaning skipped (scripts/fetch-model)");
        return;
    }
    let linter = Linter::with_meaning(&kefu::Config::default()).expect("shipped rules build");
    assert!(linter.judges_meaning());
    let mut group = c.benchmark_group("lint-meaning");
    let req = LintRequest::new(D40);
    linter.lint(&req);
    group.bench_function("40-remembered", |b| b.iter(|| linter.lint(black_box(&req))));
    // Each draft new: its two sentences are embedded and judged.
    let mut n = 0u64;
    group.bench_function("40-new", |b| {
        b.iter(|| {
            n += 1;
            let text = format!("您好，您的订单{n}号已经发货了。物流单号稍后发给您，请注意查收！");
            linter.lint(black_box(&LintRequest::new(&text)))
        })
    });
    group.finish();
}

criterion_group!(benches, bench, bench_meaning);
criterion_main!(benches);
