//! Display-name impersonation: a From display name that claims a brand or one of the
//! organisation's VIPs while the address is in an unrelated domain, and display names
//! obfuscated with invisible characters or mixed-script words.
//!
//! Names are compared after folding: invisible characters removed, UTS #39 confusable
//! skeleton, lower case, combining marks removed, and the text split into words at
//! anything that is not a letter or digit. A name matches when its words appear as a run
//! of whole words in the display name, when the display name, with all separators removed,
//! spells the name (`F.e.d.E.x`), or when a run of single letters in it does
//! (`I T A Ú - Feito com você`). Each side is also compared with a capital I inside a
//! mixed-case word read as l (`Trust WaIIet`).

use crate::analysis::lookalike::{
    Brand, DecodedDomain, Protected, Technique, builtin_brands, cached_protected_domains,
    decode_domain, domain_findings, find_lookalike, is_same_or_subdomain,
};
use crate::analysis::sender::MessageSummary;
use crate::analysis::sender::org_domain;
use crate::config::AnalysisConfig;
use crate::finding::{Finding, Severity};
use crate::parse::address::foreign_address_domain;
use crate::parse::invisible::{is_invisible, without_invisible};
use crate::report::escape::quoted;
use std::sync::OnceLock;
use unicode_normalization::char::is_combining_mark;

/// Longest display name compared, in characters; the rest is ignored.
const MAX_DISPLAY_CHARS: usize = 256;

/// Shortest word of a brand name in which a small i may be written as l. Shorter words
/// give real words (`Mail` and `Mall`, `ID` and `ld`).
const MIN_SMALL_I_WORD_CHARS: usize = 5;

/// A display name folded for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldedName {
    pub words: Vec<String>,
    /// The words joined without separators.
    joined: String,
    /// Each run of two or more single-letter words, joined (`I T A Ú` gives `itau`): the
    /// name written with spaces between its letters.
    spaced_runs: Vec<String>,
    /// A word starts with a character that looks like a small l and is not a capital L
    /// (`l`, `1`, `|`, a capital I): `lCloud` may stand for iCloud, `LCloud` does not.
    l_start: bool,
}

impl FoldedName {
    /// Folds a name: invisible characters removed, confusable skeleton, lower case, marks
    /// removed, split into words. A character that is not a letter or digit separates words,
    /// unless it is between two of them and folds to a letter (`App|e`), so the bars around
    /// `|BANCO DO BRASIL|` stay separators.
    pub fn new(text: &str) -> FoldedName {
        FoldedName::fold(text, false)
    }

    /// Folds a name as [`FoldedName::new`] does, but reads a capital I inside a mixed-case
    /// word as a small l ([`capital_i_positions`]). Returns `None` when the name has no
    /// such capital, so that the common case folds once.
    pub fn with_capital_i_as_l(text: &str) -> Option<FoldedName> {
        let chars: Vec<char> = without_invisible(text)
            .chars()
            .take(MAX_DISPLAY_CHARS)
            .collect();
        if capital_i_positions(&chars).is_empty() {
            return None;
        }
        Some(FoldedName::fold(text, true))
    }

