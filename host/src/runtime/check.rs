//! Validating a `.wasm` file as a route handler, with errors in plain words.

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use super::bindings::{World, v0_1, v0_2};
use super::plugin::HandlerPre;
use super::state::HostState;

/// The handler interfaces the gateway serves, as the refusal names them.
const HANDLER_EXPORTS: &str = "`wsgate:gateway/handler@0.2.0` or `wsgate:gateway/handler@0.1.0`";

/// A file that cannot serve as a route handler, and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct PluginError {
    /// The file, as given.
    pub file: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a plugin file.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The file could not be read.
    #[error("cannot read it: {0}")]
    Unreadable(std::io::Error),
    /// Not WebAssembly at all.
    #[error("not a WebAssembly file (it does not start with the `\\0asm` magic bytes)")]
    NotWasm,
    /// A core module rather than a component.
    #[error(
        "a core WebAssembly module, not a component; build it for the wasm32-wasip2 target \
         (`cargo build --target wasm32-wasip2`) or wrap it with `wasm-tools component new`"
    )]
    CoreModule,
    /// The component does not validate or compile.
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    /// It does not export the handler interface.
    #[error(
        "does not export {HANDLER_EXPORTS}, so it is not a route handler; it exports {exports}{hint}"
    )]
    NotAHandler {
        /// What it exports instead.
        exports: String,
        /// A suggestion for a common mistake.
        hint: &'static str,
    },
    /// It imports something the gateway does not provide.
    #[error(
        "needs an import the gateway does not provide ({0}); route handlers may import \
         wsgate:gateway/connections, wsgate:gateway/groups, wsgate:gateway/event and the WASI 0.2 \
         CLI interfaces"
    )]
    UnsatisfiedImport(String),
    /// It validates but cannot be instantiated (e.g. its start-up traps).
    #[error("fails to instantiate: {0}")]
    Instantiation(String),
    /// It exports the handler interface with another shape.
    #[error(
        "exports `{}` with a different shape than this gateway expects \
         (was it built against another version of wit/?): {problem}",
        world.handler_export()
    )]
    WrongShape {
        /// The version whose handler interface it exports.
        world: World,
        /// What does not match.
        problem: String,
    },
}

/// Refuses bytes that cannot be a component before anything is compiled.
pub fn inspect(bytes: &[u8]) -> Result<(), Problem> {
    const CORE_MODULE: [u8; 4] = [1, 0, 0, 0];
    if !bytes.starts_with(b"\0asm") {
        return Err(Problem::NotWasm);
    }
    if bytes.get(4..8) == Some(&CORE_MODULE[..]) {
        return Err(Problem::CoreModule);
    }
    Ok(())
}

/// Checks a compiled component against the world: it must export the handler
/// interface of a version the gateway serves (the newest, if it exports
/// several), with the right shape, and import nothing the gateway lacks.
pub(super) fn handler(
    engine: &Engine,
    linker: &Linker<HostState>,
    component: &Component,
) -> Result<HandlerPre, Problem> {
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let world = World::ALL
        .into_iter()
        .find(|world| exports.iter().any(|name| name == world.handler_export()));
    let Some(world) = world else {
        let hint = if exports.iter().any(|name| name.starts_with("wasi:cli/run")) {
            " (a command program: build a library crate with `crate-type = [\"cdylib\"]` \
             and the wsgate SDK instead of a binary)"
        } else {
            ""
        };
        let exports = match exports.is_empty() {
            true => "nothing".to_owned(),
            false => exports.join(", "),
        };
        return Err(Problem::NotAHandler { exports, hint });
    };
    let pre = linker
        .instantiate_pre(component)
        .map_err(|e| Problem::UnsatisfiedImport(format!("{e:#}")))?;
    let wrong_shape = |e: wasmtime::Error| Problem::WrongShape {
        world,
        problem: format!("{e:#}"),
    };
    Ok(match world {
        World::V0_1 => HandlerPre::V0_1(v0_1::HandlerPre::new(pre).map_err(wrong_shape)?),
        World::V0_2 => HandlerPre::V0_2(v0_2::HandlerPre::new(pre).map_err(wrong_shape)?),
    })
}
