//! DKIM re-verification (RFC 6376 section 6): each DKIM-Signature checked now with mail-auth,
//! with its key size, set against the recorded dkim result for the same signature.

use crate::analysis::Report;
use crate::finding::{Finding, Severity};
use crate::parse::authres::AuthResult;
use crate::verify::cache::{RecordType, Store};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_auth::dkim::Signature;
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::{AuthenticatedMessage, DkimOutput, DkimResult, Error as AuthError};
use serde::Serialize;

/// One DKIM-Signature verified now.
#[derive(Debug, Clone, Serialize)]
pub struct DkimCheck {
    /// `d=`; absent when the signature could not be parsed.
    pub domain: Option<String>,
    pub selector: Option<String>,
    /// `rsa-sha256`, `rsa-sha1` or `ed25519-sha256`.
    pub algorithm: Option<String>,
    /// Public key size in bits, read from the key record.
    pub key_bits: Option<u32>,
    /// RFC 8601 result: pass, fail, neutral, permerror, temperror or none.
    pub result: String,
    pub reason: Option<String>,
    pub body_hash_mismatch: bool,
    pub expired: bool,
    /// Key record not found now (for example after key rotation), so the signature cannot
    /// be checked.
    pub key_missing: bool,
    /// Headers listed in `h=` that the message no longer has.
    pub signed_headers_missing: Vec<String>,
    /// First 12 base64 characters of `b=`, as Authentication-Results records `header.b`.
    pub header_b: Option<String>,
}

/// Builds the checks from mail-auth's outputs, one per DKIM-Signature in message order.
pub fn checks(
    message: &AuthenticatedMessage<'_>,
    outputs: &[DkimOutput<'_>],
    store: &Store,
) -> Vec<DkimCheck> {
    outputs
        .iter()
        .map(|output| {
            let (result, error) = result_name(output.result());
            let signature = output.signature();
            DkimCheck {
                domain: signature.map(|s| s.d.to_ascii_lowercase()),
                selector: signature.map(|s| s.s.clone()),
                algorithm: signature.map(|s| algorithm_name(s).to_string()),
                key_bits: signature.and_then(|s| key_bits(s, store)),
                result: result.to_string(),
                reason: error.map(ToString::to_string),
                body_hash_mismatch: matches!(error, Some(AuthError::FailedBodyHashMatch)),
                expired: matches!(error, Some(AuthError::SignatureExpired)),
                key_missing: matches!(
                    error,
                    Some(
                        AuthError::DnsRecordNotFound(
                            ResponseCode::NXDomain | ResponseCode::NoError
                        ) | AuthError::InvalidRecordType
                    )
                ),
                signed_headers_missing: signature
                    .map(|s| missing_headers(message, s))
                    .unwrap_or_default(),
                header_b: signature.map(|s| STANDARD.encode(&s.b).chars().take(12).collect()),
            }
        })
        .collect()
}

/// Returns the RFC 8601 result name and the error behind a failing result.
fn result_name(result: &DkimResult) -> (&'static str, Option<&AuthError>) {
    match result {
        DkimResult::Pass => ("pass", None),
        DkimResult::Neutral(e) => ("neutral", Some(e)),
        DkimResult::Fail(e) => ("fail", Some(e)),
        DkimResult::PermError(e) => ("permerror", Some(e)),
        DkimResult::TempError(e) => ("temperror", Some(e)),
        DkimResult::None => ("none", None),
    }
}

fn algorithm_name(signature: &Signature) -> &'static str {
    match signature.a {
        mail_auth::common::crypto::Algorithm::RsaSha1 => "rsa-sha1",
        mail_auth::common::crypto::Algorithm::RsaSha256 => "rsa-sha256",
        mail_auth::common::crypto::Algorithm::Ed25519Sha256 => "ed25519-sha256",
    }
}

/// Returns the `h=` names with no header of that name in the message.
fn missing_headers(message: &AuthenticatedMessage<'_>, signature: &Signature) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    for name in &signature.h {
        let present = message
            .headers
            .iter()
            .any(|(header, _)| header.eq_ignore_ascii_case(name.as_bytes()));
        if !present && !missing.iter().any(|m| m.eq_ignore_ascii_case(name)) {
            missing.push(name.clone());
        }
    }
    missing
}

/// Reads the key size from the stored key record: 256 for Ed25519, the modulus length
/// for RSA.
fn key_bits(signature: &Signature, store: &Store) -> Option<u32> {
    let name = format!("{}._domainkey.{}", signature.s, signature.d);
    let answer = store.answer(RecordType::Txt, &name)?;
    let record = answer.data.iter().find(|r| r.contains("p="))?;
    let key = record
        .split(';')
        .filter_map(|tag| tag.split_once('='))
        .find(|(tag, _)| tag.trim() == "p")
        .map(|(_, value)| value.split_whitespace().collect::<String>())?;
    let bytes = STANDARD.decode(key).ok()?;
    if matches!(
        signature.a,
        mail_auth::common::crypto::Algorithm::Ed25519Sha256
    ) {
        return (bytes.len() == 32).then_some(256);
    }
    rsa_modulus_bits(&bytes)
}

