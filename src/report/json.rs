//! JSON wire format of a report (schema_version "1"). These types are separate from the
//! analysis types so that internal changes never rename a published field.

use crate::analysis::Report;
use crate::analysis::arc::ArcChain;
use crate::analysis::auth::{AuthField, AuthSection, DkimField, SpfField};
use crate::analysis::chain::Hop;
use crate::analysis::ipmatch::IpMatch;
use crate::parse::address::Mailbox;
use crate::parse::authres::AuthResult;
use crate::parse::date::format_timestamp;
use crate::parse::exchange::ForefrontReport;
use crate::platform::gateways::GatewaySummary;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

/// Version of the JSON report contract.
pub const SCHEMA_VERSION: &str = "1";

/// Builds the JSON value of one report.
pub fn report_value(report: &Report) -> Value {
    serde_json::to_value(ReportJson {
        report,
        record: None,
    })
    .unwrap_or(Value::Null)
}

/// The wire form of a report, serialised straight from the report without building a
/// `Value` first, because a scan writes one per message and the value tree made a JSON
/// Lines scan about a third slower. `record` adds the JSON Lines `record` field.
pub struct ReportJson<'a> {
    pub report: &'a Report,
    pub record: Option<&'static str>,
}

impl Serialize for ReportJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.report;
        let mut map = serializer.serialize_map(None)?;
        if let Some(record) = self.record {
            map.serialize_entry("record", record)?;
        }
        map.serialize_entry("schema_version", SCHEMA_VERSION)?;
        map.serialize_entry("source", &report.source)?;
        map.serialize_entry("message", &MessageJson(report))?;
        map.serialize_entry("header_count", &report.headers.fields.len())?;
        map.serialize_entry("transport_headers", transport_state(report))?;
        map.serialize_entry("hops", &JsonArray(&report.chain.hops, HopJson))?;
        map.serialize_entry("origin", &report.origin)?;
        map.serialize_entry("addresses", &report.addresses)?;
        map.serialize_entry("auth", &AuthJson(report))?;
        map.serialize_entry("exchange", &ExchangeJson(report))?;
        map.serialize_entry("platform", &PlatformJson(report))?;
        map.serialize_entry("findings", &report.findings)?;
        map.serialize_entry("ip_matches", &JsonArray(&report.ip_matches, IpMatchJson))?;
        map.serialize_entry("spoof", &report.spoof)?;
        map.serialize_entry("verified", &report.verified)?;
        map.serialize_entry("msg", &report.msg.as_ref().map(|_| MsgJson(report)))?;
        map.end()
    }
}

/// A slice serialised as a JSON array of what `F` makes of each element.
struct JsonArray<'a, T, F>(&'a [T], F);

impl<'a, T, W, F> Serialize for JsonArray<'a, T, F>
where
    W: Serialize,
    F: Fn(&'a T) -> W,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(&self.1))
    }
}

fn transport_state(report: &Report) -> &'static str {
    match &report.msg {
        None => "present",
        Some(msg) => match msg.transport_headers {
            crate::input::TransportHeaders::Present => "present",
            // A stream of NUL bytes holds no headers either; the finding
            // input.header-stream-stripped tells the two apart.
            crate::input::TransportHeaders::Absent | crate::input::TransportHeaders::Stripped => {
                "absent"
            }
        },
    }
}

/// Returns the wire form of a mailbox: display name, address and lower-case domain.
pub fn mailbox_value(mailbox: &Mailbox) -> Value {
    serde_json::to_value(MailboxJson(mailbox)).unwrap_or(Value::Null)
}

struct MailboxJson<'a>(&'a Mailbox);

impl Serialize for MailboxJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mailbox = self.0;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("name", &mailbox.display)?;
        map.serialize_entry("address", &mailbox.address)?;
        map.serialize_entry("domain", &mailbox.domain_lower())?;
        map.serialize_entry("local_part", &mailbox.local_part)?;
        map.serialize_entry("comments", &mailbox.comments)?;
        map.end()
    }
}

struct MessageJson<'a>(&'a Report);

