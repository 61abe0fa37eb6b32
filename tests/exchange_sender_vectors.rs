//! Acceptance cases and corpus runs for the address-list, encoded-word and Exchange
//! anti-spam parsers.
//!
//! The inputs are read in place from `../shared` (the acceptance cases and the real-mail
//! corpus next to the project). Entries stored with LF endings are run as stored and again
//! with CRLF, and both runs must give the same result.

use mailtrace::finding::Finding;
use mailtrace::headers::{HeaderBlock, ParseOptions};
use mailtrace::parse::address::{AddressList, parse_address_list};
use mailtrace::parse::encoded_word::decode_unstructured;
use mailtrace::parse::exchange::{
    describe_org_scl, is_forefront_report_field, is_microsoft_antispam_field,
    parse_forefront_report, parse_microsoft_antispam,
};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// Maps the flag labels of `expected.json` to the finding ids of this crate.
const FLAG_IDS: &[(&str, &str)] = &[
    ("address-in-local-part", "sender.address-in-local-part"),
    ("address-in-display-name", "sender.address-in-display-name"),
    ("no-valid-mailbox", "sender.no-valid-mailbox"),
    ("hidden-comments", "sender.hidden-comments"),
    (
        "control-chars-in-encoded-word",
        "header.control-chars-in-encoded-word",
    ),
    ("invalid-address-list", "header.invalid-address-list"),
];

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn acceptance_entry(id: &str) -> Value {
    let path = shared_dir().join("acceptance/expected.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let entries: Vec<Value> = serde_json::from_str(&text).expect("expected.json is JSON");
    entries
        .into_iter()
        .find(|entry| entry["id"] == id)
        .unwrap_or_else(|| panic!("no acceptance entry {id}"))
}

/// Returns the inputs of an entry: as stored, plus a CRLF copy for `line_endings: "lf"`.
fn acceptance_inputs(entry: &Value) -> Vec<Vec<u8>> {
    let file = entry["file"].as_str().expect("entry has a file");
    let path = shared_dir().join("acceptance").join(file);
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut inputs = vec![bytes.clone()];
    if entry["line_endings"] == "lf" {
        let text = String::from_utf8(bytes).expect("LF cases are UTF-8");
        inputs.push(text.replace('\n', "\r\n").into_bytes());
    }
    inputs
}

fn header_block(bytes: &[u8]) -> HeaderBlock {
    HeaderBlock::parse(bytes, &ParseOptions::default()).expect("input is a message")
}

fn finding_id(label: &str) -> &'static str {
    FLAG_IDS
        .iter()
        .find(|(known, _)| *known == label)
        .map(|(_, id)| *id)
        .unwrap_or_else(|| panic!("flag label {label} has no finding id"))
}

fn assert_flags(findings: &[Finding], labels: &Value, context: &str) {
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    for label in labels.as_array().into_iter().flatten() {
        let id = finding_id(label.as_str().unwrap_or_default());
        assert!(ids.contains(&id), "{context}: missing {id}; got {ids:?}");
    }
}

/// Compares the mailboxes with an expected `from` list: same length, and each key the
/// expectation gives has the expected value.
fn assert_mailboxes(list: &AddressList, expected: &Value, context: &str) {
    let expected = expected.as_array().expect("from is a list");
    assert_eq!(
        list.mailboxes.len(),
        expected.len(),
        "{context}: mailbox count"
    );
    for (mailbox, want) in list.mailboxes.iter().zip(expected) {
        let actual = serde_json::to_value(mailbox).expect("mailbox serialises");
        for (key, value) in want.as_object().into_iter().flatten() {
            assert_eq!(&actual[key.as_str()], value, "{context}: mailbox {key}");
        }
    }
}

fn from_list(block: &HeaderBlock) -> AddressList {
    parse_address_list(block.value("From").expect("From is present"))
}

#[test]
fn br26_address_confusion_in_from() {
    for id in ["BR-26-a", "BR-26-b", "BR-26-c", "BR-26-d"] {
        let entry = acceptance_entry(id);
        let expect = &entry["expect"];
        let mut results = Vec::new();
        for input in acceptance_inputs(&entry) {
            let list = from_list(&header_block(&input));
            assert_mailboxes(&list, &expect["from"], id);
            assert_flags(&list.findings, &expect["flags"], id);
            results.push(list);
        }
        assert_eq!(results.first(), results.last(), "{id}: LF and CRLF differ");
    }
}

