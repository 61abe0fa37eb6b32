//! Authentication-Results (RFC 8601) and ARC-Authentication-Results (RFC 8617 section 4.1.1).
//!
//! The parser is lenient because receivers write many dialects of this field. It first cuts
//! the value into `resinfo` segments at each `;` outside comments and quoted strings, then
//! reads each segment on its own, so one bad token never costs a later result. What it
//! cannot read is kept as raw text and reported as a finding:
//!
//! - Microsoft's form without an authserv-id (the value starts with `method=result`) is read,
//!   with `authserv_id` left empty and `auth.missing-authserv-id` reported.
//! - Vendor result words (`hardfail`, `dkim_pass`, `success`) are normalised to the registry
//!   value, the word as written is kept in `result_raw` and `auth.non-standard-result` is
//!   reported. Case alone is no anomaly: result keywords are case-insensitive.
//! - A property without a ptype (`d=example.com`) is kept in `unparsed_properties` and
//!   reported as `auth.property-without-ptype`. The exception is `action`, which Exchange
//!   Online writes after `dmarc=` (`dmarc=pass action=none`): it is kept as a property whose
//!   key is the bare name and is not reported.
//! - A `reason=` after a property is still the reason, reported as
//!   `auth.reason-after-property`.

use crate::finding::{Finding, Severity};
use serde::Serialize;

/// Bare property names (without a ptype) that a known receiver writes, with the method
/// they follow. Exchange Online Protection writes `dmarc=<result> action=<action>`.
const KNOWN_BARE_PROPERTIES: &[(&str, &str)] = &[("dmarc", "action")];

/// Result values of the IANA "Email Authentication Result Names" registry, over all methods.
const REGISTRY_RESULTS: &[&str] = &[
    "pass",
    "fail",
    "softfail",
    "neutral",
    "none",
    "temperror",
    "permerror",
    "policy",
    "unknown",
    "discard",
    "nxdomain",
];

/// Vendor result words kept as written because no registry value means the same thing.
/// Exchange Online writes `dmarc=bestguesspass` when the domain publishes no DMARC record
/// but the message would have passed one.
const VENDOR_RESULTS: &[&str] = &["bestguesspass"];

/// Vendor spellings of registry results. `hardfail` is the SPF result of RFC 5451, renamed
/// `fail` by RFC 7001.
const RESULT_ALIASES: &[(&str, &str)] = &[
    ("hardfail", "fail"),
    ("failed", "fail"),
    ("failure", "fail"),
    ("success", "pass"),
    ("passed", "pass"),
    ("ok", "pass"),
    ("tempfail", "temperror"),
    ("temp-error", "temperror"),
    ("temp_error", "temperror"),
    ("permfail", "permerror"),
    ("perm-error", "permerror"),
    ("perm_error", "permerror"),
];

/// The parsed value of one Authentication-Results or ARC-Authentication-Results field.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthResults {
    /// Host that performed the checks; absent in Microsoft's form.
    pub authserv_id: Option<String>,
    /// The `authres-version` number after the authserv-id (`mx.example.com 1;`).
    pub version: Option<u32>,
    /// ARC instance (`i=`) of an ARC-Authentication-Results field, when valid.
    pub instance: Option<u32>,
    /// The `i=` value as written, also when it is not a valid instance.
    pub instance_raw: Option<String>,
    /// True when the field reads `none`: the receiver performed no authentication.
    pub no_authentication_performed: bool,
    pub results: Vec<AuthResult>,
    /// Segments that are not `method=result` (for example a property with no method).
    pub unparsed: Vec<String>,
    pub findings: Vec<Finding>,
}

/// One `method=result` statement with its reason, comments and properties.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthResult {
    /// Method name in lower case (`spf`, `dkim`, `dmarc`, `compauth`).
    pub method: String,
    /// Method version (`dkim/1`).
    pub method_version: Option<u32>,
    /// Result normalised to lower case and to the registry value where a vendor alias is known.
    pub result: String,
    /// Result as written, only when it differs from `result`.
    pub result_raw: Option<String>,
    pub reason: Option<String>,
    /// Text of the first comment in the statement, without its parentheses.
    pub comment: Option<String>,
    /// Text of any further comments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_comments: Vec<String>,
    pub properties: Vec<Property>,
    /// Tokens that are not `ptype.property=value`, as written.
    pub unparsed_properties: Vec<String>,
    /// True when this statement carries an anomaly reported in the field's findings.
    pub flagged: bool,
}

/// One `ptype.property=value`; `ptype` is empty for a known bare property such as `action`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Property {
    pub ptype: String,
    pub property: String,
    pub value: String,
}

impl Property {
    /// Returns `ptype.property` (`header.d`), or the bare name when there is no ptype.
    pub fn key(&self) -> String {
        if self.ptype.is_empty() {
            self.property.clone()
        } else {
            format!("{}.{}", self.ptype, self.property)
        }
    }
}

impl AuthResult {
    /// Returns the value of the first property with this key (`header.from`).
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.key().eq_ignore_ascii_case(key))
            .map(|p| p.value.as_str())
    }
}

/// Parses an Authentication-Results field value.
pub fn parse_authentication_results(value: &str) -> AuthResults {
    let split = split_top_level(value, ';');
    let mut issues = Issues::default();
    if split.unterminated {
        issues.add(Issue::Unterminated, value.trim());
    }
    let mut parsed = AuthResults::default();
    parse_segments(&split.segments, &mut parsed, &mut issues);
    parsed.findings = issues.into_findings();
    parsed
}

