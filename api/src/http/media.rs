//! The media types of GraphQL over HTTP: which one a response is sent in, negotiated
//! from the request's `Accept`, the status each kind of GraphQL result gets in it,
//! and the one a request body must come in.
//!
//! Two response types are served. `application/graphql-response+json` says the body
//! is a GraphQL response whatever the status, so the status can say what became of
//! the request: 400 for a document that does not parse or validate (our own limits
//! included), 401/403/429/503 for the caller or the service, 200 when the operation
//! ran, 294 (Partial Success) when it ran and met errors. `application/json` is for
//! clients written before that type existed, which trust a body only on 200: every
//! GraphQL result gets 200 there, as it always did. A request without `Accept` (or
//! with `*/*`) is such a client. An `Accept` naming neither type is refused with 406.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, Accept, Header, QualityItem};
use actix_web::mime::{self, Mime};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use async_graphql::{Response, ServerError};

use super::Refusal;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// Execution ran and met errors: GraphQL over HTTP's own status, for the
/// `application/graphql-response+json` type only (HTTP clients that do not know it
/// treat it as 200).
const PARTIAL_SUCCESS: u16 = 294;

/// The media type of a GraphQL response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: the status follows the result.
    GraphqlResponse,
    /// `application/json`, for legacy clients: 200 for every GraphQL result.
    Json,
}

impl Media {
    /// The type `req` asks for: the acceptable one of higher quality, the preferred
    /// `application/graphql-response+json` when both are named alike, `application/json`
    /// when no `Accept` is sent or only a wildcard matches. A 406 refusal when
    /// `Accept` rules out both.
    pub fn negotiate(req: &HttpRequest) -> Result<Self, Refusal> {
        // No `Accept`, or an empty one, accepts anything.
        let blank = req
            .headers()
            .get_all(header::ACCEPT)
            .all(|v| v.to_str().is_ok_and(|v| v.trim().is_empty()));
        if blank {
            return Ok(Media::Json);
        }
        let accept = Accept::parse(req).unwrap_or(Accept(Vec::new()));
        choose(&accept).ok_or_else(not_acceptable)
    }

    /// The `Content-Type` of a response in this type, with its encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }

    /// A response of `status` in this type. It says it depends on `Accept` (RFC 9110's
    /// `Vary`), so a cache keeps a GET's answers in either type apart.
    pub fn build(self, status: StatusCode) -> HttpResponseBuilder {
        let mut builder = HttpResponse::build(status);
        builder
            .content_type(self.content_type())
            .insert_header((header::VARY, "Accept"));
        builder
    }

    /// The HTTP response for a GraphQL result; `executed` says whether execution
    /// started (see [`crate::graphql::ran`]).
    pub fn respond(self, response: &Response, executed: bool) -> HttpResponse {
        match self {
            Media::Json => answered(self, only_unavailable(response)).json(response),
            Media::GraphqlResponse if executed => {
                if response.errors.is_empty() {
                    self.build(StatusCode::OK).json(response)
                } else {
                    partial_success().json(response)
                }
            }
            // A request error: no `data` entry at all, and a status that says why.
            Media::GraphqlResponse => {
                let code = response
                    .errors
                    .first()
                    .and_then(|e| e.extensions.as_ref())
                    .and_then(|x| x.get("code"));
                let code = match code {
                    Some(async_graphql::Value::String(code)) => code.as_str(),
                    _ => "",
                };
                let mut builder = self.build(request_error_status(code));
                match code {
                    UNAVAILABLE => {
                        builder.insert_header((header::RETRY_AFTER, "1"));
                    }
                    "UNAUTHENTICATED" => {
                        builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
                    }
                    _ => {}
                }
                builder.json(RequestErrors {
                    errors: &response.errors,
                    extensions: &response.extensions,
                })
            }
        }
    }
}

/// The status of a GraphQL result without data, by the code of its (first) error: the
/// caller's key or role, the service's state, otherwise the request itself (a document
/// that does not parse or validate, variables that do not fit, our own limits).
fn request_error_status(code: &str) -> StatusCode {
    match code {
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
        UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        "INTERNAL" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// A GraphQL request error result: `errors` (and `extensions`), never `data`.
#[derive(serde::Serialize)]
struct RequestErrors<'a> {
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, async_graphql::Value>,
}

fn partial_success() -> HttpResponseBuilder {
    match StatusCode::from_u16(PARTIAL_SUCCESS) {
        Ok(status) => {
            let mut builder = Media::GraphqlResponse.build(status);
            builder.reason("Partial Success");
            builder
        }
        Err(_) => Media::GraphqlResponse.build(StatusCode::OK),
    }
}

pub(super) const UNAVAILABLE: &str = "UNAVAILABLE";

/// Whether every error of a response says the database was unavailable (and there is
/// at least one): a retry later may well succeed.
pub(super) fn only_unavailable(response: &Response) -> bool {
    !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from(UNAVAILABLE))
        })
}

