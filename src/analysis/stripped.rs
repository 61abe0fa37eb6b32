//! Stripped and missing headers: evidence that authentication or routing headers were
//! removed after they were written.
//!
//! Exchange's header firewall drops `X-MS-Exchange-Organization-*` fields when mail crosses
//! an organisation boundary, so their absence is never reported here.

use crate::analysis::arc::ArcChain;
use crate::analysis::auth::AuthSection;
use crate::analysis::chain::RelayChain;
use crate::finding::{Finding, Severity};
use crate::headers::HeaderBlock;
use crate::parse::ascii::starts_with_ci;
use crate::parse::authres::AuthResult;
use crate::parse::exchange::parse_header_marker;
use crate::parse::taglist::DkimSignature;
use crate::platform::PlatformSection;
use crate::platform::profiles::Profile;
use std::collections::HashSet;

/// The 12 headers that the 2022 campaign's transport rules deleted, one rule each.
pub const CAMPAIGN_2022_DELETED: [&str; 12] = [
    "X-MS-Exchange-ExternalOriginalInternetSender",
    "X-MS-Exchange-SkipListedInternetSender",
    "Received-SPF",
    "Received",
    "ARC-Authentication-Results",
    "ARC-Message-Signature",
    "DKIM-Signature",
    "ARC-Seal",
    "X-MS-Exchange-SenderADCheck",
    "X-MS-Exchange-Authentication-Results",
    "Authentication-Results",
    "X-MS-Exchange-AntiSpam-MessageData-ChunkCount",
];

/// Headers that Exchange Online writes on every message it receives from the Internet.
/// When the message carries Exchange Online stamps but these are gone, they were removed.
const EXCHANGE_ALWAYS: [&str; 3] = ["Received", "Authentication-Results", "Received-SPF"];

/// Runs every stripped-header check.
pub fn find_stripped(
    block: &HeaderBlock,
    chain: &RelayChain,
    auth: &AuthSection,
    platforms: &PlatformSection,
    profiles: &[Profile],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let exchange = exchange_online_received(platforms);
    campaign_pattern(block, auth, exchange, &mut findings);
    signed_headers_missing(block, auth, &mut findings);
    arc_sets_incomplete(&auth.arc, &mut findings);
    message_data_chunks(block, "X-MS-Exchange-AntiSpam-MessageData", &mut findings);
    message_data_chunks(
        block,
        "X-MS-Exchange-AntiSpam-MessageData-Original",
        &mut findings,
    );
    header_count_markers(block, &mut findings);
    no_external_hop(chain, exchange, &mut findings);
    // Step 7: the final receiving platform's always-written headers. It runs last because it
    // defers to stripped.exchange-transport-rules.
    if let Some(finding) = crate::platform::profile_finding(platforms, &findings, profiles) {
        findings.push(finding);
    }
    findings
}

/// Tells whether Exchange Online received the message for the recipient, by its hops or its
/// own stamps. On-premises Exchange also writes X-MS-Exchange-Organization-* fields.
fn exchange_online_received(platforms: &PlatformSection) -> bool {
    platforms.platforms.iter().any(|p| {
        p.position != "upstream" && (p.id == "exchange-online" || p.id == "outlook-consumer")
    })
}

