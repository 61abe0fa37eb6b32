//! Authentication parsers against the acceptance cases and the real-mail corpus.
//!
//! Part 1 runs the acceptance entries about Authentication-Results, ARC and DKIM tag lists
//! (LF cases also with CRLF) and compares the expected keys. Part 2 runs the parsers over
//! every matching field of the corpus and over the ARC vectors of three projects, whose
//! structural verdicts must agree with the expected chain status where no cryptography
//! decides it.

use mailtrace::analysis::arc::{ArcChain, assess_arc};
use mailtrace::finding::Finding;
use mailtrace::headers::{HeaderBlock, ParseOptions};
use mailtrace::parse::authres::{
    AuthResult, AuthResults, parse_arc_authentication_results, parse_authentication_results,
};
use mailtrace::parse::received_spf::parse_received_spf;
use mailtrace::parse::taglist::{
    parse_arc_message_signature, parse_arc_seal, parse_dkim_signature,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SHARED: &str = "/work/shared";

/// Acceptance flag labels and the finding ids that report them.
const FLAG_IDS: &[(&str, &str)] = &[
    ("non-standard-result", "auth.non-standard-result"),
    ("property-without-ptype", "auth.property-without-ptype"),
    ("reason-after-property", "auth.reason-after-property"),
    ("missing-authserv-id", "auth.missing-authserv-id"),
    ("arc-instance-gap", "auth.arc-instance-gap"),
    ("invalid-arc-instance", "auth.arc-invalid-instance"),
    ("arc-cv-contradicted", "auth.arc-cv-contradicted"),
];

/// Acceptance entries owned by other parsers: BR-39 covers the Exchange anti-spam headers.
const OTHER_ENTRIES: &[&str] = &["BR-39"];

/// Entries of other kinds that hold an authentication part, and the keys of that part.
const PARTIAL_ENTRIES: &[(&str, &[&str])] = &[
    ("BR-24", &["dkim_signature"]),
    ("BR-30", &["arc_message_signature"]),
];

fn acceptance_dir() -> PathBuf {
    Path::new(SHARED).join("acceptance")
}

fn corpus_dir() -> PathBuf {
    Path::new(SHARED).join("corpus")
}

fn load_expected() -> Vec<Value> {
    let path = acceptance_dir().join("expected.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    match serde_json::from_str(&text) {
        Ok(Value::Array(entries)) => entries,
        other => panic!("expected.json is not a JSON list: {other:?}"),
    }
}

/// Returns the keys of `expect` this suite checks for an entry, or `None` to skip it.
fn checked_keys(entry: &Value) -> Option<Vec<String>> {
    let id = entry["id"].as_str().unwrap_or("");
    let expect = entry["expect"].as_object()?;
    if let Some((_, keys)) = PARTIAL_ENTRIES.iter().find(|(entry_id, _)| *entry_id == id) {
        return Some(keys.iter().map(|k| k.to_string()).collect());
    }
    if entry["kind"] != "auth" || OTHER_ENTRIES.contains(&id) {
        return None;
    }
    Some(expect.keys().cloned().collect())
}

/// Returns the inputs of an entry: the stored bytes, and a CRLF copy for `lf` entries.
fn inputs(entry: &Value) -> Vec<(&'static str, Vec<u8>)> {
    let file = entry["file"].as_str().unwrap_or("");
    let path = acceptance_dir().join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut runs = vec![("as stored", bytes.clone())];
    if entry["line_endings"] == "lf" {
        let text = String::from_utf8_lossy(&bytes).replace('\n', "\r\n");
        runs.push(("with CRLF", text.into_bytes()));
    }
    runs
}

fn parse_block(bytes: &[u8]) -> HeaderBlock {
    HeaderBlock::parse(bytes, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("split headers: {e}"))
}

/// Everything the authentication parsers report for one message.
struct Parsed {
    auth_results: Vec<Value>,
    arc: ArcChain,
    dkim: Vec<Value>,
    ams: Vec<Value>,
    findings: Vec<Finding>,
}

fn parse_message(block: &HeaderBlock) -> Parsed {
    let mut parsed = Parsed {
        auth_results: Vec::new(),
        arc: assess_arc(block),
        dkim: Vec::new(),
        ams: Vec::new(),
        findings: Vec::new(),
    };
    parsed.findings.extend(parsed.arc.findings.iter().cloned());
    for field in &block.fields {
        if field.is("Authentication-Results") || field.is("ARC-Authentication-Results") {
            let results = if field.is("Authentication-Results") {
                parse_authentication_results(&field.value)
            } else {
                parse_arc_authentication_results(&field.value)
            };
            parsed.findings.extend(results.findings.iter().cloned());
            parsed
                .auth_results
                .push(auth_results_json(&field.name, &results));
        } else if field.is("DKIM-Signature") {
            let signature = parse_dkim_signature(&field.value);
            parsed.findings.extend(signature.findings.iter().cloned());
            parsed.dkim.push(to_json(&signature));
        } else if field.is("ARC-Message-Signature") {
            parsed
                .ams
                .push(to_json(&parse_arc_message_signature(&field.value)));
        } else if field.is("Received-SPF") {
            parsed
                .findings
                .extend(parse_received_spf(&field.value).findings);
        }
    }
    parsed
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("serialise: {e}"))
}

