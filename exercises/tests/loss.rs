//! Exercise 4, the per-pixel loss: the public tests.
//!
//! Run them with `cargo test -p exercises --test loss`. The grader's hidden
//! checks draw random scores and labels (void pixels, absent classes,
//! extreme scores), and its training checks then train your networks with
//! your loss.

use exercises::loss::{VOID, pixel_loss};
use fcn_common::values::{Results, assert_matches, normal};
use tch::{Device, Kind, Tensor};

const VOID_LABEL: i64 = VOID as i64;

fn value(loss: &Tensor) -> f64 {
    assert_eq!(loss.numel(), 1, "the loss should be one number, not a tensor of shape {:?}", loss.size());
    loss.double_value(&[])
}

#[test]
fn the_docs_worked_example() {
    // Pixel 1: scores [2, 0], class 0. Pixel 2: void.
    let scores = Tensor::from_slice(&[2f32, 5., 0., -3.]).view([1, 2, 1, 2]);
    let labels = Tensor::from_slice(&[0i64, VOID_LABEL]).view([1, 1, 2]);
    let loss = value(&pixel_loss(&scores, &labels));
    assert!((loss - 0.126928).abs() < 1e-5, "the docs' example gives {loss}, not 0.126928");
}

#[test]
fn equal_scores_cost_log_of_the_class_count() {
    // A network that knows nothing: every class equally likely.
    let scores = Tensor::zeros([2, 5, 3, 4], (Kind::Float, Device::Cpu));
    let labels = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 0]).repeat([4]).view([2, 3, 4]);
    let loss = value(&pixel_loss(&scores, &labels));
    assert!((loss - 5f64.ln()).abs() < 1e-5, "equal scores over 5 classes should cost log 5 = {}, not {loss}", 5f64.ln());
}

#[test]
fn a_batch_of_void_pixels_costs_nothing() {
    let scores = Tensor::randn([1, 3, 4, 4], (Kind::Float, Device::Cpu));
    let labels = Tensor::full([1, 4, 4], VOID_LABEL, (Kind::Int64, Device::Cpu));
    let loss = value(&pixel_loss(&scores, &labels));
    assert_eq!(loss, 0.0, "no labelled pixel: the loss should be 0 (not NaN)");
}

#[test]
fn huge_scores_do_not_overflow() {
    let scores = Tensor::from_slice(&[1000f32, 0., 0., 1000.]).view([1, 2, 1, 2]);
    let labels = Tensor::from_slice(&[1i64, 1]).view([1, 1, 2]);
    let loss = value(&pixel_loss(&scores, &labels));
    assert!((loss - 500.0).abs() < 1e-3, "scores of 1000: the loss should be 500 (one pixel costs 1000, one 0), not {loss}");
}

#[test]
fn the_gradient_reaches_the_scores() {
    let scores = Tensor::randn([1, 3, 2, 2], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let labels = Tensor::from_slice(&[0i64, 2, VOID_LABEL, 1]).view([1, 2, 2]);
    pixel_loss(&scores, &labels).backward();
    let grad = scores.grad();
    assert!(grad.defined(), "no gradient reached the scores: the training loop back-propagates through the loss");
    // The void pixel's scores get no gradient; at a labelled pixel, the
    // gradient over the classes sums to 0 (softmax minus one-hot).
    let at_void = grad.narrow(2, 1, 1).narrow(3, 0, 1).abs().max().double_value(&[]);
    assert!(at_void < 1e-7, "the void pixel's scores got a gradient of {at_void}");
    let sums = grad.sum_dim_intlist(1, false, Kind::Float).abs().max().double_value(&[]);
    assert!(sums < 1e-6, "at each pixel the gradient over the classes should sum to 0 (it sums to up to {sums})");
}

/// The reference's values (exercises/tests/reference-values/loss.json) for
/// fixed scores and labels.
#[test]
fn same_values_as_the_reference() {
    let scores = normal(&[2, 6, 5, 7], "loss scores") * 3.0;
    let classes = (normal(&[2, 5, 7], "loss labels").abs() * 2.0).to_kind(Kind::Int64).clamp(0, 5);
    let void = normal(&[2, 5, 7], "loss void").gt(0.8);
    let labels = classes.where_scalarother(&void.logical_not(), VOID_LABEL);
    let mut results = Results::new();
    results.add("pixel_loss of fixed scores and labels", &pixel_loss(&scores, &labels).view([1]));
    results.add("pixel_loss of the same scores times 200", &pixel_loss(&(&scores * 200.0), &labels).view([1]));
    let first = labels.narrow(0, 0, 1);
    results.add("pixel_loss of the first image alone", &pixel_loss(&scores.narrow(0, 0, 1), &first).view([1]));
    assert_matches("the loss of fixed scores and labels", &results, "loss");
}
