//! Microsoft Exchange Online / Exchange Online Protection (EOP) headers: the anti-spam
//! reports (`X-Forefront-Antispam-Report`, `X-Microsoft-Antispam` and their `-Untrusted`
//! copies from an upstream tenant), the organisation SCL, the cross-tenant connecting IP,
//! the incoming header marker and the originating-IP headers.
//!
//! The meanings of field values come from Microsoft's "Anti-spam message headers in cloud
//! organizations", "Spam confidence level (SCL)" and "Bulk complaint level (BCL)" pages on
//! learn.microsoft.com (revisions dated 2023 to 2026). Fields that page does not describe are
//! "used exclusively by the Microsoft anti-spam team for diagnostic purposes"; they are kept
//! as written and labelled undocumented. Malformed values are kept too, with an
//! `exchange.malformed-header` finding.

use crate::finding::{Finding, Severity};
use crate::report::escape::quoted;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

/// `CIP` value that names no connecting host. Exchange Online writes it in reports on mail
/// sent from its own mailboxes. It is seen in outbound reports, and Microsoft does not
/// document it.
pub const PLACEHOLDER_CIP: IpAddr = IpAddr::V4(Ipv4Addr::BROADCAST);

/// A parsed `X-Forefront-Antispam-Report` (or `-Untrusted`) field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForefrontReport {
    /// Field name as written.
    pub field_name: String,
    /// `KEY:value` pairs in order; empty values are kept as "".
    pub pairs: Vec<(String, String)>,
    pub findings: Vec<Finding>,
}

/// One report field with its label and the documented meaning of its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodedPair {
    pub key: String,
    pub value: String,
    /// Name of the field, such as "Connecting IP" or "Spam filtering verdict".
    pub label: String,
    /// Documented meaning of the value, or a note that the value is undocumented.
    pub meaning: Option<String>,
}

/// A parsed `X-Microsoft-Antispam` field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MicrosoftAntispam {
    pub pairs: Vec<(String, String)>,
    /// Bulk complaint level, 0 to 9.
    pub bcl: Option<u32>,
    pub findings: Vec<Finding>,
}

/// A parsed `X-Microsoft-Antispam-Mailbox-Delivery` field: the mailbox folder that
/// Outlook.com or Exchange Online chose, and why. Microsoft does not document this field.
/// The readings here (`dest`, `OFR`, `RF`) are the common ones, and the values are kept as
/// written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MailboxDelivery {
    pub pairs: Vec<(String, String)>,
    /// `dest`: `I` for the Inbox, `J` for Junk Email, `C` for a folder chosen by a rule.
    pub destination: Option<String>,
    /// `OFR`: why that folder was chosen, such as `TrustedSenderList` or `SpamFilterAuthJ`.
    pub reason: Option<String>,
    /// `RF`: the folder the message was routed to, such as `JunkEmail`.
    pub routed_folder: Option<String>,
}

/// Parses an `X-Microsoft-Antispam-Mailbox-Delivery` value.
pub fn parse_mailbox_delivery(value: &str) -> MailboxDelivery {
    let split = split_pairs(value);
    let get = |key: &str| {
        lookup(&split.pairs, key)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    MailboxDelivery {
        destination: get("dest"),
        reason: get("OFR"),
        routed_folder: get("RF"),
        pairs: split.pairs,
    }
}

impl MailboxDelivery {
    /// Returns the folder that `dest` names, as commonly read.
    pub fn destination_name(&self) -> Option<&'static str> {
        match self.destination.as_deref()?.to_ascii_uppercase().as_str() {
            "I" => Some("Inbox"),
            "J" => Some("Junk Email"),
            "C" => Some("a folder chosen by a rule"),
            _ => None,
        }
    }
}

/// The value of `X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectingIp {
    pub tenant_id: Option<String>,
    /// Address that connected to the sending tenant.
    pub ip: Option<IpAddr>,
    /// HELO name that host gave, without brackets.
    pub helo: Option<String>,
}

/// Tells whether `name` is `X-Forefront-Antispam-Report` or its `-Untrusted` copy.
pub fn is_forefront_report_field(name: &str) -> bool {
    [
        "X-Forefront-Antispam-Report",
        "X-Forefront-Antispam-Report-Untrusted",
    ]
    .iter()
    .any(|known| name.trim().eq_ignore_ascii_case(known))
}

