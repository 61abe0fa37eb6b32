//! Forwarders and mailing lists: intermediaries that legitimately break DMARC alignment.
//!
//! A mailing list re-sends a member's message with its own envelope sender (RFC 2369,
//! RFC 2919), and a forwarder often does too, so the From domain then matches neither the
//! envelope nor any signature that survived (RFC 7960 section 3.2). mailtrace treats such a
//! message as forwarded when the envelope sender or Sender belongs to a domain the analyst
//! declared in `allow_forwarders`, to a trusted ARC sealer that sealed the message, or to
//! the mailing list named by the message's own List-Id or List-Post field. A list that
//! names itself in one domain and sends from another (Yahoo Groups) counts when its
//! envelope sender is in the domain of a server that sent the message on. So does a list
//! server's own envelope (`owner-NAME`, `NAME-owner`, `NAME-request`).

use crate::analysis::Report;
use crate::analysis::chain::Hop;
use crate::analysis::sender::{address_domain, org_domain};
use crate::config::AnalysisConfig;
use crate::finding::{Finding, Severity};
use crate::report::escape::quoted;

/// Names the intermediary that explains a broken alignment, if there is one.
pub fn forwarded_by(report: &Report, config: &AnalysisConfig) -> Option<String> {
    let carriers = carrier_domains(report);

    // Step 1: a forwarder the analyst declared.
    let declared = carriers.iter().find(|carrier| {
        config
            .allow_forwarders
            .iter()
            .any(|f| org_domain(f).as_ref() == Some(*carrier))
    });
    if let Some(domain) = declared {
        return Some(format!("declared forwarder {domain}"));
    }

    // Step 2: a trusted ARC sealer (RFC 8617) that sealed this message.
    let sealer = report.auth.arc.sets.iter().find_map(|set| {
        let domain = set.seal.as_ref()?.d.as_deref()?.to_ascii_lowercase();
        let trusted = config
            .trusted_arc_sealers
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&domain));
        trusted.then_some(domain)
    });
    if let Some(domain) = sealer {
        return Some(format!("trusted ARC sealer {domain}"));
    }

    // Step 3: a list server's own envelope: Majordomo's and LISTSERV's `owner-NAME`,
    // `NAME-owner` or `NAME-request`, older than the List-* fields and often without them.
    if let Some(address) = list_server_envelope(report) {
        return Some(format!("mailing list envelope {address}"));
    }

    // Step 4: a mailing list whose own domain is the envelope sender's or Sender's.
    let list = list_domain(report)?;
    if carriers.contains(&list) {
        return Some(format!("mailing list at {list}"));
    }

    // Step 5: a mailing list that names itself in one domain and sends from another, with
    // its envelope sender in the domain of a server that sent the message on (Yahoo
    // Groups: lists at yahoogroups.com, sent from groups.yahoo.com). The server's name is
    // the reverse-DNS name that the next hop looked up, not one the sender chose.
    let relay = sending_relay_domains(report)
        .into_iter()
        .find(|domain| carriers.contains(domain))?;
    Some(format!("mailing list at {list}, sent from {relay}"))
}

/// Returns the Return-Path or Sender address when its local part is a list server's:
/// `owner-NAME`, `NAME-owner` or `NAME-request`.
fn list_server_envelope(report: &Report) -> Option<String> {
    [
        report.message.return_path.as_deref(),
        report.message.sender.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find_map(|value| {
        let address = value.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, _) = address.rsplit_once('@')?;
        let local = local.to_ascii_lowercase();
        let listed = local.len() > "owner-".len()
            && (local.starts_with("owner-")
                || local.ends_with("-owner")
                || local.ends_with("-request"));
        listed.then(|| address.to_string())
    })
}

/// Returns the newest hop sent by a server of the list: a server whose name is in the list's
/// organisational domain, or Google's for a Google Group, which Google's servers send
/// whatever the group's domain.
fn list_server_hop<'a>(report: &'a Report, list: &str, google_group: bool) -> Option<&'a Hop> {
    report.chain.hops.iter().rev().find(|hop| {
        hop.received.sender_names().any(|name| {
            org_domain(name.trim_end_matches('.'))
                .is_some_and(|d| d == list || (google_group && d == "google.com"))
        })
    })
}

