//! [`OpenAi`]: the client for OpenAI-compatible `POST {base}/chat/completions` servers.
//! Owns its tokio runtime, HTTP connection pool, concurrency limit, retry policy, the
//! `json_schema` → `json_object` fallback and the answer cache. Depends on `llm` siblings,
//! reqwest (rustls with the ring provider, no OpenSSL) and tokio.
//!
//! Policy, request by request:
//! 1. a cached, still-valid answer is returned without a call;
//! 2. the request asks for `response_format: json_schema` (strict); a server that refuses it
//!    (HTTP 400/422 whose body names `response_format` or `json_schema`) is asked again with
//!    `json_object` and the schema in the system prompt, and every later request of this
//!    client goes straight to `json_object`;
//! 3. 429, 5xx, timeouts and transport errors are retried up to `retries` times, with an
//!    exponential back-off from 250 ms (or the server's `Retry-After`), capped at 5 s;
//! 4. the answer must be one JSON object (whitespace and a ```` ```json ```` fence tolerated)
//!    that satisfies the schema; bad answers are not retried (temperature 0 repeats them).

use super::cache::Cache;
use super::{ChatRequest, Counters, Llm, LlmConfig, LlmError, LlmStats, validate};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The largest response body read; anything past it is not an answer we want.
const MAX_BODY: usize = 4 << 20;
/// The first back-off delay; it doubles with each retry.
const BACKOFF_START: Duration = Duration::from_millis(250);
/// No back-off (nor `Retry-After`) waits longer than this.
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// How much of a server's error text an [`LlmError::Http`] keeps.
const MAX_MESSAGE: usize = 300;

/// An OpenAI-compatible chat client (see the module docs for its policy).
///
/// [`Llm::chat`] blocks the calling thread until every answer is in; call it from ordinary
/// (blocking) code. Called from inside an async runtime it does not panic: it runs the
/// batch on a fresh OS thread and waits for it, which blocks that runtime's worker, so
/// async callers should prefer `tokio::task::spawn_blocking`.
pub struct OpenAi {
    inner: Arc<Inner>,
    /// `Some` until drop (taken there to shut it down without blocking).
    runtime: Option<tokio::runtime::Runtime>,
}

struct Inner {
    config: LlmConfig,
    endpoint: String,
    http: reqwest::Client,
    cache: Option<Cache>,
    /// Set once the server has refused `json_schema`.
    json_object: AtomicBool,
    permits: Semaphore,
    counters: Counters,
    /// Set when a request found no server (timeout or transport error after every retry):
    /// later requests fail at once with this error instead of waiting out their own
    /// timeouts, so a dead endpoint costs one timeout, not one per question.
    down: std::sync::Mutex<Option<LlmError>>,
}

/// What one HTTP exchange gave back.
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
    /// The body was longer than [`MAX_BODY`] and was cut there.
    cut: bool,
}