impl Serialize for MessageJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = &self.0.message;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("from", &message.from.first().map(MailboxJson))?;
        map.serialize_entry("from_all", &JsonArray(&message.from, MailboxJson))?;
        map.serialize_entry("from_field_count", &message.from_field_count)?;
        map.serialize_entry("from_text", &message.from_text)?;
        map.serialize_entry("reply_to", &message.reply_to.first().map(|m| &m.address))?;
        map.serialize_entry("reply_to_all", &JsonArray(&message.reply_to, MailboxJson))?;
        map.serialize_entry("return_path", &message.return_path)?;
        map.serialize_entry("sender", &message.sender)?;
        map.serialize_entry("subject", &message.subject)?;
        let date = message.date.as_ref();
        let timestamp = date
            .and_then(|d| d.timestamp.as_ref())
            .map(format_timestamp);
        map.serialize_entry("date", &timestamp)?;
        map.serialize_entry("date_raw", &date.map(|d| &d.raw))?;
        map.serialize_entry("message_id", &message.message_id)?;
        map.end()
    }
}

/// Returns the wire form of a hop: the contract fields, then every other parsed field.
pub fn hop_value(hop: &Hop) -> Value {
    serde_json::to_value(HopJson(hop)).unwrap_or(Value::Null)
}

struct HopJson<'a>(&'a Hop);

impl Serialize for HopJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let hop = self.0;
        let r = &hop.received;
        let mut map = serializer.serialize_map(None)?;

        // The contract fields.
        map.serialize_entry("index", &hop.index)?;
        map.serialize_entry("from_host", &r.from_host)?;
        map.serialize_entry("from_rdns", &r.from_rdns)?;
        map.serialize_entry("from_ip", &r.from_ip)?;
        map.serialize_entry("helo", &r.helo)?;
        map.serialize_entry("by_host", &r.by_host)?;
        map.serialize_entry("by_ip", &r.by_ip)?;
        map.serialize_entry("protocol", &r.protocol)?;
        map.serialize_entry("id", &r.id)?;
        map.serialize_entry("for", &r.for_addr)?;
        map.serialize_entry("via", &r.via)?;
        map.serialize_entry("timestamp", &r.timestamp.as_ref().map(format_timestamp))?;
        map.serialize_entry("delay_seconds", &hop.delay_seconds.map(seconds_value))?;
        map.serialize_entry("internal", &hop.internal)?;
        map.serialize_entry("raw", &hop.raw)?;
        map.serialize_entry("line", &hop.line)?;
        map.serialize_entry("reconstructed", &hop.reconstructed)?;
        map.serialize_entry("provider", &hop.provider)?;

        // Every other parsed field.
        map.serialize_entry("from_ip_zone", &r.from_ip_zone)?;
        map.serialize_entry("by_ip_zone", &r.by_ip_zone)?;
        map.serialize_entry("by_clause_count", &r.by_clause_count)?;
        map.serialize_entry("ident", &r.ident)?;
        map.serialize_entry("auth_sender", &r.auth_sender)?;
        map.serialize_entry("authenticated", &r.authenticated)?;
        map.serialize_entry("for_placeholder", &r.for_placeholder)?;
        map.serialize_entry("envelope_from", &r.envelope_from)?;
        map.serialize_entry("orcpt", &r.orcpt)?;
        map.serialize_entry("tls_version", &r.tls_version)?;
        map.serialize_entry("tls_cipher", &r.tls_cipher)?;
        map.serialize_entry("exchange_build", &r.exchange_build)?;
        map.serialize_entry("mta", &r.mta)?;
        map.serialize_entry("comment", &r.comment)?;
        map.serialize_entry("local", &r.local)?;
        map.serialize_entry("date_raw", &r.date_raw)?;
        map.end()
    }
}

/// Writes whole seconds as an integer and keeps fractions otherwise.
fn seconds_value(seconds: f64) -> Value {
    if seconds.fract() == 0.0 && seconds.abs() < 9.0e15 {
        Value::from(seconds as i64)
    } else {
        Value::from(seconds)
    }
}

struct IpMatchJson<'a>(&'a IpMatch);

impl Serialize for IpMatchJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ip_match = self.0;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("ip", &ip_match.ip)?;
        map.serialize_entry("list", &ip_match.list)?;
        map.serialize_entry("entry", &ip_match.entry)?;
        map.serialize_entry("label", &ip_match.label)?;
        map.serialize_entry("location", &ip_match.location)?;
        map.end()
    }
}

struct AuthJson<'a>(&'a Report);

