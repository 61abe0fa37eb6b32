//! Outlook `.msg` items (MS-OXMSG): a Compound File Binary whose streams hold MAPI
//! properties. An item that was received carries the original headers in
//! PR_TRANSPORT_MESSAGE_HEADERS; a draft or sent item has none, and then the MAPI sender,
//! subject and times are all there is to report.

use super::codepage::{self, Codepages};
use super::props::{self, FixedProperties, id, kind};
use super::sniff::CFB_MAGIC;
use super::{MsgMetadata, TransportHeaders};
use crate::finding::{Finding, Severity};
use crate::report::escape::quoted;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// Default maximum size of one stream read from an Outlook item
/// ([`super::InputOptions::max_msg_stream_bytes`]).
pub const MAX_STREAM_BYTES: u64 = 64 * 1024 * 1024;

/// Maximum number of bytes read from the streams of one Outlook file, attachments
/// included, as a multiple of the one-stream limit, so that a file with many large
/// attached messages stays in bounded memory.
const TOTAL_BYTES_PER_STREAM_LIMIT: u64 = 4;

/// Maximum nesting of embedded items read; deeper ones are reported, not read.
const MAX_EMBEDDED_DEPTH: usize = 16;

const PROPERTIES_STREAM: &str = "__properties_version1.0";
const ATTACH_PREFIX: &str = "__attach_version1.0_#";

/// ATTACH_EMBEDDED_MSG: the attachment is an Outlook item stored as a storage.
const ATTACH_EMBEDDED_MSG: u32 = 5;

/// An open Outlook file and the number of stream bytes read from it so far.
struct MsgFile<F> {
    cfb: cfb::CompoundFile<F>,
    bytes_read: u64,
    max_stream_bytes: u64,
}

impl<F> std::ops::Deref for MsgFile<F> {
    type Target = cfb::CompoundFile<F>;

    fn deref(&self) -> &cfb::CompoundFile<F> {
        &self.cfb
    }
}

impl<F> std::ops::DerefMut for MsgFile<F> {
    fn deref_mut(&mut self) -> &mut cfb::CompoundFile<F> {
        &mut self.cfb
    }
}

/// One Outlook item: its properties, transport headers and attached messages.
#[derive(Debug)]
pub struct MsgItem {
    pub metadata: MsgMetadata,
    /// The transport headers text, when the state is [`TransportHeaders::Present`].
    pub transport_text: Option<String>,
    pub findings: Vec<Finding>,
    /// Attachments that hold messages; other attachments are left unread.
    pub attachments: Vec<MsgAttachment>,
}

/// An attachment of an Outlook item that contains a message.
#[derive(Debug)]
pub struct MsgAttachment {
    /// 1-based position among all attachments of the item.
    pub number: usize,
    pub filename: Option<String>,
    pub mime_tag: Option<String>,
    pub content: AttachedContent,
}

/// Content of a message attachment.
#[derive(Debug)]
pub enum AttachedContent {
    /// An embedded Outlook item, or the reason it could not be read.
    Embedded(Result<Box<MsgItem>, String>),
    /// The bytes of an attached file (an `.eml` or a `.msg`), or the reason they could not
    /// be read.
    Data(Result<Vec<u8>, String>),
}

/// Reads an Outlook item and its embedded items. Returns the reason when the file is not a
/// readable Outlook item.
pub fn read_msg<F: Read + Seek>(inner: F, max_stream_bytes: u64) -> Result<MsgItem, String> {
    // The cfb crate is a third-party parser of attacker-supplied bytes: a panic inside it
    // becomes an error for this file instead of ending the run.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_msg_unguarded(inner, max_stream_bytes)
    }))
    .unwrap_or_else(|_| Err("corrupt Outlook .msg file: the CFB reader failed on it".to_string()))
}

