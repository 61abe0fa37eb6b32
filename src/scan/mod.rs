//! Bulk scan engine: reads inputs as a stream, analyses messages on all cores, and hands
//! each outcome to one sink in the calling thread. Memory stays bounded: inputs are pulled
//! lazily, and at most a few outcomes per worker wait in a bounded channel. Each worker
//! reduces its report to what the sink needs (a rendered line and a summary digest), so
//! full reports are dropped in the worker.
//!
//! A panic while analysing one message, or inside the caller's `reduce`, is caught and
//! becomes an error outcome with the message's location; the scan goes on. A panic while
//! reading the inputs is also caught, but the reader's state is then unknown, so the scan
//! reports it and reads no further input.

pub mod progress;
pub mod summary;

use crate::analysis::{Report, analyze, source_label};
use crate::config::AnalysisConfig;
use crate::input::{InputMessage, InputOptions, InputResult, read_paths};
use crate::verify::Verifier;
use rayon::prelude::*;
use std::any::Any;
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
    /// 0-based position of the message in an mbox.
    pub index: Option<usize>,
    pub reason: String,
    /// Whether the analysis panicked (a bug in mailtrace, not bad input).
    pub panicked: bool,
}

/// Outcomes that may wait for the sink, per worker thread.
const QUEUED_PER_THREAD: usize = 16;

/// Outcomes a worker collects before handing them to the sink together: one hand-over per
/// message cost a thread wake-up each, about a tenth of a scan's time. With `--online`, where
/// a message can take seconds, each outcome goes out at once so progress stays current.
const BATCH: usize = 8;

/// A worker's outcomes on their way to the sink, sent in batches. What is left is sent when
/// the worker drops it at the end of its share of the inputs.
struct Batches<T> {
    sender: mpsc::SyncSender<Vec<Outcome<T>>>,
    pending: Vec<Outcome<T>>,
    size: usize,
}

impl<T> Batches<T> {
    fn push(&mut self, outcome: Outcome<T>) {
        self.pending.push(outcome);
        if self.pending.len() >= self.size {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(self.size));
            // The receiver only goes away when the sink panicked. The scan then ends with
            // that panic, so the outcomes have nowhere to go.
            let _ = self.sender.send(batch);
        }
    }
}

impl<T> Clone for Batches<T> {
    fn clone(&self) -> Self {
        Batches {
            sender: self.sender.clone(),
            pending: Vec::with_capacity(self.size),
            size: self.size,
        }
    }
}

impl<T> Drop for Batches<T> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Scans `paths` on `threads` worker threads (0 = all cores). With a `verifier` (`--online`),
/// each report also gets the results of verifying its message now, before `reduce`.
///
/// `reduce` runs in the workers and turns each report into the value the sink needs, so
/// full reports never queue up. `sink` runs in the calling thread for each outcome, in
/// completion order.
pub fn scan<T, R, S>(
    paths: &[PathBuf],
    input_options: &InputOptions,
    config: &AnalysisConfig,
    verifier: Option<&Verifier>,
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
    let size = if verifier.is_some() { 1 } else { BATCH };
    let capacity = QUEUED_PER_THREAD.div_ceil(size) * pool.current_num_threads();
    let (sender, receiver) = mpsc::sync_channel::<Vec<Outcome<T>>>(capacity);
    let batches = Batches {
        sender,
        pending: Vec::with_capacity(size),
        size,
    };
    let inputs = GuardedInputs {
        inputs: read_paths(paths, input_options),
        stopped: false,
    };

    std::thread::scope(|scope| {
        scope.spawn(move || {
            pool.install(|| {
                inputs.par_bridge().for_each_with(batches, |batches, item| {
                    batches.push(match item {
                        Ok(input) => analyse_one(&input, config, verifier, &reduce),
                        Err(error) => Outcome::Error(error),
                    });
                });
            });
        });
        for outcome in receiver.into_iter().flatten() {
            sink(outcome);
        }
    });
    Ok(())
}

/// The input stream with panics caught: a panic in the reader ends the stream with one
/// error, because the reader's state after it is unknown.
struct GuardedInputs<I> {
    inputs: I,
    stopped: bool,
}

impl<I: Iterator<Item = InputResult>> Iterator for GuardedInputs<I> {
    type Item = Result<InputMessage, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.stopped {
            return None;
        }
        match catch_unwind(AssertUnwindSafe(|| self.inputs.next())) {
            Ok(item) => item.map(|result| {
                result.map_err(|error| ScanError {
                    path: error.path.clone(),
                    index: error.index,
                    reason: error.to_string(),
                    panicked: false,
                })
            }),
            Err(panic) => {
                self.stopped = true;
                let message = panic_message(panic.as_ref());
                tracing::error!(%message, "reading the inputs panicked");
                Some(Err(ScanError {
                    path: "<input>".into(),
                    index: None,
                    reason: format!(
                        "internal error while reading the inputs ({message}); the inputs after this point were not read. Please report it with the input."
                    ),
                    panicked: true,
                }))
            }
        }
    }
}

/// Analyses one message and reduces its report, catching panics in both steps.
fn analyse_one<T, R>(
    input: &InputMessage,
    config: &AnalysisConfig,
    verifier: Option<&Verifier>,
    reduce: &R,
) -> Outcome<T>
where
    R: Fn(&Report) -> T,
{
    let result = catch_unwind(AssertUnwindSafe(|| {
        analyze(input, config).map(|mut report| {
            if let Some(verifier) = verifier {
                crate::verify::attach(verifier, &input.bytes, &mut report);
            }
            reduce(&report)
        })
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
            let label = source_label(&input.source);
            let message = panic_message(panic.as_ref());
            tracing::error!(source = %label, %message, "analysis panicked");
            error(
                format!(
                    "{label}: internal error while analysing this message ({message}); the scan went on. Please report it with the message."
                ),
                true,
            )
        }
    }
}

/// Returns the text of a panic payload.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