/// The status of an `application/json` answer: 200, or 503 with `Retry-After` when
/// the database was unavailable to it.
pub(super) fn answered(media: Media, unavailable: bool) -> HttpResponseBuilder {
    if !unavailable {
        return media.build(StatusCode::OK);
    }
    let mut builder = media.build(StatusCode::SERVICE_UNAVAILABLE);
    builder.insert_header((header::RETRY_AFTER, "1"));
    builder
}

fn not_acceptable() -> Refusal {
    Refusal::bad(
        StatusCode::NOT_ACCEPTABLE,
        format!(
            "responses are {GRAPHQL_RESPONSE_JSON} or {JSON}; the Accept header allows neither"
        ),
    )
}

/// The type to answer in, by RFC 9110's rules: each type takes the quality of the
/// most specific range that matches it, a quality of 0 rules it out.
fn choose(accept: &[QualityItem<Mime>]) -> Option<Media> {
    let graphql = quality(accept, GRAPHQL_RESPONSE_JSON);
    let json = quality(accept, JSON);
    match (graphql, json) {
        (None, None) => None,
        (Some(_), None) => Some(Media::GraphqlResponse),
        (None, Some(_)) => Some(Media::Json),
        // The preferred type wins a tie when it is named; a wildcard alone gets the
        // legacy type, which every client reads.
        (Some((g_rank, g)), Some((_, j))) if g > j || (g == j && g_rank >= NAMED) => {
            Some(Media::GraphqlResponse)
        }
        (Some(_), Some(_)) => Some(Media::Json),
    }
}

/// How specifically a range names a type: `*/*`, `application/*`, the type itself,
/// the type with parameters.
const NAMED: u8 = 2;

/// The specificity and quality of the range deciding `essence`, when it is
/// acceptable at all.
fn quality(accept: &[QualityItem<Mime>], essence: &str) -> Option<(u8, header::Quality)> {
    accept
        .iter()
        .filter_map(|range| specificity(&range.item, essence).map(|rank| (rank, range.quality)))
        .max()
        .filter(|(_, q)| *q > header::Quality::ZERO)
}

fn specificity(range: &Mime, essence: &str) -> Option<u8> {
    // Only UTF-8 is written; a range asking for another charset does not match.
    if let Some(charset) = range.get_param(mime::CHARSET)
        && !charset.as_str().eq_ignore_ascii_case("utf-8")
    {
        return None;
    }
    let names_charset = range.params().any(|(name, _)| name == mime::CHARSET);
    if range.type_() == mime::STAR && range.subtype() == mime::STAR {
        Some(0)
    } else if range.type_() == mime::APPLICATION && range.subtype() == mime::STAR {
        Some(1)
    } else if range.essence_str().eq_ignore_ascii_case(essence) {
        Some(NAMED + u8::from(names_charset))
    } else {
        None
    }
}

