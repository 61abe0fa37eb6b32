//! Receiving-platform profiles end to end: legitimate deliveries through Exchange Online,
//! Outlook.com and Gmail stay free of `stripped.profile` at medium or above, and the same
//! messages with the 2022 campaign's 12 headers deleted (built here in memory) always raise
//! it. The measured rates are printed (`cargo test --test platform -- --nocapture`).

mod common;

use common::corpus_dir;
use mailtrace::analysis::stripped::CAMPAIGN_2022_DELETED;
use mailtrace::analysis::{Report, analyze};
use mailtrace::config::AnalysisConfig;
use mailtrace::finding::Severity;
use mailtrace::input::{InputMessage, InputOptions, read_paths};
use std::path::{Path, PathBuf};

/// Reads every message under the given paths.
fn read_messages(paths: &[PathBuf]) -> Vec<InputMessage> {
    read_paths(paths, &InputOptions::default())
        .flatten()
        .collect()
}

fn analyse(input: &InputMessage) -> Option<Report> {
    analyze(input, &AnalysisConfig::default()).ok()
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// Lists the legitimate Gmail deliveries among the authentication test fixtures: real Gmail
/// messages whose headers are intact (the arc-fail copies have altered ARC headers).
fn gmail_fixtures() -> Vec<PathBuf> {
    let fixtures = corpus_dir().join("auth-vectors/postalsys_mailauth/fixtures");
    [
        "arc-pass.eml",
        "arc-pass2.eml",
        "authtest.eml",
        "bimi.eml",
        "message3.eml",
        "zbimi.eml",
    ]
    .iter()
    .map(|name| fixtures.join(name))
    .chain([corpus_dir().join("auth-vectors/stalwart_mailauth/arc/001.txt")])
    .collect()
}

/// Removes every field named in `names` (with its folded lines) from the header block.
fn delete_headers(bytes: &[u8], names: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut dropping = false;
    let mut in_body = false;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if in_body {
            out.extend_from_slice(line);
            continue;
        }
        if line == b"\n" || line == b"\r\n" {
            in_body = true;
            out.extend_from_slice(line);
            continue;
        }
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            let name = line
                .iter()
                .position(|b| *b == b':')
                .map(|colon| String::from_utf8_lossy(&line[..colon]).trim().to_string());
            dropping = name.is_some_and(|n| names.iter().any(|d| d.eq_ignore_ascii_case(&n)));
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    out
}

fn profile_severity(report: &Report) -> Option<Severity> {
    report
        .findings
        .iter()
        .find(|f| f.id == "stripped.profile")
        .map(|f| f.severity)
}

/// Counts, over messages whose final platform is recognised, how many raise
/// `stripped.profile` at all and at medium or above.
#[derive(Default)]
struct Tally {
    recognised: usize,
    fired: usize,
    fired_medium: usize,
    flagged: Vec<String>,
}

impl Tally {
    fn add(&mut self, label: &str, report: &Report) {
        if report.platforms.final_platform().is_none() {
            return;
        }
        self.recognised += 1;
        if let Some(severity) = profile_severity(report) {
            self.fired += 1;
            if severity >= Severity::Medium {
                self.fired_medium += 1;
                self.flagged
                    .push(format!("{label} {:?}", report.platforms.missing));
            }
        }
    }

    fn rate(count: usize, total: usize) -> f64 {
        count as f64 * 100.0 / total.max(1) as f64
    }
}

#[test]
fn legitimate_deliveries_rarely_flagged() {
    let sets = [
        (
            "phish-outlook (Outlook.com and Gmail deliveries)",
            vec![corpus_dir().join("phish-outlook")],
        ),
        ("auth-vectors Gmail deliveries", gmail_fixtures()),
        (
            "ham-2002, maildir, spamassassin-t/nice",
            vec![
                corpus_dir().join("ham-2002"),
                corpus_dir().join("maildir"),
                corpus_dir().join("spamassassin-t/nice"),
            ],
        ),
    ];
    let mut overall = Tally::default();
    for (label, paths) in sets {
        let mut tally = Tally::default();
        for input in read_messages(&paths) {
            if let Some(report) = analyse(&input) {
                tally.add(&input.source.path, &report);
                overall.add(&input.source.path, &report);
            }
        }
        println!(
            "{label}: final platform recognised on {}; stripped.profile at medium or above on {} ({:.2}%), at any severity on {}",
            tally.recognised,
            tally.fired_medium,
            Tally::rate(tally.fired_medium, tally.recognised),
            tally.fired
        );
        for line in &tally.flagged {
            println!("  {line}");
        }
    }
    let rate = Tally::rate(overall.fired_medium, overall.recognised);
    println!(
        "all legitimate sets: {} of {} recognised deliveries flagged at medium or above ({rate:.2}%)",
        overall.fired_medium, overall.recognised
    );
    assert!(
        overall.recognised > 450,
        "expected over 450 recognised deliveries, found {}",
        overall.recognised
    );
    assert!(rate < 1.0, "false-positive rate {rate:.2}% is 1% or more");
}

#[test]
fn campaign_deletions_always_flagged() {
    // The hand-written victim-tenant sample.
    let victim = read_messages(&[sample("campaign-relayed-victim-tenant.eml")]);
    let report = analyse(&victim[0]).expect("sample parses");
    assert!(
        profile_severity(&report).is_some(),
        "victim sample: no stripped.profile"
    );

    // Intact deliveries with the 12 headers deleted.
    let mut paths = vec![corpus_dir().join("phish-outlook")];
    paths.extend(gmail_fixtures());
    paths.push(sample("clean-exchange-online.eml"));
    paths.push(sample("gmail-arc.eml"));
    let mut tally = Tally::default();
    let mut missed = Vec::new();
    for input in read_messages(&paths) {
        let Some(intact) = analyse(&input) else {
            continue;
        };
        if intact.platforms.final_platform().is_none() || profile_severity(&intact).is_some() {
            continue;
        }
        let mut stripped = input.clone();
        stripped.bytes = delete_headers(&input.bytes, &CAMPAIGN_2022_DELETED);
        let Some(report) = analyse(&stripped) else {
            continue;
        };
        tally.recognised += 1;
        match profile_severity(&report) {
            Some(severity) => {
                tally.fired += 1;
                if severity >= Severity::Medium {
                    tally.fired_medium += 1;
                }
            }
            None => missed.push(input.source.path.clone()),
        }
    }
    println!(
        "intact deliveries with the 12 headers deleted: stripped.profile on {} of {} ({:.2}%); at medium or above on {} (the rest are info because stripped.exchange-transport-rules already reports them)",
        tally.fired,
        tally.recognised,
        Tally::rate(tally.fired, tally.recognised),
        tally.fired_medium
    );
    assert!(
        tally.recognised > 450,
        "only {} copies built",
        tally.recognised
    );
    assert!(missed.is_empty(), "not flagged: {missed:?}");
}

#[test]
fn gmail_deletion_is_high() {
    let input = &read_messages(&[sample("gmail-arc.eml")])[0];
    let mut stripped = input.clone();
    stripped.bytes = delete_headers(&input.bytes, &CAMPAIGN_2022_DELETED);
    let report = analyse(&stripped).expect("copy parses");
    assert_eq!(
        report.platforms.final_platform().map(|p| p.id.as_str()),
        Some("gmail")
    );
    assert_eq!(profile_severity(&report), Some(Severity::High));
}

#[test]
fn clean_samples_have_no_profile_finding() {
    for name in ["clean-exchange-online.eml", "gmail-arc.eml"] {
        let input = &read_messages(&[sample(name)])[0];
        let report = analyse(input).expect("sample parses");
        assert!(
            report.platforms.final_platform().is_some(),
            "{name}: no platform"
        );
        assert_eq!(profile_severity(&report), None, "{name}");
    }
}

#[test]
fn one_missing_stamp_is_medium() {
    let input = &read_messages(&[sample("clean-exchange-online.eml")])[0];
    let mut stripped = input.clone();
    stripped.bytes = delete_headers(&input.bytes, &["X-Forefront-Antispam-Report"]);
    let report = analyse(&stripped).expect("copy parses");
    assert_eq!(profile_severity(&report), Some(Severity::Medium));
    let finding = report
        .findings
        .iter()
        .find(|f| f.id == "stripped.profile")
        .unwrap();
    assert_eq!(finding.headers, ["X-Forefront-Antispam-Report"]);
}

#[test]
fn conditional_header_never_flagged() {
    let input = &read_messages(&[sample("clean-exchange-online.eml")])[0];
    let mut stripped = input.clone();
    stripped.bytes = delete_headers(
        &input.bytes,
        &[
            "X-MS-Exchange-AntiSpam-MessageData-ChunkCount",
            "X-MS-Exchange-AntiSpam-MessageData-0",
            "X-Microsoft-Antispam-Mailbox-Delivery",
        ],
    );
    let report = analyse(&stripped).expect("copy parses");
    assert_eq!(profile_severity(&report), None);
}

#[test]
fn recipient_tenant_recognised_upstream_ignored() {
    let input = &read_messages(&[sample("campaign-relayed-recipient.eml")])[0];
    let report = analyse(input).expect("sample parses");
    let final_platform = report.platforms.final_platform().expect("final platform");
    assert_eq!(final_platform.id, "exchange-online");
    // The victim tenant's -Untrusted report names 170.75.174.97; only the recipient's own
    // report may be compared with the first external hop.
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.id == "exchange.cip-hop-mismatch"),
        "cip-hop-mismatch compared an upstream report"
    );
    assert_eq!(profile_severity(&report), None);
}

