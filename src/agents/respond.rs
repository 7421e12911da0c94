//! Response: phased recommendations (contain, eradicate, recover, harden, whitelist, onboard)
//! mapped to declarative playbooks (`knowledge/response.toml`) with parameters filled from
//! the investigation; approval and execution. Nothing runs without an approval recorded in the
//! store with who and when; execution goes through a [`Backend`] (dry-run, webhook); every
//! approval, rejection, refusal, success and failure is recorded and audited.
//!
//! Depends on `investigate` (what to act on), `store` (actions, approvals, runs, audit log).

use super::detect::Alert;
use super::investigate::{Investigation, Verdict};
use super::tools::{is_public_ip, text};
use crate::store::{ActionRecord, Store, StoreError, lookup};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

#[derive(Deserialize)]
struct File {
    playbook: Vec<Playbook>,
    hardening: BTreeMap<String, String>,
    onboard: Vec<Onboard>,
}

/// A declarative playbook.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Playbook {
    pub id: String,
    pub phase: String,
    pub action: String,
    pub target: String,
    pub title: String,
    pub verdicts: Vec<Verdict>,
}

#[derive(Deserialize)]
struct Onboard {
    when: String,
    title: String,
}

static FILE: LazyLock<File> = LazyLock::new(|| {
    toml::from_str(include_str!("knowledge/response.toml"))
        .expect("response.toml is checked by a test")
});

/// The phases, in order.
pub const PHASES: [&str; 6] = [
    "contain",
    "eradicate",
    "recover",
    "harden",
    "whitelist",
    "onboard",
];

/// The playbooks.
pub fn playbooks() -> &'static [Playbook] {
    &FILE.playbook
}

/// One recommended action.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recommendation {
    /// Stable id (`ACT-` + hash of incident, playbook and parameters).
    pub id: String,
    pub phase: String,
    /// The playbook it runs; absent for advice (hardening, onboarding) with nothing to run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playbook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    pub title: String,
    pub params: Map<String, Json>,
    pub reason: String,
    /// `pending` (awaits approval), `advice`, or the stored status (approved, rejected, done, failed).
    pub status: String,
}

fn fill(template: &str, params: &Map<String, Json>) -> String {
    let mut s = template.to_string();
    for (k, v) in params {
        s = s.replace(&format!("{{{k}}}"), &text(v).unwrap_or_default());
    }
    s
}

fn action_id(incident: &str, playbook: &str, params: &Map<String, Json>) -> String {
    let mut h = xxhash_rust::xxh64::Xxh64::new(16);
    h.update(incident.as_bytes());
    h.update(playbook.as_bytes());
    h.update(Json::Object(params.clone()).to_string().as_bytes());
    format!("ACT-{:012x}", h.digest() & 0xffff_ffff_ffff)
}

fn targets(kind: &str, inv: &Investigation, alerts: &[&Alert]) -> Vec<(Map<String, Json>, String)> {
    let mut out: Vec<(Map<String, Json>, String)> = Vec::new();
    let mut push = |m: Json, why: String| {
        let m = m.as_object().cloned().unwrap_or_default();
        if !out.iter().any(|(o, _)| *o == m) {
            out.push((m, why));
        }
    };
    let get = |a: &Alert, f: &str| lookup(&a.event, f).and_then(text);
    match kind {
        "public_ip" => {
            for e in inv
                .malicious_entities
                .iter()
                .filter(|e| e.kind == "ip" && is_public_ip(&e.value))
            {
                push(
                    json!({"ip": e.value}),
                    format!(
                        "{} is the {} in {} alerts",
                        e.value,
                        e.roles.join("/"),
                        e.alerts
                    ),
                );
            }
        }
        "host" => {
            for e in inv.assets.iter().filter(|e| e.kind == "host") {
                push(
                    json!({"host": e.value}),
                    format!("{} alerts on {}", e.alerts, e.value),
                );
            }
        }
        "user" => {
            for e in inv.assets.iter().filter(|e| e.kind == "user") {
                push(
                    json!({"user": e.value}),
                    format!("{} acted in {} alerts", e.value, e.alerts),
                );
            }
        }
        "cloud_identity" => {
            for a in alerts {
                if let Some(p) = get(a, "aws.cloudtrail.user_identity.arn") {
                    let key = get(a, "aws.cloudtrail.user_identity.access_key_id");
                    let mut m = json!({"principal": p});
                    if let Some(k) = key {
                        m["access_key_id"] = k.into();
                    }
                    push(m, format!("{p} made the calls of \"{}\"", a.rule.title));
                }
            }
        }
        "process" => {
            for a in alerts {
                if let (Some(h), Some(id), Some(exe)) = (
                    get(a, "host.name"),
                    get(a, "process.entity_id").or(get(a, "process.pid")),
                    get(a, "process.executable"),
                ) {
                    push(
                        json!({"host": h.to_lowercase(), "entity_id": id, "executable": exe}),
                        format!("it raised \"{}\"", a.rule.title),
                    );
                }
            }
        }
        "file" => {
            for a in alerts {
                if let (Some(h), Some(p)) = (get(a, "host.name"), get(a, "file.path")) {
                    let mut m = json!({"host": h.to_lowercase(), "path": p});
                    if let Some(hash) = get(a, "file.hash.sha256") {
                        m["sha256"] = hash.into();
                    }
                    push(m, format!("written in \"{}\"", a.rule.title));
                }
            }
        }
        "exception" => {
            for a in alerts {
                let host = get(a, "host.name")
                    .or(get(a, "host.hostname"))
                    .unwrap_or_default()
                    .to_lowercase();
                let process = get(a, "process.executable")
                    .or(get(a, "event.action"))
                    .unwrap_or_default();
                let parent = get(a, "process.parent.executable").unwrap_or_default();
                push(
                    json!({"rule_id": a.rule.id, "rule": a.rule.title, "host": host, "process": process, "parent": parent}),
                    "the evidence points to a scheduled, recurring job".into(),
                );
            }
        }
        _ => {}
    }
    out
}