impl OpenAi {
    /// A client for `config` (checked first: see [`LlmConfig::check`]). Starts a
    /// single-threaded tokio runtime owned by the client; no connection is made yet.
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        config.check()?;
        if let Some(key) = &config.api_key
            && !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(LlmError::Config(
                "the API key must be printable ASCII without spaces".into(),
            ));
        }
        if !config.temperature.is_finite() || !(0.0..=2.0).contains(&config.temperature) {
            return Err(LlmError::Config(format!(
                "temperature must be between 0 and 2, not {}",
                config.temperature
            )));
        }
        // reqwest is built without a crypto provider so that no C toolchain beyond a C
        // compiler is needed (aws-lc wants cmake); ring is the provider. Installing fails
        // harmlessly when a provider is already installed, and that one is then used.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LlmError::Config(format!("could not start the async runtime: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("agentic-soc/", env!("CARGO_PKG_VERSION")));
        if is_loopback(&config.base_url) {
            // A proxy from the environment must not capture a model on this machine.
            builder = builder.no_proxy();
        }
        let http = {
            let _enter = runtime.enter();
            builder.build().map_err(|e| {
                LlmError::Config(format!("could not build the HTTP client: {}", chain(&e)))
            })?
        };
        let inner = Inner {
            endpoint: config.endpoint(),
            cache: config.cache_dir.clone().map(Cache::new),
            json_object: AtomicBool::new(false),
            permits: Semaphore::new(config.concurrency),
            counters: Counters::default(),
            down: std::sync::Mutex::new(None),
            http,
            config,
        };
        Ok(OpenAi {
            inner: Arc::new(inner),
            runtime: Some(runtime),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &LlmConfig {
        &self.inner.config
    }

    fn run(&self, requests: &[ChatRequest]) -> Vec<Result<Value, LlmError>> {
        let Some(runtime) = &self.runtime else {
            return vec![Err(LlmError::Config("the client is shut down".into())); requests.len()];
        };
        runtime.block_on(async {
            let tasks: Vec<_> = requests
                .iter()
                .map(|request| tokio::spawn(Arc::clone(&self.inner).answer(request.clone())))
                .collect();
            let mut answers = Vec::with_capacity(tasks.len());
            for task in tasks {
                answers.push(match task.await {
                    Ok(answer) => answer,
                    Err(e) => Err(LlmError::Transport(format!("the request task failed: {e}"))),
                });
            }
            answers
        })
    }
}

impl Llm for OpenAi {
    fn model(&self) -> &str {
        &self.inner.config.model
    }

    fn chat(&self, requests: &[ChatRequest]) -> Vec<Result<Value, LlmError>> {
        if requests.is_empty() {
            return Vec::new();
        }
        let start = Instant::now();
        let answers = if tokio::runtime::Handle::try_current().is_ok() {
            // block_on inside a runtime would panic: run the batch on a thread of its own.
            std::thread::scope(|scope| scope.spawn(|| self.run(requests)).join()).unwrap_or_else(
                |_| {
                    vec![
                        Err(LlmError::Transport("the request thread failed".into()));
                        requests.len()
                    ]
                },
            )
        } else {
            self.run(requests)
        };
        self.inner.counters.add_wall(start);
        answers
    }

    fn stats(&self) -> LlmStats {
        self.inner.counters.snapshot()
    }
}

impl Drop for OpenAi {
    fn drop(&mut self) {
        // Dropping a runtime inside another one panics; shutting it down in the background
        // never does, and nothing of ours runs on it between calls to `chat`.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAi")
            .field("endpoint", &self.inner.endpoint)
            .field("model", &self.inner.config.model)
            .field(
                "json_object",
                &self.inner.json_object.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// One request from cache or model, with the counters kept.
    async fn answer(self: Arc<Self>, request: ChatRequest) -> Result<Value, LlmError> {
        let model = &self.config.model;
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(model, &request)) {
            self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(hit);
        }
        let down = self.down.lock().map(|d| d.clone()).unwrap_or(None);
        if let Some(e) = down {
            self.counters.failures.fetch_add(1, Ordering::Relaxed);
            return Err(e);
        }
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        match self.ask(&request).await {
            Ok(answer) => {
                if let Some(cache) = &self.cache {
                    cache.put(model, &request, &answer);
                }
                Ok(answer)
            }
            Err(e) => {
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
                let e = redact(e, self.config.api_key.as_deref());
                if matches!(e, LlmError::Timeout | LlmError::Transport(_))
                    && let Ok(mut d) = self.down.lock()
                {
                    d.get_or_insert(e.clone());
                }
                Err(e)
            }
        }
    }

    /// The HTTP exchanges for one request: fallback, retries, parsing.
    async fn ask(&self, request: &ChatRequest) -> Result<Value, LlmError> {
        let mut json_object = self.json_object.load(Ordering::Relaxed);
        let mut retried = 0u32;
        loop {
            let body = self.body(request, json_object);
            let outcome = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .map_err(|_| LlmError::Transport("the client is shutting down".into()))?;
                // Queued behind a request that found the server dead: do not try again.
                if let Some(e) = self.down.lock().map(|d| d.clone()).unwrap_or(None) {
                    return Err(e);
                }
                tokio::time::timeout(self.config.timeout, self.send(body)).await
            };
            let (error, retry_after) = match outcome {
                Err(_elapsed) => (LlmError::Timeout, None),
                Ok(Err(e)) => (e, None),
                Ok(Ok(reply)) if (200..300).contains(&reply.status) => {
                    if reply.cut {
                        return Err(LlmError::Malformed(format!(
                            "the response is larger than {} MiB",
                            MAX_BODY >> 20
                        )));
                    }
                    return parse_answer(&reply.body, request);
                }
                Ok(Ok(reply)) => {
                    if !json_object
                        && matches!(reply.status, 400 | 422)
                        && refuses_json_schema(&reply.body)
                    {
                        json_object = true;
                        self.json_object.store(true, Ordering::Relaxed);
                        self.counters.retries.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let error = LlmError::Http {
                        status: reply.status,
                        message: error_message(&reply.body, reply.status),
                    };
                    if reply.status != 429 && reply.status < 500 {
                        return Err(error);
                    }
                    (error, reply.retry_after)
                }
            };
            if retried >= self.config.retries {
                return Err(error);
            }
            let delay = retry_after
                .unwrap_or_else(|| BACKOFF_START.saturating_mul(1u32 << retried.min(8)))
                .min(BACKOFF_CAP);
            retried += 1;
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
    }

    /// The request body, in `json_schema` mode or in the `json_object` fallback.
    fn body(&self, request: &ChatRequest, json_object: bool) -> Vec<u8> {
        let (system, response_format) = if json_object {
            let system = format!(
                "{}\n\nAnswer with one JSON object, and nothing else, that satisfies this JSON Schema:\n{}",
                request.system, request.schema
            );
            (system, json!({"type": "json_object"}))
        } else {
            let format = json!({
                "type": "json_schema",
                "json_schema": {
                    "name": schema_name(&request.schema_name),
                    "strict": true,
                    "schema": request.schema,
                }
            });
            (request.system.clone(), format)
        };
        json!({
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": request.user},
            ],
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "response_format": response_format,
        })
        .to_string()
        .into_bytes()
    }

    /// One POST and its (capped) answer.
    async fn send(&self, body: Vec<u8>) -> Result<Reply, LlmError> {
        let mut builder = self
            .http
            .post(&self.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        let mut response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(BACKOFF_CAP.as_secs_f64())));
        let mut body = Vec::new();
        let mut cut = false;
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            let room = MAX_BODY - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                cut = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            retry_after,
            body,
            cut,
        })
    }
}

