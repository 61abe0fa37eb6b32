//! Renderers: turn reports into text for terminals, JSON, JSON Lines and CSV. Renderers
//! never compute; everything they show is already in the report.

pub mod escape;
pub mod json;
pub mod text;
