//! SPF re-verification (RFC 7208) for the origin IP that the trust boundary found. The
//! identities are the envelope sender and the HELO name of the boundary hop, never those of
//! the newest hop.

use crate::analysis::Report;
use crate::analysis::sender::address_domain;
use crate::finding::{Finding, Severity};
use crate::verify::cache::{Lookups, Rcode, Store};
use crate::verify::with_caches;
use crate::verify::{Caches, resolver};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{MessageAuthenticator, SpfOutput, SpfResult};
use serde::Serialize;
use std::net::IpAddr;

/// One SPF identity checked now.
#[derive(Debug, Clone, Serialize)]
pub struct SpfCheck {
    /// `mailfrom` or `helo`.
    pub identity: String,
    pub domain: String,
    pub ip: IpAddr,
    pub result: String,
    /// Reason for changing mail-auth's result, when mailtrace changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// More void lookups than this make check_host() return permerror (RFC 7208 section 4.6.4).
const MAX_VOID_LOOKUPS: usize = 2;

/// The answer store and the message's lookups, to count the void lookups of an SPF check.
pub struct SpfLookups<'a> {
    pub store: &'a Store,
    pub lookups: &'a Lookups,
    /// Whether missing answers may be fetched (false when replaying a cache file).
    pub live: bool,
}

/// SPF checks of one message, with the output DMARC uses.
pub struct SpfOutcome {
    pub checks: Vec<SpfCheck>,
    mail_from: Option<(String, SpfOutput)>,
}

impl SpfOutcome {
    /// Returns the envelope domain and the SPF output that DMARC evaluates: MAIL FROM, or
    /// HELO when the envelope sender is empty (RFC 7489 section 4.1).
    pub fn mail_from_output(&self) -> Option<(&str, &SpfOutput)> {
        self.mail_from
            .as_ref()
            .map(|(domain, output)| (domain.as_str(), output))
    }
}

/// Checks SPF for the origin of `report`.
pub async fn check(
    authenticator: &MessageAuthenticator,
    caches: &Caches<'_>,
    spf_lookups: &SpfLookups<'_>,
    report: &Report,
) -> SpfOutcome {
    let mut outcome = SpfOutcome {
        checks: Vec::new(),
        mail_from: None,
    };
    let Some(ip) = report.origin.as_ref().and_then(|o| o.ip) else {
        return outcome;
    };
    let boundary = report.chain.boundary_hop();
    let helo = boundary
        .and_then(|hop| {
            hop.received
                .helo
                .clone()
                .or_else(|| hop.received.from_host.clone())
        })
        .filter(|name| name.parse::<IpAddr>().is_err() && !name.starts_with('['))
        .unwrap_or_default();
    let host = boundary
        .and_then(|hop| hop.received.by_host.clone())
        .unwrap_or_else(|| "localhost".into());

    // mail-auth 0.7 enforces the 10-lookup limit of RFC 7208 section 4.6.4 but not the
    // limit of 2 void lookups, so each check counts its void lookups afterwards.
    // NOTE: mail-auth 0.7 overflows a shift on `/0` prefixes (`a/0`, `ip4:0.0.0.0/0`): release builds
    // then use a /32 mask, and builds with overflow checks panic, which `attach` catches.
    // tests/auth_suites.rs lists every RFC 7208 suite case that differs.
    // Step 1: HELO identity (RFC 7208 section 2.3).
    let mut helo_output = None;
    if !helo.is_empty() {
        let mark = spf_lookups.lookups.requested_count();
        let output = authenticator
            .check_host(with_caches!(
                SpfParameters::verify_ehlo(ip, &helo, &host),
                caches
            ))
            .await;
        let mut check = spf_check("helo", &helo, ip, &output);
        apply_void_limit(&mut check, authenticator, spf_lookups, mark).await;
        outcome.checks.push(check);
        helo_output = Some(output);
    }

    // Step 2: MAIL FROM identity (RFC 7208 section 2.4).
    if let Some(sender) = envelope_sender(report) {
        let mark = spf_lookups.lookups.requested_count();
        let output = authenticator
            .check_host(with_caches!(
                SpfParameters::verify_mail_from(ip, &helo, &host, &sender),
                caches
            ))
            .await;
        let mut check = spf_check("mailfrom", output.domain(), ip, &output);
        apply_void_limit(&mut check, authenticator, spf_lookups, mark).await;
        // NOTE: DMARC still evaluates mail-auth's own SPF output, which cannot be changed from
        // outside mail-auth, so a result turned into permerror here may count as aligned.
        outcome.checks.push(check);
        outcome.mail_from = Some((output.domain().to_string(), output));
    } else if let Some(output) = helo_output {
        outcome.mail_from = Some((helo.clone(), output));
    }
    outcome
}

