//! The OpenAI-compatible client against a scripted HTTP/1.1 server on loopback: request
//! shape, retries and back-off, timeouts, bad answers, the `json_schema` → `json_object`
//! fallback, the disk cache, the concurrency limit, key redaction and the env config.

use agentic_soc::llm::{ChatRequest, Llm, LlmConfig, LlmError, OpenAi};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const KEY: &str = "sk-test-secret-7f3a9c";

/// One scripted answer of the server.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
    /// Answer with the digit that ends the user prompt as the confidence (`q3` → 0.3), so a
    /// test can tell which answer belongs to which request.
    echo: bool,
}

impl Reply {
    /// A 200 chat completion whose message content is `content`.
    fn content(content: &str) -> Reply {
        Reply::completion(json!(content), "stop")
    }

    fn completion(content: Value, finish_reason: &str) -> Reply {
        Reply::json(
            200,
            json!({
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": "test-model",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish_reason
                }]
            }),
        )
    }

    fn json(status: u16, body: Value) -> Reply {
        Reply::raw(status, body.to_string().into_bytes())
    }

    fn raw(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
            delay: Duration::ZERO,
            echo: false,
        }
    }

    fn echo() -> Reply {
        Reply {
            echo: true,
            ..Reply::raw(200, Vec::new())
        }
    }

    fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    /// Lower-case names.
    headers: Vec<(String, String)>,
    body: Value,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn response_format(&self) -> &str {
        self.body["response_format"]["type"].as_str().unwrap_or("")
    }
}

#[derive(Default)]
struct State {
    replies: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    stop: AtomicBool,
}

/// A scripted OpenAI-compatible server: each request gets the next queued reply (a 500
/// once the queue is empty), one thread per connection, `Connection: close` on every answer.
struct Server {
    port: u16,
    state: Arc<State>,
}

impl Server {
    fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(State {
            replies: Mutex::new(replies.into()),
            ..State::default()
        });
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&shared);
                thread::spawn(move || serve(stream, &state));
            }
        });
        Server { port, state }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    fn push(&self, reply: Reply) {
        self.state.replies.lock().unwrap().push_back(reply);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return; // the accept loop's wake-up, or a closed connection
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let user = body["messages"][1]["content"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    state.received.lock().unwrap().push(Received {
        method,
        path,
        headers,
        body,
    });
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let reply = state
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| {
            Reply::json(500, json!({"error": {"message": "no scripted reply left"}}))
        });
    thread::sleep(reply.delay);
    let reply = if reply.echo {
        let digit = user
            .chars()
            .last()
            .filter(char::is_ascii_digit)
            .unwrap_or('0');
        Reply::content(&format!(
            r#"{{"target": "source.ip", "confidence": 0.{digit}}}"#
        ))
    } else {
        reply
    };
    let mut head = format!(
        "HTTP/1.1 {} Scripted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // Out of flight before the client can see the answer: a client that sends its next
    // request as soon as it has one must not be counted twice.
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
}

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "target": {"type": "string", "enum": ["source.ip", "destination.ip", "user.name"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1}
        },
        "required": ["target", "confidence"],
        "additionalProperties": false
    })
}

fn request(user: &str) -> ChatRequest {
    ChatRequest {
        system: "Map the log key to one ECS field.".into(),
        user: user.into(),
        schema_name: "ecs_field".into(),
        schema: schema(),
    }
}

const GOOD: &str = r#"{"target": "source.ip", "confidence": 0.9}"#;

fn config(server: &Server) -> LlmConfig {
    LlmConfig {
        base_url: server.url(),
        model: "test-model".into(),
        api_key: Some(KEY.into()),
        timeout: Duration::from_secs(5),
        retries: 0,
        concurrency: 4,
        max_tokens: 64,
        temperature: 0.0,
        cache_dir: None,
    }
}

fn client(config: LlmConfig) -> OpenAi {
    OpenAi::new(config).expect("client")
}

fn ask_one(llm: &OpenAi, user: &str) -> Result<Value, LlmError> {
    llm.chat(&[request(user)]).pop().expect("one answer")
}