    fn fold(text: &str, capital_i_as_l: bool) -> FoldedName {
        let chars: Vec<char> = without_invisible(text)
            .chars()
            .take(MAX_DISPLAY_CHARS)
            .collect();
        let read_as_l = if capital_i_as_l {
            capital_i_positions(&chars)
        } else {
            Vec::new()
        };
        let mut words = Vec::new();
        let mut word = String::new();
        let mut l_start = false;
        for (index, &c) in chars.iter().enumerate() {
            if is_combining_mark(c) {
                continue;
            }
            if word.is_empty() && !l_start {
                l_start = if c.is_ascii() {
                    matches!(c, 'l' | '1' | '|' | 'I')
                } else {
                    let mut buffer = [0; 4];
                    unicode_security::skeleton(c.encode_utf8(&mut buffer)).eq("l".chars())
                };
            }
            let between_letters = index > 0
                && chars[index - 1].is_alphanumeric()
                && chars
                    .get(index + 1)
                    .is_some_and(|next| next.is_alphanumeric());
            if !c.is_alphanumeric() && !between_letters {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            if read_as_l.contains(&index) {
                word.push('l');
                continue;
            }
            let mut buffer = [0; 4];
            for folded in crate::analysis::lookalike::skeleton(c.encode_utf8(&mut buffer)).chars() {
                if folded.is_alphanumeric() {
                    word.push(folded);
                } else if !is_combining_mark(folded) && !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        FoldedName {
            l_start,
            ..FoldedName::from_words(words)
        }
    }

    fn from_words(words: Vec<String>) -> FoldedName {
        let joined = words.concat();
        let spaced_runs = words
            .split(|word| word.chars().nth(1).is_some())
            .filter(|run| run.len() > 1)
            .map(<[String]>::concat)
            .collect();
        FoldedName {
            words,
            joined,
            spaced_runs,
            l_start: false,
        }
    }

    /// Returns the name once for each small i in a word of at least
    /// [`MIN_SMALL_I_WORD_CHARS`] letters, with that i written as l (`lcloud` for iCloud,
    /// `mlcrosoft`). An i beside an l is left alone: the double l reads as another word
    /// (`RoyalMail` and "Royal Mall"). [`capital_i_positions`] cannot catch this trick,
    /// because an l in the display name may be a real l. Only brand names get these forms:
    /// a display name never does, or "Neil" would match "Nell".
    fn with_one_small_i_as_l(&self) -> Vec<SmallIForm> {
        let mut forms = Vec::new();
        for (index, word) in self.words.iter().enumerate() {
            if word.chars().count() < MIN_SMALL_I_WORD_CHARS {
                continue;
            }
            let beside_l = |position: usize| {
                word.as_bytes().get(position + 1) == Some(&b'l')
                    || position.checked_sub(1).and_then(|p| word.as_bytes().get(p)) == Some(&b'l')
            };
            for (position, _) in word.match_indices('i').filter(|&(p, _)| !beside_l(p)) {
                let mut words = self.words.clone();
                words[index].replace_range(position..position + 1, "l");
                forms.push(SmallIForm {
                    name: FoldedName::from_words(words),
                    word_start: position == 0,
                });
            }
        }
        forms
    }

    /// Tells whether `name` is the whole of this name, ignoring separators.
    pub fn is_whole(&self, name: &FoldedName) -> bool {
        !name.words.is_empty() && self.joined == name.joined
    }

    /// Tells whether `name` is the whole name or a run of whole words in it.
    pub fn contains(&self, name: &FoldedName) -> bool {
        if self.is_whole(name) {
            return true;
        }
        let n = name.words.len();
        n > 0
            && (self
                .words
                .windows(n)
                .any(|run| run == name.words.as_slice())
                || self.spaced_runs.contains(&name.joined))
    }
}

/// The brand a display name claims, and the name it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandClaim<'a> {
    pub brand: &'a Brand,
    pub name: &'a str,
}

/// A brand with its names folded, so a scan folds each name once, not once per message.
pub struct FoldedBrand<'a> {
    pub brand: &'a Brand,
    names: Vec<FoldedBrandName<'a>>,
}

/// A brand name with one small i written as l.
struct SmallIForm {
    name: FoldedName,
    /// The i starts a word (`iCloud`), so the display name's l must too, and must not be a
    /// capital L.
    word_start: bool,
}

/// One name of a brand, folded both ways.
struct FoldedBrandName<'a> {
    written: &'a str,
    folded: FoldedName,
    /// Folded with a capital I inside a mixed-case word read as l.
    capital_i_as_l: Option<FoldedName>,
    /// Folded with one small i written as l ([`FoldedName::with_one_small_i_as_l`]).
    small_i_as_l: Vec<SmallIForm>,
    /// The name must be the whole display name.
    whole_only: bool,
}

impl<'a> FoldedBrand<'a> {
    /// Folds the names of `brand`.
    pub fn new(brand: &'a Brand) -> Self {
        let names = brand
            .names
            .iter()
            .zip(&brand.whole_only)
            .map(|(name, &whole_only)| {
                let folded = FoldedName::new(name);
                FoldedBrandName {
                    written: name.as_str(),
                    small_i_as_l: folded.with_one_small_i_as_l(),
                    folded,
                    capital_i_as_l: FoldedName::with_capital_i_as_l(name),
                    whole_only,
                }
            })
            .collect();
        FoldedBrand { brand, names }
    }
}

/// Returns the built-in brand list with folded names, built once.
pub fn folded_builtin_brands() -> &'static [FoldedBrand<'static>] {
    static BRANDS: OnceLock<Vec<FoldedBrand<'static>>> = OnceLock::new();
    BRANDS.get_or_init(|| builtin_brands().iter().map(FoldedBrand::new).collect())
}

