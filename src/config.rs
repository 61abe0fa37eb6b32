//! Resolved analysis settings: organisation domains, connector addresses, trusted
//! authserv-ids, IP lists, score weights and parsing limits. Command-line flags and
//! `mailtrace.toml` both end up here before any message is read.

use crate::analysis::score::Weights;
use crate::headers::ParseOptions;
use crate::input::InputOptions;
use crate::iplist::{IpList, IpListEntry, builtin_lists, parse_net};
use crate::platform::profiles::{AlwaysHeader, HeaderClass, Profile, SometimesHeader, profiles};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// Everything the analysis needs to know about the analyst's organisation and run.
#[derive(Debug, Clone)]
pub struct AnalysisConfig {
    /// Domains of the recipient organisation, lower case (`--org-domain`).
    pub org_domains: Vec<String>,
    /// The organisation's own inbound connector addresses (`--connector-ip`).
    pub connectors: IpList,
    /// Authserv-ids whose Authentication-Results are trusted; empty means infer from the chain.
    pub trusted_authserv_ids: Vec<String>,
    /// Built-in and user IP lists, matched against every address found.
    pub ip_lists: Vec<IpList>,
    pub weights: Weights,
    pub parse: ParseOptions,
    /// Maximum number of Received hops analysed; more are reported as a finding.
    pub max_hops: usize,
    /// Maximum number of mailboxes read from one address field (From, Reply-To, To); more
    /// are reported as a finding.
    pub max_addresses: usize,
    /// Names of people whose name in a display name must come from an organisation domain.
    pub vip_names: Vec<String>,
    /// Extra domains, lower case, that lookalike From domains are compared with.
    pub brand_domains: Vec<String>,
    /// Forwarders and mailing-list domains, lower case, whose envelope sender explains a
    /// From domain that is not aligned.
    pub allow_forwarders: Vec<String>,
    /// ARC sealer domains (`d=` of ARC-Seal), lower case, whose seal marks a message as
    /// forwarded.
    pub trusted_arc_sealers: Vec<String>,
    /// Receiving-platform profiles: the built-in ones with the config file's overrides.
    pub profiles: Arc<Vec<Profile>>,
}

impl Default for AnalysisConfig {
    fn default() -> AnalysisConfig {
        AnalysisConfig {
            org_domains: Vec::new(),
            connectors: IpList {
                name: "connectors".into(),
                source: "declared connector addresses".into(),
                entries: Vec::new(),
            },
            trusted_authserv_ids: Vec::new(),
            ip_lists: builtin_lists(),
            weights: Weights::default(),
            parse: ParseOptions::default(),
            max_hops: 10_000,
            max_addresses: crate::parse::address::DEFAULT_MAX_MAILBOXES,
            vip_names: Vec::new(),
            brand_domains: Vec::new(),
            allow_forwarders: Vec::new(),
            trusted_arc_sealers: Vec::new(),
            profiles: Arc::new(profiles().to_vec()),
        }
    }
}

/// Error for a configuration file or option that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("invalid config file {path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("invalid {key} value {value:?}{location}: {reason}")]
    Value {
        key: String,
        value: String,
        location: String,
        reason: String,
    },
    #[error(transparent)]
    IpList(#[from] crate::iplist::IpListError),
}

/// The `mailtrace.toml` file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub org_domains: Vec<String>,
    #[serde(default)]
    pub connectors: Vec<ConnectorEntry>,
    #[serde(default)]
    pub trusted_authserv_ids: Vec<String>,
    #[serde(default)]
    pub ip_lists: Vec<Spanned<PathBuf>>,
    #[serde(default)]
    pub weights: BTreeMap<Spanned<String>, u32>,
    #[serde(default)]
    pub vip_names: Vec<String>,
    #[serde(default)]
    pub brand_domains: Vec<String>,
    #[serde(default)]
    pub allow_forwarders: Vec<String>,
    #[serde(default)]
    pub trusted_arc_sealers: Vec<String>,
    /// Changes to the built-in platform profiles, by profile id.
    #[serde(default)]
    pub profiles: BTreeMap<Spanned<String>, ProfileOverride>,
    /// Resource limits. A command-line option overrides the same limit given here.
    #[serde(default)]
    pub limits: FileLimits,
    /// The file's text, kept to turn value positions into line numbers.
    #[serde(skip)]
    source: String,
}

