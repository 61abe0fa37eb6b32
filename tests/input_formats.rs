//! Input layer against the acceptance cases and the real corpus: Outlook items, mbox
//! files, Maildir trees and reported-phish wrappers.

use mailtrace::input::{
    Format, InputMessage, InputOptions, InputResult, TransportHeaders, read_paths, unescape_mboxrd,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        shared.is_dir(),
        "the shared folder is missing at {}",
        shared.display()
    );
    shared
}

fn acceptance(name: &str) -> PathBuf {
    shared().join("acceptance/cases").join(name)
}

fn corpus(path: &str) -> PathBuf {
    shared().join("corpus").join(path)
}

fn outer() -> InputOptions {
    InputOptions {
        attached: mailtrace::input::AttachedMessages::WrapperOnly,
        ..InputOptions::default()
    }
}

fn originals_only() -> InputOptions {
    InputOptions {
        attached: mailtrace::input::AttachedMessages::OriginalsOnly,
        ..InputOptions::default()
    }
}

fn read(path: &Path, options: &InputOptions) -> Vec<InputResult> {
    read_paths(&[path.to_path_buf()], options).collect()
}

fn read_ok(path: &Path, options: &InputOptions) -> Vec<InputMessage> {
    read(path, options)
        .into_iter()
        .map(|result| result.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn text(message: &InputMessage) -> String {
    String::from_utf8(message.bytes.clone()).expect("UTF-8 message bytes")
}

fn finding_ids(message: &InputMessage) -> Vec<&str> {
    message.findings.iter().map(|f| f.id.as_str()).collect()
}

fn utc(time: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    time.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Returns the body of a message: what follows the first empty line.
fn body(bytes: &[u8]) -> &[u8] {
    let mut position = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        position += line.len();
        if line == b"\n" || line == b"\r\n" {
            return &bytes[position..];
        }
    }
    &[]
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

// BR-33: Outlook items without transport headers.

#[test]
fn br33_a_msg_without_transport_headers() {
    let messages = read_ok(&acceptance("BR-33-a.msg"), &InputOptions::default());
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    let msg = message.msg.as_ref().expect("MAPI metadata");
    assert_eq!(message.source.format, Format::Msg);
    assert_eq!(msg.transport_headers, TransportHeaders::Absent);
    assert!(message.bytes.is_empty());
    assert_eq!(msg.sender.as_deref(), Some("alice@example.com"));
    assert_eq!(msg.subject.as_deref(), Some("Q3"));
    assert_eq!(
        utc(msg.client_submit_time).as_deref(),
        Some("2025-03-03T10:00:00Z")
    );
    assert_eq!(
        utc(msg.delivery_time).as_deref(),
        Some("2025-03-03T10:00:02Z")
    );
    assert_eq!(finding_ids(message), ["input.transport-headers-absent"]);

    // The analysis explains the missing headers once, with the reader's finding.
    let report =
        mailtrace::analysis::analyze(message, &mailtrace::config::AnalysisConfig::default())
            .expect("analysed");
    let transport: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.id.as_str())
        .filter(|id| id.contains("transport-headers"))
        .collect();
    assert_eq!(transport, ["input.transport-headers-absent"]);
}

#[test]
fn br33_b_nul_stream_is_stripped() {
    let messages = read_ok(&acceptance("BR-33-b.msg"), &InputOptions::default());
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    let msg = message.msg.as_ref().expect("MAPI metadata");
    assert_eq!(msg.transport_headers, TransportHeaders::Stripped);
    assert!(message.bytes.is_empty());
    assert_eq!(msg.sender.as_deref(), Some("alice@example.com"));
    assert_eq!(
        utc(msg.client_submit_time).as_deref(),
        Some("2025-03-03T10:00:00Z")
    );
    assert_eq!(
        utc(msg.delivery_time).as_deref(),
        Some("2025-03-03T10:00:02Z")
    );
    assert_eq!(finding_ids(message), ["input.header-stream-stripped"]);
}

// BR-34: 8-bit and UTF-16 transport headers.

const BR34_RECEIVED: &str = "Received: from a.example.net ([192.0.2.1]) by b.example.org; Mon, 3 Mar 2025 10:00:00 +0000\r\n";

#[test]
fn br34_a_cp1252_stream_is_decoded() {
    let messages = read_ok(&acceptance("BR-34-a.msg"), &InputOptions::default());
    let message = &messages[0];
    assert_eq!(
        message.msg.as_ref().unwrap().transport_headers,
        TransportHeaders::Present
    );
    assert_eq!(
        text(message),
        format!("{BR34_RECEIVED}Subject: Café\r\n\r\n")
    );
    assert!(message.findings.is_empty(), "{:?}", message.findings);
}

#[test]
fn br34_b_utf16_stream_gives_same_bytes() {
    let a = read_ok(&acceptance("BR-34-a.msg"), &InputOptions::default());
    let b = read_ok(&acceptance("BR-34-b.msg"), &InputOptions::default());
    assert_eq!(b.len(), 1);
    assert!(text(&b[0]).contains(BR34_RECEIVED));
    assert!(text(&b[0]).contains("Subject: Café\r\n"));
    assert_eq!(a[0].bytes, b[0].bytes);
    assert!(b[0].findings.is_empty(), "{:?}", b[0].findings);
}

#[test]
fn br34_c_codepage_mismatch_is_flagged() {
    let messages = read_ok(&acceptance("BR-34-c.msg"), &InputOptions::default());
    let message = &messages[0];
    let headers = text(message);
    assert!(headers.contains(BR34_RECEIVED), "{headers}");
    assert!(!headers.contains('\u{FFFD}'), "{headers}");
    assert!(headers.contains("Subject: 测试\r\n"), "{headers}");
    assert_eq!(finding_ids(message), ["input.codepage-mismatch"]);
}

// BR-36: mbox separators and quoting.

#[test]
fn br36_mbox_separators_and_quoting() {
    let messages = read_ok(&acceptance("BR-36.mbox"), &InputOptions::default());
    assert_eq!(messages.len(), 2);

    let first = &messages[0];
    assert_eq!(
        (first.source.format, first.source.index),
        (Format::Mbox, Some(0))
    );
    let envelope = first.envelope.as_ref().expect("envelope");
    assert_eq!(envelope.sender.as_deref(), Some("alice@example.com"));
    let date = envelope
        .date
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string());
    assert_eq!(date.as_deref(), Some("2025-03-03T10:00:00"));
    assert!(finding_ids(first).contains(&"input.envelope-date-no-zone"));
    assert_eq!(
        lines(body(&first.bytes)),
        [
            "Hello",
            ">From the desk of Alice",
            ">>From a nested quote",
            "From the top, again"
        ]
    );
    assert_eq!(
        lines(&unescape_mboxrd(body(&first.bytes))),
        [
            "Hello",
            "From the desk of Alice",
            ">From a nested quote",
            "From the top, again"
        ]
    );

    let second = &messages[1];
    assert_eq!(second.source.index, Some(1));
    assert!(text(second).starts_with("From: bob@example.net\nSubject: two\n\n"));
    assert_eq!(lines(&unescape_mboxrd(body(&second.bytes))), ["Bye"]);
}

#[test]
fn acceptance_eml_files_are_messages() {
    let dir = shared().join("acceptance/cases");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "eml") {
            let messages = read_ok(&path, &InputOptions::default());
            assert_eq!(messages.len(), 1, "{}", path.display());
            assert_eq!(messages[0].source.format, Format::Eml, "{}", path.display());
            count += 1;
        }
    }
    assert!(count >= 50, "only {count} acceptance .eml files found");
}

