//! Analysis passes: each reads the header model and adds findings to the report.
//!
//! [`analyze`] runs them in order: relay chain and trust boundary, recorded
//! authentication, Exchange stamps, sender identity, stripped headers, IP lists, and last
//! the spoof score, which only reads what the other passes found.

pub mod arc;
pub mod auth;
pub mod chain;
pub mod exchange;
pub mod forwarding;
pub mod impersonation;
pub mod ipmatch;
pub mod lookalike;
pub mod score;
pub mod sender;
pub mod signals;
pub mod stripped;

#[cfg(test)]
pub(crate) mod test_support;

use crate::config::AnalysisConfig;
use crate::finding::{Finding, Severity};
use crate::headers::HeaderBlock;
use crate::input::{InputMessage, MsgMetadata, Source, TransportHeaders};
use crate::platform::PlatformSection;
use auth::AuthSection;
use chain::{Origin, RelayChain};
use exchange::ExchangeSection;
use ipmatch::{FoundIp, IpMatch};
use score::Spoof;
use sender::MessageSummary;
use serde::Serialize;

/// Everything mailtrace concluded about one message.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: Source,
    pub headers: HeaderBlock,
    pub message: MessageSummary,
    pub chain: RelayChain,
    pub origin: Option<Origin>,
    pub addresses: Vec<FoundIp>,
    pub auth: AuthSection,
    pub exchange: ExchangeSection,
    /// Receiving platforms and gateways recognised on the message.
    pub platforms: PlatformSection,
    pub findings: Vec<Finding>,
    pub ip_matches: Vec<IpMatch>,
    pub spoof: Spoof,
    /// MAPI metadata when the message came from an Outlook .msg file.
    pub msg: Option<MsgMetadata>,
    /// Results checked now with `--online`; `None` offline.
    pub verified: Option<crate::verify::Verification>,
}

impl Report {
    /// Returns the highest severity among the findings.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Tells whether the message carried transport headers to analyse (a .msg draft or sent
    /// item has none, so it has no chain and no authentication verdicts).
    pub fn has_transport_headers(&self) -> bool {
        self.msg
            .as_ref()
            .is_none_or(|m| matches!(m.transport_headers, TransportHeaders::Present))
    }
}

/// Error for a message whose bytes hold no header block.
#[derive(Debug, thiserror::Error)]
#[error("{source_label}: {reason}")]
pub struct AnalysisError {
    pub source_label: String,
    pub reason: String,
}

