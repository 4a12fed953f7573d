//! The `wsgate` binary: see `wsgate --help`.

fn main() -> std::process::ExitCode {
    wsgate::cli::main()
}
