//! Writing a compiled selection as SQL for one request: its arguments read from the
//! request's variables and bound as parameters, so the text depends only on the
//! document, on which optional arguments are given, and on the viewer's role.

use async_graphql::{InputType, Variables};
use async_graphql_value::{ConstValue, Value};
use sea_orm::Value as SqlValue;
use uuid::Uuid;

use super::fields::{ConnNode, Defaults, EdgeField, List, Node, Of, Page, PageField, Root, Sel};
use std::collections::HashMap;

use crate::auth::Viewer;
use crate::graphql::pagination::{
    KeyKind, ListQuery, Listed, PageArgs, Window, decode_key, forward_limit, listed, window,
};
use crate::graphql::statement::{self, StatementFilter, StatementOrder};
use crate::graphql::timeline::{CURSOR as TIMELINE_CURSOR, TimelineFilter};
use crate::graphql::{self};
use crate::service::Record;
use crate::service::model::{self, Format};
use crate::service::sql::Params;
use crate::service::statement::filter::Owner;
use crate::service::timeline::{self, EventKey};

/// The key of the object written where a non-null object is gone (the resolvers answer
/// with an error there).
const UNRESOLVED_KEY: &str = "claimtrack.unresolved";

/// The object as it shows in an answer. No string value can hold it: a string's quotes
/// inside it are escaped, and no string ends before a key (aliases hold no dot).
pub const UNRESOLVED: &str = "{\"claimtrack.unresolved\" : true}";

/// One statement being written.
pub(crate) struct Sql<'a> {
    variables: &'a Variables,
    defaults: &'a Defaults,
    viewer: &'a Viewer,
    sees_unpublished: bool,
    params: Params,
    aliases: usize,
}

impl<'a> Sql<'a> {
    pub(crate) fn new(
        variables: &'a Variables,
        defaults: &'a Defaults,
        viewer: &'a Viewer,
    ) -> Self {
        Self {
            variables,
            defaults,
            viewer,
            sees_unpublished: viewer.sees_unpublished(),
            params: Params::new(),
            aliases: 0,
        }
    }

    pub(crate) fn into_values(self) -> Vec<SqlValue> {
        self.params.into_values()
    }

    /// The root object; `None` where the resolvers must answer.
    pub(crate) fn root(&mut self, root: &[(String, Root)]) -> Option<String> {
        let mut pairs = Vec::with_capacity(root.len());
        for (key, field) in root {
            let value = match field {
                Root::Typename => "'Query'".to_owned(),
                Root::Record { ty, id, slug, sel } => {
                    let id = self.arg(id.as_ref());
                    let slug = self.arg(slug.as_ref());
                    let condition = match (id, slug) {
                        (ConstValue::String(id), ConstValue::Null) => {
                            format!("id = {}::uuid", self.bind(Uuid::parse_str(&id).ok()?))
                        }
                        (ConstValue::Null, ConstValue::String(slug)) => {
                            format!("slug = {}::text", self.bind(slug))
                        }
                        _ => return None,
                    };
                    let t = self.alias();
                    let object = self.object(&t, sel)?;
                    live_one(&object, ty.table(), &t, &condition)
                }
                Root::Statements(page) => self.page(page, "")?,
                Root::Timeline { args, sel } => self.timeline(args, sel)?,
                Root::List { list, args, sel } => self.list(*list, args, sel)?,
                Root::Positions {
                    speaker,
                    claim,
                    sel,
                } => {
                    let speaker = self.id(speaker)?;
                    let claim = self.id(claim)?;
                    // An unknown speaker or claim is the resolvers' error.
                    let known = format!(
                        "EXISTS (SELECT 1 FROM speaker WHERE id = {speaker} AND deleted_at IS NULL) \
                         AND EXISTS (SELECT 1 FROM claim WHERE id = {claim} AND deleted_at IS NULL)"
                    );
                    self.positions(&speaker, &claim, &known, sel)?
                }
            };
            pairs.push((key.as_str(), value));
        }
        Some(build_object(&pairs))
    }

