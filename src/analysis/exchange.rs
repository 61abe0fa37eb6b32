//! Exchange Online evidence: the decoded anti-spam stamps, the cross-tenant attribution
//! and the rogue-connector fingerprint (`HybridOnPrem` from an undeclared address).

use crate::analysis::auth::AuthSection;
use crate::analysis::chain::{Hop, RelayChain};
use crate::config::AnalysisConfig;
use crate::finding::{Finding, Severity};
use crate::headers::{Header, HeaderBlock};
use crate::parse::exchange::{
    ConnectingIp, ForefrontReport, MailboxDelivery, MicrosoftAntispam, describe_org_scl,
    parse_connecting_ip, parse_forefront_report, parse_mailbox_delivery, parse_microsoft_antispam,
};
use crate::platform::PlatformSection;
use crate::report::escape::quoted;
use serde::Serialize;
use std::net::IpAddr;

/// What Exchange Online recorded about a message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExchangeSection {
    /// X-Forefront-Antispam-Report and its -Untrusted copies, top-most first.
    pub forefront: Vec<ForefrontReport>,
    pub microsoft_antispam: Option<MicrosoftAntispam>,
    /// X-Microsoft-Antispam-Mailbox-Delivery: the folder chosen and why.
    pub mailbox_delivery: Option<MailboxDelivery>,
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
            && self.mailbox_delivery.is_none()
            && self.organization_scl.is_none()
            && self.from_entity.is_empty()
            && self.connecting_ips.is_empty()
    }
}

/// Reads the Exchange Online stamps of `block` and checks them against the relay chain.
/// `platforms` shows whether Microsoft 365 delivered the message, and so whether its plain
/// X-Forefront-Antispam-Report is the recipient's own or an upstream tenant's.
/// `auth` gives the DKIM signatures already parsed.
pub fn read_exchange(
    block: &HeaderBlock,
    chain: &RelayChain,
    auth: &AuthSection,
    platforms: &PlatformSection,
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
    section.mailbox_delivery = block
        .value("X-Microsoft-Antispam-Mailbox-Delivery")
        .map(parse_mailbox_delivery);
    let scl_fields: Vec<&Header> = block.all("X-MS-Exchange-Organization-SCL").collect();
    if let Some(header) = scl_fields.first() {
        match describe_org_scl(&header.value) {
            Some((value, meaning)) => section.organization_scl = Some((value, meaning.into())),
            None => section.findings.push(invalid_scl(header)),
        }
    }
    if scl_fields.len() > 1 {
        section.findings.push(repeated_scl(&scl_fields));
    }
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

    // Step 2: the connecting IP recorded by Exchange must be the sending address of the hop
    // where that Exchange received the message.
    if let Some(mismatch) = check_cip(&section, chain, platforms) {
        section.findings.push(mismatch);
    }

    // Step 3: the rogue-connector fingerprint.
    if let Some(finding) = rogue_connector(block, &section, config) {
        section.findings.push(finding);
    }

    // Step 4: the same fingerprint seen from outside: a sending tenant that relayed mail
    // from an allow-listed address.
    if let Some(finding) = tenant_relay(block, &section, platforms) {
        section.findings.push(finding);
    }

    // Step 5: an origin on Microsoft's outbound relays, with the sender's address recorded
    // by the tenant that sent the message.
    if let Some(finding) = origin_is_microsoft_relay(&section, auth, chain, platforms) {
        section.findings.push(finding);
    }
    // Step 6: a spam verdict that the mailbox overrode, which explains why the user saw it.
    if let Some(finding) = spam_verdict_overridden(&section) {
        section.findings.push(finding);
    }
    section
}

/// Returns `exchange.spam-verdict-overridden` when the organisation SCL rates it spam (5 or
/// more) but X-Microsoft-Antispam-Mailbox-Delivery records delivery to the Inbox, with the
/// override reason (`OFR`) it gives.
fn spam_verdict_overridden(section: &ExchangeSection) -> Option<Finding> {
    let (scl, meaning) = section.organization_scl.as_ref()?;
    let delivery = section.mailbox_delivery.as_ref()?;
    if *scl < 5 || delivery.destination_name() != Some("Inbox") {
        return None;
    }
    let reason = delivery.reason.as_deref().map_or_else(
        || "It records no override reason (OFR).".to_string(),
        |reason| {
            format!(
                "Its override reason is OFR:{}.",
                crate::report::escape::escape_terminal(reason)
            )
        },
    );
    Some(
        Finding::new(
            "exchange.spam-verdict-overridden",
            Severity::Info,
            "Rated spam, yet delivered to the Inbox",
            format!(
                "X-MS-Exchange-Organization-SCL is {scl} ({meaning}), but X-Microsoft-Antispam-Mailbox-Delivery records dest:I, the Inbox. {reason} An override such as the user's safe senders (TrustedSenderList) or a mailbox rule explains why the user saw the message. Microsoft does not document this field, so dest and OFR are read as they are commonly read."
            ),
        )
        .with_header("X-Microsoft-Antispam-Mailbox-Delivery"),
    )
}

