//! Relay chain: Received fields become hops ordered oldest first, with UTC timestamps,
//! signed delays, continuity checks and the trust boundary that yields the origin IP.

use crate::analysis::sender::org_domain;
use crate::config::AnalysisConfig;
use crate::finding::{Finding, Severity};
use crate::headers::{Header, HeaderBlock};
use crate::iplist::is_non_public;
use crate::parse::ascii::ends_with_ci;
use crate::parse::received::{Received, parse_received};
use crate::platform::ranges::provider_range;
use crate::report::escape::quoted;
use serde::Serialize;
use std::net::IpAddr;

/// One relay hop: a parsed Received field and what the analysis concluded about it.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    /// 1 for the oldest (bottom-most) Received field.
    pub index: usize,
    pub received: Received,
    /// Seconds since the previous (older) hop; negative means clock skew.
    pub delay_seconds: Option<f64>,
    /// Added by the recipient's own systems (above the trust boundary).
    pub internal: bool,
    /// Rebuilt from a Received field that an injected line split in two.
    pub reconstructed: bool,
    /// Provider whose published mail range contains the sending address (`microsoft`,
    /// `google`): provider infrastructure, which is not necessarily the recipient's own.
    pub provider: Option<&'static str>,
    /// Line of the Received field in the message.
    pub line: usize,
    pub raw: String,
}

/// The first external hop's address: where the message entered the recipient's systems.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Origin {
    pub ip: Option<IpAddr>,
    /// Index of the hop it comes from, when it comes from a Received field.
    pub hop: Option<usize>,
    /// Place the address was read from: `received` or the header name.
    pub source: String,
}

/// The relay chain of one message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RelayChain {
    pub hops: Vec<Hop>,
    /// Index of the first external hop, counted from the oldest.
    pub boundary: Option<usize>,
    pub findings: Vec<Finding>,
    /// Index of the newest hop of an earlier delivery, when the message was stored and
    /// sent again (`chain.resent-after-gap`): hops up to it belong to that delivery.
    #[serde(skip)]
    pub earlier_delivery: Option<usize>,
}

impl RelayChain {
    /// Returns the first external hop.
    pub fn boundary_hop(&self) -> Option<&Hop> {
        let index = self.boundary?;
        self.hops.iter().find(|hop| hop.index == index)
    }

    /// Returns the origin found in the Received chain.
    pub fn origin(&self) -> Option<Origin> {
        let hop = self.boundary_hop()?;
        Some(Origin {
            ip: hop
                .received
                .from_ip
                .or_else(|| literal_ip(hop.received.from_host.as_deref())),
            hop: Some(hop.index),
            source: "received".into(),
        })
    }
}

/// Moves the trust boundary below a filtering gateway that the recipient's receiver trusts,
/// and returns the finding that explains the move.
///
/// A receiver set up to skip its inbound gateway (Enhanced Filtering in Exchange Online, an
/// inbound gateway in Google Workspace) checks SPF for the address that handed the message
/// to the gateway and records it in a trusted Received-SPF field. The move needs that
/// address to be the sender of an older hop. Every hop from there up to the boundary must be
/// received by a host in the gateway's organisational domain, and the boundary hop must come
/// from one. The origin is then the address the receiver checked.
pub fn move_boundary_behind_gateway(
    chain: &mut RelayChain,
    spf_client_ips: &[IpAddr],
) -> Option<Finding> {
    let boundary = chain.boundary?;
    let edge = chain.boundary_hop()?;
    let edge_ip = edge.received.from_ip?;
    let edge_sender = edge
        .received
        .from_rdns
        .as_deref()
        .or(edge.received.from_host.as_deref())?;
    let gateway_domain = org_domain(edge_sender.trim_end_matches('.'))?;
    let in_gateway = |host: Option<&str>| {
        host.and_then(|h| org_domain(h.trim_end_matches('.')))
            .is_some_and(|d| d == gateway_domain)
    };
    for ip in spf_client_ips.iter().filter(|ip| **ip != edge_ip) {
        let Some(entry) = chain
            .hops
            .iter()
            .rev()
            .find(|hop| hop.index < boundary && hop.received.from_ip == Some(*ip))
        else {
            continue;
        };
        let entry_index = entry.index;
        let through_gateway = chain
            .hops
            .iter()
            .filter(|hop| hop.index >= entry_index && hop.index < boundary)
            .all(|hop| in_gateway(hop.received.by_host.as_deref()));
        if !through_gateway {
            continue;
        }
        for hop in chain.hops.iter_mut() {
            hop.internal = hop.index > entry_index;
        }
        chain.boundary = Some(entry_index);
        let gateway_hops = if entry_index + 1 == boundary {
            format!("hop {entry_index}")
        } else {
            format!("hops {entry_index} to {}", boundary - 1)
        };
        return Some(Finding::new(
            "chain.origin-behind-gateway",
            Severity::Info,
            format!("Origin taken behind the recipient's gateway at {gateway_domain}"),
            format!(
                "The recipient's receiver checked SPF for {ip}, the address that handed the message to the gateway at hop {entry_index}. Hosts in {gateway_domain} received {gateway_hops} and sent hop {boundary}. So the receiver trusts the gateway as its own, and the first external hop is hop {entry_index}, not hop {boundary} from the gateway ({edge_ip})."
            ),
        ));
    }
    None
}

/// Explains an origin on a filtering service's server (Proofpoint, Mimecast, Cisco Secure
/// Email Cloud) when no SPF check of the receiver moved the boundary behind it. The
/// service may filter the recipient's inbound mail or the sending organisation's outbound
/// mail, and the Received fields alone do not tell which. When an older hop shows the
/// address that handed the message to the service, the finding names it, so the analyst
/// can take it as the origin once the recipient's MX records show the service is theirs.
pub fn origin_on_filtering_service(chain: &RelayChain) -> Option<Finding> {
    let edge = chain.boundary_hop()?;
    let edge_ip = edge.received.from_ip?;
    let service_host = edge
        .received
        .sender_names()
        .find(|name| crate::platform::gateways::is_gateway_host(name))?;
    // The newest older hop that a server of the service received from a public address
    // outside it: the hand-over to the service.
    let entry = chain.hops.iter().rev().find(|hop| {
        hop.index < edge.index
            && hop
                .received
                .by_host
                .as_deref()
                .is_some_and(crate::platform::gateways::is_gateway_host)
            && hop
                .received
                .from_ip
                .is_some_and(|ip| !crate::iplist::is_non_public(ip))
            && !hop
                .received
                .sender_names()
                .any(crate::platform::gateways::is_gateway_host)
    });
    let handed = match entry.and_then(|hop| Some((hop, hop.received.from_ip?))) {
        Some((hop, ip)) => format!(
            " Hop {} shows {ip} handing the message to the service's server {}. If the service filters the recipient's inbound mail (its servers are the recipient's MX hosts), {ip} is the real origin; if it filters the sending organisation's outbound mail, the origin stands.",
            hop.index,
            crate::report::escape::quoted(hop.received.by_host.as_deref().unwrap_or("-"))
        ),
        None => {
            " No older hop shows the address that handed the message to the service.".to_string()
        }
    };
    Some(Finding::new(
        "chain.origin-on-filtering-service",
        Severity::Info,
        "The origin is a filtering service's server",
        format!(
            "Hop {}, the first external hop, comes from {edge_ip} ({}), a server of a filtering service, and the recipient's receiver recorded no SPF check that skips it.{handed}",
            edge.index,
            crate::report::escape::quoted(service_host.trim_end_matches('.'))
        ),
    ))
}

