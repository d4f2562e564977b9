//! Read queries compiled to one SQL statement that builds the answer's JSON.
//!
//! The read pages clients ask for most (a speaker's or a claim's statements with their
//! speakers, stances, claims, appearances, articles, outlets and verdicts) cost
//! async-graphql a future per field and the database a round trip per relation. A
//! query whose every field lies in the part of the schema described in [`fields`] is
//! compiled instead into one statement (`json_build_object` and `json_agg` over
//! correlated subqueries) whose single value is the response body, passed on as it is.
//!
//! The resolvers stay the reference, and are never bypassed where they would answer
//! differently:
//! - a document is compiled only after the resolvers have run it once without an
//!   error, so it is known to be valid (validation depends on the document alone);
//! - anything outside the compiled part (another field, an argument, a directive, an
//!   abstract type, `asOf`) leaves the whole document to the resolvers;
//! - a value the resolvers would refuse (a malformed id or cursor, a page size out of
//!   range) sends that request to them, so the error is theirs;
//! - a required object the database no longer holds (a statement's deleted speaker,
//!   which the resolvers report as an error) marks the answer, and the request is run
//!   again by the resolvers.
//!
//! Scalars are written as the resolvers write them: ids as UUID strings, dates as
//! `YYYY-MM-DD`, instants as chrono's RFC 3339 (`+00:00`, fractions of 0, 3 or 6
//! digits), enums as their database spelling (which is the GraphQL one). Numbers are
//! PostgreSQL's shortest exact form, the same values as the resolvers' (`1` where they
//! write `1.0`). Drafts of verdicts show to the viewers who see them elsewhere.
//! `tests/compiled.rs` holds both executors to the same answers.

mod fields;
mod sql;

use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Request, Variables};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::auth::Viewer;

use sql::UNRESOLVED;

/// Documents remembered, compiled or not.
const PLANS: usize = 512;

/// The compiled documents, by query text and operation name.
pub struct Compiler {
    plans: Mutex<lru::LruCache<u64, Entry>>,
    hasher: std::collections::hash_map::RandomState,
}

/// What is known of one document.
struct Entry {
    query: String,
    operation: Option<String>,
    known: Known,
}

#[derive(Clone)]
enum Known {
    /// Compiled: requests for it run as one statement.
    Plan(Arc<Plan>),
    /// Outside the compiled part: the resolvers run it.
    Resolvers,
}

impl Default for Compiler {
    fn default() -> Self {
        Self {
            plans: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(PLANS).unwrap_or(NonZeroUsize::MIN),
            )),
            hasher: Default::default(),
        }
    }
}

/// Where a request goes.
pub enum Route {
    /// A compiled document: run its plan.
    Plan(Arc<Plan>),
    /// A document not seen yet: the resolvers run it, then [`Compiler::keep`].
    Learn(Learning),
    /// The resolvers.
    Resolvers,
}

/// A document being learnt.
pub struct Learning {
    key: u64,
    query: String,
    operation: Option<String>,
}

impl Compiler {
    /// Where `request` goes.
    pub fn route(&self, request: &Request) -> Route {
        let mut hasher = self.hasher.build_hasher();
        request.query.hash(&mut hasher);
        request.operation_name.hash(&mut hasher);
        let key = hasher.finish();
        let Ok(mut plans) = self.plans.lock() else {
            return Route::Resolvers;
        };
        match plans.get(&key) {
            Some(entry)
                if entry.query == request.query && entry.operation == request.operation_name =>
            {
                match &entry.known {
                    Known::Plan(plan) => Route::Plan(plan.clone()),
                    Known::Resolvers => Route::Resolvers,
                }
            }
            // Another document with the same hash keeps its place.
            Some(_) => Route::Resolvers,
            None => Route::Learn(Learning {
                key,
                query: request.query.clone(),
                operation: request.operation_name.clone(),
            }),
        }
    }

    /// The plan of a request's document, or `None` where the resolvers must run it.
    /// Kept by [`Compiler::keep`] once the resolvers have run the document without an
    /// error, and so found it valid.
    pub fn compile(request: &mut Request) -> Option<Plan> {
        let operation = request.operation_name.clone();
        let document = request.parsed_query().ok()?;
        Plan::compile(document, operation.as_deref())
    }

