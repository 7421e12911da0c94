//! What the engine is unsure about (questions), an advisor's answers, and the validation that
//! decides which answers are kept: every proposal is applied to the rule, the rule is compiled
//! and run on the samples, and the proposal is dropped if any measure gets worse.
//!
//! The advisor (an LLM, see `crate::llm::advisor`) can only choose among offered options or
//! propose a regular expression that is then compiled and matched here: nothing it says is
//! executed or trusted as is.

use super::knowledge::{CONTEXT, PRODUCT_SYNONYMS, SYNONYMS};
use super::map::{self, RawField};
use super::suggest::{SuggestOptions, Suggestion, suggest};
use crate::diagnostic::{Diagnostic, Severity, codes};
use regex::Regex;
use serde::Serialize;

/// Fields mapped with less confidence than this are offered to the advisor.
pub const UNSURE: f64 = 0.5;
/// At most this many field questions per suggestion (latency is bounded by the question count).
pub const MAX_FIELDS: usize = 12;
/// At most this many categorization questions per suggestion.
pub const MAX_CATEGORIES: usize = 6;
/// Candidate targets offered per field.
pub const MAX_CANDIDATES: usize = 12;
/// The answer that keeps the engine's choice.
pub const NONE: &str = "none";

/// A field the engine mapped with low confidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldQuestion {
    pub source: String,
    /// The value type's name (`ipv4`, `keyword`, ...).
    pub ty: String,
    /// Up to five distinct sample values.
    pub values: Vec<String>,
    /// Literal words before the value in the message, nearest last.
    pub context: Vec<String>,
    /// The engine's choice and its confidence.
    pub guess: String,
    pub confidence: f64,
    /// ECS fields the answer must come from (besides [`NONE`]).
    pub candidates: Vec<String>,
}

/// A message type (template) or a stream whose categorization no rule explains.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryQuestion {
    /// The template with `<*>` for variable parts; empty for a structured stream.
    pub template: String,
    /// Up to three example events.
    pub examples: Vec<String>,
    /// The pattern (on the message text) the answer will apply to; `None`: every event.
    pub pattern: Option<String>,
}

/// Free-text lines nothing splits into fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatternQuestion {
    pub lines: Vec<String>,
}

/// Everything the engine would like a second opinion on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unsure {
    pub fields: Vec<FieldQuestion>,
    pub categories: Vec<CategoryQuestion>,
    pub patterns: Vec<PatternQuestion>,
}

impl Unsure {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.categories.is_empty() && self.patterns.is_empty()
    }
}

/// An answer to a [`CategoryQuestion`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryAnswer {
    pub category: Vec<String>,
    pub ty: Vec<String>,
    pub outcome: Option<String>,
    pub action: Option<String>,
}

/// Categorization for the events matching `pattern` (all events when `None`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryHint {
    pub pattern: Option<String>,
    pub category: Vec<String>,
    pub ty: Vec<String>,
    pub outcome: Option<String>,
    pub action: Option<String>,
}

/// The advisor's answers, one per question and in order; `Err` carries why there is no
/// usable answer (transport error, malformed answer...). Missing answers count as none.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    /// A target from the candidates, or [`NONE`].
    pub fields: Vec<Result<String, String>>,
    pub categories: Vec<Result<CategoryAnswer, String>>,
    /// A regular expression with named groups.
    pub patterns: Vec<Result<String, String>>,
}

/// Refines what the engine is unsure about (an LLM implements it; the default answers nothing).
pub trait Advisor {
    /// Answers the questions; called at most once per suggestion.
    fn advise(&self, questions: &Unsure) -> Answers {
        let _ = questions;
        Answers::default()
    }
}

/// The advisor that never answers.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAdvisor;

impl Advisor for NoAdvisor {}

/// One proposal and what validation made of it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdviceRecord {
    /// `field`, `category` or `pattern`.
    pub kind: String,
    /// What was asked about (a field name, a template, the unsplit lines).
    pub subject: String,
    /// What the advisor proposed.
    pub proposal: String,
    pub kept: bool,
    pub reason: String,
    /// Kept and changing the rule (an answer that confirms the engine's choice is kept but
    /// changes nothing).
    #[serde(skip)]
    pub changed: bool,
}

