//! Message input: finds messages wherever analysts keep them and hands over their bytes
//! together with where they came from.
//!
//! Analysts keep mail as single `.eml` files, Outlook `.msg` files, mbox files, Maildir
//! trees and whole folders of all of these, and security teams receive suspicious mail as
//! attachments of "reported phish" messages. This module hides those forms from the rest
//! of the pipeline: every input becomes a sequence of [`InputMessage`] values (RFC 822
//! bytes plus a [`Source`]) or [`InputError`] values, so nothing read is dropped silently.
//!
//! The format is detected from the content, never from the file name (see [`sniff()`]).
//! Containers are streamed: an mbox is read message by message, never loaded whole.

mod codepage;
mod maildir;
mod mbox;
mod msg;
mod props;
mod read;
mod sniff;
mod walk;
mod wrapper;

use crate::finding::Finding;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Serialize, Serializer};
use std::path::PathBuf;

pub use maildir::maildir_flags;
pub use mbox::unescape_mboxrd;
pub use sniff::{Kind, sniff};

/// Form of an input as detected from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A single RFC 822 message file.
    Eml,
    /// An Outlook item (Compound File Binary).
    Msg,
    /// An mbox file, including a single message that starts with an mbox `From ` line.
    Mbox,
    /// A message file in a Maildir `cur/` or `new/` folder.
    Maildir,
    /// A single RFC 822 message read from standard input.
    Stdin,
}

/// Origin of one message: the input it was read from and its position there.
///
/// `path` and `format` name the input as given (a file or `<stdin>`), and `index` and
/// `offset` locate the message in an mbox. `attachment` is set when the message was read
/// from an attachment of a reported message (the wrapper) found at that place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub path: String,
    pub format: Format,
    /// 0-based position of the message in an mbox.
    pub index: Option<usize>,
    /// Byte offset of the message's first header byte in an mbox (after the `From ` line).
    pub offset: Option<u64>,
    pub attachment: Option<AttachmentInfo>,
    /// Maildir info flags (the letters after `:2,` in the file name).
    pub maildir_flags: Option<String>,
}

/// Attachment of a reported message from which the analysed message was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentInfo {
    /// 1-based number of the attachment among the wrapper's attachments.
    pub index: usize,
    pub filename: Option<String>,
    /// MIME type of the attachment, `application/vnd.ms-outlook` for an embedded Outlook item.
    pub content_type: String,
    pub wrapper_subject: Option<String>,
    /// Sender of the wrapper: its From field, or the MAPI sender of an Outlook wrapper.
    pub wrapper_from: Option<String>,
    /// Nesting depth: 1 when the wrapper is the input itself, 2 for an attachment of an
    /// attachment, and so on.
    pub depth: usize,
    /// Attachment numbers from the input down: `[2]` for attachment 2 of the input, `[2, 1]`
    /// for attachment 1 of that attachment.
    pub path: Vec<usize>,
    /// The `Source-IP` of the wrapper's feedback report (RFC 5965 section 3.2): the address
    /// the reporting receiver got the original from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_source_ip: Option<std::net::IpAddr>,
}

impl AttachmentInfo {
    /// Returns the attachment numbers joined with dots, such as `2.1`, to label the message.
    pub fn label(&self) -> String {
        let numbers: Vec<String> = self.path.iter().map(usize::to_string).collect();
        numbers.join(".")
    }
}

/// One message read from an input.
#[derive(Debug, Clone)]
pub struct InputMessage {
    pub source: Source,
    /// The RFC 822 message. For an Outlook item it is the transport headers text as UTF-8
    /// followed by CRLF CRLF, and it is empty when the item has no transport headers.
    pub bytes: Vec<u8>,
    /// MAPI properties, for a message read from an Outlook item.
    pub msg: Option<MsgMetadata>,
    /// The `From ` line of a message read from an mbox.
    pub envelope: Option<MboxEnvelope>,
    /// `input.*` findings about this message.
    pub findings: Vec<Finding>,
}

/// State of the transport headers (PR_TRANSPORT_MESSAGE_HEADERS) of an Outlook item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportHeaders {
    /// The item carries the headers it was received with.
    Present,
    /// The item has no transport headers stream: a draft, sent or internal item.
    Absent,
    /// The stream exists but is empty or contains only NUL bytes.
    Stripped,
}

