//! SPL text → spanned AST. The only module that knows pest.
//!
//! Owns: the pest parser for `grammar/spl.pest`, operator precedence (one `PrattParser`),
//! conversion of pest pairs into [`ast`] nodes with byte spans, the parse-time limits
//! ([`ParseLimits`]) and the translation of pest errors into [`Diagnostic`]s with human words
//! (one [`describe`] per grammar rule; a raw rule name never reaches a user).
//!
//! Must not depend on planning or evaluation, and must not panic on any input: limits are
//! checked on the raw text *before* pest runs, so deeply nested input cannot overflow the
//! stack, and pest's call limit stops pathological backtracking.

use std::cell::RefCell;
use std::num::NonZeroUsize;
use std::sync::{LazyLock, Once};

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use crate::diagnostic::{Diagnostic, Span, Spanned, codes, did_you_mean};
use crate::spl::ast::{
    self, Assign, BinaryOp, Command, Expr, ExprKind, Literal, Opt, OptValue, Pipeline, ProjectItem,
    Rename, Script, SortKey, Source, Stmt, Type, UnaryOp,
};

mod grammar {
    //! The generated pest parser; private so that `Rule` never leaks out of this module.
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/spl.pest"]
    pub(super) struct SplParser;
}

use grammar::{Rule, SplParser};

/// Limits enforced while parsing, each reported with its own diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Longest accepted script in bytes (SLS documents 64 KB). `E103` beyond it.
    pub max_script_bytes: usize,
    /// Most stages (instructions) in one pipeline (SLS documents 16). `E106` beyond it.
    pub max_stages: usize,
    /// Deepest nesting of brackets, `CASE` and prefix operators in an expression. `E104`
    /// beyond it. The expression tree itself may be at most four times as deep (a chain
    /// `a AND b AND c ...` adds one level per operator), so later recursive passes stay safe.
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits { max_script_bytes: 64 * 1024, max_stages: 16, max_depth: 64 }
    }
}

/// How many pest calls one parse may make. Normal scripts need a few hundred per byte at
/// most; this leaves room for the longest allowed script while stopping exponential
/// backtracking. The setting is process-wide in pest, so it is installed once.
const PEST_CALL_LIMIT: usize = 40_000_000;

fn install_pest_limits() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| pest::set_call_limit(NonZeroUsize::new(PEST_CALL_LIMIT)));
}

/// Parses an SPL script with the default [`ParseLimits`].
///
/// ```
/// use agentic_soc::spl::ast::{Command, Stmt};
/// use agentic_soc::spl::parse::parse;
///
/// let script = parse("* | where status = '200' | extend a = lower(x)").unwrap();
/// let Stmt::Pipeline(p) = &script.stmts[0] else { panic!("expected a pipeline") };
/// assert_eq!(p.stages.len(), 2);
/// assert!(matches!(p.stages[1].node, Command::Extend(_)));
/// ```
pub fn parse(src: &str) -> Result<Script, Vec<Diagnostic>> {
    parse_with(src, &ParseLimits::default())
}

/// Parses an SPL script, enforcing `limits`. All errors found are returned, best first.
pub fn parse_with(src: &str, limits: &ParseLimits) -> Result<Script, Vec<Diagnostic>> {
    precheck(src, limits).map_err(|d| vec![d])?;
    install_pest_limits();
    let mut pairs = SplParser::parse(Rule::script, src).map_err(|e| vec![translate(e, src)])?;
    let Some(root) = pairs.next() else {
        return Err(vec![Diagnostic::error(codes::SYNTAX, "the script is empty")]);
    };
    let ctx = Ctx::new(src, limits);
    let script = ctx.script(root);
    ctx.finish(script)
}

/// Parses one standalone SQL expression (as found after `where`), with default limits.
///
/// ```
/// use agentic_soc::spl::{parse::parse_expr, print::print_expr};
/// let e = parse_expr("a or b and not c = 1").unwrap();
/// assert_eq!(print_expr(&e), "a OR b AND NOT c = 1");
/// ```
pub fn parse_expr(src: &str) -> Result<Expr, Vec<Diagnostic>> {
    let limits = ParseLimits::default();
    precheck(src, &limits).map_err(|d| vec![d])?;
    install_pest_limits();
    let mut pairs = SplParser::parse(Rule::expr_only, src).map_err(|e| vec![translate(e, src)])?;
    let Some(root) = pairs.next() else {
        return Err(vec![Diagnostic::error(codes::SYNTAX, "expected an expression")]);
    };
    let ctx = Ctx::new(src, &limits);
    let expr = match root.into_inner().find(|p| p.as_rule() == Rule::expr) {
        Some(p) => ctx.top_expr(p),
        None => placeholder(Span::default()),
    };
    ctx.finish(expr)
}

// ---------------------------------------------------------------------------------------------
// Checks on the raw text, before pest runs
// ---------------------------------------------------------------------------------------------

/// Script length, unterminated strings and comments, and nesting depth. Linear, no recursion.
fn precheck(src: &str, limits: &ParseLimits) -> Result<(), Diagnostic> {
    if src.len() > limits.max_script_bytes {
        let start = floor_char_boundary(src, limits.max_script_bytes);
        return Err(Diagnostic::error(
            codes::SCRIPT_TOO_LONG,
            format!(
                "the script is {} bytes long; the limit is {} bytes",
                src.len(),
                limits.max_script_bytes
            ),
        )
        .with_label(Span::new(start, src.len()), "beyond the limit")
        .with_hint("split the work into several rules, or raise the script length limit"));
    }
    DepthScan::new(src, limits.max_depth).run()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A token-level scan that estimates how deeply the parser will recurse: brackets, `CASE`,
/// `ARRAY<`/`MAP<` and runs of prefix operators (`NOT`, unary `-`/`+`) each count one level.
/// It also finds unterminated strings, quoted names and block comments, so those get precise
/// diagnostics instead of a generic syntax error at the end of the input.
struct DepthScan<'a> {
    src: &'a str,
    max: usize,
    /// Open levels: the closing kind and the weight each contributes.
    open: Vec<(u8, usize)>,
    total: usize,
    /// Unary `-`/`+` seen since the last operand.
    signs: usize,
    /// `NOT`s seen since the last `AND`/`OR`/`,`/clause keyword.
    nots: usize,
    /// The previous token ends an operand (so a following `-` is binary).
    after_operand: bool,
    /// The previous token was the word `array` or `map` (so `<` opens a type).
    after_container: bool,
}

