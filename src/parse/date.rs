//! Date parser: the RFC 5322 section 3.3 date-time, read leniently.
//!
//! Real trace and Date fields carry far more than the grammar allows: obsolete and
//! non-RFC zone names, military zone letters, two-digit years, missing seconds, comments in
//! odd places, the Go `time.Time` string SendGrid writes, ISO and US forms, asctime dates.
//! Each deviation that changes how the time is read becomes a `date.*` finding. A value
//! that cannot be placed in time (an unknown month name, a locale-formatted date without a
//! zone, a field out of range) keeps its raw text and gets no timestamp.
//!
//! The reader looks at a bounded number of tokens from the start of the text, so it runs
//! in time linear in the input and stops where the date ends; the Received parser uses that
//! end to read the clauses written after a date.

use std::ops::Range;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

use crate::finding::{Finding, Severity};

/// A date-time value as read from a header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedDate {
    /// The value as given, trimmed.
    pub raw: String,
    /// The instant in UTC, when the value could be placed in time.
    #[serde(serialize_with = "serialize_timestamp")]
    pub timestamp: Option<DateTime<Utc>>,
    pub findings: Vec<Finding>,
    /// The fields as written, when a date and a time were recognised, valid or not.
    pub parts: Option<DateParts>,
}

/// The fields of a recognised date as written, before any validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateParts {
    /// Four-digit year (two- and three-digit years already expanded).
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
    /// Offset east of UTC in seconds; `None` when the zone was missing, unknown, `-0000`
    /// or a military letter (all read as UTC).
    pub offset_seconds: Option<i32>,
}

/// Parses an RFC 5322 date-time leniently. Text after the date (a comment, a zone name
/// after a numeric offset) is ignored.
pub fn parse_date(text: &str) -> ParsedDate {
    let (mut parsed, _) = parse_date_at(text);
    parsed.raw = text.trim().to_string();
    parsed
}

/// Formats a timestamp as RFC 3339 in UTC with a `Z` suffix. Fractional seconds are
/// written only when there are any, with trailing zeros removed.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    let mut out = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos() % 1_000_000_000;
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Serializes an optional timestamp with [`format_timestamp`] (for `serialize_with`).
pub fn serialize_timestamp<S: serde::Serializer>(
    t: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serializer.serialize_str(&format_timestamp(t)),
        None => serializer.serialize_none(),
    }
}

/// Tells whether a date may start at the word `word`, followed by the word `next`: a
/// weekday, a day before a month name, a month name before a day, or an ISO date. Used to
/// find a date that is not introduced by a `;`.
pub(crate) fn may_start_date(word: &str, next: Option<&str>) -> bool {
    let word = word.trim_end_matches(',');
    let next = next.map(|n| n.trim_end_matches(','));
    let iso = word.len() >= 8
        && word.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && word.as_bytes()[4] == b'-';
    weekday_number(word).is_some()
        || iso
        || (small_number(word).is_some() && next.and_then(month_number).is_some())
        || (month_number(word).is_some() && next.and_then(small_number).is_some())
}

/// Reads a date at the start of `text` (after skipping punctuation-only junk). Returns
/// the result and the byte range of the tokens that made up the date; the range is empty
/// and `parts` is `None` when no date was recognised. `raw` is the text of that range, or
/// the whole trimmed text when nothing was recognised.
pub(crate) fn parse_date_at(text: &str) -> (ParsedDate, Range<usize>) {
    let tokens = lex(text, MAX_TOKENS);
    let mut reader = Reader {
        toks: &tokens,
        pos: 0,
    };
    let outcome = reader.read();
    match outcome {
        Ok(read) => {
            let range = read.range.clone();
            (finish(&text[range.clone()], read), range)
        }
        Err(failure) => (failed(text, &tokens, failure), 0..0),
    }
}

/// Enough tokens for the longest form: weekday, day, month, year, time, AM/PM, zone,
/// zone name, Go monotonic reading, plus a little junk.
const MAX_TOKENS: usize = 14;

/// One whitespace-, comma- or semicolon-separated token; comments are skipped.
#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    text: &'a str,
    start: usize,
    end: usize,
}

/// Splits the start of `text` into at most `max` tokens, skipping comments (nested, with
/// quoted pairs) without limit on their length.
fn lex(text: &str, max: usize) -> Vec<Tok<'_>> {
    let bytes = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() && toks.len() < max {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' | b',' | b';' => i += 1,
            b'(' => i = comment_end(bytes, i).0,
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n' | b',' | b';' | b'(')
                {
                    i += 1;
                }
                toks.push(Tok {
                    text: &text[start..i],
                    start,
                    end: i,
                });
            }
        }
    }
    toks
}