// Outlook items of the corpus.

/// Returns every file under `dir`, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn is_licence(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    name.starts_with("LICENSE") || name.starts_with("NOTICE")
}

/// Counts the files whose Compound File Binary tree contains a PR_TRANSPORT_MESSAGE_HEADERS
/// stream anywhere, using the cfb crate directly.
fn files_with_transport_stream(files: &[PathBuf]) -> usize {
    files
        .iter()
        .filter(|path| {
            cfb::open(path).is_ok_and(|file| {
                file.walk()
                    .any(|e| e.is_stream() && e.name().starts_with("__substg1.0_007D"))
            })
        })
        .count()
}

#[test]
fn corpus_msg_files_read_or_fail_cleanly() {
    let files: Vec<PathBuf> = files_under(&corpus("msg"))
        .into_iter()
        .filter(|p| !is_licence(p))
        .collect();
    let (mut read_files, mut errors, mut messages) = (0, Vec::new(), 0);
    let mut with_headers = BTreeSet::new();
    let mut without_received = BTreeSet::new();
    for path in &files {
        let mut failed = false;
        for options in [InputOptions::default(), outer()] {
            for result in read(path, &options) {
                match result {
                    Ok(message) => {
                        messages += 1;
                        let msg = message.msg.as_ref();
                        if msg.is_some_and(|m| m.transport_headers == TransportHeaders::Present) {
                            with_headers.insert(path.clone());
                            let headers = text(&message);
                            if !headers.contains("Received:") {
                                without_received.insert(
                                    path.file_name().unwrap().to_string_lossy().into_owned(),
                                );
                            }
                            assert!(headers.ends_with("\r\n\r\n"), "{}", path.display());
                        }
                    }
                    Err(error) => {
                        failed = true;
                        errors.push(error.to_string());
                    }
                }
            }
        }
        read_files += usize::from(!failed);
    }
    println!(
        "{} .msg files: {read_files} read, {} errors, {messages} messages in both modes, {} with transport headers",
        files.len(),
        errors.len(),
        with_headers.len()
    );

    assert_eq!(files.len(), 88);
    // The two OSS-Fuzz files that cfb rejects fail in both modes; the third one reads.
    assert_eq!(errors.len(), 4, "{errors:#?}");
    for error in &errors {
        assert!(error.contains("clusterfuzz-testcase"), "{error}");
        assert!(
            error.contains("corrupt or truncated Outlook .msg file"),
            "{error}"
        );
    }
    // 27 readable files carry a transport-headers stream: 24 at top level and 3 only in
    // embedded items. The corpus counts 28 because the directory of the corrupt file
    // clusterfuzz-testcase-minimized-POIHSMFFuzzer-5336473854148608.msg names one too.
    assert_eq!(files_with_transport_stream(&files), 27);
    assert_eq!(with_headers.len(), 27, "{with_headers:#?}");
    // These items carry transport headers without any Received field: Enterprise Vault
    // shortcuts and internal Exchange items, a Thunderbird draft and a webmail copy.
    let expected = [
        "Attach sample eml received.msg",
        "lots-of-recipients.msg",
        "message_1979.msg",
        "message_1980.msg",
        "message_1981.msg",
        "outlook_30_msg.msg",
    ];
    assert_eq!(
        without_received,
        expected.iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn top_level_transport_headers_in_outer_mode() {
    let files: Vec<PathBuf> = files_under(&corpus("msg"))
        .into_iter()
        .filter(|p| !is_licence(p))
        .collect();
    let present = files
        .iter()
        .flat_map(|path| read(path, &outer()))
        .filter_map(Result::ok)
        .filter(|m| {
            m.msg
                .as_ref()
                .is_some_and(|m| m.transport_headers == TransportHeaders::Present)
        })
        .count();
    assert_eq!(present, 24);
}

#[test]
fn outer_msg_embedded_message_is_read() {
    let path = corpus("msg/ninoseki_eml_analyzer/outer.msg");
    let messages = read_ok(&path, &originals_only());
    assert_eq!(messages.len(), 1);
    let embedded = &messages[0];
    let info = embedded
        .source
        .attachment
        .as_ref()
        .expect("attachment info");
    assert_eq!((info.index, info.depth), (1, 1));
    assert_eq!(info.content_type, "application/vnd.ms-outlook");
    assert_eq!(embedded.source.format, Format::Msg);
    assert!(embedded.msg.is_some());

    let wrapper = read_ok(&path, &outer());
    assert_eq!(wrapper.len(), 1);
    assert!(wrapper[0].source.attachment.is_none());
}

#[test]
fn nested_embedded_items_are_followed() {
    let messages = read_ok(
        &corpus("msg/hiraoka_msgreader/test/msgInMsgInMsg.msg"),
        &originals_only(),
    );
    // Both embedded items are originals: the first, which carries the second, and the second.
    let depths: Vec<usize> = messages
        .iter()
        .map(|m| m.source.attachment.as_ref().unwrap().depth)
        .collect();
    assert_eq!(depths, [1, 2]);
    assert!(text(&messages[1]).contains("Received:"));
}

#[test]
fn extensionless_msg_is_detected() {
    let messages = read_ok(
        &corpus("spamscope/mails/mail_outlook_1"),
        &InputOptions::default(),
    );
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].source.format, Format::Msg);
    assert_eq!(
        messages[0].msg.as_ref().unwrap().transport_headers,
        TransportHeaders::Present
    );
}

