//! Which statements a list holds: the one definition of the statement filter, read by
//! the `statements` list, the compiled reads, search and the as-of list.
//!
//! Every given condition must hold and an absent one does not narrow; a list matches
//! any of its entries, and an empty list matches none.

use chrono::NaiveDate;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ActiveEnum, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::scorecard::Band;
use entity::StanceKind;

/// Most characters of `text`.
pub const MAX_TEXT_CHARS: usize = 1_000;

/// A statement filter, its values checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub speaker_ids: Option<Vec<Uuid>>,
    pub speaker_slugs: Option<Vec<String>>,
    pub claim_ids: Option<Vec<Uuid>>,
    pub claim_slugs: Option<Vec<String>>,
    pub topic_ids: Option<Vec<Uuid>>,
    pub article_ids: Option<Vec<Uuid>>,
    /// On one of the claims named when some are, else on any claim.
    pub stance: Option<StanceKind>,
    pub stated_from: Option<NaiveDate>,
    pub stated_to: Option<NaiveDate>,
    pub language: Option<String>,
    /// Words that must all occur (trimmed; blank is no condition).
    pub text: Option<String>,
    /// A PUBLISHED verdict in one of these bands.
    pub verdict_bands: Option<Vec<Band>>,
}

/// The rows a filter is a condition on.
#[derive(Debug, Clone, Copy)]
pub enum Rows<'a> {
    /// Rows of the `statement` table, under this alias.
    Table(&'a str),
    /// Statements rebuilt from their revisions, under this alias: `id`, `speaker_id`,
    /// `stated_on` and `language` as columns, the whole snapshot (with its `stances`
    /// and `topic_ids`) in `after`.
    Snapshot(&'a str),
}

/// The record whose statements a list holds, by an SQL expression of its id (a
/// correlated column): it replaces the filter's speakers or claims.
#[derive(Debug, Clone)]
pub enum Owner {
    Speaker(String),
    Claim(String),
}

impl Filter {
    /// Checks what the values alone can tell (their parsing is the caller's): the
    /// field at fault names the error.
    pub fn checked(mut self) -> ApiResult<Self> {
        if let (Some(from), Some(to)) = (self.stated_from, self.stated_to)
            && from > to
        {
            return Err(ApiError::bad_input(
                "filter.statedTo",
                "comes before statedFrom",
            ));
        }
        self.text = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if let Some(text) = &self.text
            && text.chars().count() > MAX_TEXT_CHARS
        {
            return Err(ApiError::bad_input(
                "filter.text",
                format!("is longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
        Ok(self)
    }

    /// The first condition given that statements rebuilt from their revisions cannot
    /// be held to (their articles, verdicts and full text are not rebuilt, and a slug
    /// names a record as it is now): the field at fault.
    pub fn outside_as_of(&self) -> Option<&'static str> {
        [
            (self.text.is_some(), "filter.text"),
            (self.article_ids.is_some(), "filter.articleIds"),
            (self.speaker_slugs.is_some(), "filter.speakerSlugs"),
            (self.claim_slugs.is_some(), "filter.claimSlugs"),
            (self.verdict_bands.is_some(), "filter.verdictBands"),
        ]
        .into_iter()
        .find_map(|(given, field)| given.then_some(field))
    }

    /// Whether the filter names the speakers or claims (or articles) whose statements
    /// it wants, so that few rows can match.
    pub fn is_narrow(&self) -> bool {
        self.speaker_ids.is_some()
            || self.speaker_slugs.is_some()
            || self.claim_ids.is_some()
            || self.claim_slugs.is_some()
            || self.article_ids.is_some()
    }

    /// The filter as a condition on `rows`. (On [`Rows::Snapshot`], the conditions of
    /// [`Filter::outside_as_of`] are left to the caller to refuse.)
    pub fn condition(&self, rows: Rows<'_>) -> Condition {
        self.condition_within(rows, None)
    }

    /// [`Filter::condition`] for the statements of `owner` (of the table's rows).
    pub fn condition_within(&self, rows: Rows<'_>, owner: Option<Owner>) -> Condition {
        let (Rows::Table(t) | Rows::Snapshot(t)) = rows;
        let mut all = Condition::all();
        if let Some(Owner::Speaker(id)) = &owner {
            all = all.add(Expr::cust(format!("{t}.speaker_id = {id}")));
        }
        if let Some(ids) = &self.speaker_ids {
            all = all.add(Expr::cust_with_values(
                format!("{t}.speaker_id = ANY($1)"),
                [ids.clone()],
            ));
        }
        if let Some(slugs) = &self.speaker_slugs {
            all = all.add(Expr::cust_with_values(
                format!(
                    "{t}.speaker_id IN (SELECT id FROM speaker WHERE slug = ANY($1) \
                     AND deleted_at IS NULL)"
                ),
                [slugs.clone()],
            ));
        }
        let stance = self.stance.map(|s| s.to_value());
        let claims_named = self.claim_ids.is_some()
            || self.claim_slugs.is_some()
            || matches!(owner, Some(Owner::Claim(_)));
        if let Some(Owner::Claim(id)) = &owner {
            let mut values = Vec::new();
            let stance = match &stance {
                Some(stance) => {
                    values.push(Value::from(stance.clone()));
                    " AND x.stance = $1::stance_kind"
                }
                None => "",
            };
            all = all.add(Expr::cust_with_values(
                format!(
                    "{t}.id = ANY(ARRAY(SELECT x.statement_id FROM stance x \
                     WHERE x.claim_id = {id}{stance}))"
                ),
                values,
            ));
        }
        if let Some(ids) = &self.claim_ids {
            let mut values = vec![Value::from(ids.clone())];
            let stance = stance_condition(stance.as_deref(), &mut values);
            all = all.add(match rows {
                // Looked up by id from the claims' stances: as a semi-join, a generic
                // plan walks every statement in date order to find them.
                Rows::Table(_) => Expr::cust_with_values(
                    format!(
                        "{t}.id = ANY(ARRAY(SELECT x.statement_id FROM stance x \
                         WHERE x.claim_id = ANY($1){stance}))"
                    ),
                    values,
                ),
                Rows::Snapshot(_) => Expr::cust_with_values(
                    format!(
                        "EXISTS (SELECT 1 FROM {} WHERE x.claim_id = ANY($1){stance})",
                        snapshot_stances(t)
                    ),
                    values,
                ),
            });
        }
        if let Some(slugs) = &self.claim_slugs {
            let mut values = vec![Value::from(slugs.clone())];
            let stance = stance_condition(stance.as_deref(), &mut values);
            all = all.add(Expr::cust_with_values(
                format!(
                    "{t}.id = ANY(ARRAY(SELECT x.statement_id FROM stance x \
                     JOIN claim c ON c.id = x.claim_id \
                     WHERE c.slug = ANY($1) AND c.deleted_at IS NULL{stance}))"
                ),
                values,
            ));
        }
        if let Some(stance) = stance.filter(|_| !claims_named) {
            let from = match rows {
                Rows::Table(_) => format!("stance x WHERE x.statement_id = {t}.id AND"),
                Rows::Snapshot(_) => format!("{} WHERE", snapshot_stances(t)),
            };
            all = all.add(Expr::cust_with_values(
                format!("EXISTS (SELECT 1 FROM {from} x.stance = $1::stance_kind)"),
                [stance],
            ));
        }
        if let Some(ids) = &self.topic_ids {
            all = all.add(match rows {
                Rows::Table(_) => Expr::cust_with_values(
                    format!(
                        "EXISTS (SELECT 1 FROM statement_topic x WHERE x.statement_id = {t}.id \
                         AND x.topic_id = ANY($1))"
                    ),
                    [ids.clone()],
                ),
                Rows::Snapshot(_) => Expr::cust_with_values(
                    format!(
                        "EXISTS (SELECT 1 FROM jsonb_array_elements_text({t}.after->'topic_ids') \
                         x(topic_id) WHERE x.topic_id::uuid = ANY($1))"
                    ),
                    [ids.clone()],
                ),
            });
        }
        if let Some(ids) = &self.article_ids {
            all = all.add(Expr::cust_with_values(
                format!(
                    "EXISTS (SELECT 1 FROM appearance x WHERE x.statement_id = {t}.id \
                     AND x.article_id = ANY($1) AND x.deleted_at IS NULL)"
                ),
                [ids.clone()],
            ));
        }
        if let Some(from) = self.stated_from {
            all = all.add(Expr::cust_with_values(
                format!("{t}.stated_on >= $1"),
                [from],
            ));
        }
        if let Some(to) = self.stated_to {
            all = all.add(Expr::cust_with_values(format!("{t}.stated_on <= $1"), [to]));
        }
        if let Some(language) = &self.language {
            all = all.add(Expr::cust_with_values(
                format!("{t}.language = $1"),
                [language.clone()],
            ));
        }
        if let Some(text) = &self.text {
            all = all.add(Expr::cust_with_values(
                format!("to_tsvector('simple', {t}.text) @@ plainto_tsquery('simple', $1)"),
                [text.clone()],
            ));
        }
        if let Some(bands) = &self.verdict_bands {
            // No band listed matches nothing, as an empty list of ids does.
            let any = if bands.is_empty() {
                "false".to_owned()
            } else {
                bands
                    .iter()
                    .map(|b| b.condition("v.score"))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            };
            all = all.add(Expr::cust(format!(
                "EXISTS (SELECT 1 FROM verdict v WHERE v.statement_id = {t}.id \
                 AND v.status = 'PUBLISHED' AND v.deleted_at IS NULL AND ({any}))"
            )));
        }
        all
    }
}

/// ` AND x.stance = $2` when a stance is asked for (its value bound second).
fn stance_condition(stance: Option<&str>, values: &mut Vec<Value>) -> &'static str {
    match stance {
        Some(stance) => {
            values.push(Value::from(stance.to_owned()));
            " AND x.stance = $2::stance_kind"
        }
        None => "",
    }
}

/// The stances of a rebuilt statement as rows `x(claim_id, stance)`.
fn snapshot_stances(t: &str) -> String {
    format!("jsonb_to_recordset({t}.after->'stances') AS x(claim_id uuid, stance stance_kind)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::sql::Params;

    #[test]
    fn an_empty_filter_holds_for_every_row() {
        let mut params = Params::new();
        assert_eq!(
            params.condition(Filter::default().condition(Rows::Table("s"))),
            "TRUE"
        );
    }

    #[test]
    fn each_condition_binds_its_values_in_order() {
        let filter = Filter {
            speaker_ids: Some(vec![Uuid::nil()]),
            claim_ids: Some(vec![]),
            stance: Some(StanceKind::Opposes),
            language: Some("en".into()),
            ..Filter::default()
        };
        let mut params = Params::new();
        params.bind(1);
        let sql = params.condition(filter.condition(Rows::Table("s")));
        assert!(sql.contains("s.speaker_id = ANY($2)"), "{sql}");
        assert!(
            sql.contains("x.claim_id = ANY($3) AND x.stance = $4::stance_kind"),
            "{sql}"
        );
        assert!(sql.contains("s.language = $5"), "{sql}");
        // The stance is held to the claims named, not asked of any claim besides.
        assert_eq!(sql.matches("stance_kind").count(), 1, "{sql}");
        assert_eq!(params.len(), 5);
    }

    #[test]
    fn checking_refuses_a_reversed_range_and_a_long_text_and_drops_a_blank_one() {
        let day = |d| NaiveDate::from_ymd_opt(2020, 1, d).unwrap();
        let reversed = Filter {
            stated_from: Some(day(2)),
            stated_to: Some(day(1)),
            ..Filter::default()
        };
        assert!(reversed.checked().is_err());
        let long = Filter {
            text: Some("w".repeat(MAX_TEXT_CHARS + 1)),
            ..Filter::default()
        };
        assert!(long.checked().is_err());
        let blank = Filter {
            text: Some("  ".into()),
            ..Filter::default()
        };
        assert_eq!(blank.checked().unwrap().text, None);
    }

    #[test]
    fn as_of_names_the_first_condition_it_cannot_hold() {
        let filter = Filter {
            article_ids: Some(vec![]),
            verdict_bands: Some(vec![]),
            ..Filter::default()
        };
        assert_eq!(filter.outside_as_of(), Some("filter.articleIds"));
        assert_eq!(Filter::default().outside_as_of(), None);
    }
}
