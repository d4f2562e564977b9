//! outlet rules.
