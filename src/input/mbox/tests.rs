use super::*;
use crate::input::InputMessage;

fn split(input: &[u8], max: usize) -> Vec<InputMessage> {
    MboxReader::new(
        std::io::Cursor::new(input.to_vec()),
        "test.mbox".to_string(),
        max,
    )
    .map(|result| result.expect("no read error"))
    .collect()
}

fn text(message: &InputMessage) -> String {
    String::from_utf8_lossy(&message.bytes).into_owned()
}

fn ids(message: &InputMessage) -> Vec<&str> {
    message.findings.iter().map(|f| f.id.as_str()).collect()
}

const TWO: &str = "From alice@example.com Mon Mar  3 10:00:00 2025\n\
From: alice@example.com\n\
Subject: one\n\
\n\
Hello\n\
>From the desk of Alice\n\
From the top, again\n\
\n\
From \n\
From: bob@example.net\n\
Subject: two\n\
\n\
Bye\n";

#[test]
fn separators_offsets_and_raw_bodies() {
    let messages = split(TWO.as_bytes(), 1 << 20);
    assert_eq!(messages.len(), 2);
    assert_eq!(
        text(&messages[0]),
        "From: alice@example.com\nSubject: one\n\nHello\n>From the desk of Alice\nFrom the top, again\n"
    );
    assert_eq!(
        text(&messages[1]),
        "From: bob@example.net\nSubject: two\n\nBye\n"
    );
    assert_eq!(messages[0].source.offset, Some(48));
    assert_eq!(messages[1].source.index, Some(1));
    let second_marker = TWO.find("From \n").unwrap() as u64;
    assert_eq!(
        messages[1].envelope.as_ref().map(|e| e.marker_offset),
        Some(second_marker)
    );
    assert_eq!(messages[1].source.offset, Some(second_marker + 6));
}

#[test]
fn crlf_gives_same_split() {
    let crlf = TWO.replace('\n', "\r\n");
    let messages = split(crlf.as_bytes(), 1 << 20);
    assert_eq!(messages.len(), 2);
    assert_eq!(
        text(&messages[1]),
        "From: bob@example.net\r\nSubject: two\r\n\r\nBye\r\n"
    );
    assert!(text(&messages[0]).ends_with("From the top, again\r\n"));
}

#[test]
fn envelope_without_zone_is_flagged() {
    let messages = split(TWO.as_bytes(), 1 << 20);
    let envelope = messages[0].envelope.as_ref().unwrap();
    assert_eq!(envelope.sender.as_deref(), Some("alice@example.com"));
    assert_eq!(
        envelope.date.map(|d| d.to_string()).as_deref(),
        Some("2025-03-03 10:00:00")
    );
    assert_eq!(ids(&messages[0]), ["input.envelope-date-no-zone"]);
    let second = messages[1].envelope.as_ref().unwrap();
    assert_eq!(
        (second.sender.as_deref(), second.date_raw.as_deref()),
        (None, None)
    );
    assert!(ids(&messages[1]).is_empty());
}

#[test]
fn envelope_table() {
    type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let cases: &[Case] = &[
        (
            "From a@example.com Mon Mar  3 10:00:00 2025",
            Some("a@example.com"),
            Some("2025-03-03 10:00:00"),
            None,
        ),
        (
            "From - Thu Dec 19 13:29:25 PST 1996",
            None,
            Some("1996-12-19 13:29:25"),
            Some("PST"),
        ),
        (
            "From a@example.com Wed, 2 May 2001 10:10:26 +0200",
            Some("a@example.com"),
            Some("2001-05-02 10:10:26"),
            Some("+0200"),
        ),
        (
            "From a Tue Oct  8 10:29:39 1991 remote from example",
            Some("a"),
            Some("1991-10-08 10:29:39"),
            None,
        ),
        (
            "From a@example.com yesterday",
            Some("a@example.com"),
            None,
            None,
        ),
        ("From -", None, None, None),
    ];
    for (line, sender, date, zone) in cases {
        let (envelope, _) = parse_envelope(line.as_bytes(), 0);
        assert_eq!(envelope.sender.as_deref(), *sender, "{line}");
        assert_eq!(
            envelope.date.map(|d| d.to_string()).as_deref(),
            *date,
            "{line}"
        );
        assert_eq!(envelope.zone.as_deref(), *zone, "{line}");
    }
}

