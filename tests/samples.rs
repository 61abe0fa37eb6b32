//! The bundled samples end to end through the binary: the values an analyst reads first
//! (sender, origin, relay chain, recorded verdicts, findings, score), checked exactly, and
//! the same report for LF and CRLF copies.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn inspect(path: &Path) -> Value {
    inspect_with(path, &[])
}

/// Inspects `path` with the extra command-line options `options`.
fn inspect_with(path: &Path, options: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["inspect", "--format", "json"])
        .args(options)
        .arg(path)
        .output()
        .expect("run mailtrace");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reports: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    reports[0].clone()
}

fn sample(name: &str) -> Value {
    inspect(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name),
    )
}

fn finding_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn has_finding(report: &Value, id: &str) -> bool {
    finding_ids(report).iter().any(|f| f == id)
}

fn result<'a>(report: &'a Value, method: &str) -> Option<&'a Value> {
    report["auth"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == method && r["trusted"] == true)
}

#[test]
fn campaign_in_victim_tenant() {
    let report = sample("campaign-relayed-victim-tenant.eml");
    assert_eq!(
        report["message"]["from"]["address"],
        "billing@victim.example.com"
    );
    assert_eq!(report["origin"]["ip"], "170.75.174.97");
    assert_eq!(report["hops"].as_array().unwrap().len(), 1);
    assert_eq!(report["hops"][0]["internal"], true);
    assert!(has_finding(&report, "exchange.rogue-connector"));
    assert!(has_finding(&report, "iplist.campaign-match"));
    assert!(has_finding(&report, "stripped.messagedata-chunks"));

    let stripped = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "stripped.exchange-transport-rules")
        .expect("the 2022 pattern is reported");
    assert_eq!(stripped["severity"], "high");
    let headers: Vec<&str> = stripped["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(headers.len(), 11, "{headers:?}");
    for name in [
        "Authentication-Results",
        "Received-SPF",
        "DKIM-Signature",
        "ARC-Seal",
        "X-MS-Exchange-AntiSpam-MessageData-ChunkCount",
    ] {
        assert!(headers.contains(&name), "{name} missing from {headers:?}");
    }
    assert!(
        !headers.contains(&"Received"),
        "one internal Received hop remains"
    );

    let matches = report["ip_matches"].as_array().unwrap();
    assert!(
        matches
            .iter()
            .all(|m| m["list"] == "oauth-connector-spam-2022")
    );
    assert_eq!(report["spoof"]["verdict"], "high");
}

