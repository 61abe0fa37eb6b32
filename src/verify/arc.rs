//! ARC chain validation (RFC 8617 section 5.2) with mail-auth.

use crate::finding::{Finding, Severity};
use mail_auth::{ArcOutput, DkimResult};
use serde::Serialize;

/// ARC chain validated now.
#[derive(Debug, Clone, Serialize)]
pub struct ArcCheck {
    /// pass, fail, none, permerror or temperror.
    pub result: String,
    pub sets: usize,
    pub reason: Option<String>,
}

/// Builds the check; `None` when the message has no ARC sets.
pub fn check(output: &ArcOutput<'_>) -> Option<ArcCheck> {
    let (result, reason) = match output.result() {
        DkimResult::Pass => ("pass", None),
        DkimResult::Neutral(e) | DkimResult::Fail(e) => ("fail", Some(e.to_string())),
        DkimResult::PermError(e) => ("permerror", Some(e.to_string())),
        DkimResult::TempError(e) => ("temperror", Some(e.to_string())),
        DkimResult::None => ("none", None),
    };
    (result != "none").then(|| ArcCheck {
        result: result.into(),
        sets: output.sets().len(),
        reason,
    })
}

/// Returns a finding when the chain fails now.
pub fn findings(check: Option<&ArcCheck>) -> Vec<Finding> {
    match check {
        Some(check) if check.result == "fail" || check.result == "permerror" => vec![Finding::new(
            "verify.arc-chain-fails",
            Severity::Low,
            "ARC chain does not validate now",
            format!(
                "Verified now: arc={} ({}). A seal or message signature no longer verifies, or the chain is malformed.",
                check.result,
                check.reason.as_deref().unwrap_or("no reason")
            ),
        )],
        _ => Vec::new(),
    }
}
