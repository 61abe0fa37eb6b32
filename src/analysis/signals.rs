//! Score signals: turns what the passes found into the signals of the spoof score, and adds
//! the findings that need several passes at once (IP list matches, internal-domain spoofing).

use crate::analysis::Report;
use crate::analysis::forwarding;
use crate::analysis::ipmatch::IpMatch;
use crate::analysis::score::{ScoreBuilder, Spoof};
use crate::analysis::sender::{address_domain, org_domain};
use crate::config::AnalysisConfig;
use crate::finding::{Finding, Severity};

/// Turns IP list matches into findings, one per address and list.
pub fn ip_match_findings(matches: &[IpMatch]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for found in matches {
        let connecting =
            found.location.contains("ConnectingIp") || found.location.ends_with("-Untrusted CIP");
        let reported = findings.iter().any(|f| {
            f.id == "exchange.listed-connecting-ip"
                && f.detail.starts_with(&format!("{} ", found.ip))
        });
        if connecting && !reported {
            findings.push(listed_connecting_ip(found));
        }
        let id = if found.builtin {
            "iplist.campaign-match"
        } else {
            "iplist.match"
        };
        let duplicate = findings
            .iter()
            .any(|f| f.id == id && f.detail.starts_with(&format!("{} ", found.ip)));
        if duplicate {
            continue;
        }
        let label = found
            .label
            .as_deref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        findings.push(Finding::new(
            id,
            Severity::High,
            format!("Address {} is on the IP list {}", found.ip, found.list),
            format!(
                "{} found in {} matches entry {} of list {}{label}.",
                found.ip, found.location, found.entry, found.list
            ),
        ));
    }
    findings
}

/// Builds the finding for a listed address that connected to a Microsoft 365 tenant which
/// then relayed the message: the tenant's SPF, DKIM and DMARC passes do not vouch for it.
fn listed_connecting_ip(found: &IpMatch) -> Finding {
    Finding::new(
        "exchange.listed-connecting-ip",
        Severity::High,
        "A Microsoft 365 tenant relayed mail from a listed address",
        format!(
            "{} connected to Microsoft 365 ({}) and is on list {}. A tenant that relays such mail onward sends it through Microsoft's outbound servers, where it passes SPF, DKIM and DMARC for the tenant's domain, so those passes do not vouch for the real sender.",
            found.ip, found.location, found.list
        ),
    )
    .with_header(found.location.trim_end_matches(" CIP").to_string())
}

/// Adds the sender findings that need the relay chain: a From address in an organisation
/// domain on a message that came from outside.
pub fn add_sender_findings(report: &mut Report, config: &AnalysisConfig) {
    if let Some(finding) = brand_domain_unauthenticated(report) {
        report.findings.push(finding);
    }
    let Some(domain) = report.message.from_domain() else {
        return;
    };
    if !config.is_org_host(&domain) {
        return;
    }
    let Some(origin) = report.chain.origin() else {
        return;
    };
    let declared = origin
        .ip
        .is_some_and(|ip| config.connectors.find(ip).is_some());
    if declared {
        return;
    }
    let ip = origin
        .ip
        .map_or_else(|| "an unknown address".to_string(), |ip| ip.to_string());
    report.findings.push(
        Finding::new(
            "sender.internal-domain-external-origin",
            Severity::High,
            "Organisation sender arriving from outside",
            format!(
                "From is in the organisation domain {domain}, but the message entered at hop {} from {ip}, which is not an organisation host or a declared connector.",
                origin.hop.unwrap_or(0)
            ),
        )
        .with_header("From"),
    );
}

