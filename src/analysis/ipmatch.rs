//! IP list matching: every address found anywhere in the message is checked against the
//! built-in and user lists. Non-public addresses are never matched against public lists.

use crate::analysis::auth::AuthSection;
use crate::analysis::chain::RelayChain;
use crate::analysis::exchange::ExchangeSection;
use crate::config::AnalysisConfig;
use crate::headers::HeaderBlock;
use crate::iplist::{is_non_public, unmap};
use crate::parse::exchange::parse_origin_ip_header;
use serde::Serialize;
use std::net::IpAddr;

/// An address and where in the message it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundIp {
    pub ip: IpAddr,
    /// Where the address was read, such as `Received hop 2 (from)` or a header name.
    pub location: String,
}

/// One address that is on an IP list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpMatch {
    pub ip: IpAddr,
    pub list: String,
    /// The matching entry as written (address or CIDR).
    pub entry: String,
    pub label: Option<String>,
    pub location: String,
    /// Whether the list is built in (a published campaign) rather than user supplied.
    pub builtin: bool,
}

/// Collects every address the message names, with where it was found.
pub fn collect_addresses(
    block: &HeaderBlock,
    chain: &RelayChain,
    auth: &AuthSection,
    exchange: &ExchangeSection,
) -> Vec<FoundIp> {
    let mut found = Vec::new();
    let mut push = |ip: IpAddr, location: String| {
        let ip = unmap(ip);
        if !found
            .iter()
            .any(|f: &FoundIp| f.ip == ip && f.location == location)
        {
            found.push(FoundIp { ip, location });
        }
    };

    for hop in &chain.hops {
        if let Some(ip) = hop.received.from_ip {
            push(ip, format!("Received hop {} (from)", hop.index));
        }
        if let Some(ip) = hop.received.by_ip {
            push(ip, format!("Received hop {} (by)", hop.index));
        }
    }
    for name in [
        "X-Originating-IP",
        "X-Sender-IP",
        "X-Orig-IP",
        "X-Source-IP",
    ] {
        for header in block.all(name) {
            if let Some(ip) = parse_origin_ip_header(&header.value) {
                push(ip, name.to_string());
            }
        }
    }
    for report in &exchange.forefront {
        if let Some(ip) = report.connecting_ip() {
            push(ip, format!("{} CIP", report.field_name));
        }
    }
    for connecting in &exchange.connecting_ips {
        if let Some(ip) = connecting.ip {
            push(
                ip,
                "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp".into(),
            );
        }
    }
    for spf in &auth.received_spf {
        if let Some(ip) = spf.parsed.client_ip {
            push(ip, "Received-SPF client-ip".into());
        }
    }
    found
}

/// Matches every found address against every configured list.
pub fn match_lists(found: &[FoundIp], config: &AnalysisConfig) -> Vec<IpMatch> {
    let builtin_names: Vec<String> = crate::iplist::builtin_lists()
        .into_iter()
        .map(|l| l.name)
        .collect();
    let mut matches = Vec::new();
    for address in found.iter().filter(|f| !is_non_public(f.ip)) {
        for list in &config.ip_lists {
            if let Some(entry) = list.find(address.ip) {
                matches.push(IpMatch {
                    ip: address.ip,
                    list: list.name.clone(),
                    entry: entry.net.to_string(),
                    label: entry.label.clone(),
                    location: address.location.clone(),
                    builtin: builtin_names.contains(&list.name),
                });
            }
        }
    }
    matches
}
