//! Receiving platforms: which platforms handled a message, which one delivered it, and
//! which of the headers that platform always writes are missing.
//!
//! The profiles live in `profiles.toml` (one per platform, each header with its evidence)
//! and the providers' published address ranges in [`ranges`]. Only the *final* receiving
//! platform's always-written headers are checked. Exchange's header firewall removes or
//! renames an upstream tenant's stamps (`-Untrusted`, `-Original`,
//! `X-MS-Exchange-Organization-*`), so what earlier platforms wrote is never expected.

pub mod gateways;
pub mod profiles;
pub mod ranges;

use crate::analysis::auth::AuthSection;
use crate::analysis::chain::RelayChain;
use crate::finding::{Finding, Severity};
use crate::headers::HeaderBlock;
use gateways::GatewaySummary;
use profiles::{AlwaysHeader, HeaderClass, Profile, Role};
use serde::Serialize;
use std::net::IpAddr;

/// Ids of the profiles of Microsoft 365's receiving path. Both rename an upstream tenant's
/// stamps (`-Untrusted`, `-Original`), so a plain X-Forefront-Antispam-Report on a message
/// that one of them delivered is the recipient's own.
pub const MICROSOFT_PROFILE_IDS: &[&str] = &["exchange-online", "outlook-consumer"];

/// A platform recognised on the message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecognisedPlatform {
    /// Profile id, such as `exchange-online` or `gmail`.
    pub id: String,
    pub name: String,
    /// `final` for the platform that delivered the message, `upstream` for one that handled
    /// it earlier, `gateway` for a filtering gateway.
    pub position: &'static str,
    /// Evidence of the platform: the hops and headers that show it.
    pub recognised_by: Vec<String>,
    /// Recognised from hops older than the first external hop, which the sending side added
    /// before the message reached the recipient's systems.
    pub sender_side: bool,
}

/// Result of the platform pass for one message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlatformSection {
    /// Platforms in the order they handled the message, the final one last.
    pub platforms: Vec<RecognisedPlatform>,
    /// Always-written headers of the final platform that are absent (not reported when the
    /// profile is recognise-only).
    pub missing: Vec<String>,
    pub gateways: Vec<GatewaySummary>,
}

impl PlatformSection {
    /// Returns the platform that delivered the message, when one was recognised.
    pub fn final_platform(&self) -> Option<&RecognisedPlatform> {
        self.platforms.iter().find(|p| p.position == "final")
    }
}

/// Recognises the platforms of `block` and lists the final platform's missing headers.
pub fn read_platforms(
    block: &HeaderBlock,
    chain: &RelayChain,
    auth: &AuthSection,
    profiles: &[Profile],
) -> PlatformSection {
    let mut section = PlatformSection::default();

    // Step 1: every platform whose receiving host appears in the chain, oldest first. The
    // top-most X-MS-Exchange-CrossTenant-Id names the recipient's tenant, so it only selects
    // the profile of hops from the first external hop on. Older hops belong to the sending
    // side, such as an Exchange Online tenant that sent the message out, and get their own
    // entry.
    let recipient_tenant = block.value("X-MS-Exchange-CrossTenant-Id");
    let sender_tenant = sender_side_tenant(block, chain, profiles);
    for hop in &chain.hops {
        let Some(by) = hop.received.by_host.as_deref() else {
            continue;
        };
        let Some(profile) = profiles.iter().find(|p| p.receives_at(by)) else {
            continue;
        };
        let sender_side = chain.boundary.is_some_and(|boundary| hop.index < boundary);
        let tenant = if sender_side {
            sender_tenant
        } else {
            recipient_tenant
        };
        let profile = select_tenant_profile(profile, tenant, profiles);
        let evidence = format!("Received hop {} by {by}", hop.index);
        add_platform(&mut section, profile, evidence, sender_side);
    }

    // Step 2: the final platform, from the newest hop that names its receiving host, or
    // from the platform's stamps when no Received field names one.
    let final_profile =
        final_by_hop(chain, block, profiles).or_else(|| final_by_stamps(block, profiles));
    if let Some((profile, how)) = final_profile {
        mark_final(&mut section, profile, how);
        if profile.check {
            section.missing = missing_always(profile, block, auth);
        }
    }

    // Step 3: gateways recognised by their stamps.
    let gateways = gateways::summarise(block, chain);
    for gateway in &gateways {
        if let Some(profile) = profiles.iter().find(|p| p.id == gateway.profile_id)
            && !section.platforms.iter().any(|p| p.id == profile.id)
        {
            add_platform(
                &mut section,
                profile,
                format!("{} headers", gateway.vendor),
                false,
            );
        }
    }
    section.gateways = gateways;
    section
}

