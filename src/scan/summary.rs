//! Campaign summary of a scan: messages by verdict, top origin addresses and networks, IP
//! list matches, groups of messages sharing the same stripped headers, top From
//! organisational domains, and the counts of messages read, filtered out and errored.

use crate::analysis::Report;
use crate::analysis::score::Verdict;
use crate::analysis::sender::org_domain;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// What the summary keeps of one message.
#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    pub verdict: Verdict,
    pub score: u32,
    pub origin_ip: Option<IpAddr>,
    /// `list entry` of every IP list match.
    pub ip_matches: Vec<String>,
    /// Sorted names of the headers that stripped-header findings list.
    pub stripped_headers: Vec<String>,
    pub from_org_domain: Option<String>,
}

impl Digest {
    /// Reduces a report to what the summary needs.
    pub fn from_report(report: &Report) -> Digest {
        let mut stripped: Vec<String> = report
            .findings
            .iter()
            .filter(|f| {
                f.id.starts_with("stripped.") && f.severity > crate::finding::Severity::Info
            })
            .flat_map(|f| f.headers.iter().cloned())
            .collect();
        // Spellings of one name sort next to each other, so dedup keeps the one that sorts
        // first, as the summary does.
        stripped.sort_by_cached_key(|h| (h.to_ascii_lowercase(), h.clone()));
        stripped.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let mut ip_matches: Vec<String> = report
            .ip_matches
            .iter()
            .map(|m| format!("{} {}", m.list, m.entry))
            .collect();
        ip_matches.sort();
        ip_matches.dedup();
        Digest {
            verdict: report.spoof.verdict,
            score: report.spoof.score,
            origin_ip: report.origin.as_ref().and_then(|o| o.ip),
            ip_matches,
            stripped_headers: stripped,
            from_org_domain: report.message.from_domain().as_deref().and_then(org_domain),
        }
    }
}

/// Running totals of a scan.
#[derive(Debug, Default)]
pub struct Summary {
    pub messages: usize,
    /// Messages analysed but left out of the output by `--min-score` or `--verdict`.
    pub filtered_out: usize,
    pub errors: usize,
    pub panics: usize,
    by_verdict: BTreeMap<Verdict, usize>,
    origin_ips: HashMap<IpAddr, usize>,
    networks: HashMap<String, usize>,
    ip_matches: HashMap<String, usize>,
    /// Message counts by set of stripped header names, in lower case.
    stripped_groups: HashMap<Vec<String>, usize>,
    /// Spelling shown for each lower-case header name: of the spellings seen, the one that
    /// sorts first in byte order, so `Message-ID` wins over `message-id` in every run.
    header_spellings: HashMap<String, String>,
    from_domains: HashMap<String, usize>,
}

/// Number of entries shown in each top list.
const TOP: usize = 10;

impl Summary {
    /// Adds one analysed message.
    pub fn add(&mut self, digest: &Digest) {
        self.messages += 1;
        *self.by_verdict.entry(digest.verdict).or_default() += 1;
        if let Some(ip) = digest.origin_ip {
            *self.origin_ips.entry(ip).or_default() += 1;
            *self.networks.entry(network_of(ip)).or_default() += 1;
        }
        for entry in &digest.ip_matches {
            *self.ip_matches.entry(entry.clone()).or_default() += 1;
        }
        if !digest.stripped_headers.is_empty() {
            let group = digest
                .stripped_headers
                .iter()
                .map(|name| self.add_spelling(name))
                .collect();
            *self.stripped_groups.entry(group).or_default() += 1;
        }
        if let Some(domain) = &digest.from_org_domain {
            *self.from_domains.entry(domain.clone()).or_default() += 1;
        }
    }

    /// Records `name` as a spelling of a header name and returns the name in lower case.
    fn add_spelling(&mut self, name: &str) -> String {
        let key = name.to_ascii_lowercase();
        let spelling = self
            .header_spellings
            .entry(key.clone())
            .or_insert_with(|| name.to_string());
        if name < spelling.as_str() {
            *spelling = name.to_string();
        }
        key
    }

    /// Adds one message or file that produced no report.
    pub fn add_error(&mut self, error: &crate::scan::ScanError) {
        self.errors += 1;
        self.panics += usize::from(error.panicked);
    }

    /// Number of analysed messages written to the output.
    pub fn reported(&self) -> usize {
        self.messages.saturating_sub(self.filtered_out)
    }

