//! Command-line interface: arguments are parsed and validated first, then resolved into an
//! [`AnalysisConfig`] before any message is read.

pub mod eval;
pub mod inspect;
pub mod lists;
pub mod output;
pub mod profiles;
pub mod scan;

use crate::config::{AnalysisConfig, ConfigError, ConfigFile, MIN_BYTE_LIMIT, MIN_COUNT_LIMIT};
use crate::input::{AttachedMessages, InputOptions};
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
    /// Show the receiving-platform profiles, with the config file's overrides.
    Profiles(profiles::ProfilesArgs),
    /// Measure how well the spoof score separates ham from phishing folders.
    Eval(eval::EvalArgs),
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
    /// Configuration file; defaults to ./mailtrace.toml when it exists, which is announced
    /// on standard error. `--config /dev/null` reads none.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read input as headers pasted from a mail viewer: empty lines between fields do not
    /// end the header block.
    #[arg(long)]
    pub pasted_headers: bool,
    /// Analyse only the message as delivered, not the messages attached to it.
    #[arg(long, conflicts_with = "attached_only")]
    pub outer: bool,
    /// Analyse only the messages attached to a report or bounce, not the wrapper.
    #[arg(long)]
    pub attached_only: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Resource limits for hostile input. Each limit that is hit is reported as a finding or
/// an error record; none truncates silently. An option overrides the same limit in the
/// `[limits]` table of the config file. A test checks that each `[default: N]` below is the
/// library's default.
#[derive(Debug, Args, Clone)]
pub struct LimitArgs {
    /// Messages larger than this many bytes are cut to their header block (also the limit
    /// for one message of an mbox); at least 1024 [default: 67108864].
    #[arg(long, value_name = "BYTES", value_parser = parse_byte_limit)]
    pub max_message_bytes: Option<usize>,
    /// Header parsing stops after this many bytes of header block; at least 1024
    /// [default: 8388608].
    #[arg(long, value_name = "BYTES", value_parser = parse_byte_limit)]
    pub max_header_bytes: Option<usize>,
    /// Header parsing stops after this many header fields; at least 1 [default: 50000].
    #[arg(long, value_name = "N", value_parser = parse_count_limit)]
    pub max_header_fields: Option<usize>,
    /// Only the newest N Received fields are analysed; at least 1 [default: 10000].
    #[arg(long, value_name = "N", value_parser = parse_count_limit)]
    pub max_hops: Option<usize>,
    /// Only the first N addresses of each From, Reply-To and To field are analysed; at
    /// least 1 [default: 1000].
    #[arg(long, value_name = "N", value_parser = parse_count_limit)]
    pub max_addresses: Option<usize>,
    /// Attached messages are followed to this nesting depth [default: 4].
    #[arg(long, value_name = "N")]
    pub max_attachment_depth: Option<usize>,
    /// A .msg file with a stream larger than this many bytes is an error record; at least
    /// 1024 [default: 67108864].
    #[arg(long, value_name = "BYTES", value_parser = parse_stream_limit)]
    pub max_msg_stream_bytes: Option<u64>,
}

/// Options of re-verification with `--online`.
#[derive(Debug, Args, Clone)]
pub struct OnlineArgs {
    /// Check DKIM, ARC, SPF, DMARC and reverse DNS now with DNS lookups, and show the
    /// results next to the recorded ones. Lookups can alert the sender's name server.
    #[arg(long)]
    pub online: bool,
    /// DNS server for --online, as IP or IP:PORT (port 53 by default); without it the
    /// system configuration is used.
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_server: Option<std::net::SocketAddr>,
    /// DNS answer file: with --online, answers are read from it when it exists and every
    /// answer used is saved to it; without --online, it is replayed and nothing is sent.
    #[arg(long, value_name = "FILE")]
    pub dns_cache: Option<PathBuf>,
    /// Timeout of each DNS query, in seconds; a query that times out is sent once more.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub dns_timeout: f64,
}

impl OnlineArgs {
    /// Returns the verification options, or `None` when the run stays offline without
    /// a cache file to replay.
    pub fn resolve(&self) -> Result<Option<crate::verify::VerifyOptions>, String> {
        use crate::verify::resolver::DnsSource;
        if !(self.dns_timeout.is_finite() && self.dns_timeout > 0.0 && self.dns_timeout <= 300.0) {
            return Err(format!(
                "invalid --dns-timeout {}: expected seconds between 0 and 300",
                self.dns_timeout
            ));
        }
        let source = match (self.online, self.dns_server, &self.dns_cache) {
            (true, Some(address), _) => DnsSource::Server(address),
            (true, None, _) => DnsSource::System,
            (false, _, Some(path)) if path.exists() => DnsSource::Replay,
            (false, _, Some(path)) => {
                return Err(format!(
                    "DNS cache file {} not found; record it first with --online --dns-cache",
                    path.display()
                ));
            }
            (false, _, None) => return Ok(None),
        };
        Ok(Some(crate::verify::VerifyOptions {
            source,
            timeout: std::time::Duration::from_secs_f64(self.dns_timeout),
            cache_file: self.dns_cache.clone(),
        }))
    }
}

