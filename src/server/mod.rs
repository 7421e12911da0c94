//! The HTTP service (`soc serve`): the JSON API under `/v1/` and the embedded web UI at `/`.
//!
//! [`router`] builds the whole application from an [`AppState`], so tests drive it
//! in-process (`tower::ServiceExt::oneshot`) without sockets; [`serve`] binds it to an
//! address with graceful shutdown. The engine (`spl`, `infer`, `rules`) is synchronous: every
//! call into it runs on the blocking pool. User errors are 4xx with the project's
//! diagnostics; internal errors are an opaque 5xx logged with the request id (`error.rs`).
//! The LLM endpoint comes from the server's configuration only: nothing in a request can
//! make the server call an address.

pub mod error;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod web;

use crate::llm::Llm;
use crate::store::Store;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// The request id header, set on every request and echoed on every response.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Service limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body (bytes); `normalize` streams and has its own cap.
    pub body_bytes: usize,
    /// Largest `normalize` body (bytes).
    pub normalize_bytes: usize,
    /// Time limit per request (except `normalize`, which streams).
    pub timeout: Duration,
    /// Requests handled at once; the rest wait.
    pub concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 8 << 20,
            normalize_bytes: 256 << 20,
            timeout: Duration::from_secs(60),
            concurrency: 64,
        }
    }
}

/// What the service needs: the store, the optional LLM, the optional bearer token, limits.
pub struct Config {
    pub store: Store,
    pub llm: Option<Arc<dyn Llm>>,
    /// When set, every `/v1/` route except `health` requires `Authorization: Bearer <token>`.
    pub token: Option<String>,
    pub limits: Limits,
    /// Where rule packages are written while their tests run.
    pub scratch: PathBuf,
}

/// Shared state of the handlers (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) store: Mutex<Store>,
    pub(crate) llm: Option<Arc<dyn Llm>>,
    pub(crate) token: Option<String>,
    pub(crate) limits: Limits,
    pub(crate) metrics: metrics::Metrics,
    pub(crate) scratch: PathBuf,
    pub(crate) scratch_seq: AtomicU64,
}

impl AppState {
    pub fn new(config: Config) -> AppState {
        AppState(Arc::new(Inner {
            store: Mutex::new(config.store),
            llm: config.llm,
            token: config.token.filter(|t| !t.is_empty()),
            limits: config.limits,
            metrics: metrics::Metrics::default(),
            scratch: config.scratch,
            scratch_seq: AtomicU64::new(0),
        }))
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.0
    }

    /// Runs `f` with the store on the blocking pool.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        blocking(move || {
            let mut store = state
                .0
                .store
                .lock()
                .map_err(|_| ApiError::internal("the store lock is poisoned"))?;
            f(&mut store)
        })
        .await
    }

    /// A fresh scratch directory for one rule test.
    pub(crate) fn scratch_dir(&self) -> PathBuf {
        let n = self.0.scratch_seq.fetch_add(1, Ordering::Relaxed);
        self.0
            .scratch
            .join(format!("rule-test-{}-{n}", std::process::id()))
    }
}

/// Runs synchronous engine work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("engine task failed: {e}")))?
}

/// Request ids: a per-process random prefix and a counter (unique, short, sortable).
#[derive(Clone)]
struct MakeId {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl MakeId {
    fn new() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let seed = t ^ (u64::from(std::process::id()) << 32);
        MakeId {
            prefix: format!("{:08x}", (seed ^ (seed >> 29)) as u32).into(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:06}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// The whole application: `/v1/` API, `/` web UI, with request ids, tracing, metrics, body
/// and time limits, a concurrency limit and (when configured) bearer-token authentication.
pub fn router(state: AppState) -> Router {
    let limits = state.0.limits.clone();
    let api = routes::api(&state)
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize))
        .merge(routes::public());
    let timed = Router::new()
        .nest("/v1", api)
        .merge(web::routes())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ))
        .layer(RequestBodyLimitLayer::new(limits.body_bytes));
    let streaming = Router::new()
        .route(
            "/v1/normalize",
            axum::routing::post(routes::normalize::normalize),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(RequestBodyLimitLayer::new(limits.normalize_bytes));
    Router::new()
        .merge(timed)
        .merge(streaming)
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeId::new()))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|req: &Request| {
                        let id = req
                            .headers()
                            .get(&REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
                    })
                    .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(middleware::from_fn_with_state(state.clone(), observe))
                // `Router::layer` wraps every route separately: the limit must share one
                // semaphore across them to bound the whole service.
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.concurrency)),
        )
        .with_state(state)
}

/// Records metrics and logs internal errors with the request id (the handler put the detail
/// in a response extension; the client only sees an opaque message).
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let response = next.run(req).await;
    let route = route
        .or_else(|| {
            response
                .extensions()
                .get::<MatchedPath>()
                .map(|m| m.as_str().to_string())
        })
        .unwrap_or_else(|| "unmatched".to_string());
    if let Some(err) = response.extensions().get::<error::InternalDetail>() {
        tracing::error!(request_id = %id, route = %route, error = %err.0, "internal error");
    }
    state.0.metrics.record(
        method.as_str(),
        &route,
        response.status().as_u16(),
        start.elapsed(),
    );
    response
}

/// Bearer-token check for the protected routes (constant-time comparison).
async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(token) = &state.0.token else {
        return next.run(req).await;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), token.as_bytes()) {
        next.run(req).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8;
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff);
    }
    diff == 0
}

/// Binds `addr` and serves until Ctrl-C / SIGTERM, letting requests in flight finish.
/// Calls `ready` with the bound address (port 0 picks a free port).
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
