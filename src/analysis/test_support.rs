//! Helpers for the analysis unit tests.

use crate::analysis::{Report, analyze};
use crate::config::AnalysisConfig;
use crate::input::{InputOptions, read_bytes};

/// Reads `bytes` as one message and analyses it with `config`.
pub fn analyse_bytes(bytes: Vec<u8>, config: &AnalysisConfig) -> Report {
    let input = read_bytes("test.eml", bytes, None, &InputOptions::default())
        .into_iter()
        .next()
        .expect("one message")
        .expect("message is read");
    analyze(&input, config).expect("message is analysed")
}

/// Reads `text` as one message and analyses it with the default settings.
pub fn analyse_text(text: &str) -> Report {
    analyse_bytes(text.as_bytes().to_vec(), &AnalysisConfig::default())
}

/// Returns the line of each authentication-results field and whether it is trusted.
pub fn trusted_lines(report: &Report) -> Vec<(usize, bool)> {
    report
        .auth
        .results
        .iter()
        .map(|f| (f.line, f.trusted))
        .collect()
}
