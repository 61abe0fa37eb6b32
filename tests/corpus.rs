//! The real-mail corpus end to end: the binary reads every corpus folder and reports every
//! message; readable messages never give an error record; legitimate mail stays free of
//! stripped-header findings above low, and the measured rate is printed.

mod common;

use common::corpus_dir;
use mailtrace::analysis::analyze;
use mailtrace::config::AnalysisConfig;
use mailtrace::finding::Severity;
use mailtrace::input::{InputOptions, read_paths};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// Runs `mailtrace inspect --format jsonl` on a folder and returns its records.
fn inspect_jsonl(folder: &str) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["inspect", "--format", "jsonl"])
        .arg(corpus_dir().join(folder))
        .output()
        .expect("run mailtrace");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "{folder}: mailtrace panicked: {stderr}"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{folder}: invalid JSON line {line:?}: {e}"))
        })
        .collect()
}

fn count(records: &[Value], kind: &str) -> usize {
    records.iter().filter(|r| r["record"] == kind).count()
}

/// Lists the files under a folder, recursively.
fn files_under(folder: &str) -> Vec<PathBuf> {
    let mut stack = vec![corpus_dir().join(folder)];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// Tells whether a corpus file is known not to hold a readable message: licence and
/// notice files, expected-value data (JSON, YAML, XML, MIME summaries), a 1-byte file, a
/// CPython fixture that is a digest body without headers, and the two fuzzer-made .msg
/// files that the CFB reader rejects as corrupt.
fn expected_error(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let licence_folder = path.contains("/LICENSES/") || path.contains("/licenses/");
    let prefixes = [
        "LICENSE",
        "NOTICE",
        "COPYING",
        "README",
        "PSF-LICENSE",
        "rfc7208-tests",
    ];
    let suffixes = [".json", ".yml", ".xml", "-summary.txt", "mime-subject.txt"];
    let known = [
        "bsmtpnull",
        "msg_19.txt",
        "clusterfuzz-testcase-minimized-POIHSMFFuzzer-4735011465854976.msg",
        "clusterfuzz-testcase-minimized-POIHSMFFuzzer-5336473854148608.msg",
    ];
    licence_folder
        || prefixes.iter().any(|p| name.starts_with(p))
        || suffixes.iter().any(|s| name.ends_with(s))
        || known.contains(&name)
}

#[test]
fn phish_outlook_every_message_reported() {
    let records = inspect_jsonl("phish-outlook");
    let expected = files_under("phish-outlook")
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .count();
    assert_eq!(count(&records, "message"), expected);
    assert_eq!(
        count(&records, "error"),
        1,
        "only the LICENSE file is not a message"
    );
    let summary = records.last().unwrap();
    assert_eq!(summary["record"], "summary");
    assert_eq!(summary["messages"], expected);
}

#[test]
fn ham_2002_every_message_reported() {
    let records = inspect_jsonl("ham-2002");
    let expected = files_under("ham-2002").len();
    assert_eq!(
        count(&records, "message") + count(&records, "error"),
        expected
    );
    assert_eq!(
        count(&records, "error"),
        0,
        "{:?}",
        records
            .iter()
            .filter(|r| r["record"] == "error")
            .take(3)
            .collect::<Vec<_>>()
    );
}

#[test]
fn other_folders_report_every_message() {
    for folder in [
        "spamassassin-t",
        "spamscope",
        "cpython-email",
        "mailparser-vectors/eml",
        "maildir",
        "mbox",
        "msg",
        "auth-vectors",
    ] {
        let records = inspect_jsonl(folder);
        let messages = count(&records, "message");
        let errors: Vec<&Value> = records.iter().filter(|r| r["record"] == "error").collect();
        println!(
            "{folder}: {messages} messages, {} error records",
            errors.len()
        );
        assert!(messages > 0, "{folder}: no message read");
        for error in &errors {
            let path = error["path"].as_str().unwrap_or("");
            assert!(
                expected_error(path),
                "{folder}: readable message gave an error: {error}"
            );
        }
    }
}

#[test]
fn legitimate_mail_has_no_stripped_findings_above_low() {
    let config = AnalysisConfig::default();
    let folders = [
        "ham-2002",
        "spamassassin-t/nice",
        "maildir",
        "cpython-email",
    ];
    let mut total = 0;
    let mut flagged = Vec::new();
    for folder in folders {
        let paths = vec![corpus_dir().join(folder)];
        for input in read_paths(&paths, &InputOptions::default()).flatten() {
            let Ok(report) = analyze(&input, &config) else {
                continue;
            };
            total += 1;
            let hits: Vec<&str> = report
                .findings
                .iter()
                .filter(|f| f.id.starts_with("stripped.") && f.severity > Severity::Low)
                .map(|f| f.id.as_str())
                .collect();
            if !hits.is_empty() {
                flagged.push(format!("{} {:?}", input.source.path, hits));
            }
        }
    }
    let rate = flagged.len() as f64 * 100.0 / total.max(1) as f64;
    println!(
        "stripped.* above low on legitimate mail: {} of {total} messages ({rate:.2}%)",
        flagged.len()
    );
    for line in flagged.iter().take(20) {
        println!("  {line}");
    }
    assert!(
        total > 1000,
        "expected the legitimate folders to hold over 1000 messages, read {total}"
    );
    assert!(rate < 1.0, "false-positive rate {rate:.2}% is 1% or more");
}

/// A `From  :` header field (spaces before the colon) is no mbox separator: each of these
/// files stays one message with its whole header block.
#[test]
fn spaced_from_field_stays_one_message() {
    for file in ["spamassassin-t/spam/008", "phish-outlook/sample-400.eml"] {
        let records = inspect_jsonl(file);
        assert_eq!(count(&records, "message"), 1, "{file}: {records:?}");
        assert_eq!(count(&records, "error"), 0, "{file}: {records:?}");
        let message = &records[0];
        assert!(
            message["message"]["subject"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{file}: subject missing: {message}"
        );
    }
    let records = inspect_jsonl("spamassassin-t/spam/008");
    let hops = records[0]["hops"].as_array().map_or(0, Vec::len);
    assert!(hops > 0, "spam/008: no hops: {}", records[0]);
}

/// A message that a Google Group re-sent carries two trusted Received-SPF fields: the
/// group's receiver checked the first sender, the final receiver checked the group. Only
/// the final receiver's check is compared with the origin, so the findings agree.
#[test]
fn re_sent_message_uses_final_spf_check() {
    let records = inspect_jsonl("phish-outlook/sample-340.eml");
    let ids: Vec<&str> = records[0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    let spf_client = ids
        .iter()
        .filter(|id| **id == "auth.spf-client-not-origin")
        .count();
    assert_eq!(spf_client, 1, "{ids:?}");
    assert!(!ids.contains(&"chain.origin-behind-gateway"), "{ids:?}");
}
