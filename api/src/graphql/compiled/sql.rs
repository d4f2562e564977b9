//! Writing a compiled selection as SQL for one request: its arguments read from the
//! request's variables and bound as parameters, so the text depends only on the
//! document, on which optional arguments are given, and on the viewer's role.

use async_graphql::Variables;
use async_graphql_value::{ConstValue, Value};
use sea_orm::Value as SqlValue;
use uuid::Uuid;

use super::fields::{
    ConnNode, Defaults, EdgeField, Format, Node, Of, Page, PageField, Root, Scope, Sel,
};
use crate::graphql::pagination::{Cursor, DEFAULT_PAGE, MAX_PAGE, SortValue};

/// The key of the object written where a non-null object is gone (the resolvers answer
/// with an error there).
const UNRESOLVED_KEY: &str = "claimtrack.unresolved";

/// The object as it shows in an answer. No string value can hold it: a string's quotes
/// inside it are escaped, and no string ends before a key (aliases hold no dot).
pub const UNRESOLVED: &str = "{\"claimtrack.unresolved\" : true}";

/// The ordering tag of statement cursors (`pagination::Ordering::tag`), oldest first.
const STATEMENT_ORDER: &str = "statement.stated_on";

/// One statement being written.
pub(crate) struct Sql<'a> {
    variables: &'a Variables,
    defaults: &'a Defaults,
    sees_unpublished: bool,
    values: Vec<SqlValue>,
    aliases: usize,
}

impl<'a> Sql<'a> {
    pub(crate) fn new(
        variables: &'a Variables,
        defaults: &'a Defaults,
        sees_unpublished: bool,
    ) -> Self {
        Self {
            variables,
            defaults,
            sees_unpublished,
            values: Vec::new(),
            aliases: 0,
        }
    }

