//! Categorization stage: `event.kind`, `event.category`, `event.type` and `event.outcome`
//! from the detected format, the model fields present, message rules, learned action words
//! and product hints; the questions an advisor may answer about it.

use super::advice::{CategoryHint, CategoryQuestion, PatternQuestion};
use super::detect::{Detection, Payload};
use super::knowledge::ACTION_RULES;
use super::map::RawField;
use super::synth::{ident, lit};
use super::templates::Template;
use regex::Regex;

/// What the detected format says about the events' kind.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kinds {
    /// A web server's error log: category `web`, type from the level.
    pub(super) web_error: bool,
    /// An intrusion detection product: events naming a rule are alerts.
    pub(super) ids: bool,
    /// The records name alerts or detections.
    pub(super) alert: bool,
    /// The records are threat-intelligence indicators.
    pub(super) indicator: bool,
}

/// `network.type` from the address family of a source/destination IP pair, for plain network
/// traffic only: not when the events are web requests or name an application protocol (where
/// references seldom set it).
pub(super) fn network_type(targets: &[String]) -> Option<String> {
    let has = |t: &str| targets.iter().any(|x| x == t);
    let web = targets
        .iter()
        .any(|t| t.starts_with("http.") || t.starts_with("url."));
    if !has("source.ip") || !has("destination.ip") || has("network.type") {
        return None;
    }
    if web || has("network.protocol") {
        return None;
    }
    let (s, d) = (ident("source.ip"), ident("destination.ip"));
    Some(format!(
        "{} = CASE WHEN is_ipv4({s}) AND is_ipv4({d}) THEN 'ipv4' WHEN is_ipv6({s}) AND is_ipv6({d}) THEN 'ipv6' ELSE NULL END",
        ident("network.type")
    ))
}

/// `network.bytes` / `network.packets` as the sum of the two directions (the ECS definition),
/// when a direction is known and the total is not.
pub(super) fn totals(targets: &[String]) -> Vec<String> {
    let has = |t: &str| targets.iter().any(|x| x == t);
    let mut out = Vec::new();
    for unit in ["bytes", "packets"] {
        let (s, d, n) = (
            format!("source.{unit}"),
            format!("destination.{unit}"),
            format!("network.{unit}"),
        );
        if has(&n) || !(has(&s) || has(&d)) {
            continue;
        }
        let (si, di) = (ident(&s), ident(&d));
        let sum = match (has(&s), has(&d)) {
            (true, true) => format!(
                "CASE WHEN {si} IS NULL AND {di} IS NULL THEN NULL ELSE coalesce({si}, 0) + coalesce({di}, 0) END"
            ),
            (true, false) => si,
            _ => di,
        };
        out.push(format!("{} = {sum}", ident(&n)));
    }
    out
}

/// `event.action` from the product's message id or verb ([`ACTION_RULES`]), matched on the raw
/// event, when no extracted field supplies it and some sample matches.
pub(super) fn action(raw: &[String], targets: &[String]) -> Option<String> {
    action_expr(raw, targets).map(|a| format!("{} = {a}", ident("event.action")))
}

/// The expression of [`action`].
pub(super) fn action_expr(raw: &[String], targets: &[String]) -> Option<String> {
    if targets.iter().any(|t| t == "event.action") {
        return None;
    }
    let matching: Vec<_> = ACTION_RULES
        .iter()
        .filter(|(p, _)| {
            let re = Regex::new(p).expect("action rule");
            raw.iter().any(|t| re.is_match(t))
        })
        .collect();
    if matching.is_empty() {
        return None;
    }
    let mut a = String::from("CASE");
    for (p, action) in matching {
        a.push_str(&format!(
            " WHEN regexp_like(\"content\", {}) THEN {}",
            lit(p),
            lit(action)
        ));
    }
    a.push_str(" ELSE NULL END");
    Some(a)
}

