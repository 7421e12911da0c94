//! Plan-time temporaries: fields a rule creates (or reads from the input) and drops again
//! with `project-away` before anything could see the whole event live in numbered slots
//! beside the event instead of in it.
//!
//! A normalization rule typically cuts a line into many intermediate fields, computes the
//! output fields from them and drops them again (`project-away content, ts, host, ...`).
//! In the event each of them costs a fingerprint, an index probe and a text compare per
//! read, an insertion per write, and a pass of `project-away`; in a slot a read or write is
//! an array index. The runner moves input fields that are temporaries into their slots
//! before the first stage, so the two representations agree on every field at every stage.
//!
//! A name is a temporary when it is dropped by an exact name in a `project-away` (not a time
//! field) and every stage up to that one names the fields it touches (`where`, `extend`,
//! `parse-regexp`, `parse-csv`, `project-away` without wildcards): then no stage before the
//! drop can see the event as a whole (its field order, or fields by pattern), and after the
//! drop the name is absent from the event on both paths, so later stages keep reading and
//! writing it in the event. Only plans with one output dataset and no aggregate stage have
//! temporaries: the runner keeps the slots for one event's pass through its stages.

use crate::event::Name;
use crate::spl::plan::{
    CExpr, Call, FieldPattern, Lambda, LikePattern, Place, Plan, Stage, TIME_FIELDS,
};

/// Assigns temporaries in `plan` (see the module documentation) and rewrites the stages
/// before each one's drop to use its slot. Leaves the plan as it is when nothing qualifies.
pub(crate) fn assign(plan: &mut Plan) {
    if plan.has_aggregates() {
        return;
    }
    let Plan {
        datasets,
        outputs,
        lambdas,
        temps,
        ..
    } = plan;
    let ([ds], [(0, _)]) = (datasets.as_mut_slice(), outputs.as_slice()) else {
        return;
    };
    let stages = &mut ds.stages;
    let prefix = stages
        .iter()
        .take_while(|(s, _)| names_its_fields(s))
        .count();
    // (name, slot, index of the stage that drops it)
    let mut found: Vec<(Name, u16, usize)> = Vec::new();
    for (i, (stage, _)) in stages.iter().enumerate().take(prefix) {
        let Stage::ProjectAway(patterns) = stage else {
            continue;
        };
        for p in patterns {
            let FieldPattern::Exact(n) = p else { continue };
            if TIME_FIELDS.contains(&&**n) || found.iter().any(|(m, _, _)| m == n) {
                continue;
            }
            let Ok(slot) = u16::try_from(found.len()) else {
                break;
            };
            found.push((n.clone(), slot, i));
        }
    }
    if found.is_empty() {
        return;
    }
    for (i, (stage, _)) in stages.iter_mut().enumerate().take(prefix) {
        let active: Vec<(Name, u16)> = found
            .iter()
            .filter(|(_, _, drop)| i < *drop)
            .map(|(n, s, _)| (n.clone(), *s))
            .collect();
        let place = |p: &mut Place| {
            if let Place::Field(n) = p
                && let Some((_, s)) = active.iter().find(|(m, _)| m == n)
            {
                *p = Place::Temp(*s);
            }
        };
        match stage {
            Stage::Where(e, _) => rewrite(e, &active, lambdas),
            Stage::Extend { assigns, .. } => {
                for (target, e) in assigns {
                    rewrite(e, &active, lambdas);
                    place(target);
                }
            }
            Stage::ParseRegexp { field, outputs, .. } | Stage::ParseCsv { field, outputs, .. } => {
                place(field);
                outputs.iter_mut().flatten().for_each(place);
            }
            Stage::ProjectAway(patterns) => patterns.retain(|p| match p {
                FieldPattern::Exact(n) => !found.iter().any(|(m, _, drop)| m == n && *drop == i),
                FieldPattern::Wildcard(_) => true,
            }),
            _ => {}
        }
    }
    *temps = found.into_iter().map(|(n, _, _)| n).collect();
}

/// True for the stages that touch only fields they name (and never the event as a whole).
fn names_its_fields(stage: &Stage) -> bool {
    match stage {
        Stage::Where(..)
        | Stage::Extend { .. }
        | Stage::ParseRegexp { .. }
        | Stage::ParseCsv { .. } => true,
        Stage::ProjectAway(patterns) => {
            patterns.iter().all(|p| matches!(p, FieldPattern::Exact(_)))
        }
        _ => false,
    }
}

/// Rewrites reads of the `active` names in `e` (and in the lambdas it defines) to slots.
fn rewrite(e: &mut CExpr, active: &[(Name, u16)], lambdas: &mut [Lambda]) {
    let mut go = |e: &mut CExpr| rewrite(e, active, lambdas);
    match e {
        CExpr::Field(n) => {
            if let Some((_, s)) = active.iter().find(|(m, _)| m == n) {
                *e = CExpr::Temp(*s);
            }
        }
        CExpr::Lambda(i) => {
            // A lambda is compiled where it is written: it belongs to this expression only.
            let i = *i as usize;
            if i < lambdas.len() {
                let mut body = std::mem::replace(&mut lambdas[i].body, CExpr::Lambda(0));
                rewrite(&mut body, active, lambdas);
                lambdas[i].body = body;
            }
        }
        CExpr::Const(_) | CExpr::Temp(_) | CExpr::Local(_) | CExpr::RunConst(_) => {}
        CExpr::Not(x) | CExpr::Neg(x, _) | CExpr::Try(x) => go(x),
        CExpr::IsNull { expr, .. } | CExpr::Cast { expr, .. } => go(expr),
        CExpr::And(items)
        | CExpr::Or(items)
        | CExpr::Concat(items)
        | CExpr::ArithChain(_, items, _)
        | CExpr::Coalesce(items)
        | CExpr::Array(items)
        | CExpr::Row(items) => items.iter_mut().for_each(go),
        CExpr::Cmp(_, a, b, _) | CExpr::Arith(_, a, b, _) => {
            go(a);
            go(b);
        }
        CExpr::IsDistinct { left, right, .. } => {
            go(left);
            go(right);
        }
        CExpr::Subscript { expr, index, .. } => {
            go(expr);
            go(index);
        }
        CExpr::Between {
            expr, low, high, ..
        } => {
            go(expr);
            go(low);
            go(high);
        }
        CExpr::In { expr, list, .. } => {
            go(expr);
            list.iter_mut().for_each(go);
        }
        CExpr::Like { expr, pattern, .. } => {
            go(expr);
            if let LikePattern::Dynamic { pattern, escape } = pattern {
                go(pattern);
                if let Some(x) = escape {
                    go(x);
                }
            }
        }
        CExpr::Case {
            operand,
            whens,
            otherwise,
            ..
        } => {
            if let Some(o) = operand {
                go(o);
            }
            for (w, t) in whens {
                go(w);
                go(t);
            }
            if let Some(o) = otherwise {
                go(o);
            }
        }
        CExpr::Call(call) => {
            let Call { args, .. } = &mut **call;
            args.iter_mut().for_each(go);
        }
        CExpr::If {
            cond,
            then,
            otherwise,
        } => {
            go(cond);
            go(then);
            if let Some(o) = otherwise {
                go(o);
            }
        }
    }
}
