//! RFC 2047 encoded-words (`=?charset?B|Q?text?=`) in unstructured header values and
//! display names.
//!
//! Decoding is where header injection hides: an encoded-word can carry CR LF, ESC or other
//! control characters that a raw header line never could. The decoder keeps what it decodes
//! in the text and reports such characters, unknown charsets, malformed words and bytes that
//! are invalid in the declared charset as findings. It never substitutes U+FFFD silently.
//! It runs in time linear in the length of the value.

use crate::finding::{Finding, Severity};
use encoding_rs::Encoding;
use serde::Serialize;

/// Text decoded from a header value, with the findings the decoder recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded {
    pub text: String,
    pub findings: Vec<Finding>,
}

/// Decodes every encoded-word of an unstructured value (Subject, Comments, a display name).
///
/// Text outside encoded-words is kept as it is. Whitespace between two adjacent
/// encoded-words is dropped (RFC 2047 section 6.2). An encoded-word is recognised anywhere
/// in the value, also without the surrounding whitespace RFC 2047 requires, because mail
/// clients decode those too. An unknown charset or a malformed word is kept as written.
pub fn decode_unstructured(value: &str) -> Decoded {
    let mut decoder = Decoder::default();
    decoder.run(value);
    decoder.finish()
}

/// Tells whether `token` is exactly one well-formed encoded-word.
pub fn is_encoded_word(token: &str) -> bool {
    let mut scan_end = 0;
    matches!(parse_word(token, 0, &mut scan_end), Some(word) if word.end == token.len())
}

/// One encoded-word found in a value.
struct Word<'a> {
    /// Charset name without the RFC 2231 language suffix.
    charset: &'a str,
    /// `b'B'` or `b'Q'`.
    encoding: u8,
    text: &'a str,
    /// Byte offset just after the closing `?=`.
    end: usize,
}

/// Problems met while decoding the words of one value; `finish` turns them into findings.
#[derive(Default)]
struct Decoder {
    out: String,
    control_chars: Vec<&'static str>,
    unknown_charsets: Vec<String>,
    mismatched_charsets: Vec<String>,
    malformed_words: usize,
}

impl Decoder {
    fn run(&mut self, value: &str) {
        let mut literal_start = 0;
        let mut search_from = 0;
        let mut previous_word_end: Option<usize> = None;
        // End of the last failed search for `?=`: a later word starting before it fails too.
        let mut scan_end = 0;

        while let Some(found) = value.get(search_from..).and_then(|rest| rest.find("=?")) {
            let start = search_from + found;
            let Some(word) = parse_word(value, start, &mut scan_end) else {
                search_from = start + 2;
                continue;
            };

            let between = value.get(literal_start..start).unwrap_or_default();
            let joins_previous = previous_word_end == Some(literal_start)
                && between.chars().all(|c| c.is_ascii_whitespace());
            if !joins_previous {
                self.out.push_str(between);
            }
            let raw = value.get(start..word.end).unwrap_or_default();
            self.decode_word(&word, raw);

            literal_start = word.end;
            search_from = word.end;
            previous_word_end = Some(word.end);
        }
        self.out
            .push_str(value.get(literal_start..).unwrap_or_default());
    }

    /// Appends the decoded text of `word`, or `raw` when it cannot be decoded.
    fn decode_word(&mut self, word: &Word, raw: &str) {
        let Some(encoding) = lookup_charset(word.charset) else {
            push_unique(&mut self.unknown_charsets, word.charset);
            self.out.push_str(raw);
            return;
        };
        let bytes = match word.encoding {
            b'B' => decode_base64(word.text),
            _ => Some(decode_q(word.text)),
        };
        let Some(bytes) = bytes else {
            self.malformed_words += 1;
            self.out.push_str(raw);
            return;
        };

        let text = match encoding.decode_without_bom_handling_and_without_replacement(&bytes) {
            Some(text) => text.into_owned(),
            None => {
                push_unique(&mut self.mismatched_charsets, word.charset);
                decode_fallback(&bytes)
            }
        };
        self.note_control_chars(&text);
        self.out.push_str(&text);
    }

