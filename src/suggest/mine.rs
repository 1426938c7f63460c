//! Mining past conversations for the knowledge base (`kefu kb mine`): what customers asked and
//! what agents actually answered, read from the same transcripts the audit reads.
//!
//! Each exchange is a customer's message (consecutive messages joined; greetings of under four
//! letters and messages that only thank or confirm left out) and the agent's reply to it. The reply is
//! matched to the entry whose answer it gives: most of the answer's character bigrams are in
//! the reply, and the answer makes up a good part of it, so an agent who inserted an answer and
//! added a greeting or a name still counts, and one who wrote something else does not. Then:
//! - a question answered with an entry's answer, which kefu does not already find first with
//!   confidence, is proposed as a **similar question** of that entry (the file `kefu kb learn
//!   --accepted` applies);
//! - a question kefu cannot answer, whose reply is no entry's answer, is an **unanswered
//!   question**; those alike (character bigrams, Jaccard ≥ [`ALIKE`]) are grouped, most asked
//!   first, with the agents' real replies as **draft answers** (most given first, each with its
//!   lint result), for a KB owner to review and write the entry.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::Suggester;
use super::learn;
use crate::audit::model::{Conversation, Speaker};
use crate::lint::{LintRequest, Linter};
use crate::text::bigram::{jaccard, letter_bigrams};
use crate::text::normalize::normalize_free;

/// Letters a customer message needs to count as a question (在吗, 好的, 谢谢 do not).
const MIN_LETTERS: usize = 4;
/// Characters of a question kept: longer messages are stories, not questions to learn.
const MAX_CHARS: usize = 200;
/// Share of an entry's answer bigrams a reply must hold to be that answer.
const ANSWER_HELD: f32 = 0.6;
/// Share of a reply's bigrams the answer must make up (the rest: greeting, name, order number).
const REPLY_SHARE: f32 = 0.3;
/// Jaccard similarity of character bigrams at which two unanswered questions are grouped.
pub const ALIKE: f32 = 0.4;
/// Draft answers listed per group.
const DRAFTS: usize = 3;
/// Suggestions asked for each question (to choose among entries with the same answer).
const RANKED: usize = 10;
/// Questions listed per group.
const QUESTIONS: usize = 10;

/// A customer question agents answered with an entry kefu does not find first for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimilarProposal {
    /// The question as first asked.
    pub question: String,
    /// The entry whose answer the agents gave.
    pub id: String,
    /// That entry's question.
    pub entry_question: String,
    /// Times it was asked and answered with this entry.
    pub count: usize,
    /// Where kefu ranks the entry for it now (1-based, among the first five; None: not there).
    pub rank: Option<usize>,
    /// What kefu offers first now, and how sure it is.
    pub first: Option<String>,
    pub confidence: f32,
}

/// Alike questions kefu cannot answer, with the agents' replies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewEntryProposal {
    /// Times questions of the group were asked.
    pub count: usize,
    /// The group's questions, most asked first (at most ten).
    pub questions: Vec<Asked>,
    /// The agents' replies, most given first (at most three): drafts for the entry's answer.
    pub drafts: Vec<Draft>,
    /// The entry kefu came closest with, if any.
    pub closest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asked {
    pub question: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    pub answer: String,
    /// Times agents gave this reply (its letters alike).
    pub count: usize,
    /// Its lint score and whether it passes the service rules.
    pub score: u32,
    pub passed: bool,
}

/// What mining found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mined {
    pub conversations: usize,
    /// Customer questions followed by an agent's reply.
    pub exchanges: usize,
    /// Exchanges whose reply is an entry's answer.
    pub answered_from_kb: usize,
    /// Of those, questions the entry holds already or kefu finds first with confidence.
    pub already_found: usize,
    pub similar: Vec<SimilarProposal>,
    pub new_entries: Vec<NewEntryProposal>,
}

/// One exchange, looked up.
struct Looked {
    question: String,
    reply: String,
    /// The entry whose answer the reply gives.
    given: Option<usize>,
    /// The first suggestion's entry and confidence, and the given entry's rank.
    first: Option<(String, f32)>,
    rank: Option<usize>,
    /// The question's meaning, for grouping, when it is unanswered and the model is there.
    meaning: Option<Arc<[f32]>>,
}

/// Bigrams of a text's letters and digits, script, width and case aside.
fn bigrams(text: &str) -> Vec<(char, char)> {
    letter_bigrams(&normalize_free(text))
}

