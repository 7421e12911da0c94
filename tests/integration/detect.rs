//! Sigma detection: every shared rule loads, the SigmaHQ regression cases fire as recorded,
//! and per-family events written for this repository fire or stay quiet.

use agentic_soc::agents::detect::Detector;
use agentic_soc::agents::{ingest, winlog};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

fn sigma_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sigma")
}

#[test]
fn all_shared_sigma_rules_load() {
    let mut d = Detector::default();
    d.load_dirs(&[sigma_dir().join("rules")]).unwrap();
    let skipped: Vec<String> = d
        .skipped()
        .iter()
        .map(|s| format!("{}: {}", s.path.rsplit('/').next().unwrap_or(""), s.reason))
        .collect();
    assert_eq!(d.rules().len() + d.skipped().len(), 313);
    assert!(
        skipped.is_empty(),
        "{} rules not loaded:\n{}",
        skipped.len(),
        skipped.join("\n")
    );
    // Every alert must be able to credit the author (DRL 1.1).
    assert!(
        d.rules()
            .iter()
            .all(|r| !r.meta.author.is_empty() && !r.meta.title.is_empty())
    );
}

/// The outcome of one regression case.
struct Case {
    name: String,
    expected: usize,
    got: Option<usize>,
    note: String,
}

fn run_case(dir: &Path) -> Case {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let info: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(dir.join("info.yml")).unwrap()).unwrap();
    let expected = info["regression_tests_info"][0]["match_count"]
        .as_u64()
        .unwrap_or(1) as usize;
    let mut d = Detector::default();
    let rule = std::fs::read_to_string(dir.join("rule.yml")).unwrap();
    if !d.add_rule(&rule, "rule.yml") {
        return Case {
            name,
            expected,
            got: None,
            note: d.skipped()[0].reason.clone(),
        };
    }
    // The raw `.evtx` file goes through the ingest path (native decoding, then the Windows
    // normalization); its `.json` rendering must normalize to the same events.
    let mut from_evtx = Vec::new();
    let mut from_json = Vec::new();
    let mut raw = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    for p in files {
        match p.extension().and_then(|e| e.to_str()) {
            Some("evtx") => {
                let (evs, report) = ingest::normalize_file(&p, &[]).unwrap();
                assert_eq!(report.normalization, "windows-evtx", "{}", p.display());
                assert_eq!(report.failed, 0, "{}", p.display());
                from_evtx.extend(evs);
            }
            Some("json") => {
                let (records, errors) = winlog::read_records(&std::fs::read_to_string(&p).unwrap());
                assert!(errors.is_empty(), "{}: {errors:?}", p.display());
                from_json.extend(records.iter().filter_map(winlog::normalize));
            }
            Some("raw") => {
                let (evs, report) =
                    ingest::normalize_file(&p, &ingest::Package::library()).unwrap();
                assert_eq!(report.failed, 0, "{}: {report:?}", p.display());
                raw.extend(evs);
            }
            _ => {}
        }
    }
    if !from_evtx.is_empty() {
        let (a, b) = (canonical(&from_evtx), canonical(&from_json));
        assert_eq!(a.len(), b.len(), "{name}: record counts differ");
        for (x, y) in a.iter().zip(&b) {
            let diff: Vec<String> = x
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, v)| y.get(k.as_str()) != Some(v))
                .map(|(k, v)| format!("{k}: {v} vs {:?}", y.get(k.as_str())))
                .collect();
            assert!(
                diff.is_empty() && x.as_object().unwrap().len() == y.as_object().unwrap().len(),
                "{name}: the .evtx decodes to other events than its .json rendering: {diff:?}"
            );
        }
    }
    let mut events = if from_evtx.is_empty() {
        from_json
    } else {
        from_evtx
    };
    events.extend(raw);
    let got = events
        .iter()
        .enumerate()
        .map(|(i, e)| d.detect(e, i as u64).len())
        .sum();
    Case {
        name,
        expected,
        got: Some(got),
        note: String::new(),
    }
}

/// Events with the two rendering differences between the EVTX decoder and the upstream JSON
/// renderer evened out: GUIDs (`{5aa13a44-…}` against `5AA13A44-…`) and the timestamp's
/// precision (100 ns against 1 µs); the renderer also trims trailing spaces the record has,
/// and some renderings differ in letter case (`Explorer.EXE`), so text is compared caseless.
fn canonical(events: &[serde_json::Map<String, Json>]) -> Vec<Json> {
    let guid = regex::Regex::new(r"^\{?([0-9A-Fa-f]{8}-[0-9A-Fa-f-]{27})\}?$").unwrap();
    let time = regex::Regex::new(r"^(.*\.\d{6})\d*Z$").unwrap();
    events
        .iter()
        .map(|e| {
            let fixed = e.iter().map(|(k, v)| {
                let v = match v.as_str() {
                    Some(t) if guid.is_match(t) => {
                        Json::String(guid.replace(t, "$1").to_uppercase())
                    }
                    Some(t) if time.is_match(t) => Json::String(time.replace(t, "${1}Z").into()),
                    Some(t) => Json::String(t.trim_end().to_lowercase()),
                    _ => v.clone(),
                };
                (k.clone(), v)
            });
            Json::Object(fixed.collect())
        })
        .collect()
}

