//! `/v1/spl/*`: check, format and run rules; the function reference from the registry.

use crate::event::{Event, Text, Timestamp};
use crate::server::blocking;
use crate::server::error::{ApiError, ApiJson};
use crate::spl::{self, PlanOptions, ops::Coercion};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use utoipa::ToSchema;

/// A rule to check.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckRequest {
    /// The SPL text.
    pub rule: String,
    /// Also warn about project extensions that SLS does not have.
    #[serde(default)]
    pub sls_compat: bool,
}

/// A rule that compiles, with its warnings.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    pub valid: bool,
    /// Diagnostics (warnings) with spans, line/column and rendered text.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Json>,
}

/// Checks a rule: 200 with warnings when it compiles, 422 with every error when not.
#[utoipa::path(post, path = "/v1/spl/check", tag = "spl", request_body = CheckRequest,
    responses((status = 200, body = CheckResponse), (status = 422, description = "Diagnostics", body = crate::server::openapi::Errors)))]
pub async fn check(
    ApiJson(req): ApiJson<CheckRequest>,
) -> Result<ApiJson<CheckResponse>, ApiError> {
    blocking(move || {
        let options = PlanOptions {
            sls_compat: req.sls_compat,
            ..PlanOptions::default()
        };
        let plan = spl::compile_with(&req.rule, &options)
            .map_err(|d| ApiError::diagnostics(&req.rule, d))?;
        Ok(ApiJson(CheckResponse {
            valid: true,
            warnings: plan.warnings.iter().map(|w| w.to_json(&req.rule)).collect(),
        }))
    })
    .await
}

/// A rule to format.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FmtRequest {
    pub rule: String,
}

/// The rule in canonical form.
#[derive(Debug, Serialize, ToSchema)]
pub struct FmtResponse {
    pub rule: String,
}

/// Prints a rule in canonical form (one stage per line, comments kept); 422 when it does
/// not parse.
#[utoipa::path(post, path = "/v1/spl/fmt", tag = "spl", request_body = FmtRequest,
    responses((status = 200, body = FmtResponse), (status = 422, description = "Diagnostics", body = crate::server::openapi::Errors)))]
pub async fn fmt(ApiJson(req): ApiJson<FmtRequest>) -> Result<ApiJson<FmtResponse>, ApiError> {
    blocking(move || {
        let script =
            spl::parse::parse(&req.rule).map_err(|d| ApiError::diagnostics(&req.rule, d))?;
        let comments = spl::parse::comments(&req.rule, &script);
        Ok(ApiJson(FmtResponse {
            rule: spl::print::format_script(&script, &comments),
        }))
    })
    .await
}

/// A rule and the events to run it on.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RunRequest {
    pub rule: String,
    /// Each a raw line (becomes `{"content": line}`) or a JSON object (its keys become fields).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Json>,
    /// The clock for `now()`, RFC 3339 (default: the real time); it also gives year-less
    /// timestamps their year.
    #[serde(default)]
    pub now: Option<String>,
    /// Every value as text, the way SLS stores it.
    #[serde(default)]
    pub text_values: bool,
    /// Presto-strict typing.
    #[serde(default)]
    pub strict: bool,
}

/// One output event and the input it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunOutput {
    /// Index of the input event.
    pub origin: usize,
    /// The `$name` of the statement when the rule has several outputs.
    pub tag: Option<String>,
    #[schema(value_type = Object)]
    pub event: Json,
}

/// One input event that failed, with its diagnostic.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunFailure {
    pub origin: usize,
    #[schema(value_type = Object)]
    pub error: Json,
}

/// What the rule produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunResponse {
    pub outputs: Vec<RunOutput>,
    pub failures: Vec<RunFailure>,
    /// Input events removed by `where` (no output, no error).
    pub dropped: usize,
    /// Input events written although no parse stage matched them.
    pub unparsed: Vec<usize>,
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Json>,
}