/// The entries' answers by bigram, to find the answer a reply gives.
struct Answers {
    sizes: Vec<usize>,
    holding: FxHashMap<(char, char), Vec<u32>>,
}

impl Answers {
    fn new(suggester: &Suggester) -> Self {
        let mut holding: FxHashMap<(char, char), Vec<u32>> = FxHashMap::default();
        let mut sizes = Vec::new();
        for (i, e) in suggester.entries().iter().enumerate() {
            let grams = bigrams(&super::variable().replace_all(&e.answer, ""));
            sizes.push(grams.len());
            for g in grams {
                holding.entry(g).or_default().push(i as u32);
            }
        }
        Self { sizes, holding }
    }

    /// The entries whose answer `reply` gives, the likeliest first: the answer that explains
    /// most of the reply (a short answer inside a longer one is held whole too), then the one
    /// held most completely. Only those the reply cannot tell apart from the first (within a
    /// tenth of its shared bigrams: entries with the same answer, or all but the same) follow it.
    fn givers(&self, reply: &str) -> Vec<usize> {
        let grams = bigrams(reply);
        let mut shared: FxHashMap<u32, usize> = FxHashMap::default();
        for g in &grams {
            for &e in self.holding.get(g).into_iter().flatten() {
                *shared.entry(e).or_default() += 1;
            }
        }
        let held = |&(e, n): &(u32, usize)| n as f32 / self.sizes[e as usize] as f32;
        let mut found: Vec<(u32, usize)> = (shared.into_iter())
            .filter(|&(e, n)| {
                let size = self.sizes[e as usize];
                size > 0
                    && n as f32 >= ANSWER_HELD * size as f32
                    && n as f32 >= REPLY_SHARE * grams.len() as f32
            })
            .collect();
        found.sort_by(|a, b| {
            (b.1.cmp(&a.1))
                .then(held(b).total_cmp(&held(a)))
                .then(a.0.cmp(&b.0))
        });
        let best = found.first().map_or(0, |f| f.1);
        found
            .into_iter()
            .take_while(|f| f.1 as f32 >= 0.9 * best as f32)
            .map(|(e, _)| e as usize)
            .collect()
    }

    /// The likeliest entry whose answer `reply` gives.
    #[cfg(test)]
    fn given(&self, reply: &str) -> Option<usize> {
        self.givers(reply).first().copied()
    }
}

/// The exchanges of a conversation: each customer question (its consecutive messages of at
/// least [`MIN_LETTERS`] letters that do not only thank or confirm, joined) with the agent's reply (consecutive messages joined).
pub fn exchanges(c: &Conversation) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut asked: Vec<&str> = Vec::new();
    let mut reply: Vec<&str> = Vec::new();
    let mut flush = |asked: &mut Vec<&str>, reply: &mut Vec<&str>| {
        if !asked.is_empty() && !reply.is_empty() {
            let question: String = asked.join("，").chars().take(MAX_CHARS).collect();
            out.push((question, reply.join("")));
        }
        asked.clear();
        reply.clear();
    };
    for t in &c.turns {
        let text = t.text.trim();
        match t.role {
            Speaker::Customer => {
                if !reply.is_empty() {
                    flush(&mut asked, &mut reply);
                }
                if text.chars().filter(|c| c.is_alphanumeric()).count() >= MIN_LETTERS
                    && !crate::audit::outcome::closes(text)
                {
                    asked.push(text);
                }
            }
            Speaker::Agent if !text.is_empty() => reply.push(text),
            Speaker::Agent => {}
        }
    }
    flush(&mut asked, &mut reply);
    out
}

/// A tally of one similar-question proposal while reading.
struct SimilarTally {
    question: String,
    count: usize,
    rank: Option<usize>,
    first: Option<(String, f32)>,
}

/// A tally of one unanswered question while reading.
struct UnansweredTally {
    question: String,
    count: usize,
    replies: HashMap<String, (String, usize)>,
    closest: Option<(String, f32)>,
    meaning: Option<Arc<[f32]>>,
}

/// Reads conversations batch by batch, then proposes.
pub struct Miner<'a> {
    suggester: &'a Suggester,
    answers: Answers,
    analyzer: std::sync::Arc<super::analyze::Analyzer>,
    /// Each entry's questions by learning key, to tell the ones it holds.
    held: FxHashMap<String, usize>,
    mined: Mined,
    similar: HashMap<(usize, String), SimilarTally>,
    unanswered: HashMap<String, UnansweredTally>,
}

