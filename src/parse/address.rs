//! RFC 5322 address lists (From, Sender, Reply-To, To, Cc and friends), read leniently.
//!
//! The parser tokenises first and decodes RFC 2047 encoded-words afterwards, only in display
//! names and comments, so a decoded `<`, `>` or `@` can never form an address (RFC 2047
//! section 5). The domain after the last `@` of the real addr-spec is the domain DMARC uses,
//! even when a quoted local part or a display name imitates another address. Both tricks
//! are reported as findings. Group syntax, obsolete routes, missing angle brackets, comments
//! and 8-bit (SMTPUTF8) addresses are accepted. Local parts and domains are kept as written.
//! The parser has no recursion and runs in time linear in the length of the value.

use crate::finding::{Finding, Severity};
use crate::parse::encoded_word::{decode_unstructured, is_encoded_word};
use crate::report::escape::quoted;
use serde::Serialize;
use std::borrow::Cow;

/// One mailbox of an address list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mailbox {
    /// Display name with encoded-words decoded.
    pub display: Option<String>,
    /// Display name as written, without comments, whitespace runs shown as one space.
    pub display_raw: Option<String>,
    /// Local part as written, quotes and escapes kept.
    pub local_part: String,
    /// Domain as written (an IDN stays in Unicode, a domain literal keeps its brackets).
    pub domain: Option<String>,
    /// `local_part@domain`, or the local part alone when there is no domain.
    pub address: String,
    /// Comments of the mailbox without their parentheses, encoded-words decoded.
    pub comments: Vec<String>,
    /// Name of the group (RFC 5322 section 3.4) the mailbox belongs to, decoded.
    pub group: Option<String>,
    /// Obsolete source route (`@a.example,@b.example`) of the angle address.
    pub route: Option<String>,
}

impl Mailbox {
    /// Returns the domain in lower case without a trailing dot, for comparisons.
    pub fn domain_lower(&self) -> Option<String> {
        self.domain
            .as_ref()
            .map(|domain| domain.trim_end_matches('.').to_lowercase())
    }
}

/// Default maximum number of mailboxes read from one address list field.
pub const DEFAULT_MAX_MAILBOXES: usize = 1_000;

/// Most tokens (words, specials, quoted strings, comments) read for one entry of an address
/// list. A real mailbox has a few dozen; the cap bounds the memory of an entry of millions of
/// words without a comma.
pub const MAX_ENTRY_TOKENS: usize = 10_000;

/// Entries without an address kept to put in front of the next mailbox's display name.
const MAX_SPLIT_PARTS: usize = 16;

/// The mailboxes of an address list field and the findings the parser recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddressList {
    pub mailboxes: Vec<Mailbox>,
    /// The field has more mailboxes than the limit: parsing stopped at the first one over
    /// it, so `mailboxes` holds only the first ones and the rest of the value was not read.
    pub limit_reached: bool,
    /// Parsing stopped because one entry has more than [`MAX_ENTRY_TOKENS`] tokens, so that
    /// entry and the rest of the value were not read. `limit_reached` is set too.
    pub entry_too_long: bool,
    /// The whole value with encoded-words decoded, set when no mailbox could be read, so
    /// that what a mail client would show can still be displayed.
    pub decoded_text: Option<String>,
    /// The value breaks the address-list grammar in a way the parser had to skip over.
    pub invalid: bool,
    pub findings: Vec<Finding>,
}

/// Parses an address list field value (unfolded or folded).
///
/// A value that contains no mailbox at all, such as `;;;;`, gives an empty list with
/// `invalid` set and a `header.invalid-address-list` finding. An empty group
/// (`undisclosed-recipients:;`) gives an empty list that is valid. At most
/// [`DEFAULT_MAX_MAILBOXES`] mailboxes are read.
pub fn parse_address_list(value: &str) -> AddressList {
    parse_address_list_with_limit(value, DEFAULT_MAX_MAILBOXES)
}

/// Parses an address list field value, reading at most `max_mailboxes` mailboxes.
///
/// Tokens are read one entry at a time, so memory grows with the mailboxes kept and the
/// longest entry, not with the whole value. When the value contains more mailboxes,
/// parsing stops at the first one over the limit, `limit_reached` is set and no grammar
/// fault after that point is reported.
pub fn parse_address_list_with_limit(value: &str, max_mailboxes: usize) -> AddressList {
    let mut tokens = Tokenizer::new(value);
    let mut parser = ListParser::new(max_mailboxes);
    while !parser.limit_reached
        && let Some(token) = tokens.next_token(&mut parser.problems)
    {
        parser.feed(token);
    }
    parser.finish(value)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Atom,
    Quoted,
    Comment,
    DomainLiteral,
    Special(u8),
}

#[derive(Debug, Clone)]
struct Token<'a> {
    kind: Kind,
    /// The token as written.
    raw: &'a str,
    /// Content of a quoted string or comment with escapes removed; `raw` otherwise.
    text: Cow<'a, str>,
    /// Whitespace precedes the token.
    space_before: bool,
}

impl Token<'_> {
    fn is(&self, special: u8) -> bool {
        self.kind == Kind::Special(special)
    }

    fn is_word(&self) -> bool {
        matches!(self.kind, Kind::Atom | Kind::Quoted)
    }
}

/// Grammar faults the parser recovered from; any of them makes the list invalid.
#[derive(Debug, Default)]
struct Problems {
    stray_semicolons: usize,
    stray_colons: usize,
    stray_closers: usize,
    entries_without_address: usize,
    /// Decoded text of the first entry without an address.
    first_entry_without_address: Option<String>,
    /// Mailboxes whose display name was joined with entries before it.
    split_display_names: usize,
    unclosed: Vec<&'static str>,
    nested_angle_brackets: usize,
    extra_angle_addresses: usize,
    nested_groups: usize,
    empty_addresses: usize,
    addresses_without_domain: usize,
    addresses_without_local_part: usize,
}