/// Returns the index after the comment that opens at `open` (nested, with quoted pairs)
/// and whether it was closed; an unclosed comment runs to the end of the input.
pub(crate) fn comment_end(bytes: &[u8], open: usize) -> (usize, bool) {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return (i + 1, true);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (bytes.len(), false)
}

/// Form in which the zone was written.
#[derive(Debug, Clone, PartialEq)]
enum Zone {
    /// A numeric offset in seconds; `-0000` is `UnknownLocal`.
    Offset(i32),
    /// `UT`, `GMT`, `UTC` or an RFC 5322 obsolete US zone, with its offset.
    Named(i32),
    /// A zone name outside RFC 5322, mapped to an offset.
    NonRfc(String, i32),
    /// A military single letter, read as -0000.
    Military(char),
    /// `-0000`: UTC, local zone unknown.
    UnknownLocal,
    /// A name or offset that means nothing known; read as UTC.
    Unknown(String),
    /// An offset beyond ±23:59.
    Invalid(String),
    /// No zone at all; read as UTC.
    Missing,
}

/// A recognised date before validation.
struct Read {
    year: i64,
    year_digits: usize,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    weekday: Option<u32>,
    zone: Zone,
    range: Range<usize>,
}

/// Reason no date was recognised.
enum Failure {
    /// An alphabetic word stood where the month (or weekday) belongs.
    UnknownName,
    /// Nothing date-like, or no time.
    NotADate,
}

/// Cursor over the lexed tokens.
struct Reader<'t, 'a> {
    toks: &'t [Tok<'a>],
    pos: usize,
}

