use super::*;

fn options() -> InputOptions {
    InputOptions::default()
}

fn messages(results: Vec<InputResult>) -> Vec<InputMessage> {
    results.into_iter().map(|r| r.expect("message")).collect()
}

const PLAIN: &[u8] =
    b"From: alice@example.com\r\nTo: bob@example.net\r\nSubject: hello\r\n\r\nbody\r\n";

fn wrapper(part_headers: &str, part_body: &str) -> Vec<u8> {
    format!(
        "From: Reporter <reporter@example.org>\r\n\
         Subject: Fwd: suspicious\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
         \r\n\
         --b1\r\n\
         Content-Type: text/plain\r\n\
         \r\n\
         Please check the attached message.\r\n\
         --b1\r\n\
         {part_headers}\r\n\
         \r\n\
         {part_body}\r\n\
         --b1--\r\n"
    )
    .into_bytes()
}

#[test]
fn plain_message_is_yielded_itself() {
    let read = messages(read_bytes("m.eml", PLAIN.to_vec(), None, &options()));
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].source.format, Format::Eml);
    assert_eq!(read[0].bytes, PLAIN);
    assert!(read[0].findings.is_empty());
}

#[test]
fn format_hints_label_plain_messages() {
    let stdin = messages(read_bytes(
        STDIN_LABEL,
        PLAIN.to_vec(),
        Some(Format::Stdin),
        &options(),
    ));
    assert_eq!(stdin[0].source.format, Format::Stdin);
    let maildir = messages(read_bytes(
        "box/cur/17.host:2,RS",
        PLAIN.to_vec(),
        Some(Format::Maildir),
        &options(),
    ));
    assert_eq!(maildir[0].source.format, Format::Maildir);
    assert_eq!(maildir[0].source.maildir_flags.as_deref(), Some("RS"));
    let mbox = messages(read_bytes(
        STDIN_LABEL,
        [b"From -\r\n".as_slice(), PLAIN].concat(),
        Some(Format::Stdin),
        &options(),
    ));
    assert_eq!(mbox[0].source.format, Format::Mbox);
    assert_eq!(mbox[0].source.index, Some(0));
}

#[test]
fn junk_gives_error_naming_input() {
    let results = read_bytes("junk.bin", vec![0, 1, 2, 3, 0xFF], None, &options());
    assert_eq!(results.len(), 1);
    let error = results[0].as_ref().unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("junk.bin: not an email message"), "{text}");
    assert!(
        text.ends_with("expected .eml, .msg, mbox or Maildir"),
        "{text}"
    );
}

#[test]
fn error_display_names_message_index() {
    let error = InputError::new("box.mbox", Some(3), "reading failed");
    assert_eq!(error.to_string(), "box.mbox message 3: reading failed");
}

#[test]
fn corrupt_cfb_gives_error() {
    let mut bytes = sniff::CFB_MAGIC.to_vec();
    bytes.extend([0u8; 100]);
    let results = read_bytes("broken.msg", bytes, None, &options());
    let error = results[0].as_ref().unwrap_err();
    assert!(
        error.reason.contains("corrupt or truncated Outlook .msg"),
        "{error}"
    );
}

#[test]
fn oversized_message_is_cut_to_header_block() {
    let mut bytes = PLAIN.to_vec();
    bytes.extend(vec![b'x'; 1000]);
    let small = InputOptions {
        max_message_bytes: 200,
        ..options()
    };
    let read = messages(read_bytes("big.eml", bytes, None, &small));
    assert_eq!(read[0].bytes, &PLAIN[..PLAIN.len() - 6]);
    assert_eq!(read[0].findings[0].id, "input.message-truncated");
}

