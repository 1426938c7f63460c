//! Splits a draft into sentences and clauses at full- and half-width punctuation, and finds the
//! quoted stretches (a customer's words repeated back) that are not the agent's own words.

use super::span::Span;

/// One clause: the text between two punctuation marks, trimmed of white space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clause {
    pub span: Span,
    /// Index of the sentence (split at 。！？ and line breaks) the clause belongs to; numbered
    /// steps (1、…。2、…) count as one sentence.
    pub sentence: usize,
    /// The punctuation mark that ends the clause, if any.
    pub end_mark: Option<char>,
}

/// The clauses and quoted stretches of one text.
#[derive(Debug, Clone, Default)]
pub struct Clauses {
    pub clauses: Vec<Clause>,
    pub quoted: Vec<Span>,
}

/// Ends a sentence.
pub fn is_sentence_end(c: char) -> bool {
    matches!(c, '。' | '！' | '!' | '？' | '?' | '\n' | '\r' | '…' | '．')
}

/// Ends a clause (sentence ends included).
pub fn is_clause_end(c: char) -> bool {
    is_sentence_end(c)
        || matches!(
            c,
            '，' | ','
                | '、'
                | '；'
                | ';'
                | '：'
                | ':'
                | '～'
                | '~'
                | '\t'
                | '（'
                | '）'
                | '('
                | ')'
        )
}

/// Punctuation, quote marks and white space: what carries no words.
pub fn is_punct_or_space(c: char) -> bool {
    c.is_whitespace()
        || is_clause_end(c)
        || matches!(
            c,
            '“' | '”'
                | '"'
                | '「'
                | '」'
                | '『'
                | '』'
                | '‘'
                | '’'
                | '\''
                | '.'
                | '·'
                | '-'
                | '—'
                | '【'
                | '】'
                | '['
                | ']'
                | '《'
                | '》'
                | '<'
                | '>'
        )
}

impl Clauses {
    pub fn new(text: &str) -> Self {
        let mut clauses = Vec::new();
        let mut sentence = 0;
        let mut start = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            // A '.' between digits is a decimal point, not a break.
            let decimal = c == '.'
                && text[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_ascii_digit())
                && chars.peek().is_some_and(|&(_, n)| n.is_ascii_digit());
            if (is_clause_end(c) || c == '.') && !decimal {
                push(text, &mut clauses, start, i, sentence, Some(c));
                if is_sentence_end(c) || c == '.' && !after_step_number(&text[..i]) {
                    sentence += 1;
                }
                start = i + c.len_utf8();
            }
        }
        push(text, &mut clauses, start, text.len(), sentence, None);
        join_numbered_steps(text, &mut clauses);
        Self {
            clauses,
            quoted: quoted(text),
        }
    }

    /// Whether `span` lies inside quotation marks.
    pub fn is_quoted(&self, span: Span) -> bool {
        // Quoted stretches are disjoint and in order: only the last one starting at or before
        // the span can hold it.
        let k = self.quoted.partition_point(|q| q.start <= span.start);
        k > 0 && self.quoted[k - 1].contains(span)
    }

    /// The clause containing byte `pos`.
    pub fn at(&self, pos: usize) -> Option<&Clause> {
        // Clauses are in order and do not overlap: a binary search, not a scan, so a long draft
        // with many findings stays linear.
        let k = self.clauses.partition_point(|c| c.span.start <= pos);
        self.clauses[..k]
            .iter()
            .rev()
            .take(2)
            .find(|c| c.span.start <= pos && pos < c.span.end.max(c.span.start + 1))
    }
}

/// Whether `before` ends with a step number, 1 or 2 digits after anything but a digit: the '.'
/// after it (1.打开App, 选择云卡3.输入密码) numbers a step and ends no sentence.
fn after_step_number(before: &str) -> bool {
    let digits = before
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .count();
    (1..=2).contains(&digits)
}

/// Numbered steps are one instruction, however they are punctuated (1、打开App。2、点击我的订单):
/// a sentence that starts with a step number joins the sentence before it. One 请 before the
/// steps then asks for all of them.
fn join_numbered_steps(text: &str, clauses: &mut [Clause]) {
    let mut id = 0;
    let mut previous: Option<usize> = None;
    for clause in clauses {
        if previous.is_some_and(|p| p != clause.sentence)
            && !is_step_number(clause.span.slice(text))
        {
            id += 1;
        }
        previous = Some(clause.sentence);
        clause.sentence = id;
    }
}