    fn note_control_chars(&mut self, text: &str) {
        for c in text.chars().filter(|&c| is_suspicious_control(c)) {
            let name = control_name(c);
            if !self.control_chars.contains(&name) {
                self.control_chars.push(name);
            }
        }
    }

    fn finish(self) -> Decoded {
        let mut findings = Vec::new();
        if !self.control_chars.is_empty() {
            findings.push(Finding::new(
                "header.control-chars-in-encoded-word",
                Severity::Medium,
                "Encoded-word decodes to control characters",
                format!(
                    "Decoding produced {}. A line break or escape hidden in an encoded-word \
                     can inject header lines or terminal sequences where the text is shown.",
                    self.control_chars.join(", ")
                ),
            ));
        }
        if !self.unknown_charsets.is_empty() {
            findings.push(Finding::new(
                "header.unknown-charset",
                Severity::Low,
                "Encoded-word names an unknown charset",
                format!(
                    "Charset {} is not known, so the encoded-word is shown as written.",
                    self.unknown_charsets.join(", ")
                ),
            ));
        }
        if !self.mismatched_charsets.is_empty() {
            findings.push(Finding::new(
                "header.charset-mismatch",
                Severity::Low,
                "Encoded-word bytes are invalid in the declared charset",
                format!(
                    "The bytes are not valid {}; they were decoded as UTF-8 where valid, \
                     otherwise as windows-1252.",
                    self.mismatched_charsets.join(", ")
                ),
            ));
        }
        if self.malformed_words > 0 {
            findings.push(Finding::new(
                "header.malformed-encoded-word",
                Severity::Low,
                "Malformed encoded-word",
                format!(
                    "{} encoded-word(s) hold invalid base64 and are shown as written.",
                    self.malformed_words
                ),
            ));
        }
        Decoded {
            text: self.out,
            findings,
        }
    }
}

/// Parses the encoded-word that starts at `start` (at `=?`).
///
/// `scan_end` carries the end of the last failed search for the closing `?=` between calls,
/// which keeps a value full of unterminated `=?` linear to scan.
fn parse_word<'a>(value: &'a str, start: usize, scan_end: &mut usize) -> Option<Word<'a>> {
    let bytes = value.as_bytes();
    let charset_start = start + 2;
    let charset_len = bytes
        .get(charset_start..)?
        .iter()
        .position(|&b| !is_charset_byte(b))?;
    let charset_end = charset_start + charset_len;
    if charset_len == 0 || bytes.get(charset_end) != Some(&b'?') {
        return None;
    }

    let encoding = bytes.get(charset_end + 1)?.to_ascii_uppercase();
    if !matches!(encoding, b'B' | b'Q') || bytes.get(charset_end + 2) != Some(&b'?') {
        return None;
    }

    let text_start = charset_end + 3;
    if text_start < *scan_end {
        return None;
    }
    let text_end = match find_terminator(bytes, text_start) {
        Ok(end) => end,
        Err(stop) => {
            *scan_end = stop;
            return None;
        }
    };

    let charset_field = value.get(charset_start..charset_end)?;
    // RFC 2231 section 5: `charset*language`.
    let charset = charset_field.split('*').next().unwrap_or(charset_field);
    Some(Word {
        charset,
        encoding,
        text: value.get(text_start..text_end)?,
        end: text_end + 2,
    })
}

/// Returns the offset of the closing `?=`, or the offset where the search stopped at
/// whitespace or at the end of the value.
fn find_terminator(bytes: &[u8], from: usize) -> Result<usize, usize> {
    let mut index = from;
    while let Some(&b) = bytes.get(index) {
        if b.is_ascii_whitespace() {
            return Err(index);
        }
        if b == b'?' && bytes.get(index + 1) == Some(&b'=') {
            return Ok(index);
        }
        index += 1;
    }
    Err(index)
}

/// Accepts the bytes of charset names as they occur in mail, and `*` for RFC 2231.
fn is_charset_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.:*+!#$%&'^`{|}~/".contains(&b)
}