#[test]
fn gateways_summarised() {
    let input = &read_messages(&[sample("gmail-arc.eml")])[0];
    let report = analyse(input).expect("sample parses");
    let vendors: Vec<&str> = report.platforms.gateways.iter().map(|g| g.vendor).collect();
    assert_eq!(vendors, ["Google (sending side)"]);
}

fn proton_gateway(report: &Report) -> &mailtrace::platform::gateways::GatewaySummary {
    report
        .platforms
        .gateways
        .iter()
        .find(|g| g.vendor == "Proton Mail")
        .expect("Proton Mail headers summarised")
}

/// Proton Mail's filter verdict is shown as written; Proton does not document the values.
#[test]
fn proton_verdict_summarised() {
    let input = &read_messages(&[corpus_dir().join("phish-outlook/sample-5488.eml")])[0];
    let report = analyse(input).expect("message parses");
    let proton = proton_gateway(&report);
    let action = proton
        .values
        .iter()
        .find(|(header, _)| header == "X-Pm-Spam-Action")
        .map(|(_, value)| value.as_str());
    assert_eq!(action, Some("phishing"));
    // Proton's inbound server received the message at the newest hop.
    assert_eq!(proton.hop, Some(report.chain.hops.len()));
}

/// Proton headers on mail that no Proton server received name no hop.
#[test]
fn planted_gateway_headers_name_no_hop() {
    let text = "Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx.example.net with ESMTPS id 1; Mon, 3 Mar 2025 10:00:00 +0000\n\
         X-Pm-Spam-Action: inbox\n\
         From: a@example.org\n\
         Subject: test\n\n\
         body\n";
    let inputs = mailtrace::input::read_bytes(
        "planted.eml",
        text.as_bytes().to_vec(),
        None,
        &InputOptions::default(),
    );
    let input = inputs[0].as_ref().expect("message reads");
    let report = analyse(input).expect("message parses");
    let proton = proton_gateway(&report);
    assert_eq!(proton.hop, None);
    assert!(proton.hosts_known);
}

