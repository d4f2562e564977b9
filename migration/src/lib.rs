//! Schema migrations, one file per change (`mYYYYMMDD_HHMMSS_verb_noun.rs`). A merged
//! migration is never edited: changes come as new files.

pub use sea_orm_migration::prelude::*;

/// The `MigrationTrait` of a migration that runs one SQL script up and another down
/// (`UP` and `DOWN`, as `&str`).
macro_rules! sql_migration {
    ($up:expr, $down:expr) => {
        #[async_trait::async_trait]
        impl MigrationTrait for Migration {
            async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                manager.get_connection().execute_unprepared($up).await?;
                Ok(())
            }

            async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                manager.get_connection().execute_unprepared($down).await?;
                Ok(())
            }
        }
    };
}

mod m20261126_000001_create_schema;
mod m20261126_000002_add_positions;
mod m20261126_000003_add_as_of_indexes;
mod m20261126_000004_add_search;
mod m20261126_000006_protect_revisions;
mod m20261126_000007_add_purge;
mod m20261126_000008_add_search_config_use;
mod m20261127_000009_key_search_indexes_on_config;
mod m20261127_000010_add_statement_text_bands;
mod m20261127_000011_index_search_per_config;
mod m20261206_000012_add_natural_keys;
mod m20261206_000013_cover_appearances_by_article;
mod m20261207_000014_add_events;
mod m20261208_000015_notify_key_changes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_schema::Migration),
            Box::new(m20261126_000002_add_positions::Migration),
            Box::new(m20261126_000003_add_as_of_indexes::Migration),
            Box::new(m20261126_000004_add_search::Migration),
            Box::new(m20261126_000006_protect_revisions::Migration),
            Box::new(m20261126_000007_add_purge::Migration),
            Box::new(m20261126_000008_add_search_config_use::Migration),
            Box::new(m20261127_000009_key_search_indexes_on_config::Migration),
            Box::new(m20261127_000010_add_statement_text_bands::Migration),
            Box::new(m20261127_000011_index_search_per_config::Migration),
            Box::new(m20261206_000012_add_natural_keys::Migration),
            Box::new(m20261206_000013_cover_appearances_by_article::Migration),
            Box::new(m20261207_000014_add_events::Migration),
            Box::new(m20261208_000015_notify_key_changes::Migration),
        ]
    }
}