/// Returns the envelope sender: Return-Path, else smtp.mailfrom of the trusted spf result.
fn envelope_sender(report: &Report) -> Option<String> {
    let from_return_path = report
        .message
        .return_path
        .as_deref()
        .map(|path| {
            path.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim()
                .to_string()
        })
        .filter(|path| address_domain(path).is_some());
    from_return_path.or_else(|| {
        report
            .auth
            .trusted_results("spf")
            .into_iter()
            .find_map(|r| r.property("smtp.mailfrom").map(str::to_string))
            .map(|value| {
                if value.contains('@') {
                    value
                } else {
                    format!("postmaster@{value}")
                }
            })
    })
}

fn spf_check(identity: &str, domain: &str, ip: IpAddr, output: &SpfOutput) -> SpfCheck {
    SpfCheck {
        identity: identity.into(),
        domain: domain.to_ascii_lowercase(),
        ip,
        result: result_name(output.result()).into(),
        reason: None,
    }
}

/// Turns the result of `check` into permerror when more than two of the names it looked up
/// after `mark` had void answers (NXDOMAIN, or no record of the type). The first name
/// is the identity's own SPF record, which is not a term's lookup. Names whose answer is
/// unknown (a replay without it, a failed lookup) do not count.
async fn apply_void_limit(
    check: &mut SpfCheck,
    authenticator: &MessageAuthenticator,
    spf_lookups: &SpfLookups<'_>,
    mark: usize,
) {
    if check.result == "permerror" || check.result == "temperror" {
        return;
    }
    // A DNS error during the evaluation makes the result temperror (RFC 7208 section 4.4).
    // mail-auth took a rejected address or MX lookup for an empty record set instead.
    if let Some(reason) = spf_lookups.lookups.rejected_since(mark) {
        check.reason = Some(format!(
            "mail-auth returned {}, but a DNS lookup it needed was not sent: {reason}",
            check.result
        ));
        check.result = "temperror".into();
        return;
    }
    if spf_lookups.live {
        resolver::store_answers(authenticator, spf_lookups.store, spf_lookups.lookups).await;
    }
    let names = spf_lookups.lookups.requested_since(mark);
    // mail-auth may ask for A and AAAA of one term's name (for `exists`), which is one
    // term and counts once.
    let mut void: Vec<&str> = Vec::new();
    for (record_type, name) in names.iter().skip(1) {
        let is_void = spf_lookups
            .store
            .answer(*record_type, name)
            .is_some_and(|answer| answer.rcode == Rcode::NxDomain || answer.data.is_empty());
        if is_void && !void.contains(&name.as_str()) {
            void.push(name);
        }
    }
    if void.len() > MAX_VOID_LOOKUPS {
        check.reason = Some(format!(
            "mail-auth returned {}, but the record needed {} void DNS lookups ({}), more than the {MAX_VOID_LOOKUPS} that RFC 7208 section 4.6.4 allows",
            check.result,
            void.len(),
            void.join(", ")
        ));
        check.result = "permerror".into();
    }
}

/// Returns the RFC 8601 name of an SPF result.
pub fn result_name(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// Returns findings where SPF now disagrees with the recorded trusted result.
pub fn findings(checks: &[SpfCheck], report: &Report) -> Vec<Finding> {
    let Some(now) = checks
        .iter()
        .find(|c| c.identity == "mailfrom")
        .or(checks.first())
    else {
        return Vec::new();
    };
    let recorded = report.auth.trusted_results("spf");
    let Some(recorded) = recorded.first() else {
        return Vec::new();
    };
    if crate::verify::same_result(&recorded.result, &now.result) || now.result == "temperror" {
        return Vec::new();
    }
    let severity = if recorded.result.eq_ignore_ascii_case("pass") && now.result == "fail" {
        Severity::Medium
    } else {
        Severity::Low
    };
    vec![Finding::new(
        "verify.spf-result-differs",
        severity,
        format!(
            "SPF for {} is {} now, but spf={} was recorded",
            now.domain, now.result, recorded.result
        ),
        format!(
            "Verified now for {} ({}): spf={}. The record may have changed since delivery, or the recorded result was not made for this origin address.",
            now.ip, now.identity, now.result
        ),
    )]
}