    pub(crate) fn into_values(self) -> Vec<SqlValue> {
        self.values
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
                Node::Many {
                    ty: target,
                    fk,
                    scope,
                    order,
                    sel,
                } => {
                    let c = self.alias();
                    let object = self.object(&c, sel)?;
                    let scope = match scope {
                        Scope::All => String::new(),
                        Scope::Live => format!(" AND {c}.deleted_at IS NULL"),
                        Scope::Verdicts if self.sees_unpublished => {
                            format!(" AND {c}.deleted_at IS NULL")
                        }
                        Scope::Verdicts => {
                            format!(" AND {c}.deleted_at IS NULL AND {c}.status = 'PUBLISHED'")
                        }
                    };
                    format!(
                        "(SELECT coalesce(json_agg({object} ORDER BY {order}), '[]'::json) \
                         FROM {table} {c} WHERE {c}.{fk} = {t}.id{scope})",
                        order = order.replace("{c}", &c),
                        table = target.table()
                    )
                }
                Node::Statements(page) => self.page(page, t)?,
            };
            pairs.push((key.as_str(), value));
        }
        Some(build_object(&pairs))
    }

    /// A page of statements, oldest first, as `StatementConnection`; `parent` is the
    /// alias of the speaker or claim row whose statements these are.
    fn page(&mut self, page: &Page, parent: &str) -> Option<String> {
        let first = match self.arg(page.first.as_ref()) {
            ConstValue::Null => DEFAULT_PAGE,
            ConstValue::Number(n) => n
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n <= MAX_PAGE)?,
            _ => return None,
        };
        let first = format!("{}::bigint", self.bind(i64::try_from(first).ok()?));
        let after = match self.arg(page.after.as_ref()) {
            ConstValue::Null => None,
            ConstValue::String(cursor) => {
                let cursor = Cursor::decode("after", &cursor).ok()?;
                match (cursor.ordering.as_str(), cursor.key) {
                    (STATEMENT_ORDER, Some(SortValue::Date(day))) => Some((day, cursor.id)),
                    _ => return None,
                }
            }
            _ => return None,
        };
        // Whose statements: a condition on a statement row aliased `{s}`. A claim's
        // are looked up by id from its stances: as a semi-join, the generic plan the
        // service's connections use walks every statement in date order to find them.
        let whose = match &page.of {
            Of::Speaker => format!("{{s}}.speaker_id = {parent}.id"),
            Of::Claim => format!(
                "{{s}}.id = ANY(ARRAY(SELECT x.statement_id FROM stance x \
                 WHERE x.claim_id = {parent}.id))"
            ),
            Of::Filter {
                speaker_ids,
                claim_ids,
            } => {
                let mut conditions = Vec::new();
                if let Some(ids) = self.ids(speaker_ids.as_ref())? {
                    conditions.push(format!(
                        "{{s}}.speaker_id = ANY({}::uuid[])",
                        self.bind(ids)
                    ));
                }
                if let Some(ids) = self.ids(claim_ids.as_ref())? {
                    conditions.push(format!(
                        "{{s}}.id = ANY(ARRAY(SELECT x.statement_id FROM stance x \
                         WHERE x.claim_id = ANY({}::uuid[])))",
                        self.bind(ids)
                    ));
                }
                if conditions.is_empty() {
                    "true".to_owned()
                } else {
                    conditions.join(" AND ")
                }
            }
        };
        let (s, counted, p) = (self.alias(), self.alias(), self.alias());
        let bound = match after {
            Some((day, id)) => format!(
                " AND ({s}.stated_on, {s}.id) > ({}::date, {}::uuid)",
                self.bind(day),
                self.bind(id)
            ),
            None => String::new(),
        };
        let cursor = cursor_sql(&p);
        let shown = format!("{p}.n <= {first}");
        let mut pairs = Vec::with_capacity(page.sel.len());
        for (key, node) in &page.sel {
            let value = match node {
                ConnNode::Typename => "'StatementConnection'".to_owned(),
                ConnNode::TotalCount => format!(
                    "(SELECT count(*) FROM statement {counted} \
                     WHERE {counted}.deleted_at IS NULL AND {})",
                    whose.replace("{s}", &counted)
                ),
                ConnNode::PageInfo(fields) => {
                    let fields: Vec<(&str, String)> = fields
                        .iter()
                        .map(|(key, field)| {
                            let value = match field {
                                PageField::Typename => "'PageInfo'".to_owned(),
                                PageField::HasPreviousPage => after.is_some().to_string(),
                                PageField::HasNextPage => format!("count(*) > {first}"),
                                PageField::StartCursor => format!(
                                    "(array_agg({cursor} ORDER BY {p}.n) FILTER (WHERE {shown}))[1]"
                                ),
                                PageField::EndCursor => format!(
                                    "(array_agg({cursor} ORDER BY {p}.n DESC) FILTER (WHERE {shown}))[1]"
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
                            EdgeField::Typename => "'StatementEdge'".to_owned(),
                            EdgeField::Cursor => cursor.clone(),
                            EdgeField::Node(sel) => self.object(&p, sel)?,
                        };
                        edge.push((key.as_str(), value));
                    }
                    aggregate(&build_object(&edge), &p, &shown)
                }
                ConnNode::Nodes(sel) => {
                    let node = self.object(&p, sel)?;
                    aggregate(&node, &p, &shown)
                }
            };
            pairs.push((key.as_str(), value));
        }
        // HAVING makes one group of the page's rows, so an empty page is still an answer.
        Some(format!(
            "(SELECT {object} FROM (SELECT {s}.*, row_number() OVER (ORDER BY {s}.stated_on, {s}.id) AS n \
             FROM (SELECT * FROM statement {s} WHERE {s}.deleted_at IS NULL AND {whose}{bound} \
             ORDER BY {s}.stated_on, {s}.id LIMIT {first} + 1) {s}) {p} HAVING true)",
            object = build_object(&pairs),
            whose = whose.replace("{s}", &s),
        ))
    }

    /// A list-of-ids argument: absent or null (no condition), or every id valid.
    fn ids(&self, value: Option<&Value>) -> Option<Option<Vec<Uuid>>> {
        match self.arg(value) {
            ConstValue::Null => Some(None),
            ConstValue::List(items) => items
                .iter()
                .map(|item| match item {
                    ConstValue::String(s) => Uuid::parse_str(s).ok(),
                    _ => None,
                })
                .collect::<Option<Vec<Uuid>>>()
                .map(Some),
            _ => None,
        }
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
        self.values.push(value.into());
        format!("${}", self.values.len())
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

/// The page's shown rows of `value`, in order, as a JSON array.
fn aggregate(value: &str, p: &str, shown: &str) -> String {
    format!("coalesce(json_agg({value} ORDER BY {p}.n) FILTER (WHERE {shown}), '[]'::json)")
}

/// A SQL string literal.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// An instant as chrono's `to_rfc3339` writes it: UTC as `+00:00`, and a fraction of
/// no digits, 3 or 6, as the value needs. (The colons are quoted text of the format, so
/// that pgbench, replaying the statement, does not read `:MI` as a variable.)
fn rfc3339(expr: &str) -> String {
    let us = format!("to_char({expr} AT TIME ZONE 'UTC', 'US')");
    format!(
        "to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":\"MI\":\"SS') || \
         CASE WHEN {us} = '000000' THEN '' WHEN right({us}, 3) = '000' THEN '.' || left({us}, 3) \
         ELSE '.' || {us} END || '+00:00'"
    )
}

/// A statement row's cursor, as `pagination::Cursor::encode` writes it: its JSON in
/// URL-safe base64 without padding.
fn cursor_sql(p: &str) -> String {
    format!(
        "rtrim(translate(encode(convert_to('{{\"o\":\"{STATEMENT_ORDER}\",\"k\":{{\"Date\":\"' \
         || to_char({p}.stated_on, 'YYYY-MM-DD') || '\"}},\"i\":\"' || {p}.id || '\"}}', 'UTF8'), \
         'base64'), E'+/\\n', '-_'), '=')"
    )
}