impl<'a> DepthScan<'a> {
    fn new(src: &'a str, max: usize) -> Self {
        DepthScan {
            src,
            max,
            open: Vec::new(),
            total: 0,
            signs: 0,
            nots: 0,
            after_operand: false,
            after_container: false,
        }
    }

    fn run(mut self) -> Result<(), Diagnostic> {
        let b = self.src.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let next = b.get(i + 1).copied();
            let container = std::mem::replace(&mut self.after_container, false);
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    self.after_container = container;
                    i += 1;
                }
                b'-' if next == Some(b'-') => {
                    self.after_container = container;
                    i = self.src[i..].find('\n').map_or(b.len(), |p| i + p);
                }
                b'/' if next == Some(b'*') => {
                    self.after_container = container;
                    match self.src[i + 2..].find("*/") {
                        Some(p) => i = i + 2 + p + 2,
                        None => {
                            return Err(Diagnostic::error(codes::SYNTAX, "unterminated block comment")
                                .with_label(Span::new(i, i + 2), "this comment is never closed")
                                .with_hint("close the comment with `*/`"));
                        }
                    }
                }
                b'\'' | b'"' => {
                    i = self.quoted(i, c)?;
                    self.operand();
                }
                b'(' | b'[' => {
                    self.push(if c == b'(' { b')' } else { b']' }, i)?;
                    i += 1;
                }
                b'<' if container => {
                    self.push(b'>', i)?;
                    i += 1;
                }
                b')' | b']' => {
                    self.pop(c);
                    self.operand();
                    i += 1;
                }
                b'>' if self.open.last().is_some_and(|(k, _)| *k == b'>') => {
                    self.pop(b'>');
                    self.operand();
                    i += 1;
                }
                b'-' | b'+' if !self.after_operand => {
                    self.signs += 1;
                    self.check(i)?;
                    i += 1;
                }
                b',' | b'|' | b';' => {
                    self.signs = 0;
                    self.nots = 0;
                    self.after_operand = false;
                    i += 1;
                }
                c if c.is_ascii_alphanumeric() || c == b'_' => {
                    let start = i;
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                    self.word(&self.src[start..i], start)?;
                }
                _ => {
                    // Operators and other punctuation; multi-byte chars are skipped whole.
                    self.after_operand = false;
                    i += self.src[i..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
        Ok(())
    }

    /// Skips a `'...'` or `"..."` token (doubled quote inside), returning the index after it.
    fn quoted(&self, start: usize, quote: u8) -> Result<usize, Diagnostic> {
        let b = self.src.as_bytes();
        let mut i = start + 1;
        while i < b.len() {
            if b[i] == quote {
                if b.get(i + 1) == Some(&quote) {
                    i += 2;
                    continue;
                }
                return Ok(i + 1);
            }
            i += 1;
        }
        let d = if quote == b'\'' {
            Diagnostic::error(codes::UNTERMINATED_STRING, "unterminated string literal")
                .with_label(Span::new(start, start + 1), "this string is never closed")
                .with_hint("end the string with `'`; write `''` for a single quote inside a string")
        } else {
            Diagnostic::error(codes::UNTERMINATED_STRING, "unterminated quoted field name")
                .with_label(Span::new(start, start + 1), "this quoted name is never closed")
                .with_hint("end the name with `\"`; write `\"\"` for a double quote inside a name")
                .with_hint("double quotes name fields; strings use single quotes: 'text'")
        };
        Err(d)
    }

    fn word(&mut self, word: &str, at: usize) -> Result<(), Diagnostic> {
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "case" => {
                self.push(b'e', at)?;
                self.after_operand = false;
            }
            "end" => {
                self.pop(b'e');
                self.operand();
            }
            "not" => {
                self.nots += 1;
                self.after_operand = false;
                self.check(at)?;
            }
            "and" | "or" | "when" | "then" | "else" => {
                self.signs = 0;
                self.nots = 0;
                self.after_operand = false;
            }
            "array" | "map" => {
                self.after_container = true;
                self.operand();
            }
            "is" | "in" | "like" | "between" | "escape" | "distinct" | "from" | "as" | "by" => {
                self.after_operand = false;
            }
            _ => self.operand(),
        }
        Ok(())
    }

    fn operand(&mut self) {
        self.signs = 0;
        self.after_operand = true;
    }

    fn push(&mut self, close: u8, at: usize) -> Result<(), Diagnostic> {
        let weight = 1 + self.signs + self.nots;
        self.signs = 0;
        self.nots = 0;
        self.after_operand = false;
        self.open.push((close, weight));
        self.total += weight;
        self.check(at)
    }

    fn pop(&mut self, close: u8) {
        while let Some((kind, weight)) = self.open.pop() {
            self.total -= weight;
            if kind == close {
                break;
            }
        }
    }

    fn check(&self, at: usize) -> Result<(), Diagnostic> {
        if self.total + self.signs + self.nots <= self.max {
            return Ok(());
        }
        let len = self.src[at..].chars().next().map_or(0, char::len_utf8);
        Err(Diagnostic::error(
            codes::TOO_DEEP,
            format!("expression is nested too deeply (the limit is {} levels)", self.max),
        )
        .with_label(Span::new(at, at + len), "nesting limit reached here")
        .with_hint("simplify the expression, or compute parts of it in earlier `extend` stages"))
    }
}

// ---------------------------------------------------------------------------------------------
// Pest errors → diagnostics
// ---------------------------------------------------------------------------------------------