/// Computes the spoof score from the report's findings and recorded results.
pub fn score(report: &Report, config: &AnalysisConfig) -> Spoof {
    let weights = &config.weights;
    let mut builder = ScoreBuilder::default();
    let has = |id: &str| report.findings.iter().find(|f| f.id == id);

    // Findings that map one to one onto signals.
    let direct = [
        ("exchange.rogue-connector", "rogue-connector"),
        ("exchange.tenant-relay", "tenant-relay"),
        ("sender.address-in-display-name", "display-name-address"),
        ("sender.address-in-local-part", "address-in-local-part"),
        ("sender.multiple-from", "multiple-from"),
        (
            "sender.internal-domain-external-origin",
            "internal-domain-external-origin",
        ),
        // The subdomain trick comes first because, when both fire, its reason names the trick.
        ("sender.subdomain-trick", "lookalike-domain"),
        ("sender.lookalike-domain", "lookalike-domain"),
        ("auth.forged-results", "forged-auth-results"),
        ("sender.mixed-script-domain", "lookalike-domain"),
        ("sender.display-name-brand", "display-name-brand"),
        ("sender.display-name-vip", "display-name-vip"),
        ("sender.display-name-obfuscated", "display-name-obfuscated"),
        ("sender.reply-to-lookalike", "reply-to-lookalike"),
        ("sender.envelope-system-account", "system-account-envelope"),
        ("iplist.campaign-match", "iplist-campaign"),
        ("iplist.match", "iplist-user"),
    ];
    for (finding_id, signal) in direct {
        if let Some(finding) = has(finding_id) {
            builder.add(weights, signal, finding.detail.clone());
        }
    }

    // A From without an address, unless Exchange wrote it for a message inside its
    // organisation (lowered to info).
    if let Some(finding) = has("sender.no-valid-mailbox")
        && finding.severity > Severity::Info
    {
        builder.add(weights, "no-valid-from", finding.detail.clone());
    }

    // Replies to another domain, unless a mailing list sends replies back to itself.
    if let Some(finding) = has("sender.reply-to-other-domain") {
        let list_reply = report
            .message
            .reply_to_other_orgs()
            .iter()
            .all(|d| forwarding::is_list_reply(report, d));
        if !list_reply {
            builder.add(weights, "reply-to-other-domain", finding.detail.clone());
        }
    }

    // Stripped headers, by severity.
    for finding in report
        .findings
        .iter()
        .filter(|f| f.id.starts_with("stripped."))
    {
        let signal = match finding.severity {
            Severity::High => "stripped-high",
            Severity::Medium => "stripped-medium",
            _ => continue,
        };
        builder.add(weights, signal, finding.title.clone());
    }

    if report.has_transport_headers() {
        add_auth_signals(report, config, &mut builder);
    }
    builder.finish()
}