/// Returns the RSA modulus size of a SubjectPublicKeyInfo or PKCS#1 RSAPublicKey (DER).
fn rsa_modulus_bits(der: &[u8]) -> Option<u32> {
    let (tag, outer, _) = read_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (first_tag, first, rest) = read_tlv(outer)?;
    let modulus = match first_tag {
        // PKCS#1: SEQUENCE { modulus INTEGER, exponent INTEGER }.
        0x02 => first,
        // SubjectPublicKeyInfo: SEQUENCE { algorithm, BIT STRING { RSAPublicKey } }.
        0x30 => {
            let (bit_tag, bits, _) = read_tlv(rest)?;
            if bit_tag != 0x03 || bits.is_empty() {
                return None;
            }
            let (tag, inner, _) = read_tlv(&bits[1..])?;
            let (int_tag, modulus, _) = read_tlv(inner).filter(|_| tag == 0x30)?;
            (int_tag == 0x02).then_some(modulus)?
        }
        _ => return None,
    };
    let significant: &[u8] = {
        let start = modulus.iter().position(|&b| b != 0)?;
        &modulus[start..]
    };
    let leading = significant.first()?.leading_zeros();
    u32::try_from(significant.len())
        .ok()?
        .checked_mul(8)?
        .checked_sub(leading)
}

/// Reads one DER tag-length-value and returns the tag, the value and what follows.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[count..];
        length
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// Finds the trusted recorded dkim result for a signature: same `header.d`, and same
/// `header.s` and `header.b` prefix when the result records them.
fn recorded_result<'a>(check: &DkimCheck, report: &'a Report) -> Option<&'a AuthResult> {
    let domain = check.domain.as_deref()?;
    report
        .auth
        .trusted_results("dkim")
        .into_iter()
        .find(|result| {
            let same_domain = result
                .property("header.d")
                .or_else(|| {
                    result
                        .property("header.i")
                        .and_then(|i| i.rsplit('@').next())
                })
                .is_some_and(|d| d.eq_ignore_ascii_case(domain));
            let same_selector = result.property("header.s").is_none_or(|s| {
                check
                    .selector
                    .as_deref()
                    .is_some_and(|own| own.eq_ignore_ascii_case(s))
            });
            let same_b = result.property("header.b").is_none_or(|b| {
                check
                    .header_b
                    .as_deref()
                    .is_some_and(|own| own.starts_with(b) || b.starts_with(own))
            });
            same_domain && same_selector && same_b
        })
}

/// Returns findings where a signature's result now disagrees with the recorded one.
pub fn findings(checks: &[DkimCheck], report: &Report) -> Vec<Finding> {
    let mut findings = Vec::new();
    for check in checks {
        let recorded = recorded_result(check, report);
        let recorded_pass = recorded.is_some_and(|r| r.result.eq_ignore_ascii_case("pass"));
        let label = format!(
            "d={} s={}",
            check.domain.as_deref().unwrap_or("-"),
            check.selector.as_deref().unwrap_or("-")
        );

        // Step 1: the body changed after signing (RFC 6376 section 6.1.3).
        if check.body_hash_mismatch {
            let (severity, recorded_text) = if recorded_pass {
                (Severity::High, " although the receiver recorded dkim=pass")
            } else {
                (Severity::Medium, "")
            };
            findings.push(Finding::new(
                "verify.body-hash-mismatch",
                severity,
                format!("DKIM body hash no longer matches ({label})"),
                format!("Verified now: the body hash of the DKIM-Signature {label} does not match the message body{recorded_text}. The body was changed after signing, for example by a forwarder footer or an edit."),
            ));
            continue;
        }

        // Step 2: a recorded pass that fails now with the key still published.
        if recorded_pass
            && check.result != "pass"
            && !check.key_missing
            && !check.expired
            && check.result != "temperror"
        {
            let missing = if check.signed_headers_missing.is_empty() {
                String::new()
            } else {
                format!(
                    " Signed headers now missing: {}.",
                    check.signed_headers_missing.join(", ")
                )
            };
            findings.push(Finding::new(
                "verify.dkim-recorded-pass-now-fails",
                Severity::High,
                format!("Recorded dkim=pass, but the signature {label} fails now"),
                format!("Verified now: dkim={} ({}). The receiver recorded pass, so signed headers were changed or removed after delivery.{missing}", check.result, check.reason.as_deref().unwrap_or("no reason")),
            ));
        }

        // Step 3: signed headers that are gone, when the signature fails.
        if check.result == "fail" && !check.signed_headers_missing.is_empty() {
            let mut finding = Finding::new(
                "verify.dkim-signed-header-missing",
                Severity::Medium,
                format!("DKIM signature {label} fails and signed headers are missing"),
                format!(
                    "Verified now: the signature lists {} in h=, but the message has no such header. A signed header removed after signing breaks the signature.",
                    check.signed_headers_missing.join(", ")
                ),
            );
            finding.headers = check.signed_headers_missing.clone();
            findings.push(finding);
        }

        // Step 4: results that cannot be checked now.
        if check.key_missing && recorded_pass {
            findings.push(Finding::new(
                "verify.dkim-key-missing",
                Severity::Low,
                format!("DKIM key for {label} is no longer published"),
                "Verified now: the key record was not found, so the recorded dkim=pass cannot be checked. Keys are often rotated after some weeks.",
            ));
        }
        if check.expired {
            findings.push(Finding::new(
                "verify.dkim-signature-expired",
                Severity::Info,
                format!("DKIM signature {label} has expired"),
                "Verified now: the signature's x= expiry time has passed, so it no longer verifies (RFC 6376 section 3.5).",
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_rejects_truncated_input() {
        assert!(read_tlv(&[0x30, 0x05, 0x00]).is_none());
        assert!(read_tlv(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
    }

    #[test]
    fn pkcs1_modulus_size() {
        // SEQUENCE { INTEGER 0x00C1, an 8-bit modulus after the sign byte, INTEGER 3 }.
        let der = [0x30, 0x07, 0x02, 0x02, 0x00, 0xc1, 0x02, 0x01, 0x03];
        assert_eq!(rsa_modulus_bits(&der), Some(8));
    }
}