/// Words for what a grammar rule stands for. Every rule has an entry and no entry is a raw
/// rule name (a test checks this), so users only ever read these words.
fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of input",
        Rule::WHITESPACE => "whitespace",
        Rule::COMMENT => "a comment",
        Rule::ident_char | Rule::name_char => "a letter, digit or underscore",
        Rule::script | Rule::stmt => "a statement",
        Rule::let_stmt => "a `.let` statement",
        Rule::output_stmt => "an output statement such as `$ok`",
        Rule::pipeline => "a pipeline such as `* | where ...`",
        Rule::source | Rule::source_all => "a data source such as `*`",
        Rule::dataset_ref => "a dataset reference such as `$src`",
        Rule::dataset_name => "a dataset name",
        Rule::search_query | Rule::search_piece => "a search query",
        Rule::pipe => "`|`",
        Rule::semicolon => "`;`",
        Rule::comma => "`,`",
        Rule::equals => "`=`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::langle => "`<`",
        Rule::rangle => "`>`",
        Rule::arrow => "`->`",
        Rule::star => "`*`",
        Rule::stage | Rule::instr_keyword | Rule::cmd_unknown | Rule::instr_name => {
            "an instruction such as `where` or `extend`"
        }
        Rule::cmd_where
        | Rule::cmd_extend
        | Rule::cmd_project
        | Rule::cmd_project_away
        | Rule::cmd_project_rename
        | Rule::cmd_expand_values
        | Rule::cmd_parse_regexp
        | Rule::cmd_parse_csv
        | Rule::cmd_parse_json
        | Rule::cmd_parse_kv
        | Rule::cmd_pack_fields
        | Rule::cmd_log_to_metric
        | Rule::cmd_metric_to_metric
        | Rule::cmd_stats
        | Rule::cmd_sort
        | Rule::cmd_limit => "an instruction",
        Rule::stage_rest => "the arguments of the instruction",
        Rule::assign => "an assignment such as `name = expression`",
        Rule::rename => "a rename such as `new_name = old_name`",
        Rule::project_item | Rule::field | Rule::tag_field => "a field name",
        Rule::outputs => "`as` and output field names",
        Rule::sort_key => "a sort key",
        Rule::opt | Rule::opt_name => "an option such as `-delim=','`",
        Rule::opt_value | Rule::opt_word => "an option value such as `'text'`, `10` or `word`",
        Rule::integer | Rule::type_int => "a whole number",
        Rule::kw_let => "`.let`",
        Rule::kw_where => "`where`",
        Rule::kw_extend => "`extend`",
        Rule::kw_project => "`project`",
        Rule::kw_project_away => "`project-away`",
        Rule::kw_project_rename => "`project-rename`",
        Rule::kw_expand_values => "`expand-values`",
        Rule::kw_parse_regexp => "`parse-regexp`",
        Rule::kw_parse_csv => "`parse-csv`",
        Rule::kw_parse_json => "`parse-json`",
        Rule::kw_parse_kv => "`parse-kv`",
        Rule::kw_pack_fields => "`pack-fields`",
        Rule::kw_log_to_metric => "`log-to-metric`",
        Rule::kw_metric_to_metric => "`metric-to-metric`",
        Rule::kw_stats => "`stats`",
        Rule::kw_sort => "`sort`",
        Rule::kw_limit => "`limit`",
        Rule::expr
        | Rule::expr_only
        | Rule::value_expr
        | Rule::prefix_op
        | Rule::sign_op
        | Rule::op_not
        | Rule::op_neg
        | Rule::op_pos
        | Rule::primary
        | Rule::paren
        | Rule::null_lit
        | Rule::bool_lit
        | Rule::number
        | Rule::quoted_ident
        | Rule::ident
        | Rule::cast
        | Rule::case_expr
        | Rule::array_ctor
        | Rule::niladic
        | Rule::typed_literal
        | Rule::position_call
        | Rule::call
        | Rule::fn_name
        | Rule::reserved => "an expression",
        Rule::string => "a string in single quotes",
        Rule::infix_op
        | Rule::value_infix_op
        | Rule::comparison_op
        | Rule::postfix_op
        | Rule::op_or
        | Rule::op_and
        | Rule::op_concat
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_mod
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_lt
        | Rule::op_ge
        | Rule::op_gt
        | Rule::subscript
        | Rule::is_null
        | Rule::is_distinct
        | Rule::between
        | Rule::in_list
        | Rule::like => "an operator",
        Rule::case_operand => "a `CASE` operand",
        Rule::when_clause => "`WHEN`",
        Rule::else_clause => "`ELSE`",
        Rule::fn_arg => "a function argument",
        Rule::lambda => "a lambda such as `x -> x + 1`",
        Rule::lambda_params => "lambda parameters",
        Rule::type_name
        | Rule::ty_array
        | Rule::ty_map
        | Rule::ty_decimal
        | Rule::ty_varchar
        | Rule::ty_simple => "a type name such as `BIGINT` or `VARCHAR`",
        Rule::kw_and => "`AND`",
        Rule::kw_or => "`OR`",
        Rule::kw_not => "`NOT`",
        Rule::kw_null => "`NULL`",
        Rule::kw_true => "`TRUE`",
        Rule::kw_false => "`FALSE`",
        Rule::kw_case => "`CASE`",
        Rule::kw_when => "`WHEN`",
        Rule::kw_then => "`THEN`",
        Rule::kw_else => "`ELSE`",
        Rule::kw_end => "`END`",
        Rule::kw_cast => "`CAST`",
        Rule::kw_try_cast => "`TRY_CAST`",
        Rule::kw_is => "`IS`",
        Rule::kw_in => "`IN`",
        Rule::kw_like => "`LIKE`",
        Rule::kw_between => "`BETWEEN`",
        Rule::kw_distinct => "`DISTINCT`",
        Rule::kw_from => "`FROM`",
        Rule::kw_escape => "`ESCAPE`",
        Rule::kw_as => "`as`",
        Rule::kw_array => "`ARRAY`",
        Rule::kw_by => "`by`",
        Rule::kw_asc => "`asc`",
        Rule::kw_desc => "`desc`",
        Rule::kw_map => "`MAP`",
        Rule::kw_decimal => "`DECIMAL`",
        Rule::kw_varchar => "`VARCHAR`",
        Rule::kw_timestamp => "`TIMESTAMP`",
        Rule::kw_date => "`DATE`",
        Rule::kw_position => "`POSITION`",
    }
}

/// Descriptions that "an expression" already covers.
const EXPRESSION_STARTS: &[&str] = &[
    "a string in single quotes",
    "`(`",
    "`-`",
    "`NOT`",
    "`CASE`",
    "`CAST`",
    "`TRY_CAST`",
    "`ARRAY`",
    "`POSITION`",
    "`TIMESTAMP`",
    "`DATE`",
    "`NULL`",
    "`TRUE`",
    "`FALSE`",
    "a field name",
];

/// Descriptions that "an operator" already covers.
const OPERATOR_PARTS: &[&str] =
    &["`[`", "`IS`", "`NOT`", "`IN`", "`LIKE`", "`BETWEEN`", "`=`", "`<`", "`>`"];

