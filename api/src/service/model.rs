//! The read model: what each object of the API is made of, declared once. Which table
//! holds an object, which column or relation each of its fields reads, which child
//! rows a relation holds and in which order, and which rows a reader who does not see
//! unpublished records is shown. The batch loaders (`graphql::loader`), the compiled
//! reads (`graphql::compiled`) and the journalist's pages read it from here.
//!
//! A field is compiled when [`field`] describes it; a field of a compiled object that
//! only the resolvers answer is listed in [`RESOLVER_ONLY`] with the reason, and a
//! test holds every field of the schema to one or the other.

use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, Order, QueryFilter, QueryOrder, Select};

/// The objects reads are compiled for, one table each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    Speaker,
    Statement,
    StatementStance,
    Claim,
    Appearance,
    Article,
    Outlet,
    Verdict,
    Link,
    Topic,
    /// A statement's stance on one claim: a row of [`POSITIONS`].
    Position,
    /// An event of a timeline: a row of `service::timeline::events_sql`.
    TimelineEvent,
    /// A position change, over its timeline event's row.
    PositionChange,
}

impl Object {
    pub const ALL: [Object; 13] = [
        Object::Speaker,
        Object::Statement,
        Object::StatementStance,
        Object::Claim,
        Object::Appearance,
        Object::Article,
        Object::Outlet,
        Object::Verdict,
        Object::Link,
        Object::Topic,
        Object::Position,
        Object::TimelineEvent,
        Object::PositionChange,
    ];

    /// The GraphQL type.
    pub fn name(self) -> &'static str {
        match self {
            Object::Speaker => "Speaker",
            Object::Statement => "Statement",
            Object::StatementStance => "StatementStance",
            Object::Claim => "Claim",
            Object::Appearance => "Appearance",
            Object::Article => "Article",
            Object::Outlet => "Outlet",
            Object::Verdict => "Verdict",
            Object::Link => "Link",
            Object::Topic => "Topic",
            Object::Position => "Position",
            Object::TimelineEvent => "TimelineEvent",
            Object::PositionChange => "PositionChange",
        }
    }

    /// The table holding it (a relation of SQL's own for a position; a timeline's
    /// events have none but their page's).
    pub fn table(self) -> &'static str {
        match self {
            Object::Speaker => "speaker",
            Object::Statement => "statement",
            Object::StatementStance => "stance",
            Object::Claim => "claim",
            Object::Appearance => "appearance",
            Object::Article => "article",
            Object::Outlet => "outlet",
            Object::Verdict => "verdict",
            Object::Link => "link",
            Object::Topic => "topic",
            Object::Position => POSITIONS,
            Object::TimelineEvent | Object::PositionChange => "events",
        }
    }
}

/// How a column's value is written in an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// As PostgreSQL's JSON has it (text, numbers, booleans, ids, dates, enums, arrays).
    Json,
    /// An instant, as chrono's RFC 3339.
    Instant,
}

