//! The compiled part of the schema, and the reading of a document into it: which
//! types and fields compile, to which column or relation, with which arguments.

use std::cell::RefCell;
use std::collections::HashMap;

use async_graphql::Name;
use async_graphql::parser::types::{ExecutableDocument, Field, SelectionSet};
use async_graphql_value::{ConstValue, Value};

use super::{Collected, collect};

/// The variables' defaults, by name (`None`: declared without one).
pub(crate) type Defaults = HashMap<Name, Option<ConstValue>>;

/// Most keys one object may have: `json_build_object` takes at most 100 arguments.
const MAX_KEYS: usize = 50;

/// The object types that compile, one table each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Speaker,
    Statement,
    StatementStance,
    Claim,
    Appearance,
    Article,
    Outlet,
    Verdict,
}

impl Ty {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ty::Speaker => "Speaker",
            Ty::Statement => "Statement",
            Ty::StatementStance => "StatementStance",
            Ty::Claim => "Claim",
            Ty::Appearance => "Appearance",
            Ty::Article => "Article",
            Ty::Outlet => "Outlet",
            Ty::Verdict => "Verdict",
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Ty::Speaker => "speaker",
            Ty::Statement => "statement",
            Ty::StatementStance => "stance",
            Ty::Claim => "claim",
            Ty::Appearance => "appearance",
            Ty::Article => "article",
            Ty::Outlet => "outlet",
            Ty::Verdict => "verdict",
        }
    }
}

/// How a column's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// As PostgreSQL's JSON has it (text, numbers, booleans, ids, dates, enums, arrays).
    Json,
    /// An instant, as chrono's RFC 3339.
    Instant,
}

/// Which child rows a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    All,
    Live,
    /// Live verdicts, published ones only unless the viewer sees drafts.
    Verdicts,
}

/// Whose statements a page lists.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Of {
    /// The speaker row's.
    Speaker,
    /// Those with a stance on the claim row.
    Claim,
    /// Those the filter names (the root list).
    List,
}

/// The arguments of a statement list.
const PAGE_ARGS: [&str; 6] = ["filter", "orderBy", "first", "after", "last", "before"];

