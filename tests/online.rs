//! `--online` re-verification against an authoritative DNS server started in-process on
//! 127.0.0.1, serving tests/fixtures/dns. No test sends a query anywhere else.

mod support {
    pub mod dns;
}

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_auth::arc::ArcSealer;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use mail_auth::hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use mail_auth::{AuthenticatedMessage, AuthenticationResults, MessageAuthenticator};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::dns::DnsServer;

const SIGNED_HEADERS: [&str; 5] = ["From", "To", "Subject", "Date", "Message-ID"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dns")
}

/// Headers and body that the sender signs.
fn core_message() -> String {
    "From: Alice <alice@example.com>\r\n\
     To: Bob <bob@example.net>\r\n\
     Subject: Quarterly figures\r\n\
     Date: Fri, 04 Dec 2026 10:00:00 +0000\r\n\
     Message-ID: <test-1@example.com>\r\n\
     \r\n\
     The figures are attached.\r\n"
        .to_string()
}

/// Trace fields a receiver adds above the signature: the boundary hop from `origin` and
/// its recorded results.
fn trace_fields(origin: &str, helo: &str) -> String {
    format!(
        "Return-Path: <alice@example.com>\r\n\
         Authentication-Results: mx.example.net; dkim=pass header.d=example.com; spf=pass smtp.mailfrom=example.com; dmarc=pass header.from=example.com\r\n\
         Received: from {helo} ({helo} [{origin}]) by mx.example.net with ESMTPS id 4Qx1; Fri, 04 Dec 2026 10:00:05 +0000\r\n"
    )
}

/// A test's signing keys: Ed25519 generated now and the project's fixed RSA test key.
struct Keys {
    ed25519_pkcs8: Vec<u8>,
    records: Vec<(String, String)>,
}

fn keys() -> Keys {
    let ed25519_pkcs8 = Ed25519Key::generate_pkcs8().expect("Ed25519 key generation");
    let ed25519 = Ed25519Key::from_pkcs8_der(&ed25519_pkcs8).expect("Ed25519 key");
    let rsa_public = std::fs::read_to_string(fixtures().join("rsa-2048-test-key.pub.b64"))
        .expect("RSA public key");
    let records = vec![
        (
            "ed1._domainkey.example.com.".to_string(),
            format!(
                "v=DKIM1; k=ed25519; p={}",
                STANDARD.encode(ed25519.public_key())
            ),
        ),
        (
            "rsa1._domainkey.example.com.".to_string(),
            format!("v=DKIM1; k=rsa; p={}", rsa_public.trim()),
        ),
        (
            "arc1._domainkey.example.net.".to_string(),
            format!(
                "v=DKIM1; k=ed25519; p={}",
                STANDARD.encode(ed25519.public_key())
            ),
        ),
    ];
    Keys {
        ed25519_pkcs8,
        records,
    }
}

fn sign_ed25519(keys: &Keys, message: &str) -> String {
    let key = Ed25519Key::from_pkcs8_der(&keys.ed25519_pkcs8).expect("Ed25519 key");
    DkimSigner::from_key(key)
        .domain("example.com")
        .selector("ed1")
        .headers(SIGNED_HEADERS)
        .sign(message.as_bytes())
        .expect("signing")
        .to_header()
}

fn sign_rsa(message: &str) -> String {
    let pem = std::fs::read_to_string(fixtures().join("rsa-2048-test-key.pem")).expect("RSA key");
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(
        STANDARD
            .decode(
                pem.lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .expect("PEM body"),
    );
    let key = RsaKey::<Sha256>::from_key_der(der.into()).expect("RSA key");
    DkimSigner::from_key(key)
        .domain("example.com")
        .selector("rsa1")
        .headers(SIGNED_HEADERS)
        .sign(message.as_bytes())
        .expect("signing")
        .to_header()
}

/// Runs `mailtrace inspect --format json` on a message and returns its report.
fn inspect(message: &str, extra_args: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("message.eml");
    std::fs::write(&path, message).expect("write message");
    let output = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["inspect", "--format", "json"])
        .args(extra_args)
        .arg(&path)
        .output()
        .expect("run mailtrace");
    assert!(
        output.status.code().is_some_and(|c| c < 2),
        "mailtrace failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reports: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    reports[0].clone()
}

fn online_args(server: &DnsServer) -> Vec<String> {
    vec![
        "--online".into(),
        "--dns-server".into(),
        server.address.to_string(),
    ]
}

fn inspect_online(server: &DnsServer, message: &str) -> Value {
    let args = online_args(server);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    inspect(message, &args)
}

fn finding_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect()
}

