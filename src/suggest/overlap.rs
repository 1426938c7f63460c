//! Ordered character overlap between a customer's question and a knowledge-base question: the
//! longest common subsequence of their characters, computed bit-parallel so scoring every
//! candidate costs a few nanoseconds per character.
//!
//! Bag-of-words scores cannot tell 签字的单子没有出来 from 单子签字出来没有; the longest common
//! subsequence rewards candidates that say the same things in the same order, and, divided by
//! each side's length, says how much of each question the other one covers.

/// Characters of the question that take part: the first 128 (a longer question is compared by
/// its beginning; customers rarely write that much in one question).
const WIDTH: usize = u128::BITS as usize;

/// A text's characters as scoring reads them: the distinct ones, sorted, with their counts (for
/// BM25), and the text as indices into them (for the overlap).
#[derive(Debug, Clone, Default)]
pub struct Chars {
    pub counts: Vec<(char, u16)>,
    pub order: Vec<u16>,
}

impl Chars {
    pub fn new(text: &[char]) -> Self {
        let mut counts: Vec<(char, u16)> = text.iter().map(|&c| (c, 0)).collect();
        counts.sort_unstable();
        counts.dedup();
        let order = text
            .iter()
            .map(|c| {
                let i = counts.partition_point(|(x, _)| x < c);
                counts[i].1 = counts[i].1.saturating_add(1);
                i as u16
            })
            .collect();
        Self { counts, order }
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// A question prepared for comparison: for each distinct character, the positions where it
/// occurs, as a bit mask.
#[derive(Debug, Clone, Default)]
pub struct Overlap {
    masks: Vec<(char, u128)>,
    len: usize,
    /// The masks of one compared text's distinct characters (reused across texts).
    scratch: Vec<u128>,
}

impl Overlap {
    pub fn new(question: &[char]) -> Self {
        let question = &question[..question.len().min(WIDTH)];
        let mut masks: Vec<(char, u128)> = Vec::with_capacity(question.len());
        for (i, &c) in question.iter().enumerate() {
            match masks.iter_mut().find(|(x, _)| *x == c) {
                Some((_, m)) => *m |= 1 << i,
                None => masks.push((c, 1 << i)),
            }
        }
        masks.sort_unstable_by_key(|(c, _)| *c);
        Self {
            masks,
            len: question.len(),
            scratch: Vec::new(),
        }
    }

    /// Length of the longest common subsequence of the question and `other` (Hyyrö's
    /// bit-vector algorithm: one add and a few logical operations per character of `other`,
    /// after one merge of the two sorted character sets).
    pub fn lcs(&mut self, other: &Chars) -> usize {
        if self.len == 0 {
            return 0;
        }
        self.scratch.clear();
        self.scratch.resize(other.counts.len(), 0);
        let (mut i, mut j) = (0, 0);
        while i < self.masks.len() && j < other.counts.len() {
            let (qc, mask) = self.masks[i];
            let dc = other.counts[j].0;
            if qc == dc {
                self.scratch[j] = mask;
            }
            i += usize::from(qc <= dc);
            j += usize::from(dc <= qc);
        }
        let all = if self.len == WIDTH {
            u128::MAX
        } else {
            (1u128 << self.len) - 1
        };
        let mut v = all;
        for &k in &other.order {
            let m = self.scratch[usize::from(k)];
            v = v.wrapping_add(v & m) | (v & !m);
        }
        (!v & all).count_ones() as usize
    }

    /// The mean of the shares of each side covered by their common subsequence, 0–1: 1 for
    /// the same characters in the same order, ½ when one question is the other plus as much
    /// again.
    pub fn similarity(&mut self, other: &Chars) -> f32 {
        if self.len == 0 || other.is_empty() {
            return 0.0;
        }
        let common = self.lcs(other) as f32;
        (common / self.len as f32 + common / other.len() as f32) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook dynamic programme, to check the bit-parallel one against.
    fn lcs_dp(a: &[char], b: &[char]) -> usize {
        let mut prev = vec![0; b.len() + 1];
        for &x in a {
            let mut cur = vec![0; b.len() + 1];
            for (j, &y) in b.iter().enumerate() {
                cur[j + 1] = if x == y {
                    prev[j] + 1
                } else {
                    cur[j].max(prev[j + 1])
                };
            }
            prev = cur;
        }
        prev[b.len()]
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn matches_the_dynamic_programme() {
        let texts = [
            "",
            "刷卡没出单子怎么办",
            "今天刷卡消费没有打印签购单银行卡已扣账我该如何处理",
            "单子签字出来没有",
            "签字的单子没有出来",
            "aaaa",
            "abab",
            "退款退款退款",
            "🙂退款🙂",
        ];
        for a in texts {
            for b in texts {
                let (a, b) = (chars(a), chars(b));
                assert_eq!(
                    Overlap::new(&a).lcs(&Chars::new(&b)),
                    lcs_dp(&a, &b),
                    "{a:?} / {b:?}"
                );
            }
        }
    }

    #[test]
    fn long_questions_are_compared_by_their_first_128_characters() {
        let long: Vec<char> = "退款多久到账".chars().cycle().take(300).collect();
        let mut o = Overlap::new(&long);
        assert_eq!(o.lcs(&Chars::new(&long)), 128);
        assert_eq!(o.lcs(&Chars::new(&long[..127])), 127);
        let first: Vec<char> = long[..128].to_vec();
        assert_eq!(
            o.lcs(&Chars::new(&long[100..])),
            lcs_dp(&first, &long[100..])
        );
    }

    #[test]
    fn order_counts() {
        let mut q = Overlap::new(&chars("签字的单子没有出来"));
        let mut sim = |s: &str| q.similarity(&Chars::new(&chars(s)));
        let same_order = sim("签字单子没出来");
        let shuffled = sim("出来没单子签字");
        assert!(same_order > shuffled, "{same_order} vs {shuffled}");
        assert_eq!(sim("签字的单子没有出来"), 1.0);
        assert_eq!(sim(""), 0.0);
    }

    #[test]
    fn chars_count_and_index_the_text() {
        let c = Chars::new(&chars("退款退货"));
        assert_eq!(c.len(), 4);
        let distinct: Vec<char> = c.counts.iter().map(|x| x.0).collect();
        let mut sorted = vec!['退', '款', '货'];
        sorted.sort_unstable();
        assert_eq!(distinct, sorted);
        assert_eq!(c.counts.iter().find(|x| x.0 == '退').unwrap().1, 2);
        let back: String = c
            .order
            .iter()
            .map(|&i| c.counts[usize::from(i)].0)
            .collect();
        assert_eq!(back, "退款退货");
    }
}
