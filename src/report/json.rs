//! JSON wire format of a report (schema_version "1"). These types are separate from the
//! analysis types so that internal changes never rename a published field.

use crate::analysis::Report;
use crate::analysis::chain::Hop;
use crate::parse::address::Mailbox;
use crate::parse::date::format_timestamp;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Version of the JSON report contract.
pub const SCHEMA_VERSION: &str = "1";

/// Builds the JSON value of one report.
pub fn report_value(report: &Report) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "source": &report.source,
        "message": message_value(report),
        "header_count": report.headers.fields.len(),
        "transport_headers": transport_state(report),
        "hops": report.chain.hops.iter().map(hop_value).collect::<Vec<_>>(),
        "origin": &report.origin,
        "addresses": &report.addresses,
        "auth": auth_value(report),
        "exchange": exchange_value(report),
        "platform": platform_value(report),
        "findings": &report.findings,
        "ip_matches": report.ip_matches.iter().map(|m| json!({
            "ip": m.ip, "list": m.list, "entry": m.entry, "label": m.label, "location": m.location,
        })).collect::<Vec<_>>(),
        "spoof": &report.spoof,
        "verified": &report.verified,
        "msg": report.msg.as_ref().map(|m| json!({
            "transport_headers": transport_state(report),
            "transport_headers_stream": m.transport_headers,
            "subject": m.subject,
            "sender": m.sender,
            "sender_name": m.sender_name,
            "client_submit_time": m.client_submit_time.as_ref().map(format_timestamp),
            "delivery_time": m.delivery_time.as_ref().map(format_timestamp),
            "message_class": m.message_class,
        })),
    })
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
    json!({
        "name": mailbox.display,
        "address": mailbox.address,
        "domain": mailbox.domain_lower(),
        "local_part": mailbox.local_part,
        "comments": mailbox.comments,
    })
}

fn message_value(report: &Report) -> Value {
    let message = &report.message;
    json!({
        "from": message.from.first().map(mailbox_value),
        "from_all": message.from.iter().map(mailbox_value).collect::<Vec<_>>(),
        "from_field_count": message.from_field_count,
        "from_text": message.from_text,
        "reply_to": message.reply_to.first().map(|m| m.address.clone()),
        "return_path": message.return_path,
        "sender": message.sender,
        "subject": message.subject,
        "date": message.date.as_ref().and_then(|d| d.timestamp.as_ref()).map(format_timestamp),
        "date_raw": message.date.as_ref().map(|d| d.raw.clone()),
        "message_id": message.message_id,
    })
}

/// Returns the wire form of a hop: the contract fields, then every other parsed field.
pub fn hop_value(hop: &Hop) -> Value {
    let r = &hop.received;
    let mut value = json!({
        "index": hop.index,
        "from_host": r.from_host,
        "from_rdns": r.from_rdns,
        "from_ip": r.from_ip,
        "helo": r.helo,
        "by_host": r.by_host,
        "by_ip": r.by_ip,
        "protocol": r.protocol,
        "id": r.id,
        "for": r.for_addr,
        "via": r.via,
        "timestamp": r.timestamp.as_ref().map(format_timestamp),
        "delay_seconds": hop.delay_seconds.map(seconds_value),
        "internal": hop.internal,
        "raw": hop.raw,
        "line": hop.line,
        "reconstructed": hop.reconstructed,
        "provider": hop.provider,
    });
    let extras = json!({
        "from_ip_zone": r.from_ip_zone,
        "by_ip_zone": r.by_ip_zone,
        "by_clause_count": r.by_clause_count,
        "ident": r.ident,
        "auth_sender": r.auth_sender,
        "for_placeholder": r.for_placeholder,
        "envelope_from": r.envelope_from,
        "orcpt": r.orcpt,
        "tls_version": r.tls_version,
        "tls_cipher": r.tls_cipher,
        "exchange_build": r.exchange_build,
        "mta": r.mta,
        "comment": r.comment,
        "local": r.local,
        "date_raw": r.date_raw,
    });
    if let (Some(map), Value::Object(extra)) = (value.as_object_mut(), extras) {
        map.extend(extra);
    }
    value
}

/// Writes whole seconds as an integer and keeps fractions otherwise.
fn seconds_value(seconds: f64) -> Value {
    if seconds.fract() == 0.0 && seconds.abs() < 9.0e15 {
        json!(seconds as i64)
    } else {
        json!(seconds)
    }
}

fn auth_value(report: &Report) -> Value {
    let auth = &report.auth;
    let mut results = Vec::new();
    for field in &auth.results {
        for result in &field.parsed.results {
            let properties: Map<String, Value> = result
                .properties
                .iter()
                .map(|p| (p.key(), Value::String(p.value.clone())))
                .collect();
            results.push(json!({
                "header": field.header,
                "line": field.line,
                "authserv_id": field.parsed.authserv_id,
                "instance": field.parsed.instance,
                "method": result.method,
                "result": result.result,
                "result_raw": result.result_raw,
                "reason": result.reason,
                "comment": result.comment,
                "properties": properties,
                "trusted": field.trusted,
            }));
        }
    }
    json!({
        "results": results,
        "fields": auth.results.iter().map(|f| json!({
            "header": f.header, "line": f.line, "trusted": f.trusted, "parsed": f.parsed,
        })).collect::<Vec<_>>(),
        "received_spf": auth.received_spf.iter().map(|s| json!({
            "line": s.line, "trusted": s.trusted, "parsed": s.parsed,
        })).collect::<Vec<_>>(),
        "dkim_signatures": auth.dkim_signatures.iter().map(|s| json!({
            "line": s.line, "parsed": s.parsed,
        })).collect::<Vec<_>>(),
        "arc": json!({
            "sets": auth.arc.set_count,
            "chain": auth.arc.chain,
            "detail": &auth.arc,
        }),
    })
}

fn exchange_value(report: &Report) -> Value {
    let exchange = &report.exchange;
    if exchange.is_empty() {
        return Value::Null;
    }
    json!({
        "forefront": exchange.forefront.iter().map(|r| json!({
            "field_name": r.field_name,
            "upstream": r.upstream(),
            "pairs": r.describe(),
        })).collect::<Vec<_>>(),
        "microsoft_antispam": exchange.microsoft_antispam,
        "organization_scl": exchange.organization_scl.as_ref().map(|(value, meaning)| json!({"value": value, "meaning": meaning})),
        "organization_auth_as": exchange.organization_auth_as,
        "organization_auth_source": exchange.organization_auth_source,
        "from_entity": exchange.from_entity,
        "connecting_ips": exchange.connecting_ips,
    })
}

/// Returns the platform section: platforms in the order they handled the message, the
/// final platform's missing always-written headers, and gateway summaries.
fn platform_value(report: &Report) -> Value {
    let section = &report.platforms;
    json!({
        "final": section.final_platform().map(|p| p.id.clone()),
        "platforms": section.platforms,
        "missing": section.missing,
        "gateways": section.gateways.iter().map(|g| json!({
            "vendor": g.vendor,
            "headers": g.headers,
            "values": g.values.iter().map(|(header, value)| json!({"header": header, "value": value})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
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
    let mut value = report_value(report);
    if let Some(map) = value.as_object_mut() {
        map.insert("record".into(), Value::String("message".into()));
    }
    value
}
