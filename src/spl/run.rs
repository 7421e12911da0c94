//! The run step: executes a `Plan` on events.
//!
//! Owns the per-event loop (stages, expression evaluation, lambdas, budgets), the
//! `.let`/`$name` dataflow per event, batch execution for query-only stages (`stats`, `sort`,
//! `limit`) and per-event failure reporting (SPL.md decisions 3-5). Nothing here resolves a
//! name or compiles a regex: the plan did that.

use crate::diagnostic::{Diagnostic, Span, codes};
use crate::event::{Event, Name, Text, Timestamp, Value};
use crate::spl::ast::BinaryOp;
use crate::spl::functions::{self, Env, FnError, FnResult, cast::cast};
use crate::spl::ops::{self, Coercion};
use crate::spl::plan::{
    AggFunc, CExpr, Call, Dataset, FieldPattern, From, KvDelims, KvSplit, LikePattern, Mode, Place,
    Plan, Stage, like_to_regex,
};
use crate::spl::splitter::Split;
use crate::spl::{rawjson, text};
use regex_automata::nfa::thompson::backtrack::{BoundedBacktracker, Cache as BacktrackCache};
use regex_automata::util::captures::Captures;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

/// One output event with the statement it came from (`$name` tag) and the index of the
/// input event it derives from.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub origin: usize,
    pub tag: Option<Arc<str>>,
    pub event: Event,
}

/// An input event that failed at run time, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub origin: usize,
    pub diagnostic: Diagnostic,
}

/// What a batch run produced.
#[derive(Debug, Default)]
pub struct BatchResult {
    pub outputs: Vec<Output>,
    pub failures: Vec<Failure>,
    /// Input events that produced no output and did not fail (removed by `where`, or
    /// expanded into nothing). Always 0 for plans with `stats`/`sort`/`limit`, whose outputs
    /// are aggregate rows rather than input events.
    pub dropped: usize,
    /// Input events (by index) that were output although no parse stage matched them (see
    /// [`ParseOutcome::unparsed`]): a subset of the output events. Empty for plans with
    /// `stats`/`sort`/`limit`.
    pub unparsed: Vec<usize>,
}

/// Counters kept across events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Lenient coercions that gave NULL (text that is not a number met a number).
    pub coercion_warnings: u64,
}

/// How the parsing stages (`parse-regexp`, `parse-csv`, `parse-json`, `parse-kv`) fared on
/// the last event given to [`Runner::run_event`]: two counters, reset per event, so asking
/// costs nothing. A stage *matched* when its input had the expected shape: the regex
/// matched; the JSON (at `-path`) was an object; CSV gave every output a value; KV found at
/// least one `key=value` pair. A stage whose source field is missing did not match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOutcome {
    /// Parse stages that ran (once per row: an `expand-values` row runs later stages again).
    pub tried: u32,
    /// Of those, the ones that matched.
    pub matched: u32,
}

impl ParseOutcome {
    /// Parse stages ran and none matched: the event went through with only its raw fields.
    pub fn unparsed(self) -> bool {
        self.tried > 0 && self.matched == 0
    }

    /// Every parse stage that ran matched (true when there were none).
    pub fn fully_parsed(self) -> bool {
        self.matched == self.tried
    }
}

/// A runtime error with the span to blame. Boxed: errors are rare, and a small `Result`
/// is what every evaluation step moves around.
#[derive(Debug)]
struct EvalError(Box<EvalErrorInner>);

#[derive(Debug)]
struct EvalErrorInner {
    code: &'static str,
    message: String,
    span: Span,
}

impl std::ops::Deref for EvalError {
    type Target = EvalErrorInner;
    fn deref(&self) -> &EvalErrorInner {
        &self.0
    }
}

impl EvalError {
    fn new(code: &'static str, message: String, span: Span) -> Self {
        EvalError(Box::new(EvalErrorInner {
            code,
            message,
            span,
        }))
    }

    fn from_fn(e: FnError, call_span: Span, arg_spans: &[Span]) -> Self {
        let span = e
            .arg
            .and_then(|i| arg_spans.get(i).copied())
            .unwrap_or(call_span);
        EvalError::new(e.code, e.message, span)
    }
}

type Eval = Result<Value, EvalError>;

/// What an expression reads: the event and the slots of the plan's temporaries beside it
/// (see `spl::temps`).
#[derive(Clone, Copy)]
struct Row<'a> {
    event: &'a Event,
    temps: &'a [Option<Value>],
}

impl<'a> Row<'a> {
    fn new(event: &'a Event, temps: &'a [Option<Value>]) -> Self {
        Row { event, temps }
    }

    fn temp(&self, slot: u16) -> Option<&'a Value> {
        self.temps.get(slot as usize).and_then(Option::as_ref)
    }

    fn get(&self, place: &Place) -> Option<&'a Value> {
        match place {
            Place::Field(n) => self.event.get(n),
            Place::Temp(s) => self.temp(*s),
        }
    }
}

/// Writes a field or a temporary's slot as `Event::set` does: a NULL value removes it.
fn set_place(event: &mut Event, temps: &mut [Option<Value>], place: &Place, v: Value) {
    match place {
        Place::Field(n) => event.set(n, v),
        Place::Temp(s) => {
            if let Some(t) = temps.get_mut(*s as usize) {
                *t = (!v.is_null()).then_some(v);
            }
        }
    }
}

/// Whether comparison `op` holds for operands ordered `o`.
fn holds(op: BinaryOp, o: Ordering) -> bool {
    match op {
        BinaryOp::Eq => o == Ordering::Equal,
        BinaryOp::Ne => o != Ordering::Equal,
        BinaryOp::Lt => o == Ordering::Less,
        BinaryOp::Le => o != Ordering::Greater,
        BinaryOp::Gt => o == Ordering::Greater,
        _ => o != Ordering::Less,
    }
}

/// Executes a plan. Keep one per thread: it holds the lambda stack, a cache of field names
/// seen at run time and counters.
pub struct Runner<'p> {
    plan: &'p Plan,
    locals: Vec<Value>,
    steps: u64,
    now: Timestamp,
    names: foldhash::HashMap<Box<str>, Name>,
    /// Reusable capture slots per `parse-regexp` regex (keyed by its address in the plan).
    locations: Vec<(usize, regex::CaptureLocations)>,
    /// The parse stages of the event being run (see [`Runner::parse_outcome`]).
    parse: ParseOutcome,
    /// Scratch marks per field for `project`/`project-away` (no allocation per event).
    marks: Vec<bool>,
    /// Scratch key fingerprints for `parse-json`.
    json_keys: Vec<u64>,
    /// Caches and capture slots per `parse-regexp` backtracker (keyed by its address).
    backtracks: Vec<(usize, BacktrackCache, Captures)>,
    /// Scratch group spans of the `parse-regexp` splitter.
    spans: Vec<(usize, usize)>,
    /// Scratch values of a multi-assignment `extend`.
    values: Vec<Value>,
    /// The most fields an event has had so far (capped): new events get room for as many.
    width: usize,
    /// The slots of the plan's temporaries for the event being run (see `spl::temps`).
    temps: Vec<Option<Value>>,
    /// The values of the plan's run constants, once evaluated (see `CExpr::RunConst`).
    run_values: Vec<Option<Value>>,
    pub stats: RunStats,
}

/// New events get room for at most this many fields up front.
const MAX_WIDTH: usize = 128;

/// At most this many distinct run-time field names are cached per runner.
const NAME_CACHE: usize = 4096;

