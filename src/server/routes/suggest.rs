//! `/v1/suggest` (samples and optional mapping overrides → the validated suggestion, with
//! the LLM's proposals when the server has an LLM and the request asks for it) and
//! `/v1/ecs/fields` (the ECS catalogue the mapping picks from).

use crate::infer::{NoAdvisor, SuggestOptions, suggest_with};
use crate::llm::LlmAdvisor;
use crate::server::error::{ApiError, ApiJson};
use crate::server::{AppState, blocking};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::ToSchema;

/// Longest pasted text accepted (the engine looks at the first 1,000 samples anyway).
const MAX_TEXT: usize = 8 << 20;

/// One mapping fixed by the user.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Override {
    /// The source key (as in the suggestion's field table).
    pub source: String,
    /// The target field; `null` or empty drops the field.
    #[serde(default)]
    pub target: Option<String>,
}

/// Sample log text and the user's fixes.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SuggestRequest {
    /// The pasted samples: one event per line, unless multi-line framing is detected.
    pub text: String,
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// RFC 3339 time whose year completes year-less timestamps (default: now).
    #[serde(default)]
    pub reference_time: Option<String>,
    /// Ask the server's LLM (when it has one) about what the engine is unsure about.
    #[serde(default)]
    pub llm: bool,
}

/// Suggests a rule: format, layers, fields with target, confidence and reason, the SPL
/// (compiled and run on every sample), the preview, coverage, diagnostics, framing, and the
/// LLM's proposals (kept or rejected, with the reason) when it was asked.
#[utoipa::path(post, path = "/v1/suggest", tag = "suggest", request_body = SuggestRequest,
    responses((status = 200, description = "The suggestion (the `soc suggest --json` contract plus `framing`, `layers`, `samples`, `reference_time`, `llm`)"),
              (status = 400, description = "Bad request", body = crate::server::openapi::Errors),
              (status = 422, description = "Samples the engine cannot use", body = crate::server::openapi::Errors)))]
pub async fn suggest(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SuggestRequest>,
) -> Result<ApiJson<Json>, ApiError> {
    if req.text.len() > MAX_TEXT {
        return Err(ApiError::TooLarge(format!(
            "the samples are {} bytes; at most {MAX_TEXT} are accepted",
            req.text.len()
        )));
    }
    let reference_time = match req.reference_time.clone() {
        Some(t) => {
            crate::server::routes::spl::clock(Some(&t))?;
            t
        }
        None => chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let llm = if req.llm {
        state.inner().llm.clone()
    } else {
        None
    };
    blocking(move || {
        let lines: Vec<&str> = req.text.lines().collect();
        let framing = crate::infer::framing::detect(&lines);
        let samples: Vec<String> = match &framing {
            Some(f) => crate::infer::framing::frame(&lines, &f.first_line)
                .map_err(|e| ApiError::internal(format!("framing regex: {e}")))?,
            None => lines.iter().map(|l| l.to_string()).collect(),
        };
        let options = SuggestOptions {
            reference_time: Some(reference_time.clone()),
            overrides: req
                .overrides
                .iter()
                .map(|o| {
                    (
                        o.source.clone(),
                        o.target.clone().filter(|t| !t.trim().is_empty()),
                    )
                })
                .collect(),
            ..SuggestOptions::default()
        };
        let result = match &llm {
            Some(l) => suggest_with(&samples, &options, &LlmAdvisor::new(l.as_ref())),
            None => suggest_with(&samples, &options, &NoAdvisor),
        };
        let s = result.map_err(|d| ApiError::diagnostics(&req.text, vec![d]))?;
        let mut v = serde_json::to_value(&s)
            .map_err(|e| ApiError::internal(format!("suggestion JSON: {e}")))?;
        v["diagnostics"] = s.diagnostics.iter().map(|d| d.to_json(&s.spl)).collect();
        v["framing"] = serde_json::to_value(&framing).unwrap_or(Json::Null);
        v["layers"] = s.format.split('+').map(Json::from).collect();
        v["samples"] = samples.into_iter().map(Json::from).collect();
        v["reference_time"] = reference_time.into();
        v["product"] = product_of(&s.preview);
        v["llm"] = llm
            .as_ref()
            .map(|l| Json::from(l.model()))
            .unwrap_or(Json::Null);
        Ok(ApiJson(v))
    })
    .await
}

/// The product the engine recognized (from the observer/module fields its rule sets), or
/// null.
fn product_of(preview: &[Json]) -> Json {
    let get = |e: &Json, k: &str| e.get(k).and_then(Json::as_str).map(str::to_string);
    preview
        .iter()
        .find(|e| get(e, "observer.product").is_some() || get(e, "event.module").is_some())
        .map(|e| {
            serde_json::json!({
                "vendor": get(e, "observer.vendor"),
                "product": get(e, "observer.product"),
                "type": get(e, "observer.type"),
                "module": get(e, "event.module"),
            })
        })
        .unwrap_or(Json::Null)
}

/// One ECS field.
#[derive(Debug, Serialize, ToSchema)]
pub struct EcsField {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub level: String,
    pub description: String,
}

/// The ECS field catalogue the mapping chooses targets from.
#[utoipa::path(get, path = "/v1/ecs/fields", tag = "suggest",
    responses((status = 200, body = Vec<EcsField>)))]
pub async fn ecs_fields() -> ApiJson<Vec<EcsField>> {
    ApiJson(
        crate::model::catalog()
            .iter()
            .map(|f| EcsField {
                name: f.name.clone(),
                ty: f.ty.as_str().to_string(),
                level: f.level.clone(),
                description: f.description.clone(),
            })
            .collect(),
    )
}