/// Returns `exchange.origin-is-microsoft-relay` when the origin is in Microsoft's published
/// mail ranges. Every Microsoft 365 tenant sends through those relays, so the origin names
/// Microsoft, not the sender. The finding names the address that connected to the sending
/// tenant when that tenant recorded it, and otherwise what points to the tenant.
fn origin_is_microsoft_relay(
    section: &ExchangeSection,
    auth: &AuthSection,
    chain: &RelayChain,
    platforms: &PlatformSection,
) -> Option<Finding> {
    let hop = chain.boundary_hop()?;
    if hop.provider != Some("microsoft") {
        return None;
    }
    let origin_ip = chain.origin()?.ip?;
    let from_tenant = section.connecting_ips.iter().find_map(|record| {
        let ip = record.ip.filter(|ip| *ip != origin_ip)?;
        let tenant = record.tenant_id.as_deref().unwrap_or("not recorded");
        Some((
            ip,
            format!(
                "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp, tenant {tenant}"
            ),
        ))
    });
    let delivered_by_microsoft = delivered_by_microsoft(platforms);
    let recorded = from_tenant.or_else(|| {
        upstream_reports(section, delivered_by_microsoft).find_map(|report| {
            let ip = report.connecting_ip().filter(|ip| *ip != origin_ip)?;
            Some((ip, format!("CIP of {}", report.field_name)))
        })
    });
    let relay = format!(
        "Origin {origin_ip} (hop {}) is in Microsoft's published mail ranges, through which every Microsoft 365 tenant sends, so it names Microsoft, not the sender.",
        hop.index
    );
    // A tenant whose own report marks the message inbound received it from outside and
    // sent it on (a forwarding rule, a redirect): it is a forwarder, not the sender.
    let forwarded = upstream_reports(section, delivered_by_microsoft).any(|report| {
        report
            .get("DIR")
            .is_some_and(|dir| dir.trim().eq_ignore_ascii_case("INB"))
    });
    if let Some((sender_ip, source)) = &recorded
        && forwarded
    {
        return Some(Finding::new(
            "exchange.origin-is-microsoft-relay",
            Severity::Info,
            format!(
                "The origin is a Microsoft outbound relay; the forwarding tenant recorded {sender_ip}"
            ),
            format!(
                "{relay} The tenant that passed the message on recorded {sender_ip} as the address that connected to it ({source}), and its own report marks the message inbound (DIR:INB). So that tenant received the message from {sender_ip} and sent it on, as a forwarding rule or a redirect does: the tenant is a forwarder, and {sender_ip} is the address that sent the message to it."
            ),
        ));
    }
    if let Some((sender_ip, source)) = recorded {
        return Some(Finding::new(
            "exchange.origin-is-microsoft-relay",
            Severity::Info,
            format!(
                "The origin is a Microsoft outbound relay; the sending tenant recorded {sender_ip}"
            ),
            format!(
                "{relay} The tenant that sent the message recorded {sender_ip} as the address that connected to it ({source}). That is the sender's own connection: report it to its network's owner, and the tenant to Microsoft."
            ),
        ));
    }
    let mut clues: Vec<String> = Vec::new();
    if let Some(submission) = chain.hops.iter().find(|h| {
        h.index < hop.index
            && h.received
                .protocol
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case("mapi"))
    }) {
        clues.push(format!(
            "hop {} is a mailbox submission (with mapi), so a mailbox of the sending tenant sent it",
            submission.index
        ));
    }
    let mut tenants: Vec<String> = Vec::new();
    for field in &auth.dkim_signatures {
        if let Some(domain) = field.parsed.d.as_deref().map(str::to_ascii_lowercase)
            && domain.ends_with(".onmicrosoft.com")
            && !tenants.contains(&domain)
        {
            tenants.push(domain);
        }
    }
    if !tenants.is_empty() {
        clues.push(format!(
            "it is DKIM-signed by {}, the initial domain of a Microsoft 365 tenant",
            tenants.join(", ")
        ));
    }
    let clues = if clues.is_empty() {
        String::new()
    } else {
        format!(" What points to the tenant: {}.", clues.join("; "))
    };
    Some(Finding::new(
        "exchange.origin-is-microsoft-relay",
        Severity::Info,
        "The origin is a Microsoft outbound relay; the sender's own address was not recorded",
        format!(
            "{relay} No header that the sending tenant wrote names the address that connected to it.{clues} Report the sending tenant to Microsoft; the relay address leads only to Microsoft."
        ),
    ))
}

/// Returns the Forefront reports of tenants that handled the message before the recipient,
/// newest first. On mail that Microsoft 365 delivered, those are the copies it renamed
/// -Untrusted. On mail that another receiver delivered, the report that kept its name is the
/// last tenant's, the one that sent the message out, and the -Untrusted copies are from
/// tenants before it.
fn upstream_reports(
    section: &ExchangeSection,
    delivered_by_microsoft: bool,
) -> impl Iterator<Item = &ForefrontReport> {
    let kept_name = section
        .forefront
        .iter()
        .filter(move |r| !delivered_by_microsoft && !r.upstream());
    let renamed = section.forefront.iter().filter(|r| r.upstream());
    kept_name.chain(renamed)
}

