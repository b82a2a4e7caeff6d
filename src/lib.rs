//! omnitrail: import customer communications from WhatsApp, email and phone exports into
//! one workspace, link them to unified customers, and report where context is lost.
//!
//! Data flows one way: [`import`] → [`workspace`] → [`matcher`] → ([`report`], [`export`]);
//! [`gen`] writes synthetic exports with ground truth for tests and benchmarks.

pub mod benchkit;
pub mod config;
pub mod export;
pub mod gen;
pub mod identity;
pub mod import;
pub mod matcher;
pub mod model;
pub mod normalize;
pub mod report;
pub mod workspace;
