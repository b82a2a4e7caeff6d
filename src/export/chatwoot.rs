//! The chatwoot profile.

use super::ExportContext;
use anyhow::Result;

/// Writes the chatwoot files.
pub fn write(_ctx: &mut ExportContext<'_>) -> Result<()> {
    anyhow::bail!("the chatwoot profile is not built yet")
}
