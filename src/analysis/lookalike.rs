//! Lookalike From domains: domains that imitate an organisation domain or the domain of a
//! commonly impersonated brand.
//!
//! The From domain is first decoded to Unicode (IDNA punycode, RFC 5891), then its
//! registrable label is compared with each protected domain in turn: same UTS #39
//! confusable skeleton, the same label under another public suffix (`paypal.co` for
//! `paypal.com`), a small edit distance, the protected label as a hyphen-separated part of
//! the label (`paypal-secure.example`) or as a subdomain label. A label that mixes scripts
//! and a punycode label that does not decode are reported even when nothing is imitated.
//! A domain that is a protected domain, or a subdomain of one, is never a lookalike.
//!
//! Every check is bounded: domains longer than [`MAX_DOMAIN_LEN`] are not compared, and
//! the work per protected domain is linear in the label length, except the edit distance,
//! which is quadratic in one label of at most 63 characters.

use crate::analysis::sender::org_domain;
use crate::finding::{Finding, Severity};
use std::sync::OnceLock;
use unicode_security::MixedScript;

/// Maximum length of a domain name that is compared (RFC 1035 section 2.3.4 allows 253 characters in text form).
pub const MAX_DOMAIN_LEN: usize = 253;

/// Shortest registrable label compared by edit distance, other suffix or hyphenated part:
/// shorter labels (`ups`, `bb`) give too many accidental matches.
pub const MIN_FUZZY_LABEL_LEN: usize = 5;

/// Most subdomain labels that a spelled domain (`example.co.uk`) may span.
const MAX_SPELLED_LABELS: usize = 4;

/// One brand of the built-in list in `brands.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    /// Display names as written in the list; the first is the brand's name in findings.
    pub names: Vec<String>,
    /// Names that match only as the whole display name (`=` in the list).
    pub whole_only: Vec<bool>,
    /// Registrable domains the brand sends from, lower case; the first is its main domain.
    pub domains: Vec<String>,
}

impl Brand {
    /// Returns the brand's name as shown in findings.
    pub fn name(&self) -> &str {
        self.names.first().map_or("", String::as_str)
    }

    /// Tells whether `domain` is one of the brand's domains or a subdomain of one.
    pub fn owns(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| is_same_or_subdomain(domain, d))
    }
}

/// Returns the built-in brand list, parsed once.
pub fn builtin_brands() -> &'static [Brand] {
    static BRANDS: OnceLock<Vec<Brand>> = OnceLock::new();
    BRANDS.get_or_init(|| parse_brands(include_str!("brands.txt")))
}

/// Parses the brand list format described at the top of `brands.txt`; lines that do not
/// have both parts are skipped.
pub fn parse_brands(text: &str) -> Vec<Brand> {
    let mut brands = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((names, domains)) = line.split_once('|') else {
            continue;
        };
        let mut brand = Brand {
            names: Vec::new(),
            whole_only: Vec::new(),
            domains: domains
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect(),
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let whole_only = name.starts_with('=');
            brand.names.push(name.trim_start_matches('=').to_string());
            brand.whole_only.push(whole_only);
        }
        if !brand.names.is_empty() && !brand.domains.is_empty() {
            brands.push(brand);
        }
    }
    brands
}

