//! The advised suggestion loop (`infer::suggest_with`): an advisor's proposals for fields,
//! categorization and unsplit text are applied only when validation keeps them, and every
//! proposal is reported as kept or rejected with a reason. A scripted model stands in for the
//! LLM; `soc suggest --llm` against an unreachable server falls back to the engine's answer.

use agentic_soc::infer::advice::{Advisor, Answers, CategoryAnswer, Unsure};
use agentic_soc::infer::{NoAdvisor, SuggestOptions, Suggestion, suggest, suggest_with};
use agentic_soc::llm::{ChatRequest, LlmAdvisor, Scripted};
use agentic_soc::spl;
use serde_json::json;
use std::process::Command;

fn options() -> SuggestOptions {
    SuggestOptions {
        reference_time: Some("2024-06-01T00:00:00Z".into()),
        ..SuggestOptions::default()
    }
}

fn lines(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// An advisor answering from closures over the questions.
struct Fixed<F: Fn(&Unsure) -> Answers>(F);

impl<F: Fn(&Unsure) -> Answers> Advisor for Fixed<F> {
    fn advise(&self, q: &Unsure) -> Answers {
        (self.0)(q)
    }
}

fn kv_samples() -> Vec<String> {
    lines(&[
        "src=192.0.2.1 dst=198.51.100.1 fw_action=forward gcat=6",
        "src=192.0.2.2 dst=198.51.100.2 fw_action=drop gcat=6",
    ])
}

#[test]
fn without_an_advisor_nothing_changes() {
    let a = suggest(&kv_samples(), &options()).unwrap();
    let b = suggest_with(&kv_samples(), &options(), &NoAdvisor).unwrap();
    assert_eq!(a.spl, b.spl);
    assert!(b.advice.is_empty());
}

#[test]
fn engine_asks_about_vendor_fields_with_plausible_candidates() {
    let s = suggest(&kv_samples(), &options()).unwrap();
    let q: Vec<_> = s.unsure.fields.iter().map(|f| f.source.as_str()).collect();
    assert!(q.contains(&"fw_action"), "{q:?}");
    // Nothing in the model shares a word with `gcat`: no question.
    assert!(!q.contains(&"gcat"), "{q:?}");
    let f = s
        .unsure
        .fields
        .iter()
        .find(|f| f.source == "fw_action")
        .unwrap();
    assert!(f.candidates.contains(&"event.action".to_string()));
}

#[test]
fn field_proposal_is_validated_and_kept() {
    let advisor = Fixed(|q: &Unsure| Answers {
        fields: q
            .fields
            .iter()
            .map(|f| {
                Ok(if f.source == "fw_action" {
                    "event.action".into()
                } else {
                    "none".into()
                })
            })
            .collect(),
        ..Answers::default()
    });
    let s = suggest_with(&kv_samples(), &options(), &advisor).unwrap();
    spl::compile(&s.spl).unwrap();
    assert_eq!(s.preview[0]["event.action"], "forward");
    let r = s.advice.iter().find(|a| a.subject == "fw_action").unwrap();
    assert!(r.kept, "{r:?}");
    let f = s.fields.iter().find(|f| f.source == "fw_action").unwrap();
    assert_eq!(f.target, "event.action");
    assert!(f.reason.starts_with("LLM proposal"), "{}", f.reason);
}

#[test]
fn off_list_and_taken_targets_are_rejected() {
    let advisor = Fixed(|q: &Unsure| Answers {
        fields: q
            .fields
            .iter()
            .map(|_| Ok("source.ip".to_string()))
            .collect(),
        ..Answers::default()
    });
    let base = suggest(&kv_samples(), &options()).unwrap();
    let s = suggest_with(&kv_samples(), &options(), &advisor).unwrap();
    assert_eq!(s.spl, base.spl);
    assert!(s.advice.iter().all(|a| !a.kept), "{:?}", s.advice);
}

#[test]
fn advisor_failures_fall_back_to_the_engine() {
    let advisor = Fixed(|q: &Unsure| Answers {
        fields: q
            .fields
            .iter()
            .map(|_| Err("timeout".to_string()))
            .collect(),
        categories: q
            .categories
            .iter()
            .map(|_| Err("timeout".to_string()))
            .collect(),
        patterns: q
            .patterns
            .iter()
            .map(|_| Err("timeout".to_string()))
            .collect(),
    });
    let base = suggest(&kv_samples(), &options()).unwrap();
    let s = suggest_with(&kv_samples(), &options(), &advisor).unwrap();
    assert_eq!(s.spl, base.spl);
    assert!(!s.advice.is_empty());
    assert!(
        s.advice
            .iter()
            .all(|a| !a.kept && a.reason.contains("timeout"))
    );
}

#[test]
fn categorization_answer_needs_allowed_values() {
    let samples = lines(&[
        r#"{"ts":"2024-01-01T00:00:00Z","op":"backup","objects":12}"#,
        r#"{"ts":"2024-01-01T00:01:00Z","op":"restore","objects":3}"#,
    ]);
    let base = suggest(&samples, &options()).unwrap();
    assert_eq!(base.unsure.categories.len(), 1);
    let good = Fixed(|q: &Unsure| Answers {
        categories: q
            .categories
            .iter()
            .map(|_| {
                Ok(CategoryAnswer {
                    category: vec!["database".into()],
                    ty: vec!["change".into(), "denied".into()],
                    outcome: Some("success".into()),
                    action: Some("Backup Job".into()),
                })
            })
            .collect(),
        ..Answers::default()
    });
    let s = suggest_with(&samples, &options(), &good).unwrap();
    assert_eq!(s.preview[0]["event.category"], json!(["database"]));
    // `denied` does not suit `database`: dropped, `change` kept.
    assert_eq!(s.preview[0]["event.type"], json!(["change"]));
    assert_eq!(s.preview[0]["event.outcome"], "success");
    assert_eq!(s.preview[0]["event.action"], "backup-job");
    let bad = Fixed(|q: &Unsure| Answers {
        categories: q
            .categories
            .iter()
            .map(|_| {
                Ok(CategoryAnswer {
                    category: vec!["backups".into()],
                    ty: vec!["info".into()],
                    ..CategoryAnswer::default()
                })
            })
            .collect(),
        ..Answers::default()
    });
    let s = suggest_with(&samples, &options(), &bad).unwrap();
    assert_eq!(s.spl, base.spl);
    assert!(
        s.advice[0].reason.contains("not an allowed"),
        "{:?}",
        s.advice
    );
}

fn unsplit() -> Vec<String> {
    lines(&[
        "Mar  1 10:00:00 box app[1]: heartbeat ok",
        "Mar  1 10:00:05 box app[1]: heartbeat ok",
        "Mar  1 10:00:09 box app[1]: backup of /srv/data by alice finished",
    ])
}

fn with_pattern(p: &'static str) -> Suggestion {
    let advisor = Fixed(move |q: &Unsure| Answers {
        patterns: q.patterns.iter().map(|_| Ok(p.to_string())).collect(),
        ..Answers::default()
    });
    suggest_with(&unsplit(), &options(), &advisor).unwrap()
}

#[test]
fn regex_proposal_is_kept_only_when_it_matches_every_line() {
    let base = suggest(&unsplit(), &options()).unwrap();
    assert_eq!(base.unsure.patterns.len(), 1, "{:?}", base.unsure);
    let lines_asked = base.unsure.patterns[0].lines.clone();
    assert!(!lines_asked.is_empty());
    eprintln!("asked: {lines_asked:?}");
    let good = with_pattern(
        r"^(?:heartbeat (?P<service_state>\w+)|backup of (?P<file_path>\S+) by (?P<user_name>\w+) finished)$",
    );
    let rec = good.advice.iter().find(|a| a.kind == "pattern").unwrap();
    assert!(rec.kept, "{rec:?}");
    spl::compile(&good.spl).unwrap();
    assert!(
        good.preview
            .iter()
            .any(|e| e.as_object().unwrap().values().any(|v| v == "ok")),
        "{:?}",
        good.preview
    );
    let partial = with_pattern(r"^heartbeat (?P<service_state>failed)$");
    let rec = partial.advice.iter().find(|a| a.kind == "pattern").unwrap();
    assert!(
        !rec.kept && rec.reason.contains("does not match"),
        "{rec:?}"
    );
    // An unnamed group only groups: it is made non-capturing and the pattern kept.
    let unnamed = with_pattern(r"^(heartbeat) (?P<service_state>\w+)$");
    let rec = unnamed.advice.iter().find(|a| a.kind == "pattern").unwrap();
    assert!(rec.kept, "{rec:?}");
    assert_eq!(rec.proposal, r"^(?:heartbeat) (?P<service_state>\w+)$");
    let nameless = with_pattern(r"^heartbeat \w+$");
    let rec = nameless
        .advice
        .iter()
        .find(|a| a.kind == "pattern")
        .unwrap();
    assert!(
        !rec.kept && rec.reason.contains("no named group"),
        "{rec:?}"
    );
    assert_eq!(partial.spl, base.spl);
}

#[test]
fn llm_advisor_over_a_scripted_model() {
    let llm = Scripted::new("scripted", |r: &ChatRequest| {
        // Log content reaches the model only inside the fence.
        assert!(r.user.contains("<<<LOG") && r.user.contains("LOG>>>"));
        Ok(match r.schema_name.as_str() {
            "ecs_field" => {
                if r.user.contains("fw_action") {
                    json!({"field": "event.action"})
                } else {
                    json!({"field": "none"})
                }
            }
            "ecs_categorization" => {
                json!({"category": ["network"], "type": ["connection"], "outcome": "unknown", "action": ""})
            }
            _ => json!({"regex": "^x$"}),
        })
    });
    let s = suggest_with(&kv_samples(), &options(), &LlmAdvisor::new(&llm)).unwrap();
    assert_eq!(s.preview[1]["event.action"], "drop");
    assert!(agentic_soc::llm::Llm::stats(&llm).calls >= 1);
}

#[test]
fn cli_llm_without_a_server_still_answers() {
    // A port nothing listens on: every question fails, the engine's rule is returned.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("soc-advice-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("fw.log");
    std::fs::write(&input, kv_samples().join("\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_soc"))
        .args([
            "suggest",
            "--json",
            "--llm",
            "--llm-model",
            "m",
            "--llm-no-cache",
        ])
        .arg("--llm-url")
        .arg(format!("http://127.0.0.1:{port}/v1"))
        .arg(&input)
        .env("SOC_LLM_RETRIES", "0")
        .env_remove("SOC_LLM_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    spl::compile(v["spl"].as_str().unwrap()).unwrap();
    let advice = v["advice"].as_array().unwrap();
    assert!(!advice.is_empty());
    assert!(advice.iter().all(|a| a["kept"] == false));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("llm:") && err.contains("failed"), "{err}");
    // No configuration at all: a clear error.
    let out = Command::new(env!("CARGO_BIN_EXE_soc"))
        .args(["suggest", "--llm"])
        .arg(&input)
        .env_remove("SOC_LLM_URL")
        .env_remove("SOC_LLM_MODEL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SOC_LLM_URL"));
    std::fs::remove_dir_all(&dir).ok();
}
