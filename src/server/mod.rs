//! The HTTP service: `router(state)` builds every route with its limits, errors, metrics, request
//! ids, CORS and timeout; handlers are thin — extract, call the library, answer.

mod error;
mod handlers;
pub(crate) mod kb;
pub(crate) mod languagetool;
mod learn;
pub mod listen;
pub mod metrics;
pub mod openapi;
mod web;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post, put};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::lint::Linter;
use crate::suggest::Suggester;
use crate::suggest::gaps::Gap;
use crate::suggest::recorder::Recorder;

/// Unanswered questions that may wait for the gap file before more go unrecorded.
const GAP_QUEUE: usize = 10_000;

/// Service limits and options.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest body `/v1/lint` and `/v1/suggest` accept, in bytes.
    pub max_body: usize,
    /// Largest body of the batch route.
    pub max_batch_body: usize,
    /// Most drafts one batch may hold.
    pub max_batch: usize,
    /// Time a request may take before it is answered 408.
    pub timeout: Duration,
    /// Origins allowed to call from a browser (empty: none).
    pub cors_origins: Vec<String>,
    /// Bearer token the admin routes require; without one they are refused.
    pub admin_token: Option<String>,
    /// The on-disk index knowledge-base writes go to; without one they are refused.
    pub index_dir: Option<std::path::PathBuf>,
    /// Where unanswered questions are recorded, if anywhere.
    pub gaps: Option<crate::suggest::gaps::GapLog>,
    /// Host names (the `Host` header, port aside) requests may name; `None` takes any. A
    /// service on a loopback address takes only loopback names by default, so a web page whose
    /// name was rebound to 127.0.0.1 cannot read it.
    pub hosts: Option<Vec<String>>,
    /// Time one gap listing may take, counted from its start (reading the gap file included),
    /// for asking recorded questions again (most asked first; one is asked only when the
    /// slowest so far would still end in time); the rest are listed as open, counted in
    /// `unchecked`, and asked by the next listing.
    pub recheck_budget: Duration,
    /// Where agents' choices (`POST /v1/suggest/feedback`) are kept: with an on-disk index.
    pub feedback: Option<Arc<crate::suggest::feedback::FeedbackLog>>,
    /// Times the same question must be chosen for the same entry before it is learned as a
    /// similar question (1: at once); None: feedback is refused, nothing is learned.
    pub learn_after: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_body: 64 * 1024,
            max_batch_body: 1024 * 1024,
            max_batch: 100,
            timeout: Duration::from_secs(10),
            cors_origins: Vec::new(),
            admin_token: None,
            index_dir: None,
            gaps: None,
            hosts: None,
            recheck_budget: Duration::from_millis(100),
            feedback: None,
            learn_after: Some(u64::from(crate::suggest::feedback::DEFAULT_LEARN_AFTER)),
        }
    }
}

/// The rules and the knowledge base a request is answered with. Swapped whole on reload;
/// a request holds the `Arc` it started with, so requests in flight finish on the old set.
pub struct Engine {
    pub linter: Arc<Linter>,
    pub suggester: Arc<Suggester>,
    /// The shop's response-time policy for `/v1/audit` (`[audit]` in kefu.toml).
    pub audit: crate::audit::Settings,
    /// Recorded questions already asked again of this knowledge base, with the entry that
    /// answers each now (if any): listing the gaps asks each question once per knowledge base,
    /// not once per request.
    rechecked: std::sync::Mutex<HashMap<String, Option<String>>>,
}

impl Engine {
    pub fn new(linter: Linter, suggester: Suggester) -> Self {
        Self::sharing(
            Arc::new(linter),
            suggester,
            crate::audit::Settings::default(),
        )
    }

    /// With the shop's audit policy instead of the default one.
    pub fn with_audit(mut self, audit: crate::audit::Settings) -> Self {
        self.audit = audit;
        self
    }

    fn sharing(linter: Arc<Linter>, suggester: Suggester, audit: crate::audit::Settings) -> Self {
        Self {
            linter,
            suggester: Arc::new(suggester),
            audit,
            rechecked: Default::default(),
        }
    }