/// Tells whether `host` equals `domain` or is below it; both lower case.
pub fn is_same_or_subdomain(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// Owner of the protected domains declared as the organisation's own.
pub const ORGANISATION_OWNER: &str = "organisation";

/// A domain that lookalikes are compared with.
#[derive(Debug, Clone)]
pub struct Protected {
    /// Registrable domain, lower case ASCII.
    pub domain: String,
    /// Owner: a brand name, or [`ORGANISATION_OWNER`].
    pub owner: String,
    /// Every domain of the same owner: a From domain below any of them is the owner itself.
    pub owner_domains: Vec<String>,
    label: String,
    /// Characters in `label`, counted once here rather than on every comparison.
    label_chars: usize,
    /// The ASCII bytes `label` uses ([`byte_set`]).
    label_bytes: Option<u128>,
    suffix: String,
    skeleton: String,
}

impl Protected {
    /// Tells whether `domain` (lower case ASCII) is this registrable domain or another
    /// registrable domain of the same owner.
    pub fn is_owner_domain(&self, domain: &str) -> bool {
        self.domain == domain || self.owner_domains.iter().any(|d| d == domain)
    }

    /// Creates a protected domain; `None` when it has no registrable label.
    pub fn new(domain: &str, owner: &str, owner_domains: &[String]) -> Option<Protected> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let registrable = org_domain(&domain).unwrap_or_else(|| domain.clone());
        let (label, suffix) = registrable.split_once('.')?;
        Some(Protected {
            owner: owner.to_string(),
            owner_domains: owner_domains.to_vec(),
            label: label.to_string(),
            label_chars: label.chars().count(),
            label_bytes: byte_set(label),
            suffix: suffix.to_string(),
            skeleton: skeleton(label),
            domain: registrable,
        })
    }
}

/// Returns the protected list for these settings, built once per process and shared:
/// building it computes a skeleton for every brand, which is too slow to repeat per message.
pub fn cached_protected_domains(
    org_domains: &[String],
    brand_domains: &[String],
) -> std::sync::Arc<Vec<Protected>> {
    type Cache =
        std::sync::Mutex<Vec<((Vec<String>, Vec<String>), std::sync::Arc<Vec<Protected>>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (org_domains.to_vec(), brand_domains.to_vec());
    let mut entries = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, found)) = entries.iter().find(|(k, _)| *k == key) {
        return found.clone();
    }
    let built = std::sync::Arc::new(protected_domains(org_domains, brand_domains));
    entries.push((key, built.clone()));
    built
}

/// Builds the protected list: organisation domains first, then extra brand domains from
/// the configuration, then the main domain of each built-in brand.
pub fn protected_domains(org_domains: &[String], brand_domains: &[String]) -> Vec<Protected> {
    let mut protected = Vec::new();
    for domain in org_domains {
        protected.extend(Protected::new(domain, ORGANISATION_OWNER, org_domains));
    }
    for domain in brand_domains {
        protected.extend(Protected::new(domain, domain, std::slice::from_ref(domain)));
    }
    for brand in builtin_brands() {
        if let Some(main) = brand.domains.first() {
            protected.extend(Protected::new(main, brand.name(), &brand.domains));
        }
    }
    protected
}

/// Technique by which a lookalike imitates a protected domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    /// The label has the same UTS #39 confusable skeleton (`paypa1`, `pаypal` with a
    /// Cyrillic а, `rnicrosoft`).
    Confusable,
    /// The same label under another public suffix (`paypal.co`, `paypal.com.example`).
    OtherSuffix,
    /// The label is one or two edits away (`paypall`, `micosoft`).
    EditDistance(usize),
    /// The protected label is a hyphen-separated part of the label (`paypal-login`).
    HyphenatedPart,
    /// The protected label is a subdomain label (`paypal.login.example.net`).
    SubdomainLabel,
}

impl Technique {
    /// Describes the technique in a few words for a finding.
    pub fn describe(self) -> String {
        match self {
            Technique::Confusable => "characters that look the same (confusable skeleton)".into(),
            Technique::OtherSuffix => "the same name under another top-level domain".into(),
            Technique::EditDistance(n) => {
                format!(
                    "a name {n} character edit{} away",
                    if n == 1 { "" } else { "s" }
                )
            }
            Technique::HyphenatedPart => "the name joined to other words with hyphens".into(),
            Technique::SubdomainLabel => "the name as a subdomain of an unrelated domain".into(),
        }
    }
}

/// A From domain found to imitate a protected domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookalike {
    pub imitated: String,
    pub owner: String,
    pub technique: Technique,
}

