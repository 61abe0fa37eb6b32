//! Reported-phish wrappers: users report suspicious mail by forwarding it as an attachment
//! (a `message/rfc822` part, an attached `.eml` or `.msg`, or an Outlook embedded item).
//! The wrapper's own headers only show the reporter's path, so the attached originals are
//! analysed too. The wrapper is analysed as well, because a phish can carry a harmless
//! attached message. `InputOptions::attached` can select only one of them.

use super::msg::{AttachedContent, MsgAttachment, MsgItem, is_outlook_item, read_msg};
use super::sniff::CFB_MAGIC;
use super::{
    AttachedMessages, AttachmentInfo, Format, InputError, InputMessage, InputOptions, InputResult,
    Source,
};
use crate::finding::{Finding, Severity};
use mail_parser::{Encoding, MessageParser, MessagePart, MimeHeaders, PartType};

/// A message read from an input, with the Outlook attachments found while reading it (an
/// RFC 822 message carries its attachments in its bytes).
pub struct Candidate {
    pub message: InputMessage,
    pub outlook_attachments: Vec<MsgAttachment>,
}

/// An attached message found in a wrapper.
struct Original {
    info: AttachmentInfo,
    content: Result<OriginalContent, String>,
}

enum OriginalContent {
    /// An RFC 822 message or a `.msg` file, distinguished by content.
    Bytes(Vec<u8>),
    /// An Outlook embedded item.
    Outlook(Box<MsgItem>),
}

/// Returns a wrapper followed by the messages attached to it, recursively up to the depth
/// limit, or only one of them as `options.attached` selects.
pub fn expand(candidate: Candidate, options: &InputOptions) -> Vec<InputResult> {
    let mut out = Vec::new();
    expand_into(candidate, options, 0, &mut out);
    out
}

fn expand_into(
    candidate: Candidate,
    options: &InputOptions,
    depth: usize,
    out: &mut Vec<InputResult>,
) {
    let Candidate {
        mut message,
        outlook_attachments,
    } = candidate;
    if options.attached == AttachedMessages::WrapperOnly {
        out.push(Ok(message));
        return;
    }
    let originals = if message.msg.is_some() {
        outlook_originals(&message, outlook_attachments, depth + 1)
    } else {
        rfc822_originals(&message.bytes, depth + 1)
    };
    if originals.is_empty() {
        out.push(Ok(message));
        return;
    }
    if depth >= options.max_attachment_depth {
        message
            .findings
            .push(depth_finding(options.max_attachment_depth));
        out.push(Ok(message));
        return;
    }

    // Read every attached message before the wrapper is handed on, so that the wrapper's
    // findings can report unreadable attachments.
    let count = originals.len();
    let (children, errors): (Vec<_>, Vec<_>) = originals
        .into_iter()
        .map(|original| child(&message.source, original, options))
        .partition(Result::is_ok);
    let children: Vec<Candidate> = children.into_iter().filter_map(Result::ok).collect();
    let errors: Vec<InputError> = errors.into_iter().filter_map(Result::err).collect();

    // The wrapper is the message as delivered. It is analysed unless only the originals were
    // requested and one of them could be read, because a phish can attach a harmless message.
    if children.is_empty() {
        let mut finding = unreadable_originals_finding();
        for error in &errors {
            finding = finding.with_evidence("(attachment)", None, error.reason.clone());
        }
        message.findings.push(finding);
        out.push(Ok(message));
        return;
    }
    // An attached message that carries messages itself is one of the originals, so it is
    // kept with --attached-only too.
    if options.attached == AttachedMessages::Both || depth > 0 {
        message.findings.push(wrapper_finding(count));
        out.push(Ok(message));
    }
    for child in children {
        expand_into(child, options, depth + 1, out);
    }
    out.extend(errors.into_iter().map(Err));
}

