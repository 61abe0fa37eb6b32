//! mbox reading: splits a stream into messages at `From ` separator lines, message by
//! message, so an mbox of any size is read in bounded memory.
//!
//! mbox has no single standard (mboxo, mboxrd, mboxcl with Content-Length, Netscape's
//! `From -` lines), so a `From ` line is a separator when:
//!
//! 0. it is an envelope line ([`is_envelope_line`]): a `From` header field written with
//!    spaces before its colon (`From  :`) never is, and then
//! 1. it is the first line of the input, or
//! 2. it follows an empty line, is followed by a header field, and has the shape of an
//!    envelope line: nothing after `From `, a single sender, or a date with a time
//!    (so `From Russia with love` in an unescaped body is text), or
//! 3. it follows a non-empty line but has a sender, the shape of an envelope line and a
//!    header field after it, as in mboxes written by Netscape and MimeKit. The message
//!    then gets the finding `input.mbox-separator-without-empty-line`, or
//! 4. the message's Content-Length field says the body ends where the line starts
//!    (optionally after one empty line). Candidates from rules 2 and 3 inside that body
//!    are body text when the length is confirmed, and separators after all when it is not.
//!
//! When the stream is a file, a Content-Length is checked as soon as the header block ends,
//! by reading the few bytes at the declared end through a second read-only handle
//! ([`EndProbe`]). A length that does not point at a separator or the end of the file is
//! dropped at once, so a wrong length does not hold the following messages in memory.
//!
//! Message bytes exclude the separator line and the empty line before the next separator.
//! They are kept raw: `>From ` stays escaped, and [`unescape_mboxrd`] gives the mboxrd view.

use super::sniff::header_field_name;
use super::{Format, InputError, InputMessage, InputResult, MboxEnvelope, Source};
use crate::finding::{Finding, Severity};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom};

mod lines;
use lines::{LineReader, RawLine};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the messages of an mbox stream one by one.
pub struct MboxReader<R> {
    lines: LineReader<R>,
    path: String,
    max_message_bytes: usize,
    lookahead: Option<RawLine>,
    current: Option<Building>,
    ready: VecDeque<InputResult>,
    next_index: usize,
    previous_blank: bool,
    finished: bool,
    probe: Option<EndProbe>,
}

/// Random access to the file behind an mbox stream, used to check a Content-Length before
/// the bytes it covers are read. Stream offsets must be file offsets.
pub struct EndProbe {
    file: File,
}

impl EndProbe {
    /// Creates a probe on a read-only handle of the mbox file.
    pub fn new(file: File) -> Self {
        EndProbe { file }
    }

    /// Tells whether a body ending at `end` is followed by a `From ` line (optionally after
    /// one empty line) or by the end of the file. `end` must also start a line. `None` when
    /// the file could not be read.
    fn confirms(&mut self, end: u64) -> Option<bool> {
        const WINDOW: u64 = b"\n\r\nFrom ".len() as u64;
        let length = self.file.metadata().ok()?.len();
        if end > length {
            return Some(false);
        }
        let start = end.saturating_sub(1);
        let mut window = Vec::with_capacity(WINDOW as usize);
        self.file.seek(SeekFrom::Start(start)).ok()?;
        (&mut self.file)
            .take(WINDOW)
            .read_to_end(&mut window)
            .ok()?;
        let after_end = if end == 0 {
            &window[..]
        } else {
            match window.strip_prefix(b"\n") {
                Some(rest) => rest,
                None => return Some(false),
            }
        };
        let after_blank = after_end
            .strip_prefix(b"\r\n")
            .or_else(|| after_end.strip_prefix(b"\n"));
        let separator_or_end = |bytes: &[u8]| bytes.is_empty() || bytes.starts_with(b"From ");
        Some(separator_or_end(after_end) || after_blank.is_some_and(separator_or_end))
    }
}

