//! DKIM tag lists (RFC 6376 section 3.2) and the fields written in them: DKIM-Signature
//! (RFC 6376 section 3.5), ARC-Message-Signature and ARC-Seal (RFC 8617 sections 4.1.2
//! and 4.1.3).
//!
//! Parsing checks syntax and required tags only; no signature is verified. A field that
//! breaks a rule a verifier would reject it for gets a reason in `malformed`, so the ARC
//! structure check can mark its set invalid without cryptography.

use crate::finding::{Finding, Severity};
use crate::parse::authres::{clip, quote_list};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use std::collections::{HashMap, HashSet};

/// Tags every DKIM-Signature must carry (RFC 6376 section 3.5).
const DKIM_REQUIRED: &[&str] = &["v", "a", "b", "bh", "d", "h", "s"];
/// Tags every ARC-Message-Signature must carry (RFC 8617 section 4.1.2): those of DKIM,
/// with the instance `i` in place of the version.
const AMS_REQUIRED: &[&str] = &["i", "a", "b", "bh", "d", "h", "s"];
/// Tags every ARC-Seal must carry (RFC 8617 section 4.1.3).
const SEAL_REQUIRED: &[&str] = &["i", "a", "b", "cv", "d", "s"];
/// Signing algorithms a verifier accepts: RFC 6376 and RFC 8463. RFC 8301 retired `rsa-sha1`.
const ALGORITHMS: &[&str] = &["rsa-sha256", "ed25519-sha256"];
const CANONICALIZATIONS: &[&str] = &["simple", "relaxed"];

/// A parsed tag list: `name=value` pairs in order, values trimmed of surrounding whitespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TagList {
    pub tags: Vec<(String, String)>,
    /// Tag names that occur more than once, each listed once.
    pub duplicates: Vec<String>,
    /// Tag specs that break the grammar, as written: no `=`, an invalid name, or an empty
    /// spec between two `;` (recorded as an empty string).
    pub invalid_specs: Vec<String>,
    pub findings: Vec<Finding>,
}

impl TagList {
    /// Returns the value of the first tag with this name; tag names are case-sensitive.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(tag, _)| tag == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Parses a tag list (RFC 6376 section 3.2). Whitespace around names, `=` and `;` is
/// dropped; a trailing `;` is allowed.
pub fn parse_tag_list(value: &str) -> TagList {
    let mut list = TagList::default();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut repeated: HashSet<&str> = HashSet::new();
    let specs: Vec<&str> = value.split(';').collect();
    let last = specs.len().saturating_sub(1);
    for (index, spec) in specs.iter().enumerate() {
        let spec = spec.trim_matches(is_fws);
        if spec.is_empty() {
            // `tag-list = tag-spec *( ";" tag-spec ) [ ";" ]`: only the last may be empty.
            if index != last {
                list.invalid_specs.push(String::new());
            }
            continue;
        }
        let Some((name, tag_value)) = spec.split_once('=') else {
            list.invalid_specs.push(spec.to_string());
            continue;
        };
        let name = name.trim_matches(is_fws);
        if !is_tag_name(name) {
            list.invalid_specs.push(spec.to_string());
            continue;
        }
        if !seen.insert(name) && repeated.insert(name) {
            list.duplicates.push(name.to_string());
        }
        let tag_value = tag_value.trim_matches(is_fws);
        list.tags.push((name.to_string(), tag_value.to_string()));
    }
    list.findings = tag_list_findings(&list);
    list
}

fn tag_list_findings(list: &TagList) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !list.invalid_specs.is_empty() {
        findings.push(Finding::new(
            "auth.tag-list-syntax",
            Severity::Low,
            "Tag list with invalid tag specs",
            format!(
                "Each `;`-separated spec must be `name=value` with a name of letters, digits and `_` starting with a letter (RFC 6376 section 3.2); an empty spec is shown as ``. Seen: {}.",
                quote_list(&list.invalid_specs)
            ),
        ));
    }
    if !list.duplicates.is_empty() {
        findings.push(Finding::new(
            "auth.tag-list-duplicate-tag",
            Severity::Medium,
            "Tag list with a duplicate tag",
            format!(
                "RFC 6376 section 3.2 makes a tag list with a repeated tag invalid as a whole. Repeated: {}.",
                quote_list(&list.duplicates)
            ),
        ));
    }
    findings
}