/// Writes a parsed field in the shape of the acceptance `auth_results` entries.
fn auth_results_json(name: &str, results: &AuthResults) -> Value {
    json!({
        "field": name,
        "authserv_id": results.authserv_id,
        "version": results.version,
        "instance": results.instance,
        "no_authentication_performed": results.no_authentication_performed,
        "result_count": results.results.len(),
        "results": results.results.iter().map(result_json).collect::<Vec<_>>(),
    })
}

fn result_json(result: &AuthResult) -> Value {
    let properties: Map<String, Value> = result
        .properties
        .iter()
        .map(|p| (p.key(), Value::String(p.value.clone())))
        .collect();
    json!({
        "method": result.method,
        "result": result.result,
        "result_raw": result.result_raw,
        "reason": result.reason,
        "comment": result.comment,
        "properties": properties,
        "unparsed_properties": result.unparsed_properties,
        "flagged": result.flagged,
    })
}

/// Compares `got` with `expected` following the acceptance conventions: objects are
/// partial, lists complete and ordered, `null` means absent, and a `properties` map is
/// compared whole. Returns one line per difference.
fn compare(expected: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match expected {
        Value::Object(keys) => {
            for (key, want) in keys {
                let have = got.get(key).unwrap_or(&Value::Null);
                let path = format!("{path}.{key}");
                if key == "properties" && want != have {
                    out.push(format!("{path}: expected {want}, got {have}"));
                } else {
                    compare(want, have, &path, out);
                }
            }
        }
        Value::Array(items) => {
            let have = got.as_array().map(Vec::as_slice).unwrap_or(&[]);
            if have.len() != items.len() {
                out.push(format!(
                    "{path}: expected {} items, got {}: {got}",
                    items.len(),
                    have.len()
                ));
                return;
            }
            for (index, (want, have)) in items.iter().zip(have).enumerate() {
                compare(want, have, &format!("{path}[{index}]"), out);
            }
        }
        _ if expected != got => out.push(format!("{path}: expected {expected}, got {got}")),
        _ => {}
    }
}

fn flag_id(label: &str) -> &'static str {
    FLAG_IDS
        .iter()
        .find(|(flag, _)| *flag == label)
        .map(|(_, id)| *id)
        .unwrap_or_else(|| panic!("flag label {label:?} has no finding id in FLAG_IDS"))
}

