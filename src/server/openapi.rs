//! The OpenAPI 3 document of the service, served at `/openapi.json`: request and response
//! schemas are derived from the very types the handlers use; a test checks that every route
//! the router answers is described here and every described route is answered.

#![allow(dead_code)] // the functions below only carry `#[utoipa::path]` descriptions

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::handlers::{AnalyzeBody, BatchBody, LintBody};
use super::kb::{DismissBody, EntryBody};
use super::learn::{PairBody, StatusFilter};
use crate::lint::{Finding, Fix, LintResult, Role, Severity};
use crate::suggest::analyze::AnalysedWord;
use crate::suggest::feedback::{Pair, PairStatus};
use crate::suggest::gaps::Gap;
use crate::suggest::kb::KbEntry;
use crate::suggest::panel::{PanelPhrase, PhraseList, Scene};
use crate::suggest::{
    Analysis, BigramInIndex, Source, SuggestRequest, SuggestResult, Suggestion, WordInIndex,
};
use crate::text::Span;

/// `{"error":{"code","message"}}`, the body of every error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: bad_request, malformed_json, not_found, …
    code: String,
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct BatchResult {
    results: Vec<LintResult>,
}

#[derive(Serialize, ToSchema)]
pub struct KbPage {
    total: usize,
    offset: usize,
    limit: usize,
    entries: Vec<KbEntry>,
}

/// The answer to an agent's choice.
#[derive(Serialize, ToSchema)]
pub struct Feedback {
    /// `recorded` (counted, not yet confirmed often enough), `learned` (the question is now a
    /// similar question of the entry, or already was), `conflict` (another entry holds the
    /// question word for word: left to the KB owner), `undone` (a KB owner took it back: counted,
    /// not learned again).
    status: String,
    /// The question as first chosen.
    question: String,
    id: String,
    /// Times agents chose this entry for this question.
    count: u64,
    /// Times needed before it is learned.
    learn_after: u64,
    /// With `conflict`: the entry holding the question.
    #[schema(nullable = false)]
    held_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Learned {
    total: usize,
    offset: usize,
    limit: usize,
    pairs: Vec<Pair>,
    /// Whether this service keeps agents' choices (it does with an on-disk index).
    recording: bool,
    /// Times a pairing must be chosen before it is learned; null when learning is off.
    learn_after: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct Gaps {
    /// The gaps listed (all of them with `all=true`, else the open ones) before paging.
    total: usize,
    offset: usize,
    limit: usize,
    gaps: Vec<Gap>,
    /// Whether this service records unanswered questions (it does with an on-disk index).
    recording: bool,
    /// Recorded questions not yet asked again of the knowledge base (a listing spends a moment
    /// on it, the most asked first): listed as open until a later listing has asked them.
    unchecked: usize,
}

/// A body of text (JSONL, CSV or a JSON array) with something in it.
pub struct TextBody;

impl utoipa::PartialSchema for TextBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .pattern(Some(r"\S"))
            .into()
    }
}

impl ToSchema for TextBody {}

#[derive(Serialize, ToSchema)]
pub struct Status {
    status: String,
}

/// LanguageTool's form fields (`text` or `data`, `language`, `enabledRules`, `disabledRules`,
/// `enabledOnly`), form-encoded.
#[derive(Serialize, ToSchema)]
pub struct CheckForm {
    #[schema(nullable = false)]
    text: Option<String>,
    #[schema(nullable = false)]
    data: Option<String>,
    #[schema(nullable = false)]
    language: Option<CheckLanguage>,
    #[serde(rename = "enabledRules")]
    #[schema(nullable = false)]
    enabled_rules: Option<String>,
    #[serde(rename = "disabledRules")]
    #[schema(nullable = false)]
    disabled_rules: Option<String>,
    #[serde(rename = "enabledOnly")]
    #[schema(nullable = false)]
    enabled_only: Option<String>,
}

/// The languages `/v2/check` accepts.
#[derive(Serialize, ToSchema)]
pub enum CheckLanguage {
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "zh")]
    Zh,
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "zh-HK")]
    ZhHk,
}

