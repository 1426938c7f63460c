//! Suggestion latency on the shipped knowledge base, on the real evaluation FAQ (when
//! `../shared/eval` is beside the checkout) and on a generated 10,000-entry knowledge base, plus
//! the time to build an index and to write one entry to a large one on disk.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kefu::Linter;
use kefu::suggest::kb::{self, KbEntry, Phrase};
use kefu::suggest::{SuggestRequest, Suggester};

const QUESTIONS: &[&str] = &[
    "我拍下了还没付款，订单怎么就关闭了",
    "親，運費險怎麼用？",
    "快递到哪了",
    "东西收到是坏的怎么办",
    "能开专票吗",
];

fn shipped_kb() -> Vec<KbEntry> {
    kb::parse::<KbEntry>(kb::DEFAULT_KB).dedup_last_wins(|e| &e.id)
}

fn shipped_phrases() -> Vec<Phrase> {
    kb::parse::<Phrase>(kb::DEFAULT_PHRASES).dedup_last_wins(|p| &p.id)
}

/// 10,000 entries: the shipped ones asked about many different products.
fn large_kb() -> Vec<KbEntry> {
    const PRODUCTS: &[&str] = &[
        "连衣裙",
        "运动鞋",
        "手机壳",
        "保温杯",
        "床单",
        "台灯",
        "耳机",
        "背包",
        "口红",
        "面膜",
        "猫粮",
        "茶叶",
        "雨伞",
        "键盘",
        "拖鞋",
        "围巾",
        "玩具车",
        "奶粉",
        "咖啡豆",
        "电饭煲",
        "吹风机",
        "牙刷",
        "书包",
        "帽子",
        "手表",
        "钱包",
        "眼镜",
        "衬衫",
        "牛仔裤",
        "外套",
        "羽绒服",
        "枕头",
        "毛巾",
        "水杯",
        "餐具",
        "花瓶",
        "相框",
        "笔记本",
        "钢笔",
        "袜子",
        "内衣",
        "睡衣",
        "香水",
        "洗发水",
        "沐浴露",
        "数据线",
        "充电宝",
        "鼠标",
        "显示器",
        "音箱",
        "路由器",
        "插座",
        "灯泡",
        "风扇",
        "加湿器",
        "空气炸锅",
        "榨汁机",
        "烤箱",
        "锅具",
        "刀具",
    ];
    let base = shipped_kb();
    let mut out = Vec::with_capacity(10_000);
    'outer: for p in PRODUCTS {
        for e in &base {
            out.push(KbEntry {
                id: format!("{}-{p}", e.id),
                question: format!("{p}{}", e.question),
                similar: e.similar.iter().map(|s| format!("{p}{s}")).collect(),
                answer: e.answer.clone(),
                category: e.category.clone(),
                tags: e.tags.clone(),
            });
            if out.len() == 10_000 {
                break 'outer;
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let linter = Linter::with_defaults().expect("shipped rules build");
    let shipped_questions: Vec<String> = QUESTIONS.iter().map(|q| q.to_string()).collect();
    let mut sets: Vec<(String, Suggester, Vec<String>)> = vec![(
        "shipped".to_owned(),
        Suggester::build(&shipped_kb(), &shipped_phrases(), None).unwrap(),
        shipped_questions.clone(),
    )];
    // The evaluation FAQ with the first 50 of its real customer questions, read at run time.
    let eval = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    if let (Ok(text), Ok(queries)) = (
        std::fs::read_to_string(eval.join("unionpay_kb.jsonl")),
        std::fs::read_to_string(eval.join("unionpay_queries_dev.jsonl")),
    ) {
        let kb = kb::parse::<KbEntry>(&text).dedup_last_wins(|e| &e.id);
        let (queries, _) = kefu::suggest::eval::parse_queries(&queries);
        sets.push((
            "eval-745".to_owned(),
            Suggester::build(&kb, &[], None).unwrap(),
            queries.into_iter().take(50).map(|q| q.text).collect(),
        ));
    }
    let large = large_kb();
    assert_eq!(large.len(), 10_000);
    sets.push((
        "generated-10k".to_owned(),
        Suggester::build(&large, &shipped_phrases(), None).unwrap(),
        shipped_questions,
    ));

    let mut group = c.benchmark_group("suggest");
    for (name, s, questions) in &sets {
        // The benchmark must measure real work: every question finds candidates.
        for q in questions {
            assert!(
                !s.search(q, 3).unwrap().is_empty(),
                "{name}: nothing for {q}"
            );
        }
        group.throughput(Throughput::Elements(questions.len() as u64));
        let id = BenchmarkId::new(format!("search-{}-questions", questions.len()), name);
        group.bench_with_input(id, s, |b, s| {
            b.iter(|| {
                for q in questions {
                    black_box(s.search(black_box(q), 3).unwrap());
                }
            });
        });
    }
    let shipped = &sets[0].1;
    group.bench_function("suggest-with-lint/shipped", |b| {
        let req = SuggestRequest::new(QUESTIONS[0]);
        b.iter(|| black_box(shipped.suggest(&linter, black_box(&req)).unwrap()));
    });
    // A message of two sentences: the whole message, then each sentence alone.
    group.bench_function("search-two-sentences/shipped", |b| {
        let message = "还没发货能退款吗？另外能开发票吗";
        b.iter(|| black_box(shipped.search(black_box(message), 3).unwrap()));
    });
    group.finish();

    // The question's meaning, embedded afresh (a suggester keeps the last questions' vectors,
    // so the searches above measure a question asked again): what a new question costs more.
    if let Some(encoder) = kefu::suggest::semantic::encoder() {
        let questions = &sets
            .iter()
            .find(|s| s.0 == "eval-745")
            .unwrap_or(&sets[0])
            .2;
        let mut embed = c.benchmark_group("embed");
        embed.throughput(Throughput::Elements(questions.len() as u64));
        embed.sample_size(10);
        embed.bench_function(format!("question-{}", questions.len()), |b| {
            b.iter(|| {
                for q in questions {
                    black_box(encoder.embed(black_box(q), kefu::embed::Role::Query));
                }
            });
        });
        embed.finish();
    }

    let mut build = c.benchmark_group("index-build");
    build.sample_size(10);
    let kb = shipped_kb();
    let phrases = shipped_phrases();
    build.bench_function("shipped", |b| {
        b.iter(|| Suggester::build(black_box(&kb), &phrases, None).unwrap())
    });
    build.finish();

    // A single-entry write to an on-disk index of the 10,000 generated entries, then the index
    // seen again: reopened (taking over what did not change) or opened afresh.
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let dir = scratch.path();
    Suggester::build(&large, &shipped_phrases(), Some(dir)).unwrap();
    let mut write = c.benchmark_group("kb-write");
    write.sample_size(10);
    let mut n = 0;
    let mut entry = || {
        n += 1;
        KbEntry {
            id: format!("written-{}", n % 500),
            question: format!("第{n}个新问题怎么处理"),
            similar: Vec::new(),
            answer: "您好，请您稍等，我为您查询。".to_owned(),
            category: String::new(),
            tags: Vec::new(),
        }
    };
    let mut open = Suggester::open(dir).unwrap();
    write.bench_function("single-write-reopen/generated-10k", |b| {
        b.iter(|| {
            Suggester::update(dir, &[entry()], &[]).unwrap();
            open = open.reopen(dir).unwrap();
        })
    });
    write.bench_function("single-write-open-afresh/generated-10k", |b| {
        b.iter(|| {
            Suggester::update(dir, &[entry()], &[]).unwrap();
            open = Suggester::open(dir).unwrap();
        })
    });
    write.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
