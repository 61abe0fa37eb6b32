//! Reverse DNS of the origin IP with forward confirmation (the iprev method of RFC 8601
//! section 3): the PTR names must resolve back to the same address.

use crate::finding::{Finding, Severity};
use crate::verify::Caches;
use crate::verify::cache::Lookups;
use crate::verify::with_caches;
use mail_auth::{IprevResult, MessageAuthenticator};
use serde::Serialize;
use std::net::IpAddr;

/// Reverse DNS of the origin checked now.
#[derive(Debug, Clone, Serialize)]
pub struct IprevCheck {
    pub ip: IpAddr,
    /// pass when a PTR name resolves back to the IP; fail, temperror, permerror otherwise.
    pub result: String,
    pub ptr: Vec<String>,
    pub reason: Option<String>,
}

/// Checks the reverse DNS of `ip`.
pub async fn check(
    authenticator: &MessageAuthenticator,
    caches: &Caches<'_>,
    lookups: &Lookups,
    ip: IpAddr,
) -> IprevCheck {
    let mark = lookups.requested_count();
    let output = authenticator.verify_iprev(with_caches!(ip, caches)).await;
    let (mut result, mut reason) = match &output.result {
        IprevResult::Pass => ("pass", None),
        IprevResult::Fail(e) => ("fail", Some(e.to_string())),
        IprevResult::TempError(e) => ("temperror", Some(e.to_string())),
        IprevResult::PermError(e) => ("permerror", Some(e.to_string())),
        IprevResult::None => ("none", None),
    };
    // mail-auth takes a PTR or address lookup that the store rejected for an empty record
    // set, which would turn a query never sent into a fail.
    if result != "pass"
        && let Some(rejected) = lookups.rejected_since(mark)
    {
        result = "temperror";
        reason = Some(format!("a DNS lookup was not sent: {rejected}"));
    }
    IprevCheck {
        ip,
        result: result.into(),
        ptr: output.ptr.map(|names| names.to_vec()).unwrap_or_default(),
        reason,
    }
}

/// Returns a finding when the origin has no forward-confirmed reverse name.
pub fn findings(check: Option<&IprevCheck>) -> Vec<Finding> {
    match check {
        Some(check) if matches!(check.result.as_str(), "fail" | "permerror") => vec![Finding::new(
            "verify.rdns-not-confirmed",
            Severity::Low,
            format!(
                "Origin {} has no forward-confirmed reverse DNS name",
                check.ip
            ),
            format!(
                "Verified now: iprev={} ({}). Legitimate mail servers almost always have a PTR name that resolves back to their address.",
                check.result,
                check.reason.as_deref().unwrap_or("no PTR name")
            ),
        )],
        _ => Vec::new(),
    }
}