/// Reports an organisation SCL that is not a level from -1 to 9, so the report does not
/// drop it without a word.
fn invalid_scl(header: &Header) -> Finding {
    Finding::new(
        "exchange.invalid-scl",
        Severity::Low,
        "X-MS-Exchange-Organization-SCL is not a spam confidence level",
        format!(
            "The value {} is not a number from -1 to 9, the levels Exchange writes. Something other than Exchange wrote or changed the field, so it says nothing about Exchange's spam verdict.",
            quoted(header.value.trim())
        ),
    )
    .with_evidence(header.name.clone(), Some(header.line), header.value.clone())
}

/// Reports an organisation SCL written more than once. Exchange writes one; the report
/// reads the first, and the others show that something else added or changed one.
fn repeated_scl(fields: &[&Header]) -> Finding {
    let values: Vec<String> = fields.iter().map(|h| quoted(h.value.trim())).collect();
    let mut finding = Finding::new(
        "exchange.invalid-scl",
        Severity::Low,
        "X-MS-Exchange-Organization-SCL appears more than once",
        format!(
            "The field appears {} times with the values {}. Exchange writes it once, so something other than Exchange added the others; the report reads the first.",
            fields.len(),
            values.join(", ")
        ),
    );
    for header in fields {
        finding =
            finding.with_evidence(header.name.clone(), Some(header.line), header.value.clone());
    }
    finding
}

/// Returns the trusted Forefront report: the recipient's own, not an -Untrusted copy.
fn own_forefront(section: &ExchangeSection) -> Option<&ForefrontReport> {
    section.forefront.iter().find(|r| !r.upstream())
}

fn check_cip(
    section: &ExchangeSection,
    chain: &RelayChain,
    platforms: &PlatformSection,
) -> Option<Finding> {
    // A placeholder CIP records no connecting host, so there is nothing to compare.
    let report = own_forefront(section)?;
    let cip = report.connecting_ip()?;

    // When Microsoft 365 delivered the message, its report belongs to the recipient and the
    // first external hop is where the recipient's edge received it. Otherwise the report
    // kept its plain name because the tenant that wrote it sent the message on to another
    // platform, so it describes that tenant's own edge hop.
    let (hop_ip, place) = if delivered_by_microsoft(platforms) {
        let origin = chain.origin()?;
        (origin.ip?, "the first external Received hop")
    } else {
        let edge = newest_edge_hop(chain)?;
        (
            edge.received.from_ip?,
            "the Received hop where the upstream tenant's Exchange Online edge took the message",
        )
    };
    if cip == hop_ip {
        return None;
    }
    Some(
        Finding::new(
            "exchange.cip-hop-mismatch",
            Severity::Medium,
            "Connecting IP recorded by Exchange differs from the hop it received",
            format!(
                "X-Forefront-Antispam-Report says the message came from {cip}, but {place} names {hop_ip}. A hop was forged, added or removed, or an on-premises connector relayed it."
            ),
        )
        .with_header("X-Forefront-Antispam-Report"),
    )
}

/// Returns the newest hop received by an Exchange Online Protection edge server
/// (`*.mail.protection.outlook.com`), where a tenant's Forefront report records `CIP`.
fn newest_edge_hop(chain: &RelayChain) -> Option<&Hop> {
    chain.hops.iter().rev().find(|hop| {
        hop.received.by_host.as_deref().is_some_and(|by| {
            by.trim_end_matches('.')
                .to_ascii_lowercase()
                .ends_with(".mail.protection.outlook.com")
        })
    })
}

/// Builds `exchange.upstream-verdict` when an upstream Microsoft 365 tenant classified the
/// message as a threat: a protection category other than NONE, a spam verdict, or a failed
/// composite authentication. Those stamps are not the recipient's, so the score ignores
/// them, but they are what Microsoft concluded before the message was sent on.
pub fn upstream_verdict(
    section: &ExchangeSection,
    block: &HeaderBlock,
    auth: &AuthSection,
    platforms: &PlatformSection,
) -> Option<Finding> {
    let delivered_by_microsoft = delivered_by_microsoft(platforms);
    let report = upstream_reports(section, delivered_by_microsoft).next()?;
    let category = report.get("CAT").map(|v| v.trim().to_ascii_uppercase());
    let verdict = report.get("SFV").map(|v| v.trim().to_ascii_uppercase());
    let compauth = upstream_compauth(block, auth, delivered_by_microsoft);

    // Step 1: keep only a classification that marks the message as a threat or spam.
    let threat_category = category
        .as_deref()
        .is_some_and(|c| !c.is_empty() && c != "NONE");
    let spam_verdict = verdict
        .as_deref()
        .is_some_and(|v| matches!(v, "SPM" | "SKS" | "SKB" | "BLK"));
    let compauth_failed = compauth
        .as_ref()
        .is_some_and(|(result, _)| result == "fail" || result == "softfail");
    if !threat_category && !spam_verdict && !compauth_failed {
        return None;
    }

    // Step 2: describe each recorded value with its documented meaning, and name the
    // ones the tenant did not record.
    let meaning = |key: &str| {
        report
            .describe()
            .into_iter()
            .find(|pair| pair.key.eq_ignore_ascii_case(key))
            .map(|pair| match pair.meaning {
                Some(meaning) => format!("{} ({meaning})", pair.value),
                None => pair.value,
            })
    };
    let mut recorded = Vec::new();
    let mut missing = Vec::new();
    for (key, label) in [("CAT", "category"), ("SFV", "spam verdict")] {
        match meaning(key) {
            Some(value) => recorded.push(format!("{label} {key}:{value}")),
            None => missing.push(format!("{label} ({key})")),
        }
    }
    let mut phrases = Vec::new();
    if !recorded.is_empty() {
        phrases.push(format!("{} in {}", join_and(&recorded), report.field_name));
    }
    match &compauth {
        Some((result, reason)) => {
            let reason = reason
                .as_ref()
                .map_or(String::new(), |reason| format!(" (reason {reason})"));
            phrases.push(format!(
                "compauth={result}{reason} in its Authentication-Results"
            ));
        }
        None => missing.push("compauth result".into()),
    }
    let mut detail = format!(
        "A Microsoft 365 tenant that handled the message before the recipient recorded {}.",
        join_and(&phrases)
    );
    if !missing.is_empty() {
        detail.push_str(&format!(" It recorded no {}.", missing.join(" and no ")));
    }
    detail.push_str(
        " These stamps are not the recipient's own, so they do not count towards the score.",
    );
    Some(
        Finding::new(
            "exchange.upstream-verdict",
            Severity::Info,
            "An upstream Microsoft 365 tenant classified the message",
            detail,
        )
        .with_header(report.field_name.clone()),
    )
}