/// The same Thunderbird message is in the corpus twice: attached as an `.eml` file to a
/// sent item, and as an embedded item with transport headers in a received copy.
#[test]
fn same_message_as_eml_and_msg() {
    let dir = corpus("msg/hiraoka_msgreader/test");
    let as_eml = read_ok(&dir.join("Attach sample eml sent.msg"), &originals_only());
    let as_msg = read_ok(
        &dir.join("Attach sample eml received.msg"),
        &originals_only(),
    );
    assert_eq!((as_eml.len(), as_msg.len()), (1, 1));
    assert!(as_eml[0].msg.is_none());
    assert_eq!(
        as_eml[0]
            .source
            .attachment
            .as_ref()
            .unwrap()
            .filename
            .as_deref(),
        Some("sample.eml")
    );

    let eml = text(&as_eml[0]);
    let header_block = &eml[..eml.find("\r\n\r\n").expect("header block") + 4];
    assert_eq!(text(&as_msg[0]), header_block);
    let msg = as_msg[0].msg.as_ref().unwrap();
    assert_eq!(msg.subject.as_deref(), Some("sample"));
    assert!(header_block.contains("Subject: sample\r\n"));
}

// mbox files of the corpus.

/// Reads MimeKit's expected offsets: (marker, begin, end) of each message.
fn mimekit_offsets(path: &Path) -> Vec<(u64, u64, u64)> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let field = |name: &str| m[name].as_u64().unwrap();
            (
                field("mboxMarkerOffset"),
                field("beginOffset"),
                field("endOffset"),
            )
        })
        .collect()
}