/// Builds the message read from one attachment, labelled with the wrapper's source.
fn child(
    wrapper: &Source,
    original: Original,
    options: &InputOptions,
) -> Result<Candidate, InputError> {
    let mut info = original.info;
    if let Some(outer) = &wrapper.attachment {
        info.path = [outer.path.as_slice(), &info.path].concat();
    }
    let label = info.label();
    let error = |reason: String| {
        InputError::new(
            wrapper.path.clone(),
            wrapper.index,
            format!("attachment {label}: {reason}"),
        )
    };
    let mut source = wrapper.clone();
    let finding = attached_finding(&info);
    source.attachment = Some(info);
    let mut candidate = match original.content.map_err(&error)? {
        OriginalContent::Outlook(item) => outlook_candidate(source, *item),
        OriginalContent::Bytes(bytes) if bytes.starts_with(&CFB_MAGIC) => {
            let item = read_msg(std::io::Cursor::new(bytes), options.max_msg_stream_bytes)
                .map_err(error)?;
            outlook_candidate(source, item)
        }
        OriginalContent::Bytes(bytes) => {
            let parsed = crate::headers::HeaderBlock::parse(
                &bytes,
                &crate::headers::ParseOptions::default(),
            );
            if let Err(not_a_message) = parsed {
                return Err(error(not_a_message.to_string()));
            }
            rfc822_candidate(source, bytes, options.max_message_bytes)
        }
    };
    candidate.message.findings.insert(0, finding);
    Ok(candidate)
}

/// Builds the message of an Outlook item: its transport headers, followed by an empty line.
pub fn outlook_candidate(source: Source, item: MsgItem) -> Candidate {
    let bytes = match &item.transport_text {
        Some(text) => {
            let mut bytes = text.trim_end_matches(['\r', '\n']).as_bytes().to_vec();
            bytes.extend_from_slice(b"\r\n\r\n");
            bytes
        }
        None => Vec::new(),
    };
    Candidate {
        message: InputMessage {
            source,
            bytes,
            msg: Some(item.metadata),
            envelope: None,
            findings: item.findings,
        },
        outlook_attachments: item.attachments,
    }
}

/// Builds the message of RFC 822 bytes, cut to the header block when over `max_bytes`.
pub fn rfc822_candidate(source: Source, mut bytes: Vec<u8>, max_bytes: usize) -> Candidate {
    let mut findings = Vec::new();
    if bytes.len() > max_bytes {
        findings.push(cut_to_header_block(&mut bytes, max_bytes));
    }
    Candidate {
        message: InputMessage {
            source,
            bytes,
            msg: None,
            envelope: None,
            findings,
        },
        outlook_attachments: Vec::new(),
    }
}

/// Cuts an oversized message to its header block (or to `max_bytes` when the header block
/// itself is larger) and returns the finding that reports the cut.
pub fn cut_to_header_block(bytes: &mut Vec<u8>, max_bytes: usize) -> Finding {
    let size = bytes.len();
    let header_end = header_block_end(bytes).filter(|&end| end <= max_bytes);
    bytes.truncate(header_end.unwrap_or(max_bytes).min(size));
    let kept = match header_end {
        Some(_) => "only its header block was kept".to_string(),
        None => format!(
            "only the first {max_bytes} bytes of its header block were kept, so fields after them (perhaps From or Subject) are missing from the report"
        ),
    };
    Finding::new(
        "input.message-truncated",
        Severity::Medium,
        "Message larger than the size limit: only its header block was read",
        format!(
            "The message is at least {size} bytes, more than the {max_bytes}-byte limit, so {kept}. Attachments and the body were not examined."
        ),
    )
}

/// Returns the position just after the empty line that ends the header block.
fn header_block_end(bytes: &[u8]) -> Option<usize> {
    let mut position = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        position += line.len();
        if line == b"\n" || line == b"\r\n" {
            return Some(position);
        }
    }
    None
}

fn outlook_originals(
    message: &InputMessage,
    attachments: Vec<MsgAttachment>,
    depth: usize,
) -> Vec<Original> {
    let metadata = message.msg.as_ref();
    let subject = metadata.and_then(|m| m.subject.clone());
    let from = metadata.and_then(|m| match (&m.sender_name, &m.sender) {
        (Some(name), Some(address)) if name != address => Some(format!("{name} <{address}>")),
        (name, address) => address.clone().or_else(|| name.clone()),
    });
    attachments
        .into_iter()
        .map(|attachment| {
            let (content_type, content) = match attachment.content {
                AttachedContent::Embedded(item) => (
                    "application/vnd.ms-outlook".to_string(),
                    item.map(OriginalContent::Outlook),
                ),
                AttachedContent::Data(bytes) => (
                    attachment
                        .mime_tag
                        .clone()
                        .unwrap_or_else(|| guess_type(&attachment.filename)),
                    bytes.map(OriginalContent::Bytes),
                ),
            };
            let info = AttachmentInfo {
                index: attachment.number,
                filename: attachment.filename,
                content_type,
                wrapper_subject: subject.clone(),
                wrapper_from: from.clone(),
                depth,
                path: vec![attachment.number],
                reported_source_ip: None,
            };
            Original { info, content }
        })
        .collect()
}