/// Orders expectations: what the user most likely meant first, "end of input" last.
fn rank(description: &str) -> u8 {
    match description {
        "an expression" | "a field name" | "a string in single quotes" => 0,
        "an operator" => 3,
        "`,`" => 4,
        "`|`" | "`;`" => 5,
        "end of input" => 6,
        d if d.starts_with("an instruction") || d.starts_with("an option") => 1,
        _ => 2,
    }
}

fn join_alternatives(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// The token at `pos` as the user wrote it, for "found ..." and the label span.
fn found_at(src: &str, pos: usize) -> (String, Span) {
    let pos = floor_char_boundary(src, pos);
    let rest = &src[pos..];
    let Some(c) = rest.chars().next() else {
        return ("end of input".to_string(), Span::new(pos, pos));
    };
    let len = if c == '\'' || c == '"' {
        let b = rest.as_bytes();
        let mut i = 1;
        loop {
            match b.get(i) {
                None => break rest.len(),
                Some(&q) if q == c as u8 && b.get(i + 1) == Some(&q) => i += 2,
                Some(&q) if q == c as u8 => break i + 1,
                Some(_) => i += 1,
            }
        }
    } else if c.is_ascii_alphanumeric() || c == '_' {
        rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')).unwrap_or(rest.len())
    } else if rest.starts_with("||") || rest.starts_with("<>") || rest.starts_with("<=") || rest.starts_with(">=") || rest.starts_with("!=") || rest.starts_with("->") {
        2
    } else {
        c.len_utf8()
    };
    let token = &rest[..len];
    let shown = if token.chars().count() > 40 {
        let cut: String = token.chars().take(37).collect();
        format!("`{cut}...`")
    } else {
        format!("`{token}`")
    };
    (shown, Span::new(pos, pos + len))
}

/// Turns a pest error into one diagnostic with human words and SPL-specific hints.
fn translate(err: pest::error::Error<Rule>, src: &str) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let (found, span) = found_at(src, pos);
    let (positives, negatives) = match &err.variant {
        ErrorVariant::ParsingError { positives, negatives } => (positives.clone(), negatives.clone()),
        ErrorVariant::CustomError { message } => {
            // Pest's own resource limits ("call limit reached", "stack limit reached").
            let _ = message;
            return Diagnostic::error(codes::TOO_DEEP, "the script is too complex to parse")
                .with_label(span, "the parser gave up here")
                .with_hint("simplify the script or split it into several statements");
        }
    };
    let mut expected: Vec<&str> = Vec::new();
    for r in &positives {
        let d = describe(*r);
        if !expected.contains(&d) {
            expected.push(d);
        }
    }
    // Tokens that start an expression or continue one add nothing next to the general word.
    if expected.contains(&"an expression") {
        expected.retain(|d| !EXPRESSION_STARTS.contains(d));
    }
    if expected.contains(&"an operator") {
        expected.retain(|d| !OPERATOR_PARTS.contains(d));
    }
    expected.sort_by_key(|d| rank(d));
    let message = if !expected.is_empty() {
        format!("expected {}, found {}", join_alternatives(&expected), found)
    } else if let Some(r) = negatives.first() {
        format!("unexpected {} here ({} is not allowed)", found, describe(*r))
    } else {
        format!("unexpected {found}")
    };
    let label = match expected.first() {
        Some(first) if expected.len() == 1 => format!("expected {first}"),
        Some(_) => "unexpected here".to_string(),
        None => "unexpected here".to_string(),
    };
    let mut d = Diagnostic::error(codes::SYNTAX, message).with_label(span, label);
    for hint in hints_for(src, pos, &found, &expected) {
        d = d.with_hint(hint);
    }
    d
}

/// SPL-specific advice for common mistakes at the error position.
fn hints_for(src: &str, pos: usize, found: &str, expected: &[&str]) -> Vec<String> {
    let mut hints = Vec::new();
    let token = found.trim_matches('`');
    let wants_value =
        expected.contains(&"a string in single quotes") || expected.contains(&"an expression");
    if token.starts_with('"') && token.len() > 1 {
        let inner = token.trim_matches('"').replace("\"\"", "\"").replace('\'', "''");
        hints.push(format!(
            "{token} is a field name: double quotes name fields in SPL; write '{inner}' for a string"
        ));
    }
    if wants_value && ast::is_reserved(token) {
        hints.push(format!(
            "`{token}` is a reserved word; write \"{token}\" to use it as a field name"
        ));
    }
    if expected.contains(&"`=`") && token == "==" {
        hints.push("SQL compares with a single `=`".to_string());
    }
    let before = src[..floor_char_boundary(src, pos)].trim_end();
    let after_single_pipe = before.ends_with('|') && !before.ends_with("||");
    if after_single_pipe && !token.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && token != "end of input" {
        hints.push(
            "a single `|` ends a pipeline stage; to concatenate strings use `||`".to_string(),
        );
    }
    if expected.iter().any(|e| e.starts_with("a data source")) && instruction_like(token) {
        hints.push(format!("a pipeline starts with its data source: `* | {token} ...`"));
    }
    hints
}

fn instruction_like(word: &str) -> bool {
    ast::INSTRUCTIONS.iter().any(|i| i.eq_ignore_ascii_case(word))
}

// ---------------------------------------------------------------------------------------------
// Pairs → AST
// ---------------------------------------------------------------------------------------------

/// Operator precedence, lowest first (Presto order).
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::postfix(Rule::is_null)
            | Op::postfix(Rule::is_distinct)
            | Op::postfix(Rule::between)
            | Op::postfix(Rule::in_list)
            | Op::postfix(Rule::like))
        .op(Op::infix(Rule::op_concat, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_mod, Assoc::Left))
        .op(Op::prefix(Rule::op_neg) | Op::prefix(Rule::op_pos))
        .op(Op::postfix(Rule::subscript))
});

