//! Sender analysis: the From mailbox and the addresses that should agree with it
//! (Reply-To, Return-Path, Sender, Message-ID), compared by organisational domain.

use crate::finding::{Finding, Severity};
use crate::headers::{Header, HeaderBlock};
use crate::parse::address::{
    AddressList, MAX_ENTRY_TOKENS, Mailbox, parse_address_list_with_limit,
};
use crate::parse::encoded_word::decode_unstructured;
use serde::Serialize;

/// The sender-side identity of a message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MessageSummary {
    /// Mailboxes of the first From field.
    pub from: Vec<Mailbox>,
    /// Number of From fields.
    pub from_field_count: usize,
    /// Decoded text of the From field when it holds no valid mailbox.
    pub from_text: Option<String>,
    pub reply_to: Vec<Mailbox>,
    pub return_path: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub date: Option<crate::parse::date::ParsedDate>,
    pub message_id: Option<String>,
    pub findings: Vec<Finding>,
}

impl MessageSummary {
    /// Returns the first From mailbox.
    pub fn from_mailbox(&self) -> Option<&Mailbox> {
        self.from.first()
    }

    /// Returns the lower-case domain of the first From mailbox.
    pub fn from_domain(&self) -> Option<String> {
        self.from_mailbox().and_then(Mailbox::domain_lower)
    }

    /// Returns the organisational domains of the Reply-To mailboxes that differ from the
    /// From organisational domain, each once, in field order. Empty without a From domain.
    pub fn reply_to_other_orgs(&self) -> Vec<String> {
        let Some(from_org) = self.from_domain().as_deref().and_then(org_domain) else {
            return Vec::new();
        };
        let mut others: Vec<String> = Vec::new();
        for reply_org in self
            .reply_to
            .iter()
            .filter_map(Mailbox::domain_lower)
            .filter_map(|d| org_domain(&d))
        {
            if reply_org != from_org && !others.contains(&reply_org) {
                others.push(reply_org);
            }
        }
        others
    }
}

/// Suffix under which every Microsoft 365 tenant gets its initial domain,
/// `TENANT.onmicrosoft.com`, with `TENANT.mail.onmicrosoft.com` for hybrid routing.
const TENANT_SUFFIX: &str = ".onmicrosoft.com";

/// Returns the organisational domain (registrable domain per the Public Suffix List) of a
/// host name, lower case, or `None` for a bare suffix or an address literal.
///
/// The Public Suffix List does not list `onmicrosoft.com`, so every tenant would fall into
/// one organisation. Each tenant is its own: `x.tenant.onmicrosoft.com` and
/// `tenant.mail.onmicrosoft.com` give `tenant.onmicrosoft.com`.
pub fn org_domain(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
    }
    if let Some(below) = host.strip_suffix(TENANT_SUFFIX) {
        let below = below.strip_suffix(".mail").unwrap_or(below);
        let tenant = below.rsplit('.').next().unwrap_or(below);
        return (!tenant.is_empty() && tenant != "mail")
            .then(|| format!("{tenant}{TENANT_SUFFIX}"));
    }
    let domain = psl::domain(host.as_bytes())?;
    std::str::from_utf8(domain.as_bytes())
        .ok()
        .map(str::to_string)
}