/// Parses an ARC-Authentication-Results field value: an `i=N;` instance tag, then the
/// Authentication-Results grammar.
pub fn parse_arc_authentication_results(value: &str) -> AuthResults {
    let split = split_top_level(value, ';');
    let mut issues = Issues::default();
    if split.unterminated {
        issues.add(Issue::Unterminated, value.trim());
    }
    let mut parsed = AuthResults::default();
    let first = split.segments.first().copied().unwrap_or("");
    let rest = split.segments.get(1..).unwrap_or(&[]);
    match read_instance_tag(first) {
        Some(tag) => {
            parsed.instance = tag.instance;
            parsed.instance_raw = Some(tag.raw.clone());
            if tag.instance.is_none() || !tag.leftover.is_empty() {
                issues.add(Issue::InvalidArcInstance, format!("i={}", tag.raw));
            }
            // Without the `;` after `i=N`, the authserv-id follows in the same segment.
            let mut segments = Vec::with_capacity(rest.len() + 1);
            if !tag.leftover.is_empty() {
                parsed.instance = None;
                segments.push(tag.leftover);
            }
            segments.extend_from_slice(rest);
            parse_segments(&segments, &mut parsed, &mut issues);
        }
        None => {
            issues.add(Issue::InvalidArcInstance, "no i= tag");
            parse_segments(&split.segments, &mut parsed, &mut issues);
        }
    }
    parsed.findings = issues.into_findings();
    parsed
}

/// Reads the authserv-id segment and then every resinfo segment into `parsed`.
fn parse_segments(segments: &[&str], parsed: &mut AuthResults, issues: &mut Issues) {
    let Some((first, rest)) = segments.split_first() else {
        issues.add(Issue::MissingAuthservId, "empty field");
        return;
    };
    if first.trim().is_empty() {
        issues.add(Issue::MissingAuthservId, "empty authserv-id");
        parse_resinfo_segments(rest, parsed, issues, false);
        return;
    }
    let mut microsoft_form = false;
    let resinfo_from = match read_authserv_segment(first) {
        AuthservSegment::Id {
            id,
            version,
            leftover,
        } => {
            parsed.authserv_id = Some(id);
            parsed.version = version;
            if !leftover.is_empty() {
                issues.add(Issue::MalformedAuthservId, leftover);
            }
            rest
        }
        AuthservSegment::ResInfo => {
            issues.add(Issue::MissingAuthservId, first.trim());
            microsoft_form = true;
            segments
        }
    };
    parse_resinfo_segments(resinfo_from, parsed, issues, microsoft_form);
}

/// Tells whether a segment is a bare domain name (`example.com`). An older id-less form of
/// Exchange Online, seen on mail of 2018, writes the recipient's domain after each
/// statement (`smtp.mailfrom=example.net; example.com; dkim=pass`).
fn is_bare_domain(text: &str) -> bool {
    let host_chars = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    // A known public suffix, so that `dkim.pass` or an address is still reported.
    host_chars
        && psl::domain(text.to_ascii_lowercase().as_bytes()).is_some_and(|d| d.suffix().is_known())
}

/// Reads the `resinfo` segments, or the lone `none` that reports that no check was performed.
/// In Microsoft's id-less form a bare domain between statements is kept in `unparsed`
/// without a finding ([`is_bare_domain`]).
fn parse_resinfo_segments(
    segments: &[&str],
    parsed: &mut AuthResults,
    issues: &mut Issues,
    microsoft_form: bool,
) {
    let mut none_seen = false;
    for segment in segments {
        let text = segment.trim();
        if text.is_empty() {
            continue;
        }
        if text.eq_ignore_ascii_case("none") {
            none_seen = true;
            continue;
        }
        match parse_resinfo(text, issues) {
            Some(result) => parsed.results.push(result),
            None => {
                if !(microsoft_form && is_bare_domain(text)) {
                    issues.add(Issue::MalformedResinfo, text);
                }
                parsed.unparsed.push(text.to_string());
            }
        }
    }

    // RFC 8601 section 2.2: `none` appears alone and means no authentication was performed.
    parsed.no_authentication_performed = none_seen && parsed.results.is_empty();
    if none_seen && !parsed.results.is_empty() {
        issues.add(Issue::MalformedResinfo, "none next to results");
    }
}

/// Content of the first segment of the field.
enum AuthservSegment {
    Id {
        id: String,
        version: Option<u32>,
        leftover: String,
    },
    /// The segment is already `method=result`: Microsoft's form without an authserv-id.
    ResInfo,
}

fn read_authserv_segment(segment: &str) -> AuthservSegment {
    let mut cursor = Cursor::new(segment);
    let mut comments = Vec::new();
    cursor.skip_cfws(&mut comments);

    let id = if cursor.peek() == Some('"') {
        cursor.read_quoted()
    } else {
        let token = cursor.take_while(|c| !is_wsp(c) && c != '(' && c != '"');
        if token.contains('=') {
            return AuthservSegment::ResInfo;
        }
        token.to_string()
    };
    cursor.skip_cfws(&mut comments);
    if matches!(cursor.peek(), Some('=') | Some('/')) {
        return AuthservSegment::ResInfo;
    }

    let digits = cursor.take_while(|c| c.is_ascii_digit());
    let version = digits.parse::<u32>().ok();
    cursor.skip_cfws(&mut comments);
    let mut leftover = cursor.rest().trim().to_string();
    if !digits.is_empty() && version.is_none() {
        leftover = format!("{digits} {leftover}").trim().to_string();
    }
    AuthservSegment::Id {
        id,
        version,
        leftover,
    }
}

