//! The `soc` command line: clap definitions and dispatch, one file per subcommand.
//!
//! Thin glue over the library. Exit codes: 0 clean, 1 some events failed, 2 fatal (a rule
//! that does not compile, unreadable input). A closed stdout (broken pipe) exits 0.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod analyze;
pub mod eval;
pub mod investigate;
pub mod learn;
pub mod llm;
pub mod normalize;
pub mod products;
pub mod serve;
pub mod spl;
pub mod suggest;
pub mod test;

/// agentic-soc: log standardization with an SLS SPL engine.
#[derive(Debug, Parser)]
#[command(name = "soc", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check, format and run SPL rules; list the function library.
    #[command(subcommand)]
    Spl(spl::SplCommand),
    /// Run rule packages (rule.spl + samples + expected output) and diff the results.
    Test(test::TestArgs),
    /// Normalize log archives with a rule: parallel, in input order, every event accounted.
    Normalize(normalize::NormalizeArgs),
    /// Score suggested rules against labeled datasets (Elastic pipeline tests).
    Eval(eval::EvalArgs),
    /// Suggest a normalization rule (format, fields, ECS mapping, SPL) from sample lines.
    Suggest(suggest::SuggestArgs),
    /// Normalize inputs (the matching rule package or the product library) and store them.
    Ingest(analyze::IngestArgs),
    /// Run Sigma rules over events (normalized, Windows event JSON or raw logs): alerts as NDJSON.
    Detect(analyze::DetectArgs),
    /// Group alerts into incidents through shared entities within a time window.
    Correlate(analyze::CorrelateArgs),
    /// The whole chain: normalize inputs, detect, correlate; writes alerts.ndjson and incidents.json.
    Analyze(analyze::AnalyzeArgs),
    /// Investigate a stored incident: verdict, techniques, root cause, timeline, recommendations.
    Investigate(investigate::InvestigateArgs),
    /// What the store knows about an IP, hash, domain, host, user, process or cloud identity.
    Entity(investigate::EntityArgs),
    /// List an incident's response actions; approve (and run), reject or re-run one.
    Respond(investigate::RespondArgs),
    /// Write an incident's report (Markdown, HTML, SVG attack path; --json: STIX 2.1 IOCs).
    Report(investigate::ReportArgs),
    /// Ask a question about incidents, alerts and entities in the store.
    Ask(investigate::AskArgs),
    /// Learn key → field knowledge from labeled datasets (writes knowledge/learned.json).
    Learn(learn::LearnArgs),
    /// The HTTP API under /v1/ and the web UI at / (paste logs, get a rule, tune it, save it).
    Serve(serve::ServeArgs),
    /// List the product library: products, log types, fields known, documentation sources.
    Products(products::ProductsArgs),
}

/// Runs the CLI with the process arguments and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    run(cli)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Spl(cmd) => spl::run(cmd),
        Command::Test(args) => test::run(args),
        Command::Normalize(args) => normalize::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Suggest(args) => suggest::run(args),
        Command::Ingest(args) => analyze::run_ingest(args),
        Command::Detect(args) => analyze::run_detect(args),
        Command::Correlate(args) => analyze::run_correlate(args),
        Command::Analyze(args) => analyze::run_analyze(args),
        Command::Learn(args) => learn::run(args),
        Command::Investigate(args) => investigate::run_investigate(args),
        Command::Entity(args) => investigate::run_entity(args),
        Command::Respond(args) => investigate::run_respond(args),
        Command::Report(args) => investigate::run_report(args),
        Command::Ask(args) => investigate::run_ask(args),
        Command::Serve(args) => serve::run(args),
        Command::Products(args) => products::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