/// `event.kind/category/type/outcome` expressions.
pub(super) fn categorization(
    templates: &[Template],
    text_field: &str,
    targets: &[String],
    texts: &[String],
    kinds: Kinds,
    hints: &[CategoryHint],
    // The product entry's rules, then the learned ones: the first go before the message rules.
    (product_rules, learned_rules): (&[LearnedRule], &[LearnedRule]),
) -> Vec<String> {
    let has = |t: &str| targets.iter().any(|x| x == t);
    if !hints.is_empty() {
        return hinted_categorization(hints, text_field, targets, kind_of(kinds, targets));
    }
    let kind = kind_of(kinds, targets);
    let mut out = vec![format!("{} = {kind}", ident("event.kind"))];
    if kinds.indicator {
        out[0] = format!("{} = 'enrichment'", ident("event.kind"));
        out.push(format!("{} = ARRAY['threat']", ident("event.category")));
        out.push(format!("{} = ARRAY['indicator']", ident("event.type")));
        return out;
    }
    if kinds.web_error {
        out.push(format!("{} = ARRAY['web']", ident("event.category")));
        if has("log.level") {
            out.push(format!(
                "{} = CASE WHEN \"log.level\" IS NULL THEN NULL WHEN \"log.level\" IN ('notice', 'info', 'debug', 'trace') THEN ARRAY['info'] ELSE ARRAY['error'] END",
                ident("event.type")
            ));
        }
        return out;
    }
    // Default category from the fields present.
    let web = has("http.request.method") || has("http.response.status_code");
    // Traffic has a destination; an address alone (the client of an audit or sign-in
    // event) does not make an event network traffic.
    let (def_cat, def_type) = if web && has("destination.ip") && has("destination.port") {
        // A web request with both server endpoints is also a network connection.
        ("web+network", "access")
    } else if web {
        ("web", "access")
    } else if has("dns.question.name") {
        // A DNS query and its answer.
        ("network", "protocol")
    } else if has("destination.ip") || has("destination.port") {
        ("network", "connection")
    } else {
        ("", "")
    };
    // Message rules that match some sample.
    let rules: Vec<_> = super::knowledge::category_rules()
        .iter()
        .zip(CATEGORY_RES.iter())
        .filter(|(_, re)| {
            texts.iter().any(|t| re.is_match(t)) || templates.iter().any(|t| re.is_match(&t.text()))
        })
        .map(|(r, _)| r)
        .collect();
    let arr = |xs: &[&str]| {
        format!(
            "ARRAY[{}]",
            xs.iter().map(|x| lit(x)).collect::<Vec<_>>().join(", ")
        )
    };
    let field = ident(text_field);
    let mut cat = String::from("CASE");
    let mut ty = String::from("CASE");
    let mut outcome = String::from("CASE");
    let push_learned =
        |rs: &[LearnedRule], cat: &mut String, ty: &mut String, outcome: &mut String| {
            for r in rs {
                let values = if r.values.is_empty() {
                    "NULL".to_string()
                } else if r.field == "event.outcome" {
                    lit(&r.values[0])
                } else {
                    arr(&r.values.iter().map(String::as_str).collect::<Vec<_>>())
                };
                let when = format!(" WHEN {} THEN {values}", r.cond);
                match r.field.as_str() {
                    "event.category" => cat.push_str(&when),
                    "event.type" => ty.push_str(&when),
                    "event.outcome" => outcome.push_str(&when),
                    _ => {}
                }
            }
        };
    push_learned(product_rules, &mut cat, &mut ty, &mut outcome);
    for r in &rules {
        let cond = format!(
            "regexp_like({field}, {})",
            lit(&format!("(?i){}", r.pattern))
        );
        cat.push_str(&format!(" WHEN {cond} THEN {}", arr(&strs(&r.category))));
        let t = if r.ty.is_empty() {
            "NULL".to_string()
        } else {
            arr(&strs(&r.ty))
        };
        ty.push_str(&format!(" WHEN {cond} THEN {t}"));
        if !r.outcome.is_empty() {
            outcome.push_str(&format!(" WHEN {cond} THEN {}", lit(&r.outcome)));
        }
    }
    push_learned(learned_rules, &mut cat, &mut ty, &mut outcome);
    if has("http.response.status_code") {
        outcome.push_str(
            " WHEN \"http.response.status_code\" >= 400 THEN 'failure' WHEN \"http.response.status_code\" > 0 THEN 'success'",
        );
    }
    let finish = |mut s: String, default: String| {
        if s == "CASE" {
            return default;
        }
        s.push_str(&format!(" ELSE {default} END"));
        s
    };
    let cat = finish(
        cat,
        if def_cat.is_empty() {
            "NULL".into()
        } else {
            arr(&def_cat.split('+').collect::<Vec<_>>())
        },
    );
    let ty = finish(
        ty,
        if def_type.is_empty() && has("log.level") {
            // An application's own log: errors by level, information otherwise.
            "CASE WHEN regexp_like(lower(\"log.level\"), '^(err|error|crit|critical|fatal|alert|emerg|emergency|severe|ftl)') THEN ARRAY['error'] ELSE ARRAY['info'] END".into()
        } else if def_type.is_empty() {
            "ARRAY['info']".into()
        } else if def_type == "connection" && has("event.action") {
            // A firewall's verdict says whether the connection was allowed.
            let a = ident("event.action");
            format!(
                "CASE WHEN lower({a}) IN ('accept', 'accepted', 'allow', 'allowed', 'permit', 'pass', 'forward') THEN ARRAY['allowed', 'connection'] WHEN lower({a}) IN ('deny', 'denied', 'drop', 'dropped', 'reject', 'rejected', 'block', 'blocked') THEN ARRAY['denied', 'connection'] ELSE ARRAY['connection'] END"
            )
        } else {
            arr(&[def_type])
        },
    );
    // An audit record of an identity, session or configuration change that
    // states no failure records something that was done: its outcome is a success.
    let audit: Vec<String> = AUDIT_SUCCESS
        .iter()
        .filter(|k| cat.contains(&lit(k)))
        .map(|k| format!("contains({cat}, {})", lit(k)))
        .collect();
    let outcome = finish(
        outcome,
        if audit.is_empty() {
            "NULL".into()
        } else {
            format!(
                "CASE WHEN {} THEN 'success' ELSE NULL END",
                audit.join(" OR ")
            )
        },
    );
    if cat != "NULL" {
        out.push(format!("{} = {cat}", ident("event.category")));
    }
    if ty != "NULL" {
        out.push(format!("{} = {ty}", ident("event.type")));
    }
    if outcome != "NULL" && !has("event.outcome") {
        out.push(format!("{} = {outcome}", ident("event.outcome")));
    }
    out
}

