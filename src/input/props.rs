//! MAPI property values of Outlook items (MS-OXMSG section 2.4): fixed-size values come
//! from the `__properties_version1.0` stream, strings from `__substg1.0_IIIITTTT` streams.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Property ids read from Outlook items (MS-OXPROPS).
pub mod id {
    pub const MESSAGE_CLASS: u16 = 0x001A;
    pub const SUBJECT: u16 = 0x0037;
    pub const CLIENT_SUBMIT_TIME: u16 = 0x0039;
    pub const SENT_REPRESENTING_NAME: u16 = 0x0042;
    pub const SENT_REPRESENTING_EMAIL_ADDRESS: u16 = 0x0065;
    pub const TRANSPORT_MESSAGE_HEADERS: u16 = 0x007D;
    pub const SENDER_NAME: u16 = 0x0C1A;
    pub const SENDER_EMAIL_ADDRESS: u16 = 0x0C1F;
    pub const MESSAGE_DELIVERY_TIME: u16 = 0x0E06;
    pub const DISPLAY_NAME: u16 = 0x3001;
    pub const ATTACH_DATA: u16 = 0x3701;
    pub const ATTACH_FILENAME: u16 = 0x3704;
    pub const ATTACH_METHOD: u16 = 0x3705;
    pub const ATTACH_LONG_FILENAME: u16 = 0x3707;
    pub const ATTACH_MIME_TAG: u16 = 0x370E;
    pub const INTERNET_CPID: u16 = 0x3FDE;
    pub const MESSAGE_LOCALE_ID: u16 = 0x3FF1;
    pub const MESSAGE_CODEPAGE: u16 = 0x3FFD;
    pub const SENDER_SMTP_ADDRESS: u16 = 0x5D01;
    pub const SENT_REPRESENTING_SMTP_ADDRESS: u16 = 0x5D02;
}

/// Property types (MS-OXCDATA section 2.11.1).
pub mod kind {
    pub const LONG: u16 = 0x0003;
    pub const SYSTIME: u16 = 0x0040;
    pub const STRING8: u16 = 0x001E;
    pub const UNICODE: u16 = 0x001F;
    pub const BINARY: u16 = 0x0102;
    pub const OBJECT: u16 = 0x000D;
}

/// Size of the `__properties_version1.0` header of the top-level message.
pub const TOP_HEADER_LEN: usize = 32;
/// Size of that header in an embedded message.
pub const EMBEDDED_HEADER_LEN: usize = 24;
/// Size of that header in an attachment or recipient storage.
pub const ATTACHMENT_HEADER_LEN: usize = 8;

const ENTRY_LEN: usize = 16;

/// Fixed-size property values of one storage, by property id.
#[derive(Debug, Default)]
pub struct FixedProperties {
    values: HashMap<u16, (u16, [u8; 8])>,
}

impl FixedProperties {
    /// Parses a `__properties_version1.0` stream whose header is `header_len` bytes long.
    /// Entries are 16 bytes: the tag (type in the low 16 bits, id in the high 16), flags,
    /// then 8 bytes of value. A trailing partial entry is ignored.
    pub fn parse(stream: &[u8], header_len: usize) -> FixedProperties {
        let mut values = HashMap::new();
        let entries = stream.get(header_len..).unwrap_or_default();
        for entry in entries.chunks_exact(ENTRY_LEN) {
            let tag = le_u32(&entry[0..4]);
            let mut value = [0u8; 8];
            value.copy_from_slice(&entry[8..16]);
            values.insert((tag >> 16) as u16, ((tag & 0xFFFF) as u16, value));
        }
        FixedProperties { values }
    }

    /// Returns a PT_LONG value.
    pub fn long(&self, id: u16) -> Option<u32> {
        let (kind, value) = self.values.get(&id)?;
        (*kind == kind::LONG).then(|| le_u32(&value[0..4]))
    }

    /// Returns a PT_SYSTIME value; a zero FILETIME means "not set".
    pub fn time(&self, id: u16) -> Option<DateTime<Utc>> {
        let (kind, value) = self.values.get(&id)?;
        if *kind != kind::SYSTIME {
            return None;
        }
        filetime_to_utc(u64::from_le_bytes(*value))
    }
}

/// Converts a FILETIME (100-nanosecond intervals since 1601-01-01 UTC) to a UTC time.
pub fn filetime_to_utc(filetime: u64) -> Option<DateTime<Utc>> {
    const SECONDS_1601_TO_1970: i64 = 11_644_473_600;
    if filetime == 0 {
        return None;
    }
    let seconds = i64::try_from(filetime / 10_000_000).ok()? - SECONDS_1601_TO_1970;
    let nanos = u32::try_from(filetime % 10_000_000).ok()? * 100;
    DateTime::from_timestamp(seconds, nanos)
}

/// Returns the name of the stream holding property `id` of type `kind`.
pub fn stream_name(id: u16, kind: u16) -> String {
    format!("__substg1.0_{id:04X}{kind:04X}")
}

/// Decodes a UTF-16LE property value without its trailing NUL characters. Returns the
/// text and whether invalid UTF-16 had to be replaced.
pub fn decode_utf16le(bytes: &[u8]) -> (String, bool) {
    let mut units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    while units.last() == Some(&0) {
        units.pop();
    }
    match String::from_utf16(&units) {
        Ok(text) => (text, false),
        Err(_) => (String::from_utf16_lossy(&units), true),
    }
}

/// Removes trailing NUL bytes.
pub fn trim_nuls(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &bytes[..end]
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: u32, value: u64) -> Vec<u8> {
        let mut bytes = tag.to_le_bytes().to_vec();
        bytes.extend_from_slice(&6u32.to_le_bytes());
        bytes.extend_from_slice(&value.to_le_bytes());
        bytes
    }

    #[test]
    fn fixed_properties_after_header() {
        let mut stream = vec![0u8; TOP_HEADER_LEN];
        stream.extend(entry(0x3FFD_0003, 1252));
        stream.extend(entry(0x0039_0040, 133_854_696_000_000_000));
        stream.extend([1, 2, 3]);
        let props = FixedProperties::parse(&stream, TOP_HEADER_LEN);
        assert_eq!(props.long(id::MESSAGE_CODEPAGE), Some(1252));
        assert_eq!(
            props.time(id::CLIENT_SUBMIT_TIME).map(|t| t.to_rfc3339()),
            Some("2025-03-03T10:00:00+00:00".to_string())
        );
        assert_eq!(props.long(id::INTERNET_CPID), None);
        assert_eq!(props.time(id::MESSAGE_CODEPAGE), None, "wrong type");
    }

    #[test]
    fn short_stream_has_no_properties() {
        let props = FixedProperties::parse(&[0u8; 10], TOP_HEADER_LEN);
        assert_eq!(props.long(id::MESSAGE_CODEPAGE), None);
    }

    #[test]
    fn filetime_edges() {
        assert_eq!(filetime_to_utc(0), None);
        assert_eq!(
            filetime_to_utc(116_444_736_000_000_000).map(|t| t.timestamp()),
            Some(0)
        );
        let first = filetime_to_utc(1).map(|t| t.format("%Y-%m-%d").to_string());
        assert_eq!(first.as_deref(), Some("1601-01-01"));
    }

    #[test]
    fn utf16_trailing_nuls_and_invalid_units() {
        assert_eq!(
            decode_utf16le(b"C\0a\0f\0\xE9\0\0\0"),
            ("Café".to_string(), false)
        );
        let (text, replaced) = decode_utf16le(b"\x00\xD8a\0");
        assert!(replaced);
        assert!(text.ends_with('a'));
    }
}
