//! `mailtrace lists`: shows the built-in IP lists and the providers' published mail ranges
//! with their sources and dates, and the lists given.

use crate::cli::ExitCode;
use crate::iplist::{IpList, builtin_lists, never_matched};
use crate::report::escape::escape_terminal;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ListsArgs {
    /// Also load and show these IP list files, checking every line.
    #[arg(long = "ip-list", value_name = "FILE")]
    pub ip_lists: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Prints the lists.
pub fn run(args: &ListsArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut out = crate::cli::output::stdout()?;
    let mut lists = builtin_lists();
    // Provider ranges label hops as provider infrastructure; they are not matched as lists.
    lists.extend(crate::platform::ranges::provider_lists());
    for path in &args.ip_lists {
        lists.push(IpList::from_file(path)?);
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&lists)?)?;
        return Ok(ExitCode::Done);
    }
    for list in &lists {
        let name = escape_terminal(&list.name);
        writeln!(out, "{name} ({} entries)", list.entries.len())?;
        writeln!(out, "  source: {}", escape_terminal(&list.source))?;
        for entry in &list.entries {
            let label = entry
                .label
                .as_deref()
                .map(|l| format!("  {}", escape_terminal(l)))
                .unwrap_or_default();
            let unmatched = if never_matched(&entry.net) {
                "  (not public: never matched)"
            } else {
                ""
            };
            writeln!(out, "  {}{label}{unmatched}", entry.net)?;
        }
    }
    Ok(ExitCode::Done)
}