/// Step 1: the 2022 pattern. On mail that Exchange Online processed, the headers it always
/// writes are absent together with most of the others the campaign's rules deleted.
fn campaign_pattern(
    block: &HeaderBlock,
    auth: &AuthSection,
    exchange: bool,
    findings: &mut Vec<Finding>,
) {
    if !exchange {
        return;
    }
    // A delivered message has these; a fragment of copied headers does not, and is not
    // evidence of deletion.
    let is_message = ["From", "Date", "Message-ID"]
        .iter()
        .any(|n| block.contains(n));
    if !is_message {
        return;
    }
    // A result field the sender planted below the edge does not stand in for a deleted one.
    let absent = |name: &&str| !block.all(name).any(|h| auth.stamped_by_recipient(h));
    let always_gone: Vec<&str> = EXCHANGE_ALWAYS.iter().copied().filter(absent).collect();
    let always_missing = always_gone.len();
    let missing: Vec<&str> = CAMPAIGN_2022_DELETED
        .iter()
        .copied()
        .filter(absent)
        .collect();
    if always_missing < 2 || missing.len() < 8 {
        return;
    }
    let mut finding = Finding::new(
        "stripped.exchange-transport-rules",
        Severity::High,
        "Authentication and routing headers removed, as by the 2022 rogue transport rules",
        format!(
            "Exchange Online processed this message, yet {} of the 12 headers that the 2022 campaign's transport rules deleted are absent, including {} of the {} that Exchange Online always writes on inbound mail: {}. Look for transport rules that remove headers and for an unknown inbound connector in the tenant.",
            missing.len(),
            always_missing,
            EXCHANGE_ALWAYS.len(),
            always_gone.join(", ")
        ),
    );
    for name in missing {
        finding = finding.with_header(name);
    }
    findings.push(finding);
}

/// Step 2: headers named in a DKIM-Signature or ARC-Message-Signature `h=` that are absent.
/// A name listed more than once and absent is deliberate over-signing, not removal.
/// Headers that a signed message carries: From and Date are required (RFC 5322 section
/// 3.6), and Subject and Message-ID are on nearly all mail, so a signer that lists them
/// signed them, and their absence means removal.
const PRESENT_WHEN_SIGNED: [&str; 4] = ["from", "date", "subject", "message-id"];

fn signed_headers_missing(block: &HeaderBlock, auth: &AuthSection, findings: &mut Vec<Finding>) {
    let verified: Vec<&AuthResult> = auth
        .trusted_results("dkim")
        .into_iter()
        .filter(|r| r.result == "pass")
        .collect();
    let mut signatures: Vec<(&str, usize, &Vec<String>, bool)> = auth
        .dkim_signatures
        .iter()
        .map(|s| {
            let passed = verified.iter().any(|r| names_signature(r, &s.parsed));
            ("DKIM-Signature", s.line, &s.parsed.h, passed)
        })
        .collect();
    let ams: Vec<_> = block
        .all("ARC-Message-Signature")
        .map(|h| {
            (
                h.line,
                crate::parse::taglist::parse_dkim_signature(&h.value),
            )
        })
        .collect();
    signatures.extend(
        ams.iter()
            .map(|(line, s)| ("ARC-Message-Signature", *line, &s.h, false)),
    );

    // Sets keep this linear: an `h=` list can name hundreds of thousands of headers.
    // Most messages carry no signature, so the scan's hot path skips building them.
    if signatures.is_empty() {
        return;
    }
    let present: HashSet<String> = block
        .fields
        .iter()
        .map(|h| h.name.to_ascii_lowercase())
        .collect();
    for (field, line, signed, passed) in signatures {
        let mut missing: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut oversigns = false;
        for name in signed {
            let name = name.trim();
            let lower = name.to_ascii_lowercase();
            if present.contains(&lower) {
                oversigns |= !seen.insert(lower);
            } else if seen.insert(lower) {
                missing.push(name.to_string());
            } else {
                oversigns = true;
            }
        }

        // A signer that lists names more than once over-signs (RFC 6376 section 8.15): it
        // signs absent headers on purpose so none can be added. Signers also list names of
        // headers that are absent to sign their absence (RFC 6376 section 5.4): Exim's
        // default list is the whole set of RFC 4871 section 5.5, with Cc, Reply-To, List-*
        // and Resent-*. So only the headers every signed message carries count as removed.
        // Exchange's header firewall removes X-MS-Exchange-* fields at organisation
        // boundaries after signing.
        // A signature that the recipient's receiver verified was checked over the same
        // fields as it was signed over, so what is absent now was absent when it was signed.
        if passed {
            if !missing.is_empty() {
                findings.push(signed_missing_finding(
                    "stripped.signed-header-absent",
                    Severity::Info,
                    field,
                    line,
                    missing,
                    "The recipient's receiver recorded dkim=pass for this signature, so these headers were already absent when it was signed; only the recipient's own systems could have removed one after that check.",
                ));
            }
            continue;
        }
        let expected = |name: &String| {
            let name = name.to_ascii_lowercase();
            oversigns
                || name.starts_with("x-ms-exchange-")
                || !PRESENT_WHEN_SIGNED.contains(&name.as_str())
        };
        let (explained, unexplained): (Vec<String>, Vec<String>) =
            missing.into_iter().partition(expected);
        if !unexplained.is_empty() {
            findings.push(signed_missing_finding(
                "stripped.signed-header-missing",
                Severity::Medium,
                field,
                line,
                unexplained,
                "It was removed after signing, or the signer listed a header that was never there; this is evidence, not proof.",
            ));
        }
        if !explained.is_empty() {
            let exchange = explained
                .iter()
                .any(|name| starts_with_ci(name, "x-ms-exchange-"));
            let explanation = if exchange {
                "The signer over-signs (lists names more than once), lists headers that are often absent to sign their absence, or the header is one Exchange drops at organisation boundaries, so its absence is expected."
            } else {
                "The signer over-signs (lists names more than once) or lists headers that are often absent to sign their absence, so their absence is expected."
            };
            findings.push(signed_missing_finding(
                "stripped.signed-header-absent",
                Severity::Info,
                field,
                line,
                explained,
                explanation,
            ));
        }
    }
}

