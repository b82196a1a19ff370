//! `cargo course`, the student's command: the exercises as the registry
//! lists them (the `registry` crate, re-exported here), and the state of a
//! student's work on them.

pub mod progress;

pub use registry::{Exercise, Track, exercises, ids, named};