impl<'a> Miner<'a> {
    pub fn new(suggester: &'a Suggester) -> Self {
        let analyzer = suggester.analyzer();
        let mut held = FxHashMap::default();
        for (i, e) in suggester.entries().iter().enumerate() {
            for q in std::iter::once(&e.question).chain(&e.similar) {
                held.entry(learn::key(&analyzer, q)).or_insert(i);
            }
        }
        Self {
            suggester,
            answers: Answers::new(suggester),
            analyzer,
            held,
            mined: Mined::default(),
            similar: HashMap::new(),
            unanswered: HashMap::new(),
        }
    }

    /// Reads a batch of conversations (their exchanges are looked up in parallel).
    pub fn add(&mut self, conversations: &[Conversation]) -> Result<(), crate::Error> {
        self.mined.conversations += conversations.len();
        let pairs: Vec<(String, String)> = conversations.iter().flat_map(exchanges).collect();
        let entries = self.suggester.entries();
        let threshold = self.suggester.threshold();
        let looked: Vec<Looked> = pairs
            .into_par_iter()
            .map(|(question, reply)| {
                let givers = self.answers.givers(&reply);
                let hits = self.suggester.search(&question, RANKED)?;
                let first = hits.first().map(|h| (h.id().to_owned(), h.confidence));
                // Where kefu ranks an entry: its own place, or that of the suggestion it was
                // folded into (the same answer).
                let rank_of = |g: usize| {
                    let id = entries[g].id.as_str();
                    (hits.iter())
                        .position(|h| h.id() == id || h.also.contains(&id))
                        .map(|r| r + 1)
                };
                // Of entries the reply cannot tell apart, the one kefu ranks first for the
                // question (a suggestion's own entry before those folded into it).
                let own = |g: usize| hits.iter().position(|h| h.id() == entries[g].id);
                let given = (givers.iter().copied())
                    .min_by_key(|&g| (rank_of(g).unwrap_or(usize::MAX), own(g).is_none()))
                    .or(givers.first().copied());
                let rank = given.and_then(rank_of).filter(|&r| r <= 5);
                let confident = first.as_ref().is_some_and(|f| f.1 >= threshold);
                let meaning = (given.is_none() && !confident)
                    .then(|| self.suggester.meaning_of(&question))
                    .flatten();
                Ok(Looked {
                    question,
                    reply,
                    given,
                    first,
                    rank,
                    meaning,
                })
            })
            .collect::<Result<_, crate::Error>>()?;
        for l in looked {
            self.mined.exchanges += 1;
            let key = learn::key(&self.analyzer, &l.question);
            let confident = l.first.as_ref().is_some_and(|(_, c)| *c >= threshold);
            match l.given {
                Some(entry) => {
                    self.mined.answered_from_kb += 1;
                    let found_first = confident
                        && l.first.as_ref().map(|(id, _)| id.as_str())
                            == Some(entries[entry].id.as_str());
                    if self.held.get(&key) == Some(&entry) || found_first {
                        self.mined.already_found += 1;
                        continue;
                    }
                    let t = (self.similar)
                        .entry((entry, key))
                        .or_insert_with(|| SimilarTally {
                            question: l.question.clone(),
                            count: 0,
                            rank: l.rank,
                            first: l.first.clone(),
                        });
                    t.count += 1;
                }
                None if confident => {}
                None => {
                    let t = (self.unanswered)
                        .entry(key)
                        .or_insert_with(|| UnansweredTally {
                            question: l.question.clone(),
                            count: 0,
                            replies: HashMap::new(),
                            closest: l.first.clone(),
                            meaning: l.meaning.clone(),
                        });
                    t.count += 1;
                    let reply_key: String = (normalize_free(&l.reply).chars())
                        .filter(|c| c.is_alphanumeric())
                        .collect();
                    t.replies.entry(reply_key).or_insert((l.reply, 0)).1 += 1;
                }
            }
        }
        Ok(())
    }

