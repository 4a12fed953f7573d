//! The `wsgate` command line: `serve`, `check`, `deploy` and `new`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::signal::unix::{Signal, SignalKind, signal};

pub mod check;
pub mod deploy;
pub mod new;

use check::Check;
use deploy::Deploy;
use new::NewProject;

use crate::config::{Options, Settings};
use crate::gateway::Gateway;

/// wsgate: a programmable WebSocket gateway whose routes are WebAssembly components.
///
/// Clients connect over WebSocket; every connect, message and disconnect is
/// routed (AWS API Gateway semantics: $connect, $disconnect, $default and custom
/// routes picked by a route selection expression) to a component in the plugins
/// directory. The file name binds the route: `$connect.wasm`, `$default.wasm`,
/// `sendmessage.wasm`; a `wsgate.toml` can bind one component to several routes.
#[derive(Debug, Parser)]
#[command(name = "wsgate", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start-up: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway.
    ///
    /// Every option can also be set with a WSGATE_* environment variable or a
    /// key of the same name (snake_case) in wsgate.toml; a flag beats the
    /// variable, which beats the file. Example:
    ///
    ///   wsgate serve --plugins ./plugins --listen 127.0.0.1:8080
    Serve {
        /// Config file [default: wsgate.toml in the plugins directory, if present].
        #[arg(long, env = "WSGATE_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,

        #[command(flatten)]
        options: Options,
    },
    /// Check that components are valid route handlers: .wasm files, and
    /// plugins directories with their wsgate.toml.
    ///
    /// Prints what is wrong in plain words, every problem at once, and exits
    /// with status 1 if there is any (not WebAssembly, a core module instead
    /// of a component, the wrong world, an import the gateway does not
    /// provide, an invalid wsgate.toml, a route bound to a missing file). The
    /// compiled components go to the compile cache, so `serve` later starts
    /// without compiling them. Example:
    ///
    ///   wsgate check ./plugins extra/sendmessage.wasm
    Check(Check),
    /// Deploy a component into a plugins directory, compiled beforehand, so
    /// the gateway serving it swaps it in at once.
    ///
    /// Checks the component and compiles it into the compile cache (the
    /// gateway's: the same --cache-dir, or the plugins directory's
    /// wsgate.toml `cache_dir`), then writes it under a hidden name and renames
    /// it into place. A component that is not a valid handler is refused and
    /// the directory left as it was. Example:
    ///
    ///   wsgate deploy target/wasm32-wasip2/release/chat.wasm --plugins ./plugins
    Deploy(Deploy),
    /// Create a route handler project to start from, in Rust, Python, JavaScript or C.
    ///
    /// The handler greets every text message; the project's README says how
    /// to build it and drop it into a plugins directory. Example:
    ///
    ///   wsgate new --lang python greeter
    New(NewProject),
}

/// Runs the command line; the binary's `main`.
pub fn main() -> ExitCode {
    no_error_backtraces();
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        Command::Serve { config, options } => runtime.block_on(serve(config, options)),
        Command::Check(check) => check.run(),
        Command::Deploy(deploy) => deploy.run(),
        Command::New(project) => project.create(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Option<PathBuf>, options: Options) -> anyhow::Result<()> {
    let settings = Settings::resolve(options, config.as_deref())?;
    let mut signals = ShutdownSignals::listen()?;
    let mut running = Gateway::start(settings).await?;
    tokio::select! {
        () = running.serve() => anyhow::bail!("a listener stopped unexpectedly"),
        () = signals.next() => {}
    }
    tracing::info!("shutting down: closing every connection (a second signal exits at once)");
    tokio::select! {
        drained = running.shutdown() => {
            match drained {
                true => tracing::info!("every connection closed; bye"),
                false => tracing::warn!("the drain timeout passed with connections still closing"),
            }
            Ok(())
        }
        () = signals.next() => {
            tracing::warn!("second signal: exiting without waiting");
            std::process::exit(130)
        }
    }
}

/// SIGTERM and SIGINT, listened for from before the listeners open: a signal
/// that arrives while the gateway starts up is then neither lost nor fatal.
struct ShutdownSignals {
    terminate: Signal,
    interrupt: Signal,
}

impl ShutdownSignals {
    fn listen() -> anyhow::Result<Self> {
        let listen = |kind| signal(kind).context("cannot listen for shutdown signals");
        Ok(ShutdownSignals {
            terminate: listen(SignalKind::terminate())?,
            interrupt: listen(SignalKind::interrupt())?,
        })
    }

    /// The next SIGTERM or SIGINT.
    async fn next(&mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}

/// Turns off the host backtraces that error values (anyhow's, and so
/// wasmtime's) capture when `RUST_BACKTRACE` is set, as it often is in
/// containers, unless `RUST_LIB_BACKTRACE` (which they read first) says
/// otherwise. A handler's trap is an everyday event: capturing a backtrace for
/// each, and symbolizing it when logged, stalled the gateway and grew its
/// memory by the size of its debug info. Panics still print theirs.
fn no_error_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the first thing `main` does, before any thread is started,
        // so nothing reads the environment concurrently.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WSGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
