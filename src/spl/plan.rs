//! The plan step: turns a parsed `Script` into a `Plan` that the runner executes per event
//! without ever resolving a name again.
//!
//! Owns: function resolution (case-insensitive) and arity/kind checks, `prepare` of constant
//! arguments (regexes, JSONPaths, formats), instruction options, field-name interning, lambda
//! slots, constant folding, limits, and the `.let`/`$name` dataflow. Every error here carries
//! a span and is reported once per rule, never per event.

use crate::diagnostic::{Diagnostic, Span, Spanned, codes, did_you_mean};
use crate::event::{Name, Value};
use crate::spl::ast::{self, BinaryOp, Command, Expr, ExprKind, Literal, OptValue, Type, UnaryOp};
use crate::spl::functions::{self, Function, Kind, Prepared, cast::cast, jsonpath::JsonPath};
use crate::spl::ops::Coercion;
use crate::spl::parse::{self, ParseLimits};
use crate::spl::print;
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;

/// Names of the time fields: kept by `project*`, ignored as `parse-*` outputs, set only by
/// `extend`.
pub const TIME_FIELDS: &[&str] = &["__time__", "__time_ns_part__"];

/// Settings of the plan step.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub coercion: Coercion,
    pub limits: ParseLimits,
    /// Warn (W100) on functions that are project extensions, not SLS SPL.
    pub sls_compat: bool,
    /// Per-event evaluation budget in expression steps.
    pub eval_budget: u64,
    /// Name of the field a raw line is put in.
    pub content_field: String,
    /// Keep the fields a rule creates and drops again before output (temporaries) in
    /// numbered slots beside the event instead of in it (see `spl::temps`). Off only to
    /// compare with the general path.
    pub temps: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            coercion: Coercion::Lenient,
            limits: ParseLimits::default(),
            sls_compat: false,
            eval_budget: 1_000_000,
            content_field: "content".into(),
            temps: true,
        }
    }
}

/// A compiled expression. Nodes that can fail at run time keep their span.
#[derive(Debug)]
pub enum CExpr {
    Const(Value),
    Field(Name),
    /// A temporary field, by slot (see `spl::temps`).
    Temp(u16),
    /// A lambda parameter, by absolute slot on the runner's local stack.
    Local(u16),
    Not(Box<CExpr>),
    Neg(Box<CExpr>, Span),
    /// `a AND b AND ...` (two or more operands, flat).
    And(Vec<CExpr>),
    /// `a OR b OR ...` (two or more operands, flat).
    Or(Vec<CExpr>),
    /// Comparison (`=`, `<>`, `<`, ...).
    Cmp(BinaryOp, Box<CExpr>, Box<CExpr>, Span),
    /// `+ - * / %`
    Arith(BinaryOp, Box<CExpr>, Box<CExpr>, Span),
    /// `a + b + c ...` (`+` or `*`) folded left to right; `spans[i]` is the span of the
    /// step that adds operand `i + 1` (from the first operand to that one).
    ArithChain(BinaryOp, Vec<CExpr>, Vec<Span>),
    /// `a || b || ...` (two or more operands, flat).
    Concat(Vec<CExpr>),
    Between {
        expr: Box<CExpr>,
        low: Box<CExpr>,
        high: Box<CExpr>,
        negated: bool,
        span: Span,
    },
    In {
        expr: Box<CExpr>,
        list: Vec<CExpr>,
        negated: bool,
        span: Span,
    },
    Like {
        expr: Box<CExpr>,
        pattern: LikePattern,
        negated: bool,
    },
    IsNull {
        expr: Box<CExpr>,
        negated: bool,
    },
    IsDistinct {
        left: Box<CExpr>,
        right: Box<CExpr>,
        negated: bool,
    },
    Case {
        operand: Option<Box<CExpr>>,
        whens: Vec<(CExpr, CExpr)>,
        otherwise: Option<Box<CExpr>>,
        span: Span,
    },
    Cast {
        expr: Box<CExpr>,
        ty: Type,
        try_cast: bool,
        span: Span,
    },
    Call(Box<Call>),
    /// Lazily evaluated forms.
    If {
        cond: Box<CExpr>,
        then: Box<CExpr>,
        otherwise: Option<Box<CExpr>>,
    },
    Coalesce(Vec<CExpr>),
    Try(Box<CExpr>),
    Subscript {
        expr: Box<CExpr>,
        index: Box<CExpr>,
        span: Span,
    },
    Lambda(u32),
    Array(Vec<CExpr>),
    Row(Vec<CExpr>),
    /// An expression that reads no field and no parameter and calls nothing volatile but the
    /// clock (`year(now())`): the same for every event a runner runs, since a runner's clock
    /// stands still. By index into [`Plan::run_consts`]; a runner evaluates it once.
    RunConst(u32),
}

/// A resolved function call.
#[derive(Debug)]
pub struct Call {
    pub function: &'static Function,
    pub args: Vec<CExpr>,
    pub prepared: Prepared,
    pub span: Span,
    pub arg_spans: Vec<Span>,
}

/// A compiled lambda: its body and where its parameters start on the local stack.
#[derive(Debug)]
pub struct Lambda {
    pub base: u16,
    pub arity: u16,
    pub body: CExpr,
}

/// `LIKE` pattern: precompiled when constant.
#[derive(Debug)]
pub enum LikePattern {
    Const(Regex),
    Dynamic {
        pattern: Box<CExpr>,
        escape: Option<Box<CExpr>>,
    },
}

/// A field selector of `project`/`project-away`.
#[derive(Debug)]
pub enum FieldPattern {
    Exact(Name),
    Wildcard(Regex),
}

impl FieldPattern {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            FieldPattern::Exact(n) => &**n == name,
            FieldPattern::Wildcard(r) => r.is_match(name),
        }
    }
}

/// `-mode`: what a `parse-*` output does to an existing field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Overwrite,
    Preserve,
}

/// Pair separators of `parse-kv`.
#[derive(Debug, Clone)]
pub enum KvDelims {
    /// Any of these characters separates pairs (option form `-delims`).
    Chars(Vec<char>),
    /// This exact string separates pairs (positional form).
    Text(String),
}

#[derive(Debug)]
pub enum KvSplit {
    Delimited {
        delims: KvDelims,
        kv_sep: String,
        greedy: bool,
    },
    Regex(Regex),
}

/// Where a stage reads or writes a named field: in the event, or in a temporary's slot
/// beside it (a field the rule creates and drops again before output, see `spl::temps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Field(Name),
    Temp(u16),
}

/// A compiled instruction.
#[derive(Debug)]
pub enum Stage {
    Where(CExpr, Span),
    /// The assignments read the row as it was before the stage (`a = b, b = a` swaps).
    /// `in_order` is set at the end of planning when no expression reads a place the stage
    /// assigns: then each value can be set as soon as it is computed.
    Extend {
        assigns: Vec<(Place, CExpr)>,
        in_order: bool,
    },
    Project {
        keep: Vec<FieldPattern>,
        renames: Vec<(Name, Name)>,
    },
    ProjectAway(Vec<FieldPattern>),
    ProjectRename(Vec<(Name, Name)>),
    ExpandValues {
        field: Name,
        path: Option<JsonPath>,
        limit: Option<usize>,
        keep: bool,
        output: Name,
    },
    ParseRegexp {
        field: Place,
        regex: Regex,
        /// The pattern as byte-level steps, when it has that shape (`spl::splitter`).
        splitter: Option<crate::spl::splitter::Splitter>,
        /// For a start-anchored pattern that is neither splitter-shaped nor one-pass: the
        /// bounded backtracker, run directly (the regex would first run a lazy DFA to find
        /// where the match ends, then the same backtracker for the groups).
        backtracker: Option<regex_automata::nfa::thompson::backtrack::BoundedBacktracker>,
        outputs: Vec<Option<Place>>,
        mode: Mode,
    },
    ParseCsv {
        field: Place,
        delim: String,
        quote: char,
        strict: bool,
        outputs: Vec<Option<Place>>,
        mode: Mode,
    },
    ParseJson {
        field: Name,
        path: Option<JsonPath>,
        prefix: String,
        mode: Mode,
    },
    ParseKv {
        field: Name,
        split: KvSplit,
        prefix: String,
        mode: Mode,
    },
    PackFields {
        include: Regex,
        exclude: Option<Regex>,
        ltrim: String,
        keep: bool,
        output: Name,
    },
    LogToMetric {
        names: Vec<FieldPattern>,
        labels: Vec<FieldPattern>,
        time_field: Option<Name>,
        format: bool,
    },
    MetricToMetric {
        del: Vec<String>,
        add: Vec<(String, String)>,
        rename: Vec<(String, String)>,
        format: bool,
    },
    /// Aggregation (query only): needs every row, see `Plan::has_aggregates`.
    Stats {
        aggs: Vec<(Name, Aggregate)>,
        by: Vec<Name>,
    },
    Sort(Vec<(CExpr, bool)>),
    Limit(usize),
}

impl Stage {
    /// Row-level stages run per event; the others need the whole input.
    pub fn is_row_level(&self) -> bool {
        !matches!(self, Stage::Stats { .. } | Stage::Sort(_) | Stage::Limit(_))
    }
}

/// An aggregate of `stats`.
#[derive(Debug)]
pub struct Aggregate {
    pub func: AggFunc,
    pub args: Vec<CExpr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    CountIf,
    Min,
    Max,
    Sum,
    Avg,
    ApproxDistinct,
    Arbitrary,
    ArrayAgg,
    BoolAnd,
    BoolOr,
    ApproxPercentile,
    Skewness,
    Kurtosis,
}

