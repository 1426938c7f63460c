//! A shop's configuration (`kefu.toml`): raw serde structs, validated into a `Config` that is
//! passed to whatever needs it — never a global.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::lexicon::Lexicon;
use crate::lint::{Severity, registry};

/// The file looked for in the working directory when no `--config` is given.
pub const DEFAULT_FILE: &str = "kefu.toml";

/// Validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Settings per rule id (only rules the file mentions).
    pub rules: BTreeMap<String, RuleSettings>,
    /// Words never flagged by any word-level rule (brand names, product names).
    pub allow: Vec<String>,
    /// Where the configuration came from, if from a file.
    pub source: Option<PathBuf>,
    /// The `[server]` table: `kefu serve`'s settings (environment variables and flags override
    /// them).
    pub server: ServerConfig,
    /// The `[audit]` table: the shop's response-time policy for `kefu audit` and `/v1/audit`
    /// (flags and query parameters override it).
    pub audit: AuditConfig,
}

/// The shop's audit policy; every field optional (`audit::Settings` has the defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuditConfig {
    /// Seconds a customer may wait before the reply should apologise for the wait.
    #[serde(default, deserialize_with = "seconds")]
    pub long_wait: Option<i64>,
    /// Seconds within which an agent who promised to come back (稍等, 我去查) should.
    #[serde(default, deserialize_with = "seconds")]
    pub promise: Option<i64>,
    /// Weight of the service manner in a conversation's score (default 0.2).
    #[serde(default, deserialize_with = "weight")]
    pub manner_weight: Option<f32>,
    /// Weight of the outcome for the customer in a conversation's score (default 0.8).
    #[serde(default, deserialize_with = "weight")]
    pub outcome_weight: Option<f32>,
}

/// `kefu serve` settings from the config file; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServerConfig {
    pub addr: Option<String>,
    pub kb: Option<PathBuf>,
    pub phrases: Option<PathBuf>,
    /// No phrase library at all (`--no-phrases`).
    #[serde(default)]
    pub no_phrases: bool,
    pub synonyms: Option<PathBuf>,
    pub index: Option<PathBuf>,
    pub max_body: Option<usize>,
    pub timeout: Option<u64>,
    /// Confidence below which a question counts as unanswered, 0–1 (checked as it is read, so
    /// a bad value is reported at its line).
    #[serde(default, deserialize_with = "confidence")]
    pub threshold: Option<f32>,
    #[serde(default)]
    pub cors_origins: Vec<String>,
    pub admin_token: Option<String>,
    pub log_format: Option<LogFormat>,
    /// Host names requests may name in `Host` (default: any, or only loopback names when the
    /// service listens on a loopback address).
    pub hosts: Option<Vec<String>>,
    /// Connections open at once (default 4096).
    pub max_connections: Option<u32>,
    /// Seconds a client has to send a request's headers (default 10).
    pub header_timeout: Option<u32>,
    /// Learning from agents' inserted suggestions: `confirm` (default: after `learn-after`
    /// choices of the same pairing), `auto` (at once) or `off`.
    pub learn: Option<Learn>,
    /// Times the same question must be chosen for the same entry before it is learned
    /// (default 3).
    pub learn_after: Option<u32>,
}

/// Whether and when `kefu serve` learns similar questions from agents' choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Learn {
    /// After the same pairing was chosen `learn-after` times.
    Confirm,
    /// At the first choice.
    Auto,
    /// Feedback is refused; nothing is learned.
    Off,
}

/// How the service writes its log lines (stderr).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event, coloured on a terminal.
    #[default]
    Text,
    /// One JSON object per event, for a log collector.
    Json,
}

