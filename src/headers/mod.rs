//! Header model: splits a message into header fields, keeping each field's name, raw value,
//! unfolded value, line number and byte offset.
//!
//! mail-parser reads MIME structure, but forensic work needs more than it keeps: the line a
//! field sits on, recoverable defects (a non-header line inside the block, a bare CR, an
//! invalid field name, a byte order mark, junk before the first field) recorded as findings
//! instead of silently repaired. This splitter is linear in the input size.

mod lines;

use crate::finding::{Finding, Severity};
use crate::report::escape::quoted;
use lines::{Line, Lines, split_lines};
use serde::Serialize;

/// Limits applied while splitting a header block. Each limit that is hit becomes a finding.
#[derive(Debug, Clone, Copy)]
pub struct HeaderLimits {
    /// Maximum size of the header block in bytes; parsing stops there.
    pub max_header_bytes: usize,
    /// Maximum number of header fields kept.
    pub max_fields: usize,
    /// Maximum number of leading non-header lines skipped before the first field.
    pub max_leading_lines: usize,
}

impl Default for HeaderLimits {
    fn default() -> HeaderLimits {
        HeaderLimits {
            max_header_bytes: 8 * 1024 * 1024,
            max_fields: 50_000,
            max_leading_lines: 50,
        }
    }
}

/// How to find the end of the header block.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// Treat the input as headers pasted from a mail viewer: empty lines between fields do
    /// not end the header block, and there is no body.
    pub pasted_headers: bool,
    pub limits: HeaderLimits,
}

/// One header field as it appears in the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    /// Field name as written.
    pub name: String,
    /// Value after the colon with folding kept; line breaks are normalised to LF.
    pub raw: String,
    /// Unfolded value (folding line breaks removed), trimmed of surrounding whitespace.
    pub value: String,
    /// 1-based line number of the field's first line in the input.
    pub line: usize,
    /// Byte offset of the field's first line in the input.
    pub offset: usize,
}

impl Header {
    /// Tells whether the field has this name, compared case-insensitively.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// A fault of the input itself, recorded where the splitter recovered from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Defect {
    /// Kind of defect: `non-header-line`, `invalid-field-name`.
    pub kind: &'static str,
    /// 1-based line number.
    pub line: usize,
    /// The offending field name, for `invalid-field-name`.
    pub name: Option<String>,
    pub text: String,
}

/// The header fields of one message and what the splitter noticed about them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HeaderBlock {
    pub fields: Vec<Header>,
    pub defects: Vec<Defect>,
    pub findings: Vec<Finding>,
    /// Byte offset where the body starts, when there is one.
    pub body_offset: Option<usize>,
    /// Number of lines skipped before the first header field.
    pub skipped_leading_lines: usize,
}

/// Error for input that contains no header field at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no header field found in the first {lines} lines: this is not an email message")]
pub struct NotAMessage {
    pub lines: usize,
}

impl HeaderBlock {
    /// Splits the header block of `bytes`.
    pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<HeaderBlock, NotAMessage> {
        Splitter::new(bytes, options).run()
    }

    /// Returns the top-most field with this name.
    pub fn get(&self, name: &str) -> Option<&Header> {
        self.fields.iter().find(|h| h.is(name))
    }

    /// Returns every field with this name, top-most first.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.fields.iter().filter(move |h| h.is(name))
    }

    /// Tells whether a field with this name is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Returns the unfolded value of the top-most field with this name.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(|h| h.value.as_str())
    }
}

/// Returns the field name of `line` when it starts a header field: printable US-ASCII
/// without spaces (RFC 5322 section 2.2), optionally followed by whitespace, then a colon.
fn field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = trim_end_wsp(&line[..colon]);
    let valid = !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b) && b != b':');
    valid.then_some(name)
}

/// Returns the bytes before the colon when the line looks like a field whose name contains
/// 8-bit bytes (an invalid field name, recorded as a defect).
fn eight_bit_field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = trim_end_wsp(&line[..colon]);
    let plausible = !name.is_empty()
        && name.iter().any(|&b| b >= 0x80)
        && name.iter().all(|&b| b > 32 && b != 127);
    plausible.then_some(name)
}

fn trim_end_wsp(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

fn is_continuation(line: &[u8]) -> bool {
    matches!(line.first(), Some(b' ') | Some(b'\t'))
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&b| b == b' ' || b == b'\t')
}