/// One connector entry of the config file: an address or CIDR and an optional name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorEntry {
    pub ip: Spanned<String>,
    pub name: Option<String>,
}

/// Changes to one built-in platform profile, for an organisation whose platform is set up
/// differently from the default (a transport rule that removes a header on purpose, or a
/// stamp of its own on every inbound message).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileOverride {
    /// Whether missing always-written headers are reported for this platform.
    pub check: Option<bool>,
    /// Always-written headers that this organisation's platform does not write on every
    /// message; they are no longer reported as missing.
    #[serde(default)]
    pub sometimes: Vec<Spanned<String>>,
    /// Extra headers this organisation's platform writes on every message it receives.
    #[serde(default)]
    pub always: Vec<Spanned<String>>,
}

/// The `[limits]` table: the resource limits of the command line, with `_` for `-`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub max_message_bytes: Option<Spanned<u64>>,
    pub max_header_bytes: Option<Spanned<u64>>,
    pub max_header_fields: Option<Spanned<u64>>,
    pub max_hops: Option<Spanned<u64>>,
    pub max_addresses: Option<Spanned<u64>>,
    pub max_attachment_depth: Option<Spanned<u64>>,
    pub max_msg_stream_bytes: Option<Spanned<u64>>,
}

/// Smallest byte limit accepted for messages, header blocks and .msg streams: below it not
/// even a short header block fits, and every message would look empty.
pub const MIN_BYTE_LIMIT: usize = 1024;

/// Smallest limit accepted for header fields, Received hops and addresses. A limit of 0
/// would read a message as if it had none, and the report would contradict itself.
pub const MIN_COUNT_LIMIT: usize = 1;

/// Replaces the Rust type names in a parser message with the words of the file format.
fn plain_type_names(message: &str) -> String {
    message
        .replace("expected u64", "expected a whole number of 0 or more")
        .replace("expected u32", "expected a whole number of 0 or more")
        .replace("expected struct FileLimits", "expected a [limits] table")
        .replace(
            "expected struct ConnectorEntry",
            "expected a [[connectors]] table",
        )
        .replace(
            "expected struct ProfileOverride",
            "expected a [profiles.ID] table",
        )
}

impl ConfigFile {
    /// Applies the `[limits]` values that concern reading inputs to `options`.
    pub fn apply_input_limits(
        &self,
        options: &mut InputOptions,
        path: &Path,
    ) -> Result<(), ConfigError> {
        let limits = &self.limits;
        if let Some(value) = &limits.max_message_bytes {
            options.max_message_bytes = self.byte_limit("max_message_bytes", value, path)?;
        }
        if let Some(value) = &limits.max_attachment_depth {
            options.max_attachment_depth =
                self.count_limit("max_attachment_depth", value, 0, path)?;
        }
        if let Some(value) = &limits.max_msg_stream_bytes {
            options.max_msg_stream_bytes =
                self.byte_limit("max_msg_stream_bytes", value, path)? as u64;
        }
        Ok(())
    }

    /// Returns a byte limit of `[limits]`, refusing one below [`MIN_BYTE_LIMIT`].
    fn byte_limit(
        &self,
        key: &str,
        value: &Spanned<u64>,
        path: &Path,
    ) -> Result<usize, ConfigError> {
        match usize::try_from(*value.get_ref()) {
            Ok(bytes) if bytes >= MIN_BYTE_LIMIT => Ok(bytes),
            _ => Err(ConfigError::Value {
                key: format!("limits.{key}"),
                value: value.get_ref().to_string(),
                location: self.location(path, value.span().start),
                reason: format!("expected a number of bytes of at least {MIN_BYTE_LIMIT}"),
            }),
        }
    }

    /// Returns a count limit of `[limits]`, refusing one below `minimum` or one this
    /// machine cannot hold.
    fn count_limit(
        &self,
        key: &str,
        value: &Spanned<u64>,
        minimum: usize,
        path: &Path,
    ) -> Result<usize, ConfigError> {
        let invalid = |reason: String| ConfigError::Value {
            key: format!("limits.{key}"),
            value: value.get_ref().to_string(),
            location: self.location(path, value.span().start),
            reason,
        };
        let count = usize::try_from(*value.get_ref())
            .map_err(|_| invalid("too large for this machine".into()))?;
        if count < minimum {
            return Err(invalid(format!("expected at least {minimum}")));
        }
        Ok(count)
    }

