//! `wsgate check`: are these components valid route handlers? Files one by
//! one, and plugins directories as a gateway would serve them (their
//! `wsgate.toml` and every route it and the file names bind). Every problem
//! is reported, not only the first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::bail;

use crate::config::{ConfigFile, default_cache_dir};
use crate::registry::LocalRegistry;
use crate::runtime::directory::{Binding, bind_routes_checked, subdirectories};
use crate::runtime::{Plugin, PluginRuntime, Sandbox, Services};

/// The arguments of `wsgate check`.
#[derive(Debug, clap::Args)]
pub struct Check {
    /// Components (.wasm files) and plugins directories to check.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Directory for compiled components [default: $XDG_CACHE_HOME/wsgate or ~/.cache/wsgate].
    #[arg(long, env = "WSGATE_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

impl Check {
    /// Checks every path, printing one line per component and per problem;
    /// an error (exit status 1) if there was any problem.
    pub fn run(&self) -> anyhow::Result<()> {
        let runtime = loading_runtime(self.cache_dir.as_deref())?;
        let mut problems = 0;
        for path in &self.paths {
            problems += match path.is_dir() {
                true => directory(&runtime, path),
                false => usize::from(component(&runtime, path).is_none()),
            };
        }
        match problems {
            0 => Ok(()),
            1 => bail!("1 problem found"),
            n => bail!("{n} problems found"),
        }
    }
}

/// A runtime that loads components as the gateway does, compiling them into
/// the compile cache in `cache_dir` (else the default one) so that a gateway
/// using the same cache starts or swaps them in without compiling.
pub fn loading_runtime(cache_dir: Option<&Path>) -> anyhow::Result<PluginRuntime> {
    let registry = Arc::new(LocalRegistry::new(usize::MAX));
    let cache_dir = cache_dir.map(Path::to_path_buf).or_else(default_cache_dir);
    let services = Services::registry_only(registry);
    PluginRuntime::new(Sandbox::default(), services, 0, cache_dir.as_deref())
}

/// Loads the component in `file`; says whether it is a handler (on stdout)
/// or what is wrong with it (on stderr).
fn component(runtime: &PluginRuntime, file: &Path) -> Option<Plugin> {
    match runtime.load(file) {
        Ok(plugin) => {
            println!(
                "ok: {} is a wsgate route handler component ({})",
                file.display(),
                plugin.world()
            );
            Some(plugin)
        }
        Err(error) => {
            eprintln!("error: {error}");
            None
        }
    }
}

/// Checks a plugins directory: its `wsgate.toml`, the routes it binds and
/// every component bound. Returns how many problems it found.
fn directory(runtime: &PluginRuntime, dir: &Path) -> usize {
    let mut problems = 0;
    let config = dir.join("wsgate.toml");
    let configured = match config.is_file() {
        true => match ConfigFile::read(&config) {
            Ok(file) => file.routes.components,
            Err(error) => {
                problem(format!("{error:#}"), &mut problems);
                BTreeMap::new()
            }
        },
        false => BTreeMap::new(),
    };
    let bindings = match bind_routes_checked(dir, &configured) {
        Ok((bindings, refused)) => {
            for error in refused {
                problem(format!("{error:#}"), &mut problems);
            }
            bindings
        }
        Err(error) => {
            problem(format!("{error:#}"), &mut problems);
            return problems;
        }
    };
    if bindings.is_empty() && problems == 0 {
        problem(
            format!(
                "{} binds no route{}: a plugins directory holds built components \
                 (ROUTE.wasm) and optionally a wsgate.toml",
                dir.display(),
                subdirectories(dir)
            ),
            &mut problems,
        );
    }
    for (file, routes) in by_file(&bindings) {
        if component(runtime, file).is_some() {
            println!("   it serves {}", routes.join(", "));
        } else {
            problems += 1;
        }
    }
    problems
}

/// Reports a problem and counts it.
fn problem(text: String, problems: &mut usize) {
    eprintln!("error: {text}");
    *problems += 1;
}

/// The routes each file serves, by file.
fn by_file(bindings: &[Binding]) -> BTreeMap<&Path, Vec<&str>> {
    let mut files: BTreeMap<&Path, Vec<&str>> = BTreeMap::new();
    for binding in bindings {
        files.entry(&binding.file).or_default().push(&binding.route);
    }
    files
}