/// Finds the first brand whose name appears in `display`. Each side is also compared with a
/// capital I inside a mixed-case word read as l ([`FoldedName::with_capital_i_as_l`]): the
/// display name's (`WaIIet` for Wallet) and the brand's (`Linkedln` for LinkedIn). The
/// display name is also compared with the brand's names with one small i written as l
/// (`lCloud`, and `lCIoud` with the capital read as l too).
pub fn claimed_brand<'a>(
    display: &FoldedName,
    display_capital_i_as_l: Option<&FoldedName>,
    brands: &'a [FoldedBrand<'a>],
) -> Option<BrandClaim<'a>> {
    let matches = |display: &FoldedName, name: &FoldedName, whole_only: bool| {
        if whole_only {
            display.is_whole(name)
        } else {
            display.contains(name)
        }
    };
    for folded_brand in brands {
        for name in &folded_brand.names {
            let matched = matches(display, &name.folded, name.whole_only)
                || display_capital_i_as_l
                    .is_some_and(|display| matches(display, &name.folded, name.whole_only))
                || name
                    .capital_i_as_l
                    .as_ref()
                    .is_some_and(|folded| matches(display, folded, name.whole_only))
                || name.small_i_as_l.iter().any(|form| {
                    let folded = &form.name;
                    (!form.word_start || display.l_start)
                        && (matches(display, folded, name.whole_only)
                            || display_capital_i_as_l
                                .is_some_and(|display| matches(display, folded, name.whole_only)))
                });
            if matched {
                return Some(BrandClaim {
                    brand: folded_brand.brand,
                    name: name.written,
                });
            }
        }
    }
    None
}

/// Runs the sender-trick checks on the first From mailbox: lookalike domain, subdomain
/// trick, mixed-script and invalid punycode labels, and display-name impersonation.
/// `recipients` are the addresses of the To field.
pub fn find_sender_tricks(
    message: &MessageSummary,
    recipients: &[String],
    config: &AnalysisConfig,
) -> Vec<Finding> {
    let Some(mailbox) = message.from_mailbox() else {
        // A name without an address (`"Facebook" <>`) still claims what it names: the
        // text before any angle bracket is what a mail client shows.
        let Some(text) = message.from_text.as_deref() else {
            return Vec::new();
        };
        let display = text.split('<').next().unwrap_or(text);
        let display = display.trim().trim_matches('"').trim();
        if display.is_empty() {
            return Vec::new();
        }
        return display_name_findings(display, "", &config.org_domains, &config.vip_names);
    };
    let Some(domain) = mailbox.domain_lower() else {
        return Vec::new();
    };
    let protected = cached_protected_domains(&config.org_domains, &config.brand_domains);
    let mut findings = domain_findings(&domain, &protected);
    if let Some(display) = mailbox.display.as_deref() {
        findings.extend(display_name_findings(
            display,
            &domain,
            &config.org_domains,
            &config.vip_names,
        ));
    }
    findings.extend(reply_to_lookalike(message));
    if is_outlook_test_message(message, recipients) {
        findings.retain(|f| f.id != "sender.display-name-brand");
        findings.push(outlook_test_message());
    }
    findings
}

/// Finds a Reply-To domain that imitates the From domain, or a domain that the From display
/// name shows (`"billing@example.com" <x@example.net>`): the reader sees the claimed
/// sender, and the reply goes to the attacker, as in business email compromise. Only
/// confusable characters and small edits count, and not the variants a company registers
/// for itself ([`same_company_variant`]) or a free-mail domain ([`FREE_MAIL_DOMAINS`]).
fn reply_to_lookalike(message: &MessageSummary) -> Option<Finding> {
    if message.reply_to.is_empty() {
        return None;
    }
    let from = message.from_mailbox()?;
    let from_domain = from.domain_lower()?;
    let mut claimed = vec![from_domain.clone()];
    if let Some(display) = from.display.as_deref() {
        claimed.extend(foreign_address_domain(display, Some(&from_domain)));
    }
    // Each claimed domain is compared in Unicode, so that a punycode From and a Unicode
    // Reply-To meet in one form, and alone, so that one claim does not hide the other.
    let protected: Vec<(DecodedDomain, Protected)> = claimed
        .iter()
        .filter_map(|domain| {
            let decoded = decode_domain(domain)?;
            let owned = [decoded.ascii.clone(), decoded.unicode.clone()];
            let protected = Protected::new(&decoded.unicode, &decoded.unicode, &owned)?;
            Some((decoded, protected))
        })
        .collect();
    message.reply_to.iter().find_map(|reply| {
        let domain = reply.domain_lower()?;
        let decoded = decode_domain(&domain)?;
        if FREE_MAIL_DOMAINS.contains(&org_domain(&decoded.ascii)?.as_str()) {
            return None;
        }
        let (claimed, lookalike) = protected.iter().find_map(|(claimed, protected)| {
            let lookalike = find_lookalike(&decoded, std::slice::from_ref(protected))?;
            // The same label under a mistyped suffix has the same name by definition, which
            // the check for a company's own variants would excuse.
            let counted = match lookalike.technique {
                Technique::Confusable | Technique::EditDistance(_) => {
                    !same_company_variant(&claimed.label, &decoded.label)
                }
                Technique::OtherSuffix => is_suffix_typo(&claimed.suffix, &decoded.suffix),
                Technique::HyphenatedPart | Technique::SubdomainLabel => false,
            };
            counted.then_some((claimed, lookalike))
        })?;
        // The address as written keeps the capital I of `exampIe.com`, which lower case hides.
        Some(
            Finding::new(
                "sender.reply-to-lookalike",
                Severity::High,
                format!("Reply-To domain is a look-alike of {}", claimed.unicode),
                format!(
                    "Replies go to {}, whose domain is a look-alike of {} ({}). One of the two was made to be mistaken for the other: the reader sees {} in the From field, and the reply goes to the other domain, the pattern of business email compromise.",
                    quoted(&reply.address),
                    claimed.unicode,
                    lookalike.technique.describe(),
                    claimed.unicode
                ),
            )
            .with_header("Reply-To"),
        )
    })
}

