//! Published authentication test suites, run through mailtrace's resolver against a DNS
//! server on 127.0.0.1 that serves each scenario's records:
//!
//! - the RFC 7208 SPF test suite (openspf.org release 2014.04, as shipped with postalsys
//!   mailauth), evaluated with mail-auth's `check_host`;
//! - the ARC validation suite (ValiMail arc_test_suite), each message analysed and then
//!   verified by mailtrace's `--online` verifier.
//!
//! Each test prints its pass count and the cases that differ
//! (`cargo test --test auth_suites -- --nocapture`), and fails when fewer cases pass than
//! the count recorded here and in the README.

mod common;
mod support {
    pub mod dns;
}

use common::corpus_dir;
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, TXT};
use hickory_server::proto::rr::{Name, RData, Record};
use mail_auth::MessageAuthenticator;
use mail_auth::spf::verify::SpfParameters;
use mailtrace::analysis::analyze;
use mailtrace::config::AnalysisConfig;
use mailtrace::input::{InputOptions, read_bytes};
use mailtrace::verify::resolver::{DnsSource, build_authenticator};
use mailtrace::verify::spf::result_name;
use mailtrace::verify::{Verifier, VerifyOptions};
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;
use support::dns::DnsServer;
use yaml_rust2::{Yaml, YamlLoader};

/// Client timeout per query. The server delays its responses to slow names beyond it.
const QUERY_TIMEOUT: Duration = Duration::from_millis(500);

/// RFC 7208 cases that pass with mail-auth 0.7 through a local server, out of 200. The
/// printed list names the others: 17 panic in mail-auth on `/0` prefixes, the void-lookup
/// limit is not enforced, and invalid names give temperror where the suite expects none or
/// permerror.
const SPF_MIN_PASSED: usize = 133;

/// ARC validation cases that pass with mail-auth 0.7 through mailtrace's verifier, out of
/// 175. Most of the others are signatures with invalid tags (sha1, unknown tag names,
/// duplicate tags) that mail-auth accepts.
const ARC_MIN_PASSED: usize = 155;

fn load_yaml(path: &std::path::Path) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    YamlLoader::load_from_str(&rename_repeated_cases(&text))
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

/// Gives a case name that repeats inside one scenario (the ARC suite has four) a `-2`
/// suffix, so that a strict loader keeps both cases. Case names are the keys indented by
/// two spaces under `tests:`.
fn rename_repeated_cases(text: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.starts_with("---") {
            seen.clear();
        }
        let is_case =
            line.starts_with("  ") && !line.starts_with("   ") && line.trim_end().ends_with(':');
        if is_case && !seen.insert(line.trim().to_string()) {
            out.push_str(&line.replacen(':', "-2:", 1));
            continue;
        }
        out.push_str(line);
    }
    out
}