/// Builds the relay chain from the Received fields of `block`.
pub fn build_chain(block: &HeaderBlock, config: &AnalysisConfig) -> RelayChain {
    let mut chain = RelayChain::default();

    // Step 1: parse every Received field, newest first as they appear.
    let fields: Vec<(usize, &Header)> = block
        .fields
        .iter()
        .enumerate()
        .filter(|(_, h)| h.is("Received"))
        .collect();
    if fields.len() > config.max_hops {
        chain.findings.push(Finding::new(
            "chain.hop-limit-reached",
            Severity::Medium,
            "Too many Received fields: only the newest were analysed",
            format!(
                "The message has {} Received fields; only the newest {} were analysed.",
                fields.len(),
                config.max_hops
            ),
        ));
    }
    let mut hops: Vec<Hop> = fields
        .iter()
        .take(config.max_hops)
        .map(|(position, header)| parse_hop(block, *position, header, &mut chain.findings))
        .collect();
    merge_unknown_zone(&mut chain.findings);

    // Step 2: order oldest first and number the hops.
    hops.reverse();
    for (n, hop) in hops.iter_mut().enumerate() {
        hop.index = n + 1;
    }

    // Step 3: signed delays, continuity and dates.
    let skews = compute_delays(&mut hops);
    check_continuity(&hops, &mut chain.findings);
    check_date_header(block, &hops, &mut chain.findings);

    // Step 4: trust boundary, walking from the newest hop down, and the clock skews, whose
    // weight depends on the side that stamped them.
    chain.boundary = mark_internal(&mut hops, config);
    for (n, delay) in skews {
        let sender_side = chain.boundary.is_some_and(|b| hops[n].index < b);
        chain
            .findings
            .push(clock_skew(&hops[n - 1], &hops[n], -delay, sender_side));
    }
    chain.findings.extend(authenticated_submission(&hops));
    chain.earlier_delivery = find_resent_gaps(&hops, chain.boundary, &mut chain.findings);
    chain.hops = hops;
    chain
}

/// Tells whether a `with` protocol means the client authenticated (RFC 3848: ESMTPA,
/// ESMTPSA, LMTPA, LMTPSA and their UTF8 forms of RFC 6531).
fn is_authenticated_protocol(protocol: &str) -> bool {
    let base = match protocol.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("UTF8") => &protocol[4..],
        _ => protocol,
    };
    ["ESMTPA", "ESMTPSA", "LMTPA", "LMTPSA", "SMTPA", "SMTPSA"]
        .iter()
        .any(|name| name.eq_ignore_ascii_case(base))
}

/// Tells whether a `with` protocol is Exchange's mailbox submission (`with mapi`), which
/// Outlook and Outlook on the web use after the user has logged in to the mailbox.
fn is_mailbox_submission(protocol: &str) -> bool {
    protocol.eq_ignore_ascii_case("mapi")
}

/// Tells whether a hop is a submission over HTTP from a public address: webmail (`from
/// 203.0.113.5 by web1.example.net via HTTP`) or a sending API. Both need a login or a
/// key. Exchange Online's own `with HTTPS` hops between its mailbox servers, and hops
/// from a provider's range, are servers talking to each other, not a client.
fn is_web_submission(hop: &Hop) -> bool {
    let r = &hop.received;
    let http = [r.protocol.as_deref(), r.via.as_deref()]
        .into_iter()
        .flatten()
        .any(|value| {
            value
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("http"))
        });
    let client = sending_ip(r).is_some_and(|ip| !is_non_public(ip) && provider_range(ip).is_none());
    let exchange_online = r.by_host.as_deref().is_some_and(|by| {
        by.to_ascii_lowercase()
            .trim_end_matches('.')
            .ends_with(".outlook.com")
    });
    http && client && !exchange_online
}

/// Reports the oldest hop outside the recipient's systems where the client logged in to
/// submit the message: the sender's own connection to its mail provider.
fn authenticated_submission(hops: &[Hop]) -> Option<Finding> {
    let hop = hops.iter().find(|hop| {
        !hop.internal
            && (hop.received.authenticated
                || is_web_submission(hop)
                || hop
                    .received
                    .protocol
                    .as_deref()
                    .is_some_and(|p| is_authenticated_protocol(p) || is_mailbox_submission(p)))
    })?;
    let protocol = hop.received.protocol.as_deref().unwrap_or_default();
    let server = quoted(hop.received.by_host.as_deref().unwrap_or("the server"));
    let title = format!(
        "The sender logged in to submit the message (hop {})",
        hop.index
    );
    let compromised =
        "When the message is phishing, that account is compromised or was made by the attacker";
    let detail = if is_mailbox_submission(protocol) {
        format!(
            "Hop {} was received with {protocol}: a mailbox client (Outlook or Outlook on the web) logged in to the Exchange mailbox on {server} and sent the message from it. {compromised}, and the mailbox's organisation is the one to tell.",
            hop.index
        )
    } else {
        let client = hop
            .received
            .from_ip
            .map_or_else(|| "an unnamed address".to_string(), |ip| ip.to_string());
        let record = if is_authenticated_protocol(protocol) {
            format!("was received with {protocol} (RFC 3848)")
        } else if is_web_submission(hop) && !hop.received.authenticated {
            "was submitted over HTTP, through the provider's webmail or sending API, which needs a login or an API key".to_string()
        } else {
            let user = hop
                .received
                .auth_sender
                .as_deref()
                .map_or_else(String::new, |user| format!(" as {}", quoted(user)));
            format!("records an SMTP AUTH login{user} in a comment")
        };
        format!(
            "Hop {} {record}: the client at {client} logged in to {server} before handing over the message, as a mailbox user does to send mail. {compromised}, and {client} is the sender's own connection: the address to report to its network's owner.",
            hop.index
        )
    };
    Some(Finding::new(
        "chain.authenticated-submission",
        Severity::Info,
        title,
        detail,
    ))
}

fn parse_hop(
    block: &HeaderBlock,
    position: usize,
    header: &Header,
    findings: &mut Vec<Finding>,
) -> Hop {
    let mut received = parse_received(&header.value);
    let mut reconstructed = false;
    let mut raw = header.value.clone();

    // A Received field without a date whose next field continues it: a bare LF inside
    // the HELO split the trace header and the second part became a field of its own.
    if received.timestamp.is_none()
        && received.date_raw.is_none()
        && let Some(next) = block.fields.get(position + 1)
        && let Some(rebuilt) = reconstruct(&header.value, next)
    {
        // The first part's own problem (no date) stays on record next to the rebuilt hop.
        for finding in received
            .findings
            .iter()
            .filter(|f| f.id == "chain.received-missing-date")
        {
            findings.push(finding.clone().with_evidence(
                "Received",
                Some(header.line),
                header.value.clone(),
            ));
        }
        received = parse_received(&rebuilt);
        reconstructed = true;
        raw = rebuilt;
        findings.push(
            Finding::new(
                "chain.probable-helo-injection",
                Severity::High,
                "Received field split by an injected line",
                format!(
                    "The Received field at line {} has no date, and the next field, {}, carries its continuation. A line break inside the HELO name injected a header field; the hop was rebuilt from both parts.",
                    header.line, next.name
                ),
            )
            .with_header(next.name.clone())
            .with_evidence("Received", Some(header.line), header.value.clone())
            .with_evidence(next.name.clone(), Some(next.line), next.raw.clone()),
        );
    }

    for finding in &received.findings {
        findings.push(finding.clone().with_evidence(
            "Received",
            Some(header.line),
            header.value.clone(),
        ));
    }
    Hop {
        index: 0,
        received,
        delay_seconds: None,
        internal: false,
        reconstructed,
        provider: None,
        line: header.line,
        raw,
    }
}

/// Most Received fields whose evidence a merged `date.unknown-local-zone` finding keeps.
const MAX_ZONE_EVIDENCE: usize = 5;

/// Replaces the per-hop `date.unknown-local-zone` findings with one finding for the
/// message. Many MTAs write -0000 on every hop, so one finding per hop repeats the same
/// fact, thousands of times in a message with thousands of Received fields.
fn merge_unknown_zone(findings: &mut Vec<Finding>) {
    const ID: &str = "date.unknown-local-zone";
    let count = findings.iter().filter(|f| f.id == ID).count();
    if count < 2 {
        return;
    }
    let Some(first) = findings.iter().position(|f| f.id == ID) else {
        return;
    };
    let mut evidence = Vec::new();
    for finding in findings.iter().filter(|f| f.id == ID) {
        evidence.extend(finding.evidence.iter().cloned());
        if evidence.len() >= MAX_ZONE_EVIDENCE {
            break;
        }
    }
    evidence.truncate(MAX_ZONE_EVIDENCE);
    let kept = evidence.len();

    let mut merged = Finding::new(
        ID,
        Severity::Info,
        "Local zone unknown (-0000)",
        format!(
            "{count} Received fields give their time as -0000, which says the time is UTC and the local zone is unknown (RFC 5322 section 3.3). The evidence lists the first {kept}."
        ),
    );
    merged.evidence = evidence;
    findings[first] = merged;
    let mut seen = 0;
    findings.retain(|f| {
        if f.id != ID {
            return true;
        }
        seen += 1;
        seen == 1
    });
}

