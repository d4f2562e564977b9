//! The compiled part of the schema, and the reading of a document into it: which
//! types and fields compile, to which column or relation, with which arguments.

use std::cell::RefCell;
use std::collections::HashMap;

use async_graphql::Name;
use async_graphql::parser::types::{ExecutableDocument, Field, SelectionSet};
use async_graphql_value::{ConstValue, Value};

use super::{Collected, collect};
use crate::service::model::{self, Children, Field as Def, Format, Object as Ty};

/// The variables' defaults, by name (`None`: declared without one).
pub(crate) type Defaults = HashMap<Name, Option<ConstValue>>;

/// Most keys one object may have: `json_build_object` takes at most 100 arguments.
const MAX_KEYS: usize = 50;

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

/// The root lists of records, each compiled from its resolver's own query (its
/// `list_query`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum List {
    Speakers,
    Claims,
    Verdicts,
    Articles,
    Topics,
    Outlets,
}

impl List {
    fn of(field: &str) -> Option<Self> {
        Some(match field {
            "speakers" => List::Speakers,
            "claims" => List::Claims,
            "verdicts" => List::Verdicts,
            "articles" => List::Articles,
            "topics" => List::Topics,
            "outlets" => List::Outlets,
            _ => return None,
        })
    }

    /// The objects listed.
    fn node(self) -> Ty {
        match self {
            List::Speakers => Ty::Speaker,
            List::Claims => Ty::Claim,
            List::Verdicts => Ty::Verdict,
            List::Articles => Ty::Article,
            List::Topics => Ty::Topic,
            List::Outlets => Ty::Outlet,
        }
    }

    /// The connection's and the edge's type names.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            List::Speakers => ("SpeakerConnection", "SpeakerEdge"),
            List::Claims => ("ClaimConnection", "ClaimEdge"),
            List::Verdicts => ("VerdictConnection", "VerdictEdge"),
            List::Articles => ("ArticleConnection", "ArticleEdge"),
            List::Topics => ("TopicConnection", "TopicEdge"),
            List::Outlets => ("OutletConnection", "OutletEdge"),
        }
    }
}

/// The arguments of a root list of records.
const LIST_ARGS: [&str; 5] = ["filter", "first", "after", "last", "before"];

/// The arguments of a statement list.
const PAGE_ARGS: [&str; 6] = ["filter", "orderBy", "first", "after", "last", "before"];

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
        relation: &'static Children,
        sel: Sel,
    },
    Statements(Box<Page>),
    /// The same row as another object, where the condition holds.
    Within {
        condition: &'static str,
        sel: Sel,
    },
    /// An object over a row computed from this one.
    Derived {
        select: &'static str,
        sel: Sel,
    },
    /// The row's position history on the claim given by id or slug (exactly one, as
    /// the resolvers require).
    Positions {
        claim_id: Option<Value>,
        claim_slug: Option<Value>,
        sel: Sel,
    },
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
    Typename(&'static str),
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
    Typename(&'static str),
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
    /// A page of a root list of records: its arguments by name, as the document gives
    /// them.
    List {
        list: List,
        args: HashMap<&'static str, Value>,
        sel: Vec<(String, ConnNode)>,
    },
    /// A page of a timeline: its arguments by name, as the document gives them.
    Timeline {
        args: HashMap<&'static str, Value>,
        sel: Vec<(String, ConnNode)>,
    },
    /// A speaker's position history on a claim, by their ids.
    Positions {
        speaker: Value,
        claim: Value,
        sel: Sel,
    },
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
            if let Some(list) = List::of(name) {
                return Some(Root::List {
                    list,
                    args: self.args("Query", field, &LIST_ARGS)?,
                    sel: self.connection(list.names(), list.node(), merged)?,
                });
            }
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
                "timeline" => Root::Timeline {
                    args: self.args("Query", field, &["filter", "first", "after"])?,
                    sel: self.connection(
                        ("TimelineEventConnection", "TimelineEventEdge"),
                        Ty::TimelineEvent,
                        merged,
                    )?,
                },
                "positionHistory" => {
                    let mut args = self.args("Query", field, &["speakerId", "claimId"])?;
                    Root::Positions {
                        speaker: args.remove("speakerId")?,
                        claim: args.remove("claimId")?,
                        sel: self.object(Ty::Position, merged)?,
                    }
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
            let Some(def) = model::field(ty, name) else {
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
                Def::Many(target, relation) => {
                    self.bare(ty.name(), field)?;
                    Node::Many {
                        relation,
                        sel: self.object(target, merged)?,
                    }
                }
                Def::Within(target, condition) => {
                    self.bare(ty.name(), field)?;
                    Node::Within {
                        condition,
                        sel: self.object(target, merged)?,
                    }
                }
                Def::Derived(target, select) => {
                    self.bare(ty.name(), field)?;
                    Node::Derived {
                        select,
                        sel: self.object(target, merged)?,
                    }
                }
                Def::Positions => {
                    let mut args = self.args(ty.name(), field, &["claimId", "claimSlug"])?;
                    Node::Positions {
                        claim_id: args.remove("claimId"),
                        claim_slug: args.remove("claimSlug"),
                        sel: self.object(Ty::Position, merged)?,
                    }
                }
                Def::Statements(owner) => {
                    let of = if owner == Ty::Claim {
                        Of::Claim
                    } else {
                        Of::Speaker
                    };
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
        let sel = self.connection(
            ("StatementConnection", "StatementEdge"),
            Ty::Statement,
            merged,
        )?;
        Some(Page { of, args, sel })
    }

    /// The selection of a connection (named `names`: the connection and its edge) of
    /// `node` objects.
    fn connection(
        &self,
        names: (&'static str, &'static str),
        node: Ty,
        merged: &[&'d Field],
    ) -> Option<Vec<(String, ConnNode)>> {
        let (conn, edge) = names;
        self.selection(merged, conn, |field, merged| {
            self.bare(conn, field)?;
            Some(match field.name.node.as_str() {
                "__typename" => ConnNode::Typename(conn),
                "totalCount" => ConnNode::TotalCount,
                "nodes" => ConnNode::Nodes(self.object(node, merged)?),
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
                "edges" => ConnNode::Edges(self.selection(merged, edge, |field, merged| {
                    self.bare(edge, field)?;
                    Some(match field.name.node.as_str() {
                        "__typename" => EdgeField::Typename(edge),
                        "cursor" => EdgeField::Cursor,
                        "node" => EdgeField::Node(self.object(node, merged)?),
                        other => return self.outside(|| format!("{edge}.{other}")),
                    })
                })?),
                other => return self.outside(|| format!("{conn}.{other}")),
            })
        })
    }
}
