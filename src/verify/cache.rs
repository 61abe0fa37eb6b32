//! DNS answers of a verification run: every name mail-auth looks up is collected with its
//! answer, saved with `--dns-cache FILE` and replayed from that file later, so a report
//! can be reproduced without a network.
//!
//! The store plugs into mail-auth as its resolver cache: a name found in the store is
//! answered from it and never sent to a server.

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::Dmarc;
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::Spf;
use mail_auth::{Error as AuthError, MX, ResolverCache, Txt};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Version of the `--dns-cache` file format.
const CACHE_FILE_VERSION: u32 = 1;

/// DNS record types that verification looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    Txt,
    A,
    Aaaa,
    Mx,
    Ptr,
}

/// Response code of a stored answer. Errors such as timeouts are never stored, so a
/// replay reports them as temporary errors again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Rcode {
    NoError,
    NxDomain,
}

/// One stored answer: the records of one name and type, as text (TXT strings joined,
/// addresses, `PREFERENCE EXCHANGE` for MX, host names for PTR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: RecordType,
    pub rcode: Rcode,
    pub data: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    answers: Vec<StoredAnswer>,
}

/// Error reading or writing a `--dns-cache` file.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot read DNS cache file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write DNS cache file {path}: {reason}")]
    Write { path: String, reason: String },
}

/// Key of a stored answer: record type and lower-case fully qualified name (an IP address
/// for PTR).
type Key = (RecordType, String);

/// Answers known so far, shared by every message of a run.
#[derive(Debug)]
pub struct Store {
    answers: Mutex<BTreeMap<Key, StoredAnswer>>,
    /// Replay only: a name missing from the store is never looked up.
    offline: bool,
    /// Set when the server stopped answering: no further query is sent in this run.
    server_down: std::sync::atomic::AtomicBool,
}

/// The names one message requested and the lookups it may still send to a server. Each
/// message has its own, so messages verified at the same time share answers, not budgets.
#[derive(Debug)]
pub struct Lookups {
    requested: Mutex<Vec<Key>>,
    /// Requests the store failed without querying the server: the position of each in
    /// `requested`, and the reason.
    rejected: Mutex<Vec<(usize, &'static str)>>,
    budget: AtomicUsize,
}

impl Lookups {
    /// Starts a message that may send `budget` lookups to a server.
    pub fn new(budget: usize) -> Lookups {
        Lookups {
            requested: Mutex::new(Vec::new()),
            rejected: Mutex::new(Vec::new()),
            budget: AtomicUsize::new(budget),
        }
    }

    /// Records that the message looks up `name`.
    pub fn note_requested(&self, record_type: RecordType, name: &str) {
        lock(&self.requested).push((record_type, normalise(name)));
    }

    /// Returns how many requests the message has made so far, a mark for
    /// [`Lookups::requested_since`].
    pub fn requested_count(&self) -> usize {
        lock(&self.requested).len()
    }

    /// Returns the names requested after `mark`, in order, each once.
    pub fn requested_since(&self, mark: usize) -> Vec<(RecordType, String)> {
        let requested = lock(&self.requested);
        let mut names: Vec<Key> = Vec::new();
        for key in requested.get(mark..).unwrap_or_default() {
            if !names.contains(key) {
                names.push(key.clone());
            }
        }
        names
    }

    /// Returns the reason of the first request after `mark` that the store failed without
    /// querying the server (server down, lookup budget spent, name missing from a replay).
    /// The address and name caches cannot pass such a failure to mail-auth, which takes it
    /// for an empty record set, so a check that made one has no trustworthy result.
    pub fn rejected_since(&self, mark: usize) -> Option<&'static str> {
        lock(&self.rejected)
            .iter()
            .find(|(position, _)| *position >= mark)
            .map(|(_, reason)| *reason)
    }

    /// Returns true and uses one lookup when the budget allows another server query.
    fn take_lookup(&self) -> bool {
        self.budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }
}

