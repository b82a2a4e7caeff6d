//! The integration tests, as one test binary.
//!
//! Every test file links the whole library and polars; as separate binaries (cargo's
//! default) they cost CI a link of a ~260 MB executable each and GBs of disk.

mod calls_common;
mod common;
mod email_common;

mod calls_corpus;
mod calls_fixtures;
mod cli;
mod contacts;
mod email_corpus;
mod email_fixtures;
mod export;
mod gen;
mod matcher;
mod report;
mod report_truth;
mod whatsapp_corpus;
mod whatsapp_fixtures;
