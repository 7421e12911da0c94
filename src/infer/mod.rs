//! Log standardization: format detection, field inference, template mining, mapping onto the
//! unified model, SPL synthesis and the validated suggestion loop. Synchronous and offline;
//! an optional [`Advisor`] (implemented over an LLM elsewhere) refines what it is unsure about.
//! Must not depend on tokio, axum or reqwest.

pub mod actions;
pub mod advice;
mod assemble;
mod categorize;
mod collect;
pub mod detect;
pub mod embedded;
pub mod entities;
mod extraction;
pub mod fields;
pub mod framing;
pub mod knowledge;
pub mod learned;
pub mod map;
pub mod peel;
mod positional;
pub mod products;
pub mod suggest;
pub mod synth;
pub mod templates;

pub use suggest::{Coverage, FieldSuggestion, SuggestOptions, Suggestion, suggest, suggest_with};

pub use advice::{Advisor, NoAdvisor};