impl<'p> Runner<'p> {
    pub fn new(plan: &'p Plan) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        Runner {
            plan,
            locals: Vec::new(),
            steps: 0,
            now: Timestamp::utc(nanos),
            names: plan
                .names
                .iter()
                .map(|n| (Box::from(&**n), n.clone()))
                .collect(),
            locations: Vec::new(),
            parse: ParseOutcome::default(),
            marks: Vec::new(),
            json_keys: Vec::new(),
            values: Vec::new(),
            spans: Vec::new(),
            backtracks: Vec::new(),
            width: 4,
            temps: Vec::new(),
            run_values: vec![None; plan.run_consts.len()],
            stats: RunStats::default(),
        }
    }

    /// Fixes the clock seen by `now()`/`current_timestamp` (tests, reproducible runs).
    pub fn with_clock(mut self, now: Timestamp) -> Self {
        self.now = now;
        // The run constants read the clock.
        self.run_values.iter_mut().for_each(|v| *v = None);
        self
    }

    pub fn plan(&self) -> &'p Plan {
        self.plan
    }

    /// The event for a raw line: `{"content": line}`.
    pub fn line_event(&self, line: Text) -> Event {
        let mut e = Event::with_capacity(self.width);
        e.push(self.plan.content.clone(), Value::Str(line));
        e
    }

    fn name(&mut self, s: &str) -> Name {
        if let Some(n) = self.names.get(s) {
            return n.clone();
        }
        let n: Name = Arc::from(s);
        if self.names.len() < NAME_CACHE {
            self.names.insert(s.into(), n.clone());
        }
        n
    }

    /// Runs one event through a row-level plan, appending `(tag, event)` outputs in statement
    /// order. On error nothing is appended for this event.
    pub fn run_event(
        &mut self,
        event: Event,
        out: &mut Vec<(Option<Arc<str>>, Event)>,
    ) -> Result<(), Diagnostic> {
        let plan = self.plan;
        self.parse = ParseOutcome::default();
        if let ([ds], [(0, tag)]) = (plan.datasets.as_slice(), plan.outputs.as_slice()) {
            let mut rows = Vec::with_capacity(1);
            let mut event = event;
            let mut temps = std::mem::take(&mut self.temps);
            temps.clear();
            if !plan.temps.is_empty() {
                temps.resize(plan.temps.len(), None);
                // Input fields that are temporaries move to their slots: the stages before
                // their drop read them there. A NULL an input event carries stays present
                // (`-mode='preserve'` sees it).
                let mut i = 0;
                while i < event.len() {
                    let name = event.field_at(i).0;
                    match plan.temps.iter().position(|t| t == name) {
                        Some(slot) => temps[slot] = Some(event.remove_at(i)),
                        None => i += 1,
                    }
                }
            }
            let r = self.run_stages(&ds.stages, event, &mut temps, &mut rows);
            temps.clear();
            self.temps = temps;
            r?;
            out.extend(rows.into_iter().map(|e| (tag.clone(), e)));
            return Ok(());
        }
        let mut results: Vec<Vec<Event>> = Vec::with_capacity(plan.datasets.len());
        for ds in &plan.datasets {
            let inputs = match ds.from {
                From::Input => vec![event.clone()],
                From::Dataset(i) => results[i].clone(),
            };
            let mut rows = Vec::new();
            for row in inputs {
                self.run_stages(&ds.stages, row, &mut Vec::new(), &mut rows)?;
            }
            results.push(rows);
        }
        for (i, tag) in &plan.outputs {
            out.extend(results[*i].iter().cloned().map(|e| (tag.clone(), e)));
        }
        Ok(())
    }

    /// How the parse stages fared on the event last given to [`Runner::run_event`] (all its
    /// rows and datasets together).
    pub fn parse_outcome(&self) -> ParseOutcome {
        self.parse
    }

    /// Runs a batch of events. Row-level plans go event by event; plans with `stats`,
    /// `sort` or `limit` run stage by stage over the whole batch.
    pub fn run_batch(&mut self, events: Vec<Event>) -> BatchResult {
        let mut result = BatchResult::default();
        if !self.plan.has_aggregates() {
            let mut out = Vec::new();
            for (origin, event) in events.into_iter().enumerate() {
                out.clear();
                match self.run_event(event, &mut out) {
                    Ok(()) if out.is_empty() => result.dropped += 1,
                    Ok(()) => {
                        if self.parse.unparsed() {
                            result.unparsed.push(origin);
                        }
                        result
                            .outputs
                            .extend(
                                out.drain(..)
                                    .map(|(tag, event)| Output { origin, tag, event }),
                            )
                    }
                    Err(diagnostic) => result.failures.push(Failure { origin, diagnostic }),
                }
            }
            return result;
        }
        let plan = self.plan;
        let n = events.len();
        let mut failed = vec![false; n];
        let mut results: Vec<Vec<(usize, Event)>> = Vec::new();
        let mut input: Option<Vec<(usize, Event)>> = Some(events.into_iter().enumerate().collect());
        let input_users = plan
            .datasets
            .iter()
            .filter(|d| d.from == From::Input)
            .count();
        let mut used = 0;
        for ds in &plan.datasets {
            let rows = match ds.from {
                From::Input => {
                    used += 1;
                    if used == input_users {
                        input.take().unwrap_or_default()
                    } else {
                        input.clone().unwrap_or_default()
                    }
                }
                From::Dataset(i) => results[i].clone(),
            };
            let rows = self.run_dataset_batch(ds, rows, &mut failed, &mut result.failures);
            results.push(rows);
        }
        for (i, tag) in &plan.outputs {
            for (origin, event) in &results[*i] {
                if *origin < n && failed[*origin] {
                    continue;
                }
                result.outputs.push(Output {
                    origin: *origin,
                    tag: tag.clone(),
                    event: event.clone(),
                });
            }
        }
        result
    }

    fn run_dataset_batch(
        &mut self,
        ds: &Dataset,
        mut rows: Vec<(usize, Event)>,
        failed: &mut [bool],
        failures: &mut Vec<Failure>,
    ) -> Vec<(usize, Event)> {
        for (i, (stage, _)) in ds.stages.iter().enumerate() {
            if stage.is_row_level() {
                let mut next = Vec::with_capacity(rows.len());
                for (origin, event) in rows {
                    let mut out = Vec::new();
                    match self.run_stages(&ds.stages[i..=i], event, &mut Vec::new(), &mut out) {
                        Ok(()) => next.extend(out.into_iter().map(|e| (origin, e))),
                        Err(diagnostic) => {
                            if origin < failed.len() && !failed[origin] {
                                failed[origin] = true;
                                failures.push(Failure { origin, diagnostic });
                            }
                        }
                    }
                }
                rows = next;
            } else {
                match self.aggregate_stage(stage, rows) {
                    Ok(r) => rows = r,
                    Err(diagnostic) => {
                        failures.push(Failure {
                            origin: usize::MAX,
                            diagnostic,
                        });
                        return Vec::new();
                    }
                }
            }
        }
        rows
    }

    // ---- row-level stages ---------------------------------------------------------------

    fn run_stages(
        &mut self,
        stages: &[(Stage, Span)],
        mut event: Event,
        temps: &mut Vec<Option<Value>>,
        out: &mut Vec<Event>,
    ) -> Result<(), Diagnostic> {
        for (i, (stage, span)) in stages.iter().enumerate() {
            self.steps = 0;
            match self.stage(stage, &mut event, temps) {
                Ok(Fate::Keep) => self.width = self.width.max(event.len().min(MAX_WIDTH)),
                Ok(Fate::Drop) => return Ok(()),
                Ok(Fate::Expand(rows)) => {
                    for row in rows {
                        self.run_stages(&stages[i + 1..], row, temps, out)?;
                    }
                    return Ok(());
                }
                Err(e) => return Err(self.diagnostic(e, stage, *span)),
            }
        }
        out.push(event);
        Ok(())
    }

    fn diagnostic(&self, e: EvalError, stage: &Stage, stage_span: Span) -> Diagnostic {
        let e = *e.0;
        let mut d = Diagnostic::error(e.code, e.message).with_label(e.span, "failed here");
        if e.span != stage_span {
            d = d.with_secondary(stage_span, format!("in this `{}` stage", stage_name(stage)));
        }
        match e.code {
            codes::CAST_FAILED => d.with_hint("use try_cast(...) to get NULL instead of failing the event"),
            codes::DIVISION_BY_ZERO => d.with_hint("guard the divisor: if(d = 0, NULL, n / d)"),
            codes::BUDGET => d.with_hint("the expression does too much work per event: simplify it (no command-line flag raises the budget; library callers set `PlanOptions::eval_budget`)"),
            codes::NOT_BOOLEAN => d.with_hint("compare or cast so that the condition is BOOLEAN, e.g. `x = 'yes'` or `cast(x as BOOLEAN)`"),
            codes::TYPE_MISMATCH => d.with_hint("strict mode: cast explicitly, e.g. `cast(status as BIGINT) >= 400`"),
            _ => d.with_hint("wrap the expression in try(...) to get NULL instead of failing the event"),
        }
    }

    fn stage(
        &mut self,
        stage: &Stage,
        event: &mut Event,
        temps: &mut [Option<Value>],
    ) -> Result<Fate, EvalError> {
        match stage {
            Stage::Where(cond, span) => Ok(
                if self.cond(cond, Row::new(event, temps), *span)? == Some(true) {
                    Fate::Keep
                } else {
                    Fate::Drop
                },
            ),
            Stage::Extend { assigns, in_order } => {
                if *in_order || assigns.len() == 1 {
                    for (place, expr) in assigns {
                        let v = self.eval(expr, Row::new(event, temps))?;
                        set_place(event, temps, place, v);
                    }
                } else {
                    let mut values = std::mem::take(&mut self.values);
                    values.clear();
                    for (_, expr) in assigns {
                        values.push(self.eval(expr, Row::new(event, temps))?);
                    }
                    for ((place, _), v) in assigns.iter().zip(values.drain(..)) {
                        set_place(event, temps, place, v);
                    }
                    self.values = values;
                }
                Ok(Fate::Keep)
            }
            Stage::Project { keep, renames } => {
                let old = std::mem::take(event);
                let taken = &mut self.marks;
                taken.clear();
                taken.resize(old.len(), false);
                let mut fields = Event::with_capacity(keep.len() + renames.len());
                let mut take = |i: usize, fields: &mut Event| {
                    if !taken[i] {
                        taken[i] = true;
                        let (n, v) = old.field_at(i);
                        fields.push(n.clone(), v.clone());
                    }
                };
                for p in keep {
                    match p {
                        // Names are unique in an event: an exact pattern is one lookup.
                        FieldPattern::Exact(n) => {
                            if let Some(i) = old.position(n) {
                                take(i, &mut fields);
                            }
                        }
                        FieldPattern::Wildcard(_) => {
                            for i in 0..old.len() {
                                if p.matches(old.field_at(i).0) {
                                    take(i, &mut fields);
                                }
                            }
                        }
                    }
                }
                for (output, input) in renames {
                    if let Some(i) = old.position(input) {
                        fields.remove(output);
                        fields.push(output.clone(), old.value_at(i).clone());
                    }
                }
                for (n, v) in old.into_fields() {
                    if self.plan.is_time_field(&n) && !fields.contains(&n) {
                        fields.push(n, v);
                    }
                }
                *event = fields;
                Ok(Fate::Keep)
            }
            Stage::ProjectAway(patterns) => {
                let plan = self.plan;
                let drop = &mut self.marks;
                drop.clear();
                drop.resize(event.len(), false);
                for p in patterns {
                    match p {
                        FieldPattern::Exact(n) => {
                            if let Some(i) = event.position(n) {
                                drop[i] = true;
                            }
                        }
                        FieldPattern::Wildcard(_) => {
                            for (i, (n, _)) in event.fields().enumerate() {
                                if p.matches(n) {
                                    drop[i] = true;
                                }
                            }
                        }
                    }
                }
                event.retain_indexed(|i, n, _| !drop[i] || plan.is_time_field(n));
                Ok(Fate::Keep)
            }
            Stage::ProjectRename(renames) => {
                // All renames read the row as it was before the stage: `a = b, b = a` swaps.
                let old = std::mem::take(event).into_fields();
                let live: Vec<&(Name, Name)> = renames
                    .iter()
                    .filter(|(_, input)| old.iter().any(|(n, _)| n == input))
                    .collect();
                let mut fields: Vec<(Name, Value)> = Vec::with_capacity(old.len());
                for (n, v) in old {
                    match live.iter().find(|(_, input)| *input == n) {
                        Some((output, _)) => {
                            fields.retain(|(f, _)| f != output);
                            fields.push((output.clone(), v));
                        }
                        None if live
                            .iter()
                            .any(|(output, input)| *output == n && *input != n) => {}
                        // Names are unique in an event, and a name a rename writes was
                        // skipped by the arm above: `n` is not in `fields` yet.
                        None => fields.push((n, v)),
                    }
                }
                *event = Event::from_fields(fields);
                Ok(Fate::Keep)
            }
            Stage::ExpandValues {
                field,
                path,
                limit,
                keep,
                output,
            } => {
                self.parse.tried += 1;
                let Some(json) = event.get(field).and_then(as_json) else {
                    return Ok(Fate::Keep);
                };
                let target = match path {
                    Some(p) => match p.select(&json).into_iter().next() {
                        Some(t) => t.clone(),
                        None => return Ok(Fate::Keep),
                    },
                    None => json,
                };
                let items: Vec<serde_json::Value> = match target {
                    serde_json::Value::Array(a) => a,
                    serde_json::Value::Object(o) => o.into_iter().map(|(_, v)| v).collect(),
                    _ => return Ok(Fate::Keep),
                };
                let take = limit.unwrap_or(usize::MAX);
                let mut rows = Vec::with_capacity(items.len().min(take));
                for item in items.into_iter().take(take) {
                    let mut row = event.clone();
                    if output != field && !keep {
                        row.remove(field);
                    }
                    let value = match item {
                        serde_json::Value::Null => Value::Null,
                        serde_json::Value::String(s) => Value::string(s),
                        other => Value::string(other.to_string()),
                    };
                    row.set(output, value);
                    rows.push(row);
                }
                Ok(Fate::Expand(rows))
            }
            Stage::ParseRegexp {
                field,
                regex,
                splitter,
                backtracker,
                outputs,
                mode,
            } => {
                self.parse.tried += 1;
                let Some(subject) = source_text(Row::new(event, temps).get(field)) else {
                    return Ok(Fate::Keep);
                };
                if let Some(splitter) = splitter {
                    let mut spans = std::mem::take(&mut self.spans);
                    let split = splitter.split(&subject, &mut spans);
                    if split != Split::Fallback {
                        if split == Split::Match {
                            self.parse.matched += 1;
                            for (place, &(a, b)) in outputs.iter().zip(&spans) {
                                let Some(place) = place else { continue };
                                if *mode == Mode::Preserve
                                    && Row::new(event, temps).get(place).is_some()
                                {
                                    continue;
                                }
                                set_place(event, temps, place, Value::Str(subject.slice(a..b)));
                            }
                        }
                        self.spans = spans;
                        return Ok(Fate::Keep);
                    }
                    self.spans = spans;
                }
                if let Some(bt) = backtracker
                    && subject.len() <= bt.max_haystack_len()
                {
                    let key = bt as *const BoundedBacktracker as usize;
                    let slot = match self.backtracks.iter().position(|(k, _, _)| *k == key) {
                        Some(i) => i,
                        None => {
                            self.backtracks
                                .push((key, bt.create_cache(), bt.create_captures()));
                            self.backtracks.len() - 1
                        }
                    };
                    let (_, cache, caps) = &mut self.backtracks[slot];
                    let input = regex_automata::Input::new(subject.as_str());
                    if bt.try_search(cache, &input, caps).is_ok() {
                        if !caps.is_match() {
                            return Ok(Fate::Keep);
                        }
                        self.parse.matched += 1;
                        for (i, place) in outputs.iter().enumerate() {
                            let Some(place) = place else { continue };
                            if *mode == Mode::Preserve
                                && Row::new(event, temps).get(place).is_some()
                            {
                                continue;
                            }
                            let v = match caps.get_group(i + 1) {
                                Some(span) => subject.slice(span.start..span.end),
                                None => subject.slice(0..0),
                            };
                            set_place(event, temps, place, Value::Str(v));
                        }
                        return Ok(Fate::Keep);
                    }
                }
                let key = regex as *const regex::Regex as usize;
                let slot = match self.locations.iter().position(|(k, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        self.locations.push((key, regex.capture_locations()));
                        self.locations.len() - 1
                    }
                };
                let locs = &mut self.locations[slot].1;
                if regex.captures_read(locs, &subject).is_none() {
                    return Ok(Fate::Keep);
                }
                self.parse.matched += 1;
                for (i, place) in outputs.iter().enumerate() {
                    let Some(place) = place else { continue };
                    if *mode == Mode::Preserve && Row::new(event, temps).get(place).is_some() {
                        continue;
                    }
                    let v = match locs.get(i + 1) {
                        Some((a, b)) => subject.slice(a..b),
                        None => subject.slice(0..0),
                    };
                    set_place(event, temps, place, Value::Str(v));
                }
                Ok(Fate::Keep)
            }
            Stage::ParseCsv {
                field,
                delim,
                quote,
                strict,
                outputs,
                mode,
            } => {
                self.parse.tried += 1;
                let Some(subject) = source_text(Row::new(event, temps).get(field)) else {
                    return Ok(Fate::Keep);
                };
                let values = text::split_csv(&subject, delim, *quote);
                if *strict && values.len() != outputs.len() {
                    return Ok(Fate::Keep);
                }
                if values.len() >= outputs.len() {
                    self.parse.matched += 1;
                }
                for (place, v) in outputs.iter().zip(values) {
                    let Some(place) = place else { continue };
                    if *mode == Mode::Preserve && Row::new(event, temps).get(place).is_some() {
                        continue;
                    }
                    set_place(event, temps, place, Value::Str(v.into_text(&subject)));
                }
                Ok(Fate::Keep)
            }
            Stage::ParseJson {
                field,
                path,
                prefix,
                mode,
            } => {
                self.parse.tried += 1;
                if path.is_none()
                    && let Some(Value::Str(subject)) = event.get(field)
                {
                    // Fast path: the object's top level read without building a tree.
                    let subject = subject.clone();
                    self.parse_json_text(&subject, prefix, *mode, event);
                    return Ok(Fate::Keep);
                }
                let Some(json) = event.get(field).and_then(as_json) else {
                    return Ok(Fate::Keep);
                };
                let target = match path {
                    Some(p) => match p.select(&json).into_iter().next() {
                        Some(t) => t.clone(),
                        None => return Ok(Fate::Keep),
                    },
                    None => json,
                };
                let serde_json::Value::Object(map) = target else {
                    return Ok(Fate::Keep);
                };
                self.parse.matched += 1;
                for (k, v) in map {
                    if self.plan.is_time_field(&k) || v.is_null() {
                        continue;
                    }
                    let name = if prefix.is_empty() {
                        self.name(&k)
                    } else {
                        self.name(&format!("{prefix}{k}"))
                    };
                    if *mode == Mode::Preserve && event.contains(&name) {
                        continue;
                    }
                    let value = match v {
                        serde_json::Value::String(s) => Value::string(s),
                        other => Value::json(other),
                    };
                    event.set(&name, value);
                }
                Ok(Fate::Keep)
            }
            Stage::ParseKv {
                field,
                split,
                prefix,
                mode,
            } => {
                self.parse.tried += 1;
                let Some(subject) = source_text(event.get(field)) else {
                    return Ok(Fate::Keep);
                };
                let pairs: Vec<(text::Piece, text::Piece)> = match split {
                    KvSplit::Delimited {
                        delims,
                        kv_sep,
                        greedy,
                    } => match delims {
                        KvDelims::Chars(cs) => {
                            text::split_kv(&subject, &text::Delim::Chars(cs), kv_sep, *greedy)
                        }
                        KvDelims::Text(t) => {
                            text::split_kv(&subject, &text::Delim::Text(t), kv_sep, *greedy)
                        }
                    },
                    KvSplit::Regex(re) => re
                        .captures_iter(&subject)
                        .filter_map(|c| {
                            Some((
                                text::Piece::Slice(c.get(1)?.range()),
                                text::Piece::Slice(c.get(2).map_or(0..0, |m| m.range())),
                            ))
                        })
                        .collect(),
                };
                if pairs.iter().any(|(k, _)| !k.as_str(&subject).is_empty()) {
                    self.parse.matched += 1;
                }
                for (k, v) in pairs {
                    let key = k.as_str(&subject);
                    if key.is_empty() || self.plan.is_time_field(key) {
                        continue;
                    }
                    let name = if prefix.is_empty() {
                        self.name(key)
                    } else {
                        self.name(&format!("{prefix}{key}"))
                    };
                    if *mode == Mode::Preserve && event.contains(&name) {
                        continue;
                    }
                    event.set(&name, Value::Str(v.into_text(&subject)));
                }
                Ok(Fate::Keep)
            }
            Stage::PackFields {
                include,
                exclude,
                ltrim,
                keep,
                output,
            } => {
                let mut obj = serde_json::Map::new();
                let mut packed: Vec<Name> = Vec::new();
                for (n, v) in event.fields() {
                    let Value::Str(t) = v else { continue };
                    if self.plan.is_time_field(n)
                        || !include.is_match(n)
                        || exclude.as_ref().is_some_and(|x| x.is_match(n))
                    {
                        continue;
                    }
                    let key = n.strip_prefix(ltrim.as_str()).unwrap_or(n);
                    obj.insert(key.to_string(), serde_json::Value::String(t.to_string()));
                    packed.push(n.clone());
                }
                if !keep {
                    event.retain(|n, _| !packed.iter().any(|p| **p == *n));
                }
                event.set(
                    output,
                    Value::string(serde_json::Value::Object(obj).to_string()),
                );
                Ok(Fate::Keep)
            }
            Stage::LogToMetric {
                names,
                labels,
                time_field,
                format,
            } => Ok(Fate::Expand(self.log_to_metric(
                event,
                names,
                labels,
                time_field.as_ref(),
                *format,
            ))),
            Stage::MetricToMetric {
                del,
                add,
                rename,
                format,
            } => {
                let Some(Value::Str(raw)) = event.get("__labels__") else {
                    return Ok(Fate::Keep);
                };
                let mut labels = text::parse_labels(raw);
                labels.retain(|(k, _)| !del.contains(k));
                for (from, to) in rename {
                    for (k, _) in labels.iter_mut() {
                        if k == from {
                            *k = to.clone();
                        }
                    }
                }
                for (k, v) in add {
                    labels.retain(|(x, _)| x != k);
                    labels.push((k.clone(), v.clone()));
                }
                let encoded = text::encode_labels(labels, *format);
                event.set_str("__labels__", Value::string(encoded));
                Ok(Fate::Keep)
            }
            Stage::Stats { .. } | Stage::Sort(_) | Stage::Limit(_) => Err(EvalError::new(
                codes::RUNTIME,
                format!(
                    "`{}` needs all events at once and cannot run per event",
                    stage_name(stage)
                ),
                Span::default(),
            )),
        }
    }

    /// `parse-json` of a text field (no `-path`): the same fields as parsing the object into
    /// a tree and taking its members (a duplicate key keeps its first position and its last
    /// value; `null` values are skipped), but strings without escapes become slices of the
    /// input and no map is built.
    fn parse_json_text(&mut self, subject: &Text, prefix: &str, mode: Mode, event: &mut Event) {
        let Some(mut members) = rawjson::members(subject) else {
            return;
        };
        self.parse.matched += 1;
        let keys = &mut self.json_keys;
        keys.clear();
        let mut i = 0;
        while i < members.len() {
            let k = crate::event::name_key(&members[i].0);
            match (0..i).find(|&j| keys[j] == k && members[j].0 == members[i].0) {
                Some(j) => {
                    let (_, v) = members.remove(i);
                    members[j].1 = v;
                }
                None => {
                    keys.push(k);
                    i += 1;
                }
            }
        }
        for (k, raw) in members {
            let text = raw.get();
            if text == "null" || self.plan.is_time_field(&k) {
                continue;
            }
            let name = if prefix.is_empty() {
                self.name(&k)
            } else {
                self.name(&format!("{prefix}{k}"))
            };
            if mode == Mode::Preserve && event.contains(&name) {
                continue;
            }
            let value = match rawjson::plain_str(raw) {
                Some(s) => Value::Str(subject.sub(s)),
                // An object or array the writer would write as it is: kept as text, parsed
                // only if something reads it.
                None if text.starts_with(['{', '[']) && crate::event::is_canonical_json(text) => {
                    Value::raw_json(subject.sub(text))
                }
                None => match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(serde_json::Value::String(s)) => Value::string(s),
                    Ok(other) => Value::json(other),
                    // Already validated by `members`; nothing else can happen.
                    Err(_) => continue,
                },
            };
            event.set(&name, value);
        }
    }

    fn log_to_metric(
        &mut self,
        event: &Event,
        names: &[FieldPattern],
        labels: &[FieldPattern],
        time_field: Option<&Name>,
        format: bool,
    ) -> Vec<Event> {
        let label_pairs: Vec<(String, String)> = event
            .fields()
            .filter(|(n, _)| labels.iter().any(|p| p.matches(n)))
            .filter_map(|(n, v)| Some((n.to_string(), v.to_text()?.into_owned())))
            .collect();
        let encoded = text::encode_labels(label_pairs, format);
        let nanos = match time_field
            .and_then(|t| event.get(t))
            .and_then(time_to_nanos)
        {
            Some(n) => n,
            None => {
                let secs = event
                    .get("__time__")
                    .and_then(|v| functions::parse_number(&v.to_text()?))
                    .map_or(0, |v| as_i64(&v));
                let ns = event
                    .get("__time_ns_part__")
                    .and_then(|v| functions::parse_number(&v.to_text()?))
                    .map_or(0, |v| as_i64(&v));
                secs.saturating_mul(1_000_000_000).saturating_add(ns)
            }
        };
        let mut rows = Vec::new();
        for (n, v) in event.fields() {
            if !names.iter().any(|p| p.matches(n)) {
                continue;
            }
            let Some(value) = v.to_text().and_then(|t| functions::parse_double(&t)) else {
                continue;
            };
            let mut row = Event::with_capacity(4);
            row.set_str("__name__", Value::str(n));
            row.set_str("__labels__", Value::str(&encoded));
            row.set_str("__time_nano__", Value::Int(nanos));
            row.set_str("__value__", Value::Double(value));
            rows.push(row);
        }
        rows
    }

    // ---- aggregates -------------------------------------------------------------------

    fn aggregate_stage(
        &mut self,
        stage: &Stage,
        mut rows: Vec<(usize, Event)>,
    ) -> Result<Vec<(usize, Event)>, Diagnostic> {
        match stage {
            Stage::Limit(n) => {
                rows.truncate(*n);
                Ok(rows)
            }
            Stage::Sort(keys) => {
                let mut keyed = Vec::with_capacity(rows.len());
                for (origin, e) in rows {
                    let mut k = Vec::with_capacity(keys.len());
                    for (expr, _) in keys {
                        k.push(
                            self.eval(expr, Row::new(&e, &[]))
                                .map_err(|err| self.diagnostic(err, stage, Span::default()))?,
                        );
                    }
                    keyed.push((k, origin, e));
                }
                keyed.sort_by(|a, b| {
                    for (i, (_, desc)) in keys.iter().enumerate() {
                        let (x, y) = (&a.0[i], &b.0[i]);
                        let o = match (x.is_null(), y.is_null()) {
                            (true, true) => Ordering::Equal,
                            (true, false) => Ordering::Greater,
                            (false, true) => Ordering::Less,
                            _ if *desc => ops::sort_order(y, x),
                            _ => ops::sort_order(x, y),
                        };
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    Ordering::Equal
                });
                Ok(keyed.into_iter().map(|(_, o, e)| (o, e)).collect())
            }
            Stage::Stats { aggs, by } => {
                let mut groups: Vec<(Vec<Option<String>>, usize, Vec<Acc>)> = Vec::new();
                let mut index: HashMap<Vec<Option<String>>, usize> = HashMap::new();
                for (origin, e) in &rows {
                    let key: Vec<Option<String>> = by
                        .iter()
                        .map(|b| e.get(b).and_then(|v| v.to_text().map(|t| t.into_owned())))
                        .collect();
                    let gi = match index.get(&key) {
                        Some(&g) => g,
                        None => {
                            index.insert(key.clone(), groups.len());
                            groups.push((
                                key,
                                *origin,
                                aggs.iter().map(|(_, a)| Acc::new(a.func)).collect(),
                            ));
                            groups.len() - 1
                        }
                    };
                    for (ai, (_, agg)) in aggs.iter().enumerate() {
                        let mut args = Vec::with_capacity(agg.args.len());
                        for a in &agg.args {
                            args.push(
                                self.eval(a, Row::new(e, &[]))
                                    .map_err(|err| self.diagnostic(err, stage, Span::default()))?,
                            );
                        }
                        groups[gi].2[ai].add(&args);
                    }
                }
                if groups.is_empty() && by.is_empty() {
                    groups.push((
                        Vec::new(),
                        0,
                        aggs.iter().map(|(_, a)| Acc::new(a.func)).collect(),
                    ));
                }
                Ok(groups
                    .into_iter()
                    .map(|(key, origin, accs)| {
                        let mut e = Event::with_capacity(by.len() + aggs.len());
                        for (b, k) in by.iter().zip(key) {
                            e.set(b, k.map_or(Value::Null, Value::string));
                        }
                        for ((name, _), acc) in aggs.iter().zip(accs) {
                            e.set(name, acc.finish());
                        }
                        (origin, e)
                    })
                    .collect())
            }
            _ => unreachable!("row-level stage in aggregate path"),
        }
    }

    // ---- expressions --------------------------------------------------------------------

    /// SQL truth of a `where`/`CASE` condition: TRUE, FALSE or NULL. Text 'true'/'false' is
    /// accepted leniently; other types are an error.
    fn truth(&mut self, v: &Value, span: Span) -> Result<Option<bool>, EvalError> {
        match v {
            Value::Bool(b) => Ok(Some(*b)),
            Value::Null => Ok(None),
            Value::Str(t)
                if self.plan.options.coercion == Coercion::Lenient
                    && (t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false")) =>
            {
                Ok(Some(t.eq_ignore_ascii_case("true")))
            }
            Value::Json(j) if j.is_boolean() => Ok(j.as_bool()),
            other => Err(EvalError::new(
                codes::NOT_BOOLEAN,
                format!("a condition must be BOOLEAN, not {}", other.type_name()),
                span,
            )),
        }
    }

    /// The SQL truth of condition `e` (what `truth(eval(e))` gives, errors included), without
    /// building a BOOLEAN value for the forms conditions are made of: `IS [NOT] NULL`,
    /// comparisons, `AND`/`OR`/`NOT`. Each of those nodes counts one budget step as `eval`
    /// would; `span` is the span `truth` reports a non-BOOLEAN value at.
    fn cond(&mut self, e: &CExpr, ev: Row<'_>, span: Span) -> Result<Option<bool>, EvalError> {
        match e {
            CExpr::IsNull { expr, negated } => {
                self.step()?;
                let null = match &**expr {
                    CExpr::Temp(s) => ev.temp(*s).is_none_or(Value::is_null),
                    CExpr::Field(n) => ev.event.get(n).is_none_or(Value::is_null),
                    other => self.eval_ref(other, ev)?.is_null(),
                };
                Ok(Some(null != *negated))
            }
            CExpr::Cmp(op, a, b, cmp_span) => {
                self.step()?;
                let (x, y) = (self.eval_ref(a, ev)?, self.eval_ref(b, ev)?);
                let ord = match (&*x, &*y) {
                    // The common case, text against text, without the coercion rules.
                    (Value::Str(p), Value::Str(q)) => Some(p.as_str().cmp(q.as_str())),
                    _ => self.compare(&x, &y, *cmp_span)?,
                };
                Ok(ord.map(|o| holds(*op, o)))
            }
            CExpr::And(items) | CExpr::Or(items) => {
                self.step()?;
                let decides = matches!(e, CExpr::Or(_));
                let mut unknown = false;
                for item in items {
                    match self.cond(item, ev, Span::default())? {
                        Some(b) if b == decides => return Ok(Some(decides)),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                Ok(if unknown { None } else { Some(!decides) })
            }
            CExpr::Not(x) => {
                self.step()?;
                Ok(self.cond(x, ev, Span::default())?.map(|b| !b))
            }
            _ => {
                let v = self.eval_ref(e, ev)?;
                self.truth(&v, span)
            }
        }
    }

    /// Counts one evaluation step against the budget.
    #[inline]
    fn step(&mut self) -> Result<(), EvalError> {
        self.steps += 1;
        if self.steps > self.plan.options.eval_budget {
            return Err(self.budget_error());
        }
        Ok(())
    }

    /// Evaluates `e`, borrowing constants and fields instead of cloning them (a clone of a
    /// shared text is an atomic write on a reference count other threads also touch).
    fn eval_ref<'a>(&mut self, e: &'a CExpr, ev: Row<'a>) -> Result<Cow<'a, Value>, EvalError> {
        match e {
            CExpr::Const(v) => Ok(Cow::Borrowed(v)),
            CExpr::Field(n) => Ok(ev
                .event
                .get(n)
                .map_or(Cow::Owned(Value::Null), Cow::Borrowed)),
            CExpr::Temp(s) => Ok(ev.temp(*s).map_or(Cow::Owned(Value::Null), Cow::Borrowed)),
            _ => self.eval(e, ev).map(Cow::Owned),
        }
    }

    /// Evaluates `e`: one step of the budget; constants, fields and temporaries inline (most
    /// operands are), every other node in `eval_node`.
    #[inline]
    fn eval(&mut self, e: &CExpr, ev: Row<'_>) -> Eval {
        self.steps += 1;
        if self.steps > self.plan.options.eval_budget {
            return Err(self.budget_error());
        }
        match e {
            CExpr::Const(v) => Ok(v.clone()),
            CExpr::Field(n) => Ok(ev.event.get(n).cloned().unwrap_or(Value::Null)),
            CExpr::Temp(s) => Ok(ev.temp(*s).cloned().unwrap_or(Value::Null)),
            _ => self.eval_node(e, ev),
        }
    }

    #[cold]
    fn budget_error(&self) -> EvalError {
        EvalError::new(
            codes::BUDGET,
            format!(
                "evaluation budget of {} steps exceeded",
                self.plan.options.eval_budget
            ),
            Span::default(),
        )
    }

    /// Evaluates a node whose step `eval` has counted.
    fn eval_node(&mut self, e: &CExpr, ev: Row<'_>) -> Eval {
        let mode = self.plan.options.coercion;
        Ok(match e {
            CExpr::Const(v) => v.clone(),
            CExpr::Field(n) => ev.event.get(n).cloned().unwrap_or(Value::Null),
            CExpr::Temp(s) => ev.temp(*s).cloned().unwrap_or(Value::Null),
            CExpr::Local(slot) => self
                .locals
                .get(*slot as usize)
                .cloned()
                .unwrap_or(Value::Null),
            CExpr::Not(x) => match self.cond(x, ev, Span::default())? {
                None => Value::Null,
                Some(b) => Value::Bool(!b),
            },
            CExpr::Neg(x, span) => {
                let v = self.eval(x, ev)?;
                ops::negate(&v, mode).map_err(|err| EvalError::from_fn(err, *span, &[]))?
            }
            // Three-valued logic, left to right, stopping at the first deciding operand:
            // exactly what the nested `(a AND b) AND c` gives.
            CExpr::And(items) | CExpr::Or(items) => {
                let decides = matches!(e, CExpr::Or(_));
                let mut unknown = false;
                for item in items {
                    match self.cond(item, ev, Span::default())? {
                        Some(b) if b == decides => return Ok(Value::Bool(decides)),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                if unknown {
                    Value::Null
                } else {
                    Value::Bool(!decides)
                }
            }
            CExpr::Cmp(op, a, b, span) => {
                let (x, y) = (self.eval_ref(a, ev)?, self.eval_ref(b, ev)?);
                let ord = self.compare(&x, &y, *span)?;
                match ord {
                    None => Value::Null,
                    Some(o) => Value::Bool(holds(*op, o)),
                }
            }
            CExpr::Arith(op, a, b, span) => {
                let (x, y) = (self.eval(a, ev)?, self.eval(b, ev)?);
                self.arith(*op, x, y, *span)?
            }
            CExpr::ArithChain(op, items, spans) => {
                let mut acc = Value::Null;
                for (i, item) in items.iter().enumerate() {
                    let y = self.eval(item, ev)?;
                    acc = match i {
                        0 => y,
                        _ => self.arith(*op, acc, y, spans[i - 1])?,
                    };
                }
                acc
            }
            CExpr::Concat(items) => {
                let mut acc = Value::Null;
                for (i, item) in items.iter().enumerate() {
                    let y = self.eval(item, ev)?;
                    acc = match i {
                        0 => y,
                        _ => concat(acc, y),
                    };
                }
                acc
            }
            CExpr::Between {
                expr,
                low,
                high,
                negated,
                span,
            } => {
                let (x, lo, hi) = (
                    self.eval(expr, ev)?,
                    self.eval(low, ev)?,
                    self.eval(high, ev)?,
                );
                let a = self
                    .compare(&lo, &x, *span)?
                    .map(|o| o != Ordering::Greater);
                let b = self
                    .compare(&x, &hi, *span)?
                    .map(|o| o != Ordering::Greater);
                let r = match (a, b) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                };
                r.map_or(Value::Null, |r| Value::Bool(r != *negated))
            }
            CExpr::In {
                expr,
                list,
                negated,
                span,
            } => {
                let x = self.eval(expr, ev)?;
                if x.is_null() {
                    return Ok(Value::Null);
                }
                let mut saw_null = false;
                let mut found = false;
                for item in list {
                    let y = self.eval(item, ev)?;
                    match self.compare(&x, &y, *span)? {
                        Some(Ordering::Equal) => {
                            found = true;
                            break;
                        }
                        None => saw_null = true,
                        _ => {}
                    }
                }
                if found {
                    Value::Bool(!*negated)
                } else if saw_null {
                    Value::Null
                } else {
                    Value::Bool(*negated)
                }
            }
            CExpr::Like {
                expr,
                pattern,
                negated,
            } => {
                let x = self.eval(expr, ev)?;
                let Some(subject) = x.to_text() else {
                    return Ok(Value::Null);
                };
                let matched = match pattern {
                    LikePattern::Const(re) => re.is_match(&subject),
                    LikePattern::Dynamic { pattern, escape } => {
                        let p = self.eval(pattern, ev)?;
                        let esc = match escape {
                            Some(x) => Some(self.eval(x, ev)?),
                            None => None,
                        };
                        let Some(p) = p.to_text() else {
                            return Ok(Value::Null);
                        };
                        let esc_text = esc.as_ref().and_then(Value::to_text);
                        let re = like_to_regex(&p, esc_text.as_deref())
                            .map_err(|m| EvalError::new(codes::BAD_ARGUMENT, m, Span::default()))?;
                        re.is_match(&subject)
                    }
                };
                Value::Bool(matched != *negated)
            }
            CExpr::IsNull { expr, negated } => {
                Value::Bool(self.eval_ref(expr, ev)?.is_null() != *negated)
            }
            CExpr::IsDistinct {
                left,
                right,
                negated,
            } => {
                let (x, y) = (self.eval(left, ev)?, self.eval(right, ev)?);
                Value::Bool(ops::not_distinct(&x, &y) == *negated)
            }
            CExpr::Case {
                operand,
                whens,
                otherwise,
                span,
            } => {
                let subject = match operand {
                    Some(o) => Some(self.eval(o, ev)?),
                    None => None,
                };
                for (when, then) in whens {
                    let hit = match &subject {
                        Some(s) => {
                            let w = self.eval_ref(when, ev)?;
                            self.compare(s, &w, *span)? == Some(Ordering::Equal)
                        }
                        None => self.cond(when, ev, *span)? == Some(true),
                    };
                    if hit {
                        return self.eval(then, ev);
                    }
                }
                match otherwise {
                    Some(o) => self.eval(o, ev)?,
                    None => Value::Null,
                }
            }
            CExpr::Cast {
                expr,
                ty,
                try_cast,
                span,
            } => {
                let v = self.eval(expr, ev)?;
                match cast(&v, ty) {
                    Ok(r) => r,
                    Err(_) if *try_cast => Value::Null,
                    Err(err) => {
                        return Err(EvalError::new(codes::CAST_FAILED, err.message, *span));
                    }
                }
            }
            CExpr::Call(call) => self.call(call, ev)?,
            CExpr::If {
                cond,
                then,
                otherwise,
            } => {
                if self.cond(cond, ev, Span::default())? == Some(true) {
                    self.eval(then, ev)?
                } else {
                    match otherwise {
                        Some(o) => self.eval(o, ev)?,
                        None => Value::Null,
                    }
                }
            }
            CExpr::Coalesce(items) => {
                for item in items {
                    let v = self.eval(item, ev)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Value::Null
            }
            CExpr::Try(x) => {
                let depth = self.locals.len();
                match self.eval(x, ev) {
                    Ok(v) => v,
                    Err(e) if e.code == codes::BUDGET => return Err(e),
                    Err(_) => {
                        self.locals.truncate(depth);
                        Value::Null
                    }
                }
            }
            CExpr::Subscript { expr, index, span } => {
                let (x, i) = (self.eval(expr, ev)?, self.eval(index, ev)?);
                subscript(x, i).map_err(|m| EvalError::new(codes::RUNTIME, m, *span))?
            }
            CExpr::Lambda(i) => Value::Lambda(*i),
            CExpr::RunConst(i) => {
                let i = *i as usize;
                if let Some(Some(v)) = self.run_values.get(i) {
                    return Ok(v.clone());
                }
                let plan = self.plan;
                let v = self.eval(&plan.run_consts[i], ev)?;
                if let Some(slot) = self.run_values.get_mut(i) {
                    *slot = Some(v.clone());
                }
                v
            }
            CExpr::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(item, ev)?);
                }
                Value::array(out)
            }
            CExpr::Row(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(item, ev)?);
                }
                Value::Row(Arc::new(out))
            }
        })
    }

    /// One arithmetic step; a NULL from two non-NULL operands is a lenient-coercion miss
    /// and counts as a warning.
    fn arith(&mut self, op: BinaryOp, x: Value, y: Value, span: Span) -> Eval {
        let r = ops::arith(op, &x, &y, self.plan.options.coercion)
            .map_err(|err| EvalError::from_fn(err, span, &[]))?;
        if r.is_null() && !x.is_null() && !y.is_null() {
            self.stats.coercion_warnings += 1;
        }
        Ok(r)
    }

    fn compare(&mut self, x: &Value, y: &Value, span: Span) -> Result<Option<Ordering>, EvalError> {
        let r = ops::compare(x, y, self.plan.options.coercion)
            .map_err(|err| EvalError::from_fn(err, span, &[]))?;
        if r.is_none() && !x.is_null() && !y.is_null() {
            self.stats.coercion_warnings += 1;
        }
        Ok(r)
    }

    fn call(&mut self, call: &Call, ev: Row<'_>) -> Eval {
        // Up to four arguments live on the stack: no allocation per call, and only the
        // arguments evaluated are dropped.
        let mut args: smallvec::SmallVec<[Value; 4]> = smallvec::SmallVec::new();
        if call.args.len() > 4 {
            args.reserve_exact(call.args.len());
        }
        for a in &call.args {
            let v = self.eval(a, ev)?;
            if v.is_null() && call.function.null_propagating {
                return Ok(Value::Null);
            }
            args.push(v);
        }
        let args: &[Value] = &args;
        let mut env = CallEnv {
            runner: self,
            event: ev,
        };
        (call.function.eval)(args, &call.prepared, &mut env)
            .map_err(|err| EvalError::from_fn(err, call.span, &call.arg_spans))
    }
}

