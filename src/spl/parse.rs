//! SPL text → spanned AST. The only module that knows pest.
//!
//! Owns: the pest parser for `grammar/spl.pest`, operator precedence (one `PrattParser`),
//! conversion of pest pairs into [`ast`] nodes with byte spans, the parse-time limits
//! ([`ParseLimits`]) and the translation of pest errors into [`Diagnostic`]s with human words
//! (one `describe` per grammar rule; a raw rule name never reaches a user).
//!
//! Must not depend on planning or evaluation, and must not panic on any input: limits are
//! checked on the raw text *before* pest runs, so deeply nested input cannot overflow the
//! stack, and pest's call limit stops pathological backtracking.

use std::cell::RefCell;
use std::num::NonZeroUsize;
use std::sync::{LazyLock, Mutex, PoisonError};

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
        ParseLimits {
            max_script_bytes: 64 * 1024,
            max_stages: 16,
            max_depth: 64,
        }
    }
}

/// How many pest calls one parse may make, at least. A typical script needs about 50 calls
/// per byte (3 million for the default 64 KiB limit, parsed in well under a second); this
/// leaves an order of magnitude of headroom while stopping runaway backtracking.
const PEST_CALL_LIMIT: usize = 40_000_000;
const PEST_CALLS_PER_BYTE: usize = 600;

/// Installs pest's call limit for a script of `len` bytes. Pest keeps one process-wide
/// limit, so it is only ever raised (a longer script under a raised length limit needs
/// more), never lowered under a concurrent parse.
fn install_pest_limits(len: usize) {
    static INSTALLED: Mutex<usize> = Mutex::new(0);
    let needed = PEST_CALL_LIMIT.max(len.saturating_mul(PEST_CALLS_PER_BYTE));
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if *installed < needed {
        pest::set_call_limit(NonZeroUsize::new(needed));
        *installed = needed;
    }
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
    install_pest_limits(src.len());
    let mut pairs = SplParser::parse(Rule::script, src).map_err(|e| vec![translate(e, src)])?;
    let Some(root) = pairs.next() else {
        return Err(vec![Diagnostic::error(
            codes::SYNTAX,
            "the script is empty",
        )]);
    };
    let ctx = Ctx::new(limits);
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
    install_pest_limits(src.len());
    let mut pairs = SplParser::parse(Rule::expr_only, src).map_err(|e| vec![translate(e, src)])?;
    let Some(root) = pairs.next() else {
        return Err(vec![Diagnostic::error(
            codes::SYNTAX,
            "expected an expression",
        )]);
    };
    let ctx = Ctx::new(&limits);
    let expr = match root.into_inner().find(|p| p.as_rule() == Rule::expr) {
        Some(p) => ctx.top_expr(p),
        None => placeholder(Span::default()),
    };
    ctx.finish(expr)
}

// ---------------------------------------------------------------------------------------------
// Comments (trivia for `soc spl fmt`)
// ---------------------------------------------------------------------------------------------

/// The comments of `src` (which parsed into `script`), each attached to the stage it
/// follows on the same line ([`Placement::After`]), else to the stage or statement it
/// precedes ([`Placement::Before`]; a comment inside a stage goes before that stage), else to
/// the end of the script. Linear, no pest.
///
/// ```
/// use agentic_soc::spl::{ast::Placement, parse::{comments, parse}};
/// let src = "-- nginx\n* | where a = 1 -- only ones\n  | extend b = 2";
/// let script = parse(src).unwrap();
/// let c = comments(src, &script);
/// assert_eq!((c[0].text.node.as_str(), c[0].placement), ("-- nginx", Placement::Before));
/// assert_eq!((c[1].anchor.stage, c[1].placement), (Some(0), Placement::After));
/// ```
pub fn comments(src: &str, script: &Script) -> Vec<ast::Comment> {
    // Anchors in source order: each statement's source (or output), then its stages.
    let mut anchors: Vec<(ast::Anchor, Span)> = Vec::new();
    for (i, stmt) in script.stmts.iter().enumerate() {
        match stmt {
            Stmt::Let { pipeline, .. } | Stmt::Pipeline(pipeline) => {
                anchors.push((
                    ast::Anchor {
                        stmt: i,
                        stage: None,
                    },
                    pipeline.source.span,
                ));
                for (j, st) in pipeline.stages.iter().enumerate() {
                    anchors.push((
                        ast::Anchor {
                            stmt: i,
                            stage: Some(j),
                        },
                        st.span,
                    ));
                }
            }
            Stmt::Output(name) => {
                anchors.push((
                    ast::Anchor {
                        stmt: i,
                        stage: None,
                    },
                    name.span,
                ));
            }
        }
    }
    let spans = comment_spans(src);
    // An anchor ends at its last token: pest spans may run over trailing comments.
    for (_, a) in anchors.iter_mut() {
        let (start, mut end) = (a.start as usize, a.end as usize);
        while end > start {
            if src.as_bytes()[end - 1].is_ascii_whitespace() {
                end -= 1;
                continue;
            }
            match spans.iter().find(|c| {
                start <= c.start as usize && (c.start as usize) < end && end <= c.end as usize
            }) {
                Some(c) => end = c.start as usize,
                None => break,
            }
        }
        a.end = end as u32;
    }
    let mut out = Vec::new();
    for span in spans {
        let text = src[span.start as usize..span.end as usize]
            .trim_end_matches(['\r', '\n'])
            .to_string();
        // The last anchor that starts before the comment.
        let before = anchors.iter().rposition(|(_, s)| s.start < span.start);
        let (anchor, placement) = match before {
            Some(k)
                if anchors[k].1.end <= span.start
                    && !src[anchors[k].1.end as usize..span.start as usize].contains('\n') =>
            {
                (anchors[k].0, ast::Placement::After)
            }
            // Inside an anchor's span: before that anchor.
            Some(k) if anchors[k].1.end > span.start => (anchors[k].0, ast::Placement::Before),
            _ => match anchors.iter().find(|(_, s)| s.start >= span.end) {
                Some((a, _)) => (*a, ast::Placement::Before),
                None => match anchors.last() {
                    Some((a, _)) => (*a, ast::Placement::End),
                    None => continue,
                },
            },
        };
        out.push(ast::Comment {
            text: Spanned::new(text, span),
            anchor,
            placement,
        });
    }
    out
}

/// Spans of the comments in `src`, skipping string literals and quoted names.
fn comment_spans(src: &str) -> Vec<Span> {
    let b = src.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let end = src[i..].find('\n').map_or(b.len(), |p| i + p);
                spans.push(Span::new(i, end));
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
                spans.push(Span::new(i, end));
                i = end;
            }
            _ => i += 1,
        }
    }
    spans
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
        .with_hint("split the work into several rules (no command-line flag raises the limit; library callers set `ParseLimits::max_script_bytes`)"));
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
                            return Err(Diagnostic::error(
                                codes::SYNTAX,
                                "unterminated block comment",
                            )
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
                .with_label(
                    Span::new(start, start + 1),
                    "this quoted name is never closed",
                )
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
            format!(
                "expression is nested too deeply (the limit is {} levels)",
                self.max
            ),
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
        Rule::forgotten_pipe => "`|`",
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
        Rule::stage | Rule::instr_keyword | Rule::cmd_unknown | Rule::instr_name => INSTRUCTION,
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
        Rule::opt_value | Rule::opt_word => OPTION_VALUE,
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
        Rule::in_arg => "`IN`",
    }
}

const INSTRUCTION: &str = "an instruction such as `where` or `extend`";
const OPTION_VALUE: &str = "an option value such as `'text'`, `10` or `word`";

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
    "`TIMESTAMP`",
    "`DATE`",
    "`NULL`",
    "`TRUE`",
    "`FALSE`",
    "a field name",
];

/// Descriptions that "an operator" already covers.
const OPERATOR_PARTS: &[&str] = &[
    "`[`",
    "`IS`",
    "`NOT`",
    "`IN`",
    "`LIKE`",
    "`BETWEEN`",
    "`=`",
    "`<`",
    "`>`",
];

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
        rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'))
            .unwrap_or(rest.len())
    } else if rest.starts_with("||")
        || rest.starts_with("<>")
        || rest.starts_with("<=")
        || rest.starts_with(">=")
        || rest.starts_with("!=")
        || rest.starts_with("->")
        || rest.starts_with("==")
    {
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
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => (positives.clone(), negatives.clone()),
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
    if expected.contains(&OPTION_VALUE) {
        expected.retain(|d| *d != "a string in single quotes" && *d != "a whole number");
    }
    if expected.contains(&INSTRUCTION) {
        expected.retain(|d| !ast::INSTRUCTIONS.iter().any(|i| d.trim_matches('`') == *i));
    }
    expected.sort_by_key(|d| rank(d));
    let message = if !expected.is_empty() {
        format!("expected {}, found {}", join_alternatives(&expected), found)
    } else if let Some(r) = negatives.first() {
        format!(
            "unexpected {} here ({} is not allowed)",
            found,
            describe(*r)
        )
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
        let inner = token
            .trim_matches('"')
            .replace("\"\"", "\"")
            .replace('\'', "''");
        hints.push(format!(
            "{token} is a field name: double quotes name fields in SPL; write '{inner}' for a string"
        ));
    }
    if (wants_value || expected.contains(&"a field name")) && ast::is_reserved(token) {
        hints.push(format!(
            "`{token}` is a reserved word; write \"{token}\" to use it as a field name"
        ));
    }
    let at = floor_char_boundary(src, pos);
    if token == "==" || (src[..at].ends_with('=') && src[at..].starts_with('=')) {
        hints.push("SQL compares with a single `=`".to_string());
    }
    let before = src[..floor_char_boundary(src, pos)].trim_end();
    let after_single_pipe = before.ends_with('|') && !before.ends_with("||");
    if after_single_pipe
        && !token
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && token != "end of input"
    {
        hints.push(
            "a single `|` ends a pipeline stage; to concatenate strings use `||`".to_string(),
        );
    }
    let wants_statement = expected
        .iter()
        .any(|e| *e == "a statement" || e.starts_with("a data source"));
    if wants_statement && instruction_like(token) {
        hints.push(format!(
            "a pipeline starts with its data source: `* | {token} ...`"
        ));
    } else if wants_statement && token == "end of input" {
        hints.push("a script is a pipeline such as `* | where status = '200'`".to_string());
    }
    if expected.contains(&"`|`") && instruction_like(token) {
        hints.push(format!("stages are separated by `|`: write `| {token}`"));
    }
    hints
}

