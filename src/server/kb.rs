//! Knowledge-base management over HTTP: paged listing, one entry, upsert, delete, bulk import
//! and the unanswered questions. Writes need the admin token and an on-disk index, and are
//! acknowledged only once committed to disk; the next suggestion sees them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

use super::{ApiError, AppState};
use crate::suggest::Suggester;
use crate::suggest::gaps::Gap;
use crate::suggest::kb::{self, KbEntry};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// 0–1,000,000,000, default 0.
    #[serde(default)]
    #[param(minimum = 0, maximum = 1_000_000_000)]
    offset: usize,
    /// 1–500, default 50.
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 500)]
    limit: usize,
}

/// The largest `offset` a page may start at (the OpenAPI document's bound, which a client can
/// rely on whatever the server's word size).
const MAX_OFFSET: usize = 1_000_000_000;

fn default_limit() -> usize {
    50
}

impl Page {
    /// The page from a query string, its `limit` (1–500) and `offset` (at most 10⁹) checked.
    pub(super) fn from_query(
        page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
    ) -> Result<Self, ApiError> {
        let Query(page) = page?;
        if !(1..=500).contains(&page.limit) {
            return Err(ApiError::invalid(format!(
                "`limit` must be between 1 and 500, not {}",
                page.limit
            )));
        }
        if page.offset > MAX_OFFSET {
            return Err(ApiError::invalid(format!(
                "`offset` must be at most {MAX_OFFSET}, not {}",
                page.offset
            )));
        }
        Ok(page)
    }

    /// `{"total", "offset", "limit", <key>: [the items on this page]}`.
    pub(super) fn of<T: serde::Serialize>(&self, key: &str, items: &[T]) -> Value {
        let on_page: Vec<&T> = items.iter().skip(self.offset).take(self.limit).collect();
        json!({"total": items.len(), "offset": self.offset, "limit": self.limit, key: on_page})
    }
}

/// The body of `PUT /v1/kb/{id}`: an entry, its id taken from the path.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    /// Optional; must equal the path's id. Left out of the schema: the path names the entry.
    #[schema(ignore)]
    id: Option<String>,
    #[schema(min_length = 1, pattern = r"\S")]
    question: String,
    #[serde(default)]
    similar: Vec<String>,
    #[schema(min_length = 1, pattern = r"\S")]
    answer: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tags: Vec<String>,
}

pub async fn list(
    State(state): State<AppState>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let page = Page::from_query(page)?;
    Ok(Json(page.of("entries", state.engine().suggester.entries())))
}

pub async fn get(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<KbEntry>, ApiError> {
    let Path(id) = id?;
    state
        .engine()
        .suggester
        .entry(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no entry `{id}`")))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapsQuery {
    /// Also the questions the knowledge base answers now (closed by an edit since).
    #[serde(default)]
    all: bool,
}

/// The recorded questions, most asked first and paged, each asked again of the live knowledge
/// base (the one they were recorded against, edited since; once per question and knowledge
/// base, the most asked first, for about `Settings::recheck_budget` per listing: `unchecked` says how
/// many are still to be asked): those it answers now are closed and left out, unless `all`.
pub async fn gaps(
    State(state): State<AppState>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
    query: Result<Query<GapsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let page = Page::from_query(page)?;
    let Query(query) = query?;
    let Some(log) = state.settings.gaps.clone() else {
        let mut none = page.of::<Gap>("gaps", &[]);
        none["recording"] = false.into();
        none["unchecked"] = 0.into();
        return Ok(Json(none));
    };
    let engine = state.engine();
    // The budget counts from the listing's start: reading a large file leaves less of it for
    // asking again.
    let deadline = std::time::Instant::now() + state.settings.recheck_budget;
    let (gaps, unchecked) = blocking(move || {
        let mut gaps = log.summary()?;
        let unchecked = engine.recheck(&mut gaps, deadline)?;
        if !query.all {
            gaps.retain(|g| g.answered_by.is_none());
        }
        Ok((gaps, unchecked))
    })
    .await?;
    let mut listed = page.of("gaps", &gaps);
    listed["recording"] = true.into();
    listed["unchecked"] = unchecked.into();
    Ok(Json(listed))
}

/// The body of `POST /v1/kb/gaps/dismiss`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissBody {
    /// The recorded question, as listed (script, width and punctuation aside).
    #[schema(min_length = 1, pattern = r"\S")]
    question: String,
}

/// Dismisses a recorded question the shop will not answer: it leaves the list until it is asked
/// again. Needs the admin token.
pub async fn dismiss_gap(
    State(state): State<AppState>,
    body: Result<Json<DismissBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(DismissBody { question }) = body?;
    if question.trim().is_empty() {
        return Err(ApiError::invalid("`question` is empty"));
    }
    let Some(log) = state.settings.gaps.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_recording",
            "this service records no unanswered questions: start it with --index DIR",
        ));
    };
    let asked = question.clone();
    let recorder = state.recorder.clone();
    let dismissed = blocking(move || match &recorder {
        Some(r) => r.dismiss(&asked),
        None => log.dismiss(&asked),
    })
    .await?;
    match dismissed {
        Some(gap) => Ok(Json(json!({"status": "dismissed", "gap": gap}))),
        None => Err(ApiError::not_found(format!(
            "no open question `{question}` is recorded"
        ))),
    }
}