#[utoipa::path(post, path = "/v1/lint", request_body = LintBody,
    responses((status = 200, body = LintResult), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
fn lint() {}

#[utoipa::path(post, path = "/v1/lint/batch", request_body = BatchBody,
    responses((status = 200, body = BatchResult), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn lint_batch() {}

#[utoipa::path(post, path = "/v1/suggest", request_body = SuggestRequest,
    responses((status = 200, body = SuggestResult), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn suggest() {}

#[utoipa::path(post, path = "/v1/suggest/analyze", request_body = AnalyzeBody,
    responses((status = 200, body = Analysis), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn suggest_analyze() {}

#[utoipa::path(get, path = "/v1/phrases", params(super::handlers::PhrasesQuery),
    responses((status = 200, body = PhraseList), (status = 400, body = ErrorBody), (status = 404, description = "no phrase has that scene; the message names those there are", body = ErrorBody)))]
fn phrases() {}

#[utoipa::path(post, path = "/v2/check", request_body(content = CheckForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "LanguageTool's check response: software, warnings, language, matches[] with UTF-16 offset/length", body = Object),
              (status = 400, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn check() {}

#[utoipa::path(get, path = "/v2/languages", responses((status = 200, body = [super::languagetool::Language])))]
fn languages() {}

#[utoipa::path(get, path = "/v1/kb", params(super::kb::Page),
    responses((status = 200, body = KbPage), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn kb_list() {}

#[utoipa::path(get, path = "/v1/kb/{id}", params(("id" = String, Path)), responses((status = 200, body = KbEntry), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
fn kb_get() {}

#[utoipa::path(put, path = "/v1/kb/{id}", params(("id" = String, Path)), request_body = EntryBody, security(("bearer" = [])),
    responses((status = 200, body = Status), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn kb_put() {}

#[utoipa::path(delete, path = "/v1/kb/{id}", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Status), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
fn kb_delete() {}

#[utoipa::path(post, path = "/v1/kb/import", request_body(content = TextBody, description = "JSONL or CSV with a header row", content_type = "text/plain"), security(("bearer" = [])),
    responses((status = 200, description = "{status, imported, errors:[{line, message}]}", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn kb_import() {}

#[utoipa::path(get, path = "/v1/kb/gaps", params(super::kb::Page, super::kb::GapsQuery),
    responses((status = 200, body = Gaps), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn kb_gaps() {}

#[utoipa::path(post, path = "/v1/kb/gaps/dismiss", request_body = DismissBody, security(("bearer" = [])),
    responses((status = 200, description = "{status: \"dismissed\", gap: the question as it was listed}", body = Object),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn kb_gaps_dismiss() {}

#[utoipa::path(post, path = "/v1/suggest/feedback", request_body = PairBody,
    responses((status = 200, body = Feedback), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "no on-disk index (read_only) or learning is off (learning_off)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn suggest_feedback() {}

#[utoipa::path(get, path = "/v1/kb/learned", params(super::kb::Page, super::learn::LearnedQuery),
    responses((status = 200, body = Learned), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn kb_learned() {}

#[utoipa::path(post, path = "/v1/kb/learned/undo", request_body = PairBody, security(("bearer" = [])),
    responses((status = 200, description = "{status: \"undone\", pair: the pair as it stands now}", body = Object),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn kb_learned_undo() {}

#[utoipa::path(post, path = "/v1/admin/reload", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
fn reload() {}

#[utoipa::path(post, path = "/v1/audit", params(super::handlers::AuditQuery), request_body(content = TextBody, description = "JSONL (a conversation or a message per line) or a JSON array of conversations", content_type = "application/x-ndjson"),
    responses((status = 200, description = "{summary: {conversations, bad_lines, outcomes{status: n}, review_first[{id, agent, score, manner, outcome, status, reason, turns[…]}], agents[{…, manner_mean, outcome_mean, resolved_share, escalations, negative_endings, no_reply}]}, conversations: [{id, agent, score, manner, outcome{score, status, sentiment_start, sentiment_end, escalation, repeated, reason, evidence[…]}, evidence[…], …}]}", body = Object),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
fn audit() {}

#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Status)))]
fn healthz() {}

#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "{status, rules, kb_documents, semantic}", body = Object)))]
fn readyz() {}

#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
fn metrics() {}

#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "this document", body = Object)))]
fn openapi_json() {}

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kefu",
        description = "Service-language linting and reply suggestion for Chinese customer service.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    paths(lint, lint_batch, suggest, suggest_analyze, phrases, check, languages, kb_list, kb_get, kb_put, kb_delete, kb_import, kb_gaps, kb_gaps_dismiss, suggest_feedback, kb_learned, kb_learned_undo, reload, audit, healthz, readyz, metrics, openapi_json),
    components(schemas(ErrorBody, ErrorDetail, BatchResult, KbPage, Gaps, Status, TextBody, CheckForm, LintBody, BatchBody, EntryBody, DismissBody, PairBody, Feedback, Learned, Pair, PairStatus, StatusFilter,
        LintResult, Finding, Fix, Span, Severity, Role, SuggestRequest, SuggestResult, Suggestion, Source, KbEntry, Gap,
        AnalyzeBody, Analysis, WordInIndex, BigramInIndex, AnalysedWord, PhraseList, PanelPhrase, Scene)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}
