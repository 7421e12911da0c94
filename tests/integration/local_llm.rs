//! A real local model for tests: llama.cpp's `llama-server` with Qwen2.5-Coder-0.5B-Instruct,
//! installed by `scripts/local-llm.sh` and found through `SOC_LOCAL_LLM_SERVER` and
//! `SOC_LOCAL_LLM_MODEL`. Without them the tests that need it skip, unless
//! `SOC_REQUIRE_LOCAL_LLM=1` (CI), where a missing model is a failure, not a silent skip.
//! One server process is shared by every test that holds a [`LocalLlm`] at the same time,
//! and killed when the last one is dropped.

use agentic_soc::llm::{ChatRequest, Llm, LlmConfig, OpenAi, validate};
use serde_json::json;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The name the server answers to (`--alias`).
const ALIAS: &str = "qwen2.5-coder-0.5b-instruct";
/// How long the server may take to load the model.
const STARTUP: Duration = Duration::from_secs(120);

/// The running server, shared while any test holds it.
static SHARED: Mutex<Weak<Process>> = Mutex::new(Weak::new());

/// A handle on the shared local model server.
pub struct LocalLlm {
    process: Arc<Process>,
}

struct Process {
    child: Mutex<Child>,
    port: u16,
    dir: PathBuf,
}

impl LocalLlm {
    /// The shared server, started on first use. `None` when `SOC_LOCAL_LLM_SERVER` or
    /// `SOC_LOCAL_LLM_MODEL` is unset, unless `SOC_REQUIRE_LOCAL_LLM=1`, which panics. Panics
    /// with the server's log tail when it is configured but does not come up.
    pub fn start() -> Option<LocalLlm> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let (Some(server), Some(model)) = (var("SOC_LOCAL_LLM_SERVER"), var("SOC_LOCAL_LLM_MODEL"))
        else {
            assert!(
                var("SOC_REQUIRE_LOCAL_LLM").as_deref() != Some("1"),
                "SOC_REQUIRE_LOCAL_LLM=1 but SOC_LOCAL_LLM_SERVER and SOC_LOCAL_LLM_MODEL are not both set: \
                 run scripts/local-llm.sh and export the two paths it prints"
            );
            return None;
        };
        for path in [&server, &model] {
            assert!(
                Path::new(path).is_file(),
                "local LLM file {path} does not exist (scripts/local-llm.sh installs it)"
            );
        }
        let mut shared = SHARED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(process) = shared.upgrade() {
            return Some(LocalLlm { process });
        }
        let process = Arc::new(Process::spawn(Path::new(&server), Path::new(&model)));
        *shared = Arc::downgrade(&process);
        Some(LocalLlm { process })
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.process.port)
    }

    /// The model name the server answers to.
    pub fn model(&self) -> &str {
        ALIAS
    }

    /// A client config for this server: no cache, no key, a timeout that a loaded machine
    /// can meet (requests are served one at a time, `-np 1`).
    pub fn config(&self) -> LlmConfig {
        LlmConfig {
            timeout: Duration::from_secs(120),
            retries: 1,
            concurrency: 1,
            ..LlmConfig::new(self.base_url(), self.model())
        }
    }
}

