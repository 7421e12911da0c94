//! The action vocabulary: what the words of an action name (`user.created`, `updateConfig`,
//! `sign-in`) say about `event.category`, `event.type` and `event.outcome`, read from
//! `knowledge/actions.toml`. A prior for actions that knowledge learned from labeled products
//! does not decide.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

const ACTIONS_TOML: &str = include_str!("../../knowledge/actions.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vocabulary {
    verb: Vec<Entry>,
    object: Vec<Entry>,
    outcome: Vec<OutcomeEntry>,
    allowed: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    words: Vec<String>,
    #[serde(default)]
    category: Vec<String>,
    #[serde(default, rename = "type")]
    ty: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeEntry {
    words: Vec<String>,
    outcome: String,
}

static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
    // Embedded and checked by a test: a fault is a build defect.
    toml::from_str(ACTIONS_TOML).unwrap_or_else(|e| panic!("knowledge/actions.toml: {e}"))
});

/// Words that negate what follows them.
pub const NEGATIONS: &[&str] = &["not", "no", "non", "never", "without"];

/// A regex (for `regexp_like` over the lower-cased action) matching values with a negation.
pub fn negation_pattern() -> String {
    format!("(^|[^a-z])({})([^a-z]|$)", NEGATIONS.join("|"))
}

/// What an action's words say: per field, the values (categories and types as sets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionMeaning {
    pub category: Vec<String>,
    pub ty: Vec<String>,
    pub outcome: Option<String>,
    /// The words that decided, for the reason shown to the user.
    pub words: Vec<String>,
    /// Whether a verb of the vocabulary occurs (the value names something done).
    pub verb: bool,
}

/// The words of an action value, lower-case, with adjacent pairs also joined
/// (`sign-in` → `sign`, `in`, `signin`).
/// Each with its position (a joined pair takes its first word's).
fn tokens(action: &str) -> Vec<(usize, String)> {
    let words = super::learned::words(action);
    let mut out: Vec<(usize, String)> = words.iter().cloned().enumerate().collect();
    for (i, w) in words.windows(2).enumerate() {
        out.push((i, format!("{}{}", w[0], w[1])));
    }
    out
}

/// Whether `token` is `word` or one of its inflections (`created`, `creates`, `creating`,
/// `deleted`, `denies`).
fn matches(token: &str, word: &str) -> bool {
    if token == word {
        return true;
    }
    // `deny` → `denied`, `denies`.
    if let Some(stem) = word.strip_suffix('y')
        && let Some(rest) = token.strip_prefix(stem)
        && matches!(rest, "ied" | "ies")
    {
        return true;
    }
    let Some(rest) = token.strip_prefix(word.trim_end_matches('e')) else {
        return false;
    };
    let stem_e = word.ends_with('e');
    match rest {
        "s" | "es" | "d" | "ed" | "ing" | "ion" | "ions" => !(stem_e && rest == "es"),
        "e" => stem_e,
        _ => {
            // `stopped`, `dropped`: a doubled final consonant.
            let last = word.chars().last().unwrap_or(' ');
            let doubled = format!("{last}");
            rest.strip_prefix(&doubled)
                .is_some_and(|r| matches!(r, "ed" | "ing"))
        }
    }
}

/// The meaning of an action value, or `None` when no word of the vocabulary occurs in it.
pub fn meaning(action: &str) -> Option<ActionMeaning> {
    let v = &*VOCABULARY;
    let toks = tokens(action);
    let find = |entries: &'static [Entry]| -> Option<(&'static Entry, String)> {
        // The last matching word in the value: the most specific object (`user.session.start`
        // is about the session), the final verb.
        let mut best: Option<(usize, &Entry, String)> = None;
        for (pos, t) in &toks {
            for e in entries {
                if let Some(w) = e.words.iter().find(|w| matches(t, w)) {
                    let pos = *pos;
                    if best.as_ref().is_none_or(|(p, _, _)| pos >= *p) {
                        best = Some((pos, e, w.clone()));
                    }
                    break;
                }
            }
        }
        best.map(|(_, e, w)| (e, w))
    };
    // `not blocked`, `no_access`: a negated verb or outcome says nothing reliable.
    if toks.iter().any(|(_, t)| NEGATIONS.contains(&t.as_str())) {
        return None;
    }
    let verb = find(&v.verb);
    let object = find(&v.object);
    let outcome = toks.iter().find_map(|(_, t)| {
        v.outcome
            .iter()
            .find(|o| o.words.iter().any(|w| w == t))
            .map(|o| o.outcome.clone())
    });
    if verb.is_none() && object.is_none() && outcome.is_none() {
        return None;
    }
    let mut m = ActionMeaning {
        outcome,
        verb: verb.is_some(),
        ..ActionMeaning::default()
    };
    // A verb that names an activity (logging in) makes the object its actor, not what was
    // acted on: only a session stays a category of its own.
    let verb_names_activity = verb.as_ref().is_some_and(|(e, _)| !e.category.is_empty());
    for (i, (e, w)) in verb.iter().chain(object.iter()).enumerate() {
        let is_object = i > 0 || verb.is_none();
        if is_object && verb_names_activity && !e.category.iter().any(|c| c == "session") {
            continue;
        }
        m.words.push(w.clone());
        for c in &e.category {
            if !m.category.contains(c) {
                m.category.push(c.clone());
            }
        }
    }
    for (e, w) in object.iter().chain(verb.iter()) {
        if !m.words.contains(w) {
            continue;
        }
        for t in &e.ty {
            if !m.ty.contains(t) {
                m.ty.push(t.clone());
            }
        }
    }
    // Only types some chosen category allows.
    if !m.category.is_empty() {
        m.ty.retain(|t| {
            m.category
                .iter()
                .any(|c| v.allowed.get(c).is_some_and(|a| a.contains(t)))
        });
        if m.ty.is_empty() {
            m.ty.push("info".into());
        }
    }
    Some(m)
}