/// Checks one acceptance key; returns the differences.
fn check_key(key: &str, want: &Value, parsed: &Parsed) -> Vec<String> {
    let mut out = Vec::new();
    match key {
        "auth_results" => {
            // `trusted` depends on the relay chain and configuration, judged by the
            // analysis pass, not by these parsers.
            let mut want = want.clone();
            for field in want.as_array_mut().into_iter().flatten() {
                field.as_object_mut().map(|f| f.remove("trusted"));
            }
            compare(
                &want,
                &Value::Array(parsed.auth_results.clone()),
                key,
                &mut out,
            );
        }
        "arc" => compare(want, &to_json(&parsed.arc), key, &mut out),
        "dkim_signature" => compare(
            want,
            parsed.dkim.first().unwrap_or(&Value::Null),
            key,
            &mut out,
        ),
        "arc_message_signature" => compare(
            want,
            parsed.ams.first().unwrap_or(&Value::Null),
            key,
            &mut out,
        ),
        "flags" => {
            for label in want
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let id = flag_id(label);
                if !parsed.findings.iter().any(|f| f.id == id) {
                    out.push(format!("flags: {label} ({id}) not reported"));
                }
            }
        }
        "flags_absent" => {
            for label in want
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let id = flag_id(label);
                if parsed.findings.iter().any(|f| f.id == id) {
                    out.push(format!("flags_absent: {label} ({id}) reported"));
                }
            }
        }
        other => out.push(format!("{other}: key not checked by this suite")),
    }
    out
}

