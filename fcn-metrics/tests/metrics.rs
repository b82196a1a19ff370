//! score.py's four scores on cases worked out by hand.

use assert_approx_eq::assert_approx_eq;
use fcn_metrics::Confusion;
use fcn_train::voc::VOID;
use tch::Tensor;

/// Ground truth and prediction, pixel by pixel.
fn confusion(classes: usize, pairs: &[(u8, u8)]) -> Confusion {
    let mut confusion = Confusion::new(classes);
    for &(truth, predicted) in pairs {
        confusion.add(truth, predicted);
    }
    confusion
}

#[test]
fn a_perfect_prediction_scores_one() {
    let s = confusion(3, &[(0, 0), (1, 1), (2, 2), (2, 2)]).scores();
    assert_eq!((s.pixel_accuracy, s.mean_accuracy, s.mean_iu, s.frequency_weighted_iu), (1.0, 1.0, 1.0, 1.0));
}

#[test]
fn two_classes_by_hand() {
    // Truth:      0 0 0 1 1 1
    // Prediction: 0 0 1 1 1 0
    // hist = [[2, 1], [1, 2]]: class 0: 2 right of 3, IU 2 / (3 + 3 - 2) = 0.5.
    let s = confusion(2, &[(0, 0), (0, 0), (0, 1), (1, 1), (1, 1), (1, 0)]).scores();
    assert_approx_eq!(s.pixel_accuracy, 4.0 / 6.0);
    assert_approx_eq!(s.mean_accuracy, 2.0 / 3.0);
    assert_approx_eq!(s.mean_iu, 0.5);
    assert_approx_eq!(s.frequency_weighted_iu, 0.5);
}

#[test]
fn void_pixels_are_not_counted() {
    let with_void = confusion(2, &[(0, 0), (1, 1), (VOID, 0), (VOID, 1)]).scores();
    assert_eq!(with_void.pixel_accuracy, 1.0);
    assert_eq!(with_void.mean_iu, 1.0);
}

#[test]
fn a_class_absent_from_truth_and_prediction_is_left_out_of_the_means() {
    // Three classes; class 2 appears nowhere: its accuracy and IU are 0/0.
    // Truth 0 0 1 1, prediction 0 1 1 1: hist = [[1, 1, 0], [0, 2, 0], [0, 0, 0]].
    let s = confusion(3, &[(0, 0), (0, 1), (1, 1), (1, 1)]).scores();
    assert_approx_eq!(s.pixel_accuracy, 0.75);
    // Accuracies 1/2 and 2/2: mean 0.75 over the two classes present.
    assert_approx_eq!(s.mean_accuracy, 0.75);
    // IUs 1 / (2 + 1 - 1) = 0.5 and 2 / (2 + 3 - 2) = 2/3.
    assert_approx_eq!(s.mean_iu, (0.5 + 2.0 / 3.0) / 2.0);
    // Weighted by the truth's frequencies, 2/4 each.
    assert_approx_eq!(s.frequency_weighted_iu, 0.5 * 0.5 + 0.5 * 2.0 / 3.0);
}

#[test]
fn a_class_only_predicted_counts_with_an_iu_of_zero() {
    // Truth 0 0, prediction 0 1: class 1 is predicted but never true. Its
    // accuracy is 0/0 (left out) but its IU is 0 / (0 + 1 - 0) = 0 (counted).
    let s = confusion(2, &[(0, 0), (0, 1)]).scores();
    assert_approx_eq!(s.mean_accuracy, 0.5);
    assert_approx_eq!(s.mean_iu, (0.5 + 0.0) / 2.0);
    // Frequency weights only cover classes in the truth.
    assert_approx_eq!(s.frequency_weighted_iu, 0.5);
}

#[test]
fn tensors_count_like_pixels() {
    let truth = Tensor::from_slice(&[0i64, 0, 0, 1, 1, 1, 255]).view([1, 7]);
    let predicted = Tensor::from_slice(&[0i64, 0, 1, 1, 1, 0, 1]).view([1, 7]);
    let mut from_tensors = Confusion::new(2);
    from_tensors.add_tensors(&truth, &predicted);
    assert_eq!(from_tensors, confusion(2, &[(0, 0), (0, 0), (0, 1), (1, 1), (1, 1), (1, 0)]));
}
