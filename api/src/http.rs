//! The HTTP surface: GraphQL over POST (JSON only) and GET (queries only), GraphiQL,
//! the SDL, health and readiness. `configure` is shared by the server and the tests.

use std::time::Duration;

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::config::Limits;
use crate::graphql::AppSchema;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    pub limits: Limits,
}

/// Mounts the routes on an actix app.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let max_body = state.limits.max_body_bytes;
        cfg.app_data(web::Data::new(state))
            .app_data(web::PayloadConfig::new(max_body))
            .route("/graphql", web::post().to(graphql_post))
            .route("/graphql", web::get().to(graphql_get))
            .route("/", web::get().to(graphiql))
            .route("/schema.graphql", web::get().to(sdl))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics));
    }
}

async fn graphql_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return error_response(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "POST /graphql accepts application/json bodies only",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                actix_web::http::StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    execute(&state, request).await
}

async fn graphql_get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let request = match async_graphql::http::parse_query_string(req.query_string()) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                actix_web::http::StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &e.to_string(),
            );
        }
    };
    // Mutations change state: never over GET, where a link or an image could trigger one.
    if let Ok(doc) = async_graphql::parser::parse_query(&request.query) {
        let mutates = doc.operations.iter().any(|(name, op)| {
            op.node.ty != OperationType::Query
                && (request.operation_name.is_none()
                    || name.map(|n| n.as_str()) == request.operation_name.as_deref())
        });
        if mutates {
            return HttpResponse::MethodNotAllowed()
                .insert_header((header::ALLOW, "POST"))
                .json(error_body(
                    "BAD_USER_INPUT",
                    "mutations and subscriptions are not allowed over GET; use POST",
                ));
        }
    }
    execute(&state, request).await
}

async fn execute(state: &AppState, request: async_graphql::Request) -> HttpResponse {
    let timeout = Duration::from_millis(state.limits.request_timeout_ms);
    match tokio::time::timeout(timeout, state.schema.execute(request)).await {
        Ok(response) => HttpResponse::Ok().json(response),
        Err(_) => error_response(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "INTERNAL",
            "the request took longer than the configured limit",
        ),
    }
}

fn error_body(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

fn error_response(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(error_body(code, message))
}

async fn graphiql() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::html()).body(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("ClaimTrack")
            .finish(),
    )
}

async fn sdl(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(state.schema.sdl())
}

/// The process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Prometheus metrics (see [`crate::metrics`]).
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(crate::metrics::metrics().render(&state.db))
}

/// The service can answer queries: its database answers within a second.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = tokio::time::timeout(
        Duration::from_secs(1),
        state.db.execute_unprepared("SELECT 1"),
    )
    .await;
    match ping {
        Ok(Ok(_)) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        _ => HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .json(serde_json::json!({ "status": "database unavailable" })),
    }
}
