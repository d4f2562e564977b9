//! A look at a query document's text before anything recursive reads it: how deep its
//! brackets nest (selection sets, argument lists, list and object values, variable
//! definitions), and whether a string escapes a UTF-16 surrogate, which the parser
//! cannot turn into a character. One pass, no recursion, no allocation: a document
//! nesting thousands deep is refused here, before the parser's recursion would
//! overflow the stack.

/// What the scan found wrong with a document's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextFault {
    /// Brackets nest deeper than the limit.
    TooDeep { limit: usize },
    /// A string escapes a surrogate (`\uD800`–`\uDFFF`), at this byte offset.
    SurrogateEscape { offset: usize },
}

impl std::fmt::Display for TextFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooDeep { limit } => write!(
                f,
                "the query document nests brackets (selections, arguments, lists, objects) \
                 more than {limit} deep"
            ),
            Self::SurrogateEscape { offset } => write!(
                f,
                "a string at byte {offset} escapes a UTF-16 surrogate (\\uD800-\\uDFFF); \
                 write the character itself"
            ),
        }
    }
}

/// Scans a document's text: brackets outside strings and comments must nest at most
/// `limit` deep, and no string may escape a surrogate.
pub fn scan(text: &str, limit: usize) -> Result<(), TextFault> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // A block string: no escapes but `\"""`; it ends at the next `"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        if bytes.get(i + 1) == Some(&b'u') && escapes_surrogate(&bytes[i + 2..]) {
                            return Err(TextFault::SurrogateEscape { offset: i });
                        }
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limit {
                    return Err(TextFault::TooDeep { limit });
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Whether four hex digits name a code point in the surrogate range.
fn escapes_surrogate(digits: &[u8]) -> bool {
    let Some(digits) = digits.get(..4) else {
        return false;
    };
    let Ok(digits) = std::str::from_utf8(digits) else {
        return false;
    };
    u32::from_str_radix(digits, 16).is_ok_and(|c| (0xD800..=0xDFFF).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_of_every_kind() {
        assert_eq!(scan("{ a(x: [{b: 1}]) { c } }", 4), Ok(()));
        assert_eq!(
            scan("{ a(x: [{b: [1]}]) { c } }", 4),
            Err(TextFault::TooDeep { limit: 4 })
        );
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let q = "{ a(x: \"{{{{[[[(((\\\"{{{\") # {{{{{{{\n b(y: \"\"\"{{{{ \\\"\"\" {{{{\"\"\") }";
        assert_eq!(scan(q, 2), Ok(()));
    }

    #[test]
    fn a_deep_value_is_refused_before_any_recursion() {
        let n = 100_000;
        let q = format!("{{ nosuch(x: {}1{}) }}", "{a:".repeat(n), "}".repeat(n));
        assert_eq!(scan(&q, 64), Err(TextFault::TooDeep { limit: 64 }));
    }

    #[test]
    fn surrogate_escapes_are_found_in_strings_only() {
        assert!(matches!(
            scan(r#"{ a(x: "ok \uD83D\uDE00") }"#, 8),
            Err(TextFault::SurrogateEscape { .. })
        ));
        assert!(matches!(
            scan(r#"{ a(x: "\udfff") }"#, 8),
            Err(TextFault::SurrogateEscape { .. })
        ));
        assert_eq!(scan(r#"{ a(x: "\u00e9 \\uD800") }"#, 8), Ok(()));
        assert_eq!(scan("# \\uD800\n{ a }", 8), Ok(()));
        assert_eq!(scan(r#"{ a(x: """\uD800""") }"#, 8), Ok(()));
    }
}