/// A message being collected.
struct Building {
    index: usize,
    envelope: Option<MboxEnvelope>,
    findings: Vec<Finding>,
    /// Offset of the message's first byte in the stream.
    begin: u64,
    bytes: Vec<u8>,
    /// Length of the message in the stream, including bytes not kept after a cut.
    length: u64,
    /// Position in `bytes` where the body starts, once the header block has ended.
    body_start: Option<usize>,
    truncated: bool,
    /// Whether the cut fell inside the header block, so part of it is missing.
    header_cut: bool,
    /// Stream offset where the Content-Length field puts the end of the body.
    declared_end: Option<u64>,
    declared_blank_seen: bool,
    /// Separator candidates inside the declared body, kept until the length is checked.
    deferred: Vec<Deferred>,
    /// Length of the last line when it is empty, as it then belongs to the next separator.
    trailing_blank: usize,
}

/// A separator candidate inside a Content-Length body.
struct Deferred {
    /// Position of the `From ` line in the message bytes.
    position: usize,
    line_length: usize,
    blank_before: usize,
    without_empty_line: bool,
}

impl<R: BufRead> MboxReader<R> {
    /// Creates a reader of the mbox `reader`, labelled `path` in sources and errors.
    pub fn new(reader: R, path: String, max_message_bytes: usize) -> Self {
        MboxReader {
            lines: LineReader::new(reader, max_message_bytes.saturating_add(1)),
            path,
            max_message_bytes,
            lookahead: None,
            current: None,
            ready: VecDeque::new(),
            next_index: 0,
            previous_blank: false,
            finished: false,
            probe: None,
        }
    }

    /// Checks each Content-Length through `probe` when the header block ends, in place of
    /// holding the declared body until the stream reaches its end.
    pub fn with_end_probe(mut self, probe: EndProbe) -> Self {
        self.probe = Some(probe);
        self
    }

    fn step(&mut self) {
        match self.append_plain_lines() {
            Ok(0) => {}
            Ok(_) => return,
            Err(error) => return self.fail(error),
        }
        let line = match self.take_line() {
            Ok(Some(line)) => line,
            Ok(None) => return self.finish_stream(),
            Err(error) => return self.fail(error),
        };
        if self.current.is_none() {
            return self.start_first(line);
        }
        if self.ends_declared_body(&line) {
            return self.split(line, false);
        }
        match self.separator_kind(&line) {
            Some(without_empty_line) if self.inside_declared_body(&line) => {
                self.defer(&line, without_empty_line);
                self.append(line);
            }
            Some(without_empty_line) => self.split(line, without_empty_line),
            None => self.append(line),
        }
    }

    fn take_line(&mut self) -> std::io::Result<Option<RawLine>> {
        match self.lookahead.take() {
            Some(line) => Ok(Some(line)),
            None => self.lines.next_line(),
        }
    }

    fn peek_line(&mut self) -> std::io::Result<Option<&RawLine>> {
        if self.lookahead.is_none() {
            self.lookahead = self.lines.next_line()?;
        }
        Ok(self.lookahead.as_ref())
    }

    /// Starts the first message. A leading byte order mark is skipped; an input that does
    /// not start with a `From ` line becomes one message without envelope.
    fn start_first(&mut self, line: RawLine) {
        let bom = if line.bytes.starts_with(UTF8_BOM) {
            UTF8_BOM.len()
        } else {
            0
        };
        let text = line.bytes.get(bom..).unwrap_or_default();
        if is_envelope_line(text) {
            let marker = line.offset + bom as u64;
            self.start(text, marker, line.offset + line.length, false);
        } else {
            self.start(b"", line.offset, line.offset, false);
            if let Some(current) = &mut self.current {
                current.envelope = None;
            }
            self.append(line);
        }
    }

    fn start(&mut self, separator: &[u8], marker: u64, begin: u64, without_empty_line: bool) {
        let message = self.new_message(separator, marker, begin, without_empty_line);
        self.current = Some(message);
        self.previous_blank = false;
    }

