//! ARC chain structure (RFC 8617 section 5.2), checked without DNS or cryptography.
//!
//! A chain's `chain` verdict here is structural. It runs the validator steps that need no
//! key: there are at most 50 sets; the latest ARC-Seal does not say `cv=fail`; instances
//! run 1..N without gaps; every instance has exactly one ARC-Seal, ARC-Message-Signature
//! and ARC-Authentication-Results; each field carries a valid instance and no duplicate or
//! malformed tags; `cv=none` appears on i=1 and `cv=pass` on every later seal. A chain that
//! passes here can still fail cryptographic validation, which is a separate step that
//! needs the sealers' public keys.
//!
//! The structure also shows something the signatures cannot: a seal that claims `cv=pass`
//! over sets that are missing or broken was either forged or had sets removed after it.

use crate::finding::{Finding, Severity};
use crate::headers::{Header, HeaderBlock};
use crate::parse::authres::{AuthResults, clip, parse_arc_authentication_results};
use crate::parse::taglist::{
    ArcSeal, DkimSignature, format_time, parse_arc_message_signature, parse_arc_seal,
};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// Most ARC sets a message may carry (RFC 8617 section 5.2, step 1).
pub const MAX_ARC_SETS: u32 = 50;

const SEAL: &str = "ARC-Seal";
const SIGNATURE: &str = "ARC-Message-Signature";
const RESULTS: &str = "ARC-Authentication-Results";

/// The ARC fields of one instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArcSet {
    pub instance: u32,
    /// The first ARC-Seal of this instance.
    pub seal: Option<ArcSeal>,
    pub seal_line: Option<usize>,
    pub signature: Option<DkimSignature>,
    pub signature_line: Option<usize>,
    pub results: Option<AuthResults>,
    pub results_line: Option<usize>,
    /// Number of fields of each kind carrying this instance; a valid set has one of each.
    pub seal_count: usize,
    pub signature_count: usize,
    pub results_count: usize,
    /// True when the set has exactly one field of each kind and none of them is malformed.
    pub valid: bool,
    /// Reasons the set is not valid.
    pub problems: Vec<String>,
}

/// An ARC field whose `i=` tag is missing or invalid, so it belongs to no set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvalidArcField {
    pub header: String,
    pub line: usize,
    /// The `i=` value as written; absent when there is no `i=` tag.
    pub instance_raw: Option<String>,
    /// Always false: a field without a valid instance is not assigned to any set.
    pub assigned_to_set: bool,
}

/// The structural verdict on a message's ARC chain.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArcChain {
    /// Number of distinct valid instances found.
    pub set_count: usize,
    pub instances_found: Vec<u32>,
    /// Instances between 1 and the highest found (at most 50) that have no field.
    pub missing_instances: Vec<u32>,
    /// `none` (no ARC fields), `pass` or `fail`: a structural verdict only, with no
    /// signature checked.
    pub chain: String,
    /// Why the chain failed: `too-many-sets`, `latest-cv-fail`, `structural` (gaps,
    /// incomplete or repeated sets, fields without a valid instance, wrong `cv` values) or
    /// `malformed-field` (duplicate, missing or invalid tags).
    pub failure: Option<String>,
    pub sets: Vec<ArcSet>,
    /// ARC-Authentication-Results fields without a valid instance.
    pub invalid_aar: Vec<InvalidArcField>,
    /// ARC-Message-Signature fields without a valid instance.
    pub invalid_ams: Vec<InvalidArcField>,
    /// ARC-Seal fields without a valid instance.
    pub invalid_as: Vec<InvalidArcField>,
    /// The `cv=` each instance's seal claims, as written.
    pub claimed_cv: BTreeMap<u32, String>,
    /// True when a seal claims `cv=pass` although the sets below it are missing or invalid.
    pub claimed_cv_contradicted: bool,
    /// Seal times (`t=`) by instance.
    #[serde(serialize_with = "serialize_times")]
    pub seal_times: BTreeMap<u32, DateTime<Utc>>,
    /// Instances whose set is incomplete, repeated or contains a malformed field.
    pub invalid_sets: Vec<u32>,
    /// Chain findings, plus the findings of parsing each ARC-Seal and
    /// ARC-Message-Signature, with evidence. The findings of parsing each
    /// ARC-Authentication-Results stay in its `AuthResults`, reported with the other
    /// authentication results.
    pub findings: Vec<Finding>,
}