/// Tells whether the Reply-To suffix is the claimed generic suffix with one letter left
/// out, or `.cam` for `.com`: `example.co` for `example.com`, a classic of business email
/// compromise. The same name under an unrelated suffix (`.net`, `.de`) is often the same
/// company's other domain and is not counted.
fn is_suffix_typo(claimed: &str, reply: &str) -> bool {
    const GENERIC: [&str; 3] = ["com", "net", "org"];
    if !GENERIC.contains(&claimed) {
        return false;
    }
    (claimed == "com" && reply == "cam")
        || (0..claimed.len()).any(|gap| {
            reply.len() + 1 == claimed.len()
                && reply.starts_with(&claimed[..gap])
                && reply.ends_with(&claimed[gap + 1..])
        })
}

/// Free-mail domains: a person who writes from one and asks for replies at another
/// (`gmail.com` and `ymail.com`) is not imitating anyone, and an attacker cannot register these domains.
const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "rocketmail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mail.com",
    "email.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "proton.me",
    "protonmail.com",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
];

/// Tells whether two registrable labels are variants a company registers for itself: the
/// same letters with and without hyphens (`example-corp`, `examplecorp`), `ß` written as
/// `ss`, or one label with digits or a two-letter country code appended (`example24`,
/// `northwinduk`). Attackers use such variants too, so this costs some detection.
fn same_company_variant(a: &str, b: &str) -> bool {
    let plain = |label: &str| label.replace('-', "").replace('ß', "ss");
    let (a, b) = (plain(a), plain(b));
    if a == b {
        return true;
    }
    let (short, long) = if a.len() < b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    long.strip_prefix(short.as_str()).is_some_and(|extra| {
        extra.bytes().all(|c| c.is_ascii_digit())
            || (extra.len() == 2 && extra.bytes().all(|c| c.is_ascii_alphabetic()))
    })
}

/// Subjects of the test message that Outlook sends when an account is set up, in the
/// languages seen in real mail (English and Japanese).
const OUTLOOK_TEST_SUBJECTS: &[&str] = &[
    "Microsoft Outlook Test Message",
    "Microsoft Outlook テスト メッセージ",
];

/// Tells whether a message is Outlook's account test message: the display name is exactly
/// "Microsoft Outlook", the subject is the test message's, and the From address is also a
/// To address, because Outlook sends the test from the account to itself. A phishing
/// message that claims Microsoft is sent to a victim from the attacker's address, so it
/// does not meet the last condition.
fn is_outlook_test_message(message: &MessageSummary, recipients: &[String]) -> bool {
    let Some(mailbox) = message.from_mailbox() else {
        return false;
    };
    let display = mailbox.display.as_deref().map(str::trim);
    let subject = message.subject.as_deref().map(str::trim);
    display == Some("Microsoft Outlook")
        && subject.is_some_and(|s| OUTLOOK_TEST_SUBJECTS.contains(&s))
        && recipients
            .iter()
            .any(|to| to.eq_ignore_ascii_case(&mailbox.address))
}

/// Builds the info note that replaces `sender.display-name-brand` on Outlook's test message.
fn outlook_test_message() -> Finding {
    Finding::new(
        "sender.outlook-test-message",
        Severity::Info,
        "Outlook account test message",
        "The display name is Microsoft Outlook, the subject is Outlook's test message and the message is addressed to its own sender: Outlook sends this when an account is set up, so the brand name is not an impersonation.",
    )
    .with_header("From")
}