fn is_fws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Tells whether `name` is a tag-name: ALPHA followed by ALPHA, DIGIT or `_`.
fn is_tag_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A parsed DKIM-Signature or ARC-Message-Signature field.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DkimSignature {
    /// ARC instance: the `i=` value when it is a number, as in ARC-Message-Signature.
    pub instance: Option<u32>,
    pub v: Option<String>,
    pub a: Option<String>,
    pub c: Option<String>,
    pub d: Option<String>,
    /// Agent or user identifier (AUID) in DKIM-Signature; the instance in ARC-Message-Signature.
    pub i: Option<String>,
    pub q: Option<String>,
    pub s: Option<String>,
    /// Body length limit: only this many body bytes are signed.
    pub l: Option<u64>,
    #[serde(serialize_with = "serialize_time")]
    pub t: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_time")]
    pub x: Option<DateTime<Utc>>,
    /// Signed header field names as written, in order.
    pub h: Vec<String>,
    /// Body hash, all whitespace removed.
    pub bh: Option<String>,
    /// Signature, all whitespace removed.
    pub b: Option<String>,
    /// Lower-case field names listed more than once in `h=`; signing a name one time more
    /// than it occurs keeps anyone from adding that field later.
    pub oversigned: Vec<String>,
    pub duplicate_tags: Vec<String>,
    /// Reasons a verifier would reject the field before any cryptography; empty when none.
    pub malformed: Vec<String>,
    pub findings: Vec<Finding>,
}

/// Parses a DKIM-Signature field value. An ARC-Message-Signature parses the same way: a
/// numeric `i=` is read into `instance` and the ARC required tags are checked instead of
/// DKIM's. `parse_arc_message_signature` also requires a valid `i=`.
pub fn parse_dkim_signature(value: &str) -> DkimSignature {
    let list = parse_tag_list(value);
    let mut signature = read_signature_tags(&list);
    signature.duplicate_tags = list.duplicates.clone();
    signature.findings = list.findings.clone();

    // An AUID always contains `@`, so a numeric i= marks an ARC-Message-Signature.
    let required = if signature.instance.is_some() {
        AMS_REQUIRED
    } else {
        DKIM_REQUIRED
    };
    let mut checks = Checks::default();
    checks.tag_list(&list);
    checks.required(&list, required);
    if let Some(version) = signature.v.as_deref().filter(|v| *v != "1") {
        checks.malformed(format!("v={version} is not version 1"));
    }
    check_signature_values(&list, &signature, &mut checks);
    checks.finish_into(
        &mut signature.malformed,
        &mut signature.findings,
        "auth.dkim-malformed",
    );
    signature
}

/// Parses an ARC-Message-Signature field value (RFC 8617 section 4.1.2).
pub fn parse_arc_message_signature(value: &str) -> DkimSignature {
    let list = parse_tag_list(value);
    let mut signature = read_signature_tags(&list);
    signature.duplicate_tags = list.duplicates.clone();
    signature.findings = list.findings.clone();

    let mut checks = Checks::default();
    checks.tag_list(&list);
    checks.required(&list, AMS_REQUIRED);
    checks.instance(&list);
    check_signature_values(&list, &signature, &mut checks);
    checks.finish_into(
        &mut signature.malformed,
        &mut signature.findings,
        "auth.arc-malformed-signature",
    );
    signature
}

fn read_signature_tags(list: &TagList) -> DkimSignature {
    let owned = |name: &str| list.get(name).map(str::to_string);
    let h: Vec<String> = list
        .get("h")
        .map(|value| {
            value
                .split(':')
                .map(remove_whitespace)
                .filter(|name| !name.is_empty())
                .collect()
        })
        .unwrap_or_default();
    DkimSignature {
        instance: list
            .get("i")
            .and_then(crate::parse::authres::parse_instance),
        v: owned("v"),
        a: owned("a"),
        c: owned("c"),
        d: owned("d"),
        i: owned("i"),
        q: owned("q"),
        s: owned("s"),
        l: list.get("l").and_then(|l| l.parse().ok()),
        t: list.get("t").and_then(parse_unix_time),
        x: list.get("x").and_then(parse_unix_time),
        oversigned: oversigned(&h),
        h,
        bh: list.get("bh").map(remove_whitespace),
        b: list.get("b").map(remove_whitespace),
        ..DkimSignature::default()
    }
}