fn signed_message(keys: &Keys) -> String {
    let core = core_message();
    format!(
        "{}{}{}",
        trace_fields("192.0.2.10", "mail.example.com"),
        sign_ed25519(keys, &core),
        core
    )
}

#[test]
fn dkim_ed25519_passes() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let report = inspect_online(&server, &signed_message(&keys));
    let dkim = &report["verified"]["dkim"][0];
    assert_eq!(dkim["result"], "pass", "{dkim}");
    assert_eq!(dkim["algorithm"], "ed25519-sha256");
    assert_eq!(dkim["key_bits"], 256);
    assert!(
        !finding_ids(&report)
            .iter()
            .any(|id| id.starts_with("verify.dkim"))
    );
}

#[test]
fn dkim_rsa_passes_with_key_size() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let core = core_message();
    let message = format!(
        "{}{}{}",
        trace_fields("192.0.2.10", "mail.example.com"),
        sign_rsa(&core),
        core
    );
    let report = inspect_online(&server, &message);
    let dkim = &report["verified"]["dkim"][0];
    assert_eq!(dkim["result"], "pass", "{dkim}");
    assert_eq!(dkim["algorithm"], "rsa-sha256");
    assert_eq!(dkim["key_bits"], 2048);
}

#[test]
fn tampered_body_is_body_hash_mismatch() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let message = signed_message(&keys).replace("figures are attached", "figures are at the link");
    let report = inspect_online(&server, &message);
    assert_eq!(report["verified"]["dkim"][0]["body_hash_mismatch"], true);
    let ids = finding_ids(&report);
    assert!(
        ids.contains(&"verify.body-hash-mismatch".to_string()),
        "{ids:?}"
    );
}

#[test]
fn tampered_header_fails_recorded_pass() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let message =
        signed_message(&keys).replace("Subject: Quarterly figures", "Subject: Urgent payment");
    let report = inspect_online(&server, &message);
    assert_eq!(report["verified"]["dkim"][0]["result"], "fail");
    let ids = finding_ids(&report);
    assert!(
        ids.contains(&"verify.dkim-recorded-pass-now-fails".to_string()),
        "{ids:?}"
    );
}

#[test]
fn removed_signed_header_is_reported() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let message = signed_message(&keys).replace("To: Bob <bob@example.net>\r\n", "");
    let report = inspect_online(&server, &message);
    let dkim = &report["verified"]["dkim"][0];
    assert_eq!(dkim["result"], "fail");
    assert_eq!(dkim["signed_headers_missing"][0], "To");
    let ids = finding_ids(&report);
    assert!(
        ids.contains(&"verify.dkim-signed-header-missing".to_string()),
        "{ids:?}"
    );
}

#[test]
fn expired_signature_is_reported() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    // An x= expiry before t= marks the signature expired; mail-auth checks it before the
    // cryptography, so the edit itself does not matter.
    let message = signed_message(&keys).replacen("t=", "x=1; t=", 1);
    let report = inspect_online(&server, &message);
    let dkim = &report["verified"]["dkim"][0];
    assert_eq!(dkim["expired"], true, "{dkim}");
    assert!(finding_ids(&report).contains(&"verify.dkim-signature-expired".to_string()));
}

#[test]
fn spf_follows_include_and_redirect() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let report = inspect_online(&server, &signed_message(&keys));
    let spf = report["verified"]["spf"].as_array().expect("spf checks");
    let mail_from = spf
        .iter()
        .find(|c| c["identity"] == "mailfrom")
        .expect("mailfrom check");
    assert_eq!(mail_from["domain"], "example.com");
    assert_eq!(mail_from["ip"], "192.0.2.10");
    assert_eq!(
        mail_from["result"], "pass",
        "include:_spf.example.net covers 192.0.2.0/28"
    );
    let helo = spf
        .iter()
        .find(|c| c["identity"] == "helo")
        .expect("helo check");
    assert_eq!(helo["domain"], "mail.example.com");
    assert_eq!(helo["result"], "pass");

    // 198.51.100.7 misses the include and reaches the redirect's a:relay.example.com.
    let core = core_message();
    let relayed = format!(
        "{}{}{}",
        trace_fields("198.51.100.7", "relay.example.com"),
        sign_ed25519(&keys, &core),
        core
    );
    let report = inspect_online(&server, &relayed);
    let spf = report["verified"]["spf"].as_array().expect("spf checks");
    let mail_from = spf
        .iter()
        .find(|c| c["identity"] == "mailfrom")
        .expect("mailfrom check");
    assert_eq!(mail_from["result"], "pass", "{mail_from}");
}

