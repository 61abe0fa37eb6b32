//! Windows code pages: 8-bit strings in Outlook items (`…001E` streams) are in the code
//! page the item declares, and the declaration is sometimes wrong. Decoding never inserts
//! U+FFFD silently: bytes invalid in the declared code page are decoded another way and
//! the mismatch is reported.

use crate::finding::{Finding, Severity};
use encoding_rs::{Encoding, GB18030, UTF_8, WINDOWS_1252};

/// Text decoded from 8-bit bytes, with the finding that explains any fallback.
pub struct Decoded {
    pub text: String,
    pub finding: Option<Finding>,
}

/// Returns the encoding of a Windows code page number (the values of PR_MESSAGE_CODEPAGE
/// and PR_INTERNET_CPID), or `None` when encoding_rs has no such encoding.
pub fn encoding_for_codepage(codepage: u32) -> Option<&'static Encoding> {
    let label = match codepage {
        65001 => "utf-8",
        1200 => "utf-16le",
        1201 => "utf-16be",
        20127 | 1252 | 28591 => "windows-1252",
        874 => "windows-874",
        1250..=1258 => return Encoding::for_label(format!("windows-{codepage}").as_bytes()),
        28592..=28606 => {
            return Encoding::for_label(format!("iso-8859-{}", codepage - 28590).as_bytes());
        }
        932 => "shift_jis",
        936 => "gbk",
        54936 => "gb18030",
        949 | 51949 => "euc-kr",
        950 => "big5",
        866 => "ibm866",
        20866 => "koi8-r",
        21866 => "koi8-u",
        10000 => "macintosh",
        10007 => "x-mac-cyrillic",
        50220..=50222 => "iso-2022-jp",
        51932 | 20932 => "euc-jp",
        _ => return None,
    };
    Encoding::for_label(label.as_bytes())
}

/// Code pages an Outlook item gives for its 8-bit strings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codepages {
    /// PR_MESSAGE_CODEPAGE, else PR_INTERNET_CPID; `None` means windows-1252.
    pub declared: Option<u32>,
    /// ANSI code page of PR_MESSAGE_LOCALE_ID, the first fallback when the declared one
    /// does not fit (Outlook writes 8-bit strings in the ANSI code page of the locale).
    pub locale: Option<u32>,
}

/// Decodes `bytes` in the code page the item declares. `what` names the text in findings,
/// such as "transport headers".
pub fn decode(bytes: &[u8], codepages: Codepages, what: &str) -> Decoded {
    let declared = codepages.declared;
    let Some(encoding) = declared.map_or(Some(WINDOWS_1252), encoding_for_codepage) else {
        return unsupported(bytes, declared.unwrap_or_default(), what);
    };
    if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
        return Decoded {
            text: text.into_owned(),
            finding: None,
        };
    }

    let locale = codepages.locale.and_then(encoding_for_codepage);
    let (fallback, text) = fallback_decode(bytes, encoding, locale);
    let finding = Finding::new(
        "input.codepage-mismatch",
        Severity::Low,
        format!("The {what} are not valid in the declared code page"),
        format!(
            "The {what} are declared as code page {} ({}), but their bytes are invalid there; they were decoded as {} instead.",
            declared.map_or_else(|| "none, so 1252".to_string(), |c| c.to_string()),
            encoding.name(),
            fallback.name()
        ),
    );
    Decoded {
        text,
        finding: Some(finding),
    }
}

/// Decodes bytes that are invalid in `declared`. The candidates are tried in order: the
/// code page of the item's locale, UTF-8, GBK when every run of 8-bit bytes has an even
/// length (Chinese text in a mislabelled item), and windows-1252, which maps every byte.
fn fallback_decode(
    bytes: &[u8],
    declared: &'static Encoding,
    locale: Option<&'static Encoding>,
) -> (&'static Encoding, String) {
    let candidates = [locale, Some(UTF_8), Some(GB18030)];
    for candidate in candidates.into_iter().flatten() {
        if candidate == declared || (candidate == GB18030 && !even_high_byte_runs(bytes)) {
            continue;
        }
        if let Some(text) = candidate.decode_without_bom_handling_and_without_replacement(bytes) {
            return (candidate, text.into_owned());
        }
    }
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
    (WINDOWS_1252, text.into_owned())
}

