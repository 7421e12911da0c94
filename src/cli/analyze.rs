//! `soc ingest`, `soc detect`, `soc correlate` and `soc analyze`: the agent pipeline on the
//! command line (`soc analyze` also investigates each incident: `cli::investigate`).
//!
//! Thin glue over `agents::{ingest, detect, correlate, pipeline}` and `store`. Exit codes:
//! 0 clean, 1 some records could not be normalized, 2 fatal (unreadable input or rules,
//! store failure).

use crate::agents::correlate::{self, Correlation};
use crate::agents::detect::{Alert, Detector};
use crate::agents::ingest::{self, Package};
use crate::agents::pipeline;
use crate::agents::sentinel;
use crate::store::Store;
use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Where Sigma rules are looked for when `--sigma` is not given.
pub const DEFAULT_SIGMA: &str = "datasets/sigma/sigmahq";

/// Options shared by the pipeline commands.
#[derive(Debug, Args)]
pub struct SigmaArgs {
    /// Sigma rule directories or files (default: ./datasets/sigma/sigmahq, the SigmaHQ release).
    #[arg(long = "sigma", value_name = "DIR")]
    pub sigma: Vec<PathBuf>,
    /// Print the rules that were not loaded, with the reason.
    #[arg(long)]
    pub list_skipped: bool,
}

/// `soc detect`
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Inputs: normalized events (NDJSON), Windows event JSON, or raw logs a rule package recognizes.
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub sigma: SigmaArgs,
    /// Rule packages for raw text inputs (default: the built-in product library).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Write alerts here (NDJSON) instead of stdout.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Without inputs: read the events from this store; with inputs: store them and the alerts.
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
    /// Print a JSON summary on stderr instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `soc ingest`
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Inputs: files or directories (plain, .gz, .zst): raw logs, Windows event JSON, ECS NDJSON.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Rule packages to normalize raw text with (default: the built-in product library).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// The store (SQLite data directory).
    #[arg(long, value_name = "DIR")]
    pub db: PathBuf,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `soc correlate`
#[derive(Debug, Args)]
pub struct CorrelateArgs {
    /// Alert files (NDJSON, as `soc detect` writes them, or a Microsoft Sentinel
    /// `SecurityAlert` export); none: the alerts in `--db`.
    pub alerts: Vec<PathBuf>,
    /// Write incidents here (JSON) instead of stdout.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// The store to read alerts from and write incidents to.
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
    /// Alerts sharing an entity at most this many minutes apart are linked.
    #[arg(long, default_value_t = 120)]
    pub window_minutes: i64,
}

/// `soc analyze`
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Inputs: files or directories (plain, .gz, .zst): raw logs, Windows event JSON, ECS NDJSON.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Rule packages to normalize raw text with (default: the built-in product library).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub sigma: SigmaArgs,
    /// Output directory: alerts.ndjson and incidents.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also keep events, alerts and incidents in this store (SQLite data directory).
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
    /// Alerts sharing an entity at most this many minutes apart are linked.
    #[arg(long, default_value_t = 120)]
    pub window_minutes: i64,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Local IOC list files for the investigations (`value[,kind[,reputation[,source]]]` lines).
    #[arg(long = "ioc", value_name = "FILE")]
    pub ioc: Vec<PathBuf>,
}

