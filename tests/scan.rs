//! `mailtrace scan` end to end: one record per message over the whole corpus, error
//! records, summary totals, output identical for any thread count, filters, CSV,
//! `--output`, `--fail-on`, and a panic in one message's analysis.

mod common;

use mailtrace::config::AnalysisConfig;
use mailtrace::input::{InputOptions, read_paths};
use mailtrace::scan::{Outcome, scan};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CLEAN: &str = "\
Received: from mx.example.org (mx.example.org [192.0.2.10])
 by mail.example.org with ESMTPS id 4F3A21C0099
 for <bob@example.org>; Mon, 3 Mar 2025 10:00:05 +0000
Authentication-Results: mail.example.org; spf=pass smtp.mailfrom=example.com;
 dkim=pass header.d=example.com; dmarc=pass header.from=example.com
Received: from out.example.com (out.example.com [198.51.100.5])
 by mx.example.org with ESMTPS id 1aBcDe-000Xy1-Ab
 for <bob@example.org>; Mon, 3 Mar 2025 10:00:02 +0000
From: Alice <alice@example.com>
To: bob@example.org
Subject: SUBJECT
Date: Mon, 3 Mar 2025 10:00:00 +0000
Message-ID: <q3@example.com>

See attached.
";

fn clean_message(subject: &str) -> String {
    CLEAN.replace("SUBJECT", subject)
}

fn mailtrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("start mailtrace")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn records(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is one JSON record"))
        .collect()
}

fn of_kind<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["record"] == kind).collect()
}

fn summary_of(records: &[Value]) -> &Value {
    let summaries = of_kind(records, "summary");
    assert_eq!(summaries.len(), 1, "exactly one summary record");
    let last = records.last().expect("output has records");
    assert_eq!(last["record"], "summary", "the summary comes last");
    summaries[0]
}

/// Location of a message record or error record: path and mbox index.
fn location(record: &Value) -> (String, Option<u64>) {
    let (path, index) = if record["record"] == "message" {
        (&record["source"]["path"], &record["source"]["index"])
    } else {
        (&record["path"], &record["index"])
    };
    (
        path.as_str().unwrap_or_default().to_string(),
        index.as_u64(),
    )
}

fn count<I: IntoIterator<Item = (String, Option<u64>)>>(
    items: I,
) -> BTreeMap<(String, Option<u64>), usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_default() += 1;
    }
    counts
}