/// Tells whether a dkim result names this signature: the same signing domain, and the
/// same selector or the start of the same signature value (RFC 6008 `header.b`) when the
/// result gives one. A result that gives neither names every signature of its domain.
fn names_signature(result: &AuthResult, signature: &DkimSignature) -> bool {
    let same =
        |a: Option<&str>, b: Option<&str>| a.zip(b).is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
    if !same(result.property("header.d"), signature.d.as_deref()) {
        return false;
    }
    let selector = result.property("header.s");
    let prefix = result.property("header.b");
    let selector_matches = selector.is_none() || same(selector, signature.s.as_deref());
    let prefix_matches = prefix.is_none_or(|prefix| {
        prefix.len() >= 8
            && signature
                .b
                .as_deref()
                .is_some_and(|b| b.starts_with(prefix))
    });
    selector_matches && prefix_matches
}

fn signed_missing_finding(
    id: &str,
    severity: Severity,
    field: &str,
    line: usize,
    missing: Vec<String>,
    explanation: &str,
) -> Finding {
    let listed = &missing[..missing.len().min(MAX_NAMES_SHOWN)];
    let mut names = listed.join(", ");
    if missing.len() > listed.len() {
        names.push_str(&format!(" and {} more", missing.len() - listed.len()));
    }
    // "an ARC-Message-Signature", "a DKIM-Signature": the article follows the spoken name.
    let article = if field.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    let mut finding = Finding::new(
        id,
        severity,
        format!("Header covered by {article} {field} is absent"),
        format!(
            "The {field} at line {line} signed {names}, which the message does not have. {explanation}"
        ),
    );
    for name in listed {
        finding = finding.with_header(name.clone());
    }
    finding
}

/// Absent header names listed in one finding; a hostile `h=` list can name thousands.
const MAX_NAMES_SHOWN: usize = 20;