fn serialize_times<S: Serializer>(
    times: &BTreeMap<u32, DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(times.iter().map(|(i, t)| (i, format_time(t))))
}

/// Assesses the structure of the ARC fields in `block`.
pub fn assess_arc(block: &HeaderBlock) -> ArcChain {
    let mut chain = ArcChain {
        chain: "none".to_string(),
        ..ArcChain::default()
    };

    // Step 1: parse every ARC field and group the fields by instance.
    let sets = collect_sets(block, &mut chain);
    if sets.is_empty() && !has_invalid_fields(&chain) {
        return chain;
    }
    let mut fields = SetFields::new();
    for (instance, builder) in sets {
        let (set, set_fields) = builder.finish();
        fields.insert(instance, set_fields);
        chain.sets.push(set);
    }
    chain.instances_found = chain.sets.iter().map(|set| set.instance).collect();
    chain.set_count = chain.sets.len();

    // Step 2: RFC 8617 section 5.2 checks that need no key.
    let too_many = check_set_limit(&mut chain, &fields);
    let latest_fail = check_latest_cv(&mut chain, &fields);
    let gaps = check_gaps(&mut chain);
    let incomplete = check_sets(&mut chain, &fields);
    let wrong_cv = check_cv_values(&mut chain, &fields);
    let malformed = chain.sets.iter().any(|set| set.has_malformed_field());

    // Step 3: what the seals claim about the sets below them.
    check_claims(&mut chain, &fields);
    check_seal_times(&mut chain, &fields);

    // Step 4: the verdict, naming the first failed step.
    let structural = gaps || incomplete || wrong_cv || has_invalid_fields(&chain);
    let failure = if too_many {
        Some("too-many-sets")
    } else if latest_fail {
        Some("latest-cv-fail")
    } else if structural {
        Some("structural")
    } else if malformed {
        Some("malformed-field")
    } else {
        None
    };
    chain.chain = if failure.is_some() { "fail" } else { "pass" }.to_string();
    chain.failure = failure.map(str::to_string);
    chain
}

fn has_invalid_fields(chain: &ArcChain) -> bool {
    !chain.invalid_aar.is_empty() || !chain.invalid_ams.is_empty() || !chain.invalid_as.is_empty()
}

/// The fields of each instance, kept as evidence for findings about a set.
type SetFields = BTreeMap<u32, Vec<Header>>;

/// A parsed ARC field.
enum ArcField {
    Seal(ArcSeal),
    Signature(DkimSignature),
    Results(AuthResults),
}

impl ArcField {
    fn parse(header: &Header) -> Option<ArcField> {
        if header.is(SEAL) {
            Some(ArcField::Seal(parse_arc_seal(&header.value)))
        } else if header.is(SIGNATURE) {
            Some(ArcField::Signature(parse_arc_message_signature(
                &header.value,
            )))
        } else if header.is(RESULTS) {
            Some(ArcField::Results(parse_arc_authentication_results(
                &header.value,
            )))
        } else {
            None
        }
    }

    fn instance(&self) -> Option<u32> {
        match self {
            ArcField::Seal(seal) => seal.instance,
            ArcField::Signature(signature) => signature.instance,
            ArcField::Results(results) => results.instance,
        }
    }

    fn instance_raw(&self) -> Option<String> {
        match self {
            ArcField::Seal(seal) => seal.instance_raw.clone(),
            ArcField::Signature(signature) => signature.i.clone(),
            ArcField::Results(results) => results.instance_raw.clone(),
        }
    }

    /// Returns the parser findings that the chain reports, with the ARC id for a
    /// duplicate tag.
    fn findings(&self) -> Vec<Finding> {
        let findings = match self {
            ArcField::Seal(seal) => seal.findings.clone(),
            ArcField::Signature(signature) => signature.findings.clone(),
            ArcField::Results(_) => Vec::new(),
        };
        findings
            .into_iter()
            .map(|mut finding| {
                if finding.id == "auth.tag-list-duplicate-tag" {
                    finding.id = "auth.arc-duplicate-tag".to_string();
                }
                finding
            })
            .collect()
    }
}

/// The fields of one instance while they are being collected.
struct SetBuilder {
    set: ArcSet,
    /// Each field of the set, for evidence.
    fields: Vec<Header>,
}