fn parse_count_limit(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(count) if count >= MIN_COUNT_LIMIT => Ok(count),
        _ => Err(format!(
            "expected a whole number of at least {MIN_COUNT_LIMIT}"
        )),
    }
}

fn parse_stream_limit(text: &str) -> Result<u64, String> {
    parse_byte_limit(text).map(|bytes| bytes as u64)
}

fn parse_byte_limit(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(bytes) if bytes >= MIN_BYTE_LIMIT => Ok(bytes),
        _ => Err(format!(
            "expected a number of bytes of at least {MIN_BYTE_LIMIT}"
        )),
    }
}

fn parse_dns_server(text: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(address) = text.parse::<std::net::SocketAddr>() {
        return Ok(address);
    }
    let ip: std::net::IpAddr = text
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("invalid DNS server {text:?}: expected IP or IP:PORT, such as 192.0.2.53 or [2001:db8::53]:5353"))?;
    Ok(std::net::SocketAddr::new(ip, 53))
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
    /// Resolves the arguments and config file into the analysis configuration and the input
    /// options. An option overrides the config file, which overrides the defaults.
    pub fn resolve(&self) -> Result<(AnalysisConfig, InputOptions), ConfigError> {
        let mut config = AnalysisConfig::default();
        let mut input = InputOptions::default();
        resolve_config_file(&mut config, &mut input, self.config.as_deref())?;
        for domain in &self.org_domains {
            config.add_org_domain(domain);
        }
        for connector in &self.connector_ips {
            config.add_connector(connector, " in --connector-ip")?;
        }
        for path in &self.ip_lists {
            config.add_ip_list(IpList::from_file(path)?);
        }
        config.trusted_authserv_ids.extend(
            self.trusted_authserv_ids
                .iter()
                .map(|id| id.to_ascii_lowercase()),
        );
        config.parse.pasted_headers = self.pasted_headers;
        let limits = &self.limits;
        let set = |target: &mut usize, value: Option<usize>| {
            if let Some(value) = value {
                *target = value;
            }
        };
        set(
            &mut config.parse.limits.max_header_bytes,
            limits.max_header_bytes,
        );
        set(
            &mut config.parse.limits.max_fields,
            limits.max_header_fields,
        );
        set(&mut config.max_hops, limits.max_hops);
        set(&mut config.max_addresses, limits.max_addresses);
        set(&mut input.max_message_bytes, limits.max_message_bytes);
        set(&mut input.max_attachment_depth, limits.max_attachment_depth);
        if let Some(bytes) = limits.max_msg_stream_bytes {
            input.max_msg_stream_bytes = bytes;
        }
        input.attached = if self.outer {
            AttachedMessages::WrapperOnly
        } else if self.attached_only {
            AttachedMessages::OriginalsOnly
        } else {
            AttachedMessages::Both
        };
        Ok((config, input))
    }
}

/// Rejects `-` given more than once: standard input can be read only once, and the second
/// read would report an empty message.
pub fn check_stdin_once(paths: &[PathBuf]) -> Result<(), String> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(
            "`-` (standard input) is given more than once; it can be read only once".into(),
        );
    }
    Ok(())
}

/// Applies the config file `path`, or ./mailtrace.toml when no path is given and it exists.
pub fn resolve_config_file(
    config: &mut AnalysisConfig,
    input: &mut InputOptions,
    path: Option<&Path>,
) -> Result<(), ConfigError> {
    let default_file = Path::new("mailtrace.toml");
    let file = match path {
        Some(path) => Some(path),
        None if default_file.is_file() => {
            // A file picked up from the current folder changes the verdicts without any option
            // on the command line, and an evidence folder may bring one, so it is named.
            let absolute =
                std::fs::canonicalize(default_file).unwrap_or_else(|_| default_file.to_path_buf());
            eprintln!(
                "mailtrace: using the configuration file {} found in the current folder; pass --config FILE to use another, such as --config /dev/null for none",
                crate::report::escape::escape_terminal(&absolute.display().to_string())
            );
            Some(default_file)
        }
        None => None,
    };
    if let Some(path) = file {
        let parsed = ConfigFile::load(path)?;
        parsed.apply_input_limits(input, path)?;
        config.apply_file(parsed, path)?;
    }
    Ok(())
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
        Command::Profiles(args) => profiles::run(&args),
        Command::Eval(args) => eval::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) if is_broken_pipe(error.as_ref()) => {
            // The reader of standard output went away (`| head`): nothing left to report.
            ExitCode::Done
        }
        Err(error) => {
            // Errors can name input paths, and a file name can carry escape sequences.
            let message = crate::report::escape::escape_terminal(&error.to_string());
            eprintln!("mailtrace: {message}");
            ExitCode::Error
        }
    }
}