    /// An object over the row aliased `t`.
    fn object(&mut self, t: &str, sel: &Sel) -> Option<String> {
        let mut pairs = Vec::with_capacity(sel.len());
        for (key, node) in sel {
            let value = match node {
                Node::Typename(name) => format!("'{name}'"),
                Node::Value(sql, Format::Json) => sql.replace("{t}", t),
                Node::Value(sql, Format::Instant) => rfc3339(&sql.replace("{t}", t)),
                Node::One {
                    ty: target,
                    key,
                    required,
                    sel,
                } => {
                    let c = self.alias();
                    let object = self.object(&c, sel)?;
                    let one = live_one(&object, target.table(), &c, &format!("id = {t}.{key}"));
                    if *required {
                        format!(
                            "coalesce({one}, json_build_object({}, true))",
                            quote(UNRESOLVED_KEY)
                        )
                    } else {
                        one
                    }
                }
                Node::Many { relation, sel } => {
                    let c = self.alias();
                    let object = self.object(&c, sel)?;
                    format!(
                        "(SELECT coalesce(json_agg({object} ORDER BY {order}), '[]'::json) \
                         FROM {table} {c} WHERE {c}.{parent} = {t}.id AND {condition})",
                        order = relation.order_sql(&c),
                        table = relation.table,
                        parent = relation.parent,
                        condition = relation.condition(&c, self.sees_unpublished),
                    )
                }
                Node::Statements(page) => self.page(page, t)?,
                Node::Within { condition, sel } => {
                    let object = self.object(t, sel)?;
                    format!(
                        "CASE WHEN {} THEN {object} END",
                        condition.replace("{t}", t)
                    )
                }
                Node::Derived { select, sel } => {
                    let c = self.alias();
                    let object = self.object(&c, sel)?;
                    format!(
                        "(SELECT {object} FROM (SELECT {}) {c})",
                        select.replace("{t}", t)
                    )
                }
                Node::Positions {
                    claim_id,
                    claim_slug,
                    sel,
                } => {
                    // The claim as the resolvers look it up: live, by id or by slug.
                    let claim = match (self.arg(claim_id.as_ref()), self.arg(claim_slug.as_ref())) {
                        (ConstValue::String(id), ConstValue::Null) => format!(
                            "(SELECT id FROM claim WHERE id = {}::uuid AND deleted_at IS NULL)",
                            self.bind(Uuid::parse_str(&id).ok()?)
                        ),
                        (ConstValue::Null, ConstValue::String(slug)) => format!(
                            "(SELECT id FROM claim WHERE slug = {}::text AND deleted_at IS NULL)",
                            self.bind(slug)
                        ),
                        _ => return None,
                    };
                    let known = format!("{claim} IS NOT NULL");
                    self.positions(&format!("{t}.id"), &claim, &known, sel)?
                }
            };
            pairs.push((key.as_str(), value));
        }
        Some(build_object(&pairs))
    }

    /// A position history as a list of `Position`, in position order: the positions of
    /// the speaker and claim (SQL expressions of their ids), or, where there are none
    /// and `known` does not hold, the mark of an unresolved object (the resolvers'
    /// NOT_FOUND).
    fn positions(&mut self, speaker: &str, claim: &str, known: &str, sel: &Sel) -> Option<String> {
        let p = self.alias();
        let object = self.object(&p, sel)?;
        Some(format!(
            "(SELECT CASE WHEN count(*) = 0 AND NOT ({known}) THEN json_build_object({}, true) \
             ELSE coalesce(json_agg({object} ORDER BY {order}), '[]'::json) END \
             FROM {positions} {p} WHERE {p}.speaker_id = {speaker} AND {p}.claim_id = {claim})",
            quote(UNRESOLVED_KEY),
            order = model::POSITION_ORDER.replace("{p}", &p),
            positions = model::POSITIONS,
        ))
    }