/// A domain decoded for comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedDomain {
    /// Lower case, ASCII (punycode) form.
    pub ascii: String,
    /// Lower case Unicode form; undecodable labels are kept as written.
    pub unicode: String,
    /// Registrable label in Unicode (`paypal` of `mail.paypal.co.uk`).
    pub label: String,
    /// Public suffix of the registrable domain (`co.uk`).
    pub suffix: String,
    /// Labels left of the registrable domain, in Unicode.
    pub subdomain_labels: Vec<String>,
    /// `xn--` labels that are not valid punycode, as written.
    pub undecodable: Vec<String>,
    /// Labels whose characters come from more than one script.
    pub mixed_script: Vec<String>,
}

/// Decodes a domain; `None` for an empty, over-long or address-literal domain, or one
/// without a registrable part.
pub fn decode_domain(domain: &str) -> Option<DecodedDomain> {
    let domain = domain.trim().trim_end_matches('.').to_lowercase();
    if domain.is_empty() || domain.len() > MAX_DOMAIN_LEN || domain.starts_with('[') {
        return None;
    }

    // Step 1: each label to both forms (RFC 5891 section 5). An `xn--` label that does not
    // decode stays as written and is recorded.
    let mut decoded = DecodedDomain::default();
    let mut ascii_labels = Vec::new();
    let mut unicode_labels = Vec::new();
    for label in domain.split('.') {
        let (ascii, unicode) = decode_label(label, &mut decoded.undecodable);
        if !unicode.is_ascii() && !unicode.as_str().is_single_script() {
            decoded.mixed_script.push(unicode.clone());
        }
        ascii_labels.push(ascii);
        unicode_labels.push(unicode);
    }
    decoded.ascii = ascii_labels.join(".");
    decoded.unicode = unicode_labels.join(".");

    // Step 2: the registrable domain by the Public Suffix List, on the ASCII form.
    let registrable = org_domain(&decoded.ascii)?;
    let registrable_labels = registrable.split('.').count();
    let split = unicode_labels.len().checked_sub(registrable_labels)?;
    decoded.label = unicode_labels.get(split)?.clone();
    decoded.suffix = registrable.split_once('.')?.1.to_string();
    decoded.subdomain_labels = unicode_labels[..split].to_vec();
    Some(decoded)
}

/// Returns the ASCII and Unicode forms of one label.
fn decode_label(label: &str, undecodable: &mut Vec<String>) -> (String, String) {
    if label.is_ascii() {
        if !label.starts_with("xn--") {
            return (label.to_string(), label.to_string());
        }
        let (unicode, result) = idna::domain_to_unicode(label);
        if result.is_err() || unicode.contains('\u{FFFD}') {
            undecodable.push(label.to_string());
            return (label.to_string(), label.to_string());
        }
        return (label.to_string(), unicode);
    }
    match idna::domain_to_ascii(label) {
        Ok(ascii) => (ascii, label.to_string()),
        Err(_) => (label.to_string(), label.to_string()),
    }
}

/// Returns the UTS #39 skeleton of a text, case folded, for comparisons.
///
/// The skeleton is taken character by character from the lower-case form, so `I` and `i`
/// agree. Where the lower-case form has no ASCII prototype but the character as written
/// has one (Greek capital `Μ` is `M`, small `μ` is not `m`), the written form is used.
pub fn skeleton(text: &str) -> String {
    let ascii = ascii_skeletons();
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            folded.push_str(&ascii[c as usize]);
            continue;
        }
        folded.push_str(&char_skeleton(c));
    }
    folded
}

/// Skeletons of the 128 ASCII characters, computed once: most text compared is ASCII,
/// and each character's skeleton otherwise costs two allocations.
fn ascii_skeletons() -> &'static [String] {
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    TABLE.get_or_init(|| (0..128u8).map(|b| char_skeleton(char::from(b))).collect())
}