/// Looks up a charset label among the WHATWG labels that encoding_rs supports.
fn lookup_charset(label: &str) -> Option<&'static Encoding> {
    let encoding = Encoding::for_label(label.trim().as_bytes())?;
    // encoding_rs maps charsets that WHATWG does not decode (ISO-2022-KR, HZ-GB-2312 and
    // others) to the replacement encoding, which would turn the whole word into U+FFFD.
    (encoding != encoding_rs::REPLACEMENT).then_some(encoding)
}

/// Decodes bytes that are invalid in their declared charset: UTF-8 when valid, otherwise
/// windows-1252, which maps every byte.
fn decode_fallback(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// Decodes RFC 2047 "B" text leniently: whitespace and missing padding are accepted, the
/// data ends at the first `=`. Returns `None` when a byte is outside the base64 alphabet.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for b in text.bytes() {
        let sextet = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Decodes RFC 2047 "Q" text: `_` is a space, `=XX` a byte; a `=` without two hex digits
/// is kept as it is.
fn decode_q(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&b) = bytes.get(index) {
        let escaped = match (b, bytes.get(index + 1), bytes.get(index + 2)) {
            (b'=', Some(&high), Some(&low)) => hex_value(high).zip(hex_value(low)),
            _ => None,
        };
        match (b, escaped) {
            (_, Some((high, low))) => {
                out.push(high << 4 | low);
                index += 3;
                continue;
            }
            (b'_', None) => out.push(b' '),
            _ => out.push(b),
        }
        index += 1;
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|digit| digit as u8)
}

/// Tells whether `c` is a C0 or C1 control character other than TAB, or DEL. TAB is
/// header whitespace (RFC 5322 WSP) and harmless in a decoded value.
fn is_suspicious_control(c: char) -> bool {
    (c.is_control() && c != '\t') || c == '\u{7f}'
}

