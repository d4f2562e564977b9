//! Logging: the subscriber (text or JSON lines on stderr) and the per-request context.
//! Every HTTP request runs in a `request` span carrying its id, so each line logged
//! while serving it names the request; the id comes back in `X-Request-Id`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::metrics::metrics;

/// The request id header, read from the client and always set on the response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest incoming request id kept; a longer or odd one is replaced by a fresh id.
const MAX_REQUEST_ID_LEN: usize = 64;

/// The id of the request being served, for handlers that want it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Installs the global subscriber: `filter` in `EnvFilter` syntax (falling back to
/// `info` when it does not parse), lines on stderr.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

/// Middleware: gives the request its id (the client's `X-Request-Id` when it is sane,
/// else a fresh UUID), runs it inside a span naming that id, logs one line when it is
/// answered, counts the response and returns the id in `X-Request-Id`.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    // At ERROR level the span is on whenever anything is logged at all, so even a
    // `warn` filter keeps the request id on every line.
    let span = tracing::error_span!("request", request_id = %id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.path().to_owned();
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    metrics().http_response(&route, status);
    span.in_scope(|| {
        tracing::info!(target: "claimtrack::http", %method, %path, status,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0, "request served");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// A request id worth keeping: short, printable, no spaces or quotes.
fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::is_sane;

    #[test]
    fn request_ids_are_kept_only_when_short_and_plain() {
        assert!(is_sane("3f2c9e1a-0b7d-4c1e-9a55-1d2e3f4a5b6c"));
        assert!(is_sane("lb:edge-7.42"));
        assert!(!is_sane(""));
        assert!(!is_sane("two words"));
        assert!(!is_sane("quote\"d"));
        assert!(!is_sane(&"x".repeat(65)));
    }
}
