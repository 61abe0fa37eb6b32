//! Acceptance cases: every entry of the shared acceptance suite runs through the whole
//! pipeline (input, header model, analysis, JSON report), with LF inputs run again with
//! CRLF. Each entry's `expect` is compared as a partial object against a view of the
//! report whose keys follow the suite's names.

mod common;

use common::acceptance_dir;
use mailtrace::analysis::{Report, analyze};
use mailtrace::config::AnalysisConfig;
use mailtrace::input::{InputOptions, read_bytes};
use mailtrace::parse::address::parse_address_list;
use mailtrace::parse::encoded_word::decode_unstructured;
use mailtrace::report::json::report_value;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Flag labels of the suite mapped to mailtrace finding ids.
const FLAG_IDS: &[(&str, &str)] = &[
    (
        "malformed-address-literal",
        "chain.malformed-address-literal",
    ),
    ("unknown-local-zone", "date.unknown-local-zone"),
    ("missing-semicolon", "chain.missing-semicolon"),
    ("container-style-hostname", "chain.container-style-hostname"),
    ("ip-as-rdns", "chain.ip-as-rdns"),
    ("malformed-received", "chain.malformed-received"),
    ("clock-skew", "chain.clock-skew"),
    ("received-missing-date", "chain.received-missing-date"),
    ("probable-helo-injection", "chain.probable-helo-injection"),
    ("hop-limit-reached", "chain.hop-limit-reached"),
    ("non-standard-result", "auth.non-standard-result"),
    ("property-without-ptype", "auth.property-without-ptype"),
    ("reason-after-property", "auth.reason-after-property"),
    ("missing-authserv-id", "auth.missing-authserv-id"),
    ("arc-instance-gap", "auth.arc-instance-gap"),
    ("invalid-arc-instance", "auth.arc-invalid-instance"),
    ("arc-cv-contradicted", "auth.arc-cv-contradicted"),
    ("address-in-local-part", "sender.address-in-local-part"),
    ("address-in-display-name", "sender.address-in-display-name"),
    ("no-valid-mailbox", "sender.no-valid-mailbox"),
    ("hidden-comments", "sender.hidden-comments"),
    ("leading-whitespace-line", "header.leading-whitespace-line"),
    ("double-spaced-paste", "header.double-spaced-paste"),
    ("byte-order-mark", "header.byte-order-mark"),
    ("bare-cr", "header.bare-cr"),
    ("leading-non-header-lines", "input.leading-non-header-lines"),
    ("line-too-long", "header.line-too-long"),
    (
        "missing-header-separator",
        "header.missing-header-separator",
    ),
    ("raw-8bit-header", "header.raw-8bit"),
    ("legacy-charset-fallback", "header.legacy-charset-fallback"),
    (
        "control-chars-in-encoded-word",
        "header.control-chars-in-encoded-word",
    ),
    ("locale-date", "date.locale-date"),
    ("non-rfc-zone", "date.non-rfc-zone"),
    ("military-zone", "date.military-zone"),
    ("weekday-mismatch", "date.weekday-mismatch"),
    ("header-stream-stripped", "input.header-stream-stripped"),
    ("codepage-mismatch", "input.codepage-mismatch"),
    ("envelope-date-no-zone", "input.envelope-date-no-zone"),
    ("cip-hop-mismatch", "exchange.cip-hop-mismatch"),
];

fn flag_id(label: &str) -> &'static str {
    FLAG_IDS
        .iter()
        .find(|(l, _)| *l == label)
        .map(|(_, id)| *id)
        .unwrap_or_else(|| panic!("flag label {label} has no finding id in FLAG_IDS"))
}

/// Runs one input and returns the reports, with the view of each.
fn run(label: &str, bytes: Vec<u8>, pasted: bool) -> Vec<(Report, Value)> {
    let mut config = AnalysisConfig::default();
    config.parse.pasted_headers = pasted;
    read_bytes(label, bytes.clone(), None, &InputOptions::default())
        .into_iter()
        .map(|item| {
            let input = item.unwrap_or_else(|e| panic!("{label}: input error {e}"));
            let report = analyze(&input, &config).unwrap_or_else(|e| panic!("{label}: {e}"));
            let mut view = view(&report, &input.bytes);
            add_mbox_view(&mut view, &input, &report);
            (report, view)
        })
        .collect()
}