/// Tells whether `name` is `X-Microsoft-Antispam` or its `-Untrusted` copy.
pub fn is_microsoft_antispam_field(name: &str) -> bool {
    ["X-Microsoft-Antispam", "X-Microsoft-Antispam-Untrusted"]
        .iter()
        .any(|known| name.trim().eq_ignore_ascii_case(known))
}

/// Parses a Forefront anti-spam report value into its `KEY:value;` pairs.
///
/// The field name is only stored; use [`is_forefront_report_field`] to pick the fields.
/// `(null)` tokens are dropped before splitting, as Microsoft's Message Header Analyzer
/// does. Malformed parts are kept and reported.
pub fn parse_forefront_report(field_name: &str, value: &str) -> ForefrontReport {
    let split = split_pairs(value);
    let mut report = ForefrontReport {
        field_name: field_name.to_string(),
        pairs: split.pairs,
        findings: Vec::new(),
    };
    let mut problems = split.problems;
    problems.extend(report.value_problems());
    if let Some(finding) = malformed_finding(field_name, value, &problems) {
        report.findings.push(finding);
    }
    report
}

impl ForefrontReport {
    /// Returns the value of the first pair with this key, compared case-insensitively.
    pub fn get(&self, key: &str) -> Option<&str> {
        lookup(&self.pairs, key)
    }

    /// Returns the connecting IP address (`CIP`) as written, placeholder included.
    pub fn cip(&self) -> Option<IpAddr> {
        self.get("CIP").and_then(parse_origin_ip_header)
    }

    /// Returns the connecting IP address (`CIP`) unless it is the placeholder
    /// [`PLACEHOLDER_CIP`], which names no connecting host.
    pub fn connecting_ip(&self) -> Option<IpAddr> {
        self.cip().filter(|ip| *ip != PLACEHOLDER_CIP)
    }

    /// Returns the spam confidence level (`SCL`).
    pub fn scl(&self) -> Option<i32> {
        self.get("SCL").and_then(|scl| scl.trim().parse().ok())
    }

    /// Returns the opaque spam filter rule ids of `SFS:(n)(n)…`; unreadable ids are skipped.
    pub fn sfs(&self) -> Vec<u64> {
        self.get("SFS")
            .map(|sfs| parse_sfs(sfs).0)
            .unwrap_or_default()
    }

    /// Tells whether this is the `-Untrusted` copy stamped by an upstream tenant.
    pub fn upstream(&self) -> bool {
        let name = self.field_name.trim().to_ascii_lowercase();
        name.ends_with("-untrusted")
    }

    /// Returns every pair with its label and documented meaning, in order.
    pub fn describe(&self) -> Vec<DecodedPair> {
        self.pairs
            .iter()
            .map(|(key, value)| describe_pair(key, value))
            .collect()
    }

    /// Lists the values that do not have their documented form.
    fn value_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(cip) = self.get("CIP").filter(|cip| !cip.is_empty())
            && self.cip().is_none()
        {
            problems.push(format!("CIP {} is not an IP address", quoted(cip)));
        }
        if let Some(scl) = self.get("SCL").filter(|scl| !scl.is_empty())
            && self.scl().is_none()
        {
            problems.push(format!("SCL {} is not a number", quoted(scl)));
        }
        if let Some(sfs) = self.get("SFS")
            && !parse_sfs(sfs).1
        {
            problems.push(format!(
                "SFS {} is not a list of (number) groups",
                quoted(sfs)
            ));
        }
        problems
    }
}

/// Parses an `X-Microsoft-Antispam` value such as `BCL:0;`.
pub fn parse_microsoft_antispam(value: &str) -> MicrosoftAntispam {
    let split = split_pairs(value);
    let bcl_text = lookup(&split.pairs, "BCL");
    let bcl = bcl_text.and_then(|bcl| bcl.trim().parse().ok());

    let mut problems = split.problems;
    if let Some(text) = bcl_text
        && bcl.is_none()
    {
        problems.push(format!("BCL {} is not a number", quoted(text)));
    }
    let findings = malformed_finding("X-Microsoft-Antispam", value, &problems)
        .into_iter()
        .collect();
    MicrosoftAntispam {
        pairs: split.pairs,
        bcl,
        findings,
    }
}

impl MicrosoftAntispam {
    /// Returns every pair with its label and documented meaning, in order.
    pub fn describe(&self) -> Vec<DecodedPair> {
        self.pairs
            .iter()
            .map(|(key, value)| describe_pair(key, value))
            .collect()
    }
}