/// Returns the display-name findings for a From mailbox with display name `display` in
/// `from_domain`.
pub fn display_name_findings(
    display: &str,
    from_domain: &str,
    org_domains: &[String],
    vip_names: &[String],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let folded = FoldedName::new(display);
    let folded_capital_i_as_l = FoldedName::with_capital_i_as_l(display);
    let from_domain = from_domain.trim_end_matches('.').to_lowercase();
    // Where the address is, for the findings. A mail client shows a From field without an
    // address as the name alone.
    let no_address = from_domain.is_empty();
    let place = if no_address {
        "the From field has no address at all, only the name".to_string()
    } else {
        format!("the address is in {from_domain}")
    };

    // Step 1: a brand name from a domain the brand does not own.
    if let Some(claim) = claimed_brand(
        &folded,
        folded_capital_i_as_l.as_ref(),
        folded_builtin_brands(),
    ) && !claim.brand.owns(&from_domain)
    {
        findings.push(
            Finding::new(
                "sender.display-name-brand",
                Severity::High,
                format!("Display name claims {}", claim.brand.name()),
                format!(
                    "The display name {} names {}, but {place}, {} ({}).",
                    quoted(display),
                    claim.name,
                    if no_address {
                        "so nothing ties it to the brand's domains"
                    } else {
                        "which is not one of its domains"
                    },
                    claim.brand.domains.join(", ")
                ),
            )
            .with_header("From"),
        );
    }

    // Step 2: a VIP's name from outside the organisation.
    let in_org = org_domains
        .iter()
        .any(|d| is_same_or_subdomain(&from_domain, d));
    let vip = vip_names.iter().find(|vip| {
        let vip_folded = FoldedName::new(vip);
        folded.contains(&vip_folded)
            || folded_capital_i_as_l
                .as_ref()
                .is_some_and(|display| display.contains(&vip_folded))
            || FoldedName::with_capital_i_as_l(vip).is_some_and(|vip| folded.contains(&vip))
    });
    if let Some(vip) = vip
        && !in_org
    {
        findings.push(
            Finding::new(
                "sender.display-name-vip",
                Severity::High,
                format!("Display name claims {vip}"),
                format!(
                    "The display name {} is the name of {vip}, a declared VIP, but {place}, outside the organisation's domains.",
                    quoted(display)
                ),
            )
            .with_header("From"),
        );
    }

    // Step 3: letters hidden between invisible characters or words mixing scripts.
    if let Some(how) = obfuscation(display) {
        findings.push(
            Finding::new(
                "sender.display-name-obfuscated",
                Severity::Medium,
                "Display name is obfuscated",
                format!(
                    "The display name {} {how}. Legitimate senders have no reason to do this; it defeats filters that match names.",
                    quoted(display)
                ),
            )
            .with_header("From"),
        );
    }
    findings
}

/// Returns the positions in `chars` of capital letters that look like a small l (`I`, the
/// Roman numeral `Ⅰ`, the fullwidth `Ｉ`) after the first letter of a word that also has small
/// letters: `PayPaI`, `Trust WaIIet`, `McIntosh`. In many fonts they look like an l. The
/// skeleton is taken after lower-casing, so they fold to i while `l`, `1` and `|` fold to
/// l, and only reading them as l catches the trick. All-caps words and a leading capital
/// (`IRS`, `Ian`) are left alone.
fn capital_i_positions(chars: &[char]) -> Vec<usize> {
    let mut positions = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        if !chars[start].is_alphanumeric() {
            start += 1;
            continue;
        }
        let end = chars[start..]
            .iter()
            .position(|c| !c.is_alphanumeric())
            .map_or(chars.len(), |offset| start + offset);
        let word = &chars[start..end];
        if word.iter().any(|c| c.is_lowercase()) {
            positions.extend((start + 1..end).filter(|&index| looks_like_small_l(chars[index])));
        }
        start = end;
    }
    positions
}

/// Tells whether `c` is a capital letter whose confusable skeleton, taken as written, is a
/// small l.
fn looks_like_small_l(c: char) -> bool {
    let mut buffer = [0; 4];
    c.is_uppercase() && unicode_security::skeleton(c.encode_utf8(&mut buffer)).eq("l".chars())
}

