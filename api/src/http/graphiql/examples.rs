//! The README's example queries, which GraphiQL opens as its first tabs. The README is
//! read at compile time, so each example has one definition; a README mutation is never
//! preloaded, where a click would run it.

use async_graphql::parser::types::{DocumentOperations, OperationType};

/// The README, whose ```graphql blocks are the examples.
const README: &str = include_str!("../../../../README.md");

/// A preloaded GraphiQL tab: a README example, headed by the README section it comes
/// from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tab {
    query: String,
}

impl Tab {
    #[cfg(test)]
    pub fn new(query: &str) -> Self {
        Self {
            query: query.to_owned(),
        }
    }
}

/// The README's example queries as tabs, in README order (see [`tabs_of`]).
pub fn tabs() -> Vec<Tab> {
    tabs_of(README)
}

/// A Markdown text's example queries as tabs, in order. A block that does not
/// parse, or holds a mutation or a subscription, is left out (the tests hold the README
/// to parsing). An anonymous example is named after its section, which GraphiQL shows
/// as the tab's title.
fn tabs_of(readme: &str) -> Vec<Tab> {
    let mut tabs = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (heading, block) in graphql_blocks(readme) {
        let Ok(document) = async_graphql::parser::parse_query(&block) else {
            continue;
        };
        // The parser keeps an anonymous operation as the single one.
        let anonymous = match &document.operations {
            DocumentOperations::Single(op) => {
                if op.node.ty != OperationType::Query {
                    continue;
                }
                true
            }
            DocumentOperations::Multiple(ops) => {
                if ops.values().any(|op| op.node.ty != OperationType::Query) {
                    continue;
                }
                false
            }
        };
        let mut query = block.trim().to_owned();
        if anonymous && query.starts_with('{') {
            let base = operation_name(&heading);
            if !base.is_empty() {
                let taken = names.iter().filter(|n| **n == base).count();
                names.push(base.clone());
                let name = match taken {
                    0 => base,
                    n => format!("{base}{}", n + 1),
                };
                query = format!("query {name} {query}");
            }
        }
        tabs.push(Tab {
            query: format!("# {heading}\n{query}\n"),
        });
    }
    tabs
}

/// Each ```graphql fenced block of a Markdown text, with the heading it sits under.
fn graphql_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut heading = String::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if let Some(fence) = line.strip_prefix("```") {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            if fence.trim() == "graphql" {
                blocks.push((heading.clone(), body.join("\n")));
            }
        } else if let Some(title) = heading_of(line) {
            heading = title.to_owned();
        }
    }
    blocks
}

/// The title of a Markdown heading line (`## Title`).
fn heading_of(line: &str) -> Option<&str> {
    let title = line.trim_start_matches('#');
    let level = line.len() - title.len();
    ((1..=6).contains(&level) && title.starts_with(' ')).then(|| title.trim())
}

/// A GraphQL operation name made of a heading's words: "1. How did this speaker's
/// position change?" is `HowDidThisSpeakersPositionChange`, "fact-checkers" gives
/// `FactCheckers`. Letters outside ASCII are left out.
fn operation_name(heading: &str) -> String {
    let apostrophe = |c: char| c == '\'' || c == '’';
    let name: String = heading
        .split(|c: char| !(c.is_alphanumeric() || apostrophe(c)))
        .map(|word| {
            let word: String = word.chars().filter(char::is_ascii_alphanumeric).collect();
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    name.trim_start_matches(|c: char| c.is_ascii_digit())
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's ```graphql blocks that hold a mutation or a subscription, told by
    /// their first word (not by the parser under test).
    fn is_write(block: &str) -> bool {
        let first = block
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or_default();
        first.starts_with("mutation") || first.starts_with("subscription")
    }

    #[test]
    fn every_readme_query_example_becomes_a_tab_headed_by_its_section() {
        let blocks = graphql_blocks(README);
        let queries: Vec<_> = blocks.iter().filter(|(_, b)| !is_write(b)).collect();
        assert!(
            queries.len() >= 5,
            "the README has its examples: {blocks:#?}"
        );
        let tabs = tabs();
        assert_eq!(
            tabs.len(),
            queries.len(),
            "a README query example is missing from the tabs (does it parse?)"
        );
        for (tab, (heading, block)) in tabs.iter().zip(queries) {
            assert!(
                tab.query.starts_with(&format!("# {heading}\n")),
                "{}",
                tab.query
            );
            // The example's own text, whole (after the name given to an anonymous one).
            assert!(tab.query.contains(block.trim().trim_start_matches('{')));
        }
        assert!(tabs[0].query.starts_with(
            "# Did Donald Trump's position on the Russia–US cyber security working group \
             change?\nquery DidDonaldTrumpsPositionOnTheRussiaUSCyberSecurityWorkingGroupChange {"
        ));
    }

    #[test]
    fn every_tab_parses_as_one_query() {
        for tab in tabs() {
            let document = async_graphql::parser::parse_query(&tab.query)
                .unwrap_or_else(|e| panic!("{e}: {}", tab.query));
            let operations: Vec<_> = document.operations.iter().collect();
            assert_eq!(operations.len(), 1, "one operation: {}", tab.query);
            assert_eq!(operations[0].1.node.ty, OperationType::Query);
        }
    }

    #[test]
    fn mutations_and_unparsable_blocks_are_not_preloaded() {
        let readme = "#hashtag\n# Writes\n```graphql\nmutation { purgeRecord(input: {}) { purgedId } }\n```\n\
            ## Broken\n```graphql\n{ speaker(\n```\n\
            ## Reads\n```graphql\n{ speakers { totalCount } }\n```\n```graphql\n\
            { claims { totalCount } }\n```\n```json\n{}\n```\n";
        let tabs = tabs_of(readme);
        let queries: Vec<_> = tabs.iter().map(|t| t.query.as_str()).collect();
        assert_eq!(
            queries,
            [
                "# Reads\nquery Reads { speakers { totalCount } }\n",
                "# Reads\nquery Reads2 { claims { totalCount } }\n",
            ]
        );
    }

    #[test]
    fn operation_names_come_from_the_heading_words() {
        assert_eq!(
            operation_name("1. How did this speaker's position change?"),
            "HowDidThisSpeakersPositionChange"
        );
        assert_eq!(
            operation_name("2. What did fact-checkers conclude?"),
            "WhatDidFactCheckersConclude"
        );
        assert_eq!(operation_name("Russia–US Trump’s"), "RussiaUSTrumps");
        assert_eq!(operation_name("Сергей"), "");
    }
}
