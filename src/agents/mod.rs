//! The agent pipeline after normalization: detection (Sigma rules and behavioural scans →
//! alerts), correlation (alerts → incidents), the Windows event normalization that feeds
//! them, and the agents that act on incidents: investigation, entity analysis, response with
//! approval, reports, the security assistant and the team leader that plans their work.
//!
//! Depends on `store` (time parsing, persistence) and JSON events; never on `cli` or `server`.

pub mod assistant;
pub mod attack;
pub mod behaviour;
pub mod correlate;
pub mod detect;
pub mod entity;
pub mod ingest;
pub mod investigate;
pub mod leader;
pub mod pipeline;
pub mod report;
pub mod respond;
pub mod sentinel;
pub mod tools;
pub mod winlog;
