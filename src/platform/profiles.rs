//! Receiving-platform profiles: the data in `profiles.toml`, parsed once on first use.

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// The profile data, compiled into the binary.
const PROFILES_TOML: &str = include_str!("profiles.toml");

/// What a platform does with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Delivers into the recipient's mailbox.
    Mailbox,
    /// Filters mail in front of a mailbox platform.
    Gateway,
}

/// Why an always-written header matters: it records authentication, routing, or the
/// platform's own processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderClass {
    Auth,
    Routing,
    Stamp,
}

/// A header the platform writes on every message it receives.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlwaysHeader {
    /// Names of which one must be present (a platform may write either form).
    pub headers: Vec<String>,
    /// Texts of which one must occur in the value (case-insensitive); empty means any value.
    #[serde(default)]
    pub contains: Vec<String>,
    pub class: HeaderClass,
    pub evidence: String,
}

/// A header the platform writes only on some messages; it never triggers a finding.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SometimesHeader {
    pub header: String,
    pub evidence: String,
}

/// One receiving platform.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Suffixes of a Received hop's by-host that show the platform received the message.
    pub receiving_hosts: Vec<String>,
    /// Groups of header names; a group whose names are all present recognises the platform
    /// when no Received hop does.
    #[serde(default)]
    pub stamps: Vec<Vec<String>>,
    /// The X-MS-Exchange-CrossTenant-Id that selects this profile over its family's default.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Headers the platform never writes itself.
    #[serde(default)]
    pub never: Vec<String>,
    /// Whether missing always-written headers are reported; false means recognise only.
    pub check: bool,
    #[serde(default)]
    pub always: Vec<AlwaysHeader>,
    #[serde(default)]
    pub sometimes: Vec<SometimesHeader>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    profile: Vec<Profile>,
}

static PROFILES: LazyLock<Vec<Profile>> = LazyLock::new(|| parse_profiles(PROFILES_TOML));

/// Parses profile data. The built-in file is checked by a unit test, so a parse error here
/// means an edited file: the error is logged and no profile is used rather than panicking.
fn parse_profiles(text: &str) -> Vec<Profile> {
    match toml::from_str::<ProfileFile>(text) {
        Ok(file) => file.profile,
        Err(error) => {
            tracing::error!(%error, "invalid built-in platform profiles; platform checks are off");
            Vec::new()
        }
    }
}

/// Returns the built-in profiles in file order.
pub fn profiles() -> &'static [Profile] {
    &PROFILES
}

/// Returns the profile with this id.
pub fn profile(id: &str) -> Option<&'static Profile> {
    profiles().iter().find(|p| p.id == id)
}

impl Profile {
    /// Tells whether `by_host` is one of this platform's receiving hosts.
    pub fn receives_at(&self, by_host: &str) -> bool {
        let host = by_host.trim_end_matches('.');
        // A pattern with a leading dot matches any host below it; one without matches only
        // that exact host.
        self.receiving_hosts.iter().any(|pattern| {
            if pattern.starts_with('.') {
                crate::parse::ascii::ends_with_ci(host, pattern)
            } else {
                host.eq_ignore_ascii_case(pattern)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_parse() {
        let file: ProfileFile = toml::from_str(PROFILES_TOML).expect("profiles.toml parses");
        let ids: Vec<&str> = file.profile.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "exchange-online",
                "outlook-consumer",
                "gmail",
                "proofpoint",
                "mimecast"
            ]
        );
    }

    #[test]
    fn every_entry_has_evidence() {
        for profile in profiles() {
            for always in &profile.always {
                assert!(!always.evidence.trim().is_empty(), "{}", profile.id);
                assert!(!always.headers.is_empty(), "{}", profile.id);
            }
            for sometimes in &profile.sometimes {
                assert!(!sometimes.evidence.trim().is_empty(), "{}", profile.id);
            }
        }
    }

    #[test]
    fn receiving_host_table() {
        let exchange = profile("exchange-online").unwrap();
        let gmail = profile("gmail").unwrap();
        assert!(exchange.receives_at("BN8PR16CA0009.outlook.office365.com"));
        assert!(exchange.receives_at("DS7P223MB0407.NAMP223.PROD.OUTLOOK.COM"));
        assert!(
            !exchange.receives_at("mail-bn1nam02olkn2092.outbound.protection.outlook.com.example")
        );
        assert!(gmail.receives_at("mx.google.com"));
        assert!(!gmail.receives_at("notmx.google.com"));
    }
}