/// Builds the view of a report that the suite's `expect` keys are compared with.
fn view(report: &Report, bytes: &[u8]) -> Value {
    let full = report_value(report);
    let mut v = Map::new();
    let headers = &report.headers;

    // Header model.
    v.insert("header_count".into(), json!(headers.fields.len()));
    v.insert(
        "header_names".into(),
        json!(
            headers
                .fields
                .iter()
                .map(|h| h.name.clone())
                .collect::<Vec<_>>()
        ),
    );
    let mut decoded = Map::new();
    let mut raw = Map::new();
    let mut lengths = Map::new();
    let mut sha = Map::new();
    for field in headers.fields.iter().rev() {
        let text = decode_unstructured(&field.value).text;
        if field.is("From") {
            decoded.insert(field.name.clone(), json!(field.value));
        } else {
            decoded.insert(field.name.clone(), json!(text));
        }
        raw.insert(field.name.clone(), json!(field.raw));
        lengths.insert(field.name.clone(), json!(field.value.chars().count()));
        sha.insert(
            field.name.clone(),
            json!(hex(&Sha256::digest(field.value.as_bytes()))),
        );
    }
    v.insert("headers".into(), Value::Object(decoded));
    v.insert("headers_raw".into(), Value::Object(raw));
    v.insert("header_value_lengths".into(), Value::Object(lengths));
    v.insert("header_value_sha256".into(), Value::Object(sha));
    v.insert(
        "skipped_leading_lines".into(),
        json!(headers.skipped_leading_lines),
    );
    let body = body_text(headers.body_offset, bytes);
    v.insert(
        "has_body".into(),
        json!(body.as_ref().is_some_and(|b| !b.is_empty())),
    );
    v.insert("body".into(), json!(body));
    let mut defects: Vec<Value> = headers
        .defects
        .iter()
        .map(|d| json!({"kind": d.kind, "line": d.line, "name": d.name}))
        .collect();
    let to = headers.value("To").map(parse_address_list);
    if let Some(list) = &to
        && list.invalid
    {
        defects.push(json!({"kind": "invalid-address-list"}));
    }
    v.insert("defects".into(), json!(defects));
    v.insert(
        "to_addresses".into(),
        json!(
            to.map(|l| l
                .mailboxes
                .iter()
                .map(|m| m.address.clone())
                .collect::<Vec<_>>())
                .unwrap_or_default()
        ),
    );

    // Relay chain.
    let hops = full["hops"].clone();
    v.insert("hop_count".into(), json!(report.chain.hops.len()));
    v.insert(
        "first_hop".into(),
        hops.get(0).cloned().unwrap_or(Value::Null),
    );
    v.insert(
        "last_hop".into(),
        hops.as_array()
            .and_then(|h| h.last())
            .cloned()
            .unwrap_or(Value::Null),
    );
    v.insert("hops".into(), hops);
    let delays: Vec<Value> = report
        .chain
        .hops
        .iter()
        .skip(1)
        .map(|h| json!(h.delay_seconds))
        .collect();
    v.insert("delays_s".into(), json!(delays));
    let continuity = !report
        .findings
        .iter()
        .any(|f| f.id == "chain.broken-continuity");
    v.insert("chain_continuity".into(), json!(continuity));
    if let Some(skew) = report
        .chain
        .hops
        .iter()
        .find(|h| h.delay_seconds.is_some_and(|d| d < 0.0))
    {
        let before = &report.chain.hops[skew.index - 2];
        v.insert(
            "clock_skew".into(),
            json!({
                "between_hops": [before.index, skew.index],
                "hosts": [before.received.by_host, skew.received.by_host],
            }),
        );
    }
    if let Some(hop) = report.chain.hops.iter().find(|h| h.reconstructed)
        && let Some(finding) = report
            .findings
            .iter()
            .find(|f| f.id == "chain.probable-helo-injection")
    {
        let _ = hop;
        v.insert("injected_field_name".into(), json!(finding.headers.first()));
    }

    // Sender and date.
    let message = &report.message;
    v.insert(
        "from".into(),
        json!(
            message
                .from
                .iter()
                .map(|m| json!({
                    "display": m.display, "address": m.address, "local_part": m.local_part,
                    "domain": m.domain, "comments": m.comments,
                }))
                .collect::<Vec<_>>()
        ),
    );
    v.insert("from_domain".into(), json!(message.from_domain()));
    v.insert("dmarc_domain".into(), json!(message.from_domain()));
    v.insert("decoded_text".into(), json!(message.from_text));
    v.insert("subject_decoded".into(), json!(message.subject));
    v.insert(
        "date".into(),
        json!({
            "raw": message.date.as_ref().map(|d| d.raw.clone()),
            "timestamp": full["message"]["date"],
        }),
    );

    // Authentication.
    v.insert(
        "auth_results".into(),
        json!(
            report
                .auth
                .results
                .iter()
                .map(auth_field_view)
                .collect::<Vec<_>>()
        ),
    );
    v.insert(
        "arc".into(),
        serde_json::to_value(&report.auth.arc).unwrap(),
    );
    if let Some(sig) = report.auth.dkim_signatures.first() {
        v.insert(
            "dkim_signature".into(),
            serde_json::to_value(&sig.parsed).unwrap(),
        );
    }
    if let Some(ams) = headers.get("ARC-Message-Signature") {
        let parsed = mailtrace::parse::taglist::parse_dkim_signature(&ams.value);
        v.insert(
            "arc_message_signature".into(),
            serde_json::to_value(&parsed).unwrap(),
        );
    }

    // Exchange stamps.
    let exchange = &report.exchange;
    if let Some(forefront) = exchange.forefront.first() {
        let mut pairs = Map::new();
        for (key, value) in &forefront.pairs {
            let typed = match key.as_str() {
                "SCL" => value
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(json!(value)),
                "SFS" => json!(forefront.sfs()),
                _ => json!(value),
            };
            pairs.insert(key.clone(), typed);
        }
        v.insert(
            "forefront_antispam_report".into(),
            json!({"field_name": forefront.field_name, "pairs": pairs}),
        );
        let cip = forefront.cip();
        let origin = report.origin.as_ref().and_then(|o| o.ip);
        v.insert(
            "cip_matches_first_external_hop".into(),
            json!(cip.is_some() && cip == origin),
        );
    }
    if let Some(antispam) = &exchange.microsoft_antispam {
        v.insert("microsoft_antispam".into(), json!({"BCL": antispam.bcl}));
    }
    if let Some((value, meaning)) = &exchange.organization_scl {
        v.insert(
            "organization_scl".into(),
            json!({"value": value, "meaning": meaning}),
        );
    }
    v.insert(
        "organization_auth_as".into(),
        json!(exchange.organization_auth_as),
    );

    // Outlook items.
    if let Some(msg) = &report.msg {
        let state = full["msg"]["transport_headers"].clone();
        v.insert("transport_headers".into(), state);
        v.insert("sender".into(), json!(msg.sender));
        v.insert(
            "client_submit_time".into(),
            full["msg"]["client_submit_time"].clone(),
        );
        v.insert("delivery_time".into(), full["msg"]["delivery_time"].clone());
        let available = report.has_transport_headers();
        v.insert(
            "auth_verdicts".into(),
            json!(if available {
                "available"
            } else {
                "not-available"
            }),
        );
    }
    let replacement = headers.fields.iter().any(|h| h.value.contains('\u{FFFD}'));
    v.insert("silent_replacement_character".into(), json!(replacement));
    v.insert(
        "finding_ids".into(),
        json!(
            report
                .findings
                .iter()
                .map(|f| f.id.clone())
                .collect::<Vec<_>>()
        ),
    );
    Value::Object(v)
}

