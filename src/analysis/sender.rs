//! Sender analysis: the From mailbox and the addresses that should agree with it
//! (Reply-To, Return-Path, Sender, Message-ID), compared by organisational domain.

use crate::finding::{Finding, Severity};
use crate::headers::HeaderBlock;
use crate::parse::address::{Mailbox, parse_address_list};
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
}

/// Returns the organisational domain (registrable domain per the Public Suffix List) of a
/// host name, lower case, or `None` for a bare suffix or an address literal.
pub fn org_domain(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
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

/// Reads the sender-side headers of `block`.
pub fn read_sender(block: &HeaderBlock) -> MessageSummary {
    let mut summary = MessageSummary::default();

    // Step 1: From (RFC 5322 section 3.6.2), every field counted.
    let from_fields: Vec<_> = block.all("From").collect();
    summary.from_field_count = from_fields.len();
    if let Some(first) = from_fields.first() {
        let list = parse_address_list(&first.value);
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
        summary.reply_to = parse_address_list(&reply_to.value).mailboxes;
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

    // Step 3: compare the reply and envelope domains with the From organisational domain.
    compare_domains(&mut summary);
    summary
}

fn compare_domains(summary: &mut MessageSummary) {
    let Some(from_org) = summary.from_domain().as_deref().and_then(org_domain) else {
        return;
    };
    let reply_orgs: Vec<String> = summary
        .reply_to
        .iter()
        .filter_map(Mailbox::domain_lower)
        .filter_map(|d| org_domain(&d))
        .filter(|d| *d != from_org)
        .collect();
    if let Some(other) = reply_orgs.first() {
        summary.findings.push(
            Finding::new(
                "sender.reply-to-other-domain",
                Severity::Medium,
                "Reply-To points to another organisational domain",
                format!("From is in {from_org}, but replies go to {other}."),
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
    let message_id_org = summary
        .message_id
        .as_deref()
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn address_domain_strips_brackets() {
        assert_eq!(
            address_domain("<bounce@Mail.Example.net>").as_deref(),
            Some("mail.example.net")
        );
        assert_eq!(address_domain("<>"), None);
    }
}
