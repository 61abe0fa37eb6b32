//! Re-verification with `--online`: DKIM, ARC, SPF, DMARC and reverse DNS checked now,
//! with mail-auth, and set next to what the message recorded.
//!
//! Nothing here runs without `--online` or a `--dns-cache` replay, and a replay sends no
//! query. Every lookup has a timeout and each message a lookup budget, so a dead resolver
//! yields temperror results instead of a hang.

pub mod arc;
pub mod cache;
pub mod dkim;
pub mod dmarc;
pub mod rdns;
pub mod resolver;
pub mod spf;

use crate::analysis::Report;
use crate::finding::Finding;
use cache::Store;
use mail_auth::{AuthenticatedMessage, MX, MessageAuthenticator, Txt};
use resolver::DnsSource;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Lookups one message may send to a server. SPF alone may use 10 DNS-querying terms
/// (RFC 7208 section 4.6.4), and each term may need an A or MX lookup on top.
pub const LOOKUP_BUDGET: usize = 64;

/// Default per-query timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of a verification run.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub source: DnsSource,
    pub timeout: Duration,
    /// `--dns-cache` file: replayed when it exists, and rewritten with every answer used
    /// when the run is online.
    pub cache_file: Option<PathBuf>,
}

/// Results of the checks run now for one message, with RFC 8601 result names.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    /// `system`, `server IP:PORT` or `replay FILE`.
    pub dns: String,
    pub dkim: Vec<dkim::DkimCheck>,
    pub arc: Option<arc::ArcCheck>,
    pub spf: Vec<spf::SpfCheck>,
    pub dmarc: Option<dmarc::DmarcCheck>,
    pub iprev: Option<rdns::IprevCheck>,
    pub findings: Vec<Finding>,
}

/// Error setting up verification.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Resolver(String),
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    #[error("cannot start the DNS runtime: {0}")]
    Runtime(std::io::Error),
}

/// The DNS resolver, answer store and async runtime shared by every message of a run.
pub struct Verifier {
    runtime: tokio::runtime::Runtime,
    authenticator: MessageAuthenticator,
    store: Store,
    options: VerifyOptions,
    /// Set once the first message has checked that the server responds at all.
    probed: std::sync::OnceLock<()>,
}

/// mail-auth's cache parameters, all backed by the answer store.
pub(crate) type Caches<'a> = (
    cache::StoreCache<'a, Txt>,
    cache::StoreCache<'a, Arc<Vec<MX>>>,
    cache::StoreCache<'a, Arc<Vec<Ipv4Addr>>>,
    cache::StoreCache<'a, Arc<Vec<Ipv6Addr>>>,
    cache::StoreCache<'a, Arc<Vec<String>>>,
);

/// Wraps mail-auth parameters with the store-backed caches.
macro_rules! with_caches {
    ($params:expr, $caches:expr) => {
        mail_auth::Parameters::new($params)
            .with_txt_cache(&$caches.0)
            .with_mx_cache(&$caches.1)
            .with_ipv4_cache(&$caches.2)
            .with_ipv6_cache(&$caches.3)
            .with_ptr_cache(&$caches.4)
    };
}
pub(crate) use with_caches;

impl Verifier {
    /// Builds the resolver and loads the `--dns-cache` file when it exists. Opens no socket.
    pub fn new(options: VerifyOptions) -> Result<Verifier, VerifyError> {
        let offline = options.source == DnsSource::Replay;
        let store = Store::new(offline);
        if let Some(path) = options.cache_file.as_deref().filter(|p| p.exists()) {
            store.load(path)?;
        }
        let authenticator = resolver::build_authenticator(&options.source, options.timeout)
            .map_err(VerifyError::Resolver)?;
        // One runtime thread drives the sockets and timers, and each caller's future runs
        // in its own `block_on`, so scan workers can verify messages at the same time.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mailtrace-dns")
            .enable_all()
            .build()
            .map_err(VerifyError::Runtime)?;
        Ok(Verifier {
            runtime,
            authenticator,
            store,
            options,
            probed: std::sync::OnceLock::new(),
        })
    }

    /// Verifies one message whose analysis is `report`. Safe to call from several threads at
    /// once, because the stored DNS answers are shared and each call has its own lookup budget.
    pub fn verify(&self, message: &[u8], report: &Report) -> Verification {
        self.probe_server();
        let lookups = cache::Lookups::new(LOOKUP_BUDGET);
        let mut verification = Verification {
            dns: self.describe_source(),
            ..Verification::default()
        };
        if self.store.is_server_down() {
            verification
                .dns
                .push_str(" (not answering: no lookups sent)");
        }
        let Some(parsed) = AuthenticatedMessage::parse(message) else {
            return verification;
        };
        let caches: Caches<'_> = (
            cache::StoreCache::new(&self.store, &lookups),
            cache::StoreCache::new(&self.store, &lookups),
            cache::StoreCache::new(&self.store, &lookups),
            cache::StoreCache::new(&self.store, &lookups),
            cache::StoreCache::new(&self.store, &lookups),
        );
        let origin_ip: Option<IpAddr> = report.origin.as_ref().and_then(|o| o.ip);
        if let Some(ip) = origin_ip {
            lookups.note_requested(cache::RecordType::Ptr, &ip.to_string());
        }