/// The `Env` a function sees: lambdas evaluate against the current event.
struct CallEnv<'r, 'p, 'e> {
    runner: &'r mut Runner<'p>,
    event: Row<'e>,
}

impl Env for CallEnv<'_, '_, '_> {
    fn apply(&mut self, lambda: &Value, args: &[Value]) -> FnResult {
        let Value::Lambda(i) = lambda else {
            return Err(FnError::new(format!(
                "expected a lambda, got {}",
                lambda.type_name()
            )));
        };
        let plan = self.runner.plan;
        let Some(l) = plan.lambdas.get(*i as usize) else {
            return Err(FnError::new("unknown lambda"));
        };
        if args.len() != l.arity as usize {
            return Err(FnError::new(format!(
                "the lambda takes {} arguments, {} given",
                l.arity,
                args.len()
            )));
        }
        let saved: Vec<Value> = self.runner.locals.drain(l.base as usize..).collect();
        self.runner.locals.resize(l.base as usize, Value::Null);
        self.runner.locals.extend(args.iter().cloned());
        let r = self.runner.eval(&l.body, self.event);
        self.runner.locals.truncate(l.base as usize);
        self.runner.locals.extend(saved);
        r.map_err(|e| FnError::new(e.0.message).with_code(e.0.code))
    }

    fn now(&self) -> Timestamp {
        self.runner.now
    }
}

