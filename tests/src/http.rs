//! For tests that drive the real HTTP app: access with the rate limits off, and
//! compressed bodies.

use std::io::Write;

use claimtrack::config::Access;
use flate2::Compression;

/// Rate limits off: most tests send many requests from one address.
pub fn open_access() -> Access {
    Access {
        rate_limit_per_ip: 0,
        rate_limit_per_key: 0,
        ..Access::default()
    }
}

/// `data` gzipped at `level`.
pub fn gzip(data: &[u8], level: Compression) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    encoder.write_all(data).expect("compress");
    encoder.finish().expect("compress")
}