fn read_msg_unguarded<F: Read + Seek>(inner: F, max_stream_bytes: u64) -> Result<MsgItem, String> {
    let cfb = cfb::CompoundFile::open(inner)
        .map_err(|e| {
            format!(
                "corrupt or truncated Outlook .msg file ({e}); if Outlook still opens it, save it as .eml, or copy its internet headers (File > Properties) into a text file, and inspect that"
            )
        })?;
    let mut file = MsgFile {
        cfb,
        bytes_read: 0,
        max_stream_bytes,
    };
    let is_outlook_item = file.is_stream(Path::new("/").join(PROPERTIES_STREAM))
        || has_property_streams(&file, Path::new("/"));
    if !is_outlook_item {
        return Err(
            "a Compound File Binary file that is not an Outlook item (no MAPI property streams); expected .eml, .msg, mbox or Maildir"
                .to_string(),
        );
    }
    read_item(&mut file, Path::new("/"), props::TOP_HEADER_LEN, 0)
}

fn has_property_streams<F>(file: &cfb::CompoundFile<F>, base: &Path) -> bool {
    file.read_storage(base)
        .map(|mut entries| entries.any(|e| e.name().starts_with("__substg1.0_")))
        .unwrap_or(false)
}

/// Reads the item stored at `base`; `header_len` is the size of its property stream header.
fn read_item<F: Read + Seek>(
    file: &mut MsgFile<F>,
    base: &Path,
    header_len: usize,
    depth: usize,
) -> Result<MsgItem, String> {
    let mut reader = ItemReader {
        file,
        base: base.to_path_buf(),
        findings: Vec::new(),
    };
    let fixed = match reader.stream(PROPERTIES_STREAM)? {
        Some(bytes) => FixedProperties::parse(&bytes, header_len),
        None => FixedProperties::default(),
    };
    let codepage = Codepages {
        declared: fixed
            .long(id::MESSAGE_CODEPAGE)
            .or_else(|| fixed.long(id::INTERNET_CPID)),
        locale: fixed
            .long(id::MESSAGE_LOCALE_ID)
            .map(codepage::ansi_codepage_for_lcid),
    };

    let message_class = reader.string(id::MESSAGE_CLASS, codepage, "message class")?;
    let (transport_headers, transport_text) = reader.transport_headers(codepage)?;
    if transport_headers == TransportHeaders::Absent {
        reader
            .findings
            .push(absent_finding(message_class.as_deref(), depth));
    }
    let metadata = MsgMetadata {
        transport_headers,
        subject: reader.string(id::SUBJECT, codepage, "subject")?,
        sender: reader.sender(codepage)?,
        sender_name: reader
            .first_string(&[id::SENDER_NAME, id::SENT_REPRESENTING_NAME], codepage)?,
        client_submit_time: fixed.time(id::CLIENT_SUBMIT_TIME),
        delivery_time: fixed.time(id::MESSAGE_DELIVERY_TIME),
        message_class,
    };
    let attachments = reader.attachments(codepage, depth)?;
    Ok(MsgItem {
        metadata,
        transport_text,
        findings: reader.findings,
        attachments,
    })
}

/// Reads the streams of one item's storage.
struct ItemReader<'a, F> {
    file: &'a mut MsgFile<F>,
    base: PathBuf,
    findings: Vec<Finding>,
}

