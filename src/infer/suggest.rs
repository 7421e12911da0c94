//! The whole suggestion loop: detect → fields → map → synthesize → compile and run on the
//! samples → `Suggestion` (rule, mapping table, preview, coverage, diagnostics). A rule that
//! does not compile is never returned: on failure simpler rules are tried.

use super::Advisor;
use super::advice::{AdviceRecord, CategoryHint, FieldQuestion, Unsure};
use super::detect::{self, Detection, Payload};
use super::fields::ValueType;
use super::knowledge::{CLIENT_SERVER, CLOUD_PROVIDER, OBSERVER_HOST};
use super::map;
use super::products::{self, LogTypeDef, Recognition};
use super::synth::{self, ident, lit};
use super::templates::{self, Template};
use crate::diagnostic::{Diagnostic, codes};
use crate::event::Text;
use crate::spl;
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

use super::categorize::{
    Kinds, LearnedRule, action_rules, categorization, category_questions, distinct, hinted_action,
    network_type, outcome_rules, pattern_questions, totals,
};
use super::collect::{collect_fields, combine_date_time, json_object_columns};
use super::positional::{positional, prefer_precise_time};

/// Caller settings for a suggestion.
#[derive(Debug, Clone, Default)]
pub struct SuggestOptions {
    /// Reference time (RFC 3339): the clock `now()` reads in the preview, so year-less timestamps
    /// take its year; the wall clock when `None`.
    pub reference_time: Option<String>,
    /// Overrides: source field → target field (`None` drops the field).
    pub overrides: Vec<(String, Option<String>)>,
    /// Categorization for events matching a pattern (or all events), before the engine's own.
    pub categories: Vec<CategoryHint>,
    /// Extra extraction patterns (named groups) for free text the templates leave unsplit.
    pub patterns: Vec<String>,
    /// Learned key → field knowledge; the embedded `knowledge/learned.json` when `None`
    /// (cross-validation passes the knowledge learned without the product being scored).
    pub learned: Option<std::sync::Arc<super::learned::Learned>>,
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
    /// Detection evidence, most important first.
    pub evidence: Vec<String>,
    /// Detection confidence in [0, 1].
    pub confidence: f64,
    /// The product library entry recognized in the samples, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<Recognition>,
    /// What an advisor (LLM) proposed, and whether validation kept it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advice: Vec<AdviceRecord>,
    /// What the engine is unsure about: the questions an advisor may answer.
    #[serde(skip)]
    pub unsure: Unsure,
}

/// Samples beyond this many are not used for inference (the rule still runs on all).
const MAX_INFER_SAMPLES: usize = 1000;

/// A W3C extended log file directive line (`#Version: 1.0`, `#Fields: date time ...`).
static W3C_DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^#(?:Version|Fields|Software|Date|Remark|Start-Date|End-Date):").expect("w3c")
});
/// Longest sample accepted.
const MAX_SAMPLE_BYTES: usize = 1 << 20;
/// SLS allows 16 stages per pipeline.
const MAX_STAGES: usize = 16;

/// Suggests a rule for sample lines (one event per element).
///
/// ```
/// use agentic_soc::infer::{suggest, SuggestOptions};
/// let s = suggest(&["src=10.0.0.1 dst=10.0.0.2 dpt=443 act=deny".into()], &SuggestOptions::default()).unwrap();
/// assert!(s.fields.iter().any(|f| f.target == "destination.port"));
/// ```
pub fn suggest(samples: &[String], options: &SuggestOptions) -> Result<Suggestion, Diagnostic> {
    heuristic(samples, options)
}

/// [`suggest`], then the advisor's answers to what the engine is unsure about, each kept only
/// if the rule still compiles and no measure gets worse (see [`super::advice::refine`]).
pub fn suggest_with(
    samples: &[String],
    options: &SuggestOptions,
    advisor: &dyn Advisor,
) -> Result<Suggestion, Diagnostic> {
    super::advice::refine(samples, options, advisor)
}