/// A shop's settings for one rule.
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
    /// Lexicon entries added to the rule's own.
    pub additions: Lexicon,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, RawRule>,
    #[serde(default)]
    server: ServerConfig,
    #[serde(default)]
    audit: AuditConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    enabled: Option<bool>,
    severity: Option<Spanned<String>>,
    #[serde(default)]
    words: Vec<Spanned<String>>,
    #[serde(default)]
    sections: BTreeMap<String, Vec<Spanned<String>>>,
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::suggest::kb::read_file(path)?;
        let mut config = Self::parse(&path.display().to_string(), &text)?;
        config.source = Some(path.to_owned());
        Ok(config)
    }

    /// `path` if given, else `kefu.toml` in the working directory if present, else defaults.
    pub fn discover(path: Option<&Path>) -> Result<Self> {
        match path {
            Some(p) => Self::load(p),
            None if Path::new(DEFAULT_FILE).is_file() => Self::load(Path::new(DEFAULT_FILE)),
            None => Ok(Self::default()),
        }
    }

    /// Parses config text; `name` is used in error locations.
    pub fn parse(name: &str, text: &str) -> Result<Self> {
        let at = |offset: usize| format!("{name}:{}", line_of(text, offset));
        let raw: RawConfig = toml::from_str(text).map_err(|e| Error::Config {
            location: e.span().map_or_else(|| name.to_owned(), |s| at(s.start)),
            message: e.message().to_owned(),
        })?;
        let mut rules = BTreeMap::new();
        for (id, rule) in raw.rules {
            let def = registry::find(id.get_ref()).ok_or_else(|| Error::Config {
                location: at(id.span().start),
                message: format!("unknown rule `{}` (`kefu rules` lists them)", id.get_ref()),
            })?;
            let severity = match rule.severity {
                Some(s) => Some(s.get_ref().parse().map_err(|message| Error::Config {
                    location: at(s.span().start),
                    message,
                })?),
                None => None,
            };
            let mut additions = Lexicon::default();
            let sections = std::iter::once((def.doc.words_section.to_owned(), rule.words))
                .chain(rule.sections);
            for (section, words) in sections {
                for word in words {
                    let origin = crate::lexicon::Origin {
                        file: name.to_owned(),
                        line: line_of(text, word.span().start),
                    };
                    additions
                        .push_line(&section, word.get_ref(), origin)
                        .map_err(|e| Error::Config {
                            location: e.origin.to_string(),
                            message: e.message,
                        })?;
                }
            }
            rules.insert(
                def.doc.id.to_owned(),
                RuleSettings {
                    enabled: rule.enabled,
                    severity,
                    additions,
                },
            );
        }
        Ok(Self {
            rules,
            allow: raw.allow,
            source: None,
            server: raw.server,
            audit: raw.audit,
        })
    }
}