/// The `i=` tag that opens an ARC-Authentication-Results field.
struct InstanceTag<'a> {
    instance: Option<u32>,
    raw: String,
    /// Text after the tag in the same segment, when the `;` after it is missing.
    leftover: &'a str,
}

fn read_instance_tag(segment: &str) -> Option<InstanceTag<'_>> {
    let mut cursor = Cursor::new(segment);
    let mut comments = Vec::new();
    cursor.skip_cfws(&mut comments);
    // RFC 8617 section 4.1.1 spells the tag `%s"i"`: lower case only.
    if !cursor.eat('i') {
        return None;
    }
    cursor.skip_cfws(&mut comments);
    if !cursor.eat('=') {
        return None;
    }
    cursor.skip_cfws(&mut comments);
    let raw = cursor.take_while(|c| !is_wsp(c) && c != '(');
    cursor.skip_cfws(&mut comments);
    Some(InstanceTag {
        instance: parse_instance(raw),
        raw: raw.to_string(),
        leftover: cursor.rest(),
    })
}

/// Parses an ARC instance number: decimal digits, at least 1. RFC 8617 caps a chain at 50
/// instances; larger numbers are returned so that the chain check can report them.
pub fn parse_instance(raw: &str) -> Option<u32> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u32>().ok().filter(|&n| n >= 1)
}

/// Parses one `methodspec [reasonspec] *propspec` segment; `None` when it does not start
/// with `method=result`.
fn parse_resinfo(segment: &str, issues: &mut Issues) -> Option<AuthResult> {
    let mut cursor = Cursor::new(segment);
    let mut comments = Vec::new();
    let mut result = read_methodspec(&mut cursor, &mut comments)?;
    normalise_into(&mut result, issues);

    let mut seen_property = false;
    loop {
        cursor.skip_cfws(&mut comments);
        if cursor.at_end() {
            break;
        }
        read_resinfo_item(
            &mut cursor,
            &mut comments,
            &mut result,
            &mut seen_property,
            issues,
        );
    }

    let mut comments = comments.into_iter();
    result.comment = comments.next();
    result.other_comments = comments.collect();
    if cursor.unterminated {
        result.flagged = true;
    }
    Some(result)
}

/// Reads `method [/ version] = result` (RFC 8601 section 2.2).
fn read_methodspec(cursor: &mut Cursor<'_>, comments: &mut Vec<String>) -> Option<AuthResult> {
    cursor.skip_cfws(comments);
    let method = cursor.take_while(is_keyword_char);
    if method.is_empty() {
        return None;
    }
    cursor.skip_cfws(comments);

    let mut method_version = None;
    if cursor.eat('/') {
        cursor.skip_cfws(comments);
        method_version = cursor
            .take_while(|c| c.is_ascii_digit())
            .parse::<u32>()
            .ok();
        cursor.skip_cfws(comments);
    }
    if !cursor.eat('=') {
        return None;
    }
    cursor.skip_cfws(comments);
    let result = cursor.take_while(|c| !is_wsp(c) && c != '(' && c != '"');
    if result.is_empty() {
        return None;
    }
    Some(AuthResult {
        method: method.to_ascii_lowercase(),
        method_version,
        result: result.to_string(),
        ..AuthResult::default()
    })
}

/// Reads one reason, property or stray token after the methodspec.
fn read_resinfo_item(
    cursor: &mut Cursor<'_>,
    comments: &mut Vec<String>,
    result: &mut AuthResult,
    seen_property: &mut bool,
    issues: &mut Issues,
) {
    let start = cursor.pos;
    if cursor.peek() == Some('"') {
        cursor.read_quoted();
        keep_stray_token(cursor.slice(start, cursor.pos), result, issues);
        return;
    }
    let key = read_property_key(cursor, comments);
    if key.is_empty() {
        // A stray `=` or `)`: keep the token up to the next space and go on after it.
        cursor.take_while(|c| !is_wsp(c) && c != '(');
        if cursor.pos == start {
            cursor.advance_char();
        }
        keep_stray_token(cursor.slice(start, cursor.pos), result, issues);
        return;
    }
    let after_key = cursor.pos;
    cursor.skip_cfws(comments);
    if !cursor.eat('=') {
        keep_stray_token(cursor.slice(start, after_key), result, issues);
        return;
    }
    cursor.skip_cfws(comments);
    let value = cursor.read_value();
    let written = cursor.slice(start, cursor.pos).trim().to_string();
    store_item(&key, value, written, result, seen_property, issues);
}

fn keep_stray_token(token: &str, result: &mut AuthResult, issues: &mut Issues) {
    let token = token.trim().to_string();
    issues.add(Issue::MalformedProperty, token.clone());
    result.unparsed_properties.push(token);
    result.flagged = true;
}

/// Reads `ptype.property`, allowing CFWS around the dot (RFC 8601 section 2.2).
fn read_property_key(cursor: &mut Cursor<'_>, comments: &mut Vec<String>) -> String {
    let is_key_char = |c: char| !is_wsp(c) && c != '=' && c != '(' && c != '"';
    let mut key = cursor.take_while(is_key_char).to_string();
    if key.is_empty() {
        return key;
    }
    let after_key = cursor.pos;
    let mut probe = Vec::new();
    cursor.skip_cfws(&mut probe);
    if key.ends_with('.') || cursor.peek() == Some('.') {
        if !key.ends_with('.') {
            cursor.eat('.');
            key.push('.');
        }
        cursor.skip_cfws(&mut probe);
        key.push_str(cursor.take_while(is_key_char));
        comments.append(&mut probe);
    } else {
        cursor.pos = after_key;
    }
    key
}

