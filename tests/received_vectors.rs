//! Received and date parsing against the acceptance cases and third-party vectors.
//!
//! 1. Every acceptance entry of kind `received` and `date` (../shared/acceptance), each LF
//!    case also run with CRLF. Hop keys and flags that only the chain analysis can give
//!    (internal, delays, continuity, clock skew, reconstruction) are left to the report
//!    tests.
//! 2. The corpus vectors (../shared/corpus): mail-parser's received.json and date.json,
//!    MHA's and SpamScope's Received tests. Their expected values are those projects'
//!    behaviour, not a standard; every case where mailtrace reads a value differently on
//!    purpose is listed with its reason, and any other disagreement fails the test.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use mailtrace::headers::{HeaderBlock, ParseOptions};
use mailtrace::parse::date::{format_timestamp, parse_date};
use mailtrace::parse::received::{Received, parse_received};
use serde_json::Value;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

fn ids(findings: &[mailtrace::finding::Finding]) -> Vec<String> {
    findings.iter().map(|f| f.id.clone()).collect()
}

// ---------------------------------------------------------------------------------------
// 1. Acceptance cases

/// Flag labels of the acceptance cases and the finding ids the parsers report for them.
const FLAG_IDS: &[(&str, &str)] = &[
    (
        "malformed-address-literal",
        "chain.malformed-address-literal",
    ),
    ("unknown-local-zone", "date.unknown-local-zone"),
    ("missing-semicolon", "chain.missing-semicolon"),
    ("ip-as-rdns", "chain.ip-as-rdns"),
    ("container-style-hostname", "chain.container-style-hostname"),
    ("malformed-received", "chain.malformed-received"),
    ("impossible-date", "chain.impossible-date"),
    ("received-missing-date", "chain.received-missing-date"),
    ("non-rfc-zone", "date.non-rfc-zone"),
    ("military-zone", "date.military-zone"),
    ("weekday-mismatch", "date.weekday-mismatch"),
    ("locale-date", "date.locale-date"),
];

/// Flags that only the chain analysis over all hops can raise.
const CHAIN_LEVEL_FLAGS: &[&str] = &["clock-skew"];

/// Hop keys that the chain analysis sets.
const CHAIN_LEVEL_KEYS: &[&str] = &["internal", "reconstructed"];

fn finding_id(label: &str) -> Option<&'static str> {
    FLAG_IDS
        .iter()
        .find(|(l, _)| *l == label)
        .map(|(_, id)| *id)
}

/// Returns one hop field as JSON, under the acceptance key name.
fn hop_value(r: &Received, key: &str) -> Value {
    let json = serde_json::to_value(r).expect("Received serialises");
    match key {
        "for" => json["for_addr"].clone(),
        _ => json[key].clone(),
    }
}

fn check_acceptance_entry(entry: &Value, input: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let expect = &entry["expect"];
    let block = HeaderBlock::parse(input, &ParseOptions::default()).expect("a message");
    let mut hops: Vec<Received> = block
        .all("Received")
        .map(|h| parse_received(&h.value))
        .collect();
    hops.reverse();
    let date = block.value("Date").map(parse_date);

    // Hops, oldest first.
    if let Some(expected) = expect["hops"].as_array() {
        if expected.len() != hops.len() {
            problems.push(format!("{} hops, expected {}", hops.len(), expected.len()));
        }
        for (n, (want, got)) in expected.iter().zip(&hops).enumerate() {
            for (key, want) in want.as_object().expect("hop object") {
                if CHAIN_LEVEL_KEYS.contains(&key.as_str()) {
                    continue;
                }
                let got = hop_value(got, key);
                if &got != want {
                    problems.push(format!("hop {}: {key} = {got}, expected {want}", n + 1));
                }
            }
        }
    }

    // The Date field.
    if let Some(want) = expect["date"].as_object() {
        match &date {
            None => problems.push("no Date field".into()),
            Some(parsed) => {
                if let Some(raw) = want.get("raw")
                    && raw.as_str() != Some(parsed.raw.as_str())
                {
                    problems.push(format!("date raw {:?}, expected {raw}", parsed.raw));
                }
                if let Some(ts) = want.get("timestamp") {
                    let got = parsed.timestamp.as_ref().map(format_timestamp);
                    if got.as_deref() != ts.as_str() {
                        problems.push(format!("date timestamp {got:?}, expected {ts}"));
                    }
                }
                problems.extend(check_date_in_received(parsed.raw.as_str(), want));
            }
        }
    }

    // Flags: every finding of every hop and of the Date field.
    let mut found: Vec<String> = hops.iter().flat_map(|h| ids(&h.findings)).collect();
    if let Some(date) = &date {
        found.extend(ids(&date.findings));
    }
    for (list, must) in [(&expect["flags"], true), (&expect["flags_absent"], false)] {
        for label in list.as_array().into_iter().flatten() {
            let label = label.as_str().expect("label");
            if CHAIN_LEVEL_FLAGS.contains(&label) {
                continue;
            }
            let Some(id) = finding_id(label) else {
                problems.push(format!("flag label {label} is missing from FLAG_IDS"));
                continue;
            };
            if found.iter().any(|f| f == id) != must {
                problems.push(format!(
                    "flag {label} ({id}) present: {}, found {found:?}",
                    !must
                ));
            }
        }
    }
    problems
}

