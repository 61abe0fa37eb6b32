//! Outlook .msg reader (Compound File Binary) and the search for attached originals in what
//! it read. The `message` target covers the analysis.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Compound File Binary signature; inputs without it would be read as another format.
const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fuzz_target!(|data: &[u8]| {
    if !data.starts_with(&CFB_MAGIC) {
        return;
    }
    mailtrace_fuzz::read_only("fuzz.msg", data);
});