/// Rebuilds a split Received field from its first part and the field that contains the rest.
fn reconstruct(first: &str, next: &Header) -> Option<String> {
    if next.is("Received") {
        return None;
    }
    let open = next.value.find('(')?;
    let rest = next.value[open..].replace(['\t', '\r', '\n'], " ");
    let looks_like_trace = rest.contains(" by ") && rest.contains(';');
    looks_like_trace.then(|| format!("{first} {rest}"))
}

/// Negative delays shorter than this many seconds are reported as ordinary clock skew at
/// info severity, because clocks of different hosts commonly differ by a few seconds.
/// Longer ones stay low, because a forged hop can cause them too.
const SMALL_SKEW_SECONDS: f64 = 60.0;

/// Tells whether a hop's time was read as UTC because its zone is missing or unknown, so
/// that it may be off by up to a day's worth of zones.
pub fn zone_guessed(received: &Received) -> bool {
    received
        .findings
        .iter()
        .any(|f| f.id == "date.missing-zone" || f.id == "date.unknown-zone")
}

/// Sets each hop's delay from the hop below it, and returns the position and delay of each
/// negative one. A hop whose zone was guessed has no delay to or from it, because the guess
/// could make up hours of delay or clock skew.
fn compute_delays(hops: &mut [Hop]) -> Vec<(usize, f64)> {
    let mut skews = Vec::new();
    for n in 1..hops.len() {
        let (Some(before), Some(after)) =
            (hops[n - 1].received.timestamp, hops[n].received.timestamp)
        else {
            continue;
        };
        if zone_guessed(&hops[n - 1].received) || zone_guessed(&hops[n].received) {
            continue;
        }
        let delay = (after - before).num_milliseconds() as f64 / 1000.0;
        hops[n].delay_seconds = Some(delay);
        if delay < 0.0 {
            skews.push((n, delay));
        }
    }
    skews
}

/// Reports each hop stamped more than [`RESENT_GAP_SECONDS`] after the hop below it. A
/// guessed zone can be off by a day at most (zones run from -12:00 to +14:00), so such a
/// pair needs one more day. A POP3 or IMAP retrieval by the recipient's own systems
/// (fetchmail) and a hold between two of its hosts are exempt. Only hops at or above the
/// boundary qualify, so the sender cannot claim one to hide a gap. Returns the index of the
/// newest hop before the first gap: the end of the earlier delivery.
fn find_resent_gaps(
    hops: &[Hop],
    boundary: Option<usize>,
    findings: &mut Vec<Finding>,
) -> Option<usize> {
    let mut earlier = None;
    for pair in hops.windows(2) {
        let (older, newer) = (&pair[0], &pair[1]);
        // A hold inside the recipient's own systems, such as a quarantine release between its
        // gateway and its mailbox server, is theirs.
        let received_by_recipient = older.internal || Some(older.index) == boundary;
        let own_hold = received_by_recipient && newer.internal;
        let own_retrieval = newer.internal && is_retrieval(&newer.received);
        if own_hold || own_retrieval {
            continue;
        }
        if let Some(gap) = gap_beyond_threshold(older, newer) {
            findings.push(resent_after_gap(older, newer, gap, false));
            earlier.get_or_insert(older.index);
        }
    }
    if earlier.is_some() {
        return earlier;
    }

    // Hops in between whose dates bridge the gap step by step, or that have no date, hide
    // it from the pairs. The span from the oldest hop to the first external hop shows it.
    let oldest = hops.iter().find(|hop| hop.received.timestamp.is_some());
    let edge = boundary.and_then(|index| hops.iter().find(|hop| hop.index == index));
    if let (Some(oldest), Some(edge)) = (oldest, edge)
        && oldest.index + 1 < edge.index
        && let Some(gap) = gap_beyond_threshold(oldest, edge)
    {
        findings.push(resent_after_gap(oldest, edge, gap, true));
        return Some(oldest.index);
    }
    None
}

/// Returns the seconds from `older` to `newer` when they exceed [`RESENT_GAP_SECONDS`].
fn gap_beyond_threshold(older: &Hop, newer: &Hop) -> Option<f64> {
    let (Some(before), Some(after)) = (older.received.timestamp, newer.received.timestamp) else {
        return None;
    };
    let gap = (after - before).num_milliseconds() as f64 / 1000.0;
    let guessed = zone_guessed(&older.received) || zone_guessed(&newer.received);
    let threshold = RESENT_GAP_SECONDS + if guessed { 86_400.0 } else { 0.0 };
    (gap > threshold).then_some(gap)
}

/// Gaps between two hops longer than this many seconds (7 days) mean the message was
/// stored and sent again. Mail servers stop retrying a delivery after 5 days by default
/// (Postfix `maximal_queue_lifetime`, Sendmail `Timeout.queuereturn`); the margin covers a
/// queue run that starts late.
const RESENT_GAP_SECONDS: f64 = 7.0 * 86_400.0;

/// Builds the `chain.resent-after-gap` finding for a hop stamped `seconds` after the hop
/// below it.
fn resent_after_gap(older: &Hop, newer: &Hop, seconds: f64, spanned: bool) -> Finding {
    let days = seconds / 86_400.0;
    let earlier = match older.index {
        1 => "Hop 1 belongs".to_string(),
        last => format!("Hops 1 to {last} belong"),
    };
    let earlier = if spanned {
        format!(
            "No single step between them is that long, so the hops in between carry dates that bridge the gap or none at all, and the sender may have written them. {earlier}"
        )
    } else {
        earlier
    };
    Finding::new(
        "chain.resent-after-gap",
        Severity::Low,
        "Hop more than a week after the previous one: the message was sent again",
        format!(
            "Hop {} ({}) is stamped {days:.1} days after hop {} ({}). Mail servers stop retrying a delivery after about 5 days, so the message was not queued: it was delivered, stored and sent again later. {earlier} to the earlier delivery. Attackers re-send a message that was once delivered and authenticated (DKIM replay), or one that carries a real provider's stamps; a user or a forwarding rule that re-sends old mail leaves the same gap.",
            newer.index,
            receiver_name(newer),
            older.index,
            receiver_name(older),
        ),
    )
    .with_evidence("Received", Some(newer.line), newer.raw.clone())
}

/// Builds the `chain.clock-skew` finding for a hop stamped `seconds` before the hop below it.
/// `sender_side` is set when both hops are below the first external hop. The sender's
/// systems stamped both, where a wrong clock or zone label is common, so the skew shows
/// nothing about the hand-over to the recipient.
fn clock_skew(older: &Hop, newer: &Hop, seconds: f64, sender_side: bool) -> Finding {
    let (severity, title, cause) = if seconds < SMALL_SKEW_SECONDS {
        (
            Severity::Info,
            "Small negative delay between hops: likely clock skew",
            "Clocks of different hosts commonly differ by a few seconds.",
        )
    } else if sender_side {
        (
            Severity::Info,
            "Negative delay between hops on the sender's side: clock skew",
            "Both hops are below the first external hop, on the sender's side, where a wrong clock or zone label is common; the recipient's systems vouch for neither, and the skew says nothing about the hand-over to them.",
        )
    } else {
        (
            Severity::Low,
            "Negative delay between hops: clock skew or a forged hop",
            "Either a clock is wrong or a Received field was forged.",
        )
    };
    Finding::new(
        "chain.clock-skew",
        severity,
        title,
        format!(
            "Hop {} ({}) is stamped {seconds} s before hop {} ({}). {cause}",
            newer.index,
            receiver_name(newer),
            older.index,
            receiver_name(older)
        ),
    )
    .with_evidence("Received", Some(newer.line), newer.raw.clone())
}

/// Returns the host that stamped a hop, or a phrase stating that the field names none.
fn receiver_name(hop: &Hop) -> String {
    match &hop.received.by_host {
        Some(host) => host.clone(),
        None if hop.received.local => "a local step that names no receiving host".into(),
        None => "no receiving host named".into(),
    }
}

