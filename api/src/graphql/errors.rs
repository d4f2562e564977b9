//! Gives every GraphQL error a stable `extensions.code`. Resolvers return
//! [`ApiError`]s; [`annotate`] reads them back from each error's source, so a plain
//! `?` keeps the code. Errors from parsing and validation are the client's: they get
//! BAD_USER_INPUT.

use std::sync::Arc;

use async_graphql::{Response, ServerError};

use crate::error::ApiError;

/// Gives each error of a response its code.
pub fn annotate_all(response: &mut Response) {
    for error in &mut response.errors {
        annotate(error);
    }
}

/// Whether some error of a response says the database could not be reached (before
/// or after [`annotate_all`]): a read that met one may be run again elsewhere.
pub fn lost_database(response: &Response) -> bool {
    response.errors.iter().any(|error| {
        let source = error.source.as_deref();
        let api = source.and_then(|s| {
            s.downcast_ref::<ApiError>()
                .or_else(|| s.downcast_ref::<Arc<ApiError>>().map(Arc::as_ref))
        });
        api.is_some_and(|api| api.code() == "UNAVAILABLE")
            || error
                .extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from("UNAVAILABLE"))
    })
}

fn annotate(error: &mut ServerError) {
    // Hold the source by its own Arc so the error can be rewritten while it is read.
    let source = error.source.clone();
    let api = source.as_deref().and_then(|s| {
        s.downcast_ref::<ApiError>()
            .or_else(|| s.downcast_ref::<Arc<ApiError>>().map(Arc::as_ref))
    });
    match api {
        Some(api) => {
            api.annotate(error);
            if api.code() == "INTERNAL" {
                error.message = "internal error".into();
            }
        }
        // Any other failure from a resolver is ours, not the client's.
        None if source.is_some() => {
            tracing::error!(message = %error.message, path = ?error.path, "unclassified resolver error");
            error.message = "internal error".into();
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "INTERNAL");
        }
        // Parse, validation and input-coercion errors carry no source.
        None => {
            let ext = error.extensions.get_or_insert_with(Default::default);
            if ext.get("code").is_none() {
                ext.set("code", "BAD_USER_INPUT");
            }
        }
    }
}
