//! `soc serve`: the HTTP API and web UI on an address, the store in a data directory.

use crate::server::{self, AppState, Config, Limits};
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Data directory of the embedded store (default: $SOC_DATA_DIR, else
    /// ~/.local/share/agentic-soc).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Require `Authorization: Bearer TOKEN` on every /v1/ route but health (default:
    /// $SOC_TOKEN; none when unset).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Time limit per request, seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Requests handled at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Largest request body, MiB (normalize: 32 × this).
    #[arg(long, default_value_t = 8)]
    pub body_limit_mib: usize,
    /// Logs as JSON lines (default: human-readable).
    #[arg(long)]
    pub log_json: bool,
    /// The LLM the server may use for suggestions (configured here only, never by a request).
    #[command(flatten)]
    pub llm: super::llm::LlmArgs,
}

/// The data directory: the flag, `SOC_DATA_DIR`, or `~/.local/share/agentic-soc`.
fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("SOC_DATA_DIR").map(PathBuf::from))
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/agentic-soc"))
        })
        .unwrap_or_else(|| PathBuf::from("soc-data"))
}

pub fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SOC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.log_json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
    let dir = data_dir(args.data.clone());
    let store = crate::store::Store::open(&dir)
        .with_context(|| format!("opening the store in {}", dir.display()))?;
    let llm: Option<Arc<dyn crate::llm::Llm>> = match args.llm.client()? {
        Some(c) => Some(Arc::new(c)),
        None => None,
    };
    let token = args
        .token
        .clone()
        .or_else(|| std::env::var("SOC_TOKEN").ok())
        .filter(|t| !t.is_empty());
    let limits = Limits {
        body_bytes: args.body_limit_mib << 20,
        normalize_bytes: (args.body_limit_mib << 20) * 32,
        timeout: Duration::from_secs(args.timeout.max(1)),
        concurrency: args.concurrency.max(1),
    };
    let state = AppState::new(Config {
        store,
        llm,
        token: token.clone(),
        limits,
        scratch: dir.join("tmp"),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let data = dir.display().to_string();
    runtime
        .block_on(server::serve(
            state,
            args.addr,
            move |addr| {
                tracing::info!(%addr, data = %data, auth = token.is_some(), "listening");
                eprintln!("soc serve: open http://{addr}/ (data in {data}; Ctrl-C stops)");
            },
            server::shutdown_signal(),
        ))
        .with_context(|| format!("serving on {}", args.addr))?;
    Ok(0)
}