enum Fate {
    Keep,
    Drop,
    Expand(Vec<Event>),
}

fn stage_name(stage: &Stage) -> &'static str {
    match stage {
        Stage::Where(..) => "where",
        Stage::Extend { .. } => "extend",
        Stage::Project { .. } => "project",
        Stage::ProjectAway(_) => "project-away",
        Stage::ProjectRename(_) => "project-rename",
        Stage::ExpandValues { .. } => "expand-values",
        Stage::ParseRegexp { .. } => "parse-regexp",
        Stage::ParseCsv { .. } => "parse-csv",
        Stage::ParseJson { .. } => "parse-json",
        Stage::ParseKv { .. } => "parse-kv",
        Stage::PackFields { .. } => "pack-fields",
        Stage::LogToMetric { .. } => "log-to-metric",
        Stage::MetricToMetric { .. } => "metric-to-metric",
        Stage::Stats { .. } => "stats",
        Stage::Sort(_) => "sort",
        Stage::Limit(_) => "limit",
    }
}

/// The text a `parse-*` instruction reads: VARCHAR as is (shared), other scalars as text;
/// absent, NULL and containers give `None` (the instruction does nothing).
fn source_text(value: Option<&Value>) -> Option<Text> {
    match value? {
        Value::Str(t) => Some(t.clone()),
        v @ (Value::Int(_) | Value::Double(_) | Value::Bool(_) | Value::Timestamp(_)) => {
            v.to_text().map(|t| Text::from(t.into_owned()))
        }
        Value::Json(j) => j.as_str().map(Text::new),
        _ => None,
    }
}