/// What one field of an object reads.
#[derive(Clone, Copy, Debug)]
pub enum Field {
    /// A column of the row (`{t}` stands for its alias), or an expression over it.
    Value(&'static str, Format),
    /// The live record of an object whose id the column holds; `true` when the field
    /// is non-null (the resolvers fail where it is gone).
    One(Object, &'static str, bool),
    /// The child rows of a relation.
    Many(Object, &'static Children),
    /// A page of the statements of the row (a speaker's or a claim's).
    Statements(Object),
    /// The row's (a speaker's) position history on one claim.
    Positions,
    /// The same row seen as another object, where the condition on it holds (else
    /// null).
    Within(Object, &'static str),
    /// An object over a row computed from this one: the select list, over `{t}`, of
    /// the object's columns.
    Derived(Object, &'static str),
}

/// Every position (live statements' stances) as a relation, in the columns of
/// `service::position::PositionRow`.
pub const POSITIONS: &str = "(SELECT s.id AS statement_id, s.speaker_id, st.claim_id, st.stance, \
     s.stated_on, s.stated_on_precision, s.stated_at_utc, s.reported_by_id IS NOT NULL AS reported \
     FROM stance st JOIN statement s ON s.id = st.statement_id WHERE s.deleted_at IS NULL)";

/// Position order over a row of [`POSITIONS`] aliased `{p}`: the order of
/// [`POSITION_KEY`](crate::service::position::POSITION_KEY) over a statement.
pub const POSITION_ORDER: &str =
    "{p}.stated_on, coalesce({p}.stated_at_utc, '-infinity'::timestamp), {p}.statement_id";

/// The fields of every compiled object, by GraphQL name.
pub fn field(object: Object, name: &str) -> Option<Field> {
    use Field::*;
    use Format::*;
    let common = match name {
        "id" => Some(Value("{t}.id", Json)),
        "createdAt" => Some(Value("{t}.created_at", Instant)),
        "updatedAt" => Some(Value("{t}.updated_at", Instant)),
        "version" => Some(Value("{t}.version", Json)),
        _ => None,
    };
    let own = match (object, name) {
        (Object::Speaker, "name") => Value("{t}.name", Json),
        (Object::Speaker, "slug") => Value("{t}.slug", Json),
        (Object::Speaker, "kind") => Value("{t}.kind", Json),
        (Object::Speaker, "description") => Value("{t}.description", Json),
        (Object::Speaker, "wikidataId") => Value("{t}.wikidata_id", Json),
        (Object::Speaker, "aliases") => Value("{t}.aliases", Json),
        (Object::Speaker, "statements") => Statements(Object::Speaker),
        (Object::Speaker, "positionHistory") => Positions,

        (Object::Statement, "speaker") => One(Object::Speaker, "speaker_id", true),
        (Object::Statement, "reportedBy") => One(Object::Speaker, "reported_by_id", false),
        (Object::Statement, "reported") => Value("{t}.reported_by_id IS NOT NULL", Json),
        (Object::Statement, "text") => Value("{t}.text", Json),
        (Object::Statement, "kind") => Value("{t}.kind", Json),
        (Object::Statement, "statedOn") => Value("{t}.stated_on", Json),
        (Object::Statement, "statedOnPrecision") => Value("{t}.stated_on_precision", Json),
        (Object::Statement, "venue") => Value("{t}.venue", Json),
        (Object::Statement, "context") => Value("{t}.context", Json),
        (Object::Statement, "language") => Value("{t}.language", Json),
        (Object::Statement, "stances") => Many(Object::StatementStance, &STANCES_OF_STATEMENT),
        (Object::Statement, "appearances") => Many(Object::Appearance, &APPEARANCES_OF_STATEMENT),
        (Object::Statement, "verdicts") => Many(Object::Verdict, &VERDICTS_OF_STATEMENT),
        (Object::Statement, "links") => Many(Object::Link, &LINKS_FROM),
        (Object::Statement, "backlinks") => Many(Object::Link, &LINKS_TO),

        // A stance has an id and times of its own, which the type does not show.
        (Object::StatementStance, "id" | "createdAt" | "updatedAt" | "version") => return None,
        (Object::StatementStance, "stance") => Value("{t}.stance", Json),
        (Object::StatementStance, "claim") => One(Object::Claim, "claim_id", true),

        (Object::Claim, "text") => Value("{t}.text", Json),
        (Object::Claim, "slug") => Value("{t}.slug", Json),
        (Object::Claim, "statements") => Statements(Object::Claim),
        (Object::Claim, "verdicts") => Many(Object::Verdict, &VERDICTS_OF_CLAIM),

        (Object::Appearance, "article") => One(Object::Article, "article_id", true),
        (Object::Appearance, "statement") => One(Object::Statement, "statement_id", false),
        (Object::Appearance, "first") => Value("{t}.first", Json),
        (Object::Appearance, "excerpt") => Value("{t}.excerpt", Json),
        (Object::Appearance, "charOffset") => Value("{t}.char_offset", Json),
        (Object::Appearance, "timecodeMs") => Value("{t}.timecode_ms", Json),
        (Object::Appearance, "updatedAt") => return None,

        (Object::Article, "outletId") => Value("{t}.outlet_id", Json),
        (Object::Article, "url") => Value("{t}.url", Json),
        (Object::Article, "title") => Value("{t}.title", Json),
        (Object::Article, "publishedAt") => Value("{t}.published_at", Instant),
        (Object::Article, "language") => Value("{t}.language", Json),
        (Object::Article, "byline") => Value("{t}.byline", Json),
        (Object::Article, "archiveUrl") => Value("{t}.archive_url", Json),
        (Object::Article, "outlet") => One(Object::Outlet, "outlet_id", true),

        (Object::Outlet, "name") => Value("{t}.name", Json),
        (Object::Outlet, "slug") => Value("{t}.slug", Json),
        (Object::Outlet, "homepage") => Value("{t}.homepage", Json),
        (Object::Outlet, "country") => Value("{t}.country", Json),
        (Object::Outlet, "language") => Value("{t}.language", Json),

        (Object::Verdict, "statement") => One(Object::Statement, "statement_id", false),
        (Object::Verdict, "claim") => One(Object::Claim, "claim_id", false),
        (Object::Verdict, "reviewer") => One(Object::Outlet, "reviewer_id", true),
        (Object::Verdict, "ratingLabel") => Value("{t}.rating_label", Json),
        (Object::Verdict, "ratingValue") => Value("{t}.rating_value", Json),
        (Object::Verdict, "bestRating") => Value("{t}.best_rating", Json),
        (Object::Verdict, "worstRating") => Value("{t}.worst_rating", Json),
        (Object::Verdict, "score") => Value("{t}.score", Json),
        (Object::Verdict, "summary") => Value("{t}.summary", Json),
        (Object::Verdict, "url") => Value("{t}.url", Json),
        (Object::Verdict, "publishedAt") => Value("{t}.published_at", Instant),
        (Object::Verdict, "status") => Value("{t}.status", Json),

        (Object::Link, "source") => One(Object::Statement, "source_statement_id", true),
        (Object::Link, "targetStatement") => One(Object::Statement, "target_statement_id", false),
        (Object::Link, "targetArticle") => One(Object::Article, "target_article_id", false),
        (Object::Link, "relation") => Value("{t}.relation", Json),
        (Object::Link, "status") => Value("{t}.status", Json),
        (Object::Link, "note") => Value("{t}.note", Json),

        (Object::Topic, "name") => Value("{t}.name", Json),
        (Object::Topic, "parentId") => Value("{t}.parent_id", Json),
        (Object::Topic, "slug") => Value("{t}.slug", Json),
        (Object::Topic, "parent") => One(Object::Topic, "parent_id", false),
        (Object::Topic, "children") => Many(Object::Topic, &CHILDREN_OF_TOPIC),

        (Object::Position, "statement") => One(Object::Statement, "statement_id", true),
        (Object::Position, "stance") => Value("{t}.stance", Json),
        (Object::Position, "statedOn") => Value("{t}.stated_on", Json),
        (Object::Position, "statedOnPrecision") => Value("{t}.stated_on_precision", Json),
        (Object::Position, "reported") => Value("{t}.reported", Json),
        (Object::Position, "speaker") => One(Object::Speaker, "speaker_id", true),
        (Object::Position, "claim") => One(Object::Claim, "claim_id", true),
        (Object::Position, _) => return None,

        (Object::TimelineEvent, "at") => Value("({t}.at AT TIME ZONE 'UTC')", Instant),
        (Object::TimelineEvent, "kind") => Value("{t}.kind", Json),
        (Object::TimelineEvent, "statement") => One(Object::Statement, "statement_id", false),
        (Object::TimelineEvent, "verdict") => One(Object::Verdict, "verdict_id", false),
        (Object::TimelineEvent, "link") => One(Object::Link, "link_id", false),
        (Object::TimelineEvent, "article") => One(Object::Article, "article_id", false),
        (Object::TimelineEvent, "change") => {
            Within(Object::PositionChange, "{t}.kind = 'POSITION_CHANGE'")
        }
        (Object::TimelineEvent, _) => return None,

        (Object::PositionChange, "speaker") => One(Object::Speaker, "speaker_id", true),
        (Object::PositionChange, "claim") => One(Object::Claim, "sub", true),
        (Object::PositionChange, "from") => Derived(
            Object::Position,
            "{t}.from_statement_id AS statement_id, {t}.speaker_id, {t}.sub AS claim_id, \
             {t}.prev_stance AS stance, {t}.prev_stated_on AS stated_on, \
             {t}.prev_precision AS stated_on_precision, {t}.prev_at AS stated_at_utc, \
             {t}.prev_reported AS reported",
        ),
        (Object::PositionChange, "to") => Derived(
            Object::Position,
            "{t}.statement_id, {t}.speaker_id, {t}.sub AS claim_id, {t}.stance, {t}.stated_on, \
             {t}.stated_on_precision, {t}.stated_at_utc, {t}.reported",
        ),
        (Object::PositionChange, "days") => Value("({t}.stated_on - {t}.prev_stated_on)", Json),
        (Object::PositionChange, _) => return None,
        _ => return common,
    };
    Some(own)
}

/// The fields of compiled objects that only the resolvers answer, with the reason.
pub const RESOLVER_ONLY: &[(&str, &str, &str)] = &[
    (
        "Speaker",
        "roles",
        "roles over time, for the speaker's page",
    ),
    (
        "Statement",
        "statedTime",
        "a time of day in the statement's own zone",
    ),
    (
        "Statement",
        "speakerRole",
        "the role the speaker held on the day, chosen among overlapping ones",
    ),
    ("Statement", "topics", "topics through a join table"),
    ("Claim", "topics", "topics through a join table"),
    (
        "Claim",
        "positions",
        "every speaker's latest position, aggregated",
    ),
    (
        "Claim",
        "timeline",
        "a timeline page, compiled as the root `timeline`",
    ),
    (
        "Claim",
        "matchingStatements",
        "similarity search, with plans of its own",
    ),
    ("Article", "statements", "an article's statements, paged"),
    ("Outlet", "articles", "an outlet's articles, paged"),
    (
        "PositionChange",
        "links",
        "links between the change's two statements, of three relations",
    ),
    ("Topic", "statements", "a topic's statements, paged"),
    (
        "Verdict",
        "claimReview",
        "schema.org ClaimReview JSON built by SQL of its own",
    ),
];

/// The value of a status column that a reader who does not see unpublished records
/// is shown; other values show to editors only.
#[derive(Clone, Copy, Debug)]
pub struct Public {
    pub column: &'static str,
    pub value: &'static str,
}

impl Public {
    /// As a condition on the row aliased `t`.
    pub fn condition(&self, t: &str) -> String {
        format!("{t}.{} = '{}'", self.column, self.value)
    }

    /// Whether a row whose status is `value` (its database spelling) shows.
    pub fn shows(&self, value: &str) -> bool {
        value == self.value
    }
}

/// Verdicts readers see: the published ones.
pub const PUBLISHED_VERDICTS: Public = Public {
    column: "status",
    value: "PUBLISHED",
};

/// Links readers see: the confirmed ones.
pub const CONFIRMED_LINKS: Public = Public {
    column: "status",
    value: "CONFIRMED",
};

/// A one-to-many relation: the rows of `table` whose `parent` column holds the parent's
/// id, live ones only where the table is soft-deleted, without those `except` names,
/// in `order` (columns of the child, each ascending or descending).
#[derive(Debug)]
pub struct Children {
    pub table: &'static str,
    pub parent: &'static str,
    pub soft_deleted: bool,
    /// A (column, value) pair of rows that never show.
    pub except: Option<(&'static str, &'static str)>,
    /// The rows readers see, where not all of them.
    pub public: Option<Public>,
    pub order: &'static [(&'static str, Order)],
}

impl Children {
    /// The condition on a child row aliased `c` (whose parent is matched apart), for
    /// a viewer who sees unpublished records or not.
    pub fn condition(&self, c: &str, sees_unpublished: bool) -> String {
        let mut all = Vec::new();
        if self.soft_deleted {
            all.push(format!("{c}.deleted_at IS NULL"));
        }
        if let Some((column, value)) = self.except {
            all.push(format!("{c}.{column} <> '{value}'"));
        }
        if let Some(public) = self.public.filter(|_| !sees_unpublished) {
            all.push(public.condition(c));
        }
        if all.is_empty() {
            "true".to_owned()
        } else {
            all.join(" AND ")
        }
    }

    /// The order over a child row aliased `c`, as SQL.
    pub fn order_sql(&self, c: &str) -> String {
        self.order
            .iter()
            .map(|(column, order)| match order {
                Order::Desc => format!("{c}.{column} DESC"),
                _ => format!("{c}.{column}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `select` (over the child's table, its parents matched) narrowed to the rows
    /// that show to a viewer who sees unpublished records, in order: the batch
    /// loaders' query (the resolvers hold each row to their viewer with [`Public`]).
    pub fn scope<E: EntityTrait>(&self, select: Select<E>) -> Select<E> {
        let mut select = select.filter(Expr::cust(self.condition(self.table, true)));
        for (column, order) in self.order {
            select = select.order_by(
                Expr::cust(format!("{}.{column}", self.table)),
                order.clone(),
            );
        }
        select
    }
}

/// A speaker's roles, by start (roles of no known start last), then entry.
pub static ROLES_OF_SPEAKER: Children = Children {
    table: "speaker_role",
    parent: "speaker_id",
    soft_deleted: true,
    except: None,
    public: None,
    order: &[("started_on", Order::Asc), ("id", Order::Asc)],
};

/// A statement's stances, in the order they were recorded.
pub static STANCES_OF_STATEMENT: Children = Children {
    table: "stance",
    parent: "statement_id",
    soft_deleted: false,
    except: None,
    public: None,
    order: &[("id", Order::Asc)],
};

/// Where a statement was reported, first appearance first.
pub static APPEARANCES_OF_STATEMENT: Children = Children {
    table: "appearance",
    parent: "statement_id",
    soft_deleted: true,
    except: None,
    public: None,
    order: &[("first", Order::Desc), ("id", Order::Asc)],
};

/// Verdicts on a statement, oldest first.
pub static VERDICTS_OF_STATEMENT: Children = Children {
    table: "verdict",
    parent: "statement_id",
    soft_deleted: true,
    except: None,
    public: Some(PUBLISHED_VERDICTS),
    order: &[("id", Order::Asc)],
};

/// Verdicts on a claim itself, oldest first.
pub static VERDICTS_OF_CLAIM: Children = Children {
    table: "verdict",
    parent: "claim_id",
    soft_deleted: true,
    except: None,
    public: Some(PUBLISHED_VERDICTS),
    order: &[("id", Order::Asc)],
};

/// Links from a statement to later statements and articles (dismissed suggestions
/// never show).
pub static LINKS_FROM: Children = Children {
    table: "link",
    parent: "source_statement_id",
    soft_deleted: true,
    except: Some(("status", "DISMISSED")),
    public: Some(CONFIRMED_LINKS),
    order: &[("id", Order::Asc)],
};

/// Links from earlier statements to this one.
pub static LINKS_TO: Children = Children {
    table: "link",
    parent: "target_statement_id",
    soft_deleted: true,
    except: Some(("status", "DISMISSED")),
    public: Some(CONFIRMED_LINKS),
    order: &[("id", Order::Asc)],
};

/// The topic ids a statement is filed under.
pub static TOPICS_OF_STATEMENT: Children = Children {
    table: "statement_topic",
    parent: "statement_id",
    soft_deleted: false,
    except: None,
    public: None,
    order: &[("topic_id", Order::Asc)],
};

/// The topic ids a claim is filed under.
pub static TOPICS_OF_CLAIM: Children = Children {
    table: "claim_topic",
    parent: "claim_id",
    soft_deleted: false,
    except: None,
    public: None,
    order: &[("topic_id", Order::Asc)],
};

/// A topic's live child topics, by name.
pub static CHILDREN_OF_TOPIC: Children = Children {
    table: "topic",
    parent: "parent_id",
    soft_deleted: true,
    except: None,
    public: None,
    order: &[("name", Order::Asc), ("id", Order::Asc)],
};