#[test]
fn provider_hops_labelled() {
    let input = &read_messages(&[corpus_dir().join("phish-outlook/sample-2246.eml")])[0];
    let report = analyse(input).expect("message parses");
    let labelled: Vec<Option<&str>> = report.chain.hops.iter().map(|h| h.provider).collect();
    assert!(labelled.contains(&Some("google")), "{labelled:?}");
}

/// Loads `text` as a mailtrace.toml file on top of the default settings.
fn config_from(text: &str) -> Result<AnalysisConfig, String> {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("mailtrace.toml");
    std::fs::write(&path, text).expect("write config");
    let mut config = AnalysisConfig::default();
    let file = mailtrace::config::ConfigFile::load(&path).map_err(|e| e.to_string())?;
    config.apply_file(file, &path).map_err(|e| e.to_string())?;
    Ok(config)
}

#[test]
fn override_demotes_always_header() {
    let input = &read_messages(&[sample("clean-exchange-online.eml")])[0];
    let mut stripped = input.clone();
    stripped.bytes = delete_headers(&input.bytes, &["X-Forefront-Antispam-Report"]);
    let config =
        config_from("[profiles.exchange-online]\nsometimes = [\"x-forefront-antispam-report\"]\n")
            .expect("valid config");
    let report = analyze(&stripped, &config).expect("copy parses");
    assert_eq!(profile_severity(&report), None);
    assert!(report.platforms.missing.is_empty());
}