/// Adds the signals read from the recipient's trusted verdicts and from alignment.
fn add_auth_signals(report: &Report, config: &AnalysisConfig, builder: &mut ScoreBuilder) {
    let weights = &config.weights;
    let auth = &report.auth;
    if !auth.has_trusted_results() {
        if !report.chain.hops.is_empty() {
            builder.add(
                weights,
                "no-trusted-results",
                "No Authentication-Results field was stamped by the recipient's own systems.",
            );
        }
    } else {
        let verdicts = |method: &str| -> Vec<String> {
            auth.trusted_results(method)
                .iter()
                .map(|r| r.result.clone())
                .collect()
        };
        let dmarc = verdicts("dmarc");
        // Exchange Online's ARC override: the failure comes from a trusted forwarder.
        if auth.dmarc_failure_forwarded() {
            // The finding explains the override; DMARC counts neither way.
        } else if dmarc.iter().any(|r| r == "fail") {
            builder.add(
                weights,
                "dmarc-fail",
                "dmarc=fail recorded by the recipient's receiver.",
            );
        } else if !dmarc.iter().any(|r| r == "pass" || r == "bestguesspass") {
            let detail = if dmarc.is_empty() {
                "No DMARC result was recorded by the recipient's receiver.".to_string()
            } else {
                format!("Recorded DMARC result: {}.", dmarc.join(", "))
            };
            builder.add(weights, "dmarc-missing", detail);
        }
        let spf = verdicts("spf");
        // A listed address behind a passing verdict: the relay explains the pass. Without a
        // pass, the IP list signal already covers it.
        let passed = dmarc.iter().any(|r| r == "pass") || spf.iter().any(|r| r == "pass");
        if passed
            && let Some(finding) = report
                .findings
                .iter()
                .find(|f| f.id == "exchange.listed-connecting-ip")
        {
            builder.add(weights, "listed-connecting-ip", finding.detail.clone());
        }
        if let Some(failed) = auth
            .trusted_results("compauth")
            .into_iter()
            .find(|r| r.result == "fail")
        {
            let reason = failed.reason.as_deref().map_or(String::new(), |code| {
                let meaning = crate::parse::exchange::describe_compauth_reason(code)
                    .map_or(String::new(), |m| format!(": {m}"));
                format!(
                    " Reason {}{meaning}.",
                    crate::report::escape::escape_terminal(code)
                )
            });
            builder.add(
                weights,
                "compauth-fail",
                format!("compauth=fail: Microsoft's composite authentication did not accept the sender.{reason}"),
            );
        }
        let dkim = verdicts("dkim");
        if dkim.iter().any(|r| r == "fail") && !dkim.iter().any(|r| r == "pass") {
            builder.add(
                weights,
                "dkim-fail",
                "dkim=fail recorded by the recipient's receiver, and no signature passed.",
            );
        }
    }
    if let Some((signal, detail)) = spf_failure(report) {
        builder.add(weights, signal, detail);
    }
    // A mailing list or declared forwarder explains a gap in alignment (RFC 7960).
    if forwarding::forwarded_by(report, config).is_none() {
        if let Some(detail) = alignment_gap(report) {
            builder.add(weights, "not-aligned", detail);
        } else if let Some(detail) = unauthenticated_from(report) {
            builder.add(weights, "from-unauthenticated", detail);
        }
    }
}

/// Returns the SPF failure signal (`spf-fail` or `spf-softfail`) and its reason, read from
/// the recipient's own SPF check: its trusted Authentication-Results, or else its newest
/// trusted Received-SPF. When neither records SPF, a Received-SPF outside the trusted
/// fields still counts if it records `fail` or `softfail` for the origin's address.
/// Exchange Online stores its Received-SPF below the Received fields when a message is
/// exported. A sender gains nothing by writing a failure for its own address, so the
/// position that makes a `pass` suspect does not make a failure suspect. That does not hold
/// when the origin is a filtering service's server: a receiver behind a gateway checks SPF
/// for the gateway's address, and fails it for every sender.
fn spf_failure(report: &Report) -> Option<(&'static str, String)> {
    let auth = &report.auth;
    let signal = |result: &str| match result {
        "fail" => Some("spf-fail"),
        "softfail" => Some("spf-softfail"),
        _ => None,
    };

    // Step 1: the receiver's Authentication-Results.
    let results = auth.trusted_results("spf");
    if !results.is_empty() {
        let result = ["fail", "softfail"]
            .into_iter()
            .find(|wanted| results.iter().any(|r| r.result == *wanted))?;
        return Some((
            signal(result)?,
            format!("spf={result} recorded by the recipient's receiver."),
        ));
    }

    // Step 2: its newest trusted Received-SPF.
    if let Some(field) = auth.received_spf.iter().find(|f| f.trusted) {
        let result = field.parsed.result.as_str();
        return Some((
            signal(result)?,
            format!(
                "Received-SPF {result} recorded by the recipient's receiver (line {}).",
                field.line
            ),
        ));
    }

    // Step 3: a failure for the origin's address, unless a filtering service is the origin.
    let origin = report.origin.as_ref()?;
    let origin_hop = report.chain.hops.get(origin.hop?.checked_sub(1)?)?;
    if origin_hop
        .received
        .sender_names()
        .any(crate::platform::gateways::is_gateway_host)
    {
        return None;
    }
    let origin = origin.ip?;
    auth.received_spf.iter().find_map(|field| {
        let result = field.parsed.result.as_str();
        let checked = field.parsed.client_ip.or(field.parsed.comment_ip)?;
        (checked == origin).then_some(())?;
        Some((
            signal(result)?,
            format!(
                "Received-SPF {result} for the origin {origin} (line {}). The field is outside the recipient's trusted fields, as in an exported message, but a sender gains nothing by recording a failure for its own address.",
                field.line
            ),
        ))
    })
}