fn instruction_like(word: &str) -> bool {
    ast::INSTRUCTIONS
        .iter()
        .any(|i| i.eq_ignore_ascii_case(word))
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

/// The span of a pair without the whitespace and comments pest may leave at its end.
fn span_of(p: &Pair<'_, Rule>) -> Span {
    Span::new(p.as_span().start(), last_token_end(p))
}

fn last_token_end(p: &Pair<'_, Rule>) -> usize {
    match p.clone().into_inner().last() {
        Some(child) => last_token_end(&child),
        None => p.as_span().end(),
    }
}

fn placeholder(span: Span) -> Expr {
    Expr::new(ExprKind::Literal(Literal::Null), span)
}

/// `'it''s'` → `it's`
fn unquote_string(text: &str) -> String {
    text.get(1..text.len().saturating_sub(1))
        .unwrap_or_default()
        .replace("''", "'")
}

/// `"a""b"` → `a"b`
fn unquote_ident(text: &str) -> String {
    text.get(1..text.len().saturating_sub(1))
        .unwrap_or_default()
        .replace("\"\"", "\"")
}

/// Conversion state: the limits and the errors found so far (conversion goes on after an
/// error so that one run reports every unknown instruction and bad number).
struct Ctx {
    limits: ParseLimits,
    errors: RefCell<Vec<Diagnostic>>,
}

impl Ctx {
    fn new(limits: &ParseLimits) -> Self {
        Ctx {
            limits: *limits,
            errors: RefCell::new(Vec::new()),
        }
    }

    fn error(&self, d: Diagnostic) {
        self.errors.borrow_mut().push(d);
    }

    fn finish<T>(self, value: T) -> Result<T, Vec<Diagnostic>> {
        let errors = self.errors.into_inner();
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(errors)
        }
    }

    fn script(&self, pair: Pair<'_, Rule>) -> Script {
        let mut stmts = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::let_stmt => {
                    let mut name = None;
                    let mut pipeline = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::dataset_name => {
                                name = Some(Spanned::new(q.as_str().to_string(), span_of(&q)))
                            }
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

    fn dataset_ref(&self, p: Pair<'_, Rule>) -> Spanned<String> {
        Spanned::new(p.as_str().trim_start_matches('$').to_string(), span_of(&p))
    }

    fn pipeline(&self, pair: Pair<'_, Rule>) -> Pipeline {
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

    fn source(&self, pair: Pair<'_, Rule>) -> Spanned<Source> {
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
                Spanned::new(
                    Source::Search(trimmed.to_string()),
                    Span::new(start, start + trimmed.len()),
                )
            }
            _ => Spanned::new(Source::All, span),
        }
    }

    /// One stage; `None` for an unknown instruction (reported).
    fn command(&self, pair: Pair<'_, Rule>, previous: Option<&'static str>) -> Option<Command> {
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
                Rule::outputs => outputs.extend(
                    p.into_inner()
                        .filter(|q| q.as_rule() == Rule::field)
                        .map(|q| self.field(q)),
                ),
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
            Rule::cmd_where => {
                Command::Where(exprs.pop().unwrap_or_else(|| placeholder(Span::default())))
            }
            Rule::cmd_extend => Command::Extend(assigns),
            Rule::cmd_project => Command::Project { opts, items },
            Rule::cmd_project_away => Command::ProjectAway { opts, fields },
            Rule::cmd_project_rename => Command::ProjectRename { renames },
            Rule::cmd_expand_values => {
                let field = first_field(&mut fields);
                Command::ExpandValues {
                    opts,
                    field,
                    output: outputs.pop(),
                }
            }
            Rule::cmd_parse_regexp => {
                let field = first_field(&mut fields);
                let pattern = strings
                    .pop()
                    .unwrap_or_else(|| Spanned::new(String::new(), Span::default()));
                Command::ParseRegexp {
                    opts,
                    field,
                    pattern,
                    outputs,
                }
            }
            Rule::cmd_parse_csv => Command::ParseCsv {
                opts,
                field: first_field(&mut fields),
                outputs,
            },
            Rule::cmd_parse_json => Command::ParseJson {
                opts,
                field: first_field(&mut fields),
            },
            Rule::cmd_parse_kv => Command::ParseKv {
                opts,
                field: first_field(&mut fields),
                args: strings,
            },
            Rule::cmd_pack_fields => {
                let output = outputs.pop().unwrap_or_else(|| first_field(&mut fields));
                Command::PackFields { opts, output }
            }
            Rule::cmd_log_to_metric => Command::LogToMetric { opts },
            Rule::cmd_metric_to_metric => Command::MetricToMetric { opts },
            Rule::cmd_stats => Command::Stats {
                aggs: assigns,
                by: outputs,
            },
            Rule::cmd_sort => Command::Sort { keys },
            Rule::cmd_limit => Command::Limit {
                count: limit.unwrap_or_else(|| Spanned::new(0, Span::default())),
            },
            _ => return None,
        };
        Some(cmd)
    }

    fn unknown_instruction(&self, pair: Pair<'_, Rule>, previous: Option<&'static str>) {
        let Some(name) = pair.into_inner().find(|p| p.as_rule() == Rule::instr_name) else {
            return;
        };
        let word = name.as_str();
        let mut d = Diagnostic::error(
            codes::UNKNOWN_INSTRUCTION,
            format!("unknown instruction `{word}`"),
        )
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
            d = d.with_hint(format!(
                "the instructions are: {}",
                ast::INSTRUCTIONS.join(", ")
            ));
        }
        self.error(d);
    }

    fn opt(&self, pair: Pair<'_, Rule>) -> Opt {
        let mut name = Spanned::new(String::new(), span_of(&pair));
        let mut value = None;
        for p in pair.into_inner() {
            let span = span_of(&p);
            match p.as_rule() {
                Rule::opt_name => name = Spanned::new(p.as_str()[1..].to_string(), span),
                Rule::string => {
                    value = Some(Spanned::new(
                        OptValue::Str(unquote_string(p.as_str())),
                        span,
                    ))
                }
                Rule::integer => value = Some(Spanned::new(OptValue::Int(self.integer(&p)), span)),
                Rule::opt_word => {
                    value = Some(Spanned::new(OptValue::Ident(p.as_str().to_string()), span))
                }
                _ => {}
            }
        }
        Opt { name, value }
    }

    fn integer(&self, p: &Pair<'_, Rule>) -> i64 {
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
            Diagnostic::error(
                codes::BAD_NUMBER,
                format!("integer `{text}` does not fit in a BIGINT"),
            )
            .with_label(span, "too large for a 64-bit integer")
            .with_hint(format!(
                "BIGINT holds {} to {}; write `{text}.0` for a DOUBLE or '{text}' for text",
                i64::MIN,
                i64::MAX
            )),
        );
    }

    fn field(&self, pair: Pair<'_, Rule>) -> ast::Field {
        let span = span_of(&pair);
        let name = match pair.into_inner().next() {
            Some(p) if p.as_rule() == Rule::quoted_ident => unquote_ident(p.as_str()),
            Some(p) => p.as_str().to_string(),
            None => String::new(),
        };
        Spanned::new(name, span)
    }

    fn rename(&self, pair: Pair<'_, Rule>) -> Rename {
        let mut fields = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::field)
            .map(|p| self.field(p));
        let output = fields
            .next()
            .unwrap_or_else(|| Spanned::new(String::new(), Span::default()));
        let input = fields
            .next()
            .unwrap_or_else(|| Spanned::new(String::new(), Span::default()));
        Rename { output, input }
    }

    fn assign(&self, pair: Pair<'_, Rule>) -> Assign {
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

    fn sort_key(&self, pair: Pair<'_, Rule>) -> SortKey {
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
    fn top_expr(&self, pair: Pair<'_, Rule>) -> Expr {
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
    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let span = span_of(&op).to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_not => UnaryOp::Not,
                    Rule::op_neg => UnaryOp::Neg,
                    _ => UnaryOp::Plus,
                };
                Expr::new(
                    ExprKind::Unary {
                        op,
                        expr: Box::new(rhs),
                    },
                    span,
                )
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
                // `a OR b OR c` grows one flat chain instead of nesting a level per term.
                Expr::binary(op, lhs, rhs, span)
            })
            .parse(pair.into_inner())
    }

    fn postfix(&self, lhs: Expr, op: Pair<'_, Rule>) -> Expr {
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
            Rule::subscript => ExprKind::Subscript {
                expr: lhs,
                index: next(),
            },
            Rule::is_null => ExprKind::IsNull { expr: lhs, negated },
            Rule::is_distinct => ExprKind::IsDistinctFrom {
                left: lhs,
                right: next(),
                negated,
            },
            Rule::between => {
                let low = next();
                let high = next();
                ExprKind::Between {
                    expr: lhs,
                    low,
                    high,
                    negated,
                }
            }
            Rule::in_list => {
                let list = operands.collect();
                ExprKind::In {
                    expr: lhs,
                    list,
                    negated,
                }
            }
            _ => {
                let pattern = next();
                let escape = operands.next().map(Box::new);
                ExprKind::Like {
                    expr: lhs,
                    pattern,
                    escape,
                    negated,
                }
            }
        };
        Expr::new(kind, span)
    }

    /// An operand. Each form has its own small function: nested expressions recurse through
    /// here, and small frames keep deep (but allowed) nesting well inside a thread's stack.
    fn primary(&self, p: Pair<'_, Rule>) -> Expr {
        let span = span_of(&p);
        let kind = match p.as_rule() {
            Rule::paren => return self.paren(p, span),
            Rule::null_lit => ExprKind::Literal(Literal::Null),
            Rule::bool_lit => {
                ExprKind::Literal(Literal::Bool(p.as_str().eq_ignore_ascii_case("true")))
            }
            Rule::number => ExprKind::Literal(self.number(p.as_str(), span)),
            Rule::string => ExprKind::Literal(Literal::Str(unquote_string(p.as_str()))),
            Rule::quoted_ident => ExprKind::Field(unquote_ident(p.as_str())),
            Rule::ident => ExprKind::Field(p.as_str().to_string()),
            Rule::niladic => ExprKind::Call {
                name: Spanned::new(p.as_str().to_string(), span),
                args: Vec::new(),
            },
            Rule::typed_literal => typed_literal(p),
            Rule::cast => self.cast(p, span),
            Rule::case_expr => self.case(p, span),
            Rule::array_ctor => ExprKind::Array(self.exprs(p)),
            Rule::call => self.call(p, span),
            _ => ExprKind::Literal(Literal::Null),
        };
        Expr::new(kind, span)
    }

    /// The `expr` children of a pair, converted.
    #[inline(never)]
    fn exprs(&self, p: Pair<'_, Rule>) -> Vec<Expr> {
        p.into_inner()
            .filter(|q| q.as_rule() == Rule::expr)
            .map(|q| self.expr(q))
            .collect()
    }

    #[inline(never)]
    fn paren(&self, p: Pair<'_, Rule>, span: Span) -> Expr {
        let mut items = self.exprs(p);
        if items.len() == 1 {
            let inner = items.remove(0);
            return Expr::new(inner.kind, span);
        }
        Expr::new(ExprKind::Row(items), span)
    }

    #[inline(never)]
    fn cast(&self, p: Pair<'_, Rule>, span: Span) -> ExprKind {
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
        ExprKind::Cast {
            expr: Box::new(expr),
            ty,
            try_cast,
        }
    }

    #[inline(never)]
    fn case(&self, p: Pair<'_, Rule>, span: Span) -> ExprKind {
        let mut operand = None;
        let mut whens = Vec::new();
        let mut otherwise = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::case_operand => {
                    operand = self.exprs(q).pop().map(Box::new);
                }
                Rule::when_clause => {
                    let mut es = self.exprs(q).into_iter();
                    let cond = es.next().unwrap_or_else(|| placeholder(span));
                    let value = es.next().unwrap_or_else(|| placeholder(span));
                    whens.push((cond, value));
                }
                Rule::else_clause => otherwise = self.exprs(q).pop().map(Box::new),
                _ => {}
            }
        }
        ExprKind::Case {
            operand,
            whens,
            otherwise,
        }
    }

    #[inline(never)]
    fn call(&self, p: Pair<'_, Rule>, span: Span) -> ExprKind {
        let mut name = Spanned::new(String::new(), span);
        let mut args = Vec::new();
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::fn_name => name = Spanned::new(q.as_str().to_string(), span_of(&q)),
                Rule::expr => args.push(self.expr(q)),
                Rule::lambda => args.push(self.lambda(q)),
                Rule::in_arg => {
                    if !name.node.eq_ignore_ascii_case("position") {
                        self.misplaced_in(&name.node, span_of(&q));
                    }
                    if let Some(v) = q.into_inner().find(|r| r.as_rule() == Rule::value_expr) {
                        args.push(self.expr(v));
                    }
                }
                _ => {}
            }
        }
        ExprKind::Call { name, args }
    }

    fn misplaced_in(&self, function: &str, span: Span) {
        self.error(
            Diagnostic::error(
                codes::SYNTAX,
                format!("`IN` is not allowed in the arguments of `{function}`"),
            )
            .with_label(span, "only `position(sub IN text)` takes this form")
            .with_hint("separate arguments with `,`; to test membership write `x IN (a, b)`"),
        );
    }

    fn lambda(&self, p: Pair<'_, Rule>) -> Expr {
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
        Expr::new(
            ExprKind::Lambda {
                params,
                body: Box::new(body),
            },
            span,
        )
    }

    fn number(&self, text: &str, span: Span) -> Literal {
        if text.contains(['.', 'e', 'E']) {
            // The grammar only admits well-formed decimals; huge ones become infinity.
            return match text.parse::<f64>() {
                Ok(f) => Literal::Double(f),
                Err(_) => {
                    self.error(
                        Diagnostic::error(codes::BAD_NUMBER, format!("`{text}` is not a number"))
                            .with_label(span, "not a valid DOUBLE"),
                    );
                    Literal::Null
                }
            };
        }
        match text.parse::<i64>() {
            Ok(n) => Literal::Int(n),
            Err(_) => {
                self.bad_integer(text, span);
                Literal::Null
            }
        }
    }

    fn type_name(&self, p: Pair<'_, Rule>) -> Type {
        let Some(inner) = p.into_inner().next() else {
            return Type::Varchar;
        };
        match inner.as_rule() {
            Rule::ty_array => {
                let elem = inner.into_inner().find(|q| q.as_rule() == Rule::type_name);
                Type::Array(Box::new(elem.map_or(Type::Varchar, |q| self.type_name(q))))
            }
            Rule::ty_map => {
                let mut ts = inner
                    .into_inner()
                    .filter(|q| q.as_rule() == Rule::type_name)
                    .map(|q| self.type_name(q));
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

fn typed_literal(p: Pair<'_, Rule>) -> ExprKind {
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

// ---------------------------------------------------------------------------------------------
// Iterative walks over expressions (safe on trees of any depth)
// ---------------------------------------------------------------------------------------------

fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::TypedLiteral { .. } | ExprKind::Field(_) => Vec::new(),
        ExprKind::Unary { expr, .. }
        | ExprKind::IsNull { expr, .. }
        | ExprKind::Cast { expr, .. } => vec![expr],
        ExprKind::Binary { left, right, .. } | ExprKind::IsDistinctFrom { left, right, .. } => {
            vec![left, right]
        }
        ExprKind::Between {
            expr, low, high, ..
        } => vec![expr, low, high],
        ExprKind::In { expr, list, .. } => std::iter::once(&**expr).chain(list).collect(),
        ExprKind::Like {
            expr,
            pattern,
            escape,
            ..
        } => {
            let mut v: Vec<&Expr> = vec![expr, pattern];
            v.extend(escape.as_deref());
            v
        }
        ExprKind::Case {
            operand,
            whens,
            otherwise,
        } => {
            let mut v: Vec<&Expr> = operand.as_deref().into_iter().collect();
            for (c, r) in whens {
                v.push(c);
                v.push(r);
            }
            v.extend(otherwise.as_deref());
            v
        }
        ExprKind::Call { args, .. } | ExprKind::Chain { operands: args, .. } => {
            args.iter().collect()
        }
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
            ExprKind::Unary { expr, .. }
            | ExprKind::IsNull { expr, .. }
            | ExprKind::Cast { expr, .. } => stack.push(take(expr)),
            ExprKind::Binary { left, right, .. } | ExprKind::IsDistinctFrom { left, right, .. } => {
                stack.push(take(left));
                stack.push(take(right));
            }
            ExprKind::Between {
                expr, low, high, ..
            } => {
                stack.push(take(expr));
                stack.push(take(low));
                stack.push(take(high));
            }
            ExprKind::In { expr, list, .. } => {
                stack.push(take(expr));
                stack.append(list);
            }
            ExprKind::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                stack.push(take(expr));
                stack.push(take(pattern));
                if let Some(x) = escape {
                    stack.push(take(x));
                }
            }
            ExprKind::Case {
                operand,
                whens,
                otherwise,
            } => {
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
            ExprKind::Call { args, .. } | ExprKind::Chain { operands: args, .. } => {
                stack.append(args)
            }
            ExprKind::Subscript { expr, index } => {
                stack.push(take(expr));
                stack.push(take(index));
            }
            ExprKind::Lambda { body, .. } => stack.push(take(body)),
            ExprKind::Array(items) | ExprKind::Row(items) => stack.append(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::render_text;
    use crate::spl::print::{print_expr, print_script};

    /// A fully parenthesized rendering that shows the tree shape.
    fn sexpr(e: &Expr) -> String {
        let list = |items: &[Expr]| items.iter().map(sexpr).collect::<Vec<_>>().join(" ");
        match &e.kind {
            ExprKind::Literal(Literal::Str(s)) => format!("'{s}'"),
            ExprKind::Literal(l) => format!("{l:?}"),
            ExprKind::TypedLiteral { ty, value } => format!("({ty} '{value}')"),
            ExprKind::Field(f) => f.clone(),
            ExprKind::Unary { op, expr } => format!("({op:?} {})", sexpr(expr)),
            ExprKind::Binary { op, left, right } => {
                format!("({} {} {})", op.symbol(), sexpr(left), sexpr(right))
            }
            ExprKind::Chain { op, operands } => format!("({} {})", op.symbol(), list(operands)),
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => {
                format!(
                    "({}between {} {} {})",
                    if *negated { "not-" } else { "" },
                    sexpr(expr),
                    sexpr(low),
                    sexpr(high)
                )
            }
            ExprKind::In {
                expr,
                list: l,
                negated,
            } => {
                format!(
                    "({}in {} [{}])",
                    if *negated { "not-" } else { "" },
                    sexpr(expr),
                    list(l)
                )
            }
            ExprKind::Like {
                expr,
                pattern,
                escape,
                negated,
            } => format!(
                "({}like {} {}{})",
                if *negated { "not-" } else { "" },
                sexpr(expr),
                sexpr(pattern),
                escape
                    .as_ref()
                    .map(|x| format!(" escape {}", sexpr(x)))
                    .unwrap_or_default()
            ),
            ExprKind::IsNull { expr, negated } => format!(
                "({} {})",
                if *negated { "is-not-null" } else { "is-null" },
                sexpr(expr)
            ),
            ExprKind::IsDistinctFrom {
                left,
                right,
                negated,
            } => {
                format!(
                    "({} {} {})",
                    if *negated { "not-distinct" } else { "distinct" },
                    sexpr(left),
                    sexpr(right)
                )
            }
            ExprKind::Case {
                operand,
                whens,
                otherwise,
            } => {
                let mut s = "(case".to_string();
                if let Some(o) = operand {
                    s += &format!(" {}", sexpr(o));
                }
                for (c, v) in whens {
                    s += &format!(" [{} {}]", sexpr(c), sexpr(v));
                }
                if let Some(o) = otherwise {
                    s += &format!(" else {}", sexpr(o));
                }
                s + ")"
            }
            ExprKind::Cast { expr, ty, try_cast } => format!(
                "({} {} {ty})",
                if *try_cast { "try_cast" } else { "cast" },
                sexpr(expr)
            ),
            ExprKind::Call { name, args } => format!("(call {} [{}])", name.node, list(args)),
            ExprKind::Subscript { expr, index } => {
                format!("(sub {} {})", sexpr(expr), sexpr(index))
            }
            ExprKind::Lambda { params, body } => {
                format!(
                    "(lambda [{}] {})",
                    params
                        .iter()
                        .map(|p| p.node.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    sexpr(body)
                )
            }
            ExprKind::Array(items) => format!("(array [{}])", list(items)),
            ExprKind::Row(items) => format!("(row [{}])", list(items)),
        }
    }

    fn tree(src: &str) -> String {
        match parse_expr(src) {
            Ok(e) => sexpr(&e),
            Err(ds) => panic!(
                "{src}: {}",
                ds.iter()
                    .map(|d| render_text(d, src, "expr"))
                    .collect::<String>()
            ),
        }
    }

    /// Parses, prints, parses the print again and checks both trees are equal; returns the print.
    fn round_trip(src: &str) -> String {
        let first = parse(src).unwrap_or_else(|ds| {
            panic!(
                "{src}\n{}",
                ds.iter()
                    .map(|d| render_text(d, src, "rule.spl"))
                    .collect::<String>()
            )
        });
        let printed = print_script(&first);
        let second = parse(&printed).unwrap_or_else(|ds| {
            panic!(
                "reprint of {src}\n{}",
                ds.iter()
                    .map(|d| render_text(d, &printed, "rule.spl"))
                    .collect::<String>()
            )
        });
        assert_eq!(
            first, second,
            "round trip changed the tree:\n{src}\n{printed}"
        );
        assert_eq!(print_script(&second), printed, "printing is not stable");
        printed
    }

    /// All diagnostics of a failing parse, rendered as users see them.
    fn errors(src: &str) -> String {
        errors_with(src, &ParseLimits::default())
    }

    fn errors_with(src: &str, limits: &ParseLimits) -> String {
        match parse_with(src, limits) {
            Ok(s) => panic!("expected an error, got {}", print_script(&s)),
            Err(ds) => ds
                .iter()
                .map(|d| render_text(d, src, "rule.spl"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    fn stages(src: &str) -> Vec<Command> {
        let script = parse(src).unwrap_or_else(|ds| panic!("{src}: {ds:?}"));
        match script.stmts.into_iter().next() {
            Some(Stmt::Pipeline(p)) => p.stages.into_iter().map(|s| s.node).collect(),
            other => panic!("not a pipeline: {other:?}"),
        }
    }

    fn corpus() -> Vec<&'static str> {
        include_str!("../../tests/corpus/statements.spl")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    // -- SPL.md section 7 ----------------------------------------------------------------------

    #[test]
    fn spec_section_7_statements_round_trip() {
        let statements = [
            "* | where content='value_3_0'",
            "* | extend a=json_extract(content, '$.body.a'), b=json_extract(content, '$.body.b')",
            "* | parse-json content",
            r"* | parse-regexp content, '(\S+)\s+(\w+)' as ip, method",
            "* | parse-csv content as x, y, z",
            "* | parse-kv -delims='&?' content",
            "* | parse-json content | project-rename __tag__:taiye2=a1",
            ".let src = * | parse-json content; .let ds1 = $src | where type = 'kv' | parse-kv -delims='&?' message; $ds1; .let ds2 = $src | where type = 'csv' | parse-csv message as x, y, z; $ds2;",
            r"*| parse-regexp content, '(?P<ip>\S+)\s+(?P<method>\w+)'",
            "*| parse-json -prefix='prefix_' map_str",
            "*| parse-json -path='$.body' content_body",
            r#"*| parse-csv -quote='"' content_csv as ip, time, host"#,
            "*| parse-csv -strict content_csv as ip, time",
            r"*| parse-csv -delim='\x09' content_delim3 as ip, time, host",
            "*| parse-kv -mode='preserve' -delims='&?' content_kv",
            "*| parse-kv -kv-sep=':' -prefix='prefix_' -delims='&?' content_sep",
            "* | extend a = ARRAY [5, 20, NULL, 50] | extend b = reduce(a, 0, (s, x) -> IF(x IS NULL, s, s + x), s -> s)",
            "* | extend a = '2022-10-19 15:46:05' | extend b = date_parse(a, '%Y-%m-%d %H:%i:%s')",
            r#"* | extend a = json_parse('{"x": {"a": 1, "b": 2}}') | extend b = json_extract_scalar(a, '$.x.a')"#,
            r"*| parse-csv -quote='\t' content_complex as ip, time, host",
            r"*| parse-csv -delim='\11' content_delim2 as ip, time, host",
            "* | extend a = 1534521600 | extend b = from_unixtime(a, '+01:00')",
            r"* | extend a = '1a 2b 14m' | extend b = regexp_replace(a, '(\d+)([ab]) ', '3c$2' )",
            "* | extend a = ARRAY [5, NULL, 6] | extend b = transform(a, x -> COALESCE(x, 0) + 1)",
            "* | extend a = '[1, 2, 3]' | extend b = json_array_contains(a, 2)",
            "* | where regexp_like(method, '^(POST|PUT)$') and regexp_like(status, '^200$')",
            r#"* | parse-regexp content, 'password":"(\S+)"' as password | extend content=replace(content, password, '******')"#,
            "* | extend _processed_ip_= CASE WHEN _ip_ = '127.0.0.1' THEN 'LocalHost-LocalHost' ELSE _ip_ END",
            "* | extend content1=to_base64(cast(content as varbinary))",
            "* | extend content1=lower(to_hex(md5(cast(content as varbinary))))",
            "* | extend ts=date_parse(time, '%Y-%m-%d %H:%i:%S') | extend __time__=cast(to_unixtime(ts) as INTEGER)",
            r#"* | project content | where regexp_like(content, '.*m_point\|.*') | parse-regexp content, '.*m_point\|(.*)' as a | parse-json a | project-away content , a | extend newid = if(event like 'clo_edd_received_rop', 'T989092', '') |extend "__time__" = cast(ts as bigint)/1000"#,
            r#"* | project attributes | extend a = json_extract(attributes, '$["req.body"]') |extend b=regexp_extract(try_cast(a as varchar), '<arg3>(.*)<\/arg3>',1) | project b|parse-json -path='$.csuw' b |project-away b"#,
            "* | where __topic__!='app'",
            r"* | where regexp_like(server_protocol, '^\d+$')",
            "* | extend server_protocol = COALESCE(server_protocol1,'200')",
            ".let a = * | where regexp_like(message, '.*LogException.*') | project-away message,temp; $a;",
            r#"* | extend m = regexp_replace(message, '(\d{3})\d{4}', 'receivePhoneNo":"\1****\2'), h = to_hex(md5(to_utf8(orderId))), u = url_encode(url)"#,
            r#"* | project-rename serviceHost="__tag__:__hostname__" | extend t = json_extract_scalar(schedule, '$.type')"#,
            "Status: 200 | where cast(RT as bigint) > 50 | extend p = split_part(Uri, '/', 3)",
            "* | where _program_='access' | parse-csv -delim='|' content as remote_addr, remote_user | project-away content",
            "* | parse-csv -delim='^_^' content as ip, time, host",
            "* | parse-json -path='$.0' content",
            r"* | parse-regexp protocol, '(\w+)/(\d+)' as scheme, version",
            "* | project request_method, request_uri, status",
            "* | parse-kv k1,'&','='",
            "* | parse-kv -prefix='start_' k1,'&','='",
            "* | parse-kv content2,',', ':'",
            r"* | pack-fields -include='[\s\S]+' as extend_content",
            "* | extend Duration = EndTime - StartTime",
            "* | where cast(status as BIGINT) >= 500",
            r#"* | project -wildcard "__tag__:*""#,
            "* | project-rename log_level=level, log_err_msg=err_msg",
        ];
        let printed: Vec<String> = statements.iter().map(|s| round_trip(s)).collect();
        insta::assert_snapshot!(printed.join("\n"), @r#"
        * | where content = 'value_3_0'
        * | extend a = json_extract(content, '$.body.a'), b = json_extract(content, '$.body.b')
        * | parse-json content
        * | parse-regexp content, '(\S+)\s+(\w+)' as ip, method
        * | parse-csv content as x, y, z
        * | parse-kv -delims='&?' content
        * | parse-json content | project-rename "__tag__:taiye2" = a1
        .let src = * | parse-json content;
        .let ds1 = $src | where type = 'kv' | parse-kv -delims='&?' message;
        $ds1;
        .let ds2 = $src | where type = 'csv' | parse-csv message as x, y, z;
        $ds2;
        * | parse-regexp content, '(?P<ip>\S+)\s+(?P<method>\w+)'
        * | parse-json -prefix='prefix_' map_str
        * | parse-json -path='$.body' content_body
        * | parse-csv -quote='"' content_csv as ip, time, host
        * | parse-csv -strict content_csv as ip, time
        * | parse-csv -delim='\x09' content_delim3 as ip, time, host
        * | parse-kv -mode='preserve' -delims='&?' content_kv
        * | parse-kv -kv-sep=':' -prefix='prefix_' -delims='&?' content_sep
        * | extend a = ARRAY[5, 20, NULL, 50] | extend b = reduce(a, 0, (s, x) -> IF(x IS NULL, s, s + x), s -> s)
        * | extend a = '2022-10-19 15:46:05' | extend b = date_parse(a, '%Y-%m-%d %H:%i:%s')
        * | extend a = json_parse('{"x": {"a": 1, "b": 2}}') | extend b = json_extract_scalar(a, '$.x.a')
        * | parse-csv -quote='\t' content_complex as ip, time, host
        * | parse-csv -delim='\11' content_delim2 as ip, time, host
        * | extend a = 1534521600 | extend b = from_unixtime(a, '+01:00')
        * | extend a = '1a 2b 14m' | extend b = regexp_replace(a, '(\d+)([ab]) ', '3c$2')
        * | extend a = ARRAY[5, NULL, 6] | extend b = transform(a, x -> COALESCE(x, 0) + 1)
        * | extend a = '[1, 2, 3]' | extend b = json_array_contains(a, 2)
        * | where regexp_like(method, '^(POST|PUT)$') AND regexp_like(status, '^200$')
        * | parse-regexp content, 'password":"(\S+)"' as password | extend content = replace(content, password, '******')
        * | extend _processed_ip_ = CASE WHEN _ip_ = '127.0.0.1' THEN 'LocalHost-LocalHost' ELSE _ip_ END
        * | extend content1 = to_base64(CAST(content AS VARBINARY))
        * | extend content1 = lower(to_hex(md5(CAST(content AS VARBINARY))))
        * | extend ts = date_parse(time, '%Y-%m-%d %H:%i:%S') | extend __time__ = CAST(to_unixtime(ts) AS INTEGER)
        * | project content | where regexp_like(content, '.*m_point\|.*') | parse-regexp content, '.*m_point\|(.*)' as a | parse-json a | project-away content, a | extend newid = if(event LIKE 'clo_edd_received_rop', 'T989092', '') | extend __time__ = CAST(ts AS BIGINT) / 1000
        * | project attributes | extend a = json_extract(attributes, '$["req.body"]') | extend b = regexp_extract(TRY_CAST(a AS VARCHAR), '<arg3>(.*)<\/arg3>', 1) | project b | parse-json -path='$.csuw' b | project-away b
        * | where __topic__ <> 'app'
        * | where regexp_like(server_protocol, '^\d+$')
        * | extend server_protocol = COALESCE(server_protocol1, '200')
        .let a = * | where regexp_like(message, '.*LogException.*') | project-away message, temp;
        $a;
        * | extend m = regexp_replace(message, '(\d{3})\d{4}', 'receivePhoneNo":"\1****\2'), h = to_hex(md5(to_utf8(orderId))), u = url_encode(url)
        * | project-rename serviceHost = "__tag__:__hostname__" | extend t = json_extract_scalar(schedule, '$.type')
        Status: 200 | where CAST(RT AS BIGINT) > 50 | extend p = split_part(Uri, '/', 3)
        * | where _program_ = 'access' | parse-csv -delim='|' content as remote_addr, remote_user | project-away content
        * | parse-csv -delim='^_^' content as ip, time, host
        * | parse-json -path='$.0' content
        * | parse-regexp protocol, '(\w+)/(\d+)' as scheme, version
        * | project request_method, request_uri, status
        * | parse-kv k1, '&', '='
        * | parse-kv -prefix='start_' k1, '&', '='
        * | parse-kv content2, ',', ':'
        * | pack-fields -include='[\s\S]+' as extend_content
        * | extend Duration = EndTime - StartTime
        * | where CAST(status AS BIGINT) >= 500
        * | project -wildcard "__tag__:*"
        * | project-rename log_level = level, log_err_msg = err_msg
        "#);
    }

    #[test]
    fn corpus_statements_parse_and_round_trip() {
        let lines = corpus();
        assert!(lines.len() >= 60, "the corpus should stay diverse");
        for line in lines {
            round_trip(line);
        }
    }

    // -- expressions ---------------------------------------------------------------------------

    #[test]
    fn operator_precedence_follows_presto() {
        let cases = [
            "a OR b AND c",
            "NOT a AND b",
            "NOT a = b",
            "a = b AND c <> d OR e",
            "a || b = c || d",
            "a + b || c",
            "a + b * c - d / e % f",
            "a - b - c",
            "a / b * c",
            "-a * b",
            "-a[1]",
            "- 5",
            "-5",
            "a - -5",
            "NOT a IS NULL",
            "a = b IS NULL",
            "a BETWEEN b + 1 AND c * 2 AND d",
            "a NOT BETWEEN 1 AND 2 OR b",
            "a + 1 IN (1, 2) AND NOT b NOT IN (3)",
            "a || 'x' LIKE '%y' ESCAPE '!'",
            "a IS NOT DISTINCT FROM b + 1",
            "(a OR b) AND c",
            "a AND (b OR c)",
            "m['k'][1] + 1",
            "NOT NOT a",
            "a = NOT b",
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|c| format!("{c:<36} => {}", tree(c)))
            .collect();
        insta::assert_snapshot!(out.join("\n"), @"
        a OR b AND c                         => (OR a (AND b c))
        NOT a AND b                          => (AND (Not a) b)
        NOT a = b                            => (Not (= a b))
        a = b AND c <> d OR e                => (OR (AND (= a b) (<> c d)) e)
        a || b = c || d                      => (= (|| a b) (|| c d))
        a + b || c                           => (|| (+ a b) c)
        a + b * c - d / e % f                => (- (+ a (* b c)) (% (/ d e) f))
        a - b - c                            => (- (- a b) c)
        a / b * c                            => (* (/ a b) c)
        -a * b                               => (* (Neg a) b)
        -a[1]                                => (Neg (sub a Int(1)))
        - 5                                  => (Neg Int(5))
        -5                                   => Int(-5)
        a - -5                               => (- a Int(-5))
        NOT a IS NULL                        => (Not (is-null a))
        a = b IS NULL                        => (is-null (= a b))
        a BETWEEN b + 1 AND c * 2 AND d      => (AND (between a (+ b Int(1)) (* c Int(2))) d)
        a NOT BETWEEN 1 AND 2 OR b           => (OR (not-between a Int(1) Int(2)) b)
        a + 1 IN (1, 2) AND NOT b NOT IN (3) => (AND (in (+ a Int(1)) [Int(1) Int(2)]) (Not (not-in b [Int(3)])))
        a || 'x' LIKE '%y' ESCAPE '!'        => (like (|| a 'x') '%y' escape '!')
        a IS NOT DISTINCT FROM b + 1         => (not-distinct a (+ b Int(1)))
        (a OR b) AND c                       => (AND (OR a b) c)
        a AND (b OR c)                       => (AND a (OR b c))
        m['k'][1] + 1                        => (+ (sub (sub m 'k') Int(1)) Int(1))
        NOT NOT a                            => (Not (Not a))
        a = NOT b                            => (= a (Not b))
        ");
    }

    #[test]
    fn expression_forms() {
        let cases = [
            "'it''s' || 'a\\b'",
            "TRUE AND false OR NuLl",
            "9223372036854775807",
            "-9223372036854775808",
            "1.5",
            "1e3",
            ".5E-2",
            "ARRAY[1, 2]",
            "ARRAY [ ]",
            "map(ARRAY['a'], ARRAY[1])",
            "(a, b)",
            "((a))",
            "TIMESTAMP '2024-01-01 00:00:00'",
            "date '2024-01-01'",
            "date(x)",
            "date",
            "timestamp",
            "time",
            "current_date",
            "CURRENT_TIMESTAMP",
            "localtimestamp",
            "count(*)",
            "f()",
            "Lower(x)",
            "\"a.b\" || \"x\"\"y\"",
            "CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END",
            "case x when 1 then 'a' end",
            "CAST(x AS BIGINT)",
            "try_cast(x as int)",
            "cast(x as array(map(varchar, array<int>)))",
            "cast(x as MAP<VARCHAR, DOUBLE>)",
            "cast(x as decimal(10, 2))",
            "cast(x as decimal(10))",
            "cast(x as decimal)",
            "cast(x as varchar(255))",
            "cast(x as json)",
            "cast(x as tinyint) + cast(y as smallint) + cast(z as hugeint) + cast(w as real)",
            "cast(x as timestamp) > cast(y as date)",
            "cast(x as boolean) or cast(y as varbinary) is null",
            "transform(a, x -> x + 1)",
            "reduce(a, 0, (s, x) -> s + x, s -> s)",
            "f(() -> 1)",
            "position('a' IN s)",
            "position(a, b)",
            "x\n  --comment\n  + /* block */ 1",
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|c| format!("{:<40} => {}", c.replace('\n', " "), tree(c)))
            .collect();
        insta::assert_snapshot!(out.join("\n"), @r#"
        'it''s' || 'a\b'                         => (|| 'it's' 'a\b')
        TRUE AND false OR NuLl                   => (OR (AND Bool(true) Bool(false)) Null)
        9223372036854775807                      => Int(9223372036854775807)
        -9223372036854775808                     => Int(-9223372036854775808)
        1.5                                      => Double(1.5)
        1e3                                      => Double(1000.0)
        .5E-2                                    => Double(0.005)
        ARRAY[1, 2]                              => (array [Int(1) Int(2)])
        ARRAY [ ]                                => (array [])
        map(ARRAY['a'], ARRAY[1])                => (call map [(array ['a']) (array [Int(1)])])
        (a, b)                                   => (row [a b])
        ((a))                                    => a
        TIMESTAMP '2024-01-01 00:00:00'          => (TIMESTAMP '2024-01-01 00:00:00')
        date '2024-01-01'                        => (DATE '2024-01-01')
        date(x)                                  => (call date [x])
        date                                     => date
        timestamp                                => timestamp
        time                                     => time
        current_date                             => (call current_date [])
        CURRENT_TIMESTAMP                        => (call CURRENT_TIMESTAMP [])
        localtimestamp                           => (call localtimestamp [])
        count(*)                                 => (call count [])
        f()                                      => (call f [])
        Lower(x)                                 => (call Lower [x])
        "a.b" || "x""y"                          => (|| a.b x"y)
        CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END => (case [a Int(1)] [b Int(2)] else Int(3))
        case x when 1 then 'a' end               => (case x [Int(1) 'a'])
        CAST(x AS BIGINT)                        => (cast x BIGINT)
        try_cast(x as int)                       => (try_cast x INTEGER)
        cast(x as array(map(varchar, array<int>))) => (cast x ARRAY(MAP(VARCHAR, ARRAY(INTEGER))))
        cast(x as MAP<VARCHAR, DOUBLE>)          => (cast x MAP(VARCHAR, DOUBLE))
        cast(x as decimal(10, 2))                => (cast x DECIMAL(10, 2))
        cast(x as decimal(10))                   => (cast x DECIMAL(10, 0))
        cast(x as decimal)                       => (cast x DECIMAL)
        cast(x as varchar(255))                  => (cast x VARCHAR)
        cast(x as json)                          => (cast x JSON)
        cast(x as tinyint) + cast(y as smallint) + cast(z as hugeint) + cast(w as real) => (+ (cast x TINYINT) (cast y SMALLINT) (cast z HUGEINT) (cast w REAL))
        cast(x as timestamp) > cast(y as date)   => (> (cast x TIMESTAMP) (cast y DATE))
        cast(x as boolean) or cast(y as varbinary) is null => (OR (cast x BOOLEAN) (is-null (cast y VARBINARY)))
        transform(a, x -> x + 1)                 => (call transform [a (lambda [x] (+ x Int(1)))])
        reduce(a, 0, (s, x) -> s + x, s -> s)    => (call reduce [a Int(0) (lambda [s x] (+ s x)) (lambda [s] s)])
        f(() -> 1)                               => (call f [(lambda [] Int(1))])
        position('a' IN s)                       => (call position ['a' s])
        position(a, b)                           => (call position [a b])
        x   --comment   + /* block */ 1          => (+ x Int(1))
        "#);
    }

    #[test]
    fn reserved_words_need_quotes_but_common_names_do_not() {
        for &word in ast::RESERVED {
            assert!(ast::is_reserved(word));
            let as_field = parse_expr(word).map(|e| e.kind);
            assert!(
                !matches!(as_field, Ok(ExprKind::Field(_))),
                "`{word}` parsed as a bare field"
            );
            let quoted = format!("\"{word}\"");
            assert_eq!(
                parse_expr(&quoted).map(|e| e.kind),
                Ok(ExprKind::Field(word.to_string()))
            );
            // Keywords are case-insensitive.
            let upper = word.to_ascii_uppercase();
            assert!(
                !matches!(parse_expr(&upper).map(|e| e.kind), Ok(ExprKind::Field(_))),
                "`{upper}`"
            );
        }
        for word in [
            "date",
            "time",
            "timestamp",
            "status",
            "level",
            "map",
            "if",
            "position",
            "select",
            "order_id",
            "android",
            "notes",
            "index",
            "ends",
            "asks",
            "iso",
        ] {
            assert!(!ast::is_reserved(word));
            assert_eq!(
                parse_expr(word).map(|e| e.kind),
                Ok(ExprKind::Field(word.to_string())),
                "`{word}`"
            );
        }
    }

    #[test]
    fn assignment_equals_binds_outside_comparison() {
        let cmds = stages("* | extend a = b = c, d = e");
        let Command::Extend(assigns) = &cmds[0] else {
            panic!()
        };
        assert_eq!(assigns[0].output.node, "a");
        assert_eq!(sexpr(&assigns[0].expr), "(= b c)");
        assert_eq!(assigns[1].output.node, "d");
    }

    #[test]
    fn pipes_inside_quotes_and_concatenation_do_not_split_stages() {
        let cmds = stages(r#"* | where a = 'x|y' || "p|q" || b | extend c = a||b"#);
        assert_eq!(cmds.len(), 2);
        let Command::Where(e) = &cmds[0] else {
            panic!()
        };
        assert_eq!(sexpr(e), "(= a (|| 'x|y' p|q b))");
    }

    #[test]
    fn comments_are_whitespace_outside_strings() {
        let cmds = stages("* -- source\n| /* the filter */ where a = '--x' -- done\n/* end */");
        let Command::Where(e) = &cmds[0] else {
            panic!()
        };
        assert_eq!(sexpr(e), "(= a '--x')");
    }

    // -- statements and instructions -----------------------------------------------------------

    #[test]
    fn statements_sources_and_outputs() {
        let script =
            parse(".let src = * | where a = 1;\n$src | extend b = 2;\n$src;\n* ;").unwrap();
        let kinds: Vec<String> = script
            .stmts
            .iter()
            .map(|s| match s {
                Stmt::Let { name, pipeline } => format!(
                    "let {} <- {:?} +{}",
                    name.node,
                    pipeline.source.node,
                    pipeline.stages.len()
                ),
                Stmt::Pipeline(p) => format!("pipeline {:?} +{}", p.source.node, p.stages.len()),
                Stmt::Output(name) => format!("output {}", name.node),
            })
            .collect();
        insta::assert_snapshot!(kinds.join("\n"), @r#"
        let src <- All +1
        pipeline Dataset("src") +1
        output src
        pipeline All +0
        "#);
        let scan = parse("  * not Status: 200 and 'a|b' | where x = 1").unwrap();
        let Stmt::Pipeline(p) = &scan.stmts[0] else {
            panic!()
        };
        assert_eq!(
            p.source.node,
            Source::Search("* not Status: 200 and 'a|b'".to_string())
        );
        assert_eq!(
            &"  * not Status: 200 and 'a|b' | where x = 1"[p.source.span.range()],
            "* not Status: 200 and 'a|b'"
        );
    }

    #[test]
    fn every_instruction_with_its_options() {
        let cases = [
            "* | where a > 1",
            "* | extend a = 1, \"b.c\" = lower(x)",
            "* | project -wildcard a, b = c, \"__tag__:*\"",
            "* | project-away -wildcard -wildcard-off a, \"x*\"",
            "* | project-rename a = b, \"c.d\" = __tag__:host",
            "* | expand-values -path='$.items' -limit=10 -keep body as item",
            "* | expand-values body",
            r"* | parse-regexp -flags='i' content, '(\S+) (?P<m>\w+)' as ip, m",
            r"* | parse-regexp content, '(?P<ip>\S+)'",
            "* | parse-csv -delim='^_^' -quote='\"' -strict content as a, b",
            "* | parse-json -mode='preserve' -path='$.body' -prefix='p_' content",
            "* | parse-kv -delims='&?' -kv-sep=':' -prefix='kv_' -mode='preserve' content",
            "* | parse-kv -greedy -prefix='s_' content, '&', '='",
            r"* | parse-kv -regexp content, '(\w+)=(\w+)'",
            r"* | pack-fields -keep -ltrim='mdc_' -include='\w+' -exclude='^_' as packed",
            "* | log-to-metric -wildcard -format -names='[\"rt\"]' -labels='[\"host\"]' -time_field=__time__",
            "* | metric-to-metric -format -del_labels='[\"a\"]' -add_labels='{\"k\":\"v\"}' -rename_label='{\"a\":\"b\"}'",
            "* | stats c = count(*), m = max(x) by host, \"a.b\"",
            "* | stats c = count(1)",
            "* | sort a desc, b asc, c",
            "* | limit 20",
            "* | expand-values -limit=-1 x",
        ];
        let out: Vec<String> = cases.iter().map(|c| round_trip(c)).collect();
        insta::assert_snapshot!(out.join("\n"), @r#"
        * | where a > 1
        * | extend a = 1, "b.c" = lower(x)
        * | project -wildcard a, b = c, "__tag__:*"
        * | project-away -wildcard -wildcard-off a, "x*"
        * | project-rename a = b, "c.d" = "__tag__:host"
        * | expand-values -path='$.items' -limit=10 -keep body as item
        * | expand-values body
        * | parse-regexp -flags='i' content, '(\S+) (?P<m>\w+)' as ip, m
        * | parse-regexp content, '(?P<ip>\S+)'
        * | parse-csv -delim='^_^' -quote='"' -strict content as a, b
        * | parse-json -mode='preserve' -path='$.body' -prefix='p_' content
        * | parse-kv -delims='&?' -kv-sep=':' -prefix='kv_' -mode='preserve' content
        * | parse-kv -greedy -prefix='s_' content, '&', '='
        * | parse-kv -regexp content, '(\w+)=(\w+)'
        * | pack-fields -keep -ltrim='mdc_' -include='\w+' -exclude='^_' as packed
        * | log-to-metric -wildcard -format -names='["rt"]' -labels='["host"]' -time_field=__time__
        * | metric-to-metric -format -del_labels='["a"]' -add_labels='{"k":"v"}' -rename_label='{"a":"b"}'
        * | stats c = count(*), m = max(x) by host, "a.b"
        * | stats c = count(1)
        * | sort a desc, b, c
        * | limit 20
        * | expand-values -limit=-1 x
        "#);
    }

    #[test]
    fn option_values_keep_their_kind_and_text() {
        let cmds =
            stages(r"* | parse-csv -delim='\t' -limit=3 -mode=preserve -strict -quote='''' f as a");
        let Command::ParseCsv { opts, .. } = &cmds[0] else {
            panic!()
        };
        let shown: Vec<String> = opts
            .iter()
            .map(|o| format!("{} = {:?}", o.name.node, o.value.as_ref().map(|v| &v.node)))
            .collect();
        insta::assert_snapshot!(shown.join("\n"), @r#"
        delim = Some(Str("\\t"))
        limit = Some(Int(3))
        mode = Some(Ident("preserve"))
        strict = None
        quote = Some(Str("'"))
        "#);
    }

    #[test]
    fn spans_point_at_the_source_text() {
        let src = "* | parse-regexp -flags='i' \"my field\", '(x)' as out | where a + 1 > b";
        let script = parse(src).unwrap();
        let Stmt::Pipeline(p) = &script.stmts[0] else {
            panic!()
        };
        let text = |s: Span| &src[s.range()];
        assert_eq!(
            text(p.stages[0].span),
            "parse-regexp -flags='i' \"my field\", '(x)' as out"
        );
        let Command::ParseRegexp {
            opts,
            field,
            pattern,
            outputs,
        } = &p.stages[0].node
        else {
            panic!()
        };
        assert_eq!(text(opts[0].name.span), "-flags");
        assert_eq!(text(opts[0].value.as_ref().unwrap().span), "'i'");
        assert_eq!(text(field.span), "\"my field\"");
        assert_eq!(field.node, "my field");
        assert_eq!(text(pattern.span), "'(x)'");
        assert_eq!(pattern.node, "(x)");
        assert_eq!(text(outputs[0].span), "out");
        let Command::Where(e) = &p.stages[1].node else {
            panic!()
        };
        assert_eq!(text(e.span), "a + 1 > b");
        let ExprKind::Binary { left, .. } = &e.kind else {
            panic!()
        };
        assert_eq!(text(left.span), "a + 1");
    }

    // -- errors --------------------------------------------------------------------------------

    #[test]
    fn unknown_instruction_suggests_the_closest() {
        insta::assert_snapshot!(errors("* | project-awya content | wher a = 1 | WHERE b = 2"), @"
        error[E102]: unknown instruction `project-awya`
          --> rule.spl:1:5
          |
        1 | * | project-awya content | wher a = 1 | WHERE b = 2
          |     ^^^^^^^^^^^^ not an SPL instruction
          = hint: did you mean `project-away`?

        error[E102]: unknown instruction `wher`
          --> rule.spl:1:28
          |
        1 | * | project-awya content | wher a = 1 | WHERE b = 2
          |                            ^^^^ not an SPL instruction
          = hint: did you mean `where`?

        error[E102]: unknown instruction `WHERE`
          --> rule.spl:1:41
          |
        1 | * | project-awya content | wher a = 1 | WHERE b = 2
          |                                         ^^^^^ not an SPL instruction
          = hint: did you mean `where`?
          = hint: instruction names are written in lower case
        ");
    }

    #[test]
    fn unterminated_string_points_at_the_opening_quote() {
        insta::assert_snapshot!(errors("* | where a = 'abc | extend b = 1"), @"
        error[E101]: unterminated string literal
          --> rule.spl:1:15
          |
        1 | * | where a = 'abc | extend b = 1
          |               ^ this string is never closed
          = hint: end the string with `'`; write `''` for a single quote inside a string
        ");
        insta::assert_snapshot!(errors("* | extend \"a.b = 1"), @r#"
        error[E101]: unterminated quoted field name
          --> rule.spl:1:12
          |
        1 | * | extend "a.b = 1
          |            ^ this quoted name is never closed
          = hint: end the name with `"`; write `""` for a double quote inside a name
          = hint: double quotes name fields; strings use single quotes: 'text'
        "#);
        insta::assert_snapshot!(errors("* | where a = 1 /* never closed"), @"
        error[E100]: unterminated block comment
          --> rule.spl:1:17
          |
        1 | * | where a = 1 /* never closed
          |                 ^^ this comment is never closed
          = hint: close the comment with `*/`
        ");
    }

    #[test]
    fn missing_expression_after_operator() {
        insta::assert_snapshot!(errors("* | where status >= \n| extend x = 1"), @"
        error[E100]: expected an expression, found `|`
          --> rule.spl:2:1
          |
        2 | | extend x = 1
          | ^ expected an expression
        ");
        insta::assert_snapshot!(errors("* | extend a = b +"), @"
        error[E100]: expected an expression, found end of input
          --> rule.spl:1:19
          |
        1 | * | extend a = b +
          |                   ^ expected an expression
        ");
        insta::assert_snapshot!(errors("* | where a and"), @"
        error[E100]: expected an expression, found end of input
          --> rule.spl:1:16
          |
        1 | * | where a and
          |                ^ expected an expression
        ");
    }

    #[test]
    fn double_quotes_where_a_string_is_expected() {
        insta::assert_snapshot!(errors(r#"* | parse-regexp content, "(\S+)" as ip"#), @r#"
        error[E100]: expected a string in single quotes, found `"(\S+)"`
          --> rule.spl:1:27
          |
        1 | * | parse-regexp content, "(\S+)" as ip
          |                           ^^^^^^^ expected a string in single quotes
          = hint: "(\S+)" is a field name: double quotes name fields in SPL; write '(\S+)' for a string
        "#);
        insta::assert_snapshot!(errors(r#"* | parse-json -prefix="p_" content"#), @r#"
        error[E100]: expected an option value such as `'text'`, `10` or `word`, found `"p_"`
          --> rule.spl:1:24
          |
        1 | * | parse-json -prefix="p_" content
          |                        ^^^^ expected an option value such as `'text'`, `10` or `word`
          = hint: "p_" is a field name: double quotes name fields in SPL; write 'p_' for a string
        "#);
        insta::assert_snapshot!(errors(r#"* | where method = "POST" "PUT""#), @r#"
        error[E100]: expected an operator, `|`, `;` or end of input, found `"PUT"`
          --> rule.spl:1:27
          |
        1 | * | where method = "POST" "PUT"
          |                           ^^^^^ unexpected here
          = hint: "PUT" is a field name: double quotes name fields in SPL; write 'PUT' for a string
        "#);
    }

    #[test]
    fn lone_pipe_inside_an_expression() {
        insta::assert_snapshot!(errors("* | extend c = a | b"), @"
        error[E102]: unknown instruction `b`
          --> rule.spl:1:20
          |
        1 | * | extend c = a | b
          |                    ^ not an SPL instruction
          = hint: a single `|` ends a pipeline stage; to concatenate strings use `||`
          = hint: the instructions are: where, extend, project, project-away, project-rename, expand-values, parse-regexp, parse-csv, parse-json, parse-kv, pack-fields, log-to-metric, metric-to-metric, stats, sort, limit
        ");
        insta::assert_snapshot!(errors("* | extend c = a |'-'"), @"
        error[E100]: expected an instruction such as `where` or `extend`, found `'-'`
          --> rule.spl:1:19
          |
        1 | * | extend c = a |'-'
          |                   ^^^ expected an instruction such as `where` or `extend`
          = hint: a single `|` ends a pipeline stage; to concatenate strings use `||`
        ");
    }

    #[test]
    fn too_many_stages() {
        let src = format!(
            "* {}",
            (1..=17)
                .map(|i| format!("| extend f{i} = {i} "))
                .collect::<String>()
        );
        insta::assert_snapshot!(errors(&src), @"
        error[E106]: too many stages in one pipeline (the limit is 16)
          --> rule.spl:1:275
          |
        1 | * | extend f1 = 1 | extend f2 = 2 | extend f3 = 3 | extend f4 = 4 | extend f5 = 5 | extend f6 = 6 | extend f7 = 7 | extend f8 = 8 | extend f9 = 9 | extend f10 = 10 | extend f11 = 11 | extend f12 = 12 | extend f13 = 13 | extend f14 = 14 | extend f15 = 15 | extend f16 = 16 | extend f17 = 17
          |                                                                                                                                                                                                                                                                                   ^^^^^^^^^^^^^^^ stage 17 is over the limit
          = hint: merge stages (one `extend` can set several fields), or split the pipeline with `.let name = ...;` and continue from `$name`
        ");
        let limits = ParseLimits {
            max_stages: 2,
            ..ParseLimits::default()
        };
        assert_eq!(
            parse_with("* | where a | where b", &limits).map(|_| ()),
            Ok(())
        );
        assert!(parse_with("* | where a | where b | where c", &limits).is_err());
    }

    #[test]
    fn too_deep_nesting() {
        let src = format!("* | where {}x{}", "(".repeat(65), ")".repeat(65));
        insta::assert_snapshot!(errors(&src), @"
        error[E104]: expression is nested too deeply (the limit is 64 levels)
          --> rule.spl:1:75
          |
        1 | * | where (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((x)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))
          |                                                                           ^ nesting limit reached here
          = hint: simplify the expression, or compute parts of it in earlier `extend` stages
        ");
        let ok = format!("* | where {}x{}", "(".repeat(64), ")".repeat(64));
        assert!(parse(&ok).is_ok());
        // Issue 11: a flat chain is one level however long it is.
        let chain = format!("* | where {}", vec!["a = 1"; 300].join(" OR "));
        assert!(parse(&chain).is_ok());
        // Nesting through operators still counts: `(((a + 1) * 2) + 1) * 2 ...`.
        let mut nested = String::from("a");
        for _ in 0..300 {
            nested = format!("({nested} + 1) * 2");
        }
        assert!(errors(&format!("* | where {nested} > 0")).contains("E104"));
    }

    #[test]
    fn integer_overflow() {
        insta::assert_snapshot!(errors("* | where x = 9223372036854775808 | limit 99999999999999999999"), @"
        error[E105]: integer `9223372036854775808` does not fit in a BIGINT
          --> rule.spl:1:15
          |
        1 | * | where x = 9223372036854775808 | limit 99999999999999999999
          |               ^^^^^^^^^^^^^^^^^^^ too large for a 64-bit integer
          = hint: BIGINT holds -9223372036854775808 to 9223372036854775807; write `9223372036854775808.0` for a DOUBLE or '9223372036854775808' for text

        error[E105]: integer `99999999999999999999` does not fit in a BIGINT
          --> rule.spl:1:43
          |
        1 | * | where x = 9223372036854775808 | limit 99999999999999999999
          |                                           ^^^^^^^^^^^^^^^^^^^^ too large for a 64-bit integer
          = hint: BIGINT holds -9223372036854775808 to 9223372036854775807; write `99999999999999999999.0` for a DOUBLE or '99999999999999999999' for text
        ");
    }

    #[test]
    fn script_too_long() {
        let limits = ParseLimits {
            max_script_bytes: 20,
            ..ParseLimits::default()
        };
        insta::assert_snapshot!(errors_with("* | where a = 'hello' and b = 'world'", &limits), @"
        error[E103]: the script is 37 bytes long; the limit is 20 bytes
          --> rule.spl:1:21
          |
        1 | * | where a = 'hello' and b = 'world'
          |                     ^^^^^^^^^^^^^^^^^ beyond the limit
          = hint: split the work into several rules (no command-line flag raises the limit; library callers set `ParseLimits::max_script_bytes`)
        ");
    }

    #[test]
    fn statement_level_mistakes() {
        insta::assert_snapshot!(errors("where x = 1"), @"
        error[E100]: expected a statement, found `where`
          --> rule.spl:1:1
          |
        1 | where x = 1
          | ^^^^^ expected a statement
          = hint: a pipeline starts with its data source: `* | where ...`
        ");
        insta::assert_snapshot!(errors("* where x = 1"), @"
        error[E100]: expected `|`, `;` or end of input, found `where`
          --> rule.spl:1:3
          |
        1 | * where x = 1
          |   ^^^^^ unexpected here
          = hint: stages are separated by `|`: write `| where`
        ");
        insta::assert_snapshot!(errors("* | where x == 1"), @"
        error[E100]: expected an expression, found `=`
          --> rule.spl:1:14
          |
        1 | * | where x == 1
          |              ^ expected an expression
          = hint: SQL compares with a single `=`
        ");
        insta::assert_snapshot!(errors("* | parse-regexp content, '(x)' as from"), @r#"
        error[E100]: expected a field name, found `from`
          --> rule.spl:1:36
          |
        1 | * | parse-regexp content, '(x)' as from
          |                                    ^^^^ expected a field name
          = hint: `from` is a reserved word; write "from" to use it as a field name
        "#);
        insta::assert_snapshot!(errors(""), @"
        error[E100]: expected a statement, found end of input
          --> rule.spl:1:1
          |
        1 | 
          | ^ expected a statement
          = hint: a script is a pipeline such as `* | where status = '200'`
        ");
        insta::assert_snapshot!(errors("* |"), @"
        error[E100]: expected an instruction such as `where` or `extend`, found end of input
          --> rule.spl:1:4
          |
        1 | * |
          |    ^ expected an instruction such as `where` or `extend`
        ");
        insta::assert_snapshot!(errors("* | where case when a then 1"), @"
        error[E100]: expected `WHEN`, `ELSE`, `END` or an operator, found end of input
          --> rule.spl:1:29
          |
        1 | * | where case when a then 1
          |                             ^ unexpected here
        ");
        insta::assert_snapshot!(errors("* | extend x = cast(a as text)"), @"
        error[E100]: expected a type name such as `BIGINT` or `VARCHAR`, found `text`
          --> rule.spl:1:26
          |
        1 | * | extend x = cast(a as text)
          |                          ^^^^ expected a type name such as `BIGINT` or `VARCHAR`
        ");
    }

    #[test]
    fn hostile_nesting_is_rejected_before_it_can_overflow_the_stack() {
        let n = 100_000;
        let inputs = [
            format!("* | where {}x{}", "(".repeat(n), ")".repeat(n)),
            format!("* | where {}x{}", "[".repeat(n), "]".repeat(n)),
            format!("* | where {}x", "- ".repeat(n / 4)),
            format!("* | where {}x", "+".repeat(n)),
            format!("* | where {}x", "not ".repeat(n / 8)),
            format!("* | where {}x", "case when ".repeat(n / 16)),
            format!(
                "* | extend x = cast(a as {}int{})",
                "array<".repeat(n / 8),
                ">".repeat(n / 8)
            ),
            format!("* | extend x = {}", "f(".repeat(n / 4)),
            format!("* | where {} x", "not (- ".repeat(n / 16)),
        ];
        // With the length limit lifted, depth checks alone must stop every one of them.
        let unlimited = ParseLimits {
            max_script_bytes: usize::MAX,
            ..ParseLimits::default()
        };
        for src in &inputs {
            for limits in [ParseLimits::default(), unlimited] {
                let codes: Vec<&str> = match parse_with(src, &limits) {
                    Ok(_) => panic!("accepted hostile input {}", &src[..40]),
                    Err(ds) => ds.iter().map(|d| d.code).collect(),
                };
                assert!(
                    codes
                        .iter()
                        .all(|c| *c == codes::TOO_DEEP || *c == codes::SCRIPT_TOO_LONG),
                    "{codes:?}"
                );
                if limits == unlimited {
                    assert!(codes.contains(&codes::TOO_DEEP));
                }
            }
        }
        // A flat chain is not hostile (issue 11): 100,000 terms parse without a deep stack.
        let chain = format!("* | where a{}", " = 1 OR a".repeat(n)) + " = 1";
        let unlimited = ParseLimits {
            max_script_bytes: usize::MAX,
            ..ParseLimits::default()
        };
        assert!(parse_with(&chain, &unlimited).is_ok());
    }

    #[test]
    fn nesting_at_the_limit_parses_without_backtracking_blowup() {
        // Each construct that starts like another (calls, `position(.. IN ..)`, lambdas, rows)
        // nested as deep as allowed: exponential backtracking would never finish.
        let nested =
            |open: &str, close: &str, n: usize| format!("{}x{}", open.repeat(n), close.repeat(n));
        let cases = [
            nested("position(", " IN y)", 60),
            nested("f(", ", 1)", 60),
            nested("f((", ", 1), 2)", 30),
            nested("transform(", ", x -> x)", 60),
            nested("(a, ", ")", 60),
            nested("CASE WHEN ", " THEN 1 END", 60),
            nested("cast(", " as bigint)", 60),
            nested("ARRAY[", "]", 60),
            nested("a[", "]", 60),
        ];
        for expr in cases {
            let src = format!("* | where {expr} | sort {expr} desc");
            let started = std::time::Instant::now();
            let result = parse(&src);
            assert!(result.is_ok(), "{src}: {:?}", result.err());
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "slow: {src}"
            );
        }
        insta::assert_snapshot!(errors("* | where lower(a IN b)"), @"
        error[E100]: `IN` is not allowed in the arguments of `lower`
          --> rule.spl:1:19
          |
        1 | * | where lower(a IN b)
          |                   ^^^^ only `position(sub IN text)` takes this form
          = hint: separate arguments with `,`; to test membership write `x IN (a, b)`
        ");
    }

    #[test]
    fn nesting_at_the_limit_fits_in_half_a_default_thread_stack() {
        // Rust threads get 2 MiB by default; an unoptimized build needs about 400 KiB here.
        let d = ParseLimits::default().max_depth;
        let inputs = [
            format!("* | where {}x{}", "(".repeat(d), ")".repeat(d)),
            format!("* | where {}x{}", "f(".repeat(d), ")".repeat(d)),
            format!(
                "* | where {}x{}",
                "CASE WHEN ".repeat(d),
                " THEN 1 END".repeat(d)
            ),
            format!("* | where {}x{}", "a[".repeat(d), "]".repeat(d)),
            format!("* | where {}x{}", "NOT (".repeat(d / 2), ")".repeat(d / 2)),
            format!("* | where {}x", "- ".repeat(d)),
        ];
        let worker = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || {
                inputs
                    .iter()
                    .map(|src| parse(src).map(|_| ()).map_err(|ds| ds[0].code))
                    .collect::<Vec<_>>()
            });
        let results = worker.expect("spawn").join().expect("no stack overflow");
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }

    #[test]
    fn the_longest_allowed_script_parses_within_pest_limits() {
        let stmt = "* | where a = 'x' AND f(b, c -> c + 1) > 2 OR d NOT IN (1, 2) | extend e = CASE WHEN g THEN 'h' ELSE i || 'j' END;\n";
        let src = stmt.repeat(ParseLimits::default().max_script_bytes / stmt.len());
        let script =
            parse(&src).unwrap_or_else(|ds| panic!("{}", render_text(&ds[0], &src, "big.spl")));
        assert_eq!(
            script.stmts.len(),
            ParseLimits::default().max_script_bytes / stmt.len()
        );
    }

    // -- error wording ---------------------------------------------------------------------------

    #[test]
    fn every_rule_has_a_human_description() {
        for rule in Rule::all_rules() {
            let d = describe(*rule);
            assert!(!d.is_empty());
            assert_ne!(d, format!("{rule:?}"));
            // Outside `code spans`, a description has no snake_case rule names.
            let prose: String = d.split('`').step_by(2).collect();
            assert!(!prose.contains('_'), "{rule:?} => {d}");
        }
    }

    #[test]
    fn no_rule_name_reaches_a_user() {
        let bad = [
            "",
            ";",
            "|",
            "* |",
            "* | |",
            "* | where",
            "* | where (",
            "* | where a[",
            "* | where a +",
            "* | where f(",
            "* | where f(a,",
            "* | where case",
            "* | where case when",
            "* | where a between 1",
            "* | where a not",
            "* | where a is",
            "* | where a is not distinct",
            "* | where a in",
            "* | where a in (",
            "* | where a like",
            "* | where cast(",
            "* | where cast(a",
            "* | where cast(a as",
            "* | where cast(a as array<",
            "* | where array[",
            "* | where x -> 1",
            "* | where transform(a, (x, 1) -> x)",
            "* | extend",
            "* | extend a",
            "* | extend a =",
            "* | extend a = 1,",
            "* | project",
            "* | project a =",
            "* | project-away",
            "* | project-rename a",
            "* | expand-values",
            "* | expand-values a as",
            "* | parse-regexp",
            "* | parse-regexp a",
            "* | parse-regexp a,",
            "* | parse-regexp a, 'x' as",
            "* | parse-csv a",
            "* | parse-csv a as",
            "* | parse-json",
            "* | parse-json -",
            "* | parse-json -x=",
            "* | parse-kv a,",
            "* | parse-kv a, 'x',",
            "* | pack-fields",
            "* | pack-fields as",
            "* | stats",
            "* | stats a = count(*) by",
            "* | sort",
            "* | sort a,",
            "* | limit",
            "* | limit -",
            ".let",
            ".let a",
            ".let a =",
            ".let a = *;;",
            "$",
            "$1",
            "$a $b",
            "* | where a = 1 ;; * ",
            "* | where 1a",
            "* | where 'a' 'b'",
            "* | where a = = b",
            "* | where timestamp 1",
            "* | where position(a in",
            "* | where ARRAY[1",
            "* | where (a, b",
            "* | where a.b",
            "* | where @a",
            "* | extend é = 1",
            "* | where a = 1e",
            "* | where DATE 'x' 1",
            "* | where ¬",
        ];
        // Snake-case names, and the one-word names that are no English word.
        let jargon = [
            "expr", "ident", "stmt", "opt", "paren", "lparen", "rparen", "lbracket", "rbracket",
            "langle", "rangle", "EOI",
        ];
        let names: Vec<String> = Rule::all_rules()
            .iter()
            .map(|r| format!("{r:?}"))
            .filter(|n| n.contains('_') || jargon.contains(&n.as_str()))
            .collect();
        for src in bad {
            let Err(ds) = parse(src) else {
                panic!("`{src}` should not parse")
            };
            for d in ds {
                let text = render_text(&d, src, "rule.spl");
                for line in text
                    .lines()
                    .filter(|l| l.starts_with("error") || l.contains("= hint"))
                {
                    for name in &names {
                        let words: Vec<&str> = line
                            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .collect();
                        assert!(
                            !words.contains(&name.as_str()),
                            "rule name `{name}` in: {line}\n(input `{src}`)"
                        );
                    }
                }
            }
        }
    }

    // -- properties ----------------------------------------------------------------------------

    mod props {
        use super::*;
        use crate::diagnostic::Spanned;
        use proptest::prelude::*;

        fn sp<T>(node: T) -> Spanned<T> {
            Spanned::new(node, Span::default())
        }

        fn ex(kind: ExprKind) -> Expr {
            Expr::new(kind, Span::default())
        }

        fn bare_name() -> impl Strategy<Value = String> {
            "[a-zA-Z_][a-zA-Z0-9_]{0,7}".prop_filter("reserved", |s| !ast::is_reserved(s))
        }

        fn field_name() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => bare_name(),
                1 => "(?s).{0,8}",
                1 => "[a-z_]{1,6}[.:*\" -][a-z_*]{0,6}",
                1 => Just("__tag__:__path__".to_string()),
            ]
        }

        fn fn_name() -> impl Strategy<Value = String> {
            bare_name()
        }

        fn literal() -> impl Strategy<Value = Literal> {
            prop_oneof![
                Just(Literal::Null),
                any::<bool>().prop_map(Literal::Bool),
                any::<i64>().prop_map(Literal::Int),
                any::<f64>()
                    .prop_filter("finite", |f| f.is_finite())
                    .prop_map(Literal::Double),
                "(?s).{0,8}".prop_map(Literal::Str),
            ]
        }

        fn sql_type() -> impl Strategy<Value = Type> {
            let leaf = prop_oneof![
                Just(Type::Boolean),
                Just(Type::Tinyint),
                Just(Type::Smallint),
                Just(Type::Integer),
                Just(Type::Bigint),
                Just(Type::Hugeint),
                Just(Type::Real),
                Just(Type::Double),
                proptest::option::of((any::<u8>(), any::<u8>())).prop_map(Type::Decimal),
                Just(Type::Varchar),
                Just(Type::Varbinary),
                Just(Type::Timestamp),
                Just(Type::Date),
                Just(Type::Json),
            ];
            leaf.prop_recursive(3, 8, 2, |inner| {
                prop_oneof![
                    inner.clone().prop_map(|t| Type::Array(Box::new(t))),
                    (inner.clone(), inner).prop_map(|(k, v)| Type::Map(Box::new(k), Box::new(v))),
                ]
            })
        }

        fn binary_op() -> impl Strategy<Value = BinaryOp> {
            use BinaryOp::*;
            proptest::sample::select(vec![
                Or, And, Eq, Ne, Lt, Le, Gt, Ge, Concat, Add, Sub, Mul, Div, Mod,
            ])
        }

        /// `l op r` in the one shape the parser gives it.
        fn binary(op: BinaryOp, l: Expr, r: Expr) -> Expr {
            Expr::binary(op, l, r, Span::default())
        }

        pub(super) fn expr() -> impl Strategy<Value = Expr> {
            let leaf = prop_oneof![
                4 => literal().prop_map(|l| ex(ExprKind::Literal(l))),
                4 => field_name().prop_map(|f| ex(ExprKind::Field(f))),
                1 => (proptest::sample::select(vec![Type::Timestamp, Type::Date]), "(?s).{0,8}")
                    .prop_map(|(ty, value)| ex(ExprKind::TypedLiteral { ty, value })),
                1 => proptest::sample::select(vec!["current_date", "CURRENT_TIMESTAMP", "localtime", "count", "f"])
                    .prop_map(|n| ex(ExprKind::Call { name: sp(n.to_string()), args: Vec::new() })),
            ];
            leaf.prop_recursive(4, 48, 4, |inner| {
                let b = |e: Expr| Box::new(e);
                let arg = prop_oneof![
                    4 => inner.clone(),
                    1 => (proptest::collection::vec(bare_name(), 0..3), inner.clone()).prop_map(|(ps, body)| {
                        ex(ExprKind::Lambda { params: ps.into_iter().map(sp).collect(), body: Box::new(body) })
                    }),
                ];
                prop_oneof![
                    (proptest::sample::select(vec![UnaryOp::Not, UnaryOp::Neg, UnaryOp::Plus]), inner.clone())
                        .prop_map(move |(op, e)| ex(ExprKind::Unary { op, expr: b(e) })),
                    (binary_op(), inner.clone(), inner.clone())
                        .prop_map(move |(op, l, r)| binary(op, l, r)),
                    (inner.clone(), inner.clone(), inner.clone(), any::<bool>()).prop_map(move |(e, l, h, negated)| {
                        ex(ExprKind::Between { expr: b(e), low: b(l), high: b(h), negated })
                    }),
                    (inner.clone(), proptest::collection::vec(inner.clone(), 1..3), any::<bool>())
                        .prop_map(move |(e, list, negated)| ex(ExprKind::In { expr: b(e), list, negated })),
                    (inner.clone(), inner.clone(), proptest::option::of(inner.clone()), any::<bool>()).prop_map(
                        move |(e, p, esc, negated)| ex(ExprKind::Like { expr: b(e), pattern: b(p), escape: esc.map(b), negated })
                    ),
                    (inner.clone(), any::<bool>()).prop_map(move |(e, negated)| ex(ExprKind::IsNull { expr: b(e), negated })),
                    (inner.clone(), inner.clone(), any::<bool>())
                        .prop_map(move |(l, r, negated)| ex(ExprKind::IsDistinctFrom { left: b(l), right: b(r), negated })),
                    (
                        proptest::option::of(inner.clone()),
                        proptest::collection::vec((inner.clone(), inner.clone()), 1..3),
                        proptest::option::of(inner.clone())
                    )
                        .prop_map(move |(o, whens, e)| ex(ExprKind::Case { operand: o.map(b), whens, otherwise: e.map(b) })),
                    (inner.clone(), sql_type(), any::<bool>())
                        .prop_map(move |(e, ty, try_cast)| ex(ExprKind::Cast { expr: b(e), ty, try_cast })),
                    (fn_name(), proptest::collection::vec(arg, 1..4))
                        .prop_map(|(n, args)| ex(ExprKind::Call { name: sp(n), args })),
                    (inner.clone(), inner.clone()).prop_map(move |(e, i)| ex(ExprKind::Subscript { expr: b(e), index: b(i) })),
                    proptest::collection::vec(inner.clone(), 0..3).prop_map(|items| ex(ExprKind::Array(items))),
                    proptest::collection::vec(inner, 2..4).prop_map(|items| ex(ExprKind::Row(items))),
                ]
            })
        }

        fn field() -> impl Strategy<Value = ast::Field> {
            field_name().prop_map(sp)
        }

        fn opt() -> impl Strategy<Value = Opt> {
            let value = prop_oneof![
                "(?s).{0,8}".prop_map(OptValue::Str),
                any::<i64>().prop_map(OptValue::Int),
                "[a-zA-Z_][a-zA-Z0-9_]{0,6}".prop_map(OptValue::Ident),
            ];
            (
                "[a-z][a-z0-9_]{0,5}(-[a-z0-9_]{1,4}){0,2}",
                proptest::option::of(value),
            )
                .prop_map(|(name, value)| Opt {
                    name: sp(name),
                    value: value.map(sp),
                })
        }

        fn opts() -> impl Strategy<Value = Vec<Opt>> {
            proptest::collection::vec(opt(), 0..3)
        }

        fn rename() -> impl Strategy<Value = Rename> {
            (field(), field()).prop_map(|(output, input)| Rename { output, input })
        }

        fn assign() -> impl Strategy<Value = Assign> {
            (field(), expr()).prop_map(|(output, expr)| Assign { output, expr })
        }

        fn string() -> impl Strategy<Value = Spanned<String>> {
            "(?s).{0,8}".prop_map(sp)
        }

        pub(super) fn command() -> impl Strategy<Value = Command> {
            use proptest::collection::vec;
            prop_oneof![
                expr().prop_map(Command::Where),
                vec(assign(), 1..3).prop_map(Command::Extend),
                (
                    opts(),
                    vec(
                        prop_oneof![
                            field().prop_map(ProjectItem::Keep),
                            rename().prop_map(ProjectItem::Rename)
                        ],
                        1..3
                    )
                )
                    .prop_map(|(opts, items)| Command::Project { opts, items }),
                (opts(), vec(field(), 1..3))
                    .prop_map(|(opts, fields)| Command::ProjectAway { opts, fields }),
                vec(rename(), 1..3).prop_map(|renames| Command::ProjectRename { renames }),
                (opts(), field(), proptest::option::of(field())).prop_map(
                    |(opts, field, output)| Command::ExpandValues {
                        opts,
                        field,
                        output
                    }
                ),
                (opts(), field(), string(), vec(field(), 0..3)).prop_map(
                    |(opts, field, pattern, outputs)| Command::ParseRegexp {
                        opts,
                        field,
                        pattern,
                        outputs
                    }
                ),
                (opts(), field(), vec(field(), 1..3)).prop_map(|(opts, field, outputs)| {
                    Command::ParseCsv {
                        opts,
                        field,
                        outputs,
                    }
                }),
                (opts(), field()).prop_map(|(opts, field)| Command::ParseJson { opts, field }),
                (opts(), field(), vec(string(), 0..3))
                    .prop_map(|(opts, field, args)| Command::ParseKv { opts, field, args }),
                (opts(), field()).prop_map(|(opts, output)| Command::PackFields { opts, output }),
                opts().prop_map(|opts| Command::LogToMetric { opts }),
                opts().prop_map(|opts| Command::MetricToMetric { opts }),
                (vec(assign(), 1..3), vec(field(), 0..3))
                    .prop_map(|(aggs, by)| Command::Stats { aggs, by }),
                vec(
                    (expr(), any::<bool>())
                        .prop_map(|(expr, descending)| SortKey { expr, descending }),
                    1..3
                )
                .prop_map(|keys| Command::Sort { keys }),
                any::<i64>().prop_map(|n| Command::Limit { count: sp(n) }),
            ]
        }

        fn pipeline(dataset_source_ok_without_stages: bool) -> impl Strategy<Value = Pipeline> {
            let source = prop_oneof![
                3 => Just(Source::All),
                1 => "[a-zA-Z][a-zA-Z0-9_]{0,5}".prop_map(Source::Dataset),
                1 => proptest::sample::select(vec!["Status: 200", "* and level: ERROR", "not \"a|b\" and 'x|y'"])
                    .prop_map(|s| Source::Search(s.to_string())),
            ];
            (source, proptest::collection::vec(command(), 0..4))
                .prop_filter(
                    "`$name` alone is an output statement",
                    move |(s, stages)| {
                        dataset_source_ok_without_stages
                            || !stages.is_empty()
                            || !matches!(s, Source::Dataset(_))
                    },
                )
                .prop_map(|(s, stages)| Pipeline {
                    source: sp(s),
                    stages: stages.into_iter().map(sp).collect(),
                })
        }

        fn script() -> impl Strategy<Value = Script> {
            let name = "[a-zA-Z][a-zA-Z0-9_]{0,5}";
            let stmt = prop_oneof![
                (name, pipeline(true)).prop_map(|(n, pipeline)| Stmt::Let {
                    name: sp(n),
                    pipeline
                }),
                name.prop_map(|n| Stmt::Output(sp(n))),
                pipeline(false).prop_map(Stmt::Pipeline),
            ];
            proptest::collection::vec(stmt, 1..4).prop_map(|stmts| Script { stmts })
        }

        /// Random edits of a valid statement: delete, duplicate or replace a range, or insert a
        /// token that often confuses parsers.
        fn mutate(src: &str, at: usize, len: usize, what: u8, token: &str) -> String {
            let chars: Vec<char> = src.chars().collect();
            let at = at % (chars.len() + 1);
            let end = (at + len).min(chars.len());
            let (head, tail) = (
                chars[..at].iter().collect::<String>(),
                chars[end..].iter().collect::<String>(),
            );
            let middle: String = chars[at..end].iter().collect();
            match what % 4 {
                0 => format!("{head}{tail}"),
                1 => format!("{head}{middle}{middle}{tail}"),
                2 => format!("{head}{token}{tail}"),
                _ => format!("{head}{token}{middle}{tail}"),
            }
        }

        const TOKENS: &[&str] = &[
            "'",
            "\"",
            "|",
            "||",
            "(",
            ")",
            "[",
            "]",
            "-",
            "--",
            "/*",
            "*/",
            ",",
            ";",
            "=",
            "->",
            "$",
            ".let",
            "*",
            "case",
            "end",
            "not",
            "as",
            "-opt=",
            "9999999999999999999999",
            "é",
            "\u{0}",
            "\n",
            "array<",
            ">",
            "\\",
        ];

        proptest! {
            // 512 cases by default; `PROPTEST_CASES` can ask for more.
            #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(512), ..ProptestConfig::default() })]

            #[test]
            fn printed_expressions_parse_back_to_the_same_tree(e in expr()) {
                let printed = print_expr(&e);
                let parsed = parse_expr(&printed);
                prop_assert!(parsed.is_ok(), "{printed}\n{:?}", parsed.err());
                prop_assert_eq!(parsed.unwrap(), e, "{}", printed);
            }

            #[test]
            fn printed_scripts_parse_back_to_the_same_tree(s in script()) {
                let printed = print_script(&s);
                let parsed = parse(&printed);
                prop_assert!(parsed.is_ok(), "{printed}\n{:?}", parsed.err());
                prop_assert_eq!(parsed.unwrap(), s, "{}", printed);
            }

            #[test]
            fn formatted_scripts_keep_their_tree_and_comments(
                s in script(),
                picks in proptest::collection::vec((any::<u16>(), 0..3u8, any::<bool>()), 0..6),
            ) {
                // Random comments on random anchors: own-line ones may be `--` or `/* */`;
                // same-line ones are block comments (a `--` must end its line).
                let mut anchors = Vec::new();
                for (i, stmt) in s.stmts.iter().enumerate() {
                    anchors.push(ast::Anchor { stmt: i, stage: None });
                    if let Stmt::Let { pipeline, .. } | Stmt::Pipeline(pipeline) = stmt {
                        for j in 0..pipeline.stages.len() {
                            anchors.push(ast::Anchor { stmt: i, stage: Some(j) });
                        }
                    }
                }
                let mut comments = Vec::new();
                for (k, (at, placement, line)) in picks.iter().enumerate() {
                    let (anchor, placement) = match placement {
                        0 => (anchors[*at as usize % anchors.len()], ast::Placement::Before),
                        1 => (anchors[*at as usize % anchors.len()], ast::Placement::After),
                        _ => (*anchors.last().unwrap(), ast::Placement::End),
                    };
                    let text = if *line && placement != ast::Placement::After {
                        format!("-- c{k}")
                    } else {
                        format!("/* c{k} */")
                    };
                    comments.push(ast::Comment { text: sp(text), anchor, placement });
                }
                let formatted = crate::spl::print::format_script(&s, &comments);
                let parsed = parse(&formatted);
                prop_assert!(parsed.is_ok(), "{formatted}\n{:?}", parsed.err());
                let parsed = parsed.unwrap();
                prop_assert_eq!(&parsed, &s, "{}", formatted);
                let key = |c: &ast::Comment| format!("{:?} {:?} {}", c.anchor, c.placement, c.text.node);
                let mut want: Vec<String> = comments.iter().map(key).collect();
                let mut got: Vec<String> = super::comments(&formatted, &parsed).iter().map(key).collect();
                want.sort();
                got.sort();
                prop_assert_eq!(got, want, "{}", formatted);
            }

            #[test]
            fn parse_never_panics_on_random_text(src in "(?s).{0,200}") {
                let _ = parse(&src);
                let _ = parse_expr(&src);
            }

            #[test]
            fn parse_never_panics_on_token_soup(tokens in proptest::collection::vec(
                prop_oneof![proptest::sample::select(TOKENS.to_vec()).prop_map(str::to_string), "[a-z0-9 ]{1,4}"], 0..40)) {
                let src = tokens.concat();
                let _ = parse(&format!("* | where {src}"));
                let _ = parse(&format!("* | {src}"));
                let _ = parse(&src);
            }

            #[test]
            fn parse_never_panics_on_mutated_statements(
                line in proptest::sample::select(corpus()),
                at in 0usize..400, len in 0usize..12, what in any::<u8>(),
                token in proptest::sample::select(TOKENS.to_vec()),
            ) {
                let src = mutate(line, at, len, what, token);
                if let Ok(script) = parse(&src) {
                    // Whatever parses also prints to something that parses to the same tree.
                    let printed = print_script(&script);
                    prop_assert_eq!(parse(&printed).ok(), Some(script), "{} => {}", src, printed);
                }
            }
        }
    }
}