fn corpus() -> String {
    common::corpus_dir().to_string_lossy().into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The expected inputs come from the library's `read_paths`, run sequentially in this
/// test without the scan engine. It is the same reader, so this checks that the parallel
/// engine neither drops nor duplicates messages or errors. Whether the reader finds every
/// message of each format is tested by the input tests. A message the reader returns may
/// still fail analysis and become an error record, so every record must match one input.
#[test]
fn whole_corpus_one_record_per_message() {
    let corpus = corpus();
    let expected: Vec<_> =
        read_paths(&[PathBuf::from(&corpus)], &InputOptions::default()).collect();
    let read_ok = count(expected.iter().filter_map(|result| {
        let source = &result.as_ref().ok()?.source;
        Some((source.path.clone(), source.index.map(|i| i as u64)))
    }));
    let read_errors = count(expected.iter().filter_map(|result| {
        let error = result.as_ref().err()?;
        Some((error.path.clone(), error.index.map(|i| i as u64)))
    }));
    assert!(
        read_ok.values().sum::<usize>() > 2000,
        "the corpus holds over 2,000 messages"
    );
    assert!(
        !read_errors.is_empty(),
        "the corpus holds files that are not messages"
    );

    let output = mailtrace(&["scan", &corpus, "--format", "jsonl", "--sort"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = records(&output);
    let messages = of_kind(&records, "message");
    let errors = of_kind(&records, "error");
    let summary = summary_of(&records);
    assert_eq!(
        messages.len() + errors.len() + 1,
        records.len(),
        "only known record kinds"
    );

    // Every input the reader returned has exactly one record.
    let mut seen = count(messages.iter().map(|r| location(r)));
    for (key, n) in count(errors.iter().map(|r| location(r))) {
        *seen.entry(key).or_default() += n;
    }
    let mut inputs = read_ok.clone();
    for (key, n) in &read_errors {
        *inputs.entry(key.clone()).or_default() += n;
    }
    assert_eq!(
        seen, inputs,
        "records per (path, index) differ from the inputs read"
    );

    // Files that are not messages are error records with their path and reason.
    for (path, index) in read_errors.keys() {
        let record = errors
            .iter()
            .find(|r| location(r) == (path.clone(), *index))
            .unwrap_or_else(|| panic!("no error record for {path}"));
        assert!(
            record["reason"]
                .as_str()
                .is_some_and(|r| r.contains(path.as_str()))
        );
        assert_eq!(record["panicked"], false);
    }
    assert!(
        errors
            .iter()
            .any(|r| r["path"].as_str().unwrap().ends_with("README.md"))
    );

    // The summary's totals add up.
    let total = |key: &str| summary[key].as_u64().unwrap() as usize;
    assert_eq!(total("messages"), messages.len());
    assert_eq!(total("reported"), messages.len());
    assert_eq!(total("filtered_out"), 0);
    assert_eq!(total("messages"), total("reported") + total("filtered_out"));
    assert_eq!(total("errors"), errors.len());
    assert_eq!(total("panics"), 0);
    let by_verdict: u64 = ["low", "medium", "high"]
        .iter()
        .map(|v| summary["by_verdict"][v].as_u64().unwrap())
        .sum();
    assert_eq!(by_verdict as usize, messages.len());
}

#[test]
fn sorted_output_same_for_any_thread_count() {
    let corpus = corpus();
    let one = mailtrace(&[
        "scan",
        &corpus,
        "--format",
        "jsonl",
        "--sort",
        "--threads",
        "1",
    ]);
    let all = mailtrace(&[
        "scan",
        &corpus,
        "--format",
        "jsonl",
        "--sort",
        "--threads",
        "0",
    ]);
    let three = mailtrace(&[
        "scan",
        &corpus,
        "--format",
        "jsonl",
        "--sort",
        "--threads",
        "3",
    ]);
    assert!(one.stdout.len() > 1_000_000, "the corpus output is large");
    assert!(
        one.stdout == all.stdout,
        "--threads 1 and all threads differ"
    );
    assert!(
        one.stdout == three.stdout,
        "--threads 1 and --threads 3 differ"
    );
}

fn phish() -> String {
    common::corpus_dir()
        .join("phish-outlook")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn min_score_keeps_full_summary() {
    let phish = phish();
    let all = records(&mailtrace(&["scan", &phish, "--format", "jsonl"]));
    let filtered = records(&mailtrace(&[
        "scan",
        &phish,
        "--format",
        "jsonl",
        "--min-score",
        "40",
    ]));
    let score = |r: &&Value| r["spoof"]["score"].as_u64().unwrap();
    let expected = of_kind(&all, "message")
        .iter()
        .filter(|r| score(r) >= 40)
        .count();
    let kept = of_kind(&filtered, "message");
    assert!(expected > 0, "some messages score 40 or more");
    assert!(
        expected < of_kind(&all, "message").len(),
        "some messages score under 40"
    );
    assert_eq!(kept.len(), expected);
    assert!(kept.iter().all(|r| score(r) >= 40));

    let summary = summary_of(&filtered);
    let messages = summary["messages"].as_u64().unwrap();
    assert_eq!(messages as usize, of_kind(&all, "message").len());
    assert_eq!(summary["reported"].as_u64().unwrap() as usize, expected);
    assert_eq!(
        summary["reported"].as_u64().unwrap() + summary["filtered_out"].as_u64().unwrap(),
        messages
    );
    assert_eq!(
        of_kind(&filtered, "error").len(),
        of_kind(&all, "error").len()
    );
    // The campaign summary describes every message read, not only those shown.
    assert_eq!(summary["by_verdict"], summary_of(&all)["by_verdict"]);
    assert_eq!(
        summary["top_origin_ips"],
        summary_of(&all)["top_origin_ips"]
    );
}

#[test]
fn verdict_filter_keeps_only_that_verdict() {
    let phish = phish();
    let all = records(&mailtrace(&["scan", &phish, "--format", "jsonl"]));
    let args = [
        "scan",
        &phish,
        "--format",
        "jsonl",
        "--verdict",
        "high",
        "--verdict",
        "medium",
    ];
    let filtered = records(&mailtrace(&args));
    let wanted = |r: &&Value| r["spoof"]["verdict"] == "high" || r["spoof"]["verdict"] == "medium";
    let expected = of_kind(&all, "message").into_iter().filter(wanted).count();
    let kept = of_kind(&filtered, "message");
    assert!(expected > 0);
    assert_eq!(kept.len(), expected);
    assert!(kept.iter().all(wanted));
}

/// Splits CSV text (RFC 4180) into rows of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "CSV ends with a line break"
    );
    rows
}

#[test]
fn csv_has_header_and_quotes_fields() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.eml", &clean_message("Invoice, \"urgent\""));
    write(
        dir.path(),
        "b.eml",
        &clean_message("=HYPERLINK(\"http://example.net\")"),
    );
    write(dir.path(), "c.eml", &clean_message("plain"));
    let folder = dir.path().to_string_lossy().into_owned();
    let output = mailtrace(&["scan", &folder, "--format", "csv", "--sort"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.contains("\"Invoice, \"\"urgent\"\"\""), "{text}");

    let rows = parse_csv(&text);
    assert_eq!(
        rows[0].join(","),
        "path,index,attachment,verdict,score,from_address,from_domain,origin_ip,origin_provider,ip_matches,finding_ids,score_reasons,subject,error"
    );
    assert_eq!(rows.len(), 4, "header and one row per message");
    assert!(rows.iter().all(|row| row.len() == 14), "{rows:?}");
    let subjects: Vec<&str> = rows[1..].iter().map(|row| row[12].as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Invoice, \"urgent\"",
            "'=HYPERLINK(\"http://example.net\")",
            "plain"
        ]
    );
    assert_eq!(rows[1][5], "alice@example.com");
    assert!(String::from_utf8_lossy(&output.stderr).contains("Campaign summary"));
}

