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
use crate::check::{Check, Exercise};
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