impl Serialize for AuthJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let auth = &self.0.auth;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("results", &AuthResultsJson(auth))?;
        map.serialize_entry("fields", &JsonArray(&auth.results, AuthFieldJson))?;
        map.serialize_entry(
            "received_spf",
            &JsonArray(&auth.received_spf, ReceivedSpfJson),
        )?;
        map.serialize_entry(
            "dkim_signatures",
            &JsonArray(&auth.dkim_signatures, DkimSignatureJson),
        )?;
        map.serialize_entry("arc", &ArcJson(&auth.arc))?;
        map.end()
    }
}

/// Every result of every Authentication-Results field, flattened, with its field's data.
struct AuthResultsJson<'a>(&'a AuthSection);

impl Serialize for AuthResultsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let results = self.0.results.iter().flat_map(|field| {
            field
                .parsed
                .results
                .iter()
                .map(move |result| AuthResultJson { field, result })
        });
        serializer.collect_seq(results)
    }
}

struct AuthResultJson<'a> {
    field: &'a AuthField,
    result: &'a AuthResult,
}

impl Serialize for AuthResultJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (field, result) = (self.field, self.result);
        let mut map = serializer.serialize_map(Some(11))?;
        map.serialize_entry("header", &field.header)?;
        map.serialize_entry("line", &field.line)?;
        map.serialize_entry("authserv_id", &field.parsed.authserv_id)?;
        map.serialize_entry("instance", &field.parsed.instance)?;
        map.serialize_entry("method", &result.method)?;
        map.serialize_entry("result", &result.result)?;
        map.serialize_entry("result_raw", &result.result_raw)?;
        map.serialize_entry("reason", &result.reason)?;
        map.serialize_entry("comment", &result.comment)?;
        map.serialize_entry("properties", &PropertiesJson(result))?;
        map.serialize_entry("trusted", &field.trusted)?;
        map.end()
    }
}

/// The properties of one result as an object keyed `ptype.property`; a repeated key keeps
/// its last value.
struct PropertiesJson<'a>(&'a AuthResult);

impl Serialize for PropertiesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let properties: std::collections::BTreeMap<String, &str> = self
            .0
            .properties
            .iter()
            .map(|p| (p.key(), p.value.as_str()))
            .collect();
        properties.serialize(serializer)
    }
}

struct AuthFieldJson<'a>(&'a AuthField);

impl Serialize for AuthFieldJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let field = self.0;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("header", &field.header)?;
        map.serialize_entry("line", &field.line)?;
        map.serialize_entry("trusted", &field.trusted)?;
        map.serialize_entry("parsed", &field.parsed)?;
        map.end()
    }
}

struct ReceivedSpfJson<'a>(&'a SpfField);

impl Serialize for ReceivedSpfJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let field = self.0;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("line", &field.line)?;
        map.serialize_entry("trusted", &field.trusted)?;
        map.serialize_entry("parsed", &field.parsed)?;
        map.end()
    }
}

struct DkimSignatureJson<'a>(&'a DkimField);

impl Serialize for DkimSignatureJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let field = self.0;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("line", &field.line)?;
        map.serialize_entry("parsed", &field.parsed)?;
        map.end()
    }
}

struct ArcJson<'a>(&'a ArcChain);

impl Serialize for ArcJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let arc = self.0;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("sets", &arc.set_count)?;
        map.serialize_entry("chain", &arc.chain)?;
        map.serialize_entry("detail", arc)?;
        map.end()
    }
}

struct ExchangeJson<'a>(&'a Report);

impl Serialize for ExchangeJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let exchange = &self.0.exchange;
        if exchange.is_empty() {
            return serializer.serialize_none();
        }
        let scl = exchange
            .organization_scl
            .as_ref()
            .map(|(value, meaning)| SclJson { value, meaning });
        let mut map = serializer.serialize_map(Some(8))?;
        map.serialize_entry("forefront", &JsonArray(&exchange.forefront, ForefrontJson))?;
        map.serialize_entry("microsoft_antispam", &exchange.microsoft_antispam)?;
        map.serialize_entry("mailbox_delivery", &exchange.mailbox_delivery)?;
        map.serialize_entry("organization_scl", &scl)?;
        map.serialize_entry("organization_auth_as", &exchange.organization_auth_as)?;
        map.serialize_entry(
            "organization_auth_source",
            &exchange.organization_auth_source,
        )?;
        map.serialize_entry("from_entity", &exchange.from_entity)?;
        map.serialize_entry("connecting_ips", &exchange.connecting_ips)?;
        map.end()
    }
}