    /// Creates the next message, which starts after the separator line `separator`.
    fn new_message(
        &mut self,
        separator: &[u8],
        marker: u64,
        begin: u64,
        without_empty_line: bool,
    ) -> Building {
        let (envelope, mut findings) = parse_envelope(separator, marker);
        if without_empty_line {
            findings.push(separator_finding());
        }
        let message = Building {
            index: self.next_index,
            envelope: Some(envelope),
            findings,
            begin,
            bytes: Vec::new(),
            length: 0,
            body_start: None,
            truncated: false,
            header_cut: false,
            declared_end: None,
            declared_blank_seen: false,
            deferred: Vec::new(),
            trailing_blank: 0,
        };
        self.next_index += 1;
        message
    }

    /// Ends the current message before `line` and starts the next one at it.
    fn split(&mut self, line: RawLine, without_empty_line: bool) {
        self.finish_current();
        self.start(
            &line.bytes,
            line.offset,
            line.offset + line.length,
            without_empty_line,
        );
    }

    /// Returns `Some(without_empty_line)` when `line` is a separator by rules 2 and 3.
    fn separator_kind(&mut self, line: &RawLine) -> Option<bool> {
        if !is_envelope_line(&line.bytes) {
            return None;
        }
        let rest = line.bytes.strip_prefix(b"From ")?;
        let previous_blank = self.previous_blank;
        let tokens = rest
            .split(|b| b.is_ascii_whitespace())
            .filter(|t| !t.is_empty())
            .count();
        let shaped = tokens <= 1 || has_time(rest);
        if !shaped || (!previous_blank && tokens == 0) {
            return None;
        }
        let next_is_field = match self.peek_line() {
            Ok(Some(next)) => header_field_name(next.text()).is_some(),
            _ => false,
        };
        next_is_field.then_some(!previous_blank)
    }

    fn inside_declared_body(&self, line: &RawLine) -> bool {
        let declared = self.current.as_ref().and_then(|c| c.declared_end);
        declared.is_some_and(|end| line.offset < end)
    }

    /// Checks the Content-Length of the current message against `line`: returns true when
    /// the line is the separator the length points at. A length that turns out wrong is
    /// dropped, and the candidates found inside its body become separators.
    fn ends_declared_body(&mut self, line: &RawLine) -> bool {
        let Some(current) = &mut self.current else {
            return false;
        };
        let Some(end) = current.declared_end else {
            return false;
        };
        if line.offset < end {
            return false;
        }
        if line.offset == end && is_envelope_line(&line.bytes) {
            current.deferred.clear();
            current.declared_end = None;
            return true;
        }
        if line.offset == end && line.is_blank() && !current.declared_blank_seen {
            current.declared_blank_seen = true;
            current.declared_end = Some(end + line.length);
            return false;
        }
        current.declared_end = None;
        self.split_deferred();
        false
    }

    fn defer(&mut self, line: &RawLine, without_empty_line: bool) {
        if let Some(current) = &mut self.current {
            current.deferred.push(Deferred {
                position: current.bytes.len(),
                line_length: line.bytes.len(),
                blank_before: current.trailing_blank,
                without_empty_line,
            });
        }
    }

    /// Splits the current message at its deferred separators, once its Content-Length
    /// proved wrong: every part but the last is finished, the last one goes on.
    fn split_deferred(&mut self) {
        let Some(mut current) = self.current.take() else {
            return;
        };
        let deferred = std::mem::take(&mut current.deferred);
        let all = std::mem::take(&mut current.bytes);
        let trailing_blank = current.trailing_blank;
        let begin = current.begin;
        let mut piece_start = 0;
        for candidate in deferred {
            let piece = all.get(piece_start..candidate.position).unwrap_or_default();
            current.bytes = piece.to_vec();
            current.length = piece.len() as u64;
            current.trailing_blank = candidate.blank_before;
            self.current = Some(current);
            self.finish_current();

            let separator_end = (candidate.position + candidate.line_length).min(all.len());
            let separator = all
                .get(candidate.position..separator_end)
                .unwrap_or_default();
            let marker = begin + candidate.position as u64;
            let next_begin = begin + separator_end as u64;
            current = self.new_message(separator, marker, next_begin, candidate.without_empty_line);
            piece_start = separator_end;
        }
        let rest = all.get(piece_start..).unwrap_or_default();
        current.bytes = rest.to_vec();
        current.length = rest.len() as u64;
        current.trailing_blank = trailing_blank;
        current.body_start = find_body_start(&current.bytes);
        self.current = Some(current);
    }