fn guess_type(filename: &Option<String>) -> String {
    let name = filename.as_deref().unwrap_or_default().to_ascii_lowercase();
    if name.ends_with(".msg") {
        "application/vnd.ms-outlook".to_string()
    } else {
        "message/rfc822".to_string()
    }
}

/// Finds the attached messages of an RFC 822 message with mail-parser. A panic inside
/// mail-parser on hostile MIME is caught and treated as "no attached message", so the
/// message itself is still analysed.
fn rfc822_originals(bytes: &[u8], depth: usize) -> Vec<Original> {
    if !may_hold_attached_message(bytes) {
        return Vec::new();
    }
    std::panic::catch_unwind(|| rfc822_originals_unguarded(bytes, depth)).unwrap_or_else(|_| {
        tracing::warn!("mail-parser panicked while looking for attached messages");
        Vec::new()
    })
}

/// Tells whether an RFC 822 message may hold an attached message, so that the full MIME
/// parse (which decodes every part and dominates the cost of a bulk scan) runs only then.
///
/// [`attached_message_bytes`] accepts a part only by a `message/`, `text/rfc822-headers` or
/// Outlook content type,
/// an `.eml` or `.msg` name, or content that starts like a Compound File Binary. Parts of a
/// `multipart/digest` are `message/rfc822` by default (RFC 2046 section 5.1.5). So the
/// header lines must contain one of these marks, compared case-insensitively: the type, the
/// name extension, or a name parameter encoded by RFC 2047 or RFC 2231 (which hides the
/// extension). Otherwise a part's first body line must hold the CFB signature raw, in base64
/// or in quoted-printable. Only those lines are searched ([`mime_header_lines`]), not the
/// encoded contents of the parts.
/// NOTE: a base64 body whose first line breaks inside its first 8 characters hides the
/// signature; mail clients write 76-character lines.
fn may_hold_attached_message(bytes: &[u8]) -> bool {
    const MARKS: [&[u8]; 9] = [
        b"message/",
        b"rfc822-headers",
        b"multipart/digest",
        b"vnd.ms-outlook",
        b".eml",
        b".msg",
        b"\xd0\xcf\x11\xe0",
        b"0m8r4kgx",
        b"=d0=cf=11=e0",
    ];
    let lower = mime_header_lines(bytes);
    MARKS
        .iter()
        .any(|mark| memchr::memmem::find(&lower, mark).is_some())
        || has_encoded_name_parameter(&lower)
}

/// Returns, in lower case, the lines where MIME structure is declared. A block starts at
/// the message's header block or at a line starting with `--` (a boundary) and ends at the
/// next empty line. The result contains the `Content-` fields of each block and the first
/// line after it, where an attachment's content starts. Other fields (Received, ARC and the
/// like, most of a header block's bytes) cannot declare a part's type or name. A boundary
/// is not matched against the declared one, so text that merely starts with `--` adds lines
/// too, and the search can only widen. Boundaries are found with one byte search, so the
/// lines of the parts' contents are not visited one by one.
fn mime_header_lines(bytes: &[u8]) -> Vec<u8> {
    let mut lower = Vec::new();
    let mut covered = 0;
    for start in std::iter::once(0).chain(memchr::memmem::find_iter(bytes, b"\n--").map(|i| i + 1))
    {
        if start < covered {
            continue;
        }
        // The first content line may itself be a boundary, which starts the next block.
        covered = append_content_fields(&mut lower, bytes, start);
    }
    lower
}

/// Appends, in lower case, the `Content-` fields (with their continuation lines) of the
/// block of lines starting at `start`, then the line after the block's first empty line.
/// Returns where the block ends, just after that empty line.
fn append_content_fields(lower: &mut Vec<u8>, bytes: &[u8], start: usize) -> usize {
    let line_end =
        |from: usize| memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i + 1);
    let mut position = start;
    let mut in_content_field = false;
    while position < bytes.len() {
        let end = line_end(position);
        let line = &bytes[position..end];
        position = end;
        if line.trim_ascii().is_empty() {
            append_lower(lower, &bytes[position..line_end(position)]);
            break;
        }
        if !matches!(line[0], b' ' | b'\t') {
            in_content_field = line
                .get(..8)
                .is_some_and(|name| name.eq_ignore_ascii_case(b"content-"));
        }
        if in_content_field {
            append_lower(lower, line);
        }
    }
    position
}