/// Reports a From domain of a brand on the built-in list that the recipient's trusted
/// results do not authenticate: no SPF or DKIM pass in its organisational domain and no
/// DMARC or compauth pass. The brands on the list sign their mail and pass DMARC, so the
/// message did not come from the brand, unless a forwarder broke its authentication. The
/// score already counts the failed verdicts; the finding names the brand.
fn brand_domain_unauthenticated(report: &Report) -> Option<Finding> {
    let auth = &report.auth;
    if !auth.has_trusted_results() {
        return None;
    }
    let domain = report.message.from_domain()?;
    let brand = crate::analysis::lookalike::builtin_brands()
        .iter()
        .find(|brand| brand.owns(&domain))?;
    let from_org = org_domain(&domain)?;

    let passed = |method: &str, results: &[&str]| {
        auth.trusted_results(method)
            .iter()
            .any(|r| results.contains(&r.result.as_str()))
    };
    if passed("dmarc", &["pass", "bestguesspass"]) || passed("compauth", &["pass"]) {
        return None;
    }
    if authenticated_domains(report)
        .iter()
        .filter_map(|d| org_domain(d))
        .any(|d| d == from_org)
    {
        return None;
    }

    let recorded: Vec<String> = ["spf", "dkim", "dmarc", "compauth"]
        .iter()
        .flat_map(|method| auth.trusted_results(method))
        .map(|r| format!("{}={}", r.method, r.result))
        .collect();
    let recorded = if recorded.is_empty() {
        String::new()
    } else {
        format!(" ({})", recorded.join(", "))
    };
    Some(
        Finding::new(
            "sender.brand-domain-unauthenticated",
            Severity::Medium,
            format!("From is a domain of {}, and nothing authenticated it", brand.name()),
            format!(
                "The From domain {domain} is a domain of {} on the built-in brand list, but the recipient's trusted results record no pass for it{recorded}. The brand's own mail is signed and passes DMARC, so unless a forwarder changed the message on the way, it did not come from {}: the From domain is spoofed.",
                brand.name(),
                brand.name()
            ),
        )
        .with_header("From"),
    )
}

/// Describes the gap when the From organisational domain matches neither a DKIM signing
/// domain nor the envelope sender's domain.
fn alignment_gap(report: &Report) -> Option<String> {
    let from_org = report
        .message
        .from_domain()
        .as_deref()
        .and_then(org_domain)?;
    // A signature that the recipient's receiver found broken (dkim=fail or permerror for
    // its domain, and no pass) aligns nothing: anyone can write a DKIM-Signature field.
    let dkim_domains = |wanted: &[&str]| -> Vec<String> {
        report
            .auth
            .trusted_results("dkim")
            .iter()
            .filter(|r| wanted.contains(&r.result.as_str()))
            .filter_map(|r| r.property("header.d"))
            .map(|d| d.trim().to_ascii_lowercase())
            .collect()
    };
    let failed = dkim_domains(&["fail", "permerror"]);
    let passed = dkim_domains(&["pass"]);
    let mut identities: Vec<String> = report
        .auth
        .dkim_signatures
        .iter()
        .filter_map(|s| s.parsed.d.clone())
        .filter(|d| {
            let d = d.trim().to_ascii_lowercase();
            !failed.contains(&d) || passed.contains(&d)
        })
        .collect();
    if let Some(return_path) = report
        .message
        .return_path
        .as_deref()
        .and_then(address_domain)
    {
        identities.push(return_path);
    }
    for result in report.auth.trusted_results("spf") {
        for property in &result.properties {
            if property.key().eq_ignore_ascii_case("smtp.mailfrom") {
                identities.push(
                    address_domain(&property.value).unwrap_or_else(|| property.value.clone()),
                );
            }
        }
    }
    if identities.is_empty() {
        return None;
    }
    // Domain names are case-insensitive, so `a.example` and `A.example` are one identity.
    // A set keeps this linear when a message carries thousands of signatures.
    let mut seen = std::collections::HashSet::new();
    let mut distinct: Vec<String> = Vec::new();
    for identity in identities {
        if seen.insert(identity.to_ascii_lowercase()) {
            distinct.push(identity);
        }
    }
    let aligned = distinct
        .iter()
        .filter_map(|d| org_domain(d))
        .any(|d| d == from_org);
    (!aligned).then(|| {
        format!(
            "From is in {from_org}; signing and envelope domains: {}.",
            distinct.join(", ")
        )
    })
}