#[test]
fn campaign_at_recipient_scores_high_despite_dmarc_pass() {
    let report = sample("campaign-relayed-recipient.eml");
    assert_eq!(
        report["message"]["from"]["address"],
        "billing@victim.example.com"
    );
    assert_eq!(report["origin"]["ip"], "192.0.2.117");
    assert_eq!(report["hops"].as_array().unwrap().len(), 4);
    assert_eq!(report["hops"][0]["from_ip"], "192.0.2.117");
    assert_eq!(result(&report, "dmarc").unwrap()["result"], "pass");
    assert_eq!(result(&report, "spf").unwrap()["result"], "pass");
    assert_eq!(result(&report, "dkim").unwrap()["result"], "pass");
    assert!(has_finding(&report, "exchange.listed-connecting-ip"));
    let listed: Vec<&Value> = report["ip_matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["ip"] == "170.75.174.97")
        .collect();
    assert!(listed.len() >= 2, "{listed:?}");
    assert_eq!(report["spoof"]["verdict"], "high");
    assert!(report["spoof"]["score"].as_u64().unwrap() >= 70);
}

#[test]
fn clean_exchange_online_stays_low() {
    let report = sample("clean-exchange-online.eml");
    assert_eq!(report["message"]["from"]["address"], "news@example.net");
    assert_eq!(report["origin"]["ip"], "198.51.100.25");
    assert_eq!(report["hops"].as_array().unwrap().len(), 5);
    assert_eq!(report["hops"][0]["from_ip"], "198.51.100.31");
    for method in ["spf", "dkim", "dmarc", "compauth"] {
        assert_eq!(
            result(&report, method).unwrap()["result"],
            "pass",
            "{method}"
        );
    }
    let stripped: Vec<String> = finding_ids(&report)
        .into_iter()
        .filter(|id| id.starts_with("stripped."))
        .collect();
    assert!(stripped.is_empty(), "{stripped:?}");
    assert!(!has_finding(&report, "exchange.cip-hop-mismatch"));
    assert_eq!(report["spoof"]["verdict"], "low");
    assert_eq!(report["spoof"]["score"], 0);
}

#[test]
fn gmail_arc_is_trusted_and_low() {
    let report = sample("gmail-arc.eml");
    assert_eq!(report["message"]["from"]["address"], "alice@example.com");
    assert_eq!(report["origin"]["ip"], "198.51.100.7");
    assert_eq!(report["hops"].as_array().unwrap().len(), 4);
    let dmarc = result(&report, "dmarc").expect("mx.google.com results are trusted");
    assert_eq!(dmarc["authserv_id"], "mx.google.com");
    assert_eq!(result(&report, "arc").unwrap()["result"], "pass");
    assert_eq!(report["auth"]["arc"]["sets"], 2);
    assert_eq!(report["auth"]["arc"]["chain"], "pass");
    assert!(!has_finding(&report, "stripped.signed-header-missing"));
    assert_eq!(report["spoof"]["verdict"], "low");
}

#[test]
fn lookalike_sender_is_flagged() {
    // The sample imitates the recipient's organisation domain. It must be declared, because
    // leading labels that spell an undeclared domain are an ordinary host name.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/lookalike-sender.eml");
    let report = inspect_with(&path, &["--org-domain", "example.com"]);
    assert_eq!(
        report["message"]["from"]["domain"],
        "example.com.account-verify.example.net"
    );
    assert_eq!(report["origin"]["ip"], "203.0.113.45");
    assert!(has_finding(&report, "sender.subdomain-trick"));
    assert!(has_finding(&report, "sender.lookalike-domain"));
    assert!(has_finding(&report, "sender.reply-to-other-domain"));
    assert_ne!(report["spoof"]["verdict"], "low");
}

#[test]
fn display_name_impersonation_is_flagged() {
    let report = sample("display-name-impersonation.eml");
    assert_eq!(
        report["message"]["from"]["address"],
        "jd.office@example.net"
    );
    assert_eq!(
        report["message"]["from"]["name"],
        "Jane Doe <jane.doe@example.com>"
    );
    assert_eq!(report["origin"]["ip"], "203.0.113.77");
    assert_eq!(report["hops"][0]["from_ip"], "203.0.113.200");
    assert!(has_finding(&report, "sender.address-in-display-name"));
    assert_eq!(result(&report, "spf").unwrap()["result"], "softfail");
    assert_ne!(report["spoof"]["verdict"], "low");
}

#[test]
fn crlf_copies_give_the_same_reports() {
    let dir = tempfile::tempdir().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for entry in std::fs::read_dir(&samples).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lf_path = dir.path().join("lf.eml");
        let crlf_path = dir.path().join("crlf.eml");
        std::fs::write(&lf_path, text.replace("\r\n", "\n")).unwrap();
        std::fs::write(&crlf_path, text.replace("\r\n", "\n").replace('\n', "\r\n")).unwrap();
        let mut lf = inspect(&lf_path);
        let mut crlf = inspect(&crlf_path);
        lf["source"] = Value::Null;
        crlf["source"] = Value::Null;
        assert_eq!(lf, crlf, "{}", path.display());
    }
}

#[test]
fn jsonl_record_matches_json_report() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for entry in std::fs::read_dir(&samples).expect("samples folder") {
        let path = entry.expect("folder entry").path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let output = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
            .args(["inspect", "--format", "jsonl"])
            .arg(&path)
            .output()
            .expect("run mailtrace");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let first_line = stdout.lines().next().expect("a JSON Lines record");
        let mut record: Value = serde_json::from_str(first_line).expect("JSON record");
        assert_eq!(record["record"], "message", "{}", path.display());

        // The streamed record is the JSON report plus its `record` field.
        record
            .as_object_mut()
            .expect("record object")
            .remove("record");
        assert_eq!(record, inspect(&path), "{}", path.display());
    }
}
