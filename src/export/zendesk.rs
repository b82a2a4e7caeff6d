//! The zendesk profile.

use super::ExportContext;
use anyhow::Result;

/// Writes the zendesk files.
pub fn write(_ctx: &mut ExportContext<'_>) -> Result<()> {
    anyhow::bail!("the zendesk profile is not built yet")
}