/// The phased recommendations for an investigation.
pub fn recommend(inv: &Investigation, all_alerts: &[Alert]) -> Vec<Recommendation> {
    let alerts: Vec<&Alert> = all_alerts
        .iter()
        .filter(|a| {
            inv.timeline
                .iter()
                .any(|t| t.alert.as_deref() == Some(&a.id))
        })
        .collect();
    let mut out = Vec::new();
    for pb in &FILE.playbook {
        if !pb.verdicts.contains(&inv.verdict) {
            continue;
        }
        for (params, why) in targets(&pb.target, inv, &alerts) {
            out.push(Recommendation {
                id: action_id(&inv.incident, &pb.id, &params),
                phase: pb.phase.clone(),
                playbook: Some(pb.id.clone()),
                action: Some(pb.action.clone()),
                title: fill(&pb.title, &params),
                params,
                reason: why,
                status: "pending".into(),
            });
        }
    }
    if inv.verdict == Verdict::ConfirmedAttack {
        for t in &inv.tactics {
            if let Some(h) = FILE.hardening.get(t) {
                let params = json!({"tactic": t})
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                out.push(Recommendation {
                    id: action_id(&inv.incident, "harden", &params),
                    phase: "harden".into(),
                    playbook: None,
                    action: None,
                    title: h.clone(),
                    params,
                    reason: format!("the incident reached the {t} tactic"),
                    status: "advice".into(),
                });
            }
        }
    }
    // Missing log sources.
    let has = |cat: &str| {
        alerts.iter().any(|a| {
            lookup(&a.event, "event.category")
                .map(|c| c.to_string().contains(cat))
                .unwrap_or(false)
        })
    };
    let web = alerts.iter().any(|a| a.logsource.contains("webserver"));
    let host = has("process") || has("file");
    let net = has("network")
        || alerts
            .iter()
            .any(|a| lookup(&a.event, "destination.ip").is_some());
    for o in &FILE.onboard {
        let applies = match o.when.as_str() {
            "web_without_host" => web && !host,
            "host_without_network" => host && !net,
            "network_without_host" => net && !host && !web,
            _ => false,
        };
        if applies {
            let params = json!({"need": o.when})
                .as_object()
                .cloned()
                .unwrap_or_default();
            out.push(Recommendation {
                id: action_id(&inv.incident, "onboard", &params),
                phase: "onboard".into(),
                playbook: None,
                action: None,
                title: o.title.clone(),
                params,
                reason: "the incident's evidence lacks this view".into(),
                status: "advice".into(),
            });
        }
    }
    out.sort_by_key(|r| {
        PHASES
            .iter()
            .position(|p| *p == r.phase)
            .unwrap_or(PHASES.len())
    });
    out
}

/// Records the recommendations as actions (pending unless already decided) and returns them
/// with their stored status.
pub fn record(store: &mut Store, inv: &mut Investigation) -> Result<(), StoreError> {
    for r in inv.recommendations.iter_mut() {
        if r.playbook.is_none() {
            continue;
        }
        store.put_action(
            &r.id,
            &inv.incident,
            &r.phase,
            r.playbook.as_deref().unwrap_or_default(),
            &Json::Object(r.params.clone()),
            &serde_json::to_value(&*r).unwrap_or(Json::Null),
        )?;
        if let Some(a) = store.action(&r.id)? {
            r.status = a.status;
        }
    }
    Ok(())
}