/// The engine alone: no advisor.
fn heuristic(samples: &[String], options: &SuggestOptions) -> Result<Suggestion, Diagnostic> {
    let unusable = check_input(samples)?;
    let mut pre_diags: Vec<Diagnostic> = Vec::new();
    // W3C extended log directives (`#Version:`, `#Fields:` … at the top of IIS or CloudFront
    // files) describe the file, they are not events: left out of inference when data lines
    // follow them.
    let directive = |s: &str| W3C_DIRECTIVE.is_match(s);
    let skip_directives = samples
        .iter()
        .any(|s| !s.trim().is_empty() && !directive(s));
    let infer: Vec<String> = samples
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            !s.trim().is_empty() && !unusable.contains(i) && (!skip_directives || !directive(s))
        })
        .take(MAX_INFER_SAMPLES)
        .map(|(_, s)| {
            s.trim_start_matches('\u{feff}')
                .trim_end_matches(['\r', '\n'])
                .to_string()
        })
        .collect();
    let det = detect::detect(&infer);
    let recognized = products::library().recognize(&infer);
    let sig = recognized.as_ref().map(|(p, _)| *p);
    let types: Vec<&LogTypeDef> = sig.map(|p| p.log_types(&infer)).unwrap_or_default();
    let prefix = sig.map_or("vendor", |s| s.entry.prefix.as_str());

    // Templates for free text: mined over the text left by the headers.
    let rest_texts = remainders(&det, &infer);
    let budget = MAX_STAGES.saturating_sub(det.layers.len() + 4);
    let (known, mut known_hit) = if det.payload == Payload::Text {
        detect::known_messages(&rest_texts)
    } else {
        (Vec::new(), vec![false; rest_texts.len()])
    };
    // Extra patterns (an advisor's, validated by the caller): their lines are not mined.
    let patterns: Vec<(String, Vec<String>)> = if det.payload == Payload::Text {
        options
            .patterns
            .iter()
            .chain(products::patterns_seen(&types, &rest_texts))
            .filter_map(|p| super::advice::pattern_names(p).ok().map(|n| (p.clone(), n)))
            .collect()
    } else {
        Vec::new()
    };
    for (p, _) in &patterns {
        if let Ok(re) = Regex::new(p) {
            for (hit, t) in known_hit.iter_mut().zip(&rest_texts) {
                *hit |= re.is_match(t);
            }
        }
    }
    let templates: Vec<Template> = if det.payload == Payload::Text {
        let refs: Vec<&str> = rest_texts
            .iter()
            .zip(&known_hit)
            .filter(|(_, k)| !**k)
            .map(|(t, _)| t.as_str())
            .collect();
        let all: Vec<Template> = templates::mine(&refs, usize::MAX)
            .into_iter()
            .filter(|t| !t.slots().is_empty())
            .collect();
        // SLS allows 16 stages: message types beyond the budget are named, not dropped
        // silently (their lines keep their text in `event.original` and `message`).
        let keep = budget.max(1);
        if all.len() > keep {
            let left: usize = all[keep..].iter().map(|t| t.members.len()).sum();
            let example = all[keep].text();
            pre_diags.push(
                Diagnostic::warning(
                    codes::RULE_REJECTED,
                    format!(
                        "{} of {} message types ({left} sample line(s)) get no extraction \
                         stage: the rule is limited to {MAX_STAGES} stages; the first left out \
                         is `{example}`",
                        all.len() - keep,
                        all.len()
                    ),
                )
                .with_hint(
                    "suggest from fewer message types at a time, or write one rule per type",
                ),
            );
        }
        all.into_iter().take(keep).collect()
    } else {
        Vec::new()
    };
    let csv_names = match &det.payload {
        Payload::Csv { header: None, .. } => products::columns(&types, &rest_texts),
        _ => None,
    }
    .unwrap_or_else(|| csv_names(&det, &rest_texts));
    // Structured payloads put every key under the vendor prefix as they parse it, so keys the
    // samples did not show are kept there too; the keys the rule maps are renamed out of it.
    let key_prefix = format!("{prefix}.");
    let prefixed = matches!(det.payload, Payload::Json | Payload::Kv { .. });
    let (mut extract, text_field) = synth::extraction(&det, &templates, &csv_names, &key_prefix);
    // LEEF 2.0 names its own delimiter in the sixth header field (`^`, `x5E`, `0x09`).
    if det.payload == Payload::Leef
        && let Some(d) = rest_texts.iter().find_map(|t| leef2_delimiter(t))
    {
        let class = regex::escape(&d.to_string());
        for st in extract.iter_mut() {
            if st.contains(&lit(synth::LEEF_REGEX)) {
                *st = st.replace(&lit(synth::LEEF_REGEX), &lit(synth::LEEF2_REGEX));
            } else if st.starts_with("parse-kv -regexp \"leef_extension\"") {
                *st = format!(
                    "parse-kv -regexp \"leef_extension\", {}",
                    lit(&format!(r"([\w.-]+)=([^{class}]*)"))
                );
            }
        }
    }
    // A CSV header row names the columns; it is not an event (with or without a BOM).
    if let Payload::Csv {
        header: Some(_), ..
    } = &det.payload
        && det.layers.is_empty()
        && let Some(h) = infer.first()
    {
        extract.insert(
            0,
            format!(
                "where \"content\" <> {} and \"content\" <> {}",
                lit(h),
                lit(&format!("\u{feff}{h}"))
            ),
        );
    }
    for k in &known {
        let def = &detect::KNOWN_MESSAGES[*k];
        let outs: Vec<String> = def.outputs.iter().map(|o| ident(o)).collect();
        extract.push(format!(
            "parse-regexp {}, {} as {}",
            ident(&text_field),
            lit(def.regex),
            outs.join(", ")
        ));
    }
    for (p, names) in &patterns {
        let outs: Vec<String> = names.iter().map(|o| ident(o)).collect();
        extract.push(format!(
            "parse-regexp {}, {} as {}",
            ident(&text_field),
            lit(p),
            outs.join(", ")
        ));
    }
    // XML as a tree: one SLS-compatible `regexp_extract` per element, attribute and named
    // datum seen in the samples (SPL has no XML instruction).
    if det.payload == Payload::Xml {
        let items = xml_fields(&rest_texts);
        if !items.is_empty() {
            extract.retain(|s| !s.starts_with("parse-kv -regexp"));
            let src = ident(&text_field);
            let parts: Vec<String> = items
                .iter()
                .map(|(n, re)| format!("{} = regexp_extract({src}, {}, 1)", ident(n), lit(re)))
                .collect();
            extract.push(format!("extend {}", parts.join(",\n           ")));
        }
    }
    if matches!(det.payload, Payload::Kv { .. }) && detect::bracketed(&rest_texts) {
        let at = extract.len().saturating_sub(1);
        let t = ident(&text_field);
        extract.insert(
            at,
            format!("parse-regexp {t}, {} as {t}", lit(r"(?s)^\s*\[(.*)\]\s*$")),
        );
    }
    if matches!(det.payload, Payload::Kv { .. }) && detect::has_rule_tag(&rest_texts) {
        let mut outs: Vec<String> = detect::RULE_TAG_OUTPUTS.iter().map(|o| ident(o)).collect();
        outs.push(ident(&text_field));
        let at = extract.len().saturating_sub(1);
        extract.insert(
            at,
            format!(
                "parse-regexp {}, {} as {}",
                ident(&text_field),
                lit(detect::RULE_TAG_REGEX),
                outs.join(", ")
            ),
        );
    }

    // A JSON record whose first-level string field holds a log line with a header of its
    // own (a container runtime's `{"log": "2024-05-01 10:00:00,123 INFO [main] ..."}`):
    // the line's header layers are peeled from that field too.
    // Free text with values in a string field of the records (`properties.msg`): mined
    // into templates of its own, numbered after the payload's.
    let mut slot_templates = templates.clone();
    if det.payload == Payload::Json {
        let headers = embedded_headers(&rest_texts, &key_prefix);
        if headers.is_empty() {
            let e = super::embedded::embedded_text(&rest_texts, &key_prefix, templates.len());
            extract.extend(e.stages);
            slot_templates.extend(e.templates);
        }
        extract.extend(headers);
    }

    // Run the extraction on the samples to see the raw fields the engine produces.
    let raw_rule = synth::rule(&extract);
    let raw_fields = match spl::compile(&raw_rule) {
        Ok(plan) => collect_fields(
            &plan,
            &infer,
            &slot_templates,
            prefixed.then_some(key_prefix.as_str()),
        ),
        Err(_) => Vec::new(),
    };
    let raw_fields = combine_date_time(raw_fields);

    // Map every raw field.
    let mut unsure = Unsure::default();
    let mut table = Vec::new();
    let mut outputs: Vec<(String, Vec<(f64, String)>)> = Vec::new();
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut consumed: Vec<String> = Vec::new();
    let push_out =
        |outputs: &mut Vec<(String, Vec<(f64, String)>)>, t: &str, c: f64, e: String| match outputs
            .iter_mut()
            .find(|(n, _)| n == t)
        {
            Some((_, v)) => v.push((c, e)),
            None => outputs.push((t.to_string(), vec![(c, e)])),
        };
    // Common Log Format keeps `-` as a literal value (the Apache/nginx convention).
    let clf = det
        .layers
        .iter()
        .any(|l| detect::HEADERS[l.def].name == "Apache/nginx access log");
    let learned = options
        .learned
        .as_deref()
        .unwrap_or_else(|| super::learned::Learned::embedded());
    let mut choices = positional(&raw_fields, prefix, learned, sig.map(|p| (p, &types[..])));
    // A threat-intelligence record: its keys describe the indicator, not an event's endpoints.
    let indicator_record = raw_fields.iter().any(|r| {
        let path = map::key_path(r);
        !path.is_empty() && super::entities::names_indicator(&path)
    });
    let mut indicator_value: Option<usize> = None;
    if indicator_record && sig.is_none() {
        for (i, f) in raw_fields.iter().enumerate() {
            let path = map::key_path(f);
            if path.len() != 1 {
                continue;
            }
            let key = map::normalize(path[0]);
            if let Some((_, t)) = super::knowledge::INDICATOR_SYNONYMS
                .iter()
                .find(|(k, _)| *k == key)
            {
                choices[i] = (
                    t.to_string(),
                    0.7,
                    format!("key `{}` of a threat-intelligence record", f.source),
                );
            } else if indicator_value.is_none()
                && super::entities::names_indicator(&path)
                && super::learned::words(path[0]).len() == 1
            {
                // The indicator itself (`ioc`, `indicator`): typed row by row below.
                indicator_value = Some(i);
                choices[i] = (
                    "threat.indicator.ip".into(),
                    0.7,
                    "the indicator of a threat-intelligence record, typed by its shape".into(),
                );
            } else if matches!(
                choices[i].0.as_str(),
                "source.ip"
                    | "destination.ip"
                    | "source.port"
                    | "destination.port"
                    | "url.original"
                    | "url.domain"
            ) {
                // Addresses in an indicator record describe the indicator, not a connection.
                choices[i] = (
                    format!("{prefix}.{}", f.source),
                    0.3,
                    "an address in a threat-intelligence record that is not its indicator".into(),
                );
            }
        }
    }
    let object_columns = json_object_columns(&raw_fields);
    prefer_precise_time(&raw_fields, &mut choices);
    for (fi, f) in raw_fields.iter().enumerate() {
        if let Some(r) = &f.raw
            && !consumed.contains(r)
        {
            consumed.push(r.clone());
        }
        let dash_literal = clf && f.values.iter().all(|v| v == "-" || v.is_empty());
        if f.ty == ValueType::Empty && !dash_literal {
            continue;
        }
        let over = options.overrides.iter().find(|(s, _)| *s == f.source);
        let (target, conf, reason) = match over {
            Some((_, None)) => {
                table.push(FieldSuggestion {
                    source: f.source.clone(),
                    ty: f.ty.name().into(),
                    target: String::new(),
                    confidence: 1.0,
                    reason: "dropped by the user".into(),
                });
                continue;
            }
            Some((_, Some(t))) => (t.clone(), 1.0, "set by the user".to_string()),
            None => {
                let (t, c, r) = choices[fi].clone();
                let candidates = if c < super::advice::UNSURE {
                    // What other products did with this key comes first (learned knowledge,
                    // best supported first), then the name-similar model fields.
                    let path = map::key_path(f);
                    let mut cs: Vec<String> = learned
                        .candidates(&path)
                        .into_iter()
                        .filter(|k| map::accepts(&k.field, &f.ty))
                        .take(3)
                        .map(|k| k.field)
                        .collect();
                    for x in super::advice::candidates(f, prefix, &t) {
                        if !cs.contains(&x) && cs.len() < super::advice::MAX_CANDIDATES {
                            cs.push(x);
                        }
                    }
                    if cs.len() == 1 && cs[0] == t {
                        cs.clear();
                    }
                    cs
                } else {
                    Vec::new()
                };
                if !candidates.is_empty() && unsure.fields.len() < super::advice::MAX_FIELDS {
                    unsure.fields.push(FieldQuestion {
                        source: f.source.clone(),
                        ty: f.ty.name().to_string(),
                        values: distinct(&f.values, 5),
                        context: f.context.clone(),
                        candidates,
                        guess: t.clone(),
                        confidence: c,
                    });
                }
                (t, c, r)
            }
        };
        table.push(FieldSuggestion {
            source: f.source.clone(),
            ty: f.ty.name().into(),
            target: target.clone(),
            confidence: (conf * 100.0).round() / 100.0,
            reason,
        });
        let vendor = target.starts_with(&format!("{prefix}."));
        // A vendor field the product documents as a number is converted like a model one.
        let numeric = vendor
            && over.is_none()
            && sig.is_some()
            && products::field_for(&types, &f.source).is_some_and(|(_, d)| {
                d.target == target && matches!(d.ty.as_str(), "long" | "port")
            });
        if numeric {
            push_out(
                &mut outputs,
                &target,
                conf,
                format!("try_cast({} as BIGINT)", f.expr),
            );
            continue;
        }
        if vendor {
            match &f.raw {
                Some(r) if f.expr == ident(r) => renames.push((r.clone(), target.clone())),
                // A leaf of a JSON object column stays inside the object, which is kept
                // whole under the vendor prefix (with the keys the samples did not show).
                // ... unless the product documents the key: its name is written too.
                Some(r) if object_columns.contains(r) => {
                    let documented = sig.is_some()
                        && products::field_for(&types, &f.source)
                            .is_some_and(|(_, d)| d.target == target);
                    if documented {
                        push_out(&mut outputs, &target, conf, f.expr.clone());
                    }
                }
                _ => push_out(&mut outputs, &target, conf, f.expr.clone()),
            }
            continue;
        }
        if Some(fi) == indicator_value {
            for (t, e) in indicator_outputs(&f.expr) {
                push_out(&mut outputs, &t, conf, e);
            }
            // The value stays as written too: a shape none of the outputs takes is not lost.
            if let Some(r) = &f.raw {
                consumed.retain(|c| c != r);
            }
            continue;
        }
        // Pipelines that parse text copy an endpoint to `*.address`; structured payloads
        // (key=value, JSON, XML) map their keys to the IPs directly.
        let addresses = !matches!(
            det.payload,
            Payload::Kv { .. } | Payload::Json | Payload::Xml
        );
        let (expr, _plain, extra) = map::convert_opts(f, &target, addresses, clf);
        push_out(&mut outputs, &target, conf, expr);
        for (t, e) in extra {
            push_out(&mut outputs, &t, conf * 0.9, e);
        }
    }
    // Signature constants.
    if let Some(s) = sig {
        let host = raw_fields
            .iter()
            .find(|f| f.source == "syslog_host" || f.source == "syslog_hostname");
        if let Some(h) = host
            && let Some((_, t, keep)) = OBSERVER_HOST.iter().find(|(m, _, _)| *m == s.module())
        {
            if !keep {
                outputs.retain(|(n, _)| n != "host.hostname");
            }
            outputs.push((t.to_string(), vec![(0.8, h.expr.clone())]));
        }
        // Products whose endpoints are also the HTTP client and server.
        if CLIENT_SERVER.contains(&s.module()) {
            let mut copies = Vec::new();
            for (n, es) in &outputs {
                for (from, to) in [("source.", "client."), ("destination.", "server.")] {
                    if let Some(rest) = n.strip_prefix(from)
                        && matches!(rest, "ip" | "port")
                    {
                        copies.push((format!("{to}{rest}"), es.clone()));
                    }
                }
            }
            outputs.extend(copies);
        }
        if let Some((_, p)) = CLOUD_PROVIDER.iter().find(|(m, _)| *m == s.module()) {
            outputs.push(("cloud.provider".to_string(), vec![(0.9, lit(p))]));
        }
        for (t, v) in [
            ("observer.vendor", s.entry.vendor.as_str()),
            ("observer.product", s.entry.product.as_str()),
            ("observer.type", s.entry.observer_type.as_str()),
            ("event.module", s.module()),
        ] {
            if !v.is_empty() && !outputs.iter().any(|(n, _)| n == t) {
                outputs.push((t.to_string(), vec![(0.9, lit(v))]));
            }
        }
    }
    // One expression per target: the most confident source first.
    let mut assigns: Vec<(String, String)> = Vec::new();
    for (t, mut es) in outputs {
        es.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        let mut exprs: Vec<String> = Vec::new();
        for (_, e) in es {
            if !exprs.contains(&e) {
                exprs.push(e);
            }
        }
        let e = if exprs.len() == 1 {
            exprs.pop().unwrap()
        } else {
            merge_slot_conversions(&exprs)
                .unwrap_or_else(|| format!("coalesce({})", exprs.join(", ")))
        };
        assigns.push((t, e));
    }
    let targets: Vec<String> = assigns.iter().map(|(t, _)| t.clone()).collect();
    let web_error = det.layers.iter().any(|l| {
        matches!(
            detect::HEADERS[l.def].name,
            "Apache error log" | "nginx error log"
        )
    });
    let ids = sig.is_some_and(|s| s.entry.observer_type == "ids");
    // What other products' action words say about categorization (learned knowledge).
    let action_expr = assigns
        .iter()
        .find(|(t, _)| t == "event.action")
        .map(|(_, e)| e.clone());
    let action_values: Vec<String> = table
        .iter()
        .filter(|t| t.target == "event.action")
        .filter_map(|t| raw_fields.iter().find(|f| f.source == t.source))
        .flat_map(|f| f.values.iter().cloned())
        .collect();
    // The product's own categorization per key value comes first.
    let source_expr = |key: &str| {
        raw_fields
            .iter()
            .find(|f| f.source == key)
            .or_else(|| {
                raw_fields
                    .iter()
                    .find(|f| map::normalize(&f.source) == map::normalize(key))
            })
            .map(|f| f.expr.clone())
    };
    let product_rules = products::categorize_rules(&types, &source_expr);
    let mut learned_rules: Vec<LearnedRule> = product_rules
        .iter()
        .filter(|r| matches!(r.field, "event.category" | "event.type" | "event.outcome"))
        .map(|r| LearnedRule {
            field: r.field.to_string(),
            cond: r.cond.clone(),
            values: r.values.clone(),
        })
        .collect();
    // The entry's rules come before the engine's message rules (knowledge/products/README.md).
    let product_rule_count = learned_rules.len();
    // A field that states the outcome decides it before the words of the action vote.
    learned_rules.extend(outcome_rules(&raw_fields));
    learned_rules.extend(match &action_expr {
        Some(a) => action_rules(learned, a, &action_values),
        None => Vec::new(),
    });
    let names = |f: &dyn Fn(&[&str]) -> bool| {
        raw_fields.iter().any(|r| {
            let path = map::key_path(r);
            !path.is_empty() && f(&path)
        })
    };
    let alert = names(&super::entities::names_alert);
    let indicator = names(&super::entities::names_indicator);
    let categorize = categorization(
        &templates,
        &text_field,
        &targets,
        &rest_texts,
        Kinds {
            web_error,
            ids,
            alert,
            indicator,
        },
        &options.categories,
        learned_rules.split_at(product_rule_count),
    );
    let categorize: Vec<String> = categorize
        .into_iter()
        .chain(hinted_action(
            &options.categories,
            &text_field,
            &infer,
            &targets,
        ))
        .collect();
    let categorize = products::override_kind_action(categorize, &product_rules, &targets);
    // Categorization is asked about only when the engine has nothing: no message rule and
    // no category from the fields present (web requests, network endpoints).
    let has = |t: &str| targets.iter().any(|x| x == t);
    let engine_category = web_error
        || has("http.request.method")
        || has("http.response.status_code")
        || has("source.ip")
        || has("destination.ip");
    if options.categories.is_empty() && !engine_category {
        unsure.categories = category_questions(&det, &templates, &rest_texts, &infer, &patterns);
    }
    unsure.patterns = pattern_questions(&det, &templates, &rest_texts, &known_hit);

    // Stages: extraction, typed outputs, categorization, renames, clean-up.
    let mut stages = extract.clone();
    let (plain_renames, assigns): (Vec<_>, Vec<_>) = assigns.into_iter().partition(|(t, e)| {
        e.starts_with('"') && consumed.iter().any(|r| ident(r) == *e) && !t.is_empty()
    });
    let mut used_sources: Vec<String> = Vec::new();
    let mut renames_all: Vec<(String, String)> = Vec::new();
    for (t, e) in &plain_renames {
        let r = e.trim_matches('"').replace("\"\"", "\"");
        if used_sources.contains(&r) || r == *t {
            continue;
        }
        used_sources.push(r.clone());
        renames_all.push((t.clone(), r));
    }
    // A raw field renamed twice would be a plan error: the second becomes an extend.
    let mut assigns = assigns;
    for (t, e) in &plain_renames {
        let r = e.trim_matches('"').replace("\"\"", "\"");
        if !renames_all.iter().any(|(tt, rr)| tt == t && *rr == r) && r != *t {
            assigns.push((t.clone(), e.clone()));
        }
    }
    // JSON object columns are kept whole under the vendor prefix: nothing in them is lost,
    // including keys the samples did not have.
    for c in &object_columns {
        let t = format!("{prefix}.{c}");
        // Already under the prefix (the payload parser put it there): it stays.
        if c.starts_with(&key_prefix) {
            if !used_sources.contains(c) {
                used_sources.push(c.clone());
            }
            continue;
        }
        if !used_sources.contains(c) && !targets.contains(&t) {
            renames.push((c.clone(), t));
        }
    }
    for (r, t) in &renames {
        if r == t {
            // Already where it belongs: it stays.
            if !used_sources.contains(r) {
                used_sources.push(r.clone());
            }
            continue;
        }
        if !used_sources.contains(r) && !targets.contains(t) {
            used_sources.push(r.clone());
            // Two raw fields with one vendor name (two slots after the same word): each
            // keeps its value under its own name (`vendor.id`, `vendor.id_2`).
            let mut name = t.clone();
            let mut n = 1;
            while renames_all.iter().any(|(tt, _)| *tt == name) {
                n += 1;
                name = format!("{t}_{n}");
            }
            renames_all.push((name, r.clone()));
        }
    }
    // A raw key that has a model field's own name (`@timestamp` in the payload) and goes to
    // the vendor prefix must move before the extend that writes that field, or the rename
    // would carry the computed value away.
    let (early, late): (Vec<_>, Vec<_>) = renames_all.into_iter().partition(|(_, r)| {
        assigns.iter().any(|(t, _)| t == r) && !assigns.iter().any(|(_, e)| e.contains(&ident(r)))
    });
    let mut renames_all = late;
    if !early.is_empty() {
        let rn: Vec<String> = early
            .iter()
            .map(|(t, r)| format!("{} = {}", ident(t), ident(r)))
            .collect();
        stages.push(format!("project-rename {}", rn.join(", ")));
    }
    if !assigns.is_empty() {
        let parts: Vec<String> = assigns
            .iter()
            .map(|(t, e)| format!("{} = {}", ident(t), e))
            .collect();
        stages.push(format!("extend {}", parts.join(",\n           ")));
    }
    renames_all.push(("event.original".into(), "content".into()));
    let rn: Vec<String> = renames_all
        .iter()
        .map(|(t, r)| format!("{} = {}", ident(t), ident(r)))
        .collect();
    stages.push(format!("project-rename {}", rn.join(", ")));
    // Categorization reads the model fields, so it comes once they all exist; a raw field
    // it reads that was just renamed is read under its new name.
    if !categorize.is_empty() {
        let renamed: Vec<String> = categorize
            .iter()
            .map(|c| {
                renames_all
                    .iter()
                    .chain(early.iter())
                    .fold(c.clone(), |c, (t, r)| c.replace(&ident(r), &ident(t)))
            })
            .collect();
        stages.push(format!("extend {}", renamed.join(",\n           ")));
    }
    let derived: Vec<String> = network_type(&targets)
        .into_iter()
        .chain(totals(&targets))
        .collect();
    if !derived.is_empty() {
        stages.push(format!("extend {}", derived.join(",\n           ")));
    }
    let all_targets: Vec<&String> = assigns.iter().map(|(t, _)| t).collect();
    let away: Vec<String> = consumed
        .iter()
        .filter(|r| {
            // A raw field already named like its target (`log.level` from JSON) stays.
            !all_targets.contains(r)
                && !used_sources.contains(r)
                && !targets.contains(r)
                && r.as_str() != "content"
        })
        .map(|r| ident(r))
        .collect();
    if !away.is_empty() {
        stages.push(format!("project-away {}", away.join(", ")));
    }

    // Validate: compile, else fall back to simpler rules.
    let candidates = [
        stages.clone(),
        stages
            .iter()
            .filter(|s| !s.starts_with("extend \"event.kind\""))
            .cloned()
            .collect(),
        extract.clone(),
        vec!["project-rename \"event.original\" = content".to_string()],
    ];
    let mut diagnostics = pre_diags;
    if !unusable.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                codes::BINARY_INPUT,
                format!(
                    "{} sample line(s) were left out of inference: binary or longer than {} \
                     bytes (the first is line {})",
                    unusable.len(),
                    MAX_SAMPLE_BYTES,
                    unusable[0] + 1
                ),
            )
            .with_hint("the rule still runs on them; check the framing of those lines"),
        );
    }
    for (i, cand) in candidates.iter().enumerate() {
        let text = synth::rule(cand);
        match spl::compile(&text) {
            Ok(plan) => {
                if i > 0 {
                    diagnostics.push(Diagnostic::warning(
                        codes::RULE_REJECTED,
                        "the full rule did not compile; a simpler rule is returned",
                    ));
                }
                let (preview, coverage, mut diags) =
                    validate(&plan, samples, &targets, reference_clock(options));
                diagnostics.append(&mut diags);
                return Ok(Suggestion {
                    spl: text,
                    format: det.format_name(),
                    fields: table,
                    preview,
                    coverage,
                    diagnostics,
                    evidence: det.evidence.clone(),
                    confidence: (det.confidence * 100.0).round() / 100.0,
                    product: recognized.as_ref().map(|(_, r)| r.clone()),
                    advice: Vec::new(),
                    unsure,
                });
            }
            Err(errs) => diagnostics.extend(errs.into_iter().map(|mut d| {
                d.severity = crate::diagnostic::Severity::Warning;
                d.message = format!("candidate rule rejected: {}", d.message);
                d
            })),
        }
    }
    Err(Diagnostic::error(
        codes::RULE_REJECTED,
        "no candidate rule compiled",
    ))
}