/// Returns a YAML scalar as text: strings as written, numbers and booleans in their
/// usual form.
fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(text) | Yaml::Real(text) => Some(text.clone()),
        Yaml::Integer(number) => Some(number.to_string()),
        Yaml::Boolean(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Returns the strings of a TXT or SPF entry: one string, or a list of character-strings.
fn txt_strings(value: &Yaml) -> Vec<String> {
    match value {
        Yaml::Array(parts) => parts.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

/// DNS data of one SPF scenario.
#[derive(Default)]
struct Zone {
    records: Vec<Record>,
    /// Names marked TIMEOUT: queries for types they lack time out.
    slow: Vec<Name>,
    /// Entries that hickory cannot hold (invalid names or data), skipped.
    skipped: usize,
}

/// Converts a scenario's `zonedata` the way the suite's own drivers do: a name with SPF
/// (type 99) entries and no TXT entry also gets them as TXT, `TXT: NONE` stops that, and
/// `TIMEOUT` makes the name's missing types time out.
fn spf_zone(zonedata: &Yaml) -> Zone {
    let mut zone = Zone::default();
    let Some(names) = zonedata.as_hash() else {
        return zone;
    };
    for (name, entries) in names {
        let Some(name_text) = scalar(name) else {
            zone.skipped += 1;
            continue;
        };
        let Ok(name) = Name::from_str(&format!("{}.", name_text.trim_end_matches('.'))) else {
            zone.skipped += 1;
            continue;
        };
        let mut spf = Vec::new();
        let mut has_txt = false;
        for entry in entries.as_vec().map(Vec::as_slice).unwrap_or_default() {
            if entry.as_str() == Some("TIMEOUT") {
                zone.slow.push(name.clone());
                continue;
            }
            let Some(fields) = entry.as_hash() else {
                zone.skipped += 1;
                continue;
            };
            for (kind, value) in fields {
                let kind = kind.as_str().unwrap_or_default();
                if kind == "SPF" {
                    spf.push(txt_strings(value));
                    continue;
                }
                if kind == "TXT" {
                    has_txt = true;
                    if value.as_str() == Some("NONE") {
                        continue;
                    }
                }
                match record_data(kind, value) {
                    Some(data) => zone
                        .records
                        .push(Record::from_rdata(name.clone(), 60, data)),
                    None => zone.skipped += 1,
                }
            }
        }
        if !has_txt {
            for strings in spf {
                let data = RData::TXT(TXT::new(strings));
                zone.records
                    .push(Record::from_rdata(name.clone(), 60, data));
            }
        }
    }
    zone
}

/// Builds the record data of one `zonedata` entry.
fn record_data(kind: &str, value: &Yaml) -> Option<RData> {
    let host = |text: &str| Name::from_str(&format!("{}.", text.trim_end_matches('.'))).ok();
    match kind {
        "A" => Some(RData::A(A(scalar(value)?.parse().ok()?))),
        "AAAA" => Some(RData::AAAA(AAAA(scalar(value)?.parse().ok()?))),
        "TXT" => Some(RData::TXT(TXT::new(txt_strings(value)))),
        "PTR" => Some(RData::PTR(PTR(host(&scalar(value)?)?))),
        "CNAME" => Some(RData::CNAME(CNAME(host(&scalar(value)?)?))),
        "MX" => {
            let parts = value.as_vec()?;
            let preference = scalar(parts.first()?)?.parse().ok()?;
            Some(RData::MX(MX::new(
                preference,
                host(&scalar(parts.get(1)?)?)?,
            )))
        }
        _ => None,
    }
}

/// Evaluates one suite case: MAIL FROM when the case has a sender, HELO otherwise.
fn spf_case(authenticator: &MessageAuthenticator, case: &Yaml) -> Option<&'static str> {
    let ip: IpAddr = scalar(&case["host"])?.parse().ok()?;
    let helo = scalar(&case["helo"]).unwrap_or_default();
    let mail_from = scalar(&case["mailfrom"]).unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime");
    // mail-auth 0.7's SPF parser overflows a shift on `a/0` and `mx/0`, which panics in
    // builds with overflow checks such as this test build.
    let evaluated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            if mail_from.is_empty() {
                let parameters = SpfParameters::verify_ehlo(ip, &helo, "mx.example.org");
                authenticator.check_host(parameters.into()).await
            } else {
                let parameters =
                    SpfParameters::verify_mail_from(ip, &helo, "mx.example.org", &mail_from);
                authenticator.check_host(parameters.into()).await
            }
        })
    }));
    match evaluated {
        Ok(output) => Some(result_name(output.result())),
        Err(_) => Some("panic in mail-auth"),
    }
}

