//! Scoring one output event against its expected document, and adding scores up.

use super::compare::{KeyClass, TimeContext, ValueKind, classify, flatten, values_equal};
use super::dataset::TzSpec;
use serde::Serialize;
use serde_json::Value as Json;

/// Correct, produced and expected counts of core fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Expected core fields (recall's denominator).
    pub expected: usize,
    /// Core fields the rule produced (precision's denominator).
    pub produced: usize,
    /// Produced core fields equal to the expected value.
    pub correct: usize,
}

impl Counts {
    /// Adds another count (micro-averaging).
    pub fn add(&mut self, other: Counts) {
        self.expected += other.expected;
        self.produced += other.produced;
        self.correct += other.correct;
    }

    /// `correct / produced`; 0 when nothing was produced.
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.produced)
    }

    /// `correct / expected`; 0 when nothing was expected.
    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.expected)
    }

    /// The harmonic mean of precision and recall; 0 when both are 0.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// `a / b`, 0 for an empty denominator.
pub fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Why a field counts against the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissKind {
    /// An expected core field the output lacks.
    Missing,
    /// A core field with a different value.
    Wrong,
    /// A core field the expected document does not have.
    Extra,
    /// A categorization field that is missing or differs.
    Categorization,
}

/// One field that counted against the rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    /// Index of the event within its stream.
    pub event: usize,
    pub field: String,
    pub kind: MissKind,
    pub expected: Option<Json>,
    pub got: Option<Json>,
}

/// The score of one event.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventScore {
    pub core: Counts,
    /// Categorization fields in the expected document.
    pub categorization_expected: usize,
    /// Of those, the ones produced with a set-equal value.
    pub categorization_correct: usize,
    /// Vendor (non-ECS) values in the expected document.
    pub vendor_values: usize,
    /// Of those, the ones found among the output's values.
    pub vendor_retained: usize,
    pub misses: Vec<Miss>,
}

impl EventScore {
    /// Adds another score, misses included.
    pub fn add(&mut self, other: EventScore) {
        self.core.add(other.core);
        self.categorization_expected += other.categorization_expected;
        self.categorization_correct += other.categorization_correct;
        self.vendor_values += other.vendor_values;
        self.vendor_retained += other.vendor_retained;
        self.misses.extend(other.misses);
    }
}

/// What scoring needs to know about an event besides the two documents.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventContext<'a> {
    /// Index of the event in its stream (for misses).
    pub index: usize,
    /// The raw event text.
    pub raw: &'a str,
    /// The stream's configured zone.
    pub tz: Option<TzSpec>,
    /// Fields the test harness injected before the pipeline ran (flattened). An expected
    /// key whose value is exactly the injected one was not derived from the log, so it is
    /// not scored.
    pub injected: &'a [(String, Json)],
}

impl<'a> EventContext<'a> {
    /// The context of event 0 with this raw text, no zone and nothing injected.
    pub fn new(raw: &'a str) -> Self {
        EventContext {
            raw,
            ..EventContext::default()
        }
    }
}

/// Scores the output of the rule (`None` when the event failed or produced nothing) against
/// the expected document.
///
/// ```
/// use agentic_soc::eval::{EventContext, score_event};
/// use serde_json::json;
/// let expected = json!({"source": {"ip": "10.0.0.1", "port": 22}, "event": {"kind": "event"}});
/// let got = json!({"source.ip": "10.0.0.1", "source.port": "22", "event.kind": "event"});
/// let s = score_event(&expected, got.as_object(), &EventContext::new("raw"));
/// assert_eq!((s.core.correct, s.core.expected, s.categorization_correct), (2, 2, 1));
/// ```
pub fn score_event(
    expected: &Json,
    got: Option<&serde_json::Map<String, Json>>,
    ctx: &EventContext,
) -> EventScore {
    let time = TimeContext {
        raw: ctx.raw,
        tz: ctx.tz,
    };
    let injected = |k: &str, v: &Json| ctx.injected.iter().any(|(ik, iv)| ik == k && iv == v);
    let want = flatten(expected);
    let skipped: Vec<&str> = want
        .iter()
        .filter(|(k, v)| injected(k, v))
        .map(|(k, _)| k.as_str())
        .collect();
    let got_flat: Vec<(String, Json)> = got
        .map(|m| flatten(&Json::Object(m.clone())))
        .unwrap_or_default();
    let lookup = |k: &str| got_flat.iter().find(|(gk, _)| gk == k).map(|(_, v)| v);

    let mut score = EventScore::default();
    for (key, value) in &want {
        if skipped.contains(&key.as_str()) {
            continue;
        }
        match classify(key) {
            KeyClass::Core => {
                score.core.expected += 1;
                let kind = ValueKind::of(key);
                match lookup(key) {
                    Some(g) if values_equal(value, g, kind, &time) => score.core.correct += 1,
                    g => score.misses.push(Miss {
                        event: ctx.index,
                        field: key.clone(),
                        kind: if g.is_some() {
                            MissKind::Wrong
                        } else {
                            MissKind::Missing
                        },
                        expected: Some(value.clone()),
                        got: g.cloned(),
                    }),
                }
            }
            KeyClass::Categorization => {
                score.categorization_expected += 1;
                match lookup(key) {
                    Some(g) if values_equal(value, g, ValueKind::Other, &time) => {
                        score.categorization_correct += 1
                    }
                    g => score.misses.push(Miss {
                        event: ctx.index,
                        field: key.clone(),
                        kind: MissKind::Categorization,
                        expected: Some(value.clone()),
                        got: g.cloned(),
                    }),
                }
            }
            KeyClass::Vendor => {
                if let Some(retained) = retained(value, &got_flat, &time) {
                    score.vendor_values += 1;
                    score.vendor_retained += usize::from(retained);
                }
            }
            KeyClass::Message | KeyClass::Excluded => {}
        }
    }
    for (key, value) in &got_flat {
        if classify(key) != KeyClass::Core || skipped.contains(&key.as_str()) {
            continue;
        }
        let expected_here = want.iter().any(|(k, _)| k == key);
        if !expected_here && is_empty_value(value) {
            // An empty value the document does not have is no claim (a regex group that did
            // not take part); pipelines drop those.
            continue;
        }
        score.core.produced += 1;
        if !expected_here {
            score.misses.push(Miss {
                event: ctx.index,
                field: key.clone(),
                kind: MissKind::Extra,
                expected: None,
                got: Some(value.clone()),
            });
        }
    }
    score
}