impl Store {
    /// Creates an empty store. With `offline`, a name missing from the store fails with a
    /// temporary error instead of being looked up.
    pub fn new(offline: bool) -> Store {
        Store {
            answers: Mutex::new(BTreeMap::new()),
            offline,
            server_down: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Loads the answers of a `--dns-cache` file.
    pub fn load(&self, path: &Path) -> Result<(), CacheError> {
        let read_error = |reason: String| CacheError::Read {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| read_error(e.to_string()))?;
        let file: CacheFile = serde_json::from_str(&text).map_err(|e| read_error(e.to_string()))?;
        if file.version != CACHE_FILE_VERSION {
            return Err(read_error(format!(
                "unsupported version {}; expected {CACHE_FILE_VERSION}",
                file.version
            )));
        }
        let mut answers = lock(&self.answers);
        for answer in file.answers {
            let key = (answer.record_type, normalise(&answer.name));
            answers.insert(key, answer);
        }
        Ok(())
    }

    /// Writes every stored answer to a `--dns-cache` file, sorted by type and name.
    pub fn save(&self, path: &Path) -> Result<(), CacheError> {
        let file = CacheFile {
            version: CACHE_FILE_VERSION,
            answers: lock(&self.answers).values().cloned().collect(),
        };
        let write_error = |reason: String| CacheError::Write {
            path: path.display().to_string(),
            reason,
        };
        let text = serde_json::to_string_pretty(&file).map_err(|e| write_error(e.to_string()))?;
        std::fs::write(path, text + "\n").map_err(|e| write_error(e.to_string()))
    }

    /// Returns the names a message requested that have no stored answer.
    pub fn unanswered(&self, lookups: &Lookups) -> Vec<(RecordType, String)> {
        let answers = lock(&self.answers);
        let mut keys: Vec<Key> = lock(&lookups.requested)
            .iter()
            .filter(|key| !answers.contains_key(*key))
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Stores an answer.
    pub fn insert(&self, answer: StoredAnswer) {
        let key = (answer.record_type, normalise(&answer.name));
        lock(&self.answers).insert(key, answer);
    }

    /// Returns the stored answer of a name.
    pub fn answer(&self, record_type: RecordType, name: &str) -> Option<StoredAnswer> {
        lock(&self.answers)
            .get(&(record_type, normalise(name)))
            .cloned()
    }

    /// Stops every further query of the run, because the server did not answer.
    pub fn mark_server_down(&self) {
        if !self.server_down.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                "the DNS server does not answer; no more lookups are sent, and the remaining messages get temperror"
            );
        }
    }

    /// Tells whether the server stopped answering during this run.
    pub fn is_server_down(&self) -> bool {
        self.server_down.load(Ordering::SeqCst)
    }

    /// Decides what mail-auth gets for a name the store has no answer for: `None` sends
    /// the query to the server, `Some(reason)` fails it with a temporary error.
    fn miss(&self, lookups: &Lookups) -> Option<&'static str> {
        if self.offline {
            Some("not in the DNS cache file")
        } else if self.is_server_down() {
            Some("the DNS server did not answer a query earlier in this run")
        } else if !lookups.take_lookup() {
            Some("DNS lookup limit for one message reached")
        } else {
            None
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Lower-cases a name and adds the trailing dot, as mail-auth does for its cache keys.
fn normalise(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    if name.ends_with('.') || name.parse::<IpAddr>().is_ok() {
        name
    } else {
        name + "."
    }
}

/// Recovers the text of a `String` or `str` key from its `Hash` implementation.
///
/// NOTE: mail-auth's cache trait passes keys as a generic `Q: Hash + Eq`, so hashing is the
/// only way to read them. `str` hashes as its bytes followed by one 0xFF byte (Rust 1.95
/// standard library); a different layout would only make lookups miss the store.
fn key_text<Q: Hash + ?Sized>(key: &Q) -> String {
    struct Capture(Vec<u8>);
    impl Hasher for Capture {
        fn write(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
        fn finish(&self) -> u64 {
            0
        }
    }
    let mut capture = Capture(Vec::new());
    key.hash(&mut capture);
    let mut bytes = capture.0;
    if bytes.last() == Some(&0xff) {
        bytes.pop();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A view of the store as one of mail-auth's resolver caches.
pub struct StoreCache<'a, V> {
    store: &'a Store,
    lookups: &'a Lookups,
    _value: PhantomData<V>,
}

impl<'a, V> StoreCache<'a, V> {
    /// Creates the view for one message, whose requests and budget are `lookups`.
    pub fn new(store: &'a Store, lookups: &'a Lookups) -> Self {
        StoreCache {
            store,
            lookups,
            _value: PhantomData,
        }
    }

    /// Looks a name up in the store and records the request. `Ok(None)` lets mail-auth
    /// query the server, and `Err` carries the reason a miss fails with.
    fn find(
        &self,
        record_type: RecordType,
        name: &str,
    ) -> Result<Option<StoredAnswer>, &'static str> {
        self.lookups.note_requested(record_type, name);
        match self.store.answer(record_type, name) {
            Some(answer) => Ok(Some(answer)),
            None => match self.store.miss(self.lookups) {
                None => Ok(None),
                Some(reason) => {
                    let position = self.lookups.requested_count() - 1;
                    lock(&self.lookups.rejected).push((position, reason));
                    Err(reason)
                }
            },
        }
    }
}

impl ResolverCache<String, Txt> for StoreCache<'_, Txt> {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let name = key_text(name);
        match self.find(RecordType::Txt, &name) {
            Ok(Some(answer)) => Some(parse_txt(&name, &answer)),
            Ok(None) => None,
            Err(reason) => Some(Txt::Error(AuthError::DnsError(reason.into()))),
        }
    }

    fn remove<Q>(&self, _name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _key: String, _value: Txt, _valid_until: Instant) {}
}

/// Parses stored TXT strings the way mail-auth parses a live answer: the first record
/// that parses as the type the name implies wins.
fn parse_txt(name: &str, answer: &StoredAnswer) -> Txt {
    if answer.rcode == Rcode::NxDomain {
        return Txt::Error(AuthError::DnsRecordNotFound(ResponseCode::NXDomain));
    }
    if answer.data.is_empty() {
        return Txt::Error(AuthError::DnsRecordNotFound(ResponseCode::NoError));
    }
    let name = name.to_ascii_lowercase();
    if name.contains("._domainkey.") {
        first_parsed::<DomainKey>(&answer.data)
    } else if name.starts_with("_dmarc.") {
        first_parsed::<Dmarc>(&answer.data)
    } else {
        first_parsed::<Spf>(&answer.data)
    }
}

fn first_parsed<T: TxtRecordParser>(records: &[String]) -> Txt
where
    Txt: From<mail_auth::Result<T>>,
{
    let mut result = Err(AuthError::InvalidRecordType);
    for record in records {
        result = T::parse(record.as_bytes());
        if result.is_ok() {
            break;
        }
    }
    result.into()
}

/// Implements a cache of addresses or names read from the stored text records.
macro_rules! list_cache {
    ($value:ty, $record_type:expr, $parse:expr) => {
        impl ResolverCache<String, Arc<Vec<$value>>> for StoreCache<'_, Arc<Vec<$value>>> {
            fn get<Q>(&self, name: &Q) -> Option<Arc<Vec<$value>>>
            where
                String: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                let name = key_text(name);
                match self.find($record_type, &name) {
                    Ok(Some(answer)) => {
                        Some(Arc::new(answer.data.iter().filter_map($parse).collect()))
                    }
                    Ok(None) => None,
                    // NOTE: these caches cannot return an error, so a miss reads as an
                    // empty answer: an SPF a or mx mechanism then does not match.
                    Err(_) => Some(Arc::new(Vec::new())),
                }
            }

            fn remove<Q>(&self, _name: &Q) -> Option<Arc<Vec<$value>>>
            where
                String: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                None
            }

            fn insert(&self, _key: String, _value: Arc<Vec<$value>>, _valid_until: Instant) {}
        }
    };
}

