//! Audit throughput: agent messages per second over generated conversations.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kefu::Linter;
use kefu::audit::model::{Conversation, Speaker, Turn};
use kefu::audit::{Settings, audit};

const AGENT: &[&str] = &[
    "您好，请问有什么可以帮您？",
    "好的，请稍等，我马上为您查询。",
    "你的订单已经发货了，快递单号稍后发你",
    "非常抱歉让您久等了，已经帮您催了，预计明天送达。",
    "不知道！",
    "感谢您的支持，祝您生活愉快，再见！",
];
const CUSTOMER: &[&str] = &[
    "在吗",
    "我的快递怎么还没到",
    "能退款吗",
    "东西坏了怎么办",
    "太慢了！",
];

fn conversations(n: usize) -> Vec<Conversation> {
    (0..n)
        .map(|i| {
            let mut turns = Vec::new();
            let mut t = 1_714_528_800 + i as i64 * 37;
            for k in 0..5 {
                turns.push(Turn {
                    role: Speaker::Customer,
                    text: CUSTOMER[(i + k) % CUSTOMER.len()].to_owned(),
                    ts: Some(t),
                    agent: None,
                });
                t += 30 + (i as i64 * 7 + k as i64 * 13) % 90;
                turns.push(Turn {
                    role: Speaker::Agent,
                    text: AGENT[(i * 3 + k) % AGENT.len()].to_owned(),
                    ts: Some(t),
                    agent: None,
                });
                t += 20;
            }
            Conversation {
                id: format!("c{i}"),
                agent: Some(format!("agent{}", i % 5)),
                turns,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let linter = Linter::with_defaults().expect("shipped rules build");
    let settings = Settings::default();
    let convs = conversations(200);
    let messages: usize = convs
        .iter()
        .map(|c| c.turns.iter().filter(|t| t.role == Speaker::Agent).count())
        .sum();
    assert!(
        convs
            .iter()
            .any(|c| !audit(&linter, &settings, c).evidence.is_empty()),
        "the bench must find something"
    );
    let mut group = c.benchmark_group("audit");
    group.throughput(Throughput::Elements(messages as u64));
    group.bench_function("200-conversations-1000-agent-messages", |b| {
        b.iter(|| {
            for conv in &convs {
                black_box(audit(&linter, &settings, black_box(conv)));
            }
        });
    });
    // The customer's side alone: how much of the above the outcome reading costs.
    group.bench_function("outcome-only-200-conversations", |b| {
        b.iter(|| {
            for conv in &convs {
                black_box(kefu::audit::outcome::assess(black_box(conv)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
