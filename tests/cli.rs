//! The binary end to end: exit codes, errors that name the file, stdin, the JSON contract,
//! JSON Lines records, `--fail-on`, IP lists and terminal-safe text output.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const CLEAN: &str = "\
Received: from mx.example.org (mx.example.org [192.0.2.10])
 by mail.example.org with ESMTPS id 4F3A21C0099
 for <bob@example.org>; Mon, 3 Mar 2025 10:00:05 +0000
Authentication-Results: mail.example.org; spf=pass smtp.mailfrom=example.com;
 dkim=pass header.d=example.com; dmarc=pass header.from=example.com
Received: from out.example.com (out.example.com [198.51.100.5])
 by mx.example.org with ESMTPS id 1aBcDe-000Xy1-Ab
 for <bob@example.org>; Mon, 3 Mar 2025 10:00:02 +0000
DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to:subject:date;
 bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==
From: Alice <alice@example.com>
To: bob@example.org
Subject: Quarterly numbers
Date: Mon, 3 Mar 2025 10:00:00 +0000
Message-ID: <q3@example.com>

See attached.
";

fn mailtrace(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mailtrace");
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        // A run that rejects its arguments exits without reading standard input.
        match input.write_all(bytes) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
            result => result.unwrap(),
        }
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn inspect_clean_message_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "clean.eml", CLEAN);
    let output = mailtrace(&["inspect", &path], None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    assert!(
        text.contains("Relay chain (2 hops, oldest first)"),
        "{text}"
    );
    assert!(text.contains("198.51.100.5"), "{text}");
    assert!(text.contains("Spoof score"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "NO_COLOR output must hold no escape sequences"
    );
}

#[test]
fn json_report_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "clean.eml", CLEAN);
    let output = mailtrace(&["inspect", "--format", "json", &path], None);
    let reports: Value = serde_json::from_slice(&output.stdout).unwrap();
    let report = &reports[0];
    assert_eq!(report["schema_version"], "1");
    assert_eq!(report["source"]["format"], "eml");
    assert_eq!(report["message"]["from"]["address"], "alice@example.com");
    assert_eq!(report["message"]["from"]["domain"], "example.com");
    assert_eq!(report["hops"][0]["index"], 1);
    assert_eq!(report["hops"][0]["from_ip"], "198.51.100.5");
    assert_eq!(report["hops"][0]["timestamp"], "2025-03-03T10:00:02Z");
    assert_eq!(report["hops"][1]["delay_seconds"], 3);
    assert_eq!(report["origin"]["ip"], "198.51.100.5");
    assert_eq!(report["origin"]["hop"], 1);
    assert_eq!(report["auth"]["results"][0]["trusted"], true);
    assert_eq!(report["auth"]["results"][2]["method"], "dmarc");
    for key in ["findings", "ip_matches"] {
        assert!(report[key].is_array(), "{key}");
    }
    assert!(report["spoof"]["score"].as_u64().unwrap() < 40);
    assert_eq!(report["spoof"]["verdict"], "low");
}

#[test]
fn stdin_is_read_with_dash() {
    let output = mailtrace(
        &["inspect", "--format", "jsonl", "-"],
        Some(CLEAN.as_bytes()),
    );
    assert_eq!(output.status.code(), Some(0));
    let records: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["record"], "message");
    assert_eq!(records[0]["source"]["format"], "stdin");
    assert_eq!(records.last().unwrap()["record"], "summary");
}

