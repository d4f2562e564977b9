//! The `claimtrack` binary: parse the command line, set up logging, hand over.

use std::process::ExitCode;

use claimtrack::config::Cli;
use clap::Parser;

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
