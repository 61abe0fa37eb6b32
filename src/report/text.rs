//! Text report for terminals: summary, relay chain, authentication, Exchange stamps,
//! findings by severity with evidence, IP list matches and the score with its reasons.
//! Every header-derived string goes through [`escape_terminal`].

use crate::analysis::Report;
use crate::analysis::chain::Origin;
use crate::finding::Severity;
use crate::parse::date::format_timestamp;
use crate::report::escape::escape_terminal as esc;
use std::fmt::Write;

/// Colour settings: colour only on a terminal, and never when NO_COLOR is set.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    fn severity(&self, severity: Severity) -> String {
        let label = format!("{:<6}", severity.as_str().to_uppercase());
        let code = match severity {
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, &label)
    }
}

/// Renders one report as text.
pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    summary(&mut out, report, style);
    chain(&mut out, report, style);
    auth(&mut out, report, style);
    exchange(&mut out, report, style);
    platforms(&mut out, report, style);
    verified(&mut out, report, style);
    findings(&mut out, report, style);
    ip_matches(&mut out, report, style);
    score(&mut out, report, style);
    out
}

/// Number of findings with the same id shown in full in the text report.
const MAX_FINDINGS_PER_ID: usize = 5;

/// Maximum characters of one header-derived value in the text report; JSON keeps all.
const MAX_VALUE_CHARS: usize = 300;

/// Escapes a value for the terminal and shortens it to [`MAX_VALUE_CHARS`], saying how
/// much was left out.
fn clip(text: &str) -> String {
    let count = text.chars().count();
    if count <= MAX_VALUE_CHARS {
        return esc(text);
    }
    let kept: String = text.chars().take(MAX_VALUE_CHARS).collect();
    format!(
        "{}… ({} more characters; see the JSON report)",
        esc(&kept),
        count - MAX_VALUE_CHARS
    )
}

fn opt(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_string(), clip)
}

