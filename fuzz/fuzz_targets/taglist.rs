//! DKIM and ARC tag-list parsers (RFC 6376 section 3.2, RFC 8617): the input is one field
//! value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtrace::parse::taglist::{
    parse_arc_message_signature, parse_arc_seal, parse_dkim_signature, parse_tag_list,
};

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let _ = parse_tag_list(&value);
    let _ = parse_dkim_signature(&value);
    let _ = parse_arc_message_signature(&value);
    let _ = parse_arc_seal(&value);
});
