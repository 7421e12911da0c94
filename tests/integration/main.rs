//! The one integration test binary: SPL case files, registry examples, the SLS statements
//! of SPL.md section 7, the CLI, and property tests over random rules and events.

mod advice;
mod analyze;
mod bad_diagnostics;
mod browser;
mod cli;
mod common;
mod detect;
mod docs;
mod eval;
mod fastpaths;
mod functions;
mod generalize;
mod infer;
mod limits;
mod llm_client;
mod local_llm;
mod loghub;
mod model;
mod normalize;
mod props;
mod roundtrip;
mod rules;
mod scenarios;
mod server;
mod sls_statements;
mod spl_cases;
mod unparsed;
mod workloads;
