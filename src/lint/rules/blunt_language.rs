//! `blunt-language`: harsh, cold or dismissive words and bare refusals (三不: 不使用生硬语言).

use crate::error::Error;
use crate::lexicon::DEFAULT_SECTION;
use crate::lint::registry::{RuleDef, RuleDoc};
use crate::lint::rules::LexiconCheck;
use crate::lint::{BuildContext, Check, Role, Severity};

pub const RULE: RuleDef = RuleDef {
    doc: RuleDoc {
        id: "blunt-language",
        code: "KF201",
        severity: Severity::Error,
        message: "语气生硬，请换成委婉、有温度的说法",
        message_en: "Blunt or cold wording; say it gently",
        what: "harsh, cold or dismissive language, by kind: insults and abuse (神经病/脑子进水/你瞎啊), defiance (我就这态度/差评就差评), daring a complaint (有本事你去投诉/投诉也没用), no time or patience (我没空/急什么/别烦我), sending the customer elsewhere (找我们领导去/去别的店买吧), put-downs (你以为你是谁), dismissive words (随便/爱买不买/关我什么事) and bare refusals as the whole reply (不行！/不能提供！/不退就是不退/不会用就别用)",
        why: "生硬的拒绝让客户觉得被打发，是投诉和差评最常见的原因；同样的事实换一种说法，客户就能接受。",
        bad: &[
            "不知道！",
            "不行。",
            "爱买不买",
            "没有，自己看详情页",
            "随便你",
            "你以为你是谁！",
            "有本事你去投诉啊",
            "我没时间和你废话",
            "找我们领导去",
            "不退就是不退",
        ],
        good: &[
            "不好意思，这款目前没有现货，到货后第一时间通知您",
            "这个问题我帮您确认一下，请稍等",
            "不知道您方便什么时候收货呢？",
        ],
        instead: "先致歉或共情，再说明原因和能做的事：不好意思，这个暂时不行，我们可以为您……",
        whole_message: false,
        words_section: DEFAULT_SECTION,
        example_role: Role::Reply,
        example_customer: None,
    },
    build,
};

const SUGGESTIONS: &[&str] = &[
    "不好意思，这个我马上帮您确认一下",
    "非常抱歉，这个暂时无法办到，我们可以为您……",
];

fn build(cx: &BuildContext<'_>) -> Result<Box<dyn Check>, Error> {
    Ok(Box::new(LexiconCheck::new(cx, RULE.doc.id, SUGGESTIONS)?))
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "blunt-language",
            &[
                ("不知道！", &["不知道"], "bare refusal"),
                ("谁知道呢，可能快递慢了", &["谁知道呢"], "shrugging it off"),
                ("不行就算了", &["不行就算了"], "take it or leave it"),
                (
                    "一分钱一分货",
                    &["一分钱一分货"],
                    "you get what you pay for",
                ),
                ("別激動", &["別激動"], "Traditional"),
                ("懂了吗？", &["懂了吗"], "condescending check"),
                ("明白了，我马上处理", &[], "the agent understood"),
                ("还有事吗", &["还有事吗"], "curt"),
                ("请问还有其他问题吗", &[], "the polite form"),
                ("没事我下了", &["没事我下了"], "leaving"),
                ("没有为什么", &["没有为什么"], "no reason given"),
                (
                    "我也不知道啊",
                    &["我也不知道啊"],
                    "bare refusal behind a subject",
                ),
                ("不行", &["不行"], "bare refusal"),
                ("没有！", &["没有"], "bare refusal"),
                ("爱买不买", &["爱买不买"], "dismissive"),
                ("關我什麼事", &["關我什麼事"], "Traditional"),
                ("随便你😅", &["随便你"], "dismissive, emoji after"),
                (
                    "不好意思，这款目前没有现货",
                    &[],
                    "没有 is part of a polite explanation, not a bare refusal",
                ),
                (
                    "不知道您方便什么时候收货呢？",
                    &[],
                    "不知道您… is a polite question",
                ),
                (
                    "这个尺码没有了，给您推荐L码好吗",
                    &[],
                    "没有 inside a sentence with an alternative",
                ),
                ("", &[], "empty draft"),
            ],
        );
    }

    /// Each kind of rude language, in every form a writer may give it (see caught_in_every_form).
    #[test]
    fn kinds() {
        use crate::lint::rules::testing::caught_in_every_form;
        caught_in_every_form(&[
            // insults and abuse
            "你脑子进水了吧",
            "神经病",
            "你眼瞎啊",
            "真是个白痴",
            "滚出去",
            // defiance about one's own attitude
            "我就这态度",
            "怪我咯",
            "差评就差评",
            "你爱找谁找谁",
            // daring a complaint
            "有本事你去投诉",
            "投诉也没用",
            "你想投诉就投诉",
            "随便你投诉",
            // no time or patience
            "我没空",
            "我没时间跟你说",
            "别烦我",
            "没看到我在忙吗",
            "急什么",
            // sending the customer elsewhere
            "找我们领导去",
            "去别的店买吧",
            "不满意就去别家",
            // the customer as a type, their time not worth ours
            "你这种客户我见多了",
            "别浪费我时间",
            "没什么好解释的",
            // put-downs
            "你以为你是谁",
            "我说了算还是你说了算",
            "我还能骗你不成",
            "你算老几",
            // bare refusals as the whole reply
            "不能提供",
            "不退就是不退",
            "不会用就别用",
            "爱要不要",
            "没货了",
        ]);
    }
}