#[test]
fn spf_fail_differs_from_recorded_pass() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let core = core_message();
    let message = format!(
        "{}{}{}",
        trace_fields("203.0.113.9", "mail.example.com"),
        sign_ed25519(&keys, &core),
        core
    );
    let report = inspect_online(&server, &message);
    let spf = report["verified"]["spf"].as_array().expect("spf checks");
    let mail_from = spf
        .iter()
        .find(|c| c["identity"] == "mailfrom")
        .expect("mailfrom check");
    assert_eq!(mail_from["result"], "softfail", "the redirect ends in ~all");
    assert!(finding_ids(&report).contains(&"verify.spf-result-differs".to_string()));
}

#[test]
fn dmarc_policy_and_alignment() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let report = inspect_online(&server, &signed_message(&keys));
    let dmarc = &report["verified"]["dmarc"];
    assert_eq!(dmarc["domain"], "example.com");
    assert_eq!(dmarc["result"], "pass", "{dmarc}");
    assert_eq!(dmarc["dkim_aligned"], "pass");
    assert_eq!(dmarc["policy"], "reject");
    assert_eq!(dmarc["subdomain_policy"], "quarantine");
    assert_eq!(dmarc["pct"], 50);
    assert_eq!(dmarc["aspf"], "strict");

    let tampered = signed_message(&keys).replace("Subject: Quarterly figures", "Subject: Changed");
    let report = inspect_online(&server, &tampered.replace("[192.0.2.10]", "[203.0.113.9]"));
    assert_eq!(report["verified"]["dmarc"]["result"], "fail");
    assert!(finding_ids(&report).contains(&"verify.dmarc-fail".to_string()));
}

#[test]
fn reverse_dns_is_forward_confirmed() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let report = inspect_online(&server, &signed_message(&keys));
    let iprev = &report["verified"]["iprev"];
    assert_eq!(iprev["result"], "pass", "{iprev}");
    assert_eq!(iprev["ptr"][0], "mail.example.com.");

    let core = core_message();
    let stray = format!(
        "{}{}{}",
        trace_fields("192.0.2.11", "mail.example.com"),
        sign_ed25519(&keys, &core),
        core
    );
    let report = inspect_online(&server, &stray);
    // mail-auth reports a PTR name without an address record as permerror.
    assert_eq!(report["verified"]["iprev"]["result"], "permerror");
    assert!(finding_ids(&report).contains(&"verify.rdns-not-confirmed".to_string()));
}

#[test]
fn offline_run_has_no_verification() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let report = inspect(
        &signed_message(&keys),
        &["--dns-server", &server.address.to_string()],
    );
    assert!(report["verified"].is_null());
}

#[test]
fn offline_run_sends_no_packet() {
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind counter");
    listener.set_nonblocking(true).expect("non-blocking");
    let address = listener.local_addr().expect("address").to_string();
    let keys = keys();
    let message = signed_message(&keys);
    let count_packets = || {
        let mut buffer = [0u8; 2048];
        let mut count = 0;
        while listener.recv_from(&mut buffer).is_ok() {
            count += 1;
        }
        count
    };

    // The process has exited when inspect returns, so every packet it sent has arrived.
    inspect(
        &message,
        &["--dns-server", &address, "--dns-timeout", "0.2"],
    );
    assert_eq!(count_packets(), 0, "an offline run sent DNS packets");

    let report = inspect(
        &message,
        &["--online", "--dns-server", &address, "--dns-timeout", "0.2"],
    );
    assert!(count_packets() > 0, "an online run sent no DNS packet");
    assert_eq!(
        report["verified"]["dkim"][0]["result"], "temperror",
        "a silent server gives temperror"
    );
}

