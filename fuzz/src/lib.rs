//! Shared code of the fuzz targets: runs the whole pipeline on what the input module
//! returned and checks the properties that must hold for any input.

use mailtrace::analysis::analyze;
use mailtrace::config::AnalysisConfig;
use mailtrace::input::{InputOptions, InputResult, read_bytes};
use mailtrace::report::escape::escape_terminal;
use mailtrace::report::json::{message_record, report_value};
use mailtrace::report::text::{Style, render};
use mailtrace::scan::summary::{Digest, Summary};
use std::sync::OnceLock;

/// Returns the analysis settings, built once because parsing the built-in IP lists is slow.
pub fn config() -> &'static AnalysisConfig {
    static CONFIG: OnceLock<AnalysisConfig> = OnceLock::new();
    CONFIG.get_or_init(AnalysisConfig::default)
}

/// Reads `data` as a file called `label` and runs every message through the pipeline.
pub fn read_and_analyse(label: &str, data: &[u8]) {
    let results = read_bytes(label, data.to_vec(), None, &InputOptions::default());
    analyse_all(results);
}

/// Reads `data` as a file called `label` and checks what the input layer returns, without
/// the analysis. The `message` target covers the analysis of any bytes, including what
/// the readers return, so the reader targets spend their executions on the readers.
///
/// Checks that every message is labelled inside the input, that mbox messages come in
/// order from distinct offsets inside the file, that what the reader records serialises,
/// and that every error prints without a character a terminal would act on.
pub fn read_only(label: &str, data: &[u8]) {
    let results = read_bytes(label, data.to_vec(), None, &InputOptions::default());
    let mut last_offset: Option<u64> = None;
    for result in results {
        let input = match result {
            Ok(input) => input,
            Err(error) => {
                assert_terminal_safe(&escape_terminal(&error.to_string()).replace('\n', " "));
                continue;
            }
        };
        assert_eq!(input.source.path, label, "a message names another file");
        if let Some(offset) = input.source.offset {
            assert!(offset <= data.len() as u64, "offset {offset} beyond the input");
            if input.source.attachment.is_none() {
                assert!(last_offset.is_none_or(|last| offset > last), "offsets out of order");
                last_offset = Some(offset);
            }
        }
        if let Some(envelope) = &input.envelope {
            serde_json::to_string(envelope).expect("envelope serialises");
        }
        if let Some(metadata) = &input.msg {
            serde_json::to_string(metadata).expect(".msg metadata serialises");
        }
        for finding in &input.findings {
            let printed = escape_terminal(&format!("{} {}", finding.title, finding.detail));
            assert_terminal_safe(&printed.replace('\n', " "));
        }
    }
}

/// Analyses every message read, renders it as JSON and as text, and adds it to a scan
/// summary. Panics when the JSON does not parse back or the text carries a character that
/// a terminal would act on.
pub fn analyse_all(results: Vec<InputResult>) {
    let mut summary = Summary::default();
    for result in results {
        let input = match result {
            Ok(input) => input,
            Err(error) => {
                // The reason keeps the exact bytes for JSON (a .msg stream name can hold
                // U+0000); the command line escapes it before printing, as checked here.
                let printed = escape_terminal(&error.to_string());
                assert_terminal_safe(&printed.replace('\n', " "));
                continue;
            }
        };
        let Ok(report) = analyze(&input, config()) else {
            continue;
        };

        let json = serde_json::to_string(&report_value(&report)).expect("report serialises");
        serde_json::from_str::<serde_json::Value>(&json).expect("report JSON parses back");
        let record = serde_json::to_string(&message_record(&report)).expect("record serialises");
        assert!(!record.contains('\n'), "a JSON Lines record spans lines");

        assert_terminal_safe(&render(&report, Style { colour: false }));
        summary.add(&Digest::from_report(&report));
    }
    assert_terminal_safe(&summary.render_text());
    serde_json::to_string(&summary.to_json()).expect("summary serialises");
}

/// Panics on a control character other than LF, a bidi control or a zero-width
/// character in text meant for a terminal.
pub fn assert_terminal_safe(text: &str) {
    for c in text.chars() {
        let code = c as u32;
        let unsafe_char = (c.is_control() && c != '\n')
            || matches!(code, 0x200B..=0x200F | 0x202A..=0x202E | 0x2066..=0x2069 | 0xFEFF);
        assert!(!unsafe_char, "raw U+{code:04X} in terminal output");
    }
}
