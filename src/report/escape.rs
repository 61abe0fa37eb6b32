//! Terminal escaping: header-derived text is attacker-controlled, so control characters,
//! escape sequences, bidi overrides and zero-width characters never reach the terminal raw.

/// Returns `text` with every character that could change what a terminal shows replaced by
/// a visible escape (`\r`, `\n`, `\t`, `\e`, or `\u{XXXX}`).
pub fn escape_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:04X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Returns `text` in double quotes, escaped as [`escape_terminal`] does, for quoting
/// header-derived text inside a finding's detail. The JSON report and the terminal then
/// show the same visible escapes, such as `\e` and `\u{200B}`.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", escape_terminal(text))
}

/// Tells whether a character must not be printed raw: C0 and C1 controls, DEL, bidi
/// embeddings, overrides, isolates and marks, zero-width and invisible formatting
/// characters, line and paragraph separators, and the byte order mark.
fn is_unsafe(c: char) -> bool {
    let code = c as u32;
    c.is_control()
        || matches!(
            code,
            0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180E | 0x200B..=0x200F | 0x2028..=0x202E
                | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xFFF9..=0xFFFB
                | 0xE0000..=0xE007F
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_hostile_characters() {
        let cases = [
            ("plain text", "plain text"),
            (
                "a\u{1b}]52;c;ZXZpbA==\u{7}b",
                "a\\e]52;c;ZXZpbA==\\u{0007}b",
            ),
            ("x\u{202E}gpj.exe", "x\\u{202E}gpj.exe"),
            ("zero\u{200B}width", "zero\\u{200B}width"),
            ("line\r\nBcc: x", "line\\r\\nBcc: x"),
            ("c1\u{9b}31m", "c1\\u{009B}31m"),
            ("isolate\u{2066}x\u{2069}", "isolate\\u{2066}x\\u{2069}"),
            ("Müşteri", "Müşteri"),
        ];
        for (input, expected) in cases {
            assert_eq!(escape_terminal(input), expected, "{input:?}");
        }
        assert_eq!(
            quoted("Pay\u{200B}Pal\u{1b}[2J"),
            "\"Pay\\u{200B}Pal\\e[2J\""
        );
    }
}
