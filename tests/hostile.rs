//! Hostile input: crash inputs found by fuzzing, the resource limits and the findings they
//! raise, terminal-safe text output, exact JSON values, and read-only inputs.

use mailtrace::analysis::{Report, analyze};
use mailtrace::config::AnalysisConfig;
use mailtrace::input::{InputOptions, InputResult, read_bytes};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// Crash inputs kept from fuzzing.

/// Every input file in tests/regressions once made the pipeline panic, hang or run out of
/// memory. Each must now produce reports or error records, and render as safe text.
#[test]
fn regression_inputs_analyse_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    for entry in std::fs::read_dir(&dir).expect("tests/regressions exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let label = path.file_name().unwrap().to_string_lossy().into_owned();
        for result in read_bytes(&label, bytes, None, &InputOptions::default()) {
            if let Ok(report) = result.map(|input| analyze(&input, &AnalysisConfig::default()))
                && let Ok(report) = report
            {
                let text = mailtrace::report::text::render(
                    &report,
                    mailtrace::report::text::Style { colour: false },
                );
                assert_terminal_safe(&text, &label);
            }
        }
    }
}

// Limits: each one that is hit becomes a finding or an error record.

fn analyse_with(bytes: &[u8], options: &InputOptions, config: &AnalysisConfig) -> Vec<Report> {
    read_bytes("limit.eml", bytes.to_vec(), None, options)
        .into_iter()
        .map(|result: InputResult| analyze(&result.expect("message is read"), config).unwrap())
        .collect()
}

fn finding_ids(report: &Report) -> Vec<&str> {
    report.findings.iter().map(|f| f.id.as_str()).collect()
}

fn headers_then_body(fields: &str) -> Vec<u8> {
    format!("{fields}From: a@example.com\nSubject: limits\n\nbody\n").into_bytes()
}

#[test]
fn header_block_size_limit_is_reported() {
    let mut config = AnalysisConfig::default();
    config.parse.limits.max_header_bytes = 2_000;
    let fields = "X-Filler: 0123456789012345678901234567890123456789\n".repeat(100);
    let reports = analyse_with(
        &headers_then_body(&fields),
        &InputOptions::default(),
        &config,
    );

    assert!(finding_ids(&reports[0]).contains(&"input.limit-reached"));
    assert!(reports[0].headers.fields.len() < 100);
}

#[test]
fn header_count_limit_is_reported() {
    let mut config = AnalysisConfig::default();
    config.parse.limits.max_fields = 20;
    let fields = "X-Filler: x\n".repeat(50);
    let reports = analyse_with(
        &headers_then_body(&fields),
        &InputOptions::default(),
        &config,
    );

    assert!(finding_ids(&reports[0]).contains(&"input.limit-reached"));
    assert_eq!(reports[0].headers.fields.len(), 20);
}

#[test]
fn long_header_line_is_reported() {
    let fields = format!("X-Long: {}\n", "a".repeat(2_000));
    let reports = analyse_with(
        &headers_then_body(&fields),
        &InputOptions::default(),
        &AnalysisConfig::default(),
    );

    assert!(finding_ids(&reports[0]).contains(&"header.line-too-long"));
    let long = reports[0].headers.get("X-Long").unwrap();
    assert_eq!(long.value.len(), 2_000, "the value is kept whole");
}

#[test]
fn hop_limit_is_reported() {
    let config = AnalysisConfig {
        max_hops: 5,
        ..AnalysisConfig::default()
    };
    let fields: String = (0..12)
        .map(|i| {
            format!("Received: from h{i}.example.com (h{i}.example.com [192.0.2.{i}]) by mx.example.org; Mon, 3 Mar 2025 10:00:{i:02} +0000\n")
        })
        .collect();
    let reports = analyse_with(
        &headers_then_body(&fields),
        &InputOptions::default(),
        &config,
    );

    assert!(finding_ids(&reports[0]).contains(&"chain.hop-limit-reached"));
    assert_eq!(reports[0].chain.hops.len(), 5);
}

#[test]
fn address_limit_is_reported() {
    let config = AnalysisConfig {
        max_addresses: 3,
        ..AnalysisConfig::default()
    };
    let five: Vec<String> = (0..5).map(|i| format!("u{i}@example.org")).collect();
    let fields = format!("Reply-To: {}\nTo: {}\n", five.join(", "), five.join(", "));
    let reports = analyse_with(
        &headers_then_body(&fields),
        &InputOptions::default(),
        &config,
    );

    let limit_headers: Vec<&str> = reports[0]
        .findings
        .iter()
        .filter(|f| f.id == "input.limit-reached")
        .flat_map(|f| f.headers.iter().map(String::as_str))
        .collect();
    assert_eq!(limit_headers, ["Reply-To", "To"]);
    assert_eq!(reports[0].message.reply_to.len(), 3);
}

