//! The team leader: takes a goal (one incident, the incidents new events formed, or a
//! question), plans tasks for the agents (investigate, respond, report, ask), orders them
//! (dependencies, most severe incident first), runs them within a budget of steps and time,
//! stops on completion or budget, and records the plan with each task's outcome.
//!
//! Depends on the agents it assigns work to; knows nothing about the CLI or files.

use super::assistant::{self, Answer};
use super::investigate::{self, Investigation};
use super::respond;
use super::tools::{Trace, Workspace};
use crate::store::StoreError;
use serde::Serialize;
use serde_json::json;
use std::time::{Duration, Instant};

/// What the leader is asked to do.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Goal {
    /// Investigate one incident (id).
    Incident(String),
    /// Work through the incidents that new events formed (ids; empty: every incident).
    Events(Vec<String>),
    /// Answer a question.
    Question(String),
}

/// Limits of one run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Budget {
    pub max_steps: usize,
    #[serde(serialize_with = "ms")]
    pub max_time: Duration,
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_steps: 1000,
            max_time: Duration::from_secs(60),
        }
    }
}

/// One task of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: usize,
    pub agent: String,
    pub input: String,
    /// Tasks that must be done first.
    pub after: Vec<usize>,
    /// `planned`, `done`, `failed`, `skipped` (budget or a failed dependency).
    pub status: String,
    pub outcome: String,
}

/// The recorded plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub goal: Goal,
    pub budget: Budget,
    pub tasks: Vec<Task>,
    /// `completed`, or which budget stopped the run.
    pub stopped: String,
    pub trace: Vec<super::tools::Step>,
}

/// What a run produced.
pub struct Outcome {
    pub plan: Plan,
    pub investigations: Vec<Investigation>,
    pub answer: Option<Answer>,
}

const AGENT: &str = "leader";

fn level_rank(l: &str) -> usize {
    ["informational", "low", "medium", "high", "critical"]
        .iter()
        .position(|x| x.eq_ignore_ascii_case(l))
        .unwrap_or(2)
}

/// Plans and runs a goal.
pub fn run(ws: &Workspace<'_>, goal: Goal, budget: Budget) -> Result<Outcome, StoreError> {
    let start = Instant::now();
    let mut trace = Trace::default();
    let mut tasks: Vec<Task> = Vec::new();
    let mut add = |agent: &str, input: &str, after: Vec<usize>| {
        tasks.push(Task {
            id: tasks.len(),
            agent: agent.into(),
            input: input.into(),
            after,
            status: "planned".into(),
            outcome: String::new(),
        });
        tasks.len() - 1
    };
    let incidents: Vec<String> = match &goal {
        Goal::Incident(id) => vec![id.clone()],
        Goal::Events(ids) if ids.is_empty() => ws.incidents.iter().map(|i| i.id.clone()).collect(),
        Goal::Events(ids) => ids.clone(),
        Goal::Question(_) => Vec::new(),
    };
    // Most severe first, then oldest.
    let mut ordered: Vec<&super::correlate::Incident> =
        incidents.iter().filter_map(|id| ws.incident(id)).collect();
    ordered.sort_by(|a, b| {
        level_rank(&b.level)
            .cmp(&level_rank(&a.level))
            .then(a.first.cmp(&b.first))
            .then(a.id.cmp(&b.id))
    });
    let unknown: Vec<&String> = incidents
        .iter()
        .filter(|id| ws.incident(id).is_none())
        .collect();
    for inc in &ordered {
        let i = add("investigator", &inc.id, vec![]);
        add("responder", &inc.id, vec![i]);
        add("reporter", &inc.id, vec![i]);
    }
    if let Goal::Question(q) = &goal {
        add("assistant", q, vec![]);
    }
    trace.step(
        AGENT,
        "Decompose the goal into tasks for the agents, most severe incident first",
        Some(("plan", json!({"goal": goal}))),
        format!(
            "{} tasks{}",
            tasks.len(),
            if unknown.is_empty() {
                String::new()
            } else {
                format!(
                    "; unknown incidents: {}",
                    unknown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
        "run them in order within the budget",
    );
    let mut investigations: Vec<Investigation> = Vec::new();
    let mut answer = None;
    let mut stopped = "completed".to_string();
    for n in 0..tasks.len() {
        if n >= budget.max_steps {
            stopped = format!("step budget reached ({} tasks)", budget.max_steps);
        } else if start.elapsed() > budget.max_time {
            stopped = format!("time budget reached ({} ms)", budget.max_time.as_millis());
        }
        if stopped != "completed" {
            for t in tasks.iter_mut().skip(n) {
                t.status = "skipped".into();
                t.outcome = stopped.clone();
            }
            break;
        }
        if tasks[n].after.iter().any(|&d| tasks[d].status != "done") {
            tasks[n].status = "skipped".into();
            tasks[n].outcome = "a task it depends on did not complete".into();
            continue;
        }
        let input = tasks[n].input.clone();
        let (status, outcome) = match tasks[n].agent.as_str() {
            "investigator" => match ws.incident(&input) {
                Some(inc) => {
                    let inv = investigate::investigate(ws, inc)?;
                    let o = format!("{} ({:.2})", inv.verdict.label(), inv.confidence);
                    investigations.push(inv);
                    ("done", o)
                }
                None => ("failed", format!("no incident {input}")),
            },
            "responder" => match investigations.iter_mut().find(|i| i.incident == input) {
                Some(inv) => {
                    inv.recommendations = respond::recommend(inv, ws.alerts);
                    let pending = inv
                        .recommendations
                        .iter()
                        .filter(|r| r.playbook.is_some())
                        .count();
                    (
                        "done",
                        format!(
                            "{} recommendations, {pending} need an approval",
                            inv.recommendations.len()
                        ),
                    )
                }
                None => ("failed", "no investigation".into()),
            },
            "reporter" => ("done", "report ready to render".into()),
            "assistant" => {
                let a = assistant::ask(ws, &input)?;
                let o = a.answer.clone();
                answer = Some(a);
                ("done", o)
            }
            other => ("failed", format!("no agent {other}")),
        };
        trace.step(
            AGENT,
            format!("Task {n}: {} on {input}", tasks[n].agent),
            Some((
                "assign",
                json!({"task": n, "agent": tasks[n].agent, "input": input}),
            )),
            outcome.clone(),
            status,
        );
        tasks[n].status = status.into();
        tasks[n].outcome = outcome;
    }
    Ok(Outcome {
        plan: Plan {
            goal,
            budget,
            tasks,
            stopped,
            trace: trace.steps,
        },
        investigations,
        answer,
    })
}