/// Files a `key=value` item as the reason, a property or an unparsed token.
fn store_item(
    key: &str,
    value: String,
    written: String,
    result: &mut AuthResult,
    seen_property: &mut bool,
    issues: &mut Issues,
) {
    if key.eq_ignore_ascii_case("reason") && result.reason.is_none() {
        if *seen_property {
            issues.add(Issue::ReasonAfterProperty, written);
            result.flagged = true;
        }
        result.reason = Some(value);
        return;
    }

    if let Some((ptype, property)) = key.split_once('.') {
        if ptype.is_empty() || property.is_empty() {
            issues.add(Issue::MalformedProperty, written.clone());
            result.unparsed_properties.push(written);
            result.flagged = true;
            return;
        }
        result.properties.push(Property {
            ptype: ptype.to_ascii_lowercase(),
            property: property.to_ascii_lowercase(),
            value,
        });
        *seen_property = true;
        return;
    }

    let name = key.to_ascii_lowercase();
    let known = KNOWN_BARE_PROPERTIES
        .iter()
        .any(|&(method, bare)| method == result.method && bare == name);
    if known {
        result.properties.push(Property {
            ptype: String::new(),
            property: name,
            value,
        });
        *seen_property = true;
    } else {
        let issue = if name == "reason" {
            Issue::MalformedProperty
        } else {
            Issue::PropertyWithoutPtype
        };
        issues.add(issue, written.clone());
        result.unparsed_properties.push(written);
        result.flagged = true;
    }
}

/// Normalises `result.result` in place, keeping the word as written when it changes.
fn normalise_into(result: &mut AuthResult, issues: &mut Issues) {
    let raw = std::mem::take(&mut result.result);
    let (normalised, standard) = normalise_result(&result.method, &raw);
    if !standard {
        issues.add(
            Issue::NonStandardResult,
            format!("{}={raw} read as {normalised}", result.method),
        );
        result.flagged = true;
    }
    if normalised != raw {
        result.result_raw = Some(raw);
    }
    result.result = normalised;
}

/// Returns the normalised result and whether the word was a registry or known vendor value
/// (ignoring case).
pub fn normalise_result(method: &str, raw: &str) -> (String, bool) {
    let lower = raw.to_ascii_lowercase();
    if REGISTRY_RESULTS.contains(&lower.as_str()) || VENDOR_RESULTS.contains(&lower.as_str()) {
        return (lower, true);
    }
    // `dkim_pass`, `spf-fail`: the method repeated before the result.
    let unprefixed = lower
        .strip_prefix(method)
        .and_then(|rest| rest.strip_prefix(['_', '-']))
        .unwrap_or(&lower);
    if REGISTRY_RESULTS.contains(&unprefixed) {
        return (unprefixed.to_string(), false);
    }
    match RESULT_ALIASES
        .iter()
        .find(|(alias, _)| *alias == unprefixed)
    {
        Some((_, standard)) => (standard.to_string(), false),
        None => (lower, false),
    }
}

fn is_keyword_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Tells whether `c` is whitespace inside a header value (folding may leave CR and LF).
pub(crate) fn is_wsp(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A value split at a separator that lies outside comments and quoted strings.
pub(crate) struct TopLevelSplit<'a> {
    pub(crate) segments: Vec<&'a str>,
    /// True when a comment or quoted string was never closed; the text from its opening
    /// character on was then split as plain text.
    pub(crate) unterminated: bool,
}

/// Splits `text` at each `separator` outside comments (nested, with a depth counter) and
/// quoted strings. When a comment or quote never closes, the text is split again treating
/// everything from that opening character on as plain text, so at most two passes run.
pub(crate) fn split_top_level(text: &str, separator: char) -> TopLevelSplit<'_> {
    match scan_segments(text, separator, text.len()) {
        Ok(segments) => TopLevelSplit {
            segments,
            unterminated: false,
        },
        Err(open_at) => TopLevelSplit {
            segments: scan_segments(text, separator, open_at).unwrap_or_default(),
            unterminated: true,
        },
    }
}

/// Splits `text`, reading comments and quotes only before byte `plain_from`. Returns the
/// position of the opening character when a comment or quote is still open at the end.
fn scan_segments(text: &str, separator: char, plain_from: usize) -> Result<Vec<&str>, usize> {
    let mut segments = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut in_quote = false;
    let mut escaped = false;
    let mut opened_at = 0;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quote {
            match c {
                '\\' => escaped = true,
                '"' => in_quote = false,
                _ => {}
            }
        } else if depth > 0 {
            match c {
                '\\' => escaped = true,
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
        } else if c == separator {
            segments.push(text.get(start..i).unwrap_or(""));
            start = i + c.len_utf8();
        } else if i < plain_from && c == '"' {
            in_quote = true;
            opened_at = i;
        } else if i < plain_from && c == '(' {
            depth = 1;
            opened_at = i;
        }
    }
    if in_quote || depth > 0 {
        return Err(opened_at);
    }
    segments.push(text.get(start..).unwrap_or(""));
    Ok(segments)
}