#[test]
fn acceptance_auth_entries() {
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for entry in load_expected() {
        let Some(keys) = checked_keys(&entry) else {
            continue;
        };
        let id = entry["id"].as_str().unwrap_or("?").to_string();
        for (run, bytes) in inputs(&entry) {
            let parsed = parse_message(&parse_block(&bytes));
            for key in &keys {
                for difference in check_key(key, &entry["expect"][key], &parsed) {
                    failures.push(format!("{id} ({run}): {difference}"));
                }
            }
        }
        checked.push(id);
    }
    println!("acceptance entries checked: {}", checked.join(", "));
    assert_eq!(checked.len(), 9, "entries checked: {checked:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn crlf_gives_same_auth_parse() {
    for entry in load_expected().iter().filter(|e| checked_keys(e).is_some()) {
        let runs = inputs(entry);
        let parsed: Vec<(Vec<Value>, Value)> = runs
            .iter()
            .map(|(_, bytes)| {
                let parsed = parse_message(&parse_block(bytes));
                (parsed.auth_results, to_json(&parsed.arc))
            })
            .collect();
        if let [lf, crlf] = parsed.as_slice() {
            assert_eq!(lf, crlf, "LF and CRLF differ for {}", entry["id"]);
        }
    }
}

/// Lists the files under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Splits the header block of a corpus file; `None` when it contains no header field.
fn corpus_block(path: &Path) -> Option<HeaderBlock> {
    let bytes = std::fs::read(path).ok()?;
    HeaderBlock::parse(&bytes, &ParseOptions::default()).ok()
}

#[test]
fn corpus_authentication_results() {
    let mut files = files_under(&corpus_dir().join("phish-outlook"));
    files.extend(files_under(&corpus_dir().join("spamassassin-t")));

    let mut fields = 0;
    let mut results = 0;
    let mut none_fields = 0;
    let mut empty = Vec::new();
    let mut finding_counts: BTreeMap<String, usize> = BTreeMap::new();

    for path in &files {
        let Some(block) = corpus_block(path) else {
            continue;
        };
        for field in &block.fields {
            let parsed = if field.is("Authentication-Results") {
                parse_authentication_results(&field.value)
            } else if field.is("ARC-Authentication-Results") {
                parse_arc_authentication_results(&field.value)
            } else {
                continue;
            };

            fields += 1;
            results += parsed.results.len();
            for finding in &parsed.findings {
                *finding_counts.entry(finding.id.clone()).or_default() += 1;
            }
            if parsed.no_authentication_performed {
                none_fields += 1;
            } else if parsed.results.is_empty() {
                empty.push(format!("{}:{}", path.display(), field.line));
            }
        }
    }

    println!(
        "Authentication-Results fields: {fields}, results: {results}, `none` fields: {none_fields}"
    );
    println!("findings by id: {finding_counts:?}");
    assert!(fields > 900, "only {fields} fields found");
    assert!(empty.is_empty(), "fields without results: {empty:?}");
}

#[test]
fn corpus_received_spf() {
    let folders = [
        "phish-outlook",
        "spamassassin-t",
        "ham-2002",
        "spamscope/mails",
        "maildir",
        "mailparser-vectors/eml",
        "cpython-email",
        "auth-vectors/postalsys_mailauth/fixtures",
    ];
    let mut fields = 0;
    let mut with_ip = 0;
    let mut missed = Vec::new();
    let mut results: BTreeMap<String, usize> = BTreeMap::new();
    for folder in folders {
        for path in files_under(&corpus_dir().join(folder)) {
            let Some(block) = corpus_block(&path) else {
                continue;
            };
            for field in block.all("Received-SPF") {
                let parsed = parse_received_spf(&field.value);
                fields += 1;
                *results.entry(parsed.result.clone()).or_default() += 1;
                if field.value.to_ascii_lowercase().contains("client-ip=") {
                    with_ip += 1;
                    if parsed.client_ip.is_none() {
                        missed.push(format!("{}:{}", path.display(), field.line));
                    }
                }
            }
        }
    }
    println!("Received-SPF fields: {fields}, with client-ip=: {with_ip}, results: {results:?}");
    assert!(fields > 500, "only {fields} fields found");
    assert!(missed.is_empty(), "client-ip not read: {missed:?}");
}

/// Returns the structural verdict for a message's ARC chain.
fn arc_verdict(bytes: &[u8]) -> ArcChain {
    match HeaderBlock::parse(bytes, &ParseOptions::default()) {
        Ok(block) => assess_arc(&block),
        Err(_) => assess_arc(&HeaderBlock::default()),
    }
}

#[test]
fn corpus_arc_fixtures() {
    // arc-fail and arc-fail2 alter a signed value, so only cryptography fails them;
    // the latest seal of arc-fail3 has cv=fail.
    let cases = [
        (
            "auth-vectors/postalsys_mailauth/fixtures/arc-pass.eml",
            "pass",
            2,
        ),
        (
            "auth-vectors/postalsys_mailauth/fixtures/arc-pass2.eml",
            "pass",
            2,
        ),
        (
            "auth-vectors/postalsys_mailauth/fixtures/arc-fail.eml",
            "pass",
            2,
        ),
        (
            "auth-vectors/postalsys_mailauth/fixtures/arc-fail2.eml",
            "pass",
            2,
        ),
        (
            "auth-vectors/postalsys_mailauth/fixtures/arc-fail3.eml",
            "fail",
            2,
        ),
        ("auth-vectors/stalwart_mailauth/arc/001.txt", "pass", 1),
        ("auth-vectors/stalwart_mailauth/arc/002.txt", "pass", 2),
        ("spamassassin-t/dkim/arc/ok01.eml", "pass", 1),
        ("spamassassin-t/dkim/arc/ko01.eml", "none", 0),
    ];
    for (file, verdict, sets) in cases {
        let path = corpus_dir().join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        // The stalwart files open with DNS records and an empty line before the message.
        let message = match file.contains("stalwart") {
            true => after_first_empty_line(&bytes),
            false => &bytes[..],
        };
        let chain = arc_verdict(message);
        assert_eq!(
            chain.chain, verdict,
            "verdict of {file}: {:?}",
            chain.failure
        );
        assert_eq!(chain.set_count, sets, "sets of {file}");
    }
}

fn after_first_empty_line(bytes: &[u8]) -> &[u8] {
    let text = bytes;
    let position = text.windows(2).position(|w| w == b"\n\n");
    match position {
        Some(p) => text.get(p + 2..).unwrap_or(&[]),
        None => text,
    }
}

/// One case of the ValiMail ARC validation suite.
struct SuiteCase {
    name: String,
    message: String,
    /// Expected chain status: `None`, `Pass`, `Fail`, or empty when the suite gives none.
    cv: String,
}

/// Reads the cases of a ValiMail suite file: each test's `message: |` block and its `cv:`.
/// Only what these tests need is read, so repeated test names are kept as separate cases.
fn read_suite(text: &str) -> Vec<SuiteCase> {
    let mut cases = Vec::new();
    let mut current: Option<SuiteCase> = None;
    let mut in_message = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if in_message {
            if line.trim().is_empty() || indent >= 6 {
                if let Some(case) = current.as_mut() {
                    case.message.push_str(line.get(6..).unwrap_or(""));
                    case.message.push('\n');
                }
                continue;
            }
            in_message = false;
        }
        let trimmed = line.trim();
        if indent == 2 && trimmed.ends_with(':') && !trimmed.contains(' ') {
            cases.extend(current.take());
            current = Some(SuiteCase {
                name: trimmed.trim_end_matches(':').to_string(),
                message: String::new(),
                cv: String::new(),
            });
        } else if indent == 0 {
            cases.extend(current.take());
        } else if let Some(case) = current.as_mut() {
            if trimmed.starts_with("message:") {
                in_message = true;
            } else if let Some(cv) = trimmed.strip_prefix("cv:") {
                case.cv = cv.trim().trim_start_matches('|').trim().to_string();
            }
        }
    }
    cases.extend(current);
    cases
}

