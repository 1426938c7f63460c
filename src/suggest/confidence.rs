//! Calibration: what a suggestion's confidence is worked out from (the lexical evidence and,
//! with the model, the closeness in meaning) and the fitted logistic model that turns it into
//! the chance that the suggestion is right (`scripts/fit-confidence` refits the weights).

use serde::{Deserialize, Serialize};

/// What a suggestion's confidence is worked out from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The IDF-weighted share of the question's words and bigrams in the matched question.
    pub coverage: f32,
    /// The lead in ranking score over the best candidate with another answer (negative below
    /// the top).
    pub lead: f32,
    /// Whether the question is the matched question or similar question itself (the same
    /// characters, filler aside).
    #[serde(default)]
    pub exact: bool,
    /// Whether another knowledge-base answer holds the question word for word too.
    #[serde(default)]
    pub contested: bool,
    /// With a model: how near the entry is in meaning.
    pub meaning: Option<Closeness>,
}

/// How near an entry is to a question in meaning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Closeness {
    /// The cosine of the two embeddings.
    pub cosine: f32,
    /// The cosine standardised over the knowledge base (mean 0, standard deviation 1).
    pub standard: f32,
    /// The cosine less the nearest other entry's: positive when it is the nearest.
    pub margin: f32,
}

impl Evidence {
    /// 0–1: 1 for a question the knowledge base holds word for word under one answer, at most
    /// 0.5 when two answers hold it, else the chance that the entry is right by a logistic
    /// model of the evidence (`CONFIDENCE_MODEL`, refitted with `scripts/fit-confidence`;
    /// its reliability on the evaluation FAQ is in BENCHMARKS.md). By words alone the evidence
    /// is coverage and lead, which cannot tell a paraphrase from a question the knowledge base
    /// lacks: without meaning kefu is seldom sure, and rarely reaches the default threshold.
    pub fn confidence(&self) -> f32 {
        // The knowledge base holds this very question: under one answer it is the answer,
        // under two a coin toss at best.
        match (self.exact, self.contested) {
            (true, false) => return 1.0,
            (_, true) => return self.estimate().min(0.5),
            _ => {}
        }
        self.estimate()
    }

    /// The logistic model's estimate.
    fn estimate(&self) -> f32 {
        let lead = self.lead.clamp(-1.0, 1.0);
        match self.meaning {
            None => {
                let [b0, coverage, w_lead] = CONFIDENCE_WORDS;
                logistic(b0 + coverage * self.coverage + w_lead * lead)
            }
            Some(m) => {
                let [b0, coverage, w_lead, cosine, standard, margin] = CONFIDENCE_MODEL;
                logistic(
                    b0 + coverage * self.coverage
                        + w_lead * lead
                        + cosine * m.cosine
                        + standard * m.standard
                        + margin * m.margin,
                )
            }
        }
    }
}

fn logistic(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The logistic model of `Evidence::confidence` with meaning: intercept, then the weights of
/// coverage, lead (clamped to ±1), cosine, standardised cosine and margin. Cosine and margin
/// carry it. Fitted on the shipped knowledge base's similar questions held out (`kefu eval
/// --holdout`) together with the questions of entries left out (`kefu eval --absent`), so it
/// has seen questions the knowledge base cannot answer as well as paraphrases it can.
const CONFIDENCE_MODEL: [f32; 6] = [-16.830, 0.609, 1.105, 15.042, 0.520, 27.973];
/// The same by words alone: intercept, coverage, lead.
const CONFIDENCE_WORDS: [f32; 3] = [-2.594, 1.566, 1.755];