    /// The proposals of questions asked at least `min_count` times (a group's questions
    /// together), most asked first; drafts are linted with `linter`.
    pub fn finish(self, linter: &Linter, min_count: usize) -> Mined {
        let Miner {
            suggester,
            mut mined,
            similar,
            unanswered,
            ..
        } = self;
        let entries = suggester.entries();
        mined.similar = similar
            .into_iter()
            .filter(|(_, t)| t.count >= min_count)
            .map(|((entry, _), t)| SimilarProposal {
                question: t.question,
                id: entries[entry].id.clone(),
                entry_question: entries[entry].question.clone(),
                count: t.count,
                rank: t.rank,
                confidence: t.first.as_ref().map_or(0.0, |f| f.1),
                first: t.first.map(|f| f.0),
            })
            .collect();
        mined.similar.sort_by(|a, b| {
            (b.count.cmp(&a.count))
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| a.question.cmp(&b.question))
        });
        mined.new_entries = group(unanswered.into_values().collect(), linter)
            .into_iter()
            .filter(|g| g.count >= min_count)
            .collect();
        mined
    }
}

/// Whether two unanswered questions ask the same: most of their character bigrams shared, or
/// (with the model) near in meaning, very near or near with some words shared. On the shipped
/// knowledge base, two questions of one entry reach a cosine of 0.93 three times in ten and of
/// 0.90 two times in three; questions of different entries 0.3 % and 3 % of the time.
fn alike(jaccard: f32, cosine: Option<f32>) -> bool {
    jaccard >= ALIKE
        || cosine.is_some_and(|c| c >= NEAR_IN_MEANING || (c >= 0.90 && jaccard >= 0.2))
}

/// The cosine at which two questions are grouped by meaning alone.
const NEAR_IN_MEANING: f32 = 0.93;