/// Returns the organisational domains of the reverse-DNS names of the servers that sent
/// the hops up to the first external hop, newest first.
fn sending_relay_domains(report: &Report) -> Vec<String> {
    let Some(edge) = report.origin.as_ref().and_then(|origin| origin.hop) else {
        return Vec::new();
    };
    report
        .chain
        .hops
        .iter()
        .rev()
        .filter(|hop| hop.index <= edge)
        .filter_map(|hop| org_domain(hop.received.from_rdns.as_deref()?.trim_end_matches('.')))
        .collect()
}

/// Returns the organisational domains of the envelope sender (Return-Path) and Sender.
fn carrier_domains(report: &Report) -> Vec<String> {
    [
        report.message.return_path.as_deref(),
        report.message.sender.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(address_domain)
    .filter_map(|d| org_domain(&d))
    .collect()
}

/// The fields that name a mailing list, in the order [`list_domain`] reads them.
const LIST_HEADERS: [&str; 7] = [
    "List-Id",
    "List-Post",
    "List-Unsubscribe",
    "List-Subscribe",
    "List-Help",
    "List-Owner",
    "Mailing-List",
];

/// Returns the organisational domain of the list that sent the message. The first source
/// that names one wins: List-Id (RFC 2919 section 3, `<list-label.domain>`), then a mailto
/// address of List-Post or of the other RFC 2369 fields (List-Unsubscribe, List-Subscribe,
/// List-Help, List-Owner), then ezmlm's `Mailing-List: list NAME@DOMAIN`, which Yahoo
/// Groups also wrote.
pub fn list_domain(report: &Report) -> Option<String> {
    list_source(report).map(|(domain, _)| domain)
}

/// Returns the list's organisational domain, as [`list_domain`] does, with the name of the
/// field that gave it.
fn list_source(report: &Report) -> Option<(String, &'static str)> {
    let headers = &report.headers;
    let from_id = headers.value("List-Id").and_then(|value| {
        let inner = value.rsplit_once('<')?.1.split_once('>')?.0;
        org_domain(inner.trim()).map(|domain| (domain, "List-Id"))
    });
    let mailto_domain = |name: &'static str| {
        let value = headers.value(name)?;
        let mailto = value.split_once("mailto:")?.1;
        let address = mailto.split(['>', '?', ',']).next()?;
        address_domain(address.trim())
            .and_then(|d| org_domain(&d))
            .map(|domain| (domain, name))
    };
    let from_ezmlm = || {
        let value = headers.value("Mailing-List")?;
        let address = value
            .trim()
            .strip_prefix("list")?
            .split([';', ' '])
            .find(|t| t.contains('@'))?;
        address_domain(address)
            .and_then(|d| org_domain(&d))
            .map(|domain| (domain, "Mailing-List"))
    };
    from_id
        .or_else(|| {
            LIST_HEADERS[1..6]
                .iter()
                .find_map(|name| mailto_domain(name))
        })
        .or_else(from_ezmlm)
}

