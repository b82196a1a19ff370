//! Bonus exercise 8, the segmentation metrics: the public tests.
//!
//! Run them with `cargo test -p exercises --test metrics`. The grader's hidden
//! checks compare your scores with the kit's own on random label maps.

use assert_approx_eq::assert_approx_eq;
use exercises::metrics::{confusion_matrix, frequency_weighted_iu, mean_accuracy, mean_iu, pixel_accuracy};
use ndarray::array;

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
