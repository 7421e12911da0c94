//! The `soc` binary: parses the command line and hands over to `agentic_soc::cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    agentic_soc::cli::main()
}
