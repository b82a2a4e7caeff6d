//! The matcher: links identities into customers from weighted evidence (issue #6).
