//! The unified security model: the ECS field catalog (name, type, level), the categorization
//! allowed values, and validation of normalized events. Imports nothing internal but
//! `diagnostic` and `event`.
//!
//! Both tables are embedded from `datasets/schema/` (ECS, Apache-2.0; see its `SOURCES.md`)
//! and parsed once, on first use.
//!
//! ```
//! use agentic_soc::model::{self, FieldType};
//! assert_eq!(model::catalog().get("destination.port").unwrap().ty, FieldType::Long);
//! assert!(model::allowed_values("event.kind").unwrap().iter().any(|k| k == "alert"));
//! ```

mod allowed;
mod catalog;
mod validate;

pub use allowed::{allowed_types_for_category, allowed_values, enumerated_fields};
pub use catalog::{Catalog, FieldDef, FieldType, catalog};
pub use validate::validate;
