//! The hidden check suites.
//!
//! Every check is a function generic over an [`Implementation`], the crate of
//! answers under test, so the same check grades the `exercises` crate, proves
//! itself on the reference (`solutions`), and is shown to fail on the
//! deliberately wrong implementations in this crate's tests. The grader runs
//! [`suite`]; nothing in here prints.

pub mod align;
pub mod bilinear;
pub mod bonus;
pub mod check;
mod implementation;
pub mod loss;
mod mistake;
pub mod networks;
pub mod training;
pub mod transfer;

pub use check::{BudgetChoice, Check, Exercise, Settings, Status, Track, Visibility, fresh_cases, run};
pub use implementation::{Bonus, Implementation, Net, Solutions, TrainingRun};
pub use mistake::{BonusMistake, Mistake};

// For `implementation!`, so that its users need not depend on these crates.
#[doc(hidden)]
pub use {fcn_common, ndarray, student_api, tch};

/// Every exercise, in course order: the core track, then the bonus track.
pub const EXERCISES: [Exercise; 8] = [
    bilinear::EXERCISE,
    networks::VGG,
    networks::FCN,
    training::EXERCISE,
    bonus::transposed::EXERCISE,
    bonus::unpooling::EXERCISE,
    bonus::dilated::EXERCISE,
    bonus::metrics::EXERCISE,
];

/// Every check of every exercise of both tracks, in course order.
pub fn full_suite<I: Implementation + Bonus>() -> Vec<Check> {
    let mut checks = suite::<I>();
    checks.extend(bonus::checks::<I>());
    checks
}

/// Every check of the core track, in course order.
pub fn suite<I: Implementation>() -> Vec<Check> {
    let mut checks = bilinear::checks::<I>();
    checks.extend(networks::vgg_checks::<I>());
    checks.extend(transfer::checks::<I>());
    checks.extend(align::checks::<I>());
    checks.extend(networks::fcn_checks::<I>());
    checks.extend(loss::checks::<I>());
    checks.extend(training::checks::<I>());
    checks
}
