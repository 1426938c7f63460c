//! Learning from agents over HTTP: `POST /v1/suggest/feedback` records that an agent inserted
//! a suggestion for a customer's question; once the same pairing has been chosen
//! `Settings::learn_after` times (at once with `learn = "auto"`) the question becomes a similar
//! question of that entry. `GET /v1/kb/learned` lists what was learned (and what waits), and
//! `POST /v1/kb/learned/undo` takes a learned question back out.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::kb::{Page, blocking, read_only, write_held};
use super::{ApiError, AppState};
use crate::suggest::feedback::{FeedbackLog, Pair, PairStatus};
use crate::suggest::gaps::MAX_QUESTION_CHARS;
use crate::suggest::learn::{self, Accepted};

/// The body of `POST /v1/suggest/feedback` and `POST /v1/kb/learned/undo`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairBody {
    /// The customer's question the suggestion was inserted for (at most 200 characters).
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    question: String,
    /// The id of the entry whose answer the agent inserted.
    #[schema(min_length = 1, pattern = r"\S")]
    id: String,
}

impl PairBody {
    fn checked(body: Result<Json<PairBody>, JsonRejection>) -> Result<Self, ApiError> {
        let Json(b) = body?;
        if b.question.trim().is_empty() || b.id.trim().is_empty() {
            return Err(ApiError::invalid("`question` and `id` must not be empty"));
        }
        if b.question.trim().chars().count() > MAX_QUESTION_CHARS {
            return Err(ApiError::invalid(format!(
                "`question` is over {MAX_QUESTION_CHARS} characters: too long to learn as a similar question"
            )));
        }
        if !b.question.chars().any(char::is_alphanumeric) {
            return Err(ApiError::invalid(
                "`question` has no letters or digits: nothing to learn",
            ));
        }
        Ok(b)
    }
}

/// The feedback file, or why there is none.
fn log(state: &AppState) -> Result<Arc<FeedbackLog>, ApiError> {
    state.settings.feedback.clone().ok_or_else(read_only)
}

/// Records an agent's choice and learns it once it has been confirmed often enough.
pub async fn feedback(
    State(state): State<AppState>,
    body: Result<Json<PairBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let PairBody { question, id } = PairBody::checked(body)?;
    let Some(learn_after) = state.settings.learn_after else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "learning_off",
            "this service does not learn from agents (learn = \"off\")",
        ));
    };
    let log = log(&state)?;
    if state.engine().suggester.entry(&id).is_none() {
        return Err(ApiError::not_found(format!("no entry `{id}`")));
    }
    let (q, i) = (question.clone(), id.clone());
    let chosen = blocking({
        let log = log.clone();
        move || log.choose(&q, &i)
    })
    .await?
    .ok_or_else(|| ApiError::invalid("`question` has no letters or digits"))?;
    let mut answer = json!({
        "question": chosen.question,
        "id": id,
        "count": chosen.count,
        "learn_after": learn_after,
    });
    answer["status"] = match chosen.status {
        PairStatus::Undone => "undone".into(),
        PairStatus::Learned => "learned".into(),
        PairStatus::Pending if chosen.count < learn_after => "recorded".into(),
        PairStatus::Pending => {
            let (status, holder) = learn_pair(&state, &log, &chosen).await?;
            if let Some(h) = holder {
                answer["held_by"] = h.into();
            }
            status.into()
        }
    };
    Ok(Json(answer))
}

/// Adds a confirmed pair's question to its entry, unless the entry holds it already (then it
/// is only marked learned) or another entry holds it word for word (left pending: the KB
/// owner decides). Returns the status and, for a conflict, the entry holding the question.
async fn learn_pair(
    state: &AppState,
    log: &Arc<FeedbackLog>,
    pair: &Pair,
) -> Result<(&'static str, Option<String>), ApiError> {
    let dir = super::kb::index_dir(state)?;
    let _one_at_a_time = state.kb_writes.lock().await;
    let suggester = state.engine().suggester.clone();
    let accepted = Accepted {
        question: pair.question.clone(),
        id: pair.id.clone(),
    };
    let learned = blocking(move || {
        let mut entries = suggester.entries().to_vec();
        let learned = learn::learn(&mut entries, &[(0, accepted)], &suggester.analyzer(), 1);
        let changed = (learned.added.first())
            .and_then(|(id, _)| entries.iter().find(|e| e.id == *id).cloned());
        Ok((learned, changed))
    })
    .await?;
    let (learned, changed) = learned;
    if let Some((_, _, holder)) = learned.conflicts.first() {
        return Ok(("conflict", Some(holder.clone())));
    }
    if learned.unknown.is_empty()
        && let Some(entry) = changed
    {
        write_held(state, dir, vec![entry], Vec::new()).await?;
    }
    let (log, q, id) = (log.clone(), pair.question.clone(), pair.id.clone());
    blocking(move || log.mark(&q, &id, PairStatus::Learned)).await?;
    Ok(("learned", None))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LearnedQuery {
    /// Which pairs: learned (default), pending (chosen, waiting for confirmation), undone or all.
    #[serde(default)]
    status: Option<StatusFilter>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    Learned,
    Pending,
    Undone,
    All,
}

/// The pairs agents chose, paged: learned ones most recent first by default.
pub async fn learned(
    State(state): State<AppState>,
    page: Result<Query<Page>, QueryRejection>,
    query: Result<Query<LearnedQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let page = Page::from_query(page)?;
    let Query(query) = query?;
    let status = match query.status.unwrap_or(StatusFilter::Learned) {
        StatusFilter::Learned => Some(PairStatus::Learned),
        StatusFilter::Pending => Some(PairStatus::Pending),
        StatusFilter::Undone => Some(PairStatus::Undone),
        StatusFilter::All => None,
    };
    let pairs = match state.settings.feedback.clone() {
        Some(log) => blocking(move || log.pairs(status)).await?,
        None => Vec::new(),
    };
    let mut listed = page.of("pairs", &pairs);
    listed["recording"] = state.settings.feedback.is_some().into();
    listed["learn_after"] = state.settings.learn_after.into();
    Ok(Json(listed))
}

/// Takes a learned question back out of its entry; the pair is marked undone and is not
/// learned again by itself. Needs the admin token.
pub async fn undo(
    State(state): State<AppState>,
    body: Result<Json<PairBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let PairBody { question, id } = PairBody::checked(body)?;
    let log = log(&state)?;
    let dir = super::kb::index_dir(&state)?;
    let (q, i) = (question.clone(), id.clone());
    let recorded = blocking({
        let log = log.clone();
        move || log.get(&q, &i)
    })
    .await?;
    if !recorded.is_some_and(|p| p.status == PairStatus::Learned) {
        return Err(ApiError::not_found(format!(
            "`{question}` was not learned for `{id}`"
        )));
    }
    let _one_at_a_time = state.kb_writes.lock().await;
    let suggester = state.engine().suggester.clone();
    if let Some(mut entry) = suggester.entry(&id).cloned() {
        let analyzer = suggester.analyzer();
        let key = |q: &str| learn::key(&analyzer, q);
        let wanted = key(&question);
        let before = entry.similar.len();
        entry.similar.retain(|s| key(s) != wanted);
        if entry.similar.len() != before {
            write_held(&state, dir, vec![entry], Vec::new()).await?;
        }
    }
    let (q, i) = (question.clone(), id.clone());
    let pair = blocking(move || log.mark(&q, &i, PairStatus::Undone)).await?;
    Ok(Json(json!({"status": "undone", "pair": pair})))
}