/// Reads `X-MS-Exchange-Organization-SCL` and returns the level with Microsoft's meaning.
///
/// -1 means the message skipped spam filtering (a safe sender, a safe recipient, an IP
/// Allow List entry or a mail flow rule), not "spam level -1". Values outside -1 to 9 give
/// `None`.
pub fn describe_org_scl(value: &str) -> Option<(i32, &'static str)> {
    // Exchange writes -1 or one digit; `+5`, `05` and `-0` parse as numbers but are not its.
    let value = value.trim();
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.len() != 1 || (value.starts_with('-') && digits != "1") {
        return None;
    }
    let scl: i32 = value.parse().ok()?;
    let meaning = match scl {
        -1 => "bypass/trusted",
        0 | 1 => "not spam",
        2..=4 => {
            "not a level spam filtering assigns: something else set it, such as a mail flow rule in a business tenant or the provider's own processing"
        }
        5 | 6 => "spam",
        7..=9 => "high confidence spam",
        _ => return None,
    };
    Some((scl, meaning))
}

/// Returns Microsoft's meaning of the three-digit `reason` of a `compauth` result, or `None`
/// for a value that is not three digits or a family Microsoft does not describe. The
/// meanings are those of the Authentication-Results table in Microsoft's "Anti-spam message
/// headers in Microsoft 365" (learn.microsoft.com, message-headers-eop-mdo), where the last
/// two digits of most families are internal codes.
pub fn describe_compauth_reason(reason: &str) -> Option<&'static str> {
    let reason = reason.trim();
    if reason.len() != 3 || !reason.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let meaning = match reason {
        "000" => {
            "failed explicit authentication: DMARC failed with a policy of quarantine or reject"
        }
        "001" => {
            "failed implicit authentication: the domain publishes no authentication records, or only weak ones such as SPF softfail or neutral or a DMARC policy of p=none"
        }
        "002" => "the organisation prohibits this sender and domain pair from sending spoofed mail",
        "010" => {
            "DMARC failed with quarantine or reject, and the domain is one of the recipient organisation's accepted domains"
        }
        "130" => "passed because an ARC result from a trusted sealer overrode a DMARC failure",
        _ => match reason.as_bytes()[0] {
            b'1' | b'7' => "passed authentication",
            b'2' => "soft-passed implicit authentication",
            b'3' => "not checked for composite authentication",
            b'4' | b'9' => "bypassed composite authentication",
            b'6' => {
                "failed implicit authentication, and the domain is one of the recipient organisation's accepted domains"
            }
            _ => return None,
        },
    };
    Some(meaning)
}

/// Returns Microsoft's meaning of a bulk complaint level, or `None` above 9.
pub fn describe_bcl(bcl: u32) -> Option<&'static str> {
    match bcl {
        0 => Some("not from a bulk sender"),
        1..=3 => Some("bulk sender that generates few complaints"),
        4..=7 => Some("bulk sender that generates a mixed number of complaints"),
        8 | 9 => Some("bulk sender that generates a high number of complaints"),
        _ => None,
    }
}

/// Parses `TenantId=…;Ip=[192.0.2.1];Helo=[host.example]`; `None` when none of the three
/// keys is present.
pub fn parse_connecting_ip(value: &str) -> Option<ConnectingIp> {
    let mut result = ConnectingIp {
        tenant_id: None,
        ip: None,
        helo: None,
    };
    for item in value.split(';') {
        let Some((key, item_value)) = item.split_once('=') else {
            continue;
        };
        let item_value = strip_brackets(item_value.trim());
        match key.trim().to_ascii_lowercase().as_str() {
            "tenantid" => result.tenant_id = Some(item_value.to_string()),
            "ip" => result.ip = parse_origin_ip_header(item_value),
            "helo" => result.helo = Some(item_value.to_string()),
            _ => {}
        }
    }
    let found = result.tenant_id.is_some() || result.ip.is_some() || result.helo.is_some();
    found.then_some(result)
}

/// Returns `N` of `X-IncomingTopHeaderMarker`
/// (`OriginalChecksum:…;UpperCasedChecksum:…;SizeAsReceived:…;Count:N`): how many header
/// fields the message had when it arrived.
pub fn parse_header_marker(value: &str) -> Option<u32> {
    value
        .split(';')
        .filter_map(|item| item.split_once(':'))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("Count"))
        .and_then(|(_, count)| count.trim().parse().ok())
}

