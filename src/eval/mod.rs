//! Scoring of generated rules against labeled datasets (`../shared/spec/EVALUATION.md`).