/// The measures a proposal must not make worse.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Measures {
    compiled: bool,
    /// Share of samples parsed.
    parsed: f64,
    /// Model and run diagnostics (warnings and errors).
    problems: usize,
    /// ECS (non-vendor) output fields with a value in some sample.
    ecs_filled: usize,
}

fn measures(s: &Suggestion, prefix: &str) -> Measures {
    Measures {
        compiled: !s.diagnostics.iter().any(|d| d.code == codes::RULE_REJECTED),
        parsed: s.coverage.parsed,
        problems: s
            .diagnostics
            .iter()
            .filter(|d| matches!(d.severity, Severity::Warning | Severity::Error))
            .count(),
        ecs_filled: s
            .coverage
            .fill
            .iter()
            .filter(|(t, f)| *f > 0.0 && !t.starts_with(prefix))
            .count(),
    }
}

/// Why `after` is worse than `before`, if it is.
fn worse(before: Measures, after: Measures) -> Option<String> {
    if before.compiled && !after.compiled {
        return Some("the rule no longer compiles".into());
    }
    if after.parsed + 1e-9 < before.parsed {
        return Some(format!(
            "parsed samples fell from {:.0}% to {:.0}%",
            before.parsed * 100.0,
            after.parsed * 100.0
        ));
    }
    if after.problems > before.problems {
        return Some(format!(
            "diagnostics rose from {} to {}",
            before.problems, after.problems
        ));
    }
    if after.ecs_filled < before.ecs_filled {
        return Some(format!(
            "filled model fields fell from {} to {}",
            before.ecs_filled, after.ecs_filled
        ));
    }
    None
}

/// The vendor prefix of a suggestion (the prefix of its vendor-kept fields), for measures.
fn vendor_prefix(s: &Suggestion) -> String {
    s.fields
        .iter()
        .find(|f| f.reason.starts_with("no model field fits"))
        .and_then(|f| f.target.rsplit_once('.').map(|(p, _)| format!("{p}.")))
        .unwrap_or_else(|| "vendor.".into())
}