/// MAPI properties of an Outlook item that matter when the transport headers are missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MsgMetadata {
    pub transport_headers: TransportHeaders,
    pub subject: Option<String>,
    /// PR_SENDER_SMTP_ADDRESS, or another sender property when that one is missing.
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    #[serde(serialize_with = "serialize_utc")]
    pub client_submit_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_utc")]
    pub delivery_time: Option<DateTime<Utc>>,
    /// PR_MESSAGE_CLASS, such as `IPM.Note` for mail or `IPM.Appointment`.
    pub message_class: Option<String>,
}

/// The `From ` separator line of an mbox message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MboxEnvelope {
    /// Envelope sender; absent when the line has none or only the placeholder `-`.
    pub sender: Option<String>,
    /// Everything after the sender, as written.
    pub date_raw: Option<String>,
    /// Envelope date as written; mbox envelope dates usually carry no zone.
    #[serde(serialize_with = "serialize_naive")]
    pub date: Option<NaiveDateTime>,
    /// Zone written after the time or the year (`+0200`, `PST`), when there is one.
    pub zone: Option<String>,
    /// Byte offset of the `From ` line in the mbox.
    pub marker_offset: u64,
}

/// Error for an input or a message that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {reason}", message_suffix(*.index))]
pub struct InputError {
    pub path: String,
    /// 0-based position of the message in an mbox.
    pub index: Option<usize>,
    /// Description of the failure and of the next step to take.
    pub reason: String,
}

fn message_suffix(index: Option<usize>) -> String {
    index.map_or_else(String::new, |i| format!(" message {i}"))
}

impl InputError {
    /// Creates an error about the input `path`, or about message `index` inside it.
    pub fn new(path: impl Into<String>, index: Option<usize>, reason: impl Into<String>) -> Self {
        InputError {
            path: path.into(),
            index,
            reason: reason.into(),
        }
    }
}

/// The selection of messages analysed from a wrapper with attached messages (a user's
/// report, a bounce, or any message with a `message/rfc822` part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttachedMessages {
    /// The wrapper as delivered, then each attached message.
    #[default]
    Both,
    /// The wrapper only.
    WrapperOnly,
    /// The attached messages only; the wrapper when none can be read.
    OriginalsOnly,
}

/// Settings for reading inputs.
#[derive(Debug, Clone)]
pub struct InputOptions {
    /// The selection among a wrapper and its attached messages.
    pub attached: AttachedMessages,
    /// Messages larger than this are cut to their header block, with a finding.
    pub max_message_bytes: usize,
    /// Maximum nesting of attached messages that is followed.
    pub max_attachment_depth: usize,
    /// Maximum size of one stream of an Outlook .msg file; a larger stream makes the file
    /// an error record. The streams read from one file may add up to four times this.
    pub max_msg_stream_bytes: u64,
}

impl Default for InputOptions {
    fn default() -> InputOptions {
        InputOptions {
            attached: AttachedMessages::Both,
            max_message_bytes: 64 * 1024 * 1024,
            max_attachment_depth: 4,
            max_msg_stream_bytes: msg::MAX_STREAM_BYTES,
        }
    }
}

/// Result of reading one message.
pub type InputResult = Result<InputMessage, InputError>;

/// Path label used for standard input in sources and errors.
pub const STDIN_LABEL: &str = "<stdin>";

/// Reads every message of `paths`, lazily and in order.
///
/// `-` reads standard input. Folders are walked recursively in name order (hidden files
/// included, symbolic-link loops followed once). Every file found yields messages or an
/// error, so the caller can count inputs that are not messages.
pub fn read_paths(
    paths: &[PathBuf],
    options: &InputOptions,
) -> impl Iterator<Item = InputResult> + Send + use<> {
    read::PathsReader::new(paths.to_vec(), options.clone())
}

/// Detects the form of one in-memory input and reads every message in it.
///
/// The content decides how the bytes are read. `format_hint` only labels a plain RFC 822
/// message: `Some(Format::Stdin)` or `Some(Format::Maildir)` (flags are then taken from
/// `path_label`); any other hint labels it `Eml`. A `.msg` or mbox is labelled `Msg` or
/// `Mbox` whatever the hint.
pub fn read_bytes(
    path_label: &str,
    bytes: Vec<u8>,
    format_hint: Option<Format>,
    options: &InputOptions,
) -> Vec<InputResult> {
    read::read_in_memory(path_label, bytes, format_hint, options)
}

fn serialize_utc<S: Serializer>(value: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(time) => s.serialize_str(&time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        None => s.serialize_none(),
    }
}

fn serialize_naive<S: Serializer>(value: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(time) => s.serialize_str(&time.format("%Y-%m-%dT%H:%M:%S").to_string()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests;