/// Returns the results a case accepts: one, or a list.
fn expected_results(case: &Yaml) -> Vec<String> {
    match &case["result"] {
        Yaml::Array(results) => results.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

#[test]
fn rfc7208_spf_suite() {
    let path = corpus_dir().join("auth-vectors/postalsys_mailauth/fixtures/spf/rfc7208-tests.yml");
    let mut total = 0;
    let mut passed = 0;
    let mut differing = Vec::new();
    let mut skipped_entries = 0;

    for scenario in load_yaml(&path) {
        let description = scalar(&scenario["description"]).unwrap_or_default();
        let zone = spf_zone(&scenario["zonedata"]);
        skipped_entries += zone.skipped;
        let server = DnsServer::with_records(zone.records, zone.slow);
        let authenticator = build_authenticator(&DnsSource::Server(server.address), QUERY_TIMEOUT)
            .expect("authenticator for the local server");
        let Some(cases) = scenario["tests"].as_hash() else {
            continue;
        };
        for (name, case) in cases {
            total += 1;
            let name = scalar(name).unwrap_or_default();
            let expected = expected_results(case);
            let actual = spf_case(&authenticator, case).unwrap_or("not run: invalid host");
            if expected.iter().any(|e| e == actual) {
                passed += 1;
            } else {
                differing.push(format!(
                    "{description} / {name}: expected {}, got {actual}",
                    expected.join(" or ")
                ));
            }
        }
    }

    println!("RFC 7208 SPF suite: {passed} of {total} cases pass");
    println!("zonedata entries hickory cannot hold, skipped: {skipped_entries}");
    for line in &differing {
        println!("  differs: {line}");
    }
    assert_eq!(total, 200, "the suite file has 200 cases");
    assert!(
        passed >= SPF_MIN_PASSED,
        "{passed} SPF cases pass, fewer than the {SPF_MIN_PASSED} recorded"
    );
}

/// Builds the TXT records of an ARC scenario's `txt-records`.
fn arc_records(txt_records: &Yaml) -> Vec<Record> {
    let mut records = Vec::new();
    for (name, value) in txt_records.as_hash().into_iter().flatten() {
        let (Some(name), Some(value)) = (scalar(name), scalar(value)) else {
            continue;
        };
        let Ok(name) = Name::from_str(&format!("{}.", name.trim_end_matches('.'))) else {
            continue;
        };
        // A TXT character-string contains at most 255 bytes, so long keys are split.
        let parts = value
            .as_bytes()
            .chunks(255)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect();
        records.push(Record::from_rdata(name, 60, RData::TXT(TXT::new(parts))));
    }
    records
}

/// Verifies one message with mailtrace's verifier and returns its ARC result.
fn arc_case(verifier: &Verifier, message: &str) -> String {
    let bytes = message
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes();
    let inputs = read_bytes("arc-case.eml", bytes, None, &InputOptions::default());
    let Some(Ok(input)) = inputs.into_iter().next() else {
        return "none".into();
    };
    let Ok(report) = analyze(&input, &AnalysisConfig::default()) else {
        return "none".into();
    };
    verifier
        .verify(&input.bytes, &report)
        .arc
        .map_or_else(|| "none".into(), |check| check.result)
}

#[test]
fn arc_validation_suite() {
    let path = corpus_dir().join("auth-vectors/arc_test_suite/arc-draft-validation-tests.yml");
    let mut total = 0;
    let mut passed = 0;
    let mut differing = Vec::new();

    for scenario in load_yaml(&path) {
        let description = scalar(&scenario["description"]).unwrap_or_default();
        let server = DnsServer::with_records(arc_records(&scenario["txt-records"]), Vec::new());
        let verifier = Verifier::new(VerifyOptions {
            source: DnsSource::Server(server.address),
            timeout: QUERY_TIMEOUT,
            cache_file: None,
        })
        .expect("verifier for the local server");
        let Some(cases) = scenario["tests"].as_hash() else {
            continue;
        };
        for (name, case) in cases {
            total += 1;
            let name = scalar(name).unwrap_or_default();
            let expected = scalar(&case["cv"]).unwrap_or_default().to_ascii_lowercase();
            let message = scalar(&case["message"]).unwrap_or_default();
            let actual = arc_case(&verifier, &message);
            if actual == expected {
                passed += 1;
            } else {
                differing.push(format!(
                    "{description} / {name}: expected {expected}, got {actual}"
                ));
            }
        }
    }

    println!("ARC validation suite: {passed} of {total} cases pass");
    for line in &differing {
        println!("  differs: {line}");
    }
    assert!(total > 150, "only {total} ARC cases were read");
    assert!(
        passed >= ARC_MIN_PASSED,
        "{passed} ARC cases pass, fewer than the {ARC_MIN_PASSED} recorded"
    );
}
