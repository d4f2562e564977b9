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
//!   error, so it is known to be valid (what validation checks of each request's
//!   variable values, the statement's writer checks again: a value of another type
//!   leaves that request to the resolvers);
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
//! Batches stay with the resolvers. `tests/tests/compiled.rs` holds both executors to
//! the same answers.

mod fields;
mod sql;

use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{
    ExecutableDocument, Field, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Request, Variables};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::db::reads::Choice;

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

enum Known {
    /// Compiled: requests for it run as one statement.
    Plan(Arc<Plan>),
    /// Outside the compiled part, for this reason: the resolvers run it.
    Resolvers(Arc<str>),
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
    Plan(u64, Arc<Plan>),
    /// A document not seen yet (or not yet run without an error): the resolvers run
    /// it (and so validate it), then [`Compiler::learn`].
    Learn(u64),
    /// The resolvers: for the reason given where the document is known to lie
    /// outside the compiled part.
    Resolvers(Option<Arc<str>>),
}

/// A document being learnt.
pub struct Learning {
    key: u64,
    query: String,
    operation: Option<String>,
    document: ExecutableDocument,
}

impl Learning {
    /// The request's document (parsed by the policy already), to be compiled once the
    /// resolvers have run it.
    pub fn new(key: u64, request: &mut Request) -> Option<Self> {
        let (query, operation) = (request.query.clone(), request.operation_name.clone());
        let document = request.parsed_query().ok()?.clone();
        Some(Self {
            key,
            query,
            operation,
            document,
        })
    }
}

impl Compiler {
    /// Where `request` goes, by its text alone (before it is parsed).
    pub fn route(&self, request: &Request) -> Route {
        let mut hasher = self.hasher.build_hasher();
        request.query.hash(&mut hasher);
        request.operation_name.hash(&mut hasher);
        let key = hasher.finish();
        let Ok(mut plans) = self.plans.lock() else {
            return Route::Resolvers(None);
        };
        match plans.get(&key) {
            Some(entry)
                if entry.query == request.query && entry.operation == request.operation_name =>
            {
                match &entry.known {
                    Known::Plan(plan) => Route::Plan(key, plan.clone()),
                    Known::Resolvers(reason) => Route::Resolvers(Some(reason.clone())),
                }
            }
            // Another document with the same hash keeps its place.
            Some(_) => Route::Resolvers(None),
            None => Route::Learn(key),
        }
    }

    /// Compiles a document the resolvers have just run without an error, and so found
    /// valid (compiling an invalid one could loop on its fragments), or remembers that
    /// it cannot be compiled.
    pub fn learn(&self, learning: Learning) {
        let Learning {
            key,
            query,
            operation,
            document,
        } = learning;
        let known = match Plan::compile(document, operation.as_deref()) {
            Ok(plan) => Known::Plan(Arc::new(plan)),
            Err(reason) => Known::Resolvers(reason.into()),
        };
        if let Ok(mut plans) = self.plans.lock() {
            plans.put(
                key,
                Entry {
                    query,
                    operation,
                    known,
                },
            );
        }
    }

    /// Leaves a compiled document to the resolvers from now on, when its statement
    /// failed of itself (a statement timeout would otherwise be paid on every request
    /// before them). A lost connection, a full server or a shutdown says nothing of
    /// the statement, and demotes nothing.
    pub fn demote(&self, key: u64, error: &sea_orm::DbErr) {
        if !of_the_statement(error) {
            return;
        }
        if let Ok(mut plans) = self.plans.lock()
            && let Some(entry) = plans.get_mut(&key)
        {
            entry.known = Known::Resolvers("the statement failed".into());
        }
    }
}

/// Whether a failure came from the statement itself: an error PostgreSQL reported for
/// it, other than a lost connection (class 08), a lack of resources (53) or an
/// operator's intervention (57P, but a statement timeout, 57014, counts).
fn of_the_statement(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx};
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = error
    else {
        return false;
    };
    let sqlx::Error::Database(db) = e.as_ref() else {
        return false;
    };
    let code = db.code().unwrap_or_default();
    !(code.starts_with("08") || code.starts_with("53") || code.starts_with("57P"))
}

/// Why `{ __typename }` alone is left to the resolvers (the metrics' `reason`).
pub(crate) const TYPENAME_ALONE: &str = "__typename alone (nothing to read)";

