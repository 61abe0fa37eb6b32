//! Recorded authentication: Authentication-Results, ARC-Authentication-Results,
//! Received-SPF and DKIM-Signature fields, each tied to its line and judged trusted or not.
//!
//! A result is trusted only when the recipient's own systems stamped it: the field sits
//! above the first external hop's Received field, and its authserv-id is one the analyst
//! declared or, without a declaration, one of the receiving hosts. Results are never
//! combined across fields.

use crate::analysis::arc::{ArcChain, assess_arc};
use crate::analysis::chain::RelayChain;
use crate::config::AnalysisConfig;
use crate::finding::{Finding, Severity};
use crate::headers::HeaderBlock;
use crate::parse::authres::{
    AuthResults, parse_arc_authentication_results, parse_authentication_results,
};
use crate::parse::received_spf::{ReceivedSpf, parse_received_spf};
use crate::parse::taglist::{DkimSignature, parse_dkim_signature};
use serde::Serialize;

/// One Authentication-Results or ARC-Authentication-Results field.
#[derive(Debug, Clone, Serialize)]
pub struct AuthField {
    pub header: String,
    pub line: usize,
    pub trusted: bool,
    pub parsed: AuthResults,
}

/// One Received-SPF field.
#[derive(Debug, Clone, Serialize)]
pub struct SpfField {
    pub line: usize,
    pub trusted: bool,
    pub parsed: ReceivedSpf,
}

/// One DKIM-Signature field.
#[derive(Debug, Clone, Serialize)]
pub struct DkimField {
    pub line: usize,
    pub parsed: DkimSignature,
}

/// Everything the message records about its authentication.
#[derive(Debug, Clone, Serialize)]
pub struct AuthSection {
    pub results: Vec<AuthField>,
    pub received_spf: Vec<SpfField>,
    pub dkim_signatures: Vec<DkimField>,
    pub arc: ArcChain,
    pub findings: Vec<Finding>,
}

impl AuthSection {
    /// Returns the trusted results of a method from the top-most trusted
    /// Authentication-Results field that has that method.
    pub fn trusted_results(&self, method: &str) -> Vec<&crate::parse::authres::AuthResult> {
        self.results
            .iter()
            .filter(|f| f.trusted && f.header.eq_ignore_ascii_case("Authentication-Results"))
            .find_map(|f| {
                let found: Vec<_> = f
                    .parsed
                    .results
                    .iter()
                    .filter(|r| r.method.eq_ignore_ascii_case(method))
                    .collect();
                (!found.is_empty()).then_some(found)
            })
            .unwrap_or_default()
    }

    /// Tells whether any Authentication-Results field is trusted.
    pub fn has_trusted_results(&self) -> bool {
        self.results.iter().any(|f| f.trusted)
    }
}

/// Reads the authentication fields of `block`.
pub fn read_auth(block: &HeaderBlock, chain: &RelayChain, config: &AnalysisConfig) -> AuthSection {
    let window = TrustWindow::new(block, chain);
    let receivers = receiving_hosts(chain);
    let through_eop = passed_through_exchange_online(chain);
    let mut findings = Vec::new();

    // Step 1: Authentication-Results and ARC-Authentication-Results (RFC 8601, RFC 8617).
    let mut results = Vec::new();
    let mut trusted_below: Vec<String> = Vec::new();
    for header in &block.fields {
        let arc = header.is("ARC-Authentication-Results");
        if !arc && !header.is("Authentication-Results") {
            continue;
        }
        let parsed = if arc {
            parse_arc_authentication_results(&header.value)
        } else {
            parse_authentication_results(&header.value)
        };
        let receiver = is_trusted_receiver(
            parsed.authserv_id.as_deref(),
            &receivers,
            through_eop,
            config,
        );
        let trusted = !arc
            && receiver
            && window.admits(
                header.line,
                parsed.authserv_id.as_deref(),
                &mut trusted_below,
            );
        for finding in &parsed.findings {
            let mut finding = finding.clone();
            // Exchange Online's own form has no authserv-id: expected, so only noted.
            if trusted && finding.id == "auth.missing-authserv-id" {
                finding.severity = Severity::Info;
            }
            findings.push(finding.with_evidence(
                header.name.clone(),
                Some(header.line),
                header.value.clone(),
            ));
        }
        results.push(AuthField {
            header: header.name.clone(),
            line: header.line,
            trusted,
            parsed,
        });
    }
    flag_forged_copies(&results, window.boundary, &mut findings);

    // Step 2: Received-SPF (RFC 7208 section 9.1), trusted by position like the results.
    let mut spf_below: Vec<String> = Vec::new();
    let received_spf = block
        .all("Received-SPF")
        .map(|header| SpfField {
            line: header.line,
            trusted: window.admits(header.line, Some("received-spf"), &mut spf_below),
            parsed: parse_received_spf(&header.value),
        })
        .collect();

    // Step 3: DKIM-Signature tag lists (RFC 6376 section 3.5).
    let dkim_signatures = block
        .all("DKIM-Signature")
        .map(|header| DkimField {
            line: header.line,
            parsed: parse_dkim_signature(&header.value),
        })
        .collect();

    // Step 4: ARC structure (RFC 8617 section 5.2, without cryptography).
    let arc = assess_arc(block);

    AuthSection {
        results,
        received_spf,
        dkim_signatures,
        arc,
        findings,
    }
}