/// Returns the X-MS-Exchange-CrossTenant-Id of the tenant that sent the message, for the
/// hops older than the first external hop.
///
/// When Microsoft 365 delivered the message, the top-most value is the recipient's. The
/// sending tenant's value is the bottom-most one when more than one survived. Exchange
/// usually strips it at the boundary, and then the family default (the business tenant)
/// applies. When another platform delivered the message, every value is the sending side's.
///
/// NOTE: a consumer Outlook.com sender whose value was stripped is listed as a business
/// tenant, because no surviving header distinguishes the two.
fn sender_side_tenant<'a>(
    block: &'a HeaderBlock,
    chain: &RelayChain,
    profiles: &[Profile],
) -> Option<&'a str> {
    let values: Vec<&str> = block
        .all("X-MS-Exchange-CrossTenant-Id")
        .map(|h| h.value.as_str())
        .collect();
    let delivered_by_microsoft = final_by_hop(chain, block, profiles)
        .is_some_and(|(profile, _)| MICROSOFT_PROFILE_IDS.contains(&profile.id.as_str()));
    match values.as_slice() {
        [] => None,
        [only] if !delivered_by_microsoft => Some(only),
        [_] => None,
        [.., oldest] => Some(oldest),
    }
}

/// Picks the Exchange profile whose tenant id matches `tenant` (an
/// X-MS-Exchange-CrossTenant-Id value), or the family default (the profile without a
/// tenant id) when none matches.
fn select_tenant_profile<'a>(
    profile: &'a Profile,
    tenant: Option<&str>,
    profiles: &'a [Profile],
) -> &'a Profile {
    let family: Vec<&Profile> = profiles
        .iter()
        .filter(|p| p.receiving_hosts == profile.receiving_hosts)
        .collect();
    let tenant = tenant.map(|v| v.trim().to_ascii_lowercase());
    let by_tenant = family.iter().find(|p| {
        p.tenant_id
            .as_deref()
            .is_some_and(|id| Some(id.to_ascii_lowercase()) == tenant)
    });
    let default = family.iter().find(|p| p.tenant_id.is_none());
    by_tenant.or(default).copied().unwrap_or(profile)
}

fn add_platform(
    section: &mut PlatformSection,
    profile: &Profile,
    evidence: String,
    sender_side: bool,
) {
    let position = match profile.role {
        Role::Gateway => "gateway",
        Role::Mailbox => "upstream",
    };
    if let Some(existing) = section
        .platforms
        .iter_mut()
        .find(|p| p.id == profile.id && p.sender_side == sender_side)
    {
        if !existing.recognised_by.contains(&evidence) {
            existing.recognised_by.push(evidence);
        }
        return;
    }
    section.platforms.push(RecognisedPlatform {
        id: profile.id.clone(),
        name: profile.name.clone(),
        position,
        recognised_by: vec![evidence],
        sender_side,
    });
}

fn mark_final(section: &mut PlatformSection, profile: &Profile, how: String) {
    add_platform(section, profile, how, false);
    if let Some(index) = section
        .platforms
        .iter()
        .position(|p| p.id == profile.id && !p.sender_side)
    {
        let mut platform = section.platforms.remove(index);
        platform.position = "final";
        section.platforms.push(platform);
    }
}

/// Walks the hops newest first: hops whose by-host is an address literal (Gmail's internal
/// `by 2002:...` hops) are skipped, and the first named by-host decides. A named host that
/// matches no mailbox profile means the message was delivered elsewhere.
fn final_by_hop<'a>(
    chain: &RelayChain,
    block: &HeaderBlock,
    profiles: &'a [Profile],
) -> Option<(&'a Profile, String)> {
    for hop in chain.hops.iter().rev() {
        let Some(by) = hop.received.by_host.as_deref() else {
            continue;
        };
        if is_address_literal(by) {
            continue;
        }
        let profile = profiles
            .iter()
            .find(|p| p.role == Role::Mailbox && p.receives_at(by))?;
        let tenant = block.value("X-MS-Exchange-CrossTenant-Id");
        let profile = select_tenant_profile(profile, tenant, profiles);
        return Some((profile, format!("newest named hop {} by {by}", hop.index)));
    }
    None
}

