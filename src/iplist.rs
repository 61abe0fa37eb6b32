//! IP lists: the built-in list of the 2022 connector-abuse campaign, lists the user supplies
//! (`--ip-list FILE`), and the organisation's own connector addresses.

use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;
use std::path::Path;

/// One entry of an IP list: an address or network with an optional label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpListEntry {
    pub net: IpNet,
    pub label: Option<String>,
    /// 1-based line in the file the entry came from, when it came from a file.
    pub line: Option<usize>,
}

/// A named list of addresses and networks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpList {
    pub name: String,
    /// Where the list comes from: a publication for built-in lists, a path for user lists.
    pub source: String,
    pub entries: Vec<IpListEntry>,
}

/// Error for a list file that cannot be read or has an invalid line.
#[derive(Debug, thiserror::Error)]
pub enum IpListError {
    #[error("cannot read IP list {path}: {reason}")]
    Read { path: String, reason: String },
    #[error(
        "invalid entry in IP list {path} line {line}: {text:?} is not an IP address or CIDR network (expected one per line, such as 192.0.2.1 or 198.51.100.0/24, with an optional label after a space or comma)"
    )]
    InvalidLine {
        path: String,
        line: usize,
        text: String,
    },
}

/// Name of the built-in list of the 2022 campaign's connector addresses.
pub const CAMPAIGN_2022_LIST: &str = "oauth-connector-spam-2022";

/// The addresses configured on the rogue inbound connector of the 2022 campaign.
pub const CAMPAIGN_2022_ADDRESSES: [&str; 8] = [
    "170.75.174.97",
    "170.75.172.8",
    "170.75.170.69",
    "170.75.174.95",
    "54.39.94.145",
    "149.56.200.36",
    "158.69.21.185",
    "66.70.201.131",
];

const CAMPAIGN_2022_SOURCE: &str = "Microsoft Threat Intelligence, \"Malicious OAuth applications abuse cloud email services to spread spam\", 2022-09-22: addresses of the rogue inbound connector (also set as EFSkipIPs)";

/// Returns the built-in lists.
pub fn builtin_lists() -> Vec<IpList> {
    let entries = CAMPAIGN_2022_ADDRESSES
        .iter()
        .filter_map(|text| text.parse::<IpAddr>().ok())
        .map(|ip| IpListEntry {
            net: IpNet::from(ip),
            label: Some("rogue inbound connector address (2022 OAuth spam campaign)".into()),
            line: None,
        })
        .collect();
    vec![IpList {
        name: CAMPAIGN_2022_LIST.into(),
        source: CAMPAIGN_2022_SOURCE.into(),
        entries,
    }]
}

impl IpList {
    /// Reads a list file: one IP or CIDR per line with an optional label, `#` comments and
    /// empty lines ignored; or CSV whose first row is a header naming an `ip`, `cidr`,
    /// `address` or `network` column and optionally a `label` column.
    pub fn from_file(path: &Path) -> Result<IpList, IpListError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| IpListError::Read {
            path: display.clone(),
            reason: error.to_string(),
        })?;
        let name = path
            .file_stem()
            .map_or_else(|| display.clone(), |s| s.to_string_lossy().into_owned());
        let entries = parse_list_text(&text, &display)?;
        for entry in entries.iter().filter(|e| never_matched(&e.net)) {
            tracing::warn!(
                list = %path.display(),
                line = entry.line.unwrap_or_default(),
                entry = %entry.net,
                "IP list entry is a private, loopback or link-local network, which mailtrace never matches"
            );
        }
        Ok(IpList {
            name,
            source: display,
            entries,
        })
    }

    /// Returns the first entry that contains `ip`.
    pub fn find(&self, ip: IpAddr) -> Option<&IpListEntry> {
        let ip = unmap(ip);
        self.entries.iter().find(|entry| entry.net.contains(&ip))
    }
}

/// Parses the text of a list file; `path` only names the file in errors.
pub fn parse_list_text(text: &str, path: &str) -> Result<Vec<IpListEntry>, IpListError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim().trim_start_matches('\u{feff}')))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .peekable();

    // CSV with a header row: pick the address and label columns by name.
    let mut columns = (0usize, None::<usize>);
    let mut csv = false;
    if let Some((_, first)) = lines.peek()
        && let Some(found) = csv_columns(first)
    {
        columns = found;
        csv = true;
        lines.next();
    }

    let mut entries = Vec::new();
    for (line, text) in lines {
        let (address, label) = if csv {
            let cells: Vec<&str> = text
                .split(',')
                .map(|c| c.trim().trim_matches('"'))
                .collect();
            (
                cells.get(columns.0).copied().unwrap_or(""),
                columns.1.and_then(|i| cells.get(i)).map(|s| s.to_string()),
            )
        } else {
            split_plain_line(text)
        };
        let net = parse_net(address).ok_or_else(|| IpListError::InvalidLine {
            path: path.to_string(),
            line,
            text: text.to_string(),
        })?;
        if address
            .trim()
            .parse::<IpNet>()
            .is_ok_and(|given| given != net)
        {
            tracing::warn!(
                list = path,
                line,
                entry = address.trim(),
                network = %net,
                "IP list entry has host bits set; it matches the whole network"
            );
        }
        entries.push(IpListEntry {
            net,
            label: label.filter(|l| !l.is_empty()),
            line: Some(line),
        });
    }
    Ok(entries)
}

