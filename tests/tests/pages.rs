//! The journalist's pages, served by the real HTTP configuration: the demo speaker's
//! picture and list, what a page never shows (drafts, suggestions), caching, the
//! narrowing, the picture alone as well-formed SVG, and the claim's page.

use actix_web::http::StatusCode;
use actix_web::{App, test};
use claimtrack::config::{Access, Limits};
use claimtrack::http::{AppState, configure};
use serde_json::{Value, json};
use tests::TestDb;

macro_rules! app {
    ($db:expr) => {
        test::init_service(App::new().configure(configure(AppState::new(
            $db.db().clone(),
            Limits::default(),
            Access::default(),
        ))))
        .await
    };
}

/// GET `uri`: status, headers we look at, body.
macro_rules! get {
    ($app:expr, $uri:expr) => {
        get!($app, $uri, None::<&str>)
    };
    ($app:expr, $uri:expr, $etag:expr) => {{
        let mut req = test::TestRequest::get().uri($uri);
        if let Some(etag) = $etag {
            req = req.insert_header(("if-none-match", etag));
        }
        let response = test::call_service(&$app, req.to_request()).await;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let headers = Headers {
            content_type: header("content-type"),
            etag: header("etag"),
            cache_control: header("cache-control"),
            policy: header("content-security-policy"),
        };
        let body = test::read_body(response).await;
        (
            status,
            headers,
            String::from_utf8(body.to_vec()).expect("UTF-8"),
        )
    }};
}

struct Headers {
    content_type: String,
    etag: String,
    cache_control: String,
    policy: String,
}

async fn create(db: &TestDb, mutation: &str, field: &str, input: Value) -> String {
    let query = format!(
        "mutation($input: {}Input!) {{ {mutation}(input: $input) {{ {field} {{ id }} }} }}",
        {
            let mut c = mutation.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    );
    let data = db.ok(&query, json!({ "input": input })).await;
    data[mutation][field]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

async fn said(
    db: &TestDb,
    speaker: &str,
    claim: &str,
    stance: &str,
    on: &str,
    text: &str,
) -> String {
    create(
        db,
        "createStatement",
        "statement",
        json!({
            "speakerId": speaker, "text": text, "kind": "QUOTE", "statedOn": on,
            "language": "en", "stances": [{ "claimId": claim, "stance": stance }],
        }),
    )
    .await
}

/// The `<svg>…</svg>` inside a page.
fn inline_svg(page: &str) -> &str {
    let start = page
        .find("<svg class=\"picture\"")
        .expect("an inline picture");
    let end = page[start..].find("</svg>").expect("the picture's end") + start + 6;
    &page[start..end]
}

#[actix_web::test]
async fn the_demo_speaker_page_shows_trumps_change_on_the_working_group() {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db()).await.expect("demo data");
    let app = app!(db);
    let (status, headers, page) = get!(app, "/speakers/donald-trump");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.content_type, "text/html; charset=utf-8");
    assert!(
        headers.policy.contains("default-src 'none'"),
        "{}",
        headers.policy
    );
    assert!(!page.contains("<script"), "no script on a page");
    assert!(
        !page.contains("src=\"http"),
        "nothing loaded from elsewhere"
    );
    assert!(page.contains("<h1>Donald Trump</h1>"));
    assert!(page.contains("President of the United States"));

    // The picture: two lanes, the break where the position changes.
    let svg = inline_svg(&page);
    assert!(svg.contains("Russia and the U.S. will set up a joint cyber security working group"));
    assert!(
        svg.contains("Russia and the U.S. will set up a channel on settling the Ukrainian crisis")
    );
    assert!(
        svg.contains("<title>Position changed on 9 Jul 2017: SUPPORTS → OPPOSES</title>"),
        "{svg}"
    );
    assert_eq!(svg.matches("class=\"change\"").count(), 1);
    assert_eq!(
        svg.matches("class=\"follow-up\"").count(),
        3,
        "two follow-ups, one drawn on both lanes of its source"
    );
    // Every mark is a link with a tooltip: a title for each link but the two lanes'.
    let links = svg.matches("<a href").count();
    assert!(links >= 6, "{links} links");
    assert_eq!(svg.matches("<title>").count(), links - 2, "{svg}");
    assert!(svg.contains("<desc id=\"picture-desc\">"));
    assert!(
        svg.contains("SUPPORTS 9 Jul 2017, then OPPOSES 9 Jul 2017 (a change)"),
        "the text alternative tells the change: {svg}"
    );

    // The list: the same change in words, with both follow-ups.
    assert!(page.contains("class=\"event change\""));
    let change = &page[page.find("class=\"event change\"").expect("a change")..];
    let change = &change[..change.find("</li>").expect("its end")];
    assert!(change.contains("joint cyber security working group"));
    assert!(
        change.contains(">SUPPORTS</span> → <span class=\"chip stance opposes\">OPPOSES</span>"),
        "{change}"
    );
    assert!(change.contains("the same day as"));
    assert_eq!(page.matches("class=\"event follow-up\"").count(), 2);
    assert!(page.contains("impenetrable Cyber Security unit"));
    assert!(
        page.contains("doesn't mean I think it can happen"),
        "the quotes are listed"
    );
    assert!(page.contains("“Lavrov says establishment of Russia-US cyber security working group still on agenda” (TASS)"));
    // The embed snippet names the picture alone.
    assert!(page.contains("/speakers/donald-trump.svg"));
    assert!(page.contains("&lt;iframe src="));
}