/// The suggestion loop with an advisor: the engine's answer, the advisor's proposals each
/// validated on its own, then all kept proposals together (validated again).
pub fn refine(
    samples: &[String],
    options: &SuggestOptions,
    advisor: &dyn Advisor,
) -> Result<Suggestion, Diagnostic> {
    let base = suggest(samples, options)?;
    if base.unsure.is_empty() {
        return Ok(base);
    }
    let questions = base.unsure.clone();
    let answers = advisor.advise(&questions);
    let prefix = vendor_prefix(&base);
    let base_m = measures(&base, &prefix);
    let mut records = Vec::new();
    let mut kept = options.clone();

    // Patterns first: they create fields the other answers may refer to.
    for (q, a) in questions.patterns.iter().zip(&answers.patterns) {
        let subject = format!("{} unsplit line(s)", q.lines.len());
        let rec = |proposal: &str, ok: bool, reason: String| AdviceRecord {
            kind: "pattern".into(),
            subject: subject.clone(),
            proposal: proposal.into(),
            kept: ok,
            reason,
            changed: ok,
        };
        let p = match a {
            Err(e) => {
                records.push(rec("", false, format!("no answer: {e}")));
                continue;
            }
            // Unnamed groups only group: made non-capturing (the matches are the same).
            Ok(p) => &without_unnamed_captures(p),
        };
        if let Err(e) = check_pattern(p, &q.lines) {
            records.push(rec(p, false, e));
            continue;
        }
        let mut trial = kept.clone();
        trial.patterns.push(p.clone());
        match verdict(samples, &trial, base_m, &prefix) {
            Ok(()) => {
                records.push(rec(p, true, format!("matches all {} lines", q.lines.len())));
                kept = trial;
            }
            Err(e) => records.push(rec(p, false, e)),
        }
    }

    for (q, a) in questions.fields.iter().zip(&answers.fields) {
        let rec = |proposal: &str, ok: bool, reason: String| AdviceRecord {
            kind: "field".into(),
            subject: q.source.clone(),
            proposal: proposal.into(),
            kept: ok,
            reason,
            changed: ok,
        };
        let t = match a {
            Err(e) => {
                records.push(rec("", false, format!("no answer: {e}")));
                continue;
            }
            Ok(t) => t,
        };
        if t == NONE || *t == q.guess {
            records.push(AdviceRecord {
                changed: false,
                ..rec(t, true, format!("keeps the engine's `{}`", q.guess))
            });
            continue;
        }
        if !q.candidates.contains(t) {
            records.push(rec(t, false, "not one of the offered fields".into()));
            continue;
        }
        if base.fields.iter().any(|f| f.target == *t)
            || kept
                .overrides
                .iter()
                .any(|(_, k)| k.as_deref() == Some(t.as_str()))
        {
            records.push(rec(
                t,
                false,
                format!("`{t}` is already filled by another field"),
            ));
            continue;
        }
        if let Err(e) = plausible(t, &q.values) {
            records.push(rec(t, false, e));
            continue;
        }
        let mut trial = kept.clone();
        trial.overrides.push((q.source.clone(), Some(t.clone())));
        match verdict(samples, &trial, base_m, &prefix) {
            Ok(()) => {
                records.push(rec(t, true, format!("replaces `{}`", q.guess)));
                kept = trial;
            }
            Err(e) => records.push(rec(t, false, e)),
        }
    }

    for (q, a) in questions.categories.iter().zip(&answers.categories) {
        let subject = if q.template.is_empty() {
            "all events".to_string()
        } else {
            q.template.clone()
        };
        let rec = |proposal: String, ok: bool, reason: String| AdviceRecord {
            kind: "category".into(),
            subject: subject.clone(),
            proposal,
            kept: ok,
            reason,
            changed: ok,
        };
        let a = match a {
            Err(e) => {
                records.push(rec(String::new(), false, format!("no answer: {e}")));
                continue;
            }
            Ok(a) => a,
        };
        let shown = format!(
            "category {:?}, type {:?}, outcome {}, action {}",
            a.category,
            a.ty,
            a.outcome.as_deref().unwrap_or("-"),
            a.action.as_deref().unwrap_or("-")
        );
        match check_category(a) {
            Err(e) => records.push(rec(shown, false, e)),
            Ok(a) => {
                let mut trial = kept.clone();
                trial.categories.push(CategoryHint {
                    pattern: q.pattern.clone(),
                    category: a.category.clone(),
                    ty: a.ty.clone(),
                    outcome: a.outcome.clone(),
                    action: a.action.clone(),
                });
                match verdict(samples, &trial, base_m, &prefix) {
                    Ok(()) => {
                        records.push(rec(shown, true, "allowed values; rule validated".into()));
                        kept = trial;
                    }
                    Err(e) => records.push(rec(shown, false, e)),
                }
            }
        }
    }

    if records.iter().all(|r| !r.changed) {
        let mut out = base;
        out.advice = records;
        return Ok(out);
    }
    let mut out = suggest(samples, &kept)?;
    if let Some(e) = worse(base_m, measures(&out, &prefix)) {
        let mut base = base;
        for r in &mut records {
            if r.changed {
                r.kept = false;
                r.changed = false;
                r.reason = format!("dropped: together the proposals made the rule worse ({e})");
            }
        }
        base.advice = records;
        return Ok(base);
    }
    // Fields the advisor remapped: say so (the override mechanism calls them user-set).
    for f in &mut out.fields {
        if let Some(r) = records.iter().find(|r| {
            r.kind == "field" && r.changed && r.subject == f.source && r.proposal == f.target
        }) && !options.overrides.iter().any(|(s, _)| *s == f.source)
        {
            f.confidence = 0.7;
            f.reason = format!("LLM proposal, validated on the samples ({})", r.reason);
        }
    }
    out.advice = records;
    Ok(out)
}