#[derive(Serialize)]
struct SclJson<'a, V: Serialize, M: Serialize> {
    value: &'a V,
    meaning: &'a M,
}

struct ForefrontJson<'a>(&'a ForefrontReport);

impl Serialize for ForefrontJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("field_name", &report.field_name)?;
        map.serialize_entry("upstream", &report.upstream())?;
        map.serialize_entry("pairs", &report.describe())?;
        map.end()
    }
}

/// The platform section: platforms in the order they handled the message, the final
/// platform's missing always-written headers, and gateway summaries.
struct PlatformJson<'a>(&'a Report);

impl Serialize for PlatformJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let section = &self.0.platforms;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("final", &section.final_platform().map(|p| &p.id))?;
        map.serialize_entry("platforms", &section.platforms)?;
        map.serialize_entry("missing", &section.missing)?;
        map.serialize_entry("gateways", &JsonArray(&section.gateways, GatewayJson))?;
        map.end()
    }
}

struct GatewayJson<'a>(&'a GatewaySummary);

impl Serialize for GatewayJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let gateway = self.0;
        let values = gateway
            .values
            .iter()
            .map(|(header, value)| HeaderValueJson { header, value });
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("vendor", &gateway.vendor)?;
        map.serialize_entry("headers", &gateway.headers)?;
        map.serialize_entry("values", &values.collect::<Vec<_>>())?;
        map.serialize_entry("hop", &gateway.hop)?;
        map.end()
    }
}

#[derive(Serialize)]
struct HeaderValueJson<'a, H: Serialize, V: Serialize> {
    header: &'a H,
    value: &'a V,
}

/// MAPI metadata of an Outlook item.
struct MsgJson<'a>(&'a Report);

impl Serialize for MsgJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        let Some(msg) = &report.msg else {
            return serializer.serialize_none();
        };
        let mut map = serializer.serialize_map(Some(8))?;
        map.serialize_entry("transport_headers", transport_state(report))?;
        map.serialize_entry("transport_headers_stream", &msg.transport_headers)?;
        map.serialize_entry("subject", &msg.subject)?;
        map.serialize_entry("sender", &msg.sender)?;
        map.serialize_entry("sender_name", &msg.sender_name)?;
        let submit = msg.client_submit_time.as_ref().map(format_timestamp);
        map.serialize_entry("client_submit_time", &submit)?;
        map.serialize_entry(
            "delivery_time",
            &msg.delivery_time.as_ref().map(format_timestamp),
        )?;
        map.serialize_entry("message_class", &msg.message_class)?;
        map.end()
    }
}

/// A JSON Lines record for a message that could not be read.
#[derive(Debug, Serialize)]
pub struct ErrorRecord<'a> {
    pub record: &'static str,
    pub path: &'a str,
    pub index: Option<usize>,
    pub reason: &'a str,
}

/// Builds the JSON Lines record of one report.
pub fn message_record(report: &Report) -> Value {
    serde_json::to_value(message_json(report)).unwrap_or(Value::Null)
}

/// Returns the JSON Lines record of one report, ready to serialise.
pub fn message_json(report: &Report) -> ReportJson<'_> {
    ReportJson {
        report,
        record: Some("message"),
    }
}

/// Returns the JSON Lines record of one report as one line of text, without a line break.
pub fn message_line(report: &Report) -> String {
    // serde_json fails only on map keys that are not strings or on a Serialize impl that
    // returns an error. The report types have neither, so the empty string is never used.
    serde_json::to_string(&message_json(report)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_support::analyse_text;

    #[test]
    fn reply_to_all_lists_every_address() {
        let report = analyse_text(
            "From: <test@example.org>\nReply-To: innocent@example.com, \"Spammer\" <another1@example.org>\nSubject: test\n\nbody\n",
        );
        let message = &report_value(&report)["message"];
        assert_eq!(message["reply_to"], "innocent@example.com");
        let all = message["reply_to_all"].as_array().expect("an array");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["address"], "innocent@example.com");
        assert_eq!(all[1]["address"], "another1@example.org");
        assert_eq!(all[1]["name"], "Spammer");
        assert_eq!(all[1]["domain"], "example.org");
    }
}
