//! The whole chain behind `soc analyze`: inputs → normalization → store (optional) →
//! Sigma detection + web-traffic traceback → correlation into incidents.
//!
//! Owns the order of the steps and the accounting (events per input, rules loaded and
//! skipped, alerts, incidents); each step is its own module.

use super::correlate::{self, Correlation};
use super::detect::{Alert, Detector, Skipped, traceback};
use super::ingest::{self, IngestError, InputReport, Package};
use crate::store::{AlertRow, IncidentRow, Store, StoreError};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::path::PathBuf;

/// Why the chain stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts of a run, as `--json` prints them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub inputs: Vec<InputReport>,
    pub events: usize,
    pub failed: usize,
    pub rules_loaded: usize,
    pub rules_skipped: usize,
    pub alerts: usize,
    pub traceback_alerts: usize,
    pub incidents: usize,
    pub dismissed: usize,
}

/// The result of a run.
pub struct Analysis {
    pub summary: Summary,
    pub alerts: Vec<Alert>,
    pub correlation: Correlation,
    pub skipped_rules: Vec<Skipped>,
    /// The normalized events, for the agents that investigate the incidents.
    pub events: Vec<Map<String, Json>>,
}

/// Runs the detection over events (Sigma rules, then the traceback over the same events).
pub fn detect_events(detector: &Detector, events: &[Map<String, Json>]) -> Vec<Alert> {
    detect_events_observed(detector, events, &Silent)
}

/// What a long run reports as it goes (a progress bar on a terminal): each step starts with
/// its name and the number of units it will go through, then advances.
pub trait Observer {
    /// A step starts: `ingest` (files), `detect` (events), `correlate` (alerts).
    fn step(&self, _name: &str, _total: u64) {}
    /// `n` more units of the current step are done.
    fn advance(&self, _n: u64) {}
}

/// Reports nothing.
pub struct Silent;

impl Observer for Silent {}

/// Events between two progress reports during detection.
const DETECT_CHUNK: usize = 2048;

/// [`detect_events`], reporting progress to `observer`.
pub fn detect_events_observed(
    detector: &Detector,
    events: &[Map<String, Json>],
    observer: &dyn Observer,
) -> Vec<Alert> {
    observer.step("detect", events.len() as u64);
    let mut alerts: Vec<Alert> = Vec::new();
    for (c, chunk) in events.chunks(DETECT_CHUNK).enumerate() {
        for (j, e) in chunk.iter().enumerate() {
            alerts.extend(detector.detect(e, (c * DETECT_CHUNK + j) as u64));
        }
        observer.advance(chunk.len() as u64);
    }
    let tb = traceback::traceback(&alerts, events);
    alerts.extend(tb);
    alerts.extend(super::behaviour::scans(events));
    alerts.extend(super::behaviour::brute_force(events));
    alerts
}

/// Stores alerts and the incidents they form.
/// `action` names the step in the audit log.
pub fn store_results(
    store: &mut Store,
    alerts: &[Alert],
    correlation: &Correlation,
    action: &str,
) -> Result<(), StoreError> {
    let docs: Vec<Json> = alerts
        .iter()
        .map(|a| serde_json::to_value(a).unwrap_or(Json::Null))
        .collect();
    let rows: Vec<AlertRow<'_>> = alerts
        .iter()
        .zip(&docs)
        .map(|(a, d)| AlertRow {
            id: &a.id,
            ts_ms: a.time_ms(),
            rule_id: &a.rule.id,
            rule_title: &a.rule.title,
            level: &a.rule.level,
            event_id: None,
            doc: d,
        })
        .collect();
    store.insert_alerts(&rows)?;
    let mut seen = Vec::new();
    for a in alerts {
        for e in correlate::entities(a) {
            seen.push((e.kind, e.value, a.time_ms()));
        }
    }
    let seen_ref: Vec<(&str, &str, Option<i64>)> = seen
        .iter()
        .map(|(k, v, t)| (k.as_str(), v.as_str(), *t))
        .collect();
    store.touch_entities(&seen_ref)?;
    let inc_docs: Vec<Json> = correlation
        .incidents
        .iter()
        .map(|i| serde_json::to_value(i).unwrap_or(Json::Null))
        .collect();
    let rows: Vec<IncidentRow<'_>> = correlation
        .incidents
        .iter()
        .zip(&inc_docs)
        .map(|(i, d)| IncidentRow {
            id: &i.id,
            first_ts_ms: i.first.as_deref().and_then(crate::store::parse_time_ms),
            last_ts_ms: i.last.as_deref().and_then(crate::store::parse_time_ms),
            doc: d,
            members: i
                .links
                .iter()
                .map(|l| (l.alert.as_str(), l.reason.clone()))
                .collect(),
        })
        .collect();
    store.insert_incidents(&rows)?;
    store.audit(
        "pipeline",
        action,
        &serde_json::json!({"alerts": alerts.len(), "incidents": correlation.incidents.len()}),
    )
}

/// Runs the whole chain over input files.
pub fn analyze(
    inputs: &[PathBuf],
    packages: &[Package],
    detector: &Detector,
    store: Option<&mut Store>,
    options: &correlate::Options,
) -> Result<Analysis, PipelineError> {
    analyze_observed(inputs, packages, detector, store, options, &Silent)
}

/// [`analyze`], reporting progress to `observer`.
pub fn analyze_observed(
    inputs: &[PathBuf],
    packages: &[Package],
    detector: &Detector,
    mut store: Option<&mut Store>,
    options: &correlate::Options,
    observer: &dyn Observer,
) -> Result<Analysis, PipelineError> {
    let files = ingest::files(inputs)?;
    let mut events = Vec::new();
    let mut reports = Vec::new();
    observer.step("ingest", files.len() as u64);
    for f in &files {
        let (evs, report) = ingest::normalize_file(f, packages)?;
        if let Some(s) = store.as_deref_mut() {
            let docs: Vec<Json> = evs.iter().cloned().map(Json::Object).collect();
            for chunk in docs.chunks(5000) {
                s.insert_events(chunk)?;
            }
        }
        events.extend(evs);
        reports.push(report);
        observer.advance(1);
    }
    let alerts = detect_events_observed(detector, &events, observer);
    observer.step("correlate", alerts.len() as u64);
    let correlation = correlate::correlate(&alerts, options);
    observer.advance(alerts.len() as u64);
    if let Some(s) = store {
        store_results(s, &alerts, &correlation, "analyze")?;
    }
    let summary = Summary {
        failed: reports.iter().map(|r| r.failed).sum(),
        inputs: reports,
        events: events.len(),
        rules_loaded: detector.rules().len(),
        rules_skipped: detector.skipped().len(),
        alerts: alerts.len(),
        traceback_alerts: alerts
            .iter()
            .filter(|a| a.rule.id == traceback::rule().id)
            .count(),
        incidents: correlation.incidents.len(),
        dismissed: correlation.dismissed.len(),
    };
    Ok(Analysis {
        summary,
        alerts,
        correlation,
        skipped_rules: detector.skipped().to_vec(),
        events,
    })
}
