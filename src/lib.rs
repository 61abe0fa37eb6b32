//! mailtrace: email header forensics.
//!
//! The pipeline runs in stages, one module each: [`input`] finds messages and hands over
//! their bytes with their source, [`headers`] splits the header block, [`parse`] reads the
//! structured headers, [`analysis`] turns them into findings and a spoof score inside a
//! [`report::Report`], and [`report`] renders reports. Renderers never compute and the
//! analysis never prints.

pub mod analysis;
pub mod cli;
pub mod config;
pub mod finding;
pub mod headers;
pub mod input;
pub mod iplist;
pub mod parse;
pub mod platform;
pub mod report;
pub mod scan;
pub mod verify;