/// Recognises the final platform by its stamps when no Received field names it (for
/// instance because a transport rule deleted them all). Gmail is tried first, so its
/// delivery stamps win over the cross-tenant stamps of an Exchange tenant that sent the mail.
fn final_by_stamps<'a>(
    block: &HeaderBlock,
    profiles: &'a [Profile],
) -> Option<(&'a Profile, String)> {
    if block.contains("Received") {
        // The newest named hop already decided, even if it named no known platform.
        return None;
    }
    let mailbox_profiles = profiles.iter().filter(|p| p.role == Role::Mailbox);
    let mut candidates: Vec<(&Profile, &Vec<String>)> = Vec::new();
    for profile in mailbox_profiles {
        if let Some(group) = profile
            .stamps
            .iter()
            .find(|group| group.iter().all(|name| block.contains(name)))
        {
            candidates.push((profile, group));
        }
    }
    // Exchange's cross-tenant stamps survive on mail that an Exchange tenant sent to Gmail,
    // so Gmail's group (which needs two headers) is checked first.
    candidates.sort_by_key(|(p, _)| if p.id == "gmail" { 0 } else { 1 });
    let (profile, group) = candidates.first()?;
    let tenant = block.value("X-MS-Exchange-CrossTenant-Id");
    let profile = select_tenant_profile(profile, tenant, profiles);
    Some((
        profile,
        format!("{} (no Received field names a host)", group.join(" and ")),
    ))
}

fn is_address_literal(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_prefix("IPv6:").unwrap_or(host);
    host.parse::<IpAddr>().is_ok()
}

/// Lists the profile's always-written headers that `block` lacks.
fn missing_always(profile: &Profile, block: &HeaderBlock, auth: &AuthSection) -> Vec<String> {
    profile
        .always
        .iter()
        .filter(|always| !always_present(always, block, auth))
        .map(describe_always)
        .collect()
}

/// Tells whether the platform wrote a field of `always`. A result field the sender wrote
/// (below the trust boundary) does not stand in for the receiver's own.
fn always_present(always: &AlwaysHeader, block: &HeaderBlock, auth: &AuthSection) -> bool {
    always.headers.iter().any(|name| {
        block
            .all(name)
            .filter(|h| auth.stamped_by_recipient(h))
            .any(|h| {
                always.contains.is_empty()
                    || always
                        .contains
                        .iter()
                        .any(|text| crate::parse::ascii::contains_ci(&h.value, text))
            })
    })
}

/// Names an always-written header entry: its header names joined with "or", and the text
/// the value must contain when the entry requires one (a Received field is present, but
/// not the one from the platform's edge).
pub fn describe_always(always: &AlwaysHeader) -> String {
    let names = always.headers.join(" or ");
    if always.contains.is_empty() {
        names
    } else {
        format!(
            "{names} containing \"{}\"",
            always.contains.join("\" or \"")
        )
    }
}

/// Describes how many of the always-written headers are absent, with the verb in number.
fn absent_count(count: usize) -> String {
    let verb = if count == 1 { "is" } else { "are" };
    format!("{count} of them {verb} absent")
}