    /// An id argument as a bound `uuid`; `None` where it is not one.
    fn id(&mut self, value: &Value) -> Option<String> {
        match self.arg(Some(value)) {
            ConstValue::String(id) => {
                Some(format!("{}::uuid", self.bind(Uuid::parse_str(&id).ok()?)))
            }
            _ => None,
        }
    }

    /// A page of statements as `StatementConnection`, in the list's order; `parent` is
    /// the alias of the speaker or claim row whose statements these are. The rows are
    /// those of the resolvers' query (`StatementFilter::read`, `statement::filtered`,
    /// `statement::ordering`, paged by `pagination`): a value they refuse leaves the
    /// request to them.
    fn page(&mut self, page: &Page, parent: &str) -> Option<String> {
        let arg = |name: &str| page.args.get(name);
        let mut filter = match self.arg(arg("filter")) {
            ConstValue::Null => StatementFilter::default(),
            value => StatementFilter::parse(Some(value)).ok()?,
        };
        // A speaker's or a claim's list replaces the filter's speakers or claims.
        let owner = match page.of {
            Of::Speaker => {
                filter.speaker_ids = None;
                Some(Owner::Speaker(format!("{parent}.id")))
            }
            Of::Claim => {
                filter.claim_ids = None;
                Some(Owner::Claim(format!("{parent}.id")))
            }
            Of::List => None,
        };
        let filter = filter.read().ok()?;
        let order = match self.arg(arg("orderBy")) {
            ConstValue::Null => StatementOrder::default(),
            value => StatementOrder::parse(Some(value)).ok()?,
        };
        let window = self.window(&page.args)?;
        let select = statement::filtered_within(&filter, owner);
        let listed = listed(select, &statement::ordering(order), &window).ok()?;
        self.listed(&listed, &window, &page.sel)
    }

    /// A page of a root list of records, its rows those of its resolver's own query
    /// (`list_query`) as `pagination` pages them.
    fn list(
        &mut self,
        list: List,
        args: &HashMap<&'static str, Value>,
        sel: &[(String, ConnNode)],
    ) -> Option<String> {
        let window = self.window(args)?;
        let filter = self.arg(args.get("filter"));
        let viewer = self.viewer;
        let listed = match list {
            List::Speakers => listed_of(graphql::speaker::list_query, filter, viewer, &window),
            List::Claims => listed_of(graphql::claim::list_query, filter, viewer, &window),
            List::Verdicts => listed_of(graphql::verdict::list_query, filter, viewer, &window),
            List::Articles => listed_of(graphql::article::list_query, filter, viewer, &window),
            List::Topics => listed_of(graphql::topic::list_query, filter, viewer, &window),
            List::Outlets => listed_of(graphql::outlet::list_query, filter, viewer, &window),
        }?;
        self.listed(&listed, &window, sel)
    }

    /// The window of a list's `first`, `after`, `last` and `before`, as the resolvers
    /// read it.
    fn window(&self, args: &HashMap<&'static str, Value>) -> Option<Window> {
        window(&PageArgs::new(
            size(self.arg(args.get("first")))?,
            text(self.arg(args.get("after")))?,
            size(self.arg(args.get("last")))?,
            text(self.arg(args.get("before")))?,
        ))
        .ok()
    }