/// A fresh scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("soc-llm-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn json_schema_answer_and_request_shape() {
    let server = Server::start(vec![Reply::content(GOOD)]);
    let llm = client(LlmConfig {
        base_url: format!("{}/", server.url()),
        ..config(&server)
    });
    let answer = ask_one(&llm, "key: src, values: [\"10.0.0.1\"]");
    assert_eq!(
        answer,
        Ok(json!({"target": "source.ip", "confidence": 0.9}))
    );

    let received = server.received();
    assert_eq!(received.len(), 1);
    let req = &received[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.body,
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "Map the log key to one ECS field."},
                {"role": "user", "content": "key: src, values: [\"10.0.0.1\"]"}
            ],
            "temperature": 0.0,
            "max_tokens": 64,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "ecs_field", "strict": true, "schema": schema()}
            }
        })
    );
    let stats = llm.stats();
    assert_eq!(
        (stats.calls, stats.failures, stats.retries, stats.cache_hits),
        (1, 0, 0, 0)
    );
    assert_eq!(llm.model(), "test-model");
    assert!(llm.chat(&[]).is_empty());
}

#[test]
fn no_api_key_sends_no_authorization_header() {
    let server = Server::start(vec![Reply::content(GOOD)]);
    let llm = client(LlmConfig {
        api_key: None,
        ..config(&server)
    });
    assert!(ask_one(&llm, "x").is_ok());
    assert_eq!(server.received()[0].header("authorization"), None);
}

#[test]
fn slow_server_times_out_after_retries() {
    let slow = Reply::content(GOOD).delayed(Duration::from_secs(3));
    let server = Server::start(vec![slow.clone(), slow]);
    let llm = client(LlmConfig {
        timeout: Duration::from_millis(300),
        retries: 1,
        ..config(&server)
    });
    let start = Instant::now();
    assert_eq!(ask_one(&llm, "x"), Err(LlmError::Timeout));
    let elapsed = start.elapsed();
    // Two attempts of 300 ms and a 250 ms back-off; never the server's 3 s.
    assert!(
        elapsed >= Duration::from_millis(800) && elapsed < Duration::from_millis(2500),
        "{elapsed:?}"
    );
    assert_eq!(server.received().len(), 2);
    let stats = llm.stats();
    assert_eq!((stats.calls, stats.failures, stats.retries), (1, 1, 1));
}

#[test]
fn a_dead_server_costs_one_timeout_not_one_per_question() {
    let slow = Reply::content(GOOD).delayed(Duration::from_secs(3));
    let server = Server::start(vec![slow.clone(), slow.clone(), slow]);
    let llm = client(LlmConfig {
        timeout: Duration::from_millis(300),
        retries: 0,
        concurrency: 1,
        ..config(&server)
    });
    let start = Instant::now();
    let answers = llm.chat(&[request("a"), request("b"), request("c")]);
    assert!(
        answers.iter().all(|a| *a == Err(LlmError::Timeout)),
        "{answers:?}"
    );
    // One 300 ms timeout, then the others fail at once.
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.received().len(), 1);
    assert_eq!(llm.stats().failures, 3);
}

#[test]
fn rate_limit_is_retried_after_retry_after() {
    let server = Server::start(vec![
        Reply::json(429, json!({"error": {"message": "slow down"}})).header("Retry-After", "1"),
        Reply::content(GOOD),
    ]);
    let llm = client(LlmConfig {
        retries: 2,
        ..config(&server)
    });
    let start = Instant::now();
    assert!(ask_one(&llm, "x").is_ok());
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.received().len(), 2);
    let stats = llm.stats();
    assert!(stats.retries >= 1);
    assert_eq!(stats.failures, 0);
}

#[test]
fn server_errors_exhaust_retries() {
    let boom = Reply::json(500, json!({"error": {"message": "boom"}}));
    let server = Server::start(vec![boom.clone(), boom.clone(), boom]);
    let llm = client(LlmConfig {
        retries: 2,
        ..config(&server)
    });
    assert_eq!(
        ask_one(&llm, "x"),
        Err(LlmError::Http {
            status: 500,
            message: "boom".into()
        })
    );
    assert_eq!(server.received().len(), 3);
    let stats = llm.stats();
    assert_eq!((stats.calls, stats.failures, stats.retries), (1, 1, 2));
}

#[test]
fn client_errors_are_not_retried() {
    let server = Server::start(vec![Reply::raw(404, b"<html>Not Found</html>".to_vec())]);
    let llm = client(LlmConfig {
        retries: 3,
        ..config(&server)
    });
    assert_eq!(
        ask_one(&llm, "x"),
        Err(LlmError::Http {
            status: 404,
            message: "<html>Not Found</html>".into()
        })
    );
    assert_eq!(server.received().len(), 1);
}

#[test]
fn connection_refused_is_a_transport_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let llm = client(LlmConfig {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        model: "m".into(),
        retries: 1,
        ..LlmConfig::default()
    });
    let answer = ask_one(&llm, "x");
    assert!(matches!(&answer, Err(LlmError::Transport(_))), "{answer:?}");
    assert_eq!(llm.stats().retries, 1);
}