#[actix_web::test]
async fn the_picture_alone_is_well_formed_svg() {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db()).await.expect("demo data");
    let app = app!(db);
    for uri in [
        "/speakers/donald-trump.svg",
        "/speakers/sergei-lavrov.svg",
        "/claims/russia-us-cyber-security-working-group.svg",
        "/speakers/donald-trump.svg?from=2030-01-01",
    ] {
        let (status, headers, svg) = get!(app, uri);
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers.content_type, "image/svg+xml; charset=utf-8");
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{uri}: {e}\n{svg}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        assert!(root.children().any(|c| c.has_tag_name("title")));
        assert!(root.children().any(|c| c.has_tag_name("desc")));
        // Links in the picture alone lead to the page, out of any frame.
        for a in root.descendants().filter(|n| n.has_tag_name("a")) {
            let href = a.attribute("href").unwrap_or_default();
            assert!(href.starts_with('/'), "{href}");
            assert_eq!(a.attribute("target"), Some("_top"));
            if href.contains('#') {
                assert!(
                    a.children().any(|c| c.has_tag_name("title")),
                    "a mark without a tooltip: {href}"
                );
            }
        }
    }
}

#[actix_web::test]
async fn drafts_and_suggested_links_never_appear() {
    let db = TestDb::new().await;
    let speaker = create(
        &db,
        "createSpeaker",
        "speaker",
        json!({ "name": "Ada Example", "slug": "ada", "kind": "PERSON" }),
    )
    .await;
    let claim = create(
        &db,
        "createClaim",
        "claim",
        json!({ "text": "The bridge will open in 2024", "slug": "bridge" }),
    )
    .await;
    let reviewer = create(
        &db,
        "createOutlet",
        "outlet",
        json!({ "name": "Checkers Weekly" }),
    )
    .await;
    let first = said(
        &db,
        &speaker,
        &claim,
        "SUPPORTS",
        "2023-03-01",
        "The bridge opens next year.",
    )
    .await;
    let second = said(
        &db,
        &speaker,
        &claim,
        "OPPOSES",
        "2023-09-01",
        "The bridge will not open next year.",
    )
    .await;
    for (label, status, value) in [
        ("Pants on Fire", "PUBLISHED", 1.0),
        ("Draft rating label", "DRAFT", 5.0),
    ] {
        create(
            &db,
            "createVerdict",
            "verdict",
            json!({
                "statementId": first, "reviewerId": reviewer, "ratingLabel": label,
                "ratingValue": value, "bestRating": 5, "worstRating": 1, "status": status,
                "publishedAt": if status == "PUBLISHED" { json!("2023-03-05T10:00:00Z") } else { Value::Null },
            }),
        )
        .await;
    }
    let third = said(
        &db,
        &speaker,
        &claim,
        "OPPOSES",
        "2023-11-01",
        "Still not next year.",
    )
    .await;
    for (source, target, status, note) in [
        (&first, &second, "CONFIRMED", "A confirmed follow-up"),
        (&second, &third, "SUGGESTED", "A machine suggestion"),
    ] {
        create(
            &db,
            "createLink",
            "link",
            json!({ "sourceStatementId": source, "targetStatementId": target, "relation": "FOLLOWS_UP", "status": status, "note": note }),
        )
        .await;
    }
    let app = app!(db);
    for uri in ["/speakers/ada", "/claims/bridge"] {
        let (status, _, page) = get!(app, uri);
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(
            page.contains("Pants on Fire"),
            "{uri}: the published verdict"
        );
        assert!(page.contains("Checkers Weekly"));
        assert!(!page.contains("Draft rating label"), "{uri}: a draft shows");
        assert!(page.contains("A confirmed follow-up"));
        assert!(
            !page.contains("A machine suggestion"),
            "{uri}: a suggestion shows"
        );
        let svg = inline_svg(&page);
        assert_eq!(svg.matches("class=\"verdict\"").count(), 1, "{uri}");
        assert!(
            svg.contains("band-false"),
            "a 1 of 1–5 is in the FALSE band"
        );
        assert_eq!(svg.matches("class=\"follow-up\"").count(), 1, "{uri}");
        let (_, _, alone) = get!(app, &format!("{uri}.svg"));
        assert!(!alone.contains("Draft rating label"));
        assert!(alone.contains("Pants on Fire"));
    }
}