/// Why a response step was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error("no action {0} (run `soc respond INCIDENT` to list the incident's actions)")]
    UnknownAction(String),
    #[error(
        "action {id} has no approval (status {status}); approve it with --approve {id} --by NAME"
    )]
    NotApproved { id: String, status: String },
    #[error("action {0} already ran")]
    AlreadyDone(String),
    #[error("an approval needs the approver's name (--by NAME)")]
    NoApprover,
    #[error("action {id} failed on {backend}: {detail}")]
    Failed {
        id: String,
        backend: String,
        detail: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records an approval (`approved = true`) or rejection of an action, with who and why.
pub fn decide(
    store: &mut Store,
    id: &str,
    approved: bool,
    by: &str,
    reason: &str,
) -> Result<ActionRecord, RespondError> {
    if by.trim().is_empty() {
        return Err(RespondError::NoApprover);
    }
    let a = store
        .action(id)?
        .ok_or_else(|| RespondError::UnknownAction(id.into()))?;
    if a.status == "done" {
        return Err(RespondError::AlreadyDone(id.into()));
    }
    let decision = if approved { "approved" } else { "rejected" };
    store.decide_action(id, decision, by.trim(), reason)?;
    store.audit(
        by.trim(),
        &format!("action {decision}"),
        &json!({"action": id, "incident": a.incident_id, "playbook": a.playbook, "params": a.params, "reason": reason}),
    )?;
    Ok(store.action(id)?.unwrap_or(a))
}

/// Where approved actions run.
pub trait Backend {
    fn name(&self) -> String;
    /// Runs the action; `Ok` carries the backend's answer.
    fn run(&self, action: &ActionRecord, playbook: &str) -> Result<Json, String>;
}

/// Runs nothing: says what would be done.
pub struct DryRun;

impl Backend for DryRun {
    fn name(&self) -> String {
        "dry-run".into()
    }
    fn run(&self, a: &ActionRecord, playbook: &str) -> Result<Json, String> {
        Ok(json!({"dry_run": true, "would_run": playbook, "params": a.params}))
    }
}

/// Posts the action as JSON to a URL (a SOAR, a chat-ops bot, a script); a non-2xx answer
/// or no answer is a failure.
pub struct Webhook {
    pub url: String,
    pub timeout: Duration,
}

impl Backend for Webhook {
    fn name(&self) -> String {
        format!("webhook {}", self.url)
    }
    fn run(&self, a: &ActionRecord, playbook: &str) -> Result<Json, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("could not start the async runtime: {e}"))?;
        let body = json!({"action": a.id, "incident": a.incident_id, "playbook": a.playbook,
                          "operation": playbook, "phase": a.phase, "params": a.params});
        rt.block_on(async {
            let client = reqwest::Client::builder()
                .timeout(self.timeout)
                .no_proxy()
                .build()
                .map_err(|e| format!("could not build the HTTP client: {e}"))?;
            let resp = client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| format!("no answer: {e}"))?;
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            if status.is_success() {
                Ok(json!({"status": status.as_u16(), "body": text}))
            } else {
                Err(format!(
                    "HTTP {status}: {}",
                    text.chars().take(300).collect::<String>()
                ))
            }
        })
    }
}

