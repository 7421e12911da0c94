//! Log standardization: format detection, field inference, template mining, mapping onto the
//! unified model, SPL synthesis and the validated suggestion loop. Synchronous and offline;
//! an optional [`Advisor`] (implemented over an LLM elsewhere) refines what it is unsure about.
//! Must not depend on tokio, axum or reqwest.

pub mod detect;
pub mod fields;
pub mod framing;
pub mod knowledge;
pub mod map;
pub mod suggest;
pub mod synth;
pub mod templates;

pub use suggest::{Coverage, FieldSuggestion, SuggestOptions, Suggestion, suggest, suggest_with};

/// Refines fields the engine is unsure about (an LLM implements it; the default does nothing).
pub trait Advisor {
    /// Given a field (source name, type, sample values) and the engine's guess with its
    /// confidence, returns a better target, or `None` to keep the guess.
    fn refine_field(
        &self,
        source: &str,
        ty: &str,
        samples: &[String],
        guess: &str,
        confidence: f64,
    ) -> Option<String> {
        let _ = (source, ty, samples, guess, confidence);
        None
    }
}

/// The advisor that never changes anything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAdvisor;

impl Advisor for NoAdvisor {}
