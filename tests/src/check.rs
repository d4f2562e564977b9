//! Checks on what the API answered and what it wrote: a refusal that names its field
//! and writes nothing, an error's code, the revisions of a record, ids.

use entity::revision;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use crate::TestDb;

/// Asserts that a request fails with `code` naming `field`, and that it wrote nothing;
/// the error.
pub async fn assert_refused(
    db: &TestDb,
    query: &str,
    variables: Value,
    code: &str,
    field: &str,
) -> Value {
    let before = db.counts().await;
    let error = db.err(query, variables).await;
    assert_eq!(error["extensions"]["code"], code, "{error:#}");
    assert_eq!(error["extensions"]["field"], field, "{error:#}");
    assert_eq!(
        db.counts().await,
        before,
        "a refused request wrote something"
    );
    error
}

/// The `extensions.code` of the first error of a GraphQL response body, or "".
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

/// The revisions of the record `id`, oldest first.
pub async fn revisions(db: &TestDb, id: &str) -> Vec<revision::Model> {
    let id = uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("{id} is not a uuid: {e}"));
    revision::Entity::find()
        .filter(revision::Column::EntityId.eq(id))
        .order_by_asc(revision::Column::Version)
        .all(db.db())
        .await
        .expect("read the revisions")
}

/// The `id` of a record read from an answer.
pub fn id_of(record: &Value) -> String {
    record["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {record}"))
        .to_owned()
}

/// `v`, sorted.
pub fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}
