//! `mailtrace inspect`: analyses each message and prints its full report.

use crate::analysis::{Report, analyze};
use crate::cli::{AnalysisArgs, ColourChoice, ExitCode, FailOn, OnlineArgs, use_colour};
use crate::input::read_paths;
use crate::report::json::{ErrorRecord, message_line, report_value};
use crate::report::text::{Style, render};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

/// Output format of `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable report for terminals.
    Text,
    /// One JSON array of reports.
    Json,
    /// One JSON record per line: messages, errors and a summary.
    Jsonl,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Message files, folders, mbox files or Maildirs; `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Exit with code 1 when a message's spoof verdict reaches this level.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// When to colour text output; NO_COLOR turns colour off in auto mode.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColourChoice,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub online: OnlineArgs,
}

/// Counts of one run.
#[derive(Debug, Default)]
struct Totals {
    messages: usize,
    errors: usize,
    failed_on: usize,
}

/// Runs `inspect`.
pub fn run(args: &InspectArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    crate::cli::check_stdin_once(&args.paths)?;
    let mut out = crate::cli::output::stdout()?;
    let (config, options) = args.analysis.resolve()?;
    let verifier = match args.online.resolve()? {
        Some(verify_options) => Some(crate::verify::Verifier::new(verify_options)?),
        None => None,
    };
    let style = Style {
        colour: use_colour(args.color),
    };
    let mut totals = Totals::default();
    let mut json_reports = Vec::new();

    for item in read_paths(&args.paths, &options) {
        let outcome = item
            .map_err(|e| (e.path.clone(), e.index, e.to_string()))
            .and_then(|input| {
                let mut report = analyze(&input, &config)
                    .map_err(|e| (input.source.path.clone(), input.source.index, e.to_string()))?;
                if let Some(verifier) = &verifier {
                    crate::verify::attach(verifier, &input.bytes, &mut report);
                }
                Ok(report)
            });
        match outcome {
            Ok(report) => {
                totals.messages += 1;
                if args
                    .fail_on
                    .is_some_and(|level| level.reached_by(report.spoof.verdict))
                {
                    totals.failed_on += 1;
                }
                emit_report(
                    &mut out,
                    args.format,
                    style,
                    &report,
                    &mut json_reports,
                    totals.messages,
                )?;
            }
            Err((path, index, reason)) => {
                totals.errors += 1;
                let escaped_reason = crate::report::escape::escape_terminal(&reason);
                let escaped_path = crate::report::escape::escape_terminal(&path);
                tracing::debug!(path = %escaped_path, ?index, reason = %escaped_reason, "message could not be read");
                eprintln!("mailtrace: {escaped_reason}");
                if args.format == OutputFormat::Jsonl {
                    let record = ErrorRecord {
                        record: "error",
                        path: &path,
                        index,
                        reason: &reason,
                    };
                    writeln!(out, "{}", serde_json::to_string(&record)?)?;
                }
            }
        }
    }

    match args.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&json_reports)?)?,
        OutputFormat::Jsonl => {
            let summary = json!({
                "record": "summary",
                "messages": totals.messages,
                "errors": totals.errors,
                "fail_on_reached": totals.failed_on,
            });
            writeln!(out, "{summary}")?;
        }
        _ => {}
    }
    out.flush()?;
    if let Some(verifier) = &verifier {
        verifier.finish()?;
    }

    Ok(if totals.messages == 0 {
        ExitCode::Error
    } else if totals.failed_on > 0 {
        ExitCode::FailOn
    } else {
        ExitCode::Done
    })
}

fn emit_report(
    out: &mut impl Write,
    format: OutputFormat,
    style: Style,
    report: &Report,
    json_reports: &mut Vec<serde_json::Value>,
    count: usize,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Text => {
            if count > 1 {
                writeln!(out, "\n{}", "=".repeat(78))?;
            }
            write!(out, "{}", render(report, style))
        }
        OutputFormat::Json => {
            json_reports.push(report_value(report));
            Ok(())
        }
        OutputFormat::Jsonl => writeln!(out, "{}", message_line(report)),
    }
}