/// A step's number: 1–99 in digits of either width or 一–十… in Chinese, alone or as 方法二,
/// 步骤3, 第一步.
fn is_step_number(text: &str) -> bool {
    let text = text
        .strip_prefix("方法")
        .or_else(|| text.strip_prefix("步骤"))
        .unwrap_or(text);
    let text = text
        .strip_prefix('第')
        .and_then(|t| t.strip_suffix('步'))
        .unwrap_or(text);
    let digits = text.chars().count();
    (1..=2).contains(&digits)
        && (text
            .chars()
            .all(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
            || text.chars().all(|c| "一二三四五六七八九十".contains(c)))
}

fn push(
    text: &str,
    out: &mut Vec<Clause>,
    start: usize,
    end: usize,
    sentence: usize,
    mark: Option<char>,
) {
    let raw = &text[start..end];
    let lead = raw.len() - raw.trim_start().len();
    let trail = raw.len() - raw.trim_end().len();
    if lead + trail >= raw.len() {
        return;
    }
    out.push(Clause {
        span: Span::new(start + lead, end - trail),
        sentence,
        end_mark: mark,
    });
}

/// Stretches between matching quotation marks, marks included.
fn quoted(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut open: Option<(usize, char)> = None;
    for (i, c) in text.char_indices() {
        match open {
            None => {
                if matches!(c, '“' | '「' | '『' | '‘' | '"') {
                    open = Some((i, c));
                }
            }
            Some((start, o)) => {
                let close = match o {
                    '“' => '”',
                    '「' => '」',
                    '『' => '』',
                    '‘' => '’',
                    _ => '"',
                };
                if c == close {
                    out.push(Span::new(start, i + c.len_utf8()));
                    open = None;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        Clauses::new(text)
            .clauses
            .iter()
            .map(|c| c.span.slice(text))
            .collect()
    }

    #[test]
    fn splits_at_full_and_half_width_marks() {
        assert_eq!(
            texts("亲，请稍等。马上为您查询!好的"),
            ["亲", "请稍等", "马上为您查询", "好的"]
        );
        assert_eq!(texts("  "), Vec::<&str>::new());
        assert_eq!(texts("价格是2.5元, 谢谢"), ["价格是2.5元", "谢谢"]);
    }

    #[test]
    fn sentences_are_numbered() {
        let c = Clauses::new("您好，请稍等。谢谢");
        let s: Vec<usize> = c.clauses.iter().map(|c| c.sentence).collect();
        assert_eq!(s, [0, 0, 1]);
        assert_eq!(c.clauses[1].end_mark, Some('。'));
    }

    #[test]
    fn numbered_steps_are_one_sentence() {
        let sentences = |text: &str| -> Vec<(String, usize)> {
            Clauses::new(text)
                .clauses
                .iter()
                .map(|c| (c.span.slice(text).to_owned(), c.sentence))
                .collect()
        };
        let ids = |text: &str| {
            sentences(text)
                .into_iter()
                .map(|(_, s)| s)
                .collect::<Vec<_>>()
        };
        // Steps after 。, after a bare "2." and in Chinese numerals all join the first sentence.
        assert_eq!(
            ids("请按以下步骤操作：1、打开App。2、点击我的订单。3、选择退款"),
            [0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(ids("1.打开淘寶App 2.点击我的订单"), [0, 0, 0]);
        assert_eq!(ids("方法一：打开设置。方法二：打开钱包😊"), [0, 0, 0, 0]);
        assert_eq!(ids("（１）登录。（２）付款"), [0, 0, 0, 0]);
        // Other sentences stay apart, numbers that are no step too.
        assert_eq!(ids("您好，请稍等。谢谢"), [0, 0, 1]);
        assert_eq!(ids("运费12。退款明天到"), [0, 1]);
        assert_eq!(ids("要100个。好的"), [0, 1]);
        assert!(!is_step_number("100") && !is_step_number("") && is_step_number("第三步"));
    }

    #[test]
    fn quotes_are_found() {
        let text = "您说的“你们发错货了”我们已记录，「妳」也是";
        let c = Clauses::new(text);
        assert_eq!(c.quoted.len(), 2);
        assert_eq!(c.quoted[0].slice(text), "“你们发错货了”");
        assert!(c.is_quoted(Span::new(
            text.find("你们").unwrap(),
            text.find("你们").unwrap() + 6
        )));
    }
}