impl<'a> Reader<'_, 'a> {
    fn peek(&self, ahead: usize) -> Option<&'a str> {
        self.toks.get(self.pos + ahead).map(|t| t.text)
    }

    fn read(&mut self) -> Result<Read, Failure> {
        // Step 1: junk such as `_` before the date, then an optional weekday, then junk
        // such as a mis-decoded second weekday (`Tue, Âñ, 29 Jan 2023`).
        self.skip_junk();
        let start = self.toks.get(self.pos).map_or(0, |t| t.start);
        let weekday = self.peek(0).and_then(weekday_number);
        if weekday.is_some() {
            self.pos += 1;
            self.skip_junk();
        }

        // Step 2: the date, in one of the forms seen in the wild.
        let mut read = self.read_day_month_year()?;
        read.weekday = weekday;
        read.range.start = start;
        Ok(read)
    }

    /// Skips up to two tokens without an ASCII letter or digit.
    fn skip_junk(&mut self) {
        let limit = self.pos + 2;
        while self.pos < limit
            && self
                .peek(0)
                .is_some_and(|t| !t.bytes().any(|b| b.is_ascii_alphanumeric()))
        {
            self.pos += 1;
        }
    }

    fn read_day_month_year(&mut self) -> Result<Read, Failure> {
        let first = self.peek(0).ok_or(Failure::NotADate)?;
        let second = self.peek(1);
        let third = self.peek(2);

        // RFC 5322: day month year.
        if let (Some(day), Some(month)) = (small_number(first), second.and_then(month_number))
            && let Some((year, digits)) = third.and_then(year_number)
        {
            self.pos += 3;
            return self.read_time_zone(year, digits, month, day);
        }
        // Day month year with a numeric month: `20 11 79`.
        if let (Some(day), Some(month)) = (small_number(first), second.and_then(small_number))
            && let Some((year, digits)) = third.and_then(year_number)
            && day <= 31
        {
            self.pos += 3;
            return self.read_time_zone(year, digits, month, day);
        }
        // Month first: `Apr 21 2018 03:01:04`, asctime `Feb 07 10:18:12 2003`.
        if let (Some(month), Some(day)) = (month_number(first), second.and_then(small_number)) {
            if let Some((year, digits)) = third.and_then(year_number) {
                self.pos += 3;
                return self.read_time_zone(year, digits, month, day);
            }
            if third.and_then(parse_time).is_some() {
                self.pos += 2;
                return self.read_asctime(month, day);
            }
        }
        // One token: ISO `2018-04-22` (with or without `T` and time), US `4/20/2018`,
        // `4-20-2018`.
        if let Some((year, digits, month, day, rest)) = compact_date(first) {
            self.pos += 1;
            if let Some(time_text) = rest {
                return self.read_time_zone_from(year, digits, month, day, time_text);
            }
            return self.read_time_zone(year, digits, month, day);
        }

        let name_in_place = [Some(first), second]
            .into_iter()
            .flatten()
            .any(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_alphabetic() || b >= 0x80));
        Err(if name_in_place {
            Failure::UnknownName
        } else {
            Failure::NotADate
        })
    }

    /// Reads the time and zone after a date.
    fn read_time_zone(
        &mut self,
        year: i64,
        digits: usize,
        month: u32,
        day: u32,
    ) -> Result<Read, Failure> {
        let time_text = self.peek(0).ok_or(Failure::NotADate)?;
        self.pos += 1;
        self.read_time_zone_from(year, digits, month, day, time_text)
    }

    fn read_time_zone_from(
        &mut self,
        year: i64,
        digits: usize,
        month: u32,
        day: u32,
        time_text: &str,
    ) -> Result<Read, Failure> {
        let time = parse_time(time_text).ok_or(Failure::NotADate)?;
        let mut end = self.toks[self.pos - 1].end;
        let (hour, minute, second, nanos) = self.apply_meridiem(&time, &mut end);
        let zone = match time.zone {
            Some(zone) => zone,
            None => self.read_zone(&mut end),
        };
        Ok(Read {
            year,
            year_digits: digits,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            weekday: None,
            zone,
            range: 0..end,
        })
    }

    /// asctime and Unix `date`: `Feb 07 10:18:12 2003 -0800`, `Sep 14 14:36:56 EDT 2018`.
    fn read_asctime(&mut self, month: u32, day: u32) -> Result<Read, Failure> {
        let time = self.peek(0).and_then(parse_time).ok_or(Failure::NotADate)?;
        self.pos += 1;
        let mut end = self.toks[self.pos - 1].end;
        let (hour, minute, second, nanos) = self.apply_meridiem(&time, &mut end);
        let mut zone = Zone::Missing;
        if self.peek(0).is_some_and(|t| year_number(t).is_none()) {
            // The year that follows ends the date.
            zone = self.read_zone(&mut end);
        }
        let (year, digits) = self
            .peek(0)
            .and_then(year_number)
            .ok_or(Failure::NotADate)?;
        self.pos += 1;
        end = self.toks[self.pos - 1].end;
        if zone == Zone::Missing {
            zone = self.read_zone(&mut end);
        }
        Ok(Read {
            year,
            year_digits: digits,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            weekday: None,
            zone,
            range: 0..end,
        })
    }

    /// Applies a following `AM`/`PM` to the hour.
    fn apply_meridiem(&mut self, time: &Time, end: &mut usize) -> (u32, u32, u32, u32) {
        let mut hour = time.hour;
        if let Some(word) = self.peek(0) {
            let pm = word.eq_ignore_ascii_case("pm");
            if (pm || word.eq_ignore_ascii_case("am")) && (1..=12).contains(&hour) {
                hour = match (pm, hour) {
                    (false, 12) => 0,
                    (true, 12) => 12,
                    (true, h) => h + 12,
                    (false, h) => h,
                };
                self.pos += 1;
                *end = self.toks[self.pos - 1].end;
            }
        }
        (hour, time.minute, time.second, time.nanos)
    }

    /// Reads the zone, then a zone name or Go monotonic reading after a numeric offset.
    fn read_zone(&mut self, end: &mut usize) -> Zone {
        let Some(word) = self.peek(0) else {
            return Zone::Missing;
        };
        let Some(zone) = parse_zone(word) else {
            return Zone::Missing;
        };
        self.pos += 1;
        *end = self.toks[self.pos - 1].end;

        // `+0000 UTC`, `-0800 PST`, Go's `+0000 UTC m=+349867.495769315`: the numeric
        // offset wins and the rest belongs to the date.
        if matches!(zone, Zone::Offset(_) | Zone::UnknownLocal) {
            if self.peek(0).is_some_and(is_zone_name) {
                self.pos += 1;
                *end = self.toks[self.pos - 1].end;
            }
            if self.peek(0).is_some_and(|w| w.starts_with("m=")) {
                self.pos += 1;
                *end = self.toks[self.pos - 1].end;
            }
        }
        zone
    }
}

/// A time of day as written, with a zone written in the same token (ISO forms).
#[derive(Debug, Clone, PartialEq)]
struct Time {
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    zone: Option<Zone>,
}

