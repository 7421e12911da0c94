//! SPL functions: time family (placeholder until the family lands).

use super::Function;

pub(super) const FUNCTIONS: &[Function] = &[];