/// Flags hops whose sending host does not continue the previous hop's receiving host.
///
/// Only a network hand-over between two named hosts, or two addresses, is compared. A hop
/// that names its sender by address alone cannot be compared with a receiving host name.
/// A hop without a public
/// sending address (a local step, a loopback or private-network hand-over) and retrieval
/// by POP3 or IMAP name no upstream host. A receiving host without a domain name
/// (`MailEnable`, `localhost`, `qwi4`) names nothing that a sending host could match.
fn check_continuity(hops: &[Hop], findings: &mut Vec<Finding>) {
    for pair in hops.windows(2) {
        let (older, newer) = (&pair[0], &pair[1]);
        let Some(by) = older.received.by_host.as_deref() else {
            continue;
        };
        if !is_network_handover(&newer.received) || !is_domain_name(by) {
            continue;
        }
        let names = [
            newer.received.from_host.as_deref(),
            newer.received.from_rdns.as_deref(),
            newer.received.helo.as_deref(),
        ];
        let by_ip = older.received.by_ip.or_else(|| literal_ip(Some(by)));
        let same_ip = by_ip.is_some() && by_ip == sending_ip(&newer.received);
        let mut host_names = names
            .iter()
            .flatten()
            .filter(|name| literal_ip(Some(name)).is_none());
        let comparable = by_ip.is_some() || host_names.clone().next().is_some();
        if same_ip || !comparable || host_names.any(|name| equivalent_hosts(name, by)) {
            continue;
        }
        findings.push(
            Finding::new(
                "chain.broken-continuity",
                Severity::Info,
                "Received hop does not continue the previous one",
                format!(
                    "Hop {} was received by {by}, but hop {} says it came from {}.",
                    older.index,
                    newer.index,
                    names.iter().flatten().next().unwrap_or(&"?")
                ),
            )
            .with_evidence("Received", Some(newer.line), newer.raw.clone()),
        );
    }
}

/// Tells whether a hop records a connection from a public address, other than a mailbox
/// retrieval.
fn is_network_handover(received: &Received) -> bool {
    let retrieval = received.protocol.as_deref().is_some_and(|protocol| {
        let protocol = protocol.to_ascii_lowercase();
        protocol.starts_with("pop") || protocol.starts_with("imap")
    });
    let public = sending_ip(received).is_some_and(|ip| !is_non_public(ip));
    public && !retrieval
}

/// Tells whether a receiving host is a domain name with at least two labels, other than
/// `localhost.localdomain`.
fn is_domain_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host.contains('.')
        && !host.eq_ignore_ascii_case("localhost.localdomain")
        && literal_ip(Some(host)).is_none()
}

/// Organisational domains that one provider uses for its own relays, so that a hand-over
/// between two of them continues the chain (Exchange Online names one server under
/// prod.outlook.com, outlook.office365.com and prod.exchangelabs.com).
const PROVIDER_DOMAINS: &[&[&str]] = &[
    &["outlook.com", "office365.com", "exchangelabs.com"],
    &["google.com", "gmail.com", "googlemail.com", "1e100.net"],
];

/// Tells whether a sending host name and a receiving host name can be one server. They can
/// when they match loosely, when a bare name is the first label of the other, or when they
/// share an organisational domain or a provider.
fn equivalent_hosts(name: &str, by: &str) -> bool {
    if same_host(name, by) {
        return true;
    }
    let first_label = |s: &str| s.split('.').next().unwrap_or("").to_ascii_lowercase();
    if !name.contains('.') && name.eq_ignore_ascii_case(&first_label(by)) {
        return true;
    }
    let (Some(a), Some(b)) = (org_domain(name), org_domain(by)) else {
        return false;
    };
    a == b
        || PROVIDER_DOMAINS
            .iter()
            .any(|group| group.contains(&a.as_str()) && group.contains(&b.as_str()))
}

/// Compares host names loosely: equal ignoring case, or the same first label (Exchange
/// names one server differently in adjacent hops).
fn same_host(a: &str, b: &str) -> bool {
    let clean = |s: &str| s.trim_matches(['[', ']', '.']).to_ascii_lowercase();
    let (a, b) = (clean(a), clean(b));
    if a == b {
        return true;
    }
    let label = |s: &str| s.split('.').next().unwrap_or("").to_string();
    let (la, lb) = (label(&a), label(&b));
    la.len() >= 6 && la == lb
}

fn check_date_header(block: &HeaderBlock, hops: &[Hop], findings: &mut Vec<Finding>) {
    let Some(date) = block.get("Date") else {
        return;
    };
    let parsed = crate::parse::date::parse_date(&date.value);
    // A Date or a hop whose zone was guessed can be hours off, so it is not compared.
    let guessed = |findings: &[Finding]| {
        findings
            .iter()
            .any(|f| f.id == "date.missing-zone" || f.id == "date.unknown-zone")
    };
    if guessed(&parsed.findings) {
        return;
    }
    let dated = || {
        hops.iter()
            .filter(|hop| !zone_guessed(&hop.received))
            .filter_map(|hop| Some((hop, hop.received.timestamp?)))
    };
    let (Some(sent), Some((_, first)), Some((newest_hop, newest))) =
        (parsed.timestamp, dated().next(), dated().next_back())
    else {
        return;
    };
    let gap = (first - sent).num_seconds();
    let after_delivery = (sent - newest).num_seconds();
    // The newest hop is the delivery, so a Date after it cannot come from a queue: the
    // oldest hops may carry the same made-up time when the sender wrote them. Two hours
    // leave room for a clock that a daylight-saving change left one hour off.
    let detail = if after_delivery > 2 * 3600 && newest_hop.index > 1 {
        format!(
            "The Date field is {} after the newest Received hop (hop {}, by {}), when the message had already been delivered. A clock or a time zone setting is wrong, the sender's or a receiver's, or the date was forged. Older hops with dates near the Date field may have been written by the sender too.",
            duration_text(after_delivery),
            newest_hop.index,
            quoted(
                newest_hop
                    .received
                    .by_host
                    .as_deref()
                    .unwrap_or("an unnamed host")
            )
        )
    } else if gap < -2 * 3600 {
        format!(
            "The Date field is {} after the first Received hop: the date was set in the future or forged.",
            duration_text(-gap)
        )
    } else if gap > 7 * 24 * 3600 {
        format!(
            "The Date field is {} before the first Received hop.",
            duration_text(gap)
        )
    } else {
        return;
    };
    findings.push(
        Finding::new(
            "chain.date-far-from-first-hop",
            Severity::Low,
            "Date field far from the Received timestamps",
            detail,
        )
        .with_evidence("Date", Some(date.line), date.value.clone()),
    );
}

/// Writes a number of seconds for a reader: minutes below 100 minutes, hours below 2 days,
/// days above, each with the exact seconds.
fn duration_text(seconds: i64) -> String {
    let value = seconds as f64;
    let rounded = if seconds < 100 * 60 {
        format!("{:.0} minutes", value / 60.0)
    } else if seconds < 2 * 86_400 {
        format!("{:.1} hours", value / 3600.0)
    } else {
        format!("{:.1} days", value / 86_400.0)
    };
    format!("{rounded} ({seconds} s)")
}

/// Marks the hops added by the recipient's own systems and returns the index of the first
/// external hop, walking down from the newest hop.
fn mark_internal(hops: &mut [Hop], config: &AnalysisConfig) -> Option<usize> {
    for hop in hops.iter_mut() {
        hop.provider = sending_ip(&hop.received)
            .and_then(provider_range)
            .map(|range| range.provider);
    }
    for position in (0..hops.len()).rev() {
        let older = position.checked_sub(1).map(|p| &hops[p]);
        let internal = from_side_is_internal(&hops[position].received, config)
            || continues_without_address(&hops[position], older);
        if internal {
            hops[position].internal = true;
        } else {
            return Some(hops[position].index);
        }
    }
    shared_edge_handover(hops)
}

/// With every hop internal, finds the oldest hop that a provider's shared edge received
/// from a public address, and makes it the first external hop. Between two accounts of one
/// mailbox provider (Gmail to Gmail), the sending side is the provider's outbound server
/// for the other account, so its address is the one to report. Without this step, every
/// hop in the provider's organisational domain counts as the recipient's own relay.
fn shared_edge_handover(hops: &mut [Hop]) -> Option<usize> {
    let hop = hops.iter_mut().find(|hop| {
        let public = sending_ip(&hop.received).is_some_and(|ip| !is_non_public(ip));
        let by = hop.received.by_host.as_deref().unwrap_or("");
        public
            && SHARED_EDGES
                .iter()
                .any(|edge| by.eq_ignore_ascii_case(edge))
    })?;
    hop.internal = false;
    Some(hop.index)
}

