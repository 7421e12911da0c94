//! The SPL abstract syntax tree: statements, instructions and expressions, each with byte spans.
//!
//! Owns the shape of a parsed rule. Knows nothing of pest (see `parse.rs`) nor of evaluation
//! (see `plan.rs`/`run.rs`). Equality ignores spans (see `Spanned`).

use crate::diagnostic::{Span, Spanned};

/// A whole SPL script: one or more statements separated by `;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub stmts: Vec<Stmt>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `.let name = pipeline`
    Let {
        name: Spanned<String>,
        pipeline: Pipeline,
    },
    /// A pipeline that is output directly.
    Pipeline(Pipeline),
    /// `$name` on its own: outputs the dataset `name`.
    Output(Spanned<String>),
}

/// `source | stage | stage ...`
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub source: Spanned<Source>,
    pub stages: Vec<Spanned<Command>>,
}

/// Where a pipeline's rows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `*`: all input rows.
    All,
    /// `$name`: a dataset bound with `.let`.
    Dataset(String),
    /// An SLS index search query before the first pipe (scan mode), kept as text.
    Search(String),
}

/// A field name as written bare (`status`) or double-quoted (`"source.ip"`), unquoted here;
/// the printer quotes whenever the name needs it.
pub type Field = Spanned<String>;

/// An instruction option: `-name`, `-name='text'`, `-name=12`, `-name=ident`.
#[derive(Debug, Clone, PartialEq)]
pub struct Opt {
    pub name: Spanned<String>,
    pub value: Option<Spanned<OptValue>>,
}

/// The value of an option.
#[derive(Debug, Clone, PartialEq)]
pub enum OptValue {
    /// `'...'` (with `''` already folded to `'`; backslash escapes are *not* interpreted here:
    /// Char-typed options interpret them at plan time).
    Str(String),
    Int(i64),
    Ident(String),
}

/// `output = input` in `project` and `project-rename`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rename {
    pub output: Field,
    pub input: Field,
}

/// An item of `project`.
#[derive(Debug, Clone, PartialEq)]
pub enum ProjectItem {
    Keep(Field),
    Rename(Rename),
}

/// `output = expression` in `extend` and `stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub output: Field,
    pub expr: Expr,
}

/// A sort key of `sort`.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
}

/// One pipeline stage. Options are kept generic here and validated in the plan step.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Where(Expr),
    Extend(Vec<Assign>),
    Project {
        opts: Vec<Opt>,
        items: Vec<ProjectItem>,
    },
    ProjectAway {
        opts: Vec<Opt>,
        fields: Vec<Field>,
    },
    ProjectRename {
        renames: Vec<Rename>,
    },
    ExpandValues {
        opts: Vec<Opt>,
        field: Field,
        output: Option<Field>,
    },
    /// `parse-regexp [opts] field, 'pattern' [as out, ...]`
    ParseRegexp {
        opts: Vec<Opt>,
        field: Field,
        pattern: Spanned<String>,
        outputs: Vec<Field>,
    },
    ParseCsv {
        opts: Vec<Opt>,
        field: Field,
        outputs: Vec<Field>,
    },
    ParseJson {
        opts: Vec<Opt>,
        field: Field,
    },
    /// `parse-kv [opts] field [, 'a' [, 'b']]`: option form has no string arguments;
    /// positional form has `'pair-delim', 'kv-sep'`; `-regexp` form has one `'pattern'`.
    ParseKv {
        opts: Vec<Opt>,
        field: Field,
        args: Vec<Spanned<String>>,
    },
    PackFields {
        opts: Vec<Opt>,
        output: Field,
    },
    LogToMetric {
        opts: Vec<Opt>,
    },
    MetricToMetric {
        opts: Vec<Opt>,
    },
    Stats {
        aggs: Vec<Assign>,
        by: Vec<Field>,
    },
    Sort {
        keys: Vec<SortKey>,
    },
    Limit {
        count: Spanned<i64>,
    },
}

