//! Reading a request body: at most the configured number of bytes as sent, and at
//! most as many once decoded. A body sent with `Content-Encoding: gzip` or `deflate`
//! is inflated here, a bounded read at a time, so a small compressed body cannot
//! grow past the limit in memory (a body of zeros inflates a thousandfold). Any other
//! encoding is refused.

use std::io::Read;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use futures::StreamExt;

use super::Refusal;

/// How the body was encoded for the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Deflate,
}

/// The body of `req`, decoded, within `limit` bytes (413 past it).
pub async fn read(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Bytes, Refusal> {
    let encoding = encoding(req)?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut raw = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            Refusal::bad(
                StatusCode::BAD_REQUEST,
                format!("the body could not be read: {e}"),
            )
        })?;
        if raw.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        raw.extend_from_slice(&chunk);
    }
    match encoding {
        Encoding::Identity => Ok(raw.freeze()),
        Encoding::Gzip => inflate(flate2::read::GzDecoder::new(&raw[..]), limit, "gzip"),
        Encoding::Deflate => inflate(flate2::read::ZlibDecoder::new(&raw[..]), limit, "deflate"),
    }
}

/// The body's `Content-Encoding`: none, `identity`, `gzip` or `deflate` (415 for others).
fn encoding(req: &HttpRequest) -> Result<Encoding, Refusal> {
    let Some(value) = req.headers().get(header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let value = value.to_str().unwrap_or_default().trim();
    match value.to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        "deflate" => Ok(Encoding::Deflate),
        _ => Err(Refusal::bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body's Content-Encoding is not supported; send it as it is, or gzip or \
             deflate it",
        )),
    }
}

/// Inflates a compressed body, reading at most one byte past `limit`.
fn inflate(decoder: impl Read, limit: usize, name: &str) -> Result<Bytes, Refusal> {
    let mut out = Vec::new();
    let bound = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder.take(bound).read_to_end(&mut out).map_err(|_| {
        Refusal::bad(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid {name} data"),
        )
    })?;
    if out.len() > limit {
        return Err(too_large(limit));
    }
    Ok(Bytes::from(out))
}

fn too_large(limit: usize) -> Refusal {
    Refusal::bad(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than {limit} bytes (decoded)"),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).expect("compress");
        encoder.finish().expect("compress")
    }

    #[test]
    fn a_compressed_body_inflates_within_the_limit_only() {
        let small = gzip(b"{\"query\":\"{ viewer { role } }\"}");
        let body = inflate(flate2::read::GzDecoder::new(&small[..]), 100, "gzip");
        assert_eq!(
            body.as_deref().ok(),
            Some(&b"{\"query\":\"{ viewer { role } }\"}"[..])
        );
        let bomb = gzip(&vec![0u8; 50 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
        let refused = inflate(flate2::read::GzDecoder::new(&bomb[..]), 1024 * 1024, "gzip");
        assert_eq!(
            refused.map_err(|r| r.status),
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        );
    }

    #[test]
    fn a_malformed_body_is_a_bad_request_in_plain_words() {
        let refused = inflate(
            flate2::read::GzDecoder::new(&b"not gzip at all"[..]),
            1024,
            "gzip",
        )
        .expect_err("refused");
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.message, "the body is not valid gzip data");
    }
}