const AGGREGATES: &[(&str, AggFunc, usize, usize)] = &[
    ("count", AggFunc::Count, 0, 1),
    ("count_if", AggFunc::CountIf, 1, 1),
    ("min", AggFunc::Min, 1, 1),
    ("max", AggFunc::Max, 1, 1),
    ("sum", AggFunc::Sum, 1, 1),
    ("avg", AggFunc::Avg, 1, 1),
    ("approx_distinct", AggFunc::ApproxDistinct, 1, 1),
    ("arbitrary", AggFunc::Arbitrary, 1, 1),
    ("array_agg", AggFunc::ArrayAgg, 1, 1),
    ("bool_and", AggFunc::BoolAnd, 1, 1),
    ("every", AggFunc::BoolAnd, 1, 1),
    ("bool_or", AggFunc::BoolOr, 1, 1),
    ("approx_percentile", AggFunc::ApproxPercentile, 2, 2),
    ("skewness", AggFunc::Skewness, 1, 1),
    ("kurtosis", AggFunc::Kurtosis, 1, 1),
];

/// Where a dataset's rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    Input,
    Dataset(usize),
}

/// One pipeline: a source and its stages.
#[derive(Debug)]
pub struct Dataset {
    /// `.let` name, or `None` for a pipeline statement that is output directly.
    pub name: Option<String>,
    pub from: From,
    pub stages: Vec<(Stage, Span)>,
}

/// The compiled rule.
#[derive(Debug)]
pub struct Plan {
    pub datasets: Vec<Dataset>,
    /// What is output, in statement order: (dataset index, tag). The tag is the dataset name
    /// for `$name;` outputs, `None` for a directly output pipeline.
    pub outputs: Vec<(usize, Option<Arc<str>>)>,
    pub lambdas: Vec<Lambda>,
    pub options: PlanOptions,
    pub content: Name,
    /// Non-fatal findings (e.g. SLS-compat warnings).
    pub warnings: Vec<Diagnostic>,
    /// Performance notes (not warnings: the rule is right, only slower than it could be),
    /// e.g. a `parse-regexp` pattern that forces the slow capture path. `soc spl check`
    /// prints them.
    pub notes: Vec<Diagnostic>,
    /// Every field name the plan interned: a runner reuses these for names it meets at run
    /// time (`parse-json`, `parse-kv` keys), so that a field the rule reads is found by
    /// address, without comparing its text.
    pub names: Vec<Name>,
    /// The temporaries' names by slot (empty unless the plan has one dataset whose stages
    /// allow them, see `spl::temps`).
    pub temps: Vec<Name>,
    /// The expressions `CExpr::RunConst` refers to, by index.
    pub run_consts: Vec<CExpr>,
}

impl Plan {
    /// True when some stage needs all rows at once (`stats`, `sort`, `limit`).
    pub fn has_aggregates(&self) -> bool {
        self.datasets
            .iter()
            .any(|d| d.stages.iter().any(|(s, _)| !s.is_row_level()))
    }

    /// How many `parse-regexp` stages run as a splitter (`spl::splitter`) instead of a regex.
    pub fn splitters(&self) -> usize {
        self.count_stages(|s| {
            matches!(
                s,
                Stage::ParseRegexp {
                    splitter: Some(_),
                    ..
                }
            )
        })
    }

    /// How many `parse-regexp` stages run the bounded backtracker directly.
    pub fn backtrackers(&self) -> usize {
        self.count_stages(|s| {
            matches!(
                s,
                Stage::ParseRegexp {
                    backtracker: Some(_),
                    ..
                }
            )
        })
    }

    fn count_stages(&self, pick: impl Fn(&Stage) -> bool) -> usize {
        self.datasets
            .iter()
            .flat_map(|d| &d.stages)
            .filter(|(s, _)| pick(s))
            .count()
    }

    /// True when outputs are tagged (`$name;` statements).
    pub fn is_tagged(&self) -> bool {
        self.outputs.iter().any(|(_, t)| t.is_some())
    }

    pub(crate) fn is_time_field(&self, name: &str) -> bool {
        TIME_FIELDS.contains(&name)
    }
}

/// Why a `parse-regexp` pattern cannot take the fast capture path, or `None` when it can.
/// The fast path is the regex crate's one-pass DFA, which it uses (without a lazy-DFA pass
/// first) for patterns that are anchored at the start and one-pass: at every point the next
/// byte decides which part of the pattern it belongs to.
pub fn slow_capture_path(pattern: &str) -> Option<&'static str> {
    let hir = regex_syntax::parse(pattern).ok()?;
    if !hir
        .properties()
        .look_set_prefix()
        .contains(regex_syntax::hir::Look::Start)
    {
        return Some(
            "it is not anchored with `^`, so a lazy DFA first searches for the match and a backtracker then finds its groups",
        );
    }
    match regex_automata::dfa::onepass::DFA::new(pattern) {
        Ok(_) => None,
        Err(_) => Some(NOT_ONE_PASS),
    }
}

/// The reason [`slow_capture_path`] gives for an anchored pattern that is not one-pass.
const NOT_ONE_PASS: &str = "it is not one-pass (somewhere one byte could continue two parts of it, as `\\S+` before a space-free literal or `.*?` before text), so a backtracker finds its groups";

/// Parses and plans a rule with default options.
pub fn compile(src: &str) -> Result<Plan, Vec<Diagnostic>> {
    compile_with(src, &PlanOptions::default())
}

/// Parses and plans a rule.
pub fn compile_with(src: &str, options: &PlanOptions) -> Result<Plan, Vec<Diagnostic>> {
    let script = parse::parse_with(src, &options.limits)?;
    plan(&script, options)
}

/// Plans a parsed script.
pub fn plan(script: &ast::Script, options: &PlanOptions) -> Result<Plan, Vec<Diagnostic>> {
    let mut p = Planner {
        options: options.clone(),
        names: HashMap::new(),
        lambdas: Vec::new(),
        scopes: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        notes: Vec::new(),
        depth: 0,
        run_consts: Vec::new(),
    };
    let mut datasets: Vec<Dataset> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut outputs = Vec::new();
    for stmt in &script.stmts {
        match stmt {
            ast::Stmt::Let { name, pipeline } => {
                if by_name.contains_key(&name.node) {
                    p.errors.push(
                        Diagnostic::error(
                            codes::DUPLICATE_OUTPUT,
                            format!("dataset `{}` is defined twice", name.node),
                        )
                        .with_label(name.span, "defined again here")
                        .with_hint("give each `.let` dataset its own name"),
                    );
                    continue;
                }
                match p.pipeline(pipeline, Some(name.node.clone()), &by_name) {
                    Some(ds) => {
                        by_name.insert(name.node.clone(), datasets.len());
                        datasets.push(ds);
                    }
                    // Known but broken: later references are not reported again.
                    None => {
                        by_name.insert(name.node.clone(), FAILED);
                    }
                }
            }
            ast::Stmt::Pipeline(pipeline) => {
                if let Some(ds) = p.pipeline(pipeline, None, &by_name) {
                    outputs.push((datasets.len(), None));
                    datasets.push(ds);
                }
            }
            ast::Stmt::Output(name) => match by_name.get(&name.node) {
                Some(&FAILED) => {}
                Some(&i) => outputs.push((i, Some(Arc::from(name.node.as_str())))),
                None => p.errors.push(p.unknown_dataset(name, &by_name)),
            },
        }
    }
    if outputs.is_empty() && p.errors.is_empty() {
        let span = script
            .stmts
            .last()
            .map(|s| match s {
                ast::Stmt::Let { name, .. } => name.span,
                ast::Stmt::Pipeline(pl) => pl.source.span,
                ast::Stmt::Output(n) => n.span,
            })
            .unwrap_or_default();
        p.errors.push(
            Diagnostic::error(
                codes::NO_OUTPUT,
                "the rule defines datasets but outputs none",
            )
            .with_label(span, "nothing is output")
            .with_hint("add `$name;` for each dataset to output"),
        );
    }
    if !p.errors.is_empty() {
        return Err(p.errors);
    }
    let content = p.intern(&options.content_field);
    let mut plan = Plan {
        datasets,
        outputs,
        lambdas: p.lambdas,
        options: options.clone(),
        content,
        warnings: p.warnings,
        notes: p.notes,
        names: p.names.into_values().collect(),
        temps: Vec::new(),
        run_consts: p.run_consts,
    };
    if options.temps {
        crate::spl::temps::assign(&mut plan);
    }
    for ds in &mut plan.datasets {
        for (stage, _) in &mut ds.stages {
            if let Stage::Extend { assigns, in_order } = stage {
                *in_order = assigns.iter().all(|(_, e)| {
                    !reads_any(e, &mut |read| assigns.iter().any(|(p, _)| p == read))
                });
            }
        }
    }
    Ok(plan)
}

/// True when `e` may read a place `hit` accepts. Lambdas count as reading everything (their
/// bodies are elsewhere).
fn reads_any(e: &CExpr, hit: &mut dyn FnMut(&Place) -> bool) -> bool {
    let any = |items: &[CExpr], hit: &mut dyn FnMut(&Place) -> bool| {
        items.iter().any(|x| reads_any(x, hit))
    };
    match e {
        CExpr::Field(n) => hit(&Place::Field(n.clone())),
        CExpr::Temp(s) => hit(&Place::Temp(*s)),
        CExpr::Lambda(_) => true,
        CExpr::Const(_) | CExpr::Local(_) | CExpr::RunConst(_) => false,
        CExpr::Not(x) | CExpr::Neg(x, _) | CExpr::Try(x) => reads_any(x, hit),
        CExpr::IsNull { expr, .. } | CExpr::Cast { expr, .. } => reads_any(expr, hit),
        CExpr::And(items)
        | CExpr::Or(items)
        | CExpr::Concat(items)
        | CExpr::ArithChain(_, items, _)
        | CExpr::Coalesce(items)
        | CExpr::Array(items)
        | CExpr::Row(items) => any(items, hit),
        CExpr::Cmp(_, a, b, _)
        | CExpr::Arith(_, a, b, _)
        | CExpr::IsDistinct {
            left: a, right: b, ..
        }
        | CExpr::Subscript {
            expr: a, index: b, ..
        } => reads_any(a, hit) || reads_any(b, hit),
        CExpr::Between {
            expr, low, high, ..
        } => reads_any(expr, hit) || reads_any(low, hit) || reads_any(high, hit),
        CExpr::In { expr, list, .. } => reads_any(expr, hit) || any(list, hit),
        CExpr::Like { expr, pattern, .. } => {
            reads_any(expr, hit)
                || match pattern {
                    LikePattern::Const(_) => false,
                    LikePattern::Dynamic { pattern, escape } => {
                        reads_any(pattern, hit)
                            || escape.as_ref().is_some_and(|x| reads_any(x, hit))
                    }
                }
        }
        CExpr::Case {
            operand,
            whens,
            otherwise,
            ..
        } => {
            operand.as_ref().is_some_and(|x| reads_any(x, hit))
                || whens
                    .iter()
                    .any(|(w, t)| reads_any(w, hit) || reads_any(t, hit))
                || otherwise.as_ref().is_some_and(|x| reads_any(x, hit))
        }
        CExpr::Call(call) => any(&call.args, hit),
        CExpr::If {
            cond,
            then,
            otherwise,
        } => {
            reads_any(cond, hit)
                || reads_any(then, hit)
                || otherwise.as_ref().is_some_and(|x| reads_any(x, hit))
        }
    }
}