/// Suite cases expected to fail that no structural check can catch: each fails on a
/// signature, a body hash, a key or a header the signature covers.
const CRYPTO_ONLY: &[&str] = &[
    "cv_fail_i1_ams_invalid",
    "cv_fail_i1_as_invalid",
    "cv_fail_i2_ams_invalid",
    "cv_fail_i2_as2_invalid",
    "cv_fail_i2_as1_invalid",
    "ams_format_tags_val_case",
    "ams_fields_b_mod_sig",
    "ams_fields_b_mod_headers1",
    "ams_fields_b_mod_headers2",
    "ams_fields_bh_sim_inl_wsp",
    "ams_fields_bh_mod_sig",
    "ams_fields_bh_mod_body",
    "ams_fields_h_dup2",
    "ams_fields_h_order",
    "ams_fields_h_empty_added",
    "ams_fields_h_includes_as",
    "as_format_tags_val_case",
    "as_fields_b_512",
    "as_fields_b_mod_sig",
    "as_fields_b_ams1",
    "as_fields_b_asb1",
    "public_key_na",
    "public_key_invalid",
];

#[test]
fn valimail_arc_suite_structure() {
    let path = corpus_dir().join("auth-vectors/arc_test_suite/arc-draft-validation-tests.yml");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let cases = read_suite(&text);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for case in &cases {
        let chain = arc_verdict(case.message.as_bytes());
        let expected = case.cv.to_ascii_lowercase();
        let outcome = match expected.as_str() {
            "" => "no expected status",
            "none" | "pass" if chain.chain == expected => "agrees",
            "fail" if chain.chain == "fail" => {
                if CRYPTO_ONLY.contains(&case.name.as_str()) {
                    wrong.push(format!(
                        "{}: listed as cryptography-only but fails on structure",
                        case.name
                    ));
                }
                "fail found by structure"
            }
            "fail" if CRYPTO_ONLY.contains(&case.name.as_str()) => "fail left to cryptography",
            _ => {
                wrong.push(format!(
                    "{}: expected {}, got {} {:?}",
                    case.name, case.cv, chain.chain, chain.failure
                ));
                "wrong"
            }
        };
        *counts.entry(outcome.to_string()).or_default() += 1;
    }
    println!("ValiMail ARC cases: {}, outcomes: {counts:?}", cases.len());
    assert_eq!(cases.len(), 175);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn valimail_suite_reader() {
    let text = "description: x\ntests:\n  one:\n    message: |\n      A: 1\n\n      body\n    cv:          Pass\n  two:\n    message: |\n      B: 2\n    cv: |\n      \ntxt-records:\n  x: y\n";
    let cases = read_suite(text);
    let summary: Vec<(&str, &str, &str)> = cases
        .iter()
        .map(|c| (c.name.as_str(), c.message.as_str(), c.cv.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![("one", "A: 1\n\nbody\n", "Pass"), ("two", "B: 2\n", "")]
    );
}

#[test]
fn arc_seal_parses_from_corpus() {
    // Every ARC-Seal in the phishing corpus carries an instance and a cv.
    let mut seals = 0;
    for path in files_under(&corpus_dir().join("phish-outlook")) {
        let Some(block) = corpus_block(&path) else {
            continue;
        };
        for field in block.all("ARC-Seal") {
            let seal = parse_arc_seal(&field.value);
            seals += 1;
            assert!(
                seal.instance.is_some(),
                "{}:{} has no instance",
                path.display(),
                field.line
            );
            assert!(
                seal.cv.is_some(),
                "{}:{} has no cv",
                path.display(),
                field.line
            );
        }
    }
    println!("ARC-Seal fields: {seals}");
    assert!(seals > 100);
}