/// Checks the values shared by DKIM-Signature and ARC-Message-Signature.
fn check_signature_values(list: &TagList, signature: &DkimSignature, checks: &mut Checks) {
    checks.algorithm(list);
    checks.timestamps(list);
    checks.base64(list, &["b", "bh"]);
    checks.domain(list);
    if let Some(c) = list.get("c").filter(|c| !is_canonicalization(c)) {
        checks.malformed(format!("c={c} is not a canonicalization pair"));
    }
    if let Some(l) = list.get("l") {
        match l.parse::<u64>() {
            Ok(_) => checks.note(Note::BodyLength, format!("l={l}")),
            Err(_) => checks.malformed(format!("l={l} is not a number")),
        }
    }
    if let (Some(t), Some(x)) = (signature.t, signature.x)
        && x < t
    {
        checks.malformed("x= expires before t= signs".to_string());
    }
    if list.get("h").is_some()
        && !signature
            .h
            .iter()
            .any(|name| name.eq_ignore_ascii_case("from"))
    {
        checks.note(Note::FromNotSigned, format!("h={}", signature.h.join(":")));
    }
}

/// Returns the names listed more than once, lower case, in order of first listing.
fn oversigned(h: &[String]) -> Vec<String> {
    let lower: Vec<String> = h.iter().map(|name| name.to_ascii_lowercase()).collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for name in &lower {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    let mut repeated: Vec<String> = Vec::new();
    for name in &lower {
        if counts.get(name.as_str()).is_some_and(|&n| n > 1) {
            counts.remove(name.as_str());
            repeated.push(name.clone());
        }
    }
    repeated
}

fn is_canonicalization(value: &str) -> bool {
    let mut parts = value.splitn(2, '/');
    let header = parts.next().unwrap_or("");
    let body = parts.next().unwrap_or("simple");
    CANONICALIZATIONS.contains(&header) && CANONICALIZATIONS.contains(&body)
}

/// Tells whether `value` is base64 (RFC 6376 section 3.5 `base64string`): letters, digits,
/// `+` and `/`, then at most two `=`, with whitespace anywhere.
fn is_base64(value: &str) -> bool {
    let mut padding = 0;
    value.chars().filter(|c| !c.is_whitespace()).all(|c| {
        if c == '=' {
            padding += 1;
            padding <= 2
        } else {
            padding == 0 && (c.is_ascii_alphanumeric() || c == '+' || c == '/')
        }
    })
}

/// Tells whether `value` is a domain name in ASCII: non-empty labels of letters, digits,
/// `-` and `_` separated by dots.
fn is_domain_name(value: &str) -> bool {
    value.split('.').all(|label| {
        !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

fn remove_whitespace(value: &str) -> String {
    if value.is_ascii() {
        // The ASCII characters `char::is_whitespace` accepts, without decoding UTF-8.
        let is_space = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
        let mut compact = Vec::with_capacity(value.len());
        compact.extend(value.bytes().filter(|b| !is_space(b)));
        return String::from_utf8(compact).unwrap_or_default();
    }
    value.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Parses a DKIM timestamp: decimal seconds since 1970-01-01T00:00:00Z.
pub fn parse_unix_time(value: &str) -> Option<DateTime<Utc>> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = value.parse::<i64>().ok()?;
    DateTime::from_timestamp(seconds, 0)
}

/// Serialises an optional time as RFC 3339 in UTC with a `Z` suffix.
pub fn serialize_time<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.serialize_str(&format_time(time)),
        None => serializer.serialize_none(),
    }
}

/// Formats a time as RFC 3339 in UTC with a `Z` suffix (`2023-08-08T13:09:57Z`).
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A parsed ARC-Seal field (RFC 8617 section 4.1.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArcSeal {
    pub instance: Option<u32>,
    /// The `i=` value as written, also when it is not a valid instance.
    pub instance_raw: Option<String>,
    /// Chain validation status the sealer claims: `none`, `pass` or `fail`.
    pub cv: Option<String>,
    pub a: Option<String>,
    pub d: Option<String>,
    pub s: Option<String>,
    #[serde(serialize_with = "serialize_time")]
    pub t: Option<DateTime<Utc>>,
    /// Seal signature, all whitespace removed.
    pub b: Option<String>,
    pub duplicate_tags: Vec<String>,
    /// Reasons a verifier would reject the seal before any cryptography; empty when none.
    pub malformed: Vec<String>,
    pub findings: Vec<Finding>,
}

/// Parses an ARC-Seal field value.
pub fn parse_arc_seal(value: &str) -> ArcSeal {
    let list = parse_tag_list(value);
    let mut seal = ArcSeal {
        instance: list
            .get("i")
            .and_then(crate::parse::authres::parse_instance),
        instance_raw: list.get("i").map(str::to_string),
        cv: list.get("cv").map(str::to_string),
        a: list.get("a").map(str::to_string),
        d: list.get("d").map(str::to_string),
        s: list.get("s").map(str::to_string),
        t: list.get("t").and_then(parse_unix_time),
        b: list.get("b").map(remove_whitespace),
        duplicate_tags: list.duplicates.clone(),
        ..ArcSeal::default()
    };
    seal.findings = list.findings.clone();
    for finding in &mut seal.findings {
        if finding.id == "auth.tag-list-duplicate-tag" {
            finding.id = "auth.arc-duplicate-tag".to_string();
        }
    }

    let mut checks = Checks::default();
    checks.tag_list(&list);
    checks.required(&list, SEAL_REQUIRED);
    checks.instance(&list);
    checks.algorithm(&list);
    checks.timestamps(&list);
    checks.base64(&list, &["b"]);
    checks.domain(&list);
    if let Some(cv) = list
        .get("cv")
        .filter(|cv| !["none", "pass", "fail"].contains(cv))
    {
        checks.malformed(format!("cv={cv} is not none, pass or fail"));
    }
    // An ARC-Seal signs the ARC fields themselves, so RFC 8617 gives it no h= tag and
    // verifiers reject a seal that has one.
    if list.get("h").is_some() {
        checks.malformed("h= is not allowed in an ARC-Seal".to_string());
    }
    checks.finish_into(
        &mut seal.malformed,
        &mut seal.findings,
        "auth.arc-malformed-seal",
    );
    seal
}

/// Observations worth a finding that do not make a field invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Note {
    BodyLength,
    FromNotSigned,
    WeakAlgorithm,
}

/// Collects why a field is invalid and what else is worth reporting.
#[derive(Default)]
struct Checks {
    malformed: Vec<String>,
    notes: Vec<(Note, String)>,
}

impl Checks {
    fn malformed(&mut self, reason: String) {
        self.malformed.push(reason);
    }

    fn note(&mut self, note: Note, token: String) {
        self.notes.push((note, token));
    }

    fn tag_list(&mut self, list: &TagList) {
        if !list.invalid_specs.is_empty() {
            self.malformed("invalid tag specs".to_string());
        }
        for name in &list.duplicates {
            self.malformed(format!("tag {name}= occurs more than once"));
        }
    }

    fn required(&mut self, list: &TagList, required: &[&str]) {
        for name in required {
            match list.get(name) {
                None => self.malformed(format!("required tag {name}= is missing")),
                // NOTE: ARC verifiers accept an ARC-Message-Signature with an empty h=, so
                // only a DKIM-Signature (which must at least sign From) needs a value.
                Some("") if *name == "h" && required == AMS_REQUIRED => {}
                Some("") => self.malformed(format!("required tag {name}= is empty")),
                Some(_) => {}
            }
        }
    }

    fn instance(&mut self, list: &TagList) {
        if let Some(raw) = list.get("i")
            && crate::parse::authres::parse_instance(raw).is_none()
        {
            self.malformed(format!("i={raw} is not an instance number from 1"));
        }
    }

    fn algorithm(&mut self, list: &TagList) {
        match list.get("a") {
            Some("rsa-sha1") => {
                self.note(Note::WeakAlgorithm, "a=rsa-sha1".to_string());
                self.malformed("a=rsa-sha1 is retired by RFC 8301".to_string());
            }
            Some(a) if !a.is_empty() && !ALGORITHMS.contains(&a) => {
                self.malformed(format!("a={a} is not a known signing algorithm"));
            }
            _ => {}
        }
    }

    fn timestamps(&mut self, list: &TagList) {
        for name in ["t", "x"] {
            if let Some(value) = list.get(name)
                && parse_unix_time(value).is_none()
            {
                self.malformed(format!("{name}={value} is not a timestamp"));
            }
        }
    }

    fn base64(&mut self, list: &TagList, names: &[&str]) {
        for name in names {
            if let Some(value) = list.get(name).filter(|v| !v.is_empty() && !is_base64(v)) {
                self.malformed(format!(
                    "{name}= is not base64: {}",
                    clip(value.to_string())
                ));
            }
        }
    }

    fn domain(&mut self, list: &TagList) {
        if let Some(d) = list
            .get("d")
            .filter(|d| !d.is_empty() && !is_domain_name(d))
        {
            self.malformed(format!("d={} is not a domain name", clip(d.to_string())));
        }
    }

    /// Moves the collected reasons into the field and adds their findings.
    fn finish_into(
        self,
        malformed: &mut Vec<String>,
        findings: &mut Vec<Finding>,
        malformed_id: &str,
    ) {
        if !self.malformed.is_empty() {
            findings.push(Finding::new(
                malformed_id,
                Severity::Medium,
                "Signature field that a verifier rejects before checking the signature",
                invalid_detail(&self.malformed),
            ));
        }
        *malformed = self.malformed;
        for (note, token) in self.notes {
            findings.push(note_finding(note, &token));
        }
    }
}

/// Lists the first ten reasons a field is invalid and counts the rest.
fn invalid_detail(reasons: &[String]) -> String {
    const MAX_REASONS: usize = 10;
    let shown: Vec<&str> = reasons
        .iter()
        .take(MAX_REASONS)
        .map(String::as_str)
        .collect();
    let more = reasons.len().saturating_sub(MAX_REASONS);
    let tail = if more > 0 {
        format!(", and {more} more")
    } else {
        String::new()
    };
    format!("The field is invalid: {}{tail}.", shown.join(", "))
}

fn note_finding(note: Note, token: &str) -> Finding {
    match note {
        Note::BodyLength => Finding::new(
            "auth.dkim-body-length",
            Severity::Low,
            "Signature covers only part of the body (l= tag)",
            format!(
                "With `{token}` only the first bytes of the body are signed, so content appended later still verifies (RFC 6376 section 8.2)."
            ),
        ),
        Note::FromNotSigned => Finding::new(
            "auth.dkim-from-not-signed",
            Severity::Medium,
            "Signature does not cover the From field",
            format!("RFC 6376 section 5.4 requires From in h=; this signature lists `{token}`."),
        ),
        Note::WeakAlgorithm => Finding::new(
            "auth.dkim-weak-algorithm",
            Severity::Low,
            "Signature uses the retired rsa-sha1 algorithm",
            format!("`{token}`: RFC 8301 says verifiers must not accept rsa-sha1 signatures."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn tag_list_table() {
        // (input, tags, duplicates, invalid specs)
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            &'static [&'static str],
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            ("a=1; b=2", &[("a", "1"), ("b", "2")], &[], &[]),
            ("a=1; b=2;", &[("a", "1"), ("b", "2")], &[], &[]),
            (
                " a = 1 ;\r\n b\t=\t2 ; ",
                &[("a", "1"), ("b", "2")],
                &[],
                &[],
            ),
            ("a=1;; b=2", &[("a", "1"), ("b", "2")], &[], &[""]),
            ("a=1; ==; b=2", &[("a", "1"), ("b", "2")], &[], &["=="]),
            ("a=1; junk; b=2", &[("a", "1"), ("b", "2")], &[], &["junk"]),
            ("a=1; 9x=2", &[("a", "1")], &[], &["9x=2"]),
            ("a=1; a=2", &[("a", "1"), ("a", "2")], &["a"], &[]),
            ("a=x y  z; b=", &[("a", "x y  z"), ("b", "")], &[], &[]),
            ("a=b=c", &[("a", "b=c")], &[], &[]),
            ("", &[], &[], &[]),
        ];
        for (input, tags, duplicates, invalid) in cases {
            let list = parse_tag_list(input);
            let got: Vec<(&str, &str)> = list
                .tags
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            assert_eq!(got, *tags, "tags of {input:?}");
            assert_eq!(list.duplicates, *duplicates, "duplicates of {input:?}");
            assert_eq!(list.invalid_specs, *invalid, "invalid specs of {input:?}");
        }
    }

    #[test]
    fn tag_names_case_sensitive() {
        let list = parse_tag_list("S=upper; s=lower");
        assert_eq!(list.get("s"), Some("lower"));
        assert_eq!(list.get("S"), Some("upper"));
        assert!(list.duplicates.is_empty());
    }

    #[test]
    fn dkim_signature_with_fws() {
        let signature = parse_dkim_signature(
            "v=1; a=rsa-sha256; c=relaxed/relaxed;\n d=example.com; i=@example.com; q=dns/txt;\n s=sel-2023; t=1691500197; h=message-id : date : from\n : subject : reply-to : to : content-type :\n from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n b=dGVzdC1zaWdu\n  YXR1cmUtdmFs\n  dWU=",
        );
        assert_eq!(signature.d.as_deref(), Some("example.com"));
        assert_eq!(signature.i.as_deref(), Some("@example.com"));
        assert_eq!(signature.instance, None);
        assert_eq!(
            signature.h,
            vec![
                "message-id",
                "date",
                "from",
                "subject",
                "reply-to",
                "to",
                "content-type",
                "from"
            ]
        );
        assert_eq!(signature.oversigned, vec!["from"]);
        assert_eq!(signature.b.as_deref(), Some("dGVzdC1zaWduYXR1cmUtdmFsdWU="));
        assert_eq!(
            signature.t.map(|t| format_time(&t)).as_deref(),
            Some("2023-08-08T13:09:57Z")
        );
        assert!(signature.malformed.is_empty(), "{:?}", signature.malformed);
        assert!(signature.findings.is_empty());
    }

    #[test]
    fn dkim_signature_problems_table() {
        let base = "v=1; a=rsa-sha256; d=example.com; s=s1; h=from:to; bh=AAAA; b=BBBB";
        let cases: &[(String, &[&str])] = &[
            (base.to_string(), &[]),
            (format!("{base}; l=100"), &["auth.dkim-body-length"]),
            (
                base.replace("from:to", "to:subject"),
                &["auth.dkim-from-not-signed"],
            ),
            (
                base.replace("rsa-sha256", "rsa-sha1"),
                &["auth.dkim-malformed", "auth.dkim-weak-algorithm"],
            ),
            (base.replace("v=1; ", ""), &["auth.dkim-malformed"]),
            (format!("{base}; t=12x"), &["auth.dkim-malformed"]),
            (format!("{base}; t=200; x=100"), &["auth.dkim-malformed"]),
            (format!("{base}; c=fancy"), &["auth.dkim-malformed"]),
            (
                format!("{base}; d=example.net"),
                &["auth.tag-list-duplicate-tag", "auth.dkim-malformed"],
            ),
        ];
        for (input, expected) in cases {
            let signature = parse_dkim_signature(input);
            assert_eq!(ids(&signature.findings), *expected, "findings of {input:?}");
        }
    }

    #[test]
    fn arc_message_signature_instance() {
        let signature = parse_arc_message_signature(
            "i=2; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=arc; h=From:Date; bh=BBBB; b=CCCC",
        );
        assert_eq!(signature.instance, Some(2));
        assert_eq!(signature.h, vec!["From", "Date"]);
        assert!(signature.malformed.is_empty(), "{:?}", signature.malformed);
        let missing =
            parse_arc_message_signature("a=rsa-sha256; d=example.net; s=arc; h=from; bh=B; b=C");
        assert_eq!(missing.malformed, vec!["required tag i= is missing"]);
    }

    #[test]
    fn canonicalization_table() {
        let cases = [
            ("simple", true),
            ("relaxed", true),
            ("relaxed/simple", true),
            ("simple/relaxed", true),
            ("relaxed/", false),
            ("Relaxed/relaxed", false),
            ("", false),
            ("fast/slow", false),
        ];
        for (input, valid) in cases {
            assert_eq!(is_canonicalization(input), valid, "{input:?}");
        }
    }

    #[test]
    fn remove_whitespace_agrees_with_char_is_whitespace() {
        for input in [
            "a b\tc\r\n d\u{0b}e\u{0c}f",
            "QU JD\n Rg==",
            "a\u{a0}b\u{2003}c",
            "",
        ] {
            let expected: String = input.chars().filter(|c| !c.is_whitespace()).collect();
            assert_eq!(remove_whitespace(input), expected, "{input:?}");
        }
    }

    #[test]
    fn base64_and_domain_table() {
        let base64 = [
            ("QUJD", true),
            ("QU JD\n Rg==", true),
            ("QUI=", true),
            ("QQ===", false),
            ("not_base_64", false),
            ("yo-mama", false),
            ("QU=JD", false),
        ];
        for (input, valid) in base64 {
            assert_eq!(is_base64(input), valid, "base64 {input:?}");
        }
        let domains = [
            ("example.org", true),
            ("mail_1.example.org", true),
            ("localhost", true),
            ("example...", false),
            ("***", false),
            (".example.org", false),
            ("exämple.org", false),
        ];
        for (input, valid) in domains {
            assert_eq!(is_domain_name(input), valid, "domain {input:?}");
        }
    }

    #[test]
    fn unix_time_table() {
        let cases = [
            ("0", Some("1970-01-01T00:00:00Z")),
            ("1700000100", Some("2023-11-14T22:15:00Z")),
            ("", None),
            ("-1", None),
            ("12 345", None),
            ("99999999999999999999", None),
        ];
        for (input, expected) in cases {
            let got = parse_unix_time(input).map(|t| format_time(&t));
            assert_eq!(got.as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn arc_seal_table() {
        let base = "i=1; a=rsa-sha256; cv=none; d=example.com; s=arc; t=1700000100; b=DD DD";
        let cases: &[(String, &[&str])] = &[
            (base.to_string(), &[]),
            (
                base.replace("cv=none", "cv=Pass"),
                &["cv=Pass is not none, pass or fail"],
            ),
            (
                base.replace("cv=none; ", ""),
                &["required tag cv= is missing"],
            ),
            (
                format!("{base}; h=from"),
                &["h= is not allowed in an ARC-Seal"],
            ),
            (
                format!("{base}; cv=none"),
                &["tag cv= occurs more than once"],
            ),
            (
                base.replace("i=1", "i=0"),
                &["i=0 is not an instance number from 1"],
            ),
            (
                base.replace("t=1700000100", "t=-123.4"),
                &["t=-123.4 is not a timestamp"],
            ),
            (base.replace("t=1700000100; ", ""), &[]),
        ];
        for (input, expected) in cases {
            let seal = parse_arc_seal(input);
            assert_eq!(seal.malformed, *expected, "malformed of {input:?}");
        }
        let seal = parse_arc_seal(base);
        assert_eq!(seal.instance, Some(1));
        assert_eq!(seal.b.as_deref(), Some("DDDD"));
        assert_eq!(
            seal.t.map(|t| format_time(&t)).as_deref(),
            Some("2023-11-14T22:15:00Z")
        );
    }

    #[test]
    fn arc_seal_duplicate_tag_finding() {
        let seal =
            parse_arc_seal("i=2; a=rsa-sha256; cv=pass; d=example.net; s=arc; cv=pass; b=AAAA");
        assert_eq!(seal.duplicate_tags, vec!["cv"]);
        assert_eq!(
            ids(&seal.findings),
            vec!["auth.arc-duplicate-tag", "auth.arc-malformed-seal"]
        );
    }

    #[test]
    fn large_tag_lists_stay_linear() {
        // Quadratic duplicate or over-signing checks would make billions of comparisons here.
        let many_tags: String = (0..50_000).map(|i| format!("t{i}=1;")).collect();
        assert_eq!(parse_tag_list(&many_tags).tags.len(), 50_000);
        let many_names = format!("h={}", "from:to:".repeat(25_000));
        let signature = parse_dkim_signature(&many_names);
        assert_eq!(signature.h.len(), 50_000);
        assert_eq!(signature.oversigned, vec!["from", "to"]);
        let many_duplicates = "a=1;".repeat(50_000);
        assert_eq!(parse_tag_list(&many_duplicates).duplicates, vec!["a"]);
    }

    #[test]
    fn hostile_tag_lists_do_not_panic() {
        let inputs = [
            ";".repeat(10_000),
            "=".repeat(10_000),
            "h=".to_string() + &":".repeat(10_000),
            "é=ü; ü=é".to_string(),
        ];
        for input in inputs {
            let _ = parse_dkim_signature(&input);
            let _ = parse_arc_seal(&input);
        }
    }
}
