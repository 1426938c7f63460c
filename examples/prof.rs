fn main() {
    let l = kefu::Linter::with_defaults().unwrap();
    let t = "亲，你好！您的订单已经发货了，单号稍后发你，不知道的话自己去查，有问题随时联系我们。";
    for _ in 0..2000 {
        std::hint::black_box(l.lint(&kefu::LintRequest::new(std::hint::black_box(t))));
    }
}