fn span_of(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

fn placeholder(span: Span) -> Expr {
    Expr::new(ExprKind::Literal(Literal::Null), span)
}

/// `'it''s'` → `it's`
fn unquote_string(text: &str) -> String {
    text.get(1..text.len().saturating_sub(1)).unwrap_or_default().replace("''", "'")
}

/// `"a""b"` → `a"b`
fn unquote_ident(text: &str) -> String {
    text.get(1..text.len().saturating_sub(1)).unwrap_or_default().replace("\"\"", "\"")
}

/// Conversion state: the source, the limits and the errors found so far (conversion goes on
/// after an error so that one run reports every unknown instruction and bad number).
struct Ctx<'s> {
    limits: ParseLimits,
    errors: RefCell<Vec<Diagnostic>>,
    _src: std::marker::PhantomData<&'s str>,
}

impl<'s> Ctx<'s> {
    fn new(_src: &'s str, limits: &ParseLimits) -> Self {
        Ctx { limits: *limits, errors: RefCell::new(Vec::new()), _src: std::marker::PhantomData }
    }

    fn error(&self, d: Diagnostic) {
        self.errors.borrow_mut().push(d);
    }

    fn finish<T>(self, value: T) -> Result<T, Vec<Diagnostic>> {
        let errors = self.errors.into_inner();
        if errors.is_empty() { Ok(value) } else { Err(errors) }
    }

