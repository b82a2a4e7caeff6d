//! The salesforce profile.

use super::ExportContext;
use anyhow::Result;

/// Writes the salesforce files.
pub fn write(_ctx: &mut ExportContext<'_>) -> Result<()> {
    anyhow::bail!("the salesforce profile is not built yet")
}