/// Checks messages against MimeKit's offsets. MimeKit ends a message before the line break
/// that precedes the next `From ` line. mailtrace keeps that line break when no empty line
/// separates the messages, so the end may be one line break later.
fn assert_offsets(messages: &[InputMessage], expected: &[(u64, u64, u64)], newline: u64) {
    assert_eq!(messages.len(), expected.len());
    for (message, &(marker, begin, end)) in messages.iter().zip(expected) {
        let envelope = message.envelope.as_ref().expect("envelope");
        assert_eq!(envelope.marker_offset, marker);
        assert_eq!(message.source.offset, Some(begin));
        let actual_end = begin + message.bytes.len() as u64;
        assert!(
            actual_end == end || actual_end == end + newline,
            "message at {begin} ends at {actual_end}, expected {end}"
        );
    }
}

#[test]
fn mimekit_mboxes_match_offsets() {
    for name in ["content-length", "issue1189"] {
        let path = corpus(&format!("mbox/mimekit/{name}.mbox.txt"));
        let messages = read_ok(&path, &outer());
        let expected = mimekit_offsets(&corpus(&format!("mbox/mimekit/{name}.unix-offsets.json")));
        assert_offsets(&messages, &expected, 1);
    }
}

#[test]
fn crlf_mimekit_mboxes_match_dos_offsets() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["content-length", "issue1189"] {
        let original = std::fs::read(corpus(&format!("mbox/mimekit/{name}.mbox.txt"))).unwrap();
        let crlf = String::from_utf8_lossy(&original).replace('\n', "\r\n");
        let path = dir.path().join(format!("{name}.mbox"));
        std::fs::write(&path, crlf).unwrap();
        let messages = read_ok(&path, &outer());
        let expected = mimekit_offsets(&corpus(&format!("mbox/mimekit/{name}.dos-offsets.json")));
        assert_offsets(&messages, &expected, 2);
    }
}