/// One compiled document: its selection, with the arguments still to be read from
/// each request's variables.
pub struct Plan {
    /// The document, for the policy's checks of each request (it is not parsed again).
    document: ExecutableDocument,
    /// The operation's name, as metrics label it.
    operation: String,
    root: Vec<(String, fields::Root)>,
    defaults: fields::Defaults,
    /// The variables declared non-null.
    required: Vec<Name>,
}

impl Plan {
    /// The plan of a document, or why it lies outside the compiled part.
    fn compile(document: ExecutableDocument, operation: Option<&str>) -> Result<Self, String> {
        let (label, operation) = crate::graphql::chosen_operation(&document, operation)
            .ok_or_else(|| "no operation".to_owned())?;
        let operation = &operation.node;
        match operation.ty {
            OperationType::Query => {}
            OperationType::Mutation => return Err("mutation".to_owned()),
            OperationType::Subscription => return Err("subscription".to_owned()),
        }
        if !operation.directives.is_empty() {
            return Err("an operation's directive".to_owned());
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
        let reader = fields::Reader::new(&document, &defaults);
        let root = reader.root(&operation.selection_set.node);
        let root = root.ok_or_else(|| {
            reader
                .outside
                .take()
                .unwrap_or_else(|| "a value outside the compiled part".to_owned())
        })?;
        // Nothing to read: the resolvers answer without a database round trip (a
        // client's or a load balancer's liveness query).
        if root
            .iter()
            .all(|(_, r)| matches!(r, fields::Root::Typename))
        {
            return Err(TYPENAME_ALONE.to_owned());
        }
        let required = operation
            .variable_definitions
            .iter()
            .filter(|d| !d.node.var_type.node.nullable)
            .map(|d| d.node.name.node.clone())
            .collect();
        Ok(Self {
            document,
            operation: label,
            root,
            defaults,
            required,
        })
    }

    /// The document compiled.
    pub fn document(&self) -> &ExecutableDocument {
        &self.document
    }

    /// The operation's name as metrics label it (`anonymous` when unnamed).
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The statement answering one request with these variables, as the viewer sees
    /// it; `None` where the resolvers must answer (a value they would refuse).
    fn statement(&self, variables: &Variables, viewer: &Viewer) -> Option<Statement> {
        // A non-null variable given null, or missing without a default: the
        // resolvers' error.
        let missing = |name: &Name| match variables.get(name) {
            Some(value) => *value == async_graphql::Value::Null,
            None => !matches!(self.defaults.get(name), Some(Some(_))),
        };
        if self.required.iter().any(missing) {
            return None;
        }
        let mut out = sql::Sql::new(variables, &self.defaults, viewer);
        let body = out.root(&self.root)?;
        let text = format!("SELECT json_build_object('data', {body})::text");
        Some(Statement::from_sql_and_values(
            DbBackend::Postgres,
            text,
            out.into_values(),
        ))
    }

    /// Runs the plan: the response body, or `None` where the resolvers must answer.
    /// The statement goes on the chosen server's pipelined connections where there are
    /// some, else (or where they do not answer) on a pooled one.
    pub async fn run(
        &self,
        on: &Choice,
        variables: &Variables,
        viewer: &Viewer,
    ) -> Result<Option<String>, sea_orm::DbErr> {
        let Some(statement) = self.statement(variables, viewer) else {
            return Ok(None);
        };
        let pipelined = match &on.pipeline {
            Some(pipeline) => pipeline.text(&statement).await,
            None => None,
        };
        let body = match pipelined {
            Some(body) => body,
            None => {
                let row = on.db.query_one_raw(statement).await?;
                row.map(|r| r.try_get_by_index(0)).transpose()?
            }
        };
        Ok(body.filter(|b| !b.contains(UNRESOLVED)))
    }
}

/// Most fragments spread inside one another, and most fields visited, in one
/// selection set's collection (validation has refused cycles before any document is
/// compiled; these bound the work all the same).
const MAX_SPREAD_DEPTH: usize = 16;
const MAX_VISITS: usize = 4096;

/// Fields by response key, as collected.
pub(crate) type Collected<'a> = Vec<(&'a Name, Vec<&'a Field>)>;

/// The response keys of a selection set with their fields, fragments spread, in the
/// order of first appearance; fields sharing a key are merged (their selections
/// joined), as GraphQL's field collection does. `None` where a directive, a fragment
/// on another type, or fields under one key with different names or arguments (which
/// the resolvers answer each with their own) are found.
fn collect<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    type_name: &str,
    out: &mut Collected<'a>,
) -> Option<()> {
    let mut visits = 0;
    spread(document, set, type_name, 0, &mut visits, out)
}