/// Describes how a display name is obfuscated, if it is: an invisible character between
/// two letters or digits, or one word that mixes Latin letters with Greek, Cyrillic,
/// Armenian or Cherokee ones (UTS #39 section 5).
pub fn obfuscation(display: &str) -> Option<&'static str> {
    let chars: Vec<char> = display.chars().take(MAX_DISPLAY_CHARS).collect();
    let mut previous_alphanumeric = false;
    let mut invisible_run = false;
    for &c in &chars {
        if is_invisible(c) {
            invisible_run = previous_alphanumeric;
            continue;
        }
        if invisible_run && c.is_alphanumeric() {
            return Some("has invisible characters between its letters");
        }
        invisible_run = false;
        previous_alphanumeric = c.is_alphanumeric();
    }
    let text: String = chars.iter().collect();
    let mixed = text
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| word.chars().any(is_latin) && word.chars().any(is_latin_confusable_script));
    mixed.then_some("has a word that mixes Latin letters with look-alike letters of another script")
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}')
}

/// Tells whether `c` is a letter of a script whose letters are often confusable with Latin
/// ones (UTS #39 section 5): Greek, Cyrillic, Armenian or Cherokee.
fn is_latin_confusable_script(c: char) -> bool {
    matches!(
        c,
        '\u{0370}'..='\u{03FF}'
            | '\u{1F00}'..='\u{1FFF}'
            | '\u{0400}'..='\u{052F}'
            | '\u{1C80}'..='\u{1C8F}'
            | '\u{2DE0}'..='\u{2DFF}'
            | '\u{A640}'..='\u{A69F}'
            | '\u{0530}'..='\u{058F}'
            | '\u{13A0}'..='\u{13FF}'
    ) && c.is_alphabetic()
}

#[cfg(test)]
mod tests {

    /// Returns the finding ids of a message from `from` to `to` with `subject`.
    fn message_ids(from: &str, to: &str, subject: &str) -> Vec<String> {
        let report = crate::analysis::test_support::analyse_text(&format!(
            "From: {from}\nTo: {to}\nSubject: {subject}\n\nbody\n"
        ));
        report.findings.into_iter().map(|f| f.id).collect()
    }

    /// A brand name in a From field without an address is still a claim of the brand.
    #[test]
    fn brand_name_without_address_claims_the_brand() {
        let report = crate::analysis::test_support::analyse_text(
            "From: \"Facebook\" <>\nSubject: s\n\nbody\n",
        );
        let finding = report
            .findings
            .iter()
            .find(|f| f.id == "sender.display-name-brand")
            .expect("a brand finding");
        assert!(
            finding.detail.contains(
                "the From field has no address at all, only the name, so nothing ties it"
            ),
            "{}",
            finding.detail
        );
        let no_valid = report
            .findings
            .iter()
            .find(|f| f.id == "sender.no-valid-mailbox")
            .expect("a no-valid-mailbox finding");
        assert!(
            !no_valid.detail.contains("encoded-word"),
            "{}",
            no_valid.detail
        );
    }

    #[test]
    fn outlook_test_message_is_not_impersonation() {
        let ids = message_ids(
            "Microsoft Outlook <user@example.com>",
            "User <user@example.com>",
            "Microsoft Outlook Test Message",
        );
        assert!(
            !ids.contains(&"sender.display-name-brand".to_string()),
            "{ids:?}"
        );
        assert!(
            ids.contains(&"sender.outlook-test-message".to_string()),
            "{ids:?}"
        );
    }

