//! Live: the event log followed as it grows. Each instance runs one [`Hub`], which
//! listens for the log's `NOTIFY`, reads new events once and hands them to every
//! subscription it holds; the webhook workers (see [`webhook`]) carry the same events
//! to other systems.

pub mod hub;
pub mod webhook;

pub use hub::Hub;
