//! The language-model client: the [`Llm`] trait (batches of schema-constrained questions in,
//! validated JSON answers out), [`OpenAi`] for any OpenAI-compatible `chat/completions`
//! server (llama.cpp's `llama-server`, vLLM, Ollama, hosted APIs), [`Scripted`] for tests,
//! the strict [`validate`] of answers against their JSON Schema, and the disk cache of
//! validated answers. The only module that imports reqwest and tokio; `infer`, `spl` and
//! `model` never depend on it (they stay synchronous and offline).
//!
//! Every answer is checked the same way whoever produced it: a JSON object that satisfies
//! the request's schema, or an [`LlmError`] that says what went wrong. Bad answers
//! (malformed, truncated, off-schema) are not retried: at temperature 0 the model would
//! give the same answer again.

pub mod advisor;
mod cache;
mod config;
mod openai;
mod schema;

pub use advisor::LlmAdvisor;
pub use config::LlmConfig;
pub use openai::OpenAi;
pub use schema::validate;

use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One question to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The system prompt.
    pub system: String,
    /// The user prompt (log content in it is fenced by the caller).
    pub user: String,
    /// The name sent with `response_format.json_schema` (letters, digits, `_`, `-`).
    pub schema_name: String,
    /// The JSON Schema the answer must satisfy (the subset [`validate`] checks).
    pub schema: Value,
}

/// Why a question got no answer. `Display` never includes the API key: server text that
/// ends up in a message has it removed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The server answered with an error status (after retries for 429 and 5xx).
    #[error("the LLM server answered HTTP {status}: {message}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The server's error message (or the start of its body).
        message: String,
    },
    /// No answer within the configured timeout (after retries).
    #[error("the LLM server did not answer in time")]
    Timeout,
    /// The connection failed (refused, reset, DNS, TLS), after retries.
    #[error("could not reach the LLM server: {0}")]
    Transport(String),
    /// The model stopped at `max_tokens` (`finish_reason` "length") before the answer ended.
    #[error("the model's answer was cut off at the token limit")]
    Truncated,
    /// The response or the model's content is not what the protocol promises (not JSON,
    /// no content, not a JSON object).
    #[error("malformed answer from the LLM: {0}")]
    Malformed(String),
    /// The answer is JSON but violates the request's schema.
    #[error("the LLM's answer does not match the schema: {0}")]
    Schema(String),
    /// The configuration cannot work (missing URL or model, bad value).
    #[error("LLM configuration: {0}")]
    Config(String),
}

/// Counters over the life of a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LlmStats {
    /// Questions put to the model (not served from the cache).
    pub calls: u64,
    /// Questions answered from the cache, without a call.
    pub cache_hits: u64,
    /// Questions that ended in an error.
    pub failures: u64,
    /// HTTP attempts beyond the first for a question (back-off retries and the
    /// `json_object` fallback).
    pub retries: u64,
    /// Wall-clock milliseconds spent inside `chat`.
    pub wall_ms: u64,
}

/// A model that answers schema-constrained questions.
pub trait Llm: Send + Sync {
    /// The model name (as sent to the server and used in the cache key).
    fn model(&self) -> &str;
    /// Answers every request, in order; runs up to the concurrency limit at once. Each
    /// answer is a JSON object that satisfies its request's schema.
    fn chat(&self, requests: &[ChatRequest]) -> Vec<Result<Value, LlmError>>;
    /// Counters so far.
    fn stats(&self) -> LlmStats;
}

/// Lock-free counters shared by the implementations.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    calls: AtomicU64,
    cache_hits: AtomicU64,
    failures: AtomicU64,
    retries: AtomicU64,
    wall_ms: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> LlmStats {
        LlmStats {
            calls: self.calls.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            wall_ms: self.wall_ms.load(Ordering::Relaxed),
        }
    }

    fn add_wall(&self, since: Instant) {
        let ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.wall_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// An in-memory model for tests: answers each request with a closure, in order, and counts
/// calls and failures in its stats. Answers are validated against the request's schema like
/// [`OpenAi`]'s, so an off-schema scripted answer becomes [`LlmError::Schema`].
///
/// ```
/// use agentic_soc::llm::{ChatRequest, Llm, Scripted};
/// use serde_json::json;
///
/// let llm = Scripted::new("fake", |_req: &ChatRequest| Ok(json!({"target": "source.ip"})));
/// let req = ChatRequest {
///     system: "Map log keys to ECS fields.".into(),
///     user: "key: src".into(),
///     schema_name: "mapping".into(),
///     schema: json!({"type": "object", "properties": {"target": {"type": "string"}}}),
/// };
/// let answers = llm.chat(&[req]);
/// assert_eq!(answers[0], Ok(json!({"target": "source.ip"})));
/// assert_eq!(llm.stats().calls, 1);
/// ```
pub struct Scripted<F>
where
    F: Fn(&ChatRequest) -> Result<Value, LlmError> + Send + Sync,
{
    model: String,
    answer: F,
    counters: Counters,
}

impl<F> Scripted<F>
where
    F: Fn(&ChatRequest) -> Result<Value, LlmError> + Send + Sync,
{
    /// A model called `model` that answers with `f`.
    pub fn new(model: &str, f: F) -> Self {
        Scripted {
            model: model.to_owned(),
            answer: f,
            counters: Counters::default(),
        }
    }
}

impl<F> Llm for Scripted<F>
where
    F: Fn(&ChatRequest) -> Result<Value, LlmError> + Send + Sync,
{
    fn model(&self) -> &str {
        &self.model
    }

    fn chat(&self, requests: &[ChatRequest]) -> Vec<Result<Value, LlmError>> {
        let start = Instant::now();
        let answers = requests
            .iter()
            .map(|request| {
                self.counters.calls.fetch_add(1, Ordering::Relaxed);
                let answer = (self.answer)(request).and_then(|value| {
                    validate(&request.schema, &value).map_err(LlmError::Schema)?;
                    Ok(value)
                });
                if answer.is_err() {
                    self.counters.failures.fetch_add(1, Ordering::Relaxed);
                }
                answer
            })
            .collect();
        self.counters.add_wall(start);
        answers
    }

    fn stats(&self) -> LlmStats {
        self.counters.snapshot()
    }
}

impl<F> std::fmt::Debug for Scripted<F>
where
    F: Fn(&ChatRequest) -> Result<Value, LlmError> + Send + Sync,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripted")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scripted_counts_and_validates() {
        let llm = Scripted::new("fake", |req: &ChatRequest| match req.user.as_str() {
            "good" => Ok(json!({"n": 1})),
            "off-schema" => Ok(json!({"n": "one"})),
            _ => Err(LlmError::Timeout),
        });
        let req = |user: &str| ChatRequest {
            system: String::new(),
            user: user.into(),
            schema_name: "n".into(),
            schema: json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}),
        };
        let answers = llm.chat(&[req("good"), req("off-schema"), req("slow")]);
        assert_eq!(answers[0], Ok(json!({"n": 1})));
        assert!(matches!(&answers[1], Err(LlmError::Schema(m)) if m.starts_with("$.n:")));
        assert_eq!(answers[2], Err(LlmError::Timeout));
        let stats = llm.stats();
        assert_eq!((stats.calls, stats.failures, stats.cache_hits), (3, 2, 0));
        assert_eq!(llm.model(), "fake");
    }
}