/// Tells whether a hop that records no sending address is a step inside one organisation.
///
/// A hop received on a loopback address is one: only a process on the receiving machine
/// can connect there, as when a server hands mail to its own LMTP store or content filter
/// (`from mail.example.net by 127.0.0.1 with LMTP`). Otherwise the hop must hand the
/// message on from the host that received the older hop, and its receiving host must have
/// a bare name or the sending host's organisational domain (`from mx-ext.example.net by
/// store1`, below `from relay.example.org [192.0.2.7] by mx-ext.example.net`). Old MTAs
/// recorded no addresses at all, so a hop between two organisations stays a candidate for
/// the first external hop.
fn continues_without_address(hop: &Hop, older: Option<&Hop>) -> bool {
    if sending_ip(&hop.received).is_some() {
        return false;
    }
    if received_by_loopback(&hop.received) {
        return true;
    }

    // A local filter names the envelope sender where a host belongs (qmail-scanner writes
    // `from user@example.org by mailhost by uid 502 with qmail-scanner`).
    if hop
        .received
        .from_host
        .as_deref()
        .is_some_and(|from| from.contains('@'))
    {
        return true;
    }
    let (Some(from), Some(by), Some(older_by)) = (
        hop.received.from_host.as_deref(),
        hop.received.by_host.as_deref(),
        older.and_then(|o| o.received.by_host.as_deref()),
    ) else {
        return false;
    };
    let one_organisation =
        !by.contains('.') || org_domain(from).is_some_and(|domain| org_domain(by) == Some(domain));
    one_organisation && same_host(from, older_by)
}

/// Tells whether a hop was received on a loopback address: `by 127.0.0.1`, `by [::1]`,
/// `by localhost`, or a loopback receiving address in the field.
fn received_by_loopback(received: &Received) -> bool {
    let by_host = received.by_host.as_deref();
    let named_localhost = by_host.is_some_and(|by| {
        let by = by.trim_end_matches('.');
        by.eq_ignore_ascii_case("localhost") || by.eq_ignore_ascii_case("localhost.localdomain")
    });
    named_localhost
        || received.by_ip.is_some_and(|ip| ip.is_loopback())
        || literal_ip(by_host).is_some_and(|ip| ip.is_loopback())
}

/// Receiving hosts where mail from every customer of a mailbox provider arrives, so that a
/// sending host of the same provider there can be another customer's outbound server.
const SHARED_EDGES: &[&str] = &["mx.google.com"];

/// Host name suffixes of Microsoft 365 servers that relay mail inside the service. The
/// edge (`*.mail.protection.outlook.com` as the receiving host) is excluded by the caller,
/// and `*.outbound.protection.outlook.com` is another tenant's egress, so it is external.
const MICROSOFT_INTERNAL_SUFFIXES: &[&str] = &[
    ".prod.protection.outlook.com",
    ".prod.outlook.com",
    ".outlook.office365.com",
    ".prod.exchangelabs.com",
];

/// Tells whether a hop is a retrieval from a mailbox by POP3 or IMAP, as fetchmail records it.
fn is_retrieval(received: &Received) -> bool {
    received.protocol.as_deref().is_some_and(|protocol| {
        let protocol = protocol.to_ascii_lowercase();
        protocol.starts_with("pop") || protocol.starts_with("imap")
    })
}

/// Tells whether the sending side of a hop belongs to the recipient's systems.
fn from_side_is_internal(received: &Received, config: &AnalysisConfig) -> bool {
    // A comment-only or from-less hop is a local injection or an internal step.
    if received.local || (received.from_host.is_none() && received.from_ip.is_none()) {
        return true;
    }

    // Retrieval by POP3/IMAP (fetchmail) hands the message from the mailbox provider.
    if is_retrieval(received) {
        return true;
    }

    let ip = sending_ip(received);
    if let Some(ip) = ip
        && (is_non_public(ip) || config.connectors.find(ip).is_some())
    {
        return true;
    }

    // A receiver-verified reverse name (or the claimed name when there is none) in an
    // organisation domain.
    let name = received
        .from_rdns
        .as_deref()
        .or(received.from_host.as_deref());
    if let Some(name) = name
        && config.is_org_host(name)
    {
        return true;
    }

    // A receiver-verified reverse name in the same organisational domain as the receiving
    // host: a relay between two servers of the recipient's own organisation.
    // NOTE: this trusts the rDNS slot as the receiver wrote it; Postfix writes it only after
    // a forward-confirmed lookup, but not every MTA does, so --org-domain is the firmer way.
    if let (Some(rdns), Some(by)) = (received.from_rdns.as_deref(), received.by_host.as_deref())
        && let (Some(a), Some(b)) = (org_domain(rdns), org_domain(by))
        && a == b
    {
        return true;
    }

    // Provider-internal relays, except at the provider's edge where anyone can claim a name.
    let at_edge = received
        .by_host
        .as_deref()
        .is_some_and(|by| ends_with_ci(by, ".mail.protection.outlook.com"));
    let host = received.from_host.as_deref().unwrap_or("");
    let egress = ends_with_ci(host, ".outbound.protection.outlook.com");
    let internal_name = MICROSOFT_INTERNAL_SUFFIXES
        .iter()
        .any(|s| ends_with_ci(host, s));

    // An address in Microsoft's published Exchange Online Protection ranges, handed between
    // two Microsoft servers past the edge, is a relay inside the service even when the hop
    // names no host. At the edge the same ranges are other tenants' egress, so external.
    let by_internal = received.by_host.as_deref().is_some_and(|by| {
        MICROSOFT_INTERNAL_SUFFIXES
            .iter()
            .any(|s| ends_with_ci(by, s))
    });
    let microsoft_range = ip
        .and_then(provider_range)
        .is_some_and(|r| r.provider == "microsoft");
    !at_edge && !egress && (internal_name || (microsoft_range && by_internal))
}

/// Returns the sending address of a hop: the TCP-info address, or an address literal in
/// the from slot.
fn sending_ip(received: &Received) -> Option<IpAddr> {
    received
        .from_ip
        .or_else(|| literal_ip(received.from_host.as_deref()))
}

/// Reads an address literal such as `[192.0.2.1]` from a host slot.
fn literal_ip(host: Option<&str>) -> Option<IpAddr> {
    let host = host?.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_prefix("IPv6:").unwrap_or(host);
    host.parse().ok().map(crate::iplist::unmap)
}

#[cfg(test)]
mod boundary_tests {
    use crate::analysis::test_support::analyse_text;
    use std::net::IpAddr;

    fn origin(received: &str) -> (Option<usize>, Option<IpAddr>) {
        let report = analyse_text(&format!(
            "{received}From: a@example.org\nSubject: test\n\nbody\n"
        ));
        let origin = report.origin.expect("an origin");
        (origin.hop, origin.ip)
    }

    #[test]
    fn address_less_internal_step_is_passed() {
        let (hop, ip) = origin(
            "Received: from mx-ext.example.net by store1; Mon, 7 Aug 2023 05:11:55 +0000\n\
             Received: from relay.example.org (relay.example.org [192.0.2.7]) by mx-ext.example.net; Mon, 7 Aug 2023 05:11:54 +0000\n",
        );
        assert_eq!((hop, ip), (Some(1), "192.0.2.7".parse().ok()));
    }

    #[test]
    fn address_less_hop_between_organisations_stays_external() {
        let (hop, ip) = origin(
            "Received: from relay.example.net by mx.example.com; Mon, 7 Aug 2023 05:11:55 +0000\n\
             Received: from host.example.org (host.example.org [192.0.2.7]) by relay.example.net; Mon, 7 Aug 2023 05:11:54 +0000\n",
        );
        assert_eq!((hop, ip), (Some(2), None));
    }

    #[test]
    fn local_delivery_hop_is_passed() {
        let (hop, ip) = origin(
            "Received: from mail.example.net ([mail.example.net]) by 127.0.0.1 (LMTP server) with LMTP; Mon, 7 Aug 2023 05:11:55 +0000\n\
             Received: from relay.example.org (relay.example.org [192.0.2.7]) by mail.example.net (Postfix) with ESMTPS id 1; Mon, 7 Aug 2023 05:11:54 +0000\n",
        );
        assert_eq!((hop, ip), (Some(1), "192.0.2.7".parse().ok()));
    }

    #[test]
    fn envelope_sender_in_from_slot_is_passed() {
        let (hop, ip) = origin(
            "Received: from user@example.org by mailhost by uid 502 with qmail-scanner-1.12 (Clear:. Processed in 0.2 secs); 03 Jun 2002 10:00:01 -0000\n\
             Received: from relay.example.org (relay.example.org [192.0.2.7]) by mailhost.example.net; Mon, 3 Jun 2002 10:00:00 +0000\n",
        );
        assert_eq!((hop, ip), (Some(1), "192.0.2.7".parse().ok()));
    }

