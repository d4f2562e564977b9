//! GraphiQL at `/`, served from the binary so it works on a network without internet:
//! GraphiQL's and React's browser files (taken unchanged from npm, see
//! `api/assets/graphiql/README.md`), the script that starts GraphiQL, and a page that
//! names nothing outside this service. The page's `Content-Security-Policy` lets the
//! browser load scripts, styles and data from this origin only.
//!
//! The README's example queries open as GraphiQL's first tabs: the README is read at
//! compile time, so the examples have one definition, and a README mutation is never
//! preloaded where a click would run it.

use std::sync::OnceLock;

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use self::examples::Tab;

mod examples;

/// Where GraphiQL sends its requests.
const ENDPOINT: &str = "/graphql";

/// What the page lets the browser load: this origin only. Fonts and the icon are
/// `data:` URLs (GraphiQL's stylesheet embeds its fonts). Styles may be inline: the
/// page's own few lines, and the `<style>` elements GraphiQL's dialogs add
/// (react-remove-scroll); scripts may not.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// A file the page loads.
struct Asset {
    file: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Every file the page loads, in the order the page loads them (stylesheet last).
const ASSETS: [Asset; 5] = [
    Asset {
        file: "react.production.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        file: "react-dom.production.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
    Asset {
        file: "graphiql.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        file: "start.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("graphiql/start.js"),
    },
    Asset {
        file: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
];

/// An asset as served: under a path naming its content, so it can be cached for good.
struct Served {
    asset: &'static Asset,
    /// The first 12 hex digits of its SHA-256: a path segment.
    hash: String,
    /// The first 32 hex digits of its SHA-256: its representations' validators.
    digest: String,
    gzip: OnceLock<Vec<u8>>,
}

/// The bytes sent for an asset and their validator.
struct Representation {
    bytes: &'static [u8],
    etag: String,
    gzip: bool,
}

impl Served {
    fn path(&self) -> String {
        format!("/graphiql/{}/{}", self.hash, self.asset.file)
    }

    /// The bytes to send a client that does or does not take gzip.
    async fn representation(&'static self, gzip: bool) -> Representation {
        if gzip && let Some(bytes) = self.gzipped().await {
            return Representation {
                bytes,
                etag: format!("\"{}-gzip\"", self.digest),
                gzip: true,
            };
        }
        Representation {
            bytes: self.asset.bytes,
            etag: format!("\"{}\"", self.digest),
            gzip: false,
        }
    }

    /// The gzipped bytes, made on first use (on a blocking thread: GraphiQL's script is
    /// 3.5 MB) and kept; `None` if that failed (writing to memory does not), and the
    /// plain bytes are sent.
    async fn gzipped(&'static self) -> Option<&'static [u8]> {
        if let Some(bytes) = self.gzip.get() {
            return Some(bytes);
        }
        let bytes = self.asset.bytes;
        let gz = web::block(move || gzip(bytes)).await.ok()?.ok()?;
        Some(self.gzip.get_or_init(|| gz))
    }
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn served() -> &'static [Served] {
    static SERVED: OnceLock<Vec<Served>> = OnceLock::new();
    SERVED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let digest = hex::encode(Sha256::digest(asset.bytes));
                Served {
                    asset,
                    hash: digest[..12].to_owned(),
                    digest: digest[..32].to_owned(),
                    gzip: OnceLock::new(),
                }
            })
            .collect()
    })
}

/// Mounts the page and its files (development mode only: see [`super::configure`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(page))
        .route("/graphiql/{hash}/{file}", web::get().to(asset));
}

/// `GET /`: the GraphiQL page. Never cached, so a new binary's files are picked up.
async fn page() -> HttpResponse {
    static PAGE: OnceLock<String> = OnceLock::new();
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(PAGE.get_or_init(|| render_page(&examples::tabs())).as_str())
}

/// `GET /graphiql/{hash}/{file}`: one of the page's files, immutable under its path,
/// gzipped for clients that take it. A path naming old content is 404: its content is
/// no longer here to serve.
async fn asset(req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let (hash, file) = path.into_inner();
    let Some(served) = served()
        .iter()
        .find(|s| s.asset.file == file && s.hash == hash)
    else {
        return HttpResponse::NotFound()
            .content_type(ContentType::plaintext())
            .body("no such GraphiQL file");
    };
    let gzip = accepts_gzip(
        req.headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let sent = served.representation(gzip).await;
    let not_modified = fresh(&req, &sent.etag);
    let mut response = match not_modified {
        true => HttpResponse::NotModified(),
        false => HttpResponse::Ok(),
    };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, sent.etag))
        .insert_header((header::VARY, "Accept-Encoding"));
    if not_modified {
        return response.finish();
    }
    if sent.gzip {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    response
        .content_type(served.asset.content_type)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(sent.bytes)
}

/// Whether the client already holds this representation (`If-None-Match`).
fn fresh(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// Whether an `Accept-Encoding` value takes gzip (by name or `*`, at a non-zero q).
fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|value| {
        value.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
    })
}