    /// Remembers what a document compiled to.
    pub fn keep(&self, learning: Learning, plan: Option<Plan>) {
        let known = match plan {
            Some(plan) => Known::Plan(Arc::new(plan)),
            None => Known::Resolvers,
        };
        if let Ok(mut plans) = self.plans.lock() {
            plans.put(
                learning.key,
                Entry {
                    query: learning.query,
                    operation: learning.operation,
                    known,
                },
            );
        }
    }
}

/// One compiled document: its selection, with the arguments still to be read from
/// each request's variables.
pub struct Plan {
    root: Vec<(String, fields::Root)>,
    defaults: fields::Defaults,
    /// The variables declared non-null.
    required: Vec<Name>,
}

impl Plan {
    fn compile(document: &ExecutableDocument, operation: Option<&str>) -> Option<Self> {
        let operation = match (&document.operations, operation) {
            (DocumentOperations::Single(op), _) => op,
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
            _ => return None,
        };
        let operation = &operation.node;
        if operation.ty != OperationType::Query || !operation.directives.is_empty() {
            return None;
        }
        let defaults: fields::Defaults = operation
            .variable_definitions
            .iter()
            .map(|d| {
                (
                    d.node.name.node.clone(),
                    d.node.default_value.as_ref().map(|v| v.node.clone()),
                )
            })
            .collect();
        let reader = fields::Reader {
            document,
            defaults: &defaults,
        };
        let root = reader.root(&operation.selection_set.node)?;
        let required = operation
            .variable_definitions
            .iter()
            .filter(|d| !d.node.var_type.node.nullable)
            .map(|d| d.node.name.node.clone())
            .collect();
        Some(Self {
            root,
            defaults,
            required,
        })
    }

    /// The statement answering one request with these variables, as the viewer sees
    /// it; `None` where the resolvers must answer (a value they would refuse).
    pub fn statement(&self, variables: &Variables, viewer: &Viewer) -> Option<Statement> {
        // A non-null variable given null, or missing without a default: the
        // resolvers' error.
        let missing = |name: &Name| match variables.get(name) {
            Some(value) => *value == async_graphql::Value::Null,
            None => !matches!(self.defaults.get(name), Some(Some(_))),
        };
        if self.required.iter().any(missing) {
            return None;
        }
        let mut out = sql::Sql::new(variables, &self.defaults, viewer.sees_unpublished());
        let body = out.root(&self.root)?;
        let text = format!("SELECT json_build_object('data', {body})::text");
        Some(Statement::from_sql_and_values(
            DbBackend::Postgres,
            text,
            out.into_values(),
        ))
    }

    /// Runs the plan: the response body, or `None` where the resolvers must answer.
    pub async fn run(
        &self,
        db: &DatabaseConnection,
        variables: &Variables,
        viewer: &Viewer,
    ) -> Result<Option<String>, sea_orm::DbErr> {
        let Some(statement) = self.statement(variables, viewer) else {
            return Ok(None);
        };
        let row = db.query_one_raw(statement).await?;
        let body: Option<String> = row.map(|r| r.try_get_by_index(0)).transpose()?;
        Ok(body.filter(|b| !b.contains(UNRESOLVED)))
    }
}

/// The response keys of a selection set with their fields, fragments spread, in the
/// order of first appearance; fields sharing a key are merged (their selections
/// joined), as GraphQL's field collection does. `None` where a directive, or a
/// fragment on another type, is found.
fn collect<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    type_name: &str,
    out: &mut Vec<(&'a Name, Vec<&'a async_graphql::parser::types::Field>)>,
) -> Option<()> {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                if !field.directives.is_empty() {
                    return None;
                }
                let key = field.alias.as_ref().map_or(&field.name.node, |a| &a.node);
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, fields)) => fields.push(field),
                    None => out.push((key, vec![field])),
                }
            }
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let fragment = &document
                    .fragments
                    .get(&spread.node.fragment_name.node)?
                    .node;
                if fragment.type_condition.node.on.node != type_name {
                    return None;
                }
                collect(document, &fragment.selection_set.node, type_name, out)?;
            }
            Selection::InlineFragment(inline) => {
                let inline = &inline.node;
                if !inline.directives.is_empty() {
                    return None;
                }
                if let Some(condition) = &inline.type_condition
                    && condition.node.on.node != type_name
                {
                    return None;
                }
                collect(document, &inline.selection_set.node, type_name, out)?;
            }
        }
    }
    Some(())
}
