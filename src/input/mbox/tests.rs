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