/// Step 3: ARC sets missing one of their three fields.
fn arc_sets_incomplete(arc: &ArcChain, findings: &mut Vec<Finding>) {
    for set in &arc.sets {
        let counts = [
            ("ARC-Seal", set.seal_count),
            ("ARC-Message-Signature", set.signature_count),
            ("ARC-Authentication-Results", set.results_count),
        ];
        let missing: Vec<&str> = counts
            .iter()
            .filter(|(_, n)| *n == 0)
            .map(|(name, _)| *name)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let mut finding = Finding::new(
            "stripped.arc-set-incomplete",
            Severity::Medium,
            "ARC set is missing a field",
            format!(
                "ARC instance {} has no {}; every instance needs one ARC-Seal, one ARC-Message-Signature and one ARC-Authentication-Results (RFC 8617 section 4.1).",
                set.instance,
                missing.join(" or ")
            ),
        );
        for name in missing {
            finding = finding.with_header(name);
        }
        findings.push(finding);
    }
}

/// Step 4: `<prefix>-0 .. -N-1` chunks must come with `<prefix>-ChunkCount: N`.
fn message_data_chunks(block: &HeaderBlock, prefix: &str, findings: &mut Vec<Finding>) {
    let count_name = format!("{prefix}-ChunkCount");
    let chunks: Vec<u32> = block
        .fields
        .iter()
        .filter_map(|h| {
            let (name, rest) = h.name.split_at_checked(prefix.len())?;
            let number = rest.strip_prefix('-')?;
            name.eq_ignore_ascii_case(prefix)
                .then(|| number.parse().ok())
                .flatten()
        })
        .collect();
    let declared = block.value(&count_name).map(|v| v.trim().parse::<u32>());
    let problem = match (declared, chunks.len()) {
        (None, 0) => None,
        (None, n) => Some(format!(
            "{n} {prefix}-N chunk(s) are present but {count_name} is absent."
        )),
        (Some(Ok(count)), n) if count as usize != n => Some(format!(
            "{count_name} says {count} chunk(s), but {n} are present."
        )),
        (Some(Err(_)), _) => Some(format!("{count_name} is not a number.")),
        _ => None,
    };
    if let Some(detail) = problem {
        findings.push(
            Finding::new(
                "stripped.messagedata-chunks",
                Severity::Medium,
                "Exchange anti-spam message data chunks are incomplete",
                detail,
            )
            .with_header(count_name),
        );
    }
}

/// Step 5: X-IncomingTopHeaderMarker `Count:N` and X-IncomingHeaderCount record how many
/// fields the message had on arrival; fewer fields below the marker now means removal.
fn header_count_markers(block: &HeaderBlock, findings: &mut Vec<Finding>) {
    let Some(marker) = block.get("X-IncomingTopHeaderMarker") else {
        return;
    };
    let below = block.fields.iter().filter(|h| h.line > marker.line).count();
    let counts = [
        (
            "X-IncomingTopHeaderMarker",
            parse_header_marker(&marker.value),
        ),
        (
            "X-IncomingHeaderCount",
            block
                .value("X-IncomingHeaderCount")
                .and_then(|v| v.trim().parse().ok()),
        ),
    ];
    for (name, count) in counts {
        let Some(count) = count else {
            continue;
        };
        if count as usize > below {
            findings.push(
                Finding::new(
                    "stripped.header-count-mismatch",
                    Severity::Medium,
                    "Fewer header fields than counted on arrival",
                    format!(
                        "{name} records {count} fields on arrival, but only {below} fields are below the marker now: {} were removed.",
                        count as usize - below
                    ),
                )
                .with_header(name),
            );
        }
    }
}

/// Step 6: a receiving platform's stamps without any external hop to account for them.
fn no_external_hop(chain: &RelayChain, exchange: bool, findings: &mut Vec<Finding>) {
    if !exchange || chain.boundary.is_some() {
        return;
    }
    let detail = if chain.hops.is_empty() {
        "The message carries Exchange Online stamps but no Received field at all: the routing headers were removed.".to_string()
    } else {
        format!(
            "The message carries Exchange Online stamps, but all {} Received hops are internal: the hop where the message entered is missing.",
            chain.hops.len()
        )
    };
    findings.push(
        Finding::new(
            "stripped.no-external-hop",
            Severity::Medium,
            "Receiving platform stamps without an external hop",
            detail,
        )
        .with_header("Received"),
    );
}