/// The page: the stylesheet, the settings as JSON data (not a script the policy would
/// have to allow), then React, GraphiQL and the start script, in order.
fn render_page(tabs: &[Tab]) -> String {
    let served = served();
    let settings = serde_json::json!({ "endpoint": ENDPOINT, "tabs": tabs });
    let scripts: String = served
        .iter()
        .filter(|s| s.asset.content_type == JAVASCRIPT)
        .map(|s| format!("<script defer src=\"{}\"></script>\n", s.path()))
        .collect();
    let stylesheets: String = served
        .iter()
        .filter(|s| s.asset.content_type != JAVASCRIPT)
        .map(|s| format!("<link rel=\"stylesheet\" href=\"{}\">\n", s.path()))
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ClaimTrack · GraphiQL</title>
<link rel="icon" href="data:,">
{stylesheets}<style>body {{ margin: 0; height: 100vh; overflow: hidden; }} #graphiql {{ height: 100vh; }}</style>
<script type="application/json" id="graphiql-settings">{settings}</script>
{scripts}</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript; the API itself answers at {ENDPOINT}.</noscript>
</body>
</html>
"#,
        settings = script_safe_json(&settings),
    )
}

/// JSON that cannot end the `<script>` element holding it: `<`, `>` and `&` (only ever
/// inside strings) written as escapes.
fn script_safe_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_no_outside_url() {
        let page = render_page(&examples::tabs());
        let start = std::str::from_utf8(include_bytes!("graphiql/start.js")).expect("UTF-8");
        for text in [page.as_str(), start] {
            for scheme in ["http://", "https://", "//unpkg", "//cdn"] {
                assert!(!text.contains(scheme), "{scheme} in {text}");
            }
        }
        for served in served() {
            assert!(
                page.contains(&served.path()),
                "{} not loaded",
                served.path()
            );
        }
    }

    #[test]
    fn the_settings_cannot_end_their_script_element() {
        let page = render_page(&[Tab::new("# </script><script>alert(1)</script>\n{ a }")]);
        let scripts = ASSETS
            .iter()
            .filter(|a| a.content_type == JAVASCRIPT)
            .count();
        // The scripts' own end tags and the settings' one.
        assert_eq!(page.matches("</script>").count(), scripts + 1);
        assert!(page.contains("\\u003c/script\\u003e"));
    }

    #[actix_web::test]
    async fn files_are_served_for_good_under_their_content_hash_gzipped_when_asked() {
        use actix_web::http::StatusCode;
        use actix_web::test;
        use std::io::Read;

        let app = test::init_service(actix_web::App::new().configure(configure)).await;
        let page = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(page.status(), StatusCode::OK);
        let header = |r: &actix_web::dev::ServiceResponse, name| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().expect("ASCII").to_owned())
        };
        assert_eq!(
            header(&page, header::CONTENT_SECURITY_POLICY).as_deref(),
            Some(CONTENT_SECURITY_POLICY)
        );
        assert_eq!(
            header(&page, header::CACHE_CONTROL).as_deref(),
            Some("no-cache")
        );
        let html = String::from_utf8(test::read_body(page).await.to_vec()).expect("UTF-8");
        for served in served() {
            let path = served.path();
            assert!(html.contains(&path), "{path} is not on the page");
            let get = |encoding: Option<&str>, etag: Option<&str>| {
                let mut req = test::TestRequest::get().uri(&path);
                if let Some(encoding) = encoding {
                    req = req.insert_header((header::ACCEPT_ENCODING, encoding));
                }
                if let Some(etag) = etag {
                    req = req.insert_header((header::IF_NONE_MATCH, etag.to_owned()));
                }
                test::call_service(&app, req.to_request())
            };
            let plain = get(None, None).await;
            assert_eq!(plain.status(), StatusCode::OK, "{path}");
            assert_eq!(
                header(&plain, header::CONTENT_TYPE).as_deref(),
                Some(served.asset.content_type)
            );
            assert_eq!(
                header(&plain, header::CACHE_CONTROL).as_deref(),
                Some("public, max-age=31536000, immutable")
            );
            assert_eq!(header(&plain, header::CONTENT_ENCODING), None);
            let etag = header(&plain, header::ETAG).expect("an ETag");
            assert_eq!(test::read_body(plain).await, served.asset.bytes);

            let gzipped = get(Some("gzip, deflate, br"), None).await;
            assert_eq!(
                header(&gzipped, header::CONTENT_ENCODING).as_deref(),
                Some("gzip")
            );
            let gz_etag = header(&gzipped, header::ETAG).expect("an ETag");
            assert_ne!(gz_etag, etag, "one validator per representation");
            let body = test::read_body(gzipped).await;
            assert!(body.len() < served.asset.bytes.len(), "{path}");
            let mut inflated = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut inflated)
                .expect("gzip");
            assert_eq!(inflated, served.asset.bytes);

            let again = get(Some("gzip"), Some(&gz_etag)).await;
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
            assert!(test::read_body(again).await.is_empty());
            let other = get(None, Some(&gz_etag)).await;
            assert_eq!(other.status(), StatusCode::OK, "{path}");
        }
        for stale in ["/graphiql/000000000000/start.js", "/graphiql/start.js"] {
            let req = test::TestRequest::get().uri(stale).to_request();
            let response = test::call_service(&app, req).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{stale}");
        }
    }

    #[test]
    fn gzip_is_taken_when_offered_at_a_non_zero_weight() {
        assert!(accepts_gzip(Some("gzip, deflate, br, zstd")));
        assert!(accepts_gzip(Some("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("gzip;q=0, br")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(None));
    }
}
