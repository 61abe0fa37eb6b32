//! Received field parser (RFC 5321 section 4.4, RFC 5322 section 3.6.7), lenient about
//! the dialects real MTAs write.
//!
//! A Received value is split into tokens (words, `[literals]`, `<angle addresses>`,
//! quoted strings, nested comments and `;`), then into clauses introduced by the keywords
//! `from`, `by`, `via`, `with`, `id` and `for`. A keyword counts only as a whole word
//! outside comments, so `mx.example.by`, an id ending in `-By` and `did` in a comment are
//! never keywords. The date follows the last top-level `;`; without one, the first place
//! where a date can be read is taken and the omission is reported.
//!
//! The "from" part is read in the dialects of Postfix and Sendmail (`from HELO (rdns
//! [ip])`), Exim (`from rdns ([ip] helo=x ident=y)`), ZMailer (`from rdns ([ip]:port
//! "EHLO x" rhost-flags-...)`), qmail (`from rdns (HELO x) (ip)`,
//! comment-only `(qmail N invoked ...)` hops), Exchange (bare addresses in the
//! parentheses) and many older ones. Everything is read in one pass over the value, with
//! a bounded number of date attempts, so the time is linear in the value's length.

use std::net::IpAddr;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use super::ascii::strip_prefix_ci;
use super::date::{self, ParsedDate};
use crate::finding::{Finding, Severity};

/// One parsed Received field.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Received {
    /// The name the client claimed (HELO/EHLO). It is the name after `from` as written
    /// (an address literal keeps its brackets), except in qmail's `from rdns (HELO name)`
    /// and where the name after `from` is the placeholder `unknown`: then the HELO name.
    pub from_host: Option<String>,
    /// The reverse-DNS name the receiver looked up, when the field gives one.
    pub from_rdns: Option<String>,
    /// The connecting address: the TCP-info address, else an address after `from`.
    pub from_ip: Option<IpAddr>,
    pub from_ip_zone: Option<String>,
    /// The HELO/EHLO name: from `helo=`, `(HELO x)`, or the name after `from`.
    pub helo: Option<String>,
    /// The RFC 1413 ident user (`ident=`, `IDENT:user@host`, `user@[ip]`).
    pub ident: Option<String>,
    /// The SMTP AUTH user the receiver recorded.
    pub auth_sender: Option<String>,
    /// The receiver recorded in a comment that the client logged in (SMTP AUTH): an
    /// authenticated user, or Sendmail's `(authenticated bits=0)`, which names none.
    pub authenticated: bool,
    pub by_host: Option<String>,
    pub by_ip: Option<IpAddr>,
    pub by_ip_zone: Option<String>,
    /// Number of `by` clauses (more than one is a sign of a forged or broken field).
    pub by_clause_count: usize,
    /// The `with` value as written (`ESMTPS`, `Microsoft SMTP Server`, `mapi`).
    pub protocol: Option<String>,
    pub id: Option<String>,
    /// The `for` address without angle brackets.
    pub for_addr: Option<String>,
    /// A `for` value that is not an address (`multiple recipients`).
    pub for_placeholder: Option<String>,
    pub via: Option<String>,
    pub envelope_from: Option<String>,
    /// The original recipient of a list expansion (`ORCPT rfc822;x`).
    pub orcpt: Option<String>,
    pub tls_version: Option<String>,
    pub tls_cipher: Option<String>,
    /// The Exchange build given as the `id` of an Exchange hop (`15.20.4566.16`).
    pub exchange_build: Option<String>,
    /// The receiving software named in a comment (`Postfix`, `Exim 4.96`).
    pub mta: Option<String>,
    /// The leading or only comment, without parentheses (qmail, list servers).
    pub comment: Option<String>,
    /// A comment-only hop without clauses: a local, non-SMTP step (qmail injection).
    pub local: bool,
    /// The date text, when the field has one.
    pub date_raw: Option<String>,
    #[serde(serialize_with = "date::serialize_timestamp")]
    pub timestamp: Option<DateTime<Utc>>,
    pub findings: Vec<Finding>,
}

impl Received {
    /// Returns the names the sending host went by: the reverse-DNS name, the name after
    /// `from` and the HELO name, in that order, each when present.
    pub fn sender_names(&self) -> impl Iterator<Item = &str> {
        [
            self.from_rdns.as_deref(),
            self.from_host.as_deref(),
            self.helo.as_deref(),
        ]
        .into_iter()
        .flatten()
    }
}

/// Parses the unfolded value of a Received field (without the `Received:` name).
pub fn parse_received(value: &str) -> Received {
    // A whole field wrapped in brackets (`[from a by b; date]`), seen from old gateways.
    let trimmed = value.trim();
    let value = match trimmed.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) if keyword_start(inner) => inner,
        _ => value,
    };
    let tokens = tokenize(value);
    let located = locate_date(value, &tokens);

    // Step 1: split the tokens outside the date into clauses.
    let skip = located.skipped_range();
    let stream = tokens
        .iter()
        .filter(|t| !(t.start < skip.end && t.end > skip.start));
    let clauses = split_clauses(stream);

    // Step 2: read each clause.
    let mut reader = ClauseReader::default();
    for clause in &clauses {
        reader.read(clause);
    }
    let bad_literal = reader.bad_literal;
    let mut received = reader.finish();

    // Step 3: the date and the field-level findings.
    let has_clause = clauses
        .iter()
        .any(|c| !matches!(c.keyword, Keyword::Leading | Keyword::Stray));
    apply_date(&mut received, value, &tokens, located, has_clause);
    received.local = !has_clause && received.comment.is_some();
    check_field(&mut received, value, has_clause, bad_literal);
    received
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Literal,
    Angle,
    Quoted,
    Comment,
    Semicolon,
}

/// One token: `text` is its source, `inner` the part inside its delimiters.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    start: usize,
    end: usize,
    text: &'a str,
    inner: &'a str,
}

fn is_wsp(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Splits `text` into tokens in one pass. Unclosed delimiters end where a character that
/// cannot belong to them starts (or at the end), so no scan runs twice over the text.
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if is_wsp(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let (kind, end, inner_start, inner_end) = match bytes[i] {
            b'(' => {
                let (end, closed) = date::comment_end(bytes, i);
                (
                    Kind::Comment,
                    end,
                    i + 1,
                    if closed { end - 1 } else { end },
                )
            }
            b'[' => delimited(bytes, i, b']', b"[()<;\r\n", Kind::Literal),
            b'<' => delimited(bytes, i, b'>', b"<()[;\r\n", Kind::Angle),
            b'"' => quoted_end(bytes, i),
            b';' => (Kind::Semicolon, i + 1, i, i + 1),
            b')' => (Kind::Word, i + 1, i, i + 1),
            _ => {
                let mut end = i;
                while end < bytes.len() && !is_wsp(bytes[end]) && !b"()[<;".contains(&bytes[end]) {
                    end += 1;
                }
                (Kind::Word, end, i, end)
            }
        };
        tokens.push(Token {
            kind,
            start,
            end,
            text: &text[start..end],
            inner: &text[inner_start..inner_end],
        });
        i = end;
    }
    tokens
}

/// Reads a literal or angle address: up to `close`, or up to a byte in `stops` when unclosed.
fn delimited(
    bytes: &[u8],
    open: usize,
    close: u8,
    stops: &[u8],
    kind: Kind,
) -> (Kind, usize, usize, usize) {
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == close {
            return (kind, i + 1, open + 1, i);
        }
        if stops.contains(&bytes[i]) {
            break;
        }
        i += 1;
    }
    (kind, i, open + 1, i)
}

fn quoted_end(bytes: &[u8], open: usize) -> (Kind, usize, usize, usize) {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' => return (Kind::Quoted, i + 1, open + 1, i),
            _ => {}
        }
        i += 1;
    }
    let end = bytes.len();
    (Kind::Quoted, end, open + 1, end)
}

