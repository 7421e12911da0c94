//! `/v1/rules`: saved rules with version history. Each version is a `soc test` package
//! (rule, sample lines, expected output, clock); `POST /v1/rules/{id}/test` writes it to a
//! scratch folder and runs it exactly as `soc test` does.

use crate::rules::{self, EventDiff, FieldDiff, PackageResult};
use crate::server::error::{ApiError, ApiJson};
use crate::server::{AppState, blocking};
use crate::spl;
use crate::store::rules::{RuleContent, RuleError, RuleVersion, StoredRule};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::path::PathBuf;
use utoipa::{IntoParams, ToSchema};

/// Longest rule name.
const MAX_NAME: usize = 200;

/// A new rule, or the fields of a new version (absent fields keep the previous version's).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleRequest {
    /// Unique name (create only).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub spl: Option<String>,
    /// Sample lines, one event each (multi-line records when `first_line` is set).
    #[serde(default)]
    pub samples: Option<Vec<String>>,
    /// Expected output; computed from the rule's current output when absent.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub expected: Option<Vec<Json>>,
    /// The clock (RFC 3339); default 2024-01-01T00:00:00Z as in `soc test`.
    #[serde(default)]
    pub now: Option<String>,
    #[serde(default)]
    pub first_line: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A stored rule at one version.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub created: i64,
    pub updated: i64,
    pub spl: String,
    pub samples: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub expected: Vec<Json>,
    pub now: String,
    pub first_line: Option<String>,
    pub description: String,
}

impl From<StoredRule> for Rule {
    fn from(r: StoredRule) -> Self {
        Rule {
            id: r.id,
            name: r.name,
            version: r.version,
            created: r.created,
            updated: r.updated,
            spl: r.content.spl,
            samples: r.content.samples,
            expected: r.content.expected,
            now: r.content.now,
            first_line: r.content.first_line,
            description: r.content.description,
        }
    }
}

/// One version in a rule's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    pub version: i64,
    pub created: i64,
    pub spl: String,
    pub description: String,
}

impl From<RuleVersion> for Version {
    fn from(v: RuleVersion) -> Self {
        Version {
            version: v.version,
            created: v.created,
            spl: v.spl,
            description: v.description,
        }
    }
}

/// Which version to read.
#[derive(Debug, Deserialize, IntoParams)]
pub struct VersionQuery {
    /// A version number; the latest when absent.
    pub version: Option<i64>,
}

/// Checks and completes a rule's content: the rule compiles, the clock parses, the framing
/// regex compiles, and the expected output is the rule's output when not given.
fn complete(
    state: &AppState,
    spl_text: String,
    samples: Vec<String>,
    expected: Option<Vec<Json>>,
    now: String,
    first_line: Option<String>,
    description: String,
) -> Result<RuleContent, ApiError> {
    if samples.iter().all(|s| s.trim().is_empty()) {
        return Err(ApiError::BadRequest(
            "a rule needs at least one sample line (its test runs on them)".into(),
        ));
    }
    spl::compile(&spl_text).map_err(|d| ApiError::diagnostics(&spl_text, d))?;
    crate::server::routes::spl::clock(Some(&now))?;
    if let Some(f) = &first_line {
        regex::Regex::new(f)
            .map_err(|e| ApiError::BadRequest(format!("first_line is not a valid regex: {e}")))?;
    }
    let expected = match expected {
        Some(e) => e,
        None => {
            let mut content = RuleContent {
                spl: spl_text.clone(),
                samples: samples.clone(),
                expected: Vec::new(),
                now: now.clone(),
                first_line: first_line.clone(),
                description: description.clone(),
            };
            let result = run_content(state, &content, false)?;
            content.expected = result.samples.into_iter().flat_map(|s| s.actual).collect();
            content.expected
        }
    };
    Ok(RuleContent {
        spl: spl_text,
        samples,
        expected,
        now,
        first_line,
        description,
    })
}

