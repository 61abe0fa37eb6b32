//! An authoritative DNS server for tests: hickory-server on 127.0.0.1 with a free port,
//! serving the zones of tests/fixtures/dns plus TXT records a test adds, or a list of
//! records in one root zone.

// Each test crate that includes this module uses only part of it.
#![allow(dead_code)]

use hickory_server::ServerFuture;
use hickory_server::authority::{Catalog, ZoneType};
use hickory_server::proto::rr::rdata::{SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryAuthority;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// How long a query for a slow name waits before it is answered; longer than the client
/// timeouts the tests set, so the client sees a timeout.
const SLOW_ANSWER_DELAY: Duration = Duration::from_secs(2);

/// A running server; it stops when the test process ends.
pub struct DnsServer {
    pub address: SocketAddr,
}

impl DnsServer {
    /// Starts the server with every `*.zone` file of `zone_dir` and the extra TXT records
    /// (`name`, `text`), each added to the zone whose origin ends its name.
    pub fn start(zone_dir: &Path, extra_txt: &[(String, String)]) -> DnsServer {
        let mut authorities = Vec::new();
        for entry in std::fs::read_dir(zone_dir).expect("zone directory is readable") {
            let path = entry.expect("zone directory entry").path();
            if path.extension().is_none_or(|e| e != "zone") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("zone file is readable");
            let (origin, records) = Parser::new(text, Some(path.clone()), None)
                .parse()
                .unwrap_or_else(|e| panic!("zone file {} does not parse: {e}", path.display()));
            let mut authority =
                InMemoryAuthority::new(origin.clone(), records, ZoneType::Primary, false)
                    .expect("zone is valid");
            for (name, text) in extra_txt {
                let name = Name::from_str(name).expect("valid record name");
                if origin.zone_of(&name) {
                    // A TXT character-string contains at most 255 bytes, so long keys are split.
                    let parts = text
                        .as_bytes()
                        .chunks(255)
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect();
                    let record = Record::from_rdata(name, 300, RData::TXT(TXT::new(parts)));
                    authority.upsert_mut(record, 0);
                }
            }
            authorities.push((origin, authority));
        }
        let mut catalog = Catalog::new();
        for (origin, authority) in authorities {
            catalog.upsert(LowerName::new(&origin), vec![Arc::new(authority)]);
        }
        Self::serve(SlowNames {
            catalog,
            slow: Vec::new(),
        })
    }

    /// Starts a server with `records` in one zone at the root, so that any name can be
    /// served. A query for a name in `slow` whose type has no record there is answered
    /// only after the client timed out, as a server that times out would.
    pub fn with_records(records: Vec<Record>, slow: Vec<Name>) -> DnsServer {
        let mut authority = InMemoryAuthority::empty(Name::root(), ZoneType::Primary, false);
        // Negative answers carry the zone's SOA record.
        let soa = SOA::new(
            Name::from_str("ns.example.").expect("valid name"),
            Name::from_str("hostmaster.example.").expect("valid name"),
            1,
            3600,
            600,
            86400,
            60,
        );
        authority.upsert_mut(Record::from_rdata(Name::root(), 60, RData::SOA(soa)), 0);
        let mut present = Vec::new();
        for record in records {
            present.push((LowerName::new(record.name()), record.record_type()));
            authority.upsert_mut(record, 0);
        }
        let mut catalog = Catalog::new();
        catalog.upsert(LowerName::new(&Name::root()), vec![Arc::new(authority)]);
        let slow = slow
            .iter()
            .map(|name| {
                let name = LowerName::new(name);
                let types = present
                    .iter()
                    .filter(|(present_name, _)| *present_name == name)
                    .map(|(_, record_type)| *record_type)
                    .collect();
                (name, types)
            })
            .collect();
        Self::serve(SlowNames { catalog, slow })
    }

    /// Serves `handler` on UDP and TCP on a free port of 127.0.0.1 in a thread of its own.
    fn serve(handler: SlowNames) -> DnsServer {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        socket.set_nonblocking(true).expect("non-blocking socket");
        let address = socket.local_addr().expect("bound address");
        let tcp = std::net::TcpListener::bind(address).expect("bind TCP on the same port");
        tcp.set_nonblocking(true).expect("non-blocking listener");
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("test runtime");
            runtime.block_on(async move {
                let mut server = ServerFuture::new(handler);
                server.register_socket(
                    tokio::net::UdpSocket::from_std(socket).expect("tokio UDP socket"),
                );
                server.register_listener(
                    tokio::net::TcpListener::from_std(tcp).expect("tokio TCP listener"),
                    std::time::Duration::from_secs(5),
                );
                let _ = server.block_until_done().await;
            });
        });
        DnsServer { address }
    }
}

/// The catalog, with some names answered too late.
struct SlowNames {
    catalog: Catalog,
    /// Slow names, each with the record types it has (those are answered at once).
    slow: Vec<(LowerName, Vec<RecordType>)>,
}

#[async_trait::async_trait]
impl RequestHandler for SlowNames {
    async fn handle_request<R: ResponseHandler>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        if let Ok(info) = request.request_info() {
            let name = info.query.name();
            let record_type = info.query.query_type();
            let delayed = self
                .slow
                .iter()
                .any(|(slow, types)| slow == name && !types.contains(&record_type));
            if delayed {
                tokio::time::sleep(SLOW_ANSWER_DELAY).await;
            }
        }
        self.catalog.handle_request(request, response_handle).await
    }
}