// ---------------------------------------------------------------------------------------
// Clauses

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    /// Tokens before the first keyword.
    Leading,
    From,
    By,
    Via,
    With,
    Id,
    For,
    /// Tokens after a `;` that does not introduce the date.
    Stray,
}

/// Tells whether `text` starts with a clause keyword.
fn keyword_start(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    ["from", "by"].iter().any(|k| first.eq_ignore_ascii_case(k))
}

fn keyword(token: &Token<'_>) -> Option<Keyword> {
    if token.kind != Kind::Word {
        return None;
    }
    let word = token.inner;
    [
        ("from", Keyword::From),
        ("by", Keyword::By),
        ("via", Keyword::Via),
        ("with", Keyword::With),
        ("id", Keyword::Id),
        ("for", Keyword::For),
    ]
    .into_iter()
    .find(|(name, _)| word.eq_ignore_ascii_case(name))
    .map(|(_, k)| k)
}

struct Clause<'a> {
    keyword: Keyword,
    tokens: Vec<Token<'a>>,
}

fn split_clauses<'t, 'a: 't>(stream: impl Iterator<Item = &'t Token<'a>>) -> Vec<Clause<'a>> {
    let mut clauses = vec![Clause {
        keyword: Keyword::Leading,
        tokens: Vec::new(),
    }];
    for token in stream {
        let opened = match token.kind {
            Kind::Semicolon => Some(Keyword::Stray),
            _ => keyword(token),
        };
        match opened {
            Some(keyword) => clauses.push(Clause {
                keyword,
                tokens: Vec::new(),
            }),
            None => clauses.last_mut().expect("never empty").tokens.push(*token),
        }
    }
    clauses
}

/// The values of the from-clause, before it is turned into hop fields.
#[derive(Default)]
struct FromParts {
    name: Option<String>,
    name_ip: Option<(IpAddr, Option<String>)>,
    rdns: Option<String>,
    ip: Option<(IpAddr, Option<String>)>,
    helo: Option<String>,
    /// Exim's `helo=`/`ident=` or ZMailer's `"EHLO x"` seen: the name after `from` is the
    /// reverse-DNS name.
    exim_style: bool,
    /// `(HELO x)` seen: the name after `from` is the reverse-DNS name.
    qmail_style: bool,
    /// The TCP-info opened with an address literal (`from name ([ip])`).
    literal_first: bool,
}

/// Reads clauses into a [`Received`].
#[derive(Default)]
struct ClauseReader {
    r: Received,
    from: FromParts,
    /// Keywords whose first clause was read, indexed by `Keyword as usize`.
    seen: [bool; 8],
    bad_literal: bool,
}

impl ClauseReader {
    fn read(&mut self, clause: &Clause<'_>) {
        let first = !std::mem::replace(&mut self.seen[clause.keyword as usize], true);
        let tokens = &clause.tokens;
        match clause.keyword {
            Keyword::Leading => self.read_leading(tokens),
            Keyword::From if first => self.read_from(tokens),
            Keyword::From => self.read_second_from(tokens),
            Keyword::By => {
                self.r.by_clause_count += 1;
                if first {
                    self.read_by(tokens);
                } else {
                    self.read_rest(tokens);
                }
            }
            Keyword::With if first => self.read_with(tokens),
            Keyword::Id if first => self.read_id(tokens),
            Keyword::For if first => self.read_for(tokens),
            Keyword::Via if first => self.read_via(tokens),
            _ => self.read_rest(tokens),
        }
    }