fn append_lower(lower: &mut Vec<u8>, bytes: &[u8]) {
    let start = lower.len();
    lower.extend_from_slice(bytes);
    lower[start..].make_ascii_lowercase();
    lower.push(b'\n');
}

/// Tells whether lower-case message bytes have a `name` or `filename` parameter in RFC 2231
/// form (`name*=`, `name*0=`) or with an RFC 2047 encoded word as its value.
fn has_encoded_name_parameter(lower: &[u8]) -> bool {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    memchr::memmem::find_iter(lower, b"name").any(|position| {
        let rest = lower.get(position + 4..).unwrap_or_default();
        let rest = &rest[rest.iter().take_while(|b| is_space(b)).count()..];
        match rest.first() {
            Some(b'*') => true,
            Some(b'=') => {
                let value = &rest[1..];
                let skipped = value
                    .iter()
                    .take_while(|b| is_space(b) || **b == b'"')
                    .count();
                value[skipped..].starts_with(b"=?")
            }
            _ => false,
        }
    })
}

fn rfc822_originals_unguarded(bytes: &[u8], depth: usize) -> Vec<Original> {
    let Some(parsed) = MessageParser::default().parse(bytes) else {
        return Vec::new();
    };
    let subject = parsed.subject().map(str::to_string);
    let from =
        parsed
            .from()
            .and_then(|a| a.first())
            .map(|addr| match (addr.name(), addr.address()) {
                (Some(name), Some(address)) => format!("{name} <{address}>"),
                (name, address) => address.or(name).unwrap_or_default().to_string(),
            });
    let reported_source_ip = feedback_source_ip(&parsed);
    let mut originals = Vec::new();
    for (position, part) in parsed.attachments().enumerate() {
        let Some(content) = attached_message_bytes(part, parsed.raw_message()) else {
            continue;
        };
        let info = AttachmentInfo {
            index: position + 1,
            filename: part.attachment_name().map(str::to_string),
            content_type: content_type(part),
            wrapper_subject: subject.clone(),
            wrapper_from: from.clone(),
            depth,
            path: vec![position + 1],
            reported_source_ip,
        };
        originals.push(Original {
            info,
            content: Ok(OriginalContent::Bytes(content)),
        });
    }
    originals
}

/// Returns the bytes of an attachment that contains a message. That is a `message/rfc822`
/// part, the `text/rfc822-headers` part of a feedback report (RFC 6591) or a bounce
/// (RFC 3462), or a file whose name, type or content marks it as an `.eml` or `.msg`.
fn attached_message_bytes(part: &MessagePart<'_>, raw: &[u8]) -> Option<Vec<u8>> {
    let name = part
        .attachment_name()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mime = content_type(part);
    let named = name.ends_with(".eml") || name.ends_with(".msg");
    let typed = mime == "message/rfc822" || mime == "application/vnd.ms-outlook";
    match &part.body {
        // A nested message that was not transfer-encoded is parsed in place, and its
        // `raw_message` is then the whole wrapper, so the part's own span is used.
        PartType::Message(_) if part.encoding == Encoding::None => {
            let start = usize::try_from(part.offset_body).ok()?;
            let end = usize::try_from(part.offset_end).ok()?;
            raw.get(start..end).map(<[u8]>::to_vec)
        }
        PartType::Message(nested) => Some(nested.raw_message().to_vec()),
        PartType::Binary(data) | PartType::InlineBinary(data) => {
            let outlook = data.starts_with(&CFB_MAGIC) && is_outlook_item(data);
            (named || typed || outlook).then(|| data.to_vec())
        }
        PartType::Text(text) if named || typed => Some(text.as_bytes().to_vec()),
        // Only the header block of the original: it ends with the part, so an empty line is
        // added to end it.
        PartType::Text(text) if mime == "text/rfc822-headers" => {
            let mut headers = text.trim_end().as_bytes().to_vec();
            headers.extend_from_slice(b"\n\n");
            Some(headers)
        }
        _ => None,
    }
}

/// Returns the `Source-IP` field of a feedback report's `message/feedback-report` part
/// (RFC 5965 section 3.2), read from the part's raw lines.
fn feedback_source_ip(parsed: &mail_parser::Message<'_>) -> Option<std::net::IpAddr> {
    let raw = parsed.raw_message();
    let part = parsed
        .parts
        .iter()
        .find(|part| content_type(part) == "message/feedback-report")?;
    let start = usize::try_from(part.offset_body).ok()?;
    let end = usize::try_from(part.offset_end).ok()?;
    let text = String::from_utf8_lossy(raw.get(start..end)?);
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case("Source-IP") {
            return None;
        }
        // The address may stand between comments (`[CFWS]` in RFC 5965 section 3.2), such
        // as the host name that OpenDMARC writes after it.
        let address = value
            .split(['(', ')'])
            .step_by(2)
            .map(str::trim)
            .find(|part| !part.is_empty())?;
        crate::iplist::parse_net(address)
            .filter(|net| net.prefix_len() == net.max_prefix_len())
            .map(|net| net.addr())
    })
}