/// A date form "placed after `;` in a Received must give the same timestamp"; a year
/// before 1970 is rejected there as impossible (BR-11).
fn check_date_in_received(raw: &str, want: &serde_json::Map<String, Value>) -> Vec<String> {
    let Some(ts) = want.get("timestamp").and_then(Value::as_str) else {
        return Vec::new();
    };
    let r = parse_received(&format!("from a.example.net by b.example.org; {raw}"));
    let got = r.timestamp.as_ref().map(format_timestamp);
    let before_1970 = ts < "1970";
    let ok = if before_1970 {
        got.is_none() && ids(&r.findings).contains(&"chain.impossible-date".to_string())
    } else {
        got.as_deref() == Some(ts)
    };
    if ok {
        Vec::new()
    } else {
        vec![format!("in a Received: {got:?}, expected {ts}")]
    }
}

fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

#[test]
fn acceptance_received_and_date_entries() {
    let folder = shared().join("acceptance");
    let entries = load(&folder.join("expected.json"));
    let mut problems = Vec::new();
    let mut passed = Vec::new();
    let mut total = 0;
    for entry in entries.as_array().expect("list") {
        let kind = entry["kind"].as_str().unwrap_or("");
        if kind != "received" && kind != "date" {
            continue;
        }
        total += 1;
        let id = entry["id"].as_str().expect("id");
        let file = folder.join(entry["file"].as_str().expect("file"));
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut runs = vec![("as stored", bytes.clone())];
        if entry["line_endings"] == "lf" {
            runs.push(("CRLF", crlf(&bytes)));
        }
        let before = problems.len();
        for (run, input) in runs {
            for problem in check_acceptance_entry(entry, &input) {
                problems.push(format!("{id} ({run}): {problem}"));
            }
        }
        if problems.len() == before {
            passed.push(id);
        }
    }
    println!(
        "acceptance received/date entries: {}/{total} pass",
        passed.len()
    );
    assert_eq!(total, 27, "acceptance entries of kind received and date");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// 2. Corpus vectors

/// Runs `check` over `cases`, prints the rate, and fails on a disagreement that is not in
/// `accepted` or an accepted one that no longer happens. With `VECTORS_VERBOSE` set in
/// the environment every disagreement is printed.
fn run_vectors<K: PartialEq + std::fmt::Display + Copy>(
    name: &str,
    cases: impl Iterator<Item = (K, Result<(), String>)>,
    accepted: &[(K, &str)],
    floor: usize,
) {
    let mut total = 0;
    let mut agree = 0;
    let mut unexpected = Vec::new();
    let mut disagreed = Vec::new();
    for (key, outcome) in cases {
        total += 1;
        match outcome {
            Ok(()) => agree += 1,
            Err(why) => {
                if std::env::var_os("VECTORS_VERBOSE").is_some() {
                    println!("  {key}: {why}");
                }
                disagreed.push(key);
                if !accepted.iter().any(|(k, _)| *k == key) {
                    unexpected.push(format!("{key}: {why}"));
                }
            }
        }
    }
    let stale: Vec<String> = accepted
        .iter()
        .filter(|(k, _)| !disagreed.contains(k))
        .map(|(k, _)| k.to_string())
        .collect();
    println!(
        "{name}: {agree}/{total} agree ({:.1} %), {} accepted disagreements",
        100.0 * agree as f64 / total.max(1) as f64,
        disagreed.len()
    );
    assert!(unexpected.is_empty(), "{name}:\n{}", unexpected.join("\n"));
    assert!(
        stale.is_empty(),
        "{name}: accepted but now agreeing: {stale:?}"
    );
    assert!(agree >= floor, "{name}: {agree} agree, floor {floor}");
}

/// Compares one field; `Ok` when equal.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, expected {want:?}"))
    }
}

fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Compares a host given by mail-parser as `{"Name": x}` or `{"IpAddr": x}`; an address matches
/// our value with or without its literal brackets.
fn host_matches(got: Option<&str>, want: &Value) -> bool {
    if let Some(name) = want["Name"].as_str() {
        return got == Some(name);
    }
    let want_ip = want["IpAddr"]
        .as_str()
        .and_then(|a| a.parse::<IpAddr>().ok());
    let got_ip = got.and_then(|g| g.trim_matches(['[', ']']).parse::<IpAddr>().ok());
    want_ip.is_some() && want_ip == got_ip
}

/// `TLSv1.3`, `TLS1_3`, `TLS-1.0`, `TLSv1/SSLv3` → (1, 3), (1, 3), (1, 0), (1, 0).
fn tls_number(text: &str) -> Option<(u32, u32)> {
    let upper = text.to_ascii_uppercase();
    let rest = upper.strip_prefix("TLS")?;
    let digits: Vec<u32> = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .take(2)
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let major = *digits.first()?;
    // `TLSv1/SSLv3`: the second number belongs to SSL.
    let minor = if rest.contains('/') {
        0
    } else {
        digits.get(1).copied().unwrap_or(0)
    };
    Some((major, minor))
}

/// Returns the instant of a mail-parser date object, `None` when its fields are out of range.
fn mailparser_instant(date: &Value) -> Option<DateTime<Utc>> {
    let get = |k: &str| date[k].as_i64().unwrap_or(-1);
    let sign = if date["tz_before_gmt"].as_bool() == Some(true) {
        -1
    } else {
        1
    };
    let offset = sign * (get("tz_hour") * 3600 + get("tz_minute") * 60);
    let local = Utc
        .with_ymd_and_hms(
            get("year") as i32,
            get("month") as u32,
            get("day") as u32,
            get("hour") as u32,
            get("minute") as u32,
            get("second") as u32,
        )
        .single()?;
    Some(local - chrono::Duration::seconds(offset))
}