fn control_name(c: char) -> &'static str {
    match c {
        '\r' => "CR",
        '\n' => "LF",
        '\u{1b}' => "ESC",
        '\0' => "NUL",
        '\u{7f}' => "DEL",
        '\u{80}'..='\u{9f}' => "C1 control characters",
        _ => "other C0 control characters",
    }
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|known| known.eq_ignore_ascii_case(item)) {
        list.push(item.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(decoded: &Decoded) -> Vec<&str> {
        decoded.findings.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn decode_table() {
        let cases: &[(&str, &str)] = &[
            ("plain text", "plain text"),
            ("", ""),
            ("=?utf-8?B?aGVsbG8=?=", "hello"),
            ("=?UTF-8?b?aGVsbG8?=", "hello"),
            ("=?utf-8?Q?caf=C3=A9_au_lait?=", "café au lait"),
            (
                "=?iso-8859-9?Q?M=FC=FEteri_Hizmetleri?=",
                "Müşteri Hizmetleri",
            ),
            ("=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"),
            ("=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore"),
            ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),
            ("=?utf-8?q?a?=\r\n\t=?utf-8?q?b?=", "ab"),
            ("=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b"),
            ("x =?utf-8?q?a?=", "x a"),
            ("=?utf-8?q?a?=x", "ax"),
            ("=?utf-8?q?a?= ", "a "),
            ("=?utf-8?q?=?=", "="),
            ("=?utf-8?q??=", ""),
            ("=? <name@example.com>", "=? <name@example.com>"),
            ("=?utf-8?x?abc?=", "=?utf-8?x?abc?="),
            ("=?utf-8?q?not terminated", "=?utf-8?q?not terminated"),
            ("=?utf-8?q?a b?=", "=?utf-8?q?a b?="),
            ("=?gb2312?B?suLK1A==?=", "测试"),
            ("=?shift_jis?B?g2WDWINn?=", "テスト"),
            ("=?utf-8?B?8J+YgA?=", "😀"),
        ];
        for (input, expected) in cases {
            let decoded = decode_unstructured(input);
            assert_eq!(decoded.text, *expected, "input {input:?}");
        }
    }

    #[test]
    fn decode_clean_words_without_findings() {
        for input in [
            "=?utf-8?B?aGVsbG8=?=",
            "=?iso-8859-9?Q?M=FC=FEteri?=",
            "a b",
        ] {
            assert!(decode_unstructured(input).findings.is_empty(), "{input:?}");
        }
    }

    #[test]
    fn control_chars_kept_and_flagged() {
        let decoded = decode_unstructured("=?utf-8?B?aGkNCkJjYzogeEBleGFtcGxlLm5ldA==?=");
        assert_eq!(decoded.text, "hi\r\nBcc: x@example.net");
        assert_eq!(ids(&decoded), ["header.control-chars-in-encoded-word"]);
        assert_eq!(decoded.findings[0].severity, Severity::Medium);
        assert!(decoded.findings[0].detail.contains("CR, LF"));
    }

    #[test]
    fn control_char_table() {
        let cases: &[(&str, bool)] = &[
            ("=?utf-8?q?a=1Bb?=", true),
            ("=?utf-8?q?a=00b?=", true),
            ("=?utf-8?q?a=7Fb?=", true),
            ("=?utf-8?q?a=C2=85b?=", true),
            ("=?utf-8?q?a=09b?=", false),
            ("=?utf-8?q?a_b?=", false),
        ];
        for (input, flagged) in cases {
            let decoded = decode_unstructured(input);
            let found = ids(&decoded).contains(&"header.control-chars-in-encoded-word");
            assert_eq!(found, *flagged, "input {input:?}");
        }
    }

    #[test]
    fn unknown_charset_kept_raw() {
        let decoded = decode_unstructured("x =?x-unknown?Q?abc?= y");
        assert_eq!(decoded.text, "x =?x-unknown?Q?abc?= y");
        assert_eq!(ids(&decoded), ["header.unknown-charset"]);
        assert!(decoded.findings[0].detail.contains("x-unknown"));
    }

    #[test]
    fn replacement_charset_is_unknown() {
        let decoded = decode_unstructured("=?iso-2022-kr?Q?abc?=");
        assert_eq!(decoded.text, "=?iso-2022-kr?Q?abc?=");
        assert_eq!(ids(&decoded), ["header.unknown-charset"]);
    }

    #[test]
    fn invalid_utf8_falls_back_with_finding() {
        let decoded = decode_unstructured("=?utf-8?Q?Caf=E9?=");
        assert_eq!(decoded.text, "Café");
        assert!(!decoded.text.contains('\u{fffd}'));
        assert_eq!(ids(&decoded), ["header.charset-mismatch"]);
    }

    #[test]
    fn utf8_fallback_for_other_charset() {
        // ISO-2022-JP is 7-bit, so the 8-bit UTF-8 bytes of "é" are invalid in it.
        let decoded = decode_unstructured("=?iso-2022-jp?Q?=C3=A9?=");
        assert_eq!(decoded.text, "é");
        assert_eq!(ids(&decoded), ["header.charset-mismatch"]);
    }

    #[test]
    fn invalid_base64_kept_raw() {
        let decoded = decode_unstructured("=?utf-8?B?a*b?=");
        assert_eq!(decoded.text, "=?utf-8?B?a*b?=");
        assert_eq!(ids(&decoded), ["header.malformed-encoded-word"]);
    }

    #[test]
    fn is_encoded_word_table() {
        let cases: &[(&str, bool)] = &[
            ("=?utf-8?q?a?=", true),
            ("=?utf-8*en?B?YQ==?=", true),
            ("=?utf-8?q?a?=x", false),
            ("x=?utf-8?q?a?=", false),
            ("=?utf-8?q?a", false),
            ("plain", false),
            ("", false),
        ];
        for (input, expected) in cases {
            assert_eq!(is_encoded_word(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn hostile_inputs_stay_linear() {
        let unterminated = "=?a?q?x".repeat(50_000);
        assert_eq!(decode_unstructured(&unterminated).text, unterminated);
        let starts = "=?".repeat(100_000);
        assert_eq!(decode_unstructured(&starts).text, starts);
        let words = "=?utf-8?q?a?= ".repeat(20_000);
        assert_eq!(
            decode_unstructured(&words).text,
            format!("{} ", "a".repeat(20_000))
        );
    }

    #[test]
    fn multibyte_text_around_words() {
        let decoded = decode_unstructured("é=?utf-8?q?=C3=A9?=é =?utf-8?q?x");
        assert_eq!(decoded.text, "ééé =?utf-8?q?x");
    }
}