#[test]
fn address_limit_not_hit_at_limit() {
    let config = AnalysisConfig {
        max_addresses: 3,
        ..AnalysisConfig::default()
    };
    let fields = "To: u0@example.org, u1@example.org, u2@example.org\n";
    let reports = analyse_with(
        &headers_then_body(fields),
        &InputOptions::default(),
        &config,
    );

    assert!(!finding_ids(&reports[0]).contains(&"input.limit-reached"));
}

#[test]
fn arc_set_limit_is_reported() {
    let fields: String = (1..=51)
        .map(|i| {
            format!(
                "ARC-Seal: i={i}; a=rsa-sha256; cv=pass; d=example.org; s=s; t=1700000000; b=AAAA\n\
                 ARC-Message-Signature: i={i}; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA\n\
                 ARC-Authentication-Results: i={i}; mx.example.org; spf=pass\n"
            )
        })
        .collect();
    let reports = analyse_with(
        &headers_then_body(&fields),
        &InputOptions::default(),
        &AnalysisConfig::default(),
    );

    assert!(finding_ids(&reports[0]).contains(&"auth.arc-too-many-sets"));
}

/// Wraps a small message in `levels` messages, each carrying the next as a message/rfc822
/// part.
fn nested_messages(levels: usize) -> Vec<u8> {
    let mut message =
        "Received: from h.example.com (h.example.com [192.0.2.1]) by mx.example.org; Mon, 3 Mar 2025 10:00:00 +0000\nFrom: innermost@example.com\nSubject: innermost\n\nhello\n"
            .to_string();
    for level in 0..levels {
        message = format!(
            "From: reporter{level}@example.org\nSubject: level {level}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b{level}\"\n\n--b{level}\nContent-Type: text/plain\n\nsee attached\n--b{level}\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename=\"m{level}.eml\"\n\n{message}\n--b{level}--\n"
        );
    }
    message.into_bytes()
}

#[test]
fn attachment_depth_limit_is_reported() {
    let options = InputOptions {
        max_attachment_depth: 2,
        ..InputOptions::default()
    };
    let reports = analyse_with(&nested_messages(5), &options, &AnalysisConfig::default());

    let ids: Vec<&str> = reports.iter().flat_map(finding_ids).collect();
    assert!(ids.contains(&"input.attachment-depth-limit"), "{ids:?}");
}

#[test]
fn attachment_depth_within_limit_reaches_innermost() {
    let reports = analyse_with(
        &nested_messages(3),
        &InputOptions::default(),
        &AnalysisConfig::default(),
    );

    let subjects: Vec<Option<&str>> = reports
        .iter()
        .map(|r| r.message.subject.as_deref())
        .collect();
    assert_eq!(
        subjects,
        [
            Some("level 2"),
            Some("level 1"),
            Some("level 0"),
            Some("innermost")
        ]
    );
}

#[test]
fn mbox_message_size_limit_is_reported() {
    let options = InputOptions {
        max_message_bytes: 4_000,
        ..InputOptions::default()
    };
    let big_body = "line of body text\n".repeat(1_000);
    let mbox = format!(
        "From a@example.com Thu Jan  4 10:00:00 2024\nFrom: a@example.com\nSubject: big\n\n{big_body}\nFrom b@example.com Thu Jan  4 10:00:00 2024\nFrom: b@example.com\nSubject: small\n\nhi\n"
    );
    let reports = analyse_with(mbox.as_bytes(), &options, &AnalysisConfig::default());

    assert_eq!(reports.len(), 2, "the message after the cut one is read");
    assert!(finding_ids(&reports[0]).contains(&"input.message-truncated"));
    assert!(!finding_ids(&reports[1]).contains(&"input.message-truncated"));
    assert_eq!(reports[1].message.subject.as_deref(), Some("small"));
}

#[test]
fn eml_message_size_limit_is_reported() {
    let options = InputOptions {
        max_message_bytes: 4_000,
        ..InputOptions::default()
    };
    let mut message = headers_then_body("");
    message.extend_from_slice(&[b'x'; 10_000]);
    let reports = analyse_with(&message, &options, &AnalysisConfig::default());

    assert!(finding_ids(&reports[0]).contains(&"input.message-truncated"));
    assert_eq!(reports[0].message.subject.as_deref(), Some("limits"));
}