impl SetBuilder {
    fn new(instance: u32) -> SetBuilder {
        SetBuilder {
            set: ArcSet {
                instance,
                ..ArcSet::default()
            },
            fields: Vec::new(),
        }
    }

    fn add(&mut self, field: ArcField, header: &Header) {
        self.fields.push(header.clone());
        match field {
            ArcField::Seal(seal) => {
                self.set.seal_count += 1;
                if self.set.seal.is_none() {
                    self.set.seal = Some(seal);
                    self.set.seal_line = Some(header.line);
                }
            }
            ArcField::Signature(signature) => {
                self.set.signature_count += 1;
                if self.set.signature.is_none() {
                    self.set.signature = Some(signature);
                    self.set.signature_line = Some(header.line);
                }
            }
            ArcField::Results(results) => {
                self.set.results_count += 1;
                if self.set.results.is_none() {
                    self.set.results = Some(results);
                    self.set.results_line = Some(header.line);
                }
            }
        }
    }

    /// Returns the finished set and its fields.
    fn finish(self) -> (ArcSet, Vec<Header>) {
        let mut set = self.set;
        set.problems = set_problems(&set);
        set.valid = set.problems.is_empty();
        (set, self.fields)
    }
}

/// Lists why a set is invalid: a missing or repeated member, or a malformed field.
fn set_problems(set: &ArcSet) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, count) in [
        (SEAL, set.seal_count),
        (SIGNATURE, set.signature_count),
        (RESULTS, set.results_count),
    ] {
        match count {
            0 => problems.push(format!("no {name}")),
            1 => {}
            n => problems.push(format!("{n} {name} fields")),
        }
    }
    if let Some(seal) = &set.seal {
        problems.extend(seal.malformed.iter().map(|m| format!("{SEAL}: {m}")));
    }
    if let Some(signature) = &set.signature {
        problems.extend(
            signature
                .malformed
                .iter()
                .map(|m| format!("{SIGNATURE}: {m}")),
        );
    }
    problems
}

impl ArcSet {
    fn is_complete(&self) -> bool {
        self.seal_count == 1 && self.signature_count == 1 && self.results_count == 1
    }

    fn has_malformed_field(&self) -> bool {
        let seal = self.seal.as_ref().is_some_and(|s| !s.malformed.is_empty());
        let signature = self
            .signature
            .as_ref()
            .is_some_and(|s| !s.malformed.is_empty());
        seal || signature
    }

    fn cv(&self) -> Option<&str> {
        self.seal.as_ref().and_then(|seal| seal.cv.as_deref())
    }
}

/// Parses the ARC fields, records those without a valid instance and lifts the parser
/// findings. Returns the sets by instance.
fn collect_sets(block: &HeaderBlock, chain: &mut ArcChain) -> BTreeMap<u32, SetBuilder> {
    let mut sets: BTreeMap<u32, SetBuilder> = BTreeMap::new();
    for header in &block.fields {
        let Some(field) = ArcField::parse(header) else {
            continue;
        };
        for finding in field.findings() {
            chain.findings.push(with_field_evidence(finding, header));
        }
        match field.instance() {
            Some(instance) => sets
                .entry(instance)
                .or_insert_with(|| SetBuilder::new(instance))
                .add(field, header),
            None => record_invalid_field(chain, &field, header),
        }
    }
    sets
}

fn record_invalid_field(chain: &mut ArcChain, field: &ArcField, header: &Header) {
    let invalid = InvalidArcField {
        header: header.name.clone(),
        line: header.line,
        instance_raw: field.instance_raw(),
        assigned_to_set: false,
    };
    match field {
        ArcField::Seal(_) => chain.invalid_as.push(invalid),
        ArcField::Signature(_) => chain.invalid_ams.push(invalid),
        // The ARC-Authentication-Results parser reports this itself.
        ArcField::Results(_) => {
            chain.invalid_aar.push(invalid);
            return;
        }
    }
    let finding = Finding::new(
        "auth.arc-invalid-instance",
        Severity::Medium,
        "ARC field without a valid instance",
        format!(
            "The {} field has {}, so it belongs to no ARC set and the chain is broken (RFC 8617 section 4.2.1 allows instances 1 to 50).",
            header.name,
            match field.instance_raw() {
                Some(raw) => format!("i={raw}"),
                None => "no i= tag".to_string(),
            }
        ),
    );
    chain.findings.push(with_field_evidence(finding, header));
}