/// One field of the compiled part.
enum Def {
    /// A column of the row (`{t}` stands for its alias), or an expression over it.
    Value(&'static str, Format),
    /// The live record of `Ty` whose id the column holds; `true` when the field is
    /// non-null (the resolvers fail where it is gone).
    One(Ty, &'static str, bool),
    /// The child rows whose column holds the row's id, in their order.
    Many(Ty, &'static str, Scope, &'static str),
    /// A page of statements.
    Statements(Of),
}

/// The compiled part: every field of every compiled type.
fn def(ty: Ty, field: &str) -> Option<Def> {
    use Def::*;
    use Format::*;
    let common = match field {
        "id" => Some(Value("{t}.id", Json)),
        "createdAt" => Some(Value("{t}.created_at", Instant)),
        "updatedAt" => Some(Value("{t}.updated_at", Instant)),
        "version" => Some(Value("{t}.version", Json)),
        _ => None,
    };
    let own = match (ty, field) {
        (Ty::Speaker, "name") => Value("{t}.name", Json),
        (Ty::Speaker, "slug") => Value("{t}.slug", Json),
        (Ty::Speaker, "kind") => Value("{t}.kind", Json),
        (Ty::Speaker, "description") => Value("{t}.description", Json),
        (Ty::Speaker, "wikidataId") => Value("{t}.wikidata_id", Json),
        (Ty::Speaker, "aliases") => Value("{t}.aliases", Json),
        (Ty::Speaker, "statements") => Statements(Of::Speaker),

        (Ty::Statement, "speaker") => One(Ty::Speaker, "speaker_id", true),
        (Ty::Statement, "reportedBy") => One(Ty::Speaker, "reported_by_id", false),
        (Ty::Statement, "reported") => Value("{t}.reported_by_id IS NOT NULL", Json),
        (Ty::Statement, "text") => Value("{t}.text", Json),
        (Ty::Statement, "kind") => Value("{t}.kind", Json),
        (Ty::Statement, "statedOn") => Value("{t}.stated_on", Json),
        (Ty::Statement, "statedOnPrecision") => Value("{t}.stated_on_precision", Json),
        (Ty::Statement, "venue") => Value("{t}.venue", Json),
        (Ty::Statement, "context") => Value("{t}.context", Json),
        (Ty::Statement, "language") => Value("{t}.language", Json),
        (Ty::Statement, "stances") => {
            Many(Ty::StatementStance, "statement_id", Scope::All, "{c}.id")
        }
        (Ty::Statement, "appearances") => Many(
            Ty::Appearance,
            "statement_id",
            Scope::Live,
            "{c}.first DESC, {c}.id",
        ),
        (Ty::Statement, "verdicts") => Many(Ty::Verdict, "statement_id", Scope::Verdicts, "{c}.id"),

        // A stance has an id and times of its own, which the type does not show.
        (Ty::StatementStance, "id" | "createdAt" | "updatedAt" | "version") => return None,
        (Ty::StatementStance, "stance") => Value("{t}.stance", Json),
        (Ty::StatementStance, "claim") => One(Ty::Claim, "claim_id", true),

        (Ty::Claim, "text") => Value("{t}.text", Json),
        (Ty::Claim, "slug") => Value("{t}.slug", Json),
        (Ty::Claim, "statements") => Statements(Of::Claim),
        (Ty::Claim, "verdicts") => Many(Ty::Verdict, "claim_id", Scope::Verdicts, "{c}.id"),

        (Ty::Appearance, "article") => One(Ty::Article, "article_id", true),
        (Ty::Appearance, "statement") => One(Ty::Statement, "statement_id", false),
        (Ty::Appearance, "first") => Value("{t}.first", Json),
        (Ty::Appearance, "excerpt") => Value("{t}.excerpt", Json),
        (Ty::Appearance, "charOffset") => Value("{t}.char_offset", Json),
        (Ty::Appearance, "timecodeMs") => Value("{t}.timecode_ms", Json),
        (Ty::Appearance, "updatedAt") => return None,

        (Ty::Article, "outletId") => Value("{t}.outlet_id", Json),
        (Ty::Article, "url") => Value("{t}.url", Json),
        (Ty::Article, "title") => Value("{t}.title", Json),
        (Ty::Article, "publishedAt") => Value("{t}.published_at", Instant),
        (Ty::Article, "language") => Value("{t}.language", Json),
        (Ty::Article, "byline") => Value("{t}.byline", Json),
        (Ty::Article, "archiveUrl") => Value("{t}.archive_url", Json),
        (Ty::Article, "outlet") => One(Ty::Outlet, "outlet_id", true),

        (Ty::Outlet, "name") => Value("{t}.name", Json),
        (Ty::Outlet, "slug") => Value("{t}.slug", Json),
        (Ty::Outlet, "homepage") => Value("{t}.homepage", Json),
        (Ty::Outlet, "country") => Value("{t}.country", Json),
        (Ty::Outlet, "language") => Value("{t}.language", Json),

        (Ty::Verdict, "statement") => One(Ty::Statement, "statement_id", false),
        (Ty::Verdict, "claim") => One(Ty::Claim, "claim_id", false),
        (Ty::Verdict, "reviewer") => One(Ty::Outlet, "reviewer_id", true),
        (Ty::Verdict, "ratingLabel") => Value("{t}.rating_label", Json),
        (Ty::Verdict, "ratingValue") => Value("{t}.rating_value", Json),
        (Ty::Verdict, "bestRating") => Value("{t}.best_rating", Json),
        (Ty::Verdict, "worstRating") => Value("{t}.worst_rating", Json),
        (Ty::Verdict, "score") => Value("{t}.score", Json),
        (Ty::Verdict, "summary") => Value("{t}.summary", Json),
        (Ty::Verdict, "url") => Value("{t}.url", Json),
        (Ty::Verdict, "publishedAt") => Value("{t}.published_at", Instant),
        (Ty::Verdict, "status") => Value("{t}.status", Json),
        _ => return common,
    };
    Some(own)
}

/// One response key of an object, compiled.
#[derive(Debug)]
pub(crate) enum Node {
    Typename(&'static str),
    Value(&'static str, Format),
    One {
        ty: Ty,
        key: &'static str,
        required: bool,
        sel: Sel,
    },
    Many {
        ty: Ty,
        fk: &'static str,
        scope: Scope,
        order: &'static str,
        sel: Sel,
    },
    Statements(Box<Page>),
}

/// A selection on one object: its response keys in order.
pub(crate) type Sel = Vec<(String, Node)>;

/// A page of statements: whose, which (the list's arguments, by name, as the
/// document gives them), and what of it is asked for.
#[derive(Debug)]
pub(crate) struct Page {
    pub of: Of,
    pub args: HashMap<&'static str, Value>,
    pub sel: Vec<(String, ConnNode)>,
}

#[derive(Debug)]
pub(crate) enum ConnNode {
    Typename,
    TotalCount,
    PageInfo(Vec<(String, PageField)>),
    Edges(Vec<(String, EdgeField)>),
    Nodes(Sel),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum PageField {
    Typename,
    HasPreviousPage,
    HasNextPage,
    StartCursor,
    EndCursor,
}

#[derive(Debug)]
pub(crate) enum EdgeField {
    Typename,
    Cursor,
    Node(Sel),
}

/// One root field, compiled.
#[derive(Debug)]
pub(crate) enum Root {
    Typename,
    /// A record by `id` or `slug` (exactly one given, as the resolvers require).
    Record {
        ty: Ty,
        id: Option<Value>,
        slug: Option<Value>,
        sel: Sel,
    },
    Statements(Page),
}

/// Reads a document's selections into the compiled part; `None` as soon as anything
/// lies outside it, with the reason kept.
pub(crate) struct Reader<'a> {
    pub document: &'a ExecutableDocument,
    pub defaults: &'a Defaults,
    /// What first kept the document outside: a field (`Type.field`), an argument
    /// (`Type.field(argument)`), or a construct.
    pub outside: RefCell<Option<String>>,
}

impl<'d> Reader<'d> {
    pub(crate) fn new(document: &'d ExecutableDocument, defaults: &'d Defaults) -> Self {
        Self {
            document,
            defaults,
            outside: RefCell::new(None),
        }
    }

    /// Nothing: the document lies outside, for the reason `why` gives (the first one
    /// found is kept).
    fn outside<T>(&self, why: impl FnOnce() -> String) -> Option<T> {
        let mut outside = self.outside.borrow_mut();
        if outside.is_none() {
            *outside = Some(why());
        }
        None
    }

    /// The fields of a selection set on `type_name`, collected into `out`.
    fn collect(
        &self,
        set: &'d SelectionSet,
        type_name: &str,
        out: &mut Collected<'d>,
    ) -> Option<()> {
        collect(self.document, set, type_name, out).or_else(|| {
            self.outside(|| {
                format!(
                    "{type_name}: a directive, another type's fragment or one key for two fields"
                )
            })
        })
    }

    pub(crate) fn root(&self, set: &'d SelectionSet) -> Option<Vec<(String, Root)>> {
        let mut fields = Vec::new();
        self.collect(set, "Query", &mut fields)?;
        self.read("Query", fields, |field, merged| {
            let name = field.name.node.as_str();
            Some(match name {
                "__typename" => Root::Typename,
                "speaker" | "claim" => {
                    let ty = if name == "speaker" {
                        Ty::Speaker
                    } else {
                        Ty::Claim
                    };
                    let mut args = self.args("Query", field, &["id", "slug"])?;
                    Root::Record {
                        ty,
                        id: args.remove("id"),
                        slug: args.remove("slug"),
                        sel: self.object(ty, merged)?,
                    }
                }
                "statement" => {
                    let mut args = self.args("Query", field, &["id"])?;
                    Root::Record {
                        ty: Ty::Statement,
                        id: Some(args.remove("id")?),
                        slug: None,
                        sel: self.object(Ty::Statement, merged)?,
                    }
                }
                "statements" => {
                    let args = self.args("Query", field, &PAGE_ARGS)?;
                    Root::Statements(self.page(Of::List, args, merged)?)
                }
                _ => return self.outside(|| format!("Query.{name}")),
            })
        })
    }

    /// Reads the fields collected under each response key with `read` (given the
    /// first of them, and all of them for their selections), within the bounds of one
    /// `json_build_object`.
    fn read<T>(
        &self,
        type_name: &str,
        fields: Collected<'d>,
        read: impl Fn(&'d Field, &[&'d Field]) -> Option<T>,
    ) -> Option<Vec<(String, T)>> {
        if fields.is_empty() || fields.len() > MAX_KEYS {
            return self.outside(|| format!("{type_name}: more than {MAX_KEYS} keys"));
        }
        fields
            .iter()
            .map(|(key, merged)| Some((key.to_string(), read(merged[0], merged)?)))
            .collect()
    }

    /// The selections of the fields merged under one key, on `type_name`, each key
    /// read with `read`.
    fn selection<T>(
        &self,
        merged: &[&'d Field],
        type_name: &str,
        read: impl Fn(&'d Field, &[&'d Field]) -> Option<T>,
    ) -> Option<Vec<(String, T)>> {
        let mut fields = Vec::new();
        for field in merged {
            self.collect(&field.selection_set.node, type_name, &mut fields)?;
        }
        self.read(type_name, fields, read)
    }

    /// The arguments of a field of `type_name`, all of them among `allowed`.
    fn args(
        &self,
        type_name: &str,
        field: &Field,
        allowed: &[&'static str],
    ) -> Option<HashMap<&'static str, Value>> {
        let mut out = HashMap::new();
        for (name, value) in &field.arguments {
            let Some(known) = allowed.iter().find(|a| **a == name.node.as_str()) else {
                return self.outside(|| format!("{type_name}.{}({})", field.name.node, name.node));
            };
            self.check_variables(&value.node)?;
            out.insert(*known, value.node.clone());
        }
        Some(out)
    }

    /// A field of `type_name` without arguments.
    fn bare(&self, type_name: &str, field: &Field) -> Option<()> {
        match field.arguments.first() {
            None => Some(()),
            Some((name, _)) => {
                self.outside(|| format!("{type_name}.{}({})", field.name.node, name.node))
            }
        }
    }

    /// Every variable a value uses is declared (validation has seen to it).
    fn check_variables(&self, value: &Value) -> Option<()> {
        match value {
            Value::Variable(name) if self.defaults.contains_key(name) => Some(()),
            Value::Variable(name) => self.outside(|| format!("${name} undeclared")),
            Value::List(items) => items.iter().try_for_each(|v| self.check_variables(v)),
            Value::Object(fields) => fields.values().try_for_each(|v| self.check_variables(v)),
            _ => Some(()),
        }
    }

    /// An object of `ty`: the selections of the fields merged under one key.
    fn object(&self, ty: Ty, merged: &[&'d Field]) -> Option<Sel> {
        self.selection(merged, ty.name(), |field, merged| {
            let name = field.name.node.as_str();
            if name == "__typename" {
                self.bare(ty.name(), field)?;
                return Some(Node::Typename(ty.name()));
            }
            let Some(def) = def(ty, name) else {
                return self.outside(|| format!("{}.{name}", ty.name()));
            };
            Some(match def {
                Def::Value(sql, format) => {
                    self.bare(ty.name(), field)?;
                    Node::Value(sql, format)
                }
                Def::One(target, key, required) => {
                    self.bare(ty.name(), field)?;
                    Node::One {
                        ty: target,
                        key,
                        required,
                        sel: self.object(target, merged)?,
                    }
                }
                Def::Many(target, fk, scope, order) => {
                    self.bare(ty.name(), field)?;
                    Node::Many {
                        ty: target,
                        fk,
                        scope,
                        order,
                        sel: self.object(target, merged)?,
                    }
                }
                Def::Statements(of) => {
                    let args = self.args(ty.name(), field, &PAGE_ARGS)?;
                    Node::Statements(Box::new(self.page(of, args, merged)?))
                }
            })
        })
    }

    /// A `StatementConnection`.
    fn page(
        &self,
        of: Of,
        args: HashMap<&'static str, Value>,
        merged: &[&'d Field],
    ) -> Option<Page> {
        let sel = self.selection(merged, "StatementConnection", |field, merged| {
            self.bare("StatementConnection", field)?;
            Some(match field.name.node.as_str() {
                "__typename" => ConnNode::Typename,
                "totalCount" => ConnNode::TotalCount,
                "nodes" => ConnNode::Nodes(self.object(Ty::Statement, merged)?),
                "pageInfo" => {
                    ConnNode::PageInfo(self.selection(merged, "PageInfo", |field, _| {
                        self.bare("PageInfo", field)?;
                        Some(match field.name.node.as_str() {
                            "__typename" => PageField::Typename,
                            "hasPreviousPage" => PageField::HasPreviousPage,
                            "hasNextPage" => PageField::HasNextPage,
                            "startCursor" => PageField::StartCursor,
                            "endCursor" => PageField::EndCursor,
                            other => return self.outside(|| format!("PageInfo.{other}")),
                        })
                    })?)
                }
                "edges" => {
                    ConnNode::Edges(self.selection(merged, "StatementEdge", |field, merged| {
                        self.bare("StatementEdge", field)?;
                        Some(match field.name.node.as_str() {
                            "__typename" => EdgeField::Typename,
                            "cursor" => EdgeField::Cursor,
                            "node" => EdgeField::Node(self.object(Ty::Statement, merged)?),
                            other => return self.outside(|| format!("StatementEdge.{other}")),
                        })
                    })?)
                }
                other => return self.outside(|| format!("StatementConnection.{other}")),
            })
        })?;
        Some(Page { of, args, sel })
    }
}
