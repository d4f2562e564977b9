//! The API's one error type. Every failure a client can see maps to a stable
//! `extensions.code`; database and other internal failures are logged with their
//! context and reach the client as a bare `INTERNAL`.

use sea_orm::DbErr;
use sea_orm::sqlx;

/// Result of service and resolver code.
pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The record does not exist, or is deleted, or the caller may not see it.
    #[error("{entity} not found")]
    NotFound {
        entity: &'static str,
        field: Option<String>,
    },
    /// The input is invalid; `field` names the offending input field (a JSON path
    /// such as `input.text` or `input.stances[1].claimId`).
    #[error("{message}")]
    BadInput { field: String, message: String },
    /// The record changed since the client read it (stale `version`), or the change
    /// would break a uniqueness rule another writer got to first.
    #[error("{message}")]
    Conflict {
        message: String,
        field: Option<String>,
    },
    #[error("authentication required")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    /// The database cannot be reached or is going away (a lost connection, a server
    /// shutting down or starting up, no connection free in time): a retry later may
    /// succeed. Over HTTP a request that got only this is answered 503 with
    /// `Retry-After`.
    #[error("the database is unavailable; retry shortly")]
    Unavailable(#[source] DbErr),
    #[error("database error")]
    Database(#[source] DbErr),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(entity: &'static str) -> Self {
        Self::NotFound {
            entity,
            field: None,
        }
    }

    /// An id given in the input that names nothing (a speaker that does not exist, say).
    pub fn unknown_reference(entity: &'static str, field: impl Into<String>) -> Self {
        Self::NotFound {
            entity,
            field: Some(field.into()),
        }
    }

    pub fn stale_version(entity: &'static str, current: i32) -> Self {
        Self::Conflict {
            message: format!(
                "{entity} was changed by someone else (now at version {current}); read it again"
            ),
            field: Some("version".into()),
        }
    }

    /// Stable machine-readable code for `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NOT_FOUND",
            Self::BadInput { .. } => "BAD_USER_INPUT",
            Self::Conflict { .. } => "CONFLICT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Database(_) | Self::Internal(_) => "INTERNAL",
        }
    }
}

impl From<DbErr> for ApiError {
    /// Constraint violations the service layer did not catch first (a race with
    /// another writer, usually) become client errors naming the field; anything
    /// else stays internal.
    fn from(err: DbErr) -> Self {
        if unavailable(&err) {
            return Self::Unavailable(err);
        }
        let db = match &err {
            DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
            | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => match e.as_ref() {
                sqlx::Error::Database(db) => Some(db),
                _ => None,
            },
            _ => None,
        };
        let Some(db) = db else {
            return Self::Database(err);
        };
        let constraint = db.constraint().unwrap_or_default();
        // Constraints guard what the mutation's input set; blame that input field,
        // as the service's own checks do.
        let field = match field_of_constraint(db.table().unwrap_or_default(), constraint) {
            column if column == "input" => column,
            column => format!("input.{column}"),
        };
        match db.code().as_deref() {
            Some("23505") => Self::BadInput {
                message: "this value is already used by another record".into(),
                field,
            },
            Some("23503") => Self::BadInput {
                message: "refers to a record that does not exist".into(),
                field,
            },
            // Check violations: input the service's own validation let through. Data
            // exceptions (22xxx) stay internal: validated input never causes them.
            Some("23514") => Self::BadInput {
                message: "this value is not valid".into(),
                field,
            },
            _ => Self::Database(err),
        }
    }
}

impl From<std::sync::Arc<ApiError>> for ApiError {
    /// Batch-loader failures arrive shared; they were database errors.
    fn from(err: std::sync::Arc<ApiError>) -> Self {
        match err.as_ref() {
            Self::NotFound { entity, field } => Self::NotFound {
                entity,
                field: field.clone(),
            },
            Self::Unavailable(e) => Self::Unavailable(DbErr::Custom(e.to_string())),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Whether a failure says the database cannot be reached now rather than anything of
/// the statement: no pooled connection in time, a connection that broke, or
/// PostgreSQL refusing (class 08, connection exceptions; 57P01–57P03, shutting down,
/// crashed, starting up), or a replica cancelling a read in conflict with recovery
/// (40001, 57P04).
pub fn unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_unavailable(e),
        DbErr::Conn(_) => true,
        _ => false,
    }
}

/// [`unavailable`], for a failure straight from sqlx.
pub fn sqlx_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        // 40001 without serializable transactions (none here) and 57P04: a replica
        // cancelled the statement to replay the primary's changes.
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08")
                || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "57P04" | "40001")
        }),
        _ => false,
    }
}

/// Guesses the input field from a PostgreSQL constraint name such as
/// `speaker_slug_key` or `statement_text_check`.
fn field_of_constraint(table: &str, constraint: &str) -> String {
    let rest = constraint
        .strip_prefix(table)
        .and_then(|r| r.strip_prefix('_'))
        .unwrap_or(constraint);
    let column = ["_key", "_fkey", "_check", "_idx"]
        .iter()
        .find_map(|suffix| rest.strip_suffix(suffix))
        .unwrap_or(rest);
    if column.is_empty() || column.starts_with("check") {
        "input".into()
    } else {
        to_camel(column)
    }
}

fn to_camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl ApiError {
    /// Writes this error's `code` (and `field`) into a GraphQL error's extensions,
    /// logging internal failures here, the one place they leave the service.
    pub fn annotate(&self, error: &mut async_graphql::ServerError) {
        if let Self::Database(e) = self {
            tracing::error!(error = %e, path = ?error.path, "database error");
        } else if let Self::Unavailable(e) = self {
            tracing::warn!(error = %e, path = ?error.path, "database unavailable");
        } else if let Self::Internal(e) = self {
            tracing::error!(error = %e, path = ?error.path, "internal error");
        }
        let ext = error.extensions.get_or_insert_with(Default::default);
        ext.set("code", self.code());
        match self {
            Self::BadInput { field, .. } => ext.set("field", field.as_str()),
            Self::NotFound {
                field: Some(field), ..
            }
            | Self::Conflict {
                field: Some(field), ..
            } => ext.set("field", field.as_str()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_map_to_camel_case_fields() {
        assert_eq!(field_of_constraint("speaker", "speaker_slug_key"), "slug");
        assert_eq!(
            field_of_constraint("speaker", "speaker_wikidata_id_key"),
            "wikidataId"
        );
        assert_eq!(
            field_of_constraint("statement", "statement_speaker_id_fkey"),
            "speakerId"
        );
        assert_eq!(
            field_of_constraint("statement", "statement_check1"),
            "input"
        );
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(
            ApiError::bad_input("input.text", "empty").code(),
            "BAD_USER_INPUT"
        );
        assert_eq!(ApiError::stale_version("speaker", 3).code(), "CONFLICT");
        assert_eq!(ApiError::Internal("x".into()).code(), "INTERNAL");
    }
}