/// A field as JSON: JSON values as they are, text parsed (invalid JSON gives `None`).
fn as_json(v: &Value) -> Option<serde_json::Value> {
    match v {
        Value::Json(j) => match j.tree() {
            serde_json::Value::String(s) => serde_json::from_str(s).ok(),
            other => Some(other.clone()),
        },
        Value::Str(t) => serde_json::from_str(t).ok(),
        Value::Array(_) | Value::Map(_) => Some(v.to_json()),
        _ => None,
    }
}

fn subscript(x: Value, i: Value) -> Result<Value, String> {
    match (x, i) {
        (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
        (Value::Array(a) | Value::Row(a), i) => {
            let n = match i {
                Value::Int(n) => n,
                other => {
                    functions::int_arg(std::slice::from_ref(&other), 0).map_err(|e| e.message)?
                }
            };
            if n < 1 || n as usize > a.len() {
                return Err(format!(
                    "array subscript {n} is out of bounds (1..{})",
                    a.len()
                ));
            }
            Ok(a[n as usize - 1].clone())
        }
        (Value::Map(m), k) => m
            .iter()
            .find(|(key, _)| ops::not_distinct(key, &k))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("key {} is not in the map", k.to_text().unwrap_or_default())),
        (Value::Json(j), k) => Ok(match (j.tree(), k) {
            (serde_json::Value::Array(a), Value::Int(n)) if n >= 1 => a
                .get(n as usize - 1)
                .cloned()
                .map_or(Value::Null, Value::json),
            (serde_json::Value::Object(o), k) => k
                .to_text()
                .and_then(|k| o.get(k.as_ref()).cloned())
                .map_or(Value::Null, Value::json),
            _ => Value::Null,
        }),
        (other, _) => Err(format!("cannot subscript a {}", other.type_name())),
    }
}