#[test]
fn msg_stream_size_limit_is_an_error_record() {
    let options = InputOptions {
        max_msg_stream_bytes: 1_000,
        ..InputOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.msg");
    let headers = format!("From: a@example.com\r\nX-Filler: {}\r\n", "x".repeat(2_000));
    write_msg(&path, "big", Some(&headers));
    let results = read_bytes("big.msg", std::fs::read(&path).unwrap(), None, &options);

    let error = results[0]
        .as_ref()
        .expect_err("the stream is over the limit");
    assert!(error.reason.contains("1000-byte limit"), "{}", error.reason);
}

#[test]
fn limits_are_set_from_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.eml");
    let fields: String = (0..30)
        .map(|i| format!("Received: from h{i}.example.com by mx.example.org; Mon, 3 Mar 2025 10:00:{i:02} +0000\n"))
        .collect();
    let fields = format!("{fields}To: b@example.com, c@example.com, d@example.com\n");
    std::fs::write(&path, headers_then_body(&fields)).unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--max-header-fields", "5"], "input.limit-reached"),
        (&["--max-addresses", "1"], "input.limit-reached"),
        (&["--max-header-bytes", "1024"], "input.limit-reached"),
        (&["--max-hops", "3"], "chain.hop-limit-reached"),
    ];
    for (flags, id) in cases {
        let mut args = vec!["inspect", "--format", "json"];
        args.extend_from_slice(flags);
        let output = mailtrace(&args, std::slice::from_ref(&path));
        let reports: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
        let ids: Vec<&str> = reports[0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&id), "{flags:?}: {id} missing from {ids:?}");
    }
}

// Terminal safety: header-derived text never reaches a terminal raw.

/// Sequences a terminal would act on: CSI colour and screen clearing, an OSC 52 clipboard
/// write, a C1 CSI, bidi overrides and isolates, zero-width characters, BEL, backspace and
/// DEL.
const PAYLOADS: &[&str] = &[
    "\u{1b}[31m",
    "\u{1b}]52;c;ZXZpbA==\u{7}",
    "\u{1b}[2J",
    "\u{9b}31m",
    "\u{202E}",
    "\u{2066}",
    "\u{2069}",
    "\u{200B}",
    "\u{200D}",
    "\u{FEFF}",
    "\u{8}",
    "\u{7f}",
];

fn all_payloads() -> String {
    PAYLOADS.concat()
}

/// Asserts that `output` contains no control character other than LF, no bidi control and
/// no zero-width character.
fn assert_terminal_safe(output: &str, what: &str) {
    for c in output.chars() {
        let code = c as u32;
        let unsafe_char = (c.is_control() && c != '\n')
            || matches!(code, 0x200B..=0x200F | 0x202A..=0x202E | 0x2066..=0x2069 | 0xFEFF);
        assert!(
            !unsafe_char,
            "{what}: raw U+{code:04X} in output:\n{output}"
        );
    }
}

/// Returns `text` as an RFC 2047 encoded word (Q encoding), so that decoding yields it back.
fn encoded_word(text: &str) -> String {
    let mut out = String::from("=?UTF-8?Q?");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(byte as char);
        } else {
            out.push_str(&format!("={byte:02X}"));
        }
    }
    out.push_str("?=");
    out
}