    /// A list's page as its connection: the rows `listed` reads, written into the
    /// statement, numbered in the order read.
    fn listed(
        &mut self,
        listed: &Listed,
        window: &Window,
        sel: &[(String, ConnNode)],
    ) -> Option<String> {
        let limit = format!(
            "{}::bigint",
            self.params.bind(i64::try_from(window.limit).ok()?)
        );
        let rows = self.params.query(&listed.rows);
        let (r, p) = (self.alias(), self.alias());
        let direction = if listed.descending { "DESC" } else { "ASC" };
        let order = match &listed.key {
            Some((column, _)) => format!("{r}.{column} {direction}, {r}.id {direction}"),
            None => format!("{r}.id {direction}"),
        };
        // A backward page is shown in the reverse of the order read.
        let (first_shown, last_shown) = if window.backward {
            (format!("{p}.n DESC"), format!("{p}.n"))
        } else {
            (format!("{p}.n"), format!("{p}.n DESC"))
        };
        let key = listed
            .key
            .as_ref()
            .map(|(column, kind)| (column.as_str(), *kind));
        let shown = Shown {
            p: p.clone(),
            cursor: cursor_sql(&p, &listed.tag, key),
            limit,
            first_shown,
            last_shown,
            has_pages: [false, true].map(|more| window.has_pages(more)),
        };
        let all = &listed.all;
        let total =
            |sql: &mut Self| format!("(SELECT count(*) FROM ({}) c)", sql.params.query(all));
        let object = self.connection(sel, &shown, total)?;
        // HAVING makes one group of the page's rows, so an empty page is still an answer.
        Some(format!(
            "(SELECT {object} FROM (SELECT {r}.*, row_number() OVER (ORDER BY {order}) AS n \
             FROM ({rows}) {r}) {p} HAVING true)"
        ))
    }

    /// A page of a timeline as `TimelineEventConnection`, its arguments read as the
    /// resolvers read them (`TimelineFilter::read`, `pagination::forward_limit`,
    /// `pagination::decode_key`); the events are `service::timeline`'s.
    fn timeline(
        &mut self,
        args: &HashMap<&'static str, Value>,
        sel: &[(String, ConnNode)],
    ) -> Option<String> {
        let filter = match self.arg(args.get("filter")) {
            ConstValue::Null => return None,
            value => TimelineFilter::parse(Some(value)).ok()?.read().ok()?,
        };
        let limit = forward_limit(size(self.arg(args.get("first")))?).ok()?;
        let after: Option<EventKey> = match text(self.arg(args.get("after")))? {
            Some(cursor) => Some(decode_key("after", TIMELINE_CURSOR, &cursor).ok()?),
            None => None,
        };
        let fetch = u64::try_from(limit + 1).ok()?;
        let events = timeline::events_sql(&filter, after.as_ref(), Some(fetch), &mut self.params);
        let limit = format!("{}::bigint", self.params.bind(i64::try_from(limit).ok()?));
        let p = self.alias();
        let shown = Shown {
            p: p.clone(),
            cursor: timeline_cursor_sql(&p),
            limit: limit.clone(),
            first_shown: format!("{p}.n"),
            last_shown: format!("{p}.n DESC"),
            has_pages: [false, true].map(|more| (after.is_some(), more)),
        };
        let total = |sql: &mut Self| format!("({})", timeline::count_sql(&filter, &mut sql.params));
        let object = self.connection(sel, &shown, total)?;
        Some(format!(
            "(SELECT {object} FROM (SELECT e.*, row_number() OVER (ORDER BY e.at, e.rank, e.id, e.sub) AS n \
             FROM ({events}) e) {p} HAVING true)"
        ))
    }

