//! Route handlers: extract, call the library, map to the wire format (the same JSON shapes the
//! CLI's `--jsonl` modes read and write).

use std::any::Any;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::lint::{LintRequest, LintResult, Role};
use crate::suggest::panel::PhraseList;
use crate::suggest::{Analysis, SuggestRequest};

/// The body of `/v1/lint` and of each batch item.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LintBody {
    pub text: String,
    #[serde(default)]
    pub role: Role,
    pub customer: Option<String>,
}

impl LintBody {
    fn request(&self) -> LintRequest<'_> {
        LintRequest {
            text: &self.text,
            role: self.role,
            customer: self.customer.as_deref(),
            skip_meaning: false,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    pub items: Vec<LintBody>,
}

pub async fn lint(
    State(state): State<AppState>,
    body: Result<Json<LintBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let engine = state.engine();
    // A draft as typed is linted at once; a long one goes to the blocking pool.
    if body.text.len() <= LIGHT_DRAFT {
        let meaning = engine.linter.judges_meaning();
        let result = state
            .embedding_work(meaning, move || engine.linter.lint(&body.request()))
            .await?;
        return Ok(Json(result).into_response());
    }
    state
        .heavy(move || json_response(&engine.linter.lint(&body.request())))
        .await
}

/// `value` as a JSON response, written out where it is called: heavy work serialises its
/// answer (megabytes for an audit or a batch of long drafts) on the blocking pool too, not on
/// the runtime's threads that light requests need.
fn json_response<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, "application/json")],
            axum::body::Bytes::from(bytes),
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// Bytes of a draft linted on the request's own thread; longer ones are heavy work.
const LIGHT_DRAFT: usize = 4 * 1024;

pub async fn lint_batch(
    State(state): State<AppState>,
    body: Result<Json<BatchBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let max = state.settings.max_batch;
    if body.items.len() > max {
        return Err(ApiError::invalid(format!(
            "a batch holds at most {max} items, not {}",
            body.items.len()
        )));
    }
    let engine = state.engine();
    state
        .heavy(move || {
            let results: Vec<LintResult> = body
                .items
                .iter()
                .map(|i| engine.linter.lint(&i.request()))
                .collect();
            json_response(&json!({ "results": results }))
        })
        .await
}

pub async fn suggest(
    State(state): State<AppState>,
    body: Result<Json<SuggestRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let engine = state.engine();
    // Embedding the question for meaning takes milliseconds of CPU: on the blocking pool, no
    // more at once than there are cores (`AppState::embedding_work`).
    let semantic = engine.suggester.semantic();
    let (result, req) = state
        .embedding_work(semantic, move || {
            (engine.suggester.suggest(&engine.linter, &req), req)
        })
        .await?;
    let result = result?;
    if !result.answered
        && req.record
        && let Some(recorder) = &state.recorder
    {
        // Queued for the recorder's thread: the answer never waits on the disk, and a failure
        // to record never fails it.
        let closest = (result.suggestions.first()).map(|s| (s.id.as_str(), s.confidence));
        recorder.record(&req.question, closest);
    }
    Ok(Json(result).into_response())
}

/// The query of `GET /v1/phrases`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhrasesQuery {
    /// Only this scene's phrases, by its name or its label (greeting or 问候; letter case
    /// aside); an unknown scene is a 404 naming those there are. The scenes are listed either way.
    scene: Option<String>,
}

/// The phrase library for a quick-reply panel: its scenes and the phrases of one or all.
pub async fn phrases(
    State(state): State<AppState>,
    query: Result<Query<PhrasesQuery>, QueryRejection>,
) -> Result<Json<PhraseList>, ApiError> {
    let Query(query) = query?;
    let engine = state.engine();
    let scene = query.scene.as_deref().filter(|s| !s.trim().is_empty());
    let panel = engine.suggester.phrase_panel(&engine.linter, scene);
    if let Some(message) = scene.and_then(|s| panel.unknown_scene(s)) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_scene",
            message,
        ));
    }
    Ok(Json(panel))
}

/// The body of `/v1/suggest/analyze`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    #[schema(min_length = 1, pattern = r"\S")]
    pub question: String,
}

/// How a question is searched in the served knowledge base (as `kefu kb analyze`).
pub async fn analyze(
    State(state): State<AppState>,
    body: Result<Json<AnalyzeBody>, JsonRejection>,
) -> Result<Json<Analysis>, ApiError> {
    let Json(body) = body?;
    Ok(Json(state.engine().suggester.analyze(&body.question)?))
}

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<AppState>) -> Json<Value> {
    let engine = state.engine();
    Json(json!({
        "status": "ready",
        "rules": engine.linter.enabled_rules().count(),
        "kb_documents": engine.suggester.num_docs(),
        // Whether suggest ranks by meaning too (a model is loaded), or by words alone.
        "semantic": engine.suggester.semantic(),
    }))
}

