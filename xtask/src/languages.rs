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

/// The world Python, JavaScript and C guests implement: the gateway's
/// interfaces with `wasi:config`, `wasi:keyvalue` and `wasi:http`.
const WORLD: &str = "route-handler";

/// The world WAT guests implement: the gateway's own interfaces, all a
/// hand-written echo needs.
const GATEWAY_WORLD: &str = "gateway";

/// How a guest's source becomes a component.
#[derive(Clone, Copy)]
enum Language {
    /// `componentize-py`: the source is a module defining class `Handler`.
    Python,
    /// `jco componentize` (componentize-js: StarlingMonkey, without AOT): the
    /// source is an ES module exporting `handler`.
    JavaScript,
    /// Hand-written WebAssembly text, made a component in process (the
    /// `wat`, `wit-parser` and `wit-component` crates behind `wasm-tools`).
    Wat,
    /// C: `wit-bindgen c` generates the bindings, clang compiles for
    /// `wasm32-wasi` (preview 1) and links with `wasm-component-ld`, which
    /// makes the module a component with the preview 1 adapter.
    C,
}

/// A guest crate's counterpart: a directory with one source file.
struct Guest {
    /// Its directory, from the workspace root.
    dir: &'static str,
    language: Language,
    /// Its source file, in `dir`.
    source: &'static str,
    /// The WIT it is built against, from the workspace root: `wit` for
    /// 0.2.0, `wit/v0.1` for the kept 0.1.0 guest.
    wit: &'static str,
    /// The component's name in `target/wasm32-wasip2/plugin/`.
    name: &'static str,
    /// Where the component is installed, from `dir`; the tests' own guests
    /// are used from the target directory and installed nowhere.
    install: Option<&'static str>,
}

const GUESTS: &[Guest] = &[
    Guest {
        dir: "examples/python-calc",
        language: Language::Python,
        source: "app.py",
        wit: "wit",
        name: "python-calc",
        install: Some("plugins/calc.wasm"),
    },
    Guest {
        dir: "examples/js-chat",
        language: Language::JavaScript,
        source: "app.js",
        wit: "wit",
        name: "js-chat",
        install: Some("plugins/chat.wasm"),
    },
    Guest {
        dir: "examples/wat-echo",
        language: Language::Wat,
        source: "echo.wat",
        wit: "wit",
        name: "wat-echo",
        install: Some("plugins/$default.wasm"),
    },
    Guest {
        dir: "examples/c-echo",
        language: Language::C,
        source: "echo.c",
        wit: "wit",
        name: "c-echo",
        install: Some("plugins/echo.wasm"),
    },
    // A JavaScript handler using config, kv and outbound HTTP, for
    // tests/tests/languages.rs.
    Guest {
        dir: "tests/fixtures/js-probe",
        language: Language::JavaScript,
        source: "probe.js",
        wit: "wit",
        name: "js-probe",
        install: None,
    },
    // The same, in Python.
    Guest {
        dir: "tests/fixtures/py-probe",
        language: Language::Python,
        source: "probe.py",
        wit: "wit",
        name: "py-probe",
        install: None,
    },
    // The hand-written 0.1.0 echo, kept as source beside the 0.1.0 builds
    // (tests/fixtures/v0.1/README.md).
    Guest {
        dir: "tests/fixtures/v0.1",
        language: Language::Wat,
        source: "echo.wat",
        wit: "wit/v0.1",
        name: "wat-echo-v01",
        install: None,
    },
];

