//! Relay cursor connections over keyset pagination. A cursor is the row's sort key
//! and id, opaque to clients; a page fetches one row more than it shows to learn
//! whether another page follows. Never OFFSET.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Object, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Statement, Value,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::Record;

/// Page size when the client names none.
pub const DEFAULT_PAGE: usize = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE: usize = 100;

/// A connection with a lazily counted `totalCount`.
pub type Conn<N> = Connection<String, N, TotalCount, EmptyFields>;

/// The Relay arguments of one connection field.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }
}

/// A sort key value inside a cursor, tagged with its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SortValue {
    Date(NaiveDate),
    Time(DateTime<Utc>),
    Text(String),
}

impl From<SortValue> for Value {
    fn from(v: SortValue) -> Self {
        match v {
            SortValue::Date(d) => d.into(),
            SortValue::Time(t) => t.into(),
            SortValue::Text(s) => s.into(),
        }
    }
}

/// The position of one row in one ordering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Which ordering of which list the position belongs to.
    #[serde(rename = "o")]
    pub ordering: String,
    #[serde(rename = "k", skip_serializing_if = "Option::is_none", default)]
    pub key: Option<SortValue>,
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(field: &str, s: &str) -> ApiResult<Self> {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| ApiError::bad_input(field, "is not a cursor this service gave out"))
    }
}

/// How a list is ordered: an optional sort column (NOT NULL in the table), then id,
/// both in one direction.
pub struct Ordering<E: Record> {
    pub column: Option<E::Column>,
    pub key_of: fn(&E::Model) -> Option<SortValue>,
    pub descending: bool,
}

impl<E: Record> Ordering<E> {
    /// Names this ordering inside cursors, so a cursor of another list or ordering
    /// is refused rather than compared with the wrong column.
    pub(crate) fn tag(&self) -> String {
        use sea_orm::Iden;
        match self.column {
            Some(col) => format!("{}.{}", E::NAME, col.to_string()),
            None => format!("{}.id", E::NAME),
        }
    }

    /// Creation order (uuid v7 ids are time-ordered).
    pub fn by_id(descending: bool) -> Self {
        Self {
            column: None,
            key_of: |_| None,
            descending,
        }
    }
}

/// The page's limit, direction and bound, checked against the caps.
pub(crate) struct Window {
    pub limit: usize,
    /// `last`: read from the end of the range and flip the page back.
    pub backward: bool,
    /// The cursor, and whether rows come after it (`after`) or before it (`before`).
    pub bound: Option<(Cursor, Side)>,
}

impl Window {
    /// `hasPreviousPage` and `hasNextPage`, given whether `more` rows were fetched
    /// than the page shows: rows lie beyond the page where more were fetched than
    /// shown, and beyond any cursor (the cursor's own row at least).
    pub(crate) fn has_pages(&self, more: bool) -> (bool, bool) {
        let after_cursor = matches!(self.bound, Some((_, Side::After)));
        let before_cursor = matches!(self.bound, Some((_, Side::Before)));
        if self.backward {
            (more || after_cursor, before_cursor)
        } else {
            (after_cursor, more || before_cursor)
        }
    }

    /// Whether rows after the bound come later in `ordering` (greater values when it
    /// ascends).
    pub(crate) fn greater<E: Record>(&self, ordering: &Ordering<E>) -> bool {
        let after = matches!(self.bound, Some((_, Side::After)));
        after != ordering.descending
    }

    /// Whether the rows are read in descending order (a backward page reads the
    /// ordering reversed, then flips the page back).
    pub(crate) fn reads_descending<E: Record>(&self, ordering: &Ordering<E>) -> bool {
        ordering.descending != self.backward
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    After,
    Before,
}

impl Side {
    pub(crate) fn field(self) -> &'static str {
        match self {
            Side::After => "after",
            Side::Before => "before",
        }
    }
}

