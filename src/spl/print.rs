//! AST → canonical SPL text.
//!
//! Owns the one canonical spelling of a rule: `* | parse-regexp content, '(\S+)' as ip |
//! extend a = lower(x)`. SQL keywords are upper-case (`AND`, `CASE`, `CAST(x AS BIGINT)`,
//! `IS NULL`, `TRUE`, `ARRAY[...]`), instruction words lower-case (`as`, `by`, `desc`), function
//! names as stored, fields bare when [`ast::is_bare_ident`] allows and double-quoted otherwise,
//! strings single-quoted. Parentheses are the fewest the precedence needs, so
//! `parse(print(ast)) == ast` (tested by a property test in `parse.rs`).
//!
//! Statements: one statement prints without `;`; several print one per line, each ending
//! with `;`. Depends only on the AST.

use std::fmt::Write as _;

use crate::spl::ast::{
    self, Assign, Command, Expr, ExprKind, Literal, Opt, OptValue, Pipeline, ProjectItem, Rename,
    Script, Source, Stmt, UnaryOp,
};

/// Prints a whole script.
///
/// ```
/// use agentic_soc::spl::{parse::parse, print::print_script};
/// let s = parse("*|where a='x'   and b>1|extend c=a||b").unwrap();
/// assert_eq!(print_script(&s), "* | where a = 'x' AND b > 1 | extend c = a || b");
/// ```
pub fn print_script(script: &Script) -> String {
    match script.stmts.as_slice() {
        [one] => print_stmt(one),
        stmts => stmts
            .iter()
            .map(|s| format!("{};", print_stmt(s)))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Lays a script out for people (`soc spl fmt`): one stage per line (`* | a` then
/// `  | b`), every comment kept where [`crate::spl::parse::comments`] attached it. Parsing
/// the result gives the same script and the same comments.
///
/// ```
/// use agentic_soc::spl::{parse::{comments, parse}, print::format_script};
/// let src = "-- keep me\n*|where a=1 /* why */|extend b=2 -- done";
/// let script = parse(src).unwrap();
/// assert_eq!(
///     format_script(&script, &comments(src, &script)),
///     "-- keep me\n* | where a = 1 /* why */\n  | extend b = 2 -- done\n"
/// );
/// ```
pub fn format_script(script: &Script, comments: &[ast::Comment]) -> String {
    use ast::{Anchor, Placement};
    let several = script.stmts.len() > 1;
    let mut out = String::new();
    let of = |anchor: Anchor, placement: Placement| {
        comments
            .iter()
            .filter(move |c| c.anchor == anchor && c.placement == placement)
            .map(|c| c.text.node.as_str())
    };
    // Writes the anchor's own-line comments, then `text`, then its same-line comments.
    let line = |out: &mut String, anchor: Anchor, indent: &str, text: &str, end: &str| {
        for c in of(anchor, Placement::Before) {
            let _ = writeln!(out, "{indent}{c}");
        }
        out.push_str(indent);
        out.push_str(text);
        out.push_str(end);
        for c in of(anchor, Placement::After) {
            out.push(' ');
            out.push_str(c);
        }
        out.push('\n');
    };
    for (i, stmt) in script.stmts.iter().enumerate() {
        let end = if several { ";" } else { "" };
        let source = Anchor {
            stmt: i,
            stage: None,
        };
        match stmt {
            Stmt::Output(name) => line(&mut out, source, "", &format!("${}", name.node), end),
            Stmt::Let { pipeline, .. } | Stmt::Pipeline(pipeline) => {
                let mut head = match stmt {
                    Stmt::Let { name, .. } => format!(".let {} = ", name.node),
                    _ => String::new(),
                };
                head.push_str(&match &pipeline.source.node {
                    Source::All => "*".to_string(),
                    Source::Dataset(name) => format!("${name}"),
                    Source::Search(text) => text.clone(),
                });
                let n = pipeline.stages.len();
                let first_end = if n == 0 { end } else { "" };
                let Some(first) = pipeline.stages.first() else {
                    line(&mut out, source, "", &head, first_end);
                    continue;
                };
                // The source and the first stage share a line unless a comment sits between.
                let source_after = of(source, Placement::After).count() > 0;
                let first_anchor = Anchor {
                    stmt: i,
                    stage: Some(0),
                };
                let first_before = of(first_anchor, Placement::Before).count() > 0;
                let mut rest = 0;
                if source_after || first_before {
                    line(&mut out, source, "", &head, "");
                } else {
                    for c in of(source, Placement::Before) {
                        let _ = writeln!(out, "{c}");
                    }
                    let text = format!("{head} | {}", layout_command(first, head.len() + 3));
                    line(
                        &mut out,
                        first_anchor,
                        "",
                        &text,
                        if n == 1 { end } else { "" },
                    );
                    rest = 1;
                }
                for (j, stage) in pipeline.stages.iter().enumerate().skip(rest) {
                    let anchor = Anchor {
                        stmt: i,
                        stage: Some(j),
                    };
                    let text = format!("| {}", layout_command(stage, 4));
                    line(
                        &mut out,
                        anchor,
                        "  ",
                        &text,
                        if j + 1 == n { end } else { "" },
                    );
                }
            }
        }
    }
    if let Some(last) = script.stmts.len().checked_sub(1) {
        let ends = comments
            .iter()
            .filter(|c| c.placement == Placement::End && c.anchor.stmt == last);
        for c in ends {
            let _ = writeln!(out, "{}", c.text.node);
        }
    }
    out
}

/// Lines longer than this put the items of an `extend`, `project`, `project-away` or
/// `project-rename` on lines of their own, aligned under the first, and the outputs of a
/// `parse-regexp`/`parse-csv` on a continuation line.
const FORMAT_WIDTH: usize = 100;

/// One stage for [`format_script`], starting at column `column`: on one line, or with its
/// list items one per line when that line would be longer than [`FORMAT_WIDTH`].
fn layout_command(cmd: &Command, column: usize) -> String {
    let one_line = print_command(cmd);
    if column + one_line.len() <= FORMAT_WIDTH {
        return one_line;
    }
    let mut head = String::from(cmd.name());
    let opts = |head: &mut String, opts: &[Opt]| {
        for o in opts {
            head.push(' ');
            head.push_str(&print_opt(o));
        }
    };
    let items: Vec<String> = match cmd {
        Command::Extend(assigns) => assigns.iter().map(assign).collect(),
        Command::ProjectRename { renames } => renames.iter().map(rename).collect(),
        Command::ProjectAway { opts: o, fields } => {
            opts(&mut head, o);
            fields.iter().map(|f| field(f)).collect()
        }
        Command::Project { opts: o, items } => {
            opts(&mut head, o);
            items
                .iter()
                .map(|i| match i {
                    ProjectItem::Keep(f) => field(f),
                    ProjectItem::Rename(r) => rename(r),
                })
                .collect()
        }
        // A long pattern: the outputs go on a continuation line.
        Command::ParseRegexp { outputs, .. } | Command::ParseCsv { outputs, .. }
            if !outputs.is_empty() =>
        {
            let outs = format!(" as {}", field_list(outputs));
            let Some(before) = one_line.strip_suffix(&outs) else {
                return one_line;
            };
            let indent = " ".repeat(column + 4);
            return format!("{before}\n{indent}as {}", field_list(outputs));
        }
        _ => return one_line,
    };
    if items.len() < 2 {
        return one_line;
    }
    let indent = " ".repeat(column + head.len() + 1);
    format!("{head} {}", items.join(&format!(",\n{indent}")))
}

/// Prints one statement (without a final `;`).
pub fn print_stmt(stmt: &Stmt) -> String {
    match stmt {
        Stmt::Let { name, pipeline } => {
            format!(".let {} = {}", name.node, print_pipeline(pipeline))
        }
        Stmt::Pipeline(p) => print_pipeline(p),
        Stmt::Output(name) => format!("${}", name.node),
    }
}

/// Prints `source | stage | ...`.
pub fn print_pipeline(p: &Pipeline) -> String {
    let mut out = match &p.source.node {
        Source::All => "*".to_string(),
        Source::Dataset(name) => format!("${name}"),
        Source::Search(text) => text.clone(),
    };
    for stage in &p.stages {
        out.push_str(" | ");
        out.push_str(&print_command(stage));
    }
    out
}

/// Prints one instruction.
///
/// ```
/// use agentic_soc::spl::{parse::parse, print::print_command, ast::Stmt};
/// let s = parse("* | parse-csv -delim='|' -strict content as a,\"b.c\"").unwrap();
/// let Stmt::Pipeline(p) = &s.stmts[0] else { unreachable!() };
/// assert_eq!(print_command(&p.stages[0]), "parse-csv -delim='|' -strict content as a, \"b.c\"");
/// ```
pub fn print_command(cmd: &Command) -> String {
    let mut out = String::from(cmd.name());
    let opts = |out: &mut String, opts: &[Opt]| {
        for o in opts {
            out.push(' ');
            out.push_str(&print_opt(o));
        }
    };
    match cmd {
        Command::Where(e) => {
            out.push(' ');
            out.push_str(&print_expr(e));
        }
        Command::Extend(assigns) => {
            out.push(' ');
            out.push_str(&assign_list(assigns));
        }
        Command::Project { opts: o, items } => {
            opts(&mut out, o);
            out.push(' ');
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    ProjectItem::Keep(f) => field(f),
                    ProjectItem::Rename(r) => rename(r),
                })
                .collect();
            out.push_str(&items.join(", "));
        }
        Command::ProjectAway { opts: o, fields } => {
            opts(&mut out, o);
            out.push(' ');
            out.push_str(&field_list(fields));
        }
        Command::ProjectRename { renames } => {
            out.push(' ');
            out.push_str(&renames.iter().map(rename).collect::<Vec<_>>().join(", "));
        }
        Command::ExpandValues {
            opts: o,
            field: f,
            output,
        } => {
            opts(&mut out, o);
            out.push(' ');
            out.push_str(&field(f));
            if let Some(x) = output {
                out.push_str(" as ");
                out.push_str(&field(x));
            }
        }
        Command::ParseRegexp {
            opts: o,
            field: f,
            pattern,
            outputs,
        } => {
            opts(&mut out, o);
            let _ = write!(out, " {}, {}", field(f), string(pattern));
            if !outputs.is_empty() {
                out.push_str(" as ");
                out.push_str(&field_list(outputs));
            }
        }
        Command::ParseCsv {
            opts: o,
            field: f,
            outputs,
        } => {
            opts(&mut out, o);
            let _ = write!(out, " {} as {}", field(f), field_list(outputs));
        }
        Command::ParseJson { opts: o, field: f } => {
            opts(&mut out, o);
            out.push(' ');
            out.push_str(&field(f));
        }
        Command::ParseKv {
            opts: o,
            field: f,
            args,
        } => {
            opts(&mut out, o);
            out.push(' ');
            out.push_str(&field(f));
            for a in args {
                out.push_str(", ");
                out.push_str(&string(a));
            }
        }
        Command::PackFields { opts: o, output } => {
            opts(&mut out, o);
            out.push_str(" as ");
            out.push_str(&field(output));
        }
        Command::LogToMetric { opts: o } | Command::MetricToMetric { opts: o } => opts(&mut out, o),
        Command::Stats { aggs, by } => {
            out.push(' ');
            out.push_str(&assign_list(aggs));
            if !by.is_empty() {
                out.push_str(" by ");
                out.push_str(&field_list(by));
            }
        }
        Command::Sort { keys } => {
            out.push(' ');
            let keys: Vec<String> = keys
                .iter()
                .map(|k| {
                    if k.descending {
                        format!("{} desc", print_expr(&k.expr))
                    } else {
                        print_expr(&k.expr)
                    }
                })
                .collect();
            out.push_str(&keys.join(", "));
        }
        Command::Limit { count } => {
            let _ = write!(out, " {}", count.node);
        }
    }
    out
}

fn print_opt(o: &Opt) -> String {
    let mut out = format!("-{}", o.name.node);
    if let Some(v) = &o.value {
        out.push('=');
        match &v.node {
            OptValue::Str(s) => out.push_str(&string(s)),
            OptValue::Int(n) => out.push_str(&n.to_string()),
            OptValue::Ident(w) => out.push_str(w),
        }
    }
    out
}

fn assign_list(assigns: &[Assign]) -> String {
    assigns.iter().map(assign).collect::<Vec<_>>().join(", ")
}

fn assign(a: &Assign) -> String {
    format!("{} = {}", field(&a.output), print_expr(&a.expr))
}

fn rename(r: &Rename) -> String {
    format!("{} = {}", field(&r.output), field(&r.input))
}

fn field_list(fields: &[ast::Field]) -> String {
    fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A field name: bare when it can be, else double-quoted with `""` for `"`.
pub fn field(name: &str) -> String {
    if ast::is_bare_ident(name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A string literal: single-quoted with `''` for `'`.
pub fn string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A DOUBLE that re-parses to the same value and stays a DOUBLE (`1.0`, `1e300`, `5e-324`).
fn double(f: f64) -> String {
    if f.is_nan() {
        // No literal spells NaN; Presto's function does.
        "nan()".to_string()
    } else if f.is_infinite() {
        // Overflows to infinity when parsed back.
        if f > 0.0 {
            "1e999".to_string()
        } else {
            "-1e999".to_string()
        }
    } else {
        // Debug is the shortest text that round-trips, and always has a `.` or an exponent.
        format!("{f:?}")
    }
}

/// Binding strength for parenthesization, higher binds tighter (see `BinaryOp::precedence`).
const NOT_PREC: u8 = 3;
const PREDICATE_PREC: u8 = 4;
const VALUE_PREC: u8 = 5;
const UNARY_PREC: u8 = 8;
const POSTFIX_PREC: u8 = 9;
const ATOM_PREC: u8 = 10;

fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } | ExprKind::Chain { op, .. } => op.precedence(),
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => NOT_PREC,
        ExprKind::Unary { .. } => UNARY_PREC,
        ExprKind::Between { .. }
        | ExprKind::In { .. }
        | ExprKind::Like { .. }
        | ExprKind::IsNull { .. }
        | ExprKind::IsDistinctFrom { .. } => PREDICATE_PREC,
        ExprKind::Subscript { .. } => POSTFIX_PREC,
        ExprKind::Lambda { .. } => 0,
        _ => ATOM_PREC,
    }
}

/// Prints an expression with the fewest parentheses that keep its structure.
///
/// ```
/// use agentic_soc::spl::{parse::parse_expr, print::print_expr};
/// let e = parse_expr("(a + b) * -c[1] not between 1 and 2").unwrap();
/// assert_eq!(print_expr(&e), "(a + b) * -c[1] NOT BETWEEN 1 AND 2");
/// ```
pub fn print_expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(e, &mut out);
    out
}

