//! `mailtrace scan`: the same analysis as `inspect` over whole folders, mbox files and
//! Maildirs, in parallel, with one line per message and a campaign summary.

use crate::analysis::Report;
use crate::analysis::score::Verdict;
use crate::cli::output::{self, Labelled};
use crate::cli::{AnalysisArgs, ExitCode, FailOn, OnlineArgs};
use crate::input::AttachmentInfo;
use crate::report::escape::escape_terminal;
use crate::report::json::message_line;
use crate::scan::progress::ProgressLine;
use crate::scan::summary::{Digest, Summary};
use crate::scan::{Outcome, ScanError, scan};
use clap::{Args, ValueEnum};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Output format of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// One line per message, then the campaign summary.
    Table,
    /// The same report records as `inspect --format jsonl`, error records and a summary record.
    Jsonl,
    /// One CSV row per message with a header row.
    Csv,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Folders, mbox files, Maildirs or message files; `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ScanFormat,
    /// Write the output to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Sort records by location, so that the output is the same for every run and thread
    /// count. Every output line is kept in memory until the end.
    #[arg(long)]
    pub sort: bool,
    /// Only output messages whose spoof score is at least N (0-100).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub min_score: Option<u32>,
    /// Only output messages with these verdicts (repeatable).
    #[arg(long, value_enum)]
    pub verdict: Vec<FailOn>,
    /// Exit with code 1 when a message's spoof verdict reaches this level.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// Worker threads; 0 uses every core.
    #[arg(long, default_value_t = 0, value_parser = parse_threads)]
    pub threads: usize,
    /// Show a progress line on stderr: auto shows it only when stderr is a terminal.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: Progress,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub online: OnlineArgs,
}

/// When to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    Auto,
    Always,
    Never,
}

/// One analysed message as the scan keeps it: its rendered line, sort key and digest.
struct Row {
    key: SortKey,
    line: String,
    digest: Digest,
    shown: bool,
    /// Byte offset of the message in an mbox, for the progress line.
    offset: Option<u64>,
}

/// Most worker threads `--threads` accepts; each thread reserves its own stack.
const MAX_THREADS: usize = 1024;

fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(threads) if threads <= MAX_THREADS => Ok(threads),
        _ => Err(format!(
            "expected a number of threads from 0 (every core) to {MAX_THREADS}"
        )),
    }
}

/// Rejects an output file that is one of the inputs or lies inside an input folder: the
/// output would overwrite a message, or be read back as one.
fn check_output_path(output: &Path, inputs: &[PathBuf]) -> Result<(), String> {
    let output_absolute = absolute_path(output);
    for input in inputs.iter().filter(|p| p.as_os_str() != "-") {
        let Ok(input_absolute) = std::fs::canonicalize(input) else {
            continue;
        };
        if output_absolute.starts_with(&input_absolute) {
            let relation = if output_absolute == input_absolute {
                "is the input"
            } else {
                "is inside the input folder"
            };
            return Err(format!(
                "output file {} {relation} {}; write the output outside the inputs",
                output.display(),
                input.display()
            ));
        }
    }
    check_not_hard_linked(output)
}

/// Rejects an existing output file that has other hard links. Truncating it would change
/// the file behind every other name, and one of them may be an input: paths alone cannot
/// tell, because a hard link resolves to itself.
#[cfg(unix)]
fn check_not_hard_linked(output: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(output) {
        Ok(metadata) if metadata.is_file() && metadata.nlink() > 1 => Err(format!(
            "output file {} has {} hard links, so writing it would also change the file behind the other names, which may be an input; remove it or choose another output name",
            output.display(),
            metadata.nlink()
        )),
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
fn check_not_hard_linked(_output: &Path) -> Result<(), String> {
    Ok(())
}

/// Returns `path` made absolute with symbolic links resolved, resolving the parent folder
/// when the file does not exist yet.
fn absolute_path(path: &Path) -> PathBuf {
    if let Ok(resolved) = std::fs::canonicalize(path) {
        return resolved;
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let resolved_parent = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
    match path.file_name() {
        Some(name) => resolved_parent.join(name),
        None => resolved_parent,
    }
}

/// Destination of the scan output.
enum Destination<'a> {
    Stdout(Labelled<std::io::StdoutLock<'static>>),
    File(&'a Path),
}

/// Sort key of an output line: path, message index in an mbox, attachment numbers.
type SortKey = (String, usize, Vec<usize>);

/// Runs `scan`.
pub fn run(args: &ScanArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let destination = match &args.output {
        Some(path) => Destination::File(path),
        None => Destination::Stdout(output::stdout()?),
    };
    let (config, options) = args.analysis.resolve()?;
    let verifier = match args.online.resolve()? {
        Some(verify_options) => Some(crate::verify::Verifier::new(verify_options)?),
        None => None,
    };
    crate::cli::check_stdin_once(&args.paths)?;
    if let Some(output) = &args.output {
        check_output_path(output, &args.paths)?;
    }
    let (mut out, terminal): (Box<dyn Write>, bool) = match destination {
        Destination::File(path) => {
            let file = output::create_file(path)?;
            let terminal = file.is_terminal();
            (Box::new(BufWriter::new(file)), terminal)
        }
        Destination::Stdout(stdout) => {
            let terminal = stdout.is_terminal();
            (Box::new(BufWriter::new(stdout)), terminal)
        }
    };
    let show_progress = match args.progress {
        Progress::Always => true,
        Progress::Never => false,
        Progress::Auto => std::io::stderr().is_terminal(),
    };
    if args.format == ScanFormat::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    } else if args.format == ScanFormat::Table && !args.sort {
        // Sorted output writes the header with the rows, padded to the same widths.
        writeln!(out, "{}", join_cells(&table_header(), None))?;
    }

    // Step 1: analyse, writing lines as they come (or keeping them for sorting).
    let mut sink = Sink {
        args,
        out: &mut out,
        summary: Summary::default(),
        sorted: Vec::new(),
        failed_on: 0,
        write_error: None,
        csv_escapes_cells: terminal,
        progress: show_progress.then(|| ProgressLine::new(&args.paths)),
    };
    let format = args.format;
    scan(
        &args.paths,
        &options,
        &config,
        verifier.as_ref(),
        args.threads,
        |report| make_row(report, format, terminal, args),
        |outcome| sink.handle(outcome),
    )?;
    if let Some(error) = sink.write_error {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader of the output went away (`| head`): nothing left to report.
            return Ok(ExitCode::Done);
        }
        return Err(error.into());
    }
    if let Some(verifier) = &verifier {
        verifier.finish()?;
    }
    let Sink {
        summary,
        mut sorted,
        failed_on,
        mut progress,
        ..
    } = sink;
    if let Some(progress) = &mut progress {
        progress.finish(summary.messages, summary.errors);
    }

    // Step 2: sorted lines, then the summary.
    sorted.sort();
    if format == ScanFormat::Table && args.sort {
        let header = table_header();
        let widths = cell_widths(
            std::iter::once(header.as_str()).chain(sorted.iter().map(|(_, line)| line.as_str())),
        );
        writeln!(out, "{}", join_cells(&header, Some(&widths)))?;
        for (_, line) in &sorted {
            writeln!(out, "{}", join_cells(line, Some(&widths)))?;
        }
    } else {
        for (_, line) in &sorted {
            writeln!(out, "{line}")?;
        }
    }
    match format {
        ScanFormat::Jsonl => writeln!(out, "{}", summary.to_json())?,
        ScanFormat::Table => write!(out, "{}", summary.render_text())?,
        ScanFormat::Csv => {}
    }
    out.flush()?;
    if format == ScanFormat::Csv {
        eprint!("{}", summary.render_text());
    }

    Ok(if summary.messages == 0 {
        ExitCode::Error
    } else if failed_on > 0 {
        ExitCode::FailOn
    } else {
        ExitCode::Done
    })
}

/// Receives the outcomes of a scan in the calling thread: counts them, writes or keeps
/// their lines and draws progress.
struct Sink<'a> {
    args: &'a ScanArgs,
    out: &'a mut Box<dyn Write>,
    summary: Summary,
    /// Lines kept for `--sort`, with their keys.
    sorted: Vec<(SortKey, String)>,
    /// Messages whose verdict reached `--fail-on`.
    failed_on: usize,
    /// The first failed write; later lines are dropped and the run fails at the end.
    write_error: Option<std::io::Error>,
    /// The output is a terminal, so CSV cells are escaped as table rows are.
    csv_escapes_cells: bool,
    progress: Option<ProgressLine>,
}

impl Sink<'_> {
    fn handle(&mut self, outcome: Outcome<Row>) {
        let line = match outcome {
            Outcome::Message(row) => self.message(row),
            Outcome::Error(error) => self.error(error),
        };
        if let Some((key, line)) = line {
            self.emit(key, line);
        }
        if let Some(progress) = &mut self.progress {
            progress.tick(self.summary.messages, self.summary.errors);
        }
    }

    fn message(&mut self, row: Row) -> Option<(SortKey, String)> {
        self.summary.add(&row.digest);
        if let Some(progress) = &mut self.progress {
            progress.record(&row.key.0, row.offset);
        }
        if self
            .args
            .fail_on
            .is_some_and(|level| level.reached_by(row.digest.verdict))
        {
            self.failed_on += 1;
        }
        if !row.shown {
            self.summary.filtered_out += 1;
            return None;
        }
        Some((row.key, row.line))
    }

    /// Counts an error and reports it on stderr; JSON Lines and CSV output also get a
    /// record, so a file of results names every input that has none.
    fn error(&mut self, error: ScanError) -> Option<(SortKey, String)> {
        self.summary.add_error(&error);
        if let Some(progress) = &mut self.progress {
            if error.index.is_none() {
                progress.record(&error.path, None);
            }
            progress.clear();
        }
        eprintln!("mailtrace: {}", escape_terminal(&error.reason));
        let line = match self.args.format {
            ScanFormat::Table => return None,
            ScanFormat::Csv => csv_error_row(&error, self.csv_escapes_cells),
            ScanFormat::Jsonl => serde_json::json!({
                "record": "error",
                "path": error.path,
                "index": error.index,
                "reason": error.reason,
                "panicked": error.panicked,
            })
            .to_string(),
        };
        Some(((error.path, error.index.unwrap_or(0), Vec::new()), line))
    }

    fn emit(&mut self, key: SortKey, line: String) {
        if self.args.sort {
            self.sorted.push((key, line));
            return;
        }
        let line = if self.args.format == ScanFormat::Table {
            join_cells(&line, None)
        } else {
            line
        };
        if self.write_error.is_none()
            && let Err(error) = writeln!(self.out, "{line}")
        {
            self.write_error = Some(error);
        }
    }
}

/// Renders one message. With `terminal` set (the output is a terminal), CSV cells are
/// escaped as table rows are.
fn make_row(report: &Report, format: ScanFormat, terminal: bool, args: &ScanArgs) -> Row {
    let digest = Digest::from_report(report);
    let shown = args.min_score.is_none_or(|min| digest.score >= min)
        && (args.verdict.is_empty()
            || args
                .verdict
                .iter()
                .any(|v| verdict_of(*v) == digest.verdict));
    let source = &report.source;
    let key = (
        source.path.clone(),
        source.index.unwrap_or(0),
        source
            .attachment
            .as_ref()
            .map_or_else(Vec::new, |a| a.path.clone()),
    );
    let line = if !shown {
        String::new()
    } else {
        match format {
            ScanFormat::Jsonl => message_line(report),
            ScanFormat::Csv => csv_row(report, &digest, terminal),
            ScanFormat::Table => table_row(report, &digest),
        }
    };
    Row {
        key,
        line,
        digest,
        shown,
        offset: source.offset,
    }
}

fn verdict_of(level: FailOn) -> Verdict {
    match level {
        FailOn::Low => Verdict::Low,
        FailOn::Medium => Verdict::Medium,
        FailOn::High => Verdict::High,
    }
}

fn location(report: &Report) -> String {
    crate::analysis::source_label(&report.source)
}

fn finding_ids(report: &Report) -> Vec<&str> {
    let mut ids: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.severity > crate::finding::Severity::Info)
        .map(|f| f.id.as_str())
        .collect();
    ids.dedup();
    ids
}

/// Width of the table's From domain column.
const FROM_WIDTH: usize = 28;

/// Shortens `text` to `width` characters by dropping its start, so that a long domain keeps
/// the labels that name its owner: `…` and the last `width - 1` characters.
fn keep_end(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    let tail: String = text.chars().skip(count - (width - 1)).collect();
    format!("…{tail}")
}

fn table_row(report: &Report, digest: &Digest) -> String {
    let from = report
        .message
        .from_domain()
        .map_or_else(|| "-".into(), |d| keep_end(&d, FROM_WIDTH));
    let origin = digest.origin_ip.map_or("-".into(), |ip| ip.to_string());
    let matches = if digest.ip_matches.is_empty() {
        "-".into()
    } else {
        digest.ip_matches.join(",")
    };
    let or_dash = |list: Vec<String>| {
        if list.is_empty() {
            "-".to_string()
        } else {
            list.join(",")
        }
    };
    let findings = finding_ids(report)
        .into_iter()
        .map(str::to_string)
        .collect();
    let fixed = format!(
        "{:<7} {:>5}  {:<FROM_WIDTH$} {:<39}",
        digest.verdict.as_str(),
        digest.score,
        from,
        origin,
    );
    [
        fixed,
        matches,
        or_dash(score_reasons(report)),
        or_dash(findings),
        location(report),
    ]
    .map(|cell| escape_terminal(&cell))
    .join(&CELL_BREAK.to_string())
}

/// Separator of the cells of a table row until the row is written. Cells are escaped for
/// the terminal, which turns a tab in header text into `\t`, so no cell contains one.
const CELL_BREAK: char = '\t';

/// Widest cell that sorted table output pads to. A wider cell is written whole and moves
/// the rest of its row to the right.
const MAX_PADDED_WIDTH: usize = 60;

/// Returns the table header in the form of [`table_row`].
fn table_header() -> String {
    let fixed = format!(
        "{:<7} {:>5}  {:<FROM_WIDTH$} {:<39}",
        "verdict", "score", "from-domain", "origin-ip"
    );
    [
        fixed.as_str(),
        "ip-list-matches",
        "score-reasons",
        "findings",
        "location",
    ]
    .join(&CELL_BREAK.to_string())
}

/// Returns, for each cell but the last, the width of its widest instance in `lines`, up to
/// [`MAX_PADDED_WIDTH`].
fn cell_widths<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let mut widths: Vec<usize> = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(CELL_BREAK).collect();
        let padded = cells.len().saturating_sub(1);
        if widths.len() < padded {
            widths.resize(padded, 0);
        }
        for (width, cell) in widths.iter_mut().zip(&cells[..padded]) {
            *width = (*width).max(cell.chars().count().min(MAX_PADDED_WIDTH));
        }
    }
    widths
}

/// Joins the cells of a table row with two spaces, after padding each to its width in
/// `widths` when given. Streamed rows are not padded, because later rows are not known yet.
fn join_cells(line: &str, widths: Option<&[usize]>) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    let cells: Vec<&str> = line.split(CELL_BREAK).collect();
    for (index, cell) in cells.iter().enumerate() {
        if index > 0 {
            // The fixed columns end in padding of their own, so one space follows them.
            out.push_str(if index == 1 { " " } else { "  " });
        }
        out.push_str(cell);
        let is_last = index + 1 == cells.len();
        if let (Some(widths), false) = (widths, is_last) {
            let width = widths.get(index).copied().unwrap_or(0);
            let used = cell.chars().count();
            out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
        }
    }
    out
}

/// Returns the signals behind the spoof score as `id+points`, largest first, so that a
/// table or CSV row shows why a message scored as it did.
fn score_reasons(report: &Report) -> Vec<String> {
    let mut signals: Vec<_> = report.spoof.signals.iter().collect();
    signals.sort_by_key(|signal| std::cmp::Reverse(signal.points));
    signals
        .iter()
        .map(|signal| format!("{}+{}", signal.id, signal.points))
        .collect()
}

const CSV_HEADER: &str = "path,index,attachment,verdict,score,from_address,from_domain,origin_ip,origin_provider,ip_matches,finding_ids,score_reasons,subject,error";

/// Renders the CSV row of an input that could not be read or analysed: verdict `error`
/// and the reason in the last column.
fn csv_error_row(error: &ScanError, escape_cells: bool) -> String {
    let index = error.index.map_or(String::new(), |i| i.to_string());
    let mut fields = vec![error.path.as_str(), index.as_str(), "", "error"];
    fields.extend([""; 9]);
    fields.push(&error.reason);
    csv_line(&fields, escape_cells)
}

/// Renders the CSV row of a message. With `escape_cells`, control characters, escape
/// sequences and invisible characters in cells are shown escaped, for a terminal.
fn csv_row(report: &Report, digest: &Digest, escape_cells: bool) -> String {
    let source = &report.source;
    let fields = [
        source.path.clone(),
        source.index.map_or(String::new(), |i| i.to_string()),
        source
            .attachment
            .as_ref()
            .map_or(String::new(), AttachmentInfo::label),
        digest.verdict.as_str().to_string(),
        digest.score.to_string(),
        report
            .message
            .from_mailbox()
            .map_or(String::new(), |m| m.address.clone()),
        report.message.from_domain().unwrap_or_default(),
        digest.origin_ip.map_or(String::new(), |ip| ip.to_string()),
        // A provider's relay names the provider, not a sender to report.
        digest
            .origin_ip
            .and_then(crate::platform::ranges::provider_range)
            .map_or(String::new(), |range| {
                crate::platform::ranges::provider_name(range.provider).to_string()
            }),
        digest.ip_matches.join(";"),
        finding_ids(report).join(";"),
        score_reasons(report).join(";"),
        report.message.subject.clone().unwrap_or_default(),
        String::new(),
    ];
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    csv_line(&fields, escape_cells)
}

/// Joins quoted cells into one CSV line, escaping each for a terminal with `escape_cells`.
fn csv_line(fields: &[&str], escape_cells: bool) -> String {
    let cell = |field: &&str| {
        if escape_cells {
            csv_field(&escape_terminal(field))
        } else {
            csv_field(field)
        }
    };
    fields.iter().map(cell).collect::<Vec<_>>().join(",")
}

/// Quotes a CSV field (RFC 4180) and defuses spreadsheet formulas: a field that starts
/// with `=`, `+`, `-`, `@`, tab or CR gets a leading apostrophe.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::{
        CELL_BREAK, MAX_PADDED_WIDTH, cell_widths, csv_field, csv_row, join_cells, keep_end,
        table_header, table_row,
    };
    use crate::analysis::test_support::analyse_text;
    use crate::scan::summary::Digest;

    const HOSTILE: &str =
        "From: a@example.com\nSubject: =?UTF-8?Q?x=1B]0;PWNED=07=1B[2J?=\n\nbody\n";

    #[test]
    fn csv_row_escapes_cells_for_terminal() {
        let report = analyse_text(HOSTILE);
        let row = csv_row(&report, &Digest::from_report(&report), true);
        assert!(!row.contains('\u{1b}'), "{row:?}");
        assert!(!row.contains('\u{7}'), "{row:?}");
        assert!(row.ends_with(",x\\e]0;PWNED\\u{0007}\\e[2J,"), "{row:?}");
    }

    #[test]
    fn csv_row_keeps_exact_cells_for_file() {
        let report = analyse_text(HOSTILE);
        let row = csv_row(&report, &Digest::from_report(&report), false);
        assert!(row.ends_with(",x\u{1b}]0;PWNED\u{7}\u{1b}[2J,"), "{row:?}");
    }

    /// An origin in a provider's published ranges names the provider in its own column,
    /// and the score reasons read as in the table.
    #[test]
    fn csv_row_names_provider_and_reasons() {
        let report = analyse_text(
            "Received: from mail-eopbgr1.outbound.protection.outlook.com (mail-eopbgr1.outbound.protection.outlook.com [40.107.22.1]) by mx.example.org with ESMTPS id 1; Mon, 1 Jan 2024 10:00:00 +0000\n\
             From: \"ceo@example.com\" <a@example.net>\nSubject: s\n\nbody\n",
        );
        let row = csv_row(&report, &Digest::from_report(&report), false);
        assert!(row.contains(",40.107.22.1,Microsoft,"), "{row}");
        assert!(row.contains("display-name-address+25"), "{row}");
    }

    #[test]
    fn table_row_clips_long_from_domain() {
        assert_eq!(keep_end("example.com", 28), "example.com");
        let long = "login.microsoftonline.com.secureverify.example.net";
        assert_eq!(keep_end(long, 28), "…om.secureverify.example.net");
        assert_eq!(keep_end(long, 28).chars().count(), 28);

        let short = analyse_text("From: a@example.com\n\nbody\n");
        let long = analyse_text(&format!("From: a@{long}\n\nbody\n"));
        let column = |row: String| row.chars().position(|c| c == '-').unwrap_or(0);
        let rows = [&short, &long].map(|r| table_row(r, &Digest::from_report(r)));
        assert!(
            rows[1].contains("…om.secureverify.example.net "),
            "{rows:?}"
        );
        assert_eq!(column(rows[0].clone()), column(rows[1].clone()), "{rows:?}");
    }

    /// Sorted table output pads each list column to its widest cell, so the columns after
    /// it line up. A cell wider than the cap is written whole.
    #[test]
    fn sorted_table_cells_line_up() {
        let separator = CELL_BREAK.to_string();
        let rows = [
            ["fixed", "a", "bbbb", "c", "loc1"].join(&separator),
            ["fixed", "aaaaa", "b", "cc", "loc2"].join(&separator),
        ];
        let widths = cell_widths(rows.iter().map(String::as_str));
        assert_eq!(widths, [5, 5, 4, 2]);
        assert_eq!(
            join_cells(&rows[0], Some(&widths)),
            "fixed a      bbbb  c   loc1"
        );
        assert_eq!(
            join_cells(&rows[1], Some(&widths)),
            "fixed aaaaa  b     cc  loc2"
        );
        assert_eq!(join_cells(&rows[0], None), "fixed a  bbbb  c  loc1");

        let wide = "x".repeat(MAX_PADDED_WIDTH + 10);
        let rows = [
            ["f", &wide, "y"].join(&separator),
            ["f", "z", "y"].join(&separator),
        ];
        let widths = cell_widths(rows.iter().map(String::as_str));
        assert_eq!(widths, [1, MAX_PADDED_WIDTH]);
        assert_eq!(join_cells(&rows[0], Some(&widths)), format!("f {wide}  y"));
    }

    /// A tab in a file name is escaped, so it cannot split a table row into extra cells.
    #[test]
    fn table_row_cells_survive_tab_in_path() {
        let mut report = analyse_text("From: a@example.com\n\nbody\n");
        report.source.path = "evidence\tfolder/a.eml".into();
        let row = table_row(&report, &Digest::from_report(&report));
        let cells = row.split(CELL_BREAK).count();
        assert_eq!(cells, table_header().split(CELL_BREAK).count(), "{row:?}");
        assert!(row.ends_with("evidence\\tfolder/a.eml"), "{row:?}");
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
