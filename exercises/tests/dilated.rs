//! Bonus exercise 7, dilated convolution: the public tests.
//!
//! Run them with `cargo test -p exercises --test dilated`. The grader's
//! hidden checks draw random filters, dilations and stacks of layers.

use exercises::dilated::{dilated_conv2d, receptive_field, spread_filter};
use fcn_common::Window;
use fcn_common::values::{Results, assert_matches, normal};
use tch::{Device, Kind, Tensor};

#[test]
fn spreading_follows_the_docs_worked_example() {
    let filter = Tensor::from_slice(&[1f32, 2., 3.]).view([1, 1, 1, 3]);
    let spread = spread_filter(&filter, [1, 3]);
    assert_eq!(spread.size(), [1, 1, 1, 7], "[1, 2, 3] spread by 3 should have 7 taps");
    let values = Vec::<f32>::try_from(spread.flatten(0, -1)).expect("a float tensor");
    assert_eq!(values, [1., 0., 0., 2., 0., 0., 3.], "spread_filter differs from the docs' example");
}

#[test]
fn dilated_convolution_equals_libtorch_on_one_case() {
    let input = Tensor::randn([2, 3, 11, 12], (Kind::Float, Device::Cpu));
    let weight = Tensor::randn([4, 3, 3, 3], (Kind::Float, Device::Cpu));
    let expected = input.conv2d(&weight, None::<Tensor>, [1, 1], [2, 2], [2, 2], 1);
    let output = dilated_conv2d(&input, &weight, [1, 1], [2, 2], [2, 2]);
    assert_eq!(output.size(), expected.size(), "dilated_conv2d gives the wrong shape");
    let worst = (&output - &expected).abs().max().double_value(&[]);
    assert!(worst < 1e-4, "dilated_conv2d differs from conv2d with dilation 2 (by up to {worst})");
}

#[test]
fn receptive_field_follows_the_docs_worked_example() {
    assert_eq!(receptive_field(&[]), 1, "no layers see one pixel");
    assert_eq!(receptive_field(&[Window::conv(3)]), 3);
    assert_eq!(receptive_field(&[Window::conv(3), Window::pool(2, 2), Window::conv(3)]), 8);
}

#[test]
fn doubling_dilations_grow_the_receptive_field_exponentially() {
    let stack: Vec<Window> = [1, 2, 4].into_iter().map(|d| Window::dilated(3, d)).collect();
    assert_eq!(receptive_field(&stack), 15, "3x3 with dilations 1, 2, 4 should see 15 pixels (the lecture's example)");
}

/// The reference's values (exercises/tests/reference-values/dilated.json)
/// for a fixed map, filter and stacks of layers.
#[test]
fn same_values_as_the_reference() {
    let input = normal(&[2, 3, 17, 19], "dilated input");
    let weight = normal(&[4, 3, 3, 2], "dilated weight");
    let mut results = Results::new();
    results.add("spread_filter(weight, [2, 3])", &spread_filter(&weight, [2, 3]));
    results.add("dilated_conv2d, stride [1, 1], padding [2, 3], dilation [2, 3]", &dilated_conv2d(&input, &weight, [1, 1], [2, 3], [2, 3]));
    results.add("dilated_conv2d, stride [2, 1], padding [0, 1], dilation [3, 2]", &dilated_conv2d(&input, &weight, [2, 1], [0, 1], [3, 2]));
    let stack = [Window::conv(3), Window::pool(2, 2), Window::dilated(3, 2), Window::dilated(3, 4), Window::conv(7)];
    let fields: Vec<f32> = (1..=stack.len()).map(|n| receptive_field(&stack[..n]) as f32).collect();
    results.add("receptive_field of a growing stack of layers", &Tensor::from_slice(&fields));
    assert_matches("the dilated convolutions of a fixed 2x3x17x19 map", &results, "dilated");
}