impl Problems {
    fn any(&self) -> bool {
        !self.describe().is_empty()
    }

    fn describe(&self) -> Vec<String> {
        let counts = [
            (self.stray_semicolons, "';' outside a group"),
            (self.stray_colons, "':' without a group name"),
            (self.stray_closers, "')', ']' or '>' without its opener"),
            (self.entries_without_address, "entry without an address"),
            (self.nested_angle_brackets, "'<' inside an angle address"),
            (
                self.extra_angle_addresses,
                "mailbox with more than one angle address",
            ),
            (self.nested_groups, "group inside a group"),
            (self.empty_addresses, "empty angle address '<>'"),
            (self.addresses_without_domain, "address without a domain"),
            (
                self.addresses_without_local_part,
                "address without a local part",
            ),
        ];
        let mut lines: Vec<String> = counts
            .iter()
            .filter(|(count, _)| *count > 0)
            .map(|(count, fault)| match count {
                1 => fault.to_string(),
                _ => format!("{fault} ({count} times)"),
            })
            .collect();
        if let Some(text) = &self.first_entry_without_address {
            lines.push(format!("first entry without an address: {}", quoted(text)));
        }
        if self.split_display_names > 0 {
            lines.push(
                "an unquoted comma splits a display name; the text before it is read as part of the next mailbox's name, as mail clients show it".into(),
            );
        }
        lines.extend(
            self.unclosed
                .iter()
                .map(|construct| format!("unclosed {construct}")),
        );
        lines
    }

    fn note_unclosed(&mut self, construct: &'static str) {
        if !self.unclosed.contains(&construct) {
            self.unclosed.push(construct);
        }
    }
}

/// Splits a value into RFC 5322 lexical tokens, one at a time. Whitespace only sets
/// `space_before`.
struct Tokenizer<'a> {
    value: &'a str,
    pos: usize,
}

impl<'a> Tokenizer<'a> {
    fn new(value: &'a str) -> Tokenizer<'a> {
        Tokenizer { value, pos: 0 }
    }

    /// Returns the next token, recording an unclosed quoted string, comment or domain
    /// literal in `problems`.
    fn next_token(&mut self, problems: &mut Problems) -> Option<Token<'a>> {
        let value = self.value;
        let bytes = value.as_bytes();
        let mut space_before = false;
        while let Some(&b) = bytes.get(self.pos) {
            if is_space(b) {
                space_before = true;
                self.pos += 1;
                continue;
            }
            let start = self.pos;
            let (kind, end, text) = match b {
                b'"' => scan_quoted(value, start, problems),
                b'(' => scan_comment(value, start, problems),
                b'[' => scan_domain_literal(value, start, problems),
                _ if is_special(b) => (Kind::Special(b), start + 1, None),
                _ => (Kind::Atom, scan_atom(bytes, start), None),
            };
            let raw = value.get(start..end).unwrap_or_default();
            let text = text.map_or(Cow::Borrowed(raw), Cow::Owned);
            self.pos = end;
            return Some(Token {
                kind,
                raw,
                text,
                space_before,
            });
        }
        None
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(
        b,
        b'<' | b'>' | b'@' | b',' | b';' | b':' | b')' | b']' | b'"' | b'(' | b'['
    )
}

/// Returns the end of the atom at `start`. Atoms here are lenient: every byte that is not
/// whitespace or a special, so dots, backslashes and 8-bit UTF-8 belong to atoms.
fn scan_atom(bytes: &[u8], start: usize) -> usize {
    let len = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .position(|&b| is_space(b) || is_special(b))
        .unwrap_or(bytes.len().saturating_sub(start));
    start + len
}

type Scanned = (Kind, usize, Option<String>);

/// Scans the quoted string at `start`; an unclosed one runs to the end of the value.
fn scan_quoted(value: &str, start: usize, problems: &mut Problems) -> Scanned {
    let mut text = String::new();
    let mut chars = value.get(start + 1..).unwrap_or_default().char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => return (Kind::Quoted, start + 2 + offset, Some(text)),
            '\\' => text.extend(chars.next().map(|(_, escaped)| escaped)),
            '\r' | '\n' => {}
            _ => text.push(c),
        }
    }
    problems.note_unclosed("quoted string");
    (Kind::Quoted, value.len(), Some(text))
}

/// Scans the comment at `start`, counting nesting depth instead of recursing.
fn scan_comment(value: &str, start: usize, problems: &mut Problems) -> Scanned {
    let mut text = String::new();
    let mut depth = 1usize;
    let mut chars = value.get(start + 1..).unwrap_or_default().char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '\\' => text.extend(chars.next().map(|(_, escaped)| escaped)),
            '(' => {
                depth += 1;
                text.push(c);
            }
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return (Kind::Comment, start + 2 + offset, Some(text));
                }
                text.push(c);
            }
            '\r' | '\n' => {}
            _ => text.push(c),
        }
    }
    problems.note_unclosed("comment");
    (Kind::Comment, value.len(), Some(text))
}

/// Scans the domain literal (`[192.0.2.1]`) at `start`.
fn scan_domain_literal(value: &str, start: usize, problems: &mut Problems) -> Scanned {
    match value.get(start..).and_then(|rest| rest.find(']')) {
        Some(offset) => (Kind::DomainLiteral, start + offset + 1, None),
        None => {
            problems.note_unclosed("domain literal");
            (Kind::DomainLiteral, value.len(), None)
        }
    }
}

/// State of one list parse: tokens of the current entry, the open group and the findings.
struct ListParser<'a> {
    /// Tokens of the current entry, kept until its `,` or `;`, at most [`MAX_ENTRY_TOKENS`].
    entry: Vec<Token<'a>>,
    /// The current entry went over [`MAX_ENTRY_TOKENS`], so the parse stops there.
    entry_too_long: bool,
    /// The current entry contains a `<` or an `@`, so a `:` cannot start a group.
    entry_has_address: bool,
    in_angle: bool,
    /// No token other than a comment has followed the current `<` yet.
    angle_fresh: bool,
    /// Inside an obsolete route, between the `<@` and its `:`.
    in_route: bool,
    group: Option<String>,
    mailboxes: Vec<Mailbox>,
    max_mailboxes: usize,
    /// A mailbox over `max_mailboxes` was found; the parse stops there.
    limit_reached: bool,
    /// Decoded and raw text of the entries without an address since the last mailbox:
    /// the front of a display name that an unquoted comma split off.
    split_display: Vec<(String, String)>,
    findings: FindingSet,
    problems: Problems,
}

