//! The compiled part of the schema, and the reading of a document into it: which
//! types and fields compile, to which column or relation, with which arguments.

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
#[derive(Clone, Debug)]
pub(crate) enum Of {
    /// The speaker row's.
    Speaker,
    /// Those with a stance on the claim row.
    Claim,
    /// The root list's filter.
    Filter {
        speaker_ids: Option<Value>,
        claim_ids: Option<Value>,
    },
}

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

/// A page of statements: whose, which window, and what of it is asked for.
#[derive(Debug)]
pub(crate) struct Page {
    pub of: Of,
    pub first: Option<Value>,
    pub after: Option<Value>,
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
/// lies outside it.
pub(crate) struct Reader<'a> {
    pub document: &'a ExecutableDocument,
    pub defaults: &'a Defaults,
}

impl<'d> Reader<'d> {
    pub(crate) fn root(&self, set: &'d SelectionSet) -> Option<Vec<(String, Root)>> {
        let mut fields = Vec::new();
        collect(self.document, set, "Query", &mut fields)?;
        self.read(fields, |field, merged| {
            let name = field.name.node.as_str();
            Some(match name {
                "__typename" => Root::Typename,
                "speaker" | "claim" => {
                    let ty = if name == "speaker" {
                        Ty::Speaker
                    } else {
                        Ty::Claim
                    };
                    let mut args = self.args(field, &["id", "slug"])?;
                    Root::Record {
                        ty,
                        id: args.remove("id"),
                        slug: args.remove("slug"),
                        sel: self.object(ty, merged)?,
                    }
                }
                "statement" => {
                    let mut args = self.args(field, &["id"])?;
                    Root::Record {
                        ty: Ty::Statement,
                        id: Some(args.remove("id")?),
                        slug: None,
                        sel: self.object(Ty::Statement, merged)?,
                    }
                }
                "statements" => {
                    let mut args = self.args(field, &["filter", "first", "after"])?;
                    let of = match args.remove("filter") {
                        None => Of::Filter {
                            speaker_ids: None,
                            claim_ids: None,
                        },
                        Some(Value::Object(mut filter)) => {
                            let speaker_ids = filter.shift_remove("speakerIds");
                            let claim_ids = filter.shift_remove("claimIds");
                            if !filter.is_empty() {
                                return None;
                            }
                            Of::Filter {
                                speaker_ids,
                                claim_ids,
                            }
                        }
                        // A filter in a variable may hold any condition.
                        Some(_) => return None,
                    };
                    Root::Statements(self.page(of, args, merged)?)
                }
                _ => return None,
            })
        })
    }

    /// Reads the fields collected under each response key with `read` (given the
    /// first of them, and all of them for their selections), within the bounds of one
    /// `json_build_object`.
    fn read<T>(
        &self,
        fields: Collected<'d>,
        read: impl Fn(&'d Field, &[&'d Field]) -> Option<T>,
    ) -> Option<Vec<(String, T)>> {
        if fields.is_empty() || fields.len() > MAX_KEYS {
            return None;
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
            collect(
                self.document,
                &field.selection_set.node,
                type_name,
                &mut fields,
            )?;
        }
        self.read(fields, read)
    }

    /// The arguments of a field, all of them among `allowed`.
    fn args(
        &self,
        field: &Field,
        allowed: &[&'static str],
    ) -> Option<HashMap<&'static str, Value>> {
        let mut out = HashMap::new();
        for (name, value) in &field.arguments {
            let name = allowed.iter().find(|a| **a == name.node.as_str())?;
            self.check_variables(&value.node)?;
            out.insert(*name, value.node.clone());
        }
        Some(out)
    }

    /// A field without arguments.
    fn bare(&self, field: &Field) -> Option<()> {
        field.arguments.is_empty().then_some(())
    }

    /// Every variable a value uses is declared (validation has seen to it).
    fn check_variables(&self, value: &Value) -> Option<()> {
        match value {
            Value::Variable(name) => self.defaults.contains_key(name).then_some(()),
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
                self.bare(field)?;
                return Some(Node::Typename(ty.name()));
            }
            Some(match def(ty, name)? {
                Def::Value(sql, format) => {
                    self.bare(field)?;
                    Node::Value(sql, format)
                }
                Def::One(target, key, required) => {
                    self.bare(field)?;
                    Node::One {
                        ty: target,
                        key,
                        required,
                        sel: self.object(target, merged)?,
                    }
                }
                Def::Many(target, fk, scope, order) => {
                    self.bare(field)?;
                    Node::Many {
                        ty: target,
                        fk,
                        scope,
                        order,
                        sel: self.object(target, merged)?,
                    }
                }
                Def::Statements(of) => {
                    let args = self.args(field, &["first", "after"])?;
                    Node::Statements(Box::new(self.page(of, args, merged)?))
                }
            })
        })
    }

    /// A `StatementConnection`.
    fn page(
        &self,
        of: Of,
        mut args: HashMap<&'static str, Value>,
        merged: &[&'d Field],
    ) -> Option<Page> {
        let sel = self.selection(merged, "StatementConnection", |field, merged| {
            self.bare(field)?;
            Some(match field.name.node.as_str() {
                "__typename" => ConnNode::Typename,
                "totalCount" => ConnNode::TotalCount,
                "nodes" => ConnNode::Nodes(self.object(Ty::Statement, merged)?),
                "pageInfo" => {
                    ConnNode::PageInfo(self.selection(merged, "PageInfo", |field, _| {
                        self.bare(field)?;
                        Some(match field.name.node.as_str() {
                            "__typename" => PageField::Typename,
                            "hasPreviousPage" => PageField::HasPreviousPage,
                            "hasNextPage" => PageField::HasNextPage,
                            "startCursor" => PageField::StartCursor,
                            "endCursor" => PageField::EndCursor,
                            _ => return None,
                        })
                    })?)
                }
                "edges" => {
                    ConnNode::Edges(self.selection(merged, "StatementEdge", |field, merged| {
                        self.bare(field)?;
                        Some(match field.name.node.as_str() {
                            "__typename" => EdgeField::Typename,
                            "cursor" => EdgeField::Cursor,
                            "node" => EdgeField::Node(self.object(Ty::Statement, merged)?),
                            _ => return None,
                        })
                    })?)
                }
                _ => return None,
            })
        })?;
        Some(Page {
            of,
            first: args.remove("first"),
            after: args.remove("after"),
            sel,
        })
    }
}