/// Checks `Authorization: Bearer <token>` (the scheme in any case) against the configured admin
/// token.
pub fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &state.settings.admin_token else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "admin routes are off: start the service with KEFU_ADMIN_TOKEN (or --admin-token) set",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if given.is_some_and(|g| same_secret(g.as_bytes(), token.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong `Authorization: Bearer` token",
        ))
    }
}

/// Compares a given secret with the real one in time that depends only on the real one's
/// length: every byte of it is looked at whatever was given, so timing tells neither where a
/// guess goes wrong nor how long the token is.
fn same_secret(given: &[u8], real: &[u8]) -> bool {
    let mut diff = given.len() ^ real.len();
    for (i, r) in real.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(!r);
        diff |= usize::from(g ^ r);
    }
    diff == 0
}

pub async fn reload(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let s = state.clone();
    tokio::task::spawn_blocking(move || s.reload())
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reload_failed",
                format!("kept the running set: {e}"),
            )
        })?;
    tracing::info!("reloaded rules and knowledge base");
    let engine = state.engine();
    Ok(Json(
        json!({"status": "reloaded", "rules": engine.linter.enabled_rules().count(), "kb_documents": engine.suggester.num_docs()}),
    ))
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(
            state.engine().suggester.num_docs(),
            state.recorder.as_ref().map(|r| r.stats()),
        ),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route (see the README for the API)")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// A handler panic: logged, answered as a JSON 500; the service keeps running.
pub fn panicked(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("panic");
    ApiError::internal(detail).into_response()
}

/// `POST /v1/audit`: conversations as JSONL (one conversation or message per line) or a JSON
/// array of conversations; answers the JSON report.
/// `/v1/audit`'s query: the response-time policy for this request, over the shop's.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Seconds a customer may wait before the reply should apologise (default: `[audit]
    /// long-wait` in kefu.toml, else 60).
    #[param(minimum = 1)]
    long_wait: Option<i64>,
    /// Seconds within which an agent who promised to come back should (default: `[audit]
    /// promise`, else 120).
    #[param(minimum = 1)]
    promise: Option<i64>,
}

pub async fn audit(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    // A JSON type, which a browser sends cross-site only after a CORS preflight: a web page
    // cannot make the service audit megabytes with a plain form post.
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| {
            matches!(
                v.as_str(),
                "application/json"
                    | "application/x-ndjson"
                    | "application/jsonl"
                    | "application/jsonlines"
            )
        });
    if !json_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send conversations as `Content-Type: application/x-ndjson` (JSONL) or `application/json` (an array)",
        ));
    }
    let Query(query) = query?;
    let engine = state.engine();
    let mut settings = engine.audit;
    // A body of conversations may hold a hundred thousand sentences: meaning, milliseconds a
    // sentence, is left to `kefu audit`.
    settings.meaning = false;
    for (name, given, setting) in [
        ("long_wait", query.long_wait, &mut settings.long_wait),
        ("promise", query.promise, &mut settings.promise),
    ] {
        if let Some(seconds) = given {
            *setting = crate::config::check_seconds(seconds)
                .map_err(|e| ApiError::invalid(format!("`{name}`: {e}")))?;
        }
    }
    // The turn first, then the body: audits turned away never hold theirs in memory.
    let turn = state.turn().await?;
    let max = state.settings.max_batch_body * 8;
    let body = match axum::body::to_bytes(body, max).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let e = e.into_inner();
            if e.is::<http_body_util::LengthLimitError>() {
                return Ok(super::too_large(max));
            }
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body could not be read: {e}"),
            ));
        }
    };
    let text = String::from_utf8(body.into()).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the body is not valid UTF-8",
        )
    })?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            "the body is empty: send conversations as JSONL or a JSON array",
        ));
    }
    AppState::heavy_in(turn, move || {
        let report = crate::audit::audit_text(&engine.linter, &settings, &text)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e))?;
        // Not one conversation read, as `kefu audit` does: the wrong document, most likely.
        let summary = &report["summary"];
        if summary["conversations"] == 0 && summary["bad_lines"].as_u64().is_some_and(|n| n > 0) {
            let first = summary["bad_line_samples"][0][1]
                .as_str()
                .unwrap_or_default();
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!(
                    "no conversation could be read: {} malformed line(s) (first: {first})",
                    summary["bad_lines"]
                ),
            ));
        }
        Ok(json_response(&report))
    })
    .await?
}
