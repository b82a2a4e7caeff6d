//! omnitrail: import customer communications from WhatsApp, email and phone exports into
//! one workspace, link them to unified customers, and report where context is lost.
//!
//! Data flows one way: [`import`] → [`workspace`] → (matcher, reports, export).

pub mod import;
pub mod model;
pub mod normalize;
pub mod workspace;
