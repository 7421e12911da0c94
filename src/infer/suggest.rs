//! The whole suggestion loop: detect → fields → map → synthesize → compile and run on the
//! samples → `Suggestion` (rule, mapping table, preview, coverage, diagnostics).

use crate::diagnostic::Diagnostic;
use serde::Serialize;

/// Caller settings for a suggestion.
#[derive(Debug, Clone, Default)]
pub struct SuggestOptions {
    /// Reference time (RFC 3339) whose year completes year-less timestamps; now when `None`.
    pub reference_time: Option<String>,
    /// Overrides: source field → target field (`None` drops the field).
    pub overrides: Vec<(String, Option<String>)>,
}

/// One field of the mapping table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldSuggestion {
    pub source: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub target: String,
    pub confidence: f64,
    pub reason: String,
}

/// How well the rule covered the samples.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Coverage {
    /// Share of samples fully parsed.
    pub parsed: f64,
    /// Per output field: share of samples where it has a value.
    pub fill: Vec<(String, f64)>,
}

/// The answer: the JSON contract of `soc suggest --json` (ARCHITECTURE.md).
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub spl: String,
    pub format: String,
    pub fields: Vec<FieldSuggestion>,
    pub preview: Vec<serde_json::Value>,
    pub coverage: Coverage,
    pub diagnostics: Vec<Diagnostic>,
}

/// Suggests a rule for sample lines (one event per element).
pub fn suggest(samples: &[String], options: &SuggestOptions) -> Result<Suggestion, Diagnostic> {
    let _ = (samples, options);
    Err(Diagnostic::error(crate::diagnostic::codes::RULE_REJECTED, "suggestion is not built yet"))
}