/// Parses an RFC 3339 clock.
pub(crate) fn clock(now: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    now.map(|n| {
        chrono::DateTime::parse_from_rfc3339(n)
            .ok()
            .and_then(|t| t.timestamp_nanos_opt())
            .map(Timestamp::utc)
            .ok_or_else(|| ApiError::BadRequest(format!("`now` is not an RFC 3339 time: {n}")))
    })
    .transpose()
}

/// Runs a rule on events: outputs in input order, per-event failures with their diagnostics;
/// 422 when the rule does not compile.
#[utoipa::path(post, path = "/v1/spl/run", tag = "spl", request_body = RunRequest,
    responses((status = 200, body = RunResponse), (status = 400, description = "Bad request", body = crate::server::openapi::Errors), (status = 422, description = "Diagnostics", body = crate::server::openapi::Errors)))]
pub async fn run(ApiJson(req): ApiJson<RunRequest>) -> Result<ApiJson<RunResponse>, ApiError> {
    blocking(move || run_sync(&req).map(ApiJson)).await
}

pub(crate) fn run_sync(req: &RunRequest) -> Result<RunResponse, ApiError> {
    let options = PlanOptions {
        coercion: if req.strict {
            Coercion::Strict
        } else {
            Coercion::Lenient
        },
        ..PlanOptions::default()
    };
    let now = clock(req.now.as_deref())?;
    let plan =
        spl::compile_with(&req.rule, &options).map_err(|d| ApiError::diagnostics(&req.rule, d))?;
    let mut runner = spl::Runner::new(&plan);
    if let Some(t) = now {
        runner = runner.with_clock(t);
    }
    let mut events = Vec::with_capacity(req.events.len());
    for (i, e) in req.events.iter().enumerate() {
        events.push(match e {
            Json::String(line) => runner.line_event(Text::from(line.as_str())),
            Json::Object(o) => Event::from_json_object(o.clone()),
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "events[{i}] is neither a line (string) nor a JSON object"
                )));
            }
        });
    }
    let result = runner.run_batch(events);
    Ok(RunResponse {
        outputs: result
            .outputs
            .iter()
            .map(|o| RunOutput {
                origin: o.origin,
                tag: o.tag.as_ref().map(|t| t.to_string()),
                event: Json::Object(o.event.to_json(req.text_values)),
            })
            .collect(),
        failures: result
            .failures
            .iter()
            .map(|f| RunFailure {
                origin: f.origin,
                error: f.diagnostic.to_json(&req.rule),
            })
            .collect(),
        dropped: result.dropped,
        unparsed: result.unparsed,
        warnings: plan.warnings.iter().map(|w| w.to_json(&req.rule)).collect(),
    })
}

/// One function of the registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunctionDoc {
    pub name: &'static str,
    pub family: &'static str,
    /// `name(a varchar, [b bigint]) → varchar`
    pub signature: String,
    pub doc: &'static str,
    /// A project extension, not in SLS SPL.
    pub extension: bool,
    /// Runnable examples: `{expr, input, output}`.
    #[schema(value_type = Vec<Object>)]
    pub examples: Vec<Json>,
}

/// The function reference, generated from the registry (the same table as
/// `soc spl functions`).
#[utoipa::path(get, path = "/v1/spl/functions", tag = "spl",
    responses((status = 200, body = Vec<FunctionDoc>)))]
pub async fn functions() -> ApiJson<Vec<FunctionDoc>> {
    let mut out = Vec::new();
    for (family, fns) in spl::functions::families() {
        for f in fns {
            out.push(FunctionDoc {
                name: f.name,
                family,
                signature: f.signature(),
                doc: f.doc,
                extension: f.extension,
                examples: f
                    .examples
                    .iter()
                    .map(|e| json!({ "expr": e.expr, "input": e.input, "output": e.output }))
                    .collect(),
            });
        }
    }
    ApiJson(out)
}
