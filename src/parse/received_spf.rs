//! Received-SPF (RFC 7208 section 9.1): the SPF verdict a receiver recorded, with the
//! client address, envelope sender and HELO it checked.
//!
//! ```text
//! Received-SPF: pass (mybox.example.org: domain of myname@example.com designates
//!     192.0.2.1 as permitted sender) receiver=mybox.example.org; client-ip=192.0.2.1;
//!     envelope-from="myname@example.com"; helo=foo.example.com;
//! ```
//!
//! The parser is lenient: pairs may be separated by spaces instead of `;` (seen from
//! Exchange and several filters), the result may be capitalised (`Pass`, `SoftFail`) and
//! the pre-RFC 4408 words `error` and `unknown` are read as `temperror` and `permerror`.

use crate::finding::{Finding, Severity};
use crate::parse::authres::{Cursor, clip, is_wsp, quote_list};
use serde::Serialize;
use std::net::IpAddr;

/// Results of RFC 7208 section 2.6.
const RESULTS: &[&str] = &[
    "pass",
    "fail",
    "softfail",
    "neutral",
    "none",
    "temperror",
    "permerror",
];

/// Older spellings: `error` and `unknown` come from the drafts before RFC 4408, `hardfail`
/// from RFC 5451.
const RESULT_ALIASES: &[(&str, &str)] = &[
    ("error", "temperror"),
    ("unknown", "permerror"),
    ("hardfail", "fail"),
];

/// A parsed Received-SPF field.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReceivedSpf {
    /// Result in lower case, mapped to an RFC 7208 result where an old spelling is known;
    /// empty when the field has no result word.
    pub result: String,
    /// Result as written.
    pub result_raw: String,
    /// Text of the comment after the result, without its parentheses.
    pub comment: Option<String>,
    /// `receiver=` pair: the host that ran the check.
    pub receiver: Option<String>,
    /// Host name before the `:` that opens the comment (`(mx.example.org: ...)`, as in the
    /// example of RFC 7208 section 9.1); it names the receiver when `receiver=` is absent.
    pub comment_receiver: Option<String>,
    pub client_ip: Option<IpAddr>,
    /// First IP address written in the comment (`designates 192.0.2.1 as permitted
    /// sender`), which some receivers record instead of a `client-ip=` pair.
    pub comment_ip: Option<IpAddr>,
    pub envelope_from: Option<String>,
    pub helo: Option<String>,
    /// Identity that was checked: `mailfrom` or `helo`.
    pub identity: Option<String>,
    pub mechanism: Option<String>,
    pub problem: Option<String>,
    /// Every `key=value` pair in order, keys in lower case, including unknown keys.
    pub pairs: Vec<(String, String)>,
    pub findings: Vec<Finding>,
}

/// Parses a Received-SPF field value.
pub fn parse_received_spf(value: &str) -> ReceivedSpf {
    let mut cursor = Cursor::new(value);
    let mut comments = Vec::new();
    let mut spf = ReceivedSpf::default();
    let mut stray = Vec::new();

    // Step 1: the result word, then the comment that explains it.
    cursor.skip_cfws(&mut comments);
    spf.result_raw = cursor
        .take_while(|c| !is_wsp(c) && c != '(' && c != ';')
        .to_string();
    let (result, known) = normalise_spf_result(&spf.result_raw);
    spf.result = result;

    // Step 2: the key-value list.
    loop {
        cursor.skip_cfws(&mut comments);
        if cursor.at_end() {
            break;
        }
        if cursor.eat(';') {
            continue;
        }
        read_pair(&mut cursor, &mut comments, &mut spf.pairs, &mut stray);
    }

    // Step 3: the known keys and what the comment adds.
    spf.comment = comments.into_iter().next();
    spf.comment_receiver = spf.comment.as_deref().and_then(comment_receiver);
    spf.comment_ip = spf.comment.as_deref().and_then(first_ip);
    let bad_ip = apply_known_keys(&mut spf);
    spf.findings = findings(&spf, known, bad_ip, &stray, cursor.unterminated);
    spf
}

/// Reads one `key=value` pair, or keeps a token that is not one in `stray`.
fn read_pair(
    cursor: &mut Cursor<'_>,
    comments: &mut Vec<String>,
    pairs: &mut Vec<(String, String)>,
    stray: &mut Vec<String>,
) {
    let start = cursor.pos;
    let key = cursor.take_while(|c| !is_wsp(c) && !matches!(c, '=' | ';' | '(' | '"'));
    if key.is_empty() {
        if cursor.peek() == Some('"') {
            cursor.read_quoted();
        } else {
            cursor.advance_char();
        }
        stray.push(cursor.slice(start, cursor.pos).to_string());
        return;
    }
    let after_key = cursor.pos;
    cursor.skip_cfws(comments);
    if !cursor.eat('=') {
        stray.push(cursor.slice(start, after_key).to_string());
        return;
    }
    cursor.skip_cfws(comments);
    let value = if cursor.peek() == Some('"') {
        cursor.read_quoted()
    } else {
        cursor
            .take_while(|c| !is_wsp(c) && !matches!(c, ';' | '(' | '"'))
            .to_string()
    };
    pairs.push((key.to_ascii_lowercase(), value));
}