    #[test]
    fn reply_to_lookalike_table() {
        // (From, Reply-To, whether the Reply-To domain is reported as a look-alike)
        let cases = [
            // One letter changed, and a capital I for an l that lower case would hide.
            ("ceo@example-corp.com", "ceo@example-c0rp.com", true),
            (
                "\"billing@northwind-traders.com\" <noreply@example.net>",
                "billing@northwindtrader.com",
                true,
            ),
            ("Accounts <ap@contoso-ltd.com>", "ap@contoso-Itd.com", true),
            // The same name under another suffix or joined to other words: often the same
            // company's other domain.
            ("news@example-corp.com", "help@example-corp.net", false),
            ("news@example-corp.com", "help@example-corp.de", false),
            ("news@example-corp.co.uk", "help@example-corp.co", false),
            // The suffix with a letter left out, or .cam for .com.
            ("ceo@example-corp.com", "ceo@example-corp.co", true),
            ("ceo@example-corp.com", "ceo@example-corp.cm", true),
            ("ceo@example-corp.com", "ceo@example-corp.om", true),
            ("ceo@example-corp.com", "ceo@example-corp.cam", true),
            ("ceo@example-corp.net", "ceo@example-corp.ne", true),
            ("ceo@example-corp.co", "ceo@example-corp.com", false),
            (
                "news@example-corp.com",
                "help@example-corp-support.com",
                false,
            ),
            // Unrelated, and the From domain itself.
            ("news@example.com", "help@example.org", false),
            ("news@example-corp.com", "help@mail.example-corp.com", false),
            // A company's own variants, and two free-mail accounts of one person.
            ("jane@gmail.com", "jane@ymail.com", false),
            ("news@examplecorp.com", "news@example-corp.com", false),
            ("info@straße-example.de", "info@strasse-example.de", false),
            ("news@example24.de", "news@example.de", false),
            ("orders@northwinduk.com", "orders@northwind.com", false),
            // Two neighbouring letters swapped count as one edit.
            ("ap@contoso.com", "ap@conotso.com", true),
            // A plural s is not such a variant.
            ("ap@example-corp.com", "ap@example-corps.com", true),
            // A punycode From meets a Unicode Reply-To.
            ("info@xn--bcher-kva.de", "info@bucher.de", true),
            // The display name's domain is checked even when the From domain is close to
            // the Reply-To in a way that does not count.
            (
                "\"ap@northwind-traders.com\" <ap@northwind-tradrs.net>",
                "ap@northwind-tradrs.com",
                true,
            ),
        ];
        for (from, reply_to, flagged) in cases {
            let report = crate::analysis::test_support::analyse_text(&format!(
                "From: {from}\nReply-To: {reply_to}\nTo: a@example.org\nSubject: invoice\n\nbody\n"
            ));
            let finding = report
                .findings
                .iter()
                .find(|f| f.id == "sender.reply-to-lookalike");
            assert_eq!(finding.is_some(), flagged, "{from} / {reply_to}");
            if let Some(finding) = finding {
                assert!(finding.detail.contains(reply_to), "{}", finding.detail);
            }
        }
    }

    #[test]
    fn outlook_near_misses_keep_brand_finding() {
        let cases = [
            // Sent to someone else.
            (
                "Microsoft Outlook <user@example.com>",
                "victim@example.net",
                "Microsoft Outlook Test Message",
            ),
            // Another subject.
            (
                "Microsoft Outlook <user@example.com>",
                "user@example.com",
                "Microsoft Outlook: mailbox full",
            ),
            // Another display name.
            (
                "Microsoft Outlook Team <user@example.com>",
                "user@example.com",
                "Microsoft Outlook Test Message",
            ),
        ];
        for (from, to, subject) in cases {
            let ids = message_ids(from, to, subject);
            assert!(
                ids.contains(&"sender.display-name-brand".to_string()),
                "{from} {to} {subject}: {ids:?}"
            );
            assert!(
                !ids.contains(&"sender.outlook-test-message".to_string()),
                "{ids:?}"
            );
        }
    }
    use super::*;

    fn ids(display: &str, domain: &str, vips: &[&str]) -> Vec<String> {
        let org = vec!["example.com".to_string()];
        let vips: Vec<String> = vips.iter().map(|v| v.to_string()).collect();
        display_name_findings(display, domain, &org, &vips)
            .into_iter()
            .map(|f| f.id)
            .collect()
    }

    #[test]
    fn folding_table() {
        let cases = [
            ("PayPal", vec!["paypal"]),
            ("PAYPAL Service", vec!["paypal", "service"]),
            ("Itaú Unibanco", vec!["itau", "unibanco"]),
            ("App|e", vec!["apple"]),
            ("WaIIet", vec!["waiiet"]),
            ("|BANCO|", vec!["banco"]),
            ("Pay\u{200D}Pal", vec!["paypal"]),
            ("F.e.d.E.x", vec!["f", "e", "d", "e", "x"]),
            ("Μetamаsk", vec!["rnetarnask"]),
            ("Metamask", vec!["rnetarnask"]),
            ("", vec![]),
        ];
        for (text, words) in cases {
            assert_eq!(FoldedName::new(text).words, words, "{text}");
        }
    }

