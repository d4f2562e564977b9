//! The `claimtrack` binary: parse the command line, set up logging, hand over.

use std::process::ExitCode;

use claimtrack::config::Cli;
use clap::Parser;

/// A request allocates and frees thousands of small values (the GraphQL response tree,
/// rows); mimalloc spends less CPU on them than glibc's allocator and returns memory
/// to the system sooner.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Stack of every thread the process starts (HTTP workers included), unless
/// `RUST_MIN_STACK` says otherwise: four times Rust's default. Documents are bounded in
/// nesting before anything recursive reads them; this is headroom on top of that bound.
const THREAD_STACK_BYTES: &str = "8388608";

fn main() -> ExitCode {
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        #[expect(
            unsafe_code,
            reason = "the environment is written before any other thread exists, so \
                      nothing reads it meanwhile"
        )]
        // SAFETY: no other thread runs yet (the runtime is built below).
        unsafe {
            std::env::set_var("RUST_MIN_STACK", THREAD_STACK_BYTES);
        }
    }
    let cli = Cli::parse();
    claimtrack::telemetry::init(cli.global.log_format, &cli.global.log);
    actix_web::rt::System::new().block_on(async move {
        match claimtrack::cli::run(cli).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("{e}");
                ExitCode::FAILURE
            }
        }
    })
}
