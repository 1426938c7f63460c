//! Spans are byte ranges into the original UTF-8 text; char and UTF-16 offsets are derived only
//! when a result is rendered for a client.

use serde::Serialize;

/// A half-open byte range `start..end` into the original text, always on char boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    pub const fn len(self) -> usize {
        self.end - self.start
    }

    pub const fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// Whether `other` lies entirely inside this span.
    pub const fn contains(self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether the two spans share at least one byte.
    pub const fn overlaps(self, other: Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// The text this span covers.
    pub fn slice(self, text: &str) -> &str {
        &text[self.start..self.end]
    }
}

/// The same range expressed in the three units clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Offsets {
    /// Bytes of the UTF-8 text.
    pub span: Span,
    /// Unicode scalar values.
    pub chars: Span,
    /// UTF-16 code units (JavaScript string indices).
    pub utf16: Span,
}

/// Converts a byte span of `text` into byte, char and UTF-16 offsets.
///
/// Walks the prefix once; drafts are short, and rendering happens once per finding.
pub fn offsets(text: &str, span: Span) -> Offsets {
    let mut chars = 0;
    let mut utf16 = 0;
    let mut start = None;
    for (i, c) in text.char_indices() {
        if i == span.start {
            start = Some((chars, utf16));
        }
        if i == span.end {
            break;
        }
        chars += 1;
        utf16 += c.len_utf16();
    }
    let (cs, us) = start.unwrap_or((chars, utf16));
    Offsets {
        span,
        chars: Span::new(cs, chars),
        utf16: Span::new(us, utf16),
    }
}

/// [`offsets`] of many spans of one text in a single walk over it, so a draft with thousands of
/// findings costs one pass, not one per finding. The result is in the order of `spans`.
pub fn offsets_many(text: &str, spans: &[Span]) -> Vec<Offsets> {
    // Every boundary asked for, in order, each resolved once as the walk passes it.
    let mut points: Vec<usize> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
    points.sort_unstable();
    points.dedup();
    let mut at: Vec<(usize, usize)> = Vec::with_capacity(points.len());
    let (mut chars, mut utf16) = (0, 0);
    let mut next = points.iter().peekable();
    for (i, c) in text.char_indices() {
        while next.next_if(|&&p| p <= i).is_some() {
            at.push((chars, utf16));
        }
        if next.peek().is_none() {
            break;
        }
        chars += 1;
        utf16 += c.len_utf16();
    }
    at.resize(points.len(), (chars, utf16));
    let find = |p: usize| {
        at[points
            .binary_search(&p)
            .expect("every boundary was collected")]
    };
    spans
        .iter()
        .map(|&span| {
            let ((cs, us), (ce, ue)) = (find(span.start), find(span.end));
            Offsets {
                span,
                chars: Span::new(cs, ce),
                utf16: Span::new(us, ue),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, needle: &str, chars: (usize, usize), utf16: (usize, usize)) {
        let start = text.find(needle).unwrap();
        let o = offsets(text, Span::new(start, start + needle.len()));
        assert_eq!(
            (o.chars.start, o.chars.end),
            chars,
            "chars of {needle} in {text}"
        );
        assert_eq!(
            (o.utf16.start, o.utf16.end),
            utf16,
            "utf16 of {needle} in {text}"
        );
        let as_chars: String = text.chars().skip(chars.0).take(chars.1 - chars.0).collect();
        assert_eq!(as_chars, needle);
        let units: Vec<u16> = text.encode_utf16().collect();
        assert_eq!(
            String::from_utf16(&units[utf16.0..utf16.1]).unwrap(),
            needle
        );
    }

    #[test]
    fn many_spans_in_one_walk_agree_with_one_at_a_time() {
        let text = "亲😀😀请稍等，你的包裹「您好」已发出🎉";
        let mut spans = Vec::new();
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        for (k, &a) in bounds.iter().enumerate() {
            for &b in &bounds[k..] {
                spans.push(Span::new(a, b));
            }
        }
        spans.reverse(); // any order
        let many = offsets_many(text, &spans);
        for (s, o) in spans.iter().zip(&many) {
            assert_eq!(*o, offsets(text, *s), "{s:?}");
        }
        assert!(offsets_many(text, &[]).is_empty());
    }

    #[test]
    fn cjk_offsets() {
        check("你好，把订单号发过来", "你", (0, 1), (0, 1));
        check("你好，把订单号发过来", "发过来", (7, 10), (7, 10));
    }

    #[test]
    fn emoji_shifts_utf16_but_not_chars() {
        // 😀 is one char but two UTF-16 units.
        check("😀你好", "你", (1, 2), (2, 3));
        check("亲😀😀请稍等，你的包裹", "你的", (7, 9), (9, 11));
    }

    #[test]
    fn traditional_offsets() {
        check("您好，妳的訂單已發貨", "妳", (3, 4), (3, 4));
    }

    #[test]
    fn empty_span_at_end() {
        let o = offsets("好的", Span::new(6, 6));
        assert_eq!(o.chars, Span::new(2, 2));
        assert_eq!(o.utf16, Span::new(2, 2));
    }
}
