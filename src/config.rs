//! Resolved analysis settings: organisation domains, connector addresses, trusted
//! authserv-ids, IP lists, score weights and parsing limits. Command-line flags and
//! `mailtrace.toml` both end up here before any message is read.

use crate::analysis::score::Weights;
use crate::headers::ParseOptions;
use crate::iplist::{IpList, IpListEntry, builtin_lists, parse_net};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
            vip_names: Vec::new(),
            brand_domains: Vec::new(),
            allow_forwarders: Vec::new(),
            trusted_arc_sealers: Vec::new(),
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
    pub ip_lists: Vec<PathBuf>,
    #[serde(default)]
    pub weights: BTreeMap<String, u32>,
    #[serde(default)]
    pub vip_names: Vec<String>,
    #[serde(default)]
    pub brand_domains: Vec<String>,
    #[serde(default)]
    pub allow_forwarders: Vec<String>,
    #[serde(default)]
    pub trusted_arc_sealers: Vec<String>,
}

/// One connector entry of the config file: an address or CIDR and an optional name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorEntry {
    pub ip: String,
    pub name: Option<String>,
}

impl ConfigFile {
    /// Reads and parses a config file; errors name the file, key and line.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: display.clone(),
            reason: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: display,
            reason: e.to_string().trim().replace('\n', " "),
        })
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
        let location = format!(" in {}", path.display());
        for domain in &file.org_domains {
            self.add_org_domain(domain);
        }
        for connector in &file.connectors {
            let text = match &connector.name {
                Some(name) => format!("{}={name}", connector.ip),
                None => connector.ip.clone(),
            };
            self.add_connector(&text, &location)?;
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
            self.add_ip_list(IpList::from_file(&base.join(list))?);
        }
        for (key, value) in &file.weights {
            self.weights
                .set(key, *value)
                .map_err(|reason| ConfigError::Value {
                    key: format!("weights.{key}"),
                    value: value.to_string(),
                    location: location.clone(),
                    reason,
                })?;
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
