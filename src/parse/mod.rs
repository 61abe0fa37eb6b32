//! Parsers for structured header fields. Each parser is lenient: it keeps what it cannot
//! read as raw text and records the problem as a finding instead of failing.

pub mod address;
pub mod ascii;
pub mod authres;
pub mod date;
pub mod encoded_word;
pub mod exchange;
pub mod invisible;
pub mod received;
pub mod received_spf;
pub mod taglist;
