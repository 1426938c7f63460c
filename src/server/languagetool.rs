//! The LanguageTool HTTP API (`POST /v2/check`, `GET /v2/languages`), so LanguageTool clients and
//! browser add-ons that accept a custom server can check drafts with kefu's rules. Offsets and
//! lengths are in UTF-16 code units, as LanguageTool's (Java string indices).

use std::collections::HashSet;

use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::lint::{Finding, LintRequest, registry};
use crate::text::clause::is_sentence_end;

/// The form fields kefu reads; others LanguageTool defines are accepted and ignored.
#[derive(Debug, Deserialize)]
pub struct CheckForm {
    text: Option<String>,
    /// `{"annotation":[{"text":…},{"markup":…,"interpretAs"?:…}]}`
    data: Option<String>,
    language: Option<String>,
    #[serde(rename = "enabledRules")]
    enabled_rules: Option<String>,
    #[serde(rename = "disabledRules")]
    disabled_rules: Option<String>,
    #[serde(rename = "enabledOnly")]
    enabled_only: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Annotated {
    annotation: Vec<Part>,
}

#[derive(Debug, Deserialize)]
struct Part {
    text: Option<String>,
    markup: Option<String>,
    #[serde(rename = "interpretAs")]
    interpret_as: Option<String>,
}

/// A stretch of the checked text that came from the request's text (not markup): where it sits
/// in the checked text and in the original, in UTF-16 units.
struct Piece {
    checked: usize,
    original: usize,
    len: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Language {
    name: &'static str,
    code: &'static str,
    #[serde(rename = "longCode")]
    long_code: &'static str,
}

const LANGUAGES: &[Language] = &[
    Language {
        name: "Chinese",
        code: "zh",
        long_code: "zh-CN",
    },
    Language {
        name: "Chinese (Traditional)",
        code: "zh",
        long_code: "zh-TW",
    },
];

pub async fn languages() -> Json<&'static [Language]> {
    Json(LANGUAGES)
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

pub async fn check(
    State(state): State<AppState>,
    form: Result<Form<CheckForm>, FormRejection>,
) -> Result<Json<Value>, ApiError> {
    let Form(form) = form.map_err(|e| match e {
        FormRejection::InvalidFormContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the form as application/x-www-form-urlencoded",
        ),
        other => bad(other.body_text()),
    })?;
    let language = form.language.as_deref().unwrap_or("auto");
    let code = match language {
        "auto" | "zh" | "zh-CN" => "zh-CN",
        "" => {
            return Err(bad(
                "`language` is empty: send auto, zh, zh-CN, zh-TW or zh-HK, or leave it out for auto",
            ));
        }
        "zh-TW" | "zh-HK" => language,
        other => {
            return Err(bad(format!(
                "unsupported language `{other}` (kefu checks Chinese: zh, zh-CN, zh-TW, auto)"
            )));
        }
    };
    let (text, pieces) = match (&form.text, &form.data) {
        (Some(t), _) => (
            t.clone(),
            vec![Piece {
                checked: 0,
                original: 0,
                len: t.encode_utf16().count(),
            }],
        ),
        (None, Some(d)) => from_annotation(d)?,
        (None, None) => return Err(bad("missing `text` or `data`")),
    };
    let list = |s: &Option<String>| -> HashSet<String> {
        s.iter()
            .flat_map(|v| v.split(','))
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect()
    };
    let enabled = list(&form.enabled_rules);
    let disabled = list(&form.disabled_rules);
    for id in enabled.iter().chain(&disabled) {
        if registry::find(id).is_none() {
            return Err(ApiError::invalid(format!("unknown rule `{id}`")));
        }
    }
    let only = form.enabled_only.as_deref() == Some("true");
    let engine = state.engine();
    let meaning = engine.linter.judges_meaning();
    let (result, text) = state
        .embedding_work(meaning, move || {
            (engine.linter.lint(&LintRequest::new(&text)), text)
        })
        .await?;
    let matches: Vec<Value> = result
        .findings
        .iter()
        .filter(|f| !disabled.contains(f.rule) && (!only || enabled.contains(f.rule)))
        .filter_map(|f| to_match(&text, &pieces, f))
        .collect();
    let name = if code == "zh-CN" {
        "Chinese"
    } else {
        "Chinese (Traditional)"
    };
    Ok(Json(json!({
        "software": {
            "name": "kefu",
            "version": env!("CARGO_PKG_VERSION"),
            "buildDate": "",
            "apiVersion": 1,
            "premium": false,
            "status": "",
        },
        "warnings": {"incompleteResults": false},
        "language": {
            "name": name,
            "code": code,
            "detectedLanguage": {"name": name, "code": code, "confidence": 1.0},
        },
        "matches": matches,
    })))
}

/// The checked text of an annotated request: text parts as they are, markup replaced by its
/// `interpretAs` (or nothing).
fn from_annotation(data: &str) -> Result<(String, Vec<Piece>), ApiError> {
    let a: Annotated = serde_json::from_str(data)
        .map_err(|e| bad(format!("`data` is not a valid annotation: {e}")))?;
    let (mut text, mut pieces, mut original) = (String::new(), Vec::new(), 0);
    for part in a.annotation {
        match (part.text, part.markup) {
            (Some(t), None) => {
                let len = t.encode_utf16().count();
                pieces.push(Piece {
                    checked: text.encode_utf16().count(),
                    original,
                    len,
                });
                text.push_str(&t);
                original += len;
            }
            (None, Some(m)) => {
                text.push_str(part.interpret_as.as_deref().unwrap_or(""));
                original += m.encode_utf16().count();
            }
            _ => {
                return Err(bad(
                    "each annotation part needs exactly one of `text` and `markup`",
                ));
            }
        }
    }
    Ok((text, pieces))
}

/// A finding as a LanguageTool match, or none if it falls outside the request's own text.
fn to_match(text: &str, pieces: &[Piece], f: &Finding) -> Option<Value> {
    let piece = pieces
        .iter()
        .find(|p| p.checked <= f.utf16.start && f.utf16.end <= p.checked + p.len)?;
    let offset = f.utf16.start - piece.checked + piece.original;
    let length = f.utf16.end - f.utf16.start;
    let doc = &registry::find(f.rule)?.doc;
    let replacements: Vec<Value> = f
        .fix
        .iter()
        .map(|x| x.replacement.clone())
        .chain(f.suggestions.iter().cloned())
        .map(|value| json!({"value": value}))
        .collect();
    let (category_id, category_name) = match &doc.code[..3] {
        "KF1" => ("KEFU_THREE_MUSTS", "三要"),
        "KF2" => ("KEFU_THREE_DONTS", "三不"),
        "KF3" => ("KEFU_TONE", "语气"),
        _ => ("KEFU_COMMITMENTS", "承诺"),
    };
    Some(json!({
        "message": f.message,
        "shortMessage": doc.message_en,
        "replacements": replacements,
        "offset": offset,
        "length": length,
        "context": context(text, f),
        "sentence": sentence(text, f),
        "type": {"typeName": "Other"},
        "rule": {
            "id": f.rule,
            "description": doc.message_en,
            // LanguageTool's issue types: the musts and the tone rules are about register
            // (politeness), the don'ts and commitments about what is said.
            "issueType": if doc.code.starts_with("KF1") || doc.code.starts_with("KF3") { "register" } else { "style" },
            "category": {"id": category_id, "name": category_name},
        },
        "ignoreForIncompleteSentence": false,
        "contextForSureMatch": 0,
    }))
}

/// Up to 20 characters either side of the finding, with the finding's place in it (UTF-16).
fn context(text: &str, f: &Finding) -> Value {
    let before: String = text[..f.span.start]
        .chars()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let after: String = text[f.span.end..].chars().take(20).collect();
    json!({
        "text": format!("{before}{}{after}", f.text),
        "offset": before.encode_utf16().count(),
        "length": f.text.encode_utf16().count(),
    })
}

fn sentence(text: &str, f: &Finding) -> String {
    let start = text[..f.span.start].rfind(is_sentence_end).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    let end = text[f.span.end..]
        .find(is_sentence_end)
        .map_or(text.len(), |i| f.span.end + i);
    text[start..end].trim().to_owned()
}
