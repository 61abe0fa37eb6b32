//! Published mail infrastructure ranges of the large receiving platforms, as data with
//! their source and the date they were taken.
//!
//! The ranges change over time; each source names where to fetch the current list. An
//! address in one of them is provider infrastructure, not the recipient's own server:
//! Microsoft's outbound ranges also carry every other tenant's mail, so the trust boundary
//! still treats another tenant's `*.outbound.protection.outlook.com` host as external.

use crate::iplist::{IpList, IpListEntry, parse_net};
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;
use std::sync::LazyLock;

/// Returns the display name of a provider id of [`ProviderRange`]: `Microsoft`, `Google`.
pub fn provider_name(provider: &str) -> &str {
    match provider {
        "microsoft" => "Microsoft",
        "google" => "Google",
        other => other,
    }
}

/// One published range and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderRange {
    pub net: IpNet,
    /// Platform family: `microsoft` or `google`.
    pub provider: &'static str,
    /// Service that uses the range, such as `Exchange Online Protection`.
    pub label: &'static str,
    pub source: &'static str,
    /// Date (YYYY-MM-DD) of the publication or snapshot the range was copied from.
    pub taken: &'static str,
}

const MICROSOFT_SOURCE: &str = "Microsoft's SPF record spf.protection.outlook.com as published on 2023-05-24 (2a01:111:f403::/48 covers the /49 to /52 blocks it lists). Microsoft's \"Microsoft 365 URLs and IP address ranges\" page is the authoritative list. Refresh with `dig TXT spf.protection.outlook.com`";
const MICROSOFT_TAKEN: &str = "2023-05-24";
const GOOGLE_SOURCE: &str = "Google's SPF record _spf.google.com and the _netblocks, _netblocks2 and _netblocks3.google.com records it includes, which Google's \"Google IP address ranges for outbound mail servers\" (support.google.com/a/answer/60764) names as the list of its mail server addresses; written down from published copies of those records, not from a live query, so the date is when they were written into mailtrace, not when Google published them. Refresh with `dig TXT _netblocks.google.com` and the other two";
// NOTE: the Google rows were not checked against a live lookup, because there was no network
// where they were written. Treat them as approximate until refreshed with the dig commands.
const GOOGLE_TAKEN: &str = "2026-12-04 (not checked against a live lookup)";

/// (network, provider, label) rows; the source and date follow from the provider.
const RANGES: &[(&str, &str, &str)] = &[
    ("40.92.0.0/15", "microsoft", "Exchange Online Protection"),
    ("40.107.0.0/16", "microsoft", "Exchange Online Protection"),
    ("52.100.0.0/14", "microsoft", "Exchange Online Protection"),
    ("104.47.0.0/17", "microsoft", "Exchange Online Protection"),
    (
        "2a01:111:f400::/48",
        "microsoft",
        "Exchange Online Protection",
    ),
    (
        "2a01:111:f403::/48",
        "microsoft",
        "Exchange Online Protection",
    ),
    (
        "35.190.247.0/24",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "64.233.160.0/19",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "66.102.0.0/20",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "66.249.80.0/20",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "72.14.192.0/18",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "74.125.0.0/16",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "108.177.8.0/21",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "173.194.0.0/16",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "209.85.128.0/17",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "216.58.192.0/19",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "216.239.32.0/19",
        "google",
        "Google mail servers (_netblocks)",
    ),
    (
        "2001:4860:4000::/36",
        "google",
        "Google mail servers (_netblocks2)",
    ),
    (
        "2404:6800:4000::/36",
        "google",
        "Google mail servers (_netblocks2)",
    ),
    (
        "2607:f8b0:4000::/36",
        "google",
        "Google mail servers (_netblocks2)",
    ),
    (
        "2800:3f0:4000::/36",
        "google",
        "Google mail servers (_netblocks2)",
    ),
    (
        "2a00:1450:4000::/36",
        "google",
        "Google mail servers (_netblocks2)",
    ),
    (
        "2c0f:fb50:4000::/36",
        "google",
        "Google mail servers (_netblocks2)",
    ),
    (
        "172.217.0.0/19",
        "google",
        "Google mail servers (_netblocks3)",
    ),
    (
        "172.217.32.0/20",
        "google",
        "Google mail servers (_netblocks3)",
    ),
    (
        "172.217.128.0/19",
        "google",
        "Google mail servers (_netblocks3)",
    ),
    (
        "172.217.160.0/20",
        "google",
        "Google mail servers (_netblocks3)",
    ),
    (
        "172.217.192.0/19",
        "google",
        "Google mail servers (_netblocks3)",
    ),
    (
        "172.253.56.0/21",
        "google",
        "Google mail servers (_netblocks3)",
    ),
    (
        "172.253.112.0/20",
        "google",
        "Google mail servers (_netblocks3)",
    ),
    (
        "108.177.96.0/19",
        "google",
        "Google mail servers (_netblocks3)",
    ),
    (
        "35.191.0.0/16",
        "google",
        "Google mail servers (_netblocks3)",
    ),
    (
        "130.211.0.0/22",
        "google",
        "Google mail servers (_netblocks3)",
    ),
];

static PROVIDER_RANGES: LazyLock<Vec<ProviderRange>> = LazyLock::new(|| {
    RANGES
        .iter()
        .filter_map(|(net, provider, label)| {
            let (source, taken) = match *provider {
                "microsoft" => (MICROSOFT_SOURCE, MICROSOFT_TAKEN),
                _ => (GOOGLE_SOURCE, GOOGLE_TAKEN),
            };
            Some(ProviderRange {
                net: parse_net(net)?,
                provider,
                label,
                source,
                taken,
            })
        })
        .collect()
});

/// Returns every built-in provider range.
pub fn provider_ranges() -> &'static [ProviderRange] {
    &PROVIDER_RANGES
}

/// Returns the provider range that contains `ip`, if any.
pub fn provider_range(ip: IpAddr) -> Option<&'static ProviderRange> {
    let ip = crate::iplist::unmap(ip);
    provider_ranges().iter().find(|r| r.net.contains(&ip))
}

/// Returns the provider ranges as IP lists, one per provider, for `mailtrace lists`.
pub fn provider_lists() -> Vec<IpList> {
    ["microsoft", "google"]
        .iter()
        .map(|provider| {
            let ranges: Vec<&ProviderRange> = provider_ranges()
                .iter()
                .filter(|r| r.provider == *provider)
                .collect();
            let source = ranges
                .first()
                .map(|r| {
                    format!(
                        "{} (taken {}; these ranges change over time)",
                        r.source, r.taken
                    )
                })
                .unwrap_or_default();
            IpList {
                name: format!("provider-{provider}"),
                source,
                entries: ranges
                    .iter()
                    .map(|r| IpListEntry {
                        net: r.net,
                        label: Some(r.label.to_string()),
                        line: None,
                    })
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_parses() {
        assert_eq!(provider_ranges().len(), RANGES.len());
    }

    #[test]
    fn lookup_table() {
        let cases = [
            ("40.107.15.92", Some("microsoft")),
            ("2a01:111:f403:c000::1", Some("microsoft")),
            ("209.85.167.65", Some("google")),
            ("2607:f8b0:4864:20::62a", Some("google")),
            ("192.0.2.1", None),
            ("2001:db8::1", None),
        ];
        for (ip, expected) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(provider_range(ip).map(|r| r.provider), expected, "{ip}");
        }
    }
}
