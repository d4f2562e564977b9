//! Security over real HTTP (the actix app the server runs): API keys and roles, the
//! authorization matrix driven by the policy table, unpublished data hidden from
//! readers, the audit trail, query limits, transport rules and rate limits. Every
//! refusal is checked for its status and code, and for writing nothing.

use std::collections::BTreeSet;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, test};
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use claimtrack::auth::Role;
use claimtrack::auth::policy::{RULES, Root};
use claimtrack::config::{Access, Limits};
use claimtrack::http::{AppState, configure};
use entity::ApiRole;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::TestDb;
use tests::check::code;
use tests::http::open_access;

fn state_with(db: &TestDb, limits: Limits, access: Access) -> AppState {
    AppState::new(db.db().clone(), limits, access)
}

macro_rules! app {
    ($state:expr) => {
        test::init_service(App::new().configure(configure($state))).await
    };
}

/// POSTs a GraphQL request, with `key` as bearer when given; returns status and body.
async fn post<S>(app: &S, key: Option<&str>, query: &str, variables: Value) -> (StatusCode, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let mut req = test::TestRequest::post()
        .uri("/graphql")
        .set_json(json!({ "query": query, "variables": variables }));
    if let Some(key) = key {
        req = req.insert_header(("authorization", format!("Bearer {key}")));
    }
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let body: Value = serde_json::from_slice(&test::read_body(resp).await).unwrap_or(Value::Null);
    (status, body)
}

const CREATE_SPEAKER: &str =
    r#"mutation { createSpeaker(input: {name: "Ada Example", kind: PERSON}) { speaker { id } } }"#;

#[actix_web::test]
async fn viewer_names_the_role_and_the_key() {
    let db = TestDb::new().await;
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let query = "{ viewer { role keyName keyPrefix seesUnpublished } }";
    let (_, body) = post(&app, None, query, json!({})).await;
    assert_eq!(
        body["data"]["viewer"],
        json!({ "role": "ANONYMOUS", "keyName": null, "keyPrefix": null, "seesUnpublished": false })
    );
    let key = db.key(ApiRole::Editor).await;
    let (_, body) = post(&app, Some(&key), query, json!({})).await;
    assert_eq!(body["data"]["viewer"]["role"], "EDITOR");
    assert_eq!(body["data"]["viewer"]["keyName"], "Editor test key");
    assert_eq!(body["data"]["viewer"]["keyPrefix"], &key[3..15]);
    assert_eq!(body["data"]["viewer"]["seesUnpublished"], true);
}

#[actix_web::test]
async fn a_write_without_a_key_is_unauthenticated_and_writes_nothing() {
    let db = TestDb::new().await;
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let before = db.counts().await;
    let (status, body) = post(&app, None, CREATE_SPEAKER, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(db.counts().await, before);
}

#[actix_web::test]
async fn a_reader_key_cannot_write() {
    let db = TestDb::new().await;
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let reader = db.key(ApiRole::Reader).await;
    let before = db.counts().await;
    let (_, body) = post(&app, Some(&reader), CREATE_SPEAKER, json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert_eq!(db.counts().await, before);
    let editor = db.key(ApiRole::Editor).await;
    let (_, body) = post(&app, Some(&editor), CREATE_SPEAKER, json!({})).await;
    assert!(
        body["data"]["createSpeaker"]["speaker"]["id"].is_string(),
        "{body}"
    );
}

#[actix_web::test]
async fn bad_unknown_and_revoked_keys_are_refused_with_401() {
    let db = TestDb::new().await;
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let admin = db.key(ApiRole::Admin).await;
    let editor = db.key(ApiRole::Editor).await;
    // The editor key works, then the admin revokes it over GraphQL.
    let (_, body) = post(&app, Some(&editor), "{ viewer { role } }", json!({})).await;
    assert_eq!(body["data"]["viewer"]["role"], "EDITOR");
    let (_, keys) = post(
        &app,
        Some(&admin),
        "{ apiKeys { edges { node { id prefix } } } }",
        json!({}),
    )
    .await;
    let id = keys["data"]["apiKeys"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["prefix"] == editor[3..15])
        .map(|e| e["node"]["id"].clone())
        .unwrap();
    let (_, body) = post(
        &app,
        Some(&admin),
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revokedAt } } }",
        json!({ "id": id }),
    )
    .await;
    assert!(
        body["data"]["revokeApiKey"]["apiKey"]["revokedAt"].is_string(),
        "{body}"
    );

    let unknown = format!("ct_{}_{}", "0".repeat(12), "0".repeat(64));
    let mut wrong_secret = admin.clone();
    wrong_secret.replace_range(admin.len() - 4.., "beef");
    let before = db.counts().await;
    for (name, header) in [
        ("revoked", format!("Bearer {editor}")),
        ("unknown", format!("Bearer {unknown}")),
        ("wrong secret", format!("Bearer {wrong_secret}")),
        ("malformed", "Bearer not-a-key".to_owned()),
        ("other scheme", format!("Basic {admin}")),
        ("empty", "Bearer ".to_owned()),
    ] {
        let req = test::TestRequest::post()
            .uri("/graphql")
            .insert_header(("authorization", header))
            .set_json(json!({ "query": CREATE_SPEAKER }))
            .to_request();
        let resp = test::call_service(&app, req).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(
            resp.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer"),
            "{name}"
        );
        let body: Value = test::read_body_json(resp).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{name}: {body}");
    }
    assert_eq!(db.counts().await, before);
}

