//! The hubspot profile.

use super::ExportContext;
use anyhow::Result;

/// Writes the hubspot files.
pub fn write(_ctx: &mut ExportContext<'_>) -> Result<()> {
    anyhow::bail!("the hubspot profile is not built yet")
}