/// Runs an approved action through a backend, recording the outcome. An action without an
/// approval is refused, and the refusal is recorded.
pub fn execute(
    store: &mut Store,
    id: &str,
    backend: &dyn Backend,
    actor: &str,
) -> Result<Json, RespondError> {
    let a = store
        .action(id)?
        .ok_or_else(|| RespondError::UnknownAction(id.into()))?;
    let approved = store
        .approvals(id)?
        .last()
        .is_some_and(|d| d.decision == "approved");
    if a.status == "done" {
        return Err(RespondError::AlreadyDone(id.into()));
    }
    if !approved || !(a.status == "approved" || a.status == "failed") {
        let detail = json!({"reason": "no approval", "status": a.status});
        store.record_run(id, &backend.name(), "refused", &detail)?;
        store.audit(
            actor,
            "action refused",
            &json!({"action": id, "status": a.status}),
        )?;
        return Err(RespondError::NotApproved {
            id: id.into(),
            status: a.status,
        });
    }
    let op = FILE
        .playbook
        .iter()
        .find(|p| p.id == a.playbook)
        .map(|p| p.action.clone())
        .unwrap_or_else(|| a.playbook.clone());
    match backend.run(&a, &op) {
        Ok(answer) => {
            store.record_run(id, &backend.name(), "done", &answer)?;
            store.audit(
                actor,
                "action done",
                &json!({"action": id, "backend": backend.name(), "answer": answer}),
            )?;
            Ok(answer)
        }
        Err(detail) => {
            store.record_run(id, &backend.name(), "failed", &json!({"error": detail}))?;
            store.audit(
                actor,
                "action failed",
                &json!({"action": id, "backend": backend.name(), "error": detail}),
            )?;
            Err(RespondError::Failed {
                id: id.into(),
                backend: backend.name(),
                detail,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_playbooks_parse_and_cover_the_documented_actions() {
        let ids: Vec<&str> = playbooks().iter().map(|p| p.id.as_str()).collect();
        for want in [
            "block-ip",
            "isolate-host",
            "kill-process",
            "quarantine-file",
            "disable-user",
            "revoke-keys",
        ] {
            assert!(ids.contains(&want), "{want}");
        }
        for p in playbooks() {
            assert!(PHASES.contains(&p.phase.as_str()), "{}", p.phase);
        }
        for t in FILE.hardening.keys() {
            assert!(crate::agents::attack::tactic_rank(t).is_some(), "{t}");
        }
    }

    fn store_with_action() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        s.put_action(
            "ACT-1",
            "INC-1",
            "contain",
            "block-ip",
            &json!({"ip": "203.0.113.9"}),
            &json!({}),
        )
        .unwrap();
        (dir, s)
    }

    #[test]
    fn nothing_runs_without_an_approval_and_the_refusal_is_recorded() {
        let (_d, mut s) = store_with_action();
        let e = execute(&mut s, "ACT-1", &DryRun, "cli").unwrap_err();
        assert!(matches!(e, RespondError::NotApproved { .. }), "{e}");
        assert_eq!(s.runs("ACT-1").unwrap()[0].outcome, "refused");
        // A rejection does not allow it either.
        decide(&mut s, "ACT-1", false, "bob", "false positive").unwrap();
        assert!(execute(&mut s, "ACT-1", &DryRun, "cli").is_err());
        assert!(matches!(
            decide(&mut s, "ACT-1", true, " ", ""),
            Err(RespondError::NoApprover)
        ));
        decide(&mut s, "ACT-1", true, "alice", "").unwrap();
        let out = execute(&mut s, "ACT-1", &DryRun, "cli").unwrap();
        assert_eq!(out["would_run"], "network.block_ip");
        assert_eq!(s.action("ACT-1").unwrap().unwrap().status, "done");
        let log: Vec<String> = s
            .audit_log()
            .unwrap()
            .into_iter()
            .map(|(_, who, what, _)| format!("{who}: {what}"))
            .collect();
        assert_eq!(
            log,
            vec![
                "cli: action refused",
                "bob: action rejected",
                "cli: action refused",
                "alice: action approved",
                "cli: action done"
            ]
        );
        assert!(matches!(
            execute(&mut s, "ACT-1", &DryRun, "cli"),
            Err(RespondError::AlreadyDone(_))
        ));
    }

    /// A one-shot HTTP server on the loopback: answers `status` and hands back the request.
    fn listener(status: u16) -> (String, std::thread::JoinHandle<String>) {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = c.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let s = String::from_utf8_lossy(&buf);
                if let Some(end) = s.find("\r\n\r\n") {
                    let len: usize = s[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let body = "{\"ok\":true}";
            write!(
                c,
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            String::from_utf8_lossy(&buf).into_owned()
        });
        (url, h)
    }

    #[test]
    fn the_webhook_posts_the_action_and_a_failure_is_recorded() {
        let (_d, mut s) = store_with_action();
        decide(&mut s, "ACT-1", true, "alice", "").unwrap();
        let (url, h) = listener(500);
        let hook = Webhook {
            url,
            timeout: Duration::from_secs(5),
        };
        let e = execute(&mut s, "ACT-1", &hook, "cli").unwrap_err();
        assert!(e.to_string().contains("HTTP 500"), "{e}");
        assert!(
            h.join()
                .unwrap()
                .contains("\"operation\":\"network.block_ip\"")
        );
        assert_eq!(s.action("ACT-1").unwrap().unwrap().status, "failed");
        // A failed action may be retried under the same approval.
        let (url, h) = listener(200);
        let hook = Webhook {
            url,
            timeout: Duration::from_secs(5),
        };
        let ok = execute(&mut s, "ACT-1", &hook, "cli").unwrap();
        assert_eq!(ok["status"], 200);
        assert!(h.join().unwrap().contains("203.0.113.9"));
        let runs: Vec<String> = s
            .runs("ACT-1")
            .unwrap()
            .into_iter()
            .map(|r| r.outcome)
            .collect();
        assert_eq!(runs, vec!["failed", "done"]);
    }
}