/// A position in a header value with the RFC 5322 lexical readers (CFWS, comments,
/// quoted strings). Positions always fall on character boundaries.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    pub(crate) pos: usize,
    /// Set when a comment or quoted string ran to the end of the text.
    pub(crate) unterminated: bool,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            text,
            pos: 0,
            unterminated: false,
        }
    }

    pub(crate) fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or("")
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    pub(crate) fn advance_char(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    /// Consumes `expected` when it is the next character.
    pub(crate) fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.pos += expected.len_utf8();
            true
        } else {
            false
        }
    }

    /// Consumes characters while `accept` returns true and returns them.
    pub(crate) fn take_while(&mut self, accept: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c: char| !accept(c)).unwrap_or(rest.len());
        self.pos += len;
        rest.get(..len).unwrap_or("")
    }

    /// Skips whitespace and comments, appending the text of each comment to `comments`.
    pub(crate) fn skip_cfws(&mut self, comments: &mut Vec<String>) {
        loop {
            self.take_while(is_wsp);
            if self.peek() != Some('(') {
                return;
            }
            let comment = self.read_comment();
            comments.push(comment);
        }
    }

    /// Reads a comment starting at `(` and returns its text without the outer parentheses;
    /// nested comments stay in the text. Nesting is tracked with a counter, not recursion.
    pub(crate) fn read_comment(&mut self) -> String {
        let start = self.pos + 1;
        let mut depth = 0usize;
        let mut escaped = false;
        for (offset, c) in self.rest().char_indices() {
            if escaped {
                escaped = false;
                continue;
            }
            match c {
                '\\' => escaped = true,
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        let end = self.pos + offset;
                        self.pos = end + 1;
                        return self.slice(start, end).trim().to_string();
                    }
                }
                _ => {}
            }
        }
        self.unterminated = true;
        let text = self.slice(start, self.text.len()).trim().to_string();
        self.pos = self.text.len();
        text
    }

    /// Reads a quoted string starting at `"` and returns its content with quoted-pairs
    /// resolved.
    pub(crate) fn read_quoted(&mut self) -> String {
        let mut out = String::new();
        let mut escaped = false;
        for (offset, c) in self.rest().char_indices().skip(1) {
            if escaped {
                out.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                self.pos += offset + 1;
                return out;
            } else {
                out.push(c);
            }
        }
        self.unterminated = true;
        self.pos = self.text.len();
        out
    }

    /// Reads a property or tag value: a quoted string, or text up to whitespace, a comment
    /// or a quote. The text may hold `=`, `/` and `@`, as addresses and base64 do.
    pub(crate) fn read_value(&mut self) -> String {
        if self.peek() == Some('"') {
            return self.read_quoted();
        }
        self.take_while(|c| !is_wsp(c) && c != '(' && c != '"')
            .to_string()
    }
}

/// Kinds of anomaly this parser reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Issue {
    MissingAuthservId,
    MalformedAuthservId,
    NonStandardResult,
    PropertyWithoutPtype,
    ReasonAfterProperty,
    MalformedProperty,
    MalformedResinfo,
    Unterminated,
    InvalidArcInstance,
}

impl Issue {
    fn id(self) -> &'static str {
        match self {
            Issue::MissingAuthservId => "auth.missing-authserv-id",
            Issue::MalformedAuthservId => "auth.malformed-authserv-id",
            Issue::NonStandardResult => "auth.non-standard-result",
            Issue::PropertyWithoutPtype => "auth.property-without-ptype",
            Issue::ReasonAfterProperty => "auth.reason-after-property",
            Issue::MalformedProperty => "auth.malformed-property",
            Issue::MalformedResinfo => "auth.malformed-resinfo",
            Issue::Unterminated => "auth.unterminated-comment",
            Issue::InvalidArcInstance => "auth.arc-invalid-instance",
        }
    }

    fn severity(self) -> Severity {
        match self {
            Issue::MissingAuthservId | Issue::InvalidArcInstance => Severity::Medium,
            Issue::ReasonAfterProperty => Severity::Info,
            _ => Severity::Low,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Issue::MissingAuthservId => "Authentication results without an authserv-id",
            Issue::MalformedAuthservId => "Unexpected text after the authserv-id",
            Issue::NonStandardResult => "Authentication result outside the registry",
            Issue::PropertyWithoutPtype => "Authentication property without a ptype",
            Issue::ReasonAfterProperty => "Authentication reason written after a property",
            Issue::MalformedProperty => "Unreadable token in an authentication result",
            Issue::MalformedResinfo => "Authentication statement that is not method=result",
            Issue::Unterminated => "Unclosed comment or quoted string in authentication results",
            Issue::InvalidArcInstance => "ARC-Authentication-Results without a valid instance",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Issue::MissingAuthservId => {
                "The field does not name the host that performed the checks (RFC 8601 section 2.2), so nothing ties it to the recipient's systems. Exchange Online writes this form."
            }
            Issue::MalformedAuthservId => {
                "Only an optional version number may follow the authserv-id before the first `;`."
            }
            Issue::NonStandardResult => {
                "A result word is not in the IANA registry of result names; it was normalised where its meaning is known and kept as written."
            }
            Issue::PropertyWithoutPtype => {
                "A property lacks its `ptype.` prefix (such as `header.` or `smtp.`), so what it describes is unknown; it was kept unparsed."
            }
            Issue::ReasonAfterProperty => {
                "RFC 8601 places `reason=` before the properties; it was read as the reason anyway."
            }
            Issue::MalformedProperty => {
                "A token after the result is not `ptype.property=value`; it was kept unparsed."
            }
            Issue::MalformedResinfo => {
                "A `;`-separated statement does not start with `method=result`; it was kept unparsed."
            }
            Issue::Unterminated => {
                "A comment or quoted string is never closed; the rest of the field was read as plain text."
            }
            Issue::InvalidArcInstance => {
                "RFC 8617 section 4.1.1 requires the field to open with `i=N;`, N a number from 1 to 50; this field cannot be assigned to an ARC set."
            }
        }
    }
}