fn detector(args: &SigmaArgs) -> anyhow::Result<Detector> {
    let dirs = if args.sigma.is_empty() {
        let d = PathBuf::from(DEFAULT_SIGMA);
        if !d.exists() {
            bail!(
                "no Sigma rules: give --sigma DIR (the default {DEFAULT_SIGMA} does not exist here)"
            );
        }
        vec![d]
    } else {
        args.sigma.clone()
    };
    let mut d = Detector::default();
    d.load_dirs(&dirs)?;
    if d.rules().is_empty() {
        bail!(
            "no Sigma rule could be loaded from {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if args.list_skipped {
        for s in d.skipped() {
            eprintln!("skipped {}: {}", s.path, s.reason);
        }
    }
    Ok(d)
}

/// The progress of `soc analyze` and `soc detect` on a terminal: one bar per step (files
/// normalized, events run through the rules, alerts correlated). Nothing is drawn when stderr
/// is not a terminal or the summary is asked as JSON.
struct StepBar {
    bar: ProgressBar,
}

impl StepBar {
    fn new(json: bool) -> StepBar {
        let target = if json || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>9} [{bar:30}] {human_pos}/{human_len} {elapsed_precise} ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        StepBar { bar }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl pipeline::Observer for StepBar {
    fn step(&self, name: &str, total: u64) {
        self.bar.reset();
        self.bar.set_length(total);
        self.bar.set_prefix(name.to_string());
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
}

fn packages(dirs: &[PathBuf]) -> anyhow::Result<Vec<Package>> {
    if dirs.is_empty() {
        return Ok(Package::library());
    }
    let mut out = Vec::new();
    for dir in crate::rules::discover(dirs).map_err(anyhow::Error::msg)? {
        let p = crate::rules::load(&dir).map_err(anyhow::Error::msg)?;
        out.push(Package::new(&p.name, &p.rule)?);
    }
    Ok(out)
}

fn options(window_minutes: i64) -> correlate::Options {
    correlate::Options {
        window_ms: window_minutes * 60_000,
        ..correlate::Options::default()
    }
}

fn write_alerts(out: &mut dyn Write, alerts: &[Alert]) -> anyhow::Result<()> {
    for a in alerts {
        serde_json::to_writer(&mut *out, a)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// The `incidents.json` document.
pub fn incidents_doc(c: &Correlation) -> serde_json::Value {
    serde_json::json!({"version": 1, "incidents": c.incidents, "dismissed": c.dismissed})
}

fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

/// Runs `soc detect`.
pub fn run_detect(args: DetectArgs) -> anyhow::Result<u8> {
    let d = detector(&args.sigma)?;
    let mut store = match &args.db {
        Some(dir) => Some(Store::open(dir)?),
        None => None,
    };
    let mut failed = 0;
    let events: Vec<serde_json::Map<String, serde_json::Value>> = if args.inputs.is_empty() {
        let Some(s) = store.as_ref() else {
            bail!("give INPUT files or --db DIR")
        };
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = s.events_after(after, 10_000)?;
            let Some(last) = page.last() else { break };
            after = last.0;
            out.extend(page.into_iter().filter_map(|(_, e)| match e {
                serde_json::Value::Object(o) => Some(o),
                _ => None,
            }));
        }
        out
    } else {
        let pk = packages(&args.rules)?;
        let mut out = Vec::new();
        for f in ingest::files(&args.inputs)? {
            let (evs, report) = ingest::normalize_file(&f, &pk)?;
            failed += report.failed;
            if let Some(s) = store.as_mut() {
                let docs: Vec<serde_json::Value> =
                    evs.iter().cloned().map(serde_json::Value::Object).collect();
                for c in docs.chunks(5000) {
                    s.insert_events(c)?;
                }
            }
            out.extend(evs);
        }
        out
    };
    let bar = StepBar::new(args.json);
    let alerts = pipeline::detect_events_observed(&d, &events, &bar);
    bar.finish();
    write_alerts(&mut *open_output(args.output.as_deref())?, &alerts)?;
    if let Some(s) = store.as_mut() {
        pipeline::store_results(s, &alerts, &Correlation::default(), "detect")?;
    }
    let summary = serde_json::json!({"events": events.len(), "failed": failed, "rules_loaded": d.rules().len(),
        "rules_skipped": d.skipped().len(), "alerts": alerts.len()});
    if args.json {
        eprintln!("{summary}");
    } else {
        eprintln!(
            "{} events, {} alerts ({} rules loaded, {} skipped{})",
            events.len(),
            alerts.len(),
            d.rules().len(),
            d.skipped().len(),
            if d.skipped().is_empty() {
                ""
            } else {
                "; --list-skipped says why"
            }
        );
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Runs `soc ingest`: normalize the inputs and store the events.
pub fn run_ingest(args: IngestArgs) -> anyhow::Result<u8> {
    let pk = packages(&args.rules)?;
    let mut store = Store::open(&args.db)?;
    let mut reports = Vec::new();
    for f in ingest::files(&args.inputs)? {
        let (evs, report) = ingest::normalize_file(&f, &pk)?;
        let docs: Vec<serde_json::Value> = evs.into_iter().map(serde_json::Value::Object).collect();
        for c in docs.chunks(5000) {
            store.insert_events(c)?;
        }
        reports.push(report);
    }
    store.audit("cli", "ingest", &serde_json::json!({"inputs": reports}))?;
    let failed: usize = reports.iter().map(|r| r.failed).sum();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"inputs": reports, "stored": store.count_events()?})
        );
    } else {
        for r in &reports {
            eprintln!("{}: {} events via {}", r.path, r.events, r.normalization);
        }
        eprintln!("{} events in the store", store.count_events()?);
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Runs `soc correlate`.
pub fn run_correlate(args: CorrelateArgs) -> anyhow::Result<u8> {
    let mut store = match &args.db {
        Some(dir) => Some(Store::open(dir)?),
        None => None,
    };
    let mut alerts: Vec<Alert> = Vec::new();
    if args.alerts.is_empty() {
        let Some(s) = store.as_ref() else {
            bail!("give ALERT files or --db DIR")
        };
        for doc in s.alerts()? {
            alerts.push(
                serde_json::from_value(doc).context("a stored alert has an unexpected shape")?,
            );
        }
    }
    for f in &args.alerts {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        if sentinel::is_export(&text) {
            let (read, bad) = sentinel::read_export(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
            if bad > 0 {
                eprintln!(
                    "warning: {}: {bad} damaged SecurityAlert records skipped",
                    f.display()
                );
            }
            alerts.extend(read);
            continue;
        }
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            alerts.push(
                serde_json::from_str(line)
                    .with_context(|| format!("{}:{}: not an alert", f.display(), n + 1))?,
            );
        }
    }
    let c = correlate::correlate(&alerts, &options(args.window_minutes));
    let mut out = open_output(args.output.as_deref())?;
    serde_json::to_writer_pretty(&mut out, &incidents_doc(&c))?;
    out.write_all(b"\n")?;
    out.flush()?;
    if let Some(s) = store.as_mut() {
        // Alerts read from files are stored with their incidents (an incident's members must
        // be in the store); alerts read from the store are already there.
        let new: &[Alert] = if args.alerts.is_empty() { &[] } else { &alerts };
        pipeline::store_results(s, new, &c, "correlate")?;
    }
    eprintln!(
        "{} alerts → {} incidents, {} dismissed",
        alerts.len(),
        c.incidents.len(),
        c.dismissed.len()
    );
    Ok(0)
}

/// Runs `soc analyze`.
pub fn run_analyze(args: AnalyzeArgs) -> anyhow::Result<u8> {
    let d = detector(&args.sigma)?;
    let pk = packages(&args.rules)?;
    let mut store = match &args.db {
        Some(dir) => Some(Store::open(dir)?),
        None => None,
    };
    let bar = StepBar::new(args.json);
    let a = pipeline::analyze_observed(
        &args.inputs,
        &pk,
        &d,
        store.as_mut(),
        &options(args.window_minutes),
        &bar,
    )?;
    bar.finish();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let alerts_path = args.out.join("alerts.ndjson");
    write_alerts(&mut *open_output(Some(&alerts_path))?, &a.alerts)?;
    let inc_path = args.out.join("incidents.json");
    let iocs = crate::agents::tools::IocList::load(&args.ioc)?;
    let investigated = super::investigate::analyze_incidents(
        &args.out,
        &a.alerts,
        &a.correlation.incidents,
        &a.correlation.dismissed,
        &a.events,
        &iocs,
        store.as_mut(),
    )?;
    let mut doc = incidents_doc(&a.correlation);
    doc["incidents"] = investigated;
    let mut out = open_output(Some(&inc_path))?;
    serde_json::to_writer_pretty(&mut out, &doc)?;
    out.write_all(b"\n")?;
    out.flush()?;
    if args.json {
        println!("{}", serde_json::to_string(&a.summary)?);
    } else {
        for i in &a.summary.inputs {
            eprintln!(
                "{}: {} events via {}{}",
                i.path,
                i.events,
                i.normalization,
                if i.failed > 0 {
                    format!(", {} failed", i.failed)
                } else {
                    String::new()
                }
            );
        }
        eprintln!(
            "{} events → {} alerts ({} traceback) → {} incidents ({} alerts dismissed); {} rules loaded, {} skipped",
            a.summary.events,
            a.summary.alerts,
            a.summary.traceback_alerts,
            a.summary.incidents,
            a.summary.dismissed,
            a.summary.rules_loaded,
            a.summary.rules_skipped
        );
        eprintln!(
            "wrote {}, {} and {}",
            alerts_path.display(),
            inc_path.display(),
            args.out.join("reports").display()
        );
    }
    Ok(if a.summary.failed > 0 { 1 } else { 0 })
}
