//! The image-pull function's configuration, read from the host's [`Settings`].
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LASTMILE_SIGNATURE_KEYS` | none | signature policy: comma-separated `[PATTERN=]KEY.pem` entries (see [`crate::policy`]) |
//! | `LASTMILE_BASE_OS_MAX_BYTES` | `67108864` (64 MiB) | bytes of layers read per image to find its base OS; `0` turns the lookup off |
//! | `LASTMILE_BASE_OS_TIMEOUT_SECS` | `10` | time spent per image on the base OS |
//!
//! Hosts call [`ImagePullConfig::install`] once at start-up: it reads the key files, fails on
//! a bad value (the host exits 2 with the cause), and stores the parsed configuration in the
//! settings; the function then reads it with [`ImagePullConfig::of`] and does no I/O for it
//! (a host that installs nothing gets the settings parsed at each call instead).

use std::time::Duration;

use lastmile_contract::{Context, Settings};

use crate::base_os::{BaseOsOptions, DEFAULT_MAX_BYTES, DEFAULT_TIME_BUDGET};
use crate::policy::{PolicyError, SignaturePolicy};
use crate::probe::Checks;

/// Signature policy entries.
pub const SIGNATURE_KEYS: &str = "LASTMILE_SIGNATURE_KEYS";
/// Byte cap of the base-OS lookup.
pub const BASE_OS_MAX_BYTES: &str = "LASTMILE_BASE_OS_MAX_BYTES";
/// Time budget of the base-OS lookup, seconds.
pub const BASE_OS_TIMEOUT_SECS: &str = "LASTMILE_BASE_OS_TIMEOUT_SECS";

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not a number where one is expected.
    #[error("{name}={value:?} is not a whole number")]
    NotANumber {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// The signature policy does not load.
    #[error("{SIGNATURE_KEYS}: {0}")]
    Policy(#[from] PolicyError),
}

/// The function's parsed configuration.
#[derive(Debug, Clone)]
pub struct ImagePullConfig {
    /// The checks every probe runs.
    pub checks: Checks,
}

impl Default for ImagePullConfig {
    /// No signature policy; base OS read with the default caps.
    fn default() -> Self {
        Self {
            checks: Checks {
                signature: SignaturePolicy::default(),
                base_os: BaseOsOptions::enabled(),
            },
        }
    }
}

impl ImagePullConfig {
    /// Parses the settings, reading the policy's key files.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(spec) = settings.get(SIGNATURE_KEYS) {
            config.checks.signature =
                SignaturePolicy::load(&SignaturePolicy::parse_entries(spec)?)?;
        }
        config.checks.base_os.max_bytes =
            number(settings, BASE_OS_MAX_BYTES)?.unwrap_or(DEFAULT_MAX_BYTES);
        config.checks.base_os.time_budget = number(settings, BASE_OS_TIMEOUT_SECS)?
            .map_or(DEFAULT_TIME_BUDGET, Duration::from_secs);
        Ok(config)
    }

    /// Parses the settings and stores the result in them, for [`ImagePullConfig::of`].
    pub fn install(settings: &mut Settings) -> Result<(), ConfigError> {
        let config = Self::from_settings(settings)?;
        settings.insert(config);
        Ok(())
    }

    /// The configuration the host installed. A host that installed none gets the settings
    /// parsed here (reading key files), so a configured policy is never silently skipped.
    pub fn of(ctx: &Context) -> Result<Self, ConfigError> {
        match ctx.settings.extension::<Self>() {
            Some(c) => Ok(c.clone()),
            None => Self::from_settings(&ctx.settings),
        }
    }
}

fn number(settings: &Settings, name: &'static str) -> Result<Option<u64>, ConfigError> {
    settings
        .get(name)
        .map(|v| {
            v.parse().map_err(|_| ConfigError::NotANumber {
                name,
                value: v.to_owned(),
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests;