    #[test]
    fn loopback_hop_with_public_address_stays_external() {
        let (hop, ip) = origin(
            "Received: from relay.example.net (relay.example.net [198.51.100.9]) by 127.0.0.1 with ESMTP; Mon, 7 Aug 2023 05:11:55 +0000\n\
             Received: from host.example.org (host.example.org [192.0.2.7]) by relay.example.net; Mon, 7 Aug 2023 05:11:54 +0000\n",
        );
        assert_eq!((hop, ip), (Some(2), "198.51.100.9".parse().ok()));
    }

    #[test]
    fn gmail_to_gmail_reports_the_outbound_server() {
        let (hop, ip) = origin(
            "Received: by 2002:a05:6022:1:b0:0:0:0 with SMTP id x1csp1; Fri, 21 Jul 2023 07:54:42 -0700 (PDT)\n\
             Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id a1sor1; Fri, 21 Jul 2023 07:54:41 -0700 (PDT)\n",
        );
        assert_eq!((hop, ip), (Some(1), "209.85.220.41".parse().ok()));
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::test_support::analyse_text;
    use crate::finding::{Finding, Severity};

    /// Returns the findings of a message whose two Received fields are `newer` (top) and
    /// `older` (bottom).
    fn two_hop_findings(newer: &str, older: &str) -> Vec<Finding> {
        analyse_text(&format!(
            "Received: {newer}\nReceived: {older}\nFrom: a@example.com\nSubject: test\n\nbody\n"
        ))
        .findings
    }

    /// Returns the clock-skew finding of a message whose two Received fields are `newer`
    /// (top) and `older` (bottom).
    fn clock_skew(newer: &str, older: &str) -> Finding {
        two_hop_findings(newer, older)
            .into_iter()
            .find(|f| f.id == "chain.clock-skew")
            .expect("a chain.clock-skew finding")
    }

    const OLDER: &str = "from a.example.net (a.example.net [192.0.2.1]) by b.example.net with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000";

    #[test]
    fn authenticated_submission_names_the_client() {
        let findings = two_hop_findings(
            "from smtp.example.net (smtp.example.net [198.51.100.5]) by mx.example.org with ESMTPS id 2; Mon, 1 Jan 2024 10:00:05 +0000",
            "from [10.0.0.5] ([203.0.113.39]) by smtp.example.net with ESMTPSA id 1; Mon, 1 Jan 2024 10:00:00 +0000",
        );
        let finding = findings
            .iter()
            .find(|f| f.id == "chain.authenticated-submission")
            .expect("a chain.authenticated-submission finding");
        assert_eq!(finding.severity, Severity::Info);
        assert!(finding.title.contains("hop 1"), "{}", finding.title);
        assert!(
            finding.detail.contains("203.0.113.39"),
            "{}",
            finding.detail
        );
        assert!(finding.detail.contains("ESMTPSA"), "{}", finding.detail);

        let plain = two_hop_findings(
            "from smtp.example.net (smtp.example.net [198.51.100.5]) by mx.example.org with ESMTPS id 2; Mon, 1 Jan 2024 10:00:05 +0000",
            OLDER,
        );
        assert!(
            !plain
                .iter()
                .any(|f| f.id == "chain.authenticated-submission")
        );
    }

    #[test]
    fn no_received_is_reported() {
        let report = analyse_text("From: a@example.com\nSubject: draft\n\nbody\n");
        let finding = report
            .findings
            .iter()
            .find(|f| f.id == "chain.no-received")
            .expect("a chain.no-received finding");
        assert_eq!(finding.severity, Severity::Low);

        let delivered = two_hop_findings(
            "from smtp.example.net (smtp.example.net [198.51.100.5]) by mx.example.org with ESMTPS id 2; Mon, 1 Jan 2024 10:00:05 +0000",
            OLDER,
        );
        assert!(!delivered.iter().any(|f| f.id == "chain.no-received"));
    }

    /// Exchange's `with mapi` hop is a mailbox client's submission after its login.
    #[test]
    fn mapi_submission_is_authenticated() {
        // The sending tenant's mailbox submission, then its outbound relay to the recipient.
        let findings = two_hop_findings(
            "from EUR01-AB1-obe.outbound.protection.outlook.com (mail-ab1eur01on2101.outbound.protection.outlook.com [40.107.1.101]) by mx.example.org with ESMTPS id 2; Mon, 1 Jan 2024 10:00:05 +0000",
            "from AB1PR01MB0001.eurprd01.prod.exchangelabs.com ([fe80::1%5]) by AB1PR01MB0001.eurprd01.prod.exchangelabs.com ([fe80::1%5]) with mapi id 15.20.1; Mon, 1 Jan 2024 10:00:00 +0000",
        );
        let finding = findings
            .iter()
            .find(|f| f.id == "chain.authenticated-submission")
            .expect("a chain.authenticated-submission finding");
        assert!(finding.title.contains("hop 1"), "{}", finding.title);
        assert!(finding.detail.contains("with mapi"), "{}", finding.detail);
        assert!(
            finding.detail.contains("mailbox client"),
            "{}",
            finding.detail
        );
        assert!(super::is_mailbox_submission("MAPI"));
        assert!(!super::is_mailbox_submission("HTTP"));
    }

    /// A date without a zone is read as UTC, which can be hours off: no delay and no clock
    /// skew is derived from it.
    #[test]
    fn guessed_zone_gives_no_delay() {
        let report = analyse_text(
            "Received: from b.example.net (b.example.net [192.0.2.2]) by c.example.net with ESMTP id 3; Fri, 23 Aug 2002 09:38:58 +1000\n\
             Received: from a.example.net (a.example.net [192.0.2.1]) by b.example.net with ESMTP id 2; 22 Aug 2002 23:37:51\n\
             Received: from x.example.net (x.example.net [192.0.2.9]) by a.example.net with ESMTP id 1; Fri, 23 Aug 2002 09:37:00 +1000\n\
             From: a@example.com\nSubject: test\n\nbody\n",
        );
        let delays: Vec<Option<f64>> = report.chain.hops.iter().map(|h| h.delay_seconds).collect();
        assert_eq!(delays, [None, None, None]);
        assert!(report.findings.iter().all(|f| f.id != "chain.clock-skew"));
        assert!(report.findings.iter().any(|f| f.id == "date.missing-zone"));
    }

    #[test]
    fn date_far_from_received_table() {
        let delivered = "from relay.example.net (relay.example.net [198.51.100.5]) by mx.example.org with ESMTP id 2; Mon, 1 Jan 2024 10:00:05 +0000";
        // (Date, older hop, expected start of the detail, or None for no finding)
        let cases = [
            // Twelve days after the delivery, with a bottom hop written to match it.
            (
                "Sat, 13 Jan 2024 10:00:00 +0000",
                "from a.example.net (a.example.net [192.0.2.1]) by b.example.net with ESMTP id 1; Sat, 13 Jan 2024 10:00:01 +0000",
                Some(
                    "The Date field is 12.0 days (1036795 s) after the newest Received hop (hop 2",
                ),
            ),
            (
                "Sat, 23 Dec 2023 10:00:00 +0000",
                OLDER,
                Some("The Date field is 9.0 days (777600 s) before the first Received hop."),
            ),
            // A Date without a zone is read as UTC and not compared either.
            ("Mon, 1 Jan 2024 18:00:00", OLDER, None),
            // An hour and a half late: a clock left one hour off by daylight saving time.
            ("Mon, 1 Jan 2024 11:30:00 +0000", OLDER, None),
            ("Mon, 1 Jan 2024 09:59:00 +0000", OLDER, None),
            // A hop without a zone is read as UTC and not compared.
            (
                "Mon, 1 Jan 2024 10:00:00 +0000",
                "from a.example.net (a.example.net [192.0.2.1]) by b.example.net with ESMTP id 1; Mon, 1 Jan 2024 02:00:00",
                None,
            ),
        ];
        for (date, older, expected) in cases {
            let report = analyse_text(&format!(
                "Received: {delivered}\nReceived: {older}\nFrom: a@example.com\nDate: {date}\nSubject: test\n\nbody\n"
            ));
            let detail = report
                .findings
                .iter()
                .find(|f| f.id == "chain.date-far-from-first-hop")
                .map(|f| f.detail.clone());
            match expected {
                Some(start) => {
                    let detail = detail.expect("a chain.date-far-from-first-hop finding");
                    assert!(detail.starts_with(start), "{date}: {detail}");
                }
                None => assert_eq!(detail, None, "{date}"),
            }
        }
    }

    /// Logins that the protocol name does not show: Sendmail records one in a comment and
    /// keeps `with ESMTP`, and webmail hands the message over with HTTP from the user's own
    /// address. A mailbox server of Exchange Online also uses HTTPS, between its own servers.
    #[test]
    fn submission_without_protocol_name_table() {
        // (older hop, the words the finding's detail must contain, or None for no finding)
        let cases = [
            (
                "from [10.0.0.5] (host.example.net [203.0.113.39]) (authenticated bits=0) by smtp.example.net (8.12.5/8.12.5) with ESMTP id g7ME4aB1; Mon, 1 Jan 2024 10:00:00 +0000",
                Some("SMTP AUTH login in a comment"),
            ),
            (
                "from [203.0.113.39] by web1.mail.example.net via HTTP; Mon, 1 Jan 2024 10:00:00 +0000",
                Some("submitted over HTTP"),
            ),
            (
                "from 203.0.113.39 by webmail.example.net with HTTP; Mon, 1 Jan 2024 10:00:00 +0000",
                Some("submitted over HTTP"),
            ),
            (
                "from 10.0.0.5 by webmail.example.net with HTTPS; Mon, 1 Jan 2024 10:00:00 +0000",
                None,
            ),
            (
                "by webmail.example.net with HTTP; Mon, 1 Jan 2024 10:00:00 +0000",
                None,
            ),
            (
                "from AM6PR04MB1.eurprd04.prod.outlook.com (2001:db8::11) by VI1PR04MB2.eurprd04.prod.outlook.com with HTTPS; Mon, 1 Jan 2024 10:00:00 +0000",
                None,
            ),
        ];
        for (older, expected) in cases {
            let findings = two_hop_findings(
                "from smtp.example.net (smtp.example.net [198.51.100.5]) by mx.example.org with ESMTPS id 2; Mon, 1 Jan 2024 10:00:05 +0000",
                older,
            );
            let finding = findings
                .iter()
                .find(|f| f.id == "chain.authenticated-submission");
            assert_eq!(finding.is_some(), expected.is_some(), "{older}");
            if let (Some(finding), Some(words)) = (finding, expected) {
                assert!(finding.title.contains("hop 1"), "{}", finding.title);
                assert!(finding.detail.contains(words), "{}", finding.detail);
                assert!(
                    finding.detail.contains("203.0.113.39"),
                    "{}",
                    finding.detail
                );
            }
        }
    }

    #[test]
    fn authenticated_protocols() {
        for protocol in ["ESMTPSA", "esmtpa", "LMTPSA", "UTF8SMTPSA", "UTF8SMTPA"] {
            assert!(super::is_authenticated_protocol(protocol), "{protocol}");
        }
        for protocol in ["ESMTP", "ESMTPS", "SMTP", "HTTP", "Microsoft SMTP Server"] {
            assert!(!super::is_authenticated_protocol(protocol), "{protocol}");
        }
    }

    #[test]
    fn resent_gap_by_size() {
        // (date and zone of the newer hop, protocol, whether the gap is reported)
        let cases = [
            ("Mon, 8 Jan 2024 09:59:59 +0000", "ESMTP", false),
            ("Mon, 8 Jan 2024 10:00:01 +0000", "ESMTP", true),
            ("Sat, 1 Jun 2024 10:00:00 +0000", "ESMTP", true),
            // A guessed zone needs one more day. The recipient's own retrieval, here the
            // newest hop, is exempt.
            ("Tue, 9 Jan 2024 09:59:59", "ESMTP", false),
            ("Sat, 1 Jun 2024 10:00:00", "ESMTP", true),
            ("Sat, 1 Jun 2024 10:00:00 +0000", "IMAP", false),
        ];
        for (date, protocol, reported) in cases {
            let newer = format!(
                "from b.example.net (b.example.net [192.0.2.2]) by c.example.org with {protocol} id 2; {date}"
            );
            let gaps: Vec<Finding> = two_hop_findings(&newer, OLDER)
                .into_iter()
                .filter(|f| f.id == "chain.resent-after-gap")
                .collect();
            assert_eq!(gaps.len(), usize::from(reported), "{date} {protocol}");
            if reported {
                assert!(
                    gaps[0]
                        .detail
                        .contains("Hop 1 belongs to the earlier delivery")
                );
            }
        }
    }

    fn resent_gaps(report: &crate::analysis::Report) -> Vec<&Finding> {
        report
            .findings
            .iter()
            .filter(|f| f.id == "chain.resent-after-gap")
            .collect()
    }

    /// Dates that bridge a gap step by step below the edge do not hide it, and a hold
    /// inside the recipient's own systems is not reported.
    #[test]
    fn resent_gap_spans_and_own_holds() {
        let edge = "Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx.example.net with ESMTPS id 3; Thu, 1 Aug 2024 10:00:00 +0000\n";
        let bridged = format!(
            "{edge}Received: from b.example.org (b.example.org [203.0.113.8]) by mail.example.org with ESMTP id 2; Thu, 25 Jul 2024 10:00:00 +0000\n\
             Received: from c.example.org (c.example.org [192.0.2.10]) by b.example.org with ESMTP id 1; Thu, 18 Jul 2024 12:00:00 +0000\n\
             From: a@example.com\nSubject: test\n\nbody\n"
        );
        let report = analyse_text(&bridged);
        let gaps = resent_gaps(&report);
        assert_eq!(gaps.len(), 1);
        assert!(
            gaps[0].detail.contains("No single step"),
            "{}",
            gaps[0].detail
        );

        let quarantine = "Received: from gw.example.net (gw.example.net [10.0.0.5]) by mail.example.net with ESMTPS id 4; Sat, 10 Aug 2024 10:00:00 +0000\n\
             Received: from mail.example.org (mail.example.org [198.51.100.7]) by gw.example.net with ESMTPS id 3; Thu, 1 Aug 2024 10:00:00 +0000\n\
             From: a@example.com\nSubject: test\n\nbody\n";
        let report = analyse_text(quarantine);
        assert_eq!(report.chain.boundary, Some(1));
        assert!(resent_gaps(&report).is_empty());
    }

    /// A retrieval that the sender claims below the recipient's edge does not hide a gap.
    #[test]
    fn resent_gap_behind_claimed_retrieval() {
        let report = analyse_text(
            "Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx.example.net with ESMTPS id 3; Sat, 1 Jun 2024 10:00:09 +0000\n\
             Received: from relay.example.org (relay.example.org [203.0.113.8]) by mail.example.org with IMAP id 2; Sat, 1 Jun 2024 10:00:00 +0000\n\
             Received: from client.example.com (client.example.com [192.0.2.10]) by relay.example.org with ESMTP id 1; Mon, 1 Apr 2024 10:00:00 +0000\n\
             From: a@example.com\nSubject: test\n\nbody\n",
        );
        assert_eq!(report.chain.boundary, Some(3));
        let gaps = resent_gaps(&report);
        assert_eq!(gaps.len(), 1);
        assert!(gaps[0].detail.starts_with("Hop 2 "), "{}", gaps[0].detail);
    }

    #[test]
    fn clock_skew_severity_by_size() {
        // (time of the newer hop, seconds before the older hop, expected severity)
        let cases = [
            ("09:59:59", "1 s", Severity::Info),
            ("09:59:01", "59 s", Severity::Info),
            ("09:59:00", "60 s", Severity::Low),
            ("09:00:00", "3600 s", Severity::Low),
        ];
        for (time, skew, severity) in cases {
            let finding = clock_skew(
                &format!(
                    "from b.example.net (b.example.net [192.0.2.2]) by c.example.org with ESMTP id 2; Mon, 1 Jan 2024 {time} +0000"
                ),
                OLDER,
            );
            assert_eq!(finding.severity, severity, "{time}");
            assert!(finding.detail.contains(skew), "{time}: {}", finding.detail);
        }
    }

    /// An hour of skew between two of the sender's own hops, below the first external
    /// hop, is info. The same skew at the hand-over to the recipient stays low.
    #[test]
    fn clock_skew_on_sender_side_is_info() {
        let findings = analyse_text(
            "Received: from b.example.net (b.example.net [198.51.100.2]) by mx.example.org with ESMTP id 3; Mon, 1 Jan 2024 10:00:05 +0000\n\
             Received: from a.example.net (a.example.net [192.0.2.1]) by b.example.net with ESMTP id 2; Mon, 1 Jan 2024 09:00:00 +0000\n\
             Received: from client (client [203.0.113.9]) by a.example.net with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000\n\
             From: a@example.com\nSubject: test\n\nbody\n",
        )
        .findings;
        let skews: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.id == "chain.clock-skew")
            .collect();
        assert_eq!(skews.len(), 1, "{skews:?}");
        assert_eq!(skews[0].severity, Severity::Info);
        assert!(
            skews[0].title.contains("sender's side"),
            "{}",
            skews[0].title
        );
    }