fn as_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Double(d) => *d as i64,
        _ => 0,
    }
}

/// A time value to nanoseconds, guessing the unit from the magnitude (s, ms, µs, ns).
/// Integers are scaled exactly; `None` when the value is not a number.
fn time_to_nanos(v: &Value) -> Option<i64> {
    if let Value::Timestamp(t) = v {
        return Some(t.nanos);
    }
    let text = v.to_text()?;
    let scale = |magnitude: f64| -> i64 {
        if magnitude >= 1e17 {
            1
        } else if magnitude >= 1e14 {
            1_000
        } else if magnitude >= 1e11 {
            1_000_000
        } else {
            1_000_000_000
        }
    };
    match functions::parse_number(&text)? {
        Value::Int(i) => Some(i.saturating_mul(scale(i.unsigned_abs() as f64))),
        Value::Double(d) if d.is_finite() => Some((d * scale(d.abs()) as f64) as i64),
        _ => None,
    }
}

/// An accumulator of one aggregate over one group.
enum Acc {
    Count(i64),
    Sum {
        int: i64,
        dbl: f64,
        is_double: bool,
        any: bool,
    },
    Avg {
        sum: f64,
        n: i64,
    },
    Min(Option<Value>),
    Max(Option<Value>),
    Distinct(std::collections::HashSet<String>),
    Arbitrary(Option<Value>),
    List(Vec<Value>),
    Bool {
        and: bool,
        val: Option<bool>,
    },
    Percentile {
        values: Vec<f64>,
        p: Option<f64>,
    },
    Moments {
        func: AggFunc,
        values: Vec<f64>,
    },
    CountIf(i64),
}