/// Builds every guest whose inputs changed into `out` and installs it.
pub fn build(root: &Path, out: &Path, tools: &Toolchains) -> anyhow::Result<()> {
    for guest in GUESTS {
        let wit = root.join(guest.wit);
        let dir = root.join(guest.dir);
        let built = out.join(format!("{}.wasm", guest.name));
        let mut inputs = sources(&dir, guest.extension())?;
        inputs.extend(sources(&wit, "wit")?);
        inputs.extend(guest.toolchain(tools).map(Toolchain::stamp));
        if inputs.iter().map(|input| modified(input)).max() > Some(modified(&built)) {
            println!("building {} ({})", guest.dir, guest.source);
            let partial = built.with_extension("wasm.partial");
            guest.compile(&dir, &wit, &partial, tools)?;
            std::fs::rename(&partial, &built)?;
        }
        if let Some(install) = guest.install {
            crate::install(root, &built, &dir.join(install))?;
        }
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

    /// The installed toolchain the language needs, if any.
    fn toolchain<'a>(&self, tools: &'a Toolchains) -> Option<&'a Toolchain> {
        match self.language {
            Language::Python => Some(&tools.python),
            Language::JavaScript => Some(&tools.node),
            Language::Wat => None,
            Language::C => Some(&tools.c),
        }
    }

    fn compile(
        &self,
        dir: &Path,
        wit: &Path,
        out: &Path,
        tools: &Toolchains,
    ) -> anyhow::Result<()> {
        let tool = || self.toolchain(tools).map(Toolchain::command);
        match self.language {
            Language::Python => {
                let module = self.source.trim_end_matches(".py");
                run(Command::new(tool().expect("Python's toolchain"))
                    .current_dir(dir)
                    .arg("--wit-path")
                    .arg(wit)
                    .args(["--world", WORLD, "--quiet", "componentize", module, "-o"])
                    .arg(out))
            }
            Language::JavaScript => run(Command::new(tool().expect("the JavaScript toolchain"))
                .arg("componentize")
                .arg(dir.join(self.source))
                .arg("--wit")
                .arg(wit)
                .args(["--world-name", WORLD, "-o"])
                .arg(out)),
            Language::Wat => wat_component(&dir.join(self.source), wit, out),
            Language::C => c_component(
                &dir.join(self.source),
                wit,
                out,
                tool().expect("the C toolchain"),
            ),
        }
    }
}

/// Compiles the C in `source` against the bindings `wit-bindgen` generates
/// for the `route-handler` world of `wit`, into a component: the commands of
/// `examples/c-echo/README.md`, with the generated files in the target
/// directory.
fn c_component(source: &Path, wit: &Path, out: &Path, wit_bindgen: &Path) -> anyhow::Result<()> {
    let bindings = out.with_extension("bindings");
    run(Command::new(wit_bindgen)
        .args([
            "c",
            "--autodrop-borrows",
            "yes",
            "--world",
            WORLD,
            "--out-dir",
        ])
        .arg(&bindings)
        .arg(wit))?;
    // Compiled and linked apart: an optimising link would have clang run any
    // `wasm-opt` on `PATH` over the output, which is a component by then.
    let mut objects = Vec::new();
    for c in [source.to_path_buf(), bindings.join("route_handler.c")] {
        let object = bindings.join(c.with_extension("o").file_name().expect("a file"));
        run(Command::new("clang")
            .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-I"])
            .arg(&bindings)
            .arg("-c")
            .arg(&c)
            .arg("-o")
            .arg(&object))?;
        objects.push(object);
    }
    let linker = rust_component_linker()?;
    run(Command::new("clang")
        .args(["--target=wasm32-wasi", "-mexec-model=reactor"])
        .arg(format!("-fuse-ld={}", linker.display()))
        .arg("-o")
        .arg(out)
        .args(&objects)
        .arg(bindings.join("route_handler_component_type.o")))
}

/// The `wasm-component-ld` the Rust toolchain carries for its wasm32-wasip2
/// target (which the xtask adds), in `SYSROOT/lib/rustlib/HOST/bin/`: the
/// linker that makes a component of what `wasm-ld` links, so the C toolchain
/// need not build one (as `cargo install` would, for minutes).
fn rust_component_linker() -> anyhow::Result<PathBuf> {
    let rustc = |arg: &str| -> anyhow::Result<String> {
        let output = Command::new("rustc")
            .arg(arg)
            .output()
            .context("rustc is needed to find its wasm-component-ld")?;
        Ok(String::from_utf8(output.stdout)?)
    };
    let sysroot = rustc("--print=sysroot")?;
    let version = rustc("-vV")?;
    let host = version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .context("rustc -vV names the host")?;
    let linker = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin/wasm-component-ld");
    anyhow::ensure!(
        linker.is_file(),
        "no {} (it comes with `rustup target add wasm32-wasip2`)",
        linker.display()
    );
    Ok(linker)
}

/// Turns the WebAssembly text in `source` into a core module, embeds the
/// `gateway` world of `wit` in it and makes it a component, like
/// `wasm-tools parse`, `component embed --world gateway` and `component new`.
fn wat_component(source: &Path, wit: &Path, out: &Path) -> anyhow::Result<()> {
    let mut module =
        wat::parse_file(source).with_context(|| format!("parsing {}", source.display()))?;
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(wit)?;
    let world = resolve.select_world(&[package], Some(GATEWAY_WORLD))?;
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )?;
    let component = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&module)?
        .encode()
        .with_context(|| format!("making a component of {}", source.display()))?;
    std::fs::write(out, component)?;
    Ok(())
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
