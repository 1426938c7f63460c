//! Learning from the shop: questions agents answered with an entry (a suggestion they
//! inserted, a pair a KB owner accepted) become that entry's similar questions, so the next
//! customer who asks that way finds it by words as well as by meaning.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::analyze::Analyzer;
use super::kb::{KbEntry, LineError};

/// A customer question and the entry that answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    pub question: String,
    pub id: String,
}

/// What `learn` did with the pairs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Learned {
    /// Similar questions added, as (entry id, question), in the order first accepted.
    pub added: Vec<(String, String)>,
    /// Pairs whose question the entry already holds (as written or once normalised).
    pub already: usize,
    /// Pairs confirmed fewer times than asked for, left for later.
    pub unconfirmed: usize,
    /// Questions another entry holds word for word: adding them would make a tie, so they are
    /// left to the KB owner, as (question, entry asked for, entry holding it).
    pub conflicts: Vec<(String, String, String)>,
    /// Pairs naming no entry, with their line.
    pub unknown: Vec<(usize, String)>,
}

/// Reads accepted pairs, one `{"question","id"}` per line; bad lines are errors naming them.
pub fn parse_accepted(text: &str) -> (Vec<(usize, Accepted)>, Vec<LineError>) {
    let (read, mut errors) = super::kb::json_lines::<Accepted>(text);
    let mut pairs = Vec::new();
    for (line, p) in read {
        if p.question.trim().is_empty() || p.id.trim().is_empty() {
            errors.push(LineError {
                line,
                message: "`question` and `id` must not be empty".to_owned(),
            });
        } else {
            pairs.push((line, p));
        }
    }
    errors.sort_by_key(|e| e.line);
    (pairs, errors)
}

/// A question as learning compares it: as the index analyses it (script, width, case, the
/// shop's synonyms), letters and digits only.
pub fn key(analyzer: &Analyzer, question: &str) -> String {
    analyzer
        .normalize(question)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Adds each question accepted for an entry at least `min_count` times as a similar question
/// of that entry, unless the entry holds it already or another entry holds it word for word.
/// Questions are compared as the index analyses them (`Analyzer::normalize`, punctuation and
/// spaces aside), and added as first written.
pub fn learn(
    entries: &mut [KbEntry],
    pairs: &[(usize, Accepted)],
    analyzer: &Analyzer,
    min_count: usize,
) -> Learned {
    let key = |q: &str| key(analyzer, q);
    let index: HashMap<&str, usize> = (entries.iter().enumerate())
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    // Which entry holds each question now.
    let mut holder: HashMap<String, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        for q in std::iter::once(&e.question).chain(&e.similar) {
            holder.entry(key(q)).or_insert(i);
        }
    }
    let mut learned = Learned::default();
    // (entry, question key) → times accepted, and the first wording.
    let mut counts: Vec<((usize, String), usize, String)> = Vec::new();
    for (line, pair) in pairs {
        let Some(&entry) = index.get(pair.id.as_str()) else {
            learned.unknown.push((*line, pair.id.clone()));
            continue;
        };
        let k = key(&pair.question);
        if k.is_empty() {
            continue;
        }
        match counts.iter_mut().find(|(c, _, _)| c.0 == entry && c.1 == k) {
            Some((_, n, _)) => *n += 1,
            None => counts.push(((entry, k), 1, pair.question.trim().to_owned())),
        }
    }
    for ((entry, k), n, question) in counts {
        match holder.get(&k) {
            Some(&h) if h == entry => learned.already += n,
            Some(&h) => {
                learned
                    .conflicts
                    .push((question, entries[entry].id.clone(), entries[h].id.clone()))
            }
            None if n < min_count => learned.unconfirmed += n,
            None => {
                entries[entry].similar.push(question.clone());
                holder.insert(k, entry);
                learned.added.push((entries[entry].id.clone(), question));
            }
        }
    }
    learned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::kb;

    fn shop() -> Vec<KbEntry> {
        kb::parse::<KbEntry>(concat!(
            "id,question,similar,answer\n",
            "insurance,运费险怎么理赔,运费险怎么赔,退货后自动理赔。\n",
            "invoice,发票怎么开,,请在订单页申请开票。\n",
        ))
        .dedup_last_wins(|e| &e.id)
    }

    #[test]
    fn accepted_questions_become_similar_questions_once() {
        let mut kb = shop();
        let text = concat!(
            "{\"question\":\"能开专票吗？\",\"id\":\"invoice\"}\n",
            "{\"question\":\"能開專票嗎\",\"id\":\"invoice\"}\n",
            "{\"question\":\"運費險怎麼賠\",\"id\":\"insurance\"}\n",
            "{\"question\":\"发票怎么开\",\"id\":\"insurance\"}\n",
            "{\"question\":\"在吗\",\"id\":\"nope\"}\n",
            "not json\n",
            "{\"question\":\"\",\"id\":\"invoice\"}\n",
        );
        let (pairs, errors) = parse_accepted(text);
        assert_eq!(
            errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            [6, 7],
            "{errors:?}"
        );
        let learned = learn(&mut kb, &pairs, Analyzer::shipped(), 1);
        // Traditional and Simplified, with or without ？, are one question, added as first written.
        assert_eq!(
            learned.added,
            [("invoice".to_owned(), "能开专票吗？".to_owned())]
        );
        assert_eq!(kb[1].similar, ["能开专票吗？"]);
        assert_eq!(learned.already, 1, "運費險怎麼賠 is held as 运费险怎么赔");
        assert_eq!(
            learned.conflicts.len(),
            1,
            "发票怎么开 is the invoice entry's question"
        );
        assert_eq!(learned.unknown, [(5, "nope".to_owned())]);
    }

    #[test]
    fn a_pair_waits_for_enough_confirmations() {
        let mut kb = shop();
        let (pairs, _) = parse_accepted(concat!(
            "{\"question\":\"开票去哪里\",\"id\":\"invoice\"}\n",
            "{\"question\":\"能开专票吗\",\"id\":\"invoice\"}\n",
            "{\"question\":\"开票去哪里？\",\"id\":\"invoice\"}\n",
        ));
        let learned = learn(&mut kb, &pairs, Analyzer::shipped(), 2);
        assert_eq!(
            learned.added,
            [("invoice".to_owned(), "开票去哪里".to_owned())]
        );
        assert_eq!(learned.unconfirmed, 1);
    }
}
