//! Text layer shared by every job: spans into the original text, script-aware normalisation,
//! clause splitting and the one shared jieba segmenter.

pub mod bigram;
pub mod clause;
pub mod normalize;
pub mod segment;
pub mod span;

pub use clause::{Clause, Clauses};
pub use normalize::{Normalized, Script};
pub use span::{Offsets, Span};