/// Decodes header bytes: UTF-8 when valid, otherwise windows-1252. Returns the text and
/// whether 8-bit bytes were present and whether the fallback was used.
pub fn decode_header_bytes(bytes: &[u8]) -> (String, bool, bool) {
    let eight_bit = !bytes.is_ascii();
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), eight_bit, false),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text.into_owned(), eight_bit, true)
        }
    }
}

/// State of one header split.
struct Splitter<'a> {
    lines: Lines<'a>,
    options: &'a ParseOptions,
    block: HeaderBlock,
    long_lines: Vec<usize>,
    bare_cr_fields: Vec<String>,
    eight_bit_fields: Vec<String>,
    fallback_fields: Vec<String>,
}

impl<'a> Splitter<'a> {
    fn new(bytes: &'a [u8], options: &'a ParseOptions) -> Splitter<'a> {
        Splitter {
            lines: split_lines(bytes, options.limits.max_header_bytes),
            options,
            block: HeaderBlock::default(),
            long_lines: Vec::new(),
            bare_cr_fields: Vec::new(),
            eight_bit_fields: Vec::new(),
            fallback_fields: Vec::new(),
        }
    }

    fn run(mut self) -> Result<HeaderBlock, NotAMessage> {
        let mut index = self.skip_leading_lines()?;
        while index < self.lines.len() {
            index = self.step(index);
        }
        self.finish();
        Ok(self.block)
    }

    /// Skips a byte order mark, blank lines and non-header lines (an mbox `From ` line,
    /// an SMTP transcript) before the first field, recording each kind as a finding.
    fn skip_leading_lines(&mut self) -> Result<usize, NotAMessage> {
        let max = self.options.limits.max_leading_lines;
        if let Some(first) = self.lines.first_mut()
            && first.text.starts_with(b"\xEF\xBB\xBF")
        {
            first.text = &first.text[3..];
            first.offset += 3;
            self.block.findings.push(Finding::new(
                "header.byte-order-mark",
                Severity::Info,
                "Byte order mark before the first header field",
                "A UTF-8 byte order mark (EF BB BF) preceded the message and was removed.",
            ));
        }

        let mut blank = 0;
        let mut junk: Vec<String> = Vec::new();
        let mut index = 0;
        while index < self.lines.len() && index < max {
            let line = self.lines[index].text;
            if field_name(line).is_some() && !is_continuation(line) {
                break;
            }
            if is_blank(line) {
                blank += 1;
            } else {
                junk.push(decode_header_bytes(line).0);
            }
            index += 1;
        }
        if index >= self.lines.len() || index >= max {
            return Err(NotAMessage { lines: index });
        }

        self.block.skipped_leading_lines = index;
        if blank > 0 {
            self.block.findings.push(Finding::new(
                "header.leading-whitespace-line",
                Severity::Low,
                "Empty or whitespace-only line before the first header field",
                format!("{blank} blank line(s) before the first header field were skipped."),
            ));
        }
        if !junk.is_empty() {
            let mut finding = Finding::new(
                "input.leading-non-header-lines",
                Severity::Info,
                "Lines before the first header field were skipped",
                format!(
                    "{} line(s) that are not header fields (an mbox separator or an SMTP transcript) preceded the headers and were skipped.",
                    junk.len()
                ),
            );
            for (n, text) in junk.iter().enumerate().take(5) {
                finding = finding.with_evidence("(leading line)", Some(n + 1), text.clone());
            }
            self.block.findings.push(finding);
        }
        Ok(index)
    }

    /// Reads the line at `index` and returns the index of the next unread line.
    fn step(&mut self, index: usize) -> usize {
        let line = self.lines[index];

        // An empty line ends the header block (RFC 5322 section 2.1), unless headers were
        // pasted with empty lines between them.
        if line.text.is_empty() {
            let next = self.next_non_empty(index + 1);
            if self.options.pasted_headers
                && let Some(next) = next
                && field_name(self.lines[next].text).is_some()
            {
                return next;
            }
            self.end_block(index + 1);
            if !self.options.pasted_headers {
                self.check_double_spaced_paste(index + 1);
            }
            return self.lines.len();
        }

        if self.block.fields.len() >= self.options.limits.max_fields {
            self.limit_reached(
                "header fields",
                self.options.limits.max_fields,
                line.line_number,
            );
            return self.lines.len();
        }

        if let Some(name) = field_name(line.text) {
            return self.read_field(index, name);
        }
        if let Some(name) = eight_bit_field_name(line.text) {
            let name = decode_header_bytes(name).0;
            self.block.defects.push(Defect {
                kind: "invalid-field-name",
                line: line.line_number,
                name: Some(name.clone()),
                text: decode_header_bytes(line.text).0,
            });
            return self.skip_continuations(index + 1);
        }
        self.non_header_line(index)
    }

    /// Handles a line that is neither a field nor a continuation: a single stray line among
    /// fields is a defect, while a run of them (base64 right after the headers) ends the block.
    fn non_header_line(&mut self, index: usize) -> usize {
        let line = self.lines[index];
        let next_is_field = self
            .lines
            .get(index + 1)
            .is_some_and(|next| field_name(next.text).is_some() && !is_continuation(next.text));
        if next_is_field && !is_continuation(line.text) {
            self.block.defects.push(Defect {
                kind: "non-header-line",
                line: line.line_number,
                name: None,
                text: decode_header_bytes(line.text).0,
            });
            return index + 1;
        }

        self.block.body_offset = Some(line.offset);
        self.block.findings.push(
            Finding::new(
                "header.missing-header-separator",
                Severity::Low,
                "No empty line between the header fields and the body",
                format!(
                    "Line {} is not a header field and the lines after it are not either, so the header block ends there without the empty line RFC 5322 requires.",
                    line.line_number
                ),
            )
            .with_evidence(
                "(line)",
                Some(line.line_number),
                truncate(&decode_header_bytes(line.text).0, 120),
            ),
        );
        self.lines.len()
    }

    fn read_field(&mut self, index: usize, name: &[u8]) -> usize {
        let first = self.lines[index];
        let name_text = String::from_utf8_lossy(name).into_owned();
        let colon = first.text.iter().position(|&b| b == b':').unwrap_or(0);
        let after_colon = &first.text[colon + 1..];
        let first_value = after_colon.strip_prefix(b" ").unwrap_or(after_colon);
        self.note_line(&first, &name_text);

        let mut next = index + 1;
        while next < self.lines.len() {
            let line = self.lines[next];
            if !is_continuation(line.text) {
                break;
            }
            self.note_line(&line, &name_text);
            next += 1;
        }
        // Most fields are one line, decoded straight from the input.
        let decoded = if next == index + 1 {
            decode_header_bytes(first_value)
        } else {
            let mut raw_bytes = first_value.to_vec();
            for line in &self.lines[index + 1..next] {
                raw_bytes.push(b'\n');
                raw_bytes.extend_from_slice(line.text);
            }
            decode_header_bytes(&raw_bytes)
        };

        // The unfolded value is the raw value without its folding line breaks. Both
        // decodings map LF to LF, so removing it after decoding gives the same text.
        let (raw, eight_bit, fallback) = decoded;
        let value = if next > index + 1 {
            raw.replace('\n', "").trim().to_string()
        } else {
            raw.trim().to_string()
        };
        if eight_bit {
            self.eight_bit_fields.push(name_text.clone());
        }
        if fallback {
            self.fallback_fields.push(name_text.clone());
        }
        self.block.fields.push(Header {
            name: name_text,
            raw,
            value,
            line: first.line_number,
            offset: first.offset,
        });
        next
    }

    fn note_line(&mut self, line: &Line<'_>, field: &str) {
        if line.length > 998 {
            self.long_lines.push(line.line_number);
        }
        if memchr::memchr(b'\r', line.text).is_some()
            && !self.bare_cr_fields.iter().any(|f| f == field)
        {
            self.bare_cr_fields.push(field.to_string());
        }
    }

    fn skip_continuations(&self, mut index: usize) -> usize {
        while index < self.lines.len() && is_continuation(self.lines[index].text) {
            index += 1;
        }
        index
    }

    fn next_non_empty(&self, mut index: usize) -> Option<usize> {
        while index < self.lines.len() {
            if !self.lines[index].text.is_empty() {
                return Some(index);
            }
            index += 1;
        }
        None
    }

    fn end_block(&mut self, body_line: usize) {
        self.block.body_offset = Some(
            self.lines
                .get(body_line)
                .map_or(self.lines.last().map_or(0, |l| l.end), |l| l.offset),
        );
    }

    /// Flags a body that starts with header fields separated by empty lines, the mark of
    /// headers copied from a viewer that double-spaces lines.
    fn check_double_spaced_paste(&mut self, body_line: usize) {
        let Some(first) = self.next_non_empty(body_line) else {
            return;
        };
        let text = self.lines[first].text;
        let looks_like_field = field_name(text).is_some() && !lines::is_url(text);
        // A folded field (a Received field, say) goes on over its continuation lines.
        let mut after = first + 1;
        while self
            .lines
            .get(after)
            .is_some_and(|line| is_continuation(line.text) && !is_blank(line.text))
        {
            after += 1;
        }
        let then_empty = self
            .lines
            .get(after)
            .is_none_or(|next| next.text.is_empty());
        if looks_like_field && first == body_line && then_empty {
            self.block.findings.push(Finding::new(
                "header.double-spaced-paste",
                Severity::Low,
                "Header fields continue after the empty line: probably headers pasted with double spacing",
                "The first body line starts a header field that is followed by an empty line, as when headers are copied from a viewer that double-spaces lines. Run again with --pasted-headers to read all of them.",
            ));
        }
    }

    fn limit_reached(&mut self, what: &str, limit: usize, line: usize) {
        self.block.findings.push(Finding::new(
            "input.limit-reached",
            Severity::Medium,
            format!("Limit on {what} reached"),
            format!(
                "Parsing stopped at line {line} because the message has more than {limit} {what}; the rest was not analysed."
            ),
        ));
    }

    fn finish(&mut self) {
        if self.lines.truncated {
            let limit = self.options.limits.max_header_bytes;
            self.limit_reached(
                "header bytes",
                limit,
                self.lines.last().map_or(0, |l| l.line_number),
            );
        }
        if !self.long_lines.is_empty() {
            self.block.findings.push(Finding::new(
                "header.line-too-long",
                Severity::Low,
                "Header line longer than 998 characters",
                format!(
                    "RFC 5322 section 2.1.1 limits lines to 998 characters; {} header line(s) exceed it (first at line {}). The value is kept whole.",
                    self.long_lines.len(),
                    self.long_lines[0]
                ),
            ));
        }
        let bare_cr_fields = std::mem::take(&mut self.bare_cr_fields);
        let eight_bit_fields = std::mem::take(&mut self.eight_bit_fields);
        let fallback_fields = std::mem::take(&mut self.fallback_fields);
        self.push_field_list_finding(
            "header.bare-cr",
            Severity::Low,
            "Bare CR inside a header field",
            "A carriage return not followed by a line feed is not a line break; it is kept in the raw value.",
            bare_cr_fields,
        );
        self.push_field_list_finding(
            "header.raw-8bit",
            Severity::Info,
            "Raw 8-bit bytes in header fields",
            "RFC 5322 headers are US-ASCII; these fields carry unencoded 8-bit text (allowed only with SMTPUTF8).",
            eight_bit_fields,
        );
        self.push_field_list_finding(
            "header.legacy-charset-fallback",
            Severity::Low,
            "Header bytes are not UTF-8: decoded as windows-1252",
            "The raw bytes of these fields are not valid UTF-8, so they were decoded as windows-1252.",
            fallback_fields,
        );
        for defect in &self.block.defects {
            let finding = match defect.kind {
                "invalid-field-name" => Finding::new(
                    "header.invalid-field-name",
                    Severity::Low,
                    "Invalid header field name",
                    format!(
                        "Line {}: the field name {} contains bytes outside printable US-ASCII, so the field was skipped.",
                        defect.line,
                        quoted(defect.name.as_deref().unwrap_or(""))
                    ),
                ),
                _ => Finding::new(
                    "header.non-header-line",
                    Severity::Low,
                    "Line inside the header block is not a header field",
                    format!(
                        "Line {} has no field name and is not a continuation line; it was skipped and the header block goes on.",
                        defect.line
                    ),
                ),
            };
            let finding = finding.with_evidence("(line)", Some(defect.line), defect.text.clone());
            self.block.findings.push(finding);
        }
    }

    fn push_field_list_finding(
        &mut self,
        id: &str,
        severity: Severity,
        title: &str,
        detail: &str,
        mut fields: Vec<String>,
    ) {
        if fields.is_empty() {
            return;
        }
        fields.dedup();
        let mut finding = Finding::new(id, severity, title, detail);
        finding.headers = fields;
        self.block.findings.push(finding);
    }
}

/// Shortens `text` to at most `max` characters, marking the cut with an ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests;
