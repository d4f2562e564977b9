//! The journalist's pages: `/speakers/{slug}` (a speaker's positions on every claim
//! over time, the verdicts on them and the follow-ups) and `/claims/{slug}` (every
//! speaker's position on one claim and how it got there), each as an HTML page with
//! the picture inline and as the picture alone (`….svg`, to embed in an article).
//!
//! Pages are public: they show what an anonymous reader of the API sees (published
//! verdicts, confirmed links). They carry an `ETag` (a hash of the body) and a short
//! `Cache-Control`, so a newsroom CDN can cache and revalidate them.

pub mod html;
pub mod picture;
pub mod read;
pub mod text;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::http::AppState;
use picture::{LanesBy, Picture};
use read::{Narrowing, PageError};

/// How long a CDN or browser may reuse a page before asking again (seconds), and for
/// how long after that it may serve the old one while it asks.
const CACHE_CONTROL: &str = "public, max-age=60, stale-while-revalidate=300";

/// The page's narrowing as sent: `?from=&to=&claim=` (empty values mean none).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Asked {
    from: Option<String>,
    to: Option<String>,
    claim: Option<String>,
}

impl Asked {
    fn narrowing(&self) -> Result<Narrowing, String> {
        let day = |name: &str, value: &Option<String>| -> Result<Option<NaiveDate>, String> {
            match value.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| format!("{name}: give a day as YYYY-MM-DD, e.g. 2017-07-09")),
            }
        };
        let narrowing = Narrowing {
            from: day("from", &self.from)?,
            to: day("to", &self.to)?,
            claim: self
                .claim
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        };
        if let (Some(from), Some(to)) = (narrowing.from, narrowing.to)
            && from > to
        {
            return Err("from: the first day comes after `to`".to_owned());
        }
        Ok(narrowing)
    }
}

/// What a request asks for: the page, or the picture alone.
enum Form {
    Page,
    Picture,
}

fn form_of(name: &str) -> (&str, Form) {
    match name.strip_suffix(".svg") {
        Some(slug) => (slug, Form::Picture),
        None => (name, Form::Page),
    }
}

/// `GET /speakers/{slug}` and `GET /speakers/{slug}.svg`.
pub async fn speaker(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    asked: web::Query<Asked>,
) -> HttpResponse {
    serve(Kind::Speaker, &state, &req, &name, &asked).await
}

/// `GET /claims/{slug}` and `GET /claims/{slug}.svg` (a claim without a slug by id).
pub async fn claim(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    asked: web::Query<Asked>,
) -> HttpResponse {
    serve(Kind::Claim, &state, &req, &name, &asked).await
}

/// Whose page.
#[derive(Clone, Copy)]
enum Kind {
    Speaker,
    Claim,
}

/// A page read, before it is drawn.
enum Read {
    Speaker(Box<read::SpeakerPage>),
    Claim(Box<read::ClaimPage>),
}

impl Read {
    fn picture(&self) -> Picture {
        match self {
            Read::Speaker(page) => Picture::of(
                &page.records,
                LanesBy::Claim,
                format!("{}'s positions over time", page.speaker.name),
            ),
            Read::Claim(page) => Picture::of(
                &page.records,
                LanesBy::Speaker(page.claim.id),
                format!("Positions on “{}”", text::shorten(&page.claim.text, 90)),
            ),
        }
    }

    fn html(&self, picture: &Picture, at: &html::Origin<'_>, narrowing: &Narrowing) -> String {
        match self {
            Read::Speaker(page) => html::speaker(page, picture, at, narrowing),
            Read::Claim(page) => html::claim(page, picture, at, narrowing),
        }
        .into_string()
    }
}

async fn serve(
    kind: Kind,
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    asked: &Asked,
) -> HttpResponse {
    let (slug, form) = form_of(name);
    let narrowing = match prepare(state, req, asked) {
        Ok(narrowing) => narrowing,
        Err(stop) => return stop.response(),
    };
    let path = match kind {
        Kind::Speaker => format!("/speakers/{slug}"),
        Kind::Claim => format!("/claims/{slug}"),
    };
    // A page is a read: a replica serves it when one can, the primary when it fails.
    let after = crate::http::read_after(req).ok().flatten();
    let lost = |e: &read::PageError| {
        matches!(
            e,
            read::PageError::Api(crate::error::ApiError::Unavailable(_))
        )
    };
    let narrowed = &narrowing;
    let (read, _) = state
        .schema
        .reads()
        .read(after, lost, |choice| async move {
            read_page(kind, &choice.db, slug, narrowed).await
        })
        .await;
    let read = match read {
        Ok(read) => read,
        Err(e) => return failed(&e),
    };
    let mut picture = read.picture();
    respond(req, form, &mut picture, &path, |picture, origin| {
        read.html(picture, origin, &narrowing)
    })
}