    /// Adds a body or header line to the current message, cutting the message to its
    /// header block once it grows past the size limit.
    fn append(&mut self, line: RawLine) {
        let max = self.max_message_bytes;
        let blank = line.is_blank();
        let Some(current) = &mut self.current else {
            return;
        };
        current.length += line.length;
        if !current.truncated {
            if current.bytes.len() + line.bytes.len() > max || line.cut {
                cut_to_header_block(current);
            } else {
                current.bytes.extend_from_slice(&line.bytes);
            }
        }
        if blank && current.body_start.is_none() {
            current.body_start = Some(current.bytes.len());
            current.declared_end = declared_end(current, line.offset + line.length, max)
                .filter(|&end| self.probe.as_mut().and_then(|p| p.confirms(end)) != Some(false));
        }
        current.trailing_blank = if blank { line.bytes.len() } else { 0 };
        self.previous_blank = blank;
        self.lines.recycle(line.bytes);
    }

    /// Appends the body lines that cannot end the message (none starts with `From `) in one
    /// run, as [`MboxReader::append`] would one by one, and returns the number of bytes
    /// appended. It returns 0 when the next line needs the line-by-line path. That is the
    /// case in the header block, after a cut, with a line looked ahead, and when the line is
    /// a separator candidate, is too long or crosses the declared end of the body.
    fn append_plain_lines(&mut self) -> std::io::Result<usize> {
        let Some(current) = &mut self.current else {
            return Ok(0);
        };
        if self.lookahead.is_some() || current.body_start.is_none() || current.truncated {
            return Ok(0);
        }
        let start = current.bytes.len();
        let room = self.max_message_bytes.saturating_sub(start);
        let appended =
            self.lines
                .take_plain_lines(&mut current.bytes, room, current.declared_end)?;
        if appended == 0 {
            return Ok(0);
        }
        current.length += appended as u64;
        let run = &current.bytes[start..];
        let before_last = &run[..run.len() - 1];
        let last_line = memchr::memrchr(b'\n', before_last).map_or(run, |i| &run[i + 1..]);
        let blank = last_line == b"\n" || last_line == b"\r\n";
        current.trailing_blank = if blank { last_line.len() } else { 0 };
        self.previous_blank = blank;
        Ok(appended)
    }

    fn finish_current(&mut self) {
        let Some(mut current) = self.current.take() else {
            return;
        };
        if !current.truncated {
            let keep = current.bytes.len().saturating_sub(current.trailing_blank);
            current.bytes.truncate(keep);
        }
        if current.truncated {
            current.findings.push(truncated_finding(
                current.length,
                self.max_message_bytes,
                !current.header_cut,
            ));
        }
        let message = InputMessage {
            source: Source {
                path: self.path.clone(),
                format: Format::Mbox,
                index: Some(current.index),
                offset: Some(current.begin),
                attachment: None,
                maildir_flags: None,
            },
            bytes: current.bytes,
            msg: None,
            envelope: current.envelope,
            findings: current.findings,
        };
        self.ready.push_back(Ok(message));
    }

    fn finish_stream(&mut self) {
        let unconfirmed = self
            .current
            .as_ref()
            .is_some_and(|c| !c.deferred.is_empty() && c.declared_end != Some(c.begin + c.length));
        if unconfirmed {
            self.split_deferred();
        }
        self.finish_current();
        self.finished = true;
    }