#[test]
fn stdin_given_twice_is_refused() {
    for command in ["inspect", "scan"] {
        let output = mailtrace(&[command, "-", "-"], Some(CLEAN.as_bytes()));
        assert_eq!(output.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("given more than once"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn unreadable_input_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let junk = write(
        dir.path(),
        "notes.txt",
        &"just a line of prose\n".repeat(100),
    );
    let good = write(dir.path(), "good.eml", CLEAN);

    let only_bad = mailtrace(&["inspect", &junk], None);
    assert_eq!(only_bad.status.code(), Some(2), "nothing could be read");
    let stderr = String::from_utf8_lossy(&only_bad.stderr);
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert!(stderr.starts_with("mailtrace: "), "{stderr}");

    let mixed = mailtrace(&["inspect", "--format", "jsonl", &junk, &good], None);
    assert_eq!(mixed.status.code(), Some(0), "one message was read");
    let records: Vec<Value> = stdout(&mixed)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.iter().filter(|r| r["record"] == "error").count(), 1);
    assert_eq!(
        records.iter().filter(|r| r["record"] == "message").count(),
        1
    );

    let missing = mailtrace(&["inspect", "/nonexistent/mail.eml"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/mail.eml"));
}

#[test]
fn fail_on_sets_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let spoofed = CLEAN
        .replace("dmarc=pass", "dmarc=fail")
        .replace("spf=pass", "spf=fail");
    let path = write(dir.path(), "spoofed.eml", &spoofed);
    let low = mailtrace(&["inspect", "--fail-on", "low", &path], None);
    assert_eq!(low.status.code(), Some(1));
    let high = mailtrace(
        &[
            "inspect",
            "--fail-on",
            "high",
            &write(dir.path(), "clean.eml", CLEAN),
        ],
        None,
    );
    assert_eq!(high.status.code(), Some(0));
}

#[test]
fn ip_list_match_and_bad_list_line() {
    let dir = tempfile::tempdir().unwrap();
    let message = write(dir.path(), "m.eml", CLEAN);
    let list = write(
        dir.path(),
        "relays.txt",
        "# relays seen in the campaign\n198.51.100.0/24 bulk relay\n",
    );
    let output = mailtrace(
        &["inspect", "--format", "json", "--ip-list", &list, &message],
        None,
    );
    let reports: Value = serde_json::from_slice(&output.stdout).unwrap();
    let found = &reports[0]["ip_matches"][0];
    assert_eq!(found["ip"], "198.51.100.5");
    assert_eq!(found["list"], "relays");
    assert_eq!(found["entry"], "198.51.100.0/24");
    assert_eq!(found["label"], "bulk relay");

    let bad = write(dir.path(), "bad.txt", "192.0.2.1\n192.0.2.300\n");
    let output = mailtrace(&["inspect", "--ip-list", &bad, &message], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.txt line 2"), "{stderr}");
}

#[test]
fn lists_shows_campaign_source() {
    let output = mailtrace(&["lists"], None);
    let text = stdout(&output);
    assert!(text.contains("170.75.174.97/32"), "{text}");
    assert!(text.contains("Microsoft Threat Intelligence"), "{text}");
    assert!(text.contains("2022-09-22"), "{text}");
}

#[test]
fn lists_marks_private_entries() {
    let dir = tempfile::tempdir().unwrap();
    let list = write(
        dir.path(),
        "mine.txt",
        "10.1.0.0/16 office\n198.51.100.7 relay \u{1b}]52;c;aGk=\u{7}\n192.0.2.1/24\n0.0.0.0/0 all\n",
    );
    let output = mailtrace(&["lists", "--ip-list", &list], None);
    let text = stdout(&output);
    assert!(
        text.contains("10.1.0.0/16  office  (not public: never matched)"),
        "{text}"
    );
    assert!(text.contains("198.51.100.7/32  relay "), "{text}");
    assert!(text.contains("\n  192.0.2.0/24\n"), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("host bits set"), "{stderr}");
    assert!(stderr.contains("192.0.2.1/24"), "{stderr}");
    assert!(text.contains("0.0.0.0/0  all\n"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text}"
    );
}

#[test]
fn hostile_header_text_is_escaped_in_text_output() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = CLEAN.replace(
        "Subject: Quarterly numbers",
        "Subject: a\u{1b}]52;c;ZXZpbA==\u{7}b \u{202e}fdp.exe zero\u{200b}width =?utf-8?B?G1szMW1yZWQ=?=",
    );
    let path = write(dir.path(), "hostile.eml", &hostile);
    let output = mailtrace(&["inspect", &path], None);
    let text = stdout(&output);
    for raw in ['\u{1b}', '\u{7}', '\u{202e}', '\u{200b}'] {
        assert!(
            !text.contains(raw),
            "raw {raw:?} reached the terminal output"
        );
    }
    assert!(text.contains("\\e]52;c;ZXZpbA=="), "{text}");

    let json = mailtrace(&["inspect", "--format", "json", &path], None);
    let reports: Value = serde_json::from_slice(&json.stdout).unwrap();
    let subject = reports[0]["message"]["subject"].as_str().unwrap();
    assert!(subject.contains('\u{202e}'), "JSON keeps the exact value");
}

#[test]
fn text_report_groups_and_clips() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for n in 0..40 {
        text.push_str(&format!(
            "Received: from h{n}.example.net ([192.0.2.{n}]) by mx{n}.example.org; Mon, 3 Mar 2025 10:00:00 +0000\n"
        ));
    }
    text.push_str(&format!(
        "Subject: {}\nFrom: a@example.com\n\nbody\n",
        "x".repeat(5000)
    ));
    let path = write(dir.path(), "many.eml", &text);
    let output = stdout(&mailtrace(&["inspect", &path], None));
    let continuity = output.matches("chain.broken-continuity").count();
    assert!(
        continuity <= 6,
        "{continuity} continuity findings printed in full"
    );
    assert!(
        output.contains("more chain.broken-continuity findings"),
        "{output}"
    );
    assert!(
        output.contains("4700 more characters"),
        "the 5000-character subject is clipped"
    );

    let json = mailtrace(&["inspect", "--format", "json", &path], None);
    let reports: Value = serde_json::from_slice(&json.stdout).unwrap();
    let subject = reports[0]["message"]["subject"].as_str().unwrap();
    assert_eq!(subject.len(), 5000, "JSON keeps the whole value");
}

#[test]
fn header_fragment_is_not_the_2022_pattern() {
    let fragment = "X-MS-Exchange-Organization-SCL: -1\nX-MS-Exchange-Organization-AuthAs: Anonymous\nX-Forefront-Antispam-Report: CIP:192.0.2.128;SFV:NSPM;\n";
    let output = mailtrace(
        &["inspect", "--format", "json", "-"],
        Some(fragment.as_bytes()),
    );
    let reports: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = reports[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(
        !ids.contains(&"stripped.exchange-transport-rules"),
        "{ids:?}"
    );

    let message =
        format!("{fragment}From: a@example.com\nDate: Mon, 3 Mar 2025 10:00:00 +0000\n\nbody\n");
    let output = mailtrace(
        &["inspect", "--format", "json", "-"],
        Some(message.as_bytes()),
    );
    let reports: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = reports[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"stripped.exchange-transport-rules"),
        "{ids:?}"
    );
}

#[test]
fn cwd_config_file_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    let message = write(dir.path(), "message.eml", CLEAN);
    write(
        dir.path(),
        "mailtrace.toml",
        "[weights]\nreply-to-other-domain = 5\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["inspect", &message])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("using the configuration file") && stderr.contains("mailtrace.toml"),
        "{stderr}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["inspect", "--config", "/dev/null", &message])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
}

#[test]
fn profiles_show_config_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "mailtrace.toml",
        "[profiles.gmail]\nalways = [\"X-Example-Inbound-Stamp\"]\ncheck = false\n",
    );
    let output = mailtrace(&["profiles", "--config", &config], None);
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("gmail: Gmail"), "{text}");
    assert!(
        text.contains("always (stamp): X-Example-Inbound-Stamp"),
        "{text}"
    );
    assert!(text.contains("recognised only"), "{text}");

    let output = mailtrace(&["profiles", "--config", &config, "--json"], None);
    let profiles: Value = serde_json::from_str(&stdout(&output)).expect("JSON output");
    let gmail = profiles
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "gmail")
        .expect("gmail profile");
    assert_eq!(gmail["check"], false);
}