/// Where the recipient's own stamps can sit. Fields above the first external hop's
/// Received field were added by the recipient's systems. Some receivers (Gmail) write their
/// results just below their own edge Received field, so the first field of each kind in
/// the block between that Received field and the next one below is admitted too.
struct TrustWindow {
    /// Line of the first external hop's Received field.
    boundary: Option<usize>,
    /// Line of the next Received field below the boundary, if any.
    below: Option<usize>,
}

impl TrustWindow {
    fn new(block: &HeaderBlock, chain: &RelayChain) -> TrustWindow {
        let boundary = boundary_line(chain);
        let below = boundary.and_then(|line| {
            block
                .all("Received")
                .map(|h| h.line)
                .find(|received| *received > line)
        });
        TrustWindow { boundary, below }
    }

    /// Tells whether a field at `line` was written by the recipient's systems; `seen`
    /// remembers which ids were admitted below the boundary so only the first counts.
    fn admits(&self, line: usize, id: Option<&str>, seen: &mut Vec<String>) -> bool {
        let Some(boundary) = self.boundary else {
            return false;
        };
        if line < boundary {
            return true;
        }
        let in_edge_block = line > boundary && self.below.is_none_or(|below| line < below);
        let key = id.unwrap_or("").to_ascii_lowercase();
        if in_edge_block && !seen.contains(&key) {
            seen.push(key);
            return true;
        }
        false
    }
}

/// Returns the line of the first external hop's Received field: fields above it were added
/// by the recipient's systems. Without an external hop every Received hop is internal and
/// fields above the bottom-most one count.
fn boundary_line(chain: &RelayChain) -> Option<usize> {
    match chain.boundary_hop() {
        Some(hop) => Some(hop.line),
        None => chain.hops.first().map(|hop| hop.line),
    }
}

fn receiving_hosts(chain: &RelayChain) -> Vec<String> {
    chain
        .hops
        .iter()
        .filter(|hop| hop.internal || Some(hop.index) == chain.boundary)
        .filter_map(|hop| hop.received.by_host.as_deref())
        .map(|host| host.to_ascii_lowercase())
        .collect()
}

fn passed_through_exchange_online(chain: &RelayChain) -> bool {
    chain.hops.iter().any(|hop| {
        hop.received.by_host.as_deref().is_some_and(|by| {
            let by = by.to_ascii_lowercase();
            by.ends_with(".protection.outlook.com") || by.ends_with(".prod.outlook.com")
        })
    })
}

/// Decides whether an authserv-id names the recipient's own receiver.
fn is_trusted_receiver(
    authserv_id: Option<&str>,
    receivers: &[String],
    through_eop: bool,
    config: &AnalysisConfig,
) -> bool {
    let Some(id) = authserv_id else {
        // Exchange Online Protection writes its results without an authserv-id; trust that
        // form only on mail that Exchange Online received.
        return through_eop && config.trusted_authserv_ids.is_empty();
    };
    let id = id.to_ascii_lowercase();
    if !config.trusted_authserv_ids.is_empty() {
        return config.trusted_authserv_ids.contains(&id);
    }
    if config.is_org_host(&id) {
        return true;
    }
    receivers
        .iter()
        .any(|host| *host == id || host.ends_with(&format!(".{id}")) || same_org_domain(host, &id))
}

fn same_org_domain(a: &str, b: &str) -> bool {
    match (
        crate::analysis::sender::org_domain(a),
        crate::analysis::sender::org_domain(b),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Flags an Authentication-Results field below the trust boundary whose authserv-id equals
/// that of a trusted field: a copy the sender wrote to pass as the recipient's verdict.
fn flag_forged_copies(
    results: &[AuthField],
    boundary_line: Option<usize>,
    findings: &mut Vec<Finding>,
) {
    let Some(boundary) = boundary_line else {
        return;
    };
    let trusted_ids: Vec<String> = results
        .iter()
        .filter(|f| f.trusted)
        .filter_map(|f| f.parsed.authserv_id.as_deref())
        .map(str::to_ascii_lowercase)
        .collect();
    let below = |f: &&AuthField| f.line > boundary && !f.trusted && !f.header.starts_with("ARC");
    for field in results.iter().filter(below) {
        let Some(id) = field.parsed.authserv_id.as_deref() else {
            continue;
        };
        if trusted_ids.contains(&id.to_ascii_lowercase()) {
            findings.push(
                Finding::new(
                    "auth.forged-results",
                    Severity::High,
                    "Authentication-Results claims the recipient's receiver but predates it",
                    format!(
                        "The field at line {} names {id}, the recipient's own receiver, but sits below the first external hop, so the sender wrote it.",
                        field.line
                    ),
                )
                .with_header(field.header.clone()),
            );
        }
    }
}