#[test]
fn dns_cache_replays_offline() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let message = signed_message(&keys);
    let dir = tempfile::tempdir().expect("temporary folder");
    let cache = dir.path().join("answers.json");
    let cache_arg = cache.to_str().expect("UTF-8 path");

    let mut args = online_args(&server);
    args.extend(["--dns-cache".to_string(), cache_arg.to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let live = inspect(&message, &args);
    assert!(cache.exists(), "the online run wrote no cache file");

    // Replay with a dead server address given: nothing may be sent to it.
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind counter");
    listener.set_nonblocking(true).expect("non-blocking");
    let dead = listener.local_addr().expect("address").to_string();
    let replayed = inspect(&message, &["--dns-cache", cache_arg, "--dns-server", &dead]);
    assert!(
        listener.recv_from(&mut [0u8; 512]).is_err(),
        "the replay sent a DNS packet"
    );
    for part in ["dkim", "spf", "dmarc", "iprev"] {
        assert_eq!(
            live["verified"][part], replayed["verified"][part],
            "{part} differs in the replay"
        );
    }
    assert_eq!(replayed["verified"]["dkim"][0]["result"], "pass");
}

/// Adds one ARC set sealed by example.net with the Ed25519 test key. The message has no
/// ARC set yet, so mail-auth needs no DNS lookup to start the chain.
fn seal_arc(keys: &Keys, message: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime");
    let no_servers =
        ResolverConfig::from_parts(None, Vec::new(), NameServerConfigGroup::with_capacity(0));
    let authenticator =
        MessageAuthenticator::new(no_servers, ResolverOpts::default()).expect("authenticator");
    let parsed = AuthenticatedMessage::parse(message.as_bytes()).expect("message parses");
    let arc_output = runtime.block_on(authenticator.verify_arc(&parsed));
    let results = AuthenticationResults::new("mx.example.net")
        .with_arc_result(&arc_output, "192.0.2.10".parse().expect("IP"));
    let key = Ed25519Key::from_pkcs8_der(&keys.ed25519_pkcs8).expect("Ed25519 key");
    let set = ArcSealer::from_key(key)
        .domain("example.net")
        .selector("arc1")
        .headers(["From", "To", "Subject", "DKIM-Signature"])
        .seal(&parsed, &results, &arc_output)
        .expect("sealing");
    format!("{}{message}", set.to_header())
}

#[test]
fn arc_chain_validates() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let sealed = seal_arc(&keys, &signed_message(&keys));
    let report = inspect_online(&server, &sealed);
    let arc = &report["verified"]["arc"];
    assert_eq!(arc["result"], "pass", "{arc}");
    assert_eq!(arc["sets"], 1);

    let tampered = sealed.replace("Subject: Quarterly figures", "Subject: Changed");
    let report = inspect_online(&server, &tampered);
    assert_eq!(report["verified"]["arc"]["result"], "fail");
    assert!(finding_ids(&report).contains(&"verify.arc-chain-fails".to_string()));
}

/// Runs `mailtrace scan --format jsonl` over `folder` and returns its message records by
/// file name.
fn scan_records(folder: &Path, extra_args: &[&str]) -> std::collections::BTreeMap<String, Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["scan", "--format", "jsonl"])
        .args(extra_args)
        .arg(folder)
        .output()
        .expect("run mailtrace");
    assert!(
        output.status.code().is_some_and(|c| c < 2),
        "mailtrace failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON line"))
        .filter(|record| record["record"] == "message")
        .map(|record| {
            let path = record["source"]["path"].as_str().expect("path").to_string();
            let name = Path::new(&path).file_name().expect("file name");
            (name.to_string_lossy().into_owned(), record)
        })
        .collect()
}