#[test]
fn rfc822_part_follows_wrapper() {
    let body = String::from_utf8_lossy(PLAIN).into_owned();
    let input = wrapper("Content-Type: message/rfc822", &body);
    let read = messages(read_bytes("report.eml", input.clone(), None, &options()));
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].bytes, input);
    assert!(read[0].source.attachment.is_none());
    assert_eq!(read[0].findings[0].id, "input.has-attached-messages");
    let original = &read[1];
    assert!(String::from_utf8_lossy(&original.bytes).starts_with("From: alice@example.com\r\n"));
    let info = original
        .source
        .attachment
        .as_ref()
        .expect("attachment info");
    assert_eq!(info.index, 1);
    assert_eq!(info.content_type, "message/rfc822");
    assert_eq!(info.wrapper_subject.as_deref(), Some("Fwd: suspicious"));
    assert_eq!(
        info.wrapper_from.as_deref(),
        Some("Reporter <reporter@example.org>")
    );
    assert_eq!(info.depth, 1);
    assert_eq!(original.findings[0].id, "input.attached-original");

    let outer = InputOptions {
        attached: AttachedMessages::WrapperOnly,
        ..options()
    };
    let read = messages(read_bytes("report.eml", input.clone(), None, &outer));
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].bytes, input);
    assert!(read[0].source.attachment.is_none());

    let attached_only = InputOptions {
        attached: AttachedMessages::OriginalsOnly,
        ..options()
    };
    let read = messages(read_bytes("report.eml", input, None, &attached_only));
    assert_eq!(read.len(), 1);
    assert!(read[0].source.attachment.is_some());
}

#[test]
fn base64_eml_attachment_is_decoded() {
    let encoded = base64(PLAIN);
    let input = wrapper(
        "Content-Type: application/octet-stream; name=\"original.eml\"\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\nContent-Transfer-Encoding: base64",
        &encoded,
    );
    let read = messages(read_bytes("report.eml", input, None, &options()));
    assert_eq!(read.len(), 2);
    assert_eq!(read[1].bytes, PLAIN);
    let info = read[1].source.attachment.as_ref().unwrap();
    assert_eq!(info.filename.as_deref(), Some("original.eml"));
    assert_eq!(info.content_type, "application/octet-stream");
}

#[test]
fn rfc822_headers_part_is_original() {
    // The third part of a feedback report (RFC 6591) or a bounce holds only the header
    // block of the original message.
    let headers = "Received: from mx.example.net (mx.example.net [203.0.113.9])\r\n \
                   by mx.example.org; Sat, 5 Dec 2026 08:00:00 +0000\r\n\
                   From: alice@example.com\r\n\
                   Subject: invoice";
    let input = wrapper("Content-Type: text/rfc822-headers", headers);
    let read = messages(read_bytes("report.eml", input, None, &options()));
    assert_eq!(read.len(), 2);
    let info = read[1].source.attachment.as_ref().unwrap();
    assert_eq!(info.content_type, "text/rfc822-headers");
    let block = crate::headers::HeaderBlock::parse(
        &read[1].bytes,
        &crate::headers::ParseOptions::default(),
    )
    .unwrap();
    let names: Vec<&str> = block.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Received", "From", "Subject"]);
    assert_eq!(block.fields[2].value, "invoice");
}

/// Builds an ARF report (RFC 5965) with this Source-IP, whose attached original headers
/// have one Received field naming `received_from`.
fn feedback_report(source_ip: &str, received_from: &str) -> String {
    format!(
        "From: abuse@example.org\r\n\
        Subject: FW: invoice\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/report; report-type=feedback-report; boundary=\"b1\"\r\n\
        \r\n\
        --b1\r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        This is an abuse report.\r\n\
        --b1\r\n\
        Content-Type: message/feedback-report\r\n\
        \r\n\
        Feedback-Type: abuse\r\n\
        Version: 1\r\n\
        Source-IP: {source_ip}\r\n\
        \r\n\
        --b1\r\n\
        Content-Type: text/rfc822-headers\r\n\
        \r\n\
        Received: from {received_from} by mx.example.org; Sat, 5 Dec 2026 08:00:00 +0000\r\n\
        From: billing@example.net\r\n\
        Subject: invoice\r\n\
        --b1--\r\n"
    )
}

#[test]
fn feedback_source_ip_is_origin() {
    // The original's headers stop before the reporter's edge; the report's Source-IP is
    // one of the 2022 campaign's connector addresses.
    let report = feedback_report("170.75.174.97", "mail.example.net");
    let read = messages(read_bytes(
        "arf.eml",
        report.as_bytes().to_vec(),
        None,
        &options(),
    ));
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].source.attachment, None);
    let info = read[1].source.attachment.as_ref().unwrap();
    assert_eq!(
        info.reported_source_ip,
        Some("170.75.174.97".parse().unwrap())
    );

    let config = crate::config::AnalysisConfig::default();
    let original = crate::analysis::analyze(&read[1], &config).unwrap();
    let origin = original.origin.unwrap();
    assert_eq!(origin.ip, Some("170.75.174.97".parse().unwrap()));
    assert_eq!(origin.source, "feedback report Source-IP");
    assert!(
        original
            .ip_matches
            .iter()
            .any(|m| m.builtin && m.location == "feedback report Source-IP"),
        "{:?}",
        original.ip_matches
    );
    assert!(
        !original
            .findings
            .iter()
            .any(|f| f.id == "chain.feedback-source-ip-differs")
    );
}