fn spread<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    type_name: &str,
    depth: usize,
    visits: &mut usize,
    out: &mut Collected<'a>,
) -> Option<()> {
    if depth > MAX_SPREAD_DEPTH {
        return None;
    }
    for item in &set.items {
        *visits += 1;
        if *visits > MAX_VISITS {
            return None;
        }
        let (inner, condition) = match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                if !field.directives.is_empty() {
                    return None;
                }
                let key = field.alias.as_ref().map_or(&field.name.node, |a| &a.node);
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, fields)) if same_field(fields[0], field) => fields.push(field),
                    Some(_) => return None,
                    None => out.push((key, vec![field])),
                }
                continue;
            }
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let fragment = &document
                    .fragments
                    .get(&spread.node.fragment_name.node)?
                    .node;
                (&fragment.selection_set.node, Some(&fragment.type_condition))
            }
            Selection::InlineFragment(inline) => {
                if !inline.node.directives.is_empty() {
                    return None;
                }
                (
                    &inline.node.selection_set.node,
                    inline.node.type_condition.as_ref(),
                )
            }
        };
        if condition.is_some_and(|c| c.node.on.node != type_name) {
            return None;
        }
        spread(document, inner, type_name, depth + 1, visits, out)?;
    }
    Some(())
}

/// Two fields under one response key ask the same thing: the same field with the same
/// arguments.
fn same_field(a: &Field, b: &Field) -> bool {
    a.name.node == b.name.node
        && a.arguments.len() == b.arguments.len()
        && a.arguments.iter().all(|(name, value)| {
            b.arguments
                .iter()
                .any(|(other, v)| other.node == name.node && v.node == value.node)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "query P($id: ID!) { speaker(id: $id) { name statements { totalCount } } }";

    fn learnt(compiler: &Compiler, query: &str) -> u64 {
        let mut request = Request::new(query);
        let Route::Learn(key) = compiler.route(&request) else {
            panic!("a new document is learnt");
        };
        compiler.learn(Learning::new(key, &mut request).unwrap());
        key
    }

    #[test]
    fn a_learnt_document_routes_to_its_plan_whatever_the_connection_does() {
        let compiler = Compiler::default();
        let key = learnt(&compiler, PAGE);
        let Route::Plan(planned, plan) = compiler.route(&Request::new(PAGE)) else {
            panic!("a learnt document in the compiled part has a plan");
        };
        assert_eq!(planned, key);
        assert_eq!(plan.operation(), "P");
        // A failure that says nothing of the statement keeps the plan (a statement's
        // own failure demotes it: tests/tests/compiled.rs).
        let lost = sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        compiler.demote(key, &lost);
        assert!(matches!(
            compiler.route(&Request::new(PAGE)),
            Route::Plan(..)
        ));
    }

    #[test]
    fn documents_outside_the_compiled_part_stay_with_the_resolvers() {
        let compiler = Compiler::default();
        for (query, why) in [
            (
                "{ speaker(slug: \"x\") { statedTime: name topics { name } } }",
                "Speaker.topics",
            ),
            (
                "mutation { deleteSpeaker(input: { id: \"x\", version: 1 }) { version } }",
                "mutation",
            ),
            (
                "{ speaker(slug: \"x\") { name @skip(if: true) } }",
                "Speaker: a directive, another type's fragment or one key for two fields",
            ),
            (
                "{ statements(asOf: \"2020-01-01T00:00:00Z\") { totalCount } }",
                "Query.statements(asOf)",
            ),
        ] {
            learnt(&compiler, query);
            let Route::Resolvers(Some(reason)) = compiler.route(&Request::new(query)) else {
                panic!("{query} is compiled");
            };
            assert_eq!(&*reason, why, "{query}");
        }
    }

    #[test]
    fn another_operation_of_the_same_text_is_another_document() {
        let compiler = Compiler::default();
        learnt(&compiler, PAGE);
        let other = Request::new(PAGE).operation_name("Other");
        assert!(matches!(compiler.route(&other), Route::Learn(_)));
    }
}
