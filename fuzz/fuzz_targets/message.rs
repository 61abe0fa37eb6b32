//! Whole-message entry point: bytes as a file, through input detection, analysis and
//! every renderer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtrace::headers::{HeaderBlock, ParseOptions};

fuzz_target!(|data: &[u8]| {
    mailtrace_fuzz::read_and_analyse("fuzz.eml", data);

    // Pasted headers take another path through the header splitter.
    let options = ParseOptions {
        pasted_headers: true,
        ..ParseOptions::default()
    };
    let _ = HeaderBlock::parse(data, &options);
});
