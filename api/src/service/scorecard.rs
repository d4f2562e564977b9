//! Scorecards: per speaker, what fact-checkers concluded (published verdicts by rating
//! band) and how often the speaker changed position, optionally within a date range.
//!
//! Rating bands split the normalized score `(value − worst) / (best − worst)`, where
//! 0 is the reviewer's worst rating and 1 its best, into five equal fifths:
//! FALSE [0, 0.2), MOSTLY_FALSE [0.2, 0.4), MIXED [0.4, 0.6), MOSTLY_TRUE [0.6, 0.8),
//! TRUE [0.8, 1]; a verdict with a label but no numeric rating is UNRATED.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};
use tracing::instrument;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::service::position::{self, ChangeFilter};

/// A band of normalized rating scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Band {
    False,
    MostlyFalse,
    Mixed,
    MostlyTrue,
    True,
    Unrated,
}

impl Band {
    pub const ALL: [Band; 6] = [
        Band::False,
        Band::MostlyFalse,
        Band::Mixed,
        Band::MostlyTrue,
        Band::True,
        Band::Unrated,
    ];

    /// The scored bands, lowest first, each with its lower bound (the next one's is
    /// its upper bound, excluded).
    const LOWER_BOUNDS: [(Band, f64); 5] = [
        (Band::False, 0.0),
        (Band::MostlyFalse, 0.2),
        (Band::Mixed, 0.4),
        (Band::MostlyTrue, 0.6),
        (Band::True, 0.8),
    ];

    /// The band of a normalized score.
    pub fn of(score: Option<f64>) -> Band {
        let Some(score) = score else {
            return Band::Unrated;
        };
        Self::LOWER_BOUNDS
            .iter()
            .rev()
            .find(|(_, lower)| score >= *lower)
            .map_or(Band::False, |(band, _)| *band)
    }

    /// The band as a condition on the SQL expression `score` (a normalized score,
    /// null when unrated): the same ranges as [`Band::of`].
    pub fn condition(self, score: &str) -> String {
        let Some(at) = Self::LOWER_BOUNDS.iter().position(|(b, _)| *b == self) else {
            return format!("{score} IS NULL");
        };
        let lower = match at {
            0 => None,
            _ => Some(Self::LOWER_BOUNDS[at].1),
        };
        let upper = Self::LOWER_BOUNDS.get(at + 1).map(|(_, bound)| *bound);
        match (lower, upper) {
            (Some(lower), Some(upper)) => format!("({score} >= {lower} AND {score} < {upper})"),
            (None, Some(upper)) => format!("{score} < {upper}"),
            (Some(lower), None) => format!("{score} >= {lower}"),
            (None, None) => format!("{score} IS NOT NULL"),
        }
    }
}

/// A speaker's record over a date range.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    pub statements: i64,
    pub reported_statements: i64,
    pub claims: i64,
    pub position_changes: i64,
    /// Published verdicts on the speaker's statements, by band, every band listed.
    pub bands: Vec<(Band, i64)>,
}

#[derive(Debug, FromQueryResult)]
struct Counts {
    statements: i64,
    reported_statements: i64,
    claims: i64,
}

#[derive(Debug, FromQueryResult)]
struct Score {
    score: Option<f64>,
}

#[instrument(skip(db))]
pub async fn scorecard<C: ConnectionTrait>(
    db: &C,
    speaker_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Scorecard> {
    let values: Vec<Value> = vec![speaker_id.into(), from.into(), to.into()];
    let range = "s.deleted_at IS NULL AND s.speaker_id = $1 \
                 AND ($2::date IS NULL OR s.stated_on >= $2) AND ($3::date IS NULL OR s.stated_on <= $3)";
    let counts = Counts::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "SELECT (SELECT COUNT(*) FROM statement s WHERE {range}) AS statements, \
                    (SELECT COUNT(*) FROM statement s WHERE {range} AND s.reported_by_id IS NOT NULL) AS reported_statements, \
                    (SELECT COUNT(DISTINCT st.claim_id) FROM stance st JOIN statement s ON s.id = st.statement_id \
                       WHERE {range}) AS claims"
        ),
        values.clone(),
    ))
    .one(db)
    .await?
    .unwrap_or(Counts { statements: 0, reported_statements: 0, claims: 0 });
    let scores = Score::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "SELECT v.score FROM verdict v JOIN statement s ON s.id = v.statement_id \
             WHERE v.status = 'PUBLISHED' AND v.deleted_at IS NULL AND {range}"
        ),
        values,
    ))
    .all(db)
    .await?;
    let bands = Band::ALL
        .iter()
        .map(|band| {
            (
                *band,
                scores.iter().filter(|s| Band::of(s.score) == *band).count() as i64,
            )
        })
        .collect();
    let filter = ChangeFilter {
        speaker_id: Some(speaker_id),
        from,
        to,
        ..ChangeFilter::default()
    };
    let changes = db.query_one_raw(position::count_changes(&filter)).await?;
    let position_changes = changes
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    Ok(Scorecard {
        statements: counts.statements,
        reported_statements: counts.reported_statements,
        claims: counts.claims,
        position_changes,
        bands,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_split_the_score_into_fifths() {
        assert_eq!(Band::of(Some(0.0)), Band::False);
        assert_eq!(Band::of(Some(0.19)), Band::False);
        assert_eq!(Band::of(Some(0.2)), Band::MostlyFalse);
        assert_eq!(Band::of(Some(0.25)), Band::MostlyFalse);
        assert_eq!(Band::of(Some(0.5)), Band::Mixed);
        assert_eq!(Band::of(Some(0.79)), Band::MostlyTrue);
        assert_eq!(Band::of(Some(0.8)), Band::True);
        assert_eq!(Band::of(Some(1.0)), Band::True);
        assert_eq!(Band::of(None), Band::Unrated);
    }

    #[test]
    fn a_band_as_sql_holds_the_same_ranges() {
        assert_eq!(Band::False.condition("v.score"), "v.score < 0.2");
        assert_eq!(
            Band::Mixed.condition("v.score"),
            "(v.score >= 0.4 AND v.score < 0.6)"
        );
        assert_eq!(Band::True.condition("v.score"), "v.score >= 0.8");
        assert_eq!(Band::Unrated.condition("v.score"), "v.score IS NULL");
    }
}