/// The same conversion of one template slot per message type (`f("t0_1")`, `f("t1_1")`, ...)
/// as one conversion of the first slot that has a value: `f(coalesce("t0_1", "t1_1", ...))`.
fn merge_slot_conversions(exprs: &[String]) -> Option<String> {
    static SLOT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#""t\d+_\d+""#).expect("slot pattern"));
    let mut shape: Option<String> = None;
    let mut slots = Vec::new();
    for e in exprs {
        let found: Vec<&str> = SLOT.find_iter(e).map(|m| m.as_str()).collect();
        let first = *found.first()?;
        if found.iter().any(|f| *f != first) {
            return None;
        }
        let this = e.replace(first, "\u{0}");
        match &shape {
            Some(s) if *s != this => return None,
            Some(_) => {}
            None => shape = Some(this),
        }
        slots.push(first.to_string());
    }
    let shape = shape?;
    Some(shape.replace('\u{0}', &format!("coalesce({})", slots.join(", "))))
}

/// Extraction stages for log lines carried in a first-level string field of JSON records:
/// each header layer the engine detects on that field's values (every value must have it),
/// applied to the field; at most one field.
fn embedded_headers(texts: &[String], key_prefix: &str) -> Vec<String> {
    let docs: Vec<serde_json::Map<String, serde_json::Value>> = texts
        .iter()
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(t.trim()).ok())
        .filter_map(|v| match v {
            serde_json::Value::Object(o) => Some(o),
            _ => None,
        })
        .collect();
    if docs.is_empty() || docs.len() != texts.len() {
        return Vec::new();
    }
    let keys: Vec<&String> = docs[0].keys().collect();
    for key in keys {
        let values: Vec<String> = docs
            .iter()
            .filter_map(|d| {
                d.get(key.as_str())
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .collect();
        // A line of text: words with spaces, not a document of its own.
        if values.len() != docs.len()
            || !values
                .iter()
                .all(|v| v.contains(' ') && !v.trim_start().starts_with(['{', '[', '<']))
        {
            continue;
        }
        let sub = detect::detect(&values);
        if sub.layers.is_empty() || sub.layers.iter().any(|l| l.share < 1.0) {
            continue;
        }
        return synth::header_stages(&sub.layers, &format!("{key_prefix}{key}")).0;
    }
    Vec::new()
}

/// The fields of an indicator value, by its shape row by row: an address (with its port), a
/// URL, a domain, a file hash by its length, an email address.
fn indicator_outputs(x: &str) -> Vec<(String, String)> {
    let v4_port = r"^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$";
    let v6_port = r"^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$";
    let hex = |n: usize| format!("^[0-9A-Fa-f]{{{n}}}$");
    vec![
        (
            "threat.indicator.ip".into(),
            format!(
                "CASE WHEN is_ip({x}) THEN {x} WHEN regexp_like({x}, {v4}) THEN regexp_extract({x}, {v4}, 1) WHEN regexp_like({x}, {v6}) THEN regexp_extract({x}, {v6}, 1) END",
                v4 = lit(v4_port),
                v6 = lit(v6_port)
            ),
        ),
        (
            "threat.indicator.port".into(),
            format!(
                "try_cast(coalesce(regexp_extract({x}, {v4}, 2), regexp_extract({x}, {v6}, 2)) as BIGINT)",
                v4 = lit(v4_port),
                v6 = lit(v6_port)
            ),
        ),
        (
            "threat.indicator.url.original".into(),
            format!("if(regexp_like({x}, '^[A-Za-z][A-Za-z0-9+.-]*://'), {x}, NULL)"),
        ),
        (
            "threat.indicator.url.domain".into(),
            format!(
                "CASE WHEN regexp_like({x}, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN nullif(regexp_extract({x}, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/]*@)?([^:/?#]+)', 1), '') WHEN regexp_like({x}, '^([A-Za-z0-9-]+\\.)+[A-Za-z]{{2,}}$') THEN {x} END"
            ),
        ),
        (
            "threat.indicator.file.hash.md5".into(),
            format!("if(regexp_like({x}, {}), lower({x}), NULL)", lit(&hex(32))),
        ),
        (
            "threat.indicator.file.hash.sha1".into(),
            format!("if(regexp_like({x}, {}), lower({x}), NULL)", lit(&hex(40))),
        ),
        (
            "threat.indicator.file.hash.sha256".into(),
            format!("if(regexp_like({x}, {}), lower({x}), NULL)", lit(&hex(64))),
        ),
        (
            "threat.indicator.email.address".into(),
            format!(r"if(regexp_like({x}, '^[^@\s]+@[^@\s]+\.[A-Za-z]{{2,}}$'), {x}, NULL)"),
        ),
    ]
}

/// Lines that cannot be inferred from (binary, or longer than [`MAX_SAMPLE_BYTES`]) are left
/// out and reported; only when no usable line remains is the input refused.
fn check_input(samples: &[String]) -> Result<Vec<usize>, Diagnostic> {
    if samples.iter().all(|s| s.trim().is_empty()) {
        return Err(
            Diagnostic::error(codes::NO_SAMPLES, "no sample lines were given")
                .with_hint("paste a few lines of the log, one event per line"),
        );
    }
    let binary = |s: &str| {
        let junk = s
            .chars()
            .filter(|c| *c == '\u{fffd}' || (c.is_control() && !"\t\r\n".contains(*c)))
            .count();
        junk * 10 > s.len().max(1)
    };
    let mut long = Vec::new();
    let mut junk = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        if s.len() > MAX_SAMPLE_BYTES {
            long.push(i);
        } else if binary(s) {
            junk.push(i);
        }
    }
    let usable = samples
        .iter()
        .enumerate()
        .any(|(i, s)| !s.trim().is_empty() && !long.contains(&i) && !junk.contains(&i));
    if !usable {
        if let Some(&i) = long.first() {
            return Err(Diagnostic::error(
                codes::INPUT_TOO_LARGE,
                format!(
                    "a sample is {} bytes long; samples are limited to {} bytes",
                    samples[i].len(),
                    MAX_SAMPLE_BYTES
                ),
            )
            .with_hint("is the input one event per line? multi-line framing may be missing"));
        }
        return Err(
            Diagnostic::error(codes::BINARY_INPUT, "the input looks binary, not log text")
                .with_hint("decompress archives first (soc normalize reads .gz and .zst)"),
        );
    }
    let mut out: Vec<usize> = long.into_iter().chain(junk).collect();
    out.sort_unstable();
    Ok(out)
}