/// Anomalies seen while parsing one field, reported as one finding per kind.
#[derive(Default)]
struct Issues {
    seen: Vec<(Issue, Vec<String>)>,
}

impl Issues {
    fn add(&mut self, issue: Issue, token: impl Into<String>) {
        let token = clip(token.into());
        match self.seen.iter_mut().find(|(kind, _)| *kind == issue) {
            Some((_, tokens)) => tokens.push(token),
            None => self.seen.push((issue, vec![token])),
        }
    }

    fn into_findings(self) -> Vec<Finding> {
        self.seen
            .into_iter()
            .map(|(issue, tokens)| {
                let detail = format!("{} Seen: {}.", issue.explanation(), quote_list(&tokens));
                Finding::new(issue.id(), issue.severity(), issue.title(), detail)
            })
            .collect()
    }
}

/// Quotes the first ten tokens for a finding's detail, clipped, and counts the rest.
pub(crate) fn quote_list(tokens: &[String]) -> String {
    const MAX_TOKENS: usize = 10;
    let mut quoted: Vec<String> = tokens
        .iter()
        .take(MAX_TOKENS)
        .map(|t| format!("`{}`", clip(t.clone())))
        .collect();
    if tokens.len() > MAX_TOKENS {
        quoted.push(format!("and {} more", tokens.len() - MAX_TOKENS));
    }
    quoted.join(", ")
}