impl Acc {
    fn new(f: AggFunc) -> Acc {
        match f {
            AggFunc::Count => Acc::Count(0),
            AggFunc::CountIf => Acc::CountIf(0),
            AggFunc::Sum => Acc::Sum {
                int: 0,
                dbl: 0.0,
                is_double: false,
                any: false,
            },
            AggFunc::Avg => Acc::Avg { sum: 0.0, n: 0 },
            AggFunc::Min => Acc::Min(None),
            AggFunc::Max => Acc::Max(None),
            AggFunc::ApproxDistinct => Acc::Distinct(Default::default()),
            AggFunc::Arbitrary => Acc::Arbitrary(None),
            AggFunc::ArrayAgg => Acc::List(Vec::new()),
            AggFunc::BoolAnd => Acc::Bool {
                and: true,
                val: None,
            },
            AggFunc::BoolOr => Acc::Bool {
                and: false,
                val: None,
            },
            AggFunc::ApproxPercentile => Acc::Percentile {
                values: Vec::new(),
                p: None,
            },
            AggFunc::Skewness | AggFunc::Kurtosis => Acc::Moments {
                func: f,
                values: Vec::new(),
            },
        }
    }

    fn add(&mut self, args: &[Value]) {
        let first = args.first();
        let number = || {
            first
                .and_then(|v| v.to_text())
                .and_then(|t| functions::parse_number(&t))
        };
        match self {
            Acc::Count(n) => {
                if first.is_none_or(|v| !v.is_null()) {
                    *n += 1
                }
            }
            Acc::CountIf(n) => {
                if matches!(first, Some(Value::Bool(true))) {
                    *n += 1
                }
            }
            Acc::Sum {
                int,
                dbl,
                is_double,
                any,
            } => match number() {
                Some(Value::Int(i)) => {
                    *any = true;
                    *dbl += i as f64;
                    *int = int.wrapping_add(i);
                }
                Some(Value::Double(d)) => {
                    *any = true;
                    *is_double = true;
                    *dbl += d;
                }
                _ => {}
            },
            Acc::Avg { sum, n } => {
                if let Some(v) = number() {
                    *sum += match v {
                        Value::Int(i) => i as f64,
                        Value::Double(d) => d,
                        _ => 0.0,
                    };
                    *n += 1;
                }
            }
            Acc::Min(m) => {
                if let Some(v) = first.filter(|v| !v.is_null())
                    && m.as_ref()
                        .is_none_or(|c| ops::sort_order(v, c) == Ordering::Less)
                {
                    *m = Some(v.clone());
                }
            }
            Acc::Max(m) => {
                if let Some(v) = first.filter(|v| !v.is_null())
                    && m.as_ref()
                        .is_none_or(|c| ops::sort_order(v, c) == Ordering::Greater)
                {
                    *m = Some(v.clone());
                }
            }
            Acc::Distinct(set) => {
                if let Some(t) = first.and_then(|v| v.to_text()) {
                    set.insert(t.into_owned());
                }
            }
            Acc::Arbitrary(a) => {
                if a.is_none() {
                    *a = first.filter(|v| !v.is_null()).cloned();
                }
            }
            Acc::List(l) => l.push(first.cloned().unwrap_or(Value::Null)),
            Acc::Bool { and, val } => {
                if let Some(Value::Bool(b)) = first {
                    *val = Some(match val {
                        None => *b,
                        Some(x) if *and => *x && *b,
                        Some(x) => *x || *b,
                    });
                }
            }
            Acc::Percentile { values, p } => {
                if let Some(Value::Int(_) | Value::Double(_)) = number().as_ref() {
                    values.push(match number() {
                        Some(Value::Int(i)) => i as f64,
                        Some(Value::Double(d)) => d,
                        _ => 0.0,
                    });
                }
                if p.is_none() {
                    *p = args
                        .get(1)
                        .and_then(|v| v.to_text())
                        .and_then(|t| functions::parse_double(&t));
                }
            }
            Acc::Moments { values, .. } => {
                if let Some(v) = number() {
                    values.push(match v {
                        Value::Int(i) => i as f64,
                        Value::Double(d) => d,
                        _ => 0.0,
                    });
                }
            }
        }
    }