#[test]
fn invalid_envelope_date_is_reported() {
    let (_, findings) = parse_envelope(b"From a@example.com yesterday", 0);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].id, "input.envelope-date-invalid");
}

#[test]
fn unescaped_from_lines_stay_in_body() {
    let input = "From -\nSubject: a\n\nmovie:\n\nFrom Russia with love\nYear: 1963\n\nFrom -\nSubject: b\n\nx\n";
    let messages = split(input.as_bytes(), 1 << 20);
    assert_eq!(messages.len(), 2);
    assert!(text(&messages[0]).contains("From Russia with love\nYear: 1963\n"));
}

#[test]
fn spaced_from_field_is_no_separator() {
    let input = "From a@example.com Fri Dec  7 11:07:41 2001\n\
Received: from example.net\n\
From  :<b@example.com>\n\
X-Mailer: x\n\
From :<c@example.com>\n\
Subject: one message\n\
\n\
body\n";
    let messages = split(input.as_bytes(), 1 << 20);
    assert_eq!(messages.len(), 1);
    assert!(text(&messages[0]).starts_with("Received: from example.net\nFrom  :<b@"));
    assert!(text(&messages[0]).ends_with("Subject: one message\n\nbody\n"));
    assert!(
        !ids(&messages[0]).contains(&"input.mbox-separator-without-empty-line"),
        "{:?}",
        ids(&messages[0])
    );
}

#[test]
fn spaced_from_field_first_is_no_envelope() {
    let input = "From  :<a@example.com>\nX-Mailer: x\nSubject: a\n\nbody\n";
    let messages = split(input.as_bytes(), 1 << 20);
    assert_eq!(messages.len(), 1);
    assert!(messages[0].envelope.is_none());
    assert_eq!(text(&messages[0]), input);
}

