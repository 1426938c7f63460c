//! kefu (客服): a fast service and CLI for Chinese customer-service teams — it lints an agent's
//! draft reply against the trade's service-language rules (三要三不), with exact spans and fixes.
//!
//! ```
//! use kefu::lint::{LintRequest, Linter};
//!
//! let linter = Linter::with_defaults().unwrap();
//! let result = linter.lint(&LintRequest::new("你好，把订单号发过来"));
//! assert!(result.findings.iter().any(|f| f.rule == "informal-address"));
//! assert_eq!(result.fixed, "您好，请把订单号发过来");
//! ```

pub mod audit;
pub mod config;
pub mod embed;
pub mod error;
pub mod fingerprint;
pub mod lexicon;
pub mod lint;
pub mod server;
pub mod suggest;
pub mod text;

pub use config::Config;
pub use error::{Error, Result};
pub use lint::{Finding, LintRequest, LintResult, Linter, PASS_MARK, Role, Severity};