/// Checks a 2xx body: one choice, not cut off, content a JSON object that fits the schema.
fn parse_answer(body: &[u8], request: &ChatRequest) -> Result<Value, LlmError> {
    let response: Value = serde_json::from_slice(body).map_err(|e| {
        LlmError::Malformed(format!("the response is not JSON ({e}): {}", snippet(body)))
    })?;
    let choice = response
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| {
            LlmError::Malformed(format!("the response has no choices: {}", snippet(body)))
        })?;
    if choice.get("finish_reason").and_then(Value::as_str) == Some("length") {
        return Err(LlmError::Truncated);
    }
    let message = choice.get("message");
    let Some(content) = message
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
    else {
        if let Some(refusal) = message
            .and_then(|m| m.get("refusal"))
            .and_then(Value::as_str)
        {
            return Err(LlmError::Malformed(format!(
                "the model refused: {}",
                snippet(refusal.as_bytes())
            )));
        }
        return Err(LlmError::Malformed("the answer has no content".into()));
    };
    let answer = parse_content(content)?;
    validate(&request.schema, &answer).map_err(LlmError::Schema)?;
    Ok(answer)
}

/// The model's text as one JSON object: surrounding whitespace and one Markdown code fence
/// (```` ``` ```` or ```` ```json ````) are tolerated, any other text is not.
fn parse_content(content: &str) -> Result<Value, LlmError> {
    let mut text = content.trim();
    if let Some(rest) = text.strip_prefix("```") {
        let (info, rest) = rest.split_once('\n').unwrap_or((rest, ""));
        let info = info.trim();
        let Some(inner) = rest.trim_end().strip_suffix("```") else {
            return Err(LlmError::Malformed(format!(
                "the answer opens a code fence it does not close: {}",
                snippet(content.as_bytes())
            )));
        };
        if !(info.is_empty() || info.eq_ignore_ascii_case("json")) {
            return Err(LlmError::Malformed(format!(
                "the answer is fenced as {info:?}, not JSON"
            )));
        }
        text = inner.trim();
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(LlmError::Malformed(format!(
            "the answer is JSON but not an object: {}",
            snippet(other.to_string().as_bytes())
        ))),
        Err(e) => Err(LlmError::Malformed(format!(
            "the answer is not JSON ({e}): {}",
            snippet(content.as_bytes())
        ))),
    }
}