#[test]
fn feedback_source_ip_differs_from_origin() {
    // OpenDMARC writes the host name as a comment after the address.
    let report = feedback_report(
        "198.51.100.99 (relay.example.com)",
        "mail.example.net (mail.example.net [203.0.113.5])",
    );
    let read = messages(read_bytes("arf.eml", report.into_bytes(), None, &options()));
    let config = crate::config::AnalysisConfig::default();
    let original = crate::analysis::analyze(&read[1], &config).unwrap();
    let origin = original.origin.as_ref().unwrap();
    assert_eq!(origin.ip, Some("203.0.113.5".parse().unwrap()));
    let finding = original
        .findings
        .iter()
        .find(|f| f.id == "chain.feedback-source-ip-differs")
        .expect("finding for a Source-IP that is not the origin");
    assert!(
        finding.detail.contains("198.51.100.99"),
        "{}",
        finding.detail
    );
    assert!(finding.detail.contains("203.0.113.5"), "{}", finding.detail);
}

#[test]
fn nesting_stops_at_depth_limit() {
    let inner = wrapper(
        "Content-Type: message/rfc822",
        &String::from_utf8_lossy(PLAIN),
    );
    let outer_wrapper = wrapper(
        "Content-Type: message/rfc822",
        &String::from_utf8_lossy(&inner),
    );
    let read = messages(read_bytes(
        "report.eml",
        outer_wrapper.clone(),
        None,
        &options(),
    ));
    let depths: Vec<usize> = read
        .iter()
        .map(|m| m.source.attachment.as_ref().map_or(0, |a| a.depth))
        .collect();
    assert_eq!(depths, [0, 1, 2]);
    assert_eq!(read[2].bytes, PLAIN);
    // Each message has its own label: attachment 1 of the input, then attachment 1 of it.
    let labels: Vec<String> = read
        .iter()
        .map(|m| crate::analysis::source_label(&m.source))
        .collect();
    assert_eq!(
        labels,
        [
            "report.eml",
            "report.eml attachment 1",
            "report.eml attachment 1.1"
        ]
    );
    // With --attached-only, attachment 1 is kept although it carries a message itself.
    let originals = InputOptions {
        attached: AttachedMessages::OriginalsOnly,
        ..options()
    };
    let read = messages(read_bytes(
        "report.eml",
        outer_wrapper.clone(),
        None,
        &originals,
    ));
    let depths: Vec<usize> = read
        .iter()
        .map(|m| m.source.attachment.as_ref().map_or(0, |a| a.depth))
        .collect();
    assert_eq!(depths, [1, 2]);

    let shallow = InputOptions {
        max_attachment_depth: 1,
        ..options()
    };
    let read = messages(read_bytes("report.eml", outer_wrapper, None, &shallow));
    assert_eq!(read.len(), 2);
    assert_eq!(read[1].source.attachment.as_ref().unwrap().depth, 1);
    assert!(
        read[1]
            .findings
            .iter()
            .any(|f| f.id == "input.attachment-depth-limit")
    );
}

#[test]
fn non_message_attachment_keeps_wrapper() {
    let input = wrapper(
        "Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64",
        "JVBERi0xLjQK",
    );
    let read = messages(read_bytes("mail.eml", input.clone(), None, &options()));
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].bytes, input);
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A file name that is not UTF-8 keeps its bytes as `\xNN` in the source path, so that the
/// report still names the file that was read.
#[cfg(unix)]
#[test]
fn non_utf8_file_name_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("temporary folder");
    let name = std::ffi::OsStr::from_bytes(b"bad\xff\xfe.eml");
    let path = dir.path().join(name);
    std::fs::write(&path, PLAIN).expect("write message");
    let read = messages(read_paths(&[path], &options()).collect());
    assert_eq!(read.len(), 1);
    assert!(
        read[0].source.path.ends_with("bad\\xFF\\xFE.eml"),
        "{}",
        read[0].source.path
    );
}
