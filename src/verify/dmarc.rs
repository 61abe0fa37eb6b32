//! DMARC re-verification (RFC 7489): the policy of the From domain fetched now, and
//! relaxed or strict alignment of the DKIM and SPF results with organisational domains.

use crate::analysis::Report;
use crate::finding::{Finding, Severity};
use crate::verify::Caches;
use crate::verify::with_caches;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::dmarc::{Alignment, Policy};
use mail_auth::{AuthenticatedMessage, DkimOutput, DmarcResult, MessageAuthenticator, SpfOutput};
use serde::Serialize;

/// DMARC evaluated now for the From domain.
#[derive(Debug, Clone, Serialize)]
pub struct DmarcCheck {
    pub domain: String,
    /// pass when DKIM or SPF passes aligned, fail otherwise; none without a policy record.
    pub result: String,
    pub dkim_aligned: String,
    pub spf_aligned: String,
    pub policy: Option<String>,
    pub subdomain_policy: Option<String>,
    pub pct: Option<u8>,
    pub adkim: Option<String>,
    pub aspf: Option<String>,
}

/// Checks DMARC; `None` when the message has no envelope domain to align with.
pub async fn check(
    authenticator: &MessageAuthenticator,
    caches: &Caches<'_>,
    message: &AuthenticatedMessage<'_>,
    dkim: &[DkimOutput<'_>],
    spf: Option<(&str, &SpfOutput)>,
    report: &Report,
) -> Option<DmarcCheck> {
    let (mail_from_domain, spf_output) = spf?;
    report.message.from_domain()?;
    let params = DmarcParameters::new(message, dkim, mail_from_domain, spf_output)
        .with_domain_suffix_fn(|domain| psl::domain_str(domain).unwrap_or(domain));
    let output = authenticator
        .verify_dmarc(with_caches!(params, caches))
        .await;
    let record = output.dmarc_record();
    let dkim_aligned = result_name(output.dkim_result());
    let spf_aligned = result_name(output.spf_result());
    let result = if record.is_none() {
        if matches!(output.dkim_result(), DmarcResult::TempError(_)) {
            "temperror"
        } else {
            "none"
        }
    } else if dkim_aligned == "pass" || spf_aligned == "pass" {
        "pass"
    } else {
        "fail"
    };
    Some(DmarcCheck {
        domain: output.domain().to_string(),
        result: result.into(),
        dkim_aligned: dkim_aligned.into(),
        spf_aligned: spf_aligned.into(),
        policy: record.map(|r| policy_name(&r.p).into()),
        subdomain_policy: record.map(|r| policy_name(&r.sp).into()),
        pct: record.map(|r| r.pct),
        adkim: record.map(|r| alignment_name(&r.adkim).into()),
        aspf: record.map(|r| alignment_name(&r.aspf).into()),
    })
}

fn result_name(result: &DmarcResult) -> &'static str {
    match result {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}

fn policy_name(policy: &Policy) -> &'static str {
    match policy {
        Policy::None => "none",
        Policy::Quarantine => "quarantine",
        Policy::Reject => "reject",
        Policy::Unspecified => "unspecified",
    }
}

fn alignment_name(alignment: &Alignment) -> &'static str {
    match alignment {
        Alignment::Relaxed => "relaxed",
        Alignment::Strict => "strict",
    }
}

/// Returns findings for a DMARC failure now and for a disagreement with the record.
pub fn findings(check: Option<&DmarcCheck>, report: &Report) -> Vec<Finding> {
    let Some(check) = check else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let recorded = report.auth.trusted_results("dmarc");
    let recorded = recorded.first();
    if check.result == "fail" {
        let severity = match check.policy.as_deref() {
            Some("reject" | "quarantine") => Severity::Medium,
            _ => Severity::Low,
        };
        findings.push(Finding::new(
            "verify.dmarc-fail",
            severity,
            format!(
                "DMARC fails now for {} (p={})",
                check.domain,
                check.policy.as_deref().unwrap_or("-")
            ),
            format!(
                "Verified now: neither DKIM ({}) nor SPF ({}) passes aligned with the From domain.",
                check.dkim_aligned, check.spf_aligned
            ),
        ));
    }
    if let Some(recorded) = recorded
        && !crate::verify::same_result(&recorded.result, &check.result)
        && check.result != "temperror"
    {
        findings.push(Finding::new(
            "verify.dmarc-result-differs",
            Severity::Low,
            format!("DMARC is {} now, but dmarc={} was recorded", check.result, recorded.result),
            "Verified now: the policy record or the DKIM and SPF results it rests on differ from those at delivery.",
        ));
    }
    findings
}