#[test]
fn scan_output_inside_inputs_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let message = write(dir.path(), "message.eml", CLEAN);
    let before = std::fs::read(&message).unwrap();

    for output in [
        message.clone(),
        format!("{}/report.jsonl", dir.path().display()),
    ] {
        let result = mailtrace(
            &["scan", &dir.path().to_string_lossy(), "--output", &output],
            None,
        );
        assert_eq!(result.status.code(), Some(2), "{output}");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(
            stderr.contains("write the output outside the inputs"),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read(&message).unwrap(),
        before,
        "the input changed"
    );
    assert!(!dir.path().join("report.jsonl").exists());
}

#[cfg(unix)]
#[test]
fn scan_rejects_hard_linked_output() {
    let inputs = tempfile::tempdir().unwrap();
    let outputs = tempfile::tempdir().unwrap();
    let message = write(inputs.path(), "evidence.eml", CLEAN);
    let output = outputs.path().join("out.txt");
    std::fs::hard_link(&message, &output).unwrap();

    let result = mailtrace(
        &["scan", &message, "--output", &output.to_string_lossy()],
        None,
    );
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("has 2 hard links"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&message).unwrap(), CLEAN);
}

#[cfg(unix)]
#[test]
fn named_pipe_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("pipe");
    let status = Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("run mkfifo");
    assert!(status.success());
    let output = mailtrace(&["inspect", &pipe.to_string_lossy()], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

#[test]
fn scan_threads_are_bounded() {
    let output = mailtrace(&["scan", "--threads", "100000", "."], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("to 1024"), "{stderr}");
}

#[test]
fn min_score_out_of_range() {
    for value in ["-1", "101"] {
        let output = mailtrace(&["scan", "--min-score", value, "."], None);
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("is not in 0..=100"), "{value}: {stderr}");
    }
}