/// Categories whose records state a failure when there was one (see the outcome default).
pub(super) const AUDIT_SUCCESS: [&str; 3] = ["iam", "session", "configuration"];

/// A categorization learned from other products' action words: when `cond` holds, `field`
/// takes `values`.
#[derive(Debug, Clone)]
pub(super) struct LearnedRule {
    pub(super) field: String,
    pub(super) cond: String,
    pub(super) values: Vec<String>,
}

/// Products that must have used an action word before its vote counts.
pub(super) const ACTION_MIN_PRODUCTS: usize = 2;

/// Distinct action values looked at.
pub(super) const MAX_ACTION_VALUES: usize = 40;

/// Categorization from the action values of the samples: each distinct value gets what its
/// words vote for (`WHEN lower(action) = 'user.session.end'`), then the words that decided
/// become patterns, so that actions not in the samples are categorized by the same words.
pub(super) fn action_rules(
    learned: &super::learned::Learned,
    action: &str,
    values: &[String],
) -> Vec<LearnedRule> {
    let mut exact: Vec<LearnedRule> = Vec::new();
    let mut by_word: Vec<LearnedRule> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut vocabulary_used = false;
    for v in values {
        let lv = v.to_lowercase();
        if seen.contains(&lv) || seen.len() >= MAX_ACTION_VALUES {
            continue;
        }
        seen.push(lv.clone());
        let mut decided = learned.categorize_action(v, ACTION_MIN_PRODUCTS);
        decided.retain(|(_, vals)| !vals.is_empty());
        // The action vocabulary decides what learned knowledge leaves open.
        if let Some(m) = super::actions::meaning(v) {
            let prior = [
                ("event.category", m.category.clone()),
                ("event.type", m.ty.clone()),
                ("event.outcome", m.outcome.iter().cloned().collect()),
            ];
            // The object a name states decides its category over word statistics.
            if !m.category.is_empty() {
                decided.retain(|(f, _)| f != "event.category");
            }
            for (field, vals) in prior {
                if vals.is_empty() || decided.iter().any(|(f, _)| f == field) {
                    continue;
                }
                exact.push(LearnedRule {
                    field: field.to_string(),
                    cond: format!("lower({action}) = {}", lit(&lv)),
                    values: vals.clone(),
                });
            }
            vocabulary_used = true;
        }
        for (field, vals) in decided {
            exact.push(LearnedRule {
                field: field.clone(),
                cond: format!("lower({action}) = {}", lit(&lv)),
                values: vals.clone(),
            });
            // The single words of the value that alone vote the same.
            for stem in super::learned::action_stems(v) {
                let alone = learned.categorize_action(&stem, ACTION_MIN_PRODUCTS);
                if alone.iter().any(|(f, vs)| *f == field && *vs == vals)
                    && stem.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    let cond = format!(
                        "regexp_like(lower({action}), {})",
                        lit(&format!("(^|[^a-z]){stem}"))
                    );
                    if !by_word.iter().any(|r| r.field == field && r.cond == cond) {
                        by_word.push(LearnedRule {
                            field: field.clone(),
                            cond,
                            values: vals.clone(),
                        });
                    }
                }
            }
        }
    }
    exact.extend(by_word);
    // The vocabulary's words, for actions not in the samples (`deleteUser` after
    // `createUser`), when it explained some sample action.
    if vocabulary_used {
        // A negated action (`not blocked`) takes nothing from its words.
        let negated = format!(
            "regexp_like(lower({action}), {})",
            lit(&super::actions::negation_pattern())
        );
        for field in ["event.category", "event.type"] {
            exact.push(LearnedRule {
                field: field.to_string(),
                cond: negated.clone(),
                values: Vec::new(),
            });
        }
        for (field, pattern, values) in super::actions::word_rules() {
            exact.push(LearnedRule {
                field: field.to_string(),
                cond: format!("regexp_like({action}, {})", lit(&pattern)),
                values,
            });
        }
    }
    exact
}