    fn script(&self, pair: Pair<'s, Rule>) -> Script {
        let mut stmts = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::let_stmt => {
                    let mut name = None;
                    let mut pipeline = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::dataset_name => name = Some(Spanned::new(q.as_str().to_string(), span_of(&q))),
                            Rule::pipeline => pipeline = Some(self.pipeline(q)),
                            _ => {}
                        }
                    }
                    if let (Some(name), Some(pipeline)) = (name, pipeline) {
                        stmts.push(Stmt::Let { name, pipeline });
                    }
                }
                Rule::output_stmt => {
                    if let Some(r) = p.into_inner().next() {
                        stmts.push(Stmt::Output(self.dataset_ref(r)));
                    }
                }
                Rule::pipeline => stmts.push(Stmt::Pipeline(self.pipeline(p))),
                _ => {}
            }
        }
        Script { stmts }
    }

    fn dataset_ref(&self, p: Pair<'s, Rule>) -> Spanned<String> {
        Spanned::new(p.as_str().trim_start_matches('$').to_string(), span_of(&p))
    }

    fn pipeline(&self, pair: Pair<'s, Rule>) -> Pipeline {
        let mut source = Spanned::new(Source::All, span_of(&pair));
        let mut stages: Vec<Spanned<Command>> = Vec::new();
        let mut previous: Option<&'static str> = None;
        let mut count = 0usize;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::source => source = self.source(p),
                Rule::pipe => {}
                _ => {
                    count += 1;
                    let span = span_of(&p);
                    if count == self.limits.max_stages + 1 {
                        self.error(
                            Diagnostic::error(
                                codes::TOO_MANY_STAGES,
                                format!(
                                    "too many stages in one pipeline (the limit is {})",
                                    self.limits.max_stages
                                ),
                            )
                            .with_label(span, format!("stage {count} is over the limit"))
                            .with_hint(
                                "merge stages (one `extend` can set several fields), or split the \
                                 pipeline with `.let name = ...;` and continue from `$name`",
                            ),
                        );
                    }
                    if let Some(cmd) = self.command(p, previous) {
                        previous = Some(cmd.name());
                        stages.push(Spanned::new(cmd, span));
                    } else {
                        previous = None;
                    }
                }
            }
        }
        Pipeline { source, stages }
    }

    fn source(&self, pair: Pair<'s, Rule>) -> Spanned<Source> {
        let span = span_of(&pair);
        match pair.into_inner().next() {
            Some(p) if p.as_rule() == Rule::dataset_ref => {
                let r = self.dataset_ref(p);
                Spanned::new(Source::Dataset(r.node), r.span)
            }
            Some(p) if p.as_rule() == Rule::search_query => {
                let text = p.as_str();
                let trimmed = text.trim_end();
                let start = p.as_span().start();
                Spanned::new(Source::Search(trimmed.to_string()), Span::new(start, start + trimmed.len()))
            }
            _ => Spanned::new(Source::All, span),
        }
    }

    /// One stage; `None` for an unknown instruction (reported).
    fn command(&self, pair: Pair<'s, Rule>, previous: Option<&'static str>) -> Option<Command> {
        let rule = pair.as_rule();
        if rule == Rule::cmd_unknown {
            self.unknown_instruction(pair, previous);
            return None;
        }
        let mut opts = Vec::new();
        let mut fields: Vec<ast::Field> = Vec::new();
        let mut strings: Vec<Spanned<String>> = Vec::new();
        let mut outputs: Vec<ast::Field> = Vec::new();
        let mut assigns = Vec::new();
        let mut renames = Vec::new();
        let mut items = Vec::new();
        let mut exprs = Vec::new();
        let mut keys = Vec::new();
        let mut limit = None;
        let mut after_as = false;
        let mut after_by = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::opt => opts.push(self.opt(p)),
                Rule::field => {
                    let f = self.field(p);
                    if after_as || after_by {
                        outputs.push(f.clone());
                    }
                    fields.push(f.clone());
                    items.push(ProjectItem::Keep(f));
                }
                Rule::rename => {
                    let r = self.rename(p);
                    renames.push(r.clone());
                    items.push(ProjectItem::Rename(r));
                }
                Rule::string => strings.push(Spanned::new(unquote_string(p.as_str()), span_of(&p))),
                Rule::outputs => {
                    outputs.extend(p.into_inner().filter(|q| q.as_rule() == Rule::field).map(|q| self.field(q)))
                }
                Rule::kw_as => after_as = true,
                Rule::kw_by => after_by = true,
                Rule::assign => assigns.push(self.assign(p)),
                Rule::expr => exprs.push(self.top_expr(p)),
                Rule::sort_key => keys.push(self.sort_key(p)),
                Rule::integer => limit = Some(Spanned::new(self.integer(&p), span_of(&p))),
                _ => {}
            }
        }
        let first_field = |fields: &mut Vec<ast::Field>| -> ast::Field {
            if fields.is_empty() {
                Spanned::new(String::new(), Span::default())
            } else {
                fields.remove(0)
            }
        };
        let cmd = match rule {
            Rule::cmd_where => Command::Where(exprs.pop().unwrap_or_else(|| placeholder(Span::default()))),
            Rule::cmd_extend => Command::Extend(assigns),
            Rule::cmd_project => Command::Project { opts, items },
            Rule::cmd_project_away => Command::ProjectAway { opts, fields },
            Rule::cmd_project_rename => Command::ProjectRename { renames },
            Rule::cmd_expand_values => {
                let field = first_field(&mut fields);
                Command::ExpandValues { opts, field, output: outputs.pop() }
            }
            Rule::cmd_parse_regexp => {
                let field = first_field(&mut fields);
                let pattern = strings.pop().unwrap_or_else(|| Spanned::new(String::new(), Span::default()));
                Command::ParseRegexp { opts, field, pattern, outputs }
            }
            Rule::cmd_parse_csv => Command::ParseCsv { opts, field: first_field(&mut fields), outputs },
            Rule::cmd_parse_json => Command::ParseJson { opts, field: first_field(&mut fields) },
            Rule::cmd_parse_kv => Command::ParseKv { opts, field: first_field(&mut fields), args: strings },
            Rule::cmd_pack_fields => {
                let output = outputs.pop().unwrap_or_else(|| first_field(&mut fields));
                Command::PackFields { opts, output }
            }
            Rule::cmd_log_to_metric => Command::LogToMetric { opts },
            Rule::cmd_metric_to_metric => Command::MetricToMetric { opts },
            Rule::cmd_stats => Command::Stats { aggs: assigns, by: outputs },
            Rule::cmd_sort => Command::Sort { keys },
            Rule::cmd_limit => Command::Limit {
                count: limit.unwrap_or_else(|| Spanned::new(0, Span::default())),
            },
            _ => return None,
        };
        Some(cmd)
    }

    fn unknown_instruction(&self, pair: Pair<'s, Rule>, previous: Option<&'static str>) {
        let Some(name) = pair.into_inner().find(|p| p.as_rule() == Rule::instr_name) else {
            return;
        };
        let word = name.as_str();
        let mut d = Diagnostic::error(codes::UNKNOWN_INSTRUCTION, format!("unknown instruction `{word}`"))
            .with_label(span_of(&name), "not an SPL instruction");
        let suggestion = did_you_mean(word, ast::INSTRUCTIONS.iter().copied());
        if let Some(s) = suggestion {
            d = d.with_hint(format!("did you mean `{s}`?"));
            if s.eq_ignore_ascii_case(word) {
                d = d.with_hint("instruction names are written in lower case");
            }
        } else {
            if matches!(previous, Some("where" | "extend" | "stats" | "sort")) {
                d = d.with_hint(
                    "a single `|` ends a pipeline stage; to concatenate strings use `||`",
                );
            }
            d = d.with_hint(format!("the instructions are: {}", ast::INSTRUCTIONS.join(", ")));
        }
        self.error(d);
    }

    fn opt(&self, pair: Pair<'s, Rule>) -> Opt {
        let mut name = Spanned::new(String::new(), span_of(&pair));
        let mut value = None;
        for p in pair.into_inner() {
            let span = span_of(&p);
            match p.as_rule() {
                Rule::opt_name => name = Spanned::new(p.as_str()[1..].to_string(), span),
                Rule::string => value = Some(Spanned::new(OptValue::Str(unquote_string(p.as_str())), span)),
                Rule::integer => value = Some(Spanned::new(OptValue::Int(self.integer(&p)), span)),
                Rule::opt_word => value = Some(Spanned::new(OptValue::Ident(p.as_str().to_string()), span)),
                _ => {}
            }
        }
        Opt { name, value }
    }

    fn integer(&self, p: &Pair<'s, Rule>) -> i64 {
        match p.as_str().parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                self.bad_integer(p.as_str(), span_of(p));
                0
            }
        }
    }

    fn bad_integer(&self, text: &str, span: Span) {
        self.error(
            Diagnostic::error(codes::BAD_NUMBER, format!("integer `{text}` does not fit in a BIGINT"))
                .with_label(span, "too large for a 64-bit integer")
                .with_hint(format!(
                    "BIGINT holds {} to {}; write `{text}.0` for a DOUBLE or '{text}' for text",
                    i64::MIN,
                    i64::MAX
                )),
        );
    }

    fn field(&self, pair: Pair<'s, Rule>) -> ast::Field {
        let span = span_of(&pair);
        let name = match pair.into_inner().next() {
            Some(p) if p.as_rule() == Rule::quoted_ident => unquote_ident(p.as_str()),
            Some(p) => p.as_str().to_string(),
            None => String::new(),
        };
        Spanned::new(name, span)
    }

    fn rename(&self, pair: Pair<'s, Rule>) -> Rename {
        let mut fields = pair.into_inner().filter(|p| p.as_rule() == Rule::field).map(|p| self.field(p));
        let output = fields.next().unwrap_or_else(|| Spanned::new(String::new(), Span::default()));
        let input = fields.next().unwrap_or_else(|| Spanned::new(String::new(), Span::default()));
        Rename { output, input }
    }

    fn assign(&self, pair: Pair<'s, Rule>) -> Assign {
        let span = span_of(&pair);
        let mut output = Spanned::new(String::new(), span);
        let mut expr = placeholder(span);
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::field => output = self.field(p),
                Rule::expr => expr = self.top_expr(p),
                _ => {}
            }
        }
        Assign { output, expr }
    }

    fn sort_key(&self, pair: Pair<'s, Rule>) -> SortKey {
        let mut expr = placeholder(span_of(&pair));
        let mut descending = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::expr => expr = self.top_expr(p),
                Rule::kw_desc => descending = true,
                _ => {}
            }
        }
        SortKey { expr, descending }
    }

    /// An expression at the top of an instruction: converted, then checked for depth so that
    /// no later recursive pass (printing, planning, evaluation, even `Drop`) can overflow.
    fn top_expr(&self, pair: Pair<'s, Rule>) -> Expr {
        let expr = self.expr(pair);
        let limit = self.limits.max_depth.saturating_mul(4).max(1);
        if expr_depth(&expr) <= limit {
            return expr;
        }
        let span = expr.span;
        self.error(
            Diagnostic::error(
                codes::TOO_DEEP,
                format!("expression is too deeply nested (more than {limit} levels of operators)"),
            )
            .with_label(span, "this expression")
            .with_hint("use `IN (...)` for long lists of alternatives, or split the expression over several `extend` stages"),
        );
        dismantle(expr);
        placeholder(span)
    }

    /// Converts an `expr` or `value_expr` pair through the Pratt parser.
    fn expr(&self, pair: Pair<'s, Rule>) -> Expr {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let span = span_of(&op).to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_not => UnaryOp::Not,
                    Rule::op_neg => UnaryOp::Neg,
                    _ => UnaryOp::Plus,
                };
                Expr::new(ExprKind::Unary { op, expr: Box::new(rhs) }, span)
            })
            .map_postfix(|lhs, op| self.postfix(lhs, op))
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_concat => BinaryOp::Concat,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    _ => BinaryOp::Mod,
                };
                Expr::new(ExprKind::Binary { op, left: Box::new(lhs), right: Box::new(rhs) }, span)
            })
            .parse(pair.into_inner())
    }

    fn postfix(&self, lhs: Expr, op: Pair<'s, Rule>) -> Expr {
        let span = lhs.span.to(span_of(&op));
        let rule = op.as_rule();
        let mut negated = false;
        let mut operands = Vec::new();
        for p in op.into_inner() {
            match p.as_rule() {
                Rule::kw_not => negated = true,
                Rule::expr | Rule::value_expr => operands.push(self.expr(p)),
                _ => {}
            }
        }
        let mut operands = operands.into_iter();
        let mut next = || Box::new(operands.next().unwrap_or_else(|| placeholder(span)));
        let lhs = Box::new(lhs);
        let kind = match rule {
            Rule::subscript => ExprKind::Subscript { expr: lhs, index: next() },
            Rule::is_null => ExprKind::IsNull { expr: lhs, negated },
            Rule::is_distinct => ExprKind::IsDistinctFrom { left: lhs, right: next(), negated },
            Rule::between => {
                let low = next();
                let high = next();
                ExprKind::Between { expr: lhs, low, high, negated }
            }
            Rule::in_list => {
                let list = operands.collect();
                ExprKind::In { expr: lhs, list, negated }
            }
            _ => {
                let pattern = next();
                let escape = operands.next().map(Box::new);
                ExprKind::Like { expr: lhs, pattern, escape, negated }
            }
        };
        Expr::new(kind, span)
    }

    fn primary(&self, p: Pair<'s, Rule>) -> Expr {
        let span = span_of(&p);
        let kind = match p.as_rule() {
            Rule::paren => {
                let mut items: Vec<Expr> =
                    p.into_inner().filter(|q| q.as_rule() == Rule::expr).map(|q| self.expr(q)).collect();
                if items.len() == 1 {
                    let inner = items.remove(0);
                    return Expr::new(inner.kind, span);
                }
                ExprKind::Row(items)
            }
            Rule::null_lit => ExprKind::Literal(Literal::Null),
            Rule::bool_lit => ExprKind::Literal(Literal::Bool(p.as_str().eq_ignore_ascii_case("true"))),
            Rule::number => ExprKind::Literal(self.number(p.as_str(), span)),
            Rule::string => ExprKind::Literal(Literal::Str(unquote_string(p.as_str()))),
            Rule::quoted_ident => ExprKind::Field(unquote_ident(p.as_str())),
            Rule::ident => ExprKind::Field(p.as_str().to_string()),
            Rule::niladic => ExprKind::Call { name: Spanned::new(p.as_str().to_string(), span), args: Vec::new() },
            Rule::typed_literal => {
                let mut ty = Type::Timestamp;
                let mut value = String::new();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::kw_date => ty = Type::Date,
                        Rule::kw_timestamp => ty = Type::Timestamp,
                        Rule::string => value = unquote_string(q.as_str()),
                        _ => {}
                    }
                }
                ExprKind::TypedLiteral { ty, value }
            }
            Rule::cast => {
                let mut try_cast = false;
                let mut expr = placeholder(span);
                let mut ty = Type::Varchar;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::kw_try_cast => try_cast = true,
                        Rule::expr => expr = self.expr(q),
                        Rule::type_name => ty = self.type_name(q),
                        _ => {}
                    }
                }
                ExprKind::Cast { expr: Box::new(expr), ty, try_cast }
            }
            Rule::case_expr => {
                let mut operand = None;
                let mut whens = Vec::new();
                let mut otherwise = None;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::case_operand => {
                            if let Some(e) = q.into_inner().next() {
                                operand = Some(Box::new(self.expr(e)));
                            }
                        }
                        Rule::when_clause => {
                            let mut es = q.into_inner().filter(|r| r.as_rule() == Rule::expr).map(|r| self.expr(r));
                            let cond = es.next().unwrap_or_else(|| placeholder(span));
                            let value = es.next().unwrap_or_else(|| placeholder(span));
                            whens.push((cond, value));
                        }
                        Rule::else_clause => {
                            if let Some(e) = q.into_inner().find(|r| r.as_rule() == Rule::expr) {
                                otherwise = Some(Box::new(self.expr(e)));
                            }
                        }
                        _ => {}
                    }
                }
                ExprKind::Case { operand, whens, otherwise }
            }
            Rule::array_ctor => {
                ExprKind::Array(p.into_inner().filter(|q| q.as_rule() == Rule::expr).map(|q| self.expr(q)).collect())
            }
            Rule::position_call => {
                let mut name = Spanned::new("position".to_string(), span);
                let mut args = Vec::new();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::kw_position => name = Spanned::new(q.as_str().to_string(), span_of(&q)),
                        Rule::value_expr => args.push(self.expr(q)),
                        _ => {}
                    }
                }
                ExprKind::Call { name, args }
            }
            Rule::call => {
                let mut name = Spanned::new(String::new(), span);
                let mut args = Vec::new();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::fn_name => name = Spanned::new(q.as_str().to_string(), span_of(&q)),
                        Rule::expr => args.push(self.expr(q)),
                        Rule::lambda => args.push(self.lambda(q)),
                        _ => {}
                    }
                }
                ExprKind::Call { name, args }
            }
            _ => ExprKind::Literal(Literal::Null),
        };
        Expr::new(kind, span)
    }

    fn lambda(&self, p: Pair<'s, Rule>) -> Expr {
        let span = span_of(&p);
        let mut params = Vec::new();
        let mut body = placeholder(span);
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::lambda_params => {
                    params = q
                        .into_inner()
                        .filter(|r| r.as_rule() == Rule::ident)
                        .map(|r| Spanned::new(r.as_str().to_string(), span_of(&r)))
                        .collect();
                }
                Rule::expr => body = self.expr(q),
                _ => {}
            }
        }
        Expr::new(ExprKind::Lambda { params, body: Box::new(body) }, span)
    }

    fn number(&self, text: &str, span: Span) -> Literal {
        if text.contains(['.', 'e', 'E']) {
            // The grammar only admits well-formed decimals; huge ones become infinity, like Presto.
            return text.parse::<f64>().map(Literal::Double).unwrap_or(Literal::Null);
        }
        match text.parse::<i64>() {
            Ok(n) => Literal::Int(n),
            Err(_) => {
                self.bad_integer(text, span);
                Literal::Null
            }
        }
    }

    fn type_name(&self, p: Pair<'s, Rule>) -> Type {
        let Some(inner) = p.into_inner().next() else {
            return Type::Varchar;
        };
        match inner.as_rule() {
            Rule::ty_array => {
                let elem = inner.into_inner().find(|q| q.as_rule() == Rule::type_name);
                Type::Array(Box::new(elem.map_or(Type::Varchar, |q| self.type_name(q))))
            }
            Rule::ty_map => {
                let mut ts = inner.into_inner().filter(|q| q.as_rule() == Rule::type_name).map(|q| self.type_name(q));
                let k = ts.next().unwrap_or(Type::Varchar);
                let v = ts.next().unwrap_or(Type::Varchar);
                Type::Map(Box::new(k), Box::new(v))
            }
            Rule::ty_decimal => {
                let nums: Vec<(u8, Span)> = inner
                    .into_inner()
                    .filter(|q| q.as_rule() == Rule::type_int)
                    .map(|q| {
                        let span = span_of(&q);
                        let n = q.as_str().parse::<u8>().unwrap_or_else(|_| {
                            self.error(
                                Diagnostic::error(codes::BAD_NUMBER, format!("`{}` is not a valid DECIMAL parameter", q.as_str()))
                                    .with_label(span, "must be at most 255")
                                    .with_hint("DECIMAL(p, s) takes a precision and a scale such as DECIMAL(10, 2)"),
                            );
                            0
                        });
                        (n, span)
                    })
                    .collect();
                match nums.as_slice() {
                    [] => Type::Decimal(None),
                    [(p, _)] => Type::Decimal(Some((*p, 0))),
                    [(p, _), (s, _), ..] => Type::Decimal(Some((*p, *s))),
                }
            }
            Rule::ty_varchar => Type::Varchar,
            _ => match inner.as_str().to_ascii_lowercase().as_str() {
                "boolean" => Type::Boolean,
                "tinyint" => Type::Tinyint,
                "smallint" => Type::Smallint,
                "integer" | "int" => Type::Integer,
                "bigint" => Type::Bigint,
                "hugeint" => Type::Hugeint,
                "real" => Type::Real,
                "double" => Type::Double,
                "varbinary" => Type::Varbinary,
                "timestamp" => Type::Timestamp,
                "date" => Type::Date,
                "json" => Type::Json,
                _ => Type::Varchar,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Iterative walks over expressions (safe on trees of any depth)
// ---------------------------------------------------------------------------------------------

fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::TypedLiteral { .. } | ExprKind::Field(_) => Vec::new(),
        ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } | ExprKind::Cast { expr, .. } => vec![expr],
        ExprKind::Binary { left, right, .. } | ExprKind::IsDistinctFrom { left, right, .. } => vec![left, right],
        ExprKind::Between { expr, low, high, .. } => vec![expr, low, high],
        ExprKind::In { expr, list, .. } => std::iter::once(&**expr).chain(list).collect(),
        ExprKind::Like { expr, pattern, escape, .. } => {
            let mut v: Vec<&Expr> = vec![expr, pattern];
            v.extend(escape.as_deref());
            v
        }
        ExprKind::Case { operand, whens, otherwise } => {
            let mut v: Vec<&Expr> = operand.as_deref().into_iter().collect();
            for (c, r) in whens {
                v.push(c);
                v.push(r);
            }
            v.extend(otherwise.as_deref());
            v
        }
        ExprKind::Call { args, .. } => args.iter().collect(),
        ExprKind::Subscript { expr, index } => vec![expr, index],
        ExprKind::Lambda { body, .. } => vec![body],
        ExprKind::Array(items) | ExprKind::Row(items) => items.iter().collect(),
    }
}