#[test]
fn eval_missing_folder_is_an_error() {
    let output = mailtrace(
        &["eval", "--ham", "/nonexistent/ham", "--phish", "samples"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--ham /nonexistent/ham not found"),
        "{stderr}"
    );
}

#[test]
fn error_reason_escaped_on_terminal() {
    let dir = tempfile::tempdir().unwrap();
    // A file name can carry a terminal escape sequence, and errors name the file.
    let name = "bad\u{1b}]52;c;ZXZpbA==\u{7}\u{202e}.eml";
    let junk = write(dir.path(), name, &"just a line of prose\n".repeat(100));
    for args in [
        vec!["inspect", "-v", junk.as_str()],
        vec!["scan", junk.as_str()],
        vec!["scan", "--format", "csv", junk.as_str()],
    ] {
        let output = mailtrace(&args, None);
        // CSV written to a pipe keeps exact values, as JSON Lines does (checked below).
        let csv = args.contains(&"csv");
        let text = format!(
            "{}{}",
            if csv { String::new() } else { stdout(&output) },
            String::from_utf8_lossy(&output.stderr)
        );
        if csv {
            assert!(stdout(&output).contains(name), "{args:?}");
        }
        assert!(text.contains("bad"), "{args:?}: {text}");
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!text.contains(raw), "{args:?}: raw {raw:?} in {text:?}");
        }
    }
    let output = mailtrace(&["scan", "--format", "jsonl", &junk], None);
    let error = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|record| record["record"] == "error")
        .expect("an error record");
    assert!(error["path"].as_str().unwrap().ends_with(name), "{error}");
}

/// Runs mailtrace through `sh -c`, so that the script can redirect or close descriptors.
#[cfg(unix)]
fn mailtrace_sh(script: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_mailtrace"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("start sh")
}

#[cfg(target_os = "linux")]
#[test]
fn full_device_names_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "clean.eml", CLEAN);
    for command in ["inspect", "scan"] {
        let output = mailtrace_sh(r#"exec "$0" "$@" >/dev/full"#, &[command, &path]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("mailtrace: writing standard output failed: No space left on device"),
            "{command}: {stderr}"
        );
    }
    let output = mailtrace(&["scan", "--output", "/dev/full", &path], None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("mailtrace: writing /dev/full failed: No space left on device"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn broken_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "clean.eml", CLEAN);
    // More output than a pipe buffers, so mailtrace is still writing when `head` exits.
    let paths: Vec<&str> = std::iter::repeat_n(path.as_str(), 1000).collect();
    for command in ["inspect", "scan"] {
        let mut args = vec![command];
        args.extend(&paths);
        let script = r#"{ "$0" "$@"; echo "exit code $?" >&2; } | head -c 1 >/dev/null"#;
        let output = mailtrace_sh(script, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim_end(), "exit code 0", "{command}");
    }
}