/// Analyses one message.
pub fn analyze(input: &InputMessage, config: &AnalysisConfig) -> Result<Report, AnalysisError> {
    // Step 1: the header block. A .msg without transport headers has none, and that is a
    // state to report, not an error.
    let no_transport_headers = input
        .msg
        .as_ref()
        .is_some_and(|m| !matches!(m.transport_headers, TransportHeaders::Present));
    let headers = if no_transport_headers {
        HeaderBlock::default()
    } else {
        HeaderBlock::parse(&input.bytes, &config.parse).map_err(|error| AnalysisError {
            source_label: source_label(&input.source),
            reason: format!("{error}; expected an RFC 5322 message (.eml), an Outlook .msg, an mbox or a Maildir file"),
        })?
    };

    // Step 2: the passes, each reading what the earlier ones produced.
    let mut chain = chain::build_chain(&headers, config);
    let mut auth = auth::read_auth(&headers, &chain, config);
    // The receiver's own SPF check can show that the edge hop comes from its gateway. The
    // gateway's hosts are then the recipient's, and so are the results they wrote, so
    // the results are read again against the moved boundary.
    let spf_client_ips: Vec<std::net::IpAddr> = auth
        .recipient_spf_client()
        .map(|(_, ip)| ip)
        .into_iter()
        .collect();
    if let Some(finding) = chain::move_boundary_behind_gateway(&mut chain, &spf_client_ips) {
        chain.findings.push(finding);
        auth = auth::read_auth(&headers, &chain, config);
    } else if let Some(finding) = chain::origin_on_filtering_service(&chain) {
        chain.findings.push(finding);
    }
    let platforms = crate::platform::read_platforms(&headers, &chain, &auth, &config.profiles);
    let exchange = exchange::read_exchange(&headers, &chain, &auth, &platforms, config);
    let message = sender::read_sender(&headers, config.max_addresses);
    let stripped = stripped::find_stripped(&headers, &chain, &auth, &platforms, &config.profiles);
    let mut addresses = ipmatch::collect_addresses(&headers, &chain, &auth, &exchange);
    let reported_source_ip = input
        .source
        .attachment
        .as_ref()
        .and_then(|a| a.reported_source_ip);
    if let Some(ip) = reported_source_ip {
        addresses.push(FoundIp {
            ip: crate::iplist::unmap(ip),
            location: FEEDBACK_SOURCE_IP.into(),
        });
    }
    let ip_matches = ipmatch::match_lists(&addresses, config);
    let mut origin = chain.origin().or_else(|| fallback_origin(&addresses));
    // The headers of a feedback report's original often stop short of the reporter's edge,
    // which the report's Source-IP names.
    if let Some(ip) = reported_source_ip
        && origin.as_ref().is_none_or(|o| o.ip.is_none())
    {
        origin = Some(Origin {
            ip: Some(ip),
            hop: None,
            source: FEEDBACK_SOURCE_IP.into(),
        });
    }

    // Step 3: findings in one list, most severe first, then the score.
    let mut findings: Vec<Finding> = input.findings.clone();
    findings.extend(source_ip_differs(reported_source_ip, origin.as_ref()));
    findings.extend(headers.findings.iter().cloned());
    findings.extend(chain.findings.iter().cloned());
    findings.extend(auth.findings.iter().cloned());
    findings.extend(auth::spf_client_findings(&auth, origin.as_ref()));
    findings.extend(auth.arc.findings.iter().cloned());
    findings.extend(exchange.findings.iter().cloned());
    findings.extend(exchange::upstream_verdict(
        &exchange, &headers, &auth, &platforms,
    ));
    findings.extend(message.findings.iter().cloned());
    findings.extend(stripped);
    findings.extend(signals::ip_match_findings(&ip_matches));
    // The .msg reader already explains a missing or emptied header stream; the general
    // finding is for inputs that arrive without one and without that explanation.
    let explained = input.findings.iter().any(|f| {
        f.id == "input.transport-headers-absent"
            || f.id == "input.header-stream-stripped"
            || f.id == "input.not-mail-item"
    });
    if no_transport_headers && !explained {
        findings.push(no_transport_headers_finding(input));
    }
    // Exchange stamps without any Received field are already reported as removed routing.
    let removed_routing = findings.iter().any(|f| f.id == "stripped.no-external-hop");
    if !no_transport_headers && chain.hops.is_empty() && !removed_routing {
        findings.push(Finding::new(
            "chain.no-received",
            Severity::Low,
            "No Received field: the message has no relay chain",
            "Every server that relays or delivers a message adds a Received field (RFC 5321 section 4.4), and this message has none. There is no origin to check, and the score has no routing or receiver evidence to weigh, so a low score here means unknown, not clean. The message was probably saved from a draft or a sent folder, rebuilt by a tool, or had its headers removed.",
        ));
    }
    let mut report = Report {
        source: input.source.clone(),
        headers,
        message,
        chain,
        origin,
        addresses,
        auth,
        exchange,
        platforms,
        findings,
        ip_matches,
        spoof: score::ScoreBuilder::default().finish(),
        msg: input.msg.clone(),
        verified: None,
    };
    forwarding::explain_list_reply(&mut report);
    explain_exchange_internal_sender(&mut report);
    if let Some(finding) = forwarding::list_resend_finding(&report) {
        report.findings.push(finding);
    }
    signals::add_sender_findings(&mut report, config);
    let recipients =
        sender::read_to_addresses(&report.headers, config.max_addresses, &mut report.findings);
    let tricks = impersonation::find_sender_tricks(&report.message, &recipients, config);
    report.findings.extend(tricks);
    report
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity));
    report.spoof = signals::score(&report, config);
    Ok(report)
}

/// Lowers `sender.no-valid-mailbox` to info on an Outlook item that Exchange delivered
/// inside its organisation. Its MAPI sender is an X.500 name (`/O=ORG/OU=SITE/CN=...`), and
/// with no Received field the message never crossed SMTP: Exchange wrote the From field
/// from the display name alone, so a missing address there is not a spoofing signal.
fn explain_exchange_internal_sender(report: &mut Report) {
    let x500_sender = report
        .msg
        .as_ref()
        .and_then(|msg| msg.sender.as_deref())
        .is_some_and(|sender| {
            sender
                .get(..3)
                .is_some_and(|p| p.eq_ignore_ascii_case("/o="))
        });
    if !x500_sender || !report.chain.hops.is_empty() {
        return;
    }
    for finding in &mut report.findings {
        if finding.id == "sender.no-valid-mailbox" {
            finding.severity = Severity::Info;
            finding.detail.push_str(" The Outlook item's sender is an Exchange X.500 name and the message has no Received field: Exchange delivered it inside its organisation and wrote only the display name.");
        }
    }
}

/// Uses the connecting address Exchange recorded when the Received chain gives none.
/// Origin source name for the `Source-IP` of a feedback report.
const FEEDBACK_SOURCE_IP: &str = "feedback report Source-IP";