pub(crate) fn window(args: &PageArgs) -> ApiResult<Window> {
    let size = |field: &str, n: i32| -> ApiResult<usize> {
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_PAGE)
            .ok_or_else(|| ApiError::bad_input(field, format!("must be between 0 and {MAX_PAGE}")))
    };
    if args.first.is_some() && args.last.is_some() {
        return Err(ApiError::bad_input(
            "last",
            "give `first` or `last`, not both",
        ));
    }
    if args.after.is_some() && args.before.is_some() {
        return Err(ApiError::bad_input(
            "before",
            "give `after` or `before`, not both",
        ));
    }
    // `before` alone pages backward, like `last`.
    let backward = args.last.is_some() || (args.before.is_some() && args.first.is_none());
    let limit = match (args.first, args.last) {
        (Some(n), _) => size("first", n)?,
        (_, Some(n)) => size("last", n)?,
        _ => DEFAULT_PAGE,
    };
    let bound = match (&args.after, &args.before) {
        (Some(a), _) => Some((Cursor::decode("after", a)?, Side::After)),
        (_, Some(b)) => Some((Cursor::decode("before", b)?, Side::Before)),
        _ => None,
    };
    Ok(Window {
        limit,
        backward,
        bound,
    })
}

/// The rows of `select` a page in `ordering` reads: those beyond the window's cursor,
/// in the order read (reversed for a backward page), one more than the page shows.
pub(crate) fn windowed<E: Record>(
    select: Select<E>,
    ordering: &Ordering<E>,
    window: &Window,
) -> ApiResult<Select<E>> {
    let mut query = select;
    if let Some((cursor, side)) = &window.bound {
        if cursor.ordering != ordering.tag() {
            return Err(ApiError::bad_input(
                side.field(),
                "is a cursor of another list or ordering",
            ));
        }
        let id = Expr::col((E::default(), E::id_col()));
        let (lhs, rhs) = match (ordering.column, cursor.key.clone()) {
            (Some(col), Some(key)) => (
                Expr::tuple([Expr::col((E::default(), col)), id]),
                Expr::tuple([Expr::val(Value::from(key)), Expr::val(cursor.id)]),
            ),
            (None, None) => (id, Expr::val(cursor.id)),
            _ => {
                return Err(ApiError::bad_input(
                    side.field(),
                    "is a cursor of another list or ordering",
                ));
            }
        };
        query = query.filter(if window.greater(ordering) {
            lhs.gt(rhs)
        } else {
            lhs.lt(rhs)
        });
    }
    let order = if window.reads_descending(ordering) {
        Order::Desc
    } else {
        Order::Asc
    };
    if let Some(col) = ordering.column {
        query = query.order_by(col, order.clone());
    }
    Ok(query
        .order_by(E::id_col(), order)
        .limit(u64::try_from(window.limit + 1).unwrap_or(u64::MAX)))
}

/// A list's rows and their order, as a list's `list_query` gives them.
pub type ListQuery<E> = ApiResult<(Select<E>, Ordering<E>)>;

/// The sort key of an ordering, as a cursor holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Date,
    Text,
}

/// A page of a list as the compiled reads write it: the rows it reads and the rows
/// it counts, as statements, and what its cursors are made of.
pub(crate) struct Listed {
    /// The rows read ([`windowed`]).
    pub rows: sea_orm::sea_query::SelectStatement,
    /// Every row of the list, for `totalCount`.
    pub all: sea_orm::sea_query::SelectStatement,
    /// The ordering's tag in cursors.
    pub tag: String,
    /// The sort column, by name, with its kind; `None` when the list is in id order.
    pub key: Option<(String, KeyKind)>,
    /// Whether the rows are read in descending order.
    pub descending: bool,
}

/// [`Listed`] for one page of `select` in `ordering`.
pub(crate) fn listed<E: Record>(
    select: Select<E>,
    ordering: &Ordering<E>,
    window: &Window,
) -> ApiResult<Listed> {
    use sea_orm::{ColumnTrait, ColumnType, Iden};
    let key = match ordering.column {
        None => None,
        Some(col) => {
            let kind = match col.def().get_column_type() {
                ColumnType::Date => KeyKind::Date,
                ColumnType::String(_) | ColumnType::Text => KeyKind::Text,
                other => {
                    return Err(ApiError::Internal(format!(
                        "no cursor key of type {other:?}"
                    )));
                }
            };
            Some((col.to_string(), kind))
        }
    };
    Ok(Listed {
        all: select.clone().into_query(),
        rows: windowed(select, ordering, window)?.into_query(),
        tag: ordering.tag(),
        key,
        descending: window.reads_descending(ordering),
    })
}