/// The data of a page, read through `db`.
async fn read_page(
    kind: Kind,
    db: &sea_orm::DatabaseConnection,
    slug: &str,
    narrowing: &read::Narrowing,
) -> Result<Read, read::PageError> {
    match kind {
        Kind::Speaker => read::speaker_page(db, slug, narrowing)
            .await
            .map(|page| Read::Speaker(Box::new(page))),
        Kind::Claim => read::claim_page(db, slug, narrowing)
            .await
            .map(|page| Read::Claim(Box::new(page))),
    }
}

/// Why a page is not read at all.
enum Stop {
    /// The address's rate limit.
    Refused(crate::http::Refusal),
    /// The narrowing cannot be read.
    Narrowing(String),
    /// The database is known to be down.
    Unavailable,
}

impl Stop {
    fn response(&self) -> HttpResponse {
        match self {
            Stop::Refused(refusal) => {
                let mut response = problem(refusal.status, "Too many requests", &refusal.message);
                if let Some(seconds) = refusal.retry_after {
                    response.headers_mut().insert(
                        header::RETRY_AFTER,
                        HeaderValue::from_str(&seconds.to_string())
                            .unwrap_or(HeaderValue::from_static("1")),
                    );
                }
                response
            }
            Stop::Narrowing(message) => problem(
                StatusCode::BAD_REQUEST,
                "This page cannot be narrowed so",
                message,
            ),
            Stop::Unavailable => unavailable(),
        }
    }
}

/// The checks before a page is read: the address's rate limit, the narrowing, the
/// database's health.
fn prepare(state: &AppState, req: &HttpRequest, asked: &Asked) -> Result<Narrowing, Stop> {
    crate::http::limit_address(state, req).map_err(Stop::Refused)?;
    let narrowing = asked.narrowing().map_err(Stop::Narrowing)?;
    if state.health.is_watched() && state.reach() == crate::http::Reach::Nothing {
        return Err(Stop::Unavailable);
    }
    Ok(narrowing)
}

fn failed(error: &PageError) -> HttpResponse {
    match error {
        PageError::NotFound(message) => problem(StatusCode::NOT_FOUND, "Not found", message),
        PageError::BadRequest(message) => problem(
            StatusCode::BAD_REQUEST,
            "This page cannot be narrowed so",
            message,
        ),
        PageError::Api(crate::error::ApiError::Unavailable(_)) => unavailable(),
        PageError::Api(e) => {
            tracing::error!(error = %e, "page");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The page could not be built; the error is logged.",
            )
        }
    }
}

fn unavailable() -> HttpResponse {
    let mut response = problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "Unavailable",
        "The database is unavailable; retry shortly.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

fn problem(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html::problem(title, message).into_string())
}

/// The page or the picture, with its caching headers; 304 when the client's copy is
/// current.
fn respond(
    req: &HttpRequest,
    form: Form,
    picture: &mut Picture,
    path: &str,
    page: impl FnOnce(&Picture, &html::Origin<'_>) -> String,
) -> HttpResponse {
    let info = req.connection_info();
    let origin = format!("{}://{}", info.scheme(), info.host());
    let (body, content_type, policy) = match form {
        Form::Page => {
            let at = html::Origin {
                origin: &origin,
                path,
                query: req.query_string(),
            };
            (
                page(picture, &at),
                "text/html; charset=utf-8",
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                 form-action 'self'; base-uri 'none'",
            )
        }
        Form::Picture => {
            picture.base = path.to_owned();
            (
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
                    picture.svg(true).into_string()
                ),
                "image/svg+xml; charset=utf-8",
                "default-src 'none'; style-src 'unsafe-inline'",
            )
        }
    };
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..32]
    );
    let current = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mut response = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::CONTENT_SECURITY_POLICY, policy))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if current {
        return response.finish();
    }
    response.content_type(content_type).body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing_reads_days_and_refuses_others() {
        let asked = Asked {
            from: Some("2017-07-01".into()),
            to: Some(String::new()),
            claim: Some("  ".into()),
        };
        assert_eq!(
            asked.narrowing(),
            Ok(Narrowing {
                from: NaiveDate::from_ymd_opt(2017, 7, 1),
                to: None,
                claim: None
            })
        );
        let bad = Asked {
            from: Some("07/01/2017".into()),
            ..Default::default()
        };
        assert!(bad.narrowing().is_err_and(|m| m.starts_with("from:")));
        let reversed = Asked {
            from: Some("2017-07-02".into()),
            to: Some("2017-07-01".into()),
            ..Default::default()
        };
        assert!(reversed.narrowing().is_err());
    }

    #[test]
    fn a_picture_is_asked_for_by_its_suffix() {
        assert!(matches!(
            form_of("donald-trump.svg"),
            ("donald-trump", Form::Picture)
        ));
        assert!(matches!(
            form_of("donald-trump"),
            ("donald-trump", Form::Page)
        ));
    }
}
