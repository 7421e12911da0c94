//! Assembly stage of a suggestion: the rule's stages from the extraction, the typed outputs
//! of the mapping and the categorization, in the order the plan needs (early renames of raw
//! keys named like model fields, extends, renames to the model and the vendor prefix,
//! categorization over the renamed fields, derived fields, clean-up of consumed raw fields).

use super::categorize::{network_type, totals};
use super::synth::ident;

/// What the mapping and categorization stages decided, to be written as stages.
pub(super) struct Draft<'a> {
    /// The extraction stages.
    pub(super) extract: &'a [String],
    /// One expression per model field.
    pub(super) assigns: Vec<(String, String)>,
    /// Raw fields read by some output.
    pub(super) consumed: &'a [String],
    /// Columns holding JSON objects, kept whole under the vendor prefix.
    pub(super) object_columns: &'a [String],
    pub(super) prefix: &'a str,
    pub(super) key_prefix: &'a str,
    /// The model fields written.
    pub(super) targets: &'a [String],
    /// Raw fields renamed under the vendor prefix: (raw, target).
    pub(super) renames: Vec<(String, String)>,
    /// The categorization assignments.
    pub(super) categorize: &'a [String],
}

/// The stages of the rule, extraction first.
pub(super) fn assemble(d: Draft) -> Vec<String> {
    let Draft {
        extract,
        assigns,
        consumed,
        object_columns,
        prefix,
        key_prefix,
        targets,
        mut renames,
        categorize,
    } = d;
    let mut stages = extract.to_vec();
    let (plain_renames, assigns): (Vec<_>, Vec<_>) = assigns.into_iter().partition(|(t, e)| {
        e.starts_with('"') && consumed.iter().any(|r| ident(r) == *e) && !t.is_empty()
    });
    let mut used_sources: Vec<String> = Vec::new();
    let mut renames_all: Vec<(String, String)> = Vec::new();
    for (t, e) in &plain_renames {
        let r = e.trim_matches('"').replace("\"\"", "\"");
        if used_sources.contains(&r) || r == *t {
            continue;
        }
        used_sources.push(r.clone());
        renames_all.push((t.clone(), r));
    }
    // A raw field renamed twice would be a plan error: the second becomes an extend.
    let mut assigns = assigns;
    for (t, e) in &plain_renames {
        let r = e.trim_matches('"').replace("\"\"", "\"");
        if !renames_all.iter().any(|(tt, rr)| tt == t && *rr == r) && r != *t {
            assigns.push((t.clone(), e.clone()));
        }
    }
    // JSON object columns are kept whole under the vendor prefix: nothing in them is lost,
    // including keys the samples did not have.
    for c in object_columns {
        let t = format!("{prefix}.{c}");
        // Already under the prefix (the payload parser put it there): it stays.
        if c.starts_with(key_prefix) {
            if !used_sources.contains(c) {
                used_sources.push(c.clone());
            }
            continue;
        }
        if !used_sources.contains(c) && !targets.contains(&t) {
            renames.push((c.clone(), t));
        }
    }
    for (r, t) in &renames {
        if r == t {
            // Already where it belongs: it stays.
            if !used_sources.contains(r) {
                used_sources.push(r.clone());
            }
            continue;
        }
        if !used_sources.contains(r) && !targets.contains(t) {
            used_sources.push(r.clone());
            // Two raw fields with one vendor name (two slots after the same word): each
            // keeps its value under its own name (`vendor.id`, `vendor.id_2`).
            let mut name = t.clone();
            let mut n = 1;
            while renames_all.iter().any(|(tt, _)| *tt == name) {
                n += 1;
                name = format!("{t}_{n}");
            }
            renames_all.push((name, r.clone()));
        }
    }
    // A raw key that has a model field's own name (`@timestamp` in the payload) and goes to
    // the vendor prefix must move before the extend that writes that field, or the rename
    // would carry the computed value away.
    let (early, late): (Vec<_>, Vec<_>) = renames_all.into_iter().partition(|(_, r)| {
        assigns.iter().any(|(t, _)| t == r) && !assigns.iter().any(|(_, e)| e.contains(&ident(r)))
    });
    let mut renames_all = late;
    if !early.is_empty() {
        let rn: Vec<String> = early
            .iter()
            .map(|(t, r)| format!("{} = {}", ident(t), ident(r)))
            .collect();
        stages.push(format!("project-rename {}", rn.join(", ")));
    }
    if !assigns.is_empty() {
        let parts: Vec<String> = assigns
            .iter()
            .map(|(t, e)| format!("{} = {}", ident(t), e))
            .collect();
        stages.push(format!("extend {}", parts.join(",\n           ")));
    }
    renames_all.push(("event.original".into(), "content".into()));
    let rn: Vec<String> = renames_all
        .iter()
        .map(|(t, r)| format!("{} = {}", ident(t), ident(r)))
        .collect();
    stages.push(format!("project-rename {}", rn.join(", ")));
    // Categorization reads the model fields, so it comes once they all exist; a raw field
    // it reads that was just renamed is read under its new name.
    if !categorize.is_empty() {
        let renamed: Vec<String> = categorize
            .iter()
            .map(|c| {
                renames_all
                    .iter()
                    .chain(early.iter())
                    .fold(c.clone(), |c, (t, r)| c.replace(&ident(r), &ident(t)))
            })
            .collect();
        stages.push(format!("extend {}", renamed.join(",\n           ")));
    }
    let derived: Vec<String> = network_type(targets)
        .into_iter()
        .chain(totals(targets))
        .collect();
    if !derived.is_empty() {
        stages.push(format!("extend {}", derived.join(",\n           ")));
    }
    let all_targets: Vec<&String> = assigns.iter().map(|(t, _)| t).collect();
    let away: Vec<String> = consumed
        .iter()
        .filter(|r| {
            // A raw field already named like its target (`log.level` from JSON) stays.
            !all_targets.contains(r)
                && !used_sources.contains(r)
                && !targets.contains(r)
                && r.as_str() != "content"
        })
        .map(|r| ident(r))
        .collect();
    if !away.is_empty() {
        stages.push(format!("project-away {}", away.join(", ")));
    }
    stages
}