/// Explains a message that a mailing list re-sent: the list's envelope sender (Return-Path or
/// Sender) is in the domain its list headers name. The origin is then the list's outbound
/// server, and the author's own delivery to the list sits in the older hops. The finding
/// names the list, Google's group id, the author that Google Groups records in
/// X-Original-Sender, every group that checked the message, and the oldest hop's client.
pub fn list_resend_finding(report: &Report) -> Option<Finding> {
    let list = list_domain(report)?;
    if !carrier_domains(report).contains(&list) {
        return None;
    }
    // List-Unsubscribe and its kin are on all bulk mail (RFC 8058 one-click unsubscribe),
    // so only the fields that a list server writes count here.
    let headers = &report.headers;
    let list_header = ["List-Id", "List-Post", "Mailing-List", "X-Google-Group-Id"]
        .into_iter()
        .find(|name| headers.value(name).is_some())?;

    // The list, and Google's id for a Google Group.
    let in_list = |value: Option<&str>| {
        value
            .and_then(address_domain)
            .and_then(|d| org_domain(&d))
            .is_some_and(|d| d == list)
    };
    let carrier = if in_list(report.message.return_path.as_deref()) {
        "with its own envelope sender"
    } else {
        "naming itself in Sender"
    };
    let mut detail = match headers.value("List-Id") {
        Some(id) => format!(
            "The mailing list at {list} re-sent this message (List-Id {}), {carrier}.",
            quoted(id.trim())
        ),
        None => format!("The mailing list at {list} re-sent this message, {carrier}."),
    };
    if let Some(group) = headers.value("X-Google-Group-Id") {
        detail.push_str(&format!(
            " It is a Google Group (X-Google-Group-Id {}), which Google can identify by that number.",
            quoted(group.trim())
        ));
    }

    // Nested groups, and the author that Google Groups records.
    let checked: Vec<String> = headers
        .all("X-Spam-Checked-In-Group")
        .map(|h| quoted(h.value.trim()))
        .collect();
    if checked.len() > 1 {
        detail.push_str(&format!(
            " {} groups passed it on, one inside the other (X-Spam-Checked-In-Group): {}.",
            checked.len(),
            checked.join(", ")
        ));
    }
    if let Some(author) = headers.value("X-Original-Sender") {
        detail.push_str(&format!(
            " X-Original-Sender names the author's address, {}.",
            quoted(author.trim())
        ));
    }

    // Where the list's re-sending and the author's delivery show in the chain.
    if let Some(origin) = &report.origin
        && let (Some(ip), Some(hop)) = (origin.ip, origin.hop)
    {
        let google_group = headers.value("X-Google-Group-Id").is_some();
        match list_server_hop(report, &list, google_group) {
            Some(server) if server.index == hop => detail.push_str(&format!(
                " The origin, {ip} (hop {hop}), is the list's outbound server, not the author's."
            )),
            Some(server) => {
                // The reverse-DNS name when the hop gives one, else the name it gave.
                let name = server
                    .received
                    .sender_names()
                    .next()
                    .unwrap_or("the list's server");
                let address = server
                    .received
                    .from_ip
                    .map_or(String::new(), |ip| format!(" [{ip}]"));
                detail.push_str(&format!(
                    " The list's server {}{address} sent it on at hop {}. The origin, {ip} (hop {hop}), received it after the list: a forwarder, or a relay of the recipient's own.",
                    quoted(name),
                    server.index
                ));
            }
            None => detail.push_str(&format!(
                " The origin, {ip} (hop {hop}), handed the re-sent message to the recipient's systems; no hop names a server in the list's domain."
            )),
        }
    }
    let oldest = report
        .chain
        .hops
        .iter()
        .find(|hop| hop.received.from_ip.is_some());
    if let Some(hop) = oldest
        && report.origin.as_ref().and_then(|o| o.hop) != Some(hop.index)
        && let Some(ip) = hop.received.from_ip
    {
        let by = hop.received.by_host.as_deref().unwrap_or("an unnamed host");
        detail.push_str(&format!(
            " The older hops are the author's delivery to the list: the oldest with an address, hop {}, shows {ip} handing the message to {}.",
            hop.index,
            quoted(by)
        ));
    }

    Some(
        Finding::new(
            "chain.resent-by-list",
            Severity::Info,
            format!("Re-sent by the mailing list at {list}"),
            detail,
        )
        .with_header(list_header),
    )
}

/// Tells whether a Reply-To organisational domain is the list's own, as when a list sends
/// replies back to the list.
pub fn is_list_reply(report: &Report, reply_org: &str) -> bool {
    list_domain(report).is_some_and(|list| list == reply_org)
}