    /// Reads and parses a config file; errors name the file, key and line.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: display.clone(),
            reason: e.to_string(),
        })?;
        let mut file: ConfigFile = toml::from_str(&text).map_err(|e| {
            let position = e.span().map(|span| {
                let before = text.get(..span.start).unwrap_or(&text);
                let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
                let column = before.rsplit('\n').next().unwrap_or(before).chars().count() + 1;
                // The line itself names the key, which the parser's message often does not.
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                let line_text = text[line_start..].lines().next().unwrap_or("").trim();
                let excerpt: String = line_text.chars().take(80).collect();
                format!(
                    "line {line}, column {column} (`{}`): ",
                    crate::report::escape::escape_terminal(&excerpt)
                )
            });
            ConfigError::Invalid {
                path: display,
                reason: format!(
                    "{}{}",
                    position.unwrap_or_default(),
                    plain_type_names(e.message().trim())
                ),
            }
        })?;
        file.source = text;
        Ok(file)
    }

    /// Returns ` in PATH line N` for a value of this file that starts at byte `offset`.
    fn location(&self, path: &Path, offset: usize) -> String {
        let before = self.source.get(..offset).unwrap_or(&self.source);
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        format!(" in {} line {line}", path.display())
    }
}

impl AnalysisConfig {
    /// Adds an organisation domain.
    pub fn add_org_domain(&mut self, domain: &str) {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if !domain.is_empty() && !self.org_domains.contains(&domain) {
            self.org_domains.push(domain);
        }
    }

    /// Adds an IP list. A list whose name (the file stem) is already taken is named by its
    /// file path instead, so that every match names the file it came from.
    pub fn add_ip_list(&mut self, mut list: IpList) {
        if self.ip_lists.iter().any(|known| known.name == list.name) {
            list.name = list.source.clone();
        }
        self.ip_lists.push(list);
    }

    /// Adds a connector address from `IP`, `CIDR`, or `IP=NAME`.
    pub fn add_connector(&mut self, text: &str, location: &str) -> Result<(), ConfigError> {
        let (address, name) = match text.split_once('=') {
            Some((address, name)) => (address, Some(name.trim().to_string())),
            None => (text, None),
        };
        let net = parse_net(address).ok_or_else(|| ConfigError::Value {
            key: "connector".into(),
            value: text.into(),
            location: location.into(),
            reason: "expected an IP address or CIDR network, optionally followed by =NAME".into(),
        })?;
        self.connectors.entries.push(IpListEntry {
            net,
            label: name,
            line: None,
        });
        Ok(())
    }

    /// Applies a parsed config file on top of the current settings.
    pub fn apply_file(&mut self, file: ConfigFile, path: &Path) -> Result<(), ConfigError> {
        for domain in &file.org_domains {
            self.add_org_domain(domain);
        }
        for connector in &file.connectors {
            let ip = connector.ip.get_ref();
            let net = parse_net(ip).ok_or_else(|| ConfigError::Value {
                key: "connectors.ip".into(),
                value: ip.clone(),
                location: file.location(path, connector.ip.span().start),
                reason:
                    "expected an IP address or CIDR network, such as 192.0.2.25 or 198.51.100.0/24"
                        .into(),
            })?;
            self.connectors.entries.push(IpListEntry {
                net,
                label: connector.name.clone(),
                line: None,
            });
        }
        self.trusted_authserv_ids.extend(
            file.trusted_authserv_ids
                .iter()
                .map(|id| id.to_ascii_lowercase()),
        );
        self.vip_names.extend(file.vip_names.iter().cloned());
        let lower = |domains: &[String]| -> Vec<String> {
            domains
                .iter()
                .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
                .collect()
        };
        self.brand_domains.extend(lower(&file.brand_domains));
        self.allow_forwarders.extend(lower(&file.allow_forwarders));
        self.trusted_arc_sealers
            .extend(lower(&file.trusted_arc_sealers));
        let base = path.parent().unwrap_or(Path::new("."));
        for list in &file.ip_lists {
            let list_path = base.join(list.get_ref());
            let loaded = IpList::from_file(&list_path).map_err(|error| ConfigError::Value {
                key: "ip_lists".into(),
                value: list.get_ref().display().to_string(),
                location: file.location(path, list.span().start),
                reason: error.to_string(),
            })?;
            self.add_ip_list(loaded);
        }
        for (key, value) in &file.weights {
            self.weights
                .set(key.get_ref(), *value)
                .map_err(|reason| ConfigError::Value {
                    key: format!("weights.{}", key.get_ref()),
                    value: value.to_string(),
                    location: file.location(path, key.span().start),
                    reason,
                })?;
        }
        let limits = &file.limits;
        if let Some(value) = &limits.max_header_bytes {
            self.parse.limits.max_header_bytes =
                file.byte_limit("max_header_bytes", value, path)?;
        }
        if let Some(value) = &limits.max_header_fields {
            self.parse.limits.max_fields =
                file.count_limit("max_header_fields", value, MIN_COUNT_LIMIT, path)?;
        }
        if let Some(value) = &limits.max_hops {
            self.max_hops = file.count_limit("max_hops", value, MIN_COUNT_LIMIT, path)?;
        }
        if let Some(value) = &limits.max_addresses {
            self.max_addresses = file.count_limit("max_addresses", value, MIN_COUNT_LIMIT, path)?;
        }
        if !file.profiles.is_empty() {
            let mut profiles = self.profiles.as_ref().clone();
            for (id, changes) in &file.profiles {
                override_profile(&mut profiles, id, changes, &file, path)?;
            }
            self.profiles = Arc::new(profiles);
        }
        Ok(())
    }