/// Fills the named fields from the pairs; returns a `client-ip` value that is no address.
fn apply_known_keys(spf: &mut ReceivedSpf) -> Option<String> {
    let first = |key: &str| {
        spf.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    spf.receiver = first("receiver");
    spf.envelope_from = first("envelope-from");
    spf.helo = first("helo");
    spf.identity = first("identity");
    spf.mechanism = first("mechanism");
    spf.problem = first("problem");
    let raw_ip = first("client-ip")?;
    spf.client_ip = parse_ip(&raw_ip);
    spf.client_ip.is_none().then_some(raw_ip)
}

/// Returns the normalised result and whether it is an RFC 7208 result (ignoring case).
fn normalise_spf_result(raw: &str) -> (String, bool) {
    let lower = raw.to_ascii_lowercase();
    if RESULTS.contains(&lower.as_str()) {
        return (lower, true);
    }
    match RESULT_ALIASES.iter().find(|(alias, _)| *alias == lower) {
        Some((_, standard)) => (standard.to_string(), false),
        None => (lower, false),
    }
}

/// Parses an address as written in a header: bare, in brackets, or with an `IPv6:` prefix.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let trimmed = text.trim().trim_start_matches('[').trim_end_matches(']');
    let bare = match trimmed.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("ipv6:") => trimmed.get(5..).unwrap_or(""),
        _ => trimmed,
    };
    bare.parse().ok()
}

/// Returns the host name before the first `:` of a comment, when it looks like one.
fn comment_receiver(comment: &str) -> Option<String> {
    let (host, _) = comment.split_once(':')?;
    let host = host.trim();
    let plausible = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    plausible.then(|| host.to_string())
}

/// Returns the first word of `text` that is an IP address.
fn first_ip(text: &str) -> Option<IpAddr> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '\''))
        .map(|word| word.trim_end_matches(['.', ':']))
        .find_map(parse_ip)
}

fn findings(
    spf: &ReceivedSpf,
    known_result: bool,
    bad_ip: Option<String>,
    stray: &[String],
    unterminated: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !known_result {
        findings.push(result_finding(spf));
    }
    if let Some(raw) = bad_ip {
        findings.push(Finding::new(
            "auth.spf-invalid-client-ip",
            Severity::Low,
            "Received-SPF client-ip is not an IP address",
            format!(
                "The value `{}` of client-ip= is not an IPv4 or IPv6 address.",
                clip(raw)
            ),
        ));
    }
    if !stray.is_empty() || unterminated {
        findings.push(malformed_finding(stray, unterminated));
    }
    findings
}

fn result_finding(spf: &ReceivedSpf) -> Finding {
    let detail = if spf.result_raw.is_empty() {
        "The field does not start with a result word.".to_string()
    } else {
        format!(
            "The result `{}` is none of pass, fail, softfail, neutral, none, temperror and permerror, so it was read as `{}`.",
            clip(spf.result_raw.clone()),
            spf.result
        )
    };
    Finding::new(
        "auth.spf-non-standard-result",
        Severity::Low,
        "Received-SPF result outside RFC 7208",
        detail,
    )
}