    fn finish(self) -> Value {
        match self {
            Acc::Count(n) | Acc::CountIf(n) => Value::Int(n),
            Acc::Sum { any: false, .. } => Value::Null,
            Acc::Sum {
                dbl,
                is_double: true,
                ..
            } => Value::Double(dbl),
            Acc::Sum { int, .. } => Value::Int(int),
            Acc::Avg { n: 0, .. } => Value::Null,
            Acc::Avg { sum, n } => Value::Double(sum / n as f64),
            Acc::Min(m) | Acc::Max(m) | Acc::Arbitrary(m) => m.unwrap_or(Value::Null),
            Acc::Distinct(s) => Value::Int(s.len() as i64),
            Acc::List(l) => Value::array(l),
            Acc::Bool { val, .. } => val.map_or(Value::Null, Value::Bool),
            Acc::Percentile { mut values, p } => {
                if values.is_empty() {
                    return Value::Null;
                }
                values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
                let p = p.unwrap_or(0.5).clamp(0.0, 1.0);
                let idx = ((values.len() - 1) as f64 * p).round() as usize;
                Value::Double(values[idx])
            }
            Acc::Moments { func, values } => {
                let n = values.len() as f64;
                if n < 2.0 {
                    return Value::Null;
                }
                let mean = values.iter().sum::<f64>() / n;
                let m2 = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                if m2 == 0.0 {
                    return Value::Null;
                }
                if func == AggFunc::Skewness {
                    let m3 = values.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n;
                    Value::Double(m3 / m2.powf(1.5))
                } else {
                    let m4 = values.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
                    Value::Double(m4 / (m2 * m2) - 3.0)
                }
            }
        }
    }
}

/// `x || y`: NULL if either is NULL; arrays concatenate (a scalar joins as one element);
/// anything else concatenates as text.
fn concat(x: Value, y: Value) -> Value {
    match (x, y) {
        (Value::Null, _) | (_, Value::Null) => Value::Null,
        (Value::Array(p), Value::Array(q)) => {
            Value::array(p.iter().chain(q.iter()).cloned().collect())
        }
        (Value::Array(p), v) => Value::array(p.iter().cloned().chain(std::iter::once(v)).collect()),
        (v, Value::Array(q)) => Value::array(std::iter::once(v).chain(q.iter().cloned()).collect()),
        (x, y) => {
            let (s, t) = (
                x.to_text().unwrap_or_default(),
                y.to_text().unwrap_or_default(),
            );
            let mut out = String::with_capacity(s.len() + t.len());
            out.push_str(&s);
            out.push_str(&t);
            Value::string(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spl::PlanOptions;
    use proptest::prelude::*;

    /// A condition's shape (CExpr is not `Clone`, which proptest needs): built with `expr`.
    #[derive(Debug, Clone)]
    enum Shape {
        Leaf(usize),
        IsNull(Box<Shape>, bool),
        Cmp(usize, Box<Shape>, Box<Shape>),
        And(Vec<Shape>),
        Or(Vec<Shape>),
        Not(Box<Shape>),
        If(Box<Shape>, Box<Shape>, Box<Shape>),
    }

    const OPS: [BinaryOp; 6] = [
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
    ];

    /// Operands of every kind a condition meets: NULL, booleans, numbers, texts that read as
    /// booleans or numbers or neither, present, NULL and absent fields, set and unset
    /// temporaries.
    fn leaf(i: usize) -> CExpr {
        match i {
            0 => CExpr::Const(Value::Null),
            1 => CExpr::Const(Value::Bool(true)),
            2 => CExpr::Const(Value::Bool(false)),
            3 => CExpr::Const(Value::Int(2)),
            4 => CExpr::Const(Value::Int(-1)),
            5 => CExpr::Const(Value::str("true")),
            6 => CExpr::Const(Value::str("FALSE")),
            7 => CExpr::Const(Value::str("2")),
            8 => CExpr::Const(Value::str("x")),
            9 => CExpr::Const(Value::str("")),
            10 => CExpr::Field(Name::from("a")),
            11 => CExpr::Field(Name::from("b")),
            12 => CExpr::Field(Name::from("n")),
            13 => CExpr::Field(Name::from("missing")),
            i => CExpr::Temp((i - 14) as u16),
        }
    }
    const LEAVES: usize = 18;

    fn expr(s: &Shape) -> CExpr {
        let b = |s: &Shape| Box::new(expr(s));
        match s {
            Shape::Leaf(i) => leaf(*i),
            Shape::IsNull(e, negated) => CExpr::IsNull {
                expr: b(e),
                negated: *negated,
            },
            Shape::Cmp(op, x, y) => CExpr::Cmp(OPS[*op], b(x), b(y), Span::new(1, 2)),
            Shape::And(items) => CExpr::And(items.iter().map(expr).collect()),
            Shape::Or(items) => CExpr::Or(items.iter().map(expr).collect()),
            Shape::Not(e) => CExpr::Not(b(e)),
            Shape::If(c, t, o) => CExpr::If {
                cond: b(c),
                then: b(t),
                otherwise: Some(b(o)),
            },
        }
    }

    fn shape() -> impl Strategy<Value = Shape> {
        (0..LEAVES)
            .prop_map(Shape::Leaf)
            .prop_recursive(4, 32, 4, |inner| {
                let b = |s: Shape| Box::new(s);
                prop_oneof![
                    (inner.clone(), any::<bool>()).prop_map(move |(e, n)| Shape::IsNull(b(e), n)),
                    (0..OPS.len(), inner.clone(), inner.clone())
                        .prop_map(move |(op, x, y)| Shape::Cmp(op, b(x), b(y))),
                    prop::collection::vec(inner.clone(), 2..4).prop_map(Shape::And),
                    prop::collection::vec(inner.clone(), 2..4).prop_map(Shape::Or),
                    inner.clone().prop_map(move |e| Shape::Not(b(e))),
                    (inner.clone(), inner.clone(), inner).prop_map(move |(c, t, o)| Shape::If(
                        b(c),
                        b(t),
                        b(o)
                    )),
                ]
            })
    }

    /// What a condition's truth was before `cond`: evaluate to a value, then `truth`, with
    /// the operands of `AND`/`OR`/`NOT` taken the same way (three-valued, left to right).
    fn reference(
        r: &mut Runner<'_>,
        e: &CExpr,
        ev: Row<'_>,
        span: Span,
    ) -> Result<Option<bool>, EvalError> {
        match e {
            CExpr::IsNull { expr, negated } => Ok(Some(r.eval(expr, ev)?.is_null() != *negated)),
            CExpr::Cmp(op, a, b, s) => {
                let (x, y) = (r.eval(a, ev)?, r.eval(b, ev)?);
                Ok(r.compare(&x, &y, *s)?.map(|o| match op {
                    BinaryOp::Eq => o == Ordering::Equal,
                    BinaryOp::Ne => o != Ordering::Equal,
                    BinaryOp::Lt => o == Ordering::Less,
                    BinaryOp::Le => o != Ordering::Greater,
                    BinaryOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }))
            }
            CExpr::And(items) | CExpr::Or(items) => {
                let decides = matches!(e, CExpr::Or(_));
                let mut unknown = false;
                for item in items {
                    match reference(r, item, ev, Span::default())? {
                        Some(b) if b == decides => return Ok(Some(decides)),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                Ok(if unknown { None } else { Some(!decides) })
            }
            CExpr::Not(x) => match reference(r, x, ev, Span::default())? {
                None => Ok(None),
                Some(b) => Ok(Some(!b)),
            },
            CExpr::If {
                cond,
                then,
                otherwise,
            } => {
                let chosen = if reference(r, cond, ev, Span::default())? == Some(true) {
                    then
                } else {
                    otherwise.as_ref().expect("built with an ELSE")
                };
                reference(r, chosen, ev, span)
            }
            _ => {
                let v = r.eval(e, ev)?;
                r.truth(&v, span)
            }
        }
    }

    type Outcome = Result<Option<bool>, (&'static str, String, Span)>;

    fn outcome(r: Result<Option<bool>, EvalError>) -> Outcome {
        r.map_err(|e| (e.0.code, e.0.message.clone(), e.0.span))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// `cond` (conditions without building values) against evaluating the value and
        /// taking its truth, in both coercion modes: same truth, same error.
        #[test]
        fn cond_gives_the_truth_of_the_evaluated_value(
            s in shape(),
            strict in any::<bool>(),
            a in prop::sample::select(vec!["true", "x", "3", ""]),
        ) {
            let options = PlanOptions {
                coercion: if strict { Coercion::Strict } else { Coercion::Lenient },
                ..PlanOptions::default()
            };
            let plan = crate::spl::compile_with("*", &options).unwrap();
            let mut event = Event::new();
            event.set(&Name::from("a"), Value::str(a));
            event.set(&Name::from("b"), Value::Int(2));
            event.push(Name::from("n"), Value::Null);
            let temps = vec![Some(Value::Bool(true)), None, Some(Value::str("x")), Some(Value::Null)];
            let e = expr(&s);
            let mut runner = Runner::new(&plan);
            let ev = Row::new(&event, &temps);
            let fast = outcome(runner.cond(&e, ev, Span::new(5, 6)));
            let slow = outcome(reference(&mut runner, &e, ev, Span::new(5, 6)));
            prop_assert_eq!(fast, slow, "{:?}", s);
        }
    }
}