/// `script` (util-linux) runs the command on a pseudo-terminal, so stdout is a terminal.
#[cfg(target_os = "linux")]
#[test]
fn scan_csv_escapes_cells_on_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "From: a@example.com\nSubject: =?UTF-8?Q?x=1B]0;PWNED=07=1B[2J?=\n\nbody\n";
    let path = write(dir.path(), "hostile.eml", hostile);
    let command = format!(
        "{} scan --format csv --progress never {path}",
        env!("CARGO_BIN_EXE_mailtrace")
    );
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run script from util-linux, which this test needs for a pseudo-terminal");
    let terminal = stdout(&output);
    assert!(
        terminal.contains("x\\e]0;PWNED\\u{0007}\\e[2J"),
        "{terminal:?}"
    );
    assert!(!terminal.contains('\u{7}'), "{terminal:?}");

    let piped = stdout(&mailtrace(&["scan", "--format", "csv", &path], None));
    assert!(piped.contains("x\u{1b}]0;PWNED\u{7}\u{1b}[2J"), "{piped:?}");
}

#[cfg(unix)]
#[test]
fn scan_reports_symlink_loop() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("d");
    std::fs::create_dir_all(root.join("loop")).unwrap();
    std::os::unix::fs::symlink("../loop", root.join("loop/self")).unwrap();
    write(&root, "clean.eml", CLEAN);
    let root = root.to_string_lossy().into_owned();
    let output = mailtrace(
        &["scan", "--format", "jsonl", "--progress", "never", &root],
        None,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("loop/self"), "{stderr}");
    assert!(stderr.contains("symbolic link loop"), "{stderr}");
    let records: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let error = records
        .iter()
        .find(|r| r["record"] == "error")
        .expect("an error record");
    assert!(
        error["path"].as_str().unwrap().ends_with("loop/self"),
        "{error}"
    );
    let summary = records.last().unwrap();
    assert_eq!(summary["errors"], 1, "{summary}");
    assert_eq!(summary["messages"], 1, "{summary}");
}

#[cfg(target_os = "linux")]
#[test]
fn lists_and_profiles_report_write_errors() {
    for command in ["lists", "profiles"] {
        let output = mailtrace_sh(r#"exec "$0" "$@" >/dev/full"#, &[command]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.starts_with("mailtrace: writing standard output failed: "),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{command}: {stderr}");
    }
}

/// The table has one header line, streamed or sorted, and the sorted rows line up.
#[test]
fn scan_table_header_written_once() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.eml", CLEAN);
    write(
        dir.path(),
        "b.eml",
        &CLEAN.replace("alice@example.com", "x@example.net"),
    );
    write(dir.path(), "empty.eml", "");
    let folder = dir.path().to_string_lossy().into_owned();
    for sort in [false, true] {
        let mut args = vec!["scan", "--config", "/dev/null", folder.as_str()];
        if sort {
            args.insert(1, "--sort");
        }
        let output = mailtrace(&args, None);
        let text = stdout(&output);
        let headers = text.lines().filter(|l| l.starts_with("verdict ")).count();
        assert_eq!(headers, 1, "sort {sort}: {text}");
        if sort {
            // Both rows start their location at the header's `location` column.
            let column = text.lines().next().unwrap().find("location").unwrap();
            let rows: Vec<&str> = text.lines().filter(|l| l.contains(".eml")).collect();
            assert_eq!(rows.len(), 2, "{text}");
            for row in rows {
                assert_eq!(row.find(&folder), Some(column), "{text}");
            }
        }
    }
}