#[test]
fn mbox_message_counts() {
    let cases = [
        ("mbox/mimekit/content-length.mbox.txt", 29),
        ("mbox/mimekit/issue1189.mbox.txt", 4),
        ("mbox/mimekit/simple.mbox.txt", 3),
        ("mbox/mimekit/unmunged.mbox.txt", 2),
        ("mbox/spamassassin/nice.mbox", 3),
    ];
    for (path, count) in cases {
        let messages = read_ok(&corpus(path), &outer());
        assert_eq!(messages.len(), count, "{path}");
        for (index, message) in messages.iter().enumerate() {
            assert_eq!(message.source.format, Format::Mbox, "{path}");
            assert_eq!(message.source.index, Some(index), "{path}");
        }
    }
}

#[test]
fn unmunged_from_lines_stay_in_bodies() {
    let messages = read_ok(&corpus("mbox/mimekit/unmunged.mbox.txt"), &outer());
    assert!(text(&messages[0]).contains("\nFrom Russia with love\n"));
    assert!(text(&messages[1]).contains("\nFrom Russia with love\nYear: 1963\n"));
}

#[test]
fn single_message_with_from_line_is_mbox() {
    let dir = corpus("ham-2002");
    let first = files_under(&dir).into_iter().next().expect("a ham file");
    let messages = read_ok(&first, &InputOptions::default());
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (messages[0].source.format, messages[0].source.index),
        (Format::Mbox, Some(0))
    );
    assert!(messages[0].envelope.as_ref().unwrap().sender.is_some());
}

// Maildir.

#[test]
fn maildir_yields_one_message_per_file() {
    let root = corpus("maildir");
    let in_cur_or_new: BTreeSet<String> = files_under(&root)
        .into_iter()
        .filter(|p| {
            let parent = p.parent().and_then(Path::file_name).unwrap();
            parent == "cur" || parent == "new"
        })
        .map(|p| p.display().to_string())
        .collect();
    let results = read(&root, &InputOptions::default());
    let maildir: Vec<InputMessage> = results
        .into_iter()
        .filter_map(Result::ok)
        .filter(|m| m.source.format == Format::Maildir)
        .collect();
    println!(
        "{} Maildir files, {} Maildir messages",
        in_cur_or_new.len(),
        maildir.len()
    );

    assert_eq!(in_cur_or_new.len(), 256);
    assert_eq!(maildir.len(), in_cur_or_new.len());
    let paths: BTreeSet<String> = maildir.iter().map(|m| m.source.path.clone()).collect();
    assert_eq!(paths, in_cur_or_new);
    for message in &maildir {
        let name = Path::new(&message.source.path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let expected = name.split_once(":2,").map(|(_, flags)| flags.to_string());
        assert_eq!(message.source.maildir_flags, expected, "{name}");
    }
}

#[test]
fn folder_walk_reports_every_non_message() {
    let results = read(&corpus("msg"), &InputOptions::default());
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.to_string())
        .collect();
    let licences = files_under(&corpus("msg"))
        .into_iter()
        .filter(|p| is_licence(p))
        .count();
    assert_eq!(errors.len(), licences + 2, "{errors:#?}");
    let not_messages = errors
        .iter()
        .filter(|e| e.contains("not an email message"))
        .count();
    assert_eq!(not_messages, licences);
}

// Reported-phish wrappers.

const ORIGINAL: &str = "Received: from mail.example.net (mail.example.net [198.51.100.7])\r\n\
\tby mx.example.org with ESMTP id 42; Mon, 3 Mar 2025 10:00:00 +0000\r\n\
From: \"Bank\" <alerts@example.net>\r\n\
To: victim@example.org\r\n\
Subject: Verify your account\r\n\
Message-ID: <original@example.net>\r\n\
\r\n\
Click here.\r\n";

fn wrapper(parts: &[(&str, &str)]) -> String {
    let mut text = String::from(
        "From: Reporter <reporter@example.org>\r\n\
         To: soc@example.com\r\n\
         Subject: Phish report\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
         \r\n\
         --outer\r\n\
         Content-Type: text/plain\r\n\
         \r\n\
         Reported message attached.\r\n",
    );
    for (headers, body) in parts {
        text.push_str(&format!("--outer\r\n{headers}\r\n\r\n{body}\r\n"));
    }
    text.push_str("--outer--\r\n");
    text
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, chunk) in bytes.chunks(3).enumerate() {
        if n > 0 && n % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let word = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            let symbol = ALPHABET[(word >> (18 - 6 * i) & 63) as usize] as char;
            out.push(if i <= chunk.len() { symbol } else { '=' });
        }
    }
    out
}

