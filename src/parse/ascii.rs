//! ASCII case-insensitive comparisons that do not allocate. Header names, host names and
//! the marks searched for in field values are compared this way many times per message,
//! and a lower-case copy per comparison cost a measurable share of a bulk scan.

/// Tells whether `text` starts with `prefix`, ignoring ASCII case.
pub fn starts_with_ci(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Tells whether `text` ends with `suffix`, ignoring ASCII case.
pub fn ends_with_ci(text: &str, suffix: &str) -> bool {
    let text = text.as_bytes();
    text.len() >= suffix.len()
        && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Tells whether `text` contains `needle`, ignoring ASCII case. The cost is the length of
/// `text` times the length of `needle` at worst; needles here are short constants. Only the
/// places where the needle's first letter occurs, found with a vectorised byte search, are
/// compared in full.
pub fn contains_ci(text: &str, needle: &str) -> bool {
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let Some(last_start) = text.len().checked_sub(needle.len()) else {
        return false;
    };
    memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        &text[..=last_start],
    )
    .any(|start| text[start + 1..start + needle.len()].eq_ignore_ascii_case(rest))
}

/// Returns the rest of `text` after `prefix`, ignoring ASCII case.
pub fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    starts_with_ci(text, prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_ignore_ascii_case_only() {
        assert!(starts_with_ci("X-Proofpoint-Virus", "x-proofpoint-"));
        assert!(!starts_with_ci("X-P", "x-proofpoint-"));
        assert!(ends_with_ci("MX.Google.com", ".google.com"));
        assert!(!ends_with_ci("google.com", ".google.com"));
        assert!(contains_ci(
            "from x by MX.GOOGLE.COM with",
            "by mx.google.com"
        ));
        assert!(!contains_ci("by mx.google.co", "by mx.google.com"));
        assert!(contains_ci("anything", ""));
        assert!(contains_ci("", ""));
        assert!(!contains_ci("", "a"));
        assert!(contains_ci("ends with Outlook.COM", "outlook.com"));
        assert!(contains_ci("[192.0.2.1]", "[192.0.2.1]"));
        assert!(!contains_ci("outlook.co", "outlook.com"));
        assert!(contains_ci("ooutlook", "OUTLOOK"));
        assert_eq!(
            strip_prefix_ci("RFC822;a@example.org", "rfc822;"),
            Some("a@example.org")
        );
        assert_eq!(strip_prefix_ci("é", "e"), None);
        assert!(!starts_with_ci("Ä", "ä"));
    }
}