/// Describes why the From domain is unauthenticated. The recipient's trusted receiver
/// recorded results, but no SPF or DKIM pass is in the From organisational domain, as DMARC
/// requires (RFC 7489 section 3.1). No DMARC or compauth pass or fail was recorded either.
fn unauthenticated_from(report: &Report) -> Option<String> {
    let auth = &report.auth;
    if !auth.has_trusted_results() {
        return None;
    }
    let decided = |method: &str, results: &[&str]| {
        auth.trusted_results(method)
            .iter()
            .any(|r| results.contains(&r.result.as_str()))
    };
    if decided("dmarc", &["pass", "bestguesspass", "fail"])
        || decided("compauth", &["pass", "fail"])
    {
        return None;
    }
    let from_org = report
        .message
        .from_domain()
        .as_deref()
        .and_then(org_domain)?;
    let authenticated = authenticated_domains(report);
    if authenticated
        .iter()
        .filter_map(|d| org_domain(d))
        .any(|d| d == from_org)
    {
        return None;
    }
    let passed = if authenticated.is_empty() {
        "no SPF or DKIM check passed".to_string()
    } else {
        format!("SPF or DKIM passed only for {}", authenticated.join(", "))
    };
    Some(format!(
        "From is in {from_org}, but {passed} in the recipient's trusted results, so nothing authenticates the From domain."
    ))
}

/// Returns the domains, lower case, that the recipient's trusted receiver authenticated: the
/// `header.d` (or `header.i`) of each passing DKIM result, and the envelope sender (or HELO
/// name) of each passing SPF result in Authentication-Results or Received-SPF.
fn authenticated_domains(report: &Report) -> Vec<String> {
    let auth = &report.auth;
    let mut domains: Vec<String> = Vec::new();
    let mut add = |value: &str| {
        let value = value.trim();
        let domain = address_domain(value).unwrap_or_else(|| value.to_ascii_lowercase());
        if !domain.is_empty() && !domains.contains(&domain) {
            domains.push(domain);
        }
    };
    for result in auth.trusted_results("dkim") {
        if result.result == "pass"
            && let Some(domain) = result
                .property("header.d")
                .or_else(|| result.property("header.i"))
        {
            add(domain);
        }
    }
    for result in auth.trusted_results("spf") {
        if result.result == "pass"
            && let Some(identity) = result
                .property("smtp.mailfrom")
                .or_else(|| result.property("smtp.helo"))
        {
            add(identity);
        }
    }
    for field in auth.received_spf.iter().filter(|f| f.trusted) {
        if field.parsed.result == "pass"
            && let Some(identity) = field
                .parsed
                .envelope_from
                .as_deref()
                .or(field.parsed.helo.as_deref())
        {
            add(identity);
        }
    }
    domains
}

#[cfg(test)]
mod tests {
    use crate::analysis::Report;
    use crate::analysis::test_support::analyse_text;

    /// Analyses a message received by mx1.example.net with `fields` below its Received field.
    fn analyse(fields: &str) -> Report {
        analyse_text(&format!(
            "Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx1.example.net (Postfix) with ESMTP id 4Q; Tue, 8 Aug 2023 16:13:55 +0000\n\
             {fields}Subject: test\n\nbody\n"
        ))
    }