    /// A connection's object over the page's rows (`shown.p`, numbered `n` in the order
    /// read, one more than shown where more follow), `total` writing its `totalCount`.
    fn connection(
        &mut self,
        sel: &[(String, ConnNode)],
        shown: &Shown,
        total: impl Fn(&mut Self) -> String,
    ) -> Option<String> {
        let Shown {
            p,
            cursor,
            limit,
            first_shown,
            last_shown,
            has_pages,
        } = shown;
        let shown = format!("{p}.n <= {limit}");
        // A flag of the page as SQL: known from the window, or whether more rows were
        // read than shown.
        let flag = |of: fn((bool, bool)) -> bool| match (of(has_pages[0]), of(has_pages[1])) {
            (false, true) => format!("count(*) > {limit}"),
            (known, _) => known.to_string(),
        };
        let has_previous = flag(|(previous, _)| previous);
        let has_next = flag(|(_, next)| next);
        let mut pairs = Vec::with_capacity(sel.len());
        for (key, node) in sel {
            let value = match node {
                ConnNode::Typename(name) => quote(name),
                ConnNode::TotalCount => total(self),
                ConnNode::PageInfo(fields) => {
                    let fields: Vec<(&str, String)> = fields
                        .iter()
                        .map(|(key, field)| {
                            let value = match field {
                                PageField::Typename => "'PageInfo'".to_owned(),
                                PageField::HasPreviousPage => has_previous.clone(),
                                PageField::HasNextPage => has_next.clone(),
                                PageField::StartCursor => format!(
                                    "(array_agg({cursor} ORDER BY {first_shown}) FILTER (WHERE {shown}))[1]"
                                ),
                                PageField::EndCursor => format!(
                                    "(array_agg({cursor} ORDER BY {last_shown}) FILTER (WHERE {shown}))[1]"
                                ),
                            };
                            (key.as_str(), value)
                        })
                        .collect();
                    build_object(&fields)
                }
                ConnNode::Edges(fields) => {
                    let mut edge = Vec::with_capacity(fields.len());
                    for (key, field) in fields {
                        let value = match field {
                            EdgeField::Typename(name) => quote(name),
                            EdgeField::Cursor => cursor.clone(),
                            EdgeField::Node(sel) => self.object(p, sel)?,
                        };
                        edge.push((key.as_str(), value));
                    }
                    aggregate(&build_object(&edge), first_shown, &shown)
                }
                ConnNode::Nodes(sel) => {
                    let node = self.object(p, sel)?;
                    aggregate(&node, first_shown, &shown)
                }
            };
            pairs.push((key.as_str(), value));
        }
        Some(build_object(&pairs))
    }

    /// An argument's value for this request: variables read (their defaults where the
    /// request gives none), absent as null.
    fn arg(&self, value: Option<&Value>) -> ConstValue {
        let Some(value) = value else {
            return ConstValue::Null;
        };
        value
            .clone()
            .into_const_with(|name| {
                Ok::<_, std::convert::Infallible>(
                    self.variables
                        .get(&name)
                        .cloned()
                        .or_else(|| self.defaults.get(&name).cloned().flatten())
                        .unwrap_or(ConstValue::Null),
                )
            })
            .unwrap_or(ConstValue::Null)
    }

    fn bind(&mut self, value: impl Into<SqlValue>) -> String {
        self.params.bind(value)
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("t{}", self.aliases)
    }
}

/// `object` over the live row of `table` (aliased `alias`) meeting `condition` (on
/// that row's columns), or null when there is none.
fn live_one(object: &str, table: &str, alias: &str, condition: &str) -> String {
    format!(
        "(SELECT {object} FROM {table} {alias} WHERE {alias}.{condition} \
         AND {alias}.deleted_at IS NULL)"
    )
}

/// `json_build_object` of the keys and SQL values.
fn build_object(pairs: &[(&str, String)]) -> String {
    let mut out = String::from("json_build_object(");
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&quote(key));
        out.push_str(", ");
        out.push_str(value);
    }
    out.push(')');
    out
}

/// What a page shows of the rows it read: the rows' alias, their cursor, the page
/// size, the orders of the rows shown first and last, and `hasPreviousPage` and
/// `hasNextPage` as they are when no more rows were read than shown and when more were.
struct Shown {
    p: String,
    cursor: String,
    limit: String,
    first_shown: String,
    last_shown: String,
    has_pages: [(bool, bool); 2],
}

/// The page's shown rows of `value`, in `order`, as a JSON array.
fn aggregate(value: &str, order: &str, shown: &str) -> String {
    format!("coalesce(json_agg({value} ORDER BY {order}) FILTER (WHERE {shown}), '[]'::json)")
}