/// Does an error body say the server does not take `response_format: json_schema`?
fn refuses_json_schema(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    [
        "response_format",
        "json_schema",
        "response format",
        "json schema",
        "structured output",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// The server's own error message (`{"error": {"message": …}}`, `{"error": "…"}`,
/// `{"message": …}`), else the start of the body, else the status's reason.
fn error_message(body: &[u8], status: u16) -> String {
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let error = v.get("error");
        error
            .and_then(|e| e.get("message"))
            .or(error)
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let text = clean(&text, MAX_MESSAGE);
    if text.is_empty() {
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no message")
            .to_owned()
    } else {
        text
    }
}

/// The start of a body for an error message.
fn snippet(body: &[u8]) -> String {
    clean(&String::from_utf8_lossy(body), 200)
}

/// `text` on one line, control characters out, at most `max` characters.
fn clean(text: &str, max: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ");
    let mut out: String = joined
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    if joined.chars().count() > max {
        out.push_str("...");
    }
    out
}

/// A reqwest error as `Timeout` or `Transport`, with its causes and without the URL.
fn transport(error: reqwest::Error) -> LlmError {
    if error.is_timeout() {
        LlmError::Timeout
    } else {
        LlmError::Transport(chain(&error.without_url()))
    }
}

/// An error and its causes on one line (a cause already quoted by its parent is skipped).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let shown = cause.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = cause.source();
    }
    clean(&text, 500)
}

/// `error` with every occurrence of the API key replaced.
fn redact(error: LlmError, key: Option<&str>) -> LlmError {
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return error;
    };
    let scrub = |text: String| text.replace(key, "[redacted]");
    match error {
        LlmError::Http { status, message } => LlmError::Http {
            status,
            message: scrub(message),
        },
        LlmError::Transport(m) => LlmError::Transport(scrub(m)),
        LlmError::Malformed(m) => LlmError::Malformed(scrub(m)),
        LlmError::Schema(m) => LlmError::Schema(scrub(m)),
        LlmError::Config(m) => LlmError::Config(scrub(m)),
        other @ (LlmError::Timeout | LlmError::Truncated) => other,
    }
}

/// A `json_schema.name` the OpenAI API accepts: `[A-Za-z0-9_-]{1,64}`.
fn schema_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "answer".to_owned()
    } else {
        cleaned
    }
}

fn is_loopback(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url.trim()) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_shapes() {
        let ok: &[&str] = &[
            r#"{"a":1}"#,
            "  \n{\"a\":1}\n ",
            "```json\n{\"a\":1}\n```",
            "```JSON\n{\"a\":1}\n```\n",
            "```\n{\"a\":1}\n```",
        ];
        for text in ok {
            assert_eq!(parse_content(text), Ok(json!({"a": 1})), "{text:?}");
        }
        let bad: &[&str] = &[
            "",
            "Sure! {\"a\":1}",
            "{\"a\":1} hope this helps",
            "[1, 2]",
            "\"text\"",
            "```json\n{\"a\":1}",
            "```python\n{\"a\":1}\n```",
            "{\"a\":",
            "\u{0}\u{1}garbage",
        ];
        for text in bad {
            assert!(
                matches!(parse_content(text), Err(LlmError::Malformed(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn error_messages_from_bodies() {
        let cases: &[(&[u8], u16, &str)] = &[
            (
                br#"{"error":{"message":"bad key","type":"auth"}}"#,
                401,
                "bad key",
            ),
            (br#"{"error":"overloaded"}"#, 503, "overloaded"),
            (br#"{"message":"nope"}"#, 400, "nope"),
            (
                b"<html>\n<body>Bad   Gateway</body></html>",
                502,
                "<html> <body>Bad Gateway</body></html>",
            ),
            (b"", 503, "Service Unavailable"),
            (b"\xff\xfe\x00", 500, "\u{fffd}\u{fffd}"),
        ];
        for (body, status, expected) in cases {
            assert_eq!(error_message(body, *status), *expected);
        }
        assert!(error_message(&[b'x'; 10_000], 500).chars().count() <= MAX_MESSAGE + 3);
    }

    #[test]
    fn names_and_hosts() {
        assert_eq!(schema_name("ecs mapping/v1"), "ecs_mapping_v1");
        assert_eq!(schema_name(""), "answer");
        assert_eq!(schema_name(&"x".repeat(100)).len(), 64);
        assert!(is_loopback("http://127.0.0.1:8080/v1"));
        assert!(is_loopback("http://localhost:8080/v1"));
        assert!(is_loopback("http://[::1]:8080/v1"));
        assert!(!is_loopback("https://api.example.com/v1"));
    }

    #[test]
    fn redaction_covers_every_message() {
        let key = Some("sk-secret-123");
        let errors = [
            LlmError::Http {
                status: 401,
                message: "key sk-secret-123 is wrong".into(),
            },
            LlmError::Transport("sk-secret-123".into()),
            LlmError::Malformed("x sk-secret-123".into()),
            LlmError::Schema("sk-secret-123".into()),
            LlmError::Config("sk-secret-123".into()),
        ];
        for e in errors {
            let shown = redact(e, key).to_string();
            assert!(!shown.contains("sk-secret-123"), "{shown}");
        }
    }
}