/// `event.outcome` from a field whose sample values all state an outcome (`result: SUCCESS`,
/// DNS response codes): the rule maps every outcome word of the table, not only the ones
/// seen, so new lines with the other outcome are categorized too.
pub(super) fn outcome_rules(fields: &[RawField]) -> Vec<LearnedRule> {
    let Some(f) = fields.iter().find(|f| {
        !f.values.is_empty()
            && f.values
                .iter()
                .all(|v| super::entities::outcome_of(v).is_some())
    }) else {
        return Vec::new();
    };
    let (success, failure) = super::entities::outcome_words();
    let list = |ws: &[String]| ws.iter().map(|w| lit(w)).collect::<Vec<_>>().join(", ");
    let x = format!("lower(trim({}))", f.expr);
    vec![
        LearnedRule {
            field: "event.outcome".into(),
            cond: format!("{x} IN ({})", list(success)),
            values: vec!["success".into()],
        },
        LearnedRule {
            field: "event.outcome".into(),
            cond: format!("{x} IN ({})", list(failure)),
            values: vec!["failure".into()],
        },
    ]
}

/// `event.kind`: alerts for IDS events naming a rule, events otherwise.
pub(super) fn kind_of(kinds: Kinds, targets: &[String]) -> &'static str {
    let has = |t: &str| targets.iter().any(|x| x == t);
    if (kinds.ids && (has("rule.id") || has("rule.name"))) || kinds.alert {
        "'alert'"
    } else {
        "'event'"
    }
}

/// Categorization from the caller's hints: the first hint whose pattern matches wins; a hint
/// without a pattern covers every event.
pub(super) fn hinted_categorization(
    hints: &[CategoryHint],
    text_field: &str,
    targets: &[String],
    kind: &str,
) -> Vec<String> {
    let has = |t: &str| targets.iter().any(|x| x == t);
    let arr = |xs: &[String]| {
        if xs.is_empty() {
            "NULL".to_string()
        } else {
            format!(
                "ARRAY[{}]",
                xs.iter().map(|x| lit(x)).collect::<Vec<_>>().join(", ")
            )
        }
    };
    let case = |value: &dyn Fn(&CategoryHint) -> String| {
        hint_case(hints, text_field, &|h: &CategoryHint| Some(value(h)))
    };
    let mut out = vec![format!("{} = {kind}", ident("event.kind"))];
    out.push(format!(
        "{} = {}",
        ident("event.category"),
        case(&|h| arr(&h.category))
    ));
    out.push(format!(
        "{} = {}",
        ident("event.type"),
        case(&|h| arr(&h.ty))
    ));
    if !has("event.outcome") && hints.iter().any(|h| h.outcome.is_some()) {
        out.push(format!(
            "{} = {}",
            ident("event.outcome"),
            case(&|h| h.outcome.as_deref().map_or("NULL".into(), lit))
        ));
    }
    out
}