/// Depth of the tree (a leaf is 1), computed without recursion.
fn expr_depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        for c in children(e) {
            stack.push((c, d + 1));
        }
    }
    max
}

/// Drops a tree of any depth without recursion (the derived `Drop` would recurse).
fn dismantle(e: Expr) {
    let mut stack = vec![e];
    while let Some(mut e) = stack.pop() {
        let take = |b: &mut Box<Expr>| std::mem::replace(&mut **b, placeholder(Span::default()));
        match &mut e.kind {
            ExprKind::Literal(_) | ExprKind::TypedLiteral { .. } | ExprKind::Field(_) => {}
            ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } | ExprKind::Cast { expr, .. } => {
                stack.push(take(expr))
            }
            ExprKind::Binary { left, right, .. } | ExprKind::IsDistinctFrom { left, right, .. } => {
                stack.push(take(left));
                stack.push(take(right));
            }
            ExprKind::Between { expr, low, high, .. } => {
                stack.push(take(expr));
                stack.push(take(low));
                stack.push(take(high));
            }
            ExprKind::In { expr, list, .. } => {
                stack.push(take(expr));
                stack.append(list);
            }
            ExprKind::Like { expr, pattern, escape, .. } => {
                stack.push(take(expr));
                stack.push(take(pattern));
                if let Some(x) = escape {
                    stack.push(take(x));
                }
            }
            ExprKind::Case { operand, whens, otherwise } => {
                if let Some(x) = operand {
                    stack.push(take(x));
                }
                for (c, r) in whens.drain(..) {
                    stack.push(c);
                    stack.push(r);
                }
                if let Some(x) = otherwise {
                    stack.push(take(x));
                }
            }
            ExprKind::Call { args, .. } => stack.append(args),
            ExprKind::Subscript { expr, index } => {
                stack.push(take(expr));
                stack.push(take(index));
            }
            ExprKind::Lambda { body, .. } => stack.push(take(body)),
            ExprKind::Array(items) | ExprKind::Row(items) => stack.append(items),
        }
    }
}
