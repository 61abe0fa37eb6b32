//! Characters that render as nothing. Attackers put them between the letters of a display
//! name ("Pay\u{200D}Pal") so that filters matching names miss it while readers see the
//! name whole. Checks that compare names or search for addresses remove them first.

use std::borrow::Cow;

/// Tells whether `c` is a default-ignorable code point that renders as nothing (Unicode
/// DerivedCoreProperties), except variation selectors, which legitimately follow emoji.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Returns `text` as a reader sees it: without its invisible characters.
pub fn without_invisible(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_invisible) {
        Cow::Owned(text.chars().filter(|&c| !is_invisible(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_only_invisible_characters() {
        let cases = [
            ("PayPal", "PayPal"),
            ("V\u{200D}e\u{200D}n\u{200D}m\u{200D}o", "Venmo"),
            ("s\u{034F}e\u{034F}r@a\u{034F}.com", "ser@a.com"),
            ("soft\u{00AD}hyphen\u{FEFF}", "softhyphen"),
            // A variation selector after an emoji stays.
            ("\u{2764}\u{FE0F} Shop", "\u{2764}\u{FE0F} Shop"),
        ];
        for (input, expected) in cases {
            assert_eq!(without_invisible(input), expected, "{input:?}");
        }
    }
}