/// `event.action` from the hints, then from the product's message ids and verbs.
pub(super) fn hinted_action(
    hints: &[CategoryHint],
    text_field: &str,
    raw: &[String],
    targets: &[String],
) -> Option<String> {
    if targets.iter().any(|t| t == "event.action") || !hints.iter().any(|h| h.action.is_some()) {
        return action(raw, targets);
    }
    let hinted = hint_case(hints, text_field, &|h: &CategoryHint| {
        h.action.as_deref().map(lit)
    });
    let e = match action_expr(raw, targets) {
        Some(rules) => format!("coalesce({rules}, {hinted})"),
        None => hinted,
    };
    Some(format!("{} = {e}", ident("event.action")))
}

/// `CASE WHEN <pattern matches> THEN <value> ... ELSE <pattern-less hint's value> END` over
/// the hints, in order; a hint whose `value` is `None` takes no part.
pub(super) fn hint_case(
    hints: &[CategoryHint],
    text_field: &str,
    value: &dyn Fn(&CategoryHint) -> Option<String>,
) -> String {
    let field = ident(text_field);
    let mut s = String::from("CASE");
    let mut default = "NULL".to_string();
    for h in hints {
        let Some(v) = value(h) else { continue };
        match &h.pattern {
            Some(p) => s.push_str(&format!(" WHEN regexp_like({field}, {}) THEN {v}", lit(p))),
            None => default = v,
        }
    }
    if s == "CASE" {
        default
    } else {
        format!("{s} ELSE {default} END")
    }
}

/// Borrowed views of owned strings, for [`lit`]-style helpers over `&[&str]`.
pub(super) fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Up to `n` distinct non-empty values.
pub(super) fn distinct(values: &[String], n: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !v.is_empty() && !out.contains(v) {
            out.push(v.chars().take(200).collect());
            if out.len() == n {
                break;
            }
        }
    }
    out
}

/// Categorization questions: one per mined template that no message rule explains; for
/// structured payloads, one for the stream when no rule matches any sample.
pub(super) fn category_questions(
    det: &Detection,
    templates: &[Template],
    texts: &[String],
    raw: &[String],
    patterns: &[(String, Vec<String>)],
) -> Vec<CategoryQuestion> {
    let rule_hits = |t: &str| CATEGORY_RES.iter().any(|re| re.is_match(t));
    let mut out = Vec::new();
    if det.payload == Payload::Text {
        // Mined templates, then extra patterns: (what to show, the pattern to match).
        let groups = templates
            .iter()
            .map(|t| (t.text(), t.regex()))
            .chain(patterns.iter().map(|(p, _)| (p.clone(), p.clone())));
        for (template, pattern) in groups {
            let Ok(re) = Regex::new(&pattern) else {
                continue;
            };
            let examples: Vec<String> = texts
                .iter()
                .filter(|x| re.is_match(x))
                .take(3)
                .cloned()
                .collect();
            if examples.is_empty() || examples.iter().any(|e| rule_hits(e)) {
                continue;
            }
            out.push(CategoryQuestion {
                template,
                examples,
                pattern: Some(pattern),
            });
        }
    } else if !raw.iter().any(|t| rule_hits(t)) {
        out.push(CategoryQuestion {
            template: String::new(),
            examples: raw
                .iter()
                .take(3)
                .map(|s| s.chars().take(2000).collect())
                .collect(),
            pattern: None,
        });
    }
    out.truncate(super::advice::MAX_CATEGORIES);
    out
}

/// Free-text lines that no template, known message or pattern splits: one question.
pub(super) fn pattern_questions(
    det: &Detection,
    templates: &[Template],
    texts: &[String],
    known_hit: &[bool],
) -> Vec<PatternQuestion> {
    if det.payload != Payload::Text {
        return Vec::new();
    }
    let res: Vec<Regex> = templates
        .iter()
        .filter_map(|t| Regex::new(&t.regex()).ok())
        .collect();
    let mut lines: Vec<String> = Vec::new();
    for (t, k) in texts.iter().zip(known_hit) {
        if !*k && !t.trim().is_empty() && !res.iter().any(|r| r.is_match(t)) && !lines.contains(t) {
            lines.push(t.clone());
            if lines.len() == 10 {
                break;
            }
        }
    }
    if lines.is_empty() {
        return Vec::new();
    }
    vec![PatternQuestion { lines }]
}

/// The message categorization rules' patterns (`knowledge::category_rules`), compiled once, case-insensitive.
pub(super) static CATEGORY_RES: std::sync::LazyLock<Vec<Regex>> = std::sync::LazyLock::new(|| {
    super::knowledge::category_rules()
        .iter()
        .map(|r| Regex::new(&format!("(?i){}", r.pattern)).expect("category rule"))
        .collect()
});
