//! Bonus exercise 6, unpooling: the public tests.
//!
//! Run them with `cargo test -p exercises --test unpooling`. They check the
//! lecture's 2x2 examples; the grader's hidden checks draw random maps,
//! factors and poolings.

use exercises::unpooling::{bed_of_nails_unpool, max_unpool, nearest_unpool};
use fcn_common::values::{Results, assert_matches, normal};
use tch::{Kind, Tensor};

fn values(tensor: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(tensor.to_kind(Kind::Float).flatten(0, -1)).expect("a float tensor")
}

fn one_two_three_four() -> Tensor {
    Tensor::from_slice(&[1f32, 2., 3., 4.]).view([1, 1, 2, 2])
}

#[test]
fn nearest_neighbour_copies_each_value_into_its_block() {
    let unpooled = nearest_unpool(&one_two_three_four(), 2);
    assert_eq!(unpooled.size(), [1, 1, 4, 4], "unpooling 2x2 by 2 should give 4x4");
    #[rustfmt::skip]
    let expected = [1., 1., 2., 2.,
                    1., 1., 2., 2.,
                    3., 3., 4., 4.,
                    3., 3., 4., 4.];
    assert_eq!(values(&unpooled), expected, "nearest_unpool differs from the lecture's example");
}

#[test]
fn bed_of_nails_puts_each_value_in_a_corner() {
    let unpooled = bed_of_nails_unpool(&one_two_three_four(), 2);
    assert_eq!(unpooled.size(), [1, 1, 4, 4], "unpooling 2x2 by 2 should give 4x4");
    #[rustfmt::skip]
    let expected = [1., 0., 2., 0.,
                    0., 0., 0., 0.,
                    3., 0., 4., 0.,
                    0., 0., 0., 0.];
    assert_eq!(values(&unpooled), expected, "bed_of_nails_unpool differs from the lecture's example");
}

#[test]
fn max_unpooling_puts_the_maxima_back_where_they_were() {
    #[rustfmt::skip]
    let map = Tensor::from_slice(&[0f32, 0., 0., 2.,
                                   0., 1., 0., 0.,
                                   0., 0., 4., 0.,
                                   0., 3., 0., 1.]).view([1, 1, 4, 4]);
    let (pooled, indices) = map.max_pool2d_with_indices([2, 2], [2, 2], [0, 0], [1, 1], false);
    assert_eq!(values(&pooled), [1., 2., 3., 4.]);
    let unpooled = max_unpool(&pooled, &indices, [4, 4]);
    #[rustfmt::skip]
    let expected = [0., 0., 0., 2.,
                    0., 1., 0., 0.,
                    0., 0., 4., 0.,
                    0., 3., 0., 0.];
    assert_eq!(values(&unpooled), expected, "max_unpool differs from the module docs' example");
}

#[test]
fn max_unpooling_follows_the_docs_worked_example() {
    let input = Tensor::from_slice(&[5f32, 4.]).view([1, 1, 1, 2]);
    let indices = Tensor::from_slice(&[1i64, 10]).view([1, 1, 1, 2]);
    let unpooled = max_unpool(&input, &indices, [3, 4]);
    assert_eq!(unpooled.size(), [1, 1, 3, 4], "the output should be output_size per channel");
    let expected = [0., 5., 0., 0., 0., 0., 0., 0., 0., 0., 4., 0.];
    assert_eq!(values(&unpooled), expected, "index 1 is row 0, column 1; index 10 is row 2, column 2");
}

/// The reference's values (exercises/tests/reference-values/unpooling.json)
/// for a fixed 2x3x5x7 map.
#[test]
fn same_values_as_the_reference() {
    let input = normal(&[2, 3, 5, 7], "unpooling input");
    let (pooled, indices) = input.max_pool2d_with_indices([2, 2], [2, 2], [0, 0], [1, 1], true);
    let mut results = Results::new();
    results.add("nearest_unpool(input, 3)", &nearest_unpool(&input, 3));
    results.add("bed_of_nails_unpool(input, 2)", &bed_of_nails_unpool(&input, 2));
    results.add("max_unpool of the 2x2 max pooling", &max_unpool(&pooled, &indices, [5, 7]));
    assert_matches("the unpoolings of a fixed 2x3x5x7 map", &results, "unpooling");
}