impl Command {
    /// The instruction name as written in SPL.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Where(_) => "where",
            Command::Extend(_) => "extend",
            Command::Project { .. } => "project",
            Command::ProjectAway { .. } => "project-away",
            Command::ProjectRename { .. } => "project-rename",
            Command::ExpandValues { .. } => "expand-values",
            Command::ParseRegexp { .. } => "parse-regexp",
            Command::ParseCsv { .. } => "parse-csv",
            Command::ParseJson { .. } => "parse-json",
            Command::ParseKv { .. } => "parse-kv",
            Command::PackFields { .. } => "pack-fields",
            Command::LogToMetric { .. } => "log-to-metric",
            Command::MetricToMetric { .. } => "metric-to-metric",
            Command::Stats { .. } => "stats",
            Command::Sort { .. } => "sort",
            Command::Limit { .. } => "limit",
        }
    }
}

/// Every instruction name, for "did you mean".
pub const INSTRUCTIONS: &[&str] = &[
    "where",
    "extend",
    "project",
    "project-away",
    "project-rename",
    "expand-values",
    "parse-regexp",
    "parse-csv",
    "parse-json",
    "parse-kv",
    "pack-fields",
    "log-to-metric",
    "metric-to-metric",
    "stats",
    "sort",
    "limit",
];

/// An expression with its span. Equality ignores the span.
#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// `lhs op rhs` in the one shape the parser gives it: a chaining operator extends a left
    /// operand that is already a chain of the same operator (`a OR b OR c` is one flat node),
    /// other operators nest.
    pub fn binary(op: BinaryOp, mut lhs: Expr, rhs: Expr, span: Span) -> Expr {
        if !op.chains() {
            return Expr::new(
                ExprKind::Binary {
                    op,
                    left: Box::new(lhs),
                    right: Box::new(rhs),
                },
                span,
            );
        }
        if let ExprKind::Chain { op: o, operands } = &mut lhs.kind
            && *o == op
        {
            operands.push(rhs);
            lhs.span = span;
            return lhs;
        }
        Expr::new(
            ExprKind::Chain {
                op,
                operands: vec![lhs, rhs],
            },
            span,
        )
    }
}

/// Literal constants.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    /// Integer literal (BIGINT).
    Int(i64),
    /// `1.5`, `1e3` (DOUBLE).
    Double(f64),
    /// `'text'` with `''` folded to `'`.
    Str(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinaryOp {
    /// The operator as printed.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "OR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Concat => "||",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }

    /// Whether a run of this operator is kept flat as one [`ExprKind::Chain`]: the
    /// associative ones (`OR`, `AND`, `||`, `+`, `*`). A chain is evaluated left to right
    /// exactly as the nested form would be, and counts as one level of nesting, so a
    /// `where` with hundreds of `OR`ed conditions stays within the depth limit.
    pub fn chains(self) -> bool {
        matches!(
            self,
            BinaryOp::Or | BinaryOp::And | BinaryOp::Concat | BinaryOp::Add | BinaryOp::Mul
        )
    }

    /// Binding power (higher binds tighter), Presto order.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            // NOT is 3
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => 4,
            BinaryOp::Concat => 5,
            BinaryOp::Add | BinaryOp::Sub => 6,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 7,
        }
    }
}

/// SQL types usable in `CAST`, typed literals and signatures.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Boolean,
    Tinyint,
    Smallint,
    Integer,
    Bigint,
    Hugeint,
    Real,
    Double,
    /// `DECIMAL` / `DECIMAL(p, s)`: evaluated as DOUBLE.
    Decimal(Option<(u8, u8)>),
    Varchar,
    Varbinary,
    Timestamp,
    Date,
    Json,
    Array(Box<Type>),
    Map(Box<Type>, Box<Type>),
}

impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Type::Boolean => f.write_str("BOOLEAN"),
            Type::Tinyint => f.write_str("TINYINT"),
            Type::Smallint => f.write_str("SMALLINT"),
            Type::Integer => f.write_str("INTEGER"),
            Type::Bigint => f.write_str("BIGINT"),
            Type::Hugeint => f.write_str("HUGEINT"),
            Type::Real => f.write_str("REAL"),
            Type::Double => f.write_str("DOUBLE"),
            Type::Decimal(None) => f.write_str("DECIMAL"),
            Type::Decimal(Some((p, s))) => write!(f, "DECIMAL({p}, {s})"),
            Type::Varchar => f.write_str("VARCHAR"),
            Type::Varbinary => f.write_str("VARBINARY"),
            Type::Timestamp => f.write_str("TIMESTAMP"),
            Type::Date => f.write_str("DATE"),
            Type::Json => f.write_str("JSON"),
            Type::Array(t) => write!(f, "ARRAY({t})"),
            Type::Map(k, v) => write!(f, "MAP({k}, {v})"),
        }
    }
}

/// Expression forms.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// `TIMESTAMP '2024-01-01 00:00:00'`, `DATE '2024-01-01'`
    TypedLiteral {
        ty: Type,
        value: String,
    },
    /// A field reference (bare or double-quoted identifier).
    Field(String),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `a OR b OR c`: a left-associative run of one operator that [`BinaryOp::chains`],
    /// with two or more operands, kept flat (never nested in depth). `a OR (b OR c)` keeps
    /// its parenthesized operand as a chain of its own.
    Chain {
        op: BinaryOp,
        operands: Vec<Expr>,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<Box<Expr>>,
        negated: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    IsDistinctFrom {
        left: Box<Expr>,
        right: Box<Expr>,
        negated: bool,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Cast {
        expr: Box<Expr>,
        ty: Type,
        try_cast: bool,
    },
    /// A function call; the name keeps its spelling (lookup is case-insensitive).
    /// Niladic keywords (`current_date`, `current_timestamp`) parse as calls with no args.
    Call {
        name: Spanned<String>,
        args: Vec<Expr>,
    },
    /// `a[i]`, `m['k']`
    Subscript {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    /// `x -> e`, `(a, b) -> e`
    Lambda {
        params: Vec<Spanned<String>>,
        body: Box<Expr>,
    },
    /// `ARRAY[a, b]`
    Array(Vec<Expr>),
    /// `(a, b)`: a row constructor (two or more items).
    Row(Vec<Expr>),
}

/// True when `name` can be written bare; otherwise it must be double-quoted.
pub fn is_bare_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_reserved(name)
}

/// Words that cannot be bare field names because the expression grammar gives them meaning.
pub const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "null",
    "true",
    "false",
    "case",
    "when",
    "then",
    "else",
    "end",
    "cast",
    "try_cast",
    "is",
    "in",
    "like",
    "between",
    "distinct",
    "from",
    "escape",
    "as",
    "array",
    "by",
    "asc",
    "desc",
    "current_date",
    "current_timestamp",
    "current_time",
    "localtimestamp",
    "localtime",
];

/// Whether `name` is one of [`RESERVED`] (any case).
pub fn is_reserved(name: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// A comment of the source (`-- ...` to the end of the line, or `/* ... */`), attached to a
/// place of the script so that `soc spl fmt` keeps it. Comments are trivia, not part of
/// [`Script`]: `parse::comments` finds them and `print::format_script` writes them back.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// The comment as written, markers included (`-- note`, `/* note */`).
    pub text: Spanned<String>,
    pub anchor: Anchor,
    pub placement: Placement,
}

/// What a comment is attached to: a statement's source (`*`, `$name`, or the whole `$name;`
/// output statement when `stage` is `None`) or one of its stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub stmt: usize,
    /// `None` for the source, `Some(i)` for stage `i` of the statement's pipeline.
    pub stage: Option<usize>,
}

/// Where a comment goes relative to its anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On its own line(s) before the anchor (a comment inside a stage moves here too).
    Before,
    /// On the anchor's line, after it.
    After,
    /// On its own line after the last statement (the anchor is the last one).
    End,
}