    /// Comments and stray words of any clause.
    fn read_rest(&mut self, tokens: &[Token<'_>]) {
        for (n, token) in tokens.iter().enumerate() {
            match token.kind {
                Kind::Comment => scan_comment(token.inner, &mut self.r),
                Kind::Word if token.inner.eq_ignore_ascii_case("encrypted") && n > 0 => {
                    set(&mut self.r.tls_cipher, tokens[n - 1].inner);
                }
                Kind::Word if token.inner.eq_ignore_ascii_case("tls") => {
                    if let Some(next) = tokens.get(n + 1).filter(|t| t.kind == Kind::Word) {
                        set(&mut self.r.tls_cipher, next.inner);
                    }
                }
                Kind::Literal => {
                    self.note_literal(token);
                }
                _ => {}
            }
        }
    }

    /// Tokens before the first keyword: the leading comment (qmail, list servers).
    fn read_leading(&mut self, tokens: &[Token<'_>]) {
        if let Some(comment) = tokens.iter().find(|t| t.kind == Kind::Comment) {
            set(&mut self.r.comment, comment.inner.trim());
        }
        self.read_rest(tokens);
    }

    /// Checks a literal; returns its address when it contains one.
    fn note_literal(&mut self, token: &Token<'_>) -> Option<(IpAddr, Option<String>)> {
        let ip = parse_address(token.inner);
        if ip.is_none() && attempted_address(token.inner) {
            self.bad_literal = true;
        }
        ip
    }

    fn read_from(&mut self, tokens: &[Token<'_>]) {
        let mut rest = tokens;
        if let Some(first) = tokens.first() {
            let name = match first.kind {
                Kind::Word => Some(host_text(first.inner)),
                Kind::Literal if !first.inner.trim().is_empty() => {
                    self.from.name_ip = self.note_literal(first);
                    Some(first.text)
                }
                Kind::Angle | Kind::Quoted => Some(first.inner),
                _ => None,
            };
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                if first.kind == Kind::Word {
                    self.from.name_ip = parse_address(name);
                }
                self.from.name = Some(name.to_string());
                rest = &tokens[1..];
            }
        }

        let mut tcp_seen = false;
        let mut claiming = false;
        for (n, token) in rest.iter().enumerate() {
            match token.kind {
                Kind::Comment => {
                    let sub = tokenize(token.inner);
                    if !self.read_helo_comment(&sub) && !is_annotation_comment(&sub) {
                        self.read_tcp_info(&sub, !tcp_seen);
                        tcp_seen = true;
                    }
                    scan_comment(token.inner, &mut self.r);
                }
                Kind::Literal => {
                    let ip = self.note_literal(token);
                    if self.from.ip.is_none() {
                        self.from.ip = ip;
                    }
                }
                Kind::Word => {
                    let word = token.inner;
                    if word.eq_ignore_ascii_case("claiming") {
                        claiming = true;
                    } else if word.eq_ignore_ascii_case("user")
                        && n > 0
                        && rest[n - 1].inner.eq_ignore_ascii_case("as")
                    {
                        if let Some(user) = rest.get(n + 1) {
                            set(&mut self.r.auth_sender, user.inner);
                        }
                    } else if word.eq_ignore_ascii_case("encrypted") && n > 0 {
                        set(&mut self.r.tls_cipher, rest[n - 1].inner);
                    }
                }
                Kind::Quoted if claiming => {
                    set(&mut self.from.helo, token.inner);
                    claiming = false;
                }
                _ => {}
            }
        }
    }

    /// Reads a qmail/qpsmtpd `(HELO x)` comment; returns whether it was one.
    fn read_helo_comment(&mut self, sub: &[Token<'_>]) -> bool {
        let Some(first) = sub.first() else {
            return false;
        };
        if first.kind != Kind::Word || !is_helo_verb(first.inner) {
            return false;
        }
        self.from.qmail_style = true;
        if let Some(name) = sub.get(1) {
            set(&mut self.from.helo, name.text);
        }
        true
    }

    /// Reads the TCP-info comment after the from-name: reverse-DNS name, address, Exim
    /// `helo=`/`ident=`, Sendmail `IDENT:user@host`, qmail `user@ip`.
    fn read_tcp_info(&mut self, sub: &[Token<'_>], first_comment: bool) {
        let has_ip = sub.iter().any(|t| token_address(t).is_some());
        let mut skip_next = false;
        for (n, token) in sub.iter().enumerate() {
            if std::mem::take(&mut skip_next) {
                continue;
            }
            let next = sub.get(n + 1);
            let next_literal = next.filter(|t| t.kind == Kind::Literal);
            let leading = n == 0 && first_comment;
            match token.kind {
                Kind::Literal => {
                    if n == 0 && first_comment {
                        self.from.literal_first = true;
                    }
                    let ip = self.note_literal(token);
                    if self.from.ip.is_none() {
                        self.from.ip = ip;
                    }
                }
                Kind::Angle if leading => set(&mut self.from.rdns, token.inner),
                // ZMailer quotes the greeting: `([ip]:port "EHLO x" rhost-flags-OK-OK-OK-OK)`.
                Kind::Quoted => {
                    if let Some((verb, name)) = token.inner.trim().split_once(' ')
                        && is_helo_verb(verb)
                    {
                        self.from.exim_style = true;
                        set(&mut self.from.helo, name);
                    }
                }
                Kind::Word => {
                    let word = token.inner.trim_end_matches(',');
                    if let Some(value) = strip_prefix_ci(word, "helo=") {
                        self.from.exim_style = true;
                        let value = match (value.is_empty(), next_literal) {
                            (true, Some(literal)) => {
                                skip_next = true;
                                literal.text
                            }
                            _ => value,
                        };
                        set(&mut self.from.helo, value);
                    } else if let Some(value) = strip_prefix_ci(word, "ident=") {
                        self.from.exim_style = true;
                        let value = match (value.is_empty(), next_literal) {
                            (true, Some(literal)) => {
                                skip_next = true;
                                literal.inner
                            }
                            _ => value,
                        };
                        set(&mut self.r.ident, value);
                    } else if is_helo_verb(word) {
                        if let Some(name) = next {
                            set(&mut self.from.helo, name.text);
                            skip_next = true;
                        }
                    } else if word.eq_ignore_ascii_case("account") {
                        if let Some(user) = next.filter(|t| t.kind == Kind::Word) {
                            set(&mut self.r.auth_sender, user.inner);
                            skip_next = true;
                        }
                    } else if let Some(ip) = parse_address(word) {
                        let names_ip =
                            next_literal.is_some_and(|l| parse_address(l.inner).is_some());
                        if leading && names_ip {
                            set(&mut self.from.rdns, word);
                        } else if self.from.ip.is_none() {
                            self.from.ip = Some(ip);
                        }
                    } else if let Some((user, host)) = word.rsplit_once('@') {
                        self.read_user_at_host(user, host, leading, sub.get(n + 1..));
                    } else if leading
                        && is_hostname(word)
                        && !is_rdns_placeholder(word)
                        && (sub.len() == 1 || next_literal.is_some() || has_ip)
                    {
                        set(&mut self.from.rdns, word);
                    }
                }
                _ => {}
            }
        }
    }

    /// `IDENT:user@host`, `user@host`, `user@[ip]`, `user@ip with plain`.
    fn read_user_at_host(
        &mut self,
        user: &str,
        host: &str,
        leading: bool,
        after: Option<&[Token<'_>]>,
    ) {
        let user = strip_prefix_ci(user, "IDENT:").unwrap_or(user);
        let host_ip = parse_address(host);
        let next_is_literal = after
            .and_then(|a| a.first())
            .is_some_and(|t| t.kind == Kind::Literal);
        // Outside the first comment, only `user@ip` and `user@[ip]` are ident forms.
        if !leading && host_ip.is_none() && !(host.is_empty() && next_is_literal) {
            return;
        }
        if !user.is_empty() {
            set(&mut self.r.ident, user);
        }
        if let Some(ip) = host_ip {
            if self.from.ip.is_none() {
                self.from.ip = Some(ip);
            }
        } else if leading && is_hostname(host) {
            set(&mut self.from.rdns, host);
        }
        // qmail-smtpd with SMTP AUTH: `(user@ip with plain)`.
        let after = after.unwrap_or_default();
        if after
            .first()
            .is_some_and(|t| t.inner.eq_ignore_ascii_case("with"))
            && !user.is_empty()
        {
            set(&mut self.r.auth_sender, user);
        }
    }

    /// Reads a `from` after the first one: IBM and XMail write `from <sender>` for the envelope
    /// sender; other values (`via smail from stdin`) are ignored.
    fn read_second_from(&mut self, tokens: &[Token<'_>]) {
        if let Some(first) = tokens.first().filter(|t| t.kind == Kind::Angle) {
            set(&mut self.r.envelope_from, first.inner.trim());
        }
        self.read_rest(tokens);
    }

    fn read_by(&mut self, tokens: &[Token<'_>]) {
        let mut rest = tokens;
        if let Some(first) = tokens.first() {
            let host = match first.kind {
                Kind::Word => {
                    let host = host_text(first.inner);
                    self.r.by_ip = parse_address(host).map(|(ip, _)| ip);
                    Some(host)
                }
                Kind::Literal => {
                    if let Some((ip, zone)) = self.note_literal(first) {
                        self.r.by_ip = Some(ip);
                        self.r.by_ip_zone = zone;
                    }
                    Some(first.text)
                }
                Kind::Angle => Some(first.inner.trim()),
                _ => None,
            };
            if let Some(host) = host.filter(|h| !h.is_empty()) {
                self.r.by_host = Some(host.to_string());
                rest = &tokens[1..];
            }
        }

        let mut first_comment = true;
        for token in rest {
            match token.kind {
                Kind::Comment => {
                    self.read_by_comment(token, first_comment);
                    first_comment = false;
                }
                Kind::Literal => {
                    let ip = self.note_literal(token);
                    if self.r.by_ip.is_none()
                        && let Some((ip, zone)) = ip
                    {
                        self.r.by_ip = Some(ip);
                        self.r.by_ip_zone = zone;
                    }
                }
                _ => {}
            }
        }
    }

    /// Reads a comment after the by-host: its address, or the name of the receiving software.
    fn read_by_comment(&mut self, token: &Token<'_>, first_comment: bool) {
        let sub = tokenize(token.inner);
        let mut found_ip = false;
        for (n, part) in sub.iter().enumerate() {
            // A bare address counts only at the start: `(10.152.92.112)`, not the
            // version in `(Scalix SMTP Relay 10.0.1.3)`.
            let ip = match part.kind {
                Kind::Literal => self.note_literal(part),
                Kind::Word if n == 0 => parse_address(part.inner),
                _ => None,
            };
            if let Some((ip, zone)) = ip {
                found_ip = true;
                if self.r.by_ip.is_none() {
                    self.r.by_ip = Some(ip);
                    self.r.by_ip_zone = zone;
                }
            }
        }
        if !found_ip && first_comment && !is_annotation(token.inner) {
            let name = token.inner.split([',', ';']).next().unwrap_or("").trim();
            if !name.is_empty() {
                set(&mut self.r.mta, name);
            }
        }
        scan_comment(token.inner, &mut self.r);
    }

    fn read_with(&mut self, tokens: &[Token<'_>]) {
        // The value runs up to the first comment: `Microsoft SMTP Server (version=…)`.
        let value_len = tokens
            .iter()
            .position(|t| t.kind == Kind::Comment)
            .unwrap_or(tokens.len());
        let words = tokens[..value_len]
            .iter()
            .map(|t| match t.kind {
                Kind::Word => t.inner,
                _ => t.inner.trim(),
            })
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>();
        if !words.is_empty() {
            let protocol = words.join(" ");
            // `ESMTP/TLS/DHE-RSA-AES256-GCM-SHA384`: the protocol and the cipher in one.
            let parts: Vec<&str> = protocol.split('/').collect();
            if parts.len() >= 3 && parts[1].eq_ignore_ascii_case("TLS") {
                set(&mut self.r.tls_cipher, parts[parts.len() - 1]);
                self.r.protocol = Some(parts[0].to_string());
            } else {
                self.r.protocol = Some(protocol);
            }
        }
        self.read_rest(&tokens[value_len..]);
    }

    fn read_id(&mut self, tokens: &[Token<'_>]) {
        if let Some(first) = tokens.first() {
            let id = match first.kind {
                Kind::Word => first.inner.trim_end_matches(','),
                Kind::Angle | Kind::Literal | Kind::Quoted => first.inner.trim(),
                _ => "",
            };
            if !id.is_empty() {
                if is_exchange_build(id) {
                    self.r.exchange_build = Some(id.to_string());
                }
                self.r.id = Some(id.to_string());
            }
        }
        self.read_rest(tokens);
    }

    fn read_for(&mut self, tokens: &[Token<'_>]) {
        if let Some(first) = tokens.first() {
            let value = match first.kind {
                Kind::Word => first.inner.trim_end_matches(','),
                Kind::Angle | Kind::Quoted => first.inner.trim(),
                _ => "",
            };
            let is_address = value.contains('@') || value.eq_ignore_ascii_case("postmaster");
            if is_address {
                self.r.for_addr = Some(value.to_string());
            } else if !value.is_empty() {
                self.r.for_placeholder = Some(value.to_string());
            }
        }
        self.read_rest(tokens);
    }

    fn read_via(&mut self, tokens: &[Token<'_>]) {
        let words: Vec<&str> = tokens
            .iter()
            .take_while(|t| t.kind == Kind::Word)
            .map(|t| t.inner)
            .collect();
        if !words.is_empty() {
            self.r.via = Some(words.join(" "));
        }
        self.read_rest(tokens);
    }

    /// Turns the from-clause parts into hop fields.
    fn finish(mut self) -> Received {
        let from = std::mem::take(&mut self.from);
        let r = &mut self.r;
        let name = from.name.filter(|n| !is_rdns_placeholder(n));
        let exim = from.exim_style
            || (from.literal_first
                && r.mta
                    .as_deref()
                    .is_some_and(|m| m.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("exim"))));

        // Exim and qmail write the reverse-DNS name after `from`.
        if r.from_rdns.is_none() {
            r.from_rdns = from.rdns.clone();
        }
        if r.from_rdns.is_none()
            && ((exim && from.ip.is_some()) || from.qmail_style)
            && let Some(name) = name.as_deref()
            && from.name_ip.is_none()
            && !name.starts_with('[')
        {
            r.from_rdns = Some(name.to_string());
        }
        r.helo = from.helo.clone().or_else(|| name.clone());
        r.authenticated |= r.auth_sender.is_some();

        // The claimed name: qmail's `from rdns (HELO name)` puts it in the comment.
        r.from_host = if from.qmail_style {
            from.helo.or(name)
        } else {
            name.or(from.helo)
        };
        let (ip, zone) = match from.ip.or(from.name_ip) {
            Some((ip, zone)) => (Some(ip), zone),
            None => (None, None),
        };
        r.from_ip = ip;
        r.from_ip_zone = zone;
        self.r
    }
}

fn set(slot: &mut Option<String>, value: &str) {
    let value = value.trim();
    if slot.is_none() && !value.is_empty() {
        *slot = Some(value.to_string());
    }
}

fn is_helo_verb(word: &str) -> bool {
    ["HELO", "EHLO", "LHLO"]
        .iter()
        .any(|v| word.eq_ignore_ascii_case(v))
}

/// Returns a host name as written, without trailing punctuation that belongs to the sentence.
fn host_text(word: &str) -> &str {
    word.trim_end_matches([',', ';'])
}

/// Characters of a host name (letters, digits, `-`, `.`, `_`), with a letter or digit.
fn is_hostname(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && word.bytes().any(|b| b.is_ascii_alphanumeric())
}

/// Words that stand in the reverse-DNS slot when there is no name. `no-data` is Cisco
/// IronPort's (`from no-data (HELO x) ([ip])`).
fn is_rdns_placeholder(word: &str) -> bool {
    [
        "unknown",
        "no-data",
        "unverified",
        "verified",
        "authenticated",
        "softdnserr",
        "may",
        "using",
    ]
    .iter()
    .any(|p| word.eq_ignore_ascii_case(p))
}

/// Reads a comment after the from-name that is not TCP-info: `(AUTH: x)`, `(TLS: x)`,
/// `(using TLSv1.3 …)`, `(authenticated bits=0)`, `(envelope-from <x>)`.
fn is_annotation_comment(sub: &[Token<'_>]) -> bool {
    let Some(first) = sub.first().filter(|t| t.kind == Kind::Word) else {
        return false;
    };
    let word = first.inner;
    (word.ends_with(':') && parse_address(word).is_none())
        || [
            "using",
            "authenticated",
            "envelope-from",
            "envelope-sender",
            "no",
            "client",
            "uid",
        ]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
}

/// Tells whether a comment annotates rather than names software.
fn is_annotation(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("envelope-")
        || lower.contains('=')
        || lower.starts_with("using ")
        || lower.starts_with("authenticated")
        || lower.starts_with("orcpt")
}

/// Exchange builds as written in `id`: `15.20.4566.16` (four numeric parts, a major
/// version Exchange has used).
fn is_exchange_build(id: &str) -> bool {
    let parts: Vec<&str> = id.split('.').collect();
    parts.len() == 4
        && parts.iter().zip([2, 2, 5, 5]).all(|(p, max)| {
            !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
        })
        && parts[0]
            .parse::<u32>()
            .is_ok_and(|major| (6..=16).contains(&major))
}

// ---------------------------------------------------------------------------------------
// Comments

/// Reads the values any comment may carry: the envelope sender, the original recipient, TLS
/// parameters, the authenticated user, the Exim version. Fills only empty fields.
fn scan_comment(text: &str, r: &mut Received) {
    let lower = text.to_ascii_lowercase();

    // Envelope sender: `(envelope-from <x>)`, `(envelope-sender <x>)`, Exim's
    // `(envelope-from x, uid 502)`.
    for marker in ["envelope-from", "envelope-sender"] {
        if let Some(at) = find_ascii(&lower, marker) {
            let value = first_value(&text[at + marker.len()..]);
            set(&mut r.envelope_from, value);
        }
    }

    // List expansion: `(ORCPT <rfc822;member@example.net>)`.
    if let Some(at) = find_ascii(&lower, "orcpt") {
        let after = text[at + 5..].trim_start().trim_start_matches('<');
        let after = strip_prefix_ci(after, "rfc822;").unwrap_or(after);
        let end = after.find(['>', ' ', ')', ',']).unwrap_or(after.len());
        set(&mut r.orcpt, &after[..end]);
    }

    scan_tls(text, &lower, r);
    scan_auth(text, &lower, r);

    if lower.starts_with("exim ") {
        set(&mut r.mta, text);
    }
}

/// Returns the position of an ASCII `needle` in `text`. Comments are short, and a
/// two-way string search costs more to set up than to run on them.
fn find_ascii(text: &str, needle: &str) -> Option<usize> {
    let (haystack, needle) = (text.as_bytes(), needle.as_bytes());
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(i) = memchr::memchr(first, haystack.get(from..)?) {
        let at = from + i;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Returns the first value after a marker: an angle address without its brackets, or a word up
/// to a comma.
fn first_value(text: &str) -> &str {
    let text = text.trim_start_matches([' ', ':', '\t']);
    if let Some(inner) = text.strip_prefix('<') {
        return &inner[..inner.find('>').unwrap_or(inner.len())];
    }
    let end = text.find([',', ' ', ')', ';']).unwrap_or(text.len());
    &text[..end]
}

/// TLS parameters in the forms of Exchange/Gmail (`version=TLS1_2 cipher=X`), Postfix
/// (`using TLSv1.3 with cipher X`), Courier (`TLS: TLSv1/SSLv3, 168bits, X`) and Exim
/// (`TLS1.2`, `TLSv1:DES-CBC3-SHA:168`, `tls_cipher TLS-1.0:X:32`).
fn scan_tls(text: &str, lower: &str, r: &mut Received) {
    if let Some(at) = find_ascii(lower, "version=") {
        set(&mut r.tls_version, first_value(&text[at + 8..]));
    }
    if let Some(at) = find_ascii(lower, "cipher=") {
        set(&mut r.tls_cipher, first_value(&text[at + 7..]));
    }
    if let Some(at) = find_ascii(lower, "using ") {
        set(&mut r.tls_version, first_value(&text[at + 6..]));
        if let Some(c) = find_ascii(lower, "with cipher ") {
            set(&mut r.tls_cipher, first_value(&text[c + 12..]));
        }
    }
    if let Some(at) = find_ascii(lower, "tls: ") {
        let segment = &text[at + 5..];
        set(&mut r.tls_version, first_value(segment));
        let cipher = segment
            .split(',')
            .map(str::trim)
            .rfind(|p| p.contains(['-', '_']));
        if let Some(cipher) = cipher {
            set(&mut r.tls_cipher, first_value(cipher));
        }
    }

    // Exim: one token, optionally after `Cipher` or `tls_cipher`.
    let mut words = text.split_whitespace();
    let mut token = words.next().unwrap_or("");
    if token.eq_ignore_ascii_case("cipher") || token.eq_ignore_ascii_case("tls_cipher") {
        token = words.next().unwrap_or("");
    }
    let upper = token.to_ascii_uppercase();
    if (upper.starts_with("TLS") || upper.starts_with("SSL"))
        && token.len() > 3
        && (token.as_bytes()[3].is_ascii_digit()
            || matches!(token.as_bytes()[3], b'v' | b'V' | b'-' | b'_'))
        && words.next().is_none()
    {
        let mut fields = token.split(':');
        set(&mut r.tls_version, fields.next().unwrap_or(""));
        set(&mut r.tls_cipher, fields.next().unwrap_or(""));
    }
}

/// Reads the authenticated user: Postfix `Authenticated sender: x`, `authenticated user x`,
/// Courier/MDaemon `AUTH: MECH user`, CommuniGate `account x`. Sendmail's `(authenticated
/// bits=0)` names no user but still records a login.
fn scan_auth(text: &str, lower: &str, r: &mut Received) {
    // The word alone or followed by a space or `(`: not `authenticated.example.net` or
    // `authenticated=no`.
    if let Some(rest) = lower.strip_prefix("authenticated")
        && rest
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || c == '(')
    {
        r.authenticated = true;
    }
    for marker in ["authenticated sender:", "authenticated user "] {
        if let Some(at) = find_ascii(lower, marker) {
            set(&mut r.auth_sender, first_value(&text[at + marker.len()..]));
        }
    }
    if let Some(at) = find_ascii(lower, "auth: ") {
        let segment = text[at + 6..].split(',').next().unwrap_or("");
        let words: Vec<&str> = segment.split_whitespace().collect();
        if let Some(user) = words.get(1).or(words.first()) {
            set(&mut r.auth_sender, user);
        }
    }
    if lower.starts_with("account ") {
        set(&mut r.auth_sender, first_value(&text[8..]));
    }
}

// ---------------------------------------------------------------------------------------
// Addresses

/// Reads an address from the inside of a literal or a bare word: strips an `IPv6:`
/// prefix, a port (`1.2.3.4:25`, Exim's `1.2.3.4.25`) and surrounding parentheses, keeps
/// a zone id apart and unmaps IPv4-mapped IPv6.
fn parse_address(text: &str) -> Option<(IpAddr, Option<String>)> {
    let text = text.trim().trim_end_matches(',');
    let text = text.trim_matches(['(', ')']);
    let text = strip_prefix_ci(text, "IPv6:").unwrap_or(text);
    let (addr, zone) = match text.split_once('%') {
        Some((addr, zone)) => (addr, Some(zone).filter(|z| !z.is_empty())),
        None => (text, None),
    };
    // Host names, the usual tokens here, fail this test without running the address parsers.
    if !addr
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    {
        return None;
    }
    let ip = addr
        .parse::<IpAddr>()
        .ok()
        .or_else(|| ipv4_with_port(addr))?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    Some((ip, zone.map(str::to_string)))
}

fn ipv4_with_port(text: &str) -> Option<IpAddr> {
    if let Some((addr, port)) = text.rsplit_once(':')
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
    {
        return addr.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4);
    }
    if text.bytes().filter(|&b| b == b'.').count() != 4 {
        return None;
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() == 5
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return parts[..4].join(".").parse().ok().map(IpAddr::V4);
    }
    None
}

/// Returns the address in a TCP-info token, if any.
fn token_address(token: &Token<'_>) -> Option<(IpAddr, Option<String>)> {
    match token.kind {
        Kind::Literal => parse_address(token.inner),
        Kind::Word => parse_address(token.inner).or_else(|| {
            token
                .inner
                .rsplit_once('@')
                .and_then(|(_, host)| parse_address(host))
        }),
        _ => None,
    }
}

/// Literal text that tries to be an address (digits, dots, colons) without being one.
fn attempted_address(inner: &str) -> bool {
    let text = strip_prefix_ci(inner.trim(), "IPv6:").unwrap_or(inner.trim());
    !text.is_empty()
        && text.contains(['.', ':'])
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'%' | b'?'))
}

// ---------------------------------------------------------------------------------------
// Date

/// Where the date of a field was found.
enum Located {
    /// A date was read; `semicolon` tells whether a `;` introduced it; `skip` covers the
    /// `;` and the date.
    Found {
        parsed: ParsedDate,
        date: std::ops::Range<usize>,
        skip: std::ops::Range<usize>,
        semicolon: bool,
    },
    /// Text after the last `;` that is not a date.
    Unreadable {
        parsed: ParsedDate,
        skip: std::ops::Range<usize>,
    },
    Missing,
}

impl Located {
    fn skipped_range(&self) -> std::ops::Range<usize> {
        match self {
            Located::Found { skip, .. } | Located::Unreadable { skip, .. } => skip.clone(),
            Located::Missing => 0..0,
        }
    }
}

/// Date attempts made without a `;`, to keep the parse linear.
const MAX_DATE_ATTEMPTS: usize = 8;

fn locate_date(value: &str, tokens: &[Token<'_>]) -> Located {
    let semicolon = tokens.iter().rposition(|t| t.kind == Kind::Semicolon);
    let mut limit = tokens.len();
    if let Some(k) = semicolon {
        let after = &tokens[k + 1..];
        if let Some(first) = after.iter().find(|t| t.kind != Kind::Comment) {
            let base = tokens[k].end;
            let (parsed, range) = date::parse_date_at(&value[base..]);
            if parsed.parts.is_some() {
                let date = base + range.start..base + range.end;
                return Located::Found {
                    parsed,
                    skip: tokens[k].start..date.end,
                    date,
                    semicolon: true,
                };
            }
            let mut parsed = parsed;
            parsed.raw = value[first.start..].trim().to_string();
            return Located::Unreadable {
                parsed,
                skip: tokens[k].start..value.len(),
            };
        }
        limit = k;
    }

    // No `;` before a date: try the places where a date may start.
    let mut attempts = 0;
    for (n, token) in tokens[..limit].iter().enumerate() {
        let in_value_slot = n > 0 && keyword(&tokens[n - 1]).is_some();
        if token.kind != Kind::Word || in_value_slot {
            continue;
        }
        let next = tokens.get(n + 1).map(|t| t.inner);
        if !date::may_start_date(token.inner, next) {
            continue;
        }
        attempts += 1;
        if attempts > MAX_DATE_ATTEMPTS {
            break;
        }
        let (parsed, range) = date::parse_date_at(&value[token.start..]);
        if parsed.parts.is_some() {
            let date = token.start + range.start..token.start + range.end;
            return Located::Found {
                parsed,
                skip: date.clone(),
                date,
                semicolon: semicolon.is_some(),
            };
        }
    }
    Located::Missing
}

/// Sets the date fields and the date findings.
fn apply_date(
    r: &mut Received,
    value: &str,
    tokens: &[Token<'_>],
    located: Located,
    has_clause: bool,
) {
    match located {
        Located::Found {
            parsed,
            date,
            semicolon,
            ..
        } => {
            r.date_raw = Some(date_text(value, tokens, date));
            r.timestamp = parsed.timestamp;
            r.findings.extend(parsed.findings);
            if !semicolon && has_clause {
                r.findings.push(Finding::new(
                    "chain.missing-semicolon",
                    Severity::Low,
                    "No `;` before the Received date",
                    "RFC 5322 section 3.6.7 puts a `;` between the Received clauses and the date; this field has none, so the date was found by its form.",
                ));
            }
            if let Some(parts) = parsed.parts {
                check_plausible(r, parts.year, parts.month);
            }
        }
        Located::Unreadable { parsed, .. } => {
            r.date_raw = Some(parsed.raw.clone());
            r.findings.extend(parsed.findings);
        }
        Located::Missing => r.findings.push(Finding::new(
            "chain.received-missing-date",
            Severity::Medium,
            "Received field without a date",
            "Every Received field ends with the date it was added (RFC 5322 section 3.6.7); this one has none.",
        )),
    }
}

/// The date text, with a comment right after it that only names the zone.
fn date_text(value: &str, tokens: &[Token<'_>], date: std::ops::Range<usize>) -> String {
    let mut end = date.end;
    if let Some(next) = tokens.iter().find(|t| t.start >= date.end)
        && next.kind == Kind::Comment
        && !next.inner.contains(['<', '=', '@'])
    {
        end = next.end;
    }
    value[date.start..end]
        .trim()
        .chars()
        .filter(|&c| c != '\r' && c != '\n')
        .collect()
}

/// A Received date cannot be before mail existed on the Internet's clock (1970) or more
/// than a year ahead; such a parse is rejected.
fn check_plausible(r: &mut Received, year: i32, month: u32) {
    let latest = Utc::now().year() + 1;
    if month > 12 || year < 1970 || year > latest {
        r.timestamp = None;
        r.findings.push(Finding::new(
            "chain.impossible-date",
            Severity::Medium,
            "Impossible Received date",
            format!(
                "The date `{}` gives month {month} of year {year}; a Received date must fall between 1970 and {latest}, so no timestamp was derived.",
                r.date_raw.as_deref().unwrap_or("")
            ),
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Field-level checks

fn check_field(r: &mut Received, value: &str, has_clause: bool, bad_literal: bool) {
    if !has_clause && r.comment.is_none() {
        r.findings.push(Finding::new(
            "chain.malformed-received",
            Severity::Medium,
            "Malformed Received field",
            "The field has none of the clauses from, by, via, with, id or for (RFC 5321 section 4.4).",
        ));
    }
    if bad_literal || unbalanced_brackets(value) {
        r.findings.push(Finding::new(
            "chain.malformed-address-literal",
            Severity::Low,
            "Malformed address literal",
            "An address literal in the field is broken (a doubled or stray bracket, or text that is not an address); the hop was kept.",
        ));
    }
    // A loopback address in the slot is a local hand-over (MailEnable writes
    // `from (127.0.0.1 [127.0.0.1])` for its own connectors), not a missing PTR record.
    if let Some(rdns) = r.from_rdns.as_deref()
        && parse_address(rdns).is_some_and(|(ip, _)| !ip.is_loopback())
    {
        let detail = format!(
            "The reverse-DNS slot holds the address `{rdns}` where a host name belongs: the connecting address has no PTR record, or the field was written by hand."
        );
        r.findings.push(Finding::new(
            "chain.ip-as-rdns",
            Severity::Low,
            "Address in the reverse-DNS slot",
            detail,
        ));
    }
    for host in [r.from_host.clone(), r.by_host.clone()]
        .into_iter()
        .flatten()
    {
        if is_container_id(&host) {
            r.findings.push(Finding::new(
                "chain.container-style-hostname",
                Severity::Info,
                "Container-style host name",
                format!("`{host}` looks like a container id (12 hex digits): the hop ran in a container that had no real host name."),
            ));
        }
    }
}

/// A `[` opened inside another, or a `]` that closes nothing.
fn unbalanced_brackets(value: &str) -> bool {
    let mut open = false;
    for b in value.bytes() {
        match b {
            b'[' if open => return true,
            b'[' => open = true,
            b']' if !open => return true,
            b']' => open = false,
            _ => {}
        }
    }
    false
}

/// Twelve lower-case hex digits with both letters and digits, like a Docker container id.
fn is_container_id(host: &str) -> bool {
    host.len() == 12
        && host
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && host.bytes().any(|b| b.is_ascii_digit())
        && host.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns one field of `r` as text, by its JSON name.
    fn field(r: &Received, name: &str) -> Option<String> {
        let json = serde_json::to_value(r).unwrap();
        match &json[name] {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    fn ids(r: &Received) -> Vec<&str> {
        r.findings.iter().map(|f| f.id.as_str()).collect()
    }

    /// (value, expected fields as name=value; `name=` expects the field to be absent,
    /// expected finding ids)
    const CASES: &[(&str, &[&str], &[&str])] = &[
        // Postfix.
        (
            "from mail-out.example.com (mail-out.example.com [203.0.113.10]) by mx.example.org (Postfix) with ESMTP id 4F3D21234 for <user@example.org>; Tue, 12 Mar 2024 10:30:00 +0000 (UTC)",
            &[
                "from_host=mail-out.example.com",
                "from_rdns=mail-out.example.com",
                "from_ip=203.0.113.10",
                "helo=mail-out.example.com",
                "by_host=mx.example.org",
                "mta=Postfix",
                "protocol=ESMTP",
                "id=4F3D21234",
                "for_addr=user@example.org",
                "timestamp=2024-03-12T10:30:00Z",
                "date_raw=Tue, 12 Mar 2024 10:30:00 +0000 (UTC)",
                "by_clause_count=1",
            ],
            &[],
        ),
        (
            "from localhost (unknown [IPv6:2001:db8::25]) (using TLSv1 with cipher AES256-SHA (256/256 bits)) (Client did not present a certificate) (Authenticated sender: alice) by smtp.example.com (Postfix) with ESMTPSA id 4F3A21C0099; Sun, 23 Jun 2019 08:00:00 -0700 (PDT)",
            &[
                "from_host=localhost",
                "from_rdns=",
                "from_ip=2001:db8::25",
                "auth_sender=alice",
                "tls_version=TLSv1",
                "tls_cipher=AES256-SHA",
                "id=4F3A21C0099",
                "timestamp=2019-06-23T15:00:00Z",
            ],
            &[],
        ),
        // Exim.
        (
            "from mail.example.net ([198.51.100.23] helo=[192.0.2.99] ident=nobody) by mx.example.org with esmtps (TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <bounce@example.net>) id 1aBcDe-000Xy1-By for user@example.org; Tue, 17 May 2022 05:55:28 +0000",
            &[
                "from_host=mail.example.net",
                "from_rdns=mail.example.net",
                "from_ip=198.51.100.23",
                "helo=[192.0.2.99]",
                "ident=nobody",
                "by_clause_count=1",
                "protocol=esmtps",
                "tls_version=TLS1.2",
                "tls_cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "mta=Exim 4.96",
                "envelope_from=bounce@example.net",
                "id=1aBcDe-000Xy1-By",
                "for_addr=user@example.org",
            ],
            &[],
        ),
        (
            "from [61.174.163.26] (helo=host) by list.example.net with smtp (Exim 3.31) id 18t2z0-0001NX-00 for <list@example.net>; Wed, 12 Mar 2003 01:57:10 -0800",
            &[
                "from_host=[61.174.163.26]",
                "from_ip=61.174.163.26",
                "helo=host",
                "from_rdns=",
            ],
            &[],
        ),
        // qmail.
        (
            "from unknown (HELO mail.example.net) (198.51.100.77) by mx.example.org with SMTP; 25 Jan 2011 12:31:11 -0000",
            &[
                "from_host=mail.example.net",
                "helo=mail.example.net",
                "from_rdns=",
                "from_ip=198.51.100.77",
                "protocol=SMTP",
                "local=false",
            ],
            &["date.unknown-local-zone"],
        ),
        (
            "from dsl.198-51-100-102.example.net (HELO WORKSTATION) (198.51.100.102) by mail.example.net with SMTP; 16 Sep 2002 01:59:32 -0000",
            &[
                "from_host=WORKSTATION",
                "helo=WORKSTATION",
                "from_rdns=dsl.198-51-100-102.example.net",
                "from_ip=198.51.100.102",
                "by_host=mail.example.net",
            ],
            &["date.unknown-local-zone"],
        ),
        (
            "from host-198-51-100-9.example.net ([198.51.100.9]:51782 \"EHLO mail.example.org\" rhost-flags-OK-OK-OK-OK) by lists.example.com with ESMTP id S932513Ab0KOTHI; Mon, 15 Nov 2010 14:07:08 -0500",
            &[
                "from_host=host-198-51-100-9.example.net",
                "helo=mail.example.org",
                "from_rdns=host-198-51-100-9.example.net",
                "from_ip=198.51.100.9",
            ],
            &[],
        ),
        (
            "from mail.example.net (authenticated.example.net [203.0.113.39]) (authenticated=no) by smtp.example.net with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000",
            &["from_rdns=authenticated.example.net", "authenticated=false"],
            &[],
        ),
        (
            "from [10.0.0.5] (host.example.net [203.0.113.39]) (authenticated bits=0) by smtp.example.net (8.12.5/8.12.5) with ESMTP id g7ME4aB1; Mon, 1 Jan 2024 10:00:00 +0000",
            &["authenticated=true"],
            &[],
        ),
        (
            "from no-data (HELO mail.example.net) ([198.51.100.8]) by esa1.example.org with ESMTP; 13 Sep 2018 14:47:44 -0000",
            &[
                "from_host=mail.example.net",
                "helo=mail.example.net",
                "from_rdns=",
                "from_ip=198.51.100.8",
            ],
            &["date.unknown-local-zone"],
        ),
        (
            "from relay.example.net (HELO EXAMPLE-PC) by mx.example.org with SMTP; 13 Sep 2018 14:47:44 -0000",
            &[
                "from_host=EXAMPLE-PC",
                "helo=EXAMPLE-PC",
                "from_rdns=relay.example.net",
                "from_ip=",
            ],
            &["date.unknown-local-zone"],
        ),
        (
            "from mail.example.net (198.51.100.77) by mx.example.org with SMTP; 25 Jan 2011 12:31:11 -0000",
            &[
                "from_host=mail.example.net",
                "helo=mail.example.net",
                "from_ip=198.51.100.77",
            ],
            &["date.unknown-local-zone"],
        ),
        (
            "(qmail 24365 invoked by uid 99); 25 Jan 2011 12:31:09 -0000",
            &[
                "from_host=",
                "by_host=",
                "local=true",
                "comment=qmail 24365 invoked by uid 99",
                "timestamp=2011-01-25T12:31:09Z",
            ],
            &["date.unknown-local-zone"],
        ),
        (
            "from host.example.net (HELO other.example) (user@198.51.100.9 with plain) by smtp.example.com with SMTP; 11 Mar 2003 21:03:28 -0000",
            &[
                "from_host=other.example",
                "from_rdns=host.example.net",
                "helo=other.example",
                "ident=user",
                "auth_sender=user",
                "from_ip=198.51.100.9",
            ],
            &["date.unknown-local-zone"],
        ),
        // Exchange.
        (
            "from AM0EUR01FT001.eop-EUR01.prod.protection.example.com (2001:db8:208:15:cafe::d2) by AM0PR01CA0001.outlook.example.com (2001:db8:208:15::29) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.4566.16 via Frontend Transport; Thu, 30 Sep 2021 11:40:15 +0000",
            &[
                "from_ip=2001:db8:208:15:cafe::d2",
                "by_ip=2001:db8:208:15::29",
                "protocol=Microsoft SMTP Server",
                "tls_version=TLS1_2",
                "tls_cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "exchange_build=15.20.4566.16",
                "id=15.20.4566.16",
                "via=Frontend Transport",
                "from_rdns=",
            ],
            &[],
        ),
        (
            "from MBX01.corp.example.com ([fe80::a1b2:c3d4:e5f6:1]) by MBX01.corp.example.com ([fe80::a1b2:c3d4:e5f6:1%9]]) with mapi id 15.20.1234.5; Tue, 4 Mar 2025 10:15:30 +0000",
            &[
                "from_ip=fe80::a1b2:c3d4:e5f6:1",
                "by_ip=fe80::a1b2:c3d4:e5f6:1",
                "by_ip_zone=9",
                "protocol=mapi",
                "id=15.20.1234.5",
            ],
            &["chain.malformed-address-literal"],
        ),
        // Gmail.
        (
            "by 2002:a05:6a10:8a8c:b0:4a3:1234:5678 with SMTP id x12csp345678pxy; Mon, 10 Oct 2022 10:31:15 -0700 (PDT)",
            &[
                "by_host=2002:a05:6a10:8a8c:b0:4a3:1234:5678",
                "by_ip=2002:a05:6a10:8a8c:b0:4a3:1234:5678",
                "protocol=SMTP",
                "id=x12csp345678pxy",
                "from_host=",
            ],
            &[],
        ),
        (
            "from [192.168.1.186] ([203.0.113.39]) by smtp.example.com with ESMTPSA id a1sm1234567qkb.12.2013.08.06.07.40.15 for <multiple recipients> (version=TLSv1 cipher=RC4-SHA bits=128/128); Tue, 06 Aug 2013 07:40:18 -0700 (PDT)",
            &[
                "from_host=[192.168.1.186]",
                "helo=[192.168.1.186]",
                "from_ip=203.0.113.39",
                "for_addr=",
                "for_placeholder=multiple recipients",
                "tls_version=TLSv1",
                "tls_cipher=RC4-SHA",
                "timestamp=2013-08-06T14:40:18Z",
            ],
            &[],
        ),
        // SendGrid: no `;`, Go time format.
        (
            "by filter0001p1xyz1.example.net with SMTP id filter0001p1xyz1-10001-5EEA0000-1 2020-06-17 16:39:24.757045452 +0000 UTC m=+349867.495769315",
            &[
                "by_host=filter0001p1xyz1.example.net",
                "protocol=SMTP",
                "id=filter0001p1xyz1-10001-5EEA0000-1",
                "timestamp=2020-06-17T16:39:24.757045452Z",
            ],
            &["chain.missing-semicolon"],
        ),
        (
            "from smtp.example.com (out-8.smtp.example.com [192.0.2.199]) by ismtpd0003p1xyz1.example.net (SG) with ESMTP id aBcDeFgHiJkLmNoPqRsTuV Mon, 26 Mar 2018 13:35:36.102 +0000 (UTC)",
            &[
                "id=aBcDeFgHiJkLmNoPqRsTuV",
                "timestamp=2018-03-26T13:35:36.102Z",
            ],
            &["chain.missing-semicolon"],
        ),
        (
            "from filter.example.net by filter0123.example.net with SMTP 2024-03-15 10:30:00.123456789 +0000 UTC m=+12345.678901234",
            &["protocol=SMTP", "timestamp=2024-03-15T10:30:00.123456789Z"],
            &["chain.missing-semicolon"],
        ),
        // Keyword look-alikes.
        (
            "from mail.example.co.id ([198.51.100.14]) by mx.example.by with esmtps id 1qWeRt-0001ab-Z9 for user@example.org; Sun, 28 Nov 2021 16:54:15 +0100",
            &[
                "from_host=mail.example.co.id",
                "by_host=mx.example.by",
                "id=1qWeRt-0001ab-Z9",
                "timestamp=2021-11-28T15:54:15Z",
            ],
            &[],
        ),
        // List servers.
        (
            "(majordomo@vger.example.org) by vger.example.org via listexpand id S123456AbcDEF (ORCPT <rfc822;member@example.net>); Thu, 10 Jun 2021 04:31:24 -0400",
            &[
                "comment=majordomo@vger.example.org",
                "by_host=vger.example.org",
                "via=listexpand",
                "id=S123456AbcDEF",
                "orcpt=member@example.net",
                "local=false",
                "timestamp=2021-06-10T08:31:24Z",
            ],
            &[],
        ),
        // Domino: `from <sender>` after `for`.
        (
            "from localhost by gw.example.com with IBM ESMTP SMTP Gateway: Authorized Use Only! for <user@example.org> from <sender@example.com>; Wed, 8 Mar 2017 16:46:25 -0000",
            &[
                "from_host=localhost",
                "for_addr=user@example.org",
                "envelope_from=sender@example.com",
                "protocol=IBM ESMTP SMTP Gateway: Authorized Use Only!",
            ],
            &["date.unknown-local-zone"],
        ),
        // Clauses after the date, comments after the date.
        (
            "by relay.example.com id a1b2c3d4e5f6 for <first.last@example.org>; Sun, 1 Apr 2018 03:01:53 -0400 (envelope-from <bounce@example.com>)",
            &[
                "envelope_from=bounce@example.com",
                "date_raw=Sun, 1 Apr 2018 03:01:53 -0400",
                "timestamp=2018-04-01T07:01:53Z",
            ],
            &[],
        ),
        (
            "from olgisoft.example (127.0.0.1) by 127.0.0.1 (EzMTS MTSSmtp 1.55d5) ; Thu, 20 Mar 03 10:06:43 +0100 for <asrg@example.org>",
            &[
                "by_ip=127.0.0.1",
                "for_addr=asrg@example.org",
                "timestamp=2003-03-20T09:06:43Z",
            ],
            &[],
        ),
        // Findings.
        (
            "from example.de (192.0.2.4 [192.0.2.4]) by mail.example.com with ESMTP id ex-1; Fri, 12 Dec 2025 16:29:29 +0000",
            &["from_rdns=192.0.2.4", "from_ip=192.0.2.4"],
            &["chain.ip-as-rdns"],
        ),
        // MailEnable's local connector: a loopback address in the slot is no missing PTR.
        (
            "from (127.0.0.1 [127.0.0.1]) by mail.example.com with MailEnable ESMTP; Fri, 12 Dec 2025 16:29:29 +0000",
            &["from_rdns=127.0.0.1", "from_ip=127.0.0.1"],
            &[],
        ),
        (
            "from 4f2a9c7d1e3b (relay-03 [10.20.30.40]) by notify.example.com (Postfix) with ESMTP id E01ABC2345 for <r@example.org>; Thu,  2 Feb 2023 18:08:32 -0500 (EST)",
            &["from_rdns=relay-03", "exchange_build=", "mta=Postfix"],
            &["chain.container-style-hostname"],
        ),
        (
            "Wed, 7 Jun 2017 11:35:20 -0400",
            &["from_host=", "by_host=", "timestamp=2017-06-07T15:35:20Z"],
            &["chain.malformed-received"],
        ),
        (
            "from evil.example.net",
            &["from_host=evil.example.net", "date_raw=", "timestamp="],
            &["chain.received-missing-date"],
        ),
        (
            "from a.example.net by b.example.org; 10 Mar 1960 10:00:00 +0000",
            &["timestamp=", "date_raw=10 Mar 1960 10:00:00 +0000"],
            &["chain.impossible-date"],
        ),
        (
            "from a.example.net by b.example.org; 10 13 2024 10:00:00 +0000",
            &["timestamp="],
            &["date.invalid", "chain.impossible-date"],
        ),
        (
            "from a.example.net by b.example.org; jue ago 30 13:55:12 2007",
            &["timestamp=", "date_raw=jue ago 30 13:55:12 2007"],
            &["date.locale-date"],
        ),
        (
            "",
            &["from_host=", "timestamp="],
            &["chain.malformed-received", "chain.received-missing-date"],
        ),
        (
            "from x.example by y.example (Exim) with esmtp; Mon, 1 Jan 2024 00:00:00 +0000",
            &["from_ip=", "by_host=y.example"],
            &[],
        ),
        // Oddities of older MTAs.
        (
            "from snake.example.com(192.0.2.229) by x.example.org via smap (V1.3) id xma093673; Wed, 26 Mar 03 20:43:24 -0600",
            &[
                "from_host=snake.example.com",
                "from_ip=192.0.2.229",
                "via=smap",
                "id=xma093673",
                "timestamp=2003-03-27T02:43:24Z",
            ],
            &[],
        ),
        (
            "from ran-out.example.com (IDENT:qmailr@one.example.com [192.0.2.115]) by dogma.example.org (8.11.6/8.11.6) with SMTP id h381Vvf19860; Tue, 8 Apr 2003 02:31:57 +0100",
            &[
                "ident=qmailr",
                "from_rdns=one.example.com",
                "from_ip=192.0.2.115",
                "mta=8.11.6/8.11.6",
            ],
            &[],
        ),
        (
            "from bushinternet.example (softdnserr [::ffff:192.0.2.67]) by mail.example.fi with esmtp; Fri, 22 Aug 2003 12:25:41 +0300",
            &["from_ip=192.0.2.67", "from_rdns="],
            &[],
        ),
        (
            "from [<4124973@be2.example.com>] ([<4124973@be2.example.com>] helo=example.com)  by 643852-mailer2 (envelope-from 4124973@be2.example.com) Jetsend MTA 0.0.1 with ESMTP; Fri Sep 14 14:36:56 EDT 2018",
            &[
                "helo=example.com",
                "envelope_from=4124973@be2.example.com",
                "protocol=ESMTP",
                "timestamp=2018-09-14T18:36:56Z",
            ],
            &[],
        ),
    ];

    #[test]
    fn parses_the_table() {
        for &(value, fields, expected_ids) in CASES {
            let r = parse_received(value);
            for spec in fields {
                let (name, want) = spec.split_once('=').unwrap();
                let want = (!want.is_empty()).then(|| want.to_string());
                assert_eq!(field(&r, name), want, "{name} of {value:?}");
            }
            let got = ids(&r);
            for id in expected_ids {
                assert!(got.contains(id), "{id} missing for {value:?}: {got:?}");
            }
            if expected_ids.is_empty() {
                assert!(
                    got.iter().all(|id| !id.starts_with("chain.")),
                    "unexpected {got:?} for {value:?}"
                );
            }
        }
    }

    #[test]
    fn recognises_keywords_only_as_whole_tokens_outside_comments() {
        let r = parse_received(
            "from a.example.id (a.example.id [192.0.2.1]) (did not verify; by the way) by b.example.by with SMTP id 1-By; Mon, 1 Jan 2024 00:00:00 +0000",
        );
        assert_eq!(r.by_clause_count, 1);
        assert_eq!(r.by_host.as_deref(), Some("b.example.by"));
        assert_eq!(r.id.as_deref(), Some("1-By"));
        assert!(r.timestamp.is_some());
    }

    #[test]
    fn stays_linear_on_hostile_input() {
        let mut value = String::from("from a.example (b.example [192.0.2.1]) by c.example ");
        for n in 0..8_000 {
            value.push_str(&format!("w{n:05} "));
        }
        value.push_str(&"[".repeat(2_000));
        value.push_str(&"(".repeat(2_000));
        value.push_str(&"Mon 1 ".repeat(1_000));
        value.push_str(&"by x with y ".repeat(1_000));
        assert!(value.len() > 60_000);
        let start = std::time::Instant::now();
        for _ in 0..20 {
            let _ = parse_received(&value);
        }
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    }
}