#[test]
fn reported_phish_wrapper_and_originals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.eml");
    let attached_eml = base64(ORIGINAL.as_bytes());
    let input = wrapper(&[
        ("Content-Type: message/rfc822", ORIGINAL),
        (
            "Content-Type: application/octet-stream; name=\"original.eml\"\r\n\
             Content-Disposition: attachment; filename=\"original.eml\"\r\n\
             Content-Transfer-Encoding: base64",
            &attached_eml,
        ),
    ]);
    std::fs::write(&path, &input).unwrap();

    let messages = read_ok(&path, &originals_only());
    assert_eq!(messages.len(), 2);
    for message in &messages {
        assert_eq!(text(message), ORIGINAL);
        assert_eq!(message.source.format, Format::Eml);
        assert_eq!(message.source.path, path.display().to_string());
        assert_eq!(finding_ids(message), ["input.attached-original"]);
    }
    let first = messages[0].source.attachment.as_ref().unwrap();
    assert_eq!((first.index, first.depth), (1, 1));
    assert_eq!(first.filename, None);
    assert_eq!(first.content_type, "message/rfc822");
    assert_eq!(first.wrapper_subject.as_deref(), Some("Phish report"));
    assert_eq!(
        first.wrapper_from.as_deref(),
        Some("Reporter <reporter@example.org>")
    );
    let second = messages[1].source.attachment.as_ref().unwrap();
    assert_eq!(second.index, 2);
    assert_eq!(second.filename.as_deref(), Some("original.eml"));
    assert_eq!(second.content_type, "application/octet-stream");

    let both = read_ok(&path, &InputOptions::default());
    assert_eq!(both.len(), 3);
    assert_eq!(text(&both[0]), input);
    assert_eq!(finding_ids(&both[0]), ["input.has-attached-messages"]);
    assert_eq!(text(&both[1]), ORIGINAL);
    assert_eq!(text(&both[2]), ORIGINAL);

    let wrappers = read_ok(&path, &outer());
    assert_eq!(wrappers.len(), 1);
    assert_eq!(text(&wrappers[0]), input);
    assert!(wrappers[0].source.attachment.is_none());
    assert!(wrappers[0].findings.is_empty());
}

#[test]
fn junk_and_empty_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.eml"), b"").unwrap();
    std::fs::write(dir.path().join("junk.bin"), [0u8, 159, 146, 150, 7, 0, 1]).unwrap();
    std::fs::write(dir.path().join("message.eml"), ORIGINAL).unwrap();
    let results = read(dir.path(), &InputOptions::default());
    assert_eq!(results.len(), 3);
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.to_string())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("empty.eml: not an email message"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("junk.bin: not an email message"),
        "{}",
        errors[1]
    );
    assert!(
        errors
            .iter()
            .all(|e| e.ends_with("expected .eml, .msg, mbox or Maildir"))
    );
}

#[test]
fn missing_path_is_an_error() {
    let results = read(
        Path::new("/nonexistent/mailtrace-input"),
        &InputOptions::default(),
    );
    assert_eq!(results.len(), 1);
    let error = results[0].as_ref().unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/mailtrace-input: cannot read"),
        "{error}"
    );
}

/// Outlook items that are not mail are read, and their report states that they are not
/// messages rather than scoring them as clean mail.
#[test]
fn outlook_items_that_are_not_mail_are_named() {
    for (file, kind) in [
        ("msgClassContact.msg", "contact"),
        ("msgClassAppointment.msg", "appointment"),
        ("msgClassTask.msg", "task"),
        ("msgClassStickyNote.msg", "sticky note"),
    ] {
        let messages = read_ok(
            &corpus(&format!("msg/apache_poi_hsmf/{file}")),
            &InputOptions::default(),
        );
        let finding = messages[0]
            .findings
            .iter()
            .find(|f| f.id == "input.not-mail-item")
            .unwrap_or_else(|| panic!("{file}: {:?}", finding_ids(&messages[0])));
        assert!(
            finding
                .title
                .starts_with(&format!("Outlook {kind}, not an email message")),
            "{file}: {}",
            finding.title
        );
        assert!(!finding_ids(&messages[0]).contains(&"input.transport-headers-absent"));
    }
}