/// Builds a message with the payloads in every field the report shows.
fn hostile_message() -> String {
    let p = all_payloads();
    let word = encoded_word(&format!("Decoded{p}"));
    format!(
        "Received: from evil{p}.example.com (helo{p} [192.0.2.7]) by mx{p}.example.org (comment{p}) with ESMTP id ID{p} for <to{p}@example.org>; Mon, 3 Mar 2025 10:00:05 +0000\n\
         Authentication-Results: mx{p}.example.org; spf=fail{p} smtp.mailfrom=a{p}@example.com; dkim=fail reason=\"bad{p}\" header.d=example.com; dmarc=fail header.from=example.com\n\
         Received-SPF: fail{p} (mx{p}.example.org: domain{p}) client-ip=192.0.2.7;\n\
         DKIM-Signature: v=1; a=rsa-sha256; d=exa{p}mple.com; s=sel{p}; h=from:x-missing{p}; bh=AAAA; b=AAAA\n\
         ARC-Seal: i=1; a=rsa-sha256; cv=none{p}; d=arc{p}.example.com; s=s{p}; b=AAAA\n\
         X-Forefront-Antispam-Report: CIP:192.0.2.7;CTRY:ZZ{p};LANG:en;SCL:5;SRV:;IPV:NLI;SFV:SPM;H:helo{p};PTR:ptr{p};CAT:SPM;SFS:(13230040){p};DIR:INB;\n\
         X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp: TenantId=t{p};Ip=[192.0.2.7];Helo=[helo{p}]\n\
         X-MS-Exchange-CrossTenant-FromEntityHeader: Hybrid{p}OnPrem\n\
         X-Microsoft-Antispam: BCL:0;{p}\n\
         X-Originating-IP: [192.0.2.7{p}]\n\
         From: \"Name{p}\" <from{p}@example.com>\n\
         Reply-To: {word} <reply{p}@example.net>\n\
         Return-Path: <bounce{p}@example.com>\n\
         Subject: Subject{p} {word}\n\
         Date: Mon, 3 Mar 2025 10:00:00 +0000{p}\n\
         Message-ID: <id{p}@example.com>\n\
         Bad{p}Field: value{p}\n\
         \n\
         body\n"
    )
}

/// Writes an Outlook item with the given subject and, when given, transport headers.
fn write_msg(path: &Path, subject: &str, transport_headers: Option<&str>) {
    let utf16 =
        |text: &str| -> Vec<u8> { text.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let file = std::fs::File::create(path).unwrap();
    let mut cfb = cfb::CompoundFile::create(file).unwrap();
    let mut streams = vec![
        ("/__substg1.0_0037001F", utf16(subject)),
        ("/__substg1.0_0C1A001F", utf16(&format!("Sender {subject}"))),
        ("/__substg1.0_5D01001F", utf16("sender@example.com")),
        ("/__substg1.0_001A001F", utf16("IPM.Note")),
    ];
    if let Some(headers) = transport_headers {
        streams.push(("/__substg1.0_007D001F", utf16(headers)));
    }
    for (name, bytes) in streams {
        cfb.create_stream(name).unwrap().write_all(&bytes).unwrap();
    }
    cfb.flush().unwrap();
}

/// Writes the hostile inputs into `dir` and returns their paths: an .eml whose file name
/// carries the payloads, an mbox with a hostile envelope, and two .msg files.
fn write_hostile_inputs(dir: &Path) -> Vec<PathBuf> {
    let p = all_payloads();
    let message = hostile_message();
    let eml = dir.join(format!("name{}.eml", p.replace('/', "")));
    std::fs::write(&eml, &message).unwrap();

    let mbox = dir.join("hostile.mbox");
    std::fs::write(
        &mbox,
        format!("From env{p}@example.com Thu Jan  4 10:00:00 2024 {p}\n{message}\n"),
    )
    .unwrap();

    let received = dir.join("received.msg");
    let headers = message.split("\n\n").next().unwrap().replace('\n', "\r\n");
    write_msg(&received, &format!("MsgSubject{p}"), Some(&headers));
    let draft = dir.join("draft.msg");
    write_msg(&draft, &format!("DraftSubject{p}"), None);
    vec![eml, mbox, received, draft]
}

fn mailtrace(args: &[&str], paths: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(args)
        .args(paths)
        .env("NO_COLOR", "1")
        .output()
        .expect("start mailtrace")
}

#[test]
fn inspect_text_escapes_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_hostile_inputs(dir.path());
    let output = mailtrace(&["inspect"], &paths);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();

    assert_terminal_safe(&stdout, "inspect stdout");
    assert_terminal_safe(&stderr, "inspect stderr");
    // The payloads were shown, escaped, from each kind of input.
    for marker in [
        "Subject\\e[31m",
        "Name\\e[31m",
        "\\e]52;c;ZXZpbA==\\u{0007}",
        "\\u{009B}31m",
        "\\u{202E}",
        "\\u{200B}",
        "DraftSubject\\e[31m",
        "name\\e[31m",
    ] {
        assert!(stdout.contains(marker), "{marker} missing from:\n{stdout}");
    }
}

#[test]
fn scan_table_escapes_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_hostile_inputs(dir.path());
    let output = mailtrace(&["scan", "--threads", "1", "--progress", "never"], &paths);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();

    assert_terminal_safe(&stdout, "scan stdout");
    assert_terminal_safe(&stderr, "scan stderr");
    assert!(
        stdout.contains("name\\e[31m"),
        "file name missing:\n{stdout}"
    );
}