/// Lowers `sender.reply-to-other-domain` to info when every Reply-To address outside the
/// From domain is the mailing list's own. A list that sends replies back to itself
/// (RFC 2369 List-Post, RFC 2919 List-Id) is ordinary and no sign of a spoofed sender.
pub fn explain_list_reply(report: &mut Report) {
    let reply_orgs = report.message.reply_to_other_orgs();
    if reply_orgs.is_empty() || !reply_orgs.iter().all(|d| is_list_reply(report, d)) {
        return;
    }
    let Some((_, list_field)) = list_source(report) else {
        return;
    };
    for finding in &mut report.findings {
        if finding.id == "sender.reply-to-other-domain" {
            finding.severity = crate::finding::Severity::Info;
            finding.title = "Reply-To points to the mailing list".into();
            finding.detail = format!(
                "{} The list's {list_field} field names the same domain, so the list sends replies back to itself.",
                finding.detail
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::Report;
    use crate::analysis::test_support::analyse_text;
    use crate::finding::Severity;

    fn analyse(fields: &str) -> Report {
        analyse_text(&format!(
            "From: Ann <ann@example.com>\nReply-To: group@example.net\n{fields}Subject: test\n\nbody\n"
        ))
    }

    fn reply_to_severity(report: &Report) -> Option<Severity> {
        report
            .findings
            .iter()
            .find(|f| f.id == "sender.reply-to-other-domain")
            .map(|f| f.severity)
    }

    #[test]
    fn list_reply_is_info() {
        let list_headers = [
            "List-Id: Group <group.example.net>\n",
            "List-Post: <mailto:group@example.net>\n",
            "List-Unsubscribe: <mailto:group-unsubscribe@example.net>\n",
            "Mailing-List: list group@example.net; contact group-owner@example.net\n",
        ];
        for fields in list_headers {
            let report = analyse(fields);
            assert_eq!(reply_to_severity(&report), Some(Severity::Info), "{fields}");
            assert!(
                !report
                    .spoof
                    .signals
                    .iter()
                    .any(|s| s.id == "reply-to-other-domain"),
                "{fields}"
            );
        }
    }

    #[test]
    fn list_reply_beside_sender_is_info() {
        let report = analyse_text(
            "From: Ann <ann@example.com>\nReply-To: group@example.net, ann@example.com\nList-Id: Group <group.example.net>\nSubject: test\n\nbody\n",
        );
        assert_eq!(reply_to_severity(&report), Some(Severity::Info));
    }

    /// A Google Group re-send: the author submits to the group, which re-sends the
    /// message from its own outbound server with its own envelope sender.
    const GROUP_RESEND: &str = "Received: from mail-yb1-f208.google.com (mail-yb1-f208.google.com [209.85.219.208]) by mx.example.org (Postfix) with ESMTPS id 9Z; Sun, 25 Jun 2023 00:02:59 +0000
Received: by mail-yb1-f208.google.com with SMTP id 3f1; Sat, 24 Jun 2023 17:02:59 -0700 (PDT)
Received: from [192.168.1.105] ([203.0.113.17]) by smtp.gmail.com with ESMTPSA id x13; Sat, 24 Jun 2023 17:01:45 -0700 (PDT)
Return-Path: <group+bnc123@example.net>
From: Ann <ann@example.com>
List-ID: <group.example.net>
X-Google-Group-Id: 641582657633
X-Spam-Checked-In-Group: inner@example.org
X-Spam-Checked-In-Group: group@example.net
X-Original-Sender: ann@example.com
Subject: test

body
";

    fn resent_by_list(report: &Report) -> Option<String> {
        report
            .findings
            .iter()
            .find(|f| f.id == "chain.resent-by-list")
            .map(|f| f.detail.clone())
    }

    #[test]
    fn group_resend_is_explained() {
        let detail = resent_by_list(&analyse_text(GROUP_RESEND)).expect("a finding");
        for expected in [
            "The mailing list at example.net re-sent this message (List-Id \"<group.example.net>\")",
            "X-Google-Group-Id \"641582657633\"",
            "2 groups passed it on",
            "X-Original-Sender names the author's address, \"ann@example.com\"",
            "The origin, 209.85.219.208 (hop 3), is the list's outbound server",
            "hop 1, shows 203.0.113.17 handing the message to \"smtp.gmail.com\"",
        ] {
            assert!(detail.contains(expected), "{expected}\n{detail}");
        }
    }

    /// A server after the list, such as the recipient's forwarder, is not called the list's
    /// outbound server. The finding names the hop that the list's server sent instead.
    #[test]
    fn forwarder_after_list_is_told_apart() {
        let text = "Received: from fwd.example.com (fwd.example.com [198.51.100.20]) by mx.example.org with ESMTP id 3; Mon, 3 Mar 2025 10:00:09 +0000\n\
             Received: from lists.example.net (lists.example.net [192.0.2.30]) by fwd.example.com with ESMTP id 2; Mon, 3 Mar 2025 10:00:05 +0000\n\
             Received: from client (client [203.0.113.17]) by lists.example.net with ESMTP id 1; Mon, 3 Mar 2025 10:00:00 +0000\n\
             Return-Path: <group-bounces@example.net>\n\
             From: Ann <ann@example.com>\n\
             List-Id: <group.example.net>\n\
             Subject: test\n\nbody\n";
        let detail = resent_by_list(&analyse_text(text)).expect("a finding");
        assert!(
            detail.contains("The list's server \"lists.example.net\" [192.0.2.30] sent it on at hop 2. The origin, 198.51.100.20 (hop 3), received it after the list"),
            "{detail}"
        );
        assert!(
            !detail.contains("is the list's outbound server"),
            "{detail}"
        );
    }

    /// Lists whose envelope is a list server's own, or that send from a domain other than
    /// the one they name themselves by, explain the gap in alignment.
    #[test]
    fn list_envelopes_explain_alignment() {
        let config = crate::config::AnalysisConfig::default();
        let explained = |text: &str| super::forwarded_by(&analyse_text(text), &config);
        let majordomo = "Received: from list.example.net (list.example.net [192.0.2.30]) by mx.example.org with ESMTP id 1; Mon, 3 Mar 2025 10:00:00 +0000\n\
             Return-Path: <owner-dev@example.net>\nSender: owner-dev@example.net\n\
             From: Ann <ann@example.com>\nSubject: test\n\nbody\n";
        assert_eq!(
            explained(majordomo).as_deref(),
            Some("mailing list envelope owner-dev@example.net")
        );
        let groups = "Received: from fwd.example.com (fwd.example.com [198.51.100.20]) by mx.example.org with ESMTP id 2; Mon, 3 Mar 2025 10:00:05 +0000\n\
             Received: from n3.groups.example.net (n3.groups.example.net [192.0.2.31]) by fwd.example.com with SMTP id 1; Mon, 3 Mar 2025 10:00:00 +0000\n\
             Return-Path: <sentto-1-2@returns.groups.example.net>\n\
             From: Ann <ann@example.com>\n\
             Mailing-List: list group@groups.example.org; contact group-owner@groups.example.org\n\
             Subject: test\n\nbody\n";
        assert_eq!(
            explained(groups).as_deref(),
            Some("mailing list at example.org, sent from example.net")
        );
        // A plain sender with another envelope domain is not a list.
        let plain = "Received: from mail.example.net (mail.example.net [192.0.2.30]) by mx.example.org with ESMTP id 1; Mon, 3 Mar 2025 10:00:00 +0000\n\
             Return-Path: <bounce@example.net>\nFrom: Ann <ann@example.com>\nSubject: test\n\nbody\n";
        assert_eq!(explained(plain), None);
    }

    /// Bulk mail carries List-Unsubscribe in its own domain; that alone is no list.
    #[test]
    fn unsubscribe_alone_is_no_list_resend() {
        let bulk = "Received: from mail.example.net (mail.example.net [198.51.100.9]) by mx.example.org with ESMTPS id 1; Mon, 3 Mar 2025 10:00:00 +0000\n\
             Return-Path: <bounce@example.net>\n\
             From: Shop <news@example.net>\n\
             List-Unsubscribe: <mailto:unsubscribe@example.net>\n\
             Subject: offer\n\nbody\n";
        assert_eq!(resent_by_list(&analyse_text(bulk)), None);
    }

    #[test]
    fn list_headers_without_list_envelope_quiet() {
        let other_envelope = GROUP_RESEND.replace("group+bnc123@example.net", "bounce@example.org");
        assert_eq!(resent_by_list(&analyse_text(&other_envelope)), None);
    }

    #[test]
    fn reply_outside_list_stays_medium() {
        let report = analyse("List-Id: Other <other.example.org>\n");
        assert_eq!(reply_to_severity(&report), Some(Severity::Medium));
        assert_eq!(reply_to_severity(&analyse("")), Some(Severity::Medium));
    }
}
