//! Progress line of a scan on stderr: messages and errors done, rate, elapsed time, and when
//! the amount of input is known, the share of bytes done and an estimated time left.
//!
//! The total is known when every path given is a regular file (a single mbox, or a list
//! of message files): their sizes are summed before the scan. A folder or standard input
//! has no total, because walking a folder twice would cost a second pass over it.
//! Bytes done are estimated from the outcomes: a message read from an mbox has reached its
//! offset in the file, and any other message or error of a file completes that file. As
//! workers finish out of order, the estimate can lag by the messages in flight.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Minimum time between two redraws.
const REDRAW_INTERVAL: Duration = Duration::from_millis(200);

/// Size and bytes done of one input file.
struct FileProgress {
    size: u64,
    done: u64,
}

/// State of the progress line.
pub struct ProgressLine {
    started: Instant,
    last_draw: Option<Instant>,
    /// Input files by path label, when every path given is a regular file.
    files: Option<HashMap<String, FileProgress>>,
    total_bytes: u64,
    done_bytes: u64,
    /// Length of the last line drawn, to blank it out.
    drawn_length: usize,
}

impl ProgressLine {
    /// Starts the clock and, when every path is a regular file, sums their sizes.
    pub fn new(paths: &[PathBuf]) -> ProgressLine {
        let mut files = HashMap::new();
        let mut all_files = !paths.is_empty();
        for path in paths {
            match std::fs::metadata(path) {
                Ok(metadata) if metadata.is_file() && path.as_os_str() != "-" => {
                    let progress = FileProgress {
                        size: metadata.len(),
                        done: 0,
                    };
                    files.insert(path.display().to_string(), progress);
                }
                _ => all_files = false,
            }
        }
        let total_bytes = files.values().map(|f| f.size).sum();
        ProgressLine {
            started: Instant::now(),
            last_draw: None,
            files: all_files.then_some(files),
            total_bytes,
            done_bytes: 0,
            drawn_length: 0,
        }
    }

    /// Records an outcome of the input `path`: a message at mbox byte `offset`, or, with
    /// no offset, a message or error that completes the file.
    pub fn record(&mut self, path: &str, offset: Option<u64>) {
        let Some(file) = self.files.as_mut().and_then(|files| files.get_mut(path)) else {
            return;
        };
        let reached = offset.unwrap_or(file.size).min(file.size);
        if reached > file.done {
            self.done_bytes += reached - file.done;
            file.done = reached;
        }
    }

    /// Redraws the line when the last redraw is old enough.
    pub fn tick(&mut self, messages: usize, errors: usize) {
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|last| now.duration_since(last) < REDRAW_INTERVAL)
        {
            return;
        }
        self.last_draw = Some(now);
        let text = self.text(messages, errors, now.duration_since(self.started));
        self.draw(&text);
    }

    /// Blanks the line, so that other text written to stderr starts at column 0.
    pub fn clear(&mut self) {
        if self.drawn_length > 0 {
            eprint!("\r{}\r", " ".repeat(self.drawn_length));
            self.drawn_length = 0;
            // The next tick redraws at once, so the line does not vanish for long.
            self.last_draw = None;
        }
    }

    /// Draws the final state and ends the line.
    pub fn finish(&mut self, messages: usize, errors: usize) {
        if self.files.is_some() {
            self.done_bytes = self.total_bytes;
        }
        let text = self.text(messages, errors, self.started.elapsed());
        self.draw(&text);
        eprintln!();
        self.drawn_length = 0;
    }

    fn draw(&mut self, text: &str) {
        let padding = self.drawn_length.saturating_sub(text.len());
        let mut stderr = std::io::stderr().lock();
        // Progress is a convenience: a failed write to stderr must not stop the scan.
        let _ = write!(stderr, "\r{text}{}", " ".repeat(padding));
        let _ = stderr.flush();
        self.drawn_length = text.len();
    }

    /// Formats the line for `messages` and `errors` after `elapsed`.
    fn text(&self, messages: usize, errors: usize, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64().max(0.001);
        let done = messages + errors;
        let mut text = format!(
            "{messages} messages, {errors} errors, {:.0}/s, {} elapsed",
            done as f64 / seconds,
            clock(seconds)
        );
        if self.files.is_some() && self.total_bytes > 0 {
            let share = self.done_bytes as f64 / self.total_bytes as f64;
            text.push_str(&format!(
                ", {:.0}% of {}",
                share * 100.0,
                mebibytes(self.total_bytes)
            ));
            if self.done_bytes > 0 && self.done_bytes < self.total_bytes {
                let left = seconds * (1.0 - share) / share;
                text.push_str(&format!(", about {} left", clock(left)));
            }
        }
        text
    }
}

/// Formats seconds as `m:ss`, or `h:mm:ss` from one hour.
fn clock(seconds: f64) -> String {
    let whole = seconds.max(0.0).round() as u64;
    let (hours, minutes, seconds) = (whole / 3600, whole / 60 % 60, whole % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_for(files: &[(&str, u64)]) -> ProgressLine {
        let map = files
            .iter()
            .map(|(path, size)| {
                (
                    path.to_string(),
                    FileProgress {
                        size: *size,
                        done: 0,
                    },
                )
            })
            .collect();
        ProgressLine {
            started: Instant::now(),
            last_draw: None,
            files: Some(map),
            total_bytes: files.iter().map(|(_, size)| size).sum(),
            done_bytes: 0,
            drawn_length: 0,
        }
    }

    #[test]
    fn mbox_offsets_advance_bytes_done() {
        let mut line = line_for(&[("box.mbox", 1000)]);
        line.record("box.mbox", Some(400));
        line.record("box.mbox", Some(250));
        assert_eq!(line.done_bytes, 400);
        line.record("box.mbox", Some(5000));
        assert_eq!(line.done_bytes, 1000);
    }

    #[test]
    fn message_without_offset_completes_file() {
        let mut line = line_for(&[("a.eml", 100), ("b.eml", 300)]);
        line.record("b.eml", None);
        line.record("unknown.eml", None);
        assert_eq!(line.done_bytes, 300);
    }

    #[test]
    fn text_has_share_and_time_left() {
        let mut line = line_for(&[("box.mbox", 1000)]);
        line.record("box.mbox", Some(250));
        let text = line.text(10, 1, Duration::from_secs(30));
        assert!(
            text.starts_with("10 messages, 1 errors, 0/s, 0:30 elapsed"),
            "{text}"
        );
        assert!(text.contains(", 25% of "), "{text}");
        assert!(text.ends_with(", about 1:30 left"), "{text}");
    }

    #[test]
    fn text_without_total_has_no_estimate() {
        let mut line = line_for(&[]);
        line.files = None;
        let text = line.text(5, 0, Duration::from_secs(3700));
        assert_eq!(text, "5 messages, 0 errors, 0/s, 1:01:40 elapsed");
    }
}