fn with_field_evidence(finding: Finding, header: &Header) -> Finding {
    finding.with_header(header.name.clone()).with_evidence(
        header.name.clone(),
        Some(header.line),
        header.value.clone(),
    )
}

/// Adds the fields of an instance to a finding as its evidence.
fn with_set_evidence(mut finding: Finding, fields: &SetFields, instance: u32) -> Finding {
    for header in fields.get(&instance).into_iter().flatten() {
        finding =
            finding.with_evidence(header.name.clone(), Some(header.line), header.value.clone());
    }
    finding
}

/// RFC 8617 section 5.2 step 1: more than 50 sets fail the chain.
fn check_set_limit(chain: &mut ArcChain, fields: &SetFields) -> bool {
    let highest = chain.instances_found.last().copied().unwrap_or(0);
    if chain.set_count <= MAX_ARC_SETS as usize && highest <= MAX_ARC_SETS {
        return false;
    }
    let finding = Finding::new(
        "auth.arc-too-many-sets",
        Severity::Medium,
        "More than 50 ARC sets",
        format!(
            "The message has {} ARC sets, the highest instance {highest}; RFC 8617 allows at most {MAX_ARC_SETS}, so the chain fails.",
            chain.set_count
        ),
    );
    chain
        .findings
        .push(with_set_evidence(finding, fields, highest));
    true
}

/// RFC 8617 section 5.2 step 2: a latest seal with `cv=fail` ends the chain.
fn check_latest_cv(chain: &mut ArcChain, fields: &SetFields) -> bool {
    let Some(latest) = chain.sets.last() else {
        return false;
    };
    if latest.cv() != Some("fail") {
        return false;
    }
    let finding = Finding::new(
        "auth.arc-chain-sealed-as-failed",
        Severity::Low,
        "Latest ARC sealer recorded a failed chain",
        format!(
            "The ARC-Seal of instance {} says cv=fail: that sealer found the chain broken when the message reached it.",
            latest.instance
        ),
    );
    let instance = latest.instance;
    chain
        .findings
        .push(with_set_evidence(finding, fields, instance));
    true
}

/// RFC 8617 section 5.2 step 3: instances run 1..N without gaps.
fn check_gaps(chain: &mut ArcChain) -> bool {
    let highest = chain
        .instances_found
        .last()
        .copied()
        .unwrap_or(0)
        .min(MAX_ARC_SETS);
    chain.missing_instances = (1..=highest)
        .filter(|i| chain.instances_found.binary_search(i).is_err())
        .collect();
    if chain.missing_instances.is_empty() {
        return false;
    }
    let missing: Vec<String> = chain.missing_instances.iter().map(u32::to_string).collect();
    let found: Vec<String> = chain.instances_found.iter().map(u32::to_string).collect();
    chain.findings.push(
        Finding::new(
            "auth.arc-instance-gap",
            Severity::Medium,
            "ARC chain has missing instances",
            format!(
                "ARC instances {} are present but {} are missing; instances must run from 1 without gaps, so sets were removed or never added.",
                found.join(", "),
                missing.join(", ")
            ),
        )
        .with_header(SEAL)
        .with_header(SIGNATURE)
        .with_header(RESULTS),
    );
    true
}

/// RFC 8617 section 5.2 step 3: one of each field per instance, and no malformed field.
fn check_sets(chain: &mut ArcChain, fields: &SetFields) -> bool {
    let mut missing = Vec::new();
    let mut repeated = Vec::new();
    for set in &chain.sets {
        if !set.valid {
            chain.invalid_sets.push(set.instance);
        }
        if set.is_complete() {
            continue;
        }
        let note = format!(
            "Instance {} has {} ARC-Seal, {} ARC-Message-Signature and {} ARC-Authentication-Results fields.",
            set.instance, set.seal_count, set.signature_count, set.results_count
        );
        if set.seal_count == 0 || set.signature_count == 0 || set.results_count == 0 {
            missing.push((set.instance, note));
        } else {
            repeated.push((set.instance, note));
        }
    }

    let incomplete = !missing.is_empty() || !repeated.is_empty();
    let explanation = "Each ARC instance must have exactly one field of each kind.";
    let findings = [
        sets_finding(
            ("auth.arc-incomplete-set", Severity::Medium),
            "ARC set is missing a field",
            explanation,
            &missing,
            fields,
        ),
        sets_finding(
            ("auth.arc-duplicate-instance", Severity::Medium),
            "ARC set has a field more than once",
            explanation,
            &repeated,
            fields,
        ),
    ];
    chain.findings.extend(findings.into_iter().flatten());
    incomplete
}