/// Returns the case-folded skeleton of one character, as [`skeleton`] describes.
fn char_skeleton(c: char) -> String {
    let lower: String = c.to_lowercase().collect();
    let from_lower: String = unicode_security::skeleton(&lower).collect();
    if from_lower.is_ascii() {
        return from_lower.to_ascii_lowercase();
    }
    let mut buffer = [0; 4];
    let written: String = unicode_security::skeleton(c.encode_utf8(&mut buffer))
        .flat_map(char::to_lowercase)
        .collect();
    let from_written: String = unicode_security::skeleton(&written).collect();
    if from_written.is_ascii() {
        from_written.to_ascii_lowercase()
    } else {
        from_lower
    }
}

/// Finds the first protected domain that `decoded` imitates.
pub fn find_lookalike(decoded: &DecodedDomain, protected: &[Protected]) -> Option<Lookalike> {
    // A protected domain, or a subdomain of one, is its owner and never a lookalike.
    let owned = protected.iter().any(|p| {
        p.owner_domains
            .iter()
            .any(|d| is_same_or_subdomain(&decoded.ascii, d))
    });
    if owned {
        return None;
    }
    let label = Label {
        skeleton: skeleton(&decoded.label),
        chars: decoded.label.chars().count(),
        bytes: byte_set(&decoded.label),
    };
    protected.iter().find_map(|p| {
        compare(decoded, &label, p).map(|technique| Lookalike {
            imitated: p.domain.clone(),
            owner: p.owner.clone(),
            technique,
        })
    })
}

/// The decoded domain's registrable label as [`compare`] uses it, computed once for the
/// whole protected list.
struct Label {
    skeleton: String,
    chars: usize,
    bytes: Option<u128>,
}

/// Returns the set of bytes an ASCII label uses, one bit per byte value; `None` when the
/// label is not ASCII.
fn byte_set(label: &str) -> Option<u128> {
    label
        .is_ascii()
        .then(|| label.bytes().fold(0, |set, b| set | 1u128 << b))
}

/// Tells whether two labels may be within `allowed` edits, by counting the characters each
/// uses that the other lacks. An insertion, deletion or substitution adds at most one new
/// character and removes at most one, and a swap changes neither. So after `allowed` edits,
/// at most `allowed` such characters remain on either side. Most labels fail this test,
/// which saves computing their edit distance.
fn may_be_within(a: Option<u128>, b: Option<u128>, allowed: usize) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            (a & !b).count_ones() as usize <= allowed && (b & !a).count_ones() as usize <= allowed
        }
        _ => true,
    }
}

/// Compares a decoded domain with one protected domain, cheapest checks first.
fn compare(decoded: &DecodedDomain, computed: &Label, protected: &Protected) -> Option<Technique> {
    let label = decoded.label.as_str();
    let fuzzy = protected.label_chars >= MIN_FUZZY_LABEL_LEN;

    // Same label under another suffix (only for labels long enough to be distinctive).
    if label == protected.label {
        return (fuzzy && decoded.suffix != protected.suffix).then_some(Technique::OtherSuffix);
    }

    // Confusable characters: same skeleton, different label.
    if computed.skeleton == protected.skeleton {
        return Some(Technique::Confusable);
    }
    if !fuzzy {
        return None;
    }

    // The protected label as a hyphenated part or a whole subdomain label.
    if label.split('-').any(|part| part == protected.label) {
        return Some(Technique::HyphenatedPart);
    }
    if decoded.subdomain_labels.contains(&protected.label) {
        return Some(Technique::SubdomainLabel);
    }

    // Edit distance: one edit for labels up to 7 characters, two for longer ones. Two
    // neighbouring letters swapped (`paypla`) count as one edit, as a reader sees them.
    let allowed = if protected.label.len() >= 8 { 2 } else { 1 };
    let length_gap = computed.chars.abs_diff(protected.label_chars);
    if length_gap > allowed
        || computed.chars > 63
        || !may_be_within(computed.bytes, protected.label_bytes, allowed)
    {
        return None;
    }
    let distance = osa_distance(label, &protected.label);
    (1..=allowed)
        .contains(&distance)
        .then_some(Technique::EditDistance(distance))
}