    #[test]
    fn unauthenticated_brand_domain_named() {
        let has = |fields: &str| {
            analyse(&format!("{fields}From: DHL <noreply@dhl.de>\n"))
                .findings
                .iter()
                .any(|f| f.id == "sender.brand-domain-unauthenticated")
        };
        assert!(has(
            "Authentication-Results: mx1.example.net; spf=none smtp.mailfrom=example.org; dkim=none; dmarc=none header.from=dhl.de\n"
        ));
        // A pass in the brand's domain, or a DMARC pass, authenticates it.
        assert!(!has(
            "Authentication-Results: mx1.example.net; spf=none smtp.mailfrom=example.org; dkim=pass header.d=mail.dhl.de\n"
        ));
        assert!(!has(
            "Authentication-Results: mx1.example.net; dmarc=pass header.from=dhl.de\n"
        ));
        // Without results from the recipient's receiver there is nothing to judge by.
        assert!(!has(""));
    }

    fn signal_detail(report: &Report, id: &str) -> String {
        report
            .spoof
            .signals
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.detail.clone())
            .unwrap_or_else(|| panic!("no {id} signal in {:?}", report.spoof.signals))
    }

    #[test]
    fn dmarc_missing_tells_absent_from_none() {
        let cases = [
            (
                "spf=pass smtp.mailfrom=example.org",
                "No DMARC result was recorded by the recipient's receiver.",
            ),
            (
                "dmarc=none header.from=example.org",
                "Recorded DMARC result: none.",
            ),
        ];
        for (results, expected) in cases {
            let report = analyse(&format!(
                "Authentication-Results: mx1.example.net; {results}\nFrom: a@example.org\n"
            ));
            assert_eq!(
                signal_detail(&report, "dmarc-missing"),
                expected,
                "{results}"
            );
        }
    }

    /// The recipient's SPF failure counts from its Authentication-Results, else from its
    /// trusted Received-SPF, else from a Received-SPF outside the trusted fields that
    /// records a failure for the origin's address. A pass there, or a failure for
    /// another address, does not count.
    #[test]
    fn spf_failure_read_from_received_spf() {
        let signals = |text: &str| -> Vec<(String, String)> {
            analyse_text(text)
                .spoof
                .signals
                .into_iter()
                .filter(|s| s.id.starts_with("spf-"))
                .map(|s| (s.id, s.detail))
                .collect()
        };
        let edge = "Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx1.example.net (Postfix) with ESMTP id 4Q; Tue, 8 Aug 2023 16:13:55 +0000\n";
        let sender = "Received: from client (client [192.0.2.1]) by mail.example.org (Postfix) with ESMTP id 3P; Tue, 8 Aug 2023 16:13:50 +0000\n";
        let tail = "From: a@example.org\nSubject: test\n\nbody\n";

        let trusted = signals(&format!(
            "{edge}Received-SPF: softfail client-ip=198.51.100.7; envelope-from=a@example.org\n{sender}{tail}"
        ));
        assert_eq!(trusted.len(), 1, "{trusted:?}");
        assert_eq!(trusted[0].0, "spf-softfail");
        assert!(trusted[0].1.contains("line 2"), "{trusted:?}");

        let below = |result: &str, ip: &str| {
            signals(&format!(
                "{edge}{sender}Received-SPF: {result} client-ip={ip}; envelope-from=a@example.org\n{tail}"
            ))
        };
        let exported = below("fail", "198.51.100.7");
        assert_eq!(exported.len(), 1, "{exported:?}");
        assert_eq!(exported[0].0, "spf-fail");
        assert!(
            exported[0]
                .1
                .contains("for the origin 198.51.100.7 (line 3)"),
            "{exported:?}"
        );
        assert!(below("fail", "192.0.2.1").is_empty());
        assert!(below("pass", "198.51.100.7").is_empty());

        // Behind a filtering service, the receiver's SPF check is about the service.
        let gateway = signals(&format!(
            "{}{sender}Received-SPF: fail client-ip=198.51.100.7\n{tail}",
            edge.replace(
                "mail.example.org (mail.example.org",
                "dispatch1-us1.ppe-hosted.com (dispatch1-us1.ppe-hosted.com"
            )
        ));
        assert!(gateway.is_empty(), "{gateway:?}");

        // The receiver's Authentication-Results decide when they record SPF.
        let results = signals(&format!(
            "{edge}Authentication-Results: mx1.example.net; spf=pass smtp.mailfrom=example.org\n{sender}Received-SPF: fail client-ip=198.51.100.7\n{tail}"
        ));
        assert!(results.is_empty(), "{results:?}");
    }

    /// A DKIM-Signature in the From domain that the receiver recorded as failed does not
    /// align the message.
    #[test]
    fn failed_signature_aligns_nothing() {
        let signals = |result: &str| -> Vec<String> {
            analyse(&format!(
                "Authentication-Results: mx1.example.net; spf=pass smtp.mailfrom=example.net; dkim={result} header.d=example.org\n\
                 DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; h=from; bh=AAAA; b=BBBB\n\
                 Return-Path: <x@example.net>\nFrom: a@example.org\n"
            ))
            .spoof
            .signals
            .into_iter()
            .map(|s| s.id)
            .collect()
        };
        assert!(signals("fail").contains(&"not-aligned".to_string()));
        assert!(!signals("pass").contains(&"not-aligned".to_string()));
    }

    #[test]
    fn not_aligned_lists_domains_once() {
        let report = analyse(
            "Authentication-Results: mx1.example.net; spf=none smtp.mailfrom=Bounce.Example.net\n\
             Return-Path: <x@bounce.example.net>\n\
             From: a@example.org\n",
        );
        assert_eq!(
            signal_detail(&report, "not-aligned"),
            "From is in example.org; signing and envelope domains: bounce.example.net."
        );
    }

    /// SPF failed for the From domain and nothing passed: structurally aligned, but
    /// unauthenticated. A passing aligned identity, or a DMARC verdict, removes the signal.
    #[test]
    fn unauthenticated_from_domain_scored() {
        let spoofed = analyse(
            "Authentication-Results: mx1.example.net; spf=fail smtp.mailfrom=example.org; dkim=none; dmarc=none header.from=example.org\n\
             Return-Path: <a@example.org>\nFrom: a@example.org\n",
        );
        let detail = signal_detail(&spoofed, "from-unauthenticated");
        assert!(detail.contains("example.org"), "{detail}");
        assert!(detail.contains("no SPF or DKIM check passed"), "{detail}");
        let ids: Vec<&str> = spoofed
            .spoof
            .signals
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert!(!ids.contains(&"not-aligned"), "{ids:?}");

        let other = analyse(
            "Authentication-Results: mx1.example.net; spf=pass smtp.mailfrom=bounce.example.com; dkim=none; dmarc=none header.from=example.org\n\
             Return-Path: <a@example.org>\nFrom: a@example.org\n",
        );
        let detail = signal_detail(&other, "from-unauthenticated");
        assert!(
            detail.contains("passed only for bounce.example.com"),
            "{detail}"
        );

        for passing in [
            "spf=pass smtp.mailfrom=mail.example.org; dmarc=none",
            "spf=fail smtp.mailfrom=example.org; dkim=pass header.d=example.org",
            "spf=fail smtp.mailfrom=example.org; dmarc=fail header.from=example.org",
        ] {
            let report = analyse(&format!(
                "Authentication-Results: mx1.example.net; {passing}\nReturn-Path: <a@example.org>\nFrom: a@example.org\n"
            ));
            assert!(
                report
                    .spoof
                    .signals
                    .iter()
                    .all(|s| s.id != "from-unauthenticated"),
                "{passing}: {:?}",
                report.spoof.signals
            );
        }
    }
}
