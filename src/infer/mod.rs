//! Log standardization: format detection, field inference, template mining, mapping onto the
//! unified model, SPL synthesis and the validated suggestion loop. Synchronous and offline;
//! an optional `Advisor` (implemented over an LLM elsewhere) refines what it is unsure about.

pub mod suggest;

pub use suggest::{Coverage, FieldSuggestion, SuggestOptions, Suggestion, suggest};
