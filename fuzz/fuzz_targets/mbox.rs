//! mbox splitter and envelope parser, with the search for attached originals in each
//! message. The `message` target covers the analysis.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Inputs that do not start like an mbox get a `From ` line, so that they reach the
    // splitter instead of being read as a single message.
    let mut bytes = Vec::with_capacity(data.len() + 48);
    if !data.starts_with(b"From ") {
        bytes.extend_from_slice(b"From sender@example.com Thu Jan  4 10:00:00 2024\n");
    }
    bytes.extend_from_slice(data);
    mailtrace_fuzz::read_only("fuzz.mbox", &bytes);
});
