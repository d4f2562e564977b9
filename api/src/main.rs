//! The `claimtrack` binary: parse the command line, set up logging, hand over.

use std::process::ExitCode;

use claimtrack::config::Cli;
use clap::Parser;

/// A request allocates and frees thousands of small values (the GraphQL response tree,
/// rows); mimalloc spends less CPU on them than glibc's allocator and returns memory
/// to the system sooner.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    claimtrack::telemetry::init(cli.global.log_format, &cli.global.log);
    match claimtrack::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