/// Parses `hh:mm`, `hh:mm:ss`, `hh:mm:ss.fraction`, optionally followed by `Z` or an
/// offset in the same token (`10:00:00Z`, `10:00:00+02:00`).
fn parse_time(text: &str) -> Option<Time> {
    let bytes = text.as_bytes();
    let mut split = bytes.len();
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        if b == b'Z' || b == b'z' || b == b'+' || b == b'-' {
            split = i;
            break;
        }
    }
    let (clock, zone_text) = text.split_at(split);
    let mut fields = clock.split(':');
    let hour = number(fields.next()?, 2)?;
    let minute = number(fields.next()?, 2)?;
    let (second, nanos) = match fields.next() {
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
            let second = number(whole, 2)?;
            let nanos = if frac.is_empty() {
                0
            } else {
                fraction_nanos(frac)?
            };
            (second, nanos)
        }
        None => (0, 0),
    };
    if fields.next().is_some() {
        return None;
    }
    let zone = if zone_text.is_empty() {
        None
    } else if zone_text.eq_ignore_ascii_case("z") {
        Some(Zone::Named(0))
    } else {
        Some(parse_numeric_offset(zone_text)?)
    };
    Some(Time {
        hour,
        minute,
        second,
        nanos,
        zone,
    })
}

/// Reads up to nine digits of a decimal fraction of a second as nanoseconds.
fn fraction_nanos(frac: &str) -> Option<u32> {
    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = frac.chars().take(9).collect();
    let value: u32 = digits.parse().ok()?;
    Some(value * 10u32.pow(9 - digits.len() as u32))
}

/// Parses a string of at most `max` ASCII digits.
fn number(text: &str, max: usize) -> Option<u32> {
    if text.is_empty() || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses a day or numeric month: one or two digits.
fn small_number(text: &str) -> Option<u32> {
    number(text, 2)
}

/// Parses a year of 2 to 4 digits and returns it with its digit count.
fn year_number(text: &str) -> Option<(i64, usize)> {
    if !(2..=4).contains(&text.len()) {
        return None;
    }
    number(text, 4).map(|y| (i64::from(y), text.len()))
}

/// Parses one-token dates: `YYYY-MM-DD` (optionally `T` and a time), `M/D/YYYY`,
/// `M-D-YYYY`. Returns year, year digits, month, day and the time text after a `T`.
fn compact_date(text: &str) -> Option<(i64, usize, u32, u32, Option<&str>)> {
    let (date, time) = match text.find(['T', 't']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let sep = if date.contains('-') {
        '-'
    } else if date.contains('/') {
        '/'
    } else {
        return None;
    };
    let parts: Vec<&str> = date.split(sep).collect();
    if parts.len() != 3 || parts.iter().any(|p| number(p, 4).is_none()) {
        return None;
    }
    if parts[0].len() == 4 {
        let (year, digits) = year_number(parts[0])?;
        return Some((
            year,
            digits,
            number(parts[1], 2)?,
            number(parts[2], 2)?,
            time,
        ));
    }
    // US order, month first; a first field above 12 with a second one that fits is
    // read day first.
    let (year, digits) = year_number(parts[2])?;
    let (a, b) = (number(parts[0], 2)?, number(parts[1], 2)?);
    let (month, day) = if a > 12 && b <= 12 { (b, a) } else { (a, b) };
    Some((year, digits, month, day, time))
}

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Finds `word` (three letters at least, an optional final dot) as a prefix of a name in
/// `names`; returns its index.
fn name_index(word: &str, names: &[&str]) -> Option<usize> {
    let word = word.strip_suffix('.').unwrap_or(word);
    if word.len() < 3 || !word.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    names.iter().position(|name| name.starts_with(&lower))
}

/// Weekday number, Monday = 0.
fn weekday_number(word: &str) -> Option<u32> {
    name_index(word, &WEEKDAYS).map(|i| i as u32)
}

/// Month number, January = 1.
fn month_number(word: &str) -> Option<u32> {
    name_index(word, &MONTHS).map(|i| i as u32 + 1)
}

/// RFC 5322 obsolete zones (section 4.3) and the universal names.
const RFC_ZONES: [(&str, i32); 11] = [
    ("UT", 0),
    ("UTC", 0),
    ("GMT", 0),
    ("EST", -5 * 60),
    ("EDT", -4 * 60),
    ("CST", -6 * 60),
    ("CDT", -5 * 60),
    ("MST", -7 * 60),
    ("MDT", -6 * 60),
    ("PST", -8 * 60),
    ("PDT", -7 * 60),
];

/// Zone names outside RFC 5322 that mail software writes, with their offsets in minutes.
/// `IST` is read as India; Irish and Israeli mail writes numeric offsets.
const OTHER_ZONES: [(&str, i32); 43] = [
    ("CET", 60),
    ("CEST", 120),
    ("MET", 60),
    ("MEST", 120),
    ("MEZ", 60),
    ("MESZ", 120),
    ("WET", 0),
    ("WEST", 60),
    ("BST", 60),
    ("IST", 330),
    ("EET", 120),
    ("EEST", 180),
    ("MSK", 180),
    ("MSD", 240),
    ("JST", 540),
    ("KST", 540),
    ("HKT", 480),
    ("SGT", 480),
    ("PHT", 480),
    ("AWST", 480),
    ("ACST", 570),
    ("ACDT", 630),
    ("AEST", 600),
    ("AEDT", 660),
    ("NZST", 720),
    ("NZDT", 780),
    ("HST", -600),
    ("AKST", -540),
    ("AKDT", -480),
    ("AST", -240),
    ("ADT", -180),
    ("NST", -210),
    ("NDT", -150),
    ("BRT", -180),
    ("ART", -180),
    ("WIB", 420),
    ("ICT", 420),
    ("PKT", 300),
    ("SAST", 120),
    ("CAT", 120),
    ("EAT", 180),
    ("WAT", 60),
    ("IDT", 180),
];

/// Looks a zone name up in a table of (name, minutes).
fn zone_minutes(name: &str, table: &[(&str, i32)]) -> Option<i32> {
    table
        .iter()
        .find(|(zone, _)| zone.eq_ignore_ascii_case(name))
        .map(|&(_, minutes)| minutes)
}

/// Reads one zone token. Returns `None` when the token cannot be a zone (a number, a
/// long word), so that it is left to the caller.
fn parse_zone(word: &str) -> Option<Zone> {
    if word.starts_with(['+', '-']) {
        return parse_numeric_offset(word);
    }
    if !word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b':')
    {
        return None;
    }
    if !word.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    // `GMT+0200`, `UTC-05:00`.
    for prefix in ["GMT", "UTC", "UT"] {
        if word.len() > prefix.len()
            && word[..prefix.len()].eq_ignore_ascii_case(prefix)
            && word[prefix.len()..].starts_with(['+', '-'])
        {
            return parse_numeric_offset(&word[prefix.len()..]);
        }
    }
    if let Some(minutes) = zone_minutes(word, &RFC_ZONES) {
        return Some(Zone::Named(minutes * 60));
    }
    if word.len() == 1 {
        let letter = word.chars().next()?;
        return (letter.is_ascii_uppercase() && letter != 'J').then_some(Zone::Military(letter));
    }
    if let Some(minutes) = zone_minutes(word, &OTHER_ZONES) {
        return Some(Zone::NonRfc(word.to_string(), minutes * 60));
    }
    // POSIX TZ strings such as `EST5EDT`: the standard zone name and hours west of UTC.
    let letters = word.bytes().take_while(u8::is_ascii_alphabetic).count();
    let digits = word[letters..]
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'-')
        .count();
    if (3..=4).contains(&letters) && digits > 0 {
        let name = &word[..letters];
        let minutes = zone_minutes(name, &RFC_ZONES)
            .or_else(|| zone_minutes(name, &OTHER_ZONES))
            .or_else(|| {
                word[letters..letters + digits]
                    .parse::<i32>()
                    .ok()
                    .map(|h| -h * 60)
            });
        if let Some(minutes) = minutes {
            return Some(Zone::NonRfc(word.to_string(), minutes * 60));
        }
    }
    if is_capital_word(word) {
        return Some(Zone::Unknown(word.to_string()));
    }
    None
}