/// Runs one page of `select` in `ordering` and wraps it as a connection of `N`.
pub async fn page<E, N, C>(
    db: &C,
    select: Select<E>,
    ordering: &Ordering<E>,
    args: &PageArgs,
) -> ApiResult<Conn<N>>
where
    E: Record,
    N: OutputType + From<E::Model>,
    C: ConnectionTrait,
{
    let window = window(args)?;
    let total = TotalCount::of(db, &select);
    let query = windowed(select, ordering, &window)?;
    let fetched = query.all(db).await?;
    let more = fetched.len() > window.limit;
    let mut rows: Vec<E::Model> = fetched.into_iter().take(window.limit).collect();
    if window.backward {
        rows.reverse();
    }
    let (has_previous, has_next) = window.has_pages(more);
    let mut connection = Connection::with_additional_fields(has_previous, has_next, total);
    connection.edges.extend(rows.into_iter().map(|row| {
        let cursor = Cursor {
            ordering: ordering.tag(),
            key: (ordering.key_of)(&row),
            id: E::id_of(&row),
        };
        Edge::new(cursor.encode(), N::from(row))
    }));
    Ok(connection)
}

/// `totalCount`, counted only when the client asks for it (or already known).
pub struct TotalCount {
    count: Count,
}

enum Count {
    Query(Statement),
    Known(i64),
}

impl TotalCount {
    /// Counts with a statement of the caller's (`SELECT COUNT(*) …`).
    pub fn from_statement(count: Statement) -> Self {
        Self {
            count: Count::Query(count),
        }
    }

    /// A count already known (a list rebuilt in memory).
    pub fn known(n: usize) -> Self {
        Self {
            count: Count::Known(i64::try_from(n).unwrap_or(i64::MAX)),
        }
    }

    fn of<E: EntityTrait, C: ConnectionTrait>(db: &C, select: &Select<E>) -> Self {
        let inner = select.clone().into_query();
        let query = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(inner, Alias::new("page"))
            .to_owned();
        Self {
            count: Count::Query(db.get_database_backend().build(&query)),
        }
    }
}

#[Object]
impl TotalCount {
    /// How many items the whole list holds, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let count = match &self.count {
            Count::Known(n) => return Ok(*n),
            Count::Query(count) => count.clone(),
        };
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let row = db.query_one_raw(count).await.map_err(ApiError::from)?;
        Ok(row
            .map(|r| r.try_get_by_index::<i64>(0))
            .transpose()
            .map_err(ApiError::from)?
            .unwrap_or(0))
    }
}

/// An opaque cursor over a key of a list that is not a plain table (merged
/// timelines, computed changes); `tag` names the list so cursors do not cross lists.
pub fn encode_key<T: Serialize>(tag: &str, key: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(tag, key)).unwrap_or_default())
}

/// Reads a cursor made by [`encode_key`] for the list `tag`.
pub fn decode_key<T: serde::de::DeserializeOwned>(
    field: &str,
    tag: &str,
    cursor: &str,
) -> ApiResult<T> {
    let bad = || ApiError::bad_input(field, "is not a cursor of this list");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let (found, key): (String, T) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if found != tag {
        return Err(bad());
    }
    Ok(key)
}

/// A forward page from rows fetched with `LIMIT limit + 1` after the cursor (if any):
/// trims the extra row, which only says that another page follows, and makes each
/// edge's cursor from its row's key.
pub fn forward_connection<R, K: Serialize, N: OutputType>(
    tag: &str,
    mut rows: Vec<R>,
    limit: usize,
    after_given: bool,
    total: TotalCount,
    key: impl Fn(&R) -> K,
    node: impl Fn(R) -> N,
) -> Conn<N> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let mut connection = Connection::with_additional_fields(after_given, more, total);
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(encode_key(tag, &key(&row)), node(row))),
    );
    connection
}

/// The size of a forward-only page (`first`), checked against the caps.
pub fn forward_limit(first: Option<i32>) -> ApiResult<usize> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_PAGE)
            .ok_or_else(|| {
                ApiError::bad_input("first", format!("must be between 0 and {MAX_PAGE}"))
            }),
    }
}

/// Filters a select to ids in `ids` when a filter lists any.
pub fn in_ids<E: EntityTrait>(
    select: Select<E>,
    column: E::Column,
    ids: Option<&[Uuid]>,
) -> Select<E> {
    match ids {
        Some(ids) => select.filter(column.is_in(ids.iter().copied())),
        None => select,
    }
}