/// Writes the package to a scratch folder, runs it like `soc test`, removes the folder.
fn run_content(
    state: &AppState,
    c: &RuleContent,
    with_expected: bool,
) -> Result<PackageResult, ApiError> {
    struct Scratch(PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let dir = Scratch(state.scratch_dir());
    let io = |e: std::io::Error| ApiError::internal(format!("{}: {e}", dir.0.display()));
    std::fs::create_dir_all(&dir.0).map_err(io)?;
    std::fs::write(dir.0.join("rule.spl"), format!("{}\n", c.spl.trim_end())).map_err(io)?;
    let mut sample = c.samples.join("\n");
    sample.push('\n');
    std::fs::write(dir.0.join("sample.log"), sample).map_err(io)?;
    let mut toml = format!("now = {}\n", toml::Value::String(c.now.clone()));
    if let Some(f) = &c.first_line {
        toml.push_str(&format!(
            "first_line = {}\n",
            toml::Value::String(f.clone())
        ));
    }
    std::fs::write(dir.0.join("package.toml"), toml).map_err(io)?;
    if with_expected {
        let mut text = String::new();
        for e in &c.expected {
            text.push_str(&e.to_string());
            text.push('\n');
        }
        std::fs::write(dir.0.join("sample.expected.ndjson"), text).map_err(io)?;
    }
    let package = rules::load(&dir.0).map_err(ApiError::internal)?;
    rules::run_package(&package).map_err(ApiError::BadRequest)
}

fn name_ok(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "a rule name is 1 to {MAX_NAME} characters without control characters"
        )));
    }
    Ok(name.to_string())
}

/// Saves a new rule (version 1).
#[utoipa::path(post, path = "/v1/rules", tag = "rules", request_body = RuleRequest,
    responses((status = 201, body = Rule), (status = 400, description = "Bad request", body = crate::server::openapi::Errors),
              (status = 409, description = "Name in use", body = crate::server::openapi::Errors),
              (status = 422, description = "The rule does not compile", body = crate::server::openapi::Errors)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RuleRequest>,
) -> Result<(StatusCode, ApiJson<Rule>), ApiError> {
    let name = name_ok(req.name.as_deref().unwrap_or(""))?;
    let spl_text = req
        .spl
        .ok_or_else(|| ApiError::BadRequest("`spl` is required".into()))?;
    let st = state.clone();
    let content = blocking(move || {
        complete(
            &st,
            spl_text,
            req.samples.unwrap_or_default(),
            req.expected,
            req.now.unwrap_or_else(|| rules::DEFAULT_NOW.to_string()),
            req.first_line,
            req.description.unwrap_or_default(),
        )
    })
    .await?;
    let rule = state
        .with_store(move |s| match s.create_rule(&name, &content) {
            Ok(r) => Ok(r),
            Err(RuleError::NameTaken(n)) => Err(ApiError::Conflict(format!(
                "a rule named `{n}` already exists"
            ))),
            Err(RuleError::Store(e)) => Err(e.into()),
        })
        .await?;
    Ok((StatusCode::CREATED, ApiJson(rule.into())))
}

/// Every rule at its latest version, by name.
#[utoipa::path(get, path = "/v1/rules", tag = "rules", responses((status = 200, body = Vec<Rule>)))]
pub async fn list(State(state): State<AppState>) -> Result<ApiJson<Vec<Rule>>, ApiError> {
    let rules = state.with_store(|s| Ok(s.rules()?)).await?;
    Ok(ApiJson(rules.into_iter().map(Rule::from).collect()))
}

fn missing(id: i64) -> ApiError {
    ApiError::NotFound(format!("no rule {id}"))
}

/// A rule at its latest version (or `?version=N`).
#[utoipa::path(get, path = "/v1/rules/{id}", tag = "rules", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, body = Rule), (status = 404, description = "No such rule", body = crate::server::openapi::Errors)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<VersionQuery>,
) -> Result<ApiJson<Rule>, ApiError> {
    let rule = state
        .with_store(move |s| s.rule(id, q.version)?.ok_or_else(|| missing(id)))
        .await?;
    Ok(ApiJson(rule.into()))
}

