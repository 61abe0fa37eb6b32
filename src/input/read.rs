//! Reading inputs: opens files and standard input, detects each one's form and turns it
//! into messages, lazily, one input at a time.

use super::maildir::{is_maildir_message, maildir_flags};
use super::mbox::{EndProbe, MboxReader};
use super::msg::{MAX_STREAM_BYTES, read_msg};
use super::sniff::{Kind, SNIFF_BYTES, sniff};
use super::walk::{WalkEntry, Walker};
use super::wrapper::{Candidate, expand, outlook_candidate, plain_format, rfc822_candidate};
use super::{Format, InputError, InputOptions, InputResult, STDIN_LABEL, Source};
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

type Messages = Box<dyn Iterator<Item = InputResult> + Send>;

/// Read buffer of an mbox stream. Larger than the default 8 KiB so that reading a
/// gigabyte takes fewer system calls, and bodies are appended in bigger runs.
const MBOX_BUFFER_BYTES: usize = 256 * 1024;

/// Lazy reader of a list of paths: files, folders and `-` for standard input.
pub struct PathsReader {
    paths: std::vec::IntoIter<PathBuf>,
    walker: Option<Walker>,
    current: Option<Messages>,
    options: InputOptions,
}

impl PathsReader {
    /// Creates a reader of `paths`.
    pub fn new(paths: Vec<PathBuf>, options: InputOptions) -> PathsReader {
        PathsReader {
            paths: paths.into_iter(),
            walker: None,
            current: None,
            options,
        }
    }

    /// Opens the next input, or returns the error that stands for it.
    fn open_next(&mut self) -> Option<Option<InputResult>> {
        if let Some(walker) = &mut self.walker {
            match walker.next() {
                Some(WalkEntry::File(path)) => self.current = Some(read_file(&path, &self.options)),
                Some(WalkEntry::Error(path, reason)) => {
                    return Some(Some(Err(InputError::new(label(&path), None, reason))));
                }
                None => self.walker = None,
            }
            return Some(None);
        }
        let path = self.paths.next()?;
        if path.as_os_str() == "-" {
            self.current = Some(read_stdin(&self.options));
            return Some(None);
        }
        match std::fs::metadata(&path) {
            Ok(metadata) if metadata.is_dir() => self.walker = Some(Walker::new(&path)),
            Ok(metadata) if metadata.is_file() => {
                self.current = Some(read_file(&path, &self.options));
            }
            // Opening a named pipe blocks until a writer appears, so only regular files
            // are opened; `-` reads standard input.
            Ok(_) => {
                let reason = "not a regular file (a device, socket or pipe); not read. Use - to read standard input".to_string();
                return Some(Some(Err(InputError::new(label(&path), None, reason))));
            }
            Err(error) => return Some(Some(Err(open_error(&path, &error)))),
        }
        Some(None)
    }
}

impl Iterator for PathsReader {
    type Item = InputResult;

    fn next(&mut self) -> Option<InputResult> {
        loop {
            if let Some(current) = &mut self.current {
                if let Some(result) = current.next() {
                    return Some(result);
                }
                self.current = None;
            }
            if let Some(result) = self.open_next()? {
                return Some(result);
            }
        }
    }
}

/// Reads one file: its form is detected from its first bytes.
fn read_file(path: &Path, options: &InputOptions) -> Messages {
    let label = label(path);
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) => return single(Err(open_error(path, &error))),
    };
    let size = file.metadata().map_or(0, |m| m.len());
    let mut prefix =
        Vec::with_capacity(usize::try_from(size).map_or(SNIFF_BYTES, |size| size.min(SNIFF_BYTES)));
    if let Err(error) = (&mut file)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)
    {
        return single(Err(open_error(path, &error)));
    }
    let (format, flags) = if is_maildir_message(path) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        (Format::Maildir, name.as_deref().and_then(maildir_flags))
    } else {
        (Format::Eml, None)
    };
    let source = plain_source(label.clone(), format, flags);

    match sniff(&prefix) {
        Err(reason) => single(Err(InputError::new(label, None, reason))),
        Ok(Kind::Msg) => match file.seek(SeekFrom::Start(0)) {
            Ok(_) => single_expanded(read_outlook(&label, file, options), options),
            Err(error) => single(Err(open_error(path, &error))),
        },
        Ok(Kind::Mbox) => {
            // A second handle lets the reader check Content-Length values ahead of the stream.
            let probe = File::open(path).ok().map(EndProbe::new);
            read_mbox(label, Cursor::new(prefix).chain(file), probe, options)
        }
        Ok(Kind::Eml) => single_expanded(read_rfc822(source, prefix, file, size, options), options),
    }
}

