//! The resolver behind `--online`: hickory-resolver with the system configuration or the
//! server given with `--dns-server`, a per-query timeout, and the answer store that
//! `--dns-cache` saves and replays.

use crate::verify::cache::{Lookups, Rcode, RecordType, Store, StoredAnswer};
use mail_auth::MessageAuthenticator;
use mail_auth::hickory_resolver::config::{
    NameServerConfig, NameServerConfigGroup, ProtocolConfig, ResolverConfig, ResolverOpts,
};
use mail_auth::hickory_resolver::proto::ProtoErrorKind;
use mail_auth::hickory_resolver::proto::rr::{RData, RecordType as HickoryType};
use mail_auth::hickory_resolver::system_conf::read_system_conf;
use std::net::SocketAddr;
use std::time::Duration;

/// Source of DNS answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsSource {
    /// The name servers of the system configuration (/etc/resolv.conf on Unix).
    System,
    /// One server, queried over UDP, and over TCP for truncated answers.
    Server(SocketAddr),
    /// Only the answers of a `--dns-cache` file; nothing is sent.
    Replay,
}

/// Builds mail-auth's authenticator for a source. Building it opens no socket: hickory
/// connects on the first query, and a replay has no name servers to connect to.
pub fn build_authenticator(
    source: &DnsSource,
    timeout: Duration,
) -> Result<MessageAuthenticator, String> {
    let (config, mut options) = match source {
        DnsSource::System => read_system_conf().map_err(|e| {
            format!("cannot read the system DNS configuration: {e}; pass --dns-server IP[:PORT]")
        })?,
        DnsSource::Server(address) => {
            let mut group = NameServerConfigGroup::with_capacity(2);
            for protocol in [ProtocolConfig::Udp, ProtocolConfig::Tcp] {
                group.push(NameServerConfig::new(*address, protocol));
            }
            let config = ResolverConfig::from_parts(None, Vec::new(), group);
            (config, ResolverOpts::default())
        }
        DnsSource::Replay => (
            ResolverConfig::from_parts(None, Vec::new(), NameServerConfigGroup::with_capacity(0)),
            ResolverOpts::default(),
        ),
    };
    options.timeout = timeout;
    // One retry after a timeout: a lookup waits at most twice the timeout.
    options.attempts = 1;
    // Answers must come from the chosen server, never from /etc/hosts.
    options.use_hosts_file = mail_auth::hickory_resolver::config::ResolveHosts::Never;
    MessageAuthenticator::new(config, options)
        .map_err(|e| format!("cannot build the DNS resolver: {e}"))
}

/// Looks up the names a message requested that have no stored answer, and
/// stores the answers. Hickory's response cache serves names it resolved within their TTL.
/// A failed lookup (timeout, SERVFAIL) is not stored and ends the pass, so a dead server
/// costs at most one more timeout.
///
/// After a failed lookup, one query for the root zone's NS records tells a dead server from
/// a dead domain. When the server does not answer that either, the store stops every
/// further query of the run (see [`Store::mark_server_down`]), so a junk folder is not
/// checked at one timeout per lookup.
pub async fn store_answers(authenticator: &MessageAuthenticator, store: &Store, lookups: &Lookups) {
    if store.is_server_down() {
        return;
    }
    for (record_type, name) in store.unanswered(lookups) {
        match lookup(authenticator, record_type, &name).await {
            Some(answer) => store.insert(answer),
            None => {
                if !server_answers(authenticator).await {
                    store.mark_server_down();
                }
                break;
            }
        }
    }
}

/// Tells whether the server answers a query for the root zone's NS records with any
/// response, even a refusal; only a timeout or a network error counts as no answer.
pub(crate) async fn server_answers(authenticator: &MessageAuthenticator) -> bool {
    let root = mail_auth::hickory_resolver::Name::root();
    match authenticator.resolver().lookup(root, HickoryType::NS).await {
        Ok(_) => true,
        Err(error) => !matches!(
            error.kind(),
            ProtoErrorKind::Timeout | ProtoErrorKind::Io(_) | ProtoErrorKind::NoConnections
        ),
    }
}

async fn lookup(
    authenticator: &MessageAuthenticator,
    record_type: RecordType,
    name: &str,
) -> Option<StoredAnswer> {
    let resolver = authenticator.resolver();
    let result = match record_type {
        RecordType::Ptr => {
            let ip = name.parse().ok()?;
            resolver
                .reverse_lookup(ip)
                .await
                .map(|l| l.as_lookup().clone())
        }
        _ => resolver.lookup(name, hickory_type(record_type)).await,
    };
    let mut answer = StoredAnswer {
        name: name.to_string(),
        record_type,
        rcode: Rcode::NoError,
        data: Vec::new(),
    };
    match result {
        Ok(lookup) => {
            answer.data = lookup
                .record_iter()
                .filter_map(|r| record_text(r.data()))
                .collect();
            Some(answer)
        }
        Err(error) => match error.kind() {
            ProtoErrorKind::NoRecordsFound(found) => {
                if found.response_code
                    == mail_auth::hickory_resolver::proto::op::ResponseCode::NXDomain
                {
                    answer.rcode = Rcode::NxDomain;
                }
                Some(answer)
            }
            _ => {
                tracing::debug!(%name, ?record_type, %error, "DNS lookup failed; answer not stored");
                None
            }
        },
    }
}

fn hickory_type(record_type: RecordType) -> HickoryType {
    match record_type {
        RecordType::Txt => HickoryType::TXT,
        RecordType::A => HickoryType::A,
        RecordType::Aaaa => HickoryType::AAAA,
        RecordType::Mx => HickoryType::MX,
        RecordType::Ptr => HickoryType::PTR,
    }
}

fn record_text(data: &RData) -> Option<String> {
    match data {
        RData::TXT(txt) => {
            let bytes: Vec<u8> = txt
                .txt_data()
                .iter()
                .flat_map(|part| part.iter().copied())
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        RData::A(a) => Some(a.0.to_string()),
        RData::AAAA(aaaa) => Some(aaaa.0.to_string()),
        RData::MX(mx) => Some(format!(
            "{} {}",
            mx.preference(),
            mx.exchange().to_lowercase()
        )),
        RData::PTR(ptr) => Some(ptr.0.to_lowercase().to_string()),
        _ => None,
    }
}