fn write_operand(e: &Expr, min: u8, out: &mut String) {
    if prec(e) < min {
        out.push('(');
        write_expr(e, out);
        out.push(')');
    } else {
        write_expr(e, out);
    }
}

fn write_list(items: &[Expr], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(item, out);
    }
}

fn write_expr(e: &Expr, out: &mut String) {
    match &e.kind {
        ExprKind::Literal(lit) => match lit {
            Literal::Null => out.push_str("NULL"),
            Literal::Bool(true) => out.push_str("TRUE"),
            Literal::Bool(false) => out.push_str("FALSE"),
            Literal::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Literal::Double(f) => out.push_str(&double(*f)),
            Literal::Str(s) => out.push_str(&string(s)),
        },
        ExprKind::TypedLiteral { ty, value } => {
            let _ = write!(out, "{ty} {}", string(value));
        }
        ExprKind::Field(name) => out.push_str(&field(name)),
        ExprKind::Unary { op, expr } => match op {
            UnaryOp::Not => {
                out.push_str("NOT ");
                write_operand(expr, NOT_PREC, out);
            }
            UnaryOp::Neg | UnaryOp::Plus => {
                out.push(if *op == UnaryOp::Neg { '-' } else { '+' });
                let mut inner = String::new();
                write_operand(expr, UNARY_PREC, &mut inner);
                // `- 5` stays a negation of 5 (`-5` is a literal) and `- -x` is not a comment.
                if inner
                    .starts_with(|c: char| c == '-' || c == '+' || c == '.' || c.is_ascii_digit())
                {
                    out.push(' ');
                }
                out.push_str(&inner);
            }
        },
        ExprKind::Binary { op, left, right } => {
            let p = op.precedence();
            // Comparisons do not chain in SQL; parenthesize a comparison operand for clarity.
            let left_min = if p == PREDICATE_PREC { p + 1 } else { p };
            write_operand(left, left_min, out);
            let _ = write!(out, " {} ", op.symbol());
            write_operand(right, p + 1, out);
        }
        ExprKind::Chain { op, operands } => {
            // Left-associative: only operands after the first need parentheses at the same
            // precedence (`a OR (b OR c)` keeps its own chain).
            let p = op.precedence();
            for (i, operand) in operands.iter().enumerate() {
                if i > 0 {
                    let _ = write!(out, " {} ", op.symbol());
                }
                write_operand(operand, if i == 0 { p } else { p + 1 }, out);
            }
        }
        ExprKind::Between {
            expr,
            low,
            high,
            negated,
        } => {
            write_operand(expr, VALUE_PREC, out);
            out.push_str(if *negated {
                " NOT BETWEEN "
            } else {
                " BETWEEN "
            });
            write_operand(low, VALUE_PREC, out);
            out.push_str(" AND ");
            write_operand(high, VALUE_PREC, out);
        }
        ExprKind::In {
            expr,
            list,
            negated,
        } => {
            write_operand(expr, VALUE_PREC, out);
            out.push_str(if *negated { " NOT IN (" } else { " IN (" });
            write_list(list, out);
            out.push(')');
        }
        ExprKind::Like {
            expr,
            pattern,
            escape,
            negated,
        } => {
            write_operand(expr, VALUE_PREC, out);
            out.push_str(if *negated { " NOT LIKE " } else { " LIKE " });
            write_operand(pattern, VALUE_PREC, out);
            if let Some(esc) = escape {
                out.push_str(" ESCAPE ");
                write_operand(esc, VALUE_PREC, out);
            }
        }
        ExprKind::IsNull { expr, negated } => {
            write_operand(expr, VALUE_PREC, out);
            out.push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
        }
        ExprKind::IsDistinctFrom {
            left,
            right,
            negated,
        } => {
            write_operand(left, VALUE_PREC, out);
            out.push_str(if *negated {
                " IS NOT DISTINCT FROM "
            } else {
                " IS DISTINCT FROM "
            });
            write_operand(right, VALUE_PREC, out);
        }
        ExprKind::Case {
            operand,
            whens,
            otherwise,
        } => {
            out.push_str("CASE");
            if let Some(op) = operand {
                out.push(' ');
                write_expr(op, out);
            }
            for (cond, value) in whens {
                out.push_str(" WHEN ");
                write_expr(cond, out);
                out.push_str(" THEN ");
                write_expr(value, out);
            }
            if let Some(x) = otherwise {
                out.push_str(" ELSE ");
                write_expr(x, out);
            }
            out.push_str(" END");
        }
        ExprKind::Cast { expr, ty, try_cast } => {
            out.push_str(if *try_cast { "TRY_CAST(" } else { "CAST(" });
            write_expr(expr, out);
            let _ = write!(out, " AS {ty})");
        }
        ExprKind::Call { name, args } => {
            if args.is_empty() && is_niladic(name) {
                out.push_str(name);
            } else if args.is_empty() && name.eq_ignore_ascii_case("count") {
                let _ = write!(out, "{}(*)", name.node);
            } else {
                out.push_str(name);
                out.push('(');
                write_list(args, out);
                out.push(')');
            }
        }
        ExprKind::Subscript { expr, index } => {
            write_operand(expr, POSTFIX_PREC, out);
            out.push('[');
            write_expr(index, out);
            out.push(']');
        }
        ExprKind::Lambda { params, body } => {
            match params.as_slice() {
                [one] => out.push_str(one),
                many => {
                    out.push('(');
                    out.push_str(
                        &many
                            .iter()
                            .map(|p| p.node.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                    out.push(')');
                }
            }
            out.push_str(" -> ");
            write_expr(body, out);
        }
        ExprKind::Array(items) => {
            out.push_str("ARRAY[");
            write_list(items, out);
            out.push(']');
        }
        ExprKind::Row(items) => {
            out.push('(');
            write_list(items, out);
            out.push(')');
        }
    }
}

/// Functions written without parentheses (`current_date`).
fn is_niladic(name: &str) -> bool {
    [
        "current_date",
        "current_time",
        "current_timestamp",
        "localtime",
        "localtimestamp",
    ]
    .iter()
    .any(|n| n.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Span, Spanned};
    use crate::spl::ast::{BinaryOp, Type};
    use crate::spl::parse::{parse, parse_expr};

    fn ex(kind: ExprKind) -> Expr {
        Expr::new(kind, Span::default())
    }

    fn f(name: &str) -> Expr {
        ex(ExprKind::Field(name.to_string()))
    }

    fn int(n: i64) -> Expr {
        ex(ExprKind::Literal(Literal::Int(n)))
    }

    /// `l op r` in the shape the parser gives it (chaining operators flatten to the left).
    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        Expr::binary(op, l, r, Span::default())
    }

    fn un(op: UnaryOp, e: Expr) -> Expr {
        ex(ExprKind::Unary {
            op,
            expr: Box::new(e),
        })
    }

    /// Prints `e`, and checks that the print parses back to `e`.
    fn show(e: Expr) -> String {
        let printed = print_expr(&e);
        assert_eq!(parse_expr(&printed).ok(), Some(e), "{printed}");
        printed
    }

    fn canon(src: &str) -> String {
        print_script(&parse(src).unwrap_or_else(|ds| panic!("{src}: {ds:?}")))
    }

    #[test]
    fn canonical_style() {
        let out = [
            r"*| parse-regexp content,'(\S+)'as ip|extend a=lower(x)",
            "* | where a and not b or c is not null and d not like 'x%' escape '!'",
            "* | extend x = case when a between 1 and 2 then true else null end, y = try_cast(z as int)",
            "* | extend x = array[1, 2][1], y = cast(m as map<varchar, array(bigint)>), z = current_date, c = count(*)",
            "* | where status in ('200', '304') and timestamp '2024-01-01' < now() and x is distinct from y",
            "* | project -wildcard \"__tag__:*\", out=\"in.put\" | project-rename a=b | project-away c",
            "* | sort cnt DESC, name ASC | limit 10",
        ]
        .map(canon);
        insta::assert_snapshot!(out.join("\n"), @r#"
        * | parse-regexp content, '(\S+)' as ip | extend a = lower(x)
        * | where a AND NOT b OR c IS NOT NULL AND d NOT LIKE 'x%' ESCAPE '!'
        * | extend x = CASE WHEN a BETWEEN 1 AND 2 THEN TRUE ELSE NULL END, y = TRY_CAST(z AS INTEGER)
        * | extend x = ARRAY[1, 2][1], y = CAST(m AS MAP(VARCHAR, ARRAY(BIGINT))), z = current_date, c = count(*)
        * | where status IN ('200', '304') AND TIMESTAMP '2024-01-01' < now() AND x IS DISTINCT FROM y
        * | project -wildcard "__tag__:*", out = "in.put" | project-rename a = b | project-away c
        * | sort cnt desc, name | limit 10
        "#);
    }

    #[test]
    fn statements_end_with_semicolons_only_when_there_are_several() {
        insta::assert_snapshot!(canon("* | where a = 1;"), @"* | where a = 1");
        insta::assert_snapshot!(canon(".let src = * | where a = 1; $src|extend b = 2; $src"), @"
        .let src = * | where a = 1;
        $src | extend b = 2;
        $src;
        ");
        insta::assert_snapshot!(canon("Status: 200 | where x = 1"), @"Status: 200 | where x = 1");
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let names = [
            "status",
            "_ip_",
            "__time__",
            "a.b",
            "__tag__:__path__",
            "say \"hi\"",
            "end",
            "Date",
            "1st",
            "",
            "é",
        ];
        let out: Vec<String> = names.iter().map(|n| show(f(n))).collect();
        insta::assert_snapshot!(out.join("\n"), @r#"
        status
        _ip_
        __time__
        "a.b"
        "__tag__:__path__"
        "say ""hi"""
        "end"
        Date
        "1st"
        ""
        "é"
        "#);
    }

    #[test]
    fn strings_double_their_quotes_and_keep_backslashes() {
        let s = |t: &str| show(ex(ExprKind::Literal(Literal::Str(t.to_string()))));
        insta::assert_snapshot!([s("it's"), s(r"\d+\n"), s("a|b -- c /* d */"), s("")].join("\n"), @r"
        'it''s'
        '\d+\n'
        'a|b -- c /* d */'
        ''
        ");
    }

    #[test]
    fn doubles_stay_doubles_and_keep_their_value() {
        let d = |v: f64| show(ex(ExprKind::Literal(Literal::Double(v))));
        let out = [
            d(1.0),
            d(0.1),
            d(-2.5),
            d(1e300),
            d(1e-7),
            d(5e-324),
            d(f64::MAX),
            d(123456789.0),
            d(f64::INFINITY),
        ];
        insta::assert_snapshot!(out.join("\n"), @"
        1.0
        0.1
        -2.5
        1e300
        1e-7
        5e-324
        1.7976931348623157e308
        123456789.0
        1e999
        ");
        assert_eq!(
            print_expr(&ex(ExprKind::Literal(Literal::Double(f64::NAN)))),
            "nan()"
        );
    }

    #[test]
    fn parentheses_only_where_precedence_needs_them() {
        use BinaryOp::*;
        let out = [
            show(bin(Sub, f("a"), bin(Sub, f("b"), f("c")))),
            show(bin(Sub, bin(Sub, f("a"), f("b")), f("c"))),
            show(bin(Mul, bin(Add, f("a"), f("b")), f("c"))),
            show(bin(Add, f("a"), bin(Mul, f("b"), f("c")))),
            show(bin(Concat, bin(Add, f("a"), f("b")), f("c"))),
            show(bin(Add, bin(Concat, f("a"), f("b")), f("c"))),
            show(bin(And, bin(Or, f("a"), f("b")), f("c"))),
            show(bin(Or, bin(And, f("a"), f("b")), f("c"))),
            show(bin(Eq, bin(Eq, f("a"), f("b")), f("c"))),
            show(bin(Eq, f("a"), bin(Eq, f("b"), f("c")))),
            show(un(UnaryOp::Not, bin(And, f("a"), f("b")))),
            show(un(UnaryOp::Not, bin(Eq, f("a"), f("b")))),
            show(bin(Eq, un(UnaryOp::Not, f("a")), f("b"))),
            show(bin(And, un(UnaryOp::Not, f("a")), f("b"))),
            show(un(UnaryOp::Neg, int(5))),
            show(int(-5)),
            show(un(UnaryOp::Neg, int(-5))),
            show(un(UnaryOp::Neg, un(UnaryOp::Neg, f("x")))),
            show(un(UnaryOp::Plus, int(-5))),
            show(bin(Sub, f("a"), un(UnaryOp::Neg, f("b")))),
            show(un(UnaryOp::Neg, bin(Add, f("a"), f("b")))),
            show(ex(ExprKind::Subscript {
                expr: Box::new(un(UnaryOp::Neg, f("a"))),
                index: Box::new(int(1)),
            })),
            show(ex(ExprKind::Between {
                expr: Box::new(bin(Eq, f("a"), f("b"))),
                low: Box::new(bin(And, f("c"), f("d"))),
                high: Box::new(bin(Add, f("e"), int(1))),
                negated: true,
            })),
            show(ex(ExprKind::Like {
                expr: Box::new(bin(Concat, f("a"), f("b"))),
                pattern: Box::new(bin(Lt, f("c"), f("d"))),
                escape: None,
                negated: false,
            })),
            show(ex(ExprKind::IsNull {
                expr: Box::new(ex(ExprKind::IsNull {
                    expr: Box::new(f("a")),
                    negated: false,
                })),
                negated: true,
            })),
            show(ex(ExprKind::In {
                expr: Box::new(un(UnaryOp::Not, f("a"))),
                list: vec![bin(Or, f("b"), f("c"))],
                negated: false,
            })),
        ];
        insta::assert_snapshot!(out.join("\n"), @"
        a - (b - c)
        a - b - c
        (a + b) * c
        a + b * c
        a + b || c
        (a || b) + c
        (a OR b) AND c
        a AND b OR c
        (a = b) = c
        a = (b = c)
        NOT (a AND b)
        NOT a = b
        (NOT a) = b
        NOT a AND b
        - 5
        -5
        - -5
        - -x
        + -5
        a - -b
        -(a + b)
        (-a)[1]
        (a = b) NOT BETWEEN (c AND d) AND e + 1
        a || b LIKE (c < d)
        (a IS NULL) IS NOT NULL
        (NOT a) IN (b OR c)
        ");
    }

    #[test]
    fn calls_lambdas_and_types() {
        let call = |name: &str, args: Vec<Expr>| {
            ex(ExprKind::Call {
                name: Spanned::new(name.to_string(), Span::default()),
                args,
            })
        };
        let lambda = |ps: &[&str], body: Expr| {
            ex(ExprKind::Lambda {
                params: ps
                    .iter()
                    .map(|p| Spanned::new(p.to_string(), Span::default()))
                    .collect(),
                body: Box::new(body),
            })
        };
        let cast = |ty: Type| {
            ex(ExprKind::Cast {
                expr: Box::new(f("x")),
                ty,
                try_cast: false,
            })
        };
        let out = [
            show(call("COUNT", vec![])),
            show(call("current_timestamp", vec![])),
            show(call("f", vec![])),
            show(call(
                "reduce",
                vec![
                    f("a"),
                    int(0),
                    lambda(&["s", "x"], bin(BinaryOp::Add, f("s"), f("x"))),
                    lambda(&["s"], f("s")),
                ],
            )),
            show(call("f", vec![lambda(&[], int(1))])),
            show(cast(Type::Array(Box::new(Type::Map(
                Box::new(Type::Varchar),
                Box::new(Type::Decimal(Some((10, 2)))),
            ))))),
            show(ex(ExprKind::TypedLiteral {
                ty: Type::Date,
                value: "2024-01-01".into(),
            })),
            show(ex(ExprKind::Row(vec![f("a"), int(1)]))),
            show(ex(ExprKind::Array(vec![]))),
        ];
        insta::assert_snapshot!(out.join("\n"), @"
        COUNT(*)
        current_timestamp
        f()
        reduce(a, 0, (s, x) -> s + x, s -> s)
        f(() -> 1)
        CAST(x AS ARRAY(MAP(VARCHAR, DECIMAL(10, 2))))
        DATE '2024-01-01'
        (a, 1)
        ARRAY[]
        ");
    }
}