/// 2 to 5 capital letters that are not a Received clause keyword.
fn is_capital_word(word: &str) -> bool {
    const KEYWORDS: [&str; 6] = ["FROM", "BY", "VIA", "WITH", "ID", "FOR"];
    (2..=5).contains(&word.len())
        && word.bytes().all(|b| b.is_ascii_uppercase())
        && !KEYWORDS.contains(&word)
}

/// Tells whether `word` is a zone name written after a numeric offset (`UTC`, `PST`,
/// `CEST`): a known name or 2 to 5 capital letters.
fn is_zone_name(word: &str) -> bool {
    zone_minutes(word, &RFC_ZONES).is_some()
        || zone_minutes(word, &OTHER_ZONES).is_some()
        || is_capital_word(word)
}

/// Reads `+hhmm`, `-hhmm`, `+hh:mm` and `+hh`.
fn parse_numeric_offset(text: &str) -> Option<Zone> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    // `+0000-62495-238`: four digits followed by junk still name the offset.
    let body = &text[1..];
    let body = match body.as_bytes().get(4) {
        Some(b)
            if body.as_bytes()[..4].iter().all(u8::is_ascii_digit)
                && !b.is_ascii_digit()
                && *b != b':' =>
        {
            &body[..4]
        }
        _ => body,
    };
    let digits: String = body.chars().filter(|&c| c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return Some(Zone::Invalid(text.to_string()));
    }
    if sign < 0 && hours == 0 && minutes == 0 {
        return Some(Zone::UnknownLocal);
    }
    Some(Zone::Offset(sign * (hours * 3600 + minutes * 60)))
}

