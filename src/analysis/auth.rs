//! Recorded authentication: Authentication-Results, ARC-Authentication-Results,
//! Received-SPF and DKIM-Signature fields, each tied to its line and judged trusted or not.
//!
//! A result is trusted only when the recipient's own systems stamped it: the field sits
//! above the first external hop's Received field, or where receivers are known to insert
//! their results below it (see [`TrustWindow`] and [`admit_trace_tail`]), and its
//! authserv-id is one the analyst declared or, without a declaration, one of the receiving
//! hosts. Results are never combined across fields.

use crate::analysis::arc::{ArcChain, assess_arc};
use crate::analysis::chain::{Origin, RelayChain};
use crate::analysis::sender::org_domain;
use crate::config::AnalysisConfig;
use crate::finding::{Finding, Severity};
use crate::headers::{Header, HeaderBlock};
use crate::parse::ascii::{ends_with_ci, starts_with_ci};
use crate::parse::authres::{
    AuthResults, parse_arc_authentication_results, parse_authentication_results,
};
use crate::parse::received_spf::{ReceivedSpf, parse_received_spf};
use crate::parse::taglist::{DkimSignature, parse_dkim_signature};
use crate::report::escape::quoted;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

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

    /// Tells whether `header` may stand for a field the recipient's systems wrote: an
    /// Authentication-Results field only when it is trusted, so that a verdict the sender
    /// planted does not hide a deleted one. Other fields count wherever they are, because
    /// Exchange Online moves some of its own (Received-SPF) below the edge when it
    /// rewrites a message.
    pub fn stamped_by_recipient(&self, header: &Header) -> bool {
        !header.is("Authentication-Results")
            || self
                .results
                .iter()
                .any(|f| f.line == header.line && f.trusted)
    }
}