/// Builds `stripped.profile` for the final platform's missing always-written headers.
///
/// Severity is high when two or more authentication or routing headers are gone, medium
/// otherwise. When `stripped.exchange-transport-rules` already reported the same deletions,
/// the finding is kept at info so the two do not count twice.
pub fn profile_finding(
    section: &PlatformSection,
    findings: &[Finding],
    profiles: &[Profile],
) -> Option<Finding> {
    let platform = section.final_platform()?;
    let profile = profiles.iter().find(|p| p.id == platform.id)?;
    if section.missing.is_empty() {
        return None;
    }
    let missing_profile_entries: Vec<&AlwaysHeader> = profile
        .always
        .iter()
        .filter(|a| section.missing.contains(&describe_always(a)))
        .collect();
    let auth_or_routing = missing_profile_entries
        .iter()
        .filter(|a| matches!(a.class, HeaderClass::Auth | HeaderClass::Routing))
        .count();
    let already_reported = findings
        .iter()
        .any(|f| f.id == "stripped.exchange-transport-rules");
    let severity = if already_reported {
        Severity::Info
    } else if auth_or_routing >= 2 {
        Severity::High
    } else {
        Severity::Medium
    };
    let overlap = if already_reported {
        " stripped.exchange-transport-rules already reports these deletions, so this finding only names the platform."
    } else {
        ""
    };
    let mut finding = Finding::new(
        "stripped.profile",
        severity,
        format!("Headers that {} always writes are missing", platform.name),
        format!(
            "{} delivered this message ({}), and it writes {} headers on every message it receives, but {}: {}. A transport rule, a relay or an export removed them.{overlap}",
            platform.name,
            platform
                .recognised_by
                .last()
                .map(String::as_str)
                .unwrap_or("recognised"),
            profile.always.len(),
            absent_count(section.missing.len()),
            section.missing.join(", ")
        ),
    );
    for entry in missing_profile_entries {
        for name in &entry.headers {
            finding = finding.with_header(name.clone());
        }
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use crate::analysis::test_support::analyse_text;

    /// A business tenant's user sent the message from Outlook (a `mapi` hop), and the tenant
    /// relayed it out to a consumer Outlook.com mailbox.
    const TENANT_TO_CONSUMER: &str = "Received: from CO1PR19MB0002.namprd19.prod.outlook.com (2001:db8::5)\n by CO1PR19MB0003.namprd19.prod.outlook.com with HTTPS; Mon, 3 Mar 2025 10:00:06 +0000\n\
        Received: from AB1EUR01FT001.eop-eur01.prod.protection.outlook.com (2001:db8::4) by\n CO1PR19MB0002.namprd19.prod.outlook.com (2001:db8::5) with Microsoft SMTP Server id 15.20.1.1; Mon, 3 Mar 2025 10:00:05 +0000\n\
        Received: from EUR01-AB1-obe.outbound.protection.outlook.com (198.51.100.40) by\n AB1EUR01FT001.mail.protection.outlook.com (2001:db8::4) with Microsoft SMTP Server id 15.20.1.1 via Frontend Transport; Mon, 3 Mar 2025 10:00:04 +0000\n\
        Received: from WA1P291MB0001.POLP291.PROD.OUTLOOK.COM (2001:db8::2) by\n WA0P291MB0002.POLP291.PROD.OUTLOOK.COM (2001:db8::3) with Microsoft SMTP Server id 15.20.1.1; Mon, 3 Mar 2025 10:00:02 +0000\n\
        Received: from WA1P291MB0001.POLP291.PROD.OUTLOOK.COM ([fe80::1]) by\n WA1P291MB0001.POLP291.PROD.OUTLOOK.COM ([fe80::1%3]) with mapi id 15.20.1.1; Mon, 3 Mar 2025 10:00:01 +0000\n\
        From: sender@example.org\n\
        To: user@example.com\n\
        Subject: test\n\
        Date: Mon, 3 Mar 2025 09:59:59 +0000\n\
        Message-ID: <1@example.org>\n\
        X-Forefront-Antispam-Report-Untrusted: CIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:WA1P291MB0001.POLP291.PROD.OUTLOOK.COM;PTR:;CAT:NONE;SFS:(13230001);DIR:OUT;\n\
        X-MS-Exchange-CrossTenant-Id: 84df9e7f-e9f6-40af-b435-aaaaaaaaaaaa\n\
        \n\
        body\n";

    #[test]
    fn absent_count_agrees_in_number() {
        assert_eq!(super::absent_count(1), "1 of them is absent");
        assert_eq!(super::absent_count(2), "2 of them are absent");
    }

    #[test]
    fn sending_tenant_hops_listed_upstream() {
        let report = analyse_text(TENANT_TO_CONSUMER);
        let platforms: Vec<(&str, &str, usize)> = report
            .platforms
            .platforms
            .iter()
            .map(|p| (p.id.as_str(), p.position, p.recognised_by.len()))
            .collect();
        assert_eq!(
            platforms,
            [
                ("exchange-online", "upstream", 2),
                ("outlook-consumer", "final", 4)
            ]
        );
        let upstream = &report.platforms.platforms[0];
        assert!(
            upstream.recognised_by[0].contains("WA1P291MB0001"),
            "{:?}",
            upstream.recognised_by
        );
    }

    #[test]
    fn business_tenant_to_business_tenant_listed_twice() {
        let text = TENANT_TO_CONSUMER.replace(
            "84df9e7f-e9f6-40af-b435-aaaaaaaaaaaa",
            "11111111-2222-3333-4444-555555555555",
        );
        let report = analyse_text(&text);
        let platforms: Vec<(&str, &str)> = report
            .platforms
            .platforms
            .iter()
            .map(|p| (p.id.as_str(), p.position))
            .collect();
        assert_eq!(
            platforms,
            [
                ("exchange-online", "upstream"),
                ("exchange-online", "final")
            ]
        );
    }
}
