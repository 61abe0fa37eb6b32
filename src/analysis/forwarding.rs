//! Forwarders and mailing lists: intermediaries that legitimately break DMARC alignment.
//!
//! A mailing list re-sends a member's message with its own envelope sender (RFC 2369,
//! RFC 2919), and a forwarder often does too, so the From domain then matches neither the
//! envelope nor any signature that survived (RFC 7960 section 3.2). mailtrace treats such a
//! message as forwarded when the envelope sender or Sender belongs to a domain the analyst
//! declared in `allow_forwarders`, to a trusted ARC sealer that sealed the message, or to
//! the mailing list named by the message's own List-Id or List-Post field.

use crate::analysis::Report;
use crate::analysis::sender::{address_domain, org_domain};
use crate::config::AnalysisConfig;

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

    // Step 3: a mailing list whose own domain is the envelope sender's or Sender's.
    let list = list_domain(report)?;
    carriers
        .contains(&list)
        .then(|| format!("mailing list at {list}"))
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

/// Returns the organisational domain of the list named by List-Id (RFC 2919 section 3,
/// `<list-label.domain>`) or by a List-Post mailto address (RFC 2369 section 3.4).
pub fn list_domain(report: &Report) -> Option<String> {
    let headers = &report.headers;
    let from_id = headers.value("List-Id").and_then(|value| {
        let inner = value.rsplit_once('<')?.1.split_once('>')?.0;
        org_domain(inner.trim())
    });
    from_id.or_else(|| {
        let post = headers.value("List-Post")?;
        let mailto = post.split_once("mailto:")?.1;
        let address = mailto.split(['>', '?']).next()?;
        address_domain(address).and_then(|d| org_domain(&d))
    })
}

/// Tells whether a Reply-To organisational domain is the list's own, as when a list sends
/// replies back to the list.
pub fn is_list_reply(report: &Report, reply_org: &str) -> bool {
    list_domain(report).is_some_and(|list| list == reply_org)
}