/// Expands two- and three-digit years (RFC 5322 section 4.3).
fn full_year(year: i64, digits: usize) -> i64 {
    match digits {
        2 if year < 50 => 2000 + year,
        2 => 1900 + year,
        3 => 1900 + year,
        _ => year,
    }
}

/// Validates a recognised date and computes its instant and findings.
fn finish(raw: &str, read: Read) -> ParsedDate {
    let mut findings = Vec::new();
    let year = full_year(read.year, read.year_digits);
    let offset = zone_offset(&read.zone, raw, &mut findings);
    let parts = DateParts {
        year: year as i32,
        month: read.month,
        day: read.day,
        hour: read.hour,
        minute: read.minute,
        second: read.second,
        nanos: read.nanos,
        offset_seconds: match read.zone {
            Zone::Offset(s) | Zone::Named(s) | Zone::NonRfc(_, s) => Some(s),
            _ => None,
        },
    };

    let timestamp = offset.and_then(|offset| instant(&parts, offset));
    if timestamp.is_none() && offset.is_some() {
        findings.push(Finding::new(
            "date.invalid",
            Severity::Low,
            "Date field out of range",
            format!("`{raw}` names a day or time that does not exist; no timestamp was derived."),
        ));
    }
    if let (Some(weekday), Some(t)) = (read.weekday, timestamp) {
        let local = t + chrono::Duration::seconds(i64::from(offset.unwrap_or(0)));
        if local.weekday().num_days_from_monday() != weekday {
            findings.push(Finding::new(
                "date.weekday-mismatch",
                Severity::Low,
                "Weekday does not match the date",
                format!(
                    "`{raw}` names {} but the date is a {}; the date was kept.",
                    capitalise(WEEKDAYS[weekday as usize]),
                    local.format("%A")
                ),
            ));
        }
    }
    ParsedDate {
        raw: raw.trim().to_string(),
        timestamp,
        findings,
        parts: Some(parts),
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Returns the offset to apply, recording how the zone was read; `None` for an invalid
/// offset.
fn zone_offset(zone: &Zone, raw: &str, findings: &mut Vec<Finding>) -> Option<i32> {
    let (id, severity, title, detail) = match zone {
        Zone::Offset(s) | Zone::Named(s) => return Some(*s),
        Zone::NonRfc(name, s) => (
            "date.non-rfc-zone",
            Severity::Low,
            "Zone name outside RFC 5322",
            format!(
                "`{raw}`: the zone `{name}` is not an RFC 5322 zone; it was read as {}.",
                offset_text(*s)
            ),
        ),
        Zone::Military(letter) => (
            "date.military-zone",
            Severity::Low,
            "Military zone letter",
            format!(
                "`{raw}`: the military zone `{letter}` is read as -0000 (RFC 5322 section 4.3), that is UTC with the local zone unknown."
            ),
        ),
        Zone::UnknownLocal => (
            "date.unknown-local-zone",
            Severity::Info,
            "Local zone unknown (-0000)",
            format!(
                "`{raw}`: -0000 says the time is UTC and the sender's local zone is unknown (RFC 5322 section 3.3)."
            ),
        ),
        Zone::Unknown(name) => (
            "date.unknown-zone",
            Severity::Low,
            "Unknown zone name",
            format!("`{raw}`: the zone `{name}` is unknown; the time was read as UTC."),
        ),
        Zone::Missing => (
            "date.missing-zone",
            Severity::Low,
            "Date without a zone",
            format!("`{raw}` has no zone; the time was read as UTC."),
        ),
        Zone::Invalid(text) => {
            findings.push(Finding::new(
                "date.invalid",
                Severity::Low,
                "Zone offset out of range",
                format!("`{raw}`: the offset `{text}` is beyond ±23:59; no timestamp was derived."),
            ));
            return None;
        }
    };
    findings.push(Finding::new(id, severity, title, detail));
    match zone {
        Zone::NonRfc(_, s) => Some(*s),
        _ => Some(0),
    }
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
}

/// Returns the instant of `parts` at `offset` seconds east of UTC, when every field is valid.
fn instant(parts: &DateParts, offset: i32) -> Option<DateTime<Utc>> {
    let date = NaiveDate::from_ymd_opt(parts.year, parts.month, parts.day)?;
    if parts.hour > 23 || parts.minute > 59 || parts.second > 60 {
        return None;
    }
    // A leap second (:60) is kept the way chrono represents it.
    let time = if parts.second == 60 {
        NaiveTime::from_hms_nano_opt(parts.hour, parts.minute, 59, 1_000_000_000 + parts.nanos)?
    } else {
        NaiveTime::from_hms_nano_opt(parts.hour, parts.minute, parts.second, parts.nanos)?
    };
    let local = date.and_time(time);
    let utc = local.checked_sub_signed(chrono::Duration::seconds(i64::from(offset)))?;
    Some(utc.and_utc())
}

/// Builds the result for text in which no date was recognised.
fn failed(text: &str, tokens: &[Tok<'_>], failure: Failure) -> ParsedDate {
    let raw = text.trim().to_string();
    let has_time = tokens.iter().any(|t| parse_time(t.text).is_some());
    let finding = match failure {
        Failure::UnknownName if has_time => Finding::new(
            "date.locale-date",
            Severity::Low,
            "Locale-formatted date",
            format!(
                "`{raw}` uses month or weekday names that are not English (a locale-formatted date) and cannot be placed in time; no timestamp was derived."
            ),
        ),
        _ if raw.is_empty() => Finding::new(
            "date.unparseable",
            Severity::Low,
            "Empty date",
            "The date is empty; no timestamp was derived.",
        ),
        _ => Finding::new(
            "date.unparseable",
            Severity::Low,
            "Unreadable date",
            format!("`{raw}` is not a date-time that can be read; no timestamp was derived."),
        ),
    };
    ParsedDate {
        raw,
        timestamp: None,
        findings: vec![finding],
        parts: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(parsed: &ParsedDate) -> Vec<&str> {
        parsed.findings.iter().map(|f| f.id.as_str()).collect()
    }

    /// (input, expected RFC 3339 timestamp or "" for none, expected finding ids)
    const CASES: &[(&str, &str, &[&str])] = &[
        (
            "Tue, 1 Jul 2003 10:52:37 +0200",
            "2003-07-01T08:52:37Z",
            &[],
        ),
        ("12 May 23 00:00:05 -0800", "2023-05-12T08:00:05Z", &[]),
        ("12 May 99 00:00:05 +0000", "1999-05-12T00:00:05Z", &[]),
        ("Tue, 12 May 2020 12:08:24 UT", "2020-05-12T12:08:24Z", &[]),
        ("Thu, 14 Aug 2025 14:15:52 GMT", "2025-08-14T14:15:52Z", &[]),
        (
            "Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time)",
            "1969-02-14T03:02:00Z",
            &[],
        ),
        (
            "Tue, 01 Nov 2016 13:23:12 +0630 (a (b) c)",
            "2016-11-01T06:53:12Z",
            &[],
        ),
        (
            "Wed, 2 Jul 2025 10:00:00 CEST",
            "2025-07-02T08:00:00Z",
            &["date.non-rfc-zone"],
        ),
        (
            "Mon, 1 Jan 2024 00:00:00 A",
            "2024-01-01T00:00:00Z",
            &["date.military-zone"],
        ),
        (
            "Sun, 21 Jun 2019 08:00:00 +0000",
            "2019-06-21T08:00:00Z",
            &["date.weekday-mismatch"],
        ),
        (
            "25 Jan 2011 12:31:11 -0000",
            "2011-01-25T12:31:11Z",
            &["date.unknown-local-zone"],
        ),
        (
            "Thu, 6 Oct 2022 12:27:13 +0200 (GMT+02:00)",
            "2022-10-06T10:27:13Z",
            &[],
        ),
        (
            "Thu,  2 Feb 2023 18:08:32 -0500 (EST)",
            "2023-02-02T23:08:32Z",
            &[],
        ),
        (
            "Fri,\n 12 Dec 2025 16:29:29 +0000",
            "2025-12-12T16:29:29Z",
            &[],
        ),
        (
            "2020-06-17 16:39:24.757045452 +0000 UTC m=+349867.495769315",
            "2020-06-17T16:39:24.757045452Z",
            &[],
        ),
        (
            "Mon, 26 Mar 2018 13:35:36.102 +0000 (UTC)",
            "2018-03-26T13:35:36.102Z",
            &[],
        ),
        (
            "Fri Feb 07 10:18:12 2003 -0800",
            "2003-02-07T18:18:12Z",
            &[],
        ),
        ("Fri Sep 14 14:36:56 EDT 2018", "2018-09-14T18:36:56Z", &[]),
        (
            "Sun Nov 13 14:50:12 2005",
            "2005-11-13T14:50:12Z",
            &["date.missing-zone"],
        ),
        ("Apr 21 2018 3:01:05 +0000", "2018-04-21T03:01:05Z", &[]),
        (
            "4/20/2018 11:01:16 PM -0400 (EDT)",
            "2018-04-21T03:01:16Z",
            &[],
        ),
        ("2018-4-20 11:01:08 PM +0000", "2018-04-20T23:01:08Z", &[]),
        ("2018-04-20T23:01:08.5+02:00", "2018-04-20T21:01:08.5Z", &[]),
        (
            "Saturday, 21 Apr 2018 03:01:02 +0000",
            "2018-04-21T03:01:02Z",
            &[],
        ),
        (
            "Thu, 10 Jul 1997 14:53:31 EST5EDT",
            "1997-07-10T19:53:31Z",
            &["date.non-rfc-zone"],
        ),
        (
            "Thu, 10 Jul 1997 14:53:31 ZZZZ",
            "1997-07-10T14:53:31Z",
            &["date.unknown-zone"],
        ),
        (
            "20 11 (some \n 44 comments) 79 05:34:27 -0300",
            "1979-11-20T08:34:27Z",
            &[],
        ),
        (
            "_ Tue, 21 Jul 2009 14:34:14 +0200",
            "2009-07-21T12:34:14Z",
            &[],
        ),
        ("17 May 2026 22:15:15 +1345", "2026-05-17T08:30:15Z", &[]),
        (
            "Tue, \u{c2}\u{f1}, 29 Jan 2023 17:21:28 +0000",
            "2023-01-29T17:21:28Z",
            &["date.weekday-mismatch"],
        ),
        (
            "Wed, 05 Jun 2024 21:44:06 +0000-62495-238",
            "2024-06-05T21:44:06Z",
            &[],
        ),
        (
            "26/08/2002 13:17:44",
            "2002-08-26T13:17:44Z",
            &["date.missing-zone"],
        ),
        ("jue ago 30 13:55:12 2007", "", &["date.locale-date"]),
        ("Tue, 7 Bog 2026 19:14:51 +0000", "", &["date.locale-date"]),
        ("Tue, 7 00 2026 19:14:51 +0000", "", &["date.invalid"]),
        ("31 Feb 2024 10:00:00 +0000", "", &["date.invalid"]),
        ("Mon, 1 Jan 2024 10:00:00 +9900", "", &["date.invalid"]),
        ("22 Apr 2018", "", &["date.unparseable"]),
        (
            " some numbers 0 1 2 but invalid ",
            "",
            &["date.unparseable"],
        ),
        ("", "", &["date.unparseable"]),
    ];

    #[test]
    fn parses_the_table() {
        for &(input, expected, expected_ids) in CASES {
            let parsed = parse_date(input);
            let got = parsed.timestamp.as_ref().map(format_timestamp);
            let want = (!expected.is_empty()).then(|| expected.to_string());
            assert_eq!(got, want, "timestamp of {input:?}");
            assert_eq!(ids(&parsed), expected_ids, "findings of {input:?}");
            assert_eq!(parsed.raw, input.trim());
        }
    }

    #[test]
    fn reports_where_the_date_ends() {
        let text = "Sun, 1 Apr 2018 03:01:53 -0400 (envelope-from <a@example.com>)";
        let (_, range) = parse_date_at(text);
        assert_eq!(&text[range], "Sun, 1 Apr 2018 03:01:53 -0400");
        let text = "Thu, 20 Mar 03 10:06:43 +0100 for <a@example.org>";
        let (parsed, range) = parse_date_at(text);
        assert_eq!(&text[range], "Thu, 20 Mar 03 10:06:43 +0100");
        assert_eq!(parsed.parts.map(|p| p.year), Some(2003));
    }

    #[test]
    fn formats_timestamps() {
        let t = DateTime::parse_from_rfc3339("2020-06-17T16:39:24.757045452Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_timestamp(&t), "2020-06-17T16:39:24.757045452Z");
        let t = DateTime::parse_from_rfc3339("2020-06-17T16:39:24.100Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_timestamp(&t), "2020-06-17T16:39:24.1Z");
        let t = DateTime::parse_from_rfc3339("2020-06-17T16:39:24Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_timestamp(&t), "2020-06-17T16:39:24Z");
    }

    #[test]
    fn long_hostile_input_gives_no_timestamp() {
        let long = "(".repeat(30_000) + &"x ".repeat(30_000);
        for _ in 0..50 {
            assert!(parse_date(&long).timestamp.is_none());
        }
    }
}