/// Bad answers: each is one server reply and the error expected for it, never retried.
#[test]
fn bad_answers_are_reported_not_retried() {
    let huge = format!(
        "{{\"choices\": [{{\"message\": {{\"content\": \"{}\"}}}}]}}",
        "x".repeat(5 << 20)
    );
    let cases: Vec<(&str, Reply, &str)> = vec![
        (
            "prose",
            Reply::content("The field is source.ip."),
            "Malformed",
        ),
        (
            "prose around JSON",
            Reply::content(&format!("Sure! {GOOD}")),
            "Malformed",
        ),
        ("JSON array", Reply::content("[1, 2]"), "Malformed"),
        (
            "null content",
            Reply::completion(Value::Null, "stop"),
            "Malformed",
        ),
        (
            "HTML body",
            Reply::raw(200, b"<html><body>proxy</body></html>".to_vec()),
            "Malformed",
        ),
        (
            "garbage bytes",
            Reply::raw(200, vec![0xff, 0x00, 0xfe, 0x80]),
            "Malformed",
        ),
        (
            "no choices",
            Reply::json(200, json!({"choices": []})),
            "Malformed",
        ),
        (
            "error object",
            Reply::json(200, json!({"error": "model not loaded"})),
            "Malformed",
        ),
        (
            "body over 4 MiB",
            Reply::raw(200, huge.into_bytes()),
            "Malformed",
        ),
        (
            "fenced JSON",
            Reply::content(&format!("```json\n{GOOD}\n```")),
            "Ok",
        ),
        (
            "cut off",
            Reply::completion(json!("{\"target\": \"sou"), "length"),
            "Truncated",
        ),
        (
            "value outside the enum",
            Reply::content(r#"{"target": "host.ip", "confidence": 0.5}"#),
            "Schema: $.target: \"host.ip\" is not one of",
        ),
        (
            "missing required",
            Reply::content(r#"{"target": "user.name"}"#),
            "Schema: $: missing required property \"confidence\"",
        ),
        (
            "extra property",
            Reply::content(r#"{"target": "user.name", "confidence": 1, "why": "x"}"#),
            "Schema: $.why: property is not allowed",
        ),
    ];
    let server = Server::start(Vec::new());
    let llm = client(LlmConfig {
        retries: 3,
        ..config(&server)
    });
    for (i, (name, reply, expected)) in cases.into_iter().enumerate() {
        server.push(reply);
        let got = match ask_one(&llm, name) {
            Ok(_) => "Ok".to_owned(),
            Err(LlmError::Malformed(_)) => "Malformed".to_owned(),
            Err(LlmError::Truncated) => "Truncated".to_owned(),
            Err(LlmError::Schema(m)) => format!("Schema: {m}"),
            Err(other) => format!("{other:?}"),
        };
        assert!(got.starts_with(expected), "{name}: got {got}");
        assert_eq!(server.received().len(), i + 1, "{name}: retried");
    }
    assert_eq!(llm.stats().retries, 0);
}

#[test]
fn json_schema_refusal_falls_back_to_json_object() {
    let server = Server::start(vec![
        Reply::json(
            400,
            json!({"error": {"message": "Invalid value for 'response_format': json_schema is not supported"}}),
        ),
        Reply::content(GOOD),
        Reply::content(GOOD),
    ]);
    let llm = client(config(&server));
    assert!(ask_one(&llm, "first").is_ok());
    assert!(ask_one(&llm, "second").is_ok());

    let received = server.received();
    let formats: Vec<&str> = received.iter().map(Received::response_format).collect();
    assert_eq!(formats, ["json_schema", "json_object", "json_object"]);
    for fallback in &received[1..] {
        let system = fallback.body["messages"][0]["content"].as_str().unwrap();
        assert!(
            system.starts_with("Map the log key to one ECS field."),
            "{system}"
        );
        assert!(system.contains(&schema().to_string()), "{system}");
        assert!(
            fallback.body["response_format"]
                .get("json_schema")
                .is_none()
        );
    }
    assert_eq!(llm.stats().retries, 1);
}

#[test]
fn other_bad_requests_do_not_fall_back() {
    let server = Server::start(vec![Reply::json(
        400,
        json!({"error": {"message": "context length exceeded"}}),
    )]);
    let llm = client(config(&server));
    assert!(matches!(
        ask_one(&llm, "x"),
        Err(LlmError::Http { status: 400, .. })
    ));
    assert_eq!(server.received().len(), 1);
}

#[test]
fn cache_answers_repeated_questions_without_a_call() {
    let scratch = Scratch::new("cache");
    let server = Server::start(vec![
        Reply::content(r#"{"target": "nowhere", "confidence": 1}"#),
        Reply::content(GOOD),
        Reply::content(GOOD),
    ]);
    let with_cache = || {
        client(LlmConfig {
            cache_dir: Some(scratch.0.clone()),
            ..config(&server)
        })
    };
    let first = with_cache();
    // An off-schema answer is not cached: the same question is asked again.
    assert!(matches!(ask_one(&first, "q"), Err(LlmError::Schema(_))));
    assert!(ask_one(&first, "q").is_ok());
    assert_eq!(server.received().len(), 2);
    let files: Vec<String> = std::fs::read_dir(&scratch.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].ends_with(".json") && files[0].len() == 16 + 5,
        "{files:?}"
    );

    // A new client (a new process, as far as the cache knows) gets the answer from disk.
    let second = with_cache();
    assert_eq!(
        ask_one(&second, "q"),
        Ok(json!({"target": "source.ip", "confidence": 0.9}))
    );
    assert_eq!(server.received().len(), 2);
    let stats = second.stats();
    assert_eq!((stats.calls, stats.cache_hits), (0, 1));

    // A different prompt misses.
    assert!(ask_one(&second, "another q").is_ok());
    assert_eq!(server.received().len(), 3);
    assert_eq!(second.stats().cache_hits, 1);

    // A corrupt entry is a miss, not an error.
    for file in std::fs::read_dir(&scratch.0).unwrap() {
        std::fs::write(file.unwrap().path(), b"{\"target\": ").unwrap();
    }
    server.push(Reply::content(GOOD));
    assert!(ask_one(&second, "q").is_ok());
    assert_eq!(server.received().len(), 4);
}

#[test]
fn api_key_is_never_shown() {
    let server = Server::start(vec![
        Reply::json(
            401,
            json!({"error": {"message": format!("Incorrect API key provided: {KEY}")}}),
        ),
        Reply::content(&format!("your key is {KEY}")),
    ]);
    let config = config(&server);
    assert!(!format!("{config:?}").contains(KEY));
    assert!(format!("{config:?}").contains("[redacted]"));
    let llm = client(config);
    assert!(!format!("{llm:?}").contains(KEY));
    let errors: Vec<LlmError> = ["a", "b"]
        .iter()
        .map(|q| ask_one(&llm, q).unwrap_err())
        .collect();
    assert!(matches!(errors[0], LlmError::Http { status: 401, .. }));
    assert!(matches!(errors[1], LlmError::Malformed(_)));
    for error in errors {
        assert!(!error.to_string().contains(KEY), "{error}");
        assert!(!format!("{error:?}").contains(KEY), "{error:?}");
    }
}

#[test]
fn concurrency_limit_bounds_requests_in_flight() {
    let slow = Reply::echo().delayed(Duration::from_millis(200));
    let server = Server::start(vec![slow; 4]);
    let llm = client(LlmConfig {
        concurrency: 2,
        ..config(&server)
    });
    let requests: Vec<ChatRequest> = (0..4).map(|i| request(&format!("q{i}"))).collect();
    let start = Instant::now();
    let answers = llm.chat(&requests);
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert!(start.elapsed() >= Duration::from_millis(400));
    // Never more than the limit; on a loaded machine the server may see them one by one.
    let in_flight = server.state.max_in_flight.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&in_flight),
        "{in_flight} requests in flight"
    );
    // Answers come back in request order, whatever order the server answered in.
    let confidences: Vec<f64> = answers
        .iter()
        .map(|a| a.as_ref().unwrap()["confidence"].as_f64().unwrap())
        .collect();
    assert_eq!(confidences, [0.0, 0.1, 0.2, 0.3]);
    assert_eq!(server.received().len(), 4);
    assert_eq!(llm.stats().calls, 4);
}

#[test]
fn chat_inside_an_async_runtime_does_not_panic() {
    let server = Server::start(vec![Reply::content(GOOD)]);
    let llm = client(config(&server));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = runtime.block_on(async { ask_one(&llm, "x") });
    assert!(answer.is_ok());
    // Dropping the client inside a runtime must not panic either.
    runtime.block_on(async move { drop(llm) });
}

#[test]
fn config_from_an_env_lookup() {
    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }
    let url = ("SOC_LLM_URL", "http://127.0.0.1:8080/v1");
    let model = ("SOC_LLM_MODEL", "qwen");
    let errors: &[(&[(&str, &str)], &str)] = &[
        (&[model], "SOC_LLM_URL is not set"),
        (&[("SOC_LLM_URL", ""), model], "SOC_LLM_URL is not set"),
        (&[url], "SOC_LLM_MODEL is not set"),
        (
            &[("SOC_LLM_URL", "ftp://host/v1"), model],
            "must be an http:// or https:// URL",
        ),
        (
            &[("SOC_LLM_URL", "127.0.0.1:8080"), model],
            "must be an http:// or https:// URL",
        ),
        (&[("SOC_LLM_URL", "not a url"), model], "must be an http"),
        (
            &[url, model, ("SOC_LLM_TIMEOUT", "soon")],
            "SOC_LLM_TIMEOUT",
        ),
        (&[url, model, ("SOC_LLM_TIMEOUT", "0")], "SOC_LLM_TIMEOUT"),
        (&[url, model, ("SOC_LLM_RETRIES", "-1")], "SOC_LLM_RETRIES"),
        (
            &[url, model, ("SOC_LLM_CONCURRENCY", "0")],
            "SOC_LLM_CONCURRENCY",
        ),
    ];
    for (pairs, expected) in errors {
        match LlmConfig::from_lookup(env(pairs)) {
            Err(LlmError::Config(message)) => {
                assert!(message.contains(expected), "{pairs:?}: {message}")
            }
            other => panic!("{pairs:?}: expected a config error, got {other:?}"),
        }
    }

    let defaults = LlmConfig::from_lookup(env(&[url, model, ("HOME", "/home/ana")])).unwrap();
    assert_eq!(defaults.base_url, "http://127.0.0.1:8080/v1");
    assert_eq!(defaults.model, "qwen");
    assert_eq!(defaults.api_key, None);
    assert_eq!(defaults.timeout, Duration::from_secs(60));
    assert_eq!(
        (defaults.retries, defaults.concurrency, defaults.max_tokens),
        (3, 4, 512)
    );
    assert_eq!(defaults.temperature, 0.0);
    assert_eq!(
        defaults.cache_dir,
        Some(PathBuf::from("/home/ana/.cache/agentic-soc/llm"))
    );

    let set = LlmConfig::from_lookup(env(&[
        ("SOC_LLM_URL", "https://llm.internal/v1/"),
        model,
        ("SOC_LLM_API_KEY", KEY),
        ("SOC_LLM_TIMEOUT", "2.5"),
        ("SOC_LLM_RETRIES", "0"),
        ("SOC_LLM_CONCURRENCY", "8"),
        ("XDG_CACHE_HOME", "/var/cache"),
        ("HOME", "/home/ana"),
    ]))
    .unwrap();
    assert_eq!(set.api_key.as_deref(), Some(KEY));
    assert_eq!(set.timeout, Duration::from_millis(2500));
    assert_eq!((set.retries, set.concurrency), (0, 8));
    assert_eq!(
        set.cache_dir,
        Some(PathBuf::from("/var/cache/agentic-soc/llm"))
    );
    assert_eq!(set.endpoint(), "https://llm.internal/v1/chat/completions");

    let off = LlmConfig::from_lookup(env(&[url, model, ("SOC_LLM_CACHE", "off"), ("HOME", "/h")]))
        .unwrap();
    assert_eq!(off.cache_dir, None);
    let dir = LlmConfig::from_lookup(env(&[url, model, ("SOC_LLM_CACHE", "/tmp/c")])).unwrap();
    assert_eq!(dir.cache_dir, Some(PathBuf::from("/tmp/c")));
    let nowhere = LlmConfig::from_lookup(env(&[url, model])).unwrap();
    assert_eq!(nowhere.cache_dir, None);
}

#[test]
fn unusable_configs_are_refused() {
    let base = LlmConfig::new("http://127.0.0.1:9/v1", "m");
    let cases = [
        LlmConfig {
            concurrency: 0,
            ..base.clone()
        },
        LlmConfig {
            model: " ".into(),
            ..base.clone()
        },
        LlmConfig {
            temperature: f64::NAN,
            ..base.clone()
        },
        LlmConfig {
            api_key: Some("two words".into()),
            ..base.clone()
        },
        LlmConfig {
            timeout: Duration::ZERO,
            ..base.clone()
        },
    ];
    for config in cases {
        let shown = format!("{config:?}");
        assert!(
            matches!(OpenAi::new(config), Err(LlmError::Config(_))),
            "{shown}"
        );
    }
    assert!(OpenAi::new(base).is_ok());
}
