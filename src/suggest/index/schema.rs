//! The index's schema and the tokenizers registered on it: jieba words and character bigrams,
//! each text analysed once by the index's `Analyzer` and handed to tantivy pre-tokenized.

use std::sync::Arc;

use tantivy::Index;
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{PreTokenizedString, Token, TokenStream, Tokenizer};

use crate::suggest::analyze::{Analyzer, Term};

pub const WORDS: &str = "kefu_words";
pub const BIGRAMS: &str = "kefu_bigrams";

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub source: Field,
    pub question: Field,
    pub variant: Field,
    pub answer: Field,
    pub category: Field,
    pub tags: Field,
    /// Words of the variant (question or similar question).
    pub q_words: Field,
    /// Character bigrams of the variant.
    pub q_bigrams: Field,
    /// Words of the answer.
    pub a_words: Field,
    /// The variant's analysed words and bigrams, stored (space-separated) so ranking features
    /// need no re-analysis at query time.
    pub v_terms: Field,
    pub v_bigrams: Field,
    /// The variant's characters as ranking reads them (`Analyzer::chars`), stored so opening an
    /// index segments nothing.
    pub v_chars: Field,
}

pub(super) fn text_field(tokenizer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        source: b.add_text_field("source", STRING | STORED),
        question: b.add_text_field("question", STORED),
        variant: b.add_text_field("variant", STORED),
        answer: b.add_text_field("answer", STORED),
        category: b.add_text_field("category", STORED),
        tags: b.add_text_field("tags", STORED),
        q_words: b.add_text_field("q_words", text_field(WORDS)),
        q_bigrams: b.add_text_field("q_bigrams", text_field(BIGRAMS)),
        a_words: b.add_text_field("a_words", text_field(WORDS)),
        v_terms: b.add_text_field("v_terms", STORED),
        v_bigrams: b.add_text_field("v_bigrams", STORED),
        v_chars: b.add_text_field("v_chars", STORED),
    };
    (b.build(), fields)
}

/// Tokens from a ready list of terms.
pub struct Terms {
    tokens: Vec<Token>,
    next: usize,
}

impl Terms {
    pub(super) fn new(terms: Vec<Term>) -> Self {
        let tokens = terms.into_iter().map(token).collect();
        Self { tokens, next: 0 }
    }
}

pub(super) fn token(t: Term) -> Token {
    Token {
        offset_from: t.from,
        offset_to: t.to,
        position: t.position,
        text: t.text,
        position_length: 1,
    }
}

/// `text` with the terms the field's tokenizer would make of it, worked out once already.
pub(super) fn pre_tokenized(text: &str, terms: &[Term]) -> PreTokenizedString {
    PreTokenizedString {
        text: text.to_owned(),
        tokens: terms.iter().cloned().map(token).collect(),
    }
}

/// Terms' texts joined by spaces, for the stored term lists.
pub(super) fn joined(terms: &[Term]) -> String {
    let texts: Vec<&str> = terms.iter().map(|t| t.text.as_str()).collect();
    texts.join(" ")
}

impl TokenStream for Terms {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// jieba search-mode words with synonyms folded and filler dropped.
#[derive(Clone, Debug)]
pub struct WordTokenizer(Arc<Analyzer>);

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = Terms;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Terms {
        Terms::new(self.0.words(text))
    }
}

/// Character bigrams.
#[derive(Clone, Debug)]
pub struct BigramTokenizer(Arc<Analyzer>);

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = Terms;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Terms {
        Terms::new(self.0.bigrams(text))
    }
}

pub(super) fn split_tags(s: &str) -> Vec<String> {
    s.split('|')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn register(index: &Index, analyzer: &Arc<Analyzer>) {
    index
        .tokenizers()
        .register(WORDS, WordTokenizer(Arc::clone(analyzer)));
    index
        .tokenizers()
        .register(BIGRAMS, BigramTokenizer(Arc::clone(analyzer)));
}