    /// Tells whether `host` is one of the organisation's domains or below one.
    pub fn is_org_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.org_domains
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
    }
}

/// Applies the `[profiles.ID]` table `changes` to the profile `id` of `profiles`.
fn override_profile(
    profiles: &mut [Profile],
    id: &Spanned<String>,
    changes: &ProfileOverride,
    file: &ConfigFile,
    path: &Path,
) -> Result<(), ConfigError> {
    let known: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
    let Some(profile) = profiles.iter_mut().find(|p| p.id == *id.get_ref()) else {
        return Err(ConfigError::Value {
            key: "profiles".into(),
            value: id.get_ref().clone(),
            location: file.location(path, id.span().start),
            reason: format!(
                "no such platform profile; the profiles are {}",
                known.join(", ")
            ),
        });
    };
    let evidence = format!("declared in {}", path.display());
    if let Some(check) = changes.check {
        profile.check = check;
    }
    for name in &changes.always {
        let twice = changes
            .sometimes
            .iter()
            .any(|other| other.get_ref().eq_ignore_ascii_case(name.get_ref()));
        if twice {
            return Err(ConfigError::Value {
                key: format!("profiles.{}.always", profile.id),
                value: name.get_ref().clone(),
                location: file.location(path, name.span().start),
                reason: "also listed under sometimes; a header is either always written or not"
                    .into(),
            });
        }
    }
    for name in &changes.sometimes {
        let position = profile.always.iter().position(|always| {
            always
                .headers
                .iter()
                .any(|header| header.eq_ignore_ascii_case(name.get_ref()))
        });
        let Some(position) = position else {
            let always: Vec<String> = profile
                .always
                .iter()
                .map(|a| a.headers.join(" or "))
                .collect();
            return Err(ConfigError::Value {
                key: format!("profiles.{}.sometimes", profile.id),
                value: name.get_ref().clone(),
                location: file.location(path, name.span().start),
                reason: format!(
                    "not an always-written header of this profile, which are: {}",
                    always.join(", ")
                ),
            });
        };
        let removed = profile.always.remove(position);
        for header in removed.headers {
            profile.sometimes.push(SometimesHeader {
                header,
                evidence: evidence.clone(),
            });
        }
    }
    for name in &changes.always {
        let header = name.get_ref().trim();
        let valid = !header.is_empty() && header.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !valid {
            return Err(ConfigError::Value {
                key: format!("profiles.{}.always", profile.id),
                value: name.get_ref().clone(),
                location: file.location(path, name.span().start),
                reason: "expected a header field name: printable ASCII without spaces or ':'"
                    .into(),
            });
        }
        profile.always.push(AlwaysHeader {
            headers: vec![header.to_string()],
            contains: Vec::new(),
            class: HeaderClass::Stamp,
            evidence: evidence.clone(),
        });
    }
    Ok(())
}