impl<'a> ListParser<'a> {
    fn new(max_mailboxes: usize) -> ListParser<'a> {
        ListParser {
            entry: Vec::new(),
            entry_too_long: false,
            entry_has_address: false,
            in_angle: false,
            angle_fresh: false,
            in_route: false,
            group: None,
            mailboxes: Vec::new(),
            max_mailboxes,
            limit_reached: false,
            split_display: Vec::new(),
            findings: FindingSet::default(),
            problems: Problems::default(),
        }
    }

    fn feed(&mut self, token: Token<'a>) {
        if self.in_angle {
            self.feed_in_angle(token);
            return;
        }
        match token.kind {
            Kind::Special(b',') => self.finish_entry(),
            Kind::Special(b';') => {
                self.finish_entry();
                self.end_group();
            }
            Kind::Special(b':') if self.entry_is_phrase() => self.start_group(),
            Kind::Special(b'<') => {
                self.in_angle = true;
                self.angle_fresh = true;
                self.push(token);
            }
            Kind::Special(b')' | b']' | b'>') => {
                self.problems.stray_closers += 1;
                self.push(token);
            }
            _ => self.push(token),
        }
    }

    /// Reads a token between `<` and `>`. A `,` or `;` there ends the angle address
    /// early (a missing `>`), unless it separates the domains of an obsolete route.
    fn feed_in_angle(&mut self, token: Token<'a>) {
        let fresh = self.angle_fresh;
        self.angle_fresh = fresh && token.kind == Kind::Comment;
        match token.kind {
            Kind::Special(b'>') => {
                self.in_angle = false;
                self.push(token);
            }
            Kind::Special(b'@') if fresh => {
                self.in_route = true;
                self.push(token);
            }
            Kind::Special(b':') if self.in_route => {
                self.in_route = false;
                self.push(token);
            }
            Kind::Special(b',') if self.in_route => self.push(token),
            Kind::Special(b',' | b';') => {
                self.problems.note_unclosed("angle address");
                self.in_angle = false;
                self.feed(token);
            }
            Kind::Special(b'<') => self.problems.nested_angle_brackets += 1,
            _ => self.push(token),
        }
    }

    fn push(&mut self, token: Token<'a>) {
        if self.entry.len() >= MAX_ENTRY_TOKENS {
            self.entry_too_long = true;
            self.limit_reached = true;
            return;
        }
        self.entry_has_address |= token.is(b'<') || token.is(b'@');
        self.entry.push(token);
    }

    /// Tells whether the current entry could be a group name: no `<` and no `@` yet.
    fn entry_is_phrase(&self) -> bool {
        !self.entry_has_address
    }

    fn start_group(&mut self) {
        let entry = std::mem::take(&mut self.entry);
        self.entry_has_address = false;
        let words: Vec<&Token> = entry.iter().filter(|t| t.kind != Kind::Comment).collect();
        if words.is_empty() {
            self.problems.stray_colons += 1;
        }
        if self.group.is_some() {
            self.problems.nested_groups += 1;
        }
        let name = self.decode_phrase(&words).unwrap_or_default();
        self.group = Some(name);
    }

    fn end_group(&mut self) {
        if self.group.take().is_none() {
            self.problems.stray_semicolons += 1;
        }
    }

    fn finish_entry(&mut self) {
        let entry = std::mem::take(&mut self.entry);
        self.entry_has_address = false;
        self.in_angle = false;
        self.in_route = false;
        if entry.is_empty() {
            return;
        }
        match split_entry(&entry) {
            Some(parts) => self.add_mailbox(parts),
            None => self.note_entry_without_address(&entry),
        }
    }

    /// Notes an entry without an address. RFC 5322 reads `Microsoft account team ,_
    /// <a@example.net>` as such an entry and a mailbox named `_`, but mail clients show the
    /// whole text as the sender's name, and phishing uses the comma to hide a brand from
    /// checks of the display name. The entry's text is kept and put in front of the next
    /// mailbox's display name (see [`ListParser::join_split_display`]).
    fn note_entry_without_address(&mut self, entry: &[Token]) {
        let words: Vec<&Token> = entry.iter().filter(|t| t.kind != Kind::Comment).collect();
        if words.is_empty() {
            return;
        }
        self.problems.entries_without_address += 1;
        let text = self.decode_phrase(&words).unwrap_or_default();
        if self.problems.first_entry_without_address.is_none() {
            self.problems.first_entry_without_address = Some(text.chars().take(100).collect());
        }
        if self.split_display.len() < MAX_SPLIT_PARTS {
            self.split_display.push((text, join_raw(&words)));
        }
    }

    /// Puts the entries without an address that came before a mailbox in front of its
    /// display name, joined with `, `, as a mail client shows them.
    fn join_split_display(&mut self, mailbox: &mut Mailbox) {
        if self.split_display.is_empty() {
            return;
        }
        let parts = std::mem::take(&mut self.split_display);
        let join = |own: Option<&String>, pick: fn(&(String, String)) -> &String| {
            let mut joined: Vec<&str> = parts.iter().map(|part| pick(part).as_str()).collect();
            joined.extend(own.map(String::as_str));
            joined.join(", ")
        };
        mailbox.display = Some(join(mailbox.display.as_ref(), |part| &part.0));
        mailbox.display_raw = Some(join(mailbox.display_raw.as_ref(), |part| &part.1));
        self.problems.split_display_names += 1;
    }

    fn add_mailbox(&mut self, parts: Parts) {
        if self.mailboxes.len() >= self.max_mailboxes {
            self.limit_reached = true;
            return;
        }
        if parts.extra_angle_address {
            self.problems.extra_angle_addresses += 1;
        }
        if parts.local.is_empty() && parts.domain.is_empty() {
            self.problems.empty_addresses += 1;
            return;
        }
        let local_part = join_raw(&parts.local);
        let domain = Some(join_raw(&parts.domain)).filter(|d| !d.is_empty());
        if domain.is_none() {
            self.problems.addresses_without_domain += 1;
        }
        if local_part.is_empty() {
            self.problems.addresses_without_local_part += 1;
        }
        let address = match &domain {
            Some(domain) => format!("{local_part}@{domain}"),
            None => local_part.clone(),
        };
        let mut mailbox = Mailbox {
            display: self.decode_phrase(&parts.display),
            display_raw: Some(join_raw(&parts.display)).filter(|raw| !raw.is_empty()),
            local_part,
            domain,
            address,
            comments: self.decode_comments(&parts.comments),
            group: self.group.clone(),
            route: parts.route.clone(),
        };
        self.join_split_display(&mut mailbox);
        self.check_mailbox(&mailbox, &parts);
        self.mailboxes.push(mailbox);
    }

    /// Decodes a display name or group name; `None` when there are no words.
    fn decode_phrase(&mut self, words: &[&Token]) -> Option<String> {
        if words.is_empty() {
            return None;
        }
        let mut joined = String::new();
        for (index, word) in words.iter().enumerate() {
            if index > 0 && word.space_before {
                joined.push(' ');
            }
            joined.push_str(&word.text);
        }
        let decoded = decode_unstructured(&joined);
        self.findings.extend(decoded.findings);
        Some(decoded.text)
    }

    fn decode_comments(&mut self, comments: &[&Token]) -> Vec<String> {
        let mut out = Vec::with_capacity(comments.len());
        for comment in comments {
            let decoded = decode_unstructured(&comment.text);
            self.findings.extend(decoded.findings);
            out.push(decoded.text);
        }
        out
    }

    /// Records the address-confusion findings of one mailbox. An `@` in the local part
    /// counts only when a domain name follows it (`"ceo@example.com"@example.net`). An old
    /// UUCP route such as `host!user@relay@example.net` names no domain there.
    fn check_mailbox(&mut self, mailbox: &Mailbox, parts: &Parts) {
        let address = &mailbox.address;
        if parts.local.iter().any(|t| names_a_domain(&t.text)) {
            self.findings.push(Finding::new(
                "sender.address-in-local-part",
                Severity::High,
                "Local part contains an address",
                format!(
                    "The local part of {address} contains '@', imitating another address; \
                     the real domain is the one after the last '@'."
                ),
            ));
        }
        let own = mailbox.domain_lower();
        if let Some(display) = &mailbox.display
            && let Some(foreign) = foreign_address_domain(display, own.as_deref())
        {
            self.findings.push(Finding::new(
                "sender.address-in-display-name",
                Severity::Medium,
                "Display name contains an address of another domain",
                format!(
                    "The display name {} names {foreign}, but the address is {address}.",
                    quoted(display)
                ),
            ));
        }
        self.check_layout(mailbox, parts);
    }

    /// Records findings about comments, missing angle brackets and obsolete routes.
    fn check_layout(&mut self, mailbox: &Mailbox, parts: &Parts) {
        let address = &mailbox.address;
        let encoded_display = parts.display.iter().any(|t| contains_encoded_word(t));
        if parts.comment_in_address || (encoded_display && !parts.comments.is_empty()) {
            self.findings.push(Finding::new(
                "sender.hidden-comments",
                Severity::Low,
                "Comments hidden in a mailbox",
                format!(
                    "The mailbox {address} carries comments {} inside the address or next \
                     to an encoded display name, where mail clients do not show them.",
                    mailbox
                        .comments
                        .iter()
                        .map(|c| quoted(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if parts.missing_angle_brackets {
            self.findings.push(Finding::new(
                "sender.missing-angle-brackets",
                Severity::Low,
                "Display name without angle brackets around the address",
                format!("Words stand next to the bare address {address} without '<' and '>'."),
            ));
        }
        if parts.text_after_address {
            self.findings.push(Finding::new(
                "sender.text-after-address",
                Severity::Low,
                "Text after the angle address",
                format!("Words follow <{address}>; they were added to the display name."),
            ));
        }
        if let Some(route) = &mailbox.route {
            self.findings.push(Finding::new(
                "sender.obsolete-route",
                Severity::Info,
                "Obsolete source route in an address",
                format!("The address {address} carries the source route {route}."),
            ));
        }
    }

    fn finish(mut self, value: &str) -> AddressList {
        // An entry cut at the token cap is not a mailbox.
        if self.entry_too_long {
            self.entry.clear();
            self.in_angle = false;
        }
        if self.in_angle {
            self.problems.note_unclosed("angle address");
        }
        self.finish_entry();

        let mut decoded_text = None;
        if self.mailboxes.is_empty() && !self.limit_reached && !value.trim().is_empty() {
            let decoded = decode_unstructured(value.trim());
            self.findings.extend(decoded.findings);
            decoded_text = Some(decoded.text);
            if self.problems.entries_without_address + self.problems.empty_addresses > 0 {
                // Only an encoded-word in the field makes its rule worth naming.
                let encoded = if value.contains("=?") {
                    " An encoded-word can never form an address (RFC 2047 section 5)."
                } else {
                    ""
                };
                self.findings.push(Finding::new(
                    "sender.no-valid-mailbox",
                    Severity::Medium,
                    "No valid mailbox in the address field",
                    format!(
                        "The field holds text but no addr-spec, so there is no address and no domain to authenticate.{encoded}"
                    ),
                ));
            }
        }

        let invalid = self.problems.any();
        if invalid {
            self.findings.push(Finding::new(
                "header.invalid-address-list",
                Severity::Low,
                "Invalid address list",
                format!(
                    "The value breaks the RFC 5322 address-list grammar: {}.",
                    self.problems.describe().join("; ")
                ),
            ));
        }
        AddressList {
            mailboxes: self.mailboxes,
            limit_reached: self.limit_reached,
            entry_too_long: self.entry_too_long,
            decoded_text,
            invalid,
            findings: self.findings.0,
        }
    }
}

/// The parts of one mailbox entry, still as tokens.
#[derive(Default)]
struct Parts<'t, 'a> {
    display: Vec<&'t Token<'a>>,
    local: Vec<&'t Token<'a>>,
    domain: Vec<&'t Token<'a>>,
    comments: Vec<&'t Token<'a>>,
    route: Option<String>,
    comment_in_address: bool,
    missing_angle_brackets: bool,
    text_after_address: bool,
    /// Another `<` is written before or after the angle address that was read.
    extra_angle_address: bool,
}

/// Splits an entry into display name, address and comments; `None` when it has no address.
fn split_entry<'t, 'a>(entry: &'t [Token<'a>]) -> Option<Parts<'t, 'a>> {
    match address_opener(entry) {
        Some(open) => split_angle_entry(entry, open),
        None => split_bare_entry(entry),
    }
}

/// Returns the index of the `<` that opens the address: the first one with something
/// inside, so that an empty `<>` written before the real address does not hide it.
fn address_opener(entry: &[Token]) -> Option<usize> {
    let mut first = None;
    let mut candidate = None;
    for (index, token) in entry.iter().enumerate() {
        match token.kind {
            Kind::Special(b'<') => {
                first.get_or_insert(index);
                candidate = Some(index);
            }
            Kind::Special(b'>') => candidate = None,
            Kind::Comment => {}
            _ if candidate.is_some() => return candidate,
            _ => {}
        }
    }
    first
}

/// Splits `display <addr-spec> trailing` (RFC 5322 name-addr).
fn split_angle_entry<'t, 'a>(entry: &'t [Token<'a>], open: usize) -> Option<Parts<'t, 'a>> {
    let mut parts = Parts::default();
    let inside = entry.get(open + 1..).unwrap_or_default();
    let close = inside.iter().position(|t| t.is(b'>'));
    let (inside, after) = match close {
        Some(close) => (
            inside.get(..close).unwrap_or_default(),
            inside.get(close + 1..).unwrap_or_default(),
        ),
        None => (inside, &[][..]),
    };

    for token in entry.get(..open).unwrap_or_default() {
        match token.kind {
            Kind::Comment => parts.comments.push(token),
            Kind::Special(b'<' | b'>') => parts.extra_angle_address = true,
            _ => parts.display.push(token),
        }
    }

    let mut address: Vec<&Token> = Vec::new();
    for token in inside {
        match token.kind {
            Kind::Comment => {
                parts.comments.push(token);
                parts.comment_in_address = true;
            }
            _ => address.push(token),
        }
    }
    let address = take_route(&mut parts, address);
    split_addr_spec(&mut parts, &address);

    for token in after {
        parts.extra_angle_address |= token.is(b'<');
        match token.kind {
            Kind::Comment => parts.comments.push(token),
            _ => {
                parts.display.push(token);
                parts.text_after_address = true;
            }
        }
    }
    Some(parts)
}

/// Removes an obsolete route (`@a.example,@b.example:`) from the front of an angle address.
fn take_route<'t, 'a>(
    parts: &mut Parts<'t, 'a>,
    address: Vec<&'t Token<'a>>,
) -> Vec<&'t Token<'a>> {
    if !address.first().is_some_and(|t| t.is(b'@')) {
        return address;
    }
    match address.iter().position(|t| t.is(b':')) {
        Some(colon) => {
            let route: String = address.iter().take(colon).map(|t| t.raw).collect();
            parts.route = Some(route);
            address.get(colon + 1..).unwrap_or_default().to_vec()
        }
        None => address,
    }
}

/// Splits the tokens between `<` and `>` at the last `@`.
fn split_addr_spec<'t, 'a>(parts: &mut Parts<'t, 'a>, address: &[&'t Token<'a>]) {
    match address.iter().rposition(|t| t.is(b'@')) {
        Some(at) => {
            parts.local = address.get(..at).unwrap_or_default().to_vec();
            parts.domain = address.get(at + 1..).unwrap_or_default().to_vec();
        }
        None => parts.local = address.to_vec(),
    }
}

/// Splits an entry without `<`: a bare addr-spec, possibly with stray words around it.
fn split_bare_entry<'t, 'a>(entry: &'t [Token<'a>]) -> Option<Parts<'t, 'a>> {
    let words: Vec<(usize, &Token)> = entry
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind != Kind::Comment)
        .collect();
    let at = words.iter().rposition(|(_, t)| t.is(b'@'))?;
    let local_start = local_run_start(&words, at);
    let domain_end = domain_run_end(&words, at);

    let mut parts = Parts::default();
    let word_tokens = |range: std::ops::Range<usize>| -> Vec<&'t Token<'a>> {
        words
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(|(_, t)| *t)
            .collect()
    };
    parts.local = word_tokens(local_start..at);
    parts.domain = word_tokens(at + 1..domain_end);
    parts.display = word_tokens(0..local_start);
    parts.display.extend(word_tokens(domain_end..words.len()));
    parts.missing_angle_brackets = !parts.display.is_empty();

    // Comments between the first and the last token of the addr-spec are inside it.
    let first = words.get(local_start).map_or(0, |(index, _)| *index);
    let last = words
        .get(domain_end.saturating_sub(1))
        .map_or(0, |(index, _)| *index);
    for (index, token) in entry.iter().enumerate() {
        if token.kind == Kind::Comment {
            parts.comments.push(token);
            parts.comment_in_address |= index > first && index < last;
        }
    }
    Some(parts)
}

/// Returns the index of the first token of the local part that ends before `words[at]`:
/// the words and `@` signs written together without whitespace.
fn local_run_start(words: &[(usize, &Token)], at: usize) -> usize {
    let Some(mut start) = at.checked_sub(1) else {
        return at;
    };
    if !words.get(start).is_some_and(|(_, t)| t.is_word()) {
        return at;
    }
    while start > 0 {
        let joined = words.get(start).is_some_and(|(_, t)| !t.space_before);
        let previous = words
            .get(start - 1)
            .is_some_and(|(_, t)| t.is_word() || t.is(b'@'));
        if !(joined && previous) {
            break;
        }
        start -= 1;
    }
    start
}

/// Returns the index just after the last token of the domain that starts after `words[at]`.
/// Atoms separated by whitespace next to a dot (`example . com`, obsolete syntax) belong to
/// the domain.
fn domain_run_end(words: &[(usize, &Token)], at: usize) -> usize {
    let is_domain_part = |t: &Token| matches!(t.kind, Kind::Atom | Kind::DomainLiteral);
    let mut end = at + 1;
    if !words.get(end).is_some_and(|(_, t)| is_domain_part(t)) {
        return end;
    }
    end += 1;
    while let Some((_, next)) = words.get(end) {
        let previous_dot = words
            .get(end - 1)
            .is_some_and(|(_, t)| t.raw.ends_with('.'));
        let continues = !next.space_before || previous_dot || next.raw.starts_with('.');
        if !(is_domain_part(next) && continues) {
            break;
        }
        end += 1;
    }
    end
}

/// Joins tokens as written, keeping one space where whitespace separated two words.
fn join_raw(tokens: &[&Token]) -> String {
    let mut out = String::new();
    for (index, token) in tokens.iter().enumerate() {
        let around_dot = out.ends_with('.') || token.raw.starts_with('.');
        if index > 0 && token.space_before && !around_dot {
            out.push(' ');
        }
        out.push_str(token.raw);
    }
    out
}

fn contains_encoded_word(token: &Token) -> bool {
    match token.kind {
        Kind::Atom => is_encoded_word(token.raw),
        Kind::Quoted => token.text.contains("=?") && token.text.contains("?="),
        _ => false,
    }
}

/// Returns the first domain written after an `@` in `display` whose registrable domain
/// differs from that of `own`.
pub(crate) fn foreign_address_domain(display: &str, own: Option<&str>) -> Option<String> {
    let own = own.map(registrable_domain);
    crate::parse::invisible::without_invisible(display)
        .split('@')
        .skip(1)
        .filter_map(leading_domain)
        .find(|candidate| own.as_deref() != Some(registrable_domain(candidate).as_str()))
}

/// Returns the host name at the start of `text` when it has at least one dot.
fn leading_domain(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.'))
        .unwrap_or(text.len());
    let domain = text.get(..end)?.trim_matches('.').to_lowercase();
    domain.contains('.').then_some(domain)
}

/// Returns the registrable domain (public suffix plus one label), or the name itself when
/// the public suffix list does not know it.
fn registrable_domain(domain: &str) -> String {
    let lower = domain.trim_end_matches('.').to_lowercase();
    psl::domain_str(&lower).unwrap_or(&lower).to_string()
}

/// Findings of one list, one per id: the first occurrence is kept.
#[derive(Default)]
struct FindingSet(Vec<Finding>);

impl FindingSet {
    fn push(&mut self, finding: Finding) {
        if !self.0.iter().any(|known| known.id == finding.id) {
            self.0.push(finding);
        }
    }

    fn extend(&mut self, findings: Vec<Finding>) {
        for finding in findings {
            self.push(finding);
        }
    }
}

/// Tells whether some `@` in `text` is followed by a domain name: letters, digits and
/// hyphens in at least two labels.
fn names_a_domain(text: &str) -> bool {
    text.split('@').skip(1).any(|rest| {
        let host = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
            .next()
            .unwrap_or_default();
        host.contains('.') && host.split('.').all(|label| !label.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One expected mailbox: display, address, local part, domain.
    type Expected<'a> = (Option<&'a str>, &'a str, &'a str, Option<&'a str>);

    fn ids(list: &AddressList) -> Vec<&str> {
        list.findings.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn mailbox_table() {
        let cases: &[(&str, &[Expected])] = &[
            (
                "Alice Example <alice@example.com>",
                &[(
                    Some("Alice Example"),
                    "alice@example.com",
                    "alice",
                    Some("example.com"),
                )],
            ),
            (
                "bob@example.org",
                &[(None, "bob@example.org", "bob", Some("example.org"))],
            ),
            (
                "\"Jane\r\n Doe\" <jane@example.net>",
                &[(
                    Some("Jane Doe"),
                    "jane@example.net",
                    "jane",
                    Some("example.net"),
                )],
            ),
            (
                "\"Doe, Jane\" <jane@example.net>",
                &[(
                    Some("Doe, Jane"),
                    "jane@example.net",
                    "jane",
                    Some("example.net"),
                )],
            ),
            (
                "\"Giant; \\\"Big\\\" Box\" <box@example.net>",
                &[(
                    Some("Giant; \"Big\" Box"),
                    "box@example.net",
                    "box",
                    Some("example.net"),
                )],
            ),
            (
                "a@example.com, B <b@example.org>,, c@example.net",
                &[
                    (None, "a@example.com", "a", Some("example.com")),
                    (Some("B"), "b@example.org", "b", Some("example.org")),
                    (None, "c@example.net", "c", Some("example.net")),
                ],
            ),
            (
                "\"Support <support@example.com>\"@example.net",
                &[(
                    None,
                    "\"Support <support@example.com>\"@example.net",
                    "\"Support <support@example.com>\"",
                    Some("example.net"),
                )],
            ),
            (
                "=?iso-8859-9?Q?M=FC=FEteri_Hizmetleri?= <info@example.com.tr>",
                &[(
                    Some("Müşteri Hizmetleri"),
                    "info@example.com.tr",
                    "info",
                    Some("example.com.tr"),
                )],
            ),
            (
                "=?utf-8?q?a?= =?utf-8?q?b?= <ab@example.com>",
                &[(Some("ab"), "ab@example.com", "ab", Some("example.com"))],
            ),
            (
                "\"=?utf-8?q?a?= b\" <ab@example.com>",
                &[(Some("a b"), "ab@example.com", "ab", Some("example.com"))],
            ),
            (
                "Mary <@relay.example.org:mary@example.net>",
                &[(
                    Some("Mary"),
                    "mary@example.net",
                    "mary",
                    Some("example.net"),
                )],
            ),
            (
                "josé@exämple.com",
                &[(None, "josé@exämple.com", "josé", Some("exämple.com"))],
            ),
            (
                "user@[192.0.2.1]",
                &[(None, "user@[192.0.2.1]", "user", Some("[192.0.2.1]"))],
            ),
            (
                "John Doe john@example.com",
                &[(
                    Some("John Doe"),
                    "john@example.com",
                    "john",
                    Some("example.com"),
                )],
            ),
            (
                "Jane <jane@example.com",
                &[(
                    Some("Jane"),
                    "jane@example.com",
                    "jane",
                    Some("example.com"),
                )],
            ),
            (
                "jdoe@example  . com",
                &[(None, "jdoe@example.com", "jdoe", Some("example.com"))],
            ),
            (
                "first.last@Example.COM (First Last)",
                &[(
                    None,
                    "first.last@Example.COM",
                    "first.last",
                    Some("Example.COM"),
                )],
            ),
            (
                "\"Shop\"<>123<info@example.com>",
                &[(
                    Some("Shop123"),
                    "info@example.com",
                    "info",
                    Some("example.com"),
                )],
            ),
            ("<postmaster>", &[(None, "postmaster", "postmaster", None)]),
            (
                "support@example.com@example.net",
                &[(
                    None,
                    "support@example.com@example.net",
                    "support@example.com",
                    Some("example.net"),
                )],
            ),
        ];
        for (input, expected) in cases {
            let list = parse_address_list(input);
            let got: Vec<Expected> = list
                .mailboxes
                .iter()
                .map(|m| {
                    (
                        m.display.as_deref(),
                        m.address.as_str(),
                        m.local_part.as_str(),
                        m.domain.as_deref(),
                    )
                })
                .collect();
            assert_eq!(got, *expected, "input {input:?}");
        }
    }

    #[test]
    fn unquoted_comma_joins_the_display_name() {
        let list = parse_address_list("Microsoft account team ,_<no-reply@example.net>");
        assert_eq!(list.mailboxes.len(), 1);
        let mailbox = &list.mailboxes[0];
        assert_eq!(
            mailbox.display.as_deref(),
            Some("Microsoft account team, _")
        );
        assert_eq!(mailbox.address, "no-reply@example.net");
        assert!(list.invalid);
        let list = parse_address_list("Doe, John <john@example.com>, jane@example.org");
        let names: Vec<_> = list
            .mailboxes
            .iter()
            .map(|m| m.display.as_deref())
            .collect();
        assert_eq!(names, [Some("Doe, John"), None]);
        // Text after the last mailbox has nothing to join.
        let list = parse_address_list("<a@example.com>, trailing words");
        assert_eq!(list.mailboxes[0].display, None);
    }

    #[test]
    fn crlf_folding_matches_unfolded() {
        let folded = parse_address_list("Alice\r\n Example\r\n\t<alice@example.com>");
        let unfolded = parse_address_list("Alice Example <alice@example.com>");
        assert_eq!(folded, unfolded);
    }

    #[test]
    fn finding_table() {
        let cases: &[(&str, &[&str])] = &[
            ("Alice <alice@example.com>", &[]),
            ("\"alice@example.com\" <alice@example.com>", &[]),
            ("\"alice@mail.example.com\" <alice@example.com>", &[]),
            ("jm@example.org (Justin)", &[]),
            ("undisclosed-recipients:;", &[]),
            ("", &[]),
            (
                "\"Support <support@example.com>\"@example.net",
                &["sender.address-in-local-part"],
            ),
            // A UUCP route names a host without a domain before the last '@'.
            ("host!user@relay@example.net", &[]),
            ("\"user@relay.\"@example.net", &[]),
            (
                "\"help@example.com\" <x@example.net>",
                &["sender.address-in-display-name"],
            ),
            (
                "=?utf-8?B?U2VydmljZSBEZXNrIDxoZWxwQGV4YW1wbGUuY29tPg==?= <x@example.net>",
                &["sender.address-in-display-name"],
            ),
            // Invisible characters between the letters do not hide the address.
            (
                "\"h\u{34F}e\u{34F}l\u{34F}p\u{34F}@e\u{34F}x\u{34F}a\u{34F}m\u{34F}p\u{34F}l\u{34F}e\u{34F}.\u{34F}c\u{34F}o\u{34F}m\" <x@example.net>",
                &["sender.address-in-display-name"],
            ),
            (
                "=?utf-8?B?U2VydmljZSBEZXNrIDxoZWxwQGV4YW1wbGUuY29tPg==?=",
                &["sender.no-valid-mailbox", "header.invalid-address-list"],
            ),
            (
                "(ab12) =?utf-8?B?UGF5cm9sbA==?= (zz99) <y@example.net>",
                &["sender.hidden-comments"],
            ),
            ("<y(hidden)@example.net>", &["sender.hidden-comments"]),
            ("y(hidden)@example.net", &["sender.hidden-comments"]),
            (
                "John Doe john@example.com",
                &["sender.missing-angle-brackets"],
            ),
            ("<a@example.com> Doe", &["sender.text-after-address"]),
            (
                "<@relay.example.org:a@example.com>",
                &["sender.obsolete-route"],
            ),
            ("Jane <jane@example.com", &["header.invalid-address-list"]),
            (";;;", &["header.invalid-address-list"]),
            (
                "a@example.com>",
                &[
                    "sender.missing-angle-brackets",
                    "header.invalid-address-list",
                ],
            ),
            (
                "\"Shop\"<>123<info@example.com>",
                &["header.invalid-address-list"],
            ),
            ("Pete) <pete@example.com>", &["header.invalid-address-list"]),
            ("a@example.com, <>", &["header.invalid-address-list"]),
            (
                "\"Shop\" <>",
                &["sender.no-valid-mailbox", "header.invalid-address-list"],
            ),
            (
                "\"unclosed <a@example.com>",
                &["sender.no-valid-mailbox", "header.invalid-address-list"],
            ),
            (
                "=?utf-8?q?a=0D=0Ab?= <a@example.com>",
                &["header.control-chars-in-encoded-word"],
            ),
        ];
        for (input, expected) in cases {
            let list = parse_address_list(input);
            assert_eq!(ids(&list), *expected, "input {input:?}");
            let invalid = expected.contains(&"header.invalid-address-list");
            assert_eq!(list.invalid, invalid, "invalid flag for {input:?}");
        }
    }

    #[test]
    fn encoded_word_alone_gives_decoded_text_only() {
        let list = parse_address_list("=?utf-8?B?U2VydmljZSBEZXNrIDxoZWxwQGV4YW1wbGUuY29tPg==?=");
        assert!(list.mailboxes.is_empty());
        assert_eq!(
            list.decoded_text.as_deref(),
            Some("Service Desk <help@example.com>")
        );
    }

    #[test]
    fn comments_kept_in_order() {
        let list = parse_address_list("(ab12) =?utf-8?B?UGF5cm9sbA==?= (zz99) <y@example.net>");
        let mailbox = &list.mailboxes[0];
        assert_eq!(mailbox.display.as_deref(), Some("Payroll"));
        assert_eq!(mailbox.comments, ["ab12", "zz99"]);
        assert_eq!(mailbox.address, "y@example.net");
    }

    #[test]
    fn nested_and_escaped_comments() {
        let list = parse_address_list("Pete(A nice \\) chap (really)) <pete@example.com>");
        assert_eq!(list.mailboxes[0].comments, ["A nice ) chap (really)"]);
        assert_eq!(list.mailboxes[0].display.as_deref(), Some("Pete"));
    }

    #[test]
    fn groups_named_on_mailboxes() {
        let list = parse_address_list("Team: a@example.com, B <b@example.com>; c@example.org");
        let groups: Vec<Option<&str>> = list.mailboxes.iter().map(|m| m.group.as_deref()).collect();
        assert_eq!(groups, [Some("Team"), Some("Team"), None]);
        assert!(!list.invalid);
    }

    #[test]
    fn mailbox_limit_stops_parse() {
        let value = "a@example.com, b@example.com, c@example.com, d@example.com, ;;";
        let list = parse_address_list_with_limit(value, 2);
        let addresses: Vec<&str> = list.mailboxes.iter().map(|m| m.address.as_str()).collect();
        assert_eq!(addresses, ["a@example.com", "b@example.com"]);
        assert!(list.limit_reached);
        assert!(!list.invalid, "faults after the limit are not read");
    }

    #[test]
    fn mailbox_limit_not_hit_at_limit() {
        let list = parse_address_list_with_limit("a@example.com, b@example.com", 2);
        assert_eq!(list.mailboxes.len(), 2);
        assert!(!list.limit_reached);
    }

    #[test]
    fn long_entry_stops_parse() {
        let words = "w ".repeat(MAX_ENTRY_TOKENS + 5);
        let value = format!("a@example.com, {words}<b@example.org>, c@example.net");
        let list = parse_address_list(&value);
        let addresses: Vec<&str> = list.mailboxes.iter().map(|m| m.address.as_str()).collect();
        assert_eq!(addresses, ["a@example.com"]);
        assert!(list.entry_too_long);
        assert!(list.limit_reached);
    }

    #[test]
    fn entry_at_token_cap_is_read() {
        // The cap counts the display name's words and the `<`, address and `>` tokens.
        let words = "w ".repeat(MAX_ENTRY_TOKENS - 5);
        let list = parse_address_list(&format!("{words}<b@example.org>"));
        assert_eq!(list.mailboxes.len(), 1);
        assert!(!list.entry_too_long);
    }

    #[test]
    fn route_kept_apart() {
        let list = parse_address_list("<@a.example,@b.example:user@example.net>");
        assert_eq!(
            list.mailboxes[0].route.as_deref(),
            Some("@a.example,@b.example")
        );
        assert_eq!(list.mailboxes[0].address, "user@example.net");
    }

    #[test]
    fn semicolons_only_give_empty_invalid_list() {
        let list = parse_address_list(&";".repeat(100_000));
        assert!(list.mailboxes.is_empty());
        assert!(list.invalid);
        assert_eq!(ids(&list), ["header.invalid-address-list"]);
    }

    #[test]
    fn domain_lower_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("a@Example.COM", Some("example.com")),
            ("a@example.com.", Some("example.com")),
            ("a@ÉXAMPLE.com", Some("éxample.com")),
            ("<a>", None),
        ];
        for (input, expected) in cases {
            let list = parse_address_list(input);
            assert_eq!(
                list.mailboxes[0].domain_lower().as_deref(),
                *expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn hostile_inputs_do_not_blow_up() {
        let inputs = [
            "(".repeat(100_000),
            ")".repeat(100_000),
            "<".repeat(100_000),
            "\"".repeat(100_001),
            "@".repeat(100_000),
            ":".repeat(100_000),
            "a@b.c ".repeat(20_000),
            "a:".repeat(50_000),
            format!("<a@example.com>{}", ":".repeat(100_000)),
            format!("a@example.com {}", "x ".repeat(50_000)),
        ];
        for input in &inputs {
            let list = parse_address_list(input);
            assert!(list.mailboxes.len() <= input.len(), "{:?}", input.get(..4));
        }
    }
}
