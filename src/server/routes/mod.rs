//! The `/v1/` routes, one file per area: `spl` (check, fmt, run, functions), `suggest`
//! (rule suggestion and the ECS catalogue), `rules` (saved rules with versions and tests),
//! `normalize` (streamed NDJSON), and here `health`, `metrics` and `openapi.json`.

pub mod normalize;
pub mod rules;
pub mod spl;
pub mod suggest;

use super::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::ToSchema;

/// The protected API (bearer token when configured).
pub fn api(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/suggest", post(suggest::suggest))
        .route("/ecs/fields", get(suggest::ecs_fields))
        .route("/spl/check", post(spl::check))
        .route("/spl/fmt", post(spl::fmt))
        .route("/spl/run", post(spl::run))
        .route("/spl/functions", get(spl::functions))
        .route("/rules", get(rules::list).post(rules::create))
        .route(
            "/rules/{id}",
            get(rules::get).put(rules::update).delete(rules::delete),
        )
        .route("/rules/{id}/versions", get(rules::versions))
        .route("/rules/{id}/test", post(rules::test))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

/// Routes open without a token.
pub fn public() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// `GET /v1/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    pub version: &'static str,
    /// The configured LLM model, when the server has one (suggest may then use it).
    pub llm: Option<String>,
    /// Whether `/v1/` routes other than health need a bearer token.
    pub auth: bool,
}

/// Liveness and what the server is configured with.
#[utoipa::path(get, path = "/v1/health", tag = "service", security(()),
    responses((status = 200, description = "The service is up", body = Health)))]
pub async fn health(State(state): State<AppState>) -> axum::Json<Health> {
    let inner = state.inner();
    axum::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        llm: inner.llm.as_ref().map(|l| l.model().to_string()),
        auth: inner.token.is_some(),
    })
}

/// Request counters and latency histograms in the Prometheus text format.
#[utoipa::path(get, path = "/v1/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.inner().metrics.render(),
    )
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "service",
    responses((status = 200, description = "The OpenAPI document of this API")))]
pub async fn openapi() -> impl IntoResponse {
    axum::Json(super::openapi::document())
}
