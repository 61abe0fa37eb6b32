//! Exchange and Forefront header decoders: the input is one field value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtrace::parse::exchange::{
    describe_compauth_reason, describe_org_scl, parse_connecting_ip, parse_forefront_report,
    parse_header_marker, parse_mailbox_delivery, parse_microsoft_antispam, parse_origin_ip_header,
};

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let report = parse_forefront_report("X-Forefront-Antispam-Report", &value);
    let _ = (report.cip(), report.scl(), report.sfs(), report.upstream());
    let _ = report.describe();
    let _ = parse_microsoft_antispam(&value).describe();
    let _ = describe_org_scl(&value);
    let _ = parse_connecting_ip(&value);
    let _ = parse_header_marker(&value);
    let _ = parse_origin_ip_header(&value);
    let _ = parse_mailbox_delivery(&value).destination_name();
    let _ = describe_compauth_reason(&value);
});