fn summary(out: &mut String, report: &Report, style: Style) {
    let source = &report.source;
    let mut location = esc(&source.path);
    if let Some(index) = source.index {
        let _ = write!(location, " (message {index})");
    }
    let _ = writeln!(out, "{} {location}", style.bold("mailtrace report:"));
    if let Some(attachment) = &source.attachment {
        let _ = writeln!(
            out,
            "  from attachment {} ({}) of a message from {} with subject {}",
            attachment.label(),
            clip(
                attachment
                    .filename
                    .as_deref()
                    .unwrap_or(&attachment.content_type)
            ),
            opt(attachment.wrapper_from.as_deref()),
            opt(attachment.wrapper_subject.as_deref())
        );
        if let Some(ip) = attachment.reported_source_ip {
            let _ = writeln!(out, "  the feedback report names Source-IP {ip}");
        }
    }
    let message = &report.message;
    let from = match message.from_mailbox() {
        Some(m) => match &m.display {
            Some(name) => format!("\"{}\" <{}>", clip(name), clip(&m.address)),
            None => format!("<{}>", clip(&m.address)),
        },
        None => opt(message.from_text.as_deref()),
    };
    let _ = writeln!(out, "  From:        {from}");
    if !message.reply_to.is_empty() {
        let addresses: Vec<&str> = message
            .reply_to
            .iter()
            .map(|m| m.address.as_str())
            .collect();
        let _ = writeln!(out, "  Reply-To:    {}", clip(&addresses.join(", ")));
    }
    let _ = writeln!(
        out,
        "  Return-Path: {}",
        opt(message.return_path.as_deref())
    );
    // An Outlook item without transport headers keeps its subject as a MAPI property.
    let subject = match (
        &message.subject,
        report.msg.as_ref().and_then(|m| m.subject.as_ref()),
    ) {
        (Some(subject), _) => clip(subject),
        (None, Some(subject)) => format!("{} (Outlook item property)", clip(subject)),
        (None, None) => "-".into(),
    };
    let _ = writeln!(out, "  Subject:     {subject}");
    let date = message.date.as_ref().map(|d| match &d.timestamp {
        Some(t) => format!("{} ({})", clip(&d.raw), format_timestamp(t)),
        None => format!("{} (unparsed)", clip(&d.raw)),
    });
    let _ = writeln!(out, "  Date:        {}", date.unwrap_or_else(|| "-".into()));
    let _ = writeln!(out, "  Message-ID:  {}", opt(message.message_id.as_deref()));
    if let Some(msg) = &report.msg {
        let _ = writeln!(
            out,
            "  Outlook item: transport headers {}; MAPI sender {}; subject {}; submitted {}; delivered {}",
            format!("{:?}", msg.transport_headers).to_lowercase(),
            opt(msg.sender.as_deref()),
            opt(msg.subject.as_deref()),
            msg.client_submit_time
                .as_ref()
                .map_or("-".into(), format_timestamp),
            msg.delivery_time
                .as_ref()
                .map_or("-".into(), format_timestamp),
        );
    }
    let origin = match &report.origin {
        Some(Origin {
            ip: Some(ip),
            hop,
            source,
        }) => {
            // A provider's relay names the provider, not the sender, so the line names the provider.
            let provider =
                crate::platform::ranges::provider_range(*ip).map_or(String::new(), |range| {
                    format!(
                        ", a relay of {}: {}",
                        crate::platform::ranges::provider_name(range.provider),
                        range.label
                    )
                });
            format!(
                "{ip} ({}{}){provider}",
                hop.map_or(String::new(), |h| format!("hop {h}, ")),
                esc(source)
            )
        }
        Some(Origin {
            ip: None,
            hop: Some(hop),
            ..
        }) => {
            format!("none: hop {hop}, the first external hop, has no address")
        }
        Some(Origin {
            ip: None, source, ..
        }) => {
            format!("none: {} has no address", esc(source))
        }
        None => "none found".into(),
    };
    let _ = writeln!(out, "  Origin IP:   {origin}");
    if let Some(others) = other_addresses(report) {
        let _ = writeln!(out, "  Other IPs:   {others}");
    }
    let spoof = &report.spoof;
    let verdict = format!(
        "{}/100 {}",
        spoof.score,
        spoof.verdict.as_str().to_uppercase()
    );
    let _ = writeln!(out, "  Spoof score: {}", style.bold(&verdict));
}

