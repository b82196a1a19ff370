//! Exercise 1, the bilinear upsampling filter: the public tests.
//!
//! Run them with `cargo test -p exercises --test bilinear`. They check the
//! properties the docs of `exercises/src/bilinear.rs` describe; the grader's
//! hidden checks test more sizes and compare with the reference values.

use assert_approx_eq::assert_approx_eq;
use exercises::bilinear::{bilinear_filter, bilinear_upsampling, upsampling_weight};
use fcn_common::values::{Results, assert_matches, normal};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// Tolerance for single-precision values of order 1.
const EPS: f32 = 1e-6;

#[test]
fn filter_is_size_by_size() {
    for size in [1, 2, 3, 4, 7, 16, 64] {
        let filter = bilinear_filter(size);
        assert_eq!(filter.dim(), (size, size), "bilinear_filter({size}) has the wrong shape");
    }
}

#[test]
fn filter_of_size_one_keeps_the_value() {
    assert_approx_eq!(bilinear_filter(1)[[0, 0]], 1.0, EPS);
}

#[test]
fn filter_of_size_three_is_the_tent_from_the_docs() {
    let tent = [0.5, 1.0, 0.5];
    let filter = bilinear_filter(3);
    for i in 0..3 {
        for j in 0..3 {
            assert!(
                (filter[[i, j]] - tent[i] * tent[j]).abs() < EPS,
                "bilinear_filter(3)[[{i}, {j}]] is not tent[{i}] * tent[{j}] (see the docs' worked example)"
            );
        }
    }
}

#[test]
fn filter_of_size_four_starts_like_the_worked_example() {
    let filter = bilinear_filter(4);
    let first_rows = [[0.0625, 0.1875, 0.1875, 0.0625], [0.1875, 0.5625, 0.5625, 0.1875]];
    for (i, row) in first_rows.iter().enumerate() {
        for (j, &value) in row.iter().enumerate() {
            assert!(
                (filter[[i, j]] - value).abs() < EPS,
                "bilinear_filter(4)[[{i}, {j}]] differs from the docs' worked example; \
                 check `center` for even sizes"
            );
        }
    }
}

#[test]
fn filter_is_symmetric() {
    for size in 1..=9 {
        let filter = bilinear_filter(size);
        for i in 0..size {
            for j in 0..size {
                assert!(
                    (filter[[i, j]] - filter[[j, i]]).abs() < EPS,
                    "bilinear_filter({size}) is not symmetric: [{i}, {j}] differs from [{j}, {i}]"
                );
                assert!(
                    (filter[[i, j]] - filter[[size - 1 - i, j]]).abs() < EPS,
                    "bilinear_filter({size}) is not symmetric about its centre row at [{i}, {j}]"
                );
            }
        }
    }
}

#[test]
fn weight_has_the_filter_on_the_diagonal_and_zeros_elsewhere() {
    let (channels, size) = (3, 4);
    let weight = upsampling_weight(channels, size);
    assert_eq!(weight.dim(), (channels, channels, size, size), "upsampling_weight(3, 4) has the wrong shape");
    let filter = bilinear_filter(size);
    for i in 0..channels {
        for o in 0..channels {
            for y in 0..size {
                for x in 0..size {
                    let expected = if i == o { filter[[y, x]] } else { 0.0 };
                    assert!(
                        (weight[[i, o, y, x]] - expected).abs() < EPS,
                        "upsampling_weight(3, 4)[[{i}, {o}]] should be {}",
                        if i == o { "the filter (diagonal)" } else { "zeros (off the diagonal)" }
                    );
                }
            }
        }
    }
}

#[test]
fn layer_is_a_fixed_variable_named_weight() {
    let store = nn::VarStore::new(Device::Cpu);
    let layer = bilinear_upsampling(&(store.root() / "upscore"), 21, 32);
    assert!(store.trainable_variables().is_empty(), "the upsampling layer must not be trainable");
    let variables = store.variables();
    let weight = variables.get("upscore.weight").expect("the layer's variable should be named \"weight\"");
    assert_eq!(variables.len(), 1, "the layer should have one variable (a weight, no bias)");
    assert_eq!(weight.size(), [21, 21, 64, 64], "stride 32 should give a [21, 21, 64, 64] weight");
    assert!(!layer.weight.requires_grad(), "the layer's weight must not require a gradient");
}

#[test]
fn layer_output_size_follows_the_transposed_convolution_formula() {
    let store = nn::VarStore::new(Device::Cpu);
    let layer = bilinear_upsampling(&(store.root() / "upscore2"), 2, 2);
    let input = Tensor::ones([1, 2, 5, 7], (Kind::Float, Device::Cpu));
    // (n - 1) * stride + kernel size, with a kernel of 4 for stride 2.
    assert_eq!(layer.forward(&input).size(), [1, 2, 12, 16], "upsampling a 5x7 map by 2 gives the wrong size");
}

/// The reference's values (exercises/tests/reference-values/bilinear.json):
/// the filters of sizes 1 to 9, 16, 32 and 64, a weight, and the layer's
/// output for three strides.
#[test]
fn same_values_as_the_reference() {
    let mut results = Results::new();
    for size in [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 32, 64] {
        results.add(format!("bilinear_filter({size})"), &Tensor::try_from(&bilinear_filter(size)).expect("f32"));
    }
    results.add("upsampling_weight(3, 4)", &Tensor::try_from(&upsampling_weight(3, 4)).expect("f32"));
    let store = nn::VarStore::new(Device::Cpu);
    let input = normal(&[1, 2, 5, 7], "bilinear input");
    for stride in [2, 8, 32] {
        let layer = bilinear_upsampling(&(store.root() / format!("upscore{stride}")), 2, stride);
        results.add(format!("bilinear_upsampling (2 channels, stride {stride}) of a 5x7 map"), &layer.forward(&input));
    }
    assert_matches("the bilinear filters, weight and layers", &results, "bilinear");
}