    /// Sets each gap's `answered_by` from this knowledge base (`Suggester::recheck`), asking
    /// only the questions it has not been asked before, in the order given, while the slowest
    /// asked so far would still end before `deadline`; returns how many were left unasked
    /// (listed as open; the next listing goes on).
    pub fn recheck(
        &self,
        gaps: &mut [Gap],
        deadline: std::time::Instant,
    ) -> Result<usize, crate::Error> {
        let lock = || {
            self.rechecked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let mut fresh: Vec<Gap> = {
            let known = lock();
            let unknown = gaps.iter().filter(|g| !known.contains_key(&g.question));
            unknown.cloned().collect()
        };
        // Asked without the lock: another listing may ask some of the same at once, harmlessly.
        // A question is asked only when the slowest one asked so far would still end before the
        // deadline: a listing overruns its budget by the misjudged question at most.
        let mut asked = 0;
        let mut slowest = Duration::ZERO;
        for chunk in fresh.chunks_mut(1) {
            let started = std::time::Instant::now();
            if started + slowest >= deadline {
                break;
            }
            self.suggester.recheck(chunk)?;
            slowest = slowest.max(started.elapsed());
            asked += chunk.len();
        }
        let unasked = fresh.len() - asked;
        fresh.truncate(asked);
        let mut known = lock();
        // Questions evicted from the gap file are never listed again: start over rather than
        // keep them all.
        if known.len() > 4 * crate::suggest::gaps::MAX_QUESTIONS {
            known.clear();
        }
        known.extend(fresh.into_iter().map(|g| (g.question, g.answered_by)));
        for gap in gaps.iter_mut() {
            if let Some(answered_by) = known.get(&gap.question) {
                gap.answered_by.clone_from(answered_by);
            }
        }
        Ok(unasked)
    }
}

/// Builds a fresh engine from the service's sources (config file, knowledge-base files).
pub type Loader = dyn Fn() -> Result<Engine, crate::Error> + Send + Sync;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    engine: Arc<RwLock<Arc<Engine>>>,
    loader: Option<Arc<Loader>>,
    /// Knowledge-base writes happen one at a time.
    pub kb_writes: Arc<tokio::sync::Mutex<()>>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<metrics::Metrics>,
    /// Writes unanswered questions to `settings.gaps`, if set.
    pub recorder: Option<Arc<Recorder>>,
    /// Texts embedded for meaning at once (`embedding_work`: questions, drafts judged by
    /// meaning): one per core, so that however many such requests come in, the runtime's
    /// threads (health, lint without meaning) still get their share of the processor; the
    /// others wait their turn.
    pub embedding: Arc<tokio::sync::Semaphore>,
    /// Heavy requests (a long draft, a batch, an audit) at once, on the blocking pool: past
    /// this many, a request waits up to [`CPU_WAIT`], then is answered 503 with Retry-After, so
    /// a flood of heavy requests never holds the runtime's threads that light ones need.
    pub cpu: Arc<tokio::sync::Semaphore>,
}

/// Turns for heavy work: one per core.
fn turns_total() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Hands the memory the allocator holds free back to the system. glibc's allocator keeps what
/// a burst of large audits freed in its per-thread arenas (gigabytes after a few dozen 8 MiB
/// audits); `malloc_trim` returns it. A no-op elsewhere.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own heaps; it takes the
    // allocator's locks itself and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How long a heavy request waits for a turn before it is answered 503.
pub const CPU_WAIT: Duration = Duration::from_secs(2);

impl AppState {
    pub fn new(linter: Linter, suggester: Suggester, settings: Settings) -> Self {
        Self::from_engine(Engine::new(linter, suggester), settings)
    }

    pub fn from_engine(engine: Engine, settings: Settings) -> Self {
        let recorder = settings.gaps.clone().and_then(|log| {
            Recorder::start(log, GAP_QUEUE)
                .inspect_err(
                    |e| tracing::error!(error = %e, "unanswered questions will not be recorded"),
                )
                .ok()
                .map(Arc::new)
        });
        Self {
            recorder,
            engine: Arc::new(RwLock::new(Arc::new(engine))),
            loader: None,
            kb_writes: Arc::new(tokio::sync::Mutex::new(())),
            settings: Arc::new(settings),
            metrics: Arc::new(metrics::Metrics::default()),
            embedding: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
            cpu: Arc::new(tokio::sync::Semaphore::new(turns_total())),
        }
    }

    /// Runs light `work` that may embed text (a suggestion's question, a draft's new sentences
    /// judged by meaning): here and now when it embeds nothing (microseconds); else on the
    /// blocking pool under an `embedding` permit (milliseconds), so the runtime's threads never
    /// embed.
    pub async fn embedding_work<T: Send + 'static>(
        &self,
        embeds: bool,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, error::ApiError> {
        if !embeds {
            return Ok(work());
        }
        let permit =
            (self.embedding.clone().acquire_owned().await).map_err(error::ApiError::internal)?;
        tokio::task::spawn_blocking(move || {
            let done = work();
            drop(permit);
            done
        })
        .await
        .map_err(error::ApiError::internal)
    }

    /// Runs CPU-heavy `work` on the blocking pool once a turn is free (see `cpu`); 503 with
    /// Retry-After when none frees up in time.
    pub async fn heavy<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, error::ApiError> {
        let permit = self.turn().await?;
        Self::heavy_in(permit, work).await
    }

