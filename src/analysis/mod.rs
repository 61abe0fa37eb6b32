//! Analysis passes: each reads the header model and adds findings to the report.

pub mod arc;