#[test]
fn br26_domains_and_decoded_text() {
    let list = from_list(&header_block(
        &acceptance_inputs(&acceptance_entry("BR-26-a"))[0],
    ));
    let dmarc_domain = list.mailboxes.first().and_then(|m| m.domain_lower());
    assert_eq!(dmarc_domain.as_deref(), Some("example.net"));

    let entry = acceptance_entry("BR-26-c");
    let list = from_list(&header_block(&acceptance_inputs(&entry)[0]));
    assert!(entry["expect"]["from_domain"].is_null());
    assert!(list.mailboxes.iter().all(|m| m.domain.is_none()));
    let decoded = entry["expect"]["decoded_text"].as_str();
    assert_eq!(list.decoded_text.as_deref(), decoded);
}

#[test]
fn br31c_semicolon_flood_in_to() {
    let entry = acceptance_entry("BR-31-c");
    for input in acceptance_inputs(&entry) {
        let block = header_block(&input);
        let list = parse_address_list(block.value("To").expect("To is present"));
        assert!(list.mailboxes.is_empty());
        assert!(list.invalid);
        for defect in entry["expect"]["defects"].as_array().into_iter().flatten() {
            let id = finding_id(defect["kind"].as_str().unwrap_or_default());
            assert!(list.findings.iter().any(|f| f.id == id), "missing {id}");
        }
    }
}

#[test]
fn br32_encoded_display_name() {
    let entry = acceptance_entry("BR-32");
    for input in acceptance_inputs(&entry) {
        let list = from_list(&header_block(&input));
        assert_mailboxes(&list, &entry["expect"]["from"], "BR-32");
    }
}

#[test]
fn br39_microsoft_antispam_headers() {
    let entry = acceptance_entry("BR-39");
    let expect = &entry["expect"];
    for input in acceptance_inputs(&entry) {
        let block = header_block(&input);
        let field = block
            .get("X-Forefront-Antispam-Report")
            .expect("report present");
        let report = parse_forefront_report(&field.name, &field.value);
        let want = &expect["forefront_antispam_report"];
        assert_eq!(
            report.field_name,
            want["field_name"].as_str().unwrap_or_default()
        );
        assert!(report.findings.is_empty(), "{:?}", report.findings);

        let want_pairs = want["pairs"].as_object().expect("pairs object");
        assert_eq!(report.pairs.len(), want_pairs.len(), "pair count");
        for (key, value) in want_pairs {
            match value {
                Value::String(text) => assert_eq!(report.get(key), Some(text.as_str()), "{key}"),
                Value::Number(n) => assert_eq!(report.scl().map(i64::from), n.as_i64(), "{key}"),
                Value::Array(ids) => {
                    let ids: Vec<u64> = ids.iter().filter_map(Value::as_u64).collect();
                    assert_eq!(report.sfs(), ids, "{key}");
                }
                other => panic!("unexpected expectation {key}: {other}"),
            }
        }

        // The pairs keep the order of the header value.
        let written: Vec<&str> = field
            .value
            .split(';')
            .filter_map(|item| item.split_once(':').map(|(key, _)| key.trim()))
            .collect();
        let parsed: Vec<&str> = report.pairs.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(parsed, written);

        let antispam =
            parse_microsoft_antispam(block.value("X-Microsoft-Antispam").unwrap_or_default());
        assert_eq!(
            antispam.bcl.map(u64::from),
            expect["microsoft_antispam"]["BCL"].as_u64()
        );

        let scl = describe_org_scl(
            block
                .value("X-MS-Exchange-Organization-SCL")
                .unwrap_or_default(),
        );
        let want_scl = &expect["organization_scl"];
        assert_eq!(
            scl.map(|(level, _)| i64::from(level)),
            want_scl["value"].as_i64()
        );
        assert_eq!(
            scl.map(|(_, meaning)| meaning),
            want_scl["meaning"].as_str()
        );

        let auth_as = block.value("X-MS-Exchange-Organization-AuthAs");
        assert_eq!(auth_as, expect["organization_auth_as"].as_str());
    }
}

#[test]
fn br40_subject_with_injected_line_break() {
    let entry = acceptance_entry("BR-40");
    let expect = &entry["expect"];
    for input in acceptance_inputs(&entry) {
        let block = header_block(&input);
        let decoded = decode_unstructured(block.value("Subject").expect("Subject present"));
        assert_eq!(
            Some(decoded.text.as_str()),
            expect["subject_decoded"].as_str()
        );
        let labels: Vec<Value> = vec!["control-chars-in-encoded-word".into()];
        assert_flags(&decoded.findings, &Value::Array(labels), "BR-40");
        assert!(block.get("Bcc").is_none());
    }
}