fn malformed_finding(stray: &[String], unterminated: bool) -> Finding {
    let mut detail = "After the result only a comment and key=value pairs may follow.".to_string();
    if !stray.is_empty() {
        detail.push_str(&format!(" Seen: {}.", quote_list(stray)));
    }
    if unterminated {
        detail.push_str(" A comment or quoted string is never closed.");
    }
    Finding::new(
        "auth.spf-malformed",
        Severity::Low,
        "Unreadable text in a Received-SPF field",
        detail,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        input: &'static str,
        result: &'static str,
        client_ip: Option<&'static str>,
        receiver: Option<&'static str>,
        envelope_from: Option<&'static str>,
        helo: Option<&'static str>,
    }

    #[test]
    fn received_spf_table() {
        let cases = [
            Case {
                input: "pass (mybox.example.org: domain of myname@example.com designates 192.0.2.1 as permitted sender) receiver=mybox.example.org; client-ip=192.0.2.1; envelope-from=\"myname@example.com\"; helo=foo.example.com;",
                result: "pass",
                client_ip: Some("192.0.2.1"),
                receiver: Some("mybox.example.org"),
                envelope_from: Some("myname@example.com"),
                helo: Some("foo.example.com"),
            },
            Case {
                input: "Pass (protection.outlook.com: domain of example.com designates 198.51.100.7 as permitted sender) receiver=protection.outlook.com; client-ip=198.51.100.7; helo=mail.example.com; pr=C",
                result: "pass",
                client_ip: Some("198.51.100.7"),
                receiver: Some("protection.outlook.com"),
                envelope_from: None,
                helo: Some("mail.example.com"),
            },
            Case {
                input: "None (protection.outlook.com: example.net does not designate permitted sender hosts)",
                result: "none",
                client_ip: None,
                receiver: None,
                envelope_from: None,
                helo: None,
            },
            Case {
                input: "pass client-ip=2001:db8::1; envelope-from=a@example.org; helo=mx.example.org",
                result: "pass",
                client_ip: Some("2001:db8::1"),
                receiver: None,
                envelope_from: Some("a@example.org"),
                helo: Some("mx.example.org"),
            },
            Case {
                input: "Pass (x) receiver=mx.example.org; identity=mailfrom; client-ip=203.0.113.9 helo=h.example.org; envelope-from=b@example.org",
                result: "pass",
                client_ip: Some("203.0.113.9"),
                receiver: Some("mx.example.org"),
                envelope_from: Some("b@example.org"),
                helo: Some("h.example.org"),
            },
            Case {
                input: "softfail (example.com: 203.0.113.4 is authorized to use 'example.com' in 'helo' identity (mechanism 'mx' matched)) receiver=mx; identity=helo; helo=example.com; client-ip=203.0.113.4",
                result: "softfail",
                client_ip: Some("203.0.113.4"),
                receiver: Some("mx"),
                envelope_from: None,
                helo: Some("example.com"),
            },
            Case {
                input: "TempError (x)",
                result: "temperror",
                client_ip: None,
                receiver: None,
                envelope_from: None,
                helo: None,
            },
            Case {
                input: "error (old spelling) client-ip=[192.0.2.3]",
                result: "temperror",
                client_ip: Some("192.0.2.3"),
                receiver: None,
                envelope_from: None,
                helo: None,
            },
            Case {
                input: "neutral(no space) client-ip = IPv6:2001:db8::2 ;",
                result: "neutral",
                client_ip: Some("2001:db8::2"),
                receiver: None,
                envelope_from: None,
                helo: None,
            },
            Case {
                input: "",
                result: "",
                client_ip: None,
                receiver: None,
                envelope_from: None,
                helo: None,
            },
        ];
        for case in cases {
            let spf = parse_received_spf(case.input);
            assert_eq!(spf.result, case.result, "result of {:?}", case.input);
            assert_eq!(
                spf.client_ip.map(|ip| ip.to_string()).as_deref(),
                case.client_ip,
                "client-ip of {:?}",
                case.input
            );
            assert_eq!(
                spf.receiver.as_deref(),
                case.receiver,
                "receiver of {:?}",
                case.input
            );
            assert_eq!(
                spf.envelope_from.as_deref(),
                case.envelope_from,
                "envelope-from of {:?}",
                case.input
            );
            assert_eq!(spf.helo.as_deref(), case.helo, "helo of {:?}", case.input);
        }
    }

    #[test]
    fn comment_fields() {
        let spf = parse_received_spf(
            "SoftFail (protection.outlook.com: domain of transitioning example.com discourages use of 192.0.2.44 as permitted sender)",
        );
        assert_eq!(spf.result_raw, "SoftFail");
        assert_eq!(
            spf.comment_receiver.as_deref(),
            Some("protection.outlook.com")
        );
        assert_eq!(
            spf.comment_ip.map(|ip| ip.to_string()).as_deref(),
            Some("192.0.2.44")
        );
        assert!(spf.findings.is_empty());
    }

    #[test]
    fn findings_table() {
        let cases: &[(&str, &[&str])] = &[
            ("pass client-ip=192.0.2.1", &[]),
            ("custom_header1", &["auth.spf-non-standard-result"]),
            ("unknown (x)", &["auth.spf-non-standard-result"]),
            ("pass client-ip=not-an-ip", &["auth.spf-invalid-client-ip"]),
            ("pass junk client-ip=192.0.2.1", &["auth.spf-malformed"]),
            ("pass (open client-ip=192.0.2.1", &["auth.spf-malformed"]),
        ];
        for (input, expected) in cases {
            let spf = parse_received_spf(input);
            let ids: Vec<&str> = spf.findings.iter().map(|f| f.id.as_str()).collect();
            assert_eq!(ids, *expected, "findings of {input:?}");
        }
    }

    #[test]
    fn unknown_keys_kept() {
        let spf = parse_received_spf(
            "None (x) identity=mailfrom; X-Sender=\"a@example.org\"; x-conformance=spf_only",
        );
        assert_eq!(
            spf.pairs,
            vec![
                ("identity".to_string(), "mailfrom".to_string()),
                ("x-sender".to_string(), "a@example.org".to_string()),
                ("x-conformance".to_string(), "spf_only".to_string()),
            ]
        );
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for input in [
            "(".repeat(10_000),
            "=".repeat(10_000),
            "\"é".repeat(100),
            "pass client-ip=ü".to_string(),
        ] {
            let _ = parse_received_spf(&input);
        }
    }
}
