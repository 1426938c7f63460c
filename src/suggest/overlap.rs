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

/// A question prepared for comparison: for each distinct character, the positions where it
/// occurs, as a bit mask.
#[derive(Debug, Clone, Default)]
pub struct Overlap {
    masks: Vec<(char, u128)>,
    len: usize,
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
        }
    }

    /// Length of the longest common subsequence of the question and `other` (Hyyrö's
    /// bit-vector algorithm: one add and a few logical operations per character of `other`).
    pub fn lcs(&self, other: &[char]) -> usize {
        if self.len == 0 {
            return 0;
        }
        let all = if self.len == WIDTH {
            u128::MAX
        } else {
            (1u128 << self.len) - 1
        };
        let mut v = all;
        for c in other {
            if let Ok(i) = self.masks.binary_search_by_key(c, |(x, _)| *x) {
                let m = self.masks[i].1;
                v = v.wrapping_add(v & m) | (v & !m);
            }
        }
        (!v & all).count_ones() as usize
    }

    /// The mean of the shares of each side covered by their common subsequence, 0–1: 1 for
    /// the same characters in the same order, ½ when one question is the other plus as much
    /// again.
    pub fn similarity(&self, other: &[char]) -> f32 {
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
                assert_eq!(Overlap::new(&a).lcs(&b), lcs_dp(&a, &b), "{a:?} / {b:?}");
            }
        }
    }

    #[test]
    fn long_questions_are_compared_by_their_first_128_characters() {
        let long: Vec<char> = "退款多久到账".chars().cycle().take(300).collect();
        let o = Overlap::new(&long);
        assert_eq!(o.lcs(&long), 128);
        assert_eq!(o.lcs(&long[..127]), 127);
        let first: Vec<char> = long[..128].to_vec();
        assert_eq!(o.lcs(&long[100..]), lcs_dp(&first, &long[100..]));
    }

    #[test]
    fn order_counts() {
        let q = Overlap::new(&chars("签字的单子没有出来"));
        let same_order = q.similarity(&chars("签字单子没出来"));
        let shuffled = q.similarity(&chars("出来没单子签字"));
        assert!(same_order > shuffled, "{same_order} vs {shuffled}");
        assert_eq!(q.similarity(&chars("签字的单子没有出来")), 1.0);
        assert_eq!(q.similarity(&[]), 0.0);
    }
}