#[test]
fn scan_online_verifies_every_message() {
    let keys = keys();
    let server = DnsServer::start(&fixtures(), &keys.records);
    let dir = tempfile::tempdir().expect("temporary folder");
    let intact = signed_message(&keys);
    let tampered = intact.replace("figures are attached", "figures are at the link");
    for index in 0..6 {
        std::fs::write(dir.path().join(format!("intact-{index}.eml")), &intact).unwrap();
    }
    std::fs::write(dir.path().join("tampered.eml"), &tampered).unwrap();

    let mut args = online_args(&server);
    args.extend(["--threads".to_string(), "2".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let records = scan_records(dir.path(), &args);
    assert_eq!(records.len(), 7);
    for (name, record) in &records {
        let dkim = &record["verified"]["dkim"][0];
        let tampered = name == "tampered.eml";
        assert_eq!(dkim["body_hash_mismatch"], tampered, "{name}: {dkim}");
        if !tampered {
            assert_eq!(dkim["result"], "pass", "{name}: {dkim}");
        }
        assert_eq!(record["verified"]["spf"][0]["result"], "pass", "{name}");
    }
    let tampered_ids = finding_ids(&records["tampered.eml"]);
    assert!(
        tampered_ids.contains(&"verify.body-hash-mismatch".to_string()),
        "{tampered_ids:?}"
    );
}

#[test]
fn scan_online_dead_server_is_temperror() {
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind silent server");
    let address = listener.local_addr().expect("address").to_string();
    let keys = keys();
    let dir = tempfile::tempdir().expect("temporary folder");
    for index in 0..3 {
        std::fs::write(
            dir.path().join(format!("message-{index}.eml")),
            signed_message(&keys),
        )
        .unwrap();
    }

    let records = scan_records(
        dir.path(),
        &[
            "--online",
            "--dns-server",
            &address,
            "--dns-timeout",
            "0.2",
            "--threads",
            "1",
        ],
    );
    assert_eq!(records.len(), 3);
    for (name, record) in &records {
        assert_eq!(
            record["verified"]["dkim"][0]["result"], "temperror",
            "{name}"
        );
        // Lookups that were never sent are no evidence: reverse DNS and SPF are temperror,
        // not a failure with a finding.
        assert_eq!(record["verified"]["iprev"]["result"], "temperror", "{name}");
        for spf in record["verified"]["spf"].as_array().expect("spf checks") {
            assert_eq!(spf["result"], "temperror", "{name}: {spf}");
        }
        assert!(
            !finding_ids(record).contains(&"verify.rdns-not-confirmed".to_string()),
            "{name}"
        );
    }
    // The probe before the first lookup finds the server down, so no message waits for
    // its DKIM, ARC, SPF, DMARC and PTR lookups to time out one after another.
    let stopped = records
        .values()
        .filter(|r| {
            r["verified"]["dns"]
                .as_str()
                .unwrap_or("")
                .contains("not answering")
        })
        .count();
    assert_eq!(stopped, 3, "a message still queried a dead server");
    // The whole run sent the probe and its one retry, nothing else.
    listener.set_nonblocking(true).expect("non-blocking socket");
    let mut packet = [0u8; 512];
    let mut received = 0;
    while listener.recv_from(&mut packet).is_ok() {
        received += 1;
    }
    assert_eq!(received, 2, "queries sent to a dead server");
}

#[test]
fn scan_offline_has_no_verification() {
    let keys = keys();
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::write(dir.path().join("message.eml"), signed_message(&keys)).unwrap();
    let records = scan_records(dir.path(), &[]);
    assert!(records["message.eml"]["verified"].is_null());
}

#[test]
fn verifier_panic_keeps_the_run_going() {
    // mail-auth 0.7 overflows a shift on `a/0` when it parses this record, which panics in
    // builds with overflow checks (the test build) and gives a wrong mask otherwise.
    let mut records = keys().records;
    records.push(("zero.example.org.".into(), "v=spf1 a/0 -all".into()));
    let server = DnsServer::start(&fixtures(), &records);
    let message = signed_message(&keys()).replace(
        "Return-Path: <alice@example.com>",
        "Return-Path: <alice@zero.example.org>",
    );

    let report = inspect_online(&server, &message);
    assert!(report["verified"].is_object(), "no verification section");
    let ids = finding_ids(&report);
    // The binary under test is built with the test build's overflow checks, which follow
    // its debug assertions unless a profile sets them apart.
    if cfg!(debug_assertions) {
        assert!(
            ids.contains(&"verify.internal-error".to_string()),
            "{ids:?}"
        );
    } else {
        assert!(!report["verified"]["spf"].as_array().unwrap().is_empty());
    }
}

/// Returns the MAIL FROM check of a report verified with the SPF record `record` published
/// for the envelope domain spf-test.example.org.
fn mail_from_check(record: &str) -> Value {
    let mut records = keys().records;
    records.push(("spf-test.example.org.".into(), record.into()));
    let server = DnsServer::start(&fixtures(), &records);
    let message = signed_message(&keys()).replace(
        "Return-Path: <alice@example.com>",
        "Return-Path: <alice@spf-test.example.org>",
    );
    let report = inspect_online(&server, &message);
    report["verified"]["spf"]
        .as_array()
        .expect("SPF checks")
        .iter()
        .find(|check| check["identity"] == "mailfrom")
        .expect("MAIL FROM check")
        .clone()
}

#[test]
fn spf_void_lookup_limit() {
    let two_void =
        mail_from_check("v=spf1 a:void1.example.org a:void2.example.org ip4:192.0.2.10 -all");
    assert_eq!(two_void["result"], "pass", "{two_void}");
    assert!(two_void["reason"].is_null());

    let three_void = mail_from_check(
        "v=spf1 a:void1.example.org a:void2.example.org exists:void3.example.org ip4:192.0.2.10 -all",
    );
    assert_eq!(three_void["result"], "permerror", "{three_void}");
    let reason = three_void["reason"].as_str().expect("reason");
    assert!(reason.contains("3 void DNS lookups"), "{reason}");
}