/// Checks one `mha-antispam.json` case; returns a failure description or `None`.
fn check_mha_case(case: &Value) -> Option<String> {
    let header = case["header"].as_str().unwrap_or_default();
    let input = case["input"].as_str().unwrap_or_default();
    let expect = &case["expect"];
    let forefront = case["kind"] == "forefront";

    let accepted = match forefront {
        true => is_forefront_report_field(header),
        false => is_microsoft_antispam_field(header),
    };
    if expect["accepted"]
        .as_bool()
        .is_some_and(|want| want != accepted)
    {
        return Some(format!("accepted {accepted} for {header}"));
    }
    if !accepted {
        return None;
    }

    let pairs = match forefront {
        true => parse_forefront_report(header, input).pairs,
        false => parse_microsoft_antispam(input).pairs,
    };
    let value_of = |key: &str| {
        pairs
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
    };

    // Rows: an empty MHA value means absent, which here is no pair or an empty pair.
    for row in expect["rows"].as_array().into_iter().flatten() {
        let key = row["key"].as_str().unwrap_or_default();
        let want = row["value"].as_str().unwrap_or_default();
        if matches!(key, "source" | "unparsed") {
            continue;
        }
        let got = value_of(key).unwrap_or_default();
        if got != want {
            return Some(format!("{key}: got {got:?}, MHA {want:?}"));
        }
    }

    // Pairs MHA leaves unparsed must still be kept.
    let unparsed = expect["unparsed"].as_str().unwrap_or_default();
    for item in unparsed.split(';').filter(|item| !item.is_empty()) {
        let (key, want) = item.split_once(':').unwrap_or((item, ""));
        if value_of(key) != Some(want) {
            return Some(format!("unparsed {key}:{want} not kept"));
        }
    }

    for (value, present) in expect["some_row_value"].as_object().into_iter().flatten() {
        let found = pairs.iter().any(|(_, known)| known == value);
        if Some(found) != present.as_bool() {
            return Some(format!("value {value} present: {found}"));
        }
    }
    None
}

#[test]
fn mha_antispam_vectors() {
    let path = shared_dir().join("corpus/received-vectors/mha-antispam.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<Value> = serde_json::from_str(&text).expect("vectors are JSON");

    let mut failures = Vec::new();
    for case in &cases {
        if let Some(failure) = check_mha_case(case) {
            failures.push(format!("{}: {failure}", case["id"]));
        }
    }
    let passed = cases.len() - failures.len();
    println!("mha-antispam: {passed}/{} cases pass", cases.len());
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Counts of one corpus folder run.
#[derive(Debug, Default)]
struct CorpusRun {
    messages: usize,
    not_messages: usize,
    with_from: usize,
    one_mailbox: usize,
    subjects: usize,
}

fn run_corpus_folder(folder: &Path) -> CorpusRun {
    let mut run = CorpusRun::default();
    let mut paths: Vec<PathBuf> = fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file() && !path.ends_with("LICENSE"))
        .collect();
    paths.sort();

    for path in paths {
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Ok(block) = HeaderBlock::parse(&bytes, &ParseOptions::default()) else {
            run.not_messages += 1;
            continue;
        };
        run.messages += 1;

        let froms: Vec<AddressList> = block
            .all("From")
            .map(|h| parse_address_list(&h.value))
            .collect();
        if !froms.is_empty() {
            run.with_from += 1;
        }
        if let [list] = froms.as_slice()
            && list.mailboxes.len() == 1
        {
            run.one_mailbox += 1;
        }
        for subject in block.all("Subject") {
            decode_unstructured(&subject.value);
            run.subjects += 1;
        }
    }
    run
}

#[test]
fn corpus_from_fields_parse() {
    // Floors measured on the corpus as stored; a drop means the parser lost mailboxes.
    let folders = [("phish-outlook", 504), ("ham-2002", 1200)];
    for (name, floor) in folders {
        let run = run_corpus_folder(&shared_dir().join("corpus").join(name));
        println!(
            "{name}: {} messages ({} unreadable), {} with From, {} with exactly one mailbox, \
             {} subjects decoded",
            run.messages, run.not_messages, run.with_from, run.one_mailbox, run.subjects
        );
        assert!(
            run.one_mailbox >= floor,
            "{name}: {run:?} is below the floor {floor}"
        );
    }
}
