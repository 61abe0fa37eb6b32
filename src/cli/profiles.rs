//! `mailtrace profiles`: shows the receiving-platform profiles that the stripped-header
//! check uses, with the overrides of the config file applied.

use crate::cli::{ExitCode, resolve_config_file};
use crate::config::AnalysisConfig;
use crate::platform::describe_always;
use crate::platform::profiles::{HeaderClass, Role};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Configuration file whose `[profiles.ID]` overrides are applied; defaults to
    /// ./mailtrace.toml when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Prints the profiles.
pub fn run(args: &ProfilesArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut out = crate::cli::output::stdout()?;
    let mut config = AnalysisConfig::default();
    // The limits of the file do not change the profiles; they are checked all the same.
    let mut input = crate::input::InputOptions::default();
    resolve_config_file(&mut config, &mut input, args.config.as_deref())?;
    let profiles = config.profiles.as_ref();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(profiles)?)?;
        return Ok(ExitCode::Done);
    }
    for profile in profiles {
        let role = match profile.role {
            Role::Mailbox => "mailbox platform",
            Role::Gateway => "gateway",
        };
        let check = if profile.check {
            "missing always-written headers are reported"
        } else {
            "recognised only, missing headers are not reported"
        };
        writeln!(out, "{}: {}; {role}, {check}", profile.id, profile.name)?;
        writeln!(
            out,
            "  receiving hosts: {}",
            profile.receiving_hosts.join(", ")
        )?;
        for always in &profile.always {
            let class = match always.class {
                HeaderClass::Auth => "auth",
                HeaderClass::Routing => "routing",
                HeaderClass::Stamp => "stamp",
            };
            writeln!(out, "  always ({class}): {}", describe_always(always))?;
            writeln!(out, "    evidence: {}", always.evidence)?;
        }
        for sometimes in &profile.sometimes {
            writeln!(out, "  sometimes: {}", sometimes.header)?;
            writeln!(out, "    evidence: {}", sometimes.evidence)?;
        }
    }
    Ok(ExitCode::Done)
}