fn is_empty_value(v: &Json) -> bool {
    match v {
        Json::String(s) => s.trim().is_empty(),
        Json::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Whether a vendor value appears among the output's values (any field, array elements
/// included). `None` for values that say nothing (empty text, empty arrays, objects).
fn retained(value: &Json, got: &[(String, Json)], time: &TimeContext) -> Option<bool> {
    let items: Vec<&Json> = match value {
        Json::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let informative = |v: &&Json| match v {
        Json::String(s) => !s.trim().is_empty(),
        Json::Number(_) | Json::Bool(_) => true,
        _ => false,
    };
    if items.is_empty() || !items.iter().all(informative) {
        return None;
    }
    let found = |item: &Json| {
        got.iter().any(|(_, g)| {
            let candidates: Vec<&Json> = match g {
                Json::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            candidates
                .iter()
                .any(|c| values_equal(item, c, ValueKind::Other, time))
        })
    };
    Some(items.iter().all(|i| found(i)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn score(expected: Json, got: Json) -> EventScore {
        score_event(&expected, got.as_object(), &EventContext::new("raw line"))
    }

    fn sample() -> Json {
        json!({
            "@timestamp": "2024-10-10T13:55:37.000Z",
            "ecs": {"version": "8.11.0"},
            "event": {"kind": "event", "category": ["web"], "type": ["access"], "outcome": "success",
                      "original": "raw line", "ingested": "2024-01-01T00:00:00Z"},
            "source": {"ip": "198.51.100.23", "port": 51234, "geo": {"city_name": "X"}},
            "http": {"response": {"status_code": 401}},
            "user": {"name": "alice"},
            "message": "summary",
            "related": {"ip": ["198.51.100.23"]},
            "nginx": {"access": {"remote_ip_list": ["198.51.100.23"], "flag": "on"}}
        })
    }

    #[test]
    fn a_perfect_output_scores_one() {
        let got = json!({
            "@timestamp": "2024-10-10T13:55:37Z",
            "event.kind": "event", "event.category": "[\"web\"]", "event.type": ["access"],
            "event.outcome": "success",
            "source.ip": "198.51.100.23", "source.port": "51234",
            "http.response.status_code": 401, "user.name": "alice",
            "nginx.access.flag": "on", "content": "raw line"
        });
        let s = score(sample(), got);
        assert_eq!(
            s.core,
            Counts {
                expected: 5,
                produced: 5,
                correct: 5
            }
        );
        assert_eq!(
            (s.core.precision(), s.core.recall(), s.core.f1()),
            (1.0, 1.0, 1.0)
        );
        assert_eq!(
            (s.categorization_expected, s.categorization_correct),
            (4, 4)
        );
        assert_eq!((s.vendor_values, s.vendor_retained), (2, 2));
        assert!(s.misses.is_empty(), "{:?}", s.misses);
    }

    #[test]
    fn an_empty_output_scores_zero() {
        let s = score(sample(), json!({}));
        assert_eq!(
            s.core,
            Counts {
                expected: 5,
                produced: 0,
                correct: 0
            }
        );
        assert_eq!(
            (s.core.precision(), s.core.recall(), s.core.f1()),
            (0.0, 0.0, 0.0)
        );
        assert_eq!((s.categorization_correct, s.vendor_retained), (0, 0));
        assert_eq!(s.misses.len(), 5 + 4);
        let failed = score_event(&sample(), None, &EventContext::new("raw line"));
        assert_eq!(failed.core, s.core);
    }

    #[test]
    fn a_partial_output_counts_wrong_missing_and_extra_fields() {
        let got = json!({
            "@timestamp": "2024-10-10T13:55:37Z",
            "source.ip": "198.51.100.23",
            "source.port": 1,
            "destination.ip": "10.0.0.1",
            "url.path": "/login",
            "event.kind": "alert",
            "vendor.x": "y"
        });
        let s = score(sample(), got);
        // correct: @timestamp, source.ip; wrong: source.port; missing: status_code, user.name;
        // extra: destination.ip, url.path.
        assert_eq!(
            s.core,
            Counts {
                expected: 5,
                produced: 5,
                correct: 2
            }
        );
        assert!((s.core.f1() - 0.4).abs() < 1e-12);
        let kinds = |k: MissKind| s.misses.iter().filter(|m| m.kind == k).count();
        assert_eq!(kinds(MissKind::Wrong), 1);
        assert_eq!(kinds(MissKind::Missing), 2);
        assert_eq!(kinds(MissKind::Extra), 2);
        assert_eq!(kinds(MissKind::Categorization), 4);
        assert_eq!(
            (s.categorization_expected, s.categorization_correct),
            (4, 0)
        );
        let wrong = s.misses.iter().find(|m| m.kind == MissKind::Wrong).unwrap();
        assert_eq!(wrong.field, "source.port");
        assert_eq!(wrong.got, Some(json!(1)));
    }

    #[test]
    fn excluded_and_enrichment_fields_are_never_scored() {
        let expected = json!({"ecs.version": "8", "related.ip": ["1.2.3.4"], "source.geo.city_name": "X",
                              "user_agent.name": "Firefox", "event.original": "raw", "message": "m"});
        let got = json!({"ecs.version": "8", "related.ip": ["1.2.3.4"], "user_agent.name": "Other",
                         "message": "n", "event.original": "raw"});
        let s = score(expected, got);
        assert_eq!(s.core, Counts::default());
        assert_eq!(s.vendor_values, 0);
        assert!(s.misses.is_empty());
    }

    #[test]
    fn harness_injected_values_are_not_scored() {
        let injected = vec![("@timestamp".to_string(), json!("2020-04-28T11:07:58.223Z"))];
        let ctx = EventContext {
            injected: &injected,
            ..EventContext::new("no time here")
        };
        let expected = json!({"@timestamp": "2020-04-28T11:07:58.223Z", "user": {"name": "a"}});
        let got = json!({"@timestamp": "2024-01-01T00:00:00Z", "user.name": "a"});
        let s = score_event(&expected, got.as_object(), &ctx);
        assert_eq!(
            s.core,
            Counts {
                expected: 1,
                produced: 1,
                correct: 1
            }
        );
        // A value the pipeline derived (different from the injected one) is scored.
        let expected = json!({"@timestamp": "2016-12-26T14:16:29.000Z"});
        let s = score_event(&expected, Some(&serde_json::Map::new()), &ctx);
        assert_eq!(s.core.expected, 1);
    }

    #[test]
    fn vendor_values_are_retained_anywhere_in_the_output() {
        let expected = json!({"cisco": {"asa": {"message_id": "302020", "mapped_port": 443,
                              "list": ["a", "b"], "empty": "", "nothing": []}}});
        let got = json!({"msgid": 302020, "ports": ["443", "80"], "x": "a", "y": ["b"]});
        let s = score(expected, got);
        assert_eq!((s.vendor_values, s.vendor_retained), (3, 3));
        let s = score(
            json!({"cisco.asa.message_id": "302021"}),
            json!({"content": "302021 in text"}),
        );
        assert_eq!((s.vendor_values, s.vendor_retained), (1, 0));
    }

    #[test]
    fn empty_output_values_are_no_claim_unless_expected() {
        let s = score(
            json!({"url.original": "/a", "user.name": ""}),
            json!({"url.original": "/a", "http.version": "", "user.name": ""}),
        );
        assert_eq!(
            s.core,
            Counts {
                expected: 2,
                produced: 2,
                correct: 2
            }
        );
    }

    #[test]
    fn nested_output_objects_are_flattened() {
        let got = json!({"source": {"ip": "198.51.100.23"}});
        let s = score(json!({"source.ip": "198.51.100.23"}), got);
        assert_eq!(s.core.correct, 1);
    }

    #[test]
    fn counts_add_up_micro() {
        let mut total = Counts::default();
        total.add(Counts {
            expected: 4,
            produced: 2,
            correct: 2,
        });
        total.add(Counts {
            expected: 6,
            produced: 8,
            correct: 3,
        });
        assert_eq!((total.precision(), total.recall()), (0.5, 0.5));
        assert_eq!(total.f1(), 0.5);
        assert_eq!(Counts::default().f1(), 0.0);
    }
}