#[actix_web::test]
async fn admins_create_keys_whose_secret_is_shown_once_and_works_at_once() {
    let db = TestDb::new().await;
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let admin = db.key(ApiRole::Admin).await;
    let (_, body) = post(
        &app,
        Some(&admin),
        r#"mutation { createApiKey(input: {name: "Newsroom dashboard", role: EDITOR}) { secret apiKey { name role prefix lastUsedAt } } }"#,
        json!({}),
    )
    .await;
    let created = &body["data"]["createApiKey"];
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(created["apiKey"]["role"], "EDITOR");
    assert!(secret.starts_with(&format!(
        "ct_{}_",
        created["apiKey"]["prefix"].as_str().unwrap()
    )));
    // Stored: the prefix and a 32-byte hash, never the secret.
    let row = db
        .db()
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT prefix, length(secret_hash), encode(secret_hash, 'hex') FROM api_key WHERE name = $1",
            ["Newsroom dashboard".into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i32>(1).unwrap(), 32);
    let stored_hash: String = row.try_get_by_index(2).unwrap();
    assert!(!secret.contains(&stored_hash));
    let dump = db
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM api_key) t",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    assert!(!dump.contains(&secret[16..]), "the secret is stored");
    let revisions = db
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT string_agg(coalesce(after::text, ''), ' ') FROM revision WHERE entity_type = 'api_key'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    assert!(!revisions.contains(&secret[16..]) && !revisions.contains(&stored_hash));

    // The new key works at once; the list never shows a secret.
    let (_, body) = post(
        &app,
        Some(&secret),
        "{ viewer { role keyName } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["viewer"],
        json!({ "role": "EDITOR", "keyName": "Newsroom dashboard" })
    );
    let (_, body) = post(
        &app,
        Some(&admin),
        "{ apiKeys { totalCount edges { node { name } } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["apiKeys"]["totalCount"], 2);
    assert!(!body.to_string().contains(&secret[16..]));
    // Editors cannot list or make keys.
    let (_, body) = post(&app, Some(&secret), "{ apiKeys { totalCount } }", json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN");
    let before = db.counts().await;
    let (_, body) = post(
        &app,
        Some(&secret),
        r#"mutation { createApiKey(input: {name: "escalation", role: ADMIN}) { secret } }"#,
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "FORBIDDEN");
    assert_eq!(db.counts().await, before);
}

#[actix_web::test]
async fn key_use_is_recorded_by_the_timer_not_by_each_request() {
    let db = TestDb::new().await;
    let state = state_with(&db, Limits::default(), open_access());
    let app = app!(state.clone());
    let key = db.key(ApiRole::Reader).await;
    let last_used = || async {
        db.db()
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT last_used_at IS NOT NULL FROM api_key",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<bool>(0)
            .unwrap()
    };
    for _ in 0..5 {
        let (_, body) = post(&app, Some(&key), "{ viewer { role } }", json!({})).await;
        assert_eq!(body["data"]["viewer"]["role"], "READER");
    }
    assert!(!last_used().await, "a request wrote last_used_at");
    // A write that fails (the database out of reach) keeps the times for the next one.
    let mut nowhere = sea_orm::ConnectOptions::new("postgres://nobody@127.0.0.1:1/nothing");
    nowhere
        .connect_lazy(true)
        .acquire_timeout(std::time::Duration::from_millis(500));
    let nowhere = sea_orm::Database::connect(nowhere)
        .await
        .expect("a lazy pool");
    assert!(state.keys.flush_last_used_through(&nowhere).await.is_err());
    assert!(!last_used().await);
    state.maintain().await;
    assert!(last_used().await, "the timer did not record the use");
}

/// A key revoked elsewhere (another instance, the command line) keeps working here only
/// until the maintenance timer reloads the keys.
#[actix_web::test]
async fn a_key_revoked_elsewhere_is_refused_after_the_next_reload() {
    let db = TestDb::new().await;
    let state = state_with(&db, Limits::default(), open_access());
    let app = app!(state.clone());
    let key = db.key(ApiRole::Editor).await;
    let (_, body) = post(&app, Some(&key), "{ viewer { role } }", json!({})).await;
    assert_eq!(body["data"]["viewer"]["role"], "EDITOR", "{body}");
    let prefix = key.split('_').nth(1).unwrap();
    let stored = claimtrack::service::api_key::find(db.db(), prefix)
        .await
        .unwrap();
    claimtrack::service::api_key::revoke(db.db(), &claimtrack::service::Actor::system(), stored.id)
        .await
        .unwrap();
    state.maintain().await;
    let (status, body) = post(&app, Some(&key), "{ viewer { role } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

/// The SDL's root fields, by root.
fn schema_root_fields() -> BTreeSet<(String, String)> {
    let doc = async_graphql::parser::parse_schema(claimtrack::graphql::sdl()).unwrap();
    let mut out = BTreeSet::new();
    for def in doc.definitions {
        if let TypeSystemDefinition::Type(ty) = def {
            let name = ty.node.name.node.to_string();
            if let (TypeKind::Object(object), "Query" | "Mutation" | "Subscription") =
                (&ty.node.kind, name.as_str())
            {
                for field in &object.fields {
                    out.insert((name.clone(), field.node.name.node.to_string()));
                }
            }
        }
    }
    out
}

#[actix_web::test]
async fn the_policy_table_names_every_root_field_and_nothing_else() {
    let in_schema = schema_root_fields();
    let in_table: BTreeSet<(String, String)> = RULES
        .iter()
        .map(|(root, field, _)| {
            let root = match root {
                Root::Query => "Query",
                Root::Mutation => "Mutation",
                Root::Subscription => "Subscription",
            };
            (root.to_owned(), (*field).to_owned())
        })
        .collect();
    assert_eq!(in_table.len(), RULES.len(), "a field is listed twice");
    let missing: Vec<_> = in_schema.difference(&in_table).collect();
    let stale: Vec<_> = in_table.difference(&in_schema).collect();
    assert!(
        missing.is_empty(),
        "root fields without a rule: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rules for fields that do not exist: {stale:?}"
    );
}

/// Every root field under every role, over HTTP: below the field's role the request
/// is refused (UNAUTHENTICATED without a key, FORBIDDEN with one) and writes nothing;
/// at or above it, it is not refused for its role.
#[actix_web::test]
async fn authorization_matrix() {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db()).await.unwrap();
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let keys = [
        (Role::Anonymous, None),
        (Role::Reader, Some(db.key(ApiRole::Reader).await)),
        (Role::Editor, Some(db.key(ApiRole::Editor).await)),
        (Role::Admin, Some(db.key(ApiRole::Admin).await)),
    ];
    let before = db.counts().await;
    let mut checked = 0;
    for (root, field, needed) in RULES {
        // No arguments: an allowed call fails validation (or reads), a refused one is
        // refused before validation, so neither runs a write.
        let query = match root {
            Root::Query => format!("query {{ {field} {{ __typename }} }}"),
            Root::Mutation => format!("mutation {{ {field} {{ __typename }} }}"),
            Root::Subscription => format!("subscription {{ {field} {{ __typename }} }}"),
        };
        for (role, key) in &keys {
            let (status, body) = post(&app, key.as_deref(), &query, json!({})).await;
            assert_eq!(status, StatusCode::OK, "{field} as {role:?}: {body}");
            let got = code(&body);
            if role < needed {
                let expected = if *role == Role::Anonymous {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                };
                assert_eq!(got, expected, "{field} as {role:?}: {body}");
                assert!(body["data"].is_null(), "{field} as {role:?}: {body}");
                let message = body["errors"][0]["message"].as_str().unwrap_or_default();
                assert!(message.contains(needed.name()), "{field}: {message}");
            } else {
                assert!(
                    got != "UNAUTHENTICATED" && got != "FORBIDDEN",
                    "{field} as {role:?} was refused: {body}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, RULES.len() * 4);
    assert_eq!(db.counts().await, before, "a refused or invalid call wrote");
}

/// Draft verdicts and machine suggestions exist only for editors: to readers they read
/// as absent, in lookups, lists and nested fields alike.
#[actix_web::test]
async fn unpublished_records_are_hidden_from_anonymous_callers_and_readers() {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db()).await.unwrap();
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let statement = db
        .ok(r#"{ speaker(slug: "donald-trump") { statements(first: 1) { edges { node { id } } } } }"#, json!({}))
        .await["speaker"]["statements"]["edges"][0]["node"]["id"]
        .clone();
    let outlet =
        db.ok(r#"{ outlet(slug: "tass") { id } }"#, json!({})).await["outlet"]["id"].clone();
    let verdict = |status: &str, label: &str| json!({ "input": { "statementId": statement, "reviewerId": outlet, "ratingLabel": label, "status": status } });
    let create =
        "mutation($input: CreateVerdictInput!) { createVerdict(input: $input) { verdict { id } } }";
    let draft =
        db.ok(create, verdict("DRAFT", "Draft rating")).await["createVerdict"]["verdict"]["id"]
            .clone();
    let published =
        db.ok(create, verdict("PUBLISHED", "Mostly true")).await["createVerdict"]["verdict"]["id"]
            .clone();
    // A suggestion between Trump's earliest and latest statements.
    let trump = db
        .ok(
            r#"{ speaker(slug: "donald-trump") { statements(first: 10) { edges { node { id statedOn } } } } }"#,
            json!({}),
        )
        .await;
    let mut dated: Vec<(String, Value)> = trump["speaker"]["statements"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["statedOn"].as_str().unwrap().to_owned(),
                e["node"]["id"].clone(),
            )
        })
        .collect();
    dated.sort_by(|a, b| a.0.cmp(&b.0));
    let suggested = db
        .ok(
            "mutation($input: CreateLinkInput!) { createLink(input: $input) { link { id } } }",
            json!({ "input": {
                "sourceStatementId": dated[0].1,
                "targetStatementId": dated[dated.len() - 1].1,
                "relation": "REPEATS",
                "status": "SUGGESTED",
            } }),
        )
        .await["createLink"]["link"]["id"]
        .clone();
    assert!(suggested.is_string());

    let probe = r#"query($draft: ID!, $published: ID!, $link: ID!, $statement: ID!) {
        draft: verdict(id: $draft) { id }
        published: verdict(id: $published) { id }
        verdicts(filter: { status: [DRAFT, PUBLISHED] }) { totalCount }
        link(id: $link) { id }
        statement(id: $statement) { verdicts { id } }
        speaker(slug: "donald-trump") { statements { edges { node { links { status } backlinks { status } } } } }
    }"#;
    let vars = json!({ "draft": draft, "published": published, "link": suggested, "statement": statement });
    let reader = db.key(ApiRole::Reader).await;
    for key in [None, Some(reader.as_str())] {
        let (_, body) = post(&app, key, probe, vars.clone()).await;
        let data = &body["data"];
        assert!(data["draft"].is_null(), "{body}");
        assert_eq!(data["published"]["id"], published);
        assert_eq!(data["verdicts"]["totalCount"], 1, "{body}");
        assert!(data["link"].is_null(), "{body}");
        assert_eq!(data["statement"]["verdicts"], json!([{ "id": published }]));
        let statuses = body.to_string();
        assert!(!statuses.contains("SUGGESTED"), "{body}");
    }
    let editor = db.key(ApiRole::Editor).await;
    let (_, body) = post(&app, Some(&editor), probe, vars).await;
    let data = &body["data"];
    assert_eq!(data["draft"]["id"], draft);
    assert_eq!(data["verdicts"]["totalCount"], 2);
    assert_eq!(data["link"]["id"], suggested);
    assert_eq!(
        data["statement"]["verdicts"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(body.to_string().contains("SUGGESTED"));
}

#[actix_web::test]
async fn revisions_carry_the_key_that_made_them_and_are_for_editors() {
    let db = TestDb::new().await;
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let editor = db.key(ApiRole::Editor).await;
    let (_, body) = post(&app, Some(&editor), CREATE_SPEAKER, json!({})).await;
    let id = body["data"]["createSpeaker"]["speaker"]["id"].clone();
    let (_, body) = post(
        &app,
        Some(&editor),
        r#"mutation($id: ID!) { updateSpeaker(input: {id: $id, version: 1, description: "Mathematician"}) { speaker { version } } }"#,
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        body["data"]["updateSpeaker"]["speaker"]["version"], 2,
        "{body}"
    );
    let query = r#"query($id: ID!) { revisions(entityId: $id) { totalCount edges { node {
        entityType version action at actorKey { name role } before after } } } }"#;
    let (_, body) = post(&app, Some(&editor), query, json!({ "id": id })).await;
    let revisions = &body["data"]["revisions"];
    assert_eq!(revisions["totalCount"], 2, "{body}");
    let first = &revisions["edges"][0]["node"];
    assert_eq!(first["action"], "CREATE");
    assert_eq!(first["entityType"], "speaker");
    assert_eq!(
        first["actorKey"],
        json!({ "name": "Editor test key", "role": "EDITOR" })
    );
    assert!(first["before"].is_null());
    let second = &revisions["edges"][1]["node"];
    assert_eq!(second["version"], 2);
    assert_eq!(second["before"]["description"], Value::Null);
    assert_eq!(second["after"]["description"], "Mathematician");
    let reader = db.key(ApiRole::Reader).await;
    let (_, body) = post(&app, Some(&reader), query, json!({ "id": id })).await;
    assert_eq!(code(&body), "FORBIDDEN");
    let (_, body) = post(&app, None, query, json!({ "id": id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn postgres_refuses_to_change_or_remove_revisions() {
    let db = TestDb::new().await;
    db.ok(CREATE_SPEAKER, json!({})).await;
    let before = db.count("revision").await;
    assert_eq!(before, 1);
    for sql in [
        "UPDATE revision SET after = '{}'::jsonb",
        "UPDATE revision SET actor_key_id = NULL",
        "DELETE FROM revision",
        "TRUNCATE revision",
    ] {
        let err = db.db().execute_unprepared(sql).await.err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("append-only"), "{sql}: {message}");
    }
    assert_eq!(db.count("revision").await, before);
    let after: Value = db
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT after FROM revision",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    assert_eq!(after["name"], "Ada Example");
}

/// A query whose deepest path holds `depth` fields, the scalar at its end included:
/// `statement { speaker { statements { edges { node { speaker … } } } } } }`.
fn nested(depth: usize) -> String {
    const CYCLE: [(&str, &str); 4] = [
        ("speaker", "id"),
        ("statements", "totalCount"),
        ("edges", "cursor"),
        ("node", "id"),
    ];
    // The root field and the closing scalar take two of the levels.
    let steps: Vec<(&str, &str)> = (0..depth - 2).map(|i| CYCLE[i % 4]).collect();
    let leaf = steps.last().map_or("id", |(_, leaf)| leaf);
    let inner = steps
        .iter()
        .rev()
        .fold(leaf.to_owned(), |inner, (field, _)| {
            format!("{field} {{ {inner} }}")
        });
    format!(r#"{{ statement(id: "00000000-0000-7000-8000-000000000000") {{ {inner} }} }}"#)
}

#[actix_web::test]
async fn query_limits_are_enforced_over_http() {
    let db = TestDb::new().await;
    let limits = Limits::default();
    let app = app!(state_with(&db, limits.clone(), open_access()));
    let editor = db.key(ApiRole::Editor).await;

    // Depth: the limit passes, one more is refused.
    let (_, body) = post(&app, None, &nested(limits.max_depth), json!({})).await;
    assert!(
        body.get("errors").is_none(),
        "depth {}: {body}",
        limits.max_depth
    );
    let (_, body) = post(&app, None, &nested(limits.max_depth + 1), json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep"),
        "{body}"
    );

    // Aliases: 101 refused (the limit is below a hundred), whatever the key.
    let many: String = (0..101)
        .map(|i| format!("a{i}: viewer {{ role }} "))
        .collect();
    let before = db.counts().await;
    let (_, body) = post(&app, Some(&editor), &format!("{{ {many} }}"), json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("aliases"),
        "{body}"
    );
    let allowed: String = (0..limits.max_aliases)
        .map(|i| format!("a{i}: viewer {{ role }} "))
        .collect();
    let (_, body) = post(&app, None, &format!("{{ {allowed} }}"), json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");

    // Directives: 10,000 on one field are refused (by the document size first), and so
    // is one more than the limit; two distinct ones (all a field can validly hold) pass.
    let directives = " @include(if: true)".repeat(10_000);
    let query = format!("{{ viewer {directives} {{ role }} }}");
    let (_, body) = post(&app, None, &query, json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["data"].is_null(), "{body}");
    let over = " @include(if: true)".repeat(limits.max_directives + 1);
    let query = format!("{{ viewer {over} {{ role }} }}");
    let (_, body) = post(&app, None, &query, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("number of directives"), "{body}");
    let query = "{ viewer @include(if: true) @skip(if: false) { role } }";
    let (_, body) = post(&app, None, query, json!({})).await;
    assert_eq!(body["data"]["viewer"]["role"], "ANONYMOUS", "{body}");

    // Complexity: nested pages multiply.
    let costly = "{ speakers(first: 100) { edges { node { statements(first: 100) { edges { node { text } } } } } } }";
    let (_, body) = post(&app, None, costly, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("complexity"),
        "{body}"
    );

    // Page size: at most 100.
    let (_, body) = post(
        &app,
        None,
        "{ speakers(first: 101) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");

    // Document size.
    let padding = format!(
        "{{ viewer {{ role }} }} #{}",
        "x".repeat(limits.max_document_bytes)
    );
    let (_, body) = post(&app, None, &padding, json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("longer"),
        "{body}"
    );

    // Every refused document above came with a write-capable key or none: nothing written.
    let (_, body) = post(&app, Some(&editor), &format!("mutation {{ {} }}", (0..101).map(|i| format!("a{i}: createSpeaker(input: {{name: \"S{i}\", kind: PERSON}}) {{ speaker {{ id }} }}")).collect::<String>()), json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(db.counts().await, before);
}

#[actix_web::test]
async fn transport_rules_refuse_cross_site_shapes_and_write_nothing() {
    let db = TestDb::new().await;
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let key = format!("Bearer {}", db.key(ApiRole::Editor).await);
    let body = json!({ "query": CREATE_SPEAKER }).to_string();
    let before = db.counts().await;

    // A mutation over GET.
    let query: String = url::form_urlencoded::byte_serialize(CREATE_SPEAKER.as_bytes()).collect();
    let req = test::TestRequest::get()
        .uri(&format!("/graphql?query={query}"))
        .insert_header(("authorization", key.clone()))
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );

    // Bodies a cross-site form can send.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let req = test::TestRequest::post()
            .uri("/graphql")
            .insert_header(("content-type", content_type))
            .insert_header(("authorization", key.clone()))
            .set_payload(body.clone())
            .to_request();
        assert_eq!(
            test::call_service(&app, req).await.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
    }

    // A 2 MiB body.
    let req = test::TestRequest::post()
        .uri("/graphql")
        .insert_header(("authorization", key.clone()))
        .set_json(json!({ "query": CREATE_SPEAKER, "variables": { "pad": "x".repeat(2 << 20) } }))
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // A batch, with batching off (the default).
    let req = test::TestRequest::post()
        .uri("/graphql")
        .insert_header(("authorization", key.clone()))
        .set_json(json!([{ "query": CREATE_SPEAKER }, { "query": CREATE_SPEAKER }]))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let refusal: Value = test::read_body_json(resp).await;
    assert_eq!(code(&refusal), "BAD_USER_INPUT");
    assert!(
        refusal["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("batch")
    );

    // No CORS headers when no origin is configured: other sites cannot read answers.
    let req = test::TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/graphql")
        .insert_header(("origin", "https://evil.example"))
        .insert_header(("access-control-request-method", "POST"))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());

    assert_eq!(db.counts().await, before);
}

#[actix_web::test]
async fn batches_run_when_turned_on_and_stay_bounded() {
    let db = TestDb::new().await;
    let limits = Limits {
        max_batch: 2,
        ..Limits::default()
    };
    let app = app!(state_with(&db, limits, open_access()));
    let key = db.key(ApiRole::Editor).await;
    let create = "mutation($name: String!) { createSpeaker(input: {name: $name, kind: PERSON}) { speaker { id } } }";
    let send = |n: usize| {
        let batch = (0..n)
            .map(|i| json!({ "query": create, "variables": { "name": format!("Speaker {i}") } }))
            .collect();
        test::TestRequest::post()
            .uri("/graphql")
            .insert_header(("authorization", format!("Bearer {key}")))
            .set_json(Value::Array(batch))
            .to_request()
    };
    let resp = test::call_service(&app, send(3)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(db.count("speaker").await, 0);
    let body: Value = test::call_and_read_body_json(&app, send(2)).await;
    assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(db.count("speaker").await, 2);
}

#[actix_web::test]
async fn cors_answers_configured_origins_only() {
    let db = TestDb::new().await;
    let access = Access {
        cors_origins: vec!["https://desk.example".into()],
        ..open_access()
    };
    let app = app!(state_with(&db, Limits::default(), access));
    let preflight = |origin: &str| {
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/graphql")
            .insert_header(("origin", origin.to_owned()))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header((
                "access-control-request-headers",
                "content-type, authorization",
            ))
            .to_request()
    };
    let resp = test::call_service(&app, preflight("https://desk.example")).await;
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://desk.example")
    );
    let resp = test::call_service(&app, preflight("https://evil.example")).await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn rate_limits_refuse_with_429_retry_after_and_a_code() {
    let db = TestDb::new().await;
    let access = Access {
        rate_limit_per_ip: 2,
        rate_limit_per_key: 3,
        // Per minute, all of it at once: slow machines cannot refill a bucket
        // between two requests.
        rate_limit_burst_seconds: 60,
        ..Access::default()
    };
    let app = app!(state_with(&db, Limits::default(), access));
    let key = db.key(ApiRole::Editor).await;
    let create = "mutation($name: String!) { createSpeaker(input: {name: $name, kind: PERSON}) { speaker { id } } }";
    let mut n = 0;
    let mut send = |key: Option<&str>, ip: [u8; 4]| {
        n += 1;
        let name = format!("Speaker {n}");
        let mut req = test::TestRequest::post()
            .uri("/graphql")
            .peer_addr(std::net::SocketAddr::from((ip, 40_000)))
            .set_json(json!({ "query": create, "variables": { "name": name } }));
        if let Some(key) = key {
            req = req.insert_header(("authorization", format!("Bearer {key}")));
        }
        req.to_request()
    };
    // Per address, for requests without a key.
    for _ in 0..2 {
        let resp = test::call_service(&app, send(None, [10, 0, 0, 1])).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let resp = test::call_service(&app, send(None, [10, 0, 0, 1])).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!((1..=30).contains(&retry), "Retry-After {retry}");
    let body: Value = test::read_body_json(resp).await;
    assert_eq!(code(&body), "RATE_LIMITED");
    // Another address is not held back.
    assert_eq!(
        test::call_service(&app, send(None, [10, 0, 0, 2]))
            .await
            .status(),
        StatusCode::OK
    );
    // Per key, whatever the address.
    let writes_before = db.count("speaker").await;
    for i in 0..3u8 {
        let resp = test::call_service(&app, send(Some(&key), [10, 0, 1, i])).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let resp = test::call_service(&app, send(Some(&key), [10, 0, 1, 9])).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(
        db.count("speaker").await,
        writes_before + 3,
        "the limited write ran"
    );
}

#[actix_web::test]
async fn production_mode_hides_the_schema() {
    let db = TestDb::new().await;
    let dev = app!(state_with(&db, Limits::default(), open_access()));
    let prod = app!(state_with(
        &db,
        Limits::default(),
        Access {
            production: true,
            ..open_access()
        }
    ));
    let introspect = "{ __schema { queryType { name } } }";
    let (_, body) = post(&dev, None, introspect, json!({})).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let (_, body) = post(&prod, None, introspect, json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    assert!(!body.to_string().contains("Query"), "{body}");
    // Field suggestions ("did you mean") leak the schema too.
    let (_, body) = post(&dev, None, "{ speakr { id } }", json!({})).await;
    assert!(body.to_string().contains("Did you mean"), "{body}");
    let (_, body) = post(&prod, None, "{ speakr { id } }", json!({})).await;
    assert!(!body.to_string().contains("Did you mean"), "{body}");
    for path in ["/", "/schema.graphql"] {
        let req = test::TestRequest::get().uri(path).to_request();
        assert_eq!(
            test::call_service(&prod, req).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
        let req = test::TestRequest::get().uri(path).to_request();
        assert_eq!(
            test::call_service(&dev, req).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[actix_web::test]
async fn anonymous_reading_can_be_turned_off() {
    let db = TestDb::new().await;
    let app = app!(state_with(
        &db,
        Limits::default(),
        Access {
            no_anonymous_read: true,
            ..open_access()
        }
    ));
    let (_, body) = post(&app, None, "{ speakers { totalCount } }", json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
    let (_, body) = post(&app, None, "{ viewer { role } }", json!({})).await;
    assert_eq!(body["data"]["viewer"]["role"], "ANONYMOUS");
    let reader = db.key(ApiRole::Reader).await;
    let (_, body) = post(
        &app,
        Some(&reader),
        "{ speakers { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["speakers"]["totalCount"], 0, "{body}");
}

/// The command line makes the first admin key: printed once, stored as prefix and
/// hash, listed without its secret, and refused once revoked.
#[actix_web::test]
async fn the_command_line_creates_lists_and_revokes_keys() {
    let db = TestDb::new().await;
    let binary = tests::claimtrack_binary();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&binary)
            .args(args)
            .env("DATABASE_URL", db.url())
            .env("CLAIMTRACK_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let token = run(&["keys", "create", "--name", "First admin", "--role", "admin"]);
    let token = token.trim().to_owned();
    assert!(token.starts_with("ct_") && token.len() == 80, "{token}");
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let (_, body) = post(&app, Some(&token), "{ viewer { role keyName } }", json!({})).await;
    assert_eq!(
        body["data"]["viewer"],
        json!({ "role": "ADMIN", "keyName": "First admin" })
    );

    let list = run(&["keys", "list"]);
    let prefix = &token[3..15];
    assert!(
        list.contains(prefix) && list.contains("ADMIN") && list.contains("First admin"),
        "{list}"
    );
    assert!(!list.contains(&token[16..]), "the list shows the secret");

    run(&["keys", "revoke", prefix]);
    let list = run(&["keys", "list"]);
    let line = list.lines().find(|l| l.contains(prefix)).unwrap();
    assert!(line.contains("UTC"), "revocation time missing: {line}");
    // A service started now refuses it (a running one within the refresh interval).
    let app = app!(state_with(&db, Limits::default(), open_access()));
    let (status, _) = post(&app, Some(&token), "{ viewer { role } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
