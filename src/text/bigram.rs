//! Character bigrams of a text's letters and digits, as a sorted set, and the Jaccard
//! similarity of two such sets: how alike two short texts are in wording (the audit's repeated
//! asks, mining's replies and questions).

/// The distinct bigrams of `text`'s letters and digits (punctuation, spaces and emoji skipped),
/// sorted.
pub fn letter_bigrams(text: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut grams: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// Shared bigrams of two sorted sets over all of theirs; 0 when either is empty.
pub fn jaccard(a: &[(char, char)], b: &[(char, char)]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f32 / (a.len() + b.len() - shared) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_skip_punctuation_and_emoji_and_compare_by_share() {
        assert_eq!(
            letter_bigrams("能寄吗？🙏能寄"),
            [('吗', '能'), ('寄', '吗'), ('能', '寄')]
        );
        assert!(letter_bigrams("好").is_empty());
        let a = letter_bigrams("可以寄到国外吗");
        let b = letter_bigrams("寄到国外可以不");
        assert!((jaccard(&a, &b) - 0.5).abs() < 1e-6);
        assert_eq!(jaccard(&a, &[]), 0.0);
        assert_eq!(jaccard(&a, &a), 1.0);
    }
}