/// Returns the optimal string alignment distance of two labels: insertions, deletions,
/// substitutions and swaps of two neighbouring characters, each one edit. It gives what
/// `strsim::osa_distance` gives, without allocating for ASCII labels of up to 63
/// characters, the longest a DNS label can be.
fn osa_distance(a: &str, b: &str) -> usize {
    if a.is_ascii() && b.is_ascii() && b.len() < LABEL_ROW {
        return osa_rows(a.as_bytes(), b.as_bytes());
    }
    strsim::osa_distance(a, b)
}

/// Row length of [`osa_rows`]: one more than the longest DNS label.
const LABEL_ROW: usize = 64;

fn osa_rows(a: &[u8], b: &[u8]) -> usize {
    let n = b.len();
    // Three rows of the table in turn: two rows back, the previous row and the current one.
    let mut rows = [[0usize; LABEL_ROW]; 3];
    for (j, cell) in rows[0].iter_mut().enumerate().take(n + 1) {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (current, previous, before) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[current][0] = i;
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (rows[previous][j] + 1)
                .min(rows[current][j - 1] + 1)
                .min(rows[previous][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(rows[before][j - 2] + 1);
            }
            rows[current][j] = value;
        }
    }
    rows[a.len() % 3][n]
}

/// Flags a domain whose subdomain labels spell a protected registrable domain, as in
/// `example.com.account-verify.example.net`, where a reader sees example.com first. Labels
/// that spell some other registrable domain are ordinary host names (`exchange.ie` in
/// `exchange.ie.example.com`) and are not flagged.
pub fn subdomain_trick(domain: &str, protected: &[Protected]) -> Option<Finding> {
    if domain.len() > MAX_DOMAIN_LEN {
        return None;
    }
    let registrable = org_domain(domain)?;
    let prefix = domain.strip_suffix(&registrable)?.trim_end_matches('.');
    let labels: Vec<&str> = prefix.split('.').filter(|l| !l.is_empty()).collect();
    let spans = (0..labels.len()).flat_map(|start| {
        let last = labels.len().min(start + MAX_SPELLED_LABELS);
        (start + 2..=last).map(move |end| (start, end))
    });
    for (start, end) in spans {
        let candidate = labels[start..end].join(".");
        let spelled = psl::suffix(candidate.as_bytes()).is_some_and(|s| s.is_known())
            && org_domain(&candidate).as_deref() == Some(candidate.as_str());
        let imitated = spelled && protected.iter().any(|p| p.is_owner_domain(&candidate));
        if imitated {
            return Some(Finding::new(
                "sender.subdomain-trick",
                Severity::High,
                "From domain starts with another domain's name",
                format!(
                    "The From domain {domain} begins with {candidate}, but it belongs to {registrable}: a reader who stops at the first labels sees the wrong organisation."
                ),
            ));
        }
    }
    None
}

/// Checks the From domain and returns the lookalike, subdomain, mixed-script and punycode
/// findings.
pub fn domain_findings(from_domain: &str, protected: &[Protected]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(decoded) = decode_domain(from_domain) else {
        return findings;
    };

    // Step 1: imitation of a protected domain.
    let display_domain = if decoded.unicode == decoded.ascii {
        decoded.ascii.clone()
    } else {
        format!("{} (shown as {})", decoded.ascii, decoded.unicode)
    };
    // A global brand's exact name under a country suffix (yahoo.fr, paypal.fr) is most
    // often the brand's own country domain, which the brand list cannot name in full.
    match find_lookalike(&decoded, protected) {
        Some(lookalike) if is_brand_country_domain(&lookalike, &decoded.suffix) => {
            findings.push(brand_country_domain(&display_domain, &lookalike));
        }
        Some(lookalike) => findings.push(
            Finding::new(
                "sender.lookalike-domain",
                Severity::High,
                format!("From domain imitates {}", lookalike.imitated),
                format!(
                    "The From domain {display_domain} imitates {} ({}) through {}.",
                    lookalike.imitated,
                    lookalike.owner,
                    lookalike.technique.describe()
                ),
            )
            .with_header("From"),
        ),
        None => {}
    }

    // Step 2: a subdomain that spells a protected domain.
    if let Some(finding) = subdomain_trick(&decoded.ascii, protected) {
        findings.push(finding.with_header("From"));
    }

    // Step 3: labels that mix scripts, which registries do not allow in one label.
    if !decoded.mixed_script.is_empty() {
        findings.push(
            Finding::new(
                "sender.mixed-script-domain",
                Severity::High,
                "From domain mixes scripts in one label",
                format!(
                    "The From domain {} has labels that mix writing systems ({}), a way to build a domain that reads like another one. Registries do not allow such labels, so they are almost never legitimate.",
                    decoded.ascii,
                    decoded.mixed_script.join(", ")
                ),
            )
            .with_header("From"),
        );
    }

    // Step 4: punycode labels that do not decode (RFC 5891 section 5.5).
    if !decoded.undecodable.is_empty() {
        findings.push(
            Finding::new(
                "sender.invalid-punycode",
                Severity::Medium,
                "From domain has an invalid punycode label",
                format!(
                    "The From domain {} has labels that start with xn-- but are not valid punycode: {}. Mail clients show such labels differently; they are kept as written.",
                    decoded.ascii,
                    decoded.undecodable.join(", ")
                ),
            )
            .with_header("From"),
        );
    }
    findings
}

