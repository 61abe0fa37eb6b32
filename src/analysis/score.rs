//! Spoof score: a sum of signals, each with its points and reason, capped at 100.
//!
//! Points are never negative, so adding evidence never lowers the score. The default
//! weights live in [`SIGNALS`]; `mailtrace.toml` can override them by id.

use serde::Serialize;
use std::collections::BTreeMap;

/// Default signal table: id, points, and why the signal counts.
pub const SIGNALS: &[(&str, u32, &str)] = &[
    (
        "rogue-connector",
        45,
        "Exchange Online attributed the message to an on-premises (hybrid) connector whose address is not one of the organisation's declared connectors: the fingerprint of a rogue inbound connector",
    ),
    (
        "tenant-relay",
        40,
        "Another Microsoft 365 tenant relayed the message out from an outside address on its IP Allow List, the fingerprint of a rogue or abused inbound connector seen from the recipient's side",
    ),
    (
        "iplist-campaign",
        50,
        "A relay or connecting address is on a built-in list of a known abuse campaign",
    ),
    (
        "iplist-user",
        30,
        "A relay or connecting address is on an IP list the analyst supplied",
    ),
    (
        "stripped-high",
        35,
        "Authentication or routing headers that the receiving platform always writes were removed",
    ),
    (
        "stripped-medium",
        15,
        "Headers covered by a signature or counted on arrival are now absent",
    ),
    (
        "dmarc-fail",
        40,
        "The recipient's trusted receiver recorded dmarc=fail for the From domain",
    ),
    (
        "dmarc-missing",
        10,
        "No trusted DMARC result passed for the From domain",
    ),
    (
        "spf-fail",
        15,
        "The recipient's trusted receiver recorded spf=fail",
    ),
    (
        "spf-softfail",
        8,
        "The recipient's trusted receiver recorded spf=softfail",
    ),
    (
        "dkim-fail",
        10,
        "The recipient's trusted receiver recorded dkim=fail",
    ),
    (
        "not-aligned",
        15,
        "The From organisational domain matches neither a DKIM signing domain nor the envelope sender domain",
    ),
    (
        "from-unauthenticated",
        15,
        "The recipient's trusted receiver recorded no SPF or DKIM pass for the From organisational domain, and no DMARC or compauth verdict",
    ),
    (
        "no-trusted-results",
        5,
        "No Authentication-Results from the recipient's own systems: verdicts cannot be relied on",
    ),
    (
        "reply-to-other-domain",
        10,
        "Replies go to another organisational domain than the From address",
    ),
    (
        "system-account-envelope",
        20,
        "The envelope sender is a system account (root, www-data) of a server outside the From domain: mail sent by a script on that server",
    ),
    (
        "display-name-address",
        25,
        "The display name contains an address of another domain than the real sender",
    ),
    (
        "address-in-local-part",
        25,
        "The quoted local part imitates an address of another domain",
    ),
    (
        "multiple-from",
        20,
        "The message has more than one From field",
    ),
    ("no-valid-from", 20, "The From field holds no valid mailbox"),
    (
        "internal-domain-external-origin",
        40,
        "The From address is in an organisation domain but the message came from outside the organisation",
    ),
    (
        "lookalike-domain",
        40,
        "The From domain imitates an organisation domain or a commonly impersonated brand",
    ),
    (
        "display-name-brand",
        40,
        "The display name claims a commonly impersonated brand, but the address is in a domain the brand does not send from",
    ),
    (
        "display-name-vip",
        40,
        "The display name is a declared VIP's name, but the address is outside the organisation's domains",
    ),
    (
        "reply-to-lookalike",
        30,
        "Replies go to a domain that imitates the From domain or the domain the display name shows",
    ),
    (
        "display-name-obfuscated",
        25,
        "The display name hides invisible characters between letters or mixes look-alike letters of several scripts in one word",
    ),
    (
        "listed-connecting-ip",
        30,
        "The address that connected to a Microsoft 365 tenant which relayed the message is on an IP list: the tenant's authentication passes do not vouch for the sender",
    ),
    (
        "compauth-fail",
        15,
        "Microsoft's composite authentication (compauth) failed for the sender",
    ),
    (
        "forged-auth-results",
        20,
        "An Authentication-Results field claims the recipient's receiver but was present before the message reached it",
    ),
];

/// Score weights by signal id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights(BTreeMap<&'static str, u32>);

