//! Bonus exercise 5, transposed convolution from scratch: the public tests.
//!
//! Run them with `cargo test -p exercises --test transposed`, and the doc test
//! in `src/transposed.rs` with `cargo test -p exercises --doc`. The grader's
//! hidden checks draw many more strides, paddings, kernels and channel counts.

use exercises::transposed::{
    conv_transpose_by_matrix, conv_transpose_by_zero_insertion, convolution_matrix, insert_zeros,
};
use fcn_common::values::{Results, assert_matches, normal};
use tch::{Device, Kind, Tensor};

fn values(tensor: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(tensor.to_kind(Kind::Float).flatten(0, -1)).expect("a float tensor")
}

fn max_difference(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn insert_zeros_spreads_the_docs_example() {
    let input = Tensor::from_slice(&[1f32, 2., 3., 4.]).view([1, 1, 2, 2]);
    let spread = insert_zeros(&input, [2, 2]);
    assert_eq!(spread.size(), [1, 1, 3, 3], "insert_zeros of a 2x2 map by 2 should be 3x3");
    assert_eq!(values(&spread), [1., 0., 2., 0., 0., 0., 3., 0., 4.], "insert_zeros differs from the docs' example");
}

#[test]
fn zero_insertion_gives_the_docs_1d_example() {
    let input = Tensor::from_slice(&[1f32, 2.]).view([1, 1, 1, 2]);
    let kernel = Tensor::from_slice(&[1f32, 2., 3.]).view([1, 1, 1, 3]);
    let output = conv_transpose_by_zero_insertion(&input, &kernel, [1, 2], [0, 0]);
    assert_eq!(output.size(), [1, 1, 1, 5], "[1, 2] upsampled by 2 with a 3-tap kernel should give 5 values");
    assert_eq!(values(&output), [1., 2., 5., 4., 6.], "the docs' worked example: stamps of [1, 2, 3] added up");
}

#[test]
fn convolution_matrix_times_an_image_is_the_convolution() {
    let weight = Tensor::randn([2, 3, 3, 2], (Kind::Float, Device::Cpu));
    let input = Tensor::randn([1, 3, 5, 4], (Kind::Float, Device::Cpu));
    let (stride, padding) = ([2, 1], [1, 0]);
    let expected = input.conv2d(&weight, None::<Tensor>, stride, padding, [1, 1], 1);
    let matrix = convolution_matrix(&weight, [5, 4], stride, padding);
    let outputs = expected.numel() as i64;
    assert_eq!(matrix.size(), [outputs, 3 * 5 * 4], "C should be [outputs, inputs], each side flattened");
    let product = matrix.matmul(&input.flatten(0, -1));
    assert!(max_difference(&product, &expected.flatten(0, -1)) < 1e-4, "C x differs from conv2d");
}

#[test]
fn both_ways_equal_libtorch_on_one_case() {
    let input = Tensor::randn([2, 3, 4, 5], (Kind::Float, Device::Cpu));
    let weight = Tensor::randn([3, 2, 4, 3], (Kind::Float, Device::Cpu));
    let (stride, padding) = ([2, 3], [1, 2]);
    let expected = input.conv_transpose2d(&weight, None::<Tensor>, stride, padding, [0, 0], 1, [1, 1]);
    let by_zeros = conv_transpose_by_zero_insertion(&input, &weight, stride, padding);
    assert_eq!(by_zeros.size(), expected.size(), "zero insertion gives the wrong shape");
    assert!(max_difference(&by_zeros, &expected) < 1e-4, "zero insertion differs from conv_transpose2d");
    let by_matrix = conv_transpose_by_matrix(&input, &weight, stride, padding);
    assert_eq!(by_matrix.size(), expected.size(), "the transposed matrix gives the wrong shape");
    assert!(max_difference(&by_matrix, &expected) < 1e-4, "the transposed matrix differs from conv_transpose2d");
}

/// The reference's values (exercises/tests/reference-values/transposed.json)
/// for fixed maps and weights, stride [2, 3], padding [1, 0].
#[test]
fn same_values_as_the_reference() {
    let input = normal(&[2, 3, 4, 5], "transposed input");
    let weight = normal(&[3, 2, 3, 4], "transposed weight");
    let mut results = Results::new();
    results.add("insert_zeros(input, [2, 3])", &insert_zeros(&input, [2, 3]));
    results.add("conv_transpose_by_zero_insertion", &conv_transpose_by_zero_insertion(&input, &weight, [2, 3], [1, 0]));
    results.add("convolution_matrix", &convolution_matrix(&weight.transpose(0, 1), [9, 11], [2, 3], [1, 0]));
    results.add("conv_transpose_by_matrix", &conv_transpose_by_matrix(&input, &weight, [2, 3], [1, 0]));
    assert_matches("the transposed convolutions of a fixed 2x3x4x5 map", &results, "transposed");
}