/// Returns a finding when a feedback report's Source-IP is not the origin read from the
/// attached headers.
fn source_ip_differs(
    reported: Option<std::net::IpAddr>,
    origin: Option<&Origin>,
) -> Option<Finding> {
    let reported = crate::iplist::unmap(reported?);
    let origin_ip = crate::iplist::unmap(origin?.ip?);
    (reported != origin_ip).then(|| {
        Finding::new(
            "chain.feedback-source-ip-differs",
            Severity::Low,
            "The feedback report's Source-IP is not the origin of the attached headers",
            format!(
                "The report names Source-IP {reported}, the address the reporter's systems saw the message come from (RFC 5965 section 3.2), but the attached headers give {origin_ip} as the origin. Either the attached headers stop short of the reporter's edge, or hops in them were forged; check both addresses."
            ),
        )
        .with_header("Source-IP")
    })
}

fn fallback_origin(addresses: &[FoundIp]) -> Option<Origin> {
    let preferred = [
        "X-Forefront-Antispam-Report CIP",
        "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp",
        "X-Originating-IP",
        "X-Sender-IP",
    ];
    preferred.iter().find_map(|source| {
        addresses
            .iter()
            .find(|a| a.location == *source)
            .map(|a| Origin {
                ip: Some(a.ip),
                hop: None,
                source: a.location.clone(),
            })
    })
}

fn no_transport_headers_finding(input: &InputMessage) -> Finding {
    let stripped = input
        .msg
        .as_ref()
        .is_some_and(|m| matches!(m.transport_headers, TransportHeaders::Stripped));
    let detail = if stripped {
        "The .msg file has a transport-headers stream, but it is empty or all NUL bytes. Without headers there is no relay chain and no recorded authentication; the MAPI sender and times are reported instead."
    } else {
        "The .msg file has no transport headers (PR_TRANSPORT_MESSAGE_HEADERS): it is a draft, a sent item or an internal message. There is no relay chain and no recorded authentication; the MAPI sender and times are reported instead."
    };
    Finding::new(
        "input.no-transport-headers",
        Severity::Info,
        "No transport headers: authentication verdicts are not available",
        detail,
    )
}

/// Returns a short label for a message's source, for errors.
pub fn source_label(source: &Source) -> String {
    let mut label = source.path.clone();
    if let Some(index) = source.index {
        label.push_str(&format!(" message {index}"));
    }
    if let Some(attachment) = &source.attachment {
        label.push_str(&format!(" attachment {}", attachment.label()));
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Format;

    /// Analyses an Outlook item whose transport headers are `headers` and whose MAPI sender
    /// is `sender`.
    fn outlook_item(headers: &str, sender: &str) -> Report {
        let input = InputMessage {
            source: Source {
                path: "item.msg".into(),
                format: Format::Msg,
                index: None,
                offset: None,
                attachment: None,
                maildir_flags: None,
            },
            bytes: headers.as_bytes().to_vec(),
            msg: Some(MsgMetadata {
                transport_headers: TransportHeaders::Present,
                subject: Some("Option 2".into()),
                sender: Some(sender.into()),
                sender_name: Some("Alice Example".into()),
                client_submit_time: None,
                delivery_time: None,
                message_class: Some("IPM.Note".into()),
            }),
            envelope: None,
            findings: Vec::new(),
        };
        analyze(&input, &AnalysisConfig::default()).expect("item is analysed")
    }

    fn no_mailbox(report: &Report) -> Option<&Finding> {
        report
            .findings
            .iter()
            .find(|f| f.id == "sender.no-valid-mailbox")
    }

    #[test]
    fn exchange_internal_sender_not_scored() {
        let headers = "From: \"Alice Example\"\r\nSubject: Option 2\r\n\r\n";
        let report = outlook_item(headers, "/O=EXAMPLE/OU=SITE/CN=RECIPIENTS/CN=ALICE");
        let finding = no_mailbox(&report).expect("a sender.no-valid-mailbox finding");
        assert_eq!(finding.severity, Severity::Info);
        assert!(report.spoof.signals.iter().all(|s| s.id != "no-valid-from"));

        // An SMTP sender, or a message that crossed SMTP, keeps the finding and its points.
        let smtp = outlook_item(headers, "alice@example.com");
        assert_eq!(
            no_mailbox(&smtp).map(|f| f.severity),
            Some(Severity::Medium)
        );
        assert!(smtp.spoof.signals.iter().any(|s| s.id == "no-valid-from"));
        let relayed = format!(
            "Received: from a.example.net ([192.0.2.1]) by b.example.org; Mon, 3 Mar 2025 10:00:00 +0000\r\n{headers}"
        );
        let relayed = outlook_item(&relayed, "/O=EXAMPLE/OU=SITE/CN=RECIPIENTS/CN=ALICE");
        assert_eq!(
            no_mailbox(&relayed).map(|f| f.severity),
            Some(Severity::Medium)
        );
    }
}