/// Tells whether a lookalike is a global brand's exact name under a country-code suffix
/// (`yahoo.com.mx` for `yahoo.com`), which such brands usually register themselves.
///
/// A brand whose main domain is itself under a country code (`bradesco.com.br`) is a
/// national brand, so its name under another suffix (`bradesco.br`) stays a lookalike.
/// The `.co` suffix is excluded because it is sold as a generic "company" domain and is
/// one letter away from `.com`.
fn is_brand_country_domain(lookalike: &Lookalike, suffix: &str) -> bool {
    let last_label = |suffix: &str| suffix.rsplit('.').next().unwrap_or("").to_string();
    let is_country_code =
        |label: &str| label.len() == 2 && label.bytes().all(|b| b.is_ascii_alphabetic());
    let brand_suffix = lookalike.imitated.split_once('.').map_or("", |(_, s)| s);
    lookalike.technique == Technique::OtherSuffix
        && lookalike.owner != ORGANISATION_OWNER
        && !is_country_code(&last_label(brand_suffix))
        && is_country_code(&last_label(suffix))
        && suffix != "co"
}

/// Builds the info note for a From domain that has a brand's name under another suffix.
fn brand_country_domain(display_domain: &str, lookalike: &Lookalike) -> Finding {
    Finding::new(
        "sender.brand-other-suffix",
        Severity::Info,
        format!("From domain has the name of {} under another suffix", lookalike.imitated),
        format!(
            "The From domain {display_domain} has the name of {} ({}) under another public suffix. Brands usually own their country domains, so this is most often the brand itself; it is not on the brand list, so check the domain's owner if the message matters.",
            lookalike.imitated, lookalike.owner
        ),
    )
    .with_header("From")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protected() -> Vec<Protected> {
        protected_domains(&["example.com".to_string()], &[])
    }

    fn technique(domain: &str) -> Option<Technique> {
        let decoded = decode_domain(domain)?;
        find_lookalike(&decoded, &protected()).map(|l| l.technique)
    }

    #[test]
    fn brand_list_is_parsed() {
        let brands = builtin_brands();
        assert!(brands.len() >= 50, "{} brands", brands.len());
        let domains: usize = brands.iter().map(|b| b.domains.len()).sum();
        // Every From domain is compared with each of them, so the list stays modest.
        assert!(domains <= 200, "{domains} domains");
        let apple = brands.iter().find(|b| b.name() == "Apple").unwrap();
        assert!(apple.whole_only[0]);
        assert!(apple.owns("insideapple.apple.com"));
        assert!(!apple.owns("notapple.com"));
    }

    /// Labels for the edit-distance tests: swaps, substitutions, insertions, confusable
    /// digits and hyphens, near and far from each other.
    const LABELS: [&str; 21] = [
        "",
        "a",
        "ab",
        "ba",
        "paypal",
        "paypla",
        "paypa1",
        "paypall",
        "pay-pal",
        "apyapl",
        "microsoft",
        "mircosoft",
        "micros0ft",
        "rnicrosoft",
        "contoso",
        "conotso",
        "example",
        "exampel",
        "xeample",
        "exarnple",
        "example-corp",
    ];

    #[test]
    fn osa_distance_matches_strsim() {
        let words = LABELS;
        for a in words {
            for b in words {
                assert_eq!(osa_distance(a, b), strsim::osa_distance(a, b), "{a} {b}");
            }
        }
        let long = "a".repeat(63);
        assert_eq!(osa_distance(&long, "a"), 62);
    }

    #[test]
    fn byte_set_filter_never_drops_a_close_label() {
        let words = LABELS;
        for a in words {
            for b in words {
                let distance = osa_distance(a, b);
                for allowed in 0..=2 {
                    if distance <= allowed {
                        assert!(
                            may_be_within(byte_set(a), byte_set(b), allowed),
                            "{a} {b} {allowed}"
                        );
                    }
                }
            }
        }
        assert!(!may_be_within(byte_set("contoso"), byte_set("paypal"), 2));
        assert!(may_be_within(
            byte_set("ex\u{e4}mple"),
            byte_set("example"),
            0
        ));
    }

    #[test]
    fn lookalike_techniques_table() {
        let cases: &[(&str, Option<Technique>)] = &[
            // The organisation domain (documentation domain example.com).
            ("examp1e.com", Some(Technique::Confusable)),
            ("xn--exmple-4nf.com", Some(Technique::Confusable)),
            ("exarnple.com", Some(Technique::Confusable)),
            ("example.net", Some(Technique::OtherSuffix)),
            ("example.co.uk", Some(Technique::OtherSuffix)),
            ("exampie.com", Some(Technique::EditDistance(1))),
            ("mircosoft.com", Some(Technique::EditDistance(1))),
            ("examples.org", Some(Technique::EditDistance(1))),
            ("example-login.org", Some(Technique::HyphenatedPart)),
            ("example.login.test.net", Some(Technique::SubdomainLabel)),
            // Brands.
            ("paypa1.com", Some(Technique::Confusable)),
            ("paypal.co", Some(Technique::OtherSuffix)),
            ("paypall.com", Some(Technique::EditDistance(1))),
            ("paypla.com", Some(Technique::EditDistance(1))),
            ("micros0ft.net", Some(Technique::Confusable)),
            ("rnicrosoft.com", Some(Technique::Confusable)),
            ("docusign-secure.net", Some(Technique::HyphenatedPart)),
            ("xn--pypal-4ve.com", Some(Technique::Confusable)),
            // Not lookalikes.
            ("example.com", None),
            ("mail.example.com", None),
            ("paypal.com", None),
            ("mail.paypal.com", None),
            ("paypal.de", None),
            ("insideapple.apple.com", None),
            ("example.org.uk", Some(Technique::OtherSuffix)),
            ("ups.test.net", None),
            ("upx.com", None),
            ("sample.net", None),
            ("bb.test.org", None),
        ];
        for (domain, expected) in cases {
            assert_eq!(technique(domain), *expected, "{domain}");
        }
    }

    #[test]
    fn short_labels_need_confusables() {
        // `ups` is too short for edit distance or another suffix, but a Cyrillic р is caught.
        assert_eq!(technique("ups.net"), None);
        assert_eq!(technique("upps.com"), None);
        assert_eq!(technique("uрs.com"), Some(Technique::Confusable));
    }

    #[test]
    fn single_script_idn_is_not_flagged() {
        let findings = domain_findings("bücher.example", &protected());
        assert!(findings.is_empty(), "{findings:?}");
        let findings = domain_findings("xn--bcher-kva.example", &protected());
        assert!(findings.is_empty(), "{findings:?}");
        let findings = domain_findings("例え.テスト", &protected());
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn mixed_script_label_is_flagged() {
        // Latin "p", Cyrillic "а".
        let ids: Vec<String> = domain_findings("pаyment.example", &protected())
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert!(
            ids.contains(&"sender.mixed-script-domain".to_string()),
            "{ids:?}"
        );
    }

    #[test]
    fn undecodable_punycode_is_kept_and_flagged() {
        let decoded = decode_domain("xn--abc.example.com").unwrap();
        assert_eq!(decoded.undecodable, vec!["xn--abc".to_string()]);
        assert_eq!(decoded.unicode, "xn--abc.example.com");
        let findings = domain_findings("xn--abc.example.net", &protected());
        let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        assert!(ids.contains(&"sender.invalid-punycode"), "{ids:?}");
    }

    #[test]
    fn lookalike_finding_names_target_and_technique() {
        let findings = domain_findings("paypa1.com", &protected());
        let finding = findings
            .iter()
            .find(|f| f.id == "sender.lookalike-domain")
            .unwrap();
        assert!(
            finding.detail.contains("paypal.com (PayPal)"),
            "{}",
            finding.detail
        );
        assert!(finding.detail.contains("confusable"), "{}", finding.detail);
    }

    #[test]
    fn subdomain_trick_table() {
        let cases = [
            ("example.com.account-verify.example.net", true),
            ("login.example.com.example.org", true),
            ("paypal.com.evil.example.net", true),
            // Another domain of a brand (Yahoo's yahoo.co.uk).
            ("yahoo.co.uk.login.example.net", true),
            ("mail.example.net", false),
            ("com.example.net", false),
            ("example.net", false),
            // Leading labels that spell an unprotected domain are an ordinary host name.
            ("exchange.ie.example.net", false),
            ("mail.example.org.example.net", false),
        ];
        for (domain, flagged) in cases {
            assert_eq!(
                subdomain_trick(domain, &protected()).is_some(),
                flagged,
                "{domain}"
            );
        }
    }

    /// Returns the finding ids and severities for a From domain.
    fn findings_of(domain: &str) -> Vec<(String, Severity)> {
        domain_findings(domain, &protected())
            .into_iter()
            .map(|f| (f.id, f.severity))
            .collect()
    }

    #[test]
    fn brand_country_domain_is_info() {
        for domain in ["yahoo.fr", "yahoo.com.mx", "amazon.com.mx", "paypal.fr"] {
            assert_eq!(
                findings_of(domain),
                vec![("sender.brand-other-suffix".to_string(), Severity::Info)],
                "{domain}"
            );
        }
    }

    #[test]
    fn brand_lookalikes_stay_high() {
        let lookalike = ("sender.lookalike-domain".to_string(), Severity::High);
        let domains = [
            "paypa1.com",
            "paypal-secure.com",
            "pаypal.com",
            "paypal.com.evil.example",
            // Another generic suffix, `.co`, and a national brand under another suffix.
            "paypal.net",
            "paypal.co",
            "bradesco.br",
        ];
        for domain in domains {
            assert!(findings_of(domain).contains(&lookalike), "{domain}");
        }
        let trick = ("sender.subdomain-trick".to_string(), Severity::High);
        assert!(findings_of("paypal.com.evil.example").contains(&trick));
    }

    #[test]
    fn organisation_domain_under_other_suffix_stays_high() {
        let lookalike = ("sender.lookalike-domain".to_string(), Severity::High);
        assert_eq!(findings_of("example.net"), vec![lookalike]);
    }

    #[test]
    fn hostile_domains_are_bounded() {
        let long = format!("{}example.net", "a.".repeat(200));
        assert!(decode_domain(&long).is_none());
        assert!(subdomain_trick(&long, &protected()).is_none());
        let many = format!("{}test.net", "ab.".repeat(80));
        assert!(many.len() <= MAX_DOMAIN_LEN);
        assert!(domain_findings(&many, &protected()).is_empty());
        assert!(decode_domain("").is_none());
        assert!(decode_domain("[192.0.2.1]").is_none());
    }
}