        self.runtime.block_on(async {
            // Step 1: DKIM signatures (RFC 6376 section 6) and the ARC chain (RFC 8617).
            let dkim_outputs = self
                .authenticator
                .verify_dkim(with_caches!(&parsed, caches))
                .await;
            let arc_output = self
                .authenticator
                .verify_arc(with_caches!(&parsed, caches))
                .await;

            // Step 2: SPF for the origin IP, never for the newest hop (RFC 7208).
            let spf_lookups = spf::SpfLookups {
                store: &self.store,
                lookups: &lookups,
                live: self.store_is_live(),
            };
            let spf = spf::check(&self.authenticator, &caches, &spf_lookups, report).await;

            // Step 3: DMARC over the DKIM and SPF results just computed (RFC 7489).
            let dmarc = dmarc::check(
                &self.authenticator,
                &caches,
                &parsed,
                &dkim_outputs,
                spf.mail_from_output(),
                report,
            )
            .await;

            // Step 4: reverse DNS of the origin with forward confirmation (RFC 8601 iprev).
            let iprev = match origin_ip {
                Some(ip) => Some(rdns::check(&self.authenticator, &caches, &lookups, ip).await),
                None => None,
            };

            // Step 5: store the raw answers, so key sizes and the cache file can use them.
            if self.store_is_live() {
                resolver::store_answers(&self.authenticator, &self.store, &lookups).await;
            }
            verification.dkim = dkim::checks(&parsed, &dkim_outputs, &self.store);
            verification.arc = arc::check(&arc_output);
            verification.spf = spf.checks;
            verification.dmarc = dmarc;
            verification.iprev = iprev;
        });

        verification.findings = compare(&verification, report);
        verification
    }

    /// Writes the `--dns-cache` file after an online run; a replay leaves it unchanged.
    pub fn finish(&self) -> Result<(), VerifyError> {
        if let (Some(path), true) = (&self.options.cache_file, self.store_is_live()) {
            self.store.save(path)?;
        }
        Ok(())
    }

    /// Before the first lookup of the run, queries the server for the root zone's NS records.
    /// A server that does not respond is marked down at the cost of one query and its retry,
    /// instead of timeouts for each of the first message's lookups (DKIM keys, ARC, SPF,
    /// DMARC and reverse DNS). Scan workers that arrive meanwhile wait for the probe.
    fn probe_server(&self) {
        if !self.store_is_live() {
            return;
        }
        self.probed.get_or_init(|| {
            if !self
                .runtime
                .block_on(resolver::server_answers(&self.authenticator))
            {
                self.store.mark_server_down();
            }
        });
    }

    fn store_is_live(&self) -> bool {
        self.options.source != DnsSource::Replay
    }

    fn describe_source(&self) -> String {
        match (&self.options.source, &self.options.cache_file) {
            (DnsSource::Replay, Some(path)) => format!("replay {}", path.display()),
            (DnsSource::Replay, None) => "replay".into(),
            (DnsSource::System, _) => "system".into(),
            (DnsSource::Server(address), _) => format!("server {address}"),
        }
    }
}

/// Compares the results of now with what the message recorded, and returns findings.
fn compare(verification: &Verification, report: &Report) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(dkim::findings(&verification.dkim, report));
    findings.extend(spf::findings(&verification.spf, report));
    findings.extend(dmarc::findings(verification.dmarc.as_ref(), report));
    findings.extend(rdns::findings(verification.iprev.as_ref()));
    findings.extend(arc::findings(verification.arc.as_ref()));
    findings
}

/// Tells whether a recorded result and a result of now are the same, ignoring case.
pub(crate) fn same_result(recorded: &str, now: &str) -> bool {
    recorded.eq_ignore_ascii_case(now)
}

/// Verifies a message and adds the results and their findings to its report. The spoof
/// score stays the one computed from the recorded evidence.
///
/// A panic inside the verification (mail-auth 0.7 panics on some records in builds with
/// overflow checks, such as SPF `a/0`) becomes a finding, and the recorded results stand.
pub fn attach(verifier: &Verifier, message: &[u8], report: &mut Report) {
    let verified = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        verifier.verify(message, report)
    }));
    let verification = verified.unwrap_or_else(|panic| {
        let reason = crate::scan::panic_message(panic.as_ref());
        tracing::error!(%reason, "re-verification panicked");
        Verification {
            dns: verifier.describe_source(),
            findings: vec![Finding::new(
                "verify.internal-error",
                crate::finding::Severity::Info,
                "Re-verification failed",
                format!(
                    "Checking this message now failed inside the verifier ({reason}), so no result of now is shown and the recorded results stand. Please report it with the message."
                ),
            )],
            ..Verification::default()
        }
    });
    report
        .findings
        .extend(verification.findings.iter().cloned());
    report
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity));
    report.verified = Some(verification);
}