/// Parses an address header such as `X-Originating-IP: [192.0.2.1]` or `X-Sender-IP`.
///
/// Accepts brackets, an `IPv6:` prefix and an IPv4 address followed by `:port`.
pub fn parse_origin_ip_header(value: &str) -> Option<IpAddr> {
    let trimmed = value.trim();
    let inner = match trimmed.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => trimmed,
    };
    let inner = strip_ipv6_prefix(inner.trim());
    if let Ok(ip) = inner.parse() {
        return Some(ip);
    }
    let (host, port) = inner.rsplit_once(':')?;
    let is_port = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    is_port
        .then(|| host.parse::<Ipv4Addr>().ok().map(IpAddr::V4))
        .flatten()
}

fn strip_ipv6_prefix(text: &str) -> &str {
    match text.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("IPv6:") => text.get(5..).unwrap_or(text),
        _ => text,
    }
}

fn strip_brackets(text: &str) -> &str {
    let text = text.strip_prefix('[').unwrap_or(text);
    text.strip_suffix(']').unwrap_or(text)
}

/// The pairs of a `KEY:value;` list and the parts that did not have that form.
struct SplitPairs {
    pairs: Vec<(String, String)>,
    problems: Vec<String>,
}

/// Splits a `KEY:value;KEY:value;` list at `;` and each item at its first `:`.
///
/// An item without `:` is kept as a key with an empty value and reported.
fn split_pairs(value: &str) -> SplitPairs {
    let cleaned = value.replace("(null)", "");
    let mut pairs = Vec::new();
    let mut problems = Vec::new();
    for item in cleaned
        .split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        match item.split_once(':') {
            Some((key, item_value)) if !key.trim().is_empty() => {
                pairs.push((key.trim().to_string(), item_value.trim().to_string()));
            }
            _ => {
                problems.push(format!("{} is not a KEY:value pair", quoted(item)));
                pairs.push((item.to_string(), String::new()));
            }
        }
    }
    if cleaned.trim().is_empty() {
        problems.push("the value is empty".to_string());
    }
    SplitPairs { pairs, problems }
}

fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(key))
        .map(|(_, value)| value.as_str())
}

/// Parses `(n)(n)…`, ignoring whitespace left by folding. Returns the numbers read and
/// whether the whole value had that form.
fn parse_sfs(value: &str) -> (Vec<u64>, bool) {
    let mut ids = Vec::new();
    let mut well_formed = true;
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let mut rest = compact.as_str();
    while !rest.is_empty() {
        let Some(group) = rest.strip_prefix('(') else {
            return (ids, false);
        };
        let Some((number, after)) = group.split_once(')') else {
            return (ids, false);
        };
        match number.parse() {
            Ok(id) => ids.push(id),
            Err(_) => well_formed = false,
        }
        rest = after;
    }
    (ids, well_formed)
}

fn malformed_finding(field_name: &str, value: &str, problems: &[String]) -> Option<Finding> {
    if problems.is_empty() {
        return None;
    }
    let finding = Finding::new(
        "exchange.malformed-header",
        Severity::Low,
        format!("Malformed {field_name} field"),
        format!(
            "The value was kept as written, but {}.",
            problems.join("; ")
        ),
    )
    .with_header(field_name)
    .with_evidence(field_name, None, value);
    Some(finding)
}

/// Labels a field and looks up the documented meaning of its value.
fn describe_pair(key: &str, value: &str) -> DecodedPair {
    let upper = key.to_ascii_uppercase();
    let meaning = meaning_of(&upper, value.trim());
    DecodedPair {
        key: key.to_string(),
        value: value.to_string(),
        label: label_of(&upper).to_string(),
        meaning: if value.trim().is_empty() {
            None
        } else {
            meaning
        },
    }
}

fn label_of(key: &str) -> &'static str {
    match key {
        "ARC" => "ARC protocol",
        "BCL" => "Bulk complaint level",
        "CAT" => "Protection policy category",
        "CIP" => "Connecting IP",
        "CTRY" => "Country/region",
        "DIR" => "Direction",
        "H" => "HELO/EHLO string",
        "IPV" => "IP filter verdict",
        "LANG" => "Language",
        "PCL" => "Phishing confidence level",
        "PTR" => "Reverse DNS of connecting IP",
        "SCL" => "Spam confidence level",
        "SFTY" => "Phishing safety verdict",
        "SFS" => "Spam filter rule ids",
        "SFV" => "Spam filtering verdict",
        "SRV" => "Bulk mail verdict",
        "X-CUSTOMSPAM" => "Advanced spam filter option",
        _ => "Undocumented field",
    }
}

