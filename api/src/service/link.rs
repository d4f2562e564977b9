//! link rules.