#[cfg(test)]
mod signed_header_tests {
    use crate::analysis::test_support::analyse_text;

    #[test]
    fn long_signed_list_names_twenty() {
        let names: Vec<String> = (0..5_000).map(|i| format!("x{i}")).collect();
        let text = format!(
            "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; h={}; bh=AAAA; b=AAAA\nFrom: a@example.org\nSubject: s\n\nbody\n",
            names.join(":")
        );
        let report = analyse_text(&text);
        let finding = report
            .findings
            .iter()
            .find(|f| f.id == "stripped.signed-header-absent")
            .expect("the absent signed headers");
        assert_eq!(finding.headers.len(), 20);
        assert!(
            finding.detail.contains("x19 and 4980 more"),
            "{}",
            finding.detail
        );
    }

    #[test]
    fn only_always_present_headers_count_as_removed() {
        let text = "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; h=from:subject:date:cc:reply-to; bh=AAAA; b=AAAA\n\
                    From: a@example.org\n\
                    Date: Tue, 8 Aug 2023 16:13:55 +0000\n\
                    \n\
                    body\n";
        let report = analyse_text(text);
        let finding = |id: &str| {
            report
                .findings
                .iter()
                .find(|f| f.id == id)
                .unwrap_or_else(|| panic!("no {id}"))
                .headers
                .clone()
        };
        assert_eq!(finding("stripped.signed-header-missing"), ["subject"]);
        assert_eq!(finding("stripped.signed-header-absent"), ["cc", "reply-to"]);
    }

    /// A signature the recipient's receiver verified was signed over the fields it was
    /// checked over: an absent Message-ID was absent when it was signed. A pass for
    /// another selector does not vouch for it.
    #[test]
    fn verified_signature_absent_headers_are_expected() {
        let message = |selector: &str| {
            format!(
                "Authentication-Results: mx1.example.net; dkim=pass header.d=example.org header.s={selector} header.b=ABCDEFGH\n\
                 Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx1.example.net (Postfix) with ESMTP id 4Q; Tue, 8 Aug 2023 16:13:55 +0000\n\
                 DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; h=from:subject:message-id; bh=AAAA; b=ABCDEFGHIJ\n\
                 From: a@example.org\n\
                 Subject: test\n\
                 \n\
                 body\n"
            )
        };
        let ids = |selector: &str| -> Vec<String> {
            analyse_text(&message(selector))
                .findings
                .into_iter()
                .map(|f| f.id)
                .filter(|id| id.starts_with("stripped.signed"))
                .collect()
        };
        assert_eq!(ids("s1"), ["stripped.signed-header-absent"]);
        assert_eq!(ids("s2"), ["stripped.signed-header-missing"]);
    }

    /// Internal mail of an on-premises Exchange Server carries X-MS-Exchange-Organization-*
    /// fields and none of the authentication fields that Exchange Online writes on inbound mail.
    #[test]
    fn on_premises_exchange_is_not_stripped() {
        let text = "Received: from mbx1.corp.example.com (10.0.0.5) by hub1.corp.example.com (10.0.0.6) with mapi; Tue, 8 Aug 2023 16:13:55 +0000\n\
                    X-MS-Exchange-Organization-SCL: -1\n\
                    X-MS-Exchange-Organization-AuthAs: Internal\n\
                    From: a@corp.example.com\n\
                    To: b@corp.example.com\n\
                    Date: Tue, 8 Aug 2023 16:13:55 +0000\n\
                    Message-ID: <1@corp.example.com>\n\
                    \n\
                    body\n";
        let report = analyse_text(text);
        let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();

        assert!(
            !ids.contains(&"stripped.exchange-transport-rules"),
            "{ids:?}"
        );
        assert!(!ids.contains(&"stripped.no-external-hop"), "{ids:?}");
    }
}