/// Reads the authentication fields of `block`.
pub fn read_auth(block: &HeaderBlock, chain: &RelayChain, config: &AnalysisConfig) -> AuthSection {
    let window = TrustWindow::new(block, chain);
    let receivers = receiving_hosts(chain);
    let received_by_eop = received_by_exchange_online(&receivers);
    let mut findings = Vec::new();

    // Step 1: Authentication-Results and ARC-Authentication-Results (RFC 8601, RFC 8617).
    let mut results = Vec::new();
    let mut trusted_below: Vec<EdgeRun> = Vec::new();
    // Positions of the Authentication-Results fields whose authserv-id names the receiver.
    let mut receiver_fields: Vec<usize> = Vec::new();
    for (index, header) in block.fields.iter().enumerate() {
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
            received_by_eop,
            config,
        );
        let methods: Vec<String> = parsed.results.iter().map(|r| r.method.clone()).collect();
        if !arc && receiver {
            receiver_fields.push(index);
        }
        let trusted = !arc
            && receiver
            && window.admits(
                EdgeField {
                    line: header.line,
                    index,
                    id: parsed.authserv_id.as_deref(),
                    methods: &methods,
                },
                &mut trusted_below,
            );
        let mut parsed = parsed;
        // Exchange Online writes its results without an authserv-id, for the recipient's
        // receiver and for an upstream tenant alike. So the finding is only noted, both in
        // the field's own findings and in the report's list.
        let expected_form = trusted || written_by_exchange_online(header.line, &parsed, chain);
        for finding in &mut parsed.findings {
            if expected_form && finding.id == "auth.missing-authserv-id" {
                finding.severity = Severity::Info;
                // The name is missing, but the position ties a trusted field to the
                // recipient's systems. The detail names which of the two applies.
                let place = if trusted {
                    "It is trusted here by its position: above the first external hop, where only the recipient's systems write."
                } else {
                    "Here it belongs to a Microsoft 365 tenant that handled the message before the recipient's systems."
                };
                finding.detail = format!(
                    "The field does not name the host that performed the checks (RFC 8601 section 2.2); Exchange Online writes this form. {place}"
                );
            }
        }
        for finding in &parsed.findings {
            findings.push(finding.clone().with_evidence(
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

    // Step 2: Received-SPF (RFC 7208 section 9.1), trusted by position like the results.
    let mut spf_below: Vec<EdgeRun> = Vec::new();
    let spf_method = ["spf".to_string()];
    let received_spf = block
        .fields
        .iter()
        .enumerate()
        .filter(|(_, header)| header.is("Received-SPF"))
        .map(|(index, header)| SpfField {
            line: header.line,
            trusted: window.admits(
                EdgeField {
                    line: header.line,
                    index,
                    id: Some("received-spf"),
                    methods: &spf_method,
                },
                &mut spf_below,
            ),
            parsed: parse_received_spf(&header.value),
        })
        .collect();

    // Step 3: DKIM-Signature tag lists (RFC 6376 section 3.5).
    let dkim_signatures: Vec<DkimField> = block
        .all("DKIM-Signature")
        .map(|header| DkimField {
            line: header.line,
            parsed: parse_dkim_signature(&header.value),
        })
        .collect();

    // Step 4: results that Proton Mail wrote after the last Received field, now that the
    // DKIM signatures are known, then the copies that claim the receiver.
    if !results.iter().any(|f| f.trusted) {
        admit_trace_tail(
            block,
            &window,
            &receiver_fields,
            &dkim_signatures,
            &mut results,
        );
    }
    flag_forged_copies(
        &results,
        window.boundary,
        received_by_eop,
        earlier_receivers(chain),
        &mut findings,
    );

    // Step 5: ARC structure (RFC 8617 section 5.2, without cryptography).
    let arc = assess_arc(block);
    if let Some(finding) = arc_override(&results, &arc) {
        findings.push(finding);
    }

    AuthSection {
        results,
        received_spf,
        dkim_signatures,
        arc,
        findings,
    }
}

/// Tells whether trusted results record `compauth=pass reason=130`: the recipient's
/// Exchange Online let a DMARC failure pass because it trusts a forwarder's ARC seal. Only
/// Exchange Online writes compauth, always in its form without an authserv-id, so a
/// compauth under another receiver's id is not its verdict.
fn compauth_arc_override(results: &[AuthField]) -> bool {
    results
        .iter()
        .filter(|field| field.trusted && field.parsed.authserv_id.is_none())
        .flat_map(|field| &field.parsed.results)
        .any(|r| {
            r.method == "compauth"
                && r.result == "pass"
                && r.reason.as_deref().map(str::trim) == Some("130")
        })
}

/// Returns the DMARC result in the trusted Exchange Online fields (the id-less form that
/// carries compauth), or `None` when they record none.
fn exchange_dmarc(results: &[AuthField]) -> Option<&str> {
    results
        .iter()
        .filter(|field| field.trusted && field.parsed.authserv_id.is_none())
        .flat_map(|field| &field.parsed.results)
        .find(|r| r.method == "dmarc")
        .map(|r| r.result.as_str())
}

/// Returns the instance and DMARC result of the oldest ARC-Authentication-Results that
/// records one: what the first forwarder saw before it changed the message.
fn oldest_arc_dmarc(arc: &ArcChain) -> Option<(u32, &str)> {
    arc.sets
        .iter()
        .filter_map(|set| {
            let dmarc = set
                .results
                .as_ref()?
                .results
                .iter()
                .find(|r| r.method == "dmarc")?;
            Some((set.instance, dmarc.result.as_str()))
        })
        .min_by_key(|(instance, _)| *instance)
}

impl AuthSection {
    /// Returns the line and client address of the newest trusted Received-SPF field that
    /// names one: the check of the recipient's final receiver. Older trusted fields come
    /// from receivers that handled the message before it was sent on (a Google Group that
    /// re-sends mail it received), and their checks are about another hand-over.
    pub fn recipient_spf_client(&self) -> Option<(usize, std::net::IpAddr)> {
        self.received_spf
            .iter()
            .filter(|field| field.trusted)
            .find_map(|field| {
                let ip = field.parsed.client_ip.or(field.parsed.comment_ip)?;
                Some((field.line, ip))
            })
    }

    /// Tells whether the recipient's DMARC failure is explained by ARC: Exchange Online
    /// overrode it (`compauth=pass reason=130`) and the oldest ARC results record
    /// `dmarc=pass`, so the From domain passed before a forwarder broke it.
    pub fn dmarc_failure_forwarded(&self) -> bool {
        compauth_arc_override(&self.results)
            && exchange_dmarc(&self.results) == Some("fail")
            && oldest_arc_dmarc(&self.arc).is_some_and(|(_, result)| result == "pass")
    }
}

/// Returns `auth.arc-override` when the recipient's Exchange Online recorded
/// `compauth=pass reason=130`, naming the forwarders that sealed the message and the DMARC
/// result the oldest of them recorded.
fn arc_override(results: &[AuthField], arc: &ArcChain) -> Option<Finding> {
    if !compauth_arc_override(results) {
        return None;
    }
    // The sealers before the recipient's Exchange Online, whose own seal (d=microsoft.com)
    // is the newest. An upstream tenant's seal has the same domain and stays.
    let newest = arc.sets.iter().map(|set| set.instance).max();
    let mut sealers: Vec<String> = Vec::new();
    for set in &arc.sets {
        if let Some(domain) = set.seal.as_ref().and_then(|seal| seal.d.as_deref()) {
            let domain = domain.to_ascii_lowercase();
            let own = Some(set.instance) == newest && domain == "microsoft.com";
            if !own && !sealers.contains(&domain) {
                sealers.push(domain);
            }
        }
    }
    let sealers = if sealers.is_empty() {
        "a forwarder".to_string()
    } else {
        sealers
            .iter()
            .map(|s| quoted(s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let recorded = match oldest_arc_dmarc(arc) {
        Some((instance, result)) => format!(
            " The oldest ARC-Authentication-Results (i={instance}) recorded dmarc={}.",
            crate::report::escape::escape_terminal(result)
        ),
        None => " No ARC-Authentication-Results records a DMARC result.".to_string(),
    };
    // Exchange Online also writes reason 130 when its own DMARC check found no failure
    // (dmarc=none: the From domain publishes no policy). Nothing was overridden then.
    let dmarc = exchange_dmarc(results);
    if dmarc != Some("fail") {
        let dmarc = dmarc.map_or_else(
            || "no dmarc result".to_string(),
            |r| format!("dmarc={}", crate::report::escape::escape_terminal(r)),
        );
        return Some(Finding::new(
            "auth.arc-override",
            Severity::Info,
            "Exchange Online gave the ARC override reason without a DMARC failure",
            format!(
                "The recipient's results record compauth=pass reason=130, the reason Exchange Online gives when the results of a trusted ARC sealer ({sealers}) override a DMARC failure, but the same results record {dmarc}: no DMARC failure was overridden.{recorded} The missing DMARC pass counts towards the score as on any other message. mailtrace checks ARC signatures only with --online."
            ),
        ));
    }
    let effect = if oldest_arc_dmarc(arc).is_some_and(|(_, result)| result == "pass") {
        "The DMARC failure is then an effect of the forwarding, so it does not count towards the score."
    } else {
        "No forwarder recorded a DMARC pass, so the failure still counts towards the score."
    };
    Some(Finding::new(
        "auth.arc-override",
        Severity::Info,
        "Exchange Online accepted a DMARC failure because of ARC",
        format!(
            "The recipient's results record compauth=pass reason=130: Exchange Online let the DMARC failure pass because it trusts the ARC seal of {sealers}, which forwarded the message and recorded its authentication before the forwarding broke it.{recorded} {effect} mailtrace checks ARC signatures only with --online."
        ),
    ))
}

/// Compares the address the recipient's receiver checked SPF for with the origin. When they
/// differ, the receiver skipped hops it was set up to trust (a gateway or forwarder in front
/// of it), or the first external hop was placed wrongly. The analyst has to pick one, so
/// the finding names both.
pub fn spf_client_findings(auth: &AuthSection, origin: Option<&Origin>) -> Vec<Finding> {
    let Some(Origin {
        ip: Some(origin_ip),
        hop,
        ..
    }) = origin
    else {
        return Vec::new();
    };
    let origin_place = hop.map_or_else(String::new, |hop| format!(" (hop {hop})"));
    let mut findings = Vec::new();
    if let Some((line, ip)) = auth.recipient_spf_client()
        && ip != *origin_ip
    {
        findings.push(
            Finding::new(
                "auth.spf-client-not-origin",
                Severity::Low,
                "The receiver checked SPF for another address than the origin",
                format!(
                    "The recipient's receiver checked SPF for {ip} (Received-SPF line {line}), but the first external hop is {origin_ip}{origin_place}. A receiver skips the hops it is set up to trust, such as a security gateway or forwarder in front of it (Enhanced Filtering for Connectors in Exchange Online, inbound gateways in Google Workspace), and then {ip} is the address it took for the sender. Check which of the two hops the recipient's own systems run."
                ),
            )
            .with_header("Received-SPF"),
        );
    }
    findings
}

/// Where the recipient's own stamps can sit. Fields above the first external hop's
/// Received field were added by the recipient's systems. Some receivers write their results
/// just below their own edge Received field: Gmail one field, Postfix with a milter (Proton
/// Mail) one field per method. So in the block between that Received field and the next one
/// below, the first field of each authserv-id is admitted, and so are the fields right after
/// it with the same id while each adds methods not seen yet. A copy the sender wrote repeats
/// a method or is separated from the run, and is not admitted.
struct TrustWindow {
    /// Line of the first external hop's Received field.
    boundary: Option<usize>,
    /// Line of the next Received field below the boundary, if any.
    below: Option<usize>,
    /// The edge receiver is Proton Mail, which writes its results above its edge Received
    /// field or after the last Received field of the message, never in the edge block.
    results_at_tail: bool,
}

impl TrustWindow {
    fn new(block: &HeaderBlock, chain: &RelayChain) -> TrustWindow {
        let boundary = boundary_line(chain);
        // Behind a gateway, the block below the new boundary hop is the sender's own header
        // area: the gateway wrote its results above that hop, so the block admits nothing.
        let behind_gateway = chain
            .findings
            .iter()
            .any(|f| f.id == "chain.origin-behind-gateway");
        let below = boundary.and_then(|line| {
            if behind_gateway {
                return Some(line);
            }
            block
                .all("Received")
                .map(|h| h.line)
                .find(|received| *received > line)
        });
        let results_at_tail = chain
            .boundary_hop()
            .and_then(|hop| hop.received.by_host.as_deref())
            .is_some_and(is_proton_inbound_host);
        TrustWindow {
            boundary,
            below,
            results_at_tail,
        }
    }

    /// Tells whether `field` was written by the recipient's systems; `runs` remembers what
    /// was admitted below the boundary, per authserv-id.
    fn admits(&self, field: EdgeField<'_>, runs: &mut Vec<EdgeRun>) -> bool {
        let Some(boundary) = self.boundary else {
            return false;
        };
        if field.line < boundary {
            return true;
        }
        if self.results_at_tail {
            return false;
        }
        // Exchange Online writes its id-less results above its edge Received field, never
        // below it, so an id-less field below the boundary came from the sender.
        let Some(id) = field.id else {
            return false;
        };
        let in_edge_block =
            field.line > boundary && self.below.is_none_or(|below| field.line < below);
        if !in_edge_block {
            return false;
        }
        let id = id.to_ascii_lowercase();
        let Some(run) = runs.iter_mut().find(|run| run.id == id) else {
            runs.push(EdgeRun {
                id,
                last_index: field.index,
                methods: field.methods.to_vec(),
            });
            return true;
        };
        let continues = field.index == run.last_index + 1;
        let adds_methods = field.methods.iter().all(|m| !run.methods.contains(m));
        if continues && adds_methods {
            run.last_index = field.index;
            run.methods.extend(field.methods.iter().cloned());
            return true;
        }
        false
    }
}

/// Tells whether `host` is one of Proton Mail's inbound MX servers (`mailin029`,
/// `mailinzur110`, `mailinosl105` under `protonmail.ch`). Its submission servers for
/// Proton's own users are not: mail they accept is not filtered like inbound mail.
fn is_proton_inbound_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    ends_with_ci(host, ".protonmail.ch") && starts_with_ci(host, "mailin")
}

/// Admits the results that Proton Mail inserted right after the last Received field of the
/// message, below the sender's own Received fields. Its Postfix places them there when the
/// message arrives with Received fields of its own, and above its edge Received field
/// otherwise. The rule applies only when Proton Mail is the edge receiver and no field above
/// the boundary was admitted. It takes the run of Authentication-Results fields that starts
/// right after the last Received field, has the receiver's authserv-id, and adds a method
/// not seen yet with each field. A copy of an earlier delivery's results that a sender
/// carries along repeats those methods and ends the run.
/// NOTE: other receivers are not known to write there, so for them a field in that place
/// stays the sender's. A sender can plant one where the receiver writes none.
fn admit_trace_tail(
    block: &HeaderBlock,
    window: &TrustWindow,
    receiver_fields: &[usize],
    dkim_signatures: &[DkimField],
    results: &mut [AuthField],
) {
    if !window.results_at_tail {
        return;
    }
    let Some(last_received) = block.fields.iter().rposition(|h| h.is("Received")) else {
        return;
    };
    // Lookups by position and line, so that a hostile block of many fields stays linear.
    let receiver_fields: HashSet<usize> = receiver_fields.iter().copied().collect();
    let by_line: HashMap<usize, usize> = results
        .iter()
        .enumerate()
        .map(|(position, field)| (field.line, position))
        .collect();
    let mut run = TailRun::new(dkim_signatures);
    let mut admitted: Vec<usize> = Vec::new();
    for (index, header) in block.fields.iter().enumerate().skip(last_received + 1) {
        if !header.is("Authentication-Results") || !receiver_fields.contains(&index) {
            break;
        }
        let Some(&position) = by_line.get(&header.line) else {
            break;
        };
        let field = &results[position];
        if field.parsed.authserv_id.is_none() {
            break;
        }
        let proton_methods = field
            .parsed
            .results
            .iter()
            .all(|r| PROTON_METHODS.contains(&r.method.as_str()));
        if !proton_methods || !run.extend(&field.parsed.results) {
            break;
        }
        admitted.push(position);
    }
    for position in admitted {
        results[position].trusted = true;
    }
}

/// The dkim results of Proton Mail's run for one signing domain.
struct Checked {
    count: usize,
    /// The result of the first check (`pass`, `fail`); every further check must repeat it.
    result: String,
}

/// The methods of Proton Mail's run of results after the last Received field, as
/// [`admit_trace_tail`] reads it field by field.
struct TailRun {
    methods: Vec<String>,
    /// Number of the message's DKIM-Signature fields per signing domain, lower case.
    signatures: HashMap<String, usize>,
    /// Number of DKIM-Signature fields with a signing domain.
    signature_count: usize,
    /// The dkim results admitted so far per signing domain they name.
    checked: HashMap<String, Checked>,
    /// Number of dkim results admitted so far.
    dkim_results: usize,
}

/// The methods Proton Mail writes in its results. A field after its run with another
/// method, such as compauth or iprev, is not Proton's.
const PROTON_METHODS: &[&str] = &["dkim", "dmarc", "spf", "arc"];

/// Proton Mail writes up to this many dkim results for one signature: it checks each
/// signature twice, and the corpus shows two fields for it (`dkim=pass (Good 2048 bit
/// rsa-sha256 signature)` and `dkim=pass (2048-bit key)`).
const PROTON_DKIM_RESULTS_PER_SIGNATURE: usize = 2;

impl TailRun {
    fn new(dkim_signatures: &[DkimField]) -> TailRun {
        let mut signatures: HashMap<String, usize> = HashMap::new();
        let mut signature_count = 0;
        for domain in dkim_signatures.iter().filter_map(|f| f.parsed.d.as_deref()) {
            *signatures.entry(domain.to_ascii_lowercase()).or_default() += 1;
            signature_count += 1;
        }
        TailRun {
            methods: Vec::new(),
            signatures,
            signature_count,
            checked: HashMap::new(),
            dkim_results: 0,
        }
    }

    /// Adds the results of the next field and returns whether the field continues the run.
    /// Each field must add a method not seen yet, except a dkim result for a signature of
    /// the message that Proton Mail checked less often than it does, and that repeats the
    /// result of every earlier check of that domain. A copy of an earlier delivery's results
    /// repeats spf, dmarc or arc and ends the run, and a planted `dkim=pass` after Proton's
    /// `dkim=fail` does too, however many signatures the sender added for that domain.
    /// NOTE: two signatures of one domain that Proton judged differently end the run at the
    /// second result, so Proton's results after it are not trusted.
    fn extend(&mut self, results: &[crate::parse::authres::AuthResult]) -> bool {
        if results.is_empty() {
            return false;
        }
        for result in results {
            let repeated = self.methods.contains(&result.method);
            if repeated && !self.admits_another_dkim(result) {
                return false;
            }
            if result.method == "dkim" {
                self.dkim_results += 1;
                if let Some(domain) = signing_domain(result) {
                    let checked = self.checked.entry(domain).or_insert_with(|| Checked {
                        count: 0,
                        result: result.result.clone(),
                    });
                    checked.count += 1;
                }
            }
            if !repeated {
                self.methods.push(result.method.clone());
            }
        }
        true
    }

    fn admits_another_dkim(&self, result: &crate::parse::authres::AuthResult) -> bool {
        if result.method != "dkim" {
            return false;
        }
        // A check that failed before reading the signature (permerror) may name no domain;
        // it then counts against all signatures of the message.
        let Some(domain) = signing_domain(result) else {
            return self.dkim_results < self.signature_count * PROTON_DKIM_RESULTS_PER_SIGNATURE;
        };
        let signatures = self.signatures.get(&domain).copied().unwrap_or(0);
        let Some(checked) = self.checked.get(&domain) else {
            return signatures > 0;
        };
        // The sender chooses how many signatures a domain has, so a further check may not
        // contradict an earlier one.
        checked.result == result.result
            && checked.count < signatures * PROTON_DKIM_RESULTS_PER_SIGNATURE
    }
}

/// Returns the domain a dkim result is for, lower case: `header.d`, or the domain of
/// `header.i`, which names the same signature and counts as authenticated too.
fn signing_domain(result: &crate::parse::authres::AuthResult) -> Option<String> {
    result
        .property("header.d")
        .or_else(|| {
            result
                .property("header.i")
                .and_then(|i| i.rsplit_once('@').map(|(_, d)| d))
        })
        .filter(|domain| !domain.is_empty())
        .map(str::to_ascii_lowercase)
}

/// A result field below the trust boundary, as [`TrustWindow::admits`] weighs it.
struct EdgeField<'a> {
    line: usize,
    /// Position among the header fields.
    index: usize,
    id: Option<&'a str>,
    methods: &'a [String],
}

/// The fields of one authserv-id admitted below the boundary.
struct EdgeRun {
    id: String,
    /// Position of the last admitted field among the header fields.
    last_index: usize,
    methods: Vec<String>,
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

/// Tells whether the recipient's own receiving hosts include Exchange Online. An upstream
/// tenant that relayed the message to another receiver wrote its id-less results for
/// itself, not for the recipient.
fn received_by_exchange_online(receivers: &[String]) -> bool {
    receivers.iter().any(|by| is_exchange_online_host(by))
}

/// Methods that Exchange Online writes in its Authentication-Results.
const EXCHANGE_ONLINE_METHODS: &[&str] = &["spf", "dkim", "dmarc", "compauth", "arc"];

/// Tells whether an Authentication-Results field at `line` has Exchange Online's form (no
/// authserv-id, only the methods Exchange writes) and was added by an Exchange Online host.
/// That host also added the Received field right below the field, so it is that field's `by`.
fn written_by_exchange_online(line: usize, parsed: &AuthResults, chain: &RelayChain) -> bool {
    let exchange_methods = !parsed.results.is_empty()
        && parsed
            .results
            .iter()
            .all(|r| EXCHANGE_ONLINE_METHODS.contains(&r.method.as_str()));
    if parsed.authserv_id.is_some() || !exchange_methods {
        return false;
    }
    let received_below = chain
        .hops
        .iter()
        .filter(|hop| hop.line > line)
        .min_by_key(|hop| hop.line);
    received_below
        .and_then(|hop| hop.received.by_host.as_deref())
        .is_some_and(|by| is_exchange_online_host(&by.to_ascii_lowercase()))
}

fn is_exchange_online_host(host: &str) -> bool {
    host.ends_with(".protection.outlook.com") || host.ends_with(".prod.outlook.com")
}

/// Decides whether an authserv-id names the recipient's own receiver.
fn is_trusted_receiver(
    authserv_id: Option<&str>,
    receivers: &[String],
    received_by_eop: bool,
    config: &AnalysisConfig,
) -> bool {
    let Some(id) = authserv_id else {
        // Exchange Online Protection writes its results without an authserv-id, so no
        // declared id can name them. That form is trusted on mail that Exchange Online
        // received, by position like every other field.
        return received_by_eop;
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
/// that of a trusted field, or that has Exchange Online's id-less form on mail Exchange
/// Online received: a copy the sender wrote to pass as the recipient's verdict.
fn flag_forged_copies(
    results: &[AuthField],
    boundary_line: Option<usize>,
    received_by_eop: bool,
    earlier: Vec<(usize, &str)>,
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
        let claimed = match field.parsed.authserv_id.as_deref() {
            Some(id) if trusted_ids.contains(&id.to_ascii_lowercase()) => {
                format!("names {id}, the recipient's own receiver")
            }
            Some(_) => continue,
            None if received_by_eop => {
                "has the form Exchange Online writes (no authserv-id), and Exchange Online received this message".to_string()
            }
            None => continue,
        };
        // A receiver that writes its results below the Received fields (Proton Mail) has a
        // trusted run there too. This field differs in being outside that run.
        let run: Vec<usize> = results
            .iter()
            .filter(|f| f.trusted && f.line > boundary)
            .filter(|f| {
                f.parsed.authserv_id.as_deref().map(str::to_ascii_lowercase)
                    == field
                        .parsed
                        .authserv_id
                        .as_deref()
                        .map(str::to_ascii_lowercase)
            })
            .map(|f| f.line)
            .collect();
        let place = match (run.first(), run.last()) {
            (Some(first), Some(last)) if first == last => format!(
                "is not the result that receiver wrote below the Received fields for this delivery (line {first})"
            ),
            (Some(first), Some(last)) => format!(
                "is not in the run of results that receiver wrote below the Received fields for this delivery (lines {first} to {last})"
            ),
            _ => "sits below the first external hop".to_string(),
        };
        // A message that was delivered, stored and sent again (`chain.resent-after-gap`)
        // carries the results of its earlier delivery: a field that names the receiver of
        // that delivery is most likely its verdict then, not a forgery.
        let id = field.parsed.authserv_id.as_deref();
        let earlier_hop = earlier.iter().find(|(_, host)| {
            id.and_then(|id| org_domain(id.trim_end_matches('.')))
                .is_some_and(|d| org_domain(host.trim_end_matches('.')) == Some(d))
        });
        if let (Some(&(hop, host)), Some(id)) = (earlier_hop, id) {
            findings.push(
                Finding::new(
                    "auth.carried-over-results",
                    Severity::Medium,
                    "Authentication-Results from an earlier delivery of the message",
                    format!(
                        "The field at line {} names {id}, the recipient's own receiver, but {place}. The message was delivered once before and sent again later (chain.resent-after-gap), and hop {hop} of that earlier delivery was received by {}. So the field is most likely that receiver's verdict on the earlier delivery, carried over when the message was re-sent: it says nothing about this delivery. Re-sending a delivered message keeps its old stamps and signatures (DKIM replay).",
                        field.line,
                        quoted(host)
                    ),
                )
                .with_header(field.header.clone()),
            );
            continue;
        }
        findings.push(
            Finding::new(
                "auth.forged-results",
                Severity::High,
                "Authentication-Results claims the recipient's receiver but predates it",
                format!(
                    "The field at line {} {claimed}, but {place}, so it was there before the message reached the receiver: the sender wrote it or carried it over from an earlier delivery.",
                    field.line
                ),
            )
            .with_header(field.header.clone()),
        );
    }
}

/// Returns the index and receiving host of each hop of an earlier delivery, when the
/// message was stored and sent again.
fn earlier_receivers(chain: &RelayChain) -> Vec<(usize, &str)> {
    let Some(last) = chain.earlier_delivery else {
        return Vec::new();
    };
    chain
        .hops
        .iter()
        .filter(|hop| hop.index <= last)
        .filter_map(|hop| Some((hop.index, hop.received.by_host.as_deref()?)))
        .collect()
}

#[cfg(test)]
mod tests_common {
    use crate::analysis::Report;

    pub fn forged(report: &Report) -> bool {
        report
            .auth
            .findings
            .iter()
            .any(|f| f.id == "auth.forged-results")
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::Report;
    use crate::analysis::test_support::analyse_text;

    /// The receiver's own Received field, with results written below it by a milter.
    const EDGE: &str = "Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx1.example.net (Postfix) with ESMTP id 4Q; Tue, 8 Aug 2023 16:13:55 +0000\n";

    fn analyse(fields: &str) -> Report {
        analyse_text(&format!(
            "{EDGE}{fields}From: a@example.org\nSubject: test\n\nbody\n"
        ))
    }

    use super::tests_common::forged;

    fn spf_client_not_origin(report: &Report) -> Vec<String> {
        report
            .findings
            .iter()
            .filter(|f| f.id == "auth.spf-client-not-origin")
            .map(|f| f.detail.clone())
            .collect()
    }

    #[test]
    fn spf_checked_for_another_address_is_named() {
        let report = analyse(
            "Received-SPF: pass (mx1.example.net: domain of example.org designates 192.0.2.44 as permitted sender) client-ip=192.0.2.44;\n",
        );
        let details = spf_client_not_origin(&report);
        assert_eq!(details.len(), 1, "{details:?}");
        assert!(details[0].contains("checked SPF for 192.0.2.44"));
        assert!(details[0].contains("first external hop is 198.51.100.7 (hop 1)"));
    }

    #[test]
    fn spf_checked_for_the_origin_is_quiet() {
        let report = analyse(
            "Received-SPF: pass (mx1.example.net: domain of example.org designates 198.51.100.7 as permitted sender) client-ip=198.51.100.7;\n",
        );
        assert!(spf_client_not_origin(&report).is_empty());
    }

    #[test]
    fn milter_run_below_edge_trusted() {
        let report = analyse(
            "Authentication-Results: mx1.example.net; dmarc=none header.from=example.org\n\
             Authentication-Results: mx1.example.net; spf=none smtp.mailfrom=example.org\n\
             Authentication-Results: mx1.example.net; dkim=none\n",
        );
        let trusted: Vec<bool> = report.auth.results.iter().map(|f| f.trusted).collect();
        assert_eq!(trusted, [true, true, true]);
        assert!(!forged(&report));
    }

    /// Proton Mail's edge Received field.
    const PROTON_EDGE: &str = "Received: from mail.example.org (mail.example.org [198.51.100.7]) by mailin029.protonmail.ch (Postfix) with ESMTPS id 4S; Tue, 8 Aug 2023 16:13:55 +0000 (UTC)\n";

    /// The sender's own Received fields, below the receiver's edge field.
    const SENDER_TRACE: &str = "Received: from localhost (localhost [127.0.0.1]) by mail.example.org (Postfix) with ESMTP id 7A; Tue, 8 Aug 2023 16:13:50 +0000\n\
         Received: by mail.example.org (Postfix, from userid 0) id 7B; Tue, 8 Aug 2023 16:13:49 +0000\n";

    /// Proton Mail's run of results after the sender's Received fields.
    const TAIL_RUN: &str = "Authentication-Results: mail.protonmail.ch; dmarc=fail (p=reject dis=none) header.from=example.org\n\
         Authentication-Results: mail.protonmail.ch; spf=fail smtp.mailfrom=example.org\n\
         Authentication-Results: mail.protonmail.ch; dkim=none\n";

    fn analyse_at(edge: &str, fields: &str) -> Report {
        analyse_text(&format!(
            "{edge}{fields}From: a@example.org\nSubject: test\n\nbody\n"
        ))
    }

    use crate::analysis::test_support::trusted_lines;

    #[test]
    fn proton_run_after_sender_trace_trusted() {
        let report = analyse_at(PROTON_EDGE, &format!("{SENDER_TRACE}{TAIL_RUN}"));
        assert_eq!(trusted_lines(&report), [(4, true), (5, true), (6, true)]);
        assert!(!forged(&report));
        let ids: Vec<&str> = report.spoof.signals.iter().map(|s| s.id.as_str()).collect();
        assert!(ids.contains(&"dmarc-fail"), "{ids:?}");
        assert!(!ids.contains(&"no-trusted-results"), "{ids:?}");
    }

    #[test]
    fn proton_run_after_edge_alone_trusted() {
        let report = analyse_at(PROTON_EDGE, TAIL_RUN);
        assert_eq!(trusted_lines(&report), [(2, true), (3, true), (4, true)]);
    }

    /// A sender that re-sends a message carries the results of its earlier delivery along,
    /// after the receiver's own run. They repeat its methods and stay untrusted.
    #[test]
    fn carried_results_after_tail_run_untrusted() {
        let carried =
            "Authentication-Results: mail.protonmail.ch; dmarc=pass header.from=example.org\n";
        let report = analyse_at(PROTON_EDGE, &format!("{SENDER_TRACE}{TAIL_RUN}{carried}"));
        assert_eq!(
            trusted_lines(&report),
            [(4, true), (5, true), (6, true), (7, false)]
        );
        assert!(forged(&report));
    }

    /// When the chain shows an earlier delivery to the same receiver, the copy is most
    /// likely that receiver's verdict then: carried over, not forged.
    #[test]
    fn results_of_earlier_delivery_are_carried_over() {
        let earlier = "Received: from mail.example.com (mail.example.com [192.0.2.5]) by mailin022.protonmail.ch (Postfix) with ESMTPS id 1; Mon, 1 May 2023 10:00:00 +0000\n";
        let carried =
            "Authentication-Results: mail.protonmail.ch; dmarc=pass header.from=example.org\n";
        let report = analyse_at(
            PROTON_EDGE,
            &format!("{SENDER_TRACE}{earlier}{TAIL_RUN}{carried}"),
        );
        assert!(!forged(&report));
        let finding = report
            .findings
            .iter()
            .find(|f| f.id == "auth.carried-over-results")
            .expect("a carried-over finding");
        assert!(
            finding.detail.contains(
                "hop 1 of that earlier delivery was received by \"mailin022.protonmail.ch\""
            ),
            "{}",
            finding.detail
        );
        assert!(
            !report
                .spoof
                .signals
                .iter()
                .any(|s| s.id == "forged-auth-results")
        );
    }

    /// Proton Mail never writes between Received fields, so a field there is the sender's,
    /// and it does not displace the receiver's own run.
    #[test]
    fn proton_edge_block_field_untrusted() {
        let planted =
            "Authentication-Results: mail.protonmail.ch; dmarc=pass header.from=example.org\n";
        let report = analyse_at(PROTON_EDGE, &format!("{planted}{SENDER_TRACE}{TAIL_RUN}"));
        assert_eq!(
            trusted_lines(&report),
            [(2, false), (5, true), (6, true), (7, true)]
        );
        assert!(forged(&report));
    }

    #[test]
    fn tail_run_must_follow_last_received() {
        let report = analyse_at(
            PROTON_EDGE,
            &format!("{SENDER_TRACE}Subject: gap\n{TAIL_RUN}"),
        );
        assert!(report.auth.results.iter().all(|f| !f.trusted));
        let other_id = TAIL_RUN.replace("mail.protonmail.ch", "mx.example.com");
        let report = analyse_at(PROTON_EDGE, &format!("{SENDER_TRACE}{other_id}"));
        assert!(report.auth.results.iter().all(|f| !f.trusted));
    }

    /// With results above the edge Received field, a run after the sender's Received
    /// fields is the sender's.
    #[test]
    fn tail_run_ignored_when_results_above_edge() {
        let above =
            "Authentication-Results: mail.protonmail.ch; spf=pass smtp.mailfrom=example.org\n";
        let report = analyse_text(&format!(
            "{above}{PROTON_EDGE}{SENDER_TRACE}{TAIL_RUN}From: a@example.org\nSubject: test\n\nbody\n"
        ));
        assert_eq!(
            trusted_lines(&report),
            [(1, true), (5, false), (6, false), (7, false)]
        );
    }

    /// Proton Mail writes one dkim field per check, two for each signature, so a repeated
    /// dkim result for a signing domain of the message continues the run.
    #[test]
    fn proton_tail_keeps_each_signature_check() {
        let signatures = "DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1; h=from:subject; bh=AAAA; b=BBBB\n\
             DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; h=from:subject; bh=AAAA; b=BBBB\n";
        let run = "Authentication-Results: mail.protonmail.ch; dkim=pass header.d=example.net\n\
             Authentication-Results: mail.protonmail.ch; dkim=fail header.d=example.org\n\
             Authentication-Results: mail.protonmail.ch; dmarc=fail header.from=example.org\n\
             Authentication-Results: mail.protonmail.ch; spf=fail smtp.mailfrom=example.org\n\
             Authentication-Results: mail.protonmail.ch; dkim=pass header.d=example.net\n";
        let report = analyse_text(&format!(
            "{PROTON_EDGE}{SENDER_TRACE}{run}{signatures}From: a@example.org\nSubject: test\n\nbody\n"
        ));
        assert_eq!(
            trusted_lines(&report),
            [(4, true), (5, true), (6, true), (7, true), (8, true)]
        );
        assert!(!forged(&report));
    }

    /// A dkim result for a domain that signed nothing, or one checked more often than Proton
    /// Mail checks a signature, is not Proton's.
    #[test]
    fn proton_tail_extra_dkim_untrusted() {
        let signature = "DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1; h=from:subject; bh=AAAA; b=BBBB\n";
        let dkim = |domain: &str| {
            format!("Authentication-Results: mail.protonmail.ch; dkim=pass header.d={domain}\n")
        };
        let unsigned = format!("{TAIL_RUN}{}", dkim("example.org"));
        let checked_three_times = format!(
            "{}{}{}",
            dkim("example.net"),
            dkim("example.net"),
            dkim("example.net")
        );
        let cases: [(String, &[(usize, bool)]); 2] = [
            (unsigned, &[(4, true), (5, true), (6, true), (7, false)]),
            (checked_three_times, &[(4, true), (5, true), (6, false)]),
        ];
        for (run, expected) in cases {
            let report = analyse_text(&format!(
                "{PROTON_EDGE}{SENDER_TRACE}{run}{signature}From: a@example.org\nSubject: test\n\nbody\n"
            ));
            assert_eq!(trusted_lines(&report), expected, "{run}");
        }
    }

    /// A second check of a signature repeats the first one's result. A `dkim=pass` planted
    /// after Proton Mail's single `dkim=fail` for the same domain ends the run.
    #[test]
    fn proton_tail_contradicting_dkim_untrusted() {
        let signature = "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; h=from:subject; bh=AAAA; b=BBBB\n";
        let run = "Authentication-Results: mail.protonmail.ch; dmarc=fail header.from=example.org\n\
             Authentication-Results: mail.protonmail.ch; dkim=fail header.d=example.org\n\
             Authentication-Results: mail.protonmail.ch; dkim=pass header.d=example.org\n";
        let report = analyse_text(&format!(
            "{PROTON_EDGE}{SENDER_TRACE}{run}{signature}From: a@example.org\nSubject: test\n\nbody\n"
        ));
        assert_eq!(trusted_lines(&report), [(4, true), (5, true), (6, false)]);
        assert!(forged(&report));

        // A second signature that the sender added for the domain changes nothing, and
        // neither does a result that names the domain only in header.i.
        let signatures = format!("{signature}{signature}");
        let report = analyse_text(&format!(
            "{PROTON_EDGE}{SENDER_TRACE}{run}{signatures}From: a@example.org\nSubject: test\n\nbody\n"
        ));
        assert_eq!(trusted_lines(&report), [(4, true), (5, true), (6, false)]);
        let by_identity = run.replace("dkim=pass header.d=", "dkim=pass header.i=@");
        let report = analyse_text(&format!(
            "{PROTON_EDGE}{SENDER_TRACE}{by_identity}{signature}From: a@example.org\nSubject: test\n\nbody\n"
        ));
        assert_eq!(trusted_lines(&report), [(4, true), (5, true), (6, false)]);
    }

    /// Both of Proton's checks of a signature it cannot read may name no domain.
    #[test]
    fn proton_tail_two_permerrors_trusted() {
        let signature = "DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1; h=from:subject; bh=AAAA; b=BBBB\n";
        let run = "Authentication-Results: mail.protonmail.ch; dkim=permerror\n\
             Authentication-Results: mail.protonmail.ch; dmarc=fail header.from=example.org\n\
             Authentication-Results: mail.protonmail.ch; dkim=permerror\n\
             Authentication-Results: mail.protonmail.ch; dkim=permerror\n";
        let report = analyse_text(&format!(
            "{PROTON_EDGE}{SENDER_TRACE}{run}{signature}From: a@example.org\nSubject: test\n\nbody\n"
        ));
        assert_eq!(
            trusted_lines(&report),
            [(4, true), (5, true), (6, true), (7, false)]
        );
    }

    /// Mail that a Proton Mail user submitted arrives at a submission host, not at an
    /// inbound MX host, and gets no tail rule.
    #[test]
    fn proton_submission_host_gets_no_tail_rule() {
        let submission = PROTON_EDGE.replace("mailin029.protonmail.ch", "mail-4321.protonmail.ch");
        let report = analyse_at(&submission, &format!("{SENDER_TRACE}{TAIL_RUN}"));
        assert!(report.auth.results.iter().all(|f| !f.trusted));
    }

    /// Other receivers are not known to write after the sender's Received fields, so a run
    /// there, with the receiver's authserv-id, is one the sender planted.
    #[test]
    fn tail_run_untrusted_for_other_receivers() {
        let planted = TAIL_RUN.replace("mail.protonmail.ch", "mx1.example.net");
        let report = analyse(&format!("{SENDER_TRACE}{planted}"));
        assert!(report.auth.results.iter().all(|f| !f.trusted));
    }

    #[test]
    fn repeated_method_below_edge_forged() {
        let report = analyse(
            "Authentication-Results: mx1.example.net; spf=fail smtp.mailfrom=example.org\n\
             Authentication-Results: mx1.example.net; spf=pass smtp.mailfrom=example.org\n",
        );
        let trusted: Vec<bool> = report.auth.results.iter().map(|f| f.trusted).collect();
        assert_eq!(trusted, [true, false]);
        assert!(forged(&report));
        // The reason names the receiver's own run below the edge, which is trusted too.
        let finding = report
            .auth
            .findings
            .iter()
            .find(|f| f.id == "auth.forged-results")
            .expect("an auth.forged-results finding");
        assert!(
            finding
                .detail
                .contains("is not the result that receiver wrote below the Received fields for this delivery (line 2)"),
            "{}",
            finding.detail
        );
    }

    #[test]
    fn separated_copy_below_edge_forged() {
        let report = analyse(
            "Authentication-Results: mx1.example.net; spf=fail smtp.mailfrom=example.org\n\
             X-Example: between\n\
             Authentication-Results: mx1.example.net; dkim=pass header.d=example.org\n",
        );
        let trusted: Vec<bool> = report.auth.results.iter().map(|f| f.trusted).collect();
        assert_eq!(trusted, [true, false]);
        assert!(forged(&report));
    }
}

#[cfg(test)]
mod exchange_form_tests {
    use super::tests_common::forged;
    use crate::analysis::Report;
    use crate::analysis::test_support::analyse_text;
    use crate::finding::Severity;

    const INTERNAL: &str = "Received: from SJ0PR03CA0042.namprd03.prod.outlook.com (2603:10b6:a03:33e::17) by SJ0PR19MB6655.namprd19.prod.outlook.com (2603:10b6:a03:44b::7) with Microsoft SMTP Server id 15.20.6631.47; Mon, 7 Aug 2023 05:11:54 +0000\n";
    const REAL: &str = "Authentication-Results: spf=fail (sender IP is 203.0.113.5) smtp.mailfrom=example.org; dkim=none (message not signed) header.d=none;dmarc=fail action=none header.from=example.org;compauth=fail reason=001\n";
    const EDGE: &str = "Received: from mail.example.net (203.0.113.5) by DM6NAM11FT010.mail.protection.outlook.com (10.13.172.222) with Microsoft SMTP Server id 15.20.6631.42 via Frontend Transport; Mon, 7 Aug 2023 05:11:53 +0000\n";
    const COPY: &str = "Authentication-Results: spf=pass (sender IP is 203.0.113.5) smtp.mailfrom=example.org; dkim=pass (signature was verified) header.d=example.org;dmarc=pass action=none header.from=example.org;compauth=pass reason=100\n";

    fn analyse(fields: &str) -> Report {
        analyse_text(&format!(
            "{fields}From: a@example.org\nSubject: test\n\nbody\n"
        ))
    }

    #[test]
    fn id_less_copy_below_exchange_edge_is_forged() {
        let report = analyse(&format!("{INTERNAL}{REAL}{EDGE}{COPY}"));
        let trusted: Vec<bool> = report.auth.results.iter().map(|f| f.trusted).collect();
        assert_eq!(trusted, [true, false]);
        assert!(forged(&report));
        // The field's own findings carry the same severity as the report's list.
        let severities: Vec<Vec<Severity>> = report
            .auth
            .results
            .iter()
            .map(|f| f.parsed.findings.iter().map(|x| x.severity).collect())
            .collect();
        assert_eq!(severities, [vec![Severity::Info], vec![Severity::Medium]]);
    }

    /// `compauth=pass reason=130`: Exchange Online trusted a forwarder's ARC seal over the
    /// DMARC failure, so the failure does not count and a finding names the sealer.
    #[test]
    fn arc_override_explained_not_scored() {
        let overridden = "Authentication-Results: spf=fail (sender IP is 203.0.113.5) smtp.mailfrom=lists.example.net; dkim=fail (body hash did not verify) header.d=example.org;dmarc=fail action=none header.from=example.org;compauth=pass reason=130\n";
        let arc = "ARC-Seal: i=1; a=rsa-sha256; t=1691385110; cv=none; d=example.net; s=arc; b=AAAA\n\
                   ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=arc; h=from:subject; bh=BBBB; b=CCCC\n\
                   ARC-Authentication-Results: i=1; mx.example.net; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org; dmarc=pass header.from=example.org\n";
        let report = analyse(&format!("{INTERNAL}{overridden}{EDGE}{arc}"));
        let finding = report
            .findings
            .iter()
            .find(|f| f.id == "auth.arc-override")
            .expect("an auth.arc-override finding");
        assert!(
            finding.detail.contains("\"example.net\""),
            "{}",
            finding.detail
        );
        assert!(
            finding.detail.contains("(i=1) recorded dmarc=pass"),
            "{}",
            finding.detail
        );
        let signals: Vec<&str> = report.spoof.signals.iter().map(|s| s.id.as_str()).collect();
        assert!(!signals.contains(&"dmarc-fail"), "{signals:?}");
        assert!(!signals.contains(&"dmarc-missing"), "{signals:?}");

        // No forwarder recorded a DMARC pass: the failure counts.
        let unconfirmed = analyse(&format!(
            "{INTERNAL}{overridden}{EDGE}{}",
            arc.replace("dmarc=pass", "dmarc=fail")
        ));
        let finding = unconfirmed
            .findings
            .iter()
            .find(|f| f.id == "auth.arc-override")
            .expect("an auth.arc-override finding");
        assert!(
            finding.detail.contains("still counts"),
            "{}",
            finding.detail
        );
        assert!(
            unconfirmed
                .spoof
                .signals
                .iter()
                .any(|s| s.id == "dmarc-fail")
        );

        let failed = analyse(&format!(
            "{INTERNAL}{}{EDGE}{arc}",
            overridden.replace("reason=130", "reason=000")
        ));
        assert!(failed.findings.iter().all(|f| f.id != "auth.arc-override"));
        let signals: Vec<&str> = failed.spoof.signals.iter().map(|s| s.id.as_str()).collect();
        assert!(signals.contains(&"dmarc-fail"), "{signals:?}");

        // Reason 130 with dmarc=none: nothing was overridden, and no DMARC pass is recorded.
        let no_policy = analyse(&format!(
            "{INTERNAL}{}{EDGE}{arc}",
            overridden.replace("dmarc=fail", "dmarc=none")
        ));
        let finding = no_policy
            .findings
            .iter()
            .find(|f| f.id == "auth.arc-override")
            .expect("an auth.arc-override finding");
        assert!(
            finding
                .detail
                .contains("record dmarc=none: no DMARC failure was overridden"),
            "{}",
            finding.detail
        );
        let signals: Vec<&str> = no_policy
            .spoof
            .signals
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert!(signals.contains(&"dmarc-missing"), "{signals:?}");
    }

    /// The recipient's receiver is not Exchange Online: an upstream tenant relayed to it.
    const POSTFIX_EDGE: &str = "Received: from mail-dm6nam12lp2168.outbound.protection.outlook.com (mail-dm6nam12lp2168.outbound.protection.outlook.com [104.47.59.168]) by mx.example.net (Postfix) with ESMTPS id B8B67FF922; Mon, 7 Aug 2023 05:11:56 +0000\n";

    fn missing_id_severities(report: &Report) -> Vec<Severity> {
        report
            .findings
            .iter()
            .filter(|f| f.id == "auth.missing-authserv-id")
            .map(|f| f.severity)
            .collect()
    }

    #[test]
    fn upstream_tenant_form_is_info() {
        let report = analyse(&format!("{POSTFIX_EDGE}{INTERNAL}{REAL}{EDGE}"));
        assert!(!report.auth.results[0].trusted);
        assert_eq!(missing_id_severities(&report), [Severity::Info]);
        assert!(!forged(&report));
        let detail = &report
            .findings
            .iter()
            .find(|f| f.id == "auth.missing-authserv-id")
            .expect("the finding")
            .detail;
        assert!(
            detail.contains("belongs to a Microsoft 365 tenant that handled the message before"),
            "{detail}"
        );
    }

    #[test]
    fn id_less_other_form_stays_medium() {
        let other_methods = "Authentication-Results: spf=pass smtp.mailfrom=example.org; auth=pass smtp.auth=a@example.org\n";
        let other_host = "Received: from mail.example.net (203.0.113.5) by mx.example.org (Postfix) with ESMTP id 4Q; Mon, 7 Aug 2023 05:11:53 +0000\n";
        let cases = [
            (
                "methods Exchange does not write",
                format!("{POSTFIX_EDGE}{INTERNAL}{other_methods}{EDGE}"),
            ),
            (
                "added above a host that is not Exchange's",
                format!("{POSTFIX_EDGE}{REAL}{other_host}"),
            ),
        ];
        for (case, fields) in cases {
            let report = analyse(&fields);
            assert_eq!(missing_id_severities(&report), [Severity::Medium], "{case}");
        }
    }

    #[test]
    fn id_less_copy_alone_is_forged_not_trusted() {
        let report = analyse(&format!("{INTERNAL}{EDGE}{COPY}"));
        assert!(!report.auth.has_trusted_results());
        assert!(forged(&report));
        assert!(
            report
                .spoof
                .signals
                .iter()
                .any(|s| s.id == "forged-auth-results")
        );
        let stripped_results = report
            .findings
            .iter()
            .any(|f| f.id.starts_with("stripped.") && f.detail.contains("Authentication-Results"));
        assert!(stripped_results, "{:#?}", report.findings);
    }
}

#[cfg(test)]
mod declared_id_tests {
    use crate::analysis::test_support::analyse_bytes;
    use crate::config::AnalysisConfig;

    #[test]
    fn exchange_results_trusted_with_declared_ids() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/samples/clean-exchange-online.eml"
        );
        let bytes = std::fs::read(path).expect("sample");
        let config = AnalysisConfig {
            trusted_authserv_ids: vec!["mx.example.org".into()],
            ..AnalysisConfig::default()
        };
        let report = analyse_bytes(bytes, &config);
        let exchange_form = report
            .auth
            .results
            .iter()
            .find(|f| f.parsed.authserv_id.is_none())
            .expect("Exchange Online's results without authserv-id");
        assert!(exchange_form.trusted);
    }
}
