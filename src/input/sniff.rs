//! Format detection from content. File names are unreliable (real collections contain
//! Outlook items without extension and RFC 822 files named `.msg` or `.txt`), so the first
//! bytes decide.

use super::mbox::is_envelope_line;

/// Reading method of an input, as detected from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Compound File Binary, read as an Outlook item.
    Msg,
    /// Starts with an mbox `From ` line followed by a header field.
    Mbox,
    /// A single RFC 822 message.
    Eml,
}

/// Number of leading bytes that [`sniff`] needs to see.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Signature of a Compound File Binary file (MS-CFB section 2.2).
pub const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Number of lines searched for a header field before the input is judged not to be a
/// message. It is above the 50 leading lines that the header splitter skips.
const MAX_SCANNED_LINES: usize = 60;

/// Field names that mark an RFC 822 header block. A block of `name: value` lines without
/// any of them (a YAML file, a licence header) is not taken for a message.
const MESSAGE_FIELDS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "received",
    "message-id",
    "return-path",
    "reply-to",
    "sender",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "delivered-to",
    "envelope-to",
    "in-reply-to",
    "references",
    "authentication-results",
    "received-spf",
    "dkim-signature",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "thread-topic",
    "thread-index",
    "importance",
    "precedence",
    "organization",
];

const MESSAGE_FIELD_PREFIXES: &[&str] = &["x-", "resent-", "list-", "arc-", "dkim-"];

/// Detects how `prefix`, the first 64 KiB of an input, must be read.
///
/// Returns the reason when the input is not an email message.
pub fn sniff(prefix: &[u8]) -> Result<Kind, String> {
    if prefix.starts_with(&CFB_MAGIC) {
        return Ok(Kind::Msg);
    }
    let text = prefix.strip_prefix(UTF8_BOM).unwrap_or(prefix);
    if text.is_empty() {
        return Err(not_a_message("the input is empty"));
    }
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(not_a_message(
            "the input holds only blank lines or spaces, no header field",
        ));
    }
    if starts_with_mbox_separator(text) {
        return Ok(Kind::Mbox);
    }
    if has_message_header(text) {
        return Ok(Kind::Eml);
    }
    Err(describe_non_message(text))
}

/// Tells whether `text` starts with an mbox envelope line directly followed by a header
/// field.
fn starts_with_mbox_separator(text: &[u8]) -> bool {
    let mut lines = text.split(|&b| b == b'\n');
    if !lines.next().is_some_and(is_envelope_line) {
        return false;
    }
    lines
        .next()
        .is_some_and(|line| header_field_name(line).is_some())
}

/// Tells whether the first lines hold a header field with a name that messages carry.
/// Lines that are not fields (an mbox `From ` line, MH `Forwarded:` notes, an SMTP
/// transcript) may come first.
fn has_message_header(text: &[u8]) -> bool {
    let mut seen_field = false;
    for line in text.split(|&b| b == b'\n').take(MAX_SCANNED_LINES) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() && seen_field {
            return false;
        }
        if let Some(name) = header_field_name(line) {
            seen_field = true;
            if is_message_field(name) {
                return true;
            }
        }
    }
    false
}

/// Returns the field name when `line` starts a header field. Unlike RFC 5322, which allows
/// any printable character, the name must be letters, digits, `-`, `_` or `.`, because
/// every real field name is and JSON or prose lines then do not pass. Spaces and tabs may
/// come before the colon, as the obsolete syntax of RFC 5322 section 4.5 allows.
pub fn header_field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line.get(..colon)?;
    let end = name
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    let name = &name[..end];
    let valid = !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    valid.then_some(name)
}

fn is_message_field(name: &[u8]) -> bool {
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    MESSAGE_FIELDS.contains(&name.as_str())
        || MESSAGE_FIELD_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn describe_non_message(text: &[u8]) -> String {
    let control = text
        .iter()
        .take(4096)
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n'))
        .count();
    let what = if control > 0 {
        "binary data with no header field at the start"
    } else {
        "no header field such as From, Received or Subject in the first lines"
    };
    not_a_message(what)
}

fn not_a_message(what: &str) -> String {
    format!("not an email message: {what}; expected .eml, .msg, mbox or Maildir")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_table() {
        let cases: &[(&[u8], Option<Kind>)] = &[
            (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", Some(Kind::Msg)),
            (b"From a@example.com Mon Mar  3 10:00:00 2025\nFrom: a@example.com\n", Some(Kind::Mbox)),
            (b"\xEF\xBB\xBFFrom -\nSubject: x\n", Some(Kind::Mbox)),
            (b"From: a@example.com\nSubject: x\n\nbody", Some(Kind::Eml)),
            (b"Forwarded: Mon, 3 Mar 2025\nFrom a@example.com Mon\nReturn-Path: <a@example.com>\n", Some(Kind::Eml)),
            (b"220 mx.example.org ESMTP\nReceived: from a\n", Some(Kind::Eml)),
            (b"X-Custom: 1\n\n", Some(Kind::Eml)),
            (b"From the desk of Alice\nHello\n", None),
            (b"From  :<a@example.com>\nX-Mailer: x\nTo: b@example.com\n", Some(Kind::Eml)),
            (b"From :<a@example.com>\nSubject: x\n", Some(Kind::Eml)),
            (b"From\t :a@example.com\nSubject: x\n", Some(Kind::Eml)),
            (b"", None),
            (b"  \r\n", None),
            (b"\x00\x01\x02\x03binary", None),
            (b"MIT License\n\nCopyright (c) 2020\n", None),
            (b"{\"from\": \"a\", \"to\": \"b\"}\n", None),
            (b"description: test\nspec: 1\n\nFrom: a\n", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                sniff(input).ok(),
                *expected,
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn blank_input_reason_differs_from_empty() {
        let empty = sniff(b"").unwrap_err();
        assert!(empty.contains("the input is empty"), "{empty}");
        let blank = sniff(b"\n\n  \r\n").unwrap_err();
        assert!(blank.contains("only blank lines"), "{blank}");
    }

    #[test]
    fn non_message_reason_names_expected_forms() {
        let reason = sniff(b"\x00\x01junk").unwrap_err();
        assert!(reason.contains("not an email message"), "{reason}");
        assert!(
            reason.contains("expected .eml, .msg, mbox or Maildir"),
            "{reason}"
        );
    }
}