/// Reads standard input, whose form is detected like a file's.
fn read_stdin(options: &InputOptions) -> Messages {
    let mut stdin = std::io::stdin();
    let mut prefix = Vec::new();
    if let Err(error) = (&mut stdin)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)
    {
        return single(Err(stdin_error(&error)));
    }
    let source = plain_source(STDIN_LABEL.to_string(), Format::Stdin, None);
    match sniff(&prefix) {
        Err(reason) => single(Err(InputError::new(STDIN_LABEL, None, reason))),
        Ok(Kind::Msg) => {
            let bytes = read_bounded(prefix, stdin, 0, MAX_STREAM_BYTES as usize)
                .map_err(|error| stdin_error(&error));
            let result = bytes.and_then(|bytes| match bytes {
                Bounded::Whole(bytes) => read_outlook(STDIN_LABEL, Cursor::new(bytes), options),
                Bounded::Cut(_) => Err(InputError::new(STDIN_LABEL, None, too_big_msg())),
            });
            single_expanded(result, options)
        }
        Ok(Kind::Mbox) => read_mbox(
            STDIN_LABEL.to_string(),
            Cursor::new(prefix).chain(stdin),
            None,
            options,
        ),
        Ok(Kind::Eml) => single_expanded(read_rfc822(source, prefix, stdin, 0, options), options),
    }
}

/// Reads one in-memory input.
pub fn read_in_memory(
    path_label: &str,
    bytes: Vec<u8>,
    format_hint: Option<Format>,
    options: &InputOptions,
) -> Vec<InputResult> {
    let format = plain_format(format_hint);
    let flags = match format {
        Format::Maildir => Path::new(path_label)
            .file_name()
            .and_then(|n| maildir_flags(&n.to_string_lossy())),
        _ => None,
    };
    let prefix = bytes
        .get(..SNIFF_BYTES.min(bytes.len()))
        .unwrap_or_default();
    match sniff(prefix) {
        Err(reason) => vec![Err(InputError::new(path_label, None, reason))],
        Ok(Kind::Msg) if bytes.len() as u64 > MAX_STREAM_BYTES => {
            vec![Err(InputError::new(path_label, None, too_big_msg()))]
        }
        Ok(Kind::Msg) => single_expanded(
            read_outlook(path_label, Cursor::new(bytes), options),
            options,
        )
        .collect(),
        Ok(Kind::Mbox) => {
            read_mbox(path_label.to_string(), Cursor::new(bytes), None, options).collect()
        }
        Ok(Kind::Eml) => {
            let source = plain_source(path_label.to_string(), format, flags);
            expand(
                rfc822_candidate(source, bytes, options.max_message_bytes),
                options,
            )
        }
    }
}

/// Reads an Outlook item from a seekable reader.
fn read_outlook<F: Read + Seek>(
    label: &str,
    inner: F,
    options: &InputOptions,
) -> Result<Candidate, InputError> {
    let item = read_msg(inner, options.max_msg_stream_bytes)
        .map_err(|reason| InputError::new(label, None, reason))?;
    let source = plain_source(label.to_string(), Format::Msg, None);
    Ok(outlook_candidate(source, item))
}