struct Planner {
    options: PlanOptions,
    names: HashMap<String, Name>,
    lambdas: Vec<Lambda>,
    /// Lambda parameter names in scope, innermost last; index = stack slot.
    scopes: Vec<String>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    notes: Vec<Diagnostic>,
    depth: usize,
    run_consts: Vec<CExpr>,
}

/// Dataset index of a `.let` whose pipeline did not plan.
const FAILED: usize = usize::MAX;

/// Functions whose result changes between calls: never folded at plan time.
const VOLATILE: &[&str] = &[
    "rand",
    "random",
    "shuffle",
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "uuid",
];

/// The volatile functions that only read the clock: a runner's clock stands still, so
/// expressions over them are constant per runner (`CExpr::RunConst`).
const CLOCK: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
];

impl Planner {
    fn intern(&mut self, name: &str) -> Name {
        if let Some(n) = self.names.get(name) {
            return n.clone();
        }
        let n: Name = Arc::from(name);
        self.names.insert(name.to_string(), n.clone());
        n
    }

    fn unknown_dataset(
        &self,
        name: &Spanned<String>,
        known: &HashMap<String, usize>,
    ) -> Diagnostic {
        let mut d = Diagnostic::error(
            codes::UNKNOWN_DATASET,
            format!("unknown dataset `${}`", name.node),
        )
        .with_label(name.span, "not defined before this point");
        match did_you_mean(
            &name.node,
            known
                .iter()
                .filter(|(_, i)| **i != FAILED)
                .map(|(k, _)| k.as_str()),
        ) {
            Some(s) => d = d.with_hint(format!("did you mean `${s}`?")),
            None => d = d.with_hint("define it first with `.let name = * | ...;`"),
        }
        d
    }

    fn pipeline(
        &mut self,
        pl: &ast::Pipeline,
        name: Option<String>,
        known: &HashMap<String, usize>,
    ) -> Option<Dataset> {
        let from = match &pl.source.node {
            ast::Source::All => From::Input,
            ast::Source::Search(q) => {
                self.warnings.push(
                    Diagnostic::warning(
                        codes::SEARCH_IGNORED,
                        "a search query as source is only meaningful in SLS scan mode",
                    )
                    .with_label(
                        pl.source.span,
                        format!("`{q}` is ignored: every event is taken"),
                    )
                    .with_hint("write `*` as the source, and filter with `| where ...`"),
                );
                From::Input
            }
            ast::Source::Dataset(d) => match known.get(d) {
                Some(&FAILED) => return None,
                Some(&i) => From::Dataset(i),
                None => {
                    let spanned = Spanned::new(d.clone(), pl.source.span);
                    self.errors.push(self.unknown_dataset(&spanned, known));
                    return None;
                }
            },
        };
        if pl.stages.len() > self.options.limits.max_stages {
            self.errors.push(
                Diagnostic::error(
                    codes::TOO_MANY_STAGES,
                    format!(
                        "the pipeline has {} stages, more than the limit of {}",
                        pl.stages.len(),
                        self.options.limits.max_stages
                    ),
                )
                .with_label(
                    pl.stages[self.options.limits.max_stages].span,
                    "this stage is over the limit",
                )
                .with_hint("split the rule with `.let` datasets, or raise the limit"),
            );
            return None;
        }
        let before = self.errors.len();
        let mut stages = Vec::with_capacity(pl.stages.len());
        for stage in &pl.stages {
            if let Some(s) = self.command(&stage.node, stage.span) {
                stages.push((s, stage.span));
            }
        }
        (self.errors.len() == before).then_some(Dataset { name, from, stages })
    }

    // ---- options ------------------------------------------------------------------------