/// Joins `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Tells whether Microsoft 365 (a business tenant or consumer Outlook.com) delivered the
/// message.
fn delivered_by_microsoft(platforms: &PlatformSection) -> bool {
    platforms
        .final_platform()
        .is_some_and(|p| crate::platform::MICROSOFT_PROFILE_IDS.contains(&p.id.as_str()))
}

/// Returns the upstream tenant's `compauth` result and reason. When Exchange receives the
/// message itself, it renames an upstream tenant's Authentication-Results to
/// Authentication-Results-Original. When another platform delivered the message, the
/// upstream field keeps its name and the authentication pass marks it untrusted.
fn upstream_compauth(
    block: &HeaderBlock,
    auth: &AuthSection,
    delivered_by_microsoft: bool,
) -> Option<(String, Option<String>)> {
    let renamed = block
        .all("Authentication-Results-Original")
        .map(|h| crate::parse::authres::parse_authentication_results(&h.value));
    let untrusted = auth
        .results
        .iter()
        .filter(|f| !delivered_by_microsoft && !f.trusted)
        .filter(|f| f.header.eq_ignore_ascii_case("Authentication-Results"))
        .map(|f| f.parsed.clone());
    renamed.chain(untrusted).find_map(|parsed| {
        parsed
            .results
            .into_iter()
            .find(|r| r.method == "compauth")
            .map(|r| (r.result, r.reason))
    })
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
    let finding = Finding::new(
        "exchange.rogue-connector",
        Severity::High,
        "Mail attributed to an on-premises connector from an undeclared address",
        format!(
            "Exchange Online treated this message as coming from the organisation's own servers ({how}), but it connected from {ip}, which is not a declared connector address. A rogue inbound connector produces exactly this. Declare the organisation's connector addresses with --connector-ip if this is your hybrid server."
        ),
    );
    Some(with_fields(
        finding,
        block,
        &[
            "X-MS-Exchange-CrossTenant-FromEntityHeader",
            "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp",
        ],
    ))
}

/// Adds each of the fields `names` that `block` has to `finding`, as a header and with its
/// value as evidence.
fn with_fields(mut finding: Finding, block: &HeaderBlock, names: &[&str]) -> Finding {
    for name in names {
        if let Some(h) = block.get(name) {
            finding =
                finding
                    .with_header(*name)
                    .with_evidence(*name, Some(h.line), h.value.clone());
        }
    }
    finding
}