fn csv_columns(header: &str) -> Option<(usize, Option<usize>)> {
    if !header.contains(',') {
        return None;
    }
    let names: Vec<String> = header
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let address = names
        .iter()
        .position(|n| matches!(n.as_str(), "ip" | "cidr" | "address" | "network" | "addr"))?;
    let label = names
        .iter()
        .position(|n| matches!(n.as_str(), "label" | "name" | "description" | "comment"));
    Some((address, label))
}

fn split_plain_line(text: &str) -> (&str, Option<String>) {
    let text = text.split(" #").next().unwrap_or(text).trim();
    match text.find([' ', '\t', ',']) {
        Some(at) => {
            let label = text[at + 1..].trim().trim_matches('"').to_string();
            (&text[..at], Some(label))
        }
        None => (text, None),
    }
}

/// Parses an address or CIDR network; a bare address becomes a host network.
pub fn parse_net(text: &str) -> Option<IpNet> {
    let text = text.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net.trunc());
    }
    text.parse::<IpAddr>().ok().map(|ip| IpNet::from(unmap(ip)))
}

/// Converts an IPv4-mapped IPv6 address (::ffff:a.b.c.d) to IPv4.
pub fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Tells whether no address of `net` is public, so that the list entry never matches. Every
/// non-public block lies inside one /8 (IPv4) or /7 (IPv6), so a network at least that long
/// whose first and last addresses are both non-public lies inside one block.
pub fn never_matched(net: &IpNet) -> bool {
    let shortest = if net.addr().is_ipv4() { 8 } else { 7 };
    net.prefix_len() >= shortest && is_non_public(net.network()) && is_non_public(net.broadcast())
}

/// Tells whether an address is not routable on the public Internet: loopback, private,
/// link-local, shared (CGNAT), unique-local or unspecified.
pub fn is_non_public(ip: IpAddr) -> bool {
    match unmap(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xffc0) == 0xfe80
                || (first & 0xfe00) == 0xfc00
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_matched_needs_whole_private_network() {
        let never = |text: &str| never_matched(&text.parse::<IpNet>().unwrap());
        for text in [
            "10.0.0.0/8",
            "10.1.2.3/32",
            "172.16.0.0/12",
            "fe80::/10",
            "fc00::/7",
        ] {
            assert!(never(text), "{text}");
        }
        // A default route or a network straddling a private block still matches public hops.
        for text in [
            "0.0.0.0/0",
            "::/0",
            "0.0.0.0/1",
            "10.0.0.0/7",
            "198.51.100.0/24",
        ] {
            assert!(!never(text), "{text}");
        }
    }

    #[test]
    fn plain_lines_with_labels_and_comments() {
        let text = "# campaign\n192.0.2.1 first host\n198.51.100.0/24,lab\n\n2001:db8::/32\n";
        let entries = parse_list_text(text, "x.txt").unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].label.as_deref(), Some("first host"));
        assert_eq!(entries[1].net.to_string(), "198.51.100.0/24");
        assert_eq!(entries[1].label.as_deref(), Some("lab"));
        assert_eq!(entries[2].line, Some(5));
    }

    #[test]
    fn csv_with_header_row() {
        let text = "label,cidr\nbad relay,203.0.113.0/28\n";
        let entries = parse_list_text(text, "x.csv").unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].net.to_string(), "203.0.113.0/28");
        assert_eq!(entries[0].label.as_deref(), Some("bad relay"));
    }

    #[test]
    fn invalid_line_names_file_and_line() {
        let error = parse_list_text("192.0.2.1\nnot-an-ip\n", "lists/bad.txt").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("lists/bad.txt line 2"), "{message}");
        assert!(message.contains("not-an-ip"), "{message}");
    }

    #[test]
    fn mapped_ipv6_matches_ipv4_entry() {
        let list = &builtin_lists()[0];
        let mapped: IpAddr = "::ffff:170.75.174.97".parse().unwrap();
        assert!(list.find(mapped).is_some());
        assert!(list.find("170.75.174.98".parse().unwrap()).is_none());
    }

    #[test]
    fn non_public_ranges() {
        for text in [
            "10.1.2.3",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "fe80::1",
            "fd00::1",
            "::1",
        ] {
            assert!(is_non_public(text.parse().unwrap()), "{text}");
        }
        for text in ["192.0.2.1", "2001:db8::1", "170.75.174.97"] {
            assert!(!is_non_public(text.parse().unwrap()), "{text}");
        }
    }
}