/// Compares our parse with mail-parser's expected Received (its own data model).
fn compare_mailparser_received(r: &Received, want: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut check = |outcome: Result<(), String>| {
        if let Err(e) = outcome {
            problems.push(e);
        }
    };
    for (key, value) in want.as_object().expect("object") {
        let outcome = match key.as_str() {
            "from" => host_matches(r.from_host.as_deref(), value)
                .then_some(())
                .ok_or(format!("from_host {:?}, expected {value}", r.from_host)),
            "by" => host_matches(r.by_host.as_deref(), value)
                .then_some(())
                .ok_or(format!("by_host {:?}, expected {value}", r.by_host)),
            "helo" => host_matches(r.helo.as_deref(), value)
                .then_some(())
                .ok_or(format!("helo {:?}, expected {value}", r.helo)),
            "from_ip" => same(
                "from_ip",
                r.from_ip,
                value.as_str().and_then(|v| v.parse().ok()).map(unmapped),
            ),
            "from_iprev" => same("from_rdns", r.from_rdns.as_deref(), value.as_str()),
            // mail-parser reduces the `with` value to a protocol name; mailtrace keeps it
            // as written, so the written value must contain that name.
            "with" => {
                let got = r.protocol.clone().unwrap_or_default().to_ascii_uppercase();
                let want = value.as_str().unwrap_or("").to_ascii_uppercase();
                got.contains(&want)
                    .then_some(())
                    .ok_or(format!("protocol {:?}, expected {want}", r.protocol))
            }
            "tls_version" => same(
                "tls_version",
                r.tls_version.as_deref().and_then(tls_number),
                value.as_str().and_then(tls_number),
            ),
            "tls_cipher" => same("tls_cipher", r.tls_cipher.as_deref(), value.as_str()),
            "id" => same("id", r.id.as_deref(), value.as_str()),
            "for_" => same("for", r.for_addr.as_deref(), value.as_str()),
            "via" => same("via", r.via.as_deref(), value.as_str()),
            // mail-parser has one `ident` for the RFC 1413 user (often with `@host`) and
            // the SMTP AUTH user; mailtrace keeps the user and the host apart.
            "ident" => {
                let want = value.as_str().unwrap_or("");
                let ident = r.ident.clone().unwrap_or_default();
                let hosts = [r.from_rdns.clone(), r.from_ip.map(|ip| ip.to_string())];
                let ok = want == ident
                    || hosts
                        .iter()
                        .flatten()
                        .any(|h| want == format!("{ident}@{h}"))
                    || r.auth_sender.as_deref() == Some(want);
                ok.then_some(()).ok_or(format!(
                    "ident {:?} / auth {:?}, expected {want}",
                    r.ident, r.auth_sender
                ))
            }
            "helo_cmd" => Ok(()),
            "date" => same("timestamp", r.timestamp, mailparser_instant(value)),
            other => Err(format!("unknown key {other}")),
        };
        check(outcome);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Why the `from rdns (HELO name)` cases of qmail, qpsmtpd and similar MTAs disagree.
const HELO_COMMENT: &str = "`from rdns (HELO name)`: from_host is the claimed HELO name and the name after `from` is from_rdns; mail-parser's `from` is the name after `from`";

/// mail-parser received.json cases where mailtrace disagrees on purpose.
const MAILPARSER_RECEIVED_ACCEPTED: &[(usize, &str)] = &[
    (
        0,
        "`from unknown (HELO x)`: `unknown` is qmail's no-PTR placeholder; from_host is the HELO (acceptance BR-06)",
    ),
    (
        6,
        "`AUTH: CRAM-MD5 user/k`: the AUTH user is kept whole as auth_sender; mail-parser cuts it at `/`",
    ),
    (
        13,
        "`Fri Feb 07 10:18:12 2003 -0800` is an asctime date and is read; mail-parser expects a garbled date (second 211)",
    ),
    (
        28,
        "the queue id `EE/20-30863-33CE1054` is kept whole; mail-parser cuts it at `/`",
    ),
    (
        29,
        "the queue id `8B/57-16227-3764EB44` is kept whole; mail-parser cuts it at `/`",
    ),
    (
        30,
        "the queue id `52/92-02454-89FBA054` is kept whole; mail-parser cuts it at `/`",
    ),
    (
        39,
        "Exim `ident=[x/O]` is kept whole without brackets; mail-parser cuts it at `/`",
    ),
    (58, HELO_COMMENT),
    (59, HELO_COMMENT),
    (62, HELO_COMMENT),
    (64, HELO_COMMENT),
    (
        65,
        "mail-parser takes `(envelope-sender <x>)` as the ident; mailtrace reads the ident `jdavid` of `jdavid@[ip]`, and `unknown` is the no-PTR placeholder (BR-06)",
    ),
    (
        67,
        "`PST` is an RFC 5322 zone (-0800); mail-parser reads it as -0000",
    ),
    (
        69,
        "a date without the `;` before it is still read and flagged chain.missing-semicolon (acceptance BR-08); mail-parser gives none",
    ),
    (
        85,
        "`from unknown (HELO x)`: from_host is the HELO, `unknown` is the no-PTR placeholder (BR-06)",
    ),
    (86, HELO_COMMENT),
    (
        89,
        "two-digit year `03` is 2003 (RFC 5322 section 4.3); mail-parser gives 1903",
    ),
    (
        90,
        "two-digit year `04` is 2004 (RFC 5322 section 4.3); mail-parser gives 1904",
    ),
    (97, HELO_COMMENT),
    (
        98,
        "`with ESMTP-TLS` is kept as written; mail-parser renames it ESMTPS",
    ),
    (107, HELO_COMMENT),
    (108, HELO_COMMENT),
    (
        113,
        "`with ESMTP-TLS` is kept as written; mail-parser renames it ESMTPS",
    ),
    (
        116,
        "the ident is the text before the last `@` (`?dX…/YKDD3rQ1?`); mail-parser cuts it at `/`",
    ),
    (
        117,
        "asctime `Sun Nov 13 14:50:12 2005` is read (no zone: UTC, flagged); mail-parser's expected date has month 13",
    ),
    (
        118,
        "asctime `Sun Nov 13 15:38:52 2005` is read (no zone: UTC, flagged); mail-parser's expected date has month 13",
    ),
    (
        123,
        "`by alpha by uid 7791`: the first by-clause names the host; mail-parser takes the last (`uid`)",
    ),
    (
        125,
        "`Unknown/Local` is kept as written; mail-parser cuts it at `/`",
    ),
    (
        128,
        "two-digit year `03` is 2003 (RFC 5322 section 4.3); mail-parser gives 1903",
    ),
    (
        144,
        "fractional seconds `07:53:55.516` are kept; mail-parser drops the seconds",
    ),
    (
        151,
        "mail-parser takes `(envelope-from x)` as the ident and misreads `Fri Sep 14 14:36:56 EDT 2018`; mailtrace gives envelope_from and 2018-09-14T18:36:56Z",
    ),
    (155, HELO_COMMENT),
    (
        161,
        "`(from localhost [ip])` is a comment: keywords inside comments are not clauses",
    ),
    (
        162,
        "`(from user@localhost)` is a comment: keywords inside comments are not clauses",
    ),
    (
        163,
        "`(from user@example)` is a comment; and `PDT` is -0700, which mail-parser reads as -0000",
    ),
    (
        165,
        "`(qmail N invoked from network)` is a comment, not a from-clause naming `network`",
    ),
    (
        171,
        "`(Postfix, from userid 1002)` is a comment, not a from-clause naming `userid`",
    ),
];

#[test]
fn mailparser_received_vectors() {
    let cases = load(&shared().join("corpus/mailparser-vectors/received.json"));
    let results = cases
        .as_array()
        .expect("list")
        .iter()
        .enumerate()
        .map(|(n, case)| {
            let r = parse_received(case["header"].as_str().expect("header"));
            (n, compare_mailparser_received(&r, &case["expected"]))
        });
    run_vectors(
        "mail-parser received.json",
        results,
        MAILPARSER_RECEIVED_ACCEPTED,
        144,
    );
}

/// mail-parser date.json cases where mailtrace disagrees on purpose.
const MAILPARSER_DATE_ACCEPTED: &[(usize, &str)] = &[
    (
        12,
        "` 4 8 15 16 23 42, …` has no time of day; mail-parser makes 2015-08-04 16:23:42 +0004 of it",
    ),
    (
        14,
        "`((invalid)\\ncomment)` is balanced once unfolded; mail-parser ends the header at the bare line break",
    ),
    (
        28,
        "a Date value is read from its start: the Received clauses before `;` are not skipped",
    ),
];

#[test]
fn mailparser_date_vectors() {
    let cases = load(&shared().join("corpus/mailparser-vectors/date.json"));
    let results = cases
        .as_array()
        .expect("list")
        .iter()
        .enumerate()
        .map(|(n, case)| {
            let parsed = parse_date(case["header"].as_str().expect("header"));
            let want = match &case["expected"] {
                Value::Null => None,
                date => mailparser_instant(date),
            };
            (n, same("timestamp", parsed.timestamp, want))
        });
    run_vectors(
        "mail-parser date.json",
        results,
        MAILPARSER_DATE_ACCEPTED,
        37,
    );
}

/// Returns the value of a header string with or without its `Received:` name.
fn received_value(input: &str) -> &str {
    let trimmed = input.trim_start();
    match trimmed.get(..9) {
        Some(name) if name.eq_ignore_ascii_case("received:") => &trimmed[9..],
        _ => input,
    }
}

/// Compares our parse with one MHA hop (its field names; repeated clauses joined by
/// `"; "`, of which the first is compared).
fn compare_mha_hop(r: &Received, want: &Value, exhaustive: bool) -> Result<(), String> {
    let first_part = |key: &str| {
        want[key]
            .as_str()
            .map(|v| v.split("; ").next().unwrap_or(v))
    };
    let first_word = |key: &str| first_part(key).map(|v| v.split(' ').next().unwrap_or(v));
    let mut problems = Vec::new();
    let mut check = |key: &str, ok: bool, got: String| {
        let absent_ok = !exhaustive || !want[key].is_null() || got == "None";
        if !want[key].is_null() && !ok {
            problems.push(format!("{key}: got {got}, expected {}", want[key]));
        } else if !absent_ok {
            problems.push(format!("{key}: got {got}, expected nothing"));
        }
    };
    check(
        "from",
        first_word("from") == r.from_host.as_deref(),
        format!("{:?}", r.from_host),
    );
    check(
        "by",
        first_word("by") == r.by_host.as_deref(),
        format!("{:?}", r.by_host),
    );
    // MHA's `with` runs on to the comment after it: `Microsoft SMTP Server (version=…)`.
    let with_ok = match (first_part("with"), r.protocol.as_deref()) {
        (Some(w), Some(p)) => w == p || w.starts_with(&format!("{p} (")),
        _ => false,
    };
    check("with", with_ok, format!("{:?}", r.protocol));
    check(
        "id",
        first_part("id") == r.id.as_deref(),
        format!("{:?}", r.id),
    );
    let for_want = first_part("for").map(|f| f.trim_matches(['<', '>']));
    check(
        "for",
        for_want == r.for_addr.as_deref(),
        format!("{:?}", r.for_addr),
    );
    check(
        "via",
        first_part("via") == r.via.as_deref(),
        format!("{:?}", r.via),
    );
    let millis = r.timestamp.map(|t| t.timestamp_millis());
    check(
        "dateNum",
        want["dateNum"].as_i64() == millis,
        format!("{millis:?}"),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn check_mha_case(case: &Value) -> Option<Result<(), String>> {
    let expect = &case["expect"];
    let exhaustive = expect["exhaustive"].as_bool() == Some(true);
    match case["kind"].as_str()? {
        "parse" => {
            let r = parse_received(received_value(case["input"].as_str()?));
            Some(compare_mha_hop(&r, expect, exhaustive))
        }
        "chain" => {
            let inputs = case["input"].as_array()?;
            let mut problems = Vec::new();
            for hop in expect["hops"].as_array()? {
                let index = hop["input_index"].as_u64()? as usize;
                let r = parse_received(received_value(inputs[index].as_str()?));
                if let Err(e) = compare_mha_hop(&r, hop, exhaustive) {
                    problems.push(format!("hop {}: {e}", hop["hop"]));
                }
            }
            Some(if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            })
        }
        "date" => {
            let input = case["input"].as_str()?;
            let value = received_value(input);
            let timestamp = if value.len() != input.len() {
                parse_received(value).timestamp
            } else {
                parse_date(input).timestamp
            };
            let millis = timestamp.map(|t| t.timestamp_millis());
            Some(same("dateNum", millis, expect["dateNum"].as_i64()))
        }
        // Delay texts are the chain renderer's, not the parser's.
        _ => None,
    }
}

/// MHA cases where mailtrace disagrees on purpose.
const MHA_ACCEPTED: &[(&str, &str)] = &[
    (
        "src/Scripts/table/Received.test.ts::Received Tests parseHeader::qmail",
        "`(qmail N invoked from network)` is a comment-only local hop: no by-host (MHA puts the comment in `by`)",
    ),
    (
        "src/Scripts/table/Received.test.ts::Received Tests parseHeader::broke3",
        "`22 Apr 2018` has no time of day: no timestamp (MHA gives midnight UTC)",
    ),
    (
        "src/Scripts/MHADates.test.ts::MHADates.parseDate::should parse date in YYYY-MM-DD format",
        "a date without a time of day gives no timestamp (MHA gives midnight UTC)",
    ),
    (
        "src/Scripts/MHADates.test.ts::MHADates.parseDate::should parse date in MM-DD-YYYY format",
        "a date without a time of day gives no timestamp (MHA gives midnight UTC)",
    ),
];

#[test]
fn mha_received_vectors() {
    let cases = load(&shared().join("corpus/received-vectors/mha-received.json"));
    let results = cases.as_array().expect("list").iter().filter_map(|case| {
        let outcome = check_mha_case(case)?;
        Some((case["id"].as_str().expect("id"), outcome))
    });
    run_vectors("MHA mha-received.json", results, MHA_ACCEPTED, 32);
}

/// Returns one SpamScope field of our parse, in SpamScope's names.
fn spamscope_field(r: &Received, key: &str) -> Option<String> {
    match key {
        "from" => r.from_host.clone(),
        "by" => r.by_host.clone(),
        "with" => r.protocol.clone(),
        "id" => r.id.clone(),
        "for" => r.for_addr.clone(),
        "via" => r.via.clone(),
        "date" => r.date_raw.clone(),
        "envelope_from" | "envelope_sender" => r.envelope_from.clone(),
        _ => None,
    }
}

fn check_spamscope_received(r: &Received, expect: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    let object = |key: &str| expect[key].as_object().cloned().unwrap_or_default();

    // SpamScope keeps `for` with its angle brackets.
    let strip = |v: &str| v.trim().trim_matches(['<', '>']).to_string();
    for (key, want) in object("equals").into_iter().chain(object("equals_trimmed")) {
        let got = spamscope_field(r, &key);
        if got.as_deref().map(strip) != want.as_str().map(strip) {
            problems.push(format!("{key}: got {got:?}, expected {want}"));
        }
    }
    // `from` is SpamScope's whole from-clause text: a substring may be any name or the
    // address in it, and `HELO` means a HELO name was given.
    for (key, wants) in object("contains") {
        for want in wants.as_array().into_iter().flatten() {
            let want = want.as_str().unwrap_or("");
            let ok = if key == "from" {
                let names = [
                    r.from_host.clone(),
                    r.from_rdns.clone(),
                    r.helo.clone(),
                    r.from_ip.map(|ip| ip.to_string()),
                ];
                names.iter().flatten().any(|n| n.contains(want))
                    || (want == "HELO" && r.helo.is_some())
            } else {
                spamscope_field(r, &key).is_some_and(|v| v.contains(want))
            };
            if !ok {
                problems.push(format!("{key} does not contain {want:?}"));
            }
        }
    }
    for key in expect["has_fields"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap_or("");
        if spamscope_field(r, key).is_none() {
            problems.push(format!("{key} missing"));
        }
    }
    // SpamScope raises on a value without clauses; mailtrace keeps it and flags it.
    if expect["error"].is_string()
        && !ids(&r.findings)
            .iter()
            .any(|id| id == "chain.malformed-received")
    {
        problems.push("not flagged as malformed".into());
    }
    if expect["parses"] == true && r.by_host.is_none() && r.from_host.is_none() {
        problems.push("nothing parsed".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn check_spamscope_case(case: &Value) -> Result<(), String> {
    let expect = &case["expect"];
    match case["kind"].as_str().unwrap_or("") {
        "received" => {
            let r = parse_received(case["input"].as_str().unwrap_or(""));
            check_spamscope_received(&r, expect)
        }
        "received_list" => {
            let hops: Vec<Received> = case["input"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| parse_received(v.as_str().unwrap_or("")))
                .collect();
            let dated = hops.iter().filter(|h| h.timestamp.is_some()).count();
            same(
                "hop count",
                dated as u64,
                expect["hop_count"].as_u64().unwrap_or(0),
            )
        }
        // The address pattern is checked through the TCP-info of a from-clause.
        "ip_pattern" => {
            let input = case["input"].as_str().unwrap_or("");
            let value = format!(
                "from h.example.net ({input}) by mx.example.org; Mon, 1 Jan 2024 00:00:00 +0000"
            );
            let found = parse_received(&value).from_ip.is_some();
            let want = expect["search_finds_match"].as_bool().unwrap_or(false);
            same("address found", found, want)
        }
        other => Err(format!("unknown kind {other}")),
    }
}

/// SpamScope cases where mailtrace disagrees on purpose.
const SPAMSCOPE_ACCEPTED: &[(&str, &str)] = &[];

#[test]
fn spamscope_received_vectors() {
    let cases = load(&shared().join("corpus/received-vectors/spamscope-received.json"));
    let results = cases
        .as_array()
        .expect("list")
        .iter()
        .map(|case| (case["id"].as_str().expect("id"), check_spamscope_case(case)));
    run_vectors(
        "SpamScope spamscope-received.json",
        results,
        SPAMSCOPE_ACCEPTED,
        39,
    );
}

// ---------------------------------------------------------------------------------------
// Size

#[test]
fn large_values_and_many_fields_parse() {
    let mut big = String::from(
        "from a.example.net (a.example.net [192.0.2.1]) by b.example.org with ESMTP id X (",
    );
    while big.len() < 60_000 {
        big.push_str("(nested; comment [1.2.3.4] by with id for) ");
    }
    big.push_str("); Mon, 3 Mar 2025 10:00:00 +0000");
    let r = parse_received(&big);
    assert_eq!(r.by_host.as_deref(), Some("b.example.org"));
    assert!(r.timestamp.is_some());
    for n in 0..5_000 {
        let value = format!(
            "from relay{n}.example.net (relay{n}.example.net [192.0.2.{}]) by relay{}.example.net with ESMTP id Q{n:07}; Mon, 03 Mar 2025 10:{:02}:{:02} +0000",
            n % 250,
            n + 1,
            (n / 60) % 60,
            n % 60
        );
        assert!(parse_received(&value).timestamp.is_some());
    }
}