/// Flags mail that another Microsoft 365 tenant relayed out from an address on its IP
/// Allow List. The sending tenant's own report records the message as outbound (`DIR:OUT`)
/// from a connecting address outside Microsoft's ranges, and that address skipped spam
/// filtering because it is allow-listed (`IPV:CAL`). A tenant with a rogue or abused
/// inbound connector relays an outside server's mail this way, through Microsoft's
/// outbound servers, where it passes the recipient's SPF checks. The recipient's own
/// FromEntityHeader and AuthAs then read `Internet` and `Anonymous`. A forwarding rule
/// also sends mail out with the original sender's address as CIP, but that address is
/// not allow-listed.
fn tenant_relay(
    block: &HeaderBlock,
    section: &ExchangeSection,
    platforms: &PlatformSection,
) -> Option<Finding> {
    let report = upstream_reports(section, delivered_by_microsoft(platforms)).find(|report| {
        let has = |key: &str, value: &str| {
            report
                .get(key)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
        };
        has("DIR", "OUT") && has("IPV", "CAL")
    })?;

    let ip = report.cip().filter(|ip| {
        !crate::iplist::is_non_public(*ip)
            && !ip.is_unspecified()
            && *ip != IpAddr::from([255, 255, 255, 255])
            && crate::platform::ranges::provider_range(*ip).is_none()
    })?;

    // What the report names about that address, and the tenant's verdicts.
    let value = |key: &str| {
        report
            .get(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(quoted)
    };
    let mut named = Vec::new();
    // Exchange writes `InfoDomainNonexistent` when the address has no reverse DNS name.
    match report.get("PTR").map(str::trim) {
        Some(ptr) if ptr.eq_ignore_ascii_case("InfoDomainNonexistent") => {
            named.push("no reverse DNS name".to_string());
        }
        Some(ptr) if !ptr.is_empty() => named.push(format!("reverse DNS {}", quoted(ptr))),
        _ => {}
    }
    if let Some(helo) = value("H") {
        named.push(format!("HELO {helo}"));
    }
    let named = if named.is_empty() {
        String::new()
    } else {
        format!(" ({})", named.join(", "))
    };
    let verdicts: Vec<String> = ["SFV", "SCL", "CAT"]
        .into_iter()
        .filter_map(|key| Some(format!("{key}:{}", report.get(key)?.trim())))
        .collect();
    let tenant = section
        .connecting_ips
        .iter()
        .find(|c| c.ip == Some(ip))
        .and_then(|c| c.tenant_id.as_deref())
        .map_or(String::new(), |id| format!(" (tenant {})", quoted(id)));

    let finding = Finding::new(
        "exchange.tenant-relay",
        Severity::High,
        "Another Microsoft 365 tenant relayed this message from an allow-listed address",
        format!(
            "The sending tenant's own {} records the message as outbound (DIR:OUT) from {ip}{named}, an address outside Microsoft's ranges, which skipped its spam filtering because the tenant allow-lists it (IPV:CAL); its verdicts: {}. So an outside server handed the message to the tenant{tenant}, and the tenant relayed it out through Microsoft's outbound servers, where it passes SPF for the tenant's domains. A rogue or abused inbound connector does this (the 2022 campaign). Report {ip} to its network's owner and the tenant to Microsoft; the recipient's passing results vouch for Microsoft's relay, not for the sender.",
            report.field_name,
            if verdicts.is_empty() {
                "none recorded".to_string()
            } else {
                verdicts.join(", ")
            }
        ),
    );
    Some(with_fields(
        finding,
        block,
        &[
            report.field_name.as_str(),
            "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp",
        ],
    ))
}

#[cfg(test)]
mod tests {
    use crate::analysis::Report;
    use crate::analysis::test_support::analyse_text;

    /// Builds a message that an upstream Exchange Online tenant received from `edge_ip` and
    /// sent on to a Postfix server, with that tenant's report naming `cip`.
    fn upstream_tenant_message(edge_ip: &str, cip: &str) -> String {
        format!(
            "Received: from mail-out.outbound.protection.outlook.com (mail-out.outbound.protection.outlook.com [198.51.100.20])\n\
             \tby mx.example.net (Postfix) with ESMTPS id 4A1B2C3D\n\
             \tfor <user@example.net>; Mon, 3 Mar 2025 10:00:05 +0000\n\
             Received: from EX1PR01MB0001.prod.outlook.com (2001:db8::2) by\n EX2PR01MB0002.prod.outlook.com (2001:db8::3) with Microsoft SMTP Server id 15.20.1.1; Mon, 3 Mar 2025 10:00:02 +0000\n\
             Received: from sender.example.org ({edge_ip}) by\n AB1EUR01FT001.mail.protection.outlook.com (2001:db8::1) with Microsoft SMTP Server id 15.20.1.1 via Frontend Transport; Mon, 3 Mar 2025 10:00:01 +0000\n\
             Authentication-Results: spf=none (sender IP is {edge_ip}) smtp.mailfrom=example.org; dkim=none (message not signed) header.d=none;dmarc=none action=none header.from=example.org;compauth=fail reason=001\n\
             From: sender@example.org\n\
             To: user@example.net\n\
             Subject: test\n\
             Date: Mon, 3 Mar 2025 09:59:59 +0000\n\
             Message-ID: <1@example.org>\n\
             X-Forefront-Antispam-Report: CIP:{cip};CTRY:;LANG:en;SCL:5;SRV:;IPV:NLI;SFV:SPM;H:sender.example.org;PTR:;CAT:SPOOF;SFS:(13230001);DIR:INB;\n\
             X-MS-Exchange-CrossTenant-Id: 11111111-2222-3333-4444-555555555555\n\
             \n\
             body\n"
        )
    }

    fn finding_ids(report: &Report) -> Vec<&str> {
        report.findings.iter().map(|f| f.id.as_str()).collect()
    }

    fn finding<'a>(report: &'a Report, id: &str) -> &'a crate::finding::Finding {
        report
            .findings
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("{id} not reported: {:?}", finding_ids(report)))
    }

    /// A tenant's own report of an outbound message from an allow-listed outside address
    /// is the relay fingerprint. Inbound mail, a filtered address or one of Microsoft's is
    /// not.
    #[test]
    fn tenant_relay_needs_outbound_allow_listed_outside_address() {
        let relayed = |cip: &str, ipv: &str, dir: &str| {
            let text = upstream_tenant_message(cip, cip)
                .replace("IPV:NLI", &format!("IPV:{ipv}"))
                .replace("DIR:INB", &format!("DIR:{dir}"));
            analyse_text(&text)
        };
        let report = relayed("192.0.2.10", "CAL", "OUT");
        let found = finding(&report, "exchange.tenant-relay");
        assert!(
            found
                .detail
                .contains("from 192.0.2.10 (HELO \"sender.example.org\")"),
            "{}",
            found.detail
        );
        assert!(
            found.detail.contains("SFV:SPM, SCL:5, CAT:SPOOF"),
            "{}",
            found.detail
        );
        assert!(report.spoof.signals.iter().any(|s| s.id == "tenant-relay"));

        // Exchange's placeholder for a missing PTR record is not a name.
        let named = analyse_text(
            &upstream_tenant_message("192.0.2.10", "192.0.2.10")
                .replace("IPV:NLI", "IPV:CAL")
                .replace("DIR:INB", "DIR:OUT")
                .replace("PTR:;", "PTR:InfoDomainNonexistent;"),
        );
        let detail = &finding(&named, "exchange.tenant-relay").detail;
        assert!(
            detail.contains("from 192.0.2.10 (no reverse DNS name, HELO"),
            "{detail}"
        );

        for (cip, ipv, dir) in [
            ("192.0.2.10", "CAL", "INB"),
            ("192.0.2.10", "NLI", "OUT"),
            ("40.107.22.1", "CAL", "OUT"),
            ("255.255.255.255", "CAL", "OUT"),
        ] {
            let report = relayed(cip, ipv, dir);
            assert!(
                !finding_ids(&report).contains(&"exchange.tenant-relay"),
                "{cip} {ipv} {dir}"
            );
        }
    }

    /// A tenant whose report marks the message inbound is named as a forwarder; one that
    /// marks it outbound is the sender.
    #[test]
    fn forwarding_tenant_told_from_sending_tenant() {
        let title = |dir: &str| {
            let text = upstream_tenant_message("192.0.2.10", "192.0.2.10")
                .replace("198.51.100.20", "40.107.22.1")
                .replace("DIR:INB", &format!("DIR:{dir}"));
            finding(&analyse_text(&text), "exchange.origin-is-microsoft-relay")
                .title
                .clone()
        };
        assert!(title("INB").contains("the forwarding tenant recorded 192.0.2.10"));
        assert!(title("OUT").contains("the sending tenant recorded 192.0.2.10"));
    }

    #[test]
    fn upstream_cip_matching_edge_hop() {
        let report = analyse_text(&upstream_tenant_message("192.0.2.10", "192.0.2.10"));
        let ids = finding_ids(&report);
        assert!(!ids.contains(&"exchange.cip-hop-mismatch"), "{ids:?}");
    }

    #[test]
    fn upstream_cip_differing_from_edge_hop() {
        let report = analyse_text(&upstream_tenant_message("192.0.2.10", "203.0.113.7"));
        let finding = finding(&report, "exchange.cip-hop-mismatch");
        assert!(finding.detail.contains("192.0.2.10"), "{}", finding.detail);
        assert!(
            finding.detail.contains("upstream tenant"),
            "{}",
            finding.detail
        );
    }

    #[test]
    fn origin_on_microsoft_relay_names_the_sender() {
        let text = "Received: from NAM12-DM6-obe.outbound.protection.outlook.com (52.100.166.220) by\n SN1NAM02FT0035.mail.protection.outlook.com (2603:10b6:805:66:cafe::9a) with Microsoft SMTP Server id 15.20.1.1; Fri, 27 Oct 2023 20:17:11 +0000\n\
             Received: from sender.example.org (203.0.113.73) by\n MW2NAM12FT013.mail.protection.outlook.com (2603:10b6:a03:40:cafe::60) with Microsoft SMTP Server id 15.20.1.1; Fri, 27 Oct 2023 20:17:09 +0000\n\
             X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp: TenantId=11111111-2222-3333-4444-555555555555;Ip=[203.0.113.73];Helo=[sender.example.org]\n\
             From: a@example.org\n\
             Subject: test\n\
             \n\
             body\n";
        let report = analyse_text(text);
        assert_eq!(
            report.origin.as_ref().and_then(|o| o.ip),
            Some("52.100.166.220".parse().unwrap())
        );
        let finding = finding(&report, "exchange.origin-is-microsoft-relay");
        assert!(finding.title.contains("203.0.113.73"), "{}", finding.title);
        assert!(
            finding
                .detail
                .contains("11111111-2222-3333-4444-555555555555"),
            "{}",
            finding.detail
        );

        // A sender outside Microsoft's ranges is named by the origin itself.
        let report = analyse_text(&upstream_tenant_message("192.0.2.10", "192.0.2.10"));
        assert!(!finding_ids(&report).contains(&"exchange.origin-is-microsoft-relay"));
    }

    /// Analyses a message with `fields` above a plain From, Subject and body.
    fn analyse_fields(fields: &str) -> Report {
        analyse_text(&format!(
            "{fields}From: a@example.org\nSubject: test\n\nbody\n"
        ))
    }

    /// Without a record of the connecting address, the finding still reports the origin as
    /// Microsoft's, and names the mailbox submission and the tenant's signing domain.
    #[test]
    fn origin_on_microsoft_relay_without_record() {
        let fields = "Received: from EUR05-AM6-obe.outbound.protection.outlook.com (mail-am6eur05on2092.outbound.protection.outlook.com [40.107.22.92]) by mx.example.net with ESMTPS id 3; Mon, 25 Mar 2024 10:00:05 +0000\n\
             Received: from AB1PR05MB0001.eurprd05.prod.outlook.com ([fe80::1%5]) by AB1PR05MB0001.eurprd05.prod.outlook.com ([fe80::1%5]) with mapi id 15.20.7409.028; Mon, 25 Mar 2024 10:00:00 +0000\n\
             X-Forefront-Antispam-Report-Untrusted: CIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:AB1PR05MB0001.eurprd05.prod.outlook.com;PTR:;CAT:NONE;DIR:OUT;\n\
             DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=contoso.onmicrosoft.com; s=selector1; h=From:Subject; bh=AAAA; b=BBBB\n";
        let report = analyse_fields(fields);
        let finding = finding(&report, "exchange.origin-is-microsoft-relay");
        assert!(finding.title.contains("not recorded"), "{}", finding.title);
        assert!(
            finding.detail.contains("40.107.22.92"),
            "{}",
            finding.detail
        );
        assert!(
            finding.detail.contains("hop 1 is a mailbox submission"),
            "{}",
            finding.detail
        );
        assert!(
            finding.detail.contains("contoso.onmicrosoft.com"),
            "{}",
            finding.detail
        );
        assert!(
            !finding.detail.contains("255.255.255.255"),
            "{}",
            finding.detail
        );
    }

    /// A receiver outside Microsoft 365 does not write X-Forefront-Antispam-Report, so the
    /// plain report there is the sending tenant's, and its CIP names the sender.
    #[test]
    fn plain_report_names_sender_outside_microsoft() {
        let fields = "Received: from NAM12-DM6-obe.outbound.protection.outlook.com (mail-dm6nam12lp2168.outbound.protection.outlook.com [104.47.59.168]) by mx.example.net with ESMTPS id 3; Sun, 19 Feb 2023 23:02:12 +0000\n\
             Received: from sender.example.org (203.0.113.197) by BN1NAM02FT003.mail.protection.outlook.com (10.13.2.130) with Microsoft SMTP Server id 15.20.1; Sun, 19 Feb 2023 23:02:07 +0000\n\
             X-Forefront-Antispam-Report: CIP:203.0.113.197;CTRY:NL;LANG:en;SCL:5;SRV:;IPV:NLI;SFV:SPM;H:sender.example.org;PTR:sender.example.org;CAT:SPOOF;DIR:INB;\n";
        let report = analyse_fields(fields);
        let finding = finding(&report, "exchange.origin-is-microsoft-relay");
        assert!(finding.title.contains("203.0.113.197"), "{}", finding.title);
        assert!(
            finding
                .detail
                .contains("CIP of X-Forefront-Antispam-Report"),
            "{}",
            finding.detail
        );
    }

    /// A message that one tenant received, and a second tenant received again and sent to a
    /// receiver outside Microsoft 365: the second tenant's report kept its name and is the
    /// newest, the first tenant's copy was renamed -Untrusted. The sender and the upstream
    /// verdict come from the newest report, wherever the fields sit.
    #[test]
    fn sending_tenant_report_preferred_over_older_copy() {
        let fields = "Received: from NAM12-BN8-obe.outbound.protection.outlook.com (mail-bn8nam12lp2172.outbound.protection.outlook.com [104.47.55.172]) by mx.example.net with ESMTPS id 3; Thu, 23 Feb 2023 03:04:16 +0000\n\
             Received: from relay.example.org (203.0.113.157) by DM3NAM02FT050.mail.protection.outlook.com (10.13.5.53) with Microsoft SMTP Server id 15.20.1; Thu, 23 Feb 2023 03:04:11 +0000\n\
             X-Forefront-Antispam-Report-Untrusted: CIP:198.51.100.201;CTRY:US;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:news.example.com;PTR:news.example.com;CAT:NONE;DIR:INB;\n\
             X-Forefront-Antispam-Report: CIP:203.0.113.157;CTRY:US;LANG:en;SCL:5;SRV:;IPV:NLI;SFV:SPM;H:relay.example.org;PTR:relay.example.org;CAT:SPOOF;DIR:INB;\n";
        let report = analyse_fields(fields);
        let relay = finding(&report, "exchange.origin-is-microsoft-relay");
        assert!(relay.title.contains("203.0.113.157"), "{}", relay.title);
        let verdict = finding(&report, "exchange.upstream-verdict");
        assert!(verdict.detail.contains("CAT:SPOOF"), "{}", verdict.detail);
        assert!(!verdict.detail.contains("-Untrusted"), "{}", verdict.detail);
    }

    /// A spam rating with delivery to the Inbox names the override; Junk Email does not.
    #[test]
    fn spam_verdict_override_reported() {
        let message = |scl: &str, delivery: &str| {
            analyse_fields(&format!(
                "Received: from mail.example.org (198.51.100.7) by AB1EUR01FT001.mail.protection.outlook.com (10.152.0.1) with Microsoft SMTP Server id 15.20.1; Mon, 3 Mar 2025 10:00:01 +0000\n\
                 X-MS-Exchange-Organization-SCL: {scl}\n\
                 X-Microsoft-Antispam-Mailbox-Delivery: abwl:0;wl:1;pcwl:1;auth:0;{delivery}\n"
            ))
        };
        let report = message("5", "dest:I;OFR:TrustedSenderList;");
        let finding = finding(&report, "exchange.spam-verdict-overridden");
        assert!(finding.detail.contains("SCL is 5"), "{}", finding.detail);
        assert!(
            finding.detail.contains("OFR:TrustedSenderList"),
            "{}",
            finding.detail
        );

        for (scl, delivery) in [
            ("5", "dest:J;OFR:SpamFilterAuthJ;RF:JunkEmail;"),
            ("1", "dest:I;OFR:TrustedSenderList;"),
        ] {
            let report = message(scl, delivery);
            let ids = finding_ids(&report);
            assert!(
                !ids.contains(&"exchange.spam-verdict-overridden"),
                "{scl} {delivery}: {ids:?}"
            );
        }
    }

    #[test]
    fn invalid_scl_reported() {
        let fields = "Received: from mail.example.org (198.51.100.7) by AB1EUR01FT001.mail.protection.outlook.com (10.152.0.1) with Microsoft SMTP Server id 15.20.1; Mon, 3 Mar 2025 10:00:01 +0000\n";
        let report = analyse_fields(&format!("{fields}X-MS-Exchange-Organization-SCL: abc\n"));
        assert_eq!(report.exchange.organization_scl, None);
        let finding = finding(&report, "exchange.invalid-scl");
        assert!(finding.detail.contains("\"abc\""), "{}", finding.detail);

        let report = analyse_fields(&format!("{fields}X-MS-Exchange-Organization-SCL: 5\n"));
        assert_eq!(
            report.exchange.organization_scl,
            Some((5, "spam".to_string()))
        );
        assert!(!finding_ids(&report).contains(&"exchange.invalid-scl"));

        for value in ["+5", "05", "-0", "-2", "10"] {
            let report = analyse_fields(&format!(
                "{fields}X-MS-Exchange-Organization-SCL: {value}\n"
            ));
            assert_eq!(report.exchange.organization_scl, None, "{value}");
            assert!(
                finding_ids(&report).contains(&"exchange.invalid-scl"),
                "{value}"
            );
        }

        let report = analyse_fields(&format!(
            "{fields}X-MS-Exchange-Organization-SCL: -1\nX-MS-Exchange-Organization-SCL: 9\n"
        ));
        let repeated = self::finding(&report, "exchange.invalid-scl");
        assert!(repeated.detail.contains("2 times"), "{}", repeated.detail);
    }

    #[test]
    fn placeholder_cip_is_not_compared() {
        let report = analyse_text(&upstream_tenant_message("192.0.2.10", "255.255.255.255"));
        let ids = finding_ids(&report);
        assert!(!ids.contains(&"exchange.cip-hop-mismatch"), "{ids:?}");
    }

    #[test]
    fn upstream_verdict_shown_not_scored() {
        let report = analyse_text(&upstream_tenant_message("192.0.2.10", "192.0.2.10"));
        let finding = finding(&report, "exchange.upstream-verdict");
        assert_eq!(finding.severity, crate::finding::Severity::Info);
        assert!(finding.detail.contains("CAT:SPOOF"), "{}", finding.detail);
        assert!(finding.detail.contains("SFV:SPM"), "{}", finding.detail);
        assert!(
            finding.detail.contains("compauth=fail"),
            "{}",
            finding.detail
        );
        assert!(
            report
                .spoof
                .signals
                .iter()
                .all(|s| !s.detail.contains("SPOOF")),
            "{:?}",
            report.spoof.signals
        );
    }

    #[test]
    fn upstream_clean_verdict_not_shown() {
        let text = upstream_tenant_message("192.0.2.10", "192.0.2.10")
            .replace("SFV:SPM", "SFV:NSPM")
            .replace("CAT:SPOOF", "CAT:NONE")
            .replace("compauth=fail", "compauth=pass");
        let report = analyse_text(&text);
        let ids = finding_ids(&report);
        assert!(!ids.contains(&"exchange.upstream-verdict"), "{ids:?}");
    }

    /// The case the check was made for: the recipient's own Exchange Online recorded a
    /// connecting IP that the hop into its edge does not show.
    #[test]
    fn recipient_cip_differing_from_first_external_hop() {
        let text = "Received: from EX1PR01MB0001.prod.outlook.com (2001:db8::2) by\n EX2PR01MB0002.prod.outlook.com (2001:db8::3) with Microsoft SMTP Server id 15.20.1.1; Mon, 3 Mar 2025 10:00:02 +0000\n\
             Received: from mail.example.org (198.51.100.30) by\n AB1EUR01FT001.mail.protection.outlook.com (2001:db8::1) with Microsoft SMTP Server id 15.20.1.1 via Frontend Transport; Mon, 3 Mar 2025 10:00:01 +0000\n\
             From: sender@example.org\n\
             To: user@example.com\n\
             Subject: test\n\
             Date: Mon, 3 Mar 2025 09:59:59 +0000\n\
             Message-ID: <1@example.org>\n\
             X-Forefront-Antispam-Report: CIP:203.0.113.7;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:mail.example.org;PTR:;CAT:NONE;SFS:(13230001);DIR:INB;\n\
             X-MS-Exchange-CrossTenant-Id: 11111111-2222-3333-4444-555555555555\n\
             \n\
             body\n";
        let report = analyse_text(text);
        let finding = finding(&report, "exchange.cip-hop-mismatch");
        assert!(
            finding.detail.contains("first external"),
            "{}",
            finding.detail
        );
        assert!(
            finding.detail.contains("198.51.100.30"),
            "{}",
            finding.detail
        );
    }
}