/// Groups alike unanswered questions: the most asked first leads a group, and each question
/// joins the group of the leader it is most alike to, if it is alike to one.
fn group(mut tallies: Vec<UnansweredTally>, linter: &Linter) -> Vec<NewEntryProposal> {
    tallies.sort_by(|a, b| (b.count.cmp(&a.count)).then_with(|| a.question.cmp(&b.question)));
    let grams: Vec<Vec<(char, char)>> = tallies.iter().map(|t| bigrams(&t.question)).collect();
    let mut leaders: Vec<usize> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    // The groups whose leader holds each bigram: without meaning, only those can be alike.
    let mut led: FxHashMap<(char, char), Vec<usize>> = FxHashMap::default();
    let mut candidates: Vec<usize> = Vec::new();
    for i in 0..tallies.len() {
        candidates.clear();
        if tallies[i].meaning.is_some() {
            candidates.extend(0..leaders.len());
        } else {
            candidates.extend((grams[i].iter()).flat_map(|g| led.get(g).into_iter().flatten()));
            candidates.sort_unstable();
            candidates.dedup();
        }
        let best = (candidates.iter().copied())
            .filter_map(|g| {
                let l = leaders[g];
                let j = jaccard(&grams[l], &grams[i]);
                let cosine = match (&tallies[l].meaning, &tallies[i].meaning) {
                    (Some(a), Some(b)) => Some(crate::embed::dot(a, b)),
                    _ => None,
                };
                alike(j, cosine).then_some((g, cosine.unwrap_or(j)))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        match best {
            Some((g, _)) => members[g].push(i),
            None => {
                for g in &grams[i] {
                    led.entry(*g).or_default().push(leaders.len());
                }
                leaders.push(i);
                members.push(vec![i]);
            }
        }
    }
    let mut groups: Vec<NewEntryProposal> = members
        .into_iter()
        .map(|m| {
            let mut replies: HashMap<&str, (&str, usize)> = HashMap::new();
            for &i in &m {
                for (k, (text, n)) in &tallies[i].replies {
                    replies.entry(k).or_insert((text, 0)).1 += n;
                }
            }
            let mut drafts: Vec<Draft> = replies
                .into_values()
                .map(|(answer, count)| {
                    let lint = linter.lint(&LintRequest::new(answer));
                    Draft {
                        answer: answer.to_owned(),
                        count,
                        score: lint.score,
                        passed: lint.passed,
                    }
                })
                .collect();
            drafts.sort_by(|a, b| {
                (b.count.cmp(&a.count))
                    .then(b.score.cmp(&a.score))
                    .then_with(|| a.answer.cmp(&b.answer))
            });
            drafts.truncate(DRAFTS);
            let lead = &tallies[m[0]];
            NewEntryProposal {
                count: m.iter().map(|&i| tallies[i].count).sum(),
                questions: (m.iter().take(QUESTIONS))
                    .map(|&i| Asked {
                        question: tallies[i].question.clone(),
                        count: tallies[i].count,
                    })
                    .collect(),
                drafts,
                closest: lead.closest.as_ref().map(|c| c.0.clone()),
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        (b.count.cmp(&a.count)).then_with(|| a.questions[0].question.cmp(&b.questions[0].question))
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::kb::{self, KbEntry};

    fn turn(role: Speaker, text: &str) -> crate::audit::model::Turn {
        crate::audit::model::Turn {
            role,
            text: text.to_owned(),
            ts: None,
            agent: None,
        }
    }

    #[test]
    fn exchanges_join_a_customers_messages_and_leave_out_greetings_and_thanks() {
        use Speaker::{Agent, Customer};
        let c = Conversation {
            id: "1".to_owned(),
            agent: None,
            turns: vec![
                turn(Customer, "在吗"),
                turn(Customer, "我买的衣服大了"),
                turn(Customer, "能换小一号吗"),
                turn(Agent, "您好，"),
                turn(Agent, "可以换的。"),
                turn(Customer, "好的，谢谢"),
                turn(Agent, "不客气"),
                turn(Customer, "那运费谁出呢"),
            ],
        };
        assert_eq!(
            exchanges(&c),
            [(
                "我买的衣服大了，能换小一号吗".to_owned(),
                "您好，可以换的。".to_owned()
            )],
            "a question left unanswered at the end is no exchange"
        );
    }

    #[test]
    fn a_reply_gives_an_answer_only_when_it_is_mostly_that_answer() {
        let entries = kb::parse::<KbEntry>(concat!(
            "id,question,answer\n",
            "size,尺码不合适能换吗,\"您好，{name}，尺码不合适可以换货，请在签收后7天内申请。\"\n",
            "ship,什么时候发货,您好，付款后48小时内发货。\n",
        ))
        .dedup_last_wins(|e| &e.id);
        let suggester = Suggester::build(&entries, &[], None).unwrap();
        let answers = Answers::new(&suggester);
        let given = |reply: &str| {
            answers
                .given(reply)
                .map(|i| suggester.entries()[i].id.as_str())
        };
        // The answer with a greeting and the name filled in, in Traditional.
        assert_eq!(
            given("親，您好，小美，尺碼不合適可以換貨，請在簽收後7天內申請哦"),
            Some("size")
        );
        assert_eq!(given("您好，付款后48小时内发货的"), Some("ship"));
        // Another reply on the same subject, and a long reply that only quotes the answer.
        assert_eq!(given("您好，这款不支持换货，抱歉"), None);
        let long = "您好，付款后48小时内发货。另外这款是今年的新款，面料是纯棉的，透气性很好，\
            洗后不变形，尺码偏大建议选小一码，现在下单还送运费险，收到不满意七天无理由退换。";
        assert_eq!(given(long), None);
    }

    fn unanswered(question: &str, count: usize, meaning: Option<[f32; 2]>) -> UnansweredTally {
        UnansweredTally {
            question: question.to_owned(),
            count,
            replies: [(
                question.to_owned(),
                (format!("您好，关于{question}请稍等"), 1),
            )]
            .into(),
            closest: None,
            meaning: meaning.map(|m| m.as_slice().into()),
        }
    }

    #[test]
    fn alike_questions_are_grouped_by_words_or_by_meaning() {
        let linter = Linter::with_defaults().unwrap();
        let groups = |tallies| -> Vec<Vec<String>> {
            group(tallies, &linter)
                .into_iter()
                .map(|g| g.questions.into_iter().map(|a| a.question).collect())
                .collect()
        };
        // Without the model: shared words only.
        assert_eq!(
            groups(vec![
                unanswered("可以寄到国外吗", 3, None),
                unanswered("寄到国外可以不", 1, None),
                unanswered("海外能发货吗", 2, None),
            ]),
            [
                vec!["可以寄到国外吗".to_owned(), "寄到国外可以不".to_owned()],
                vec!["海外能发货吗".to_owned()],
            ]
        );
        // With it, near meanings join though they share no word; far ones stay apart.
        let near = [0.96f32, 0.28];
        let far = [0.28f32, 0.96];
        assert_eq!(
            groups(vec![
                unanswered("可以寄到国外吗", 3, Some([1.0, 0.0])),
                unanswered("海外能发货吗", 2, Some(near)),
                unanswered("发票怎么开", 1, Some(far)),
            ]),
            [
                vec!["可以寄到国外吗".to_owned(), "海外能发货吗".to_owned()],
                vec!["发票怎么开".to_owned()],
            ]
        );
    }
}
