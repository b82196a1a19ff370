//! The hidden check suites.
//!
//! Every check is a function generic over an [`Implementation`], the crate of
//! answers under test, so the same check grades the `exercises` crate, proves
//! itself on the reference (`solutions`), and is shown to fail on the
//! deliberately wrong implementations in this crate's tests. The grader runs
//! [`suite`]; nothing in here prints.

pub mod bilinear;
pub mod check;
mod implementation;
pub mod misbehaving;
pub mod networks;
pub mod training;

pub use check::{Check, Exercise, Settings, Status, Visibility, run};
pub use implementation::{Exercises, Implementation, Solutions};

// For `implementation!`, so that its users need not depend on these crates.
#[doc(hidden)]
pub use {fcn_kit, ndarray, tch};

/// Every exercise, in course order.
pub const EXERCISES: [Exercise; 4] = [bilinear::EXERCISE, networks::VGG, networks::FCN, training::EXERCISE];

/// Every check of every exercise, in course order.
pub fn suite<I: Implementation>() -> Vec<Check> {
    let mut checks = bilinear::checks::<I>();
    checks.extend(networks::vgg_checks::<I>());
    checks.extend(networks::fcn_checks::<I>());
    checks.extend(training::checks::<I>());
    checks
}