#[test]
fn override_adds_always_header() {
    let input = &read_messages(&[sample("clean-exchange-online.eml")])[0];
    let config =
        config_from("[profiles.exchange-online]\nalways = [\"X-Example-Inbound-Stamp\"]\n")
            .expect("valid config");
    let report = analyze(input, &config).expect("sample parses");
    assert_eq!(profile_severity(&report), Some(Severity::Medium));
    assert_eq!(report.platforms.missing, ["X-Example-Inbound-Stamp"]);
}

#[test]
fn override_turns_check_off() {
    let input = &read_messages(&[sample("gmail-arc.eml")])[0];
    let mut stripped = input.clone();
    stripped.bytes = delete_headers(&input.bytes, &CAMPAIGN_2022_DELETED);
    let config = config_from("[profiles.gmail]\ncheck = false\n").expect("valid config");
    let report = analyze(&stripped, &config).expect("copy parses");
    assert_eq!(
        report.platforms.final_platform().map(|p| p.id.as_str()),
        Some("gmail")
    );
    assert_eq!(profile_severity(&report), None);
}

#[test]
fn override_errors_name_key_and_line() {
    let unknown = config_from(
        "org_domains = [\"example.com\"]\n\n[profiles.exchange-onlin]\ncheck = false\n",
    )
    .expect_err("unknown profile");
    assert!(unknown.contains("exchange-onlin"), "{unknown}");
    assert!(unknown.contains("line 3"), "{unknown}");
    assert!(
        unknown.contains("exchange-online"),
        "lists the known ids: {unknown}"
    );

    let not_always =
        config_from("[profiles.exchange-online]\nsometimes = [\n  \"X-Not-Written\",\n]\n")
            .expect_err("header not always written");
    assert!(
        not_always.contains("profiles.exchange-online.sometimes"),
        "{not_always}"
    );
    assert!(not_always.contains("line 3"), "{not_always}");

    let bad_name = config_from("[profiles.gmail]\nalways = [\"X-Bad: name\"]\n")
        .expect_err("invalid header name");
    assert!(bad_name.contains("profiles.gmail.always"), "{bad_name}");
    assert!(bad_name.contains("line 2"), "{bad_name}");
}

#[test]
fn config_value_errors_name_line() {
    let connector = config_from("\n[[connectors]]\nip = \"192.0.2.300\"\n")
        .expect_err("invalid connector address");
    assert!(connector.contains("192.0.2.300"), "{connector}");
    assert!(connector.contains("line 3"), "{connector}");

    assert!(connector.contains("connectors.ip"), "{connector}");

    let list = config_from("org_domains = []\nip_lists = [\"missing-list.txt\"]\n")
        .expect_err("missing IP list");
    assert!(list.contains("ip_lists"), "{list}");
    assert!(list.contains("missing-list.txt"), "{list}");
    assert!(list.contains("line 2"), "{list}");

    let syntax =
        config_from("org_domains = [\"example.com\"\nvip_names = []\n").expect_err("syntax error");
    assert!(syntax.contains("line 2, column 1"), "{syntax}");
    assert!(
        !syntax.contains('|'),
        "no flattened caret diagram: {syntax}"
    );

    let twice = config_from("[profiles.gmail]\nalways = [\"X-A\"]\nsometimes = [\"x-a\"]\n")
        .expect_err("header both always and sometimes");
    assert!(twice.contains("also listed under sometimes"), "{twice}");

    let weight = config_from("[weights]\n\"no-such-signal\" = 5\n").expect_err("unknown weight");
    assert!(weight.contains("weights.no-such-signal"), "{weight}");
    assert!(weight.contains("line 2"), "{weight}");
}
