//! `soc investigate`, `soc entity`, `soc respond`, `soc report`, `soc ask` on the store, and
//! the investigation part of `soc analyze --out` (incidents.json fields, reports, plan).
//!
//! Thin glue over `agents::{leader, investigate, entity, respond, report, assistant}`.
//! Exit codes: 0 done, 2 fatal (no store, unknown incident or action, a refused or failed
//! action).

use crate::agents::correlate::{Dismissed, Incident};
use crate::agents::detect::Alert;
use crate::agents::investigate::Investigation;
use crate::agents::leader::{self, Budget, Goal};
use crate::agents::tools::{Events, IocList, Workspace};
use crate::agents::{entity, report, respond};
use crate::store::Store;
use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Options every command on the store shares.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store (SQLite data directory) written by `soc analyze --db` or `soc ingest`.
    #[arg(
        long = "db",
        alias = "data",
        value_name = "DIR",
        default_value = "data"
    )]
    pub db: PathBuf,
    /// Local IOC list files (`value[,kind[,reputation[,source]]]` lines).
    #[arg(long = "ioc", value_name = "FILE")]
    pub ioc: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `soc investigate`
#[derive(Debug, Args)]
pub struct InvestigateArgs {
    /// Incident id (`INC-…`, or the id without the prefix).
    pub incident: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `soc entity`
#[derive(Debug, Args)]
pub struct EntityArgs {
    /// The value: IP, hash, domain, host, user, process entity id, container id, ARN.
    pub value: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `soc respond`
#[derive(Debug, Args)]
pub struct RespondArgs {
    /// Incident id.
    pub incident: String,
    /// Approve this action and run it (needs --by).
    #[arg(long, value_name = "ACTION_ID")]
    pub approve: Option<String>,
    /// Reject this action (needs --by).
    #[arg(long, value_name = "ACTION_ID", conflicts_with = "approve")]
    pub reject: Option<String>,
    /// Run an action approved earlier (e.g. after a failure).
    #[arg(long, value_name = "ACTION_ID", conflicts_with_all = ["approve", "reject"])]
    pub run: Option<String>,
    /// Who approves or rejects.
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Why (kept with the decision).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Execute through this webhook (POST JSON) instead of the dry-run backend.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `soc report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Incident id.
    pub incident: String,
    /// Write ID.md, ID.html and ID.svg into this directory (default: Markdown on stdout).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `soc ask`
#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question, e.g. "which hosts did 203.0.113.5 reach after the first alert?"
    pub question: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Alerts, incidents and the IOC list loaded from a store.
pub struct Loaded {
    pub store: Store,
    pub alerts: Vec<Alert>,
    pub incidents: Vec<Incident>,
    pub iocs: IocList,
}

impl Loaded {
    pub fn open(args: &StoreArgs) -> anyhow::Result<Loaded> {
        if !args.db.join(crate::store::DB_FILE).exists() {
            bail!(
                "no store at {} (run `soc analyze … --db {}` first, or give --db DIR)",
                args.db.display(),
                args.db.display()
            );
        }
        let store = Store::open(&args.db)?;
        let alerts = store
            .alerts()?
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<Vec<Alert>, _>>()
            .context("a stored alert has an unexpected shape")?;
        let incidents = store
            .incidents()?
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<Vec<Incident>, _>>()
            .context("a stored incident has an unexpected shape")?;
        Ok(Loaded {
            store,
            alerts,
            incidents,
            iocs: IocList::load(&args.ioc)?,
        })
    }

    pub fn workspace(&self) -> Workspace<'_> {
        Workspace {
            alerts: &self.alerts,
            incidents: &self.incidents,
            dismissed: &[],
            events: Events::Store(&self.store),
            iocs: &self.iocs,
        }
    }

    fn incident_id(&self, id: &str) -> anyhow::Result<String> {
        match self.workspace().incident(id) {
            Some(i) => Ok(i.id.clone()),
            None => bail!(
                "no incident {id} in the store ({} incidents{})",
                self.incidents.len(),
                self.incidents
                    .first()
                    .map(|i| format!(", e.g. {}", i.id))
                    .unwrap_or_default()
            ),
        }
    }
}

/// Investigates, recommends, stores the investigation and the pending actions.
fn investigate_stored(l: &mut Loaded, id: &str) -> anyhow::Result<Investigation> {
    let id = l.incident_id(id)?;
    let out = leader::run(
        &l.workspace(),
        Goal::Incident(id.clone()),
        Budget::default(),
    )?;
    let mut inv = out
        .investigations
        .into_iter()
        .next()
        .with_context(|| format!("the investigation of {id} did not complete"))?;
    respond::record(&mut l.store, &mut inv)?;
    l.store
        .put_investigation(&id, inv.verdict.as_str(), &serde_json::to_value(&inv)?)?;
    l.store
        .audit("leader", "investigate", &serde_json::to_value(&out.plan)?)?;
    Ok(inv)
}

fn action_states(store: &Store, incident: &str) -> anyhow::Result<report::ActionStates> {
    Ok(store
        .actions(incident)?
        .into_iter()
        .map(|a| (a.id, a.status))
        .collect())
}

/// Runs `soc investigate`.
pub fn run_investigate(args: InvestigateArgs) -> anyhow::Result<u8> {
    let mut l = Loaded::open(&args.store)?;
    let inv = investigate_stored(&mut l, &args.incident)?;
    if args.store.json {
        println!("{}", serde_json::to_string_pretty(&inv)?);
    } else {
        println!("{}: {}", inv.incident, inv.title);
        println!("{}", inv.summary);
        println!("techniques: {}", inv.techniques.join(", "));
        if let Some(rc) = &inv.root_cause {
            println!("root cause: {}", rc.summary);
        }
        println!("timeline:");
        for t in &inv.timeline {
            println!(
                "  {} {} {}: {}",
                t.time.as_deref().unwrap_or("?"),
                t.kind,
                t.title,
                t.detail
            );
        }
        println!("recommendations:");
        for r in &inv.recommendations {
            println!("  {} [{}] {} ({})", r.id, r.phase, r.title, r.status);
        }
        println!("trace: {} steps (--json shows them)", inv.trace.len());
    }
    Ok(0)
}

/// Runs `soc entity`.
pub fn run_entity(args: EntityArgs) -> anyhow::Result<u8> {
    let l = Loaded::open(&args.store)?;
    let r = entity::analyze(&l.workspace(), &args.value)?;
    if args.store.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!("{} ({}): risk {}/100", r.value, r.kind, r.risk);
        for reason in &r.reasons {
            println!("  {reason}");
        }
        println!(
            "seen in {} events on {} hosts, {} → {}",
            r.events,
            r.hosts,
            r.first_seen.as_deref().unwrap_or("?"),
            r.last_seen.as_deref().unwrap_or("?")
        );
        if let Some(rep) = &r.reputation {
            println!("reputation: {} ({})", rep.reputation, rep.source);
        }
        for (f, vals) in &r.facts {
            let v: Vec<String> = vals.iter().map(|(v, n)| format!("{v} ×{n}")).collect();
            println!("  {f}: {}", v.join(", "));
        }
        for a in &r.alerts {
            println!(
                "  alert {} {} {} ({}, {})",
                a.id,
                a.time.as_deref().unwrap_or("?"),
                a.rule,
                a.level,
                a.role
            );
        }
        for i in &r.incidents {
            println!("  incident {i}");
        }
        for rec in &r.recommended {
            println!("  recommended: {rec}");
        }
    }
    Ok(0)
}

/// Runs `soc respond`.
pub fn run_respond(args: RespondArgs) -> anyhow::Result<u8> {
    let mut l = Loaded::open(&args.store)?;
    let id = l.incident_id(&args.incident)?;
    if l.store.investigation(&id)?.is_none() || l.store.actions(&id)?.is_empty() {
        investigate_stored(&mut l, &id)?;
    }
    let backend: Box<dyn respond::Backend> = match &args.webhook {
        Some(url) => Box::new(respond::Webhook {
            url: url.clone(),
            timeout: Duration::from_secs(10),
        }),
        None => Box::new(respond::DryRun),
    };
    let check_incident = |l: &Loaded, action: &str| -> anyhow::Result<()> {
        match l.store.action(action)? {
            Some(a) if a.incident_id == id => Ok(()),
            Some(a) => bail!("action {action} belongs to {}, not {id}", a.incident_id),
            None => bail!("no action {action} for {id} (`soc respond {id}` lists them)"),
        }
    };
    if let Some(action) = &args.approve {
        check_incident(&l, action)?;
        let by = args.by.as_deref().unwrap_or_default();
        respond::decide(&mut l.store, action, true, by, &args.reason)?;
        let out = respond::execute(&mut l.store, action, backend.as_ref(), by)?;
        eprintln!(
            "{action} approved by {by} and run on {}: {out}",
            backend.name()
        );
    } else if let Some(action) = &args.reject {
        check_incident(&l, action)?;
        let by = args.by.as_deref().unwrap_or_default();
        respond::decide(&mut l.store, action, false, by, &args.reason)?;
        eprintln!("{action} rejected by {by}");
    } else if let Some(action) = &args.run {
        check_incident(&l, action)?;
        let out = respond::execute(&mut l.store, action, backend.as_ref(), "cli")?;
        eprintln!("{action} run on {}: {out}", backend.name());
    }
    let actions = l.store.actions(&id)?;
    if args.store.json {
        let docs: Vec<Json> = actions
            .iter()
            .map(|a| {
                Ok(serde_json::json!({"action": a, "approvals": l.store.approvals(&a.id)?, "runs": l.store.runs(&a.id)?}))
            })
            .collect::<anyhow::Result<_>>()?;
        println!("{}", serde_json::to_string_pretty(&docs)?);
    } else {
        for a in &actions {
            let title = a
                .doc
                .get("title")
                .and_then(Json::as_str)
                .unwrap_or(&a.playbook);
            println!("{} [{}] {} — {}", a.id, a.phase, title, a.status);
            for d in l.store.approvals(&a.id)? {
                println!(
                    "    {} by {} at {}{}",
                    d.decision,
                    d.by,
                    crate::agents::tools::fmt_ms(d.ts),
                    if d.reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", d.reason)
                    }
                );
            }
            for r in l.store.runs(&a.id)? {
                println!(
                    "    {} on {} at {}",
                    r.outcome,
                    r.backend,
                    crate::agents::tools::fmt_ms(r.ts)
                );
            }
        }
    }
    Ok(0)
}

/// Writes ID.md, ID.html and ID.svg into `dir`.
pub fn write_report(
    dir: &Path,
    inv: &Investigation,
    states: &report::ActionStates,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stem = report::file_stem(&inv.incident);
    for (ext, text) in [
        ("md", report::markdown(inv, states)),
        ("html", report::html(inv, states)),
        ("svg", report::svg(&inv.attack_path)),
    ] {
        let p = dir.join(format!("{stem}.{ext}"));
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

/// Runs `soc report`.
pub fn run_report(args: ReportArgs) -> anyhow::Result<u8> {
    let mut l = Loaded::open(&args.store)?;
    let id = l.incident_id(&args.incident)?;
    let inv = match l.store.investigation(&id)? {
        Some(doc) => {
            serde_json::from_value(doc).context("a stored investigation has an unexpected shape")?
        }
        None => investigate_stored(&mut l, &id)?,
    };
    let states = action_states(&l.store, &id)?;
    match &args.out {
        Some(dir) => {
            write_report(dir, &inv, &states)?;
            eprintln!(
                "wrote {}/{}.{{md,html,svg}}",
                dir.display(),
                report::file_stem(&id)
            );
        }
        None if args.store.json => {
            println!("{}", serde_json::to_string_pretty(&report::stix(&inv))?)
        }
        None => print!("{}", report::markdown(&inv, &states)),
    }
    Ok(0)
}

/// Runs `soc ask`.
pub fn run_ask(args: AskArgs) -> anyhow::Result<u8> {
    let mut l = Loaded::open(&args.store)?;
    let out = leader::run(
        &l.workspace(),
        Goal::Question(args.question.clone()),
        Budget::default(),
    )?;
    let a = out.answer.context("the question was not answered")?;
    l.store.audit(
        "assistant",
        "ask",
        &serde_json::json!({"question": a.question, "answer": a.answer}),
    )?;
    if args.store.json {
        println!("{}", serde_json::to_string_pretty(&a)?);
    } else {
        println!("{}", a.answer);
        for c in &a.citations {
            println!("  [{} {}] {}", c.kind, c.id, c.detail);
        }
    }
    Ok(0)
}

/// The investigation part of `soc analyze --out`: investigates every incident (the leader's
/// plan), adds the investigation to each incident of `incidents.json`, writes
/// `reports/<id>.{md,html,svg}` and `plan.json`, and keeps investigations and pending actions
/// in the store when there is one.
pub fn analyze_incidents(
    out_dir: &Path,
    alerts: &[Alert],
    incidents: &[Incident],
    dismissed: &[Dismissed],
    events: &[Map<String, Json>],
    iocs: &IocList,
    mut store: Option<&mut Store>,
) -> anyhow::Result<Json> {
    let ws = Workspace {
        alerts,
        incidents,
        dismissed,
        events: Events::Memory(events),
        iocs,
    };
    let outcome = leader::run(&ws, Goal::Events(Vec::new()), Budget::default())?;
    let mut invs = outcome.investigations;
    let reports = out_dir.join("reports");
    let mut docs = Vec::new();
    for inc in incidents {
        let mut doc = serde_json::to_value(inc)?;
        if let Some(inv) = invs.iter_mut().find(|i| i.incident == inc.id) {
            if let Some(s) = store.as_deref_mut() {
                respond::record(s, inv)?;
                s.put_investigation(
                    &inv.incident,
                    inv.verdict.as_str(),
                    &serde_json::to_value(&*inv)?,
                )?;
            }
            let states = match store.as_deref() {
                Some(s) => action_states(s, &inv.incident)?,
                None => Default::default(),
            };
            write_report(&reports, inv, &states)?;
            merge(&mut doc, inv)?;
        }
        docs.push(doc);
    }
    std::fs::write(
        out_dir.join("plan.json"),
        serde_json::to_string_pretty(&outcome.plan)? + "\n",
    )
    .with_context(|| format!("cannot write {}", out_dir.join("plan.json").display()))?;
    if let Some(s) = store {
        s.audit("leader", "analyze", &serde_json::to_value(&outcome.plan)?)?;
    }
    Ok(Json::Array(docs))
}

/// Adds an investigation's fields to an incident document (the incident's own `tactics`,
/// `first` and `last` stay; the investigation's kill-chain tactics are `kill_chain`).
fn merge(doc: &mut Json, inv: &Investigation) -> anyhow::Result<()> {
    let Json::Object(inv_doc) = serde_json::to_value(inv)? else {
        return Ok(());
    };
    let Json::Object(d) = doc else { return Ok(()) };
    for (k, v) in inv_doc {
        match k.as_str() {
            "incident" | "title" | "first" | "last" => {}
            "tactics" => {
                d.insert("kill_chain".into(), v);
            }
            _ => {
                d.insert(k, v);
            }
        }
    }
    Ok(())
}
