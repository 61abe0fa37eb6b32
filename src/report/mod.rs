//! Renderers: turn reports into text for terminals, JSON, JSON Lines and CSV. Renderers
//! never compute; everything they show is already in the report.

pub mod escape;
pub mod json;
pub mod text;

/// Output format of `inspect` and `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable report for terminals.
    Text,
    /// One JSON array of reports.
    Json,
    /// One JSON record per line: messages, errors and a summary.
    Jsonl,
    /// One CSV row per message (scan).
    Csv,
}