    fn fail(&mut self, error: std::io::Error) {
        let index = self.current.as_ref().map_or(self.next_index, |c| c.index);
        self.current = None;
        self.ready.push_back(Err(InputError::new(
            self.path.clone(),
            Some(index),
            format!(
                "reading the mbox failed after {} bytes ({error}); the rest of the file was not read",
                self.lines.offset()
            ),
        )));
        self.finished = true;
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = InputResult;

    fn next(&mut self) -> Option<InputResult> {
        loop {
            if let Some(result) = self.ready.pop_front() {
                return Some(result);
            }
            if self.finished {
                return None;
            }
            self.step();
        }
    }
}

/// Returns where the Content-Length field of the current message puts the end of its body, when
/// the field is valid and the whole body fits under the size limit (a deferred separator
/// can only be honoured while the bytes before it are kept).
fn declared_end(current: &Building, body_offset: u64, max: usize) -> Option<u64> {
    let header = current.bytes.get(..current.body_start?)?;
    let length = content_length(header)?;
    let fits = (header.len() as u64).checked_add(length)? <= max as u64;
    fits.then(|| body_offset.checked_add(length)).flatten()
}

/// Returns the value of the first Content-Length field of a header block.
fn content_length(header: &[u8]) -> Option<u64> {
    let line_starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', header).map(|i| i + 1));
    line_starts.into_iter().find_map(|start| {
        // Most lines are other fields or folded continuations; the first byte rules them out
        // without looking for a colon.
        let rest = header.get(start..)?;
        if !rest.first().is_some_and(|b| b.eq_ignore_ascii_case(&b'c')) {
            return None;
        }
        let line = rest.split(|&b| b == b'\n').next()?;
        let name = header_field_name(line)?;
        if !name.eq_ignore_ascii_case(b"Content-Length") {
            return None;
        }
        let value = line.get(name.len()..)?;
        let value = String::from_utf8_lossy(value);
        value
            .trim_start_matches([' ', '\t', ':'])
            .trim()
            .parse()
            .ok()
    })
}

/// Returns the position just after the first empty line, where the body starts.
fn find_body_start(bytes: &[u8]) -> Option<usize> {
    let mut start = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        start += line.len();
        if line == b"\n" || line == b"\r\n" {
            return Some(start);
        }
    }
    None
}

fn cut_to_header_block(current: &mut Building) {
    if let Some(body_start) = current.body_start {
        current.bytes.truncate(body_start);
    }
    current.truncated = true;
    current.header_cut = current.body_start.is_none();
    current.deferred.clear();
    current.declared_end = None;
}

/// Tells whether `line` starts like an mbox envelope line: `From `, then the envelope sender
/// (an address, `MAILER-DAEMON` or Netscape's `-`) and a date, as RFC 4155 describes it.
/// A sender never starts with a colon, so `From :` and `From  :`, a From header field with
/// whitespace before its colon (the obsolete syntax of RFC 5322 section 4.5), are not
/// envelope lines.
pub(super) fn is_envelope_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let sender_start = rest.iter().position(|&b| b != b' ' && b != b'\t');
    sender_start.is_none_or(|start| rest[start] != b':')
}

/// Tells whether the text contains a time of day such as `10:00` or `10:00:00`.
fn has_time(text: &[u8]) -> bool {
    text.split(|b| b.is_ascii_whitespace())
        .any(|token| parse_time(&String::from_utf8_lossy(token)).is_some())
}