/// The reference time as the clock the preview runs with (`now()` in the rule).
fn reference_clock(options: &SuggestOptions) -> Option<crate::event::Timestamp> {
    let t = options.reference_time.as_deref()?;
    let d = chrono::DateTime::parse_from_rfc3339(t).ok()?;
    Some(crate::event::Timestamp::utc(
        d.timestamp_nanos_opt().unwrap_or_default(),
    ))
}

/// The text left after the header layers (what the payload parser sees).
fn remainders(det: &Detection, samples: &[String]) -> Vec<String> {
    let mut texts = samples.to_vec();
    for l in &det.layers {
        let res: Vec<Regex> = l
            .defs()
            .map(|d| Regex::new(&detect::header_regex(d)).expect("header"))
            .collect();
        texts = texts
            .into_iter()
            .map(|t| {
                let c = res
                    .iter()
                    .enumerate()
                    .find_map(|(k, re)| re.captures(if k == 0 { &t } else { t.trim_start() }));
                match c {
                    Some(c) => c.get(c.len() - 1).map_or("", |m| m.as_str()).to_string(),
                    None => t.clone(),
                }
            })
            .collect();
    }
    texts
}

/// The delimiter a LEEF 2.0 header names: a character, or its code as `xHH`/`0xHH`.
fn leef2_delimiter(t: &str) -> Option<char> {
    static RE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"LEEF:2\.0\|[^|]*\|[^|]*\|[^|]*\|[^|]*\|(0?[xX][0-9A-Fa-f]{2,4}|[^|])\|")
            .expect("LEEF 2.0 header")
    });
    let d = RE.captures(t)?.get(1)?.as_str();
    match d.trim_start_matches('0').strip_prefix(['x', 'X']) {
        Some(hex) if d.len() > 1 => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
        _ => d.chars().next(),
    }
}

