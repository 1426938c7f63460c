//! The one HTTP error type: every failure becomes `{"error":{"code","message"}}` with the right
//! status, and internals are logged, never sent.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    /// 503: every turn for heavy work is taken; the client retries after a second.
    pub fn busy() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the service is busy with other heavy requests: retry in a second",
        )
    }

    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A failure of ours: logged with its detail, answered without it.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::JsonSyntaxError(e) => {
                Self::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())
            }
            // Wrong shape: a missing or mistyped field, said in a client developer's words.
            JsonRejection::JsonDataError(e) => Self::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                plain_data_error(&e.body_text()),
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is over this route's limit",
                )
            }
            other => Self::new(other.status(), "bad_request", other.body_text()),
        }
    }
}

/// serde's account of a body of the wrong shape ("k: invalid type: string \"3\", expected f64
/// at line 1 column 8") in a client developer's words ("`k` must be a number, not the text
/// \"3\""); a message it does not know is passed on without axum's preamble.
pub fn plain_data_error(text: &str) -> String {
    let text = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    let text = text.rsplit_once(" at line ").map_or(text, |(t, _)| t);
    let (path, what) = match text.split_once(": ") {
        Some((p, w)) if !p.contains(' ') => (Some(p), w),
        _ => (None, text),
    };
    if path.is_some_and(|p| p.starts_with('[')) || what.contains("expected struct") {
        return "the body must be a JSON object ({\"name\": value, …}), not a list or a value"
            .to_owned();
    }
    let Some((got, want)) = what
        .strip_prefix("invalid type: ")
        .and_then(|w| w.split_once(", expected "))
    else {
        return match path {
            Some(p) => format!("`{p}`: {what}"),
            None => what.to_owned(),
        };
    };
    let want = match want {
        "f64" | "f32" | "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" => "a number",
        "a string" => "a string",
        "a boolean" => "true or false",
        "a map" => "an object of names to values ({\"name\": \"…\"})",
        "a sequence" => "a list ([…])",
        other => other,
    };
    let got = if let Some(v) = got.strip_prefix("string ") {
        format!("the string {v}")
    } else if let Some(v) = got
        .strip_prefix("integer ")
        .or_else(|| got.strip_prefix("floating point "))
    {
        format!("the number {}", v.trim_matches('`'))
    } else if let Some(v) = got.strip_prefix("boolean ") {
        v.trim_matches('`').to_owned()
    } else {
        match got {
            "sequence" => "a list".to_owned(),
            "map" => "an object".to_owned(),
            "unit value" => "null".to_owned(),
            other => other.to_owned(),
        }
    };
    match path {
        Some(p) => format!("`{p}` must be {want}, not {got}"),
        None => format!("the body must be {want}, not {got}"),
    }
}

/// A query string that does not parse (`?limit=x`, `?all=maybe`): 400, axum's message naming
/// the parameter.
impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", r.body_text())
    }
}

/// A path segment that does not decode (`/v1/kb/%FF`): 400, axum's message naming it.
impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", r.body_text())
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::Invalid(m) => Self::invalid(m),
            other => Self::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plain_data_error;

    #[test]
    fn wrong_shapes_are_said_plainly() {
        let pre = "Failed to deserialize the JSON body into the target type: ";
        for (serde, plain) in [
            (
                r#"k: invalid type: string "3", expected f64 at line 1 column 23"#,
                r#"`k` must be a number, not the string "3""#,
            ),
            (
                "question: invalid type: integer `5`, expected a string at line 1 column 13",
                "`question` must be a string, not the number 5",
            ),
            (
                r#"record: invalid type: string "yes", expected a boolean at line 1 column 30"#,
                r#"`record` must be true or false, not the string "yes""#,
            ),
            (
                "vars: invalid type: sequence, expected a map at line 1 column 23",
                r#"`vars` must be an object of names to values ({"name": "…"}), not a list"#,
            ),
            (
                "[0]: invalid type: integer `1`, expected a string at line 1 column 2",
                r#"the body must be a JSON object ({"name": value, …}), not a list or a value"#,
            ),
            (
                "role: unknown variant `boss`, expected one of `reply`, `opening`, `closing` at line 1 column 25",
                "`role`: unknown variant `boss`, expected one of `reply`, `opening`, `closing`",
            ),
            (
                "missing field `text` at line 1 column 2",
                "missing field `text`",
            ),
        ] {
            assert_eq!(plain_data_error(&format!("{pre}{serde}")), plain, "{serde}");
        }
    }
}
