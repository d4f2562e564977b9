//! Hostile requests over the real HTTP app: bodies are bounded as sent and as
//! inflated and refused as JSON with a code; text that holds control characters,
//! numbers that would overflow and dates outside four-digit years are refused
//! naming the field, before any SQL, and write nothing; an unknown key costs one
//! lookup until the next reload, not one per request.

use std::io::Write;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, test};
use claimtrack::config::Limits;
use claimtrack::http::{AppState, configure};
use flate2::Compression;
use serde_json::{Value, json};
use tests::TestDb;
use tests::check::code;
use tests::http::{gzip, open_access};

macro_rules! app {
    ($state:expr) => {
        test::init_service(App::new().configure(configure($state))).await
    };
}

/// POSTs a body as it is, with these headers; the status, content type and body.
async fn post_raw<S>(
    app: &S,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (StatusCode, String, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let mut req = test::TestRequest::post().uri("/graphql").set_payload(body);
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = serde_json::from_slice(&test::read_body(resp).await).unwrap_or(Value::Null);
    (status, content_type, body)
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[actix_web::test]
async fn bodies_are_bounded_as_sent_and_as_inflated_and_refused_as_json() {
    let db = TestDb::new().await;
    let limits = Limits::default();
    let app = app!(AppState::new(
        db.db().clone(),
        limits.clone(),
        open_access()
    ));
    let query = br#"{"query":"{ viewer { role } }"}"#.to_vec();

    // A compressed request is read like any other.
    for (encoding, body) in [
        ("gzip", gzip(&query, Compression::fast())),
        ("identity", query.clone()),
    ] {
        let (status, _, body) = post_raw(&app, body, &[JSON, ("content-encoding", encoding)]).await;
        assert_eq!(status, StatusCode::OK, "{encoding}: {body}");
        assert_eq!(body["data"]["viewer"]["role"], "ANONYMOUS");
    }
    let mut deflated = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    deflated.write_all(&query).expect("compress");
    let deflated = deflated.finish().expect("compress");
    let (status, _, _) = post_raw(&app, deflated, &[JSON, ("content-encoding", "deflate")]).await;
    assert_eq!(status, StatusCode::OK);

    // Past the limit as sent, or once inflated: 413, as JSON with a code.
    let mut large = br#"{"query":"{ viewer { role } }","x":""#.to_vec();
    large.extend(std::iter::repeat_n(b'a', limits.max_body_bytes));
    large.extend(br#""}"#);
    let (status, content_type, body) = post_raw(&app, large.clone(), &[JSON]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let bomb = gzip(&large, Compression::fast());
    assert!(bomb.len() < limits.max_body_bytes / 10);
    let (status, _, body) = post_raw(&app, bomb, &[JSON, ("content-encoding", "gzip")]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT");

    // Not what it says it is, or encoded in a way not taken: plain words, no internals.
    let (status, _, body) = post_raw(
        &app,
        b"not gzip".to_vec(),
        &[JSON, ("content-encoding", "gzip")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["message"],
        "the body is not valid gzip data"
    );
    let (status, _, body) =
        post_raw(&app, query.clone(), &[JSON, ("content-encoding", "br")]).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(code(&body), "BAD_USER_INPUT");

    // No operation at all.
    for empty in [&b"[]"[..], b"{}", br#"{"query":"  "}"#] {
        let (status, _, body) = post_raw(&app, empty.to_vec(), &[JSON]).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(empty)
        );
        assert_eq!(code(&body), "BAD_USER_INPUT");
        assert!(body.get("data").is_none(), "{body}");
    }
    let req = test::TestRequest::get()
        .uri("/graphql?variables=%7B%7D")
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn control_characters_are_refused_wherever_text_enters_and_write_nothing() {
    let db = TestDb::new().await;
    let before = db.counts().await;
    let cases = [
        (
            "mutation($n: String!) { createSpeaker(input: { name: $n, kind: PERSON }) { speaker { id } } }",
            json!({ "n": "Ada\u{7} Example" }),
            "input.name",
        ),
        (
            "mutation { createClaim(input: { text: \"A claim\\u0000\" }) { claim { id } } }",
            json!({}),
            "input.text",
        ),
        (
            "{ speaker(slug: \"ada\\u0000\") { id } }",
            json!({}),
            "slug",
        ),
        (
            "query($q: String!) { search(query: $q) { totalCount } }",
            json!({ "q": "cyber\u{0}security" }),
            "query",
        ),
        (
            "query($f: StatementFilter) { statements(filter: $f) { totalCount } }",
            json!({ "f": { "text": "\u{9b}31m" } }),
            "filter.text",
        ),
    ];
    for (query, variables, field) in cases {
        let error = db.err(query, variables).await;
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {error}"
        );
        assert_eq!(error["extensions"]["field"], field, "{query}: {error}");
    }
    assert_eq!(db.counts().await, before);
    // Tabs, line breaks and every script are text.
    let made = db
        .ok(
            "mutation($n: String!, $d: String) { createSpeaker(input: { name: $n, kind: PERSON, description: $d }) { speaker { slug } } }",
            json!({ "n": "Сергей Лавров", "d": "Minister\tof Foreign Affairs\r\nof Russia" }),
        )
        .await;
    assert_eq!(made["createSpeaker"]["speaker"]["slug"], "sergei-lavrov");
}

/// An outlet, a speaker and a claim to refer to.
async fn references(db: &TestDb) -> (String, String, String) {
    let data = db
        .ok(
            "mutation {
                o: createOutlet(input: { name: \"Fact Desk\" }) { outlet { id } }
                s: createSpeaker(input: { name: \"Ada Example\", kind: PERSON }) { speaker { id } }
                c: createClaim(input: { text: \"A working group will be set up\" }) { claim { id } }
            }",
            json!({}),
        )
        .await;
    let id = |v: &Value| v.as_str().expect("an id").to_owned();
    (
        id(&data["o"]["outlet"]["id"]),
        id(&data["s"]["speaker"]["id"]),
        id(&data["c"]["claim"]["id"]),
    )
}

#[tokio::test]
async fn numbers_and_dates_past_what_is_stored_are_refused_and_write_nothing() {
    let db = TestDb::new().await;
    let (outlet, speaker, claim) = references(&db).await;
    let before = db.counts().await;

    let verdict =
        "mutation($i: CreateVerdictInput!) { createVerdict(input: $i) { verdict { id } } }";
    let error = db
        .err(
            verdict,
            json!({ "i": { "claimId": claim, "reviewerId": outlet, "ratingLabel": "False",
                           "bestRating": 1e308, "worstRating": -1e308 } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert_eq!(error["extensions"]["field"], "input.bestRating", "{error}");

    let article =
        "mutation($i: CreateArticleInput!) { createArticle(input: $i) { article { id } } }";
    for at in ["0000-01-01T00:00:00Z", "0999-12-31T23:59:59Z"] {
        let error = db
            .err(
                article,
                json!({ "i": { "outletId": outlet, "title": "Old", "publishedAt": at } }),
            )
            .await;
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{at}: {error}"
        );
        assert_eq!(
            error["extensions"]["field"], "input.publishedAt",
            "{at}: {error}"
        );
    }
    let error = db
        .err(
            "query($a: DateTime) { speakers { totalCount } statements(asOf: $a) { totalCount } }",
            json!({ "a": "0001-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "asOf", "{error}");

    let statement =
        "mutation($i: CreateStatementInput!) { createStatement(input: $i) { statement { id } } }";
    for on in ["2017-7-1", "2017-07-1", "0000-01-01", "17-07-01"] {
        let error = db
            .err(
                statement,
                json!({ "i": { "speakerId": speaker, "text": "Said", "kind": "QUOTE",
                               "statedOn": on, "language": "en", "stances": [] } }),
            )
            .await;
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{on}: {error}"
        );
        assert!(
            error["message"]
                .as_str()
                .unwrap_or_default()
                .contains("YYYY-MM-DD")
                || error["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("year"),
            "{on}: {error}"
        );
    }
    assert_eq!(db.counts().await, before);
}

#[actix_web::test]
async fn an_unknown_key_is_looked_up_once_until_the_next_reload() {
    let db = TestDb::new().await;
    let mut counted = db.db().clone();
    claimtrack::metrics::count_sql(&mut counted);
    let app = app!(AppState::new(counted, Limits::default(), open_access()));
    let statements = || {
        claimtrack::metrics::metrics()
            .render(db.db())
            .lines()
            .find_map(|l| l.strip_prefix("claimtrack_sql_statements_total "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let unknown = format!("Bearer ct_0123456789ab_{}", "0".repeat(64));
    let before = statements();
    for _ in 0..20 {
        let req = test::TestRequest::post()
            .uri("/graphql")
            .insert_header(("authorization", unknown.as_str()))
            .set_json(json!({ "query": "{ viewer { role } }" }))
            .to_request();
        let resp = test::call_service(&app, req).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // The keys' first load, and one lookup of the prefix.
    let spent = statements() - before;
    assert!(
        spent <= 2,
        "20 requests with one unknown key ran {spent} statements"
    );
}
