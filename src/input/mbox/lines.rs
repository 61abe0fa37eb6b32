//! Line reading with a bound: a line is kept up to a cap, so a multi-gigabyte input with
//! no line break costs no more memory than the cap.

use std::io::{BufRead, ErrorKind};

/// One line of the stream, with its line ending.
#[derive(Debug)]
pub struct RawLine {
    /// Offset of the line's first byte in the stream.
    pub offset: u64,
    /// The line's bytes, at most the cap; the line ending is included when it fits.
    pub bytes: Vec<u8>,
    /// Length of the whole line in the stream, line ending included.
    pub length: u64,
    /// Whether the line was longer than the cap.
    pub cut: bool,
}

impl RawLine {
    /// Returns the line without its LF or CRLF ending.
    pub fn text(&self) -> &[u8] {
        let text = self.bytes.strip_suffix(b"\n").unwrap_or(&self.bytes);
        text.strip_suffix(b"\r").unwrap_or(text)
    }

    /// Tells whether the line is empty apart from its line ending.
    pub fn is_blank(&self) -> bool {
        !self.cut && self.bytes.ends_with(b"\n") && self.text().is_empty()
    }
}

/// Reads lines from a buffered stream, keeping at most `cap` bytes of each.
pub struct LineReader<R> {
    reader: R,
    cap: usize,
    offset: u64,
    /// A line buffer handed back by [`LineReader::recycle`], reused for the next line.
    spare: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// Creates a reader that keeps at most `cap` bytes of each line.
    pub fn new(reader: R, cap: usize) -> Self {
        LineReader {
            reader,
            cap,
            offset: 0,
            spare: Vec::new(),
        }
    }

    /// Returns the number of bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Takes back the buffer of a line that is no longer needed, so the next line does not
    /// allocate.
    pub fn recycle(&mut self, mut bytes: Vec<u8>) {
        bytes.clear();
        self.spare = bytes;
    }

    /// Reads the next line; `None` at the end of the stream.
    pub fn next_line(&mut self) -> std::io::Result<Option<RawLine>> {
        let mut line = RawLine {
            offset: self.offset,
            bytes: std::mem::take(&mut self.spare),
            length: 0,
            cut: false,
        };
        loop {
            let buffer = match self.reader.fill_buf() {
                Ok(buffer) => buffer,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if buffer.is_empty() {
                break;
            }
            let newline = memchr::memchr(b'\n', buffer);
            let take = newline.map_or(buffer.len(), |i| i + 1);
            let room = self.cap.saturating_sub(line.bytes.len());
            line.bytes.extend_from_slice(&buffer[..take.min(room)]);
            line.cut |= take > room;
            line.length += take as u64;
            self.reader.consume(take);
            if newline.is_some() {
                break;
            }
        }
        self.offset += line.length;
        Ok((line.length > 0).then_some(line))
    }

    /// Appends to `into` the complete lines at the front of the read buffer up to the next
    /// line that starts with `From `, so that the body of a message is copied in runs instead
    /// of line by line. Takes at most `limit` bytes, and only lines that end at or before
    /// stream offset `stop`. Returns the number of bytes taken: 0 when the next line has to
    /// be read with [`LineReader::next_line`] (it starts with `From `, is incomplete in the
    /// buffer, or does not fit).
    pub fn take_plain_lines(
        &mut self,
        into: &mut Vec<u8>,
        limit: usize,
        stop: Option<u64>,
    ) -> std::io::Result<usize> {
        let buffer = loop {
            match self.reader.fill_buf() {
                Ok(buffer) => break buffer,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        };
        if buffer.len() < SEPARATOR.len() || buffer.starts_with(SEPARATOR) {
            return Ok(0);
        }
        let mut window = buffer.len().min(limit);
        if let Some(stop) = stop {
            let before_stop =
                usize::try_from(stop.saturating_sub(self.offset)).unwrap_or(usize::MAX);
            window = window.min(before_stop);
        }
        let window = &buffer[..window];
        let end = match memchr::memmem::find(window, b"\nFrom ") {
            Some(newline) => newline + 1,
            None => memchr::memrchr(b'\n', window).map_or(0, |newline| newline + 1),
        };
        into.extend_from_slice(&window[..end]);
        self.reader.consume(end);
        self.offset += end as u64;
        Ok(end)
    }
}

/// The start of an mbox separator line.
const SEPARATOR: &[u8] = b"From ";

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], cap: usize) -> Vec<RawLine> {
        let mut reader = LineReader::new(std::io::BufReader::with_capacity(4, input), cap);
        std::iter::from_fn(|| reader.next_line().ok().flatten()).collect()
    }

    #[test]
    fn lines_keep_endings_and_offsets() {
        let lines = read_all(b"ab\r\n\nlast", 100);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].bytes, b"ab\r\n");
        assert_eq!(lines[0].text(), b"ab");
        assert_eq!((lines[1].offset, lines[1].is_blank()), (4, true));
        assert_eq!((lines[2].offset, lines[2].length), (5, 4));
        assert!(!lines[2].is_blank());
    }

    #[test]
    fn plain_lines_stop_at_separators() {
        let input = b"one\ntwo\nFrom x\nthree\n";
        let mut reader = LineReader::new(std::io::BufReader::new(&input[..]), 100);
        let mut into = Vec::new();
        assert_eq!(reader.take_plain_lines(&mut into, 100, None).unwrap(), 8);
        assert_eq!(into, b"one\ntwo\n");
        assert_eq!(reader.take_plain_lines(&mut into, 100, None).unwrap(), 0);
        assert_eq!(reader.next_line().unwrap().unwrap().bytes, b"From x\n");
        assert_eq!(reader.offset(), 15);

        let mut reader = LineReader::new(std::io::BufReader::new(&input[..]), 100);
        let mut into = Vec::new();
        assert_eq!(reader.take_plain_lines(&mut into, 6, None).unwrap(), 4);
        assert_eq!(reader.take_plain_lines(&mut into, 100, Some(7)).unwrap(), 0);
        assert_eq!(reader.take_plain_lines(&mut into, 100, Some(8)).unwrap(), 4);
        assert_eq!(into, b"one\ntwo\n");
    }

    #[test]
    fn long_line_is_cut_at_cap() {
        let lines = read_all(b"0123456789\nx\n", 3);
        assert_eq!(lines[0].bytes, b"012");
        assert!(lines[0].cut);
        assert_eq!(lines[0].length, 11);
        assert_eq!(lines[1].offset, 11);
    }
}