    /// Without an SPF check that skips it, a filtering service at the edge stays the
    /// origin, and the finding names the address that handed the message to it.
    #[test]
    fn origin_on_filtering_service_names_the_entry() {
        let report = analyse_text(
            "Received: from dispatch1-us1.ppe-hosted.com (dispatch1-us1.ppe-hosted.com [148.163.129.52]) by mx.example.org with ESMTPS id 3; Mon, 1 Jan 2024 10:00:09 +0000\n\
             Received: from mail.example.com (mail.example.com [198.51.100.20]) by mx1-us1.ppe-hosted.com with ESMTPS id 2; Mon, 1 Jan 2024 10:00:05 +0000\n\
             From: a@example.com\nSubject: s\n\nbody\n",
        );
        assert_eq!(
            report.origin.as_ref().and_then(|o| o.ip),
            Some("148.163.129.52".parse().unwrap())
        );
        let finding = report
            .findings
            .iter()
            .find(|f| f.id == "chain.origin-on-filtering-service")
            .expect("a finding");
        assert!(
            finding.detail.contains("Hop 1 shows 198.51.100.20 handing the message to the service's server \"mx1-us1.ppe-hosted.com\""),
            "{}",
            finding.detail
        );

        let plain = analyse_text(
            "Received: from mail.example.com (mail.example.com [198.51.100.20]) by mx.example.org with ESMTPS id 2; Mon, 1 Jan 2024 10:00:05 +0000\n\
             From: a@example.com\nSubject: s\n\nbody\n",
        );
        assert!(
            !plain
                .findings
                .iter()
                .any(|f| f.id == "chain.origin-on-filtering-service")
        );
    }