const UNDOCUMENTED_FIELD: &str =
    "not documented by Microsoft, which uses it for anti-spam diagnostics";
const UNDOCUMENTED_VALUE: &str = "value not in Microsoft's published table; meaning unknown";

fn meaning_of(key: &str, value: &str) -> Option<String> {
    let value_upper = value.to_ascii_uppercase();
    let meaning = match key {
        "BCL" => value.parse().ok().and_then(describe_bcl),
        "CAT" => Some(category_meaning(&value_upper)),
        "CIP" if parse_origin_ip_header(value) == Some(PLACEHOLDER_CIP) => Some(
            "placeholder, no connecting address recorded (observed in outbound reports of \
             mail sent from Exchange Online mailboxes; not documented)",
        ),
        "DIR" => Some(direction_meaning(&value_upper)),
        "IPV" => Some(ip_verdict_meaning(&value_upper)),
        "SCL" => describe_org_scl(value).map(|(_, meaning)| meaning),
        "SFS" => Some("opaque rule ids, not documented by Microsoft"),
        "SFTY" => Some(safety_meaning(value)),
        "SFV" => Some(verdict_meaning(&value_upper)),
        "SRV" if value_upper == "BULK" => {
            Some("bulk mail: the BCL reached the threshold of the anti-spam policy")
        }
        "SRV" => Some(UNDOCUMENTED_VALUE),
        _ if label_of(key) == "Undocumented field" => Some(UNDOCUMENTED_FIELD),
        _ => None,
    };
    meaning.map(str::to_string)
}

/// Meanings of `SFV` values.
fn verdict_meaning(value: &str) -> &'static str {
    match value {
        "BLK" => "blocked: the sender is on the recipient's Blocked Senders list",
        "NSPM" => "not spam",
        "SFE" => "allowed: the sender is on the recipient's Safe Senders list",
        "SKA" => "skipped: sender or domain allowed by an anti-spam policy",
        "SKB" => "spam: sender or domain blocked by an anti-spam policy",
        "SKI" => {
            "skipped for another reason, such as mail inside the tenant (listed in older \
             revisions of Microsoft's table, not in the 2025 one)"
        }
        "SKN" => "skipped: marked not spam before filtering, such as by a mail flow rule (SCL -1)",
        "SKQ" => "released from quarantine",
        "SKS" => "spam: marked as spam before filtering, such as by a mail flow rule",
        "SPM" => "spam",
        _ => UNDOCUMENTED_VALUE,
    }
}

/// Meanings of `CAT` values.
fn category_meaning(value: &str) -> &'static str {
    match value {
        "AMP" => "anti-malware",
        "BIMP" => "brand impersonation",
        "BULK" => "bulk",
        "DIMP" => "domain impersonation",
        "FTBP" => "anti-malware common attachments (file type) filter",
        "GIMP" => "mailbox intelligence impersonation",
        "HPHSH" | "HPHISH" => "high confidence phishing",
        "HSPM" => "high confidence spam",
        "INTOS" => "intra-organization phishing",
        "MALW" => "malware",
        "OSPM" => "outbound spam",
        "PHSH" => "phishing",
        "SAP" => "Safe Attachments",
        "SPM" => "spam",
        "SPOOF" => "spoofing",
        "UIMP" => "user impersonation",
        "NONE" => "no threat category; NONE is not in Microsoft's table but is common",
        _ => UNDOCUMENTED_VALUE,
    }
}

fn direction_meaning(value: &str) -> &'static str {
    match value {
        "INB" => "inbound",
        "OUT" => "outbound",
        "INT" => "internal",
        _ => UNDOCUMENTED_VALUE,
    }
}

fn ip_verdict_meaning(value: &str) -> &'static str {
    match value {
        "CAL" => "skipped spam filtering: the source IP is on the IP Allow List",
        "NLI" => "the IP address is not on any IP reputation list",
        _ => UNDOCUMENTED_VALUE,
    }
}