/// Returns the domain part of an address such as `<a@b.example>`.
pub fn address_domain(address: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (_, domain) = address.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('>').to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

/// Parses the address list of `field`, reading at most `max_mailboxes` mailboxes, and
/// adds an `input.limit-reached` finding to `findings` when the field contains more.
pub fn parse_address_field(
    field: &Header,
    max_mailboxes: usize,
    findings: &mut Vec<Finding>,
) -> AddressList {
    let list = parse_address_list_with_limit(&field.value, max_mailboxes);
    if list.entry_too_long {
        findings.push(
            Finding::new(
                "input.limit-reached",
                Severity::Medium,
                "Limit on words in one address reached",
                format!(
                    "An entry of the {} field at line {} has more than {MAX_ENTRY_TOKENS} words and symbols without a comma; that entry and the rest of the field were not analysed.",
                    field.name, field.line
                ),
            )
            .with_header(field.name.clone()),
        );
    } else if list.limit_reached {
        findings.push(
            Finding::new(
                "input.limit-reached",
                Severity::Medium,
                "Limit on addresses in one field reached",
                format!(
                    "The {} field at line {} has more than {max_mailboxes} addresses; only the first {max_mailboxes} were analysed.",
                    field.name, field.line
                ),
            )
            .with_header(field.name.clone()),
        );
    }
    list
}

/// Returns the addresses of the top-most To field, at most `max_mailboxes` of them, and
/// adds an `input.limit-reached` finding to `findings` when the field contains more.
pub fn read_to_addresses(
    block: &HeaderBlock,
    max_mailboxes: usize,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let Some(to) = block.get("To") else {
        return Vec::new();
    };
    parse_address_field(to, max_mailboxes, findings)
        .mailboxes
        .into_iter()
        .map(|mailbox| mailbox.address)
        .collect()
}

/// Reads the sender-side headers of `block`, at most `max_mailboxes` mailboxes from each
/// address field.
pub fn read_sender(block: &HeaderBlock, max_mailboxes: usize) -> MessageSummary {
    let mut summary = MessageSummary::default();

    // Step 1: From (RFC 5322 section 3.6.2), every field counted.
    let from_fields: Vec<_> = block.all("From").collect();
    summary.from_field_count = from_fields.len();
    if let Some(first) = from_fields.first() {
        let list = parse_address_field(first, max_mailboxes, &mut summary.findings);
        for finding in &list.findings {
            summary.findings.push(finding.clone().with_evidence(
                "From",
                Some(first.line),
                first.value.clone(),
            ));
        }
        if list.mailboxes.is_empty() {
            summary.from_text = list
                .decoded_text
                .clone()
                .or_else(|| Some(first.value.clone()));
        }
        summary.from = list.mailboxes;
    }
    if from_fields.len() > 1 {
        let mut finding = Finding::new(
            "sender.multiple-from",
            Severity::High,
            "More than one From field",
            format!(
                "The message has {} From fields. Receivers differ in which one they check and which one they show, which lets a sender pass DMARC with one and display the other.",
                from_fields.len()
            ),
        )
        .with_header("From");
        for field in &from_fields {
            finding = finding.with_evidence("From", Some(field.line), field.value.clone());
        }
        summary.findings.push(finding);
    }

    // Step 2: the other identity fields.
    if let Some(reply_to) = block.get("Reply-To") {
        summary.reply_to =
            parse_address_field(reply_to, max_mailboxes, &mut summary.findings).mailboxes;
    }
    summary.return_path = block.value("Return-Path").map(str::to_string);
    summary.sender = block.value("Sender").map(str::to_string);
    summary.message_id = block.value("Message-ID").map(str::to_string);
    if let Some(subject) = block.get("Subject") {
        let decoded = decode_unstructured(&subject.value);
        for finding in &decoded.findings {
            summary.findings.push(finding.clone().with_evidence(
                "Subject",
                Some(subject.line),
                subject.value.clone(),
            ));
        }
        summary.subject = Some(decoded.text);
    }
    summary.date = block.get("Date").map(|date| {
        let parsed = crate::parse::date::parse_date(&date.value);
        for finding in &parsed.findings {
            summary.findings.push(finding.clone().with_evidence(
                "Date",
                Some(date.line),
                date.value.clone(),
            ));
        }
        parsed
    });

    // Step 3: a Message-ID that the receiving Exchange wrote shows nothing about the sender.
    let added_on_arrival = message_id_added_on_arrival(block);
    if added_on_arrival {
        summary.findings.push(no_message_id_finding());
    }

    // Step 4: compare the reply and envelope domains with the From organisational domain.
    compare_domains(&mut summary, !added_on_arrival);
    summary
}

/// Tells whether the receiving Exchange generated the Message-ID because the sender wrote
/// none. Exchange Online writes X-IncomingHeaderCount right after the fields the message
/// arrived with and adds its own fields (Return-Path, X-MS-Exchange-Organization-*) below
/// it. A Message-ID below the count that names a Microsoft 365 host
/// (`*.prod.protection.outlook.com`, `*.prod.outlook.com`) was written there on arrival.
/// One below the count that names another domain was the sender's, moved by a relay on the
/// way, so it still counts as the sender's.
fn message_id_added_on_arrival(block: &HeaderBlock) -> bool {
    let (Some(count), Some(message_id)) =
        (block.get("X-IncomingHeaderCount"), block.get("Message-ID"))
    else {
        return false;
    };
    let microsoft_host = address_domain(&message_id.value)
        .is_some_and(|domain| domain.trim_end_matches('.').ends_with(".outlook.com"));
    message_id.line > count.line && microsoft_host
}

fn no_message_id_finding() -> Finding {
    Finding::new(
        "sender.message-id-missing",
        Severity::Low,
        "Message arrived without a Message-ID",
        "The Message-ID field comes after X-IncomingHeaderCount, among the fields that the receiving Exchange added, so the sender wrote none and Exchange generated it. RFC 5322 section 3.6.4 says every message should have one; mail programs and providers write it, bulk-sending scripts often do not.",
    )
    .with_header("Message-ID")
}

/// Compares the Reply-To, Return-Path and (when the sender wrote it) Message-ID domains
/// with the From organisational domain.
fn compare_domains(summary: &mut MessageSummary, compare_message_id: bool) {
    let Some(from_org) = summary.from_domain().as_deref().and_then(org_domain) else {
        return;
    };
    // Every Reply-To address counts, not only the first (RFC 5322 section 3.6.2 allows a
    // list), so an address in another domain cannot hide behind one in the From domain.
    let reply_orgs = summary.reply_to_other_orgs();
    if !reply_orgs.is_empty() {
        summary.findings.push(
            Finding::new(
                "sender.reply-to-other-domain",
                Severity::Medium,
                "Reply-To points to another organisational domain",
                format!(
                    "From is in {from_org}, but replies go to {}.",
                    reply_orgs.join(", ")
                ),
            )
            .with_header("Reply-To"),
        );
    }
    let return_org = summary
        .return_path
        .as_deref()
        .and_then(address_domain)
        .and_then(|d| org_domain(&d));
    if let Some(return_org) = return_org
        && return_org != from_org
    {
        summary.findings.push(
            Finding::new(
                "sender.envelope-other-domain",
                Severity::Info,
                "Envelope sender is in another organisational domain",
                format!(
                    "From is in {from_org}, the Return-Path in {return_org}. Common for mail sent through a service provider; DMARC then depends on DKIM alignment."
                ),
            )
            .with_header("Return-Path"),
        );
    }
    if let Some(finding) = system_account_envelope(summary, &from_org) {
        summary.findings.push(finding);
    }
    let message_id_org = summary
        .message_id
        .as_deref()
        .filter(|_| compare_message_id)
        .and_then(address_domain)
        .and_then(|d| org_domain(&d));
    if let Some(id_org) = message_id_org
        && id_org != from_org
    {
        summary.findings.push(
            Finding::new(
                "sender.message-id-other-domain",
                Severity::Info,
                "Message-ID was generated in another domain",
                format!("From is in {from_org}, the Message-ID names {id_org}."),
            )
            .with_header("Message-ID"),
        );
    }
}

/// Accounts that a server's mail program puts in the envelope when a script or daemon
/// sends without naming a sender: the superuser, web server accounts (Debian, Red Hat,
/// SUSE, BSD), and the default users of cloud server images.
const SYSTEM_ACCOUNTS: &[&str] = &[
    "root", "www-data", "apache", "nginx", "httpd", "nobody", "wwwrun", "www", "daemon", "ubuntu",
    "centos", "debian", "ec2-user",
];

/// Reports a Return-Path at a system account of a server when the From address is in
/// another organisational domain (`root@vps-1234.example.net` under From `bank.example`).
/// A script on a rented or compromised server gets that envelope. A service that sends for
/// the From domain uses a bounce address of its own.
fn system_account_envelope(summary: &MessageSummary, from_org: &str) -> Option<Finding> {
    let return_path = summary.return_path.as_deref()?;
    let address = return_path
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let (local, host) = address.rsplit_once('@')?;
    let local = local.trim().trim_matches('"').to_ascii_lowercase();
    // A bare host name (`ubuntu-s-1vcpu-1gb-01`, a cloud server's default) has no
    // organisational domain and is never the From domain's.
    let host_org = org_domain(&host.trim().to_ascii_lowercase());
    if !SYSTEM_ACCOUNTS.contains(&local.as_str()) || host_org.as_deref() == Some(from_org) {
        return None;
    }
    Some(
        Finding::new(
            "sender.envelope-system-account",
            Severity::Medium,
            "Envelope sender is a server's system account",
            format!(
                "The Return-Path is {address}, the {local} account of a server, while From claims {from_org}. A server's mail program records such an envelope when a script sends mail without naming a sender, as mass-mailing scripts on rented or compromised servers do; a service that sends for {from_org} uses a bounce address of its own."
            ),
        )
        .with_header("Return-Path"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::address::DEFAULT_MAX_MAILBOXES;

    #[test]
    fn system_account_envelope_table() {
        // (Return-Path, From, whether sender.envelope-system-account fires)
        let cases = [
            (
                "<root@vps-1234.example.net>",
                "alerts@bank.example.com",
                true,
            ),
            (
                "<root@ubuntu-s-1vcpu-1gb-01>",
                "alerts@bank.example.com",
                true,
            ),
            (
                "<www-data@web01.example.net>",
                "\"Bank\" <no-reply@bank.example.com>",
                true,
            ),
            ("<\"Apache\"@host.example.org>", "info@example.com", true),
            // The server's own mail, and ordinary bounce addresses.
            (
                "<root@server.example.com>",
                "root@server.example.com",
                false,
            ),
            ("<root@server.example.com>", "cron@example.com", false),
            ("<bounce-123@mail.example.net>", "news@example.com", false),
            ("<rootkit@host.example.net>", "news@example.com", false),
            ("<>", "mailer-daemon@example.com", false),
        ];
        for (return_path, from, expected) in cases {
            let report = crate::analysis::test_support::analyse_text(&format!(
                "Return-Path: {return_path}\nFrom: {from}\nSubject: test\n\nbody\n"
            ));
            let fired = report
                .findings
                .iter()
                .any(|f| f.id == "sender.envelope-system-account");
            assert_eq!(fired, expected, "{return_path} / {from}");
            let signal = report
                .spoof
                .signals
                .iter()
                .any(|s| s.id == "system-account-envelope");
            assert_eq!(signal, expected, "{return_path} / {from}");
        }
    }

    /// Each Microsoft 365 tenant is its own organisation, with or without the hybrid
    /// `mail.` label.
    #[test]
    fn org_domain_separates_microsoft_tenants() {
        let org = |host: &str| org_domain(host);
        assert_eq!(
            org("contoso.onmicrosoft.com").as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(
            org("Contoso.mail.onmicrosoft.com.").as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(
            org("a.b.contoso.onmicrosoft.com").as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(org("onmicrosoft.com").as_deref(), Some("onmicrosoft.com"));
        assert_eq!(org("mail.onmicrosoft.com"), None);
        assert_ne!(
            org("fabrikam.onmicrosoft.com"),
            org("contoso.onmicrosoft.com")
        );
    }

    #[test]
    fn org_domain_uses_public_suffix_list() {
        assert_eq!(
            org_domain("mail.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(
            org_domain("A.B.Example.COM.").as_deref(),
            Some("example.com")
        );
        assert_eq!(org_domain("192.0.2.1"), None);
        assert_eq!(org_domain("com"), None);
    }

    fn reply_to_finding(from: &str, reply_to: &str) -> Option<Finding> {
        let block = HeaderBlock::parse(
            format!("From: {from}\nReply-To: {reply_to}\nSubject: test\n\nbody\n").as_bytes(),
            &crate::headers::ParseOptions::default(),
        )
        .expect("a header block");
        read_sender(&block, DEFAULT_MAX_MAILBOXES)
            .findings
            .into_iter()
            .find(|f| f.id == "sender.reply-to-other-domain")
    }

    #[test]
    fn reply_to_keeps_every_address() {
        let block = HeaderBlock::parse(
            b"From: <test@example.net>\nReply-To: innocent@example.com, \"Spammer\" <another1@example.net>\n\nbody\n",
            &crate::headers::ParseOptions::default(),
        )
        .expect("a header block");
        let addresses: Vec<String> = read_sender(&block, DEFAULT_MAX_MAILBOXES)
            .reply_to
            .into_iter()
            .map(|m| m.address)
            .collect();
        assert_eq!(addresses, ["innocent@example.com", "another1@example.net"]);
    }

    #[test]
    fn reply_to_other_domain_in_any_position() {
        for reply_to in [
            "a@example.net, b@example.com",
            "b@example.com, a@example.net",
        ] {
            let finding = reply_to_finding("<x@example.net>", reply_to);
            let detail = finding.map(|f| f.detail);
            assert_eq!(
                detail.as_deref(),
                Some("From is in example.net, but replies go to example.com."),
                "{reply_to}"
            );
        }
    }

    #[test]
    fn reply_to_names_each_other_domain() {
        let finding = reply_to_finding(
            "<x@example.net>",
            "a@example.com, b@mail.example.org, c@example.net, d@Example.com",
        )
        .expect("a reply-to finding");
        assert_eq!(
            finding.detail,
            "From is in example.net, but replies go to example.com, example.org."
        );
    }

    #[test]
    fn reply_to_same_domain_is_quiet() {
        let finding = reply_to_finding("<x@example.net>", "a@example.net, b@mail.example.net");
        assert!(finding.is_none(), "{finding:?}");
    }

    #[test]
    fn address_domain_strips_brackets() {
        assert_eq!(
            address_domain("<bounce@Mail.Example.net>").as_deref(),
            Some("mail.example.net")
        );
        assert_eq!(address_domain("<>"), None);
    }

    /// Builds an Exchange delivery whose Message-ID is after X-IncomingHeaderCount when
    /// `added_on_arrival` is true, and among the counted fields otherwise.
    fn exchange_delivery(added_on_arrival: bool) -> String {
        let message_id = "Message-ID: <a1b2@AB1EUR01FT001.eop-eur01.prod.protection.outlook.com>\n";
        let (before, after) = if added_on_arrival {
            ("", message_id)
        } else {
            (message_id, "")
        };
        format!(
            "Received: from mail.example.org (198.51.100.30) by\n AB1EUR01FT001.mail.protection.outlook.com (2001:db8::1) with Microsoft SMTP Server id 15.20.1.1 via Frontend Transport; Mon, 3 Mar 2025 10:00:01 +0000\n\
             X-IncomingTopHeaderMarker: OriginalChecksum:0;SizeAsReceived:500;Count:5\n\
             From: sender@example.org\n\
             To: user@example.com\n\
             Subject: test\n\
             Date: Mon, 3 Mar 2025 09:59:59 +0000\n\
             {before}\
             X-IncomingHeaderCount: 5\n\
             {after}\
             Return-Path: sender@example.org\n\
             \n\
             body\n"
        )
    }

    #[test]
    fn message_id_added_by_exchange() {
        let report = crate::analysis::test_support::analyse_text(&exchange_delivery(true));
        let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
        assert!(ids.contains(&"sender.message-id-missing"), "{ids:?}");
        assert!(!ids.contains(&"sender.message-id-other-domain"), "{ids:?}");
    }

    #[test]
    fn message_id_from_sender_compared() {
        let report = crate::analysis::test_support::analyse_text(&exchange_delivery(false));
        let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
        assert!(!ids.contains(&"sender.message-id-missing"), "{ids:?}");
        assert!(ids.contains(&"sender.message-id-other-domain"), "{ids:?}");
    }

    #[test]
    fn moved_foreign_message_id_compared() {
        let text = exchange_delivery(true).replace(
            "a1b2@AB1EUR01FT001.eop-eur01.prod.protection.outlook.com",
            "a1b2@mta.example.net",
        );
        let report = crate::analysis::test_support::analyse_text(&text);
        let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
        assert!(!ids.contains(&"sender.message-id-missing"), "{ids:?}");
        assert!(ids.contains(&"sender.message-id-other-domain"), "{ids:?}");
    }
}