/// Parses the `From ` line of an mbox message: the sender, then a date in asctime form
/// (`Mon Mar  3 10:00:00 2025`) or RFC 5322 form, possibly with a zone.
pub fn parse_envelope(line: &[u8], marker_offset: u64) -> (MboxEnvelope, Vec<Finding>) {
    let text = String::from_utf8_lossy(line.strip_prefix(b"From ").unwrap_or(line));
    let text = text.trim();
    let (sender, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let rest = rest.trim();
    let sender = (!sender.is_empty() && sender != "-").then(|| sender.to_string());
    let date_raw = (!rest.is_empty()).then(|| rest.to_string());
    let parsed = date_raw.as_deref().and_then(parse_envelope_date);
    let mut findings = Vec::new();
    match (&date_raw, &parsed) {
        (Some(raw), None) => findings.push(invalid_date_finding(raw)),
        (Some(raw), Some((_, None))) => findings.push(no_zone_finding(raw)),
        _ => {}
    }
    let (date, zone) = parsed.map_or((None, None), |(date, zone)| (Some(date), zone));
    let envelope = MboxEnvelope {
        sender,
        date_raw,
        date,
        zone,
        marker_offset,
    };
    (envelope, findings)
}

/// Parses an envelope date: weekday, month name, day, time, year and an optional zone in
/// any order, stopping at a UUCP `remote from` suffix.
fn parse_envelope_date(text: &str) -> Option<(NaiveDateTime, Option<String>)> {
    let (mut month, mut day, mut time, mut year, mut zone) = (None, None, None, None, None);
    for token in text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
    {
        if token.eq_ignore_ascii_case("remote") {
            break;
        }
        if let Some(m) = month_number(token) {
            month = Some(m);
        } else if let Some(t) = parse_time(token) {
            time = Some(t);
        } else if is_zone(token) {
            zone = Some(token.to_string());
        } else if let Ok(number) = token.parse::<i32>() {
            if token.len() == 4 {
                year = Some(number);
            } else if day.is_none() && (1..=31).contains(&number) {
                day = Some(number as u32);
            }
        }
    }
    let date = NaiveDate::from_ymd_opt(year?, month?, day?)?;
    Some((date.and_time(time?), zone))
}

fn month_number(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = token.to_ascii_lowercase();
    let position = MONTHS.iter().position(|m| lower == *m)?;
    Some(position as u32 + 1)
}

fn parse_time(token: &str) -> Option<NaiveTime> {
    let mut parts = token.split(':');
    let hour = parts.next()?.parse().ok()?;
    let minute = parts.next()?.parse().ok()?;
    let second = parts.next().map_or(Some(0), |s| s.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    NaiveTime::from_hms_opt(hour, minute, second)
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn is_zone(token: &str) -> bool {
    let bytes = token.as_bytes();
    let numeric = bytes.len() == 5
        && matches!(bytes[0], b'+' | b'-')
        && bytes[1..].iter().all(u8::is_ascii_digit);
    let named = (2..=5).contains(&bytes.len())
        && bytes.iter().all(u8::is_ascii_uppercase)
        && month_number(token).is_none()
        && !WEEKDAYS.iter().any(|d| token.eq_ignore_ascii_case(d));
    numeric || named
}

/// Returns the mboxrd view of a message: one `>` is removed from every line that starts
/// with one or more `>` followed by `From `.
pub fn unescape_mboxrd(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    for line in body.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        let escaped = quotes > 0
            && line
                .get(quotes..)
                .is_some_and(|rest| rest.starts_with(b"From "));
        out.extend_from_slice(if escaped { &line[1..] } else { line });
    }
    out
}

fn no_zone_finding(raw: &str) -> Finding {
    Finding::new(
        "input.envelope-date-no-zone",
        Severity::Info,
        "mbox envelope date has no time zone",
        "The date on the mbox `From ` line carries no zone, so it is the local time of the system that wrote the mbox and cannot be placed on the UTC timeline.",
    )
    .with_evidence("(mbox From line)", None, raw)
}

fn invalid_date_finding(raw: &str) -> Finding {
    Finding::new(
        "input.envelope-date-invalid",
        Severity::Info,
        "mbox envelope date could not be read",
        "The text after the sender on the mbox `From ` line is not a date in asctime or RFC 5322 form.",
    )
    .with_evidence("(mbox From line)", None, raw)
}

fn separator_finding() -> Finding {
    Finding::new(
        "input.mbox-separator-without-empty-line",
        Severity::Info,
        "mbox separator without an empty line before it",
        "This message starts at a `From ` line that directly follows the previous message's last line. It was taken as a separator because it has a sender, the shape of an envelope line and a header field after it.",
    )
}

/// Reports a message cut at the size limit. `whole_header` is true when its header block
/// ended within the limit.
fn truncated_finding(length: u64, max: usize, whole_header: bool) -> Finding {
    let kept = if whole_header {
        "only its header block was kept".to_string()
    } else {
        format!(
            "only the first {max} bytes of its header block were kept, so fields after them (perhaps From or Subject) are missing from the report"
        )
    };
    Finding::new(
        "input.message-truncated",
        Severity::Medium,
        "Message larger than the size limit: only its header block was read",
        format!(
            "The message is {length} bytes, more than the {max}-byte limit, so {kept}. Attachments and the body were not examined."
        ),
    )
}

#[cfg(test)]
mod tests;
