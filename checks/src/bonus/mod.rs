//! Hidden checks for the bonus track (exercises 5 to 8), scored apart from
//! the core exercises.
//!
//! The random cases are drawn from fixed seeds, so a failure names a case
//! that fails again on the next run.

pub mod dilated;
pub mod metrics;
pub mod transposed;
pub mod unpooling;

use crate::Bonus;
use crate::check::{Check, Exercise, ensure};
use ndarray::ArrayD;
use ndarray_rand::RandomExt;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::Uniform;
use tch::Tensor;

/// The bonus exercises, in course order.
pub const EXERCISES: [Exercise; 4] = [
    transposed::EXERCISE,
    unpooling::EXERCISE,
    dilated::EXERCISE,
    metrics::EXERCISE,
];

/// Every check of the bonus track.
pub fn checks<I: Bonus>() -> Vec<Check> {
    let mut checks = transposed::checks::<I>();
    checks.extend(unpooling::checks::<I>());
    checks.extend(dilated::checks::<I>());
    checks.extend(metrics::checks::<I>());
    checks
}

/// Largest difference allowed between two float32 results of order 1 (sums
/// of up to a few hundred products).
const TOLERANCE: f64 = 1e-4;

/// A float tensor of `shape`, uniform in [-1, 1), drawn from `rng`.
fn random_tensor(rng: &mut StdRng, shape: &[i64]) -> Tensor {
    let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let values = ArrayD::random_using(shape, Uniform::new(-1f32, 1.), rng);
    Tensor::try_from(&values).expect("an f32 array converts")
}

/// `Err` naming `what` unless `actual` has `expected`'s shape and values.
fn same(actual: &Tensor, expected: &Tensor, what: impl Fn() -> String) -> Result<(), String> {
    if actual.size() != expected.size() {
        return Err(format!(
            "{}: the shape is {:?}, expected {:?}",
            what(),
            actual.size(),
            expected.size()
        ));
    }
    let worst = (actual.to_kind(tch::Kind::Double) - expected.to_kind(tch::Kind::Double))
        .abs()
        .max()
        .double_value(&[]);
    if worst.is_nan() || worst > TOLERANCE {
        return Err(format!(
            "{}: the values differ (by up to {worst:.3e})",
            what()
        ));
    }
    Ok(())
}

/// `Err` naming `what` unless `spread` has `shape` and holds `values` at
/// every `step`-th row and column from 0 and zeros everywhere else: a bed of
/// nails, or a spread filter.
fn spread_out(spread: &Tensor, values: &Tensor, step: [i64; 2], shape: [i64; 4], what: impl Fn() -> String) -> Result<(), String> {
    ensure(spread.size() == shape, || format!("{}: the shape is {:?}, expected {shape:?}", what(), spread.size()))?;
    let on_grid = spread.slice(2, 0, None, step[0]).slice(3, 0, None, step[1]);
    same(&on_grid, values, || format!("{}, at every {step:?}-th row and column", what()))?;
    // Every value is on the grid, so the rest is zero exactly when the
    // magnitudes add up to the grid's alone.
    let magnitude = |t: &Tensor| t.abs().sum(tch::Kind::Double).double_value(&[]);
    let rest = magnitude(spread) - magnitude(values);
    ensure(rest.abs() < 1e-3, || format!("{}: the positions between the values are not all zero", what()))
}
