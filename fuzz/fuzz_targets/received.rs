//! Received field parser: the input is one unfolded field value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtrace::parse::received::parse_received;

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let _ = parse_received(&value);
});