#[test]
fn unreadable_hostile_file_name_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("junk{}.bin", all_payloads()));
    std::fs::write(&path, [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    for args in [&["inspect"][..], &["scan", "--progress", "never"][..]] {
        let output = mailtrace(args, std::slice::from_ref(&path));
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();

        assert_terminal_safe(&stdout, "stdout");
        assert_terminal_safe(&stderr, "stderr");
    }
}

/// Collects every string in a JSON value.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn json_keeps_exact_values() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_hostile_inputs(dir.path());
    let p = all_payloads();
    let output = mailtrace(&["inspect", "--format", "json"], &paths);
    let reports: Value = serde_json::from_slice(&output.stdout).expect("JSON parses back");
    let reports = reports.as_array().unwrap();
    let eml = &reports[0];

    let eml_path = paths[0].display().to_string();
    assert_eq!(eml["source"]["path"], eml_path.as_str());
    assert_eq!(
        eml["message"]["subject"],
        format!("Subject{p} Decoded{p}").as_str()
    );
    assert_eq!(eml["message"]["from"]["name"], format!("Name{p}").as_str());
    let mut all = Vec::new();
    strings(eml, &mut all);
    for expected in [
        format!("evil{p}.example.com"),
        format!("ID{p}"),
        format!("bad{p}"),
    ] {
        assert!(
            all.iter().any(|s| s.contains(&expected)),
            "{expected:?} not kept exactly"
        );
    }
    let draft = reports
        .iter()
        .find(|r| r["source"]["path"].as_str().unwrap().ends_with("draft.msg"))
        .expect("draft report");
    let mut draft_strings = Vec::new();
    strings(draft, &mut draft_strings);
    assert!(draft_strings.contains(&format!("DraftSubject{p}")));
}

#[test]
fn jsonl_records_stay_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_hostile_inputs(dir.path());
    let output = mailtrace(
        &["scan", "--format", "jsonl", "--progress", "never"],
        &paths,
    );
    let stdout = String::from_utf8(output.stdout).unwrap();

    let mut records = 0;
    for line in stdout.lines() {
        serde_json::from_str::<Value>(line).expect("each line is one JSON record");
        records += 1;
    }
    assert!(records >= 4, "{stdout}");
}

// Inputs are never written.

#[test]
fn scan_leaves_inputs_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = write_hostile_inputs(dir.path());
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for name in ["gmail-arc.eml", "lookalike-sender.eml"] {
        let copy = dir.path().join(name);
        std::fs::copy(samples.join(name), &copy).unwrap();
        paths.push(copy);
    }
    let before: Vec<(Vec<u8>, std::time::SystemTime)> = paths
        .iter()
        .map(|p| {
            (
                std::fs::read(p).unwrap(),
                std::fs::metadata(p).unwrap().modified().unwrap(),
            )
        })
        .collect();

    let output = mailtrace(
        &["scan", "--progress", "never"],
        &[dir.path().to_path_buf()],
    );
    assert!(output.status.code().is_some_and(|c| c < 2), "{output:?}");
    let output = mailtrace(&["inspect", "--format", "json"], &paths);
    assert!(output.status.code().is_some_and(|c| c < 2), "{output:?}");

    for (path, (bytes, modified)) in paths.iter().zip(before) {
        assert_eq!(
            std::fs::read(path).unwrap(),
            bytes,
            "{} changed",
            path.display()
        );
        let now = std::fs::metadata(path).unwrap().modified().unwrap();
        assert_eq!(
            now,
            modified,
            "{} modification time changed",
            path.display()
        );
    }
}

/// Files are opened only with `File::open` (read-only) in the input module; no writer,
/// `OpenOptions` or rename reaches an input path there.
#[test]
fn input_module_opens_read_only() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/input");
    let mut files = vec![dir.clone()];
    let mut sources = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_none_or(|n| n != "tests.rs")
        {
            sources.push(path);
        }
    }
    for path in sources {
        let text = std::fs::read_to_string(&path).unwrap();
        // Unit tests at the bottom of a file may create fixtures.
        let code = text.split("#[cfg(test)]").next().unwrap();
        for forbidden in [
            "OpenOptions",
            "File::create",
            "fs::write",
            "fs::rename",
            "set_permissions",
            "set_modified",
            "set_times",
        ] {
            assert!(
                !code.contains(forbidden),
                "{} uses {forbidden}",
                path.display()
            );
        }
    }
}