/// Lists the addresses read outside the Received fields (X-Originating-IP, X-Sender-IP,
/// Received-SPF, Exchange's stamps) other than the origin, each once with every field that
/// names it, or `None` when there are none. The relay chain below shows the Received
/// addresses, and the JSON report every address with where it was read.
fn other_addresses(report: &Report) -> Option<String> {
    let origin = report.origin.as_ref().and_then(|origin| origin.ip);
    let mut listed: Vec<(std::net::IpAddr, Vec<&str>)> = Vec::new();
    for found in &report.addresses {
        if found.location.starts_with("Received hop") || Some(found.ip) == origin {
            continue;
        }
        match listed.iter_mut().find(|(ip, _)| *ip == found.ip) {
            Some((_, places)) if !places.contains(&found.location.as_str()) => {
                places.push(&found.location);
            }
            Some(_) => {}
            None => listed.push((found.ip, vec![&found.location])),
        }
    }
    (!listed.is_empty()).then(|| {
        listed
            .iter()
            .map(|(ip, places)| format!("{ip} ({})", esc(&places.join(", "))))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

fn chain(out: &mut String, report: &Report, style: Style) {
    let hops = &report.chain.hops;
    let _ = writeln!(
        out,
        "\n{} ({} {}, oldest first)",
        style.bold("Relay chain"),
        hops.len(),
        if hops.len() == 1 { "hop" } else { "hops" }
    );
    if hops.is_empty() {
        let _ = writeln!(out, "  no Received fields");
        return;
    }
    for hop in hops {
        let r = &hop.received;
        let time = r
            .timestamp
            .as_ref()
            .map_or("(no date)".to_string(), format_timestamp);
        // A time read as UTC for want of a zone gets no delay, and the column shows why.
        let delay = match hop.delay_seconds {
            Some(d) => delay_text(d),
            None if crate::analysis::chain::zone_guessed(&hop.received) => "zone?".into(),
            None => String::new(),
        };
        let host_is_ip = r.from_ip.is_some_and(|ip| {
            r.from_host.as_deref().is_some_and(|h| {
                h.trim_matches(['[', ']']).trim_start_matches("IPv6:") == ip.to_string()
            })
        });
        let from_ip = match r.from_ip {
            Some(ip) if !host_is_ip => format!(" [{ip}]"),
            _ => String::new(),
        };
        // The name after `from` is the claimed one in some dialects and the reverse-DNS
        // name in others (Exim, ZMailer, qmail), so the other name is shown beside it.
        let other_name = |label: &str, name: Option<&str>| {
            name.filter(|name| {
                r.from_host
                    .as_deref()
                    .is_none_or(|host| !host.eq_ignore_ascii_case(name))
            })
            .map(|name| format!(" {label} {}", esc(name)))
            .unwrap_or_default()
        };
        let rdns = other_name("rdns", r.from_rdns.as_deref());
        let helo = other_name("helo", r.helo.as_deref());
        // Without a reverse-DNS name, a name after `from` that is the HELO name is only
        // what the client claimed, and is labelled so (qmail's `from unknown (HELO x)`).
        let claimed = if r.from_rdns.is_none()
            && !host_is_ip
            && r.helo.as_deref().is_some_and(|helo| {
                r.from_host
                    .as_deref()
                    .is_some_and(|host| host.eq_ignore_ascii_case(helo))
            }) {
            "helo "
        } else {
            ""
        };
        let mark = if Some(hop.index) == report.chain.boundary {
            " <- first external hop"
        } else if hop.internal {
            " (internal)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {:>2}. {time} {delay:>8}  from {claimed}{}{from_ip}{rdns}{helo}  by {}{}{mark}",
            hop.index,
            opt(r.from_host.as_deref()),
            opt(r.by_host.as_deref()),
            r.protocol
                .as_deref()
                .map(|p| format!(" with {}", esc(p)))
                .unwrap_or_default(),
        );
    }
}

fn auth(out: &mut String, report: &Report, style: Style) {
    let auth = &report.auth;
    let _ = writeln!(out, "\n{}", style.bold("Recorded authentication"));
    if !report.has_transport_headers() {
        let _ = writeln!(out, "  not available: the item has no transport headers");
        return;
    }
    if auth.results.is_empty() && auth.received_spf.is_empty() && auth.dkim_signatures.is_empty() {
        let _ = writeln!(out, "  no authentication headers");
    }
    for field in &auth.results {
        // ARC-Authentication-Results record what a sealer saw; they are evidence for the
        // ARC chain, never the recipient's own verdict.
        let trust = match field.parsed.instance {
            Some(instance) if !field.trusted => format!("ARC i={instance}"),
            _ => trust_label(field.trusted).to_string(),
        };
        let results: Vec<String> = field
            .parsed
            .results
            .iter()
            .map(|r| {
                let props: Vec<String> = r
                    .properties
                    .iter()
                    .map(|p| format!("{}={}", esc(&p.key()), esc(&p.value)))
                    .collect();
                let reason = r
                    .reason
                    .as_deref()
                    .map(|reason| {
                        let meaning = (r.method == "compauth")
                            .then(|| crate::parse::exchange::describe_compauth_reason(reason))
                            .flatten()
                            .map(|m| format!(" ({m})"))
                            .unwrap_or_default();
                        format!(" reason={}{meaning}", clip(reason))
                    })
                    .unwrap_or_default();
                let text = format!(
                    "{}={}{reason} {}",
                    esc(&r.method),
                    esc(&r.result),
                    props.join(" ")
                );
                text.trim_end().to_string()
            })
            .collect();
        let _ = writeln!(
            out,
            "  [{trust}] {} line {} ({}): {}",
            esc(&field.header),
            field.line,
            field
                .parsed
                .authserv_id
                .as_deref()
                .map_or_else(|| "no authserv-id".to_string(), clip),
            if results.is_empty() {
                "none".into()
            } else {
                results.join("; ")
            }
        );
    }
    for spf in &auth.received_spf {
        let p = &spf.parsed;
        // The pairs that are present. Microsoft writes none and names in its comment what
        // it checked, so the comment is shown instead.
        let mut details: Vec<String> = Vec::new();
        if let Some(ip) = p.client_ip.or(p.comment_ip) {
            details.push(format!("client-ip={ip}"));
        }
        if let Some(envelope_from) = p.envelope_from.as_deref() {
            details.push(format!("envelope-from={}", clip(envelope_from)));
        }
        if let Some(helo) = p.helo.as_deref() {
            details.push(format!("helo={}", clip(helo)));
        }
        if details.is_empty()
            && let Some(comment) = p.comment.as_deref()
        {
            let comment = comment.split_whitespace().collect::<Vec<_>>().join(" ");
            details.push(format!("({})", clip(&comment)));
        }
        let _ = writeln!(
            out,
            "  [{}] Received-SPF line {}: {} {}",
            trust_label(spf.trusted),
            spf.line,
            esc(&p.result),
            details.join(" ")
        );
    }
    for dkim in &auth.dkim_signatures {
        let d = &dkim.parsed;
        let _ = writeln!(
            out,
            "  DKIM-Signature line {}: d={} s={} a={} h={}",
            dkim.line,
            opt(d.d.as_deref()),
            opt(d.s.as_deref()),
            opt(d.a.as_deref()),
            esc(&d.h.join(":"))
        );
    }
    if auth.arc.set_count > 0 {
        let _ = writeln!(
            out,
            "  ARC: {} set(s), chain {} (structure only, no signature check)",
            auth.arc.set_count,
            esc(&auth.arc.chain)
        );
    }
}

/// Labels a recorded result by whether the recipient's own systems stamped it.
fn trust_label(trusted: bool) -> &'static str {
    if trusted { "trusted" } else { "untrusted" }
}

fn exchange(out: &mut String, report: &Report, style: Style) {
    let exchange = &report.exchange;
    if exchange.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", style.bold("Exchange Online stamps"));
    for forefront in &exchange.forefront {
        let origin = if forefront.upstream() {
            " (from an upstream tenant)"
        } else {
            ""
        };
        let _ = writeln!(out, "  {}{origin}:", esc(&forefront.field_name));
        for pair in forefront.describe() {
            let meaning = pair
                .meaning
                .as_deref()
                .map(|m| format!(" ({})", esc(m)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {:<5} {:<28} {}{meaning}",
                esc(&pair.key),
                esc(&pair.label),
                esc(&pair.value)
            );
        }
    }
    if let Some(antispam) = &exchange.microsoft_antispam
        && let Some(bcl) = antispam.bcl
    {
        let meaning = crate::parse::exchange::describe_bcl(bcl)
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  X-Microsoft-Antispam: BCL {bcl}{}", esc(&meaning));
    }
    if let Some(delivery) = &exchange.mailbox_delivery {
        let mut parts: Vec<String> = Vec::new();
        if let Some(dest) = &delivery.destination {
            let name = delivery
                .destination_name()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            parts.push(format!("dest {}{name}", esc(dest)));
        }
        if let Some(reason) = &delivery.reason {
            parts.push(format!("OFR {}", esc(reason)));
        }
        if let Some(folder) = &delivery.routed_folder {
            parts.push(format!("RF {}", esc(folder)));
        }
        if !parts.is_empty() {
            let _ = writeln!(
                out,
                "  X-Microsoft-Antispam-Mailbox-Delivery: {} (not documented by Microsoft)",
                parts.join(", ")
            );
        }
    }
    if let Some((value, meaning)) = &exchange.organization_scl {
        let _ = writeln!(
            out,
            "  X-MS-Exchange-Organization-SCL: {value} ({})",
            esc(meaning)
        );
    }
    if let Some(auth_as) = &exchange.organization_auth_as {
        let _ = writeln!(out, "  X-MS-Exchange-Organization-AuthAs: {}", esc(auth_as));
    }
    for entity in &exchange.from_entity {
        let _ = writeln!(
            out,
            "  X-MS-Exchange-CrossTenant-FromEntityHeader: {}",
            esc(entity)
        );
    }
    for connecting in &exchange.connecting_ips {
        let _ = writeln!(
            out,
            "  Cross-tenant connecting IP: {} (tenant {}, HELO {})",
            connecting.ip.map_or("-".into(), |ip| ip.to_string()),
            opt(connecting.tenant_id.as_deref()),
            opt(connecting.helo.as_deref())
        );
    }
}

fn platforms(out: &mut String, report: &Report, style: Style) {
    let section = &report.platforms;
    if section.platforms.is_empty() && section.gateways.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", style.bold("Receiving platforms"));
    for platform in &section.platforms {
        let side = if platform.sender_side {
            ", on the sender's side"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {:<9} {}{side} ({})",
            platform.position,
            esc(&platform.name),
            esc(&platform.recognised_by.join("; "))
        );
    }
    if !section.missing.is_empty() {
        let _ = writeln!(
            out,
            "  missing always-written headers: {}",
            esc(&section.missing.join(", "))
        );
    }
    for gateway in &section.gateways {
        let sender_side = section
            .platforms
            .iter()
            .any(|p| p.sender_side && p.id == gateway.profile_id);
        let origin = match (gateway.hosts_known && gateway.hop.is_none(), sender_side) {
            (true, true) => {
                " (its servers appear only in hops on the sender's side, which the sender wrote: the sending organisation's outbound filter, or forged; not the recipient's gateway)"
            }
            (true, false) => {
                " (no Received hop by its servers, so the message may have carried these headers in)"
            }
            _ => "",
        };
        let _ = writeln!(
            out,
            "  gateway   {}{origin}: {}",
            gateway.vendor,
            esc(&gateway.headers.join(", "))
        );
        for (header, value) in &gateway.values {
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(out, "            {}: {}", esc(header), clip(&value));
        }
    }
}

fn findings(out: &mut String, report: &Report, style: Style) {
    let _ = writeln!(
        out,
        "\n{} ({})",
        style.bold("Findings"),
        report.findings.len()
    );
    // The first few findings of each id are shown in full; the rest are counted, so a
    // message with thousands of hops stays readable. JSON lists every finding.
    let mut shown: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for finding in &report.findings {
        let seen = shown.entry(finding.id.as_str()).or_default();
        *seen += 1;
        if *seen > MAX_FINDINGS_PER_ID {
            continue;
        }
        let _ = writeln!(
            out,
            "  {} {}  {}",
            style.severity(finding.severity),
            esc(&finding.id),
            esc(&finding.title)
        );
        let _ = writeln!(out, "         {}", esc(&finding.detail));
        if !finding.headers.is_empty() {
            let names: Vec<String> = finding.headers.iter().map(|h| esc(h)).collect();
            let _ = writeln!(out, "         headers: {}", names.join(", "));
        }
        for evidence in finding.evidence.iter().take(3) {
            let line = evidence
                .line
                .map(|l| format!(" line {l}"))
                .unwrap_or_default();
            let value = crate::headers::truncate(&evidence.value, 160);
            let _ = writeln!(
                out,
                "         evidence: {}{line}: {}",
                esc(&evidence.header),
                esc(&value)
            );
        }
    }
    let mut hidden: Vec<(&str, usize)> = shown
        .into_iter()
        .filter(|(_, count)| *count > MAX_FINDINGS_PER_ID)
        .map(|(id, count)| (id, count - MAX_FINDINGS_PER_ID))
        .collect();
    hidden.sort();
    for (id, count) in hidden {
        let _ = writeln!(
            out,
            "  … and {count} more {} findings (see the JSON report)",
            esc(id)
        );
    }
}

fn ip_matches(out: &mut String, report: &Report, style: Style) {
    if report.ip_matches.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", style.bold("IP list matches"));
    for m in &report.ip_matches {
        let _ = writeln!(
            out,
            "  {} in {} ({}): list {}, entry {}{}",
            m.ip,
            esc(&m.location),
            if m.builtin { "built-in" } else { "user list" },
            esc(&m.list),
            m.entry,
            m.label
                .as_deref()
                .map(|l| format!(", {}", esc(l)))
                .unwrap_or_default()
        );
    }
}

fn score(out: &mut String, report: &Report, style: Style) {
    let spoof = &report.spoof;
    let _ = writeln!(
        out,
        "\n{} {}/100 ({})",
        style.bold("Spoof score"),
        spoof.score,
        spoof.verdict.as_str()
    );
    if spoof.signals.is_empty() {
        let _ = writeln!(out, "  no signals");
    }
    for signal in &spoof.signals {
        let _ = writeln!(
            out,
            "  +{:<3} {:<32} {}",
            signal.points,
            signal.id,
            esc(&signal.detail)
        );
    }
}

/// Renders the "Verified now" section: results checked with `--online`, next to the recorded ones.
fn verified(out: &mut String, report: &Report, style: Style) {
    let Some(verified) = &report.verified else {
        return;
    };
    let _ = writeln!(
        out,
        "\n{} (DNS: {})",
        style.bold("Verified now"),
        esc(&verified.dns)
    );
    let recorded = |method: &str| {
        let results = report.auth.trusted_results(method);
        results
            .first()
            .map_or_else(|| "-".to_string(), |r| esc(&r.result))
    };
    for check in &verified.dkim {
        let _ = writeln!(
            out,
            "  dkim={:<9} d={} s={} {} {}{}   recorded: dkim={}",
            check.result,
            opt(check.domain.as_deref()),
            opt(check.selector.as_deref()),
            opt(check.algorithm.as_deref()),
            check.key_bits.map_or_else(
                || "key size unknown".to_string(),
                |b| format!("{b}-bit key")
            ),
            check
                .reason
                .as_deref()
                .map_or_else(String::new, |r| format!(" ({})", esc(r))),
            recorded("dkim")
        );
    }
    for check in &verified.spf {
        let _ = writeln!(
            out,
            "  spf={:<10} {} {} from {}   recorded: spf={}",
            check.result,
            check.identity,
            esc(&check.domain),
            check.ip,
            recorded("spf")
        );
        if let Some(reason) = &check.reason {
            let _ = writeln!(out, "    {}", esc(reason));
        }
    }
    if let Some(dmarc) = &verified.dmarc {
        let _ = writeln!(
            out,
            "  dmarc={:<8} {} p={} sp={} pct={} (dkim aligned: {}, spf aligned: {})   recorded: dmarc={}",
            dmarc.result,
            esc(&dmarc.domain),
            opt(dmarc.policy.as_deref()),
            opt(dmarc.subdomain_policy.as_deref()),
            dmarc.pct.map_or_else(|| "-".to_string(), |p| p.to_string()),
            dmarc.dkim_aligned,
            dmarc.spf_aligned,
            recorded("dmarc")
        );
    }
    if let Some(arc) = &verified.arc {
        let _ = writeln!(
            out,
            "  arc={:<10} {} sets   recorded: arc={}",
            arc.result,
            arc.sets,
            recorded("arc")
        );
    }
    if let Some(iprev) = &verified.iprev {
        let names: Vec<String> = iprev.ptr.iter().map(|n| esc(n)).collect();
        let _ = writeln!(
            out,
            "  iprev={:<8} {} PTR {}",
            iprev.result,
            iprev.ip,
            if names.is_empty() {
                "-".to_string()
            } else {
                names.join(", ")
            }
        );
    }
}

/// Writes a hop delay for the chain's delay column: seconds up to 10 minutes, then minutes,
/// hours from 100 minutes and days above 2 days, with the sign. JSON keeps the seconds.
fn delay_text(seconds: f64) -> String {
    let size = seconds.abs();
    if size < 600.0 {
        format!("{seconds:+}s")
    } else if size < 6000.0 {
        format!("{:+.0}m", seconds / 60.0)
    } else if size < 172_800.0 {
        format!("{:+.1}h", seconds / 3600.0)
    } else {
        format!("{:+.1}d", seconds / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_support::analyse_text;

    /// A message with a Received-SPF stamped by the recipient's edge (line 2) and one
    /// written upstream, below an older Received field (line 4).
    const TWO_SPF: &str = "\
Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx1.example.net (Postfix) with ESMTP id 4Q; Tue, 8 Aug 2023 16:13:55 +0000
Received-SPF: pass (mx1.example.net: domain of example.org designates 198.51.100.7 as permitted sender) client-ip=198.51.100.7;
Received: from out.example.com (out.example.com [203.0.113.9]) by mail.example.org (Postfix) with ESMTP id 3P; Tue, 8 Aug 2023 16:13:50 +0000
Received-SPF: fail (mail.example.org: domain of example.org does not designate 203.0.113.9 as permitted sender) client-ip=203.0.113.9;
From: a@example.org
Reply-To: innocent@example.com, \"Spammer\" <another1@example.org>
Subject: test

body
";

    fn render_plain(text: &str) -> String {
        render(&analyse_text(text), Style { colour: false })
    }

    #[test]
    fn received_spf_shows_trust() {
        let output = render_plain(TWO_SPF);
        assert!(
            output.contains("  [trusted] Received-SPF line 2: pass client-ip=198.51.100.7"),
            "{output}"
        );
        assert!(
            output.contains("  [untrusted] Received-SPF line 4: fail client-ip=203.0.113.9"),
            "{output}"
        );
    }

    /// The sender's outbound Proofpoint is not the recipient's gateway.
    #[test]
    fn sender_side_gateway_labelled() {
        let output = render_plain(
            "Received: from mx0a-001b2d01.pphosted.com (mx0a-001b2d01.pphosted.com [148.163.158.5]) by mx.example.org with SMTP id 3; Mon, 1 Jan 2024 10:00:03 +0000\n\
             Received: from out.example.com (out.example.com [198.51.100.20]) by mx0b-001b2d01.pphosted.com with ESMTP id 2; Mon, 1 Jan 2024 10:00:02 +0000\n\
             X-Proofpoint-Spam-Details: rule=outbound_notspam policy=outbound score=0\n\
             From: a@example.com\nSubject: test\n\nbody\n",
        );
        assert!(
            output.contains(
                "Proofpoint, on the sender's side (Received hop 1 by mx0b-001b2d01.pphosted.com)"
            ),
            "{output}"
        );
        assert!(
            output.contains("the sending organisation's outbound filter, or forged"),
            "{output}"
        );
    }

    #[test]
    fn delay_column_units() {
        let cases = [
            (5.0, "+5s"),
            (-25.0, "-25s"),
            (0.5, "+0.5s"),
            (1620.0, "+27m"),
            (7170.0, "+2.0h"),
            (19_080.0, "+5.3h"),
            (-1_029_054.0, "-11.9d"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(super::delay_text(seconds), expected, "{seconds}");
        }
    }

    #[test]
    fn origin_without_address_says_none() {
        let output = render_plain(
            "Received: from relay.example.net by mx.example.com; Mon, 7 Aug 2023 05:11:55 +0000\n\
             From: a@example.org\n\nbody\n",
        );
        assert!(
            output.contains("  Origin IP:   none: hop 1, the first external hop, has no address\n"),
            "{output}"
        );
    }

    #[test]
    fn addresses_outside_received_fields_are_listed() {
        let output = render_plain(
            "Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx1.example.net (Postfix) with ESMTP id 4Q; Tue, 8 Aug 2023 16:13:55 +0000\n\
             X-Originating-IP: [192.0.2.44]\n\
             From: a@example.org\n\nbody\n",
        );
        assert!(
            output.contains("  Other IPs:   192.0.2.44 (X-Originating-IP)\n"),
            "{output}"
        );
    }

    #[test]
    fn reply_to_shows_every_address() {
        let output = render_plain(TWO_SPF);
        assert!(
            output.contains("  Reply-To:    innocent@example.com, another1@example.org\n"),
            "{output}"
        );
    }
}
