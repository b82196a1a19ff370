//! Bonus exercise 8, the segmentation metrics: the public tests.
//!
//! Run them with `cargo test -p exercises --test metrics`. The grader's hidden
//! checks compare your scores with the kit's own on random label maps.

use assert_approx_eq::assert_approx_eq;
use exercises::metrics::{confusion_matrix, frequency_weighted_iu, mean_accuracy, mean_iu, pixel_accuracy};
use fcn_common::values::{Results, assert_matches, normal};
use ndarray::{Array2, array};
use tch::Tensor;

#[test]
fn confusion_matrix_of_the_docs_example() {
    let truth = array![[0u8, 0, 1], [1, 255, 2]];
    let prediction = array![[0u8, 0, 1], [2, 0, 1]];
    let hist = confusion_matrix(&truth, &prediction, 3);
    assert_eq!(
        hist,
        array![[2u64, 0, 0], [0, 1, 1], [0, 1, 0]],
        "rows are the truth, columns the prediction; void is skipped"
    );
}

#[test]
fn scores_of_the_docs_example() {
    let hist = array![[2u64, 0, 0], [0, 1, 1], [0, 1, 0]];
    assert_approx_eq!(pixel_accuracy(&hist), 0.6, 1e-12);
    assert_approx_eq!(mean_accuracy(&hist), 0.5, 1e-12);
    assert_approx_eq!(mean_iu(&hist), 4.0 / 9.0, 1e-12);
    assert_approx_eq!(frequency_weighted_iu(&hist), 8.0 / 15.0, 1e-12);
}

#[test]
fn a_perfect_prediction_scores_one_everywhere() {
    let hist = array![[5u64, 0, 0], [0, 3, 0], [0, 0, 0]];
    for (name, score) in [
        ("pixel accuracy", pixel_accuracy(&hist)),
        ("mean accuracy", mean_accuracy(&hist)),
        ("mean IU", mean_iu(&hist)),
        ("f.w. IU", frequency_weighted_iu(&hist)),
    ] {
        assert!(!score.is_nan(), "{name} is NaN: class 2, absent from both, should be left out");
        assert_approx_eq!(score, 1.0, 1e-12);
    }
}

/// The reference's values (exercises/tests/reference-values/metrics.json)
/// for fixed 40x50 label maps with 5 classes and some void pixels in the truth.
#[test]
fn same_values_as_the_reference() {
    let labels = |seed: &str, void: bool| {
        let values = Vec::<f32>::try_from(normal(&[40 * 50], seed)).expect("f32");
        let classes = values.iter().map(|v| if void && *v > 2.0 { 255 } else { (v.abs() * 2.5).min(4.0) as u8 }).collect();
        Array2::from_shape_vec((40, 50), classes).expect("40x50")
    };
    let (truth, prediction) = (labels("metrics truth", true), labels("metrics prediction", false));
    let hist = confusion_matrix(&truth, &prediction, 5);
    let mut results = Results::new();
    results.add("confusion_matrix", &Tensor::try_from(&hist.mapv(|n| n as f64)).expect("f64"));
    for (name, score) in [
        ("pixel_accuracy", pixel_accuracy(&hist)),
        ("mean_accuracy", mean_accuracy(&hist)),
        ("mean_iu", mean_iu(&hist)),
        ("frequency_weighted_iu", frequency_weighted_iu(&hist)),
    ] {
        results.add(name, &Tensor::from(score));
    }
    assert_matches("the metrics of fixed 40x50 label maps", &results, "metrics");
}