/// RFC 8617 section 5.2 step 3: `cv=none` on i=1 and `cv=pass` on later seals; records
/// each claim.
fn check_cv_values(chain: &mut ArcChain, fields: &SetFields) -> bool {
    let latest = chain.sets.last().map(|set| set.instance);
    let mut wrong = Vec::new();
    for set in &chain.sets {
        let Some(cv) = set.cv() else {
            continue;
        };
        chain.claimed_cv.insert(set.instance, cv.to_string());
        let expected = if set.instance == 1 { "none" } else { "pass" };
        // A latest cv=fail is reported on its own as the sealer's verdict.
        if cv == expected || (cv == "fail" && Some(set.instance) == latest) {
            continue;
        }
        let note = format!(
            "Instance {} has cv={}, not cv={expected}.",
            set.instance,
            clip(cv.to_string())
        );
        wrong.push((set.instance, note));
    }

    let finding = sets_finding(
        ("auth.arc-unexpected-cv", Severity::Medium),
        "ARC-Seal has an unexpected cv value",
        "RFC 8617 section 5.2 requires cv=none on instance 1 and cv=pass on every later seal.",
        &wrong,
        fields,
    );
    chain.findings.extend(finding);
    !wrong.is_empty()
}

/// Flags seals that claim `cv=pass` although a set below them is missing or invalid.
fn check_claims(chain: &mut ArcChain, fields: &SetFields) {
    let first_break = first_broken_instance(chain);
    let contradicted: Vec<(u32, String)> = chain
        .sets
        .iter()
        .filter(|set| set.instance > 1 && set.cv() == Some("pass"))
        .filter(|set| first_break.is_some_and(|broken| broken < set.instance))
        .map(|set| {
            (
                set.instance,
                format!("Instance {} has cv=pass.", set.instance),
            )
        })
        .collect();
    chain.claimed_cv_contradicted = !contradicted.is_empty();

    let finding = sets_finding(
        ("auth.arc-cv-contradicted", Severity::Medium),
        "ARC-Seal claims a valid chain that is not there",
        &format!(
            "Instance {} is missing or invalid, so no seal above it can have found a valid chain: sets were removed after sealing or the seal is forged.",
            first_break.unwrap_or(0)
        ),
        &contradicted,
        fields,
    );
    chain.findings.extend(finding);
}

/// Returns the lowest instance that is missing, invalid or has a wrong `cv`, in one pass
/// over the sets sorted by instance.
fn first_broken_instance(chain: &ArcChain) -> Option<u32> {
    let mut expected_instance = 1u32;
    for set in &chain.sets {
        if set.instance != expected_instance {
            return Some(expected_instance);
        }
        let expected_cv = if set.instance == 1 { "none" } else { "pass" };
        if !set.valid || set.cv() != Some(expected_cv) {
            return Some(set.instance);
        }
        expected_instance = expected_instance.saturating_add(1);
    }
    None
}

/// Records the seal times and flags a seal dated before the one below it.
fn check_seal_times(chain: &mut ArcChain, fields: &SetFields) {
    for set in &chain.sets {
        if let Some(t) = set.seal.as_ref().and_then(|seal| seal.t) {
            chain.seal_times.insert(set.instance, t);
        }
    }

    let mut out_of_order = Vec::new();
    let mut previous: Option<(u32, DateTime<Utc>)> = None;
    for (&instance, &time) in &chain.seal_times {
        if let Some((earlier, earlier_time)) = previous
            && time < earlier_time
        {
            let note = format!(
                "Instance {instance} is dated {}, before instance {earlier} at {}.",
                format_time(&time),
                format_time(&earlier_time)
            );
            out_of_order.push((instance, note));
        }
        previous = Some((instance, time));
    }

    let finding = sets_finding(
        ("auth.arc-seal-time-order", Severity::Low),
        "ARC seal dated before the seal below it",
        "A later sealer cannot seal before an earlier one unless a clock is wrong.",
        &out_of_order,
        fields,
    );
    chain.findings.extend(finding);
}

