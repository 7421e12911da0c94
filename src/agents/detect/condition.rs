//! The Sigma condition grammar: `and`, `or`, `not`, parentheses, `1 of X*`, `all of X*`,
//! `them`, resolved against a rule's search identifiers into a small boolean tree.
//!
//! Owns only the condition text; the searches it refers to are indices into the rule.
//! Aggregations (`| count() by …`, Sigma 1 correlation syntax) are refused with a reason.

/// A compiled condition over the rule's searches (by index).
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Search(usize),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    /// Evaluates with `search(i)` telling whether search *i* matched.
    pub fn eval(&self, search: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Search(i) => search(*i),
            Cond::And(xs) => xs.iter().all(|x| x.eval(search)),
            Cond::Or(xs) => xs.iter().any(|x| x.eval(search)),
            Cond::Not(x) => !x.eval(search),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    OneOf,
    AllOf,
    Ident(String),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' | ')' => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                words.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            '|' => return Err("aggregation expressions (`| count() …`) are not supported".into()),
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let lw = w.to_ascii_lowercase();
        let tok = match lw.as_str() {
            "(" => Tok::LParen,
            ")" => Tok::RParen,
            "and" => Tok::And,
            "or" => Tok::Or,
            "not" => Tok::Not,
            "1" | "any"
                if words
                    .get(i + 1)
                    .is_some_and(|n| n.eq_ignore_ascii_case("of")) =>
            {
                i += 1;
                Tok::OneOf
            }
            "all"
                if words
                    .get(i + 1)
                    .is_some_and(|n| n.eq_ignore_ascii_case("of")) =>
            {
                i += 1;
                Tok::AllOf
            }
            _ => Tok::Ident(w.to_string()),
        };
        out.push(tok);
        i += 1;
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    names: &'a [String],
}

/// Parses `text` against the rule's search identifiers (`names`, in rule order).
pub fn parse(text: &str, names: &[String]) -> Result<Cond, String> {
    let toks = lex(text)?;
    let mut p = Parser {
        toks,
        pos: 0,
        names,
    };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!(
            "unexpected `{:?}` in condition `{text}`",
            p.toks[p.pos]
        ));
    }
    Ok(c)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut xs = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            xs.push(self.and()?);
        }
        Ok(if xs.len() == 1 {
            xs.pop().expect("one")
        } else {
            Cond::Or(xs)
        })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut xs = vec![self.not()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            xs.push(self.not()?);
        }
        Ok(if xs.len() == 1 {
            xs.pop().expect("one")
        } else {
            Cond::And(xs)
        })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Cond, String> {
        let tok = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or("the condition ends too early")?;
        self.pos += 1;
        match tok {
            Tok::LParen => {
                let c = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err("missing `)` in condition".into());
                }
                self.pos += 1;
                Ok(c)
            }
            Tok::OneOf | Tok::AllOf => {
                let Some(Tok::Ident(pat)) = self.toks.get(self.pos).cloned() else {
                    return Err("`1 of`/`all of` needs a name pattern or `them`".into());
                };
                self.pos += 1;
                let idx = self.matching(&pat)?;
                let xs = idx.into_iter().map(Cond::Search).collect();
                Ok(if tok == Tok::OneOf {
                    Cond::Or(xs)
                } else {
                    Cond::And(xs)
                })
            }
            Tok::Ident(name) => {
                let i = self.names.iter().position(|n| *n == name).ok_or_else(|| {
                    format!("the condition names `{name}`, which the detection does not define")
                })?;
                Ok(Cond::Search(i))
            }
            t => Err(format!("unexpected `{t:?}` in condition")),
        }
    }

    fn matching(&self, pat: &str) -> Result<Vec<usize>, String> {
        let idx: Vec<usize> = if pat == "them" {
            (0..self.names.len())
                .filter(|&i| !self.names[i].starts_with('_'))
                .collect()
        } else {
            let re = format!(
                "^{}$",
                regex::escape(pat).replace("\\*", ".*").replace("\\?", ".")
            );
            let re = regex::Regex::new(&re).map_err(|e| e.to_string())?;
            (0..self.names.len())
                .filter(|&i| re.is_match(&self.names[i]))
                .collect()
        };
        if idx.is_empty() {
            return Err(format!("`{pat}` matches no search identifier"));
        }
        Ok(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        [
            "selection_a",
            "selection_b",
            "filter_x",
            "filter_y",
            "keywords",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn eval(c: &str, hits: &[usize]) -> bool {
        parse(c, &names()).unwrap().eval(&mut |i| hits.contains(&i))
    }

    #[test]
    fn precedence_not_and_or() {
        assert!(eval("selection_a and not filter_x", &[0]));
        assert!(!eval("selection_a and not filter_x", &[0, 2]));
        assert!(eval("keywords or selection_a and selection_b", &[4]));
        assert!(!eval("(keywords or selection_a) and selection_b", &[4]));
        assert!(eval("not (filter_x or filter_y)", &[]));
    }

    #[test]
    fn one_of_all_of_and_them() {
        assert!(eval("1 of selection_*", &[1]));
        assert!(!eval("all of selection_*", &[1]));
        assert!(eval("all of selection_* and not 1 of filter_*", &[0, 1]));
        assert!(!eval(
            "all of selection_* and not 1 of filter_*",
            &[0, 1, 3]
        ));
        assert!(eval("all of them", &[0, 1, 2, 3, 4]));
        assert!(eval("1 of them", &[3]));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(
            parse("selection_c", &names())
                .unwrap_err()
                .contains("selection_c")
        );
        assert!(
            parse("1 of sel_*", &names())
                .unwrap_err()
                .contains("matches no")
        );
        assert!(
            parse("selection_a | count() > 5", &names())
                .unwrap_err()
                .contains("aggregation")
        );
        assert!(parse("(selection_a", &names()).is_err());
        assert!(parse("selection_a and", &names()).is_err());
    }
}