/// A case-insensitive pattern for any of `words` as a word of an action name, over the name
/// as written: after a non-letter, or as a capitalized part of a camelCase name
/// (`createUser`, `user_created`, `USER_CREATED`, `deleteUser` but not `superuser`).
fn words_pattern(words: &[String]) -> String {
    let alts = words
        .iter()
        .map(|w| regex::escape(w))
        .collect::<Vec<_>>()
        .join("|");
    let camel = words
        .iter()
        .map(|w| {
            let mut c = w.chars();
            let first = c
                .next()
                .map(|f| f.to_uppercase().to_string())
                .unwrap_or_default();
            regex::escape(&format!("{first}{}", c.as_str()))
        })
        .collect::<Vec<_>>()
        .join("|");
    format!("(^|[^A-Za-z])(?i:{alts})|[a-z]({camel})")
}

/// The vocabulary as rules over an action name not seen in the samples: `(field, pattern,
/// values)`, verbs naming an activity first, then objects (categories), then verbs (types).
pub fn word_rules() -> Vec<(&'static str, String, Vec<String>)> {
    let v = &*VOCABULARY;
    let mut out = Vec::new();
    for e in v.verb.iter().filter(|e| !e.category.is_empty()) {
        out.push((
            "event.category",
            words_pattern(&e.words),
            e.category.clone(),
        ));
    }
    for e in v.object.iter().filter(|e| !e.category.is_empty()) {
        out.push((
            "event.category",
            words_pattern(&e.words),
            e.category.clone(),
        ));
    }
    for e in v.verb.iter().filter(|e| !e.ty.is_empty()) {
        out.push(("event.type", words_pattern(&e.words), e.ty.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(a: &str) -> (Vec<String>, Vec<String>) {
        let x = meaning(a).unwrap_or_default();
        let mut c = x.category;
        let mut t = x.ty;
        c.sort();
        t.sort();
        (c, t)
    }

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_vocabulary_loads_and_its_categories_are_allowed_values() {
        let voc = &*VOCABULARY;
        assert!(!voc.verb.is_empty() && !voc.object.is_empty());
        let allowed = &voc.allowed;
        for e in voc.verb.iter().chain(voc.object.iter()) {
            for c in &e.category {
                assert!(allowed.contains_key(c), "category {c} has no allowed types");
            }
        }
    }

    #[test]
    fn verbs_and_objects_compose() {
        assert_eq!(m("user.created"), (v(&["iam"]), v(&["creation", "user"])));
        assert_eq!(m("updateConfig"), (v(&["configuration"]), v(&["change"])));
        assert_eq!(m("GROUP_DELETE"), (v(&["iam"]), v(&["deletion", "group"])));
        assert_eq!(
            m("sign-in"),
            (v(&["authentication", "session"]), v(&["start"]))
        );
        assert_eq!(m("user_logged_out").0, v(&["authentication", "session"]));
        assert_eq!(m("file.downloaded"), (v(&["file"]), v(&["access"])));
        // The most specific object decides: a user's session.
        assert_eq!(m("user.session.start"), (v(&["session"]), v(&["start"])));
        // A verb alone gives a type, no category.
        assert_eq!(m("token_revoked").1, v(&["deletion"]));
        assert_eq!(meaning("frobnicate"), None);
        assert_eq!(meaning("not blocked"), None);
    }

    #[test]
    fn inflections_match_but_other_words_do_not() {
        assert!(matches("created", "create"));
        assert!(matches("creating", "create"));
        assert!(matches("stopped", "stop"));
        assert!(matches("denied", "deny") && matches("denies", "deny"));
        assert!(!matches("settings", "set"));
        assert!(!matches("address", "add"));
    }

    #[test]
    fn word_rules_match_names_as_written() {
        let rules = word_rules();
        let first = |name: &str, field: &str| {
            rules
                .iter()
                .find(|(f, p, _)| *f == field && regex::Regex::new(p).unwrap().is_match(name))
                .map(|(_, _, v)| v.clone())
        };
        assert_eq!(first("deleteUser", "event.type"), Some(v(&["deletion"])));
        assert_eq!(first("USER_REMOVED", "event.category"), Some(v(&["iam"])));
        assert_eq!(first("superuser", "event.category"), None);
        assert_eq!(
            first("user.logout", "event.category"),
            Some(v(&["authentication", "session"]))
        );
    }

    #[test]
    fn outcome_words() {
        assert_eq!(
            meaning("login_failed").unwrap().outcome.as_deref(),
            Some("failure")
        );
    }
}
