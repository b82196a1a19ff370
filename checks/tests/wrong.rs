//! Each check can fail: a deliberately wrong implementation loses the points
//! of the check written to catch its mistake, and keeps the others.

use checks::{Implementation, Mistake, Solutions, Status};
use fcn_common::FixedUpsampling;
use ndarray::{Array2, Array4, s};
use solutions::bilinear as reference;
use tch::nn;

/// The names of the exercise-1 checks that `I` does not pass.
fn failed<I: Implementation>() -> Vec<&'static str> {
    checks::bilinear::checks::<I>().iter().filter(|check| !checks::run(check).passed()).map(|check| check.name).collect()
}

/// Puts `filter` on the diagonal, as the reference does.
fn weight_from(filter: Array2<f32>, channels: usize) -> Array4<f32> {
    let size = filter.nrows();
    let mut weight = Array4::zeros((channels, channels, size, size));
    for c in 0..channels {
        weight.slice_mut(s![c, c, .., ..]).assign(&filter);
    }
    weight
}

/// A layer holding `weight`, made as the reference makes it.
fn layer_from(path: &nn::Path, weight: Array4<f32>, stride: i64) -> FixedUpsampling {
    let shape: Vec<i64> = weight.shape().iter().map(|&d| d as i64).collect();
    let mut variable = path.zeros_no_train("weight", &shape);
    let _guard = tch::no_grad_guard();
    variable.copy_(&tch::Tensor::try_from(&weight).unwrap());
    FixedUpsampling { weight: variable, stride }
}

fn kernel(stride: i64) -> usize {
    fcn_common::upsampling_kernel_size(stride) as usize
}

/// Implements everything as the reference does except the filter, which
/// `$filter` computes; the weight and layer are built from that filter.
macro_rules! with_filter {
    ($name:ident, |$size:ident| $filter:expr) => {
        struct $name;
        impl Mistake for $name {
            fn bilinear_filter($size: usize) -> Array2<f32> {
                $filter
            }
            fn upsampling_weight(channels: usize, size: usize) -> Array4<f32> {
                weight_from(<Self as Mistake>::bilinear_filter(size), channels)
            }
            fn bilinear_upsampling(path: &nn::Path, channels: i64, stride: i64) -> FixedUpsampling {
                layer_from(path, <Self as Mistake>::upsampling_weight(channels as usize, kernel(stride)), stride)
            }
        }
    };
}

// Uses `factor - 1` as the centre for every size, as for odd ones.
with_filter!(CentreWrongForEvenSizes, |size| {
    let factor = size.div_ceil(2) as f64;
    let tent = |i: usize| 1.0 - (i as f64 - (factor - 1.0)).abs() / factor;
    Array2::from_shape_fn((size, size), |(i, j)| (tent(i) * tent(j)) as f32)
});

// Scales the filter to sum to one, like a blur kernel, instead of peaking at one.
with_filter!(NormalisedToSumOne, |size| {
    let filter = reference::bilinear_filter(size);
    let sum = filter.sum();
    filter / sum
});

// Uses the float centre (size - 1) / 2 and half the size as the factor.
with_filter!(FactorFromHalfTheSize, |size| {
    let (factor, center) = (size as f64 / 2.0, (size as f64 - 1.0) / 2.0);
    let tent = |i: usize| 1.0 - (i as f64 - center).abs() / factor;
    Array2::from_shape_fn((size, size), |(i, j)| (tent(i) * tent(j)) as f32)
});

// Answers that compute nothing: a filter of zeros (the weight and the layer
// built from it), and one of NaN.
with_filter!(AllZeros, |size| Array2::zeros((size, size)));
with_filter!(AllNan, |size| Array2::from_elem((size, size), f32::NAN));

#[test]
fn an_answer_that_computes_nothing_earns_no_point() {
    let every: Vec<&str> = checks::bilinear::checks::<Solutions>().iter().map(|c| c.name).collect();
    assert_eq!(failed::<AllZeros>(), every, "zeros");
    assert_eq!(failed::<AllNan>(), every, "NaN");
}

#[test]
fn even_centre_mistake_fails_only_the_even_sizes_and_what_depends_on_them() {
    let failed = failed::<CentreWrongForEvenSizes>();
    assert!(failed.contains(&"filter values, even sizes 2 to 64"), "{failed:?}");
    assert!(!failed.contains(&"filter values, odd sizes 1 to 63"), "{failed:?}");
    assert!(failed.contains(&"layer interpolates bilinearly"), "{failed:?}");
    assert!(!failed.contains(&"weight: filter on the channel diagonal, zeros elsewhere"), "{failed:?}");
}

#[test]
fn filter_normalised_to_sum_one_is_caught() {
    let failed = failed::<NormalisedToSumOne>();
    for name in [
        "filter values, odd sizes 1 to 63",
        "filter values, even sizes 2 to 64",
        "the lecture's 2x2 to 3x3 example",
        "layer keeps a constant map constant",
    ] {
        assert!(failed.contains(&name), "{name} should fail: {failed:?}");
    }
    assert!(!failed.contains(&"filter is symmetric"), "{failed:?}");
}

#[test]
fn factor_from_half_the_size_is_caught() {
    let failed = failed::<FactorFromHalfTheSize>();
    assert!(failed.contains(&"filter values, odd sizes 1 to 63"), "{failed:?}");
}

/// The filter in every kernel of the weight, not only on the diagonal.
struct FilterOffTheDiagonal;
impl Mistake for FilterOffTheDiagonal {
    fn upsampling_weight(channels: usize, size: usize) -> Array4<f32> {
        let filter = reference::bilinear_filter(size);
        Array4::from_shape_fn((channels, channels, size, size), |(_, _, y, x)| filter[[y, x]])
    }
    fn bilinear_upsampling(path: &nn::Path, channels: i64, stride: i64) -> FixedUpsampling {
        layer_from(path, <Self as Mistake>::upsampling_weight(channels as usize, kernel(stride)), stride)
    }
}

#[test]
fn filter_off_the_diagonal_is_caught() {
    let failed = failed::<FilterOffTheDiagonal>();
    assert!(failed.contains(&"weight: filter on the channel diagonal, zeros elsewhere"), "{failed:?}");
    assert!(failed.contains(&"layer keeps a constant map constant"), "{failed:?}");
    assert!(!failed.contains(&"filter values, even sizes 2 to 64"), "{failed:?}");
}

/// A learnable layer: `nn::conv_transpose2d` with bilinear values copied in.
struct TrainableLayer;
impl Mistake for TrainableLayer {
    fn bilinear_upsampling(path: &nn::Path, channels: i64, stride: i64) -> FixedUpsampling {
        let size = kernel(stride);
        let config = nn::ConvTransposeConfig { stride, bias: false, ..Default::default() };
        let mut layer = nn::conv_transpose2d(path, channels, channels, size as i64, config);
        let _guard = tch::no_grad_guard();
        layer.ws.copy_(&tch::Tensor::try_from(&<Self as Mistake>::upsampling_weight(channels as usize, size)).unwrap());
        FixedUpsampling { weight: layer.ws, stride }
    }
}

#[test]
fn trainable_layer_is_caught() {
    assert_eq!(failed::<TrainableLayer>(), ["layer: one fixed variable named weight, no bias"]);
}

/// Panics with a message of its own, not a `todo!()`.
struct Panics;
impl Mistake for Panics {
    fn bilinear_filter(_: usize) -> Array2<f32> {
        panic!("index out of bounds")
    }
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let first = &checks::suite::<Panics>()[0];
    assert_eq!(checks::run(first), Status::Panicked("index out of bounds".to_owned()));
}
