//! Normalisers shared by importers and the matcher: one of each, used everywhere.

pub mod mentions;
pub mod phone;
pub mod text;