    #[test]
    fn origin_moves_behind_skipped_gateway() {
        // A Google Workspace tenant behind a filtering gateway at example.net: Gmail checked
        // SPF for the address that reached the gateway, not for the gateway's own.
        let message = |spf_ip: &str| {
            format!(
                "Received-SPF: pass client-ip={spf_ip};\n\
                 Received: from out.example.net (out.example.net [198.51.100.20]) by mx.google.com with ESMTPS id 3; Mon, 1 Jan 2024 10:00:03 +0000\n\
                 Received: from filter.example.net (filter.example.net [127.0.0.1]) by in.example.net with ESMTP id 2; Mon, 1 Jan 2024 10:00:02 +0000\n\
                 Received: from sender.example.org (sender.example.org [203.0.113.7]) by in.example.net with ESMTPS id 1; Mon, 1 Jan 2024 10:00:01 +0000\n\
                 From: a@example.org\nSubject: test\n\nbody\n"
            )
        };
        let report = analyse_text(&message("203.0.113.7"));
        let origin = report.origin.as_ref().unwrap();
        assert_eq!(origin.ip, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(origin.hop, Some(1));
        assert_eq!(report.chain.boundary, Some(1));
        assert!(report.chain.hops[1..].iter().all(|hop| hop.internal));
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.id == "chain.origin-behind-gateway")
        );

        // The results that the gateway wrote between its Received fields are then the
        // recipient's too.
        let with_results = message("203.0.113.7").replace(
            "Received: from sender.example.org",
            "Authentication-Results: in.example.net; spf=fail smtp.mailfrom=example.org\n\
             Received: from sender.example.org",
        );
        use crate::analysis::test_support::trusted_lines;
        let report = analyse_text(&with_results);
        assert_eq!(trusted_lines(&report), [(4, true)]);

        // A field the sender planted below the new boundary hop stays the sender's, even
        // with the gateway's authserv-id.
        let planted = with_results.replace(
            "From: a@example.org",
            "Authentication-Results: in.example.net; dmarc=pass header.from=example.org\nFrom: a@example.org",
        );
        let report = analyse_text(&planted);
        assert_eq!(trusted_lines(&report), [(4, true), (6, false)]);
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.id == "auth.forged-results")
        );

        // An SPF address that is no hop's sender leaves the boundary where it was.
        let report = analyse_text(&message("192.0.2.99"));
        assert_eq!(report.chain.boundary, Some(3));
        assert_eq!(
            report.origin.unwrap().ip,
            Some("198.51.100.20".parse().unwrap())
        );
    }

    /// Tells whether a message with Received fields `newer` over `older` has
    /// `chain.broken-continuity`.
    fn broken(newer: &str, older: &str) -> bool {
        two_hop_findings(newer, older)
            .iter()
            .any(|f| f.id == "chain.broken-continuity")
    }

    #[test]
    fn continuity_table() {
        const DATE: &str = "Mon, 1 Jan 2024 10:00:01 +0000";
        let older = |by: &str| {
            format!(
                "from a.example.net (a.example.net [192.0.2.1]) by {by} with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000"
            )
        };
        // (newer hop without date, receiving host of the older hop, broken)
        let cases = [
            (
                "from relay.example.org (relay.example.org [198.51.100.2]) by mx.example.com",
                "mx.example.net",
                true,
            ),
            (
                "from mx.example.net (mx.example.net [198.51.100.2]) by mx.example.com",
                "mx.example.net",
                false,
            ),
            (
                "from out2.example.net (out2.example.net [198.51.100.2]) by mx.example.com",
                "mx1.example.net",
                false,
            ),
            (
                "from lugh (localhost [127.0.0.1]) by lugh.example.net",
                "lugh.example.net",
                false,
            ),
            (
                "from mx.example.org (mx.example.org [10.0.0.2]) by mx.example.com",
                "mx.example.net",
                false,
            ),
            (
                "from imap.example.org (imap.example.org [198.51.100.2]) by mx.example.com with IMAP",
                "mx.example.net",
                false,
            ),
            (
                "from relay.example.org (relay.example.org [198.51.100.2]) by mx.example.com",
                "MailEnable",
                false,
            ),
            (
                "from EUR03-AM7-obe.outbound.protection.outlook.com (198.51.100.2) by mx.example.com",
                "DU2PR01MB0001.eurprd01.prod.exchangelabs.com",
                false,
            ),
            (
                "from debbugs by bugs.example.com",
                "submit.example.net",
                false,
            ),
            (
                "from [198.51.100.2] by mx.example.com",
                "mx.example.net",
                false,
            ),
        ];
        for (newer, by, expected) in cases {
            assert_eq!(
                broken(&format!("{newer}; {DATE}"), &older(by)),
                expected,
                "{newer} / {by}"
            );
        }
    }

    #[test]
    fn unknown_local_zone_reported_once() {
        let hop = "Received: from a.example.net (a.example.net [192.0.2.1]) by b.example.net with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 -0000\n";
        let report = analyse_text(&format!(
            "{}From: a@example.com\nSubject: test\n\nbody\n",
            hop.repeat(20)
        ));
        let zone: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.id == "date.unknown-local-zone")
            .collect();
        assert_eq!(zone.len(), 1);
        assert_eq!(zone[0].evidence.len(), 5);
        assert!(
            zone[0].detail.starts_with("20 Received fields"),
            "{}",
            zone[0].detail
        );
        assert_eq!(zone[0].evidence[0].line, Some(1));
    }

    #[test]
    fn clock_skew_names_missing_receiver() {
        let finding = clock_skew(
            "from b.example.net (b.example.net [192.0.2.2]) by c.example.org with ESMTP id 2; Mon, 1 Jan 2024 09:50:00 +0000",
            "(qmail 5394 invoked from network); 1 Jan 2024 10:00:00 -0000",
        );
        assert_eq!(
            finding.detail,
            "Hop 2 (c.example.org) is stamped 600 s before hop 1 (a local step that names no receiving host). Either a clock is wrong or a Received field was forged."
        );
    }
}