    /// Returns the summary as the JSON Lines summary record.
    pub fn to_json(&self) -> Value {
        let verdicts: BTreeMap<&str, usize> = [Verdict::Low, Verdict::Medium, Verdict::High]
            .iter()
            .map(|v| (v.as_str(), self.by_verdict.get(v).copied().unwrap_or(0)))
            .collect();
        json!({
            "record": "summary",
            "messages": self.messages,
            "reported": self.reported(),
            "filtered_out": self.filtered_out,
            "errors": self.errors,
            "panics": self.panics,
            "by_verdict": verdicts,
            "top_origin_ips": with_provider(top(&self.origin_ips, |ip| ip.to_string())),
            "top_networks": with_provider(top(&self.networks, Clone::clone)),
            "ip_matches": top_all(&self.ip_matches),
            "stripped_header_groups": self.stripped_group_list(),
            "top_from_domains": top(&self.from_domains, Clone::clone),
            "not_shown": {
                "top_origin_ips": not_shown(&self.origin_ips),
                "top_networks": not_shown(&self.networks),
                "top_from_domains": not_shown(&self.from_domains),
            },
        })
    }

    fn stripped_group_list(&self) -> Vec<Value> {
        let mut groups: Vec<(&Vec<String>, &usize)> = self.stripped_groups.iter().collect();
        groups.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        groups
            .into_iter()
            .take(TOP)
            .map(|(keys, count)| {
                let headers: Vec<&str> = keys
                    .iter()
                    .map(|key| self.header_spellings.get(key).unwrap_or(key).as_str())
                    .collect();
                json!({"headers": headers, "messages": count})
            })
            .collect()
    }

    /// Renders the summary as text.
    pub fn render_text(&self) -> String {
        let value = self.to_json();
        let mut out = String::from("\nCampaign summary\n");
        out.push_str(&format!(
            "  messages analysed: {} (reported {}, filtered out {}), errors: {} (of which panics: {})\n",
            self.messages,
            self.reported(),
            self.filtered_out,
            self.errors,
            self.panics
        ));
        out.push_str(&format!(
            "  by verdict: high {}, medium {}, low {}\n",
            value["by_verdict"]["high"], value["by_verdict"]["medium"], value["by_verdict"]["low"]
        ));
        for (title, key) in [
            ("top origin IPs", "top_origin_ips"),
            ("top origin networks", "top_networks"),
            ("IP list matches", "ip_matches"),
            ("top From organisational domains", "top_from_domains"),
        ] {
            let rows = value[key].as_array().cloned().unwrap_or_default();
            if rows.is_empty() {
                continue;
            }
            out.push_str(&format!("  {title}:\n"));
            for row in rows {
                let name =
                    crate::report::escape::escape_terminal(row["value"].as_str().unwrap_or(""));
                // A provider's relay names the provider, not a sender to report.
                let provider = row["provider"]
                    .as_str()
                    .map_or(String::new(), |p| format!("  ({p} relay)"));
                let messages = row["messages"].as_u64().unwrap_or(0);
                out.push_str(&format!("    {messages:>7}  {name}{provider}\n"));
            }
            if let Some(line) = not_shown_line(&value["not_shown"][key]) {
                out.push_str(&line);
            }
        }
        // Sets that only one message has are not shared, so they are counted, not listed.
        let shared: Vec<Value> = self
            .stripped_group_list()
            .into_iter()
            .filter(|group| group["messages"].as_u64().unwrap_or(0) > 1)
            .collect();
        let unshared = self.stripped_groups.values().filter(|&&n| n == 1).count();
        if !shared.is_empty() || unshared > 0 {
            out.push_str("  messages sharing the same stripped headers:\n");
        }
        for group in shared {
            let names: Vec<&str> = group["headers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            out.push_str(&format!(
                "    {:>7}  {}\n",
                group["messages"].as_u64().unwrap_or(0),
                crate::report::escape::escape_terminal(&names.join(", "))
            ));
        }
        if unshared > 0 {
            let noun = if unshared == 1 {
                "message has a set"
            } else {
                "messages have a set each"
            };
            out.push_str(&format!(
                "    {unshared:>7}  {noun} that no other message shares (see their reports)\n"
            ));
        }
        out
    }
}