fn safety_meaning(value: &str) -> &'static str {
    match value {
        "9.19" => "phishing: domain impersonation of a protected domain",
        "9.20" => "phishing: user impersonation of a protected user",
        "9.25" => "first contact safety tip; might indicate a suspicious message",
        _ => UNDOCUMENTED_VALUE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forefront_labels_fit_text_column() {
        // The text report prints labels in a 28-character column.
        let keys = [
            "ARC",
            "BCL",
            "CAT",
            "CIP",
            "CTRY",
            "DIR",
            "H",
            "IPV",
            "LANG",
            "PCL",
            "PTR",
            "SCL",
            "SFTY",
            "SFS",
            "SFV",
            "SRV",
            "X-CUSTOMSPAM",
            "OTHER",
        ];
        for key in keys {
            assert!(
                label_of(key).chars().count() <= 28,
                "{key}: {}",
                label_of(key)
            );
        }
    }

    const BR39: &str = "CIP:192.0.2.128;CTRY:US;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;\
        H:mail-out1.example.com;PTR:mail-out1.example.com;CAT:NONE;\
        SFS:(13230001)(4636009)(84050400002);DIR:INB;SFP:;EFV:NLI;";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn forefront_pairs_in_order() {
        let report = parse_forefront_report("X-Forefront-Antispam-Report", BR39);
        let expected = pairs(&[
            ("CIP", "192.0.2.128"),
            ("CTRY", "US"),
            ("LANG", "en"),
            ("SCL", "1"),
            ("SRV", ""),
            ("IPV", "NLI"),
            ("SFV", "NSPM"),
            ("H", "mail-out1.example.com"),
            ("PTR", "mail-out1.example.com"),
            ("CAT", "NONE"),
            ("SFS", "(13230001)(4636009)(84050400002)"),
            ("DIR", "INB"),
            ("SFP", ""),
            ("EFV", "NLI"),
        ]);
        assert_eq!(report.pairs, expected);
        assert!(report.findings.is_empty());
        assert_eq!(report.cip(), "192.0.2.128".parse().ok());
        assert_eq!(report.scl(), Some(1));
        assert_eq!(report.sfs(), [13230001, 4636009, 84050400002]);
        assert!(!report.upstream());
    }

    /// Input, expected pairs, expected number of problems.
    type SplitCase<'a> = (&'a str, &'a [(&'a str, &'a str)], usize);

    #[test]
    fn split_pairs_table() {
        let cases: &[SplitCase] = &[
            ("BCL:0;", &[("BCL", "0")], 0),
            (
                "UIP:(null);(null);(null)SFV:SKI",
                &[("UIP", ""), ("SFV", "SKI")],
                0,
            ),
            (
                " CIP:2001:db8::1 ; CTRY:DE",
                &[("CIP", "2001:db8::1"), ("CTRY", "DE")],
                0,
            ),
            (";;A:1;;", &[("A", "1")], 0),
            ("", &[], 1),
            ("garbage", &[("garbage", "")], 1),
            (":x;B:2", &[(":x", ""), ("B", "2")], 1),
        ];
        for (input, expected, problem_count) in cases {
            let split = split_pairs(input);
            assert_eq!(split.pairs, pairs(expected), "input {input:?}");
            assert_eq!(
                split.problems.len(),
                *problem_count,
                "problems for {input:?}"
            );
        }
    }

    #[test]
    fn sfs_table() {
        let cases: &[(&str, &[u64], bool)] = &[
            ("(1)(22)(333)", &[1, 22, 333], true),
            ("", &[], true),
            ("(1) (2)\t(3)", &[1, 2, 3], true),
            ("(1)(x)(3)", &[1, 3], false),
            ("(1)(2", &[1], false),
            ("12", &[], false),
            ("(99999999999999999999)", &[], false),
        ];
        for (input, ids, well_formed) in cases {
            assert_eq!(
                parse_sfs(input),
                (ids.to_vec(), *well_formed),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn malformed_values_reported_not_dropped() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("CIP:not-an-ip;SCL:1", "CIP"),
            ("SCL:high", "SCL"),
            ("SFS:(1)(two)", "SFS"),
            ("CIP192.0.2.1", "KEY:value"),
        ];
        for (input, mentioned) in cases {
            let report = parse_forefront_report("X-Forefront-Antispam-Report", input);
            assert_eq!(report.findings.len(), 1, "input {input:?}");
            assert_eq!(report.findings[0].id, "exchange.malformed-header");
            assert!(report.findings[0].detail.contains(mentioned), "{input:?}");
        }
        let report = parse_forefront_report("X", "CIP:not-an-ip");
        assert_eq!(report.get("cip"), Some("not-an-ip"));
        assert_eq!(report.cip(), None);
    }

    #[test]
    fn mailbox_delivery_read() {
        let delivery = parse_mailbox_delivery(
            "abwl:0;wl:1;pcwl:1;kl:0;ucf:0;jmr:0;ex:0;auth:0;dest:I;OFR:TrustedSenderList;ENG:(5062000305)(90000117);",
        );
        assert_eq!(delivery.destination.as_deref(), Some("I"));
        assert_eq!(delivery.destination_name(), Some("Inbox"));
        assert_eq!(delivery.reason.as_deref(), Some("TrustedSenderList"));
        assert_eq!(delivery.routed_folder, None);

        let junk = parse_mailbox_delivery("auth:1;dest:J;OFR:SpamFilterAuthJ;RF:JunkEmail;");
        assert_eq!(junk.destination_name(), Some("Junk Email"));
        assert_eq!(junk.routed_folder.as_deref(), Some("JunkEmail"));

        let odd = parse_mailbox_delivery("dest:Q;OFR:;");
        assert_eq!(odd.destination_name(), None);
        assert_eq!(odd.reason, None);
    }

    #[test]
    fn compauth_reasons_described() {
        let cases = [
            ("000", Some("failed explicit authentication")),
            ("001", Some("failed implicit authentication")),
            ("130", Some("passed because an ARC result")),
            ("109", Some("passed authentication")),
            ("701", Some("passed authentication")),
            ("205", Some("soft-passed")),
            ("301", Some("not checked")),
            ("452", Some("bypassed")),
            ("905", Some("bypassed")),
            ("601", Some("accepted domains")),
            ("501", None),
            ("13", None),
            ("1300", None),
            ("abc", None),
        ];
        for (code, expected) in cases {
            let meaning = describe_compauth_reason(code);
            match expected {
                Some(start) => assert!(
                    meaning.is_some_and(|m| m.contains(start)),
                    "{code}: {meaning:?}"
                ),
                None => assert_eq!(meaning, None, "{code}"),
            }
        }
    }

    #[test]
    fn upstream_copy_detected() {
        let report = parse_forefront_report("X-Forefront-Antispam-Report-Untrusted", "SCL:1");
        assert!(report.upstream());
    }

    #[test]
    fn field_name_table() {
        assert!(is_forefront_report_field("x-forefront-antispam-report"));
        assert!(is_forefront_report_field(
            "X-Forefront-Antispam-Report-Untrusted"
        ));
        assert!(!is_forefront_report_field("X-Other-Header"));
        assert!(is_microsoft_antispam_field("X-Microsoft-Antispam"));
        assert!(is_microsoft_antispam_field(
            "X-Microsoft-Antispam-Untrusted"
        ));
        assert!(!is_microsoft_antispam_field(
            "X-Microsoft-Antispam-Message-Info"
        ));
    }

    #[test]
    fn describe_table() {
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            ("SFV", "NSPM", "Spam filtering verdict", Some("not spam")),
            (
                "SFV",
                "SKN",
                "Spam filtering verdict",
                Some("skipped: marked not spam"),
            ),
            (
                "SFV",
                "SKV",
                "Spam filtering verdict",
                Some("meaning unknown"),
            ),
            (
                "CAT",
                "PHSH",
                "Protection policy category",
                Some("phishing"),
            ),
            (
                "CAT",
                "HPHISH",
                "Protection policy category",
                Some("high confidence phishing"),
            ),
            ("IPV", "CAL", "IP filter verdict", Some("IP Allow List")),
            ("DIR", "INB", "Direction", Some("inbound")),
            ("SCL", "-1", "Spam confidence level", Some("bypass/trusted")),
            ("SRV", "BULK", "Bulk mail verdict", Some("bulk mail")),
            ("SRV", "", "Bulk mail verdict", None),
            (
                "SFTY",
                "9.19",
                "Phishing safety verdict",
                Some("domain impersonation"),
            ),
            (
                "SFTY",
                "9.22",
                "Phishing safety verdict",
                Some("meaning unknown"),
            ),
            (
                "SFS",
                "(1)",
                "Spam filter rule ids",
                Some("opaque rule ids"),
            ),
            ("CIP", "192.0.2.1", "Connecting IP", None),
            ("CTRY", "US", "Country/region", None),
            ("EFV", "NLI", "Undocumented field", Some("not documented")),
            (
                "BCL",
                "8",
                "Bulk complaint level",
                Some("high number of complaints"),
            ),
        ];
        for (key, value, label, meaning) in cases {
            let pair = describe_pair(key, value);
            assert_eq!(pair.label, *label, "{key}:{value}");
            match meaning {
                Some(part) => {
                    let got = pair.meaning.unwrap_or_default();
                    assert!(got.contains(part), "{key}:{value} gave {got:?}");
                }
                None => assert_eq!(pair.meaning, None, "{key}:{value}"),
            }
        }
    }

    #[test]
    fn org_scl_table() {
        let cases: &[(&str, Option<(i32, &str)>)] = &[
            ("-1", Some((-1, "bypass/trusted"))),
            (" 0 ", Some((0, "not spam"))),
            ("1", Some((1, "not spam"))),
            ("5", Some((5, "spam"))),
            ("6", Some((6, "spam"))),
            ("7", Some((7, "high confidence spam"))),
            ("9", Some((9, "high confidence spam"))),
            ("10", None),
            ("-2", None),
            ("", None),
            ("spam", None),
        ];
        for (input, expected) in cases {
            assert_eq!(describe_org_scl(input), *expected, "input {input:?}");
        }
        assert!(
            describe_org_scl("3")
                .is_some_and(|(_, m)| m.contains("not a level spam filtering assigns"))
        );
    }

    #[test]
    fn microsoft_antispam_table() {
        let cases: &[(&str, Option<u32>, usize)] = &[
            ("BCL:0;", Some(0), 0),
            ("BCL:8;ARA:1444111002|13230031;", Some(8), 0),
            ("ARA:1;", None, 0),
            ("BCL:x;", None, 1),
            ("", None, 1),
        ];
        for (input, bcl, finding_count) in cases {
            let parsed = parse_microsoft_antispam(input);
            assert_eq!(parsed.bcl, *bcl, "input {input:?}");
            assert_eq!(
                parsed.findings.len(),
                *finding_count,
                "findings for {input:?}"
            );
        }
    }

    #[test]
    fn connecting_ip_table() {
        let full =
            "TenantId=00000000-0000-0000-0000-000000000001;Ip=[192.0.2.1];Helo=[mail.example.com]";
        let parsed = parse_connecting_ip(full).unwrap_or_else(|| panic!("no result"));
        assert_eq!(
            parsed.tenant_id.as_deref(),
            Some("00000000-0000-0000-0000-000000000001")
        );
        assert_eq!(parsed.ip, "192.0.2.1".parse().ok());
        assert_eq!(parsed.helo.as_deref(), Some("mail.example.com"));

        let v6 = parse_connecting_ip("Ip=[2001:db8::5]").and_then(|c| c.ip);
        assert_eq!(v6, "2001:db8::5".parse().ok());
        let bad_ip = parse_connecting_ip("TenantId=t;Ip=[nope]");
        assert_eq!(bad_ip.map(|c| c.ip), Some(None));
        assert_eq!(parse_connecting_ip(""), None);
        assert_eq!(parse_connecting_ip("garbage;x=1"), None);
    }

    #[test]
    fn header_marker_table() {
        let cases: &[(&str, Option<u32>)] = &[
            (
                "OriginalChecksum:AB;UpperCasedChecksum:CD;SizeAsReceived:394;Count:12",
                Some(12),
            ),
            ("Count: 7 ;", Some(7)),
            ("SizeAsReceived:394", None),
            ("Count:many", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_header_marker(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn origin_ip_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("[192.0.2.1]", Some("192.0.2.1")),
            ("192.0.2.1", Some("192.0.2.1")),
            (" [203.0.113.7] ", Some("203.0.113.7")),
            ("[IPv6:2001:db8::1]", Some("2001:db8::1")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("198.51.100.4:5123", Some("198.51.100.4")),
            ("[198.51.100.4]:5123", Some("198.51.100.4")),
            ("unknown", None),
            ("", None),
            ("[", None),
        ];
        for (input, expected) in cases {
            let expected: Option<IpAddr> = expected.and_then(|ip| ip.parse().ok());
            assert_eq!(parse_origin_ip_header(input), expected, "input {input:?}");
        }
    }
}
