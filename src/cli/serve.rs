//! `kefu serve`: the HTTP service on the shipped (or a shop's) rules, knowledge base and phrases.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use std::sync::Arc;

use kefu::config::{Learn, LogFormat};
use kefu::server::{AppState, Engine, Settings, router};
use kefu::{Config, Linter};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT with an IP address or a host name such as localhost
    /// (also KEFU_ADDR; default 127.0.0.1:8080); port 0 picks a free port.
    #[arg(long, env = "KEFU_ADDR")]
    addr: Option<String>,
    #[command(flatten)]
    files: super::KbFiles,
    /// Largest request body for /v1/lint and /v1/suggest, in bytes (default 65536).
    #[arg(long, env = "KEFU_MAX_BODY")]
    max_body: Option<usize>,
    /// Confidence below which a question counts as unanswered, 0–1 (also KEFU_THRESHOLD; default 0.6).
    #[arg(long, env = "KEFU_THRESHOLD", value_parser = super::suggest::threshold, allow_negative_numbers = true)]
    threshold: Option<f32>,
    /// Seconds a request may take before it is answered 408 (default 10).
    #[arg(long, env = "KEFU_TIMEOUT")]
    timeout: Option<u64>,
    /// Token the admin routes (reload) require as `Authorization: Bearer …` (also KEFU_ADMIN_TOKEN).
    #[arg(long, env = "KEFU_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// An origin allowed to call from a browser (repeatable; also KEFU_CORS_ORIGINS, comma-separated).
    #[arg(long = "cors-origin", env = "KEFU_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Log lines on stderr as text or as JSON objects, one per line (also KEFU_LOG_FORMAT;
    /// default text). KEFU_LOG sets what is logged.
    #[arg(long, env = "KEFU_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormatArg>,
    /// A host name requests may name in their `Host` header (repeatable; also KEFU_HOSTS,
    /// comma-separated; `*` for any). Default: any, but only loopback names (localhost,
    /// 127.0.0.1, ::1) when listening on a loopback address.
    #[arg(long = "host", env = "KEFU_HOSTS", value_delimiter = ',')]
    hosts: Vec<String>,
    /// Connections open at once (also KEFU_MAX_CONNECTIONS; default 4096, and always below the
    /// process's limit on open files); past it a new connection is closed at once.
    #[arg(long, env = "KEFU_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,
    /// Seconds a client has to send a request's headers, after connecting or after its last
    /// response; a connection idle for longer is closed (also KEFU_HEADER_TIMEOUT; default 10).
    #[arg(long, env = "KEFU_HEADER_TIMEOUT", value_parser = clap::value_parser!(u32).range(1..))]
    header_timeout: Option<u32>,
    /// Learn similar questions from the suggestions agents insert (POST /v1/suggest/feedback;
    /// needs --index): `confirm` after --learn-after choices of the same pairing (default),
    /// `auto` at once, `off` never (also KEFU_LEARN).
    #[arg(long, env = "KEFU_LEARN", value_enum)]
    learn: Option<LearnArg>,
    /// Times the same question must be chosen for the same entry before it is learned
    /// (also KEFU_LEARN_AFTER; default 3).
    #[arg(long, env = "KEFU_LEARN_AFTER", value_parser = clap::value_parser!(u32).range(1..))]
    learn_after: Option<u32>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LearnArg {
    Confirm,
    Auto,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

/// Starts logging to stderr: `KEFU_LOG` filters (default: info, tantivy's warnings); colour
/// only on a terminal.
fn init_logging(format: LogFormat) {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KEFU_LOG")
                .unwrap_or_else(|_| "info,tantivy=warn".into()),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

/// The rules and knowledge base from the service's sources; called at start and on reload.
fn load_engine(sources: &Sources) -> Result<Engine, kefu::Error> {
    let config = Config::discover(sources.config.as_deref())?;
    let linter = Linter::with_meaning(&config)?;
    kefu::text::normalize::warm_up_scripts();
    let suggester = sources.kb.open(|file, e| {
        tracing::warn!(file = %file.display(), line = e.line, "{} (skipped)", e.message);
    })?;
    Ok(
        Engine::new(linter, suggester.with_threshold(sources.threshold))
            .with_audit(kefu::audit::Settings::from_config(&config.audit)),
    )
}

/// Where the engine is loaded from.
#[derive(Debug, Clone)]
struct Sources {
    config: Option<PathBuf>,
    kb: kefu::suggest::Sources,
    threshold: f32,
}

pub fn serve(mut args: ServeArgs, config: Option<&Path>) -> Result<ExitCode> {
    let started = Instant::now();
    // Precedence: the config file's [server] table, then environment variables, then flags
    // (clap has already merged the last two into `args`).
    let file = Config::discover(config)?.server;
    init_logging(match args.log_format {
        Some(LogFormatArg::Json) => LogFormat::Json,
        Some(LogFormatArg::Text) => LogFormat::Text,
        None => file.log_format.unwrap_or_default(),
    });
    let addr: SocketAddr = match (&args.addr, &file.addr) {
        (Some(a), _) => resolve(a).with_context(|| format!("--addr `{a}`"))?,
        (None, Some(a)) => resolve(a).with_context(|| format!("[server] addr `{a}`"))?,
        (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    let f = &mut args.files;
    if f.kb.is_none()
        && f.phrases.is_none()
        && !f.no_phrases
        && f.synonyms.is_none()
        && f.index.is_none()
    {
        f.kb = file.kb.clone();
        f.phrases = file.phrases.clone();
        f.no_phrases = file.no_phrases;
        if f.no_phrases && (f.phrases.is_some() || f.index.is_some()) {
            bail!("[server] `no-phrases` cannot be used with `phrases` or `index`: choose one");
        }
        f.synonyms = file.synonyms.clone();
        f.index = file.index.clone();
    }
    if args.cors_origins.is_empty() {
        args.cors_origins = file.cors_origins.clone();
    }
    let admin_token = args.admin_token.clone().or(file.admin_token.clone());
    // Each source is checked as it is read (the file's value at its line).
    let threshold = args
        .threshold
        .or(file.threshold)
        .unwrap_or(kefu::suggest::DEFAULT_THRESHOLD);
    let sources = Sources {
        config: config.map(Path::to_owned),
        kb: args.files.sources(),
        threshold,
    };
    let engine = load_engine(&sources).context("loading rules and knowledge base")?;
    let settings = Settings {
        max_body: args.max_body.or(file.max_body).unwrap_or(64 * 1024),
        timeout: Duration::from_secs(args.timeout.or(file.timeout).unwrap_or(10)),
        cors_origins: args.cors_origins.clone(),
        admin_token: admin_token.filter(|t| !t.is_empty()),
        index_dir: args.files.index.clone(),
        gaps: args
            .files
            .index
            .as_ref()
            .map(|d| kefu::suggest::gaps::GapLog::in_index(d)),
        hosts: {
            let named = if args.hosts.is_empty() {
                file.hosts.clone()
            } else {
                Some(args.hosts.clone())
            };
            match named {
                Some(h) if h.iter().any(|h| h == "*") => None,
                Some(h) => Some(h),
                None => kefu::server::default_hosts(addr),
            }
        },
        feedback: args
            .files
            .index
            .as_ref()
            .map(|d| Arc::new(kefu::suggest::feedback::FeedbackLog::in_index(d))),
        learn_after: {
            let after = (args.learn_after.or(file.learn_after))
                .unwrap_or(kefu::suggest::feedback::DEFAULT_LEARN_AFTER);
            if after == 0 {
                bail!("[server] `learn-after` must be at least 1");
            }
            let learn = match args.learn {
                Some(LearnArg::Confirm) => Learn::Confirm,
                Some(LearnArg::Auto) => Learn::Auto,
                Some(LearnArg::Off) => Learn::Off,
                None => file.learn.unwrap_or(Learn::Confirm),
            };
            match learn {
                Learn::Confirm => Some(u64::from(after)),
                Learn::Auto => Some(1),
                Learn::Off => None,
            }
        },
        ..Settings::default()
    };
    let loader_sources = sources.clone();
    let state = AppState::from_engine(engine, settings)
        .with_loader(Arc::new(move || load_engine(&loader_sources)));
    let at_exit = state.clone();
    let app = router(state.clone());
    // Idle connections must not run the process out of descriptors: the soft limit goes up to
    // the hard one, and connections stay below it, leaving room for files and the index.
    let open_files = kefu::server::listen::raise_open_files();
    let max_connections = args
        .max_connections
        .or(file.max_connections)
        .unwrap_or(4096);
    let header_timeout = args.header_timeout.or(file.header_timeout).unwrap_or(10);
    if max_connections == 0 || header_timeout == 0 {
        bail!("[server] `max-connections` and `header-timeout` must be at least 1");
    }
    let limits = kefu::server::listen::Limits {
        header_timeout: Duration::from_secs(u64::from(header_timeout)),
        max_connections: (max_connections as usize)
            .min(open_files.saturating_sub(256).max(16) as usize),
    };
    tracing::debug!(
        open_files,
        max_connections = limits.max_connections,
        "connection limits"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let addr = listener.local_addr()?;
        // Signals are taken over before the ready line: a supervisor that sends SIGTERM or
        // SIGHUP as soon as it reads the line gets a graceful stop or a reload, not a kill.
        let Signals { stop, reload } = Signals::register()?;
        // The first stdout line says where to connect (tests and scripts read it).
        println!("kefu listening on http://{addr}");
        let semantic = (state.engine().suggester.semantic())
            .then(kefu::suggest::semantic::encoder)
            .flatten()
            .map_or_else(|| "off (words alone)".to_owned(), |e| e.path().display().to_string());
        tracing::info!(%addr, ready_ms = started.elapsed().as_millis() as u64, %semantic, "serving");
        tokio::spawn(reload_on_sighup(state, reload));
        kefu::server::listen::serve(listener, app, limits, shutdown(stop)).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    // The unanswered questions of the last requests are written before the process ends.
    if let Err(e) = at_exit.flush_gaps() {
        tracing::error!(error = %e, "the last unanswered questions were not recorded");
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The signals `serve` answers, registered with the runtime.
struct Signals {
    /// SIGTERM and SIGINT: finish requests in flight, then exit.
    #[cfg(unix)]
    stop: [tokio::signal::unix::Signal; 2],
    #[cfg(not(unix))]
    stop: (),
    /// SIGHUP: reload rules, config and knowledge base.
    #[cfg(unix)]
    reload: tokio::signal::unix::Signal,
    #[cfg(not(unix))]
    reload: (),
}

impl Signals {
    /// Takes the signals over from their default action (which ends the process) from now on.
    /// Needs the runtime's context.
    fn register() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                stop: [
                    signal(SignalKind::terminate()).context("handling SIGTERM")?,
                    signal(SignalKind::interrupt()).context("handling SIGINT")?,
                ],
                reload: signal(SignalKind::hangup()).context("handling SIGHUP")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {
            stop: (),
            reload: (),
        })
    }
}

/// SIGHUP reloads rules, config and knowledge base; a broken file leaves the old set serving.
#[cfg(unix)]
async fn reload_on_sighup(state: AppState, mut hup: tokio::signal::unix::Signal) {
    while hup.recv().await.is_some() {
        let s = state.clone();
        match tokio::task::spawn_blocking(move || s.reload()).await {
            Ok(Ok(())) => tracing::info!("SIGHUP: reloaded rules and knowledge base"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "SIGHUP: reload failed; the running set keeps serving")
            }
            Err(e) => {
                tracing::error!(error = %e, "SIGHUP: reload panicked; the running set keeps serving")
            }
        }
    }
}

#[cfg(not(unix))]
async fn reload_on_sighup(_state: AppState, _hup: ()) {}

/// Resolves on SIGTERM or Ctrl-C; requests in flight then finish before the process exits.
#[cfg(unix)]
async fn shutdown([mut term, mut int]: [tokio::signal::unix::Signal; 2]) {
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(not(unix))]
async fn shutdown((): ()) {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down: finishing requests in flight");
}

/// The address to listen on for HOST:PORT, where HOST is an IP address or a name the system
/// resolves (localhost); of a name's addresses the first IPv4 one, as browsers and clients that
/// are told 127.0.0.1 expect.
fn resolve(addr: &str) -> Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    if let Ok(a) = addr.parse::<SocketAddr>() {
        return Ok(a);
    }
    let (host, port) = addr
        .rsplit_once(':')
        .filter(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
        .ok_or_else(|| anyhow::anyhow!("not HOST:PORT (e.g. 127.0.0.1:8080 or localhost:8080)"))?;
    let found: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve the host name `{host}` (port {port})"))?
        .collect();
    found
        .iter()
        .find(|a| a.is_ipv4())
        .or(found.first())
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the host name `{host}` has no address"))
}
