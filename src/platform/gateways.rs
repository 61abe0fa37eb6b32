//! Filtering gateways and sending-side stamps recognised by their headers: Proofpoint
//! (`X-Proofpoint-*`), Mimecast (`X-MC-Unique`, `X-Mimecast-*`), Cisco Secure Email
//! (`X-IronPort-*`, `IronPort-*`), Proton Mail's filter (`X-Pm-*`) and Google's sending side
//! (`X-Gm-Message-State`, `X-Google-Smtp-Source`, `X-Received`). Their presence proves that
//! the product handled the message, not on which side: Proofpoint, Mimecast and Proton Mail
//! stamp outbound mail too.

use crate::analysis::chain::RelayChain;
use crate::headers::HeaderBlock;
use crate::parse::ascii::{ends_with_ci, starts_with_ci};
use serde::Serialize;

/// Headers one gateway left on the message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewaySummary {
    pub vendor: &'static str,
    /// Profile id when a profile describes the product, such as `proofpoint`.
    #[serde(skip)]
    pub profile_id: &'static str,
    /// Names of the headers found, in message order, each once.
    pub headers: Vec<String>,
    /// Selected values worth showing, as (header, value) pairs, each value whole as the
    /// header block holds it; the text report shortens long ones.
    pub values: Vec<(String, String)>,
    /// The newest Received hop on the recipient's side (the first external hop or above)
    /// that the product's servers received, if any.
    pub hop: Option<usize>,
    /// The product's host names are on record here, so a missing hop means the headers may
    /// have come with the message rather than from the product.
    pub hosts_known: bool,
}

struct GatewayRule {
    vendor: &'static str,
    profile_id: &'static str,
    prefixes: &'static [&'static str],
    exact: &'static [&'static str],
    /// Headers whose values go into the summary.
    shown: &'static [&'static str],
    /// Suffixes of the host names of the product's receiving servers.
    hosts: &'static [&'static str],
}

const RULES: &[GatewayRule] = &[
    GatewayRule {
        vendor: "Proofpoint",
        profile_id: "proofpoint",
        prefixes: &["x-proofpoint-"],
        exact: &[],
        shown: &["X-Proofpoint-Spam-Details", "X-Proofpoint-Virus-Version"],
        hosts: &[".pphosted.com", ".ppe-hosted.com"],
    },
    GatewayRule {
        vendor: "Mimecast",
        profile_id: "mimecast",
        prefixes: &["x-mimecast-"],
        exact: &["x-mc-unique"],
        shown: &["X-Mimecast-Spam-Score", "X-MC-Unique"],
        hosts: &["relay.mimecast.com"],
    },
    GatewayRule {
        vendor: "Cisco Secure Email (IronPort)",
        profile_id: "",
        prefixes: &["x-ironport-", "ironport-"],
        exact: &[],
        shown: &[
            "X-IronPort-RemoteIP",
            "X-IronPort-Reputation",
            "X-IronPort-AV",
        ],
        hosts: &[],
    },
    // Proton Mail does not document these headers. On inbound mail the corpus shows
    // X-Pm-Origin `external`, X-Pm-Spamscore as a number and X-Pm-Spam-Action as `inbox`,
    // `dunno`, `spam` or `phishing`, so the values are shown as written.
    GatewayRule {
        vendor: "Proton Mail",
        profile_id: "",
        prefixes: &["x-pm-"],
        exact: &[],
        shown: &["X-Pm-Spam-Action", "X-Pm-Spamscore", "X-Pm-Origin"],
        hosts: &[".protonmail.ch"],
    },
    GatewayRule {
        vendor: "Google (sending side)",
        profile_id: "",
        prefixes: &[],
        exact: &["x-gm-message-state", "x-google-smtp-source", "x-received"],
        shown: &["X-Received"],
        hosts: &[],
    },
];

/// Organisational domains of the servers that filtering services deliver mail from. A
/// receiver behind such a service that checks SPF again checks the service's address, not
/// the sender's.
const GATEWAY_DOMAINS: &[&str] = &[
    "pphosted.com",
    "ppe-hosted.com",
    "mimecast.com",
    "iphmx.com",
];

/// Tells whether `host` is a server of a filtering service (Proofpoint, Mimecast, Cisco
/// Secure Email Cloud).
pub fn is_gateway_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    GATEWAY_DOMAINS.iter().any(|domain| {
        // A subdomain ends with `.domain`: the byte before the domain is a dot.
        let before = host.len().checked_sub(domain.len() + 1);
        host.eq_ignore_ascii_case(domain)
            || (ends_with_ci(host, domain)
                && before.is_some_and(|at| host.as_bytes().get(at) == Some(&b'.')))
    })
}

/// Summarises every gateway whose headers appear in `block`, with the newest hop of
/// `chain` that its servers received.
pub fn summarise(block: &HeaderBlock, chain: &RelayChain) -> Vec<GatewaySummary> {
    RULES
        .iter()
        .filter_map(|rule| summarise_one(rule, block, chain))
        .collect()
}

fn summarise_one(
    rule: &GatewayRule,
    block: &HeaderBlock,
    chain: &RelayChain,
) -> Option<GatewaySummary> {
    let mut headers: Vec<String> = Vec::new();
    for field in &block.fields {
        let name = field.name.as_str();
        let matches = rule.exact.iter().any(|e| name.eq_ignore_ascii_case(e))
            || rule.prefixes.iter().any(|p| starts_with_ci(name, p));
        if matches && !headers.iter().any(|h| h.eq_ignore_ascii_case(&field.name)) {
            headers.push(field.name.clone());
        }
    }
    if headers.is_empty() {
        return None;
    }
    let values = rule
        .shown
        .iter()
        .filter_map(|name| Some((name.to_string(), block.value(name)?.to_string())))
        .collect();
    // Hops below the first external hop are the sender's to write, so only the recipient's
    // side can vouch for a product's headers.
    let hop = chain
        .hops
        .iter()
        .rev()
        .filter(|hop| hop.internal || Some(hop.index) == chain.boundary)
        .find(|hop| {
            hop.received.by_host.as_deref().is_some_and(|by| {
                let by = by.trim_end_matches('.');
                rule.hosts.iter().any(|suffix| ends_with_ci(by, suffix))
            })
        })
        .map(|hop| hop.index);
    Some(GatewaySummary {
        vendor: rule.vendor,
        profile_id: rule.profile_id,
        headers,
        values,
        hop,
        hosts_known: !rule.hosts.is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::ParseOptions;

    #[test]
    fn gateway_hosts_by_domain() {
        assert!(is_gateway_host("dispatch1-us1.ppe-hosted.com."));
        assert!(is_gateway_host("MX0A-001B2D01.pphosted.com"));
        assert!(is_gateway_host("us-smtp-delivery-1.mimecast.com"));
        assert!(!is_gateway_host("notmimecast.com"));
        assert!(!is_gateway_host("mail.example.com"));
    }

    #[test]
    fn shown_values_kept_whole() {
        let long = "x".repeat(3000);
        let text =
            format!("X-Pm-Origin: external\nX-Pm-Spam-Action: {long}\nSubject: test\n\nbody\n");
        let block =
            HeaderBlock::parse(text.as_bytes(), &ParseOptions::default()).expect("a header block");
        let summaries = summarise(&block, &RelayChain::default());
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].vendor, "Proton Mail");
        let action = summaries[0]
            .values
            .iter()
            .find(|(header, _)| header == "X-Pm-Spam-Action")
            .map(|(_, value)| value.len());
        assert_eq!(action, Some(3000));
    }
}
