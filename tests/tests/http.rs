//! The HTTP surface over the real actix app: GraphiQL, the SDL, health and
//! readiness, errors over HTTP. Transport rules, keys and limits: `security.rs`.

use actix_web::http::StatusCode;
use actix_web::{App, test};
use claimtrack::config::{Access, Limits};
use claimtrack::http::{AppState, configure};
use entity::ApiRole;
use serde_json::{Value, json};
use tests::TestDb;

fn state(db: &TestDb) -> AppState {
    AppState::new(db.db().clone(), Limits::default(), Access::default())
}

/// `Authorization` for a fresh editor key: a write refused below is refused for its
/// transport, not for want of a key.
async fn editor(db: &TestDb) -> (&'static str, String) {
    (
        "authorization",
        format!("Bearer {}", db.key(ApiRole::Editor).await),
    )
}

macro_rules! app {
    ($db:expr) => {
        test::init_service(App::new().configure(configure(state($db)))).await
    };
}

const CREATE_SPEAKER: &str =
    r#"mutation { createSpeaker(input: {name: "Ada Example", kind: PERSON}) { speaker { id } } }"#;

#[actix_web::test]
async fn by_default_three_times_the_pool_size_of_requests_execute_at_once() {
    let db = TestDb::new().await;
    let pool = db
        .db()
        .get_postgres_connection_pool()
        .options()
        .get_max_connections();
    assert!(pool > 0);
    assert_eq!(state(&db).admission.limit(), 3 * pool as usize);
    let limits = Limits {
        max_concurrent_requests: 3,
        ..Limits::default()
    };
    let state = AppState::new(db.db().clone(), limits, Access::default());
    assert_eq!(state.admission.limit(), 3);
}

#[actix_web::test]
async fn post_json_runs_queries_and_mutations() {
    let db = TestDb::new().await;
    let app = app!(&db);
    let req = test::TestRequest::post()
        .uri("/graphql")
        .insert_header(editor(&db).await)
        .set_json(json!({ "query": CREATE_SPEAKER }))
        .to_request();
    let body: Value = test::call_and_read_body_json(&app, req).await;
    assert!(
        body["data"]["createSpeaker"]["speaker"]["id"].is_string(),
        "{body}"
    );
    assert_eq!(db.count("speaker").await, 1);
}

#[actix_web::test]
async fn a_query_seen_before_is_answered_by_one_compiled_statement() {
    let db = TestDb::new().await;
    let app = app!(&db);
    let created = db.ok(CREATE_SPEAKER, json!({})).await;
    let id = created["createSpeaker"]["speaker"]["id"].clone();
    let query = json!({
        "query": "query S($id: ID!) { speaker(id: $id) { id name statements { totalCount } } }",
        "variables": { "id": id },
    });
    let answered = || db.compiled_requests("answered");
    let before = answered();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let req = test::TestRequest::post()
            .uri("/graphql")
            .set_json(&query)
            .to_request();
        let response = test::call_service(&app, req).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers().get("content-type").cloned();
        assert_eq!(content_type.unwrap(), "application/json; charset=utf-8");
        let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1]["data"]["speaker"]["name"], "Ada Example");
    assert_eq!(answers[1]["data"]["speaker"]["statements"]["totalCount"], 0);
    // The first request taught the service the document; the second was compiled.
    assert_eq!(answered(), before + 1);
}

#[actix_web::test]
async fn get_runs_queries() {
    let db = TestDb::new().await;
    let app = app!(&db);
    let req = test::TestRequest::get()
        .uri("/graphql?query=%7B%20speakers%20%7B%20totalCount%20%7D%20%7D")
        .to_request();
    let body: Value = test::call_and_read_body_json(&app, req).await;
    assert_eq!(body["data"]["speakers"]["totalCount"], 0, "{body}");
}

#[actix_web::test]
async fn malformed_json_is_a_bad_request() {
    let db = TestDb::new().await;
    let app = app!(&db);
    let req = test::TestRequest::post()
        .uri("/graphql")
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"query\": ")
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = test::read_body_json(resp).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[actix_web::test]
async fn graphql_errors_carry_codes_over_http() {
    let db = TestDb::new().await;
    let app = app!(&db);
    let query = r#"{ speaker(id: "not-a-uuid") { name } }"#;
    let req = test::TestRequest::post()
        .uri("/graphql")
        .set_json(json!({ "query": query }))
        .to_request();
    let body: Value = test::call_and_read_body_json(&app, req).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id");
    let req = test::TestRequest::post()
        .uri("/graphql")
        .set_json(json!({ "query": "{ nope }" }))
        .to_request();
    let body: Value = test::call_and_read_body_json(&app, req).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "validation errors are the client's"
    );
}

#[actix_web::test]
async fn too_deep_queries_are_refused() {
    let db = TestDb::new().await;
    let app = app!(&db);
    let mut query = String::from("id");
    for _ in 0..3 {
        query = format!("speaker {{ statements(first: 1) {{ edges {{ node {{ {query} }} }} }} }}");
    }
    let query = format!("{{ statements(first: 1) {{ edges {{ node {{ {query} }} }} }} }}");
    let req = test::TestRequest::post()
        .uri("/graphql")
        .set_json(json!({ "query": query }))
        .to_request();
    let body: Value = test::call_and_read_body_json(&app, req).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep"),
        "{body}"
    );
}

#[actix_web::test]
async fn graphiql_schema_and_health_are_served() {
    let db = TestDb::new().await;
    let app = app!(&db);
    let req = test::TestRequest::get().uri("/").to_request();
    let html =
        String::from_utf8(test::call_and_read_body(&app, req).await.to_vec()).expect("utf-8");
    assert!(
        html.contains("graphiql") || html.contains("GraphiQL"),
        "no GraphiQL page"
    );
    let req = test::TestRequest::get().uri("/schema.graphql").to_request();
    let sdl = String::from_utf8(test::call_and_read_body(&app, req).await.to_vec()).expect("utf-8");
    assert_eq!(sdl, claimtrack::graphql::sdl());
    for path in ["/healthz", "/readyz"] {
        let req = test::TestRequest::get().uri(path).to_request();
        assert_eq!(
            test::call_service(&app, req).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[actix_web::test]
async fn readyz_is_503_with_retry_after_when_the_database_is_gone() {
    let db = TestDb::new().await;
    let closed = claimtrack::db::connect(&db.url(), &Default::default())
        .await
        .expect("connect");
    let mut state = state(&db);
    state.db = closed.clone();
    closed.close_by_ref().await.expect("close the pool");
    let app = test::init_service(App::new().configure(configure(state))).await;
    let req = test::TestRequest::get().uri("/readyz").to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
}