/// Adds `provider` to rows whose address or network start is in a mail provider's published
/// ranges (`Microsoft`, `Google`), and `null` to the others.
fn with_provider(rows: Vec<Value>) -> Vec<Value> {
    rows.into_iter()
        .map(|mut row| {
            let text = row["value"].as_str().unwrap_or("");
            let address = text.split('/').next().unwrap_or(text);
            let provider = address
                .parse::<IpAddr>()
                .ok()
                .and_then(crate::platform::ranges::provider_range)
                .map(|range| crate::platform::ranges::provider_name(range.provider));
            row["provider"] = json!(provider);
            row
        })
        .collect()
}

/// Returns the /24 (IPv4) or /48 (IPv6) network of an address.
fn network_of(ip: IpAddr) -> String {
    let prefix = if ip.is_ipv4() { 24 } else { 48 };
    ipnet::IpNet::new(ip, prefix).map_or_else(|_| ip.to_string(), |net| net.trunc().to_string())
}

fn top<K, F: Fn(&K) -> String>(counts: &HashMap<K, usize>, name: F) -> Vec<Value> {
    let mut rows: Vec<(String, usize)> = counts.iter().map(|(k, v)| (name(k), *v)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows.into_iter()
        .take(TOP)
        .map(|(value, messages)| json!({"value": value, "messages": messages}))
        .collect()
}

/// Counts the entries of `counts` that a top list leaves out: how many, their messages,
/// and how many have as many messages as the last one shown. The last count makes a cut
/// between equal counts visible.
fn not_shown<K>(counts: &HashMap<K, usize>) -> Value {
    let mut sizes: Vec<usize> = counts.values().copied().collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let (Some(&last_shown), Some(rest)) = (sizes.get(TOP.saturating_sub(1)), sizes.get(TOP..))
    else {
        return json!({"entries": 0, "messages": 0, "tied_with_last": 0});
    };
    let tied = rest.iter().filter(|&&n| n == last_shown).count();
    json!({
        "entries": rest.len(),
        "messages": rest.iter().sum::<usize>(),
        "tied_with_last": tied,
    })
}

/// Renders the line under a top list about the entries it leaves out, if any.
fn not_shown_line(not_shown: &Value) -> Option<String> {
    let entries = not_shown["entries"].as_u64().filter(|&n| n > 0)?;
    let messages = not_shown["messages"].as_u64().unwrap_or(0);
    let tied = not_shown["tied_with_last"].as_u64().unwrap_or(0);
    let ties = if tied > 0 {
        format!(", {tied} of them with as many messages as the last one shown")
    } else {
        String::new()
    };
    Some(format!(
        "             {entries} more not shown ({messages} messages{ties})\n"
    ))
}

fn top_all(counts: &HashMap<String, usize>) -> Vec<Value> {
    let mut rows: Vec<(&String, &usize)> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    rows.into_iter()
        .map(|(value, messages)| json!({"value": value, "messages": messages}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(verdict: Verdict, ip: &str, stripped: &[&str]) -> Digest {
        Digest {
            verdict,
            score: 0,
            origin_ip: ip.parse().ok(),
            ip_matches: Vec::new(),
            stripped_headers: stripped.iter().map(|s| s.to_string()).collect(),
            from_org_domain: Some("example.com".into()),
        }
    }

    #[test]
    fn totals_add_up() {
        let mut summary = Summary::default();
        summary.add(&digest(Verdict::High, "192.0.2.1", &["Received"]));
        summary.add(&digest(Verdict::High, "192.0.2.7", &["Received"]));
        summary.add(&digest(Verdict::Low, "2001:db8::1", &[]));
        let value = summary.to_json();
        assert_eq!(value["messages"], 3);
        assert_eq!(value["by_verdict"]["high"], 2);
        assert_eq!(value["by_verdict"]["low"], 1);
        assert_eq!(value["top_networks"][0]["value"], "192.0.2.0/24");
        assert_eq!(value["top_networks"][0]["messages"], 2);
        assert_eq!(value["stripped_header_groups"][0]["messages"], 2);
        assert_eq!(value["top_from_domains"][0]["messages"], 3);
    }

    /// Origins on a provider's published relays are marked, so that the analyst does not
    /// report Microsoft or Google as the sender.
    #[test]
    fn provider_relays_marked() {
        let mut summary = Summary::default();
        summary.add(&digest(Verdict::Low, "52.100.166.220", &[]));
        summary.add(&digest(Verdict::Low, "192.0.2.1", &[]));
        let value = summary.to_json();
        let providers: Vec<(&str, &Value)> = value["top_origin_ips"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (row["value"].as_str().unwrap(), &row["provider"]))
            .collect();
        assert_eq!(
            providers,
            [
                ("192.0.2.1", &Value::Null),
                ("52.100.166.220", &json!("Microsoft"))
            ]
        );
        assert_eq!(value["top_networks"][1]["provider"], "Microsoft");
        let text = summary.render_text();
        assert!(text.contains("52.100.166.220  (Microsoft relay)"), "{text}");
        assert!(text.contains("\n          1  192.0.2.1\n"), "{text}");
    }

    #[test]
    fn stripped_groups_ignore_name_case() {
        let mut summary = Summary::default();
        summary.add(&digest(Verdict::High, "192.0.2.1", &["message-id"]));
        summary.add(&digest(Verdict::High, "192.0.2.2", &["Message-ID"]));
        summary.add(&digest(
            Verdict::High,
            "192.0.2.3",
            &["Message-Id", "Received"],
        ));
        summary.add(&digest(
            Verdict::High,
            "192.0.2.4",
            &["MESSAGE-ID", "received"],
        ));
        let value = summary.to_json();
        let groups = value["stripped_header_groups"].as_array().unwrap();
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0]["headers"], json!(["MESSAGE-ID"]));
        assert_eq!(groups[0]["messages"], 2);
        assert_eq!(groups[1]["headers"], json!(["MESSAGE-ID", "Received"]));
        assert_eq!(groups[1]["messages"], 2);
        assert_eq!(summary.render_text().matches("MESSAGE-ID").count(), 2);
    }

    /// A set of stripped headers that one message has is counted, not listed as shared.
    #[test]
    fn unshared_stripped_sets_are_counted() {
        let mut summary = Summary::default();
        summary.add(&digest(Verdict::High, "192.0.2.1", &["Message-ID"]));
        summary.add(&digest(Verdict::High, "192.0.2.2", &["Message-ID"]));
        summary.add(&digest(Verdict::High, "192.0.2.3", &["Received"]));
        let text = summary.render_text();
        assert!(text.contains("      2  Message-ID\n"), "{text}");
        assert!(!text.contains("  Received\n"), "{text}");
        assert!(
            text.contains("      1  message has a set that no other message shares"),
            "{text}"
        );
    }

    /// A top list reports how many entries it leaves out, and how many of those have as
    /// many messages as its last entry.
    #[test]
    fn top_list_tells_what_it_leaves_out() {
        let mut summary = Summary::default();
        for n in 0..12 {
            summary.add(&digest(Verdict::Low, &format!("192.0.2.{n}"), &[]));
        }
        summary.add(&digest(Verdict::Low, "192.0.2.0", &[]));
        let value = summary.to_json();
        assert_eq!(
            value["not_shown"]["top_origin_ips"],
            json!({"entries": 2, "messages": 2, "tied_with_last": 2})
        );
        let text = summary.render_text();
        assert!(
            text.contains("2 more not shown (2 messages, 2 of them with as many messages as the last one shown)"),
            "{text}"
        );
        assert_eq!(
            value["not_shown"]["top_networks"],
            json!({"entries": 0, "messages": 0, "tied_with_last": 0})
        );
    }

    #[test]
    fn digest_keeps_one_spelling_per_header() {
        let mut report = crate::analysis::test_support::analyse_text("From: a@example.com\n\nx\n");
        let finding = crate::finding::Finding::new(
            "stripped.test",
            crate::finding::Severity::Medium,
            "Headers removed",
            "Test finding that lists one header in two spellings.",
        );
        report
            .findings
            .push(finding.with_header("message-id").with_header("Message-ID"));
        assert_eq!(
            Digest::from_report(&report).stripped_headers,
            ["Message-ID"]
        );
    }

    #[test]
    fn errors_and_panics_are_counted() {
        let mut summary = Summary::default();
        let error = |panicked| crate::scan::ScanError {
            path: "box.mbox".into(),
            index: Some(3),
            reason: "failed".into(),
            panicked,
        };
        summary.add_error(&error(false));
        summary.add_error(&error(true));
        summary.add(&digest(Verdict::Low, "192.0.2.1", &[]));
        summary.filtered_out += 1;
        let value = summary.to_json();
        assert_eq!(value["errors"], 2);
        assert_eq!(value["panics"], 1);
        assert_eq!(value["messages"], 1);
        assert_eq!(value["reported"], 0);
        assert_eq!(value["filtered_out"], 1);
    }
}
