//! Line splitting for the header block: LF ends a line, a CR directly before it is dropped,
//! and any other CR stays in the line (a bare CR is not a line break).

/// One line of input without its line ending.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub text: &'a [u8],
    /// Byte offset of the line's first byte in the input.
    pub offset: usize,
    /// Byte offset just past the line ending.
    pub end: usize,
    /// 1-based line number.
    pub line_number: usize,
    /// Length in bytes without the line ending.
    pub length: usize,
}

/// Lines of a header block, and whether the byte limit cut them short.
pub struct Lines<'a> {
    lines: Vec<Line<'a>>,
    pub truncated: bool,
}

impl<'a> std::ops::Deref for Lines<'a> {
    type Target = Vec<Line<'a>>;
    fn deref(&self) -> &Vec<Line<'a>> {
        &self.lines
    }
}

impl<'a> std::ops::DerefMut for Lines<'a> {
    fn deref_mut(&mut self) -> &mut Vec<Line<'a>> {
        &mut self.lines
    }
}

/// Splits `bytes` into lines up to the end of the header block: the first empty line is
/// included, and splitting continues past it only while header-like lines follow (so that
/// pasted headers with empty lines between them can be read). Stops after `max_bytes`.
pub fn split_lines(bytes: &[u8], max_bytes: usize) -> Lines<'_> {
    let mut lines = Vec::new();
    let mut offset = 0;
    let mut line_number = 1;
    let mut truncated = false;
    let mut empty_run = 0;
    let mut seen_empty = false;
    while offset < bytes.len() {
        if offset >= max_bytes {
            truncated = true;
            break;
        }
        let newline = memchr(b'\n', &bytes[offset..]);
        let end = newline.map_or(bytes.len(), |i| offset + i + 1);
        let mut text = &bytes[offset..newline.map_or(bytes.len(), |i| offset + i)];
        if newline.is_some() && text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        // A line that runs past the limit is cut there, on a UTF-8 character boundary,
        // so that one huge field cannot bring the whole input in.
        if offset + text.len() > max_bytes {
            let limit = max_bytes - offset;
            let mut cut = limit;
            // Back up over the continuation bytes of a character split at the limit.
            while cut > 0 && limit - cut < 3 && (text[cut] & 0xC0) == 0x80 {
                cut -= 1;
            }
            lines.push(Line {
                text: &text[..cut],
                offset,
                end: offset + cut,
                line_number,
                length: cut,
            });
            truncated = true;
            break;
        }
        lines.push(Line {
            text,
            offset,
            end,
            line_number,
            length: text.len(),
        });

        // Past an empty line, lines are read on only while they look like header fields or
        // their continuations (pasted headers, a double-spaced paste), and never past a run
        // of several empty lines.
        if text.is_empty() {
            seen_empty = true;
            empty_run += 1;
            if empty_run > 3 {
                break;
            }
        } else {
            empty_run = 0;
            let continues = matches!(text.first(), Some(b' ') | Some(b'\t'));
            if seen_empty && !looks_like_field(text) && !continues {
                break;
            }
        }
        offset = end;
        line_number += 1;
    }
    Lines { lines, truncated }
}

fn looks_like_field(text: &[u8]) -> bool {
    match text.iter().position(|&b| b == b':') {
        Some(colon) => {
            colon > 0 && text[..colon].iter().all(|&b| (33..=126).contains(&b)) && !is_url(text)
        }
        None => false,
    }
}

/// Tells whether a line starts with a URL such as `http://example.com/`, whose scheme
/// would otherwise pass for a field name. Message bodies often start with one.
pub fn is_url(text: &[u8]) -> bool {
    text.iter()
        .position(|&b| b == b':')
        .is_some_and(|colon| text[colon + 1..].starts_with(b"//"))
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    memchr::memchr(needle, haystack)
}