/// Returns the ANSI code page Windows uses for a locale id (LCID), by its primary
/// language; languages not listed use windows-1252.
pub fn ansi_codepage_for_lcid(lcid: u32) -> u32 {
    match lcid & 0x3FF {
        0x11 => 932,
        0x04 if matches!(lcid, 0x0804 | 0x1004) => 936,
        0x04 => 950,
        0x12 => 949,
        0x19 | 0x22 | 0x23 | 0x02 | 0x2F | 0x3F | 0x40 | 0x44 | 0x50 => 1251,
        0x05 | 0x15 | 0x0E | 0x1B | 0x24 | 0x18 | 0x1C | 0x1A => 1250,
        0x08 => 1253,
        0x1F | 0x2C | 0x43 => 1254,
        0x0D => 1255,
        0x01 | 0x29 | 0x20 => 1256,
        0x25..=0x27 => 1257,
        0x2A => 1258,
        0x1E => 874,
        _ => 1252,
    }
}

/// Tells whether every run of bytes >= 0x80 has an even length, as double-byte CJK text has.
fn even_high_byte_runs(bytes: &[u8]) -> bool {
    let mut run = 0usize;
    for &b in bytes {
        if b >= 0x80 {
            run += 1;
        } else if !run.is_multiple_of(2) {
            return false;
        } else {
            run = 0;
        }
    }
    run.is_multiple_of(2)
}

fn unsupported(bytes: &[u8], codepage: u32, what: &str) -> Decoded {
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
    let finding = Finding::new(
        "input.codepage-unsupported",
        Severity::Low,
        format!("The {what} are in an unsupported code page"),
        format!(
            "The {what} are declared as code page {codepage}, which mailtrace cannot decode; they were decoded as windows-1252, so 8-bit characters may be wrong."
        ),
    );
    Decoded {
        text: text.into_owned(),
        finding: Some(finding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(codepage: u32) -> Codepages {
        Codepages {
            declared: Some(codepage),
            locale: None,
        }
    }

    #[test]
    fn locale_codepage_is_first_fallback() {
        let codepages = Codepages {
            declared: Some(50220),
            locale: Some(ansi_codepage_for_lcid(1041)),
        };
        let decoded = decode(b"\x93\xFA\x96\x7B\x8C\xEA", codepages, "subject");
        assert_eq!(decoded.text, "日本語");
        assert!(decoded.finding.is_some());
    }

    #[test]
    fn lcid_table() {
        let cases = [
            (1041, 932),
            (2052, 936),
            (1028, 950),
            (1049, 1251),
            (1031, 1252),
            (1045, 1250),
            (1037, 1255),
        ];
        for (lcid, codepage) in cases {
            assert_eq!(ansi_codepage_for_lcid(lcid), codepage, "{lcid}");
        }
    }

    #[test]
    fn codepage_table() {
        let cases = [
            (1252, "windows-1252"),
            (65001, "UTF-8"),
            (1251, "windows-1251"),
            (28592, "ISO-8859-2"),
            (932, "Shift_JIS"),
            (936, "GBK"),
            (20127, "windows-1252"),
        ];
        for (codepage, name) in cases {
            assert_eq!(
                encoding_for_codepage(codepage).map(|e| e.name()),
                Some(name),
                "{codepage}"
            );
        }
        assert!(encoding_for_codepage(37).is_none());
    }

    #[test]
    fn declared_cp1252_decodes_without_finding() {
        let decoded = decode(b"Caf\xE9", declared(1252), "transport headers");
        assert_eq!(decoded.text, "Café");
        assert!(decoded.finding.is_none());
    }

    #[test]
    fn invalid_utf8_falls_back_to_gbk() {
        let decoded = decode(
            b"Subject: \xB2\xE2\xCA\xD4\r\n",
            declared(65001),
            "transport headers",
        );
        assert_eq!(decoded.text, "Subject: 测试\r\n");
        let finding = decoded.finding.expect("a mismatch finding");
        assert_eq!(finding.id, "input.codepage-mismatch");
    }

    #[test]
    fn odd_high_byte_run_falls_back_to_cp1252() {
        let decoded = decode(b"Caf\xE9\r\n", declared(65001), "subject");
        assert_eq!(decoded.text, "Café\r\n");
        assert!(!decoded.text.contains('\u{FFFD}'));
        assert!(decoded.finding.is_some());
    }

    #[test]
    fn unknown_codepage_is_reported() {
        let decoded = decode(b"abc", declared(37), "subject");
        assert_eq!(decoded.text, "abc");
        assert_eq!(
            decoded.finding.map(|f| f.id).as_deref(),
            Some("input.codepage-unsupported")
        );
    }
}