/// Tells whether an error is a write to a closed pipe.
fn is_broken_pipe(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The `[default: N]` written in each limit's help is the library's default.
    #[test]
    fn limit_help_names_the_library_defaults() {
        let config = AnalysisConfig::default();
        let input = InputOptions::default();
        let expected: [(&str, u64); 7] = [
            ("max-message-bytes", input.max_message_bytes as u64),
            (
                "max-header-bytes",
                config.parse.limits.max_header_bytes as u64,
            ),
            ("max-header-fields", config.parse.limits.max_fields as u64),
            ("max-hops", config.max_hops as u64),
            ("max-addresses", config.max_addresses as u64),
            ("max-attachment-depth", input.max_attachment_depth as u64),
            ("max-msg-stream-bytes", input.max_msg_stream_bytes),
        ];
        let command = Cli::command();
        let scan = command.find_subcommand("scan").expect("scan subcommand");
        for (name, default) in expected {
            let arg = scan
                .get_arguments()
                .find(|arg| arg.get_long() == Some(name))
                .unwrap_or_else(|| panic!("no --{name}"));
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            assert!(
                help.contains(&format!("[default: {default}]")),
                "--{name} help {help:?} does not name the default {default}"
            );
        }
    }

    /// A limit in the config file applies, and the same option on the command line wins.
    #[test]
    fn option_overrides_config_file_limit() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("mailtrace.toml");
        std::fs::write(
            &path,
            "[limits]\nmax_hops = 7\nmax_message_bytes = 4096\nmax_attachment_depth = 2\n",
        )
        .expect("write config");
        let config_arg = path.display().to_string();
        let parse = |extra: &[&str]| {
            let mut argv = vec!["mailtrace", "scan", "--config", &config_arg];
            argv.extend_from_slice(extra);
            argv.push("x.eml");
            match Cli::try_parse_from(argv).expect("arguments parse").command {
                Command::Scan(args) => args.analysis.resolve().expect("config resolves"),
                _ => unreachable!("scan was parsed"),
            }
        };
        let (config, input) = parse(&[]);
        assert_eq!(config.max_hops, 7);
        assert_eq!(input.max_message_bytes, 4096);
        assert_eq!(input.max_attachment_depth, 2);
        assert_eq!(
            config.max_addresses,
            AnalysisConfig::default().max_addresses
        );
        let (config, input) = parse(&["--max-hops", "3", "--max-message-bytes", "2048"]);
        assert_eq!(config.max_hops, 3);
        assert_eq!(input.max_message_bytes, 2048);
        assert_eq!(input.max_attachment_depth, 2);
    }

    /// A limit of 0 on fields, hops or addresses, or a stream limit below 1024, is refused.
    #[test]
    fn option_limits_have_minimums() {
        let parse = |flag: &str, value: &str| {
            Cli::try_parse_from(["mailtrace", "scan", flag, value, "x.eml"]).map(|_| ())
        };
        for flag in ["--max-hops", "--max-header-fields", "--max-addresses"] {
            assert!(parse(flag, "0").is_err(), "{flag} 0");
            assert!(parse(flag, "1").is_ok(), "{flag} 1");
        }
        assert!(parse("--max-msg-stream-bytes", "5").is_err());
        assert!(parse("--max-msg-stream-bytes", "1024").is_ok());
        assert!(parse("--max-attachment-depth", "0").is_ok());
    }

    /// A byte limit below the minimum and an unknown key are refused with the file's line.
    #[test]
    fn config_file_limit_errors_name_key_and_line() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("mailtrace.toml");
        let resolve = |text: &str| {
            std::fs::write(&path, text).expect("write config");
            let mut config = AnalysisConfig::default();
            let mut input = InputOptions::default();
            resolve_config_file(&mut config, &mut input, Some(&path))
                .expect_err("config is refused")
                .to_string()
        };
        let error = resolve("org_domains = []\n[limits]\nmax_header_bytes = 10\n");
        assert!(error.contains("limits.max_header_bytes"), "{error}");
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("at least 1024"), "{error}");
        let error = resolve("[limits]\nmax_hop = 10\n");
        assert!(error.contains("unknown field `max_hop`"), "{error}");
        let error = resolve("[limits]\nmax_hops = -1\n");
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("(`max_hops = -1`)"), "{error}");
        assert!(error.contains("expected a whole number"), "{error}");
        let error = resolve("[limits]\nmax_hops = 0\n");
        assert!(error.contains("limits.max_hops"), "{error}");
        assert!(error.contains("at least 1"), "{error}");
        let error = resolve("[limits]\nmax_msg_stream_bytes = 5\n");
        assert!(error.contains("at least 1024"), "{error}");
    }
}