fn content_type(part: &MessagePart<'_>) -> String {
    part.content_type().map_or_else(
        || "application/octet-stream".to_string(),
        |ct| match ct.subtype() {
            Some(subtype) => format!("{}/{}", ct.ctype(), subtype).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
    )
}

fn attached_finding(info: &AttachmentInfo) -> Finding {
    Finding::new(
        "input.attached-original",
        Severity::Info,
        "Message read from an attachment",
        format!(
            "This message is attachment {} ({}) of the message it was found in, such as a user's phishing report or a bounce. The wrapper has its own report, unless --attached-only was given.",
            info.label(),
            match &info.filename {
                Some(name) => format!("{name}, {}", info.content_type),
                None => info.content_type.clone(),
            }
        ),
    )
    .with_evidence("Subject", None, info.wrapper_subject.clone().unwrap_or_default())
    .with_evidence("From", None, info.wrapper_from.clone().unwrap_or_default())
}

fn wrapper_finding(count: usize) -> Finding {
    Finding::new(
        "input.has-attached-messages",
        Severity::Info,
        "Message with attached messages",
        format!(
            "This message carries {count} attached message(s), such as the original of a user's phishing report or of a bounce. This report is for the message as delivered; each attached message has its own report, labelled with its attachment number."
        ),
    )
}

fn depth_finding(max: usize) -> Finding {
    Finding::new(
        "input.attachment-depth-limit",
        Severity::Low,
        "Attached messages nested too deep: the innermost were not read",
        format!(
            "This message has attached messages, but it is already {max} attachments deep, the limit; it is analysed itself."
        ),
    )
}

fn unreadable_originals_finding() -> Finding {
    Finding::new(
        "input.attached-original-unreadable",
        Severity::Low,
        "Attached messages could not be read",
        "Every attached message of this message failed to read, so only the message itself is analysed. The evidence gives each reason.",
    )
}

/// Returns the format label of a plain RFC 822 message for a hint.
pub fn plain_format(hint: Option<Format>) -> Format {
    match hint {
        Some(Format::Stdin) => Format::Stdin,
        Some(Format::Maildir) => Format::Maildir,
        _ => Format::Eml,
    }
}

#[cfg(test)]
mod prefilter_tests {
    use super::may_hold_attached_message;

    #[test]
    fn attached_message_marks_are_found() {
        let cases: [(&[u8], bool); 16] = [
            (b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\nsee report.eml\r\n--b\r\n\r\nx\r\n--b--\r\n", false),
            (b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\nContent-Type: Message/RFC822\r\n\r\n", true),
            (b"Content-Type: multipart/mixed; boundary=b\r\n\r\npreamble\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n0M8R4KGxGuEAAAAA\r\n", true),
            (b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n\r\n0M8R4KGxGuEAAAAA\r\n", false),
            (b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; name=x.msg\r\n\r\n", true),
            (b"Content-Type: multipart/digest; boundary=x\r\n\r\n--x\r\n\r\n", true),
            (b"Subject: hi\r\n\r\nplain text", false),
            (b"Content-Type: Message/RFC822\r\n\r\n", true),
            (b"Content-Type: application/vnd.ms-outlook\r\n\r\n", true),
            (b"Content-Disposition: attachment; filename=\"Report.EML\"\r\n", true),
            (b"Content-Type: application/octet-stream; name=x.msg\r\n", true),
            (b"Content-Disposition: attachment; filename*=utf-8''r%C3%A9.bin\r\n", true),
            (b"Content-Type: application/octet-stream;\r\n name=\r\n \"=?utf-8?B?0J7RgtGH0ZHRgg==?=\"\r\n", true),
            (b"Subject: =?utf-8?B?0J7RgtGH0ZHRgg==?=\r\nContent-Type: text/plain; name=notes.txt\r\n", false),
            (b"Content-Transfer-Encoding: base64\r\n\r\n0M8R4KGxGuEAAAAA\r\n", true),
            (b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=D0=CF=11=E0=A1\r\n", true),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                may_hold_attached_message(bytes),
                expected,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