impl<F: Read + Seek> ItemReader<'_, F> {
    /// Reads the stream `name` of this storage, or returns `None` when there is none.
    fn stream(&mut self, name: &str) -> Result<Option<Vec<u8>>, String> {
        read_stream(self.file, &self.base.join(name))
    }

    /// Reads PR_TRANSPORT_MESSAGE_HEADERS: the UTF-16LE stream first, then the 8-bit one.
    fn transport_headers(
        &mut self,
        codepage: Codepages,
    ) -> Result<(TransportHeaders, Option<String>), String> {
        let unicode = self.stream(&props::stream_name(
            id::TRANSPORT_MESSAGE_HEADERS,
            kind::UNICODE,
        ))?;
        let text = match unicode {
            Some(bytes) => self.decode_unicode(&bytes, "transport headers"),
            None => match self.stream(&props::stream_name(
                id::TRANSPORT_MESSAGE_HEADERS,
                kind::STRING8,
            ))? {
                Some(bytes) => self.decode_8bit(&bytes, codepage, "transport headers"),
                None => return Ok((TransportHeaders::Absent, None)),
            },
        };
        if text
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .is_empty()
        {
            self.findings.push(stripped_finding());
            return Ok((TransportHeaders::Stripped, None));
        }
        Ok((TransportHeaders::Present, Some(text)))
    }

    /// Returns the first sender address that looks like an SMTP address, or else the first
    /// one present (an Exchange X.500 address).
    fn sender(&mut self, codepage: Codepages) -> Result<Option<String>, String> {
        let ids = [
            id::SENDER_SMTP_ADDRESS,
            id::SENT_REPRESENTING_SMTP_ADDRESS,
            id::SENDER_EMAIL_ADDRESS,
            id::SENT_REPRESENTING_EMAIL_ADDRESS,
        ];
        let mut found = Vec::new();
        for prop in ids {
            if let Some(value) = self.string(prop, codepage, "sender address")? {
                found.push(value);
            }
        }
        let smtp = found.iter().position(|v| v.contains('@')).unwrap_or(0);
        Ok(found.into_iter().nth(smtp))
    }

    fn first_string(&mut self, ids: &[u16], codepage: Codepages) -> Result<Option<String>, String> {
        for &prop in ids {
            if let Some(value) = self.string(prop, codepage, "sender name")? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// Reads a string property from its Unicode or 8-bit stream; empty strings are `None`.
    fn string(
        &mut self,
        prop: u16,
        codepage: Codepages,
        what: &str,
    ) -> Result<Option<String>, String> {
        let text = if let Some(bytes) = self.stream(&props::stream_name(prop, kind::UNICODE))? {
            self.decode_unicode(&bytes, what)
        } else if let Some(bytes) = self.stream(&props::stream_name(prop, kind::STRING8))? {
            self.decode_8bit(&bytes, codepage, what)
        } else {
            return Ok(None);
        };
        let text = text.trim().to_string();
        Ok((!text.is_empty()).then_some(text))
    }

    fn decode_unicode(&mut self, bytes: &[u8], what: &str) -> String {
        let (text, replaced) = props::decode_utf16le(bytes);
        if replaced {
            self.findings.push(Finding::new(
                "input.invalid-utf16",
                Severity::Low,
                format!("The {what} hold invalid UTF-16"),
                format!("The Unicode {what} of the Outlook item contain unpaired surrogates, which were replaced by U+FFFD."),
            ));
        }
        text
    }

    fn decode_8bit(&mut self, bytes: &[u8], codepage: Codepages, what: &str) -> String {
        let decoded = codepage::decode(props::trim_nuls(bytes), codepage, what);
        self.findings.extend(decoded.finding);
        decoded.text
    }

    /// Reads the attachments that hold messages, numbering all attachments in storage order.
    fn attachments(
        &mut self,
        codepage: Codepages,
        depth: usize,
    ) -> Result<Vec<MsgAttachment>, String> {
        let mut names: Vec<String> = self
            .file
            .read_storage(&self.base)
            .map_err(|e| format!("corrupt Outlook .msg file ({e})"))?
            .filter(|e| e.is_storage() && e.name().starts_with(ATTACH_PREFIX))
            .map(|e| e.name().to_string())
            .collect();
        names.sort();
        let mut attachments = Vec::new();
        for (position, name) in names.iter().enumerate() {
            let storage = self.base.join(name);
            if let Some(attachment) =
                read_attachment(self.file, &storage, position + 1, codepage, depth)?
            {
                attachments.push(attachment);
            }
        }
        Ok(attachments)
    }
}

/// Reads one attachment storage; returns `None` when it does not hold a message.
fn read_attachment<F: Read + Seek>(
    file: &mut MsgFile<F>,
    storage: &Path,
    number: usize,
    codepage: Codepages,
    depth: usize,
) -> Result<Option<MsgAttachment>, String> {
    let mut reader = ItemReader {
        file,
        base: storage.to_path_buf(),
        findings: Vec::new(),
    };
    let fixed = match reader.stream(PROPERTIES_STREAM)? {
        Some(bytes) => FixedProperties::parse(&bytes, props::ATTACHMENT_HEADER_LEN),
        None => FixedProperties::default(),
    };
    let filename = reader.first_string(
        &[
            id::ATTACH_LONG_FILENAME,
            id::ATTACH_FILENAME,
            id::DISPLAY_NAME,
        ],
        codepage,
    )?;
    let mime_tag = reader.string(id::ATTACH_MIME_TAG, codepage, "attachment type")?;

    let embedded = storage.join(props::stream_name(id::ATTACH_DATA, kind::OBJECT));
    let content = if reader.file.is_storage(&embedded)
        || fixed.long(id::ATTACH_METHOD) == Some(ATTACH_EMBEDDED_MSG)
            && reader.file.exists(&embedded)
    {
        let item = read_embedded(reader.file, &embedded, depth);
        if item
            .as_ref()
            .is_ok_and(|item| !is_mail_class(item.metadata.message_class.as_deref()))
        {
            return Ok(None);
        }
        AttachedContent::Embedded(item)
    } else {
        let data = storage.join(props::stream_name(id::ATTACH_DATA, kind::BINARY));
        match attached_file(reader.file, &data, &filename, &mime_tag) {
            Some(bytes) => AttachedContent::Data(bytes),
            None => return Ok(None),
        }
    };
    Ok(Some(MsgAttachment {
        number,
        filename,
        mime_tag,
        content,
    }))
}

fn read_embedded<F: Read + Seek>(
    file: &mut MsgFile<F>,
    storage: &Path,
    depth: usize,
) -> Result<Box<MsgItem>, String> {
    if depth + 1 > MAX_EMBEDDED_DEPTH {
        return Err(format!(
            "embedded Outlook items are nested more than {MAX_EMBEDDED_DEPTH} deep; the deeper ones were not read"
        ));
    }
    read_item(file, storage, props::EMBEDDED_HEADER_LEN, depth + 1).map(Box::new)
}

/// Reads an attached file when it contains a message: its name ends in `.eml` or `.msg`,
/// its MIME type is a message type, or its content is an Outlook item. Returns `None` for
/// other files.
fn attached_file<F: Read + Seek>(
    file: &mut MsgFile<F>,
    data: &Path,
    filename: &Option<String>,
    mime_tag: &Option<String>,
) -> Option<Result<Vec<u8>, String>> {
    let name = filename.as_deref().unwrap_or_default().to_ascii_lowercase();
    let mime = mime_tag.as_deref().unwrap_or_default().to_ascii_lowercase();
    let declared = name.ends_with(".eml")
        || name.ends_with(".msg")
        || mime == "message/rfc822"
        || mime == "application/vnd.ms-outlook";
    if declared {
        return read_stream(file, data).transpose();
    }
    let mut magic = [0u8; 8];
    let is_cfb = file
        .open_stream(data)
        .and_then(|mut stream| stream.read_exact(&mut magic))
        .is_ok_and(|()| magic == CFB_MAGIC);
    if !is_cfb {
        return None;
    }
    match read_stream(file, data) {
        Ok(Some(bytes)) if is_outlook_item(&bytes) => Some(Ok(bytes)),
        Ok(_) => None,
        Err(reason) => Some(Err(reason)),
    }
}

/// Tells whether `bytes` are an Outlook item, not another Compound File Binary document
/// (Word, Excel) that shares the signature.
pub fn is_outlook_item(bytes: &[u8]) -> bool {
    let Ok(file) = cfb::CompoundFile::open(std::io::Cursor::new(bytes)) else {
        return false;
    };
    file.is_stream(Path::new("/").join(PROPERTIES_STREAM))
        || has_property_streams(&file, Path::new("/"))
}

/// Tells whether an embedded item's message class is mail (a note, a meeting message, a
/// report), so that recurring-appointment exceptions and contacts are not taken for
/// attached originals. An item without a class counts as mail.
fn is_mail_class(class: Option<&str>) -> bool {
    let Some(class) = class else {
        return true;
    };
    let class = class.to_ascii_lowercase();
    ["ipm.note", "ipm.schedule", "ipm.post", "report."]
        .iter()
        .any(|prefix| class.starts_with(prefix))
        || class == "ipm"
}

/// Reads a whole stream, at most the file's one-stream limit; `None` when there is no such
/// stream. Fails once the file's streams add up to more than [`TOTAL_BYTES_PER_STREAM_LIMIT`]
/// times that limit.
fn read_stream<F: Read + Seek>(
    file: &mut MsgFile<F>,
    path: &Path,
) -> Result<Option<Vec<u8>>, String> {
    if !file.is_stream(path) {
        return Ok(None);
    }
    let stream = file.open_stream(path).map_err(|e| {
        format!(
            "corrupt Outlook .msg file: cannot open {} ({e})",
            path.display()
        )
    })?;
    let length = stream.len();
    let max_stream = file.max_stream_bytes;
    if length > max_stream {
        return Err(format!(
            "the stream {} is {length} bytes, more than the {max_stream}-byte limit for one .msg stream; raise it with --max-msg-stream-bytes or max_msg_stream_bytes in [limits] if the file is trusted",
            path.display()
        ));
    }
    let max_total = max_stream.saturating_mul(TOTAL_BYTES_PER_STREAM_LIMIT);
    if file.bytes_read.saturating_add(length) > max_total {
        return Err(format!(
            "the streams read from this .msg file exceed {max_total} bytes in total at {}; the rest was not read (the total allowed is four times --max-msg-stream-bytes)",
            path.display()
        ));
    }
    file.bytes_read += length;
    let mut bytes = Vec::new();
    stream
        .take(max_stream)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            format!(
                "corrupt or truncated Outlook .msg file: cannot read {} ({e})",
                path.display()
            )
        })?;
    Ok(Some(bytes))
}

