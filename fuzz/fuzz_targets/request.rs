//! Request decoding and validation, from raw bytes to the schema's answer, with no
//! database behind it: the transport rules (content type, JSON, batches, GET query
//! strings), API key parsing, the policy and document limits, GraphQL parsing and
//! validation, and the input validators. Nothing here may panic; every refusal must be
//! an error value.
//!
//! A third of the inputs are not sent as they are but shaped into what breaks
//! executors: values, lists, selections and directive arguments nested thousands deep,
//! fields repeated under one key, fragments spread in chains and in doubles. The
//! first bytes choose the shape and its size; the rest is spliced in.

#![no_main]

use std::sync::OnceLock;

use async_graphql::BatchRequest;
use claimtrack::auth::secret::PresentedKey;
use claimtrack::auth::{Role, Viewer};
use claimtrack::config::Limits;
use claimtrack::graphql::{AppSchema, shape};
use claimtrack::http::{decode_get, decode_post};
use claimtrack::service::validate;
use libfuzzer_sys::fuzz_target;

fn schema() -> &'static AppSchema {
    static SCHEMA: OnceLock<AppSchema> = OnceLock::new();
    // A lazy pool aimed at a closed loopback port: resolvers that reach the database
    // fail with an error at once, as they would with the database down.
    SCHEMA.get_or_init(|| {
        let mut options = sea_orm::ConnectOptions::new("postgres://fuzz@127.0.0.1:1/fuzz");
        options
            .connect_lazy(true)
            .acquire_timeout(std::time::Duration::from_millis(50))
            .connect_timeout(std::time::Duration::from_millis(50))
            .sqlx_logging(false);
        let db = runtime()
            .block_on(sea_orm::Database::connect(options))
            .unwrap_or_else(|e| panic!("lazy pool: {e}"));
        claimtrack::graphql::build_schema(db, &Limits::default())
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"))
    })
}

/// A document of the shape `shape` selects, `size` deep or wide, with `inner` inside.
fn shaped(shape: u8, size: usize, inner: &str) -> String {
    let inner: String = inner.chars().filter(|c| !matches!(c, '"' | '\\')).take(64).collect();
    match shape % 8 {
        0 => format!("{{ nosuch(x: {}\"{inner}\"{}) }}", "{a:".repeat(size), "}".repeat(size)),
        1 => format!("{{ nosuch(x: {}1{}) }}", "[".repeat(size), "]".repeat(size)),
        2 => format!("{{ {}id{} }}", "speaker { ".repeat(size), " }".repeat(size)),
        3 => format!("{{ viewer @include(if: {}true{}) {{ role }} }}", "{a:".repeat(size), "}".repeat(size)),
        4 => format!("{{ {} }}", format!("speaker(slug: \"{inner}\") {{ name }} ").repeat(size)),
        5 => {
            let mut q = String::from("{ ...F0 }");
            for i in 0..size.min(64) {
                q.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ... on Query {{ ...F{n} }} }}", n = i + 1));
            }
            q.push_str(&format!(" fragment F{} on Query {{ viewer {{ role }} search(query: \"{inner}\") {{ totalCount }} }}", size.min(64)));
            q
        }
        6 => format!(
            "query({}) {{ {} }}",
            (0..size.min(40)).map(|i| format!("$v{i}: Boolean!")).collect::<Vec<_>>().join(" "),
            (0..size.min(40)).map(|i| format!("viewer @skip(if: $v{i}) {{ role }}")).collect::<String>()
        ),
        _ => format!("{{ claim(slug: \"{inner}\") {{ slug }} {} }}", "__typename ".repeat(size)),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);

    // The document checks see every input as a document, and shaped ones.
    let _ = shape::text::scan(&text, shape::MAX_NESTING);
    if selector % 3 == 0 && rest.len() >= 2 {
        let size = usize::from(rest[1]) * 16 + usize::from(rest[0] & 0x0f);
        let document = shaped(rest[0] >> 4, size, &String::from_utf8_lossy(&rest[2..]));
        let viewer = Viewer { role: Role::Editor, key: None };
        let request = async_graphql::Request::new(document).data(viewer);
        let response = runtime().block_on(schema().execute(request));
        for error in &response.errors {
            let code = error.extensions.as_ref().and_then(|e| e.get("code"));
            assert!(code.is_some(), "an error without a code: {error:?}");
        }
        return;
    }

    // Keys and validators see every input.
    let _ = PresentedKey::parse(&text);
    let _ = validate::normalize_url("url", &text);
    let _ = validate::slug("slug", &text);
    let _ = validate::text("text", &text, 200);
    let _ = validate::language("language", &text);
    let _ = validate::time_of_day("time", &text);

    let role = match selector % 4 {
        0 => Role::Anonymous,
        1 => Role::Reader,
        2 => Role::Editor,
        _ => Role::Admin,
    };
    let viewer = Viewer { role, key: None };
    let requests = if selector & 0x80 == 0 {
        let content_type = if selector & 0x40 == 0 { "application/json" } else { "text/plain" };
        match decode_post(Some(content_type), rest, 3) {
            Ok(BatchRequest::Single(r)) => vec![r],
            Ok(BatchRequest::Batch(rs)) => rs,
            Err(_) => return,
        }
    } else {
        match decode_get(&text, shape::MAX_NESTING) {
            Ok(r) => vec![r],
            Err(_) => return,
        }
    };
    for request in requests {
        let response = runtime().block_on(schema().execute(request.data(viewer.clone())));
        // Every error the client sees carries a code.
        for error in &response.errors {
            let code = error.extensions.as_ref().and_then(|e| e.get("code"));
            assert!(code.is_some(), "an error without a code: {error:?}");
        }
    }
});
