//! Checks the audit against people's grades: conversations with ratings
//! (`{"id","turns","rating":{"S":…}}`) are audited, and each of kefu's scores (overall, manner,
//! outcome) is correlated (Spearman ρ, Kendall τ-b) with each rating, with the share of the
//! conversations people rated worst that kefu also puts among its worst.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ConversationAudit;
use super::model::Conversation;

/// A conversation with its grades.
#[derive(Debug, Clone, Deserialize)]
pub struct Rated {
    #[serde(flatten)]
    pub conversation: Conversation,
    /// Rating name → grade (any scale; higher is better).
    pub rating: BTreeMap<String, f64>,
}

impl Rated {
    /// Parses one line; the error names what is wrong.
    pub fn parse(line: &str) -> Result<Self, String> {
        serde_json::from_str(line).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                crate::error::json_line_error(&e)
            } else {
                format!("{e} (expected {{\"id\",\"turns\":[…],\"rating\":{{\"S\":…}}}})")
            }
        })
    }
}

/// Kendall's τ is computed pair by pair; past this many rows it is left out.
pub const KENDALL_MAX: usize = 20_000;

/// The worst share compared: people's worst tenth against kefu's worst tenth.
pub const WORST_SHARE: f64 = 0.1;

/// One kefu score against one rating.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub score: &'static str,
    pub rating: String,
    pub spearman: f64,
    pub kendall: Option<f64>,
    /// Of the conversations people rated worst (the lowest tenth), the share kefu's same score
    /// also puts in its lowest tenth.
    pub worst_found: f64,
}

/// kefu's scores of an audit, by name.
pub fn scores(a: &ConversationAudit) -> [(&'static str, f64); 3] {
    [
        ("overall", f64::from(a.score)),
        ("manner", f64::from(a.manner)),
        ("outcome", f64::from(a.outcome.score)),
    ]
}

/// Every kefu score against every rating the rows share.
pub fn agreements(rows: &[(ConversationAudit, BTreeMap<String, f64>)]) -> Vec<Agreement> {
    let Some((_, first)) = rows.first() else {
        return Vec::new();
    };
    let names: Vec<&String> = first
        .keys()
        .filter(|k| rows.iter().all(|(_, r)| r.contains_key(*k)))
        .collect();
    let mut out = Vec::new();
    for (i, score) in ["overall", "manner", "outcome"].into_iter().enumerate() {
        let ours: Vec<f64> = rows.iter().map(|(a, _)| scores(a)[i].1).collect();
        for name in &names {
            let theirs: Vec<f64> = rows.iter().map(|(_, r)| r[*name]).collect();
            out.push(Agreement {
                score,
                rating: (*name).clone(),
                spearman: spearman(&ours, &theirs),
                kendall: (ours.len() <= KENDALL_MAX).then(|| kendall(&ours, &theirs)),
                worst_found: worst_found(&ours, &theirs, WORST_SHARE),
            });
        }
    }
    out
}

/// Ranks from 1, ties sharing their mean rank.
fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Spearman's ρ: Pearson's r of the ranks (ties averaged); 0 when either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// Kendall's τ-b, which corrects for ties on either side; 0 when either side is constant.
pub fn kendall(x: &[f64], y: &[f64]) -> f64 {
    let (mut concordant, mut discordant, mut tied_x, mut tied_y) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let dx = x[i].total_cmp(&x[j]) as i64;
            let dy = y[i].total_cmp(&y[j]) as i64;
            match (dx, dy) {
                (0, 0) => {}
                (0, _) => tied_x += 1,
                (_, 0) => tied_y += 1,
                _ if dx == dy => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let n1 = (concordant + discordant + tied_x) as f64;
    let n2 = (concordant + discordant + tied_y) as f64;
    if n1 == 0.0 || n2 == 0.0 {
        0.0
    } else {
        (concordant - discordant) as f64 / (n1 * n2).sqrt()
    }
}

/// Of the `share` of rows people rated lowest, the part that is also among our lowest `share`.
/// Ties at the cut are broken by row order on both sides.
pub fn worst_found(ours: &[f64], theirs: &[f64], share: f64) -> f64 {
    let n = ((ours.len() as f64 * share).round() as usize).max(1);
    let lowest = |xs: &[f64]| {
        let mut order: Vec<usize> = (0..xs.len()).collect();
        order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
        order.truncate(n);
        order
    };
    if ours.is_empty() {
        return 0.0;
    }
    let ours = lowest(ours);
    let theirs = lowest(theirs);
    theirs.iter().filter(|i| ours.contains(i)).count() as f64 / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_correlations_on_known_cases() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((spearman(&x, &[10.0, 20.0, 30.0, 40.0, 50.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&x, &[5.0, 4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert!((kendall(&x, &[5.0, 4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // One swapped pair of ten: τ = (9 − 1) / 10.
        assert!((kendall(&x, &[1.0, 2.0, 3.0, 5.0, 4.0]) - 0.8).abs() < 1e-12);
        // Ties: ranks are averaged (scipy: spearmanr([1,2,2,3],[1,2,3,4]) = 0.9486832980505138).
        assert!(
            (spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]) - 0.948_683_298_050_513_8)
                .abs()
                < 1e-12
        );
        // scipy: kendalltau([1,2,2,3],[1,2,3,4]) = 0.9128709291752769 (τ-b).
        assert!(
            (kendall(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]) - 0.912_870_929_175_276_9).abs()
                < 1e-12
        );
        assert_eq!(
            spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]),
            0.0,
            "constant"
        );
    }

    #[test]
    fn the_worst_found_is_the_overlap_of_both_lowest_tenths() {
        let theirs: Vec<f64> = (0..20).map(f64::from).collect();
        assert_eq!(worst_found(&theirs, &theirs, 0.1), 1.0);
        let reversed: Vec<f64> = theirs.iter().map(|x| -x).collect();
        assert_eq!(worst_found(&reversed, &theirs, 0.1), 0.0);
        let mut half = theirs.clone();
        half[1] = 100.0; // one of the two lowest is no longer ours
        assert_eq!(worst_found(&half, &theirs, 0.1), 0.5);
    }

    #[test]
    fn a_rated_line_parses_and_a_bad_one_says_what_is_expected() {
        let r = Rated::parse(
            r#"{"id":"x","turns":[{"role":"customer","text":"謝謝😀"}],"rating":{"S":1.5,"A":-0.5}}"#,
        )
        .unwrap();
        assert_eq!(r.rating["S"], 1.5);
        assert_eq!(r.conversation.turns.len(), 1);
        let e = Rated::parse(r#"{"id":"x","turns":[]}"#).unwrap_err();
        assert!(e.contains("rating"), "{e}");
        assert!(Rated::parse("{").unwrap_err().starts_with("not valid JSON"));
    }
}