/// Explains an item without PR_TRANSPORT_MESSAGE_HEADERS. An item of a class that is not
/// mail (a contact, an appointment) was never sent, so its score means nothing. A mail
/// item without them was not received from the Internet as it is, or lost them when
/// attached.
/// `depth` is 0 for the item that is the file, more for an attached item.
fn absent_finding(class: Option<&str>, depth: usize) -> Finding {
    let item = if depth == 0 {
        "The .msg file"
    } else {
        "The attached Outlook item"
    };
    if let Some(class) = class.filter(|class| !is_mail_class(Some(class))) {
        let kind = item_kind(class);
        return Finding::new(
            "input.not-mail-item",
            Severity::Info,
            format!("Outlook {kind}, not an email message: nothing to trace"),
            format!(
                "{item} holds an Outlook {kind} (message class {}), not a message that was sent or received. It has no transport headers, relay hops or authentication results, so its score says nothing about a sender; the MAPI sender, subject and times are reported instead.",
                quoted(class)
            ),
        )
        .with_header("PR_MESSAGE_CLASS");
    }
    let origin = if depth == 0 {
        "so it was never received from the Internet as it is (a draft, a sent item or an internal item)"
    } else {
        "which Outlook keeps only on items received from the Internet: this is a draft, a sent or internal item, or a received message whose headers were dropped when it was attached"
    };
    Finding::new(
        "input.transport-headers-absent",
        Severity::Info,
        "Outlook item without transport headers: a draft, sent or internal item",
        format!(
            "{item} has no PR_TRANSPORT_MESSAGE_HEADERS property, {origin}. Relay hops and authentication results are not available, so a low score means unknown, not clean; the MAPI sender, subject and times are reported instead."
        ),
    )
    .with_header("PR_TRANSPORT_MESSAGE_HEADERS")
}

/// Names the kind of Outlook item that a message class stands for.
fn item_kind(class: &str) -> String {
    const KINDS: [(&str, &str); 7] = [
        ("ipm.contact", "contact"),
        ("ipm.distlist", "contact group"),
        ("ipm.appointment", "appointment"),
        ("ipm.task", "task"),
        ("ipm.stickynote", "sticky note"),
        ("ipm.activity", "journal entry"),
        ("ipm.document", "document"),
    ];
    let lower = class.to_ascii_lowercase();
    KINDS
        .iter()
        .find(|(prefix, _)| lower.starts_with(prefix))
        .map_or_else(|| "item".to_string(), |(_, kind)| kind.to_string())
}

fn stripped_finding() -> Finding {
    Finding::new(
        "input.header-stream-stripped",
        Severity::Low,
        "Transport headers stream is empty or contains only NUL bytes",
        "The .msg file has a PR_TRANSPORT_MESSAGE_HEADERS stream, but it is empty or filled with NUL bytes: the headers were removed or never written. Relay hops and authentication results are not available; the MAPI sender, subject and times are reported instead.",
    )
    .with_header("PR_TRANSPORT_MESSAGE_HEADERS")
}
