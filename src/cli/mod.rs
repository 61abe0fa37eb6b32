//! Command-line interface: arguments are parsed and validated first, then resolved into an
//! [`AnalysisConfig`] before any message is read.

pub mod inspect;
pub mod lists;
pub mod scan;

use crate::config::{AnalysisConfig, ConfigError, ConfigFile};
use crate::iplist::IpList;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

/// Email header forensics: relay chain, recorded authentication, stripped headers, IP
/// lists and an explained spoof score.
#[derive(Debug, Parser)]
#[command(name = "mailtrace", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log diagnostics to stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse messages and print a full report for each.
    Inspect(inspect::InspectArgs),
    /// Scan folders, mbox files and Maildirs in parallel, with a campaign summary.
    Scan(scan::ScanArgs),
    /// Show the built-in IP lists with their sources, and any lists given.
    Lists(lists::ListsArgs),
}

/// Settings shared by every command that analyses messages.
#[derive(Debug, Args, Clone)]
pub struct AnalysisArgs {
    /// Organisation domain of the recipient (repeatable); its hosts are internal and its
    /// senders must arrive from inside.
    #[arg(long = "org-domain", value_name = "DOMAIN")]
    pub org_domains: Vec<String>,
    /// The organisation's own inbound connector address (repeatable): IP or CIDR,
    /// optionally followed by =NAME.
    #[arg(long = "connector-ip", value_name = "IP[=NAME]")]
    pub connector_ips: Vec<String>,
    /// IP list file (repeatable): one IP or CIDR per line with an optional label, or CSV
    /// with a header row.
    #[arg(long = "ip-list", value_name = "FILE")]
    pub ip_lists: Vec<PathBuf>,
    /// Authserv-id whose Authentication-Results are trusted (repeatable); without it the
    /// receiving hosts of the chain are trusted.
    #[arg(long = "trusted-authserv-id", value_name = "ID")]
    pub trusted_authserv_ids: Vec<String>,
    /// Configuration file; defaults to ./mailtrace.toml when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read input as headers pasted from a mail viewer: empty lines between fields do not
    /// end the header block.
    #[arg(long)]
    pub pasted_headers: bool,
    /// Analyse a reported-phish wrapper itself instead of the original attached to it.
    #[arg(long)]
    pub outer: bool,
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColourChoice {
    Auto,
    Always,
    Never,
}

/// Verdict threshold for `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
}

impl FailOn {
    /// Tells whether a verdict reaches this threshold.
    pub fn reached_by(self, verdict: crate::analysis::score::Verdict) -> bool {
        use crate::analysis::score::Verdict;
        let threshold = match self {
            FailOn::Low => Verdict::Low,
            FailOn::Medium => Verdict::Medium,
            FailOn::High => Verdict::High,
        };
        verdict >= threshold
    }
}

/// Exit codes: 0 done, 1 a message reached `--fail-on`, 2 errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Done = 0,
    FailOn = 1,
    Error = 2,
}

impl AnalysisArgs {
    /// Resolves the arguments and config file into an analysis configuration.
    pub fn resolve(&self) -> Result<AnalysisConfig, ConfigError> {
        let mut config = AnalysisConfig::default();
        let default_file = Path::new("mailtrace.toml");
        let file = match &self.config {
            Some(path) => Some(path.clone()),
            None => default_file.is_file().then(|| default_file.to_path_buf()),
        };
        if let Some(path) = file {
            let parsed = ConfigFile::load(&path)?;
            config.apply_file(parsed, &path)?;
        }
        for domain in &self.org_domains {
            config.add_org_domain(domain);
        }
        for connector in &self.connector_ips {
            config.add_connector(connector, " in --connector-ip")?;
        }
        for path in &self.ip_lists {
            config.ip_lists.push(IpList::from_file(path)?);
        }
        config.trusted_authserv_ids.extend(
            self.trusted_authserv_ids
                .iter()
                .map(|id| id.to_ascii_lowercase()),
        );
        config.parse.pasted_headers = self.pasted_headers;
        Ok(config)
    }

    /// Returns the input options these arguments select.
    pub fn input_options(&self) -> crate::input::InputOptions {
        crate::input::InputOptions {
            outer: self.outer,
            ..crate::input::InputOptions::default()
        }
    }
}

/// Decides whether to colour output written to stdout.
pub fn use_colour(choice: ColourChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColourChoice::Always => true,
        ColourChoice::Never => false,
        ColourChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::Lists(args) => lists::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("mailtrace: {error}");
            ExitCode::Error
        }
    }
}