#[test]
fn csv_has_a_row_for_each_unreadable_input() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.eml", &clean_message("plain"));
    write(dir.path(), "empty.eml", "");
    let folder = dir.path().to_string_lossy().into_owned();
    let output = mailtrace(&["scan", &folder, "--format", "csv", "--sort"]);
    let rows = parse_csv(&stdout(&output));
    assert_eq!(rows.len(), 3, "header, one message and one error: {rows:?}");
    assert!(rows.iter().all(|row| row.len() == 14), "{rows:?}");
    let error = &rows[2];
    assert!(error[0].ends_with("empty.eml"), "{error:?}");
    assert_eq!(error[3], "error");
    assert!(error[13].contains("the input is empty"), "{error:?}");
    assert_eq!(rows[1][13], "", "a message row has no error");
}

#[test]
fn output_file_gets_what_stdout_would() {
    let dir = tempfile::tempdir().unwrap();
    let message = write(dir.path(), "a.eml", &clean_message("Hello"));
    let out = dir.path().join("out.jsonl").to_string_lossy().into_owned();
    let to_file = mailtrace(&["scan", &message, "--format", "jsonl", "--output", &out]);
    let to_stdout = mailtrace(&["scan", &message, "--format", "jsonl"]);
    assert_eq!(to_file.status.code(), Some(0));
    assert!(to_file.stdout.is_empty());
    let written = std::fs::read(&out).unwrap();
    assert_eq!(written, to_stdout.stdout);
    assert_eq!(
        records(&to_stdout).len(),
        2,
        "one message record and the summary"
    );
}

#[test]
fn fail_on_sets_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let message = write(dir.path(), "a.eml", &clean_message("Hello"));
    let notes = write(dir.path(), "notes.txt", "just some notes\n");
    let low = mailtrace(&["scan", &message, "--fail-on", "low"]);
    assert_eq!(low.status.code(), Some(1), "every verdict reaches low");
    let high = mailtrace(&["scan", &message, "--fail-on", "high"]);
    assert_eq!(high.status.code(), Some(0), "{}", stdout(&high));
    let no_messages = mailtrace(&["scan", &notes]);
    assert_eq!(no_messages.status.code(), Some(2));
}

#[test]
fn mbox_members_and_errors_are_records() {
    let dir = tempfile::tempdir().unwrap();
    let member = |subject: &str| {
        format!(
            "From alice@example.com Mon Mar  3 10:00:00 2025\n{}\n",
            clean_message(subject)
        )
    };
    let mbox = format!("{}{}{}", member("one"), member("two"), member("three"));
    let path = write(dir.path(), "box.mbox", &mbox);
    let missing = dir
        .path()
        .join("missing.eml")
        .to_string_lossy()
        .into_owned();
    let output = mailtrace(&["scan", &path, &missing, "--format", "jsonl", "--sort"]);
    let records = records(&output);
    let indexes: Vec<Option<u64>> = of_kind(&records, "message")
        .iter()
        .map(|r| location(r).1)
        .collect();
    assert_eq!(indexes, [Some(0), Some(1), Some(2)]);
    let errors = of_kind(&records, "error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["path"], missing.as_str());
    assert_eq!(summary_of(&records)["errors"], 1);
    assert!(String::from_utf8_lossy(&output.stderr).contains(&missing));
}

#[test]
fn panic_in_one_message_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    for (name, subject) in [("a.eml", "first"), ("b.eml", "boom"), ("c.eml", "third")] {
        write(dir.path(), name, &clean_message(subject));
    }

    let mut subjects = Vec::new();
    let mut errors = Vec::new();
    let result = scan(
        &[dir.path().to_path_buf()],
        &InputOptions::default(),
        &AnalysisConfig::default(),
        None,
        2,
        |report| {
            let subject = report.message.subject.clone().unwrap_or_default();
            assert_ne!(subject, "boom", "reduce panics on this message");
            subject
        },
        |outcome| match outcome {
            Outcome::Message(subject) => subjects.push(subject),
            Outcome::Error(error) => errors.push(error),
        },
    );
    assert!(result.is_ok());

    subjects.sort();
    assert_eq!(subjects, ["first", "third"]);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].panicked);
    assert!(errors[0].path.ends_with("b.eml"), "{}", errors[0].path);
    assert!(errors[0].reason.contains("b.eml"), "{}", errors[0].reason);
    assert!(
        errors[0].reason.contains("reduce panics on this message"),
        "{}",
        errors[0].reason
    );
}
