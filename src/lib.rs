//! agentic-soc: an open, offline-first log standardization engine.
//!
//! Crate map (dependencies flow one way, top to bottom):
//! - [`diagnostic`]: spans and the one `Diagnostic` type.
//! - [`event`]: values and events shared by the SPL engine and everything that runs it.
//! - [`model`]: the unified security model (ECS catalog, allowed values, validation).
//! - [`spl`]: the SLS SPL engine: parse → plan → run, the function registry, the printer.
//! - [`infer`]: log standardization (`soc suggest`): format detection, field typing,
//!   template mining, ECS mapping, SPL synthesis and validation.
//! - [`llm`]: OpenAI-compatible chat client (schema-checked answers, retries, disk cache)
//!   and the advisor that lets a model refine what [`infer`] is unsure about.
//! - [`eval`]: scoring of suggested rules against labeled data (`soc eval`), the loghub
//!   template-mining benchmark and the SPL conformance corpus.
//! - [`rules`]: rule packages and their regression tests (`soc test`).
//! - [`batch`]: batch normalization of log archives (`soc normalize`): framing, parallel
//!   runs in input order, dead letters, accounting, checkpoints.
//! - [`store`]: the embedded SQLite store (events, alerts, incidents, entities, audit log).
//! - [`agents`]: detection (Sigma rules → alerts) and correlation (alerts → incidents).
//! - [`server`]: the HTTP API (`/v1/`) and the embedded web UI (`soc serve`).
//! - [`cli`]: the `soc` command line (thin glue over the library).
#![forbid(unsafe_code)]

pub mod agents;
pub mod batch;
pub mod cli;
pub mod diagnostic;
pub mod eval;
pub mod event;
pub mod infer;
pub mod llm;
pub mod model;
pub mod rules;
pub mod server;
pub mod spl;
pub mod store;

pub use diagnostic::{Diagnostic, Span, Spanned};
pub use event::{Event, Value};