    #[test]
    fn brand_display_name_table() {
        let cases = [
            ("PayPal", "example.net", true),
            ("PayPal", "paypal.com", false),
            ("PayPal", "mail.paypal.com", false),
            ("DocuSign 4821", "example.org", true),
            ("Microsoft 365", "example.net", true),
            ("Microsoft 365", "microsoft.com", false),
            // Any Microsoft 365 tenant, an attacker's too, sends from onmicrosoft.com.
            ("Microsoft Account", "contoso.onmicrosoft.com", true),
            ("Support Netflix", "example.net", true),
            ("F.e.d.E.x", "example.net", true),
            ("Μetamаsk", "example.net", true),
            ("Banco do Brasil S.A", "example.net", true),
            ("Apple", "example.net", true),
            ("Apple", "icloud.com", false),
            ("Jane Apple", "example.net", false),
            ("Chase Miller", "example.net", false),
            ("Start ups weekly", "example.net", false),
            ("Alice Example", "example.net", false),
            // Letters spaced out, or split by invisible characters, still spell the name.
            ("I T A Ú - Feito com você", "example.net", true),
            ("P a y P a l Service", "example.net", true),
            (
                "V\u{200D}e\u{200D}n\u{200D}m\u{200D}o Support",
                "example.net",
                true,
            ),
            ("J R R Tolkien", "example.net", false),
            // Names added from gift-card and reward lures.
            ("Lowes ®", "example.net", true),
            ("Costco Surprise", "example.net", true),
            ("proton.me Helpdesk", "example.net", true),
            ("Proton Therapy Center", "example.net", false),
            ("Lowe's", "lowes.com", false),
            // A capital I for a small l, and bars around the name.
            ("PayPaI", "example.net", true),
            ("Trust WaIIet", "example.net", true),
            // A small l for a small i of a brand name of five letters or more, alone or
            // with a capital I for another l.
            ("lCIoud Almacenamiento", "example.net", true),
            ("lCloud", "example.net", true),
            ("Mlcrosoft Teams", "example.net", true),
            ("Spotlfy Premium", "example.net", true),
            // A display name's small letters are never changed, and a brand's i is
            // written as l only in words of five letters or more and not beside an l.
            ("Nell Harper", "example.net", false),
            // A capital L does not look like an i.
            ("LCloud", "example.net", false),
            ("L Cloud Sp. z o.o.", "example.net", false),
            ("L-Tunes", "example.net", false),
            ("Royal Mall", "example.net", false),
            ("Apple ld", "example.net", false),
            ("|BANCO DO BRASIL|", "example.net", true),
            ("Office365 Admin", "example.net", true),
            // A small i is not read as l, so names that differ from a brand by i and l
            // alone do not match.
            ("Appie", "example.net", false),
            ("Dhi Patel", "example.net", false),
            ("Proton Mall", "example.net", false),
            // Surnames and common words that are also brand names match only as the
            // whole display name.
            ("Sarah Lowes", "example.net", false),
            ("Temu Kask", "example.net", false),
            ("Paramount Realty Group", "example.net", false),
            ("Temu", "example.net", true),
            ("Dana McIntosh, LRS", "example.net", false),
            ("Linkedln Jobs", "example.net", true),
            ("NetfⅠix", "example.net", true),
            ("Trust WaＩＩet", "example.net", true),
        ];
        for (display, domain, flagged) in cases {
            let found = ids(display, domain, &[]).contains(&"sender.display-name-brand".into());
            assert_eq!(found, flagged, "{display} <{domain}>");
        }
    }

    #[test]
    fn vip_display_name_table() {
        let vips = [
            "Alice Example",
            "Bob O'Example",
            "Nell Brown",
            "Ian McIntosh",
        ];
        let cases = [
            ("Alice Example", "example.net", true),
            // A capital I for the l of a VIP's name matches; another real name does not.
            ("NeII Brown", "example.net", true),
            ("Neil Brown", "example.net", false),
            ("NEIL BROWN", "example.net", false),
            // Only the word that writes the capital I is read with l.
            ("Nell Brown, McIntosh Ltd", "example.net", true),
            ("Neil Brown, McIntosh Ltd", "example.net", false),
            ("Ian Mclntosh", "example.net", true),
            ("alice  example", "example.org", true),
            ("Alice Example (CEO)", "example.net", true),
            ("Bob O'Example", "example.net", true),
            ("Alice Example", "example.com", false),
            ("Alice Example", "mail.example.com", false),
            ("Alice", "example.net", false),
            ("Carol Example", "example.net", false),
        ];
        for (display, domain, flagged) in cases {
            let found = ids(display, domain, &vips).contains(&"sender.display-name-vip".into());
            assert_eq!(found, flagged, "{display} <{domain}>");
        }
    }

    #[test]
    fn obfuscation_table() {
        let cases = [
            ("V\u{200D}e\u{200D}\u{200D}n\u{200D}m\u{200D}o", true),
            ("s\u{034F}e\u{034F}r\u{034F}v", true),
            ("Μetamаsk", true),
            ("ΝFT Drop", true),
            ("UPS \u{2714}\u{FE0F}", false),
            ("José Müller", false),
            ("Иван Petrov", false),
            ("山田 太郎", false),
            ("iPhone使い", false),
            ("trailing\u{200B}", false),
        ];
        for (display, flagged) in cases {
            assert_eq!(obfuscation(display).is_some(), flagged, "{display:?}");
        }
    }
}
