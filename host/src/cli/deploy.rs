//! `wsgate deploy`: puts a component into a plugins directory so that the
//! gateway serving it swaps it in at once.
//!
//! A gateway that sees a new file compiles it before the swap, which takes
//! seconds for a big component (a Python one is ~18 MB). `deploy` first
//! checks the component and compiles it into the compile cache the gateway
//! reads, and only then writes it into the directory (under a hidden name,
//! then renamed): the gateway finds it compiled and swaps it in without
//! compiling. A component that is not a valid handler is refused and the
//! directory left alone.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::check::loading_runtime;
use crate::config::ConfigFile;
use crate::runtime::PluginRuntime;

/// The arguments of `wsgate deploy`.
#[derive(Debug, clap::Args)]
pub struct Deploy {
    /// The component to deploy.
    file: PathBuf,

    /// The plugins directory of the gateway to deploy to (created if missing).
    #[arg(long, env = "WSGATE_PLUGINS", value_name = "DIR")]
    plugins: PathBuf,

    /// The route the component serves: it is written as `KEY.wasm`
    /// [default: under its own file name].
    #[arg(long, value_name = "KEY")]
    route: Option<String>,

    /// The gateway's directory for compiled components [default: the
    /// plugins directory's wsgate.toml `cache_dir`, else
    /// $XDG_CACHE_HOME/wsgate or ~/.cache/wsgate].
    #[arg(long, env = "WSGATE_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

impl Deploy {
    /// Checks and compiles the component, then renames it into place.
    pub fn run(&self) -> anyhow::Result<()> {
        let name = self.installed_name()?;
        std::fs::create_dir_all(&self.plugins)
            .with_context(|| format!("creating {}", self.plugins.display()))?;
        let config = self.config()?;
        let routes = served_routes(&name, &config.routes.components)?;
        let cache_dir = self.cache_dir.clone().or(config.options.cache_dir);
        let runtime = loading_runtime(cache_dir.as_deref())?;
        // Read once: the bytes checked and compiled are the bytes installed,
        // even if the file is rewritten meanwhile.
        let (bytes, hash) = PluginRuntime::read(&self.file)?;
        let plugin = runtime.load_read(&self.file, &bytes, hash)?;
        let hash = &plugin.info().hash;
        let target = self.plugins.join(&name);
        let version = &hash[..12];
        if PluginRuntime::hash_file(&target).is_ok_and(|installed| installed == *hash) {
            println!(
                "{} is already this version ({version}): nothing to do",
                target.display()
            );
            return Ok(());
        }
        install(&bytes, &self.plugins, &name)?;
        println!(
            "deployed {} as {} (version {version}, {}), serving {}: a gateway serving {} swaps \
             it in now",
            self.file.display(),
            target.display(),
            plugin.world(),
            routes.join(", "),
            self.plugins.display()
        );
        Ok(())
    }

    /// The file name in the plugins directory: `KEY.wasm`, or the file's own.
    fn installed_name(&self) -> anyhow::Result<String> {
        let name = match &self.route {
            Some(route) => format!("{route}.wasm"),
            None => self
                .file
                .file_name()
                .and_then(|name| name.to_str())
                .context("the component's file name is not UTF-8")?
                .to_owned(),
        };
        if name.starts_with('.') || name.contains('/') || !name.ends_with(".wasm") {
            bail!(
                "`{name}` cannot name a component in a plugins directory: it must end in \
                 .wasm, not start with `.` and hold no `/`"
            );
        }
        Ok(name)
    }

    /// The plugins directory's `wsgate.toml`, if it has one: the gateway
    /// reads its routes and `cache_dir` there.
    fn config(&self) -> anyhow::Result<ConfigFile> {
        let config = self.plugins.join("wsgate.toml");
        match config.is_file() {
            true => ConfigFile::read(&config),
            false => Ok(ConfigFile::default()),
        }
    }
}

/// The routes a component written as `name` serves, by `configured` (the
/// `[routes]` of `wsgate.toml`) and its file name: an error if none, which
/// happens when `[routes]` binds the route the file name would.
fn served_routes(name: &str, configured: &BTreeMap<String, String>) -> anyhow::Result<Vec<String>> {
    let listed: Vec<String> = configured
        .iter()
        .filter(|(_, file)| file.as_str() == name)
        .map(|(route, _)| route.clone())
        .collect();
    if !listed.is_empty() {
        return Ok(listed);
    }
    let route = name.trim_end_matches(".wasm");
    match configured.get(route) {
        Some(file) => bail!(
            "{name} would serve no route: wsgate.toml binds route `{route}` to `{file}` (deploy \
             under that name, without --route)"
        ),
        None => Ok(vec![route.to_owned()]),
    }
}

/// Writes `bytes` into `dir` as `name`: under a hidden name (the gateway
/// skips files whose names start with `.`), flushed to disk, then renamed, so
/// the gateway never reads half of it.
fn install(bytes: &[u8], dir: &Path, name: &str) -> anyhow::Result<()> {
    let partial = dir.join(format!(".{name}.deploy-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut out = std::fs::File::create(&partial)?;
        out.write_all(bytes)?;
        out.sync_all()
    };
    if let Err(error) = write() {
        let _ = std::fs::remove_file(&partial);
        return Err(error).with_context(|| format!("writing {}", partial.display()));
    }
    std::fs::rename(&partial, dir.join(name))
        .with_context(|| format!("renaming {} into place", partial.display()))
}
