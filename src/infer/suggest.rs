//! The whole suggestion loop, stage by stage: extraction (`extraction.rs`: samples, format,
//! product, templates, extraction stages) → raw fields (`collect.rs`) → mapping (here, with
//! `map.rs`, `positional.rs`) → categorization (`categorize.rs`) → assembly (`assemble.rs`)
//! → compile and run on the samples → `Suggestion` (rule, mapping table, preview, coverage,
//! diagnostics). A rule that does not compile is never returned: on failure simpler rules
//! are tried.

use super::Advisor;
use super::advice::{AdviceRecord, CategoryHint, FieldQuestion, Unsure};
use super::detect::{self, Payload};
use super::fields::ValueType;
use super::knowledge::{CLIENT_SERVER, CLOUD_PROVIDER, OBSERVER_HOST};
use super::map;
use super::products::{self, Recognition};
use super::synth::{self, ident, lit};
use crate::diagnostic::{Diagnostic, codes};
use crate::event::Text;
use crate::spl;
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

use super::assemble::{Draft, assemble};
use super::categorize::{
    Kinds, LearnedRule, action_rules, categorization, category_questions, distinct, hinted_action,
    outcome_rules, pattern_questions,
};
use super::collect::{collect_fields, combine_date_time, json_object_columns};
use super::extraction::{Extraction, extract};
use super::positional::{positional, prefer_precise_time, template_transport};

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

/// Longest sample accepted.
pub(super) const MAX_SAMPLE_BYTES: usize = 1 << 20;
/// SLS allows 16 stages per pipeline.
pub(super) const MAX_STAGES: usize = 16;

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

/// The engine alone: no advisor. The stages in order (see the module's documentation).
fn heuristic(samples: &[String], options: &SuggestOptions) -> Result<Suggestion, Diagnostic> {
    let Extraction {
        unusable,
        pre_diags,
        infer,
        det,
        recognized,
        sig,
        types,
        prefix,
        rest_texts,
        known_hit,
        templates,
        slot_templates,
        patterns,
        extract,
        text_field,
        key_prefix,
        prefixed,
    } = extract(samples, options)?;
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
    // The text a `parse-json` read is not read again as a JSON layer: its keys are columns.
    let raw_fields: Vec<map::RawField> = raw_fields
        .into_iter()
        .filter(|f| {
            det.payload != Payload::Json
                || f.raw.as_deref() != Some(text_field.as_str())
                || f.source == text_field
        })
        .collect();
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
        // (key=value, JSON, XML) map their keys to the IPs directly. Text inside a record
        // (a template slot) is text.
        let addresses = !matches!(
            det.payload,
            Payload::Kv { .. } | Payload::Json | Payload::Xml
        ) || map::is_slot(&f.source);
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
    // A field whose every value is a cloud resource identifier names the provider (and the
    // account when the identifier carries it).
    if !outputs.iter().any(|(n, _)| n == "cloud.provider")
        && let Some((f, re, p, g)) = raw_fields.iter().find_map(|f| {
            let vals: Vec<&String> = f
                .values
                .iter()
                .filter(|v| !v.is_empty() && *v != "-")
                .collect();
            if vals.is_empty() {
                return None;
            }
            super::knowledge::CLOUD_IDS
                .iter()
                .find(|(re, _, _)| vals.iter().all(|v| re.is_match(v)))
                .map(|(re, p, g)| (f, re, *p, *g))
        })
    {
        outputs.push(("cloud.provider".into(), vec![(0.7, lit(p))]));
        if g > 0 && !outputs.iter().any(|(n, _)| n == "cloud.account.id") {
            outputs.push((
                "cloud.account.id".into(),
                vec![(
                    0.6,
                    format!(
                        "nullif(regexp_extract({}, {}, {g}), '')",
                        f.expr,
                        lit(re.as_str())
                    ),
                )],
            ));
        }
    }
    // A record whose only time is when something started was logged then.
    if !outputs.iter().any(|(n, _)| n == "@timestamp")
        && let Some((_, es)) = outputs.iter().find(|(n, _)| n == "event.start")
    {
        let es = es.iter().map(|(c, e)| (c * 0.9, e.clone())).collect();
        outputs.push(("@timestamp".into(), es));
    }
    // The transport a template's literal text states, when no field names it.
    if !outputs.iter().any(|(n, _)| n == "network.transport")
        && let Some(e) = template_transport(&slot_templates)
    {
        outputs.push(("network.transport".into(), vec![(0.5, e)]));
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
    let stages = assemble(Draft {
        extract: &extract,
        assigns,
        consumed: &consumed,
        object_columns: &object_columns,
        prefix,
        key_prefix: &key_prefix,
        targets: &targets,
        renames,
        categorize: &categorize,
    });

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
        // The indicator's type in ECS's vocabulary (STIX 2.0 cyber-observable names).
        (
            "threat.indicator.type".into(),
            format!(
                "CASE WHEN is_ipv4({x}) OR regexp_like({x}, {v4}) THEN 'ipv4-addr' \
                 WHEN is_ipv6({x}) OR regexp_like({x}, {v6}) THEN 'ipv6-addr' \
                 WHEN regexp_like({x}, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN 'url' \
                 WHEN regexp_like({x}, {md5}) OR regexp_like({x}, {sha1}) OR regexp_like({x}, {sha256}) THEN 'file' \
                 WHEN regexp_like({x}, '^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{{2,}}$') THEN 'email-addr' \
                 WHEN regexp_like({x}, '^([A-Za-z0-9-]+\\.)+[A-Za-z]{{2,}}$') THEN 'domain-name' END",
                v4 = lit(v4_port),
                v6 = lit(v6_port),
                md5 = lit(&hex(32)),
                sha1 = lit(&hex(40)),
                sha256 = lit(&hex(64)),
            ),
        ),
    ]
}

/// The reference time as the clock the preview runs with (`now()` in the rule).
fn reference_clock(options: &SuggestOptions) -> Option<crate::event::Timestamp> {
    let t = options.reference_time.as_deref()?;
    let d = chrono::DateTime::parse_from_rfc3339(t).ok()?;
    Some(crate::event::Timestamp::utc(
        d.timestamp_nanos_opt().unwrap_or_default(),
    ))
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