impl Default for Weights {
    fn default() -> Weights {
        Weights(
            SIGNALS
                .iter()
                .map(|(id, points, _)| (*id, *points))
                .collect(),
        )
    }
}

impl Weights {
    /// Overrides the points of one signal; unknown ids are an error listing the known ones.
    pub fn set(&mut self, id: &str, points: u32) -> Result<(), String> {
        if points > 100 {
            return Err("points must be between 0 and 100".into());
        }
        match self.0.keys().find(|known| **known == id).copied() {
            Some(known) => {
                self.0.insert(known, points);
                Ok(())
            }
            None => Err(format!(
                "unknown signal id; known ids: {}",
                self.0.keys().copied().collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// Returns the points of a signal id (0 for an unknown id).
    pub fn points(&self, id: &str) -> u32 {
        self.0.get(id).copied().unwrap_or(0)
    }
}

/// Returns the reason text of a signal id.
pub fn reason(id: &str) -> &'static str {
    SIGNALS
        .iter()
        .find(|(known, _, _)| *known == id)
        .map_or("", |(_, _, reason)| reason)
}

/// One signal that contributed to the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub id: String,
    pub points: u32,
    pub detail: String,
}

/// Verdict band of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Low,
    Medium,
    High,
}

impl Verdict {
    /// Returns the band of a score: low 0-39, medium 40-69, high 70-100.
    pub fn from_score(score: u32) -> Verdict {
        match score {
            0..=39 => Verdict::Low,
            40..=69 => Verdict::Medium,
            _ => Verdict::High,
        }
    }

    /// Returns the lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Low => "low",
            Verdict::Medium => "medium",
            Verdict::High => "high",
        }
    }
}

/// The spoof score of one message with every signal behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spoof {
    pub score: u32,
    pub verdict: Verdict,
    pub signals: Vec<Signal>,
}

/// Collects signals, one per id, and sums them.
#[derive(Debug, Default)]
pub struct ScoreBuilder {
    signals: Vec<Signal>,
}

impl ScoreBuilder {
    /// Adds a signal unless one with the same id is already present.
    pub fn add(&mut self, weights: &Weights, id: &str, detail: impl Into<String>) {
        if self.signals.iter().any(|s| s.id == id) {
            return;
        }
        let points = weights.points(id);
        if points == 0 {
            return;
        }
        self.signals.push(Signal {
            id: id.to_string(),
            points,
            detail: detail.into(),
        });
    }

    /// Sums the signals, capped at 100.
    pub fn finish(mut self) -> Spoof {
        self.signals
            .sort_by(|a, b| b.points.cmp(&a.points).then(a.id.cmp(&b.id)));
        let score = self.signals.iter().map(|s| s.points).sum::<u32>().min(100);
        Spoof {
            score,
            verdict: Verdict::from_score(score),
            signals: self.signals,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_bands() {
        assert_eq!(Verdict::from_score(0), Verdict::Low);
        assert_eq!(Verdict::from_score(39), Verdict::Low);
        assert_eq!(Verdict::from_score(40), Verdict::Medium);
        assert_eq!(Verdict::from_score(69), Verdict::Medium);
        assert_eq!(Verdict::from_score(70), Verdict::High);
        assert_eq!(Verdict::from_score(100), Verdict::High);
    }

    #[test]
    fn score_is_capped_and_monotonic() {
        let weights = Weights::default();
        let mut previous = 0;
        let mut builder = ScoreBuilder::default();
        for (id, _, _) in SIGNALS {
            builder.add(&weights, id, "");
            let score = ScoreBuilder {
                signals: builder.signals.clone(),
            }
            .finish()
            .score;
            assert!(score >= previous, "{id} lowered the score");
            previous = score;
        }
        assert_eq!(builder.finish().score, 100);
    }

    #[test]
    fn duplicate_signal_counts_once() {
        let weights = Weights::default();
        let mut builder = ScoreBuilder::default();
        builder.add(&weights, "spf-fail", "a");
        builder.add(&weights, "spf-fail", "b");
        assert_eq!(builder.finish().score, 15);
    }

    #[test]
    fn unknown_weight_is_rejected() {
        let mut weights = Weights::default();
        assert!(weights.set("no-such-signal", 5).is_err());
        assert!(weights.set("spf-fail", 101).is_err());
        weights.set("spf-fail", 3).unwrap();
        assert_eq!(weights.points("spf-fail"), 3);
    }
}