/// The SigmaHQ regression cases: each recorded event, read from its raw `.evtx` file (or raw
/// text) and normalized, must make its rule fire exactly `match_count` times.
#[test]
fn sigma_regression_conformance() {
    let root = sigma_dir().join("regression");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let cases: Vec<Case> = dirs.iter().map(|d| run_case(d)).collect();
    let agrees = |c: &Case| {
        c.got == Some(c.expected)
            || KNOWN_DIFFERENCES
                .iter()
                .any(|(n, ours, _)| *n == c.name && c.got == Some(*ours))
    };
    let passed = cases.iter().filter(|c| c.got == Some(c.expected)).count();
    let failures: Vec<String> = cases
        .iter()
        .filter(|c| !agrees(c))
        .map(|c| {
            format!(
                "{}: expected {}, got {:?} {}",
                c.name, c.expected, c.got, c.note
            )
        })
        .collect();
    eprintln!(
        "sigma regression: {passed}/{} cases pass\n{}",
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(cases.len(), 187);
    assert!(
        passed >= FLOOR,
        "{passed}/{} pass (floor {FLOOR})",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "cases that disagree beyond the known differences:\n{}",
        failures.join("\n")
    );
}

/// Committed floor for the exact-count pass rate: raise it when the engine gets better.
const FLOOR: usize = 181;

/// Cases where our count differs from upstream's `match_count`, with the reason. In the six
/// multi-record cases the recorded file (the `.evtx` holds the same number of records as the
/// `.json`) has several events that each satisfy the rule's selection, and a Sigma rule fires
/// once per matching event; upstream's count of 1 counts the file, not the matches.
const KNOWN_DIFFERENCES: &[(&str, usize, &str)] = &[
    (
        "file_event_win_anydesk_artefact",
        3,
        "3 of 5 recorded file events write user.conf*",
    ),
    (
        "file_event_win_cred_dump_tools_dropped_files",
        3,
        "3 of 6 recorded file events match",
    ),
    (
        "proc_creation_win_dtrace_kernel_dump",
        2,
        "both recorded dtrace commands contain lkd(0)",
    ),
    (
        "proc_creation_win_github_self_hosted_runner",
        2,
        "both recorded processes match",
    ),
    (
        "registry_set_change_security_zones",
        3,
        "all 3 recorded registry writes match",
    ),
    (
        "registry_set_disable_administrative_share",
        2,
        "AutoShareServer and AutoShareWks both set to 0",
    ),
];

/// Per-family events written for this repository: for each, the exact set of rule titles
/// (of all shared rules) that must fire; an empty set means it must not fire at all.
/// `SOC_UPDATE_CASES=1` prints the current results instead of failing.
#[test]
fn family_events_fire_exactly_the_expected_rules() {
    let mut d = Detector::default();
    d.load_dirs(&[sigma_dir().join("rules")]).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/detect/families.ndjson");
    let mut bad = Vec::new();
    let mut fired_any = 0;
    for (n, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
        let case: Json = serde_json::from_str(line).unwrap();
        let mut expect: Vec<String> = case["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        expect.sort();
        let mut got: Vec<String> = d
            .detect(case["event"].as_object().unwrap(), n as u64)
            .into_iter()
            .map(|a| a.rule.title)
            .collect();
        got.sort();
        fired_any += usize::from(!got.is_empty());
        if got != expect {
            bad.push(format!(
                "{}: expected {expect:?}, got {got:?}",
                case["case"]
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(fired_any >= 10, "the must-fire cases must keep firing");
}

/// The literal prefilter only skips rules that cannot match: on every recorded and family
/// event, and on variants of them (each text field cut in half, upper-cased, or with a
/// command-line fragment of another event pasted in), the rules found with the prefilter are
/// exactly those found by evaluating every rule.
#[test]
fn the_prefilter_skips_only_rules_that_cannot_match() {
    let mut d = Detector::default();
    d.load_dirs(&[sigma_dir().join("rules")]).unwrap();
    assert!(
        d.prefiltered_rules() * 2 > d.rules().len(),
        "most rules have a literal prefilter ({} of {})",
        d.prefiltered_rules(),
        d.rules().len()
    );
    let mut events: Vec<serde_json::Map<String, Json>> = Vec::new();
    let root = sigma_dir().join("regression");
    for case in std::fs::read_dir(&root).unwrap() {
        for f in std::fs::read_dir(case.unwrap().path())
            .into_iter()
            .flatten()
        {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "json") {
                let (records, _) = winlog::read_records(&std::fs::read_to_string(&p).unwrap());
                events.extend(records.iter().filter_map(winlog::normalize));
            }
        }
    }
    let families = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/detect/families.ndjson");
    for line in std::fs::read_to_string(families).unwrap().lines() {
        let case: Json = serde_json::from_str(line).unwrap();
        events.push(case["event"].as_object().unwrap().clone());
    }
    let pasted: Vec<String> = events
        .iter()
        .filter_map(|e| e.get("process.command_line")?.as_str().map(str::to_string))
        .collect();
    let mut variants = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let mut half = e.clone();
        let mut upper = e.clone();
        let mut mixed = e.clone();
        for (k, v) in e {
            if let Some(t) = v.as_str() {
                let cut: String = t.chars().take(t.chars().count() / 2).collect();
                half.insert(k.clone(), Json::String(cut));
                upper.insert(k.clone(), Json::String(t.to_uppercase()));
                if k == "process.command_line" && !pasted.is_empty() {
                    let other = &pasted[(i * 7 + 3) % pasted.len()];
                    mixed.insert(k.clone(), Json::String(format!("{t} {other}")));
                }
            }
        }
        variants.extend([half, upper, mixed]);
    }
    events.extend(variants);
    let mut fired = 0;
    for e in &events {
        let p = d.prepare(e);
        let fast = d.matching_rules(&p);
        assert_eq!(fast, d.matching_rules_unfiltered(&p), "{e:?}");
        fired += fast.len();
    }
    assert!(fired > 60, "the events must exercise matches ({fired})");
}

/// The SigmaHQ release shipped as the default rule set (`datasets/sigma/sigmahq`): every rule
/// loads except those whose logsource has no field mapping yet (cloud and application
/// products), and every Windows event-log rule but a handful (logsources with no channel in
/// Sigma's taxonomy) loads.
#[test]
fn the_sigmahq_release_loads() {
    let mut d = Detector::default();
    d.load_dirs(&[sigma_dir().join("sigmahq")]).unwrap();
    let total = d.rules().len() + d.skipped().len();
    assert!(total > 3500, "{total} rules in the release");
    assert!(d.rules().len() >= 3320, "{} loaded", d.rules().len());
    let other: Vec<String> = d
        .skipped()
        .iter()
        .filter(|s| !s.reason.starts_with("no field mapping for logsource"))
        .map(|s| format!("{}: {}", s.path, s.reason))
        .collect();
    assert!(other.is_empty(), "{}", other.join("\n"));
    let windows = d
        .skipped()
        .iter()
        .filter(|s| s.reason.contains("logsource windows"))
        .count();
    assert!(windows <= 15, "{windows} Windows rules skipped");
}

/// Identity and cloud rules of the SigmaHQ release fire on events as the product library's
/// packages normalize them (Okta System Log, Kubernetes audit, Azure activity log).
#[test]
fn cloud_and_identity_rules_fire_on_library_events() {
    let mut d = Detector::default();
    d.load_dirs(&[sigma_dir().join("sigmahq/rules")]).unwrap();
    let cases = [
        (
            serde_json::json!({"observer.vendor": "Okta", "event.action": "user.session.start",
                "okta.security_context.is_proxy": true, "user.name": "ann@example.com"}),
            "Okta User Session Start Via An Anonymising Proxy Service",
        ),
        (
            serde_json::json!({"observer.vendor": "Kubernetes", "event.action": "create",
                "orchestrator.resource.type": "pods", "http.response.status_code": 403,
                "user.name": "system:anonymous"}),
            "Kubernetes Unauthorized or Unauthenticated Access",
        ),
        (
            serde_json::json!({"cloud.provider": "azure", "azure.activity_logs.category": "Administrative",
                "event.action": "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/DELETE"}),
            "Azure Network Security Configuration Modified or Deleted",
        ),
    ];
    for (event, title) in cases {
        let titles: Vec<String> = d
            .detect(event.as_object().unwrap(), 0)
            .into_iter()
            .map(|a| a.rule.title)
            .collect();
        assert!(
            titles.iter().any(|t| t == title),
            "{title} not in {titles:?}"
        );
    }
    // The same Okta event without the proxy flag raises nothing of the kind.
    let quiet = serde_json::json!({"observer.vendor": "Okta", "event.action": "user.session.start",
        "okta.security_context.is_proxy": false});
    assert!(
        d.detect(quiet.as_object().unwrap(), 0)
            .iter()
            .all(|a| !a.rule.title.contains("Anonymising Proxy"))
    );
}
