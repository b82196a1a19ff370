//! The student's crate as the checks see it: an [`Implementation`] whose
//! every call crosses over to the runner, a process built from the
//! student's code alone and started in a sandbox.
//!
//! The checks stay as they are, generic over the implementation. What comes
//! back is data (tensors, variable listings, numbers), read strictly: names
//! and shapes are checked against what was asked before a check sees them.
//! When the runner dies or breaks the protocol, the call ends the check with
//! a [`Status`] (crashed) that the grader, not the runner, decided.

mod api;
mod connection;
mod networks;
mod training;
mod variables;

pub use api::Remote;
pub use connection::{Connection, connect, connected, disconnect, stopped_by_watchdog, watchdog};