/// Whether the sample values look like values of `target`: ECS fields have shapes beyond their
/// type (a protocol is a lower-case name, a geo point a coordinate pair, a command line or
/// an application name is not a bare number).
fn plausible(target: &str, values: &[String]) -> Result<(), String> {
    const PLACEHOLDERS: &[&str] = &["", "-", "none", "null", "n/a", "na", "unknown", "0"];
    let real: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !PLACEHOLDERS.contains(&v.to_ascii_lowercase().as_str()))
        .collect();
    if real.is_empty() {
        return Err("the sample values are only placeholders".into());
    }
    let leaf = target.rsplit('.').next().unwrap_or(target);
    let bad = |why: &str| Err(format!("values such as `{}` are not {why}", real[0]));
    if target.ends_with(".geo.location")
        && !real.iter().all(|v| {
            let mut parts = v.split(',');
            let ok = |p: Option<&str>| p.is_some_and(|p| p.trim().parse::<f64>().is_ok());
            ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
        })
    {
        return bad("latitude,longitude pairs");
    }
    if matches!(target, "network.protocol" | "network.transport")
        && !real.iter().all(|v| {
            v.len() <= 16
                && v.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    {
        return bad("protocol names");
    }
    if matches!(
        leaf,
        "command_line" | "path" | "name" | "appname" | "original" | "domain"
    ) && real.iter().any(|v| v.chars().all(|c| c.is_ascii_digit()))
    {
        return bad("names, paths or command lines");
    }
    if leaf == "appname" && real.iter().any(|v| v.contains(' ')) {
        return bad("application names (they have spaces)");
    }
    Ok(())
}

/// Runs the trial options; `Err` says why the result is worse than the base.
fn verdict(
    samples: &[String],
    trial: &SuggestOptions,
    base: Measures,
    prefix: &str,
) -> Result<(), String> {
    let s = suggest(samples, trial).map_err(|d| format!("no rule: {}", d.message))?;
    match worse(base, measures(&s, prefix)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The pattern with every unnamed capturing group made non-capturing (`(a|b)` → `(?:a|b)`),
/// which matches exactly the same text; the pattern unchanged when it does not parse.
pub fn without_unnamed_captures(p: &str) -> String {
    use regex_syntax::ast::{Ast, Flags, GroupKind, parse::Parser, print::Printer};
    fn walk(ast: &mut Ast) {
        match ast {
            Ast::Group(g) => {
                if let GroupKind::CaptureIndex(_) = g.kind {
                    g.kind = GroupKind::NonCapturing(Flags {
                        span: g.span,
                        items: Vec::new(),
                    });
                }
                walk(&mut g.ast);
            }
            Ast::Repetition(r) => walk(&mut r.ast),
            Ast::Alternation(a) => a.asts.iter_mut().for_each(walk),
            Ast::Concat(c) => c.asts.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let Ok(mut ast) = Parser::new().parse(p) else {
        return p.to_string();
    };
    walk(&mut ast);
    let mut out = String::new();
    match Printer::new().print(&ast, &mut out) {
        Ok(()) => out,
        Err(_) => p.to_string(),
    }
}

/// The group names of an extraction pattern: every group must be named with a field-like name.
pub fn pattern_names(p: &str) -> Result<Vec<String>, String> {
    compile_pattern(p).map(|(_, names)| names)
}

/// The compiled pattern and its group names (see [`pattern_names`]).
fn compile_pattern(p: &str) -> Result<(Regex, Vec<String>), String> {
    if p.len() > 2000 {
        return Err("pattern longer than 2,000 characters".into());
    }
    let re =
        Regex::new(p).map_err(|e| format!("does not compile: {}", first_line(&e.to_string())))?;
    let mut names = Vec::new();
    for n in re.capture_names().skip(1) {
        match n {
            None => return Err("has an unnamed group (use (?:...) or (?P<name>...))".into()),
            Some(n) => {
                let ok = n.len() <= 48
                    && n.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && n.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    return Err(format!("group name `{n}` is not a snake_case field name"));
                }
                // The regex crate refuses a name used twice.
                names.push(n.to_string());
            }
        }
    }
    if names.is_empty() {
        return Err("has no named group".into());
    }
    Ok((re, names))
}

fn first_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A pattern is kept only if it compiles, names its groups and matches every asked line.
fn check_pattern(p: &str, lines: &[String]) -> Result<(), String> {
    let (re, _) = compile_pattern(p)?;
    let missed = lines.iter().filter(|l| !re.is_match(l)).count();
    if missed > 0 {
        return Err(format!(
            "does not match {missed} of the {} lines",
            lines.len()
        ));
    }
    Ok(())
}

/// Categorization values must be allowed ECS values, types must suit the categories, and an
/// action must be a short lower-case word.
fn check_category(a: &CategoryAnswer) -> Result<CategoryAnswer, String> {
    let allowed = |field: &str, v: &str| {
        crate::model::allowed_values(field).is_some_and(|xs| xs.iter().any(|x| x == v))
    };
    if a.category.is_empty() {
        return Err("no category".into());
    }
    for c in &a.category {
        if !allowed("event.category", c) {
            return Err(format!("`{c}` is not an allowed event.category"));
        }
    }
    let mut category = a.category.clone();
    category.dedup();
    // Types that suit none of the categories are dropped; none left is an error.
    let mut ty: Vec<String> = Vec::new();
    for t in &a.ty {
        if !allowed("event.type", t) {
            return Err(format!("`{t}` is not an allowed event.type"));
        }
        let fits = category.iter().any(|c| {
            crate::model::allowed_types_for_category(c).is_none_or(|ts| ts.iter().any(|x| x == t))
        });
        if fits && !ty.contains(t) {
            ty.push(t.clone());
        }
    }
    if ty.is_empty() {
        return Err(format!(
            "no event.type of {:?} goes with category {:?}",
            a.ty, category
        ));
    }
    let outcome = match a.outcome.as_deref() {
        None | Some("") => None,
        Some(o) if allowed("event.outcome", o) => Some(o.to_string()),
        Some(o) => return Err(format!("`{o}` is not an allowed event.outcome")),
    };
    let action = match a.action.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(x) => {
            let norm: String = x
                .to_lowercase()
                .chars()
                .map(|c| if c == ' ' || c == '_' { '-' } else { c })
                .collect();
            if norm.len() > 40
                || !norm
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(format!("action `{x}` is not a short lower-case word"));
            }
            Some(norm)
        }
    };
    Ok(CategoryAnswer {
        category,
        ty,
        outcome,
        action,
    })
}

/// Targets of the knowledge tables, then the core ECS fields, once each, in that order.
static SHARED_TARGETS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut seen = std::collections::HashSet::new();
    SYNONYMS
        .iter()
        .map(|(_, t)| *t)
        .chain(CONTEXT.iter().map(|(_, _, t)| *t))
        .chain(
            crate::model::catalog()
                .iter()
                .filter(|d| d.level == "core")
                .map(|d| d.name.as_str()),
        )
        .map(|t| t.trim_end_matches('?'))
        .filter(|t| seen.insert(*t))
        .collect()
});

