//! Business settings from a TOML file: `--business-file FILE`, or `omnitrail.toml` in the
//! workspace. `omnitrail gen` writes one (`business.toml`) for its synthetic business.
//! Command-line flags win over the file.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::Path;

/// Name of the settings file read from the workspace root when present.
pub const WORKSPACE_SETTINGS: &str = "omnitrail.toml";

/// Who the business is, on every channel, and the defaults for its sources.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusinessSettings {
    /// Display name, for reports.
    pub name: Option<String>,
    /// `--business-name`: the business's names as WhatsApp authors.
    pub whatsapp_names: Vec<String>,
    /// `--business-domain`
    pub domains: Vec<String>,
    /// `--business-address`
    pub addresses: Vec<String>,
    /// `--business-number`
    pub numbers: Vec<String>,
    /// `--region`
    pub region: Option<String>,
    /// `--tz`
    pub tz: Option<String>,
}

impl BusinessSettings {
    /// Reads a settings file; errors name the file and what was wrong in it.
    pub fn load(path: &Path) -> Result<BusinessSettings> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).with_context(|| {
            format!(
                "{}: not valid business settings (expected TOML with name, whatsapp_names, domains, addresses, numbers, region, tz)",
                path.display()
            )
        })
    }

    /// The explicit file if given, else the workspace's `omnitrail.toml` if it exists, else nothing.
    pub fn resolve(explicit: Option<&Path>, workspace: &Path) -> Result<BusinessSettings> {
        match explicit {
            Some(p) => BusinessSettings::load(p),
            None => {
                let p = workspace.join(WORKSPACE_SETTINGS);
                if p.is_file() {
                    BusinessSettings::load(&p)
                } else {
                    Ok(BusinessSettings::default())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_file_gen_writes_and_refuses_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("business.toml");
        std::fs::write(
            &p,
            "name = \"Bloom & Stem\"\nwhatsapp_names = [\"Bloom & Stem\"]\ndomains = [\"bloomandstem.example\"]\nnumbers = [\"+442079460000\"]\nregion = \"GB\"\ntz = \"Europe/London\"\n",
        )
        .unwrap();
        let s = BusinessSettings::resolve(Some(&p), dir.path()).unwrap();
        assert_eq!(s.whatsapp_names, vec!["Bloom & Stem"]);
        assert_eq!(s.region.as_deref(), Some("GB"));
        std::fs::write(&p, "nmae = \"typo\"\n").unwrap();
        let err = format!("{:#}", BusinessSettings::load(&p).unwrap_err());
        assert!(err.contains("business.toml") && err.contains("nmae"), "{err}");
        assert_eq!(
            BusinessSettings::resolve(None, dir.path()).unwrap(),
            BusinessSettings::default()
        );
    }
}