fn confidence<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f32>, D::Error> {
    let threshold = f32::deserialize(d)?;
    crate::suggest::check_threshold(threshold)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    let seconds = i64::deserialize(d)?;
    check_seconds(seconds)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// A span of time in whole seconds, at least one.
pub fn check_seconds(seconds: i64) -> std::result::Result<i64, String> {
    if seconds >= 1 {
        Ok(seconds)
    } else {
        Err(format!(
            "a time in seconds must be 1 or more, not {seconds}"
        ))
    }
}

fn weight<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<f32>, D::Error> {
    let w = f64::deserialize(d)?;
    if (0.0..=1000.0).contains(&w) {
        Ok(Some(w as f32))
    } else {
        Err(serde::de::Error::custom(format!(
            "a weight must be a number from 0 to 1000, not {w}"
        )))
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rule_settings() {
        let c = Config::parse(
            "kefu.toml",
            "allow = [\"你的衣橱\"]\n[rules.over-promise]\nenabled = false\n[rules.blunt-language]\nseverity = \"warning\"\nwords = [\"爱要不要\"]\n",
        )
        .unwrap();
        assert_eq!(c.rules["over-promise"].enabled, Some(false));
        assert_eq!(c.rules["blunt-language"].severity, Some(Severity::Warning));
        assert_eq!(c.rules["blunt-language"].additions.len(), 1);
        assert_eq!(c.allow, ["你的衣橱"]);
    }

    #[test]
    fn server_table() {
        let c = Config::parse("kefu.toml", "[server]\naddr = \"0.0.0.0:9000\"\ncors-origins = [\"chrome-extension://x\"]\ntimeout = 3\n").unwrap();
        assert_eq!(c.server.addr.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(c.server.timeout, Some(3));
        let e = Config::parse("kefu.toml", "[server]\nport = 1\n").unwrap_err();
        assert!(e.to_string().starts_with("kefu.toml:2:"), "{e}");
    }

    #[test]
    fn unknown_rule_names_file_and_line() {
        let e = Config::parse(
            "shop.toml",
            "allow = []\n\n[rules.no-such-rule]\nenabled = false\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "shop.toml:3: unknown rule `no-such-rule` (`kefu rules` lists them)"
        );
    }

    #[test]
    fn malformed_file_names_line() {
        let e = Config::parse("shop.toml", "[rules.shirking]\nenabled = maybe\n").unwrap_err();
        assert!(e.to_string().starts_with("shop.toml:2:"), "{e}");
        let e = Config::parse("shop.toml", "[rules.shirking]\nseverity = \"fatal\"\n").unwrap_err();
        assert!(
            e.to_string().starts_with("shop.toml:2: unknown severity"),
            "{e}"
        );
        let e =
            Config::parse("shop.toml", "[rules.shirking]\n\nwords = [\"re:([\"]\n").unwrap_err();
        assert!(e.to_string().starts_with("shop.toml:3: bad regex"), "{e}");
    }

    #[test]
    fn the_example_file_is_valid() {
        let c = Config::parse("kefu.toml.example", include_str!("../kefu.toml.example")).unwrap();
        assert_eq!(c.rules["curt-reply"].enabled, Some(false));
        assert_eq!(c.audit.long_wait, Some(90));
        // The shop's exception phrases reach the rule: its own guarantee is no light promise,
        // any other still is.
        let linter = crate::Linter::new(&c).unwrap();
        let promises = |text: &str| {
            linter
                .lint(&crate::LintRequest::new(text))
                .findings
                .iter()
                .filter(|f| f.rule == "over-promise")
                .map(|f| f.text.clone())
                .collect::<Vec<_>>()
        };
        assert!(promises("本店保证正品，支持验货😊").is_empty());
        assert!(promises("本店保證正品").is_empty(), "Traditional");
        assert_eq!(promises("保证明天到"), ["保证明天到"]);
    }

    #[test]
    fn the_audit_policy_is_read_and_checked_at_its_line() {
        let c = Config::parse("kefu.toml", "[audit]\nlong-wait = 90\npromise = 300\n").unwrap();
        assert_eq!(
            c.audit,
            AuditConfig {
                long_wait: Some(90),
                promise: Some(300),
                ..AuditConfig::default()
            }
        );
        assert_eq!(
            Config::parse("kefu.toml", "").unwrap().audit,
            AuditConfig::default()
        );
        for (text, said) in [
            (
                "[audit]\nlong-wait = 0\n",
                "kefu.toml:2: a time in seconds must be 1 or more, not 0",
            ),
            ("[audit]\n\npromise = \"2分钟\"\n", "kefu.toml:3:"),
            ("[audit]\nlong_wait = 60\n", "kefu.toml:2:"),
        ] {
            let e = Config::parse("kefu.toml", text).unwrap_err().to_string();
            assert!(e.starts_with(said), "{text}: {e}");
        }
    }

    #[test]
    fn a_threshold_out_of_range_is_named_at_its_line() {
        let c = Config::parse("kefu.toml", "[server]\nthreshold = 0.45\n").unwrap();
        assert_eq!(c.server.threshold, Some(0.45));
        assert_eq!(
            Config::parse("kefu.toml", "").unwrap().server.threshold,
            None
        );
        let e = Config::parse(
            "kefu.toml",
            "[server]\naddr = \"127.0.0.1:0\"\nthreshold = 1.5\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("kefu.toml:3: the confidence threshold must be between 0 and 1"),
            "{e}"
        );
    }
}