/// Most XML values extracted per rule.
const MAX_XML_FIELDS: usize = 150;

/// The distinct XML key paths of the samples (dotted) with their extraction regexes, in the
/// order first seen.
fn xml_fields(texts: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in texts {
        for item in super::peel::xml_items(t) {
            let name = item.path.join(".");
            if out.len() < MAX_XML_FIELDS && !out.iter().any(|(n, _)| *n == name) {
                out.push((name, item.regex));
            }
        }
    }
    out
}

fn csv_names(det: &Detection, texts: &[String]) -> Vec<String> {
    let Payload::Csv { delim, header } = &det.payload else {
        return Vec::new();
    };
    if let Some(h) = header {
        return h
            .iter()
            .map(|n| {
                n.chars()
                    .map(|c| {
                        if c.is_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '_'
                        }
                    })
                    .collect()
            })
            .collect();
    }
    let n = texts
        .first()
        .map_or(0, |t| detect::split_csv(t, *delim).len());
    (1..=n).map(|i| format!("col{i}")).collect()
}

/// Runs the rule on every sample: preview, coverage and model diagnostics.
fn validate(
    plan: &spl::Plan,
    samples: &[String],
    targets: &[String],
    clock: Option<crate::event::Timestamp>,
) -> (Vec<serde_json::Value>, Coverage, Vec<Diagnostic>) {
    let mut runner = spl::Runner::new(plan);
    if let Some(now) = clock {
        runner = runner.with_clock(now);
    }
    let mut preview = Vec::new();
    let mut fill: Vec<(String, usize)> = targets.iter().map(|t| (t.clone(), 0)).collect();
    let mut parsed = 0usize;
    let mut failed = 0usize;
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut n = 0usize;
    for s in samples.iter().filter(|s| !s.trim().is_empty()) {
        n += 1;
        let mut out = Vec::new();
        match runner.run_event(runner.line_event(Text::new(s)), &mut out) {
            Err(_) => failed += 1,
            Ok(()) => {
                for (_, ev) in &out {
                    let mut any = false;
                    for (name, count) in fill.iter_mut() {
                        if ev.get(name).is_some_and(|v| !v.is_null()) {
                            *count += 1;
                            if !name.starts_with("event.") && !name.starts_with("observer.") {
                                any = true;
                            }
                        }
                    }
                    if any {
                        parsed += 1;
                    }
                    for d in crate::model::validate(ev) {
                        if diags.len() < 20 && !diags.iter().any(|x| x.message == d.message) {
                            diags.push(d);
                        }
                    }
                    if preview.len() < 5 {
                        preview.push(serde_json::Value::Object(ev.to_json(false)));
                    }
                }
            }
        }
    }
    let n = n.max(1);
    if failed > 0 {
        diags.push(Diagnostic::warning(
            codes::LOW_COVERAGE,
            format!("{failed} of {n} samples failed when the rule ran"),
        ));
    }
    let coverage = Coverage {
        parsed: round2(parsed as f64 / n as f64),
        fill: fill
            .into_iter()
            .map(|(t, c)| (t, round2(c as f64 / n as f64)))
            .collect(),
    };
    if coverage.parsed < 0.8 {
        diags.push(Diagnostic::warning(
            codes::LOW_COVERAGE,
            format!(
                "only {:.0}% of the samples were parsed into model fields",
                coverage.parsed * 100.0
            ),
        ));
    }
    (preview, coverage, diags)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