fn auth_field_view(field: &mailtrace::analysis::auth::AuthField) -> Value {
    let parsed = &field.parsed;
    let results: Vec<Value> = parsed
        .results
        .iter()
        .map(|r| {
            let properties: Map<String, Value> = r
                .properties
                .iter()
                .map(|p| (p.key(), json!(p.value)))
                .collect();
            json!({
                "method": r.method, "result": r.result, "result_raw": r.result_raw,
                "reason": r.reason, "comment": r.comment, "properties": properties,
                "unparsed_properties": r.unparsed_properties, "flagged": r.flagged,
            })
        })
        .collect();
    json!({
        "field": field.header,
        "authserv_id": parsed.authserv_id,
        "version": parsed.version,
        "instance": parsed.instance,
        "trusted": field.trusted,
        "result_count": parsed.results.len(),
        "no_authentication_performed": parsed.no_authentication_performed,
        "results": results,
    })
}

fn body_text(offset: Option<usize>, bytes: &[u8]) -> Option<String> {
    let body = bytes.get(offset?..)?;
    let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
    Some(text.strip_suffix('\n').unwrap_or(&text).to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares `expected` with `actual` following the suite's conventions and returns the
/// differences, each with its path.
fn compare(path: &str, expected: &Value, actual: &Value, problems: &mut Vec<String>) {
    match expected {
        Value::Object(map) => {
            for (key, value) in map {
                let child = format!("{path}.{key}");
                let actual_value = actual.get(key).unwrap_or(&Value::Null);
                compare(&child, value, actual_value, problems);
            }
        }
        Value::Array(items) => {
            let Some(actual_items) = actual.as_array() else {
                problems.push(format!(
                    "{path}: expected a list of {}, got {actual}",
                    items.len()
                ));
                return;
            };
            if actual_items.len() != items.len() {
                problems.push(format!(
                    "{path}: expected {} items, got {}: {actual}",
                    items.len(),
                    actual_items.len()
                ));
                return;
            }
            for (n, (e, a)) in items.iter().zip(actual_items).enumerate() {
                compare(&format!("{path}[{n}]"), e, a, problems);
            }
        }
        Value::Null => {
            let empty = actual.is_null() || actual.as_str() == Some("");
            if !empty || actual.as_str() == Some("") {
                problems.push(format!("{path}: expected absent, got {actual}"));
            }
        }
        Value::Number(n) => {
            let same = actual
                .as_f64()
                .is_some_and(|a| (a - n.as_f64().unwrap_or(f64::NAN)).abs() < 1e-6);
            if !same {
                problems.push(format!("{path}: expected {n}, got {actual}"));
            }
        }
        _ => {
            if expected != actual {
                problems.push(format!("{path}: expected {expected}, got {actual}"));
            }
        }
    }
}

/// Checks the flag lists of an expectation against the finding ids of the view.
fn compare_flags(expect: &Map<String, Value>, view: &Value, problems: &mut Vec<String>) {
    let ids: Vec<&str> = view["finding_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for label in expect
        .get("flags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !ids.contains(&flag_id(label)) {
            problems.push(format!(
                "flags: {label} ({}) not reported; findings: {ids:?}",
                flag_id(label)
            ));
        }
    }
    for label in expect
        .get("flags_absent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if ids.contains(&flag_id(label)) {
            problems.push(format!("flags_absent: {label} was reported"));
        }
    }
}

/// Keys whose checks are not plain comparisons against the view.
const SPECIAL_KEYS: &[&str] = &[
    "headers_absent",
    "flags",
    "flags_absent",
    "same_result_as",
    "max_seconds",
    "if_capped",
    "modes",
    "message_count",
    "messages",
];

fn check_entry(entry: &Value, bytes: Vec<u8>, label: &str) -> Vec<String> {
    let expect = entry["expect"].as_object().expect("expect is an object");
    let mut problems = Vec::new();

    if let Some(modes) = expect.get("modes").and_then(Value::as_object) {
        for (mode, mode_expect) in modes {
            let pasted = mode == "pasted-headers";
            let reports = run(label, bytes.clone(), pasted);
            let view = &reports[0].1;
            let mut mode_problems = Vec::new();
            let filtered: Map<String, Value> = mode_expect
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| !SPECIAL_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            compare(mode, &Value::Object(filtered), view, &mut mode_problems);
            compare_flags(mode_expect.as_object().unwrap(), view, &mut mode_problems);
            problems.extend(
                mode_problems
                    .into_iter()
                    .map(|p| format!("mode {mode}: {p}")),
            );
        }
        return problems;
    }

    let reports = run(label, bytes, false);
    if let Some(count) = expect.get("message_count") {
        compare("message_count", count, &json!(reports.len()), &mut problems);
    }
    if let Some(messages) = expect.get("messages").and_then(Value::as_array) {
        let views: Vec<Value> = reports.iter().map(|(r, v)| mbox_view(r, v)).collect();
        compare(
            "messages",
            &Value::Array(messages.clone()),
            &Value::Array(views),
            &mut problems,
        );
    }
    let Some((_, view)) = reports.first() else {
        problems.push("no message was produced".into());
        return problems;
    };
    let mut all_ids = Vec::new();
    for (_, v) in &reports {
        all_ids.extend(v["finding_ids"].as_array().cloned().unwrap_or_default());
    }
    let mut merged = view.clone();
    merged["finding_ids"] = Value::Array(all_ids);
    let plain: Map<String, Value> = expect
        .iter()
        .filter(|(k, _)| !SPECIAL_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    compare("expect", &Value::Object(plain), &merged, &mut problems);
    compare_flags(expect, &merged, &mut problems);
    for name in expect
        .get("headers_absent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let names = merged["header_names"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if names
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        {
            problems.push(format!("headers_absent: {name} is reported as a header"));
        }
    }
    problems
}

/// Returns the per-message view of an mbox member.
fn mbox_view(_report: &Report, view: &Value) -> Value {
    view.clone()
}

/// Adds the mbox envelope and the raw and mboxrd body lines to a view.
fn add_mbox_view(view: &mut Value, input: &mailtrace::input::InputMessage, report: &Report) {
    if let Some(envelope) = &input.envelope {
        view["envelope_sender"] = json!(envelope.sender);
        view["envelope_date"] = json!(
            envelope
                .date
                .map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string())
        );
    }
    let Some(offset) = report.headers.body_offset else {
        return;
    };
    let body = input.bytes.get(offset..).unwrap_or_default();
    let lines = |bytes: &[u8]| -> Vec<String> {
        let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
        let text = text.strip_suffix('\n').unwrap_or(&text).to_string();
        text.split('\n').map(str::to_string).collect()
    };
    view["body_lines_raw"] = json!(lines(body));
    view["body_lines_mboxrd"] = json!(lines(&mailtrace::input::unescape_mboxrd(body)));
}

fn same_result(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("finding_ids");
        }
        v
    };
    strip(a) == strip(b)
}

