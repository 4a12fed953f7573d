//! Where the configuration is read from: the `--config` file if given, else
//! `wsgate.toml` in the plugins directory if there is one; read at start-up,
//! and again at every reload.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{ConfigFile, RouteConfig};

/// What a reload reads again: the plugins directory and the config file's
/// `[routes]` and `[config]`.
#[derive(Clone, Debug)]
pub struct RouteSources {
    /// The plugins directory.
    pub plugins: PathBuf,
    /// The explicit `--config` file, if one was given.
    pub config_file: Option<PathBuf>,
}

impl RouteSources {
    /// Reads the `[routes]` of the config file again: the explicit file, else
    /// the plugins directory's if there is one now.
    pub fn reread_routes(&self) -> anyhow::Result<RouteConfig> {
        match to_read(self.config_file.as_deref(), Some(&self.plugins)) {
            Some(path) => Ok(read_config(&path)?.routes),
            None => Ok(RouteConfig::default()),
        }
    }

    /// The config file a reload reads, with the plugins directory at
    /// `plugins` (as given, or as the file watcher sees it).
    pub fn config_path(&self, plugins: &Path) -> PathBuf {
        self.config_file
            .clone()
            .unwrap_or_else(|| plugins_config(plugins))
    }
}

/// The config file to read, if any: the explicit one (an error later if it is
/// missing), else the plugins directory's if it exists.
pub(super) fn to_read(explicit: Option<&Path>, plugins: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => plugins.map(plugins_config).filter(|path| path.is_file()),
    }
}

/// The config file read without `--config`: `wsgate.toml` in the plugins
/// directory.
fn plugins_config(plugins: &Path) -> PathBuf {
    plugins.join("wsgate.toml")
}

/// Reads and parses a config file, naming it in any error.
pub(super) fn read_config(path: &Path) -> anyhow::Result<ConfigFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    text.parse()
        .with_context(|| format!("invalid config file {}", path.display()))
}