/// A page size argument: absent, or an `Int`.
fn size(value: ConstValue) -> Option<Option<i32>> {
    match value {
        ConstValue::Null => Some(None),
        ConstValue::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()).map(Some),
        _ => None,
    }
}

/// A cursor argument: absent, or a `String`.
fn text(value: ConstValue) -> Option<Option<String>> {
    match value {
        ConstValue::Null => Some(None),
        ConstValue::String(s) => Some(Some(s)),
        _ => None,
    }
}

/// A SQL string literal.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// An instant as chrono's `to_rfc3339` writes it: UTC as `+00:00` after the time as
/// [`naive`] writes it.
fn rfc3339(expr: &str) -> String {
    format!(
        "{} || '+00:00'",
        naive(&format!("({expr} AT TIME ZONE 'UTC')"))
    )
}

/// A date and time without a zone (`timestamp`) as chrono writes one: a fraction of no
/// digits, 3 or 6, as the value needs. (The colons are quoted text of the format, so
/// that pgbench, replaying the statement, does not read `:MI` as a variable.)
fn naive(expr: &str) -> String {
    let us = format!("to_char({expr}, 'US')");
    format!(
        "to_char({expr}, 'YYYY-MM-DD\"T\"HH24\":\"MI\":\"SS') || \
         CASE WHEN {us} = '000000' THEN '' WHEN right({us}, 3) = '000' THEN '.' || left({us}, 3) \
         ELSE '.' || {us} END"
    )
}

/// A row's cursor in the ordering `tag`, by its sort column and id (by id alone
/// without one), as `pagination::Cursor::encode` writes it: its JSON in URL-safe base64
/// without padding. A text key is JSON-escaped by PostgreSQL as by serde.
fn cursor_sql(p: &str, tag: &str, key: Option<(&str, KeyKind)>) -> String {
    let key = match key {
        Some((column, KeyKind::Date)) => {
            format!(",\"k\":{{\"Date\":\"' || to_char({p}.{column}, 'YYYY-MM-DD') || '\"}}")
        }
        Some((column, KeyKind::Text)) => {
            format!(",\"k\":{{\"Text\":' || to_json({p}.{column})::text || '}}")
        }
        None => String::new(),
    };
    format!(
        "rtrim(translate(encode(convert_to('{{\"o\":\"{tag}\"{key},\"i\":\"' || {p}.id || '\"}}', 'UTF8'), \
         'base64'), E'+/\\n', '-_'), '=')"
    )
}

/// The page of a list whose resolver's query is `query`, for `filter` (a value of its
/// filter's input type, or null) as `viewer` sees it; `None` where the resolvers
/// refuse the filter or the window.
fn listed_of<E: Record, F: InputType>(
    query: fn(Option<F>, &Viewer) -> ListQuery<E>,
    filter: ConstValue,
    viewer: &Viewer,
    window: &Window,
) -> Option<Listed> {
    let filter = match filter {
        ConstValue::Null => None,
        value => Some(F::parse(Some(value)).ok()?),
    };
    let (select, ordering) = query(filter, viewer).ok()?;
    listed(select, &ordering, window).ok()
}

/// A timeline event's cursor, as `pagination::encode_key` writes its key
/// (`service::timeline::EventKey`, its instant as chrono writes a naive date and time):
/// the JSON of `["timeline", key]` in URL-safe base64 without padding.
fn timeline_cursor_sql(p: &str) -> String {
    let at = naive(&format!("{p}.at"));
    format!(
        "rtrim(translate(encode(convert_to('[\"{TIMELINE_CURSOR}\",{{\"at\":\"' || {at} || \
         '\",\"rank\":' || {p}.rank || ',\"id\":\"' || {p}.id || '\",\"sub\":\"' || {p}.sub || '\"}}]', \
         'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"
    )
}