impl Process {
    fn spawn(server: &Path, model: &Path) -> Process {
        let dir = std::env::temp_dir().join(format!("soc-local-llm-{}", std::process::id()));
        let log_path = dir.join("llama-server.log");
        // A port can be taken between our probe and the server's bind: try a few.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            std::fs::create_dir_all(&dir).expect("create the local LLM log dir");
            let log = std::fs::File::create(&log_path).expect("create the local LLM log");
            let child = Command::new(server)
                .args(["-m".as_ref(), model.as_os_str()])
                .args([
                    "--alias",
                    ALIAS,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                ])
                .args(["-c", "4096", "-t", "1", "-np", "1"])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone the log handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("could not run {}: {e}", server.display()));
            let process = Process {
                child: Mutex::new(child),
                port,
                dir: dir.clone(),
            };
            match process.wait_healthy() {
                Ok(()) => return process,
                Err(exited) => {
                    last_log = tail(&log_path);
                    if !exited {
                        panic!(
                            "llama-server did not become healthy within {STARTUP:?}; log tail:\n{last_log}"
                        );
                    }
                    // `process` drops here: the child is reaped and the next port is tried.
                }
            }
        }
        panic!("llama-server exited during startup; log tail:\n{last_log}");
    }

    /// Waits for `GET /health` to answer 200. `Err(true)` if the server exited, `Err(false)`
    /// on time-out.
    fn wait_healthy(&self) -> Result<(), bool> {
        let start = Instant::now();
        while start.elapsed() < STARTUP {
            if let Ok(Some(_)) = self
                .child
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .try_wait()
            {
                return Err(true);
            }
            if health(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(false)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        // Child::kill signals this child's PID only; wait reaps it.
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free loopback port")
}

/// One `GET /health`; true on a 200.
fn health(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 16];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    head[..read].starts_with(b"HTTP/1.1 200") || head[..read].starts_with(b"HTTP/1.0 200")
}

/// The last lines of the server log, for a failure message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

#[test]
fn local_model_answers_a_json_schema_question() {
    let Some(server) = LocalLlm::start() else {
        eprintln!(
            "skipped: SOC_LOCAL_LLM_SERVER and SOC_LOCAL_LLM_MODEL are not set (scripts/local-llm.sh)"
        );
        return;
    };
    let llm = OpenAi::new(server.config()).expect("client");
    let schema = json!({
        "type": "object",
        "properties": {
            "field": {"type": "string", "enum": ["source.ip", "destination.ip", "user.name"]}
        },
        "required": ["field"],
        "additionalProperties": false
    });
    let request = ChatRequest {
        system: "You map keys of log events to Elastic Common Schema (ECS) fields. \
                 Answer with a JSON object only."
            .into(),
        user: "Key: src\nSample values: [\"10.0.0.1\"]\nWhich ECS field holds this key?".into(),
        schema_name: "ecs_field".into(),
        schema: schema.clone(),
    };
    let start = Instant::now();
    let answer = llm.chat(&[request]).pop().expect("one answer");
    let answer = answer.unwrap_or_else(|e| panic!("the local model gave no valid answer: {e}"));
    // Which field the model picks is its business; that the answer fits the schema is ours.
    assert_eq!(validate(&schema, &answer), Ok(()));
    eprintln!(
        "local model answered {answer} in {:?} ({:?})",
        start.elapsed(),
        llm.stats()
    );
    assert_eq!(llm.stats().calls, 1);
}

/// `soc suggest --llm` against the real model on a few sources: the command answers, the
/// rule compiles, the model was asked, and every proposal kept passed validation (allowed
/// ECS values, offered fields, patterns that compile); rejected ones say why.
#[test]
fn soc_suggest_llm_with_the_local_model() {
    let Some(server) = LocalLlm::start() else {
        eprintln!(
            "skipped: SOC_LOCAL_LLM_SERVER and SOC_LOCAL_LLM_MODEL are not set (scripts/local-llm.sh)"
        );
        return;
    };
    let catalog = agentic_soc::model::catalog();
    let allowed = |field: &str, v: &str| {
        agentic_soc::model::allowed_values(field).is_some_and(|xs| xs.iter().any(|x| x == v))
    };
    let mut asked = 0;
    // Free text without endpoints: the engine asks for categorization and a regex too.
    let scratch = std::env::temp_dir().join(format!("soc-llm-suggest-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    std::fs::write(
        scratch.join("backup.log"),
        "Mar  1 10:00:00 box backupd[7]: backup job nightly started\n\
         Mar  1 10:20:00 box backupd[7]: backup job nightly finished in 1200 seconds\n\
         Mar  1 10:20:01 box backupd[7]: retention cleanup done\n",
    )
    .expect("write sample");
    for case in [
        "sonicwall_firewall_log.log",
        "system_auth.log",
        "citrix_waf_log.log",
        "backup.log",
    ] {
        let path = match case {
            "backup.log" => scratch.join(case),
            _ => Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/cases/infer")
                .join(case),
        };
        if !path.is_file() {
            continue;
        }
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_soc"))
            .args(["suggest", "--json", "--llm", "--llm-no-cache"])
            .args([
                "--llm-url",
                &server.base_url(),
                "--llm-model",
                server.model(),
            ])
            .args(["--reference-time", "2024-06-01T00:00:00Z"])
            .arg(&path)
            .env("SOC_LLM_TIMEOUT", "120")
            .output()
            .expect("run soc");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{case}: {err}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        agentic_soc::spl::compile(v["spl"].as_str().unwrap()).expect("the rule compiles");
        eprintln!("{case}: {} in {:?}", err.trim(), start.elapsed());
        let advice = v["advice"].as_array().cloned().unwrap_or_default();
        asked += advice.len();
        for a in &advice {
            let (kind, proposal) = (a["kind"].as_str().unwrap(), a["proposal"].as_str().unwrap());
            assert!(!a["reason"].as_str().unwrap().is_empty());
            if a["kept"] != true {
                continue;
            }
            match kind {
                "field" => assert!(
                    proposal == "none" || catalog.get(proposal).is_some(),
                    "{case}: kept a field outside the model: {a}"
                ),
                "pattern" => {
                    regex::Regex::new(proposal).expect("a kept pattern compiles");
                }
                "category" => {
                    let fields = v["fields"].as_array().unwrap();
                    assert!(!fields.is_empty());
                    for e in v["preview"].as_array().unwrap() {
                        for c in e["event.category"].as_array().into_iter().flatten() {
                            assert!(allowed("event.category", c.as_str().unwrap()), "{e}");
                        }
                        for t in e["event.type"].as_array().into_iter().flatten() {
                            assert!(allowed("event.type", t.as_str().unwrap()), "{e}");
                        }
                    }
                }
                other => panic!("unknown advice kind {other}"),
            }
        }
        assert!(err.contains("llm:"), "{err}");
    }
    std::fs::remove_dir_all(&scratch).ok();
    assert!(asked > 0, "the engine asked the model nothing");
}