/// Shortens a token quoted in a finding to at most 200 characters.
pub(crate) fn clip(text: String) -> String {
    const MAX_CHARS: usize = 200;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or("")),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(parsed: &AuthResults) -> Vec<&str> {
        parsed.findings.iter().map(|f| f.id.as_str()).collect()
    }

    fn summary(parsed: &AuthResults) -> Vec<String> {
        parsed
            .results
            .iter()
            .map(|r| format!("{}={}", r.method, r.result))
            .collect()
    }

    #[test]
    fn results_table() {
        let cases: &[(&str, Option<&str>, &[&str])] = &[
            (
                "mx.example.org; spf=pass",
                Some("mx.example.org"),
                &["spf=pass"],
            ),
            (
                "mx.example.org; dkim=pass (a; b) header.d=example.com; dkim-atps=neutral",
                Some("mx.example.org"),
                &["dkim=pass", "dkim-atps=neutral"],
            ),
            (
                "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.org;dmarc=pass action=none header.from=example.org",
                None,
                &["spf=pass", "dmarc=pass"],
            ),
            ("mx.example.org; none", Some("mx.example.org"), &[]),
            (
                "mx.example.org 1; arc=none",
                Some("mx.example.org"),
                &["arc=none"],
            ),
            (
                "\"quoted.example\"; spf=fail",
                Some("quoted.example"),
                &["spf=fail"],
            ),
            (
                "mx.example.org; dmarc=success(p=REJECT)",
                Some("mx.example.org"),
                &["dmarc=pass"],
            ),
            (
                "mx.example.org; spf=Pass;",
                Some("mx.example.org"),
                &["spf=pass"],
            ),
            (
                "mx.example.org; dkim/1=pass",
                Some("mx.example.org"),
                &["dkim=pass"],
            ),
            (
                "mx.example.org; ;; spf = neutral",
                Some("mx.example.org"),
                &["spf=neutral"],
            ),
            ("", None, &[]),
        ];
        for (input, authserv, results) in cases {
            let parsed = parse_authentication_results(input);
            assert_eq!(
                parsed.authserv_id.as_deref(),
                *authserv,
                "authserv-id of {input:?}"
            );
            assert_eq!(summary(&parsed), *results, "results of {input:?}");
        }
    }

    #[test]
    fn result_normalisation_table() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("spf", "pass", "pass", true),
            ("spf", "Pass", "pass", true),
            ("dkim", "hardfail", "fail", false),
            ("dkim", "dkim_pass", "pass", false),
            ("spf", "spf-fail", "fail", false),
            ("dmarc", "success", "pass", false),
            ("dmarc", "bestguesspass", "bestguesspass", true),
            ("dkim", "TempFail", "temperror", false),
            ("x-custom", "weird", "weird", false),
            ("dkim-adsp", "nxdomain", "nxdomain", true),
        ];
        for (method, raw, expected, standard) in cases {
            assert_eq!(
                normalise_result(method, raw),
                (expected.to_string(), *standard),
                "{method}={raw}"
            );
        }
    }

    #[test]
    fn comment_with_semicolon_stays_in_result() {
        let parsed = parse_authentication_results(
            "mx.example.org; dkim=pass (1024-bit key; unprotected) header.d=example.com header.b=AbCd",
        );
        assert_eq!(parsed.results.len(), 1);
        let result = &parsed.results[0];
        assert_eq!(result.comment.as_deref(), Some("1024-bit key; unprotected"));
        assert_eq!(result.property("header.d"), Some("example.com"));
        assert_eq!(result.property("header.b"), Some("AbCd"));
    }

    #[test]
    fn nested_comment_kept_whole() {
        let parsed = parse_authentication_results(
            "mx.example.org; arc=fail (1 set(s)) smtp.remote-ip=192.0.2.1",
        );
        let result = &parsed.results[0];
        assert_eq!(result.comment.as_deref(), Some("1 set(s)"));
        assert_eq!(result.property("smtp.remote-ip"), Some("192.0.2.1"));
    }

    #[test]
    fn quoted_reason_keeps_separators() {
        let parsed = parse_authentication_results(
            "mx.example.org; dkim=pass reason=\"Original-From: transformed; ok\" header.d=example.net; dmarc=pass",
        );
        assert_eq!(parsed.results.len(), 2);
        assert_eq!(
            parsed.results[0].reason.as_deref(),
            Some("Original-From: transformed; ok")
        );
        assert!(!parsed.results[0].flagged);
    }

    #[test]
    fn reason_with_cfws_around_equals() {
        let parsed = parse_authentication_results(
            "mx.example.org 2; spf=fail reason (note) = \"a (<>.%&! reason\" smtp.mailfrom=example.org",
        );
        assert_eq!(parsed.version, Some(2));
        let result = &parsed.results[0];
        assert_eq!(result.reason.as_deref(), Some("a (<>.%&! reason"));
        assert_eq!(result.property("smtp.mailfrom"), Some("example.org"));
        assert_eq!(result.comment.as_deref(), Some("note"));
    }

    #[test]
    fn quoted_pair_in_property_value() {
        let parsed = parse_authentication_results(
            r#"mx.example.org; dkim=fail header.i=" a \"b\"@example.com" header.b=x"#,
        );
        assert_eq!(
            parsed.results[0].property("header.i"),
            Some(" a \"b\"@example.com")
        );
        assert_eq!(parsed.results[0].property("header.b"), Some("x"));
    }

    #[test]
    fn property_without_ptype_flagged() {
        let parsed =
            parse_authentication_results("mx.example.org; dmarc=pass (p=none) d=example.com");
        let result = &parsed.results[0];
        assert_eq!(result.unparsed_properties, vec!["d=example.com"]);
        assert!(result.flagged);
        assert_eq!(ids(&parsed), vec!["auth.property-without-ptype"]);
    }

    #[test]
    fn microsoft_action_is_a_property() {
        let parsed = parse_authentication_results(
            "spf=pass smtp.mailfrom=example.org;dmarc=pass action=none header.from=example.org",
        );
        let dmarc = &parsed.results[1];
        assert_eq!(dmarc.property("action"), Some("none"));
        assert_eq!(dmarc.property("header.from"), Some("example.org"));
        assert!(!dmarc.flagged);
        assert_eq!(ids(&parsed), vec!["auth.missing-authserv-id"]);
    }

    #[test]
    fn reason_after_property_flagged() {
        let parsed = parse_authentication_results(
            "mx.example.org; iprev=fail policy.iprev=192.0.2.5 reason=\"does not match\" (MAIL x)",
        );
        let result = &parsed.results[0];
        assert_eq!(result.reason.as_deref(), Some("does not match"));
        assert_eq!(result.comment.as_deref(), Some("MAIL x"));
        assert!(result.flagged);
        assert_eq!(ids(&parsed), vec!["auth.reason-after-property"]);
    }

    #[test]
    fn vendor_result_flagged_and_raw_kept() {
        let parsed =
            parse_authentication_results("mx.example.org; dkim=hardfail header.i=@example.com");
        let result = &parsed.results[0];
        assert_eq!(result.result, "fail");
        assert_eq!(result.result_raw.as_deref(), Some("hardfail"));
        assert!(result.flagged);
        assert_eq!(ids(&parsed), vec!["auth.non-standard-result"]);
    }

    /// An older id-less form of Exchange Online names the recipient's domain after each
    /// statement. With an authserv-id the same segment is still malformed.
    #[test]
    fn exchange_recipient_domain_segment_allowed() {
        let parsed = parse_authentication_results(
            "spf=pass (sender IP is 192.0.2.7) smtp.mailfrom=example.net; example.com; dkim=pass (signature was verified) header.d=example.net;example.com; dmarc=pass action=none header.from=example.net;",
        );
        let methods: Vec<&str> = parsed.results.iter().map(|r| r.method.as_str()).collect();
        assert_eq!(methods, ["spf", "dkim", "dmarc"]);
        assert_eq!(parsed.unparsed, ["example.com", "example.com"]);
        assert_eq!(ids(&parsed), ["auth.missing-authserv-id"]);

        let parsed = parse_authentication_results(
            "mx.example.org; spf=pass smtp.mailfrom=example.net; example.com",
        );
        assert_eq!(ids(&parsed), ["auth.malformed-resinfo"]);

        // Other segments without `=` are still malformed in the id-less form.
        for segment in ["dkim.pass", "192.0.2.7"] {
            let parsed = parse_authentication_results(&format!(
                "spf=pass smtp.mailfrom=example.net; {segment}; dkim=pass header.d=example.net"
            ));
            assert!(
                ids(&parsed).contains(&"auth.malformed-resinfo"),
                "{segment}"
            );
        }
    }

    #[test]
    fn capitalised_result_not_flagged() {
        let parsed =
            parse_authentication_results("mx.example.org; spf=None smtp.helo=mx.example.com");
        let result = &parsed.results[0];
        assert_eq!(result.result, "none");
        assert_eq!(result.result_raw.as_deref(), Some("None"));
        assert!(!result.flagged);
        assert!(parsed.findings.is_empty());
    }

    #[test]
    fn none_means_no_authentication() {
        let parsed = parse_authentication_results("mx.example.org; none");
        assert!(parsed.no_authentication_performed);
        assert!(parsed.results.is_empty());
        assert!(parsed.findings.is_empty());
    }

    #[test]
    fn property_without_method_kept_unparsed() {
        let parsed = parse_authentication_results(
            "mx.example.org; header.From=a@example.com; dkim=pass (verified; )",
        );
        assert_eq!(summary(&parsed), vec!["dkim=pass"]);
        assert_eq!(parsed.unparsed, vec!["header.From=a@example.com"]);
        assert_eq!(ids(&parsed), vec!["auth.malformed-resinfo"]);
    }

    #[test]
    fn empty_property_value_kept() {
        let parsed = parse_authentication_results(
            "spf=none smtp.helo=x;dmarc=none action=none header.from=;",
        );
        assert_eq!(parsed.results[1].property("header.from"), Some(""));
    }

    #[test]
    fn unterminated_comment_keeps_later_results() {
        let parsed = parse_authentication_results(
            "mx.example.org; spf=pass (open; dkim=pass header.d=example.com",
        );
        assert_eq!(summary(&parsed), vec!["spf=pass", "dkim=pass"]);
        assert!(ids(&parsed).contains(&"auth.unterminated-comment"));
    }

    #[test]
    fn unterminated_quote_keeps_later_results() {
        let parsed =
            parse_authentication_results("mx.example.org; spf=pass reason=\"open; dkim=fail");
        assert_eq!(summary(&parsed), vec!["spf=pass", "dkim=fail"]);
    }

    #[test]
    fn stray_tokens_kept() {
        let parsed = parse_authentication_results(
            "mx.example.org; spf=pass junk ) smtp.mailfrom=a@example.com",
        );
        let result = &parsed.results[0];
        assert_eq!(result.unparsed_properties, vec!["junk", ")"]);
        assert_eq!(result.property("smtp.mailfrom"), Some("a@example.com"));
    }

    #[test]
    fn cfws_around_property_dot() {
        let parsed =
            parse_authentication_results("mx.example.org; spf=pass smtp . mailfrom=a@example.com");
        assert_eq!(
            parsed.results[0].property("smtp.mailfrom"),
            Some("a@example.com")
        );
    }

    #[test]
    fn arc_instance_table() {
        // (input, instance, raw instance, authserv-id, flagged as invalid)
        type Case = (
            &'static str,
            Option<u32>,
            Option<&'static str>,
            Option<&'static str>,
            bool,
        );
        let cases: &[Case] = &[
            (
                "i=1; mx.example.com 1; spf=pass",
                Some(1),
                Some("1"),
                Some("mx.example.com"),
                false,
            ),
            (
                "i=undefined; mx.example.org; dkim=none",
                None,
                Some("undefined"),
                Some("mx.example.org"),
                true,
            ),
            (
                "i=0; mx.example.org; dkim=none",
                None,
                Some("0"),
                Some("mx.example.org"),
                true,
            ),
            (
                "i=; mx.example.org; dkim=none",
                None,
                Some(""),
                Some("mx.example.org"),
                true,
            ),
            (
                "mx.example.org; dkim=none",
                None,
                None,
                Some("mx.example.org"),
                true,
            ),
            (
                "mx.example.org; i=1; dkim=none",
                None,
                None,
                Some("mx.example.org"),
                true,
            ),
            (
                "i=1 mx.example.org; dkim=none",
                None,
                Some("1"),
                Some("mx.example.org"),
                true,
            ),
            (
                "i = 2 ; mx.example.org; dkim=none",
                Some(2),
                Some("2"),
                Some("mx.example.org"),
                false,
            ),
        ];
        for (input, instance, raw, authserv, flagged) in cases {
            let parsed = parse_arc_authentication_results(input);
            assert_eq!(parsed.instance, *instance, "instance of {input:?}");
            assert_eq!(
                parsed.instance_raw.as_deref(),
                *raw,
                "raw instance of {input:?}"
            );
            assert_eq!(
                parsed.authserv_id.as_deref(),
                *authserv,
                "authserv-id of {input:?}"
            );
            assert_eq!(
                ids(&parsed).contains(&"auth.arc-invalid-instance"),
                *flagged,
                "flag of {input:?}"
            );
        }
    }

    #[test]
    fn arc_results_counted() {
        let parsed = parse_arc_authentication_results(
            "i=1; mx.example.com 1; spf=pass smtp.mailfrom=example.org; dmarc=pass action=none header.from=example.org; dkim=pass header.d=example.org; arc=none",
        );
        assert_eq!(parsed.version, Some(1));
        assert_eq!(
            summary(&parsed),
            vec!["spf=pass", "dmarc=pass", "dkim=pass", "arc=none"]
        );
    }

    #[test]
    fn split_table() {
        let cases: &[(&str, &[&str], bool)] = &[
            ("a;b", &["a", "b"], false),
            ("a (x;y) ;b", &["a (x;y) ", "b"], false),
            ("a \"x;y\";b", &["a \"x;y\"", "b"], false),
            ("a ((x);y);b", &["a ((x);y)", "b"], false),
            ("a (x\\);y);b", &["a (x\\);y)", "b"], false),
            ("a (x;b", &["a (x", "b"], true),
            ("a \"x;b", &["a \"x", "b"], true),
            ("é;ü", &["é", "ü"], false),
        ];
        for (input, expected, unterminated) in cases {
            let split = split_top_level(input, ';');
            assert_eq!(split.segments, *expected, "segments of {input:?}");
            assert_eq!(
                split.unterminated, *unterminated,
                "unterminated of {input:?}"
            );
        }
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let inputs = [
            "(".repeat(10_000),
            ")".repeat(10_000),
            "\"".repeat(9_999),
            "a=".repeat(5_000),
            ";".repeat(10_000),
            "é(ü\\".to_string(),
            "x; spf=pass \\".to_string(),
            "x; =; ==; .=; a.=b; .b=c".to_string(),
        ];
        for input in inputs {
            let _ = parse_authentication_results(&input);
            let _ = parse_arc_authentication_results(&input);
        }
    }
}
