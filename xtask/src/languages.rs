//! Guests written in languages other than Rust: each is built with its
//! language's toolchain (see [`crate::toolchains`]) into
//! `target/wasm32-wasip2/plugin/NAME.wasm`, where the tests find it, and
//! installed into its example's plugins directory.
//!
//! A guest is rebuilt only when one of its sources (the files of its
//! language in its directory), the WIT world or the toolchain changed since
//! its last build: Python and JavaScript builds take a while, and their
//! output differs from build to build, so each rebuild also costs the gateway
//! a compilation.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::Context;

use crate::run;
use crate::toolchains::{Toolchain, Toolchains};

/// The world every guest implements, in `wit/`.
const WORLD: &str = "route-handler";

/// How a guest's source becomes a component.
#[derive(Clone, Copy)]
enum Language {
    /// `componentize-py`: the source is a module defining class `Handler`.
    Python,
    /// `jco componentize` (StarlingMonkey, without AOT): the source is an ES
    /// module exporting `handler`.
    JavaScript,
    /// Hand-written WebAssembly text: `jco parse`, `embed` and `new`.
    Wat,
}

/// A guest crate's counterpart: a directory with one source file.
struct Guest {
    /// Its directory, from the workspace root.
    dir: &'static str,
    language: Language,
    /// Its source file, in `dir`.
    source: &'static str,
    /// The component's name in `target/wasm32-wasip2/plugin/`.
    name: &'static str,
    /// Where the component is installed, from `dir`.
    install: &'static str,
}

const GUESTS: &[Guest] = &[
    Guest {
        dir: "examples/python-calc",
        language: Language::Python,
        source: "app.py",
        name: "python-calc",
        install: "plugins/calc.wasm",
    },
    Guest {
        dir: "examples/js-chat",
        language: Language::JavaScript,
        source: "app.js",
        name: "js-chat",
        install: "plugins/chat.wasm",
    },
    Guest {
        dir: "examples/wat-echo",
        language: Language::Wat,
        source: "echo.wat",
        name: "wat-echo",
        install: "plugins/$default.wasm",
    },
];

/// Builds every guest whose inputs changed into `out` and installs it.
pub fn build(root: &Path, out: &Path, tools: &Toolchains) -> anyhow::Result<()> {
    let wit = root.join("wit");
    for guest in GUESTS {
        let dir = root.join(guest.dir);
        let built = out.join(format!("{}.wasm", guest.name));
        let toolchain = guest.toolchain(tools);
        let mut inputs = sources(&dir, guest.extension())?;
        inputs.extend(sources(&wit, "wit")?);
        inputs.push(toolchain.stamp());
        if inputs.iter().map(|input| modified(input)).max() > Some(modified(&built)) {
            println!("building {} ({})", guest.dir, guest.source);
            let partial = built.with_extension("wasm.partial");
            guest.compile(&dir, &wit, &partial, toolchain.command())?;
            std::fs::rename(&partial, &built)?;
        }
        crate::install(root, &built, &dir.join(guest.install))?;
    }
    Ok(())
}

impl Guest {
    /// The extension of the language's source files: `py`, `js`, `wat`.
    fn extension(&self) -> &'static str {
        self.source
            .rsplit_once('.')
            .map_or("", |(_, extension)| extension)
    }

    fn toolchain<'a>(&self, tools: &'a Toolchains) -> &'a Toolchain {
        match self.language {
            Language::Python => &tools.python,
            Language::JavaScript | Language::Wat => &tools.node,
        }
    }

    fn compile(&self, dir: &Path, wit: &Path, out: &Path, tool: &Path) -> anyhow::Result<()> {
        match self.language {
            Language::Python => {
                let module = self.source.trim_end_matches(".py");
                run(Command::new(tool)
                    .current_dir(dir)
                    .arg("--wit-path")
                    .arg(wit)
                    .args(["--world", WORLD, "--quiet", "componentize", module, "-o"])
                    .arg(out))
            }
            Language::JavaScript => run(Command::new(tool)
                .arg("componentize")
                .arg(dir.join(self.source))
                .arg("--wit")
                .arg(wit)
                .args(["--world-name", WORLD])
                // Leave out the engine's own HTTP support (fetch and an HTTP
                // server export): a route handler uses neither.
                .args(["--disable", "http", "fetch-event", "-o"])
                .arg(out)),
            Language::Wat => {
                // A core module, then the same with the world embedded, then
                // the component.
                let core = out.with_file_name(format!("{}.core.wasm", self.name));
                let embedded = out.with_file_name(format!("{}.embedded.wasm", self.name));
                run(Command::new(tool)
                    .arg("parse")
                    .arg(dir.join(self.source))
                    .arg("-o")
                    .arg(&core))?;
                run(Command::new(tool)
                    .arg("embed")
                    .arg("--wit")
                    .arg(wit)
                    .args(["--world-name", WORLD])
                    .arg(&core)
                    .arg("-o")
                    .arg(&embedded))?;
                run(Command::new(tool)
                    .arg("new")
                    .arg(&embedded)
                    .arg("-o")
                    .arg(out))
            }
        }
    }
}

/// The files directly in `dir` whose names end in `.extension`.
fn sources(dir: &Path, extension: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|found| found == extension) {
            files.push(path);
        }
    }
    Ok(files)
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}
