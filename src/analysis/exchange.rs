//! Exchange Online evidence: the decoded anti-spam stamps, the cross-tenant attribution
//! and the rogue-connector fingerprint (`HybridOnPrem` from an undeclared address).

use crate::analysis::chain::RelayChain;
use crate::config::AnalysisConfig;
use crate::finding::{Finding, Severity};
use crate::headers::HeaderBlock;
use crate::parse::exchange::{
    ConnectingIp, ForefrontReport, MicrosoftAntispam, describe_org_scl, parse_connecting_ip,
    parse_forefront_report, parse_microsoft_antispam,
};
use serde::Serialize;
use std::net::IpAddr;

/// What Exchange Online recorded about a message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExchangeSection {
    /// X-Forefront-Antispam-Report and its -Untrusted copies, top-most first.
    pub forefront: Vec<ForefrontReport>,
    pub microsoft_antispam: Option<MicrosoftAntispam>,
    /// X-MS-Exchange-Organization-SCL value and its documented meaning.
    pub organization_scl: Option<(i32, String)>,
    pub organization_auth_as: Option<String>,
    pub organization_auth_source: Option<String>,
    /// Every X-MS-Exchange-CrossTenant-FromEntityHeader value, top-most first.
    pub from_entity: Vec<String>,
    /// Every X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp, top-most first.
    pub connecting_ips: Vec<ConnectingIp>,
    pub findings: Vec<Finding>,
}

impl ExchangeSection {
    /// Tells whether any Exchange stamp was found.
    pub fn is_empty(&self) -> bool {
        self.forefront.is_empty()
            && self.microsoft_antispam.is_none()
            && self.organization_scl.is_none()
            && self.from_entity.is_empty()
            && self.connecting_ips.is_empty()
    }
}

/// Reads the Exchange Online stamps of `block` and checks them against the relay chain.
pub fn read_exchange(
    block: &HeaderBlock,
    chain: &RelayChain,
    config: &AnalysisConfig,
) -> ExchangeSection {
    let mut section = ExchangeSection::default();

    // Step 1: decode the stamps.
    for header in &block.fields {
        if header.is("X-Forefront-Antispam-Report")
            || header.is("X-Forefront-Antispam-Report-Untrusted")
        {
            let report = parse_forefront_report(&header.name, &header.value);
            for finding in &report.findings {
                section.findings.push(finding.clone().with_evidence(
                    header.name.clone(),
                    Some(header.line),
                    header.value.clone(),
                ));
            }
            section.forefront.push(report);
        }
    }
    section.microsoft_antispam = block
        .value("X-Microsoft-Antispam")
        .map(parse_microsoft_antispam);
    section.organization_scl = block
        .value("X-MS-Exchange-Organization-SCL")
        .and_then(describe_org_scl)
        .map(|(value, meaning)| (value, meaning.to_string()));
    section.organization_auth_as = block
        .value("X-MS-Exchange-Organization-AuthAs")
        .map(str::to_string);
    section.organization_auth_source = block
        .value("X-MS-Exchange-Organization-AuthSource")
        .map(str::to_string);
    section.from_entity = block
        .all("X-MS-Exchange-CrossTenant-FromEntityHeader")
        .map(|h| h.value.clone())
        .collect();
    section.connecting_ips = block
        .all("X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp")
        .filter_map(|h| parse_connecting_ip(&h.value))
        .collect();

    // Step 2: the connecting IP recorded by Exchange must be the first external hop's.
    let mismatches = check_cip(&section, chain);
    section.findings.extend(mismatches);

    // Step 3: the rogue-connector fingerprint.
    if let Some(finding) = rogue_connector(block, &section, config) {
        section.findings.push(finding);
    }
    section
}

/// Returns the trusted Forefront report: the recipient's own, not an -Untrusted copy.
fn own_forefront(section: &ExchangeSection) -> Option<&ForefrontReport> {
    section.forefront.iter().find(|r| !r.upstream())
}

fn check_cip(section: &ExchangeSection, chain: &RelayChain) -> Vec<Finding> {
    let Some(report) = own_forefront(section) else {
        return Vec::new();
    };
    let (Some(cip), Some(origin)) = (report.cip(), chain.origin().and_then(|o| o.ip)) else {
        return Vec::new();
    };
    if cip == origin {
        return Vec::new();
    }
    vec![Finding::new(
        "exchange.cip-hop-mismatch",
        Severity::Medium,
        "Connecting IP recorded by Exchange differs from the first external hop",
        format!(
            "X-Forefront-Antispam-Report says the message came from {cip}, but the first external Received hop names {origin}. A hop was forged, added or removed, or an on-premises connector relayed it."
        ),
    )
    .with_header("X-Forefront-Antispam-Report")]
}

/// Flags mail that Exchange attributed to an on-premises connector (`HybridOnPrem`, or an
/// organisation AuthAs of Internal/Partner) from an address the organisation did not declare.
fn rogue_connector(
    block: &HeaderBlock,
    section: &ExchangeSection,
    config: &AnalysisConfig,
) -> Option<Finding> {
    let hybrid = section
        .from_entity
        .iter()
        .any(|v| v.eq_ignore_ascii_case("HybridOnPrem"));
    let auth_as_internal = section
        .organization_auth_as
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("Internal") || v.eq_ignore_ascii_case("Partner"));
    if !hybrid && !auth_as_internal {
        return None;
    }
    let candidates: Vec<IpAddr> = section
        .connecting_ips
        .iter()
        .filter_map(|c| c.ip)
        .chain(section.forefront.iter().filter_map(ForefrontReport::cip))
        .collect();
    let undeclared: Vec<IpAddr> = candidates
        .iter()
        .copied()
        .filter(|ip| !crate::iplist::is_non_public(*ip) && config.connectors.find(*ip).is_none())
        .collect();
    let ip = *undeclared.first()?;
    let how = if hybrid {
        "X-MS-Exchange-CrossTenant-FromEntityHeader: HybridOnPrem"
    } else {
        "X-MS-Exchange-Organization-AuthAs: Internal/Partner"
    };
    let mut finding = Finding::new(
        "exchange.rogue-connector",
        Severity::High,
        "Mail attributed to an on-premises connector from an undeclared address",
        format!(
            "Exchange Online treated this message as coming from the organisation's own servers ({how}), but it connected from {ip}, which is not a declared connector address. A rogue inbound connector produces exactly this. Declare the organisation's connector addresses with --connector-ip if this is your hybrid server."
        ),
    );
    for name in [
        "X-MS-Exchange-CrossTenant-FromEntityHeader",
        "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp",
    ] {
        if let Some(h) = block.get(name) {
            finding = finding
                .with_header(name)
                .with_evidence(name, Some(h.line), h.value.clone());
        }
    }
    Some(finding)
}
