//! An authoritative DNS server for tests: hickory-server on 127.0.0.1 with a free port,
//! serving the zones of tests/fixtures/dns plus TXT records a test adds.

use hickory_server::ServerFuture;
use hickory_server::authority::{Catalog, ZoneType};
use hickory_server::proto::rr::rdata::TXT;
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryAuthority;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

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
                let mut catalog = Catalog::new();
                for (origin, authority) in authorities {
                    catalog.upsert(LowerName::new(&origin), vec![Arc::new(authority)]);
                }
                let mut server = ServerFuture::new(catalog);
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