/// Whether a request body's `Content-Type` is JSON in UTF-8 (the only encoding JSON
/// has between systems; a type without a charset is UTF-8).
pub fn is_json_body(content_type: Option<&str>) -> bool {
    let Some(value) = content_type else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(JSON)
        && parts.all(|parameter| match parameter.split_once('=') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
                value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            _ => true,
        })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn negotiate(accept: &[&str]) -> Result<Media, StatusCode> {
        let mut req = TestRequest::default();
        for value in accept {
            req = req.append_header((header::ACCEPT, *value));
        }
        Media::negotiate(&req.to_http_request()).map_err(|r| r.status)
    }

    const GRAPHQL: Result<Media, StatusCode> = Ok(Media::GraphqlResponse);
    const LEGACY: Result<Media, StatusCode> = Ok(Media::Json);
    const REFUSED: Result<Media, StatusCode> = Err(StatusCode::NOT_ACCEPTABLE);

    #[test]
    fn no_accept_or_a_wildcard_gets_application_json() {
        assert_eq!(negotiate(&[]), LEGACY);
        assert_eq!(negotiate(&[""]), LEGACY);
        assert_eq!(negotiate(&["*/*"]), LEGACY);
        assert_eq!(negotiate(&["application/*"]), LEGACY);
        assert_eq!(negotiate(&["text/html, */*;q=0.8"]), LEGACY);
    }

    #[test]
    fn the_preferred_type_is_served_when_named_first_or_alike() {
        assert_eq!(negotiate(&[GRAPHQL_RESPONSE_JSON]), GRAPHQL);
        assert_eq!(
            negotiate(&[
                "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8"
            ]),
            GRAPHQL
        );
        assert_eq!(
            negotiate(&["application/json, application/graphql-response+json"]),
            GRAPHQL
        );
        assert_eq!(
            negotiate(&["application/graphql-response+json, application/json;q=0.9"]),
            GRAPHQL
        );
        assert_eq!(
            negotiate(&["application/graphql-response+json, */*"]),
            GRAPHQL
        );
        assert_eq!(negotiate(&["APPLICATION/GRAPHQL-RESPONSE+JSON"]), GRAPHQL);
        assert_eq!(negotiate(&["text/html", GRAPHQL_RESPONSE_JSON]), GRAPHQL);
    }

    #[test]
    fn quality_values_rank_the_types() {
        assert_eq!(negotiate(&["application/json"]), LEGACY);
        assert_eq!(
            negotiate(&["application/graphql-response+json;q=0.5, application/json"]),
            LEGACY
        );
        assert_eq!(
            negotiate(&["application/graphql-response+json;q=0.5, */*;q=0.8"]),
            LEGACY
        );
        // The most specific range decides: `q=0` rules a type out under a wildcard.
        assert_eq!(negotiate(&["*/*, application/json;q=0"]), GRAPHQL);
        assert_eq!(
            negotiate(&["application/*, application/graphql-response+json;q=0"]),
            LEGACY
        );
        assert_eq!(
            negotiate(&["application/json;q=0, application/graphql-response+json;q=0"]),
            REFUSED
        );
    }

    #[test]
    fn only_utf_8_is_acceptable() {
        assert_eq!(negotiate(&["application/json; charset=UTF-8"]), LEGACY);
        assert_eq!(
            negotiate(&["application/json; charset=iso-8859-1"]),
            REFUSED
        );
        assert_eq!(
            negotiate(&["application/graphql-response+json; charset=latin1, application/json"]),
            LEGACY
        );
    }

    #[test]
    fn an_accept_naming_neither_type_is_refused_with_406() {
        assert_eq!(negotiate(&["text/html"]), REFUSED);
        assert_eq!(negotiate(&["application/xml, text/*"]), REFUSED);
        assert_eq!(negotiate(&["nonsense"]), REFUSED);
    }

    fn error(code: &str, path: bool) -> ServerError {
        let mut error = ServerError::new("refused", None);
        if path {
            error.path = vec![async_graphql::PathSegment::Field("speaker".into())];
        }
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
        error
    }

    fn respond(media: Media, response: &Response, executed: bool) -> (u16, Vec<String>) {
        let answer = media.respond(response, executed);
        let headers = [
            header::CONTENT_TYPE,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ]
        .iter()
        .filter_map(|name| {
            let value = answer.headers().get(name)?.to_str().ok()?;
            Some(format!("{name}: {value}"))
        })
        .collect();
        (answer.status().as_u16(), headers)
    }

    #[test]
    fn a_request_error_gets_the_status_of_its_code_in_the_new_type_only() {
        let cases = [
            ("BAD_USER_INPUT", 400, None),
            ("UNAUTHENTICATED", 401, Some("www-authenticate: Bearer")),
            ("FORBIDDEN", 403, None),
            ("RATE_LIMITED", 429, None),
            ("UNAVAILABLE", 503, Some("retry-after: 1")),
            ("INTERNAL", 500, None),
        ];
        for (code, status, extra) in cases {
            let refused = Response::from_errors(vec![error(code, false)]);
            let mut expected = vec![format!(
                "content-type: {}",
                Media::GraphqlResponse.content_type()
            )];
            expected.extend(extra.map(str::to_owned));
            assert_eq!(
                respond(Media::GraphqlResponse, &refused, false),
                (status, expected),
                "{code}"
            );
            // The legacy type: 200, or 503 when the database was lost.
            let legacy = if code == "UNAVAILABLE" { 503 } else { 200 };
            assert_eq!(respond(Media::Json, &refused, false).0, legacy, "{code}");
        }
    }

    #[test]
    fn an_executed_request_is_200_or_294_partial_success() {
        let whole = Response::new(
            async_graphql::Value::from_json(serde_json::json!({ "a": 1 })).unwrap_or_default(),
        );
        assert_eq!(respond(Media::GraphqlResponse, &whole, true).0, 200);
        let mut partial = Response::new(async_graphql::Value::Null);
        partial.errors = vec![error("UNAVAILABLE", true)];
        let answer = Media::GraphqlResponse.respond(&partial, true);
        assert_eq!(answer.status().as_u16(), 294);
        assert_eq!(answer.head().reason(), "Partial Success");
        assert_eq!(respond(Media::Json, &whole, true).0, 200);
        assert_eq!(respond(Media::Json, &partial, true).0, 503, "as before");
    }

    #[test]
    fn request_bodies_are_json_in_utf_8() {
        assert!(is_json_body(Some("application/json")));
        assert!(is_json_body(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json_body(Some("application/json; charset=utf-16")));
        assert!(!is_json_body(Some("text/plain")));
        assert!(!is_json_body(Some("application/graphql-response+json")));
        assert!(!is_json_body(None));
    }
}