    /// A turn for heavy work (see `cpu`), waited for up to [`CPU_WAIT`]; 503 with Retry-After
    /// when none frees up. Taken before a large body is read, a request turned away never
    /// holds its body in memory.
    pub async fn turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, error::ApiError> {
        tokio::time::timeout(CPU_WAIT, self.cpu.clone().acquire_owned())
            .await
            .map_err(|_| error::ApiError::busy())?
            .map_err(error::ApiError::internal)
    }

    /// Runs `work` on the blocking pool in the turn `permit` holds; when no other heavy work
    /// is running after it, the memory it freed goes back to the system.
    pub async fn heavy_in<T: Send + 'static>(
        permit: tokio::sync::OwnedSemaphorePermit,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, error::ApiError> {
        tokio::task::spawn_blocking(move || {
            let done = work();
            let semaphore_idle = {
                let turns = permit.semaphore().clone();
                drop(permit);
                turns.available_permits() == turns_total()
            };
            if semaphore_idle {
                release_free_memory();
            }
            done
        })
        .await
        .map_err(error::ApiError::internal)
    }

    /// Enables reloading (SIGHUP, `POST /v1/admin/reload`) from these sources.
    pub fn with_loader(mut self, loader: Arc<Loader>) -> Self {
        self.loader = Some(loader);
        self
    }

    /// The current engine.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Rebuilds the engine from its sources and swaps it in; on any error the old one keeps
    /// serving and the error is returned. Knowledge-base writes wait while it loads, so what
    /// it swaps in never predates a write already acknowledged. Blocks: call it off the
    /// runtime (`spawn_blocking`).
    pub fn reload(&self) -> Result<(), crate::Error> {
        let loader = self.loader.as_ref().ok_or_else(|| {
            crate::Error::Invalid("this service has no sources to reload from".to_owned())
        })?;
        let _no_writes = self.kb_writes.blocking_lock();
        let fresh = Arc::new(loader()?);
        let old = std::mem::replace(
            &mut *self
                .engine
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            fresh,
        );
        // Freed here, on the blocking thread, after the lock is let go.
        drop(old);
        Ok(())
    }

    /// Waits until the unanswered questions queued so far are written (at shutdown).
    pub fn flush_gaps(&self) -> Result<(), crate::Error> {
        self.recorder.as_ref().map_or(Ok(()), |r| r.flush())
    }

    /// Swaps in a new knowledge base, keeping the rules; returns the engine it replaced (to be
    /// dropped where freeing a large knowledge base holds up nothing: not under the lock, which
    /// every request takes, and not on the runtime's threads).
    #[must_use = "the old engine is dropped where the caller is: drop it off the runtime"]
    pub fn replace_suggester(&self, suggester: Suggester) -> Arc<Engine> {
        let mut guard = self
            .engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = Arc::new(Engine::sharing(
            guard.linter.clone(),
            suggester,
            guard.audit,
        ));
        std::mem::replace(&mut *guard, fresh)
    }
}

/// A request not answered within `timeout` is answered 408 with the JSON error body (its work,
/// if it runs on the blocking pool, is left to finish in its turn).
async fn time_limit(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    req: Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => error::ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!("not answered within {} s", timeout.as_secs_f32()),
        )
        .into_response(),
    }
}

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    let s = state.settings.clone();
    let x_request_id = HeaderName::from_static("x-request-id");
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            s.cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        ))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            axum::http::header::CONTENT_TYPE,
            axum::http::header::AUTHORIZATION,
        ]);
    Router::new()
        .route("/v1/lint", limited(post(handlers::lint), s.max_body))
        .route("/v1/lint/batch", limited(post(handlers::lint_batch), s.max_batch_body))
        .route("/v1/suggest", limited(post(handlers::suggest), s.max_body))
        .route("/v1/phrases", get(handlers::phrases))
        .route("/v1/suggest/feedback", limited(post(learn::feedback), s.max_body))
        .route("/v1/kb/learned", get(learn::learned))
        .route("/v1/kb/learned/undo", admin(post(learn::undo), &state))
        .route("/v1/suggest/analyze", limited(post(handlers::analyze), s.max_body))
        .route("/v2/check", limited(post(languagetool::check), s.max_body))
        .route("/v2/languages", get(languagetool::languages))
        .route("/v1/admin/reload", admin(post(handlers::reload), &state))
        .route("/v1/audit", limited(post(handlers::audit), s.max_batch_body * 8))
        .route("/v1/kb", get(kb::list))
        .route("/v1/kb/gaps", get(kb::gaps))
        .route("/v1/kb/gaps/dismiss", admin(post(kb::dismiss_gap), &state))
        .route(
            "/v1/kb/import",
            limited(admin(post(kb::import), &state), s.max_batch_body * 16),
        )
        .route(
            "/v1/kb/{id}",
            get(kb::get)
                .merge(admin(put(kb::put), &state))
                .merge(admin(delete(kb::delete), &state)),
        )
        .route("/openapi.json", get(|| async { axum::Json(openapi::document()) }))
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/metrics", get(handlers::metrics))
        .merge(web::routes())
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(middleware::from_fn(strip_bom))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(CatchPanicLayer::custom(handlers::panicked))
        .layer(middleware::from_fn_with_state(s.timeout, time_limit))
        .layer(cors)
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, Counter::default()))
        .layer(middleware::from_fn(sanitise_request_id))
        .layer(middleware::from_fn_with_state(state.clone(), check_host))
        .with_state(state)
}