#[actix_web::test]
async fn pages_carry_an_etag_and_revalidate() {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db()).await.expect("demo data");
    let app = app!(db);
    let (status, headers, _) = get!(app, "/speakers/sergei-lavrov");
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers.cache_control.starts_with("public, max-age="),
        "{}",
        headers.cache_control
    );
    assert!(headers.etag.starts_with('"') && headers.etag.len() > 10);
    let etag = headers.etag.clone();
    let (status, again, body) = get!(app, "/speakers/sergei-lavrov", Some(etag.as_str()));
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(again.etag, etag);

    // A new statement changes the page, and its tag.
    let lavrov = db
        .ok(r#"{ speaker(slug: "sergei-lavrov") { id } }"#, json!({}))
        .await["speaker"]["id"]
        .as_str()
        .expect("Lavrov")
        .to_owned();
    let claim = db
        .ok(
            r#"{ claim(slug: "russia-us-cyber-security-working-group") { id } }"#,
            json!({}),
        )
        .await["claim"]["id"]
        .as_str()
        .expect("the claim")
        .to_owned();
    said(
        &db,
        &lavrov,
        &claim,
        "OPPOSES",
        "2017-08-01",
        "The working group is off the table.",
    )
    .await;
    let (status, changed, page) = get!(app, "/speakers/sergei-lavrov", Some(etag.as_str()));
    assert_eq!(status, StatusCode::OK);
    assert_ne!(changed.etag, etag);
    assert!(page.contains("The working group is off the table."));
}