#[test]
fn acceptance_suite() {
    let dir = acceptance_dir();
    let entries: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let generated = common::generated_cases();
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut views: std::collections::HashMap<String, Value> = Default::default();

    for entry in &entries {
        let id = entry["id"].as_str().unwrap();
        let file = entry["file"].as_str().unwrap();
        let path = if entry["stored"] == json!(false) {
            generated.join(Path::new(file).file_name().unwrap())
        } else {
            dir.join(file)
        };
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{id}: cannot read {}: {e}", path.display()));
        let mut problems = check_entry(entry, bytes.clone(), id);

        if entry["line_endings"] == "lf" {
            let crlf = String::from_utf8_lossy(&bytes)
                .replace('\n', "\r\n")
                .into_bytes();
            problems.extend(
                check_entry(entry, crlf.clone(), id)
                    .into_iter()
                    .map(|p| format!("CRLF: {p}")),
            );
            let lf_view = run(id, bytes.clone(), false)
                .first()
                .map(|(_, v)| v.clone());
            let crlf_view = run(id, crlf, false).first().map(|(_, v)| v.clone());
            let (Some(lf_view), Some(crlf_view)) = (lf_view, crlf_view) else {
                continue;
            };
            let mut diffs = Vec::new();
            for key in [
                "hops",
                "auth_results",
                "headers",
                "from",
                "arc",
                "date",
                "finding_ids",
            ] {
                if lf_view[key] != crlf_view[key] {
                    diffs.push(key);
                }
            }
            if !diffs.is_empty() {
                problems.push(format!("LF and CRLF give different {diffs:?}"));
            }
        }

        if let Some(view) = run(id, bytes, false).first().map(|(_, v)| v.clone()) {
            if let Some(other) = entry["expect"]["same_result_as"].as_str() {
                match views.get(other) {
                    Some(other_view) if same_result(other_view, &view) => {}
                    Some(_) => problems.push(format!("result differs from {other}")),
                    None => problems.push(format!("{other} was not run before")),
                }
            }
            views.insert(id.to_string(), view);
        }

        if problems.is_empty() {
            passed += 1;
        } else {
            failures.push(format!(
                "{id} ({}):\n    {}",
                entry["title"].as_str().unwrap_or(""),
                problems.join("\n    ")
            ));
        }
    }
    println!("acceptance: {passed} of {} entries pass", entries.len());
    assert!(
        failures.is_empty(),
        "{} of {} acceptance entries fail:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}
