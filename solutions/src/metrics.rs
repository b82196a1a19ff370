//! # Bonus exercise 8: the segmentation metrics
//!
//! The FCN paper reports four numbers per network (its Table 2 and Table 3):
//! pixel accuracy, mean accuracy, mean IU and frequency-weighted IU. All four
//! come from one table, the confusion matrix, and you compute them here the
//! way the authors' `score.py` does. The grader compares them with the kit's
//! own implementation (`fcn_train::metrics`), which scores the training runs.
//!
//! **The confusion matrix** `hist` is `classes x classes`: `hist[g][p]` counts
//! the pixels whose ground truth is class `g` and whose prediction is `p`.
//! Pixels whose ground truth is 255 ("void": object borders and ambiguous
//! regions in PASCAL VOC) are not counted at all, whatever was predicted.
//!
//! **The scores.** With `n_ii = hist[i][i]` (class `i` predicted right),
//! `t_i` the sum of row `i` (pixels that are class `i`) and `p_i` the sum of
//! column `i` (pixels predicted as `i`):
//!
//! ```text
//! pixel accuracy          sum_i n_ii / sum_i t_i
//! mean accuracy           mean over classes of  n_ii / t_i
//! mean IU                 mean over classes of  n_ii / (t_i + p_i - n_ii)
//! frequency-weighted IU   sum_i (t_i / sum_k t_k) * n_ii / (t_i + p_i - n_ii)
//! ```
//!
//! IU is intersection over union: the pixels both call class `i`, over the
//! pixels either calls class `i`.
//!
//! **Classes that are missing.** A class absent from the ground truth has
//! `t_i = 0`, so its accuracy is `0 / 0`; a class absent from both the truth
//! and the prediction also has an IU of `0 / 0`. `score.py` uses numpy's
//! `nanmean`, which leaves these NaNs out of the means. A class that is
//! predicted but absent from the truth has an IU of 0, and that 0 does count.
//! The frequency-weighted IU gives absent classes a weight of 0.
//!
//! Worked example, 3 classes, 6 pixels (one of them void):
//!
//! ```text
//! truth       0 0 1 1 255 2        hist   2 0 0      pixel accuracy 3/5 = 0.6
//! prediction  0 0 1 2   0 1               0 1 1      mean accuracy  (1 + 1/2 + 0)/3 = 0.5
//!                                         0 1 0      mean IU        (1 + 1/3 + 0)/3 = 0.444...
//!                                                    f.w. IU        (2*1 + 2/3 + 0)/5 = 0.533...
//! ```

// What the bodies need; unused while they are still `todo!()`.
#[allow(unused_imports)]
use ndarray::{Array1, Array2, Axis, Zip};

/// The label of pixels that are not scored.
pub const VOID: u8 = 255;

/// The confusion matrix of a ground-truth label map and a predicted one of
/// the same shape, over `classes` classes: `hist[g][p]` counts the pixels of
/// truth `g` predicted `p`; pixels whose truth is [`VOID`] are skipped.
///
/// # Panics
///
/// If the two maps differ in shape, or a label that is not skipped is not
/// below `classes`; the message names the label and the pixel.
pub fn confusion_matrix(
    truth: &Array2<u8>,
    prediction: &Array2<u8>,
    classes: usize,
) -> Array2<u64> {
    // STUB: todo!("bonus exercise 8: confusion_matrix of {:?} label maps, {classes} classes", (truth.dim(), prediction.dim()))
    // BEGIN SOLUTION
    assert_eq!(
        truth.dim(),
        prediction.dim(),
        "the truth and the prediction differ in shape"
    );
    let mut hist = Array2::zeros((classes, classes));
    for ((at, &g), &p) in truth.indexed_iter().zip(prediction) {
        if g == VOID {
            continue;
        }
        let (g, p) = (g as usize, p as usize);
        assert!(
            g < classes && p < classes,
            "pixel {at:?}: label {g} or {p} is not below {classes} classes"
        );
        hist[[g, p]] += 1;
    }
    hist
    // END SOLUTION
}

/// The fraction of scored pixels predicted right.
pub fn pixel_accuracy(hist: &Array2<u64>) -> f64 {
    // STUB: todo!("bonus exercise 8: pixel_accuracy of a {:?} confusion matrix", hist.dim())
    // BEGIN SOLUTION
    hist.diag().sum() as f64 / hist.sum() as f64
    // END SOLUTION
}

/// The mean over classes of each class's accuracy (`n_ii / t_i`), leaving out
/// classes absent from the ground truth.
///
/// Hint: write a small helper that averages the values that are not NaN; you
/// need it again for the mean IU.
pub fn mean_accuracy(hist: &Array2<u64>) -> f64 {
    // STUB: todo!("bonus exercise 8: mean_accuracy of a {:?} confusion matrix", hist.dim())
    // BEGIN SOLUTION
    let accuracy = diagonal(hist) / hist.sum_axis(Axis(1)).mapv(|t| t as f64);
    nan_mean(&accuracy)
    // END SOLUTION
}

/// The mean over classes of each class's intersection over union, leaving
/// out classes absent from both the ground truth and the prediction.
pub fn mean_iu(hist: &Array2<u64>) -> f64 {
    // STUB: todo!("bonus exercise 8: mean_iu of a {:?} confusion matrix", hist.dim())
    // BEGIN SOLUTION
    nan_mean(&intersection_over_union(hist))
    // END SOLUTION
}

/// Each class's intersection over union, weighted by the class's share of
/// the scored pixels.
pub fn frequency_weighted_iu(hist: &Array2<u64>) -> f64 {
    // STUB: todo!("bonus exercise 8: frequency_weighted_iu of a {:?} confusion matrix", hist.dim())
    // BEGIN SOLUTION
    let frequency = hist.sum_axis(Axis(1)).mapv(|t| t as f64) / hist.sum() as f64;
    Zip::from(&frequency)
        .and(&intersection_over_union(hist))
        .fold(0.0, |sum, &f, &iu| if f > 0.0 { sum + f * iu } else { sum })
    // END SOLUTION
}

// BEGIN SOLUTION
fn diagonal(hist: &Array2<u64>) -> Array1<f64> {
    hist.diag().mapv(|n| n as f64)
}

fn intersection_over_union(hist: &Array2<u64>) -> Array1<f64> {
    let union = hist.sum_axis(Axis(1)) + hist.sum_axis(Axis(0)) - hist.diag();
    diagonal(hist) / union.mapv(|u| u as f64)
}

/// The mean of the values that are not NaN, as numpy's `nanmean`.
fn nan_mean(values: &Array1<f64>) -> f64 {
    let kept: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    kept.iter().sum::<f64>() / kept.len() as f64
}
// END SOLUTION
