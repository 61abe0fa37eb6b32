//! Bulk scan engine: reads inputs as a stream, analyses messages on all cores, and hands
//! each outcome to one sink in the calling thread. Memory stays bounded because inputs
//! are pulled lazily and every outcome is reduced to a rendered line and a summary entry.
//!
//! A panic while analysing one message is caught and becomes an error outcome with the
//! message's location; the scan goes on.

pub mod summary;

use crate::analysis::{Report, analyze, source_label};
use crate::config::AnalysisConfig;
use crate::input::{InputOptions, read_paths};
use rayon::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc;

/// The result of one message in a scan.
pub enum Outcome<T> {
    /// The message was analysed; `T` is what the caller's `reduce` made of the report.
    Message(T),
    /// The message or file could not be read or analysed.
    Error(ScanError),
}

/// A message or file that produced no report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScanError {
    pub path: String,
    pub index: Option<usize>,
    pub reason: String,
    /// Whether the analysis panicked (a bug in mailtrace, not bad input).
    pub panicked: bool,
}

/// Scans `paths` on `threads` worker threads (0 = all cores). `reduce` runs in the
/// workers and turns each report into the value the sink needs, so full reports never
/// queue up; `sink` runs in the calling thread for each outcome, in completion order.
pub fn scan<T, R, S>(
    paths: &[PathBuf],
    input_options: &InputOptions,
    config: &AnalysisConfig,
    threads: usize,
    reduce: R,
    mut sink: S,
) -> Result<(), rayon::ThreadPoolBuildError>
where
    T: Send,
    R: Fn(&Report) -> T + Sync + Send,
    S: FnMut(Outcome<T>),
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    // A bounded channel keeps finished outcomes from piling up when the sink is slow.
    let (sender, receiver) = mpsc::sync_channel::<Outcome<T>>(1024);
    let inputs = read_paths(paths, input_options);

    std::thread::scope(|scope| {
        scope.spawn(move || {
            pool.install(|| {
                inputs.par_bridge().for_each_with(sender, |sender, item| {
                    let outcome = match item {
                        Ok(input) => analyse_one(&input, config, &reduce),
                        Err(error) => Outcome::Error(ScanError {
                            path: error.path.clone(),
                            index: error.index,
                            reason: error.to_string(),
                            panicked: false,
                        }),
                    };
                    let _ = sender.send(outcome);
                });
            });
        });
        for outcome in receiver {
            sink(outcome);
        }
    });
    Ok(())
}

fn analyse_one<T, R>(
    input: &crate::input::InputMessage,
    config: &AnalysisConfig,
    reduce: &R,
) -> Outcome<T>
where
    R: Fn(&Report) -> T,
{
    let result = catch_unwind(AssertUnwindSafe(|| {
        analyze(input, config).map(|report| reduce(&report))
    }));
    let error = |reason: String, panicked: bool| {
        Outcome::Error(ScanError {
            path: input.source.path.clone(),
            index: input.source.index,
            reason,
            panicked,
        })
    };
    match result {
        Ok(Ok(value)) => Outcome::Message(value),
        Ok(Err(analysis_error)) => error(analysis_error.to_string(), false),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(source = %source_label(&input.source), %message, "analysis panicked");
            error(
                format!(
                    "{}: internal error while analysing this message ({message}); the scan went on. Please report it with the message.",
                    source_label(&input.source)
                ),
                true,
            )
        }
    }
}