/// Builds one finding about several sets, or none when `notes` is empty. The detail gives
/// the explanation and the notes of the first ten sets; the evidence is the fields of the
/// first three.
fn sets_finding(
    (id, severity): (&str, Severity),
    title: &str,
    explanation: &str,
    notes: &[(u32, String)],
    fields: &SetFields,
) -> Option<Finding> {
    const MAX_NOTES: usize = 10;
    const MAX_EVIDENCE_SETS: usize = 3;
    if notes.is_empty() {
        return None;
    }
    let mut detail = explanation.to_string();
    for (_, note) in notes.iter().take(MAX_NOTES) {
        detail.push(' ');
        detail.push_str(note);
    }
    if notes.len() > MAX_NOTES {
        detail.push_str(&format!(" And {} more sets.", notes.len() - MAX_NOTES));
    }
    let mut finding = Finding::new(id, severity, title, detail);
    for (instance, _) in notes.iter().take(MAX_EVIDENCE_SETS) {
        finding = with_set_evidence(finding, fields, *instance);
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::ParseOptions;

    fn set(instance: u32, cv: &str, t: u64) -> String {
        format!(
            "ARC-Seal: i={instance}; a=rsa-sha256; cv={cv}; d=example.net; s=arc; t={t}; b=AAAA\n\
             ARC-Message-Signature: i={instance}; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=arc; h=from:to; bh=BBBB; b=CCCC\n\
             ARC-Authentication-Results: i={instance}; mx.example.net; dkim=pass header.d=example.com\n"
        )
    }

    fn assess(text: &str) -> ArcChain {
        let message = format!("{text}From: a@example.com\n\nbody\n");
        let block =
            HeaderBlock::parse(message.as_bytes(), &ParseOptions::default()).unwrap_or_default();
        assess_arc(&block)
    }

    fn ids(chain: &ArcChain) -> Vec<&str> {
        chain.findings.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn chain_verdict_table() {
        let cases: Vec<(&str, String, &str, Option<&str>)> = vec![
            ("no ARC fields", String::new(), "none", None),
            ("one set", set(1, "none", 100), "pass", None),
            (
                "two sets",
                set(2, "pass", 200) + &set(1, "none", 100),
                "pass",
                None,
            ),
            (
                "gap",
                set(3, "pass", 300) + &set(1, "none", 100),
                "fail",
                Some("structural"),
            ),
            (
                "latest fail",
                set(2, "fail", 200) + &set(1, "none", 100),
                "fail",
                Some("latest-cv-fail"),
            ),
            ("i=1 pass", set(1, "pass", 100), "fail", Some("structural")),
            (
                "i=2 none",
                set(2, "none", 200) + &set(1, "none", 100),
                "fail",
                Some("structural"),
            ),
            (
                "middle fail",
                set(3, "pass", 300) + &set(2, "fail", 200) + &set(1, "none", 100),
                "fail",
                Some("structural"),
            ),
            ("no i=1", set(2, "pass", 200), "fail", Some("structural")),
            (
                "missing seal",
                set(1, "none", 100)
                    .lines()
                    .skip(1)
                    .map(|l| format!("{l}\n"))
                    .collect(),
                "fail",
                Some("structural"),
            ),
            (
                "repeated set",
                set(1, "none", 100) + &set(1, "none", 100),
                "fail",
                Some("structural"),
            ),
            (
                "duplicate tag",
                set(1, "none", 100).replace("s=arc; t=", "s=arc; s=arc; t="),
                "fail",
                Some("malformed-field"),
            ),
            (
                "invalid instance",
                set(1, "none", 100) + "ARC-Authentication-Results: i=x; mx.example.org; none\n",
                "fail",
                Some("structural"),
            ),
        ];
        for (name, text, verdict, failure) in cases {
            let chain = assess(&text);
            assert_eq!(chain.chain, verdict, "verdict of {name}");
            assert_eq!(chain.failure.as_deref(), failure, "failure of {name}");
        }
    }

    #[test]
    fn gap_and_contradicted_claim() {
        let chain = assess(&(set(3, "pass", 300) + &set(1, "none", 100)));
        assert_eq!(chain.instances_found, vec![1, 3]);
        assert_eq!(chain.missing_instances, vec![2]);
        assert!(chain.claimed_cv_contradicted);
        assert_eq!(chain.claimed_cv.get(&3).map(String::as_str), Some("pass"));
        assert!(ids(&chain).contains(&"auth.arc-instance-gap"));
        assert!(ids(&chain).contains(&"auth.arc-cv-contradicted"));
    }

    #[test]
    fn valid_chain_has_no_findings() {
        let chain = assess(&(set(2, "pass", 200) + &set(1, "none", 100)));
        assert!(chain.findings.is_empty(), "{:?}", ids(&chain));
        assert!(!chain.claimed_cv_contradicted);
        assert_eq!(chain.set_count, 2);
        assert!(chain.sets.iter().all(|s| s.valid));
        let times: Vec<String> = chain.seal_times.values().map(format_time).collect();
        assert_eq!(times, vec!["1970-01-01T00:01:40Z", "1970-01-01T00:03:20Z"]);
    }

    #[test]
    fn too_many_sets() {
        let text: String = (1..=51)
            .rev()
            .map(|i| set(i, if i == 1 { "none" } else { "pass" }, 100 + u64::from(i)))
            .collect();
        let chain = assess(&text);
        assert_eq!(chain.set_count, 51);
        assert_eq!(chain.chain, "fail");
        assert_eq!(chain.failure.as_deref(), Some("too-many-sets"));
        assert!(ids(&chain).contains(&"auth.arc-too-many-sets"));
    }

    #[test]
    fn many_sets_stay_linear() {
        let text: String = (1..=5_000).rev().map(|i| set(i, "pass", 100)).collect();
        let chain = assess(&text);
        assert_eq!(chain.set_count, 5_000);
        assert!(chain.claimed_cv_contradicted);
        assert_eq!(chain.failure.as_deref(), Some("too-many-sets"));
    }

    #[test]
    fn huge_instance_keeps_missing_list_short() {
        let chain = assess(&set(4_000_000_000, "pass", 100));
        assert_eq!(chain.missing_instances.len(), 50);
        assert_eq!(chain.failure.as_deref(), Some("too-many-sets"));
    }

    #[test]
    fn duplicate_tag_marks_set_invalid() {
        let text =
            set(2, "pass", 200).replace("cv=pass;", "cv=pass; cv=pass;") + &set(1, "none", 100);
        let chain = assess(&text);
        assert_eq!(chain.invalid_sets, vec![2]);
        assert!(ids(&chain).contains(&"auth.arc-duplicate-tag"));
    }

    #[test]
    fn invalid_instance_not_assigned() {
        let text = set(1, "none", 100)
            + "ARC-Authentication-Results: i=undefined; mx.example.org; dkim=none\n";
        let chain = assess(&text);
        assert_eq!(chain.invalid_aar.len(), 1);
        assert_eq!(
            chain.invalid_aar[0].instance_raw.as_deref(),
            Some("undefined")
        );
        assert!(!chain.invalid_aar[0].assigned_to_set);
        assert_eq!(chain.sets[0].results_count, 1);
    }

    #[test]
    fn invalid_seal_instance_reported() {
        let text = set(1, "none", 100).replace("ARC-Seal: i=1;", "ARC-Seal: i=0;");
        let chain = assess(&text);
        assert_eq!(chain.invalid_as.len(), 1);
        assert!(ids(&chain).contains(&"auth.arc-invalid-instance"));
        assert!(ids(&chain).contains(&"auth.arc-incomplete-set"));
    }

    #[test]
    fn seal_time_order_flagged() {
        let chain = assess(&(set(2, "pass", 50) + &set(1, "none", 100)));
        assert!(ids(&chain).contains(&"auth.arc-seal-time-order"));
        assert_eq!(chain.chain, "pass");
    }

    #[test]
    fn findings_carry_evidence() {
        let chain = assess(&(set(3, "pass", 300) + &set(1, "none", 100)));
        let contradicted = chain
            .findings
            .iter()
            .find(|f| f.id == "auth.arc-cv-contradicted");
        let evidence = contradicted.map(|f| f.evidence.len()).unwrap_or(0);
        assert_eq!(evidence, 3);
    }
}