/// An admin route: the token is checked before anything else, the body included.
fn admin(route: MethodRouter<AppState>, state: &AppState) -> MethodRouter<AppState> {
    route.layer(middleware::from_fn_with_state(
        state.clone(),
        |State(state): State<AppState>, req: Request, next: Next| async move {
            match handlers::authorize(&state, req.headers()) {
                Ok(()) => next.run(req).await,
                Err(e) => axum::response::IntoResponse::into_response(e),
            }
        },
    ))
}

/// A client's `x-request-id` is kept only when it is short and plain (letters, digits, `.-_:`);
/// otherwise the service gives the request its own.
async fn sanitise_request_id(mut req: Request, next: Next) -> Response {
    let plain = |v: &HeaderValue| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':'))
    };
    if req.headers().get("x-request-id").is_some_and(|v| !plain(v)) {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// Refuses a request whose `Host` is not one the service answers to (see `Settings::hosts`).
async fn check_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(hosts) = &state.settings.hosts {
        let host = req
            .headers()
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| req.uri().host())
            .map(host_name);
        if !host.is_some_and(|h| hosts.iter().any(|a| a.eq_ignore_ascii_case(h))) {
            return axum::response::IntoResponse::into_response(error::ApiError::new(
                axum::http::StatusCode::MISDIRECTED_REQUEST,
                "misdirected_request",
                format!(
                    "this service answers to {} only; add the name to [server] hosts (or --host)",
                    hosts.join(", ")
                ),
            ));
        }
    }
    next.run(req).await
}

/// The name of a `Host` header, its port left out: `localhost:8080` → `localhost`,
/// `[::1]:8080` → `::1`.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

/// The names a service bound to `addr` answers to by default: on a loopback address only the
/// loopback names; elsewhere any (the shop names its host with `[server] hosts`).
pub fn default_hosts(addr: std::net::SocketAddr) -> Option<Vec<String>> {
    addr.ip().is_loopback().then(|| {
        ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_owned)
            .chain([addr.ip().to_string()])
            .collect()
    })
}

/// A route with a body limit of `max` bytes. A body announced larger is refused before a byte
/// of it is read, and every 413 — announced or found while reading — is the JSON error naming
/// the limit.
fn limited(route: MethodRouter<AppState>, max: usize) -> MethodRouter<AppState> {
    route
        .layer(DefaultBodyLimit::max(max))
        .layer(middleware::from_fn(
            move |req: Request, next: Next| async move {
                let announced = req
                    .headers()
                    .get(axum::http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if announced.is_some_and(|n| n > max as u64) {
                    return too_large(max);
                }
                let response = next.run(req).await;
                if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    return too_large(max);
                }
                response
            },
        ))
}

pub(crate) fn too_large(max: usize) -> Response {
    use axum::response::IntoResponse;
    let size = if max.is_multiple_of(1024 * 1024) {
        format!("{} MiB", max / (1024 * 1024))
    } else if max.is_multiple_of(1024) {
        format!("{} KiB", max / 1024)
    } else {
        format!("{max} bytes")
    };
    error::ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is over this route's limit of {size} ({max} bytes)"),
    )
    .into_response()
}

/// Request ids: a per-process counter, unless the client sent its own `x-request-id`.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("req-{n:08x}"))
            .ok()
            .map(RequestId::new)
    }
}

/// A JSON body that starts with a UTF-8 byte order mark, as Windows tools write one, is read
/// without it. The body stays a stream, so each route's size limit applies as before.
async fn strip_bom(req: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    let json = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let mut first = true;
    let body = body.map_frame(move |frame| {
        if !std::mem::take(&mut first) {
            return frame;
        }
        match frame.into_data() {
            Ok(data) if data.starts_with(b"\xef\xbb\xbf") => {
                http_body::Frame::data(data.slice(3..))
            }
            Ok(data) => http_body::Frame::data(data),
            Err(frame) => frame,
        }
    });
    next.run(Request::from_parts(parts, axum::body::Body::new(body)))
        .await
}

/// Counts and times every request by its route pattern.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(req).await;
    state
        .metrics
        .observe(&route, response.status().as_u16(), start.elapsed());
    response
}