#[test]
fn envelope_line_table() {
    let cases: &[(&[u8], bool)] = &[
        (b"From a@example.com Mon Mar  3 10:00:00 2025\n", true),
        (b"From MAILER-DAEMON Mon Mar  3 10:00:00 2025\n", true),
        (b"From  a@example.com  Fri Dec  7 11:07:41 2001\n", true),
        (b"From - Thu Dec 19 13:29:25 PST 1996\n", true),
        (b"From \n", true),
        (b"From :<a@example.com>\n", false),
        (b"From  :<a@example.com>\r\n", false),
        (b"From \t: a@example.com\n", false),
        (b"From: a@example.com\n", false),
        (b">From a@example.com\n", false),
    ];
    for (line, expected) in cases {
        assert_eq!(
            is_envelope_line(line),
            *expected,
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn separator_without_empty_line_needs_envelope_shape() {
    let input =
        "From - \nSubject: a\n\nend of a\nFrom - \nSubject: b\n\nx\nFrom the top\nSubject: c\n";
    let messages = split(input.as_bytes(), 1 << 20);
    assert_eq!(messages.len(), 2);
    assert_eq!(text(&messages[0]), "Subject: a\n\nend of a\n");
    assert_eq!(
        ids(&messages[1]),
        ["input.mbox-separator-without-empty-line"]
    );
    assert!(text(&messages[1]).ends_with("x\nFrom the top\nSubject: c\n"));
}

#[test]
fn content_length_hides_from_lines_in_body() {
    let body = "From a@example.com Mon Mar  3 10:00:00 2025\nSubject: quoted\n";
    let input = format!(
        "From a@example.com Mon Mar  3 10:00:00 2025\nContent-Length: {}\nSubject: a\n\n{body}\nFrom b@example.net Mon Mar  3 11:00:00 2025\nSubject: b\n\nx\n",
        body.len()
    );
    let messages = split(input.as_bytes(), 1 << 20);
    assert_eq!(messages.len(), 2);
    assert!(text(&messages[0]).ends_with(body));
    assert_eq!(text(&messages[1]), "Subject: b\n\nx\n");
}

#[test]
fn wrong_content_length_falls_back_to_separators() {
    let input = "From a@example.com Mon Mar  3 10:00:00 2025\nContent-Length: 40\nSubject: a\n\nshort\n\nFrom b@example.net Mon Mar  3 11:00:00 2025\nSubject: b\n\nsecond body is longer than the declared length\n";
    let messages = split(input.as_bytes(), 1 << 20);
    assert_eq!(messages.len(), 2);
    assert_eq!(
        text(&messages[0]),
        "Content-Length: 40\nSubject: a\n\nshort\n"
    );
    assert_eq!(messages[1].source.index, Some(1));
    let marker = input.find("From b@").unwrap() as u64;
    assert_eq!(messages[1].envelope.as_ref().unwrap().marker_offset, marker);
    assert_eq!(messages[1].source.offset, Some(marker + 44));
    assert!(text(&messages[1]).starts_with("Subject: b\n"));
}

#[test]
fn oversized_message_is_cut_to_header_block() {
    let big = "y".repeat(500);
    let input = format!("From -\nSubject: big\n\n{big}\n\nFrom -\nSubject: small\n\nz\n");
    let messages = split(input.as_bytes(), 100);
    assert_eq!(messages.len(), 2);
    assert_eq!(text(&messages[0]), "Subject: big\n\n");
    assert_eq!(ids(&messages[0]), ["input.message-truncated"]);
    assert_eq!(text(&messages[1]), "Subject: small\n\nz\n");
}

#[test]
fn line_without_break_is_bounded() {
    let input = format!("From -\nSubject: a\n\n{}", "q".repeat(10_000));
    let messages = split(input.as_bytes(), 64);
    assert_eq!(messages.len(), 1);
    assert_eq!(text(&messages[0]), "Subject: a\n\n");
}

#[test]
fn byte_order_mark_before_first_marker() {
    let messages = split(b"\xEF\xBB\xBFFrom -\nSubject: a\n\nx\n", 1 << 20);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].envelope.as_ref().unwrap().marker_offset, 3);
    assert_eq!(messages[0].source.offset, Some(10));
}

#[test]
fn unescape_table() {
    let cases: &[(&[u8], &[u8])] = &[
        (b">From a\n", b"From a\n"),
        (b">>From a\r\n", b">From a\r\n"),
        (b"From a\n", b"From a\n"),
        (b"> From a\n", b"> From a\n"),
        (b">Fromage\n", b">Fromage\n"),
        (b"x\n>From last", b"x\nFrom last"),
    ];
    for (input, expected) in cases {
        assert_eq!(
            unescape_mboxrd(input),
            *expected,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

/// A reader that counts the bytes taken from it.
struct Counting<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.count.set(self.count.get() + read as u64);
        Ok(read)
    }
}

/// Writes `input` to a temporary file and returns it with the bytes read from it before the
/// reader yields its first message, with and without an end probe.
fn bytes_read_before_first_message(input: &[u8], probe: bool) -> (Vec<InputMessage>, u64) {
    use std::io::Write;
    let mut file = tempfile::NamedTempFile::new().expect("temporary file");
    file.write_all(input).expect("write");
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let counting = Counting {
        inner: std::fs::File::open(file.path()).expect("open"),
        count: count.clone(),
    };
    let mut reader = MboxReader::new(
        std::io::BufReader::with_capacity(64, counting),
        "test.mbox".to_string(),
        1 << 20,
    );
    if probe {
        let handle = std::fs::File::open(file.path()).expect("open");
        reader = reader.with_end_probe(EndProbe::new(handle));
    }
    let first = reader.next().expect("a message").expect("no read error");
    let read_before_first = count.get();
    let mut messages = vec![first];
    messages.extend(reader.map(|result| result.expect("no read error")));
    (messages, read_before_first)
}

#[test]
fn end_probe_drops_wrong_length_early() {
    let filler = "a line of body text that pads the second message\n".repeat(200);
    let input = format!(
        "From a@example.com Mon Mar  3 10:00:00 2025\nContent-Length: 5000\nSubject: a\n\nshort\n\nFrom b@example.net Mon Mar  3 11:00:00 2025\nSubject: b\n\n{filler}"
    );
    let (probed, read_with_probe) = bytes_read_before_first_message(input.as_bytes(), true);
    let (held, read_without_probe) = bytes_read_before_first_message(input.as_bytes(), false);

    assert!(read_with_probe < 1000, "read {read_with_probe} bytes");
    assert!(read_without_probe > 5000, "read {read_without_probe} bytes");
    assert_eq!(probed.len(), 2);
    for (with, without) in probed.iter().zip(&held) {
        assert_eq!(with.bytes, without.bytes);
        assert_eq!(with.source.offset, without.source.offset);
    }
}

#[test]
fn end_probe_keeps_right_length() {
    let body = "From a@example.com Mon Mar  3 10:00:00 2025\nSubject: quoted\n";
    let input = format!(
        "From a@example.com Mon Mar  3 10:00:00 2025\nContent-Length: {}\nSubject: a\n\n{body}\nFrom b@example.net Mon Mar  3 11:00:00 2025\nSubject: b\n\nx\n",
        body.len()
    );
    let (messages, _) = bytes_read_before_first_message(input.as_bytes(), true);
    assert_eq!(messages.len(), 2);
    assert!(text(&messages[0]).ends_with(body));
    assert_eq!(text(&messages[1]), "Subject: b\n\nx\n");
}

#[test]
fn end_probe_accepts_end_of_file_only() {
    use std::io::Write;
    let input = b"From -\nSubject: a\n\nbody\n\nFrom -\nSubject: b\n\nlast\n\n";
    let mut file = tempfile::NamedTempFile::new().expect("temporary file");
    file.write_all(input).expect("write");
    let mut probe = EndProbe::new(std::fs::File::open(file.path()).expect("open"));
    let second = input.windows(6).rposition(|w| w == b"From -").unwrap() as u64;
    let length = input.len() as u64;

    assert_eq!(probe.confirms(second), Some(true));
    assert_eq!(
        probe.confirms(second - 1),
        Some(true),
        "after one empty line"
    );
    assert_eq!(probe.confirms(second - 3), Some(false), "inside a body");
    assert_eq!(probe.confirms(length), Some(true), "end of file");
    assert_eq!(
        probe.confirms(length - 1),
        Some(true),
        "an empty line, then end of file"
    );
    assert_eq!(
        probe.confirms(length - 3),
        Some(false),
        "inside the last line"
    );
    assert_eq!(probe.confirms(0), Some(true), "a separator at the start");
    assert_eq!(
        probe.confirms(second + 1),
        Some(false),
        "inside a separator line"
    );
    assert_eq!(
        probe.confirms(length + 1),
        Some(false),
        "past the end of file"
    );
}

#[test]
fn cut_inside_header_block_says_so() {
    let long_field = format!("X-Long: {}\n", "z".repeat(300));
    let input = format!(
        "From -\nSubject: big\n{long_field}From: a@example.com\n\nbody\n\nFrom -\nSubject: small\n\nz\n"
    );
    let messages = split(input.as_bytes(), 100);
    let detail = &messages[0]
        .findings
        .iter()
        .find(|f| f.id == "input.message-truncated")
        .expect("truncation finding")
        .detail;
    assert!(
        detail.contains("first 100 bytes of its header block"),
        "{detail}"
    );

    let big_body = format!("From -\nSubject: big\n\n{}\n", "y".repeat(500));
    let messages = split(big_body.as_bytes(), 100);
    let detail = &messages[0].findings[0].detail;
    assert!(
        detail.contains("only its header block was kept"),
        "{detail}"
    );
}
