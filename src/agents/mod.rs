//! The agent pipeline after normalization: detection (Sigma rules → alerts), correlation
//! (alerts → incidents) and the Windows event normalization that feeds them.
//!
//! Depends on `store` (time parsing, persistence) and JSON events; never on `cli` or `server`.

pub mod correlate;
pub mod detect;
pub mod ingest;
pub mod pipeline;
pub mod sentinel;
pub mod winlog;