list_cache!(Ipv4Addr, RecordType::A, |text: &String| text.parse().ok());
list_cache!(Ipv6Addr, RecordType::Aaaa, |text: &String| text
    .parse()
    .ok());
list_cache!(MX, RecordType::Mx, |text: &String| parse_mx(text));

fn parse_mx(text: &str) -> Option<MX> {
    let (preference, exchange) = text.split_once(' ')?;
    Some(MX {
        exchanges: vec![exchange.to_string()],
        preference: preference.parse().ok()?,
    })
}

/// PTR answers, keyed by the IP addresses the verifier registered with [`Lookups::note_requested`].
impl ResolverCache<IpAddr, Arc<Vec<String>>> for StoreCache<'_, Arc<Vec<String>>> {
    fn get<Q>(&self, ip: &Q) -> Option<Arc<Vec<String>>>
    where
        IpAddr: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let known: Vec<IpAddr> = lock(&self.lookups.requested)
            .iter()
            .chain(lock(&self.store.answers).keys())
            .filter(|(record_type, _)| *record_type == RecordType::Ptr)
            .filter_map(|(_, name)| name.parse().ok())
            .collect();
        let Some(address) = known.into_iter().find(|known| known.borrow() == ip) else {
            return self.store.offline.then(|| Arc::new(Vec::new()));
        };
        match self.find(RecordType::Ptr, &address.to_string()) {
            Ok(Some(answer)) => Some(Arc::new(answer.data)),
            Ok(None) => None,
            Err(_) => Some(Arc::new(Vec::new())),
        }
    }

    fn remove<Q>(&self, _ip: &Q) -> Option<Arc<Vec<String>>>
    where
        IpAddr: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _key: IpAddr, _value: Arc<Vec<String>>, _valid_until: Instant) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_reads_str_keys() {
        assert_eq!(
            key_text("s1._domainkey.example.com."),
            "s1._domainkey.example.com."
        );
        assert_eq!(key_text(&String::from("example.org.")), "example.org.");
    }

    #[test]
    fn offline_store_fails_misses() {
        let store = Store::new(true);
        let lookups = Lookups::new(10);
        let cache: StoreCache<'_, Txt> = StoreCache::new(&store, &lookups);
        let answer = cache.get("example.com.");
        assert!(matches!(answer, Some(Txt::Error(AuthError::DnsError(_)))));
    }

    #[test]
    fn budget_limits_misses() {
        let store = Store::new(false);
        let lookups = Lookups::new(1);
        let cache: StoreCache<'_, Txt> = StoreCache::new(&store, &lookups);
        assert!(cache.get("a.example.com.").is_none());
        assert!(matches!(cache.get("b.example.com."), Some(Txt::Error(_))));

        let next_message = Lookups::new(1);
        let cache: StoreCache<'_, Txt> = StoreCache::new(&store, &next_message);
        assert!(
            cache.get("c.example.com.").is_none(),
            "each message has its own budget"
        );
    }

    #[test]
    fn stored_nxdomain_replays() {
        let store = Store::new(true);
        store.insert(StoredAnswer {
            name: "_dmarc.example.net.".into(),
            record_type: RecordType::Txt,
            rcode: Rcode::NxDomain,
            data: Vec::new(),
        });
        let lookups = Lookups::new(10);
        let cache: StoreCache<'_, Txt> = StoreCache::new(&store, &lookups);
        let answer = cache.get("_dmarc.example.net.");
        assert!(matches!(
            answer,
            Some(Txt::Error(AuthError::DnsRecordNotFound(
                ResponseCode::NXDomain
            )))
        ));
    }
}