    fn options<'a>(
        &mut self,
        cmd: &str,
        opts: &'a [ast::Opt],
        allowed: &[&str],
    ) -> HashMap<&'a str, &'a ast::Opt> {
        let mut out = HashMap::new();
        for o in opts {
            let name = o.name.node.as_str();
            if !allowed.contains(&name) {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_OPTION,
                    format!("`{cmd}` has no option `-{name}`"),
                )
                .with_label(o.name.span, "unknown option");
                match did_you_mean(name, allowed.iter().copied()) {
                    Some(s) => d = d.with_hint(format!("did you mean `-{s}`?")),
                    None if allowed.is_empty() => {
                        d = d.with_hint(format!("`{cmd}` takes no options"))
                    }
                    None => {
                        d = d.with_hint(format!(
                            "`{cmd}` accepts: {}",
                            allowed
                                .iter()
                                .map(|a| format!("-{a}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    }
                }
                self.errors.push(d);
                continue;
            }
            if out.insert(name, o).is_some() {
                self.errors.push(
                    Diagnostic::error(
                        codes::BAD_OPTION,
                        format!("option `-{name}` is given twice"),
                    )
                    .with_label(o.name.span, "repeated here"),
                );
            }
        }
        out
    }

    fn opt_switch(&mut self, opts: &HashMap<&str, &ast::Opt>, name: &str) -> bool {
        match opts.get(name) {
            None => false,
            Some(o) => match &o.value {
                None => true,
                Some(v) => match &v.node {
                    OptValue::Ident(s) if s.eq_ignore_ascii_case("true") => true,
                    OptValue::Ident(s) if s.eq_ignore_ascii_case("false") => false,
                    _ => {
                        self.errors.push(
                            Diagnostic::error(
                                codes::BAD_OPTION,
                                format!("`-{name}` is a switch and takes no value"),
                            )
                            .with_label(v.span, "remove this value"),
                        );
                        true
                    }
                },
            },
        }
    }

    /// A string-valued option (`-name='text'`; an identifier is accepted too).
    fn opt_str(&mut self, opts: &HashMap<&str, &ast::Opt>, name: &str) -> Option<(String, Span)> {
        let o = opts.get(name)?;
        match &o.value {
            Some(v) => match &v.node {
                OptValue::Str(s) | OptValue::Ident(s) => Some((s.clone(), v.span)),
                OptValue::Int(i) => Some((i.to_string(), v.span)),
            },
            None => {
                self.errors.push(
                    Diagnostic::error(codes::BAD_OPTION, format!("`-{name}` needs a value"))
                        .with_label(o.name.span, "no value given")
                        .with_hint(format!("write `-{name}='...'`")),
                );
                None
            }
        }
    }

    fn opt_int(&mut self, opts: &HashMap<&str, &ast::Opt>, name: &str) -> Option<i64> {
        let o = opts.get(name)?;
        match o.value.as_ref().map(|v| (&v.node, v.span)) {
            Some((OptValue::Int(i), _)) => Some(*i),
            Some((OptValue::Str(s), span)) => match s.trim().parse() {
                Ok(i) => Some(i),
                Err(_) => {
                    self.errors.push(
                        Diagnostic::error(
                            codes::BAD_OPTION,
                            format!("`-{name}` needs a whole number"),
                        )
                        .with_label(span, "not a number"),
                    );
                    None
                }
            },
            _ => {
                self.errors.push(
                    Diagnostic::error(codes::BAD_OPTION, format!("`-{name}` needs a whole number"))
                        .with_label(o.name.span, "give it a value")
                        .with_hint(format!("write `-{name}=10`")),
                );
                None
            }
        }
    }

    fn opt_mode(&mut self, opts: &HashMap<&str, &ast::Opt>) -> Mode {
        match self.opt_str(opts, "mode") {
            None => Mode::Overwrite,
            Some((m, span)) => match m.to_ascii_lowercase().as_str() {
                "overwrite" => Mode::Overwrite,
                "preserve" => Mode::Preserve,
                _ => {
                    self.errors.push(
                        Diagnostic::error(codes::BAD_OPTION, format!("unknown mode '{m}'"))
                            .with_label(span, "not a mode")
                            .with_hint("use -mode='overwrite' (the default) or -mode='preserve'"),
                    );
                    Mode::Overwrite
                }
            },
        }
    }

    /// A Char-typed option (`'\t'`, `'\x09'`, `'\11'`) of 1..=max characters.
    fn opt_chars(
        &mut self,
        opts: &HashMap<&str, &ast::Opt>,
        name: &str,
        max: usize,
    ) -> Option<String> {
        let (raw, span) = self.opt_str(opts, name)?;
        match unescape_char_option(&raw) {
            Ok(s) if !s.is_empty() && s.chars().count() <= max => Some(s),
            Ok(_) => {
                self.errors.push(
                    Diagnostic::error(
                        codes::BAD_OPTION,
                        format!("`-{name}` takes 1 to {max} characters"),
                    )
                    .with_label(span, format!("'{raw}' does not fit")),
                );
                None
            }
            Err(e) => {
                self.errors
                    .push(Diagnostic::error(codes::BAD_OPTION, e).with_label(span, "bad escape"));
                None
            }
        }
    }

    fn regex(&mut self, pattern: &str, span: Span, full_match: bool) -> Option<Regex> {
        let source = if full_match {
            format!("^(?:{pattern})$")
        } else {
            pattern.to_string()
        };
        match regex::RegexBuilder::new(&source)
            .size_limit(1 << 22)
            .build()
        {
            Ok(r) => Some(r),
            Err(e) => {
                self.errors.push(regex_error(&e, span, pattern));
                None
            }
        }
    }

    fn jsonpath(&mut self, path: &str, span: Span) -> Option<JsonPath> {
        match JsonPath::parse(path) {
            Ok(p) => Some(p),
            Err(e) => {
                self.errors.push(
                    Diagnostic::error(codes::BAD_JSONPATH, format!("invalid JSONPath: {e}"))
                        .with_label(span, "this path")
                        .with_hint("paths look like '$.a.b', '$.a[0]' or '$[\"key.with.dots\"]'"),
                );
                None
            }
        }
    }

    fn patterns(&mut self, fields: &[&ast::Field], wildcard: bool) -> Vec<FieldPattern> {
        fields
            .iter()
            .map(|f| {
                if wildcard && f.node.contains('*') {
                    let re = format!("^{}$", regex::escape(&f.node).replace("\\*", ".*"));
                    FieldPattern::Wildcard(
                        Regex::new(&re).expect("escaped wildcard pattern compiles"),
                    )
                } else {
                    FieldPattern::Exact(self.intern(&f.node))
                }
            })
            .collect()
    }

    /// Output names of a `parse-*`: time fields are ignored (SLS), duplicates are errors.
    fn outputs(&mut self, outputs: &[ast::Field]) -> Vec<Option<Name>> {
        let mut seen = HashMap::new();
        outputs
            .iter()
            .map(|o| {
                if let Some(prev) = seen.insert(o.node.clone(), o.span) {
                    self.errors.push(
                        Diagnostic::error(
                            codes::DUPLICATE_OUTPUT,
                            format!("output `{}` is named twice", o.node),
                        )
                        .with_label(o.span, "named again here")
                        .with_secondary(prev, "first here"),
                    );
                }
                if TIME_FIELDS.contains(&o.node.as_str()) {
                    self.warnings.push(
                        Diagnostic::warning(
                            codes::TIME_FIELD_OUTPUT,
                            format!(
                                "`{}` is a time field: parse instructions cannot set it",
                                o.node
                            ),
                        )
                        .with_label(o.span, "this output is ignored")
                        .with_hint("set time fields with `| extend __time__ = ...`"),
                    );
                    None
                } else {
                    Some(self.intern(&o.node))
                }
            })
            .collect()
    }

    // ---- instructions -------------------------------------------------------------------

    fn command(&mut self, cmd: &Command, span: Span) -> Option<Stage> {
        let name = cmd.name();
        Some(match cmd {
            Command::Where(e) => {
                let c = self.expr(e);
                Stage::Where(c, e.span)
            }
            Command::Extend(assigns) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                let mut out = Vec::with_capacity(assigns.len());
                for a in assigns {
                    if let Some(prev) = seen.insert(a.output.node.as_str(), a.output.span) {
                        self.errors.push(
                            Diagnostic::error(
                                codes::DUPLICATE_OUTPUT,
                                format!("`{}` is assigned twice in one `extend`", a.output.node),
                            )
                            .with_label(a.output.span, "assigned again here")
                            .with_secondary(prev, "first assigned here")
                            .with_hint(
                                "chain a second `| extend` to compute from the first result",
                            ),
                        );
                    }
                    let c = self.expr(&a.expr);
                    out.push((Place::Field(self.intern(&a.output.node)), c));
                }
                Stage::Extend {
                    assigns: out,
                    in_order: false,
                }
            }
            Command::Project { opts, items } => {
                let o = self.options(name, opts, &["wildcard", "wildcard-off"]);
                let wildcard =
                    self.opt_switch(&o, "wildcard") && !self.opt_switch(&o, "wildcard-off");
                let keeps: Vec<&ast::Field> = items
                    .iter()
                    .filter_map(|i| {
                        if let ast::ProjectItem::Keep(f) = i {
                            Some(f)
                        } else {
                            None
                        }
                    })
                    .collect();
                let keep = self.patterns(&keeps, wildcard);
                let renames = self.renames(items.iter().filter_map(|i| {
                    if let ast::ProjectItem::Rename(r) = i {
                        Some(r)
                    } else {
                        None
                    }
                }));
                Stage::Project { keep, renames }
            }
            Command::ProjectAway { opts, fields } => {
                let o = self.options(name, opts, &["wildcard", "wildcard-off"]);
                let wildcard =
                    self.opt_switch(&o, "wildcard") && !self.opt_switch(&o, "wildcard-off");
                let fields: Vec<&ast::Field> = fields.iter().collect();
                Stage::ProjectAway(self.patterns(&fields, wildcard))
            }
            Command::ProjectRename { renames } => {
                Stage::ProjectRename(self.renames(renames.iter()))
            }
            Command::ExpandValues {
                opts,
                field,
                output,
            } => {
                let o = self.options(name, opts, &["path", "limit", "keep"]);
                let path = self
                    .opt_str(&o, "path")
                    .and_then(|(p, s)| self.jsonpath(&p, s));
                let limit = self.opt_int(&o, "limit").map(|l| l.max(0) as usize);
                let keep = self.opt_switch(&o, "keep");
                let output = self.intern(&output.as_ref().unwrap_or(field).node);
                Stage::ExpandValues {
                    field: self.intern(&field.node),
                    path,
                    limit,
                    keep,
                    output,
                }
            }
            Command::ParseRegexp {
                opts,
                field,
                pattern,
                outputs,
            } => {
                let o = self.options(name, opts, &["mode", "flags"]);
                let mode = self.opt_mode(&o);
                let flags = self.opt_str(&o, "flags");
                let source = match &flags {
                    Some((f, _)) if !f.is_empty() => format!("(?{f}){}", pattern.node),
                    _ => pattern.node.clone(),
                };
                let regex = self.regex(&source, pattern.span, false)?;
                let splitter = crate::spl::splitter::Splitter::new(&source);
                let slow = splitter
                    .is_none()
                    .then(|| slow_capture_path(&source))
                    .flatten();
                let backtracker = match slow {
                    Some(reason) if reason == NOT_ONE_PASS => {
                        regex_automata::nfa::thompson::backtrack::BoundedBacktracker::new(&source)
                            .ok()
                    }
                    _ => None,
                };
                if let Some(reason) = slow {
                    self.notes.push(
                        Diagnostic::note(codes::SLOW_PATTERN, format!("this pattern takes the slow capture path: {reason}"))
                            .with_label(pattern.span, "slow path")
                            .with_hint("anchor the pattern with `^` and let each repeated part stop at the text that follows it: `([^ ]+) ` or `([^\"]*)\"` rather than `(\\S+) ` or `(.*?)\"`; a one-pass pattern captures several times faster"),
                    );
                }
                let groups = regex.captures_len() - 1;
                let outs = if outputs.is_empty() {
                    let names: Vec<Option<&str>> = regex.capture_names().skip(1).collect();
                    if groups == 0 || names.iter().any(Option::is_none) {
                        self.errors.push(
                            Diagnostic::error(codes::GROUP_COUNT, "parse-regexp without `as` needs every group to be named")
                                .with_label(pattern.span, if groups == 0 { "this pattern has no capture group".to_string() } else { format!("{} of {groups} groups have no name", names.iter().filter(|n| n.is_none()).count()) })
                                .with_hint("name the groups, `(?P<ip>\\S+)`, or list outputs: `as ip, method`; use `(?:...)` for groups that should not be captured"),
                        );
                        return None;
                    }
                    let names: Vec<Spanned<String>> = names
                        .into_iter()
                        .map(|n| Spanned::new(n.unwrap_or_default().to_string(), pattern.span))
                        .collect();
                    self.outputs(&names)
                } else {
                    if groups != outputs.len() {
                        let span = outputs[0].span.to(outputs[outputs.len() - 1].span);
                        self.errors.push(
                            Diagnostic::error(codes::GROUP_COUNT, format!("the pattern has {groups} capture group{} but {} output{} {} named", plural(groups), outputs.len(), plural(outputs.len()), if outputs.len() == 1 { "is" } else { "are" }))
                                .with_label(span, format!("{} output{}", outputs.len(), plural(outputs.len())))
                                .with_secondary(pattern.span, format!("{groups} group{}", plural(groups)))
                                .with_hint("give one output per capture group; write `(?:...)` for a group that should not be captured"),
                        );
                        return None;
                    }
                    self.outputs(outputs)
                };
                Stage::ParseRegexp {
                    field: Place::Field(self.intern(&field.node)),
                    regex,
                    splitter,
                    backtracker,
                    outputs: outs.into_iter().map(|o| o.map(Place::Field)).collect(),
                    mode,
                }
            }
            Command::ParseCsv {
                opts,
                field,
                outputs,
            } => {
                let o = self.options(name, opts, &["delim", "quote", "strict", "mode"]);
                let delim = if o.contains_key("delim") {
                    self.opt_chars(&o, "delim", 3)?
                } else {
                    ",".into()
                };
                let quote = if o.contains_key("quote") {
                    self.opt_chars(&o, "quote", 1)?.chars().next()?
                } else {
                    '"'
                };
                let strict = self.opt_switch(&o, "strict");
                let mode = self.opt_mode(&o);
                let outputs = self
                    .outputs(outputs)
                    .into_iter()
                    .map(|o| o.map(Place::Field))
                    .collect();
                Stage::ParseCsv {
                    field: Place::Field(self.intern(&field.node)),
                    delim,
                    quote,
                    strict,
                    outputs,
                    mode,
                }
            }
            Command::ParseJson { opts, field } => {
                let o = self.options(name, opts, &["mode", "path", "prefix"]);
                let mode = self.opt_mode(&o);
                let path = self
                    .opt_str(&o, "path")
                    .and_then(|(p, s)| self.jsonpath(&p, s));
                let prefix = self.opt_str(&o, "prefix").map(|p| p.0).unwrap_or_default();
                Stage::ParseJson {
                    field: self.intern(&field.node),
                    path,
                    prefix,
                    mode,
                }
            }
            Command::ParseKv { opts, field, args } => {
                let o = self.options(
                    name,
                    opts,
                    &["delims", "kv-sep", "prefix", "mode", "greedy", "regexp"],
                );
                let mode = self.opt_mode(&o);
                let prefix = self.opt_str(&o, "prefix").map(|p| p.0).unwrap_or_default();
                let greedy = self.opt_switch(&o, "greedy");
                let split = if self.opt_switch(&o, "regexp") {
                    let [pattern] = args.as_slice() else {
                        self.errors.push(
                            Diagnostic::error(codes::BAD_ARGUMENT, "`parse-kv -regexp` takes the field and one pattern with two groups")
                                .with_label(field.span.to(args.last().map_or(field.span, |a| a.span)), "here")
                                .with_hint("write `parse-kv -regexp content, '(\\w+)=(\\S+)'`"),
                        );
                        return None;
                    };
                    let re = self.regex(&pattern.node, pattern.span, false)?;
                    if re.captures_len() - 1 != 2 {
                        self.errors.push(
                            Diagnostic::error(codes::GROUP_COUNT, format!("the pattern has {} capture groups; parse-kv -regexp needs exactly 2 (key, value)", re.captures_len() - 1))
                                .with_label(pattern.span, "this pattern")
                                .with_hint("group 1 is the key and group 2 the value; write `(?:...)` for other groups"),
                        );
                        return None;
                    }
                    KvSplit::Regex(re)
                } else {
                    match args.as_slice() {
                        [] => {
                            let delims = match self.opt_chars(&o, "delims", 64) {
                                Some(d) => d.chars().collect(),
                                None if o.contains_key("delims") => return None,
                                None => vec![' ', '\t'],
                            };
                            let kv_sep = if o.contains_key("kv-sep") {
                                self.opt_chars(&o, "kv-sep", 8)?
                            } else {
                                "=".into()
                            };
                            KvSplit::Delimited {
                                delims: KvDelims::Chars(delims),
                                kv_sep,
                                greedy,
                            }
                        }
                        [pair, sep] => {
                            if pair.node.is_empty() || sep.node.is_empty() {
                                let s = if pair.node.is_empty() {
                                    pair.span
                                } else {
                                    sep.span
                                };
                                self.errors.push(
                                    Diagnostic::error(
                                        codes::BAD_ARGUMENT,
                                        "parse-kv separators cannot be empty",
                                    )
                                    .with_label(s, "empty"),
                                );
                                return None;
                            }
                            KvSplit::Delimited {
                                delims: KvDelims::Text(pair.node.clone()),
                                kv_sep: sep.node.clone(),
                                greedy,
                            }
                        }
                        [one] => {
                            self.errors.push(
                                Diagnostic::error(codes::BAD_ARGUMENT, "parse-kv takes both the pair delimiter and the key/value separator")
                                    .with_label(one.span, "only one given")
                                    .with_hint("write `parse-kv content, '&', '='`, or `-regexp` for a pattern"),
                            );
                            return None;
                        }
                        more => {
                            self.errors.push(
                                Diagnostic::error(
                                    codes::BAD_ARGUMENT,
                                    "parse-kv takes at most two separators",
                                )
                                .with_label(more[2].span, "extra argument"),
                            );
                            return None;
                        }
                    }
                };
                Stage::ParseKv {
                    field: self.intern(&field.node),
                    split,
                    prefix,
                    mode,
                }
            }
            Command::PackFields { opts, output } => {
                let o = self.options(name, opts, &["keep", "ltrim", "include", "exclude"]);
                let keep = self.opt_switch(&o, "keep");
                let ltrim = self.opt_str(&o, "ltrim").map(|p| p.0).unwrap_or_default();
                let include = match self.opt_str(&o, "include") {
                    Some((p, s)) => self.regex(&p, s, true)?,
                    None => Regex::new("^(?:.*)$").expect("static regex"),
                };
                let exclude = match self.opt_str(&o, "exclude") {
                    Some((p, s)) => Some(self.regex(&p, s, true)?),
                    None => None,
                };
                Stage::PackFields {
                    include,
                    exclude,
                    ltrim,
                    keep,
                    output: self.intern(&output.node),
                }
            }
            Command::LogToMetric { opts } => {
                let o = self.options(
                    name,
                    opts,
                    &["wildcard", "format", "names", "labels", "time_field"],
                );
                let wildcard = self.opt_switch(&o, "wildcard");
                let format = self.opt_switch(&o, "format");
                let names = self.name_list(&o, "names", wildcard);
                let labels = self.name_list(&o, "labels", wildcard);
                if names.is_empty() && !o.contains_key("names") {
                    self.errors.push(
                        Diagnostic::error(codes::BAD_OPTION, "log-to-metric needs -names")
                            .with_label(span, "no metric fields")
                            .with_hint("write `log-to-metric -names='[\"rt\", \"bytes\"]' -labels='[\"host\"]'`"),
                    );
                    return None;
                }
                let time_field = self.opt_str(&o, "time_field").map(|t| self.intern(&t.0));
                Stage::LogToMetric {
                    names,
                    labels,
                    time_field,
                    format,
                }
            }
            Command::MetricToMetric { opts } => {
                let o = self.options(
                    name,
                    opts,
                    &["format", "del_labels", "add_labels", "rename_label"],
                );
                let format = self.opt_switch(&o, "format");
                let del = self
                    .opt_str(&o, "del_labels")
                    .map(|(s, _)| split_list(&s))
                    .unwrap_or_default();
                let add = self
                    .opt_str(&o, "add_labels")
                    .and_then(|(s, sp)| self.map_option(&s, sp))
                    .unwrap_or_default();
                let rename = self
                    .opt_str(&o, "rename_label")
                    .and_then(|(s, sp)| self.map_option(&s, sp))
                    .unwrap_or_default();
                Stage::MetricToMetric {
                    del,
                    add,
                    rename,
                    format,
                }
            }
            Command::Stats { aggs, by } => {
                let mut out = Vec::new();
                for a in aggs {
                    if let Some(agg) = self.aggregate(&a.expr) {
                        out.push((self.intern(&a.output.node), agg));
                    }
                }
                if out.len() != aggs.len() {
                    return None;
                }
                let by = by.iter().map(|f| self.intern(&f.node)).collect();
                Stage::Stats { aggs: out, by }
            }
            Command::Sort { keys } => Stage::Sort(
                keys.iter()
                    .map(|k| (self.expr(&k.expr), k.descending))
                    .collect(),
            ),
            Command::Limit { count } => {
                if count.node < 0 {
                    self.errors.push(
                        Diagnostic::error(codes::BAD_ARGUMENT, "limit cannot be negative")
                            .with_label(count.span, "negative"),
                    );
                    return None;
                }
                Stage::Limit(count.node as usize)
            }
        })
    }

    fn renames<'a>(&mut self, renames: impl Iterator<Item = &'a ast::Rename>) -> Vec<(Name, Name)> {
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut targets: HashMap<String, (Span, String)> = HashMap::new();
        let mut out = Vec::new();
        for r in renames {
            if TIME_FIELDS.contains(&r.input.node.as_str()) {
                self.errors.push(
                    Diagnostic::error(codes::BAD_ARGUMENT, "time fields cannot be renamed")
                        .with_label(r.input.span, "a time field")
                        .with_hint(format!(
                            "copy it instead: `| extend {} = {}`",
                            r.output.node, r.input.node
                        )),
                );
                continue;
            }
            if TIME_FIELDS.contains(&r.output.node.as_str()) {
                self.errors.push(
                    Diagnostic::error(codes::BAD_ARGUMENT, "a rename cannot set a time field")
                        .with_label(r.output.span, "a time field")
                        .with_hint(format!(
                            "set it with `| extend {} = cast({} as BIGINT)`",
                            r.output.node, r.input.node
                        )),
                );
                continue;
            }
            if let Some(prev) = seen.insert(r.input.node.clone(), r.input.span) {
                self.errors.push(
                    Diagnostic::error(
                        codes::DUPLICATE_OUTPUT,
                        format!("`{}` is renamed twice", r.input.node),
                    )
                    .with_label(r.input.span, "renamed again here")
                    .with_secondary(prev, "first renamed here")
                    .with_hint(format!(
                        "rename it once; to keep a second copy, add `| extend copy = {}` before this stage",
                        print::field(&r.input.node)
                    )),
                );
                continue;
            }
            // Two renames onto one name: when both sources are set, the later one replaces
            // the other. A warning, not an error: renaming alternatives of which at most one
            // is set per event (one per message template, as `soc suggest` writes) is
            // legitimate, and a missing source is ignored.
            if let Some((prev, first)) =
                targets.insert(r.output.node.clone(), (r.output.span, r.input.node.clone()))
            {
                let out = print::field(&r.output.node);
                self.warnings.push(
                    Diagnostic::warning(
                        codes::DUPLICATE_RENAME_TARGET,
                        format!(
                            "`{}` is the target of two renames: when both sources are set, the second replaces the first",
                            r.output.node
                        ),
                    )
                    .with_label(r.output.span, "second target here")
                    .with_secondary(prev, "first target here")
                    .with_hint(format!(
                        "keep one rename, or make the choice explicit: `| extend {out} = coalesce({}, {})` and drop the sources",
                        print::field(&first),
                        print::field(&r.input.node)
                    )),
                );
            }
            out.push((self.intern(&r.output.node), self.intern(&r.input.node)));
        }
        out
    }

    fn name_list(
        &mut self,
        o: &HashMap<&str, &ast::Opt>,
        name: &str,
        wildcard: bool,
    ) -> Vec<FieldPattern> {
        let Some((s, span)) = self.opt_str(o, name) else {
            return Vec::new();
        };
        let items: Vec<Spanned<String>> = split_list(&s)
            .into_iter()
            .map(|n| Spanned::new(n, span))
            .collect();
        let refs: Vec<&ast::Field> = items.iter().collect();
        self.patterns(&refs, wildcard)
    }

    fn map_option(&mut self, s: &str, span: Span) -> Option<Vec<(String, String)>> {
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s) {
            Ok(m) => Some(
                m.into_iter()
                    .map(|(k, v)| {
                        (
                            k,
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect(),
            ),
            Err(e) => {
                self.errors.push(
                    Diagnostic::error(codes::BAD_OPTION, format!("expected a JSON object: {e}"))
                        .with_label(span, "not a JSON object")
                        .with_hint("write '{\"key\": \"value\"}'"),
                );
                None
            }
        }
    }

    fn aggregate(&mut self, e: &Expr) -> Option<Aggregate> {
        let ExprKind::Call { name, args } = &e.kind else {
            self.errors.push(
                Diagnostic::error(codes::BAD_ARGUMENT, "stats needs an aggregate call")
                    .with_label(e.span, "not an aggregate")
                    .with_hint("write `stats n = count(), total = sum(bytes) by host`"),
            );
            return None;
        };
        let lname = name.node.to_ascii_lowercase();
        let Some(&(_, func, min, max)) = AGGREGATES.iter().find(|a| a.0 == lname) else {
            let mut d = Diagnostic::error(
                codes::UNKNOWN_FUNCTION,
                format!("unknown aggregate `{}`", name.node),
            )
            .with_label(name.span, "not an aggregate");
            if let Some(s) = did_you_mean(&lname, AGGREGATES.iter().map(|a| a.0)) {
                d = d.with_hint(format!("did you mean `{s}`?"));
            }
            self.errors.push(d);
            return None;
        };
        if args.len() < min || args.len() > max {
            self.errors.push(
                Diagnostic::error(
                    codes::ARITY,
                    format!("`{lname}` takes {}", count_words(min, Some(max))),
                )
                .with_label(e.span, format!("{} given", args.len())),
            );
            return None;
        }
        Some(Aggregate {
            func,
            args: args.iter().map(|a| self.expr(a)).collect(),
        })
    }

    // ---- expressions --------------------------------------------------------------------

    fn expr(&mut self, e: &Expr) -> CExpr {
        self.depth += 1;
        if self.depth > self.options.limits.max_depth * 4 + 16 {
            self.depth -= 1;
            self.errors.push(
                Diagnostic::error(
                    codes::TOO_DEEP,
                    format!(
                        "the expression nests deeper than {} levels",
                        self.options.limits.max_depth
                    ),
                )
                .with_label(e.span, "too deep")
                .with_hint("split it over several `| extend` stages"),
            );
            return CExpr::Const(Value::Null);
        }
        let c = self.expr_inner(e);
        self.depth -= 1;
        self.run_constant(fold(c))
    }

    /// Turns a clock-only expression (a clock call, or an operation whose operands are
    /// constants and at least one such expression) into a [`CExpr::RunConst`].
    fn run_constant(&mut self, c: CExpr) -> CExpr {
        let fixed = |a: &CExpr| matches!(a, CExpr::Const(_) | CExpr::RunConst(_));
        let clocked = |items: &[&CExpr]| {
            items.iter().all(|a| fixed(a)) && items.iter().any(|a| matches!(a, CExpr::RunConst(_)))
        };
        let eligible = match &c {
            CExpr::Call(call) if CLOCK.contains(&call.function.name) => call.args.iter().all(fixed),
            CExpr::Call(call) => {
                !VOLATILE.contains(&call.function.name)
                    && clocked(&call.args.iter().collect::<Vec<_>>())
            }
            CExpr::Cast { expr: x, .. } | CExpr::Not(x) | CExpr::Neg(x, _) => clocked(&[x]),
            CExpr::Cmp(_, a, b, _) | CExpr::Arith(_, a, b, _) => clocked(&[a, b]),
            CExpr::Concat(items)
            | CExpr::ArithChain(_, items, _)
            | CExpr::And(items)
            | CExpr::Or(items)
            | CExpr::Coalesce(items) => clocked(&items.iter().collect::<Vec<_>>()),
            _ => false,
        };
        if !eligible {
            return c;
        }
        self.run_consts.push(c);
        CExpr::RunConst(self.run_consts.len() as u32 - 1)
    }

    fn boxed(&mut self, e: &Expr) -> Box<CExpr> {
        Box::new(self.expr(e))
    }

    fn expr_inner(&mut self, e: &Expr) -> CExpr {
        match &e.kind {
            ExprKind::Literal(l) => CExpr::Const(match l {
                Literal::Null => Value::Null,
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Int(i) => Value::Int(*i),
                Literal::Double(d) => Value::Double(*d),
                Literal::Str(s) => Value::str(s),
            }),
            ExprKind::TypedLiteral { ty, value } => match cast(&Value::str(value), ty) {
                Ok(v) => CExpr::Const(v),
                Err(err) => {
                    self.errors.push(
                        Diagnostic::error(
                            codes::BAD_ARGUMENT,
                            format!("invalid {ty} literal: {}", err.message),
                        )
                        .with_label(e.span, "cannot be read")
                        .with_hint(match ty {
                            Type::Date => "write DATE 'YYYY-MM-DD'",
                            _ => "write TIMESTAMP 'YYYY-MM-DD HH:MM:SS'",
                        }),
                    );
                    CExpr::Const(Value::Null)
                }
            },
            ExprKind::Field(name) => match self.scopes.iter().rposition(|s| s == name) {
                Some(slot) => CExpr::Local(slot as u16),
                None => CExpr::Field(self.intern(name)),
            },
            ExprKind::Unary { op, expr } => {
                let inner = self.boxed(expr);
                match op {
                    UnaryOp::Not => CExpr::Not(inner),
                    UnaryOp::Neg => CExpr::Neg(inner, e.span),
                    UnaryOp::Plus => *inner,
                }
            }
            ExprKind::Chain { op, operands } => {
                let cs: Vec<CExpr> = operands.iter().map(|x| self.expr(x)).collect();
                match op {
                    BinaryOp::And => CExpr::And(cs),
                    BinaryOp::Or => CExpr::Or(cs),
                    BinaryOp::Concat => CExpr::Concat(cs),
                    _ => {
                        let first = operands.first().map_or(e.span, |x| x.span);
                        let spans = operands.iter().skip(1).map(|x| first.to(x.span)).collect();
                        CExpr::ArithChain(*op, cs, spans)
                    }
                }
            }
            ExprKind::Binary { op, left, right } => {
                let (l, r) = (self.boxed(left), self.boxed(right));
                match op {
                    BinaryOp::And => CExpr::And(vec![*l, *r]),
                    BinaryOp::Or => CExpr::Or(vec![*l, *r]),
                    BinaryOp::Concat => CExpr::Concat(vec![*l, *r]),
                    BinaryOp::Eq
                    | BinaryOp::Ne
                    | BinaryOp::Lt
                    | BinaryOp::Le
                    | BinaryOp::Gt
                    | BinaryOp::Ge => CExpr::Cmp(*op, l, r, e.span),
                    _ => CExpr::Arith(*op, l, r, e.span),
                }
            }
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => CExpr::Between {
                expr: self.boxed(expr),
                low: self.boxed(low),
                high: self.boxed(high),
                negated: *negated,
                span: e.span,
            },
            ExprKind::In {
                expr,
                list,
                negated,
            } => CExpr::In {
                expr: self.boxed(expr),
                list: list.iter().map(|x| self.expr(x)).collect(),
                negated: *negated,
                span: e.span,
            },
            ExprKind::Like {
                expr,
                pattern,
                escape,
                negated,
            } => {
                let subject = self.boxed(expr);
                let pat = self.expr(pattern);
                let esc = escape.as_ref().map(|x| self.expr(x));
                let like = match (&pat, &esc) {
                    (CExpr::Const(Value::Str(p)), None) => self.like_const(p, None, pattern.span),
                    (CExpr::Const(Value::Str(p)), Some(CExpr::Const(Value::Str(x)))) => {
                        self.like_const(p, Some(x), pattern.span)
                    }
                    _ => LikePattern::Dynamic {
                        pattern: Box::new(pat),
                        escape: esc.map(Box::new),
                    },
                };
                CExpr::Like {
                    expr: subject,
                    pattern: like,
                    negated: *negated,
                }
            }
            ExprKind::IsNull { expr, negated } => CExpr::IsNull {
                expr: self.boxed(expr),
                negated: *negated,
            },
            ExprKind::IsDistinctFrom {
                left,
                right,
                negated,
            } => CExpr::IsDistinct {
                left: self.boxed(left),
                right: self.boxed(right),
                negated: *negated,
            },
            ExprKind::Case {
                operand,
                whens,
                otherwise,
            } => CExpr::Case {
                operand: operand.as_ref().map(|o| self.boxed(o)),
                whens: whens
                    .iter()
                    .map(|(w, t)| (self.expr(w), self.expr(t)))
                    .collect(),
                otherwise: otherwise.as_ref().map(|o| self.boxed(o)),
                span: e.span,
            },
            ExprKind::Cast { expr, ty, try_cast } => CExpr::Cast {
                expr: self.boxed(expr),
                ty: ty.clone(),
                try_cast: *try_cast,
                span: e.span,
            },
            ExprKind::Call { name, args } => self.call(name, args, e.span),
            ExprKind::Subscript { expr, index } => CExpr::Subscript {
                expr: self.boxed(expr),
                index: self.boxed(index),
                span: e.span,
            },
            ExprKind::Lambda { params, .. } => {
                self.errors.push(
                    Diagnostic::error(
                        codes::BAD_LAMBDA,
                        "a lambda can only be an argument of a higher-order function",
                    )
                    .with_label(e.span, "lambda here")
                    .with_hint(format!(
                        "use it inside e.g. `transform(arr, {} -> ...)`",
                        params.first().map_or("x", |p| p.node.as_str())
                    )),
                );
                CExpr::Const(Value::Null)
            }
            ExprKind::Array(items) => CExpr::Array(items.iter().map(|x| self.expr(x)).collect()),
            ExprKind::Row(items) => CExpr::Row(items.iter().map(|x| self.expr(x)).collect()),
        }
    }

    fn like_const(&mut self, pattern: &str, escape: Option<&str>, span: Span) -> LikePattern {
        match like_to_regex(pattern, escape) {
            Ok(r) => LikePattern::Const(r),
            Err(msg) => {
                self.errors.push(
                    Diagnostic::error(codes::BAD_ARGUMENT, msg).with_label(span, "this pattern"),
                );
                LikePattern::Const(Regex::new("^$").expect("static regex"))
            }
        }
    }

    fn lambda(&mut self, params: &[Spanned<String>], body: &Expr) -> CExpr {
        let base = self.scopes.len() as u16;
        for p in params {
            self.scopes.push(p.node.clone());
        }
        let body = self.expr(body);
        self.scopes.truncate(base as usize);
        self.lambdas.push(Lambda {
            base,
            arity: params.len() as u16,
            body,
        });
        CExpr::Lambda(self.lambdas.len() as u32 - 1)
    }

    fn call(&mut self, name: &Spanned<String>, args: &[Expr], span: Span) -> CExpr {
        let lname = name.node.to_ascii_lowercase();
        let Some(f) = functions::lookup(&lname) else {
            let mut d = Diagnostic::error(
                codes::UNKNOWN_FUNCTION,
                format!("unknown function `{}`", name.node),
            )
            .with_label(name.span, "no such function");
            if AGGREGATES.iter().any(|a| a.0 == lname) {
                d = d.with_hint(format!(
                    "`{lname}` is an aggregate: use it in `| stats n = {lname}(...) by ...`"
                ));
            } else if let Some(s) = did_you_mean(&lname, functions::names()) {
                d = d.with_hint(format!("did you mean `{s}`?"));
            } else {
                d = d.with_hint("`soc spl functions` lists every function");
            }
            self.errors.push(d);
            return CExpr::Const(Value::Null);
        };
        let (min, max) = f.arity();
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            self.errors.push(
                Diagnostic::error(
                    codes::ARITY,
                    format!(
                        "`{}` takes {}, but {} {} given",
                        f.name,
                        count_words(min, max),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label(span, "this call")
                .with_hint(format!("signature: {}", f.signature())),
            );
            return CExpr::Const(Value::Null);
        }
        if f.extension && self.options.sls_compat {
            self.warnings.push(
                Diagnostic::warning(
                    codes::SLS_EXTENSION,
                    format!(
                        "`{}` is an extension of this project, not part of SLS SPL",
                        f.name
                    ),
                )
                .with_label(name.span, "not portable to SLS")
                .with_hint("rewrite it with SLS functions if the rule must run in SLS"),
            );
        }
        // Lazily evaluated forms keep their laziness.
        match f.name {
            "if" => {
                let mut it = args.iter();
                let cond = self.boxed(it.next().expect("arity checked"));
                let then = self.boxed(it.next().expect("arity checked"));
                let otherwise = it.next().map(|a| self.boxed(a));
                return CExpr::If {
                    cond,
                    then,
                    otherwise,
                };
            }
            "coalesce" => return CExpr::Coalesce(args.iter().map(|a| self.expr(a)).collect()),
            "try" => return CExpr::Try(self.boxed(&args[0])),
            _ => {}
        }
        let mut cargs = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            let kind = f.param_at(i).map_or(Kind::Any, |p| p.kind);
            match (&a.kind, kind) {
                (ExprKind::Lambda { params, body }, Kind::Lambda(n)) => {
                    if params.len() != n as usize {
                        self.errors.push(
                            Diagnostic::error(
                                codes::BAD_LAMBDA,
                                format!(
                                    "`{}` passes {n} argument{} to this lambda, but it takes {}",
                                    f.name,
                                    plural(n as usize),
                                    params.len()
                                ),
                            )
                            .with_label(a.span, "this lambda")
                            .with_hint(format!("signature: {}", f.signature())),
                        );
                    }
                    cargs.push(self.lambda(params, body));
                }
                (ExprKind::Lambda { .. }, _) => {
                    self.errors.push(
                        Diagnostic::error(
                            codes::BAD_LAMBDA,
                            format!("argument {} of `{}` is not a lambda", i + 1, f.name),
                        )
                        .with_label(a.span, "a lambda is not expected here")
                        .with_hint(format!("signature: {}", f.signature())),
                    );
                }
                (_, Kind::Lambda(_)) => {
                    self.errors.push(
                        Diagnostic::error(
                            codes::BAD_LAMBDA,
                            format!("argument {} of `{}` must be a lambda", i + 1, f.name),
                        )
                        .with_label(a.span, "expected `x -> ...`")
                        .with_hint(format!("signature: {}", f.signature())),
                    );
                }
                (ExprKind::Literal(lit), kind) => {
                    if let Some(msg) = literal_kind_mismatch(lit, kind) {
                        let p = f.param_at(i).map_or("argument", |p| p.name);
                        let mut d = Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{}` expects {} for `{p}`, not {msg}", f.name, kind.name()),
                        )
                        .with_label(a.span, format!("{msg} here"))
                        .with_hint(format!("signature: {}", f.signature()));
                        if matches!(kind, Kind::Str) {
                            d = d.with_hint("strings are written in single quotes: 'text'");
                        }
                        self.errors.push(d);
                    }
                    cargs.push(self.expr(a));
                }
                (ExprKind::Field(field), Kind::Str)
                    if !self.scopes.contains(field)
                        && f.prepare.is_some()
                        && i > 0
                        && !ast::is_bare_ident(field) =>
                {
                    // A double-quoted name where a pattern/format/path is expected is almost
                    // always a string written with the wrong quotes.
                    self.warnings.push(
                        Diagnostic::warning(codes::FIELD_AS_STRING, format!("argument {} of `{}` reads the field `{field}`", i + 1, f.name))
                            .with_label(a.span, "this is a field name")
                            .with_hint(format!("\"{field}\" is a field and '{field}' is a string: write '{field}' for a constant")),
                    );
                    cargs.push(self.expr(a));
                }
                _ => cargs.push(self.expr(a)),
            }
        }
        let mut prepared = Prepared::none();
        if let Some(prepare) = f.prepare {
            let consts: Vec<Option<Value>> = cargs
                .iter()
                .map(|c| {
                    if let CExpr::Const(v) = c {
                        Some(v.clone())
                    } else {
                        None
                    }
                })
                .collect();
            match prepare(&consts) {
                Ok(p) => prepared = p,
                Err(err) => {
                    let at = err.arg.and_then(|i| args.get(i)).map_or(span, |a| a.span);
                    self.errors.push(
                        Diagnostic::error(
                            if err.code == codes::RUNTIME {
                                codes::BAD_ARGUMENT
                            } else {
                                err.code
                            },
                            format!("`{}`: {}", f.name, err.message),
                        )
                        .with_label(at, "invalid argument")
                        .with_hint(format!("signature: {}", f.signature())),
                    );
                }
            }
        }
        CExpr::Call(Box::new(Call {
            function: f,
            args: cargs,
            prepared,
            span,
            arg_spans: args.iter().map(|a| a.span).collect(),
        }))
    }
}

/// Constant folding of calls and casts whose arguments are all constants. A fold that fails
/// is left for run time (where `try` can catch it).
fn fold(c: CExpr) -> CExpr {
    match c {
        CExpr::Call(call)
            if !VOLATILE.contains(&call.function.name)
                && call.args.iter().all(|a| matches!(a, CExpr::Const(_))) =>
        {
            let args: Vec<Value> = call
                .args
                .iter()
                .map(|a| {
                    if let CExpr::Const(v) = a {
                        v.clone()
                    } else {
                        unreachable!()
                    }
                })
                .collect();
            if call.function.null_propagating && args.iter().any(Value::is_null) {
                return CExpr::Const(Value::Null);
            }
            match (call.function.eval)(&args, &call.prepared, &mut NoLambdas) {
                Ok(v) => CExpr::Const(v),
                Err(_) => CExpr::Call(call),
            }
        }
        CExpr::Cast {
            expr,
            ty,
            try_cast,
            span,
        } => match *expr {
            CExpr::Const(v) => match cast(&v, &ty) {
                Ok(r) => CExpr::Const(r),
                Err(_) if try_cast => CExpr::Const(Value::Null),
                Err(_) => CExpr::Cast {
                    expr: Box::new(CExpr::Const(v)),
                    ty,
                    try_cast,
                    span,
                },
            },
            other => CExpr::Cast {
                expr: Box::new(other),
                ty,
                try_cast,
                span,
            },
        },
        CExpr::Array(items) if items.iter().all(|a| matches!(a, CExpr::Const(_))) => {
            CExpr::Const(Value::array(items.into_iter().map(const_value).collect()))
        }
        CExpr::Row(items) if items.iter().all(|a| matches!(a, CExpr::Const(_))) => CExpr::Const(
            Value::Row(Arc::new(items.into_iter().map(const_value).collect())),
        ),
        other => other,
    }
}

/// The value of a `CExpr::Const` (callers check the variant).
fn const_value(c: CExpr) -> Value {
    match c {
        CExpr::Const(v) => v,
        _ => unreachable!("checked to be a constant"),
    }
}

/// The environment for folding: no lambdas, no clock.
struct NoLambdas;

impl functions::Env for NoLambdas {
    fn apply(&mut self, _: &Value, _: &[Value]) -> functions::FnResult {
        Err(functions::FnError::new("lambda in constant folding"))
    }
    fn now(&self) -> crate::event::Timestamp {
        crate::event::Timestamp::utc(0)
    }
}

fn literal_kind_mismatch(lit: &Literal, kind: Kind) -> Option<&'static str> {
    match (lit, kind) {
        (Literal::Null, _) => None,
        (
            Literal::Str(_),
            Kind::Str
            | Kind::Any
            | Kind::Json
            | Kind::Timestamp
            | Kind::Date
            | Kind::Bytes
            | Kind::Array,
        ) => None,
        (Literal::Str(s), Kind::Int | Kind::Number | Kind::Double)
            if functions::parse_number(s).is_some() =>
        {
            None
        }
        (Literal::Str(_), Kind::Bool | Kind::Int | Kind::Number | Kind::Double | Kind::Map) => {
            Some("a string")
        }
        (Literal::Int(_) | Literal::Double(_), Kind::Str) => Some("a number"),
        (Literal::Bool(_), Kind::Int | Kind::Number | Kind::Double | Kind::Str) => {
            Some("a boolean")
        }
        (Literal::Double(_), Kind::Int) => Some("a decimal number"),
        _ => None,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn count_words(min: usize, max: Option<usize>) -> String {
    match max {
        Some(m) if m == min => format!("{min} argument{}", plural(min)),
        Some(m) => format!("{min} to {m} arguments"),
        None => format!("at least {min} argument{}", plural(min)),
    }
}

/// A regex compile error as a diagnostic on the pattern.
pub fn regex_error(e: &regex::Error, span: Span, pattern: &str) -> Diagnostic {
    let msg = match e {
        regex::Error::Syntax(s) => s
            .lines()
            .last()
            .unwrap_or(s)
            .trim()
            .trim_start_matches("error: ")
            .to_string(),
        regex::Error::CompiledTooBig(_) => "the pattern is too large".to_string(),
        other => other.to_string(),
    };
    let mut d = Diagnostic::error(
        codes::BAD_REGEX,
        format!("invalid regular expression: {msg}"),
    )
    .with_label(span, "this pattern");
    if pattern.contains("(?=")
        || pattern.contains("(?!")
        || pattern.contains("(?<=")
        || pattern.contains("(?<!")
    {
        d = d.with_hint("RE2 has no look-around; match the context with a group instead");
    } else if pattern.contains("\\1") || pattern.contains("\\2") {
        d = d.with_hint("RE2 has no back-references inside a pattern");
    } else {
        d = d.with_hint(
            "SPL uses RE2 syntax; a backslash in '...' reaches the regex as is ('\\d+' is digits)",
        );
    }
    d
}

/// SQL `LIKE` (`%` any run, `_` one char) to an anchored regex.
pub fn like_to_regex(pattern: &str, escape: Option<&str>) -> Result<Regex, String> {
    let esc = match escape {
        None => None,
        Some(e) => {
            let mut cs = e.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => Some(c),
                _ => return Err(format!("the LIKE escape must be one character, not '{e}'")),
            }
        }
    };
    let mut re = String::with_capacity(pattern.len() + 8);
    re.push_str("(?s)^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == esc {
            match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => return Err("the LIKE pattern ends with the escape character".into()),
            }
        } else if c == '%' {
            re.push_str(".*");
        } else if c == '_' {
            re.push('.');
        } else {
            re.push_str(&regex::escape(&c.to_string()));
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| e.to_string())
}

/// Interprets the escapes of Char-typed options: `\t`, `\n`, `\r`, `\\`, `\xHH`, octal
/// `\NNN`. Other characters stand for themselves.
pub fn unescape_char_option(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            None => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('x') => {
                let hex: String = (0..2)
                    .filter_map(|_| chars.next_if(|c| c.is_ascii_hexdigit()))
                    .collect();
                let v = u32::from_str_radix(&hex, 16)
                    .map_err(|_| format!("`\\x` needs two hex digits in '{raw}'"))?;
                out.push(char::from_u32(v).ok_or("bad escape")?);
            }
            Some(d @ '0'..='7') => {
                let mut oct = d.to_string();
                while oct.len() < 3 {
                    match chars.next_if(|c| ('0'..='7').contains(c)) {
                        Some(c) => oct.push(c),
                        None => break,
                    }
                }
                let v = u32::from_str_radix(&oct, 8).map_err(|_| "bad octal escape".to_string())?;
                out.push(char::from_u32(v).ok_or("bad escape")?);
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// `'["a","b"]'` or `'a, b'` to names.
fn split_list(s: &str) -> Vec<String> {
    if let Ok(v) = serde_json::from_str::<Vec<String>>(s) {
        return v;
    }
    s.trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|x| x.trim().trim_matches('"').trim_matches('\'').to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extend_exprs(rule: &str) -> (Plan, Vec<String>) {
        let plan = compile(rule).unwrap();
        let kinds = match &plan.datasets[0].stages[0].0 {
            Stage::Extend { assigns, .. } => assigns
                .iter()
                .map(|(_, e)| match e {
                    CExpr::Const(Value::Array(_)) => "const array".to_string(),
                    CExpr::Const(Value::Row(_)) => "const row".to_string(),
                    CExpr::Const(_) => "const".to_string(),
                    CExpr::RunConst(_) => "run const".to_string(),
                    _ => "per event".to_string(),
                })
                .collect(),
            other => panic!("not an extend: {other:?}"),
        };
        (plan, kinds)
    }

    #[test]
    fn extend_sets_in_order_only_when_no_expression_reads_an_assigned_place() {
        let in_order = |rule: &str| {
            let plan = compile(rule).unwrap();
            let last = plan.datasets[0]
                .stages
                .iter()
                .rev()
                .find_map(|(s, _)| match s {
                    Stage::Extend { in_order, .. } => Some(*in_order),
                    _ => None,
                });
            last.expect("an extend")
        };
        assert!(in_order(
            "* | extend x = a, y = concat(b, 'z'), z = if(c IS NULL, 1, 2)"
        ));
        assert!(!in_order("* | extend a = b, b = a"));
        assert!(!in_order(
            "* | extend x = 1, y = CASE WHEN a = 'q' THEN x END"
        ));
        assert!(!in_order(
            "* | extend x = 1, y = transform(ARRAY[1], v -> v + 1)"
        ));
        // With temporaries: `t` is a slot, read by the second assignment.
        assert!(!in_order(
            "* | extend t = content | extend t = 'a', u = t | project-away t"
        ));
        // The swap still reads the row as it was before the stage.
        let plan = compile("* | extend a = 'A', b = 'B' | extend a = b, b = a").unwrap();
        let mut runner = crate::spl::Runner::new(&plan);
        let mut out = Vec::new();
        runner
            .run_event(runner.line_event("l".into()), &mut out)
            .unwrap();
        assert_eq!(out[0].1.get("a").unwrap().to_text().unwrap(), "B");
        assert_eq!(out[0].1.get("b").unwrap().to_text().unwrap(), "A");
    }

    #[test]
    fn clock_only_expressions_are_run_constants_and_constant_arrays_fold() {
        let (plan, kinds) = extend_exprs(
            "* | extend y = cast(year(now()) as VARCHAR), m = month(now()) = 1 AND year(now()) > 2000, \
             t = date_add('day', 1, now()), r = rand() < 2.0 + year(now()), a = ARRAY['x', 'y'], \
             w = (1, 'b'), c = concat(content, cast(year(now()) as VARCHAR)), k = 'k'",
        );
        assert_eq!(
            kinds,
            [
                "run const",
                "run const",
                "run const",
                "per event",
                "const array",
                "const row",
                "per event",
                "const"
            ]
        );
        // Evaluated by a runner, they give what the clock gives.
        let mut runner = crate::spl::Runner::new(&plan);
        let mut out = Vec::new();
        for line in ["a", "b"] {
            runner
                .run_event(runner.line_event(line.into()), &mut out)
                .unwrap();
        }
        let year = chrono::Utc::now().format("%Y").to_string();
        for (_, e) in &out {
            assert_eq!(e.get("y").unwrap().to_text().unwrap(), year.as_str());
            assert_eq!(
                e.get("c").unwrap().to_text().unwrap(),
                format!("{}{year}", e.get("content").unwrap().to_text().unwrap())
            );
            assert_eq!(e.get("a").unwrap().to_json(), serde_json::json!(["x", "y"]));
        }
        assert_eq!(out[0].1.get("t"), out[1].1.get("t"));
        // A runner given another clock after it ran sees that clock.
        let nanos = 1_000_000_000 * 86_400 * 365; // 1971-01-01
        let mut runner = runner.with_clock(crate::event::Timestamp::utc(nanos));
        out.clear();
        runner
            .run_event(runner.line_event("c".into()), &mut out)
            .unwrap();
        assert_eq!(out[0].1.get("y").unwrap().to_text().unwrap(), "1971");
    }

    #[test]
    fn char_option_escapes() {
        assert_eq!(unescape_char_option(r"\t").unwrap(), "\t");
        assert_eq!(unescape_char_option(r"\x09").unwrap(), "\t");
        assert_eq!(unescape_char_option(r"\11").unwrap(), "\t");
        assert_eq!(unescape_char_option("^_^").unwrap(), "^_^");
        assert_eq!(unescape_char_option(r"\").unwrap(), "\\");
    }

    #[test]
    fn like_patterns() {
        let r = like_to_regex("2%", None).unwrap();
        assert!(r.is_match("200") && !r.is_match("300"));
        let r = like_to_regex("a\\_b", Some("\\")).unwrap();
        assert!(r.is_match("a_b") && !r.is_match("axb"));
        assert!(like_to_regex("x", Some("ab")).is_err());
    }

    #[test]
    fn lists() {
        assert_eq!(split_list(r#"["rt","bytes"]"#), vec!["rt", "bytes"]);
        assert_eq!(split_list("rt, bytes"), vec!["rt", "bytes"]);
    }
}