#[actix_web::test]
async fn pages_narrow_to_dates_and_a_claim_and_say_what_they_cannot_show() {
    let db = TestDb::new().await;
    let speaker = create(
        &db,
        "createSpeaker",
        "speaker",
        json!({ "name": "Bo Example", "slug": "bo", "kind": "PERSON" }),
    )
    .await;
    let roads = create(
        &db,
        "createClaim",
        "claim",
        json!({ "text": "Roads will be repaired" }),
    )
    .await;
    let rail = create(
        &db,
        "createClaim",
        "claim",
        json!({ "text": "Rail fares will fall", "slug": "rail" }),
    )
    .await;
    said(
        &db,
        &speaker,
        &roads,
        "SUPPORTS",
        "2016-05-01",
        "Roads first, in 2016.",
    )
    .await;
    said(
        &db,
        &speaker,
        &rail,
        "SUPPORTS",
        "2018-05-01",
        "Fares will fall, in 2018.",
    )
    .await;
    let app = app!(db);

    let (_, _, all) = get!(app, "/speakers/bo");
    assert!(all.contains("Roads first, in 2016.") && all.contains("Fares will fall, in 2018."));
    let (_, _, later) = get!(app, "/speakers/bo?from=2017-01-01&to=");
    assert!(
        !later.contains("Roads first, in 2016.") && later.contains("Fares will fall, in 2018.")
    );
    let (_, _, earlier) = get!(app, "/speakers/bo?to=2017-01-01");
    assert!(
        earlier.contains("Roads first, in 2016.") && !earlier.contains("Fares will fall, in 2018.")
    );
    let (_, _, rail_only) = get!(app, "/speakers/bo?claim=rail");
    assert!(!rail_only.contains("Roads first") && rail_only.contains("Fares will fall"));
    assert!(
        rail_only.contains("<option value=\"rail\" selected>"),
        "the form shows the choice"
    );
    let (_, _, by_id) = get!(app, &format!("/speakers/bo?claim={roads}"));
    assert!(by_id.contains("Roads first") && !by_id.contains("Fares will fall"));
    // A claim without a slug has its page at its id.
    let (status, _, roads_page) = get!(app, &format!("/claims/{roads}"));
    assert_eq!(status, StatusCode::OK);
    assert!(roads_page.contains("Roads will be repaired"));

    for (uri, wanted, says) in [
        (
            "/speakers/bo?from=May%202016",
            StatusCode::BAD_REQUEST,
            "from: give a day as YYYY-MM-DD",
        ),
        (
            "/speakers/bo?from=2019-01-01&to=2018-01-01",
            StatusCode::BAD_REQUEST,
            "comes after",
        ),
        (
            "/speakers/bo?claim=no-such-claim",
            StatusCode::BAD_REQUEST,
            "no claim has the slug or id",
        ),
        (
            "/speakers/nobody",
            StatusCode::NOT_FOUND,
            "no speaker is called `nobody`",
        ),
        (
            "/claims/nothing.svg",
            StatusCode::NOT_FOUND,
            "no claim has the slug or id `nothing`",
        ),
    ] {
        let (status, headers, page) = get!(app, uri);
        assert_eq!(status, wanted, "{uri}");
        assert_eq!(headers.content_type, "text/html; charset=utf-8");
        assert!(page.contains(says), "{uri}: {page}");
        assert_eq!(headers.cache_control, "no-store");
    }
    // Nothing in range: the page says so, the picture too.
    let (status, _, empty) = get!(app, "/speakers/bo?from=2030-01-01");
    assert_eq!(status, StatusCode::OK);
    assert!(empty.contains("No published events in this range."));
    assert!(empty.contains("Nothing to show in this range."));
}

#[actix_web::test]
async fn the_claim_page_has_a_lane_per_speaker_and_where_each_stands() {
    let db = TestDb::new().await;
    let claim = create(
        &db,
        "createClaim",
        "claim",
        json!({ "text": "Taxes will go down", "slug": "taxes" }),
    )
    .await;
    let a = create(
        &db,
        "createSpeaker",
        "speaker",
        json!({ "name": "Ann Turner", "slug": "ann", "kind": "PERSON" }),
    )
    .await;
    let b = create(
        &db,
        "createSpeaker",
        "speaker",
        json!({ "name": "Ben Oduya", "slug": "ben", "kind": "PERSON" }),
    )
    .await;
    said(
        &db,
        &a,
        &claim,
        "SUPPORTS",
        "2020-01-10",
        "Taxes will go down.",
    )
    .await;
    said(
        &db,
        &a,
        &claim,
        "OPPOSES",
        "2020-06-10",
        "Taxes cannot go down now.",
    )
    .await;
    said(
        &db,
        &b,
        &claim,
        "SUPPORTS",
        "2020-03-01",
        "Yes, taxes will go down.",
    )
    .await;
    let app = app!(db);
    let (status, _, page) = get!(app, "/claims/taxes");
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>“Taxes will go down”</h1>"));
    let stands = &page[page
        .find("Where each speaker stands")
        .expect("current positions")..];
    let stands = &stands[..stands.find("</ul>").expect("its end")];
    assert!(
        stands.contains(
            "Ann Turner</a>: <span class=\"chip stance opposes\">OPPOSES</span> since 10 Jun 2020"
        ),
        "{stands}"
    );
    assert!(
        stands.contains(
            "Ben Oduya</a>: <span class=\"chip stance supports\">SUPPORTS</span> since 1 Mar 2020"
        ),
        "{stands}"
    );
    let svg = inline_svg(&page);
    assert_eq!(svg.matches("class=\"lane\"").count(), 2);
    assert!(svg.contains("href=\"/speakers/ann\""));
    assert_eq!(svg.matches("class=\"change\"").count(), 1);
    assert!(page.contains("Ann Turner</a> changed position"));
}