pub(super) fn index_dir(state: &AppState) -> Result<std::path::PathBuf, ApiError> {
    state.settings.index_dir.clone().ok_or_else(read_only)
}

/// The answer to a write (or a choice to learn) on a service without an on-disk index.
pub(super) fn read_only() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "read_only",
        "the knowledge base is read-only: start the service with --index DIR to manage it",
    )
}

/// Runs a blocking call (file and index work) on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::Error> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)??)
}

/// Commits the changes, then swaps in a suggester that sees them.
async fn write(
    state: &AppState,
    upserts: Vec<KbEntry>,
    deletes: Vec<String>,
) -> Result<(), ApiError> {
    let dir = index_dir(state)?;
    let _one_at_a_time = state.kb_writes.lock().await;
    write_held(state, dir, upserts, deletes).await
}

/// `write`, by a caller that holds `kb_writes` (and read the entries it changes under it).
pub(super) async fn write_held(
    state: &AppState,
    dir: std::path::PathBuf,
    upserts: Vec<KbEntry>,
    deletes: Vec<String>,
) -> Result<(), ApiError> {
    // The suggester serving now was opened from `dir` (writes and reloads take turns), so the
    // new one reads only what the write changed.
    let current = Arc::clone(&state.engine().suggester);
    let fresh = blocking(move || {
        Suggester::update(&dir, &upserts, &deletes)?;
        current.reopen(&dir)
    })
    .await?;
    let old = state.replace_suggester(fresh);
    // Requests still answering from the old engine hold it; otherwise it is freed here, off
    // the runtime's threads.
    tokio::task::spawn_blocking(move || drop(old));
    Ok(())
}

pub async fn put(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<EntryBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id?;
    let Json(b) = body?;
    if b.id.as_ref().is_some_and(|bid| *bid != id) {
        return Err(ApiError::invalid("the body's `id` differs from the path's"));
    }
    for (name, value) in [
        ("id", id.as_str()),
        ("question", &b.question),
        ("answer", &b.answer),
    ] {
        if value.trim().is_empty() {
            return Err(ApiError::invalid(format!("`{name}` is empty")));
        }
    }
    let entry = KbEntry {
        id: id.clone(),
        question: b.question,
        similar: b
            .similar
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect(),
        answer: b.answer,
        category: b.category,
        tags: b.tags,
    };
    write(&state, vec![entry], Vec::new()).await?;
    Ok(Json(json!({"status": "stored", "id": id})))
}

pub async fn delete(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id?;
    index_dir(&state)?;
    if state.engine().suggester.entry(&id).is_none() {
        return Err(ApiError::not_found(format!("no entry `{id}`")));
    }
    write(&state, Vec::new(), vec![id.clone()]).await?;
    Ok(Json(json!({"status": "deleted", "id": id})))
}

/// A JSONL or CSV body; bad lines are reported with their numbers, the rest stored (the last of
/// repeated ids wins).
pub async fn import(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the body is not valid UTF-8{}", kb::gbk_hint(&body)),
        )
    })?;
    let loaded = kb::parse::<KbEntry>(text);
    let errors: Vec<Value> = loaded
        .errors
        .iter()
        .map(|e| json!({"line": e.line, "message": e.message}))
        .collect();
    let why = match loaded.errors.as_slice() {
        [] => "nothing to import".to_owned(),
        [e] => format!("line {}: {}", e.line, e.message),
        [e, rest @ ..] => format!(
            "line {}: {} ({} more bad lines)",
            e.line,
            e.message,
            rest.len()
        ),
    };
    let entries = loaded.dedup_last_wins(|e| &e.id);
    if entries.is_empty() {
        return Err(ApiError::invalid(format!("no valid entries: {why}")));
    }
    let count = entries.len();
    write(&state, entries, Vec::new()).await?;
    Ok(Json(
        json!({"status": "imported", "imported": count, "errors": errors}),
    ))
}