/// Saves a new version; absent fields keep the previous version's (a new `spl` with no
/// `expected` recomputes the expected output).
#[utoipa::path(put, path = "/v1/rules/{id}", tag = "rules", params(("id" = i64, Path)), request_body = RuleRequest,
    responses((status = 200, body = Rule), (status = 404, description = "No such rule", body = crate::server::openapi::Errors),
              (status = 422, description = "The rule does not compile", body = crate::server::openapi::Errors)))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RuleRequest>,
) -> Result<ApiJson<Rule>, ApiError> {
    let old = state
        .with_store(move |s| s.rule(id, None)?.ok_or_else(|| missing(id)))
        .await?;
    let st = state.clone();
    let content = blocking(move || {
        let changed = req.spl.is_some() || req.samples.is_some() || req.now.is_some();
        let expected = match (req.expected, changed) {
            (Some(e), _) => Some(e),
            (None, true) => None,
            (None, false) => Some(old.content.expected),
        };
        complete(
            &st,
            req.spl.unwrap_or(old.content.spl),
            req.samples.unwrap_or(old.content.samples),
            expected,
            req.now.unwrap_or(old.content.now),
            req.first_line.or(old.content.first_line),
            req.description.unwrap_or(old.content.description),
        )
    })
    .await?;
    let rule = state
        .with_store(move |s| s.update_rule(id, &content)?.ok_or_else(|| missing(id)))
        .await?;
    Ok(ApiJson(rule.into()))
}

/// Deletes a rule and its history.
#[utoipa::path(delete, path = "/v1/rules/{id}", tag = "rules", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such rule", body = crate::server::openapi::Errors)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .with_store(move |s| {
            if s.delete_rule(id)? {
                Ok(StatusCode::NO_CONTENT)
            } else {
                Err(missing(id))
            }
        })
        .await
}

/// A rule's version history, oldest first.
#[utoipa::path(get, path = "/v1/rules/{id}/versions", tag = "rules", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Version>), (status = 404, description = "No such rule", body = crate::server::openapi::Errors)))]
pub async fn versions(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<ApiJson<Vec<Version>>, ApiError> {
    let v = state
        .with_store(move |s| {
            let v = s.rule_versions(id)?;
            if v.is_empty() {
                Err(missing(id))
            } else {
                Ok(v)
            }
        })
        .await?;
    Ok(ApiJson(v.into_iter().map(Version::from).collect()))
}

/// The outcome of a rule's test.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestReport {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub passed: bool,
    /// Rendered compile errors, when the rule does not compile.
    pub compile_errors: Option<String>,
    /// Output events compared.
    pub events: usize,
    /// Differences: `{index, kind: fields|missing_event|extra_event, fields: [{field, change, expected, got}]}`.
    #[schema(value_type = Vec<Object>)]
    pub diffs: Vec<Json>,
    /// Written events no parse stage matched.
    pub unparsed: usize,
}

fn diff_json(d: &EventDiff) -> Json {
    match d {
        EventDiff::Fields { index, diffs } => json!({
            "index": index, "kind": "fields",
            "fields": diffs.iter().map(|f| match f {
                FieldDiff::Missing { field, expected } => json!({"field": field, "change": "missing", "expected": expected}),
                FieldDiff::Extra { field, got } => json!({"field": field, "change": "extra", "got": got}),
                FieldDiff::Changed { field, expected, got } => json!({"field": field, "change": "changed", "expected": expected, "got": got}),
            }).collect::<Vec<_>>(),
        }),
        EventDiff::MissingEvent { index, expected } => {
            json!({"index": index, "kind": "missing_event", "expected": expected})
        }
        EventDiff::ExtraEvent { index, got } => {
            json!({"index": index, "kind": "extra_event", "got": got})
        }
    }
}

/// Runs a rule's test (its latest version, or `?version=N`) as `soc test` does.
#[utoipa::path(post, path = "/v1/rules/{id}/test", tag = "rules", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, body = TestReport), (status = 404, description = "No such rule", body = crate::server::openapi::Errors)))]
pub async fn test(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<VersionQuery>,
) -> Result<ApiJson<TestReport>, ApiError> {
    let rule = state
        .with_store(move |s| s.rule(id, q.version)?.ok_or_else(|| missing(id)))
        .await?;
    let st = state.clone();
    blocking(move || {
        let result = run_content(&st, &rule.content, true)?;
        Ok(ApiJson(TestReport {
            id: rule.id,
            name: rule.name,
            version: rule.version,
            passed: result.passed(),
            compile_errors: result.compile_errors.clone(),
            events: result.samples.iter().map(|s| s.actual.len()).sum(),
            diffs: result
                .samples
                .iter()
                .flat_map(|s| s.diffs.iter().map(diff_json))
                .collect(),
            unparsed: result.samples.iter().map(|s| s.unparsed).sum(),
        }))
    })
    .await
}