/// Candidate ECS fields for a field: fields of the knowledge tables and the ECS catalog that
/// accept the field's values and share a word with its name or context (a small model picks
/// well from a short list of plausible options and badly from a long list). Empty when
/// nothing but the engine's own guess is plausible: then there is nothing to ask.
pub fn candidates(f: &RawField, prefix: &str, guess: &str) -> Vec<String> {
    // The product's own targets first, then the shared ones.
    let mut universe: Vec<&str> = Vec::new();
    for (_, _, t) in PRODUCT_SYNONYMS.iter().filter(|(m, _, _)| *m == prefix) {
        let t = t.trim_end_matches('?');
        if !universe.contains(&t) {
            universe.push(t);
        }
    }
    let shared: Vec<&str> = SHARED_TARGETS
        .iter()
        .copied()
        .filter(|t| !universe.contains(t))
        .collect();
    universe.extend(shared);
    // Words that say little on their own: they count only beside a meaningful one.
    let generic = [
        "id",
        "name",
        "type",
        "value",
        "info",
        "data",
        "log",
        "event",
        "msg",
        "version",
        "request",
        "response",
        "code",
        "number",
        "count",
        "time",
        "status",
        "text",
        "string",
        "original",
        "full",
        "address",
        "elements",
        "parameters",
        "properties",
        "key",
        "level",
        "state",
    ];
    // The key itself (not the JSON path above it) and, for template slots, the words before.
    let key = f.source.rsplit(['.', '/']).next().unwrap_or(&f.source);
    let mut words: Vec<String> = if map::is_slot(&f.source) {
        Vec::new()
    } else {
        name_words(key)
    };
    words.extend(f.context.iter().flat_map(|c| name_words(c)));
    words.retain(|w| w.len() >= 2 && !w.chars().all(|c| c.is_ascii_digit()));
    words.dedup();
    let meaningful = |w: &str| !generic.contains(&w);
    let mut scored: Vec<(usize, usize, &str)> = universe
        .iter()
        .enumerate()
        .filter(|(_, t)| map::accepts(t, &f.ty) && !t.starts_with("event.category"))
        // Fields about the collection pipeline, not the event (`event.module`, `agent.*`...).
        .filter(|(_, t)| {
            ![
                "agent.",
                "ecs.",
                "data_stream.",
                "input.",
                "log.file.",
                "elastic_agent.",
            ]
            .iter()
            .any(|p| t.starts_with(p))
                && !matches!(
                    **t,
                    "event.module"
                        | "event.dataset"
                        | "event.ingested"
                        | "event.created"
                        | "log.offset"
                        | "tags"
                        | "labels"
                )
        })
        // Re-used nests (`process.parent.*`, `service.target.*`...) only repeat a base field.
        .filter(|(_, t)| {
            ![
                ".origin.",
                ".target.",
                ".parent.",
                "_leader.",
                ".previous.",
                ".effective.",
            ]
            .iter()
            .any(|n| t.contains(n))
        })
        .filter_map(|(i, t)| {
            let (parent, leaf) = t.rsplit_once('.').unwrap_or(("", t));
            let leaf_words = name_words(leaf);
            let parent_words = name_words(parent);
            let hit = |x: &String| words.iter().any(|w| w == x);
            let leaf_strong = leaf_words
                .iter()
                .filter(|x| meaningful(x) && hit(x))
                .count();
            let leaf_weak = leaf_words
                .iter()
                .filter(|x| !meaningful(x) && hit(x))
                .count();
            let parent_hits = parent_words
                .iter()
                .filter(|x| meaningful(x) && hit(x))
                .count();
            // The field's own name must be what the key says: a meaningful word of its
            // last segment, or a generic one backed by its parent (`userName` → user.name).
            let ok = leaf_strong > 0 || (leaf_weak > 0 && parent_hits > 0);
            ok.then_some((3 * leaf_strong + 2 * parent_hits + leaf_weak, i, *t))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, _, t) in scored {
        if out.len() >= MAX_CANDIDATES {
            break;
        }
        if !out.iter().any(|x| x == t) && t != guess {
            out.push(t.to_string());
        }
    }
    if out.is_empty() {
        return out;
    }
    if !guess.starts_with(&format!("{prefix}.")) && !guess.is_empty() {
        out.insert(0, guess.to_string());
    }
    out
}

/// Lower-case words of a name: split at `.`, `_`, `-` and camelCase humps.
fn name_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_names_must_be_named_snake_case() {
        assert_eq!(
            pattern_names(r"^user (?P<user_name>\S+) from (?P<source_ip>[\d.]+)$").unwrap(),
            vec!["user_name", "source_ip"]
        );
        assert!(
            pattern_names(r"^user (\S+)$")
                .unwrap_err()
                .contains("unnamed")
        );
        assert!(
            pattern_names(r"^user (?P<UserName>\S+)$")
                .unwrap_err()
                .contains("snake_case")
        );
        assert!(
            pattern_names(r"^user \S+$")
                .unwrap_err()
                .contains("no named group")
        );
        assert!(
            pattern_names(r"^user (?P<a>\S+")
                .unwrap_err()
                .contains("compile")
        );
    }

    #[test]
    fn unnamed_groups_become_non_capturing() {
        let p = without_unnamed_captures(r"^(backup (?P<job>\S+) started|(done))$");
        assert_eq!(p, r"^(?:backup (?P<job>\S+) started|(?:done))$");
        assert_eq!(pattern_names(&p).unwrap(), vec!["job"]);
        assert_eq!(without_unnamed_captures("(unclosed"), "(unclosed");
    }

    #[test]
    fn patterns_must_match_every_line() {
        let lines = vec!["ping 10.0.0.1".to_string(), "ping host".to_string()];
        assert!(
            check_pattern(r"^ping (?P<ip>[\d.]+)$", &lines)
                .unwrap_err()
                .contains("1 of the 2")
        );
        assert!(check_pattern(r"^ping (?P<target>\S+)$", &lines).is_ok());
    }

    #[test]
    fn categories_must_be_allowed_and_consistent() {
        let ok = CategoryAnswer {
            category: vec!["authentication".into()],
            ty: vec!["start".into()],
            outcome: Some("failure".into()),
            action: Some("Logon Failed".into()),
        };
        assert_eq!(
            check_category(&ok).unwrap().action.as_deref(),
            Some("logon-failed")
        );
        let bad = CategoryAnswer {
            category: vec!["hacking".into()],
            ..ok.clone()
        };
        assert!(check_category(&bad).unwrap_err().contains("not an allowed"));
        let mismatched = CategoryAnswer {
            category: vec!["authentication".into()],
            ty: vec!["creation".into()],
            ..ok.clone()
        };
        assert!(
            check_category(&mismatched)
                .unwrap_err()
                .contains("goes with")
        );
        let action = CategoryAnswer {
            action: Some("drop; rm -rf /".into()),
            ..ok
        };
        assert!(check_category(&action).is_err());
    }

    #[test]
    fn candidates_share_a_word_with_the_field() {
        let f = RawField {
            source: "fw_action".into(),
            expr: "\"fw_action\"".into(),
            raw: Some("fw_action".into()),
            values: vec!["forward".into()],
            ty: super::super::fields::ValueType::Word,
            context: Vec::new(),
            kv: true,
        };
        let c = candidates(&f, "sonicwall.firewall", "sonicwall.firewall.fw_action");
        assert!(c.contains(&"event.action".to_string()), "{c:?}");
        assert!(!c.contains(&"log.syslog.appname".to_string()), "{c:?}");
        let g = RawField {
            source: "gcat".into(),
            ..f
        };
        assert!(candidates(&g, "sonicwall.firewall", "sonicwall.firewall.gcat").is_empty());
    }

    #[test]
    fn implausible_values_are_refused() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(plausible("network.protocol", &v(&["tlsv1.2"])).is_err());
        assert!(plausible("network.protocol", &v(&["http", "dns"])).is_ok());
        assert!(
            plausible("network.protocol", &v(&["none"]))
                .unwrap_err()
                .contains("placeholders")
        );
        assert!(plausible("server.geo.location", &v(&["Road Warrior"])).is_err());
        assert!(plausible("client.geo.location", &v(&["47.6, -122.3"])).is_ok());
        assert!(plausible("process.command_line", &v(&["17"])).is_err());
        assert!(plausible("process.command_line", &v(&["/bin/ls -l"])).is_ok());
        assert!(plausible("log.syslog.appname", &v(&["General Browsing"])).is_err());
    }

    #[test]
    fn words_of_names() {
        assert_eq!(name_words("srcUserName"), vec!["src", "user", "name"]);
        assert_eq!(name_words("source.ip"), vec!["source", "ip"]);
        assert_eq!(name_words("dst_port"), vec!["dst", "port"]);
    }
}
