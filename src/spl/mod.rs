//! The SLS SPL engine: `parse` (text → AST, the only pest user), `plan` (resolve names,
//! check arity and types, precompile), `run` (per event), `functions` (the registry) and
//! `print` (canonical text). Synchronous; never imports tokio, axum or reqwest.
//!
//! ```
//! use agentic_soc::spl;
//! let plan = spl::compile("* | parse-regexp content, '(\\S+) (\\w+)' as ip, method").unwrap();
//! let mut runner = spl::Runner::new(&plan);
//! let mut out = Vec::new();
//! runner.run_event(runner.line_event("10.0.0.1 GET".into()), &mut out).unwrap();
//! assert_eq!(out[0].1.get("method").unwrap().to_text().unwrap(), "GET");
//! ```

pub mod ast;
pub mod functions;
pub mod ops;
pub mod parse;
pub mod plan;
pub mod print;
pub mod rawjson;
pub mod run;
pub mod splitter;
pub(crate) mod temps;
pub mod text;

pub use plan::{Plan, PlanOptions, compile, compile_with};
pub use run::{BatchResult, Failure, Output, ParseOutcome, Runner};
