//! The OpenAPI document of `/v1/`, generated from the handlers' `#[utoipa::path]`
//! annotations and the request/response types (a test keeps a snapshot of it).

use super::routes::{self, normalize, rules, spl, suggest};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The error body of every 4xx and 5xx.
#[derive(Debug, Serialize, ToSchema)]
pub struct Errors {
    pub errors: Vec<ErrorItem>,
}

/// One error: a diagnostic (`code`, `severity`, `message`, `labels` with byte spans, `hints`,
/// and for errors in a source text `line`, `column` and `rendered`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorItem {
    pub code: String,
    pub severity: String,
    pub message: String,
    #[schema(value_type = Vec<Object>)]
    pub labels: Vec<serde_json::Value>,
    pub hints: Vec<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub rendered: Option<String>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "agentic-soc", description = "Log standardization service: SPL engine, rule suggestion, saved rules with tests, streamed normalization. Every route but /v1/health needs `Authorization: Bearer <token>` when the server runs with --token."),
    paths(
        routes::health, routes::metrics, routes::openapi,
        suggest::suggest, suggest::ecs_fields,
        spl::check, spl::fmt, spl::run, spl::functions,
        rules::create, rules::list, rules::get, rules::update, rules::delete, rules::versions, rules::test,
        normalize::normalize,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

/// The OpenAPI document as JSON.
pub fn document() -> serde_json::Value {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    serde_json::to_value(doc).unwrap_or_default()
}
