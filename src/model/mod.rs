//! The unified security model: the ECS field catalog (name, type, level), the categorization
//! allowed values, and validation of normalized events. Imports nothing internal but
//! `diagnostic` and `event`.