/// Reads an RFC 822 message, keeping at most `max_message_bytes` of it.
/// `start` is the part read already for sniffing, `reader` the rest.
fn read_rfc822<R: Read>(
    source: Source,
    start: Vec<u8>,
    reader: R,
    expected_len: u64,
    options: &InputOptions,
) -> Result<Candidate, InputError> {
    let path = source.path.clone();
    let bytes = read_bounded(start, reader, expected_len, options.max_message_bytes)
        .map_err(|error| InputError::new(path, None, format!("reading failed ({error})")))?;
    let bytes = match bytes {
        Bounded::Whole(bytes) | Bounded::Cut(bytes) => bytes,
    };
    Ok(rfc822_candidate(source, bytes, options.max_message_bytes))
}

fn read_mbox<R: Read + Send + 'static>(
    label: String,
    reader: R,
    probe: Option<EndProbe>,
    options: &InputOptions,
) -> Messages {
    let options = options.clone();
    let mut reader = MboxReader::new(
        BufReader::with_capacity(MBOX_BUFFER_BYTES, reader),
        label,
        options.max_message_bytes,
    );
    if let Some(probe) = probe {
        reader = reader.with_end_probe(probe);
    }
    Box::new(reader.flat_map(move |result| match result {
        Ok(message) => expand(
            Candidate {
                message,
                outlook_attachments: Vec::new(),
            },
            &options,
        ),
        Err(error) => vec![Err(error)],
    }))
}

/// Bytes read up to a limit: all of them, or the first `limit + 1` when there were more.
enum Bounded {
    Whole(Vec<u8>),
    Cut(Vec<u8>),
}

/// Reads an input whose first bytes, `start`, were read already, keeping at most `limit`
/// bytes and one more to tell that it was cut. `expected_len` is the input's whole size as
/// its file reports it, or 0 when unknown, so that the buffer is allocated once instead of
/// growing and copying while the input is read.
fn read_bounded<R: Read>(
    start: Vec<u8>,
    reader: R,
    expected_len: u64,
    limit: usize,
) -> std::io::Result<Bounded> {
    let mut bytes = start;
    if bytes.len() <= limit {
        // One byte more than the expected length lets `read_to_end` see the end without
        // growing.
        let capacity = usize::try_from(expected_len).map_or(limit, |len| len.min(limit)) + 1;
        bytes.reserve_exact(capacity.saturating_sub(bytes.len()));
        let room = limit + 1 - bytes.len();
        reader.take(room as u64).read_to_end(&mut bytes)?;
    } else {
        bytes.truncate(limit + 1);
    }
    Ok(if bytes.len() > limit {
        Bounded::Cut(bytes)
    } else {
        Bounded::Whole(bytes)
    })
}

fn single_expanded(result: Result<Candidate, InputError>, options: &InputOptions) -> Messages {
    match result {
        Ok(candidate) => Box::new(expand(candidate, options).into_iter()),
        Err(error) => single(Err(error)),
    }
}

fn single(result: InputResult) -> Messages {
    Box::new(std::iter::once(result))
}

fn plain_source(path: String, format: Format, maildir_flags: Option<String>) -> Source {
    Source {
        path,
        format,
        index: None,
        offset: None,
        attachment: None,
        maildir_flags,
    }
}

/// Returns the path as reports name it. Bytes of a file name that are not UTF-8 are
/// written as `\xNN`, so that the name can still be found, where a lossy conversion would
/// replace them all with U+FFFD.
fn label(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::new();
        for chunk in path.as_os_str().as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for byte in chunk.invalid() {
                out.push_str(&format!("\\x{byte:02X}"));
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        path.display().to_string()
    }
}

fn open_error(path: &Path, error: &std::io::Error) -> InputError {
    InputError::new(
        label(path),
        None,
        format!("cannot read the file ({error}); check that it exists and is readable"),
    )
}

fn stdin_error(error: &std::io::Error) -> InputError {
    InputError::new(
        STDIN_LABEL,
        None,
        format!("reading standard input failed ({error})"),
    )
}

fn too_big_msg() -> String {
    format!(
        "the Outlook item is larger than {MAX_STREAM_BYTES} bytes, the limit for a .msg read into memory; save it as a file and read the file"
    )
}
