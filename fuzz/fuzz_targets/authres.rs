//! Authentication-Results (RFC 8601), ARC-Authentication-Results and Received-SPF parsers:
//! the input is one unfolded field value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtrace::parse::authres::{
    parse_arc_authentication_results, parse_authentication_results, parse_instance,
};
use mailtrace::parse::received_spf::parse_received_spf;

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let _ = parse_authentication_results(&value);
    let _ = parse_arc_authentication_results(&value);
    let _ = parse_instance(&value);
    let _ = parse_received_spf(&value);
});
