//! The four scores of the paper's tables, from a confusion matrix, as the
//! release's `score.py` computes them.
//!
//! `hist[g][p]` counts the pixels of ground-truth class `g` predicted as `p`;
//! pixels whose ground truth is void (255) are not counted. With `n_ii` the
//! pixels of class `i` predicted `i`, `t_i` the pixels of class `i` (row sum)
//! and `p_i` the pixels predicted `i` (column sum):
//!
//! * pixel accuracy: `sum_i n_ii / sum_i t_i`
//! * mean accuracy: the mean over classes of `n_ii / t_i`
//! * mean IU: the mean over classes of `n_ii / (t_i + p_i - n_ii)`
//! * frequency-weighted IU: `sum_i (t_i / sum_k t_k) * IU_i`
//!
//! A class absent from both the ground truth and the predictions has an IU of
//! 0/0: like numpy's `nanmean`, the means leave it out.
//!
//! A crate of its own, kept from the students' hand-out (which carries
//! `fcn-train`): it is the answer to bonus exercise 8.

use fcn_train::train::{Batches, predict};
use fcn_train::voc::VOID;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor, nn};

/// Pixel counts by (ground truth, prediction).
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    classes: usize,
    /// Row-major `classes x classes`.
    counts: Vec<u64>,
}

/// The paper's four scores, as fractions (0 to 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub pixel_accuracy: f64,
    pub mean_accuracy: f64,
    pub mean_iu: f64,
    pub frequency_weighted_iu: f64,
}

impl Confusion {
    pub fn new(classes: usize) -> Self {
        Confusion { classes, counts: vec![0; classes * classes] }
    }

    /// Counts one pair of ground-truth and predicted labels.
    ///
    /// # Panics
    ///
    /// If a label (other than a void ground truth) is not below `classes`.
    pub fn add(&mut self, truth: u8, predicted: u8) {
        if truth == VOID {
            return;
        }
        let (g, p) = (truth as usize, predicted as usize);
        assert!(g < self.classes && p < self.classes, "label {g} or {p} is not below {} classes", self.classes);
        self.counts[g * self.classes + p] += 1;
    }

    /// Counts a batch: `truth` and `predicted` are integer tensors of the same
    /// shape (void = 255 in `truth`).
    pub fn add_tensors(&mut self, truth: &Tensor, predicted: &Tensor) {
        let truth = truth.flatten(0, -1).to_kind(Kind::Int64).to_device(tch::Device::Cpu);
        let predicted = predicted.flatten(0, -1).to_kind(Kind::Int64).to_device(tch::Device::Cpu);
        let keep = truth.ne(VOID as i64);
        let (truth, predicted) = (truth.masked_select(&keep), predicted.masked_select(&keep));
        let n = self.classes as i64;
        let pairs = (truth * n + predicted).bincount::<Tensor>(None, n * n);
        let pairs = Vec::<i64>::try_from(&pairs).expect("bincount gives int64");
        for (count, add) in self.counts.iter_mut().zip(pairs) {
            *count += add as u64;
        }
    }

    /// How many pixels of ground-truth class `truth` were predicted `predicted`.
    pub fn pixels(&self, truth: usize, predicted: usize) -> u64 {
        self.counts[truth * self.classes + predicted]
    }

    fn count(&self, g: usize, p: usize) -> f64 {
        self.counts[g * self.classes + p] as f64
    }

    pub fn scores(&self) -> Scores {
        let c = self.classes;
        let diagonal: Vec<f64> = (0..c).map(|i| self.count(i, i)).collect();
        let rows: Vec<f64> = (0..c).map(|i| (0..c).map(|j| self.count(i, j)).sum()).collect();
        let columns: Vec<f64> = (0..c).map(|j| (0..c).map(|i| self.count(i, j)).sum()).collect();
        let total: f64 = rows.iter().sum();
        let accuracy: Vec<f64> = (0..c).map(|i| diagonal[i] / rows[i]).collect();
        let iu: Vec<f64> = (0..c).map(|i| diagonal[i] / (rows[i] + columns[i] - diagonal[i])).collect();
        let frequency_weighted_iu =
            (0..c).filter(|&i| rows[i] > 0.0).map(|i| rows[i] / total * iu[i]).sum::<f64>();
        Scores {
            pixel_accuracy: diagonal.iter().sum::<f64>() / total,
            mean_accuracy: nan_mean(&accuracy),
            mean_iu: nan_mean(&iu),
            frequency_weighted_iu,
        }
    }
}

/// The mean of the values that are not NaN (NaN when there are none).
fn nan_mean(values: &[f64]) -> f64 {
    let kept: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Scores a network on every image of `data`, in eval mode.
pub fn evaluate(net: &nn::FuncT<'static>, data: &Batches, classes: usize) -> Scores {
    confusion(net, data, classes).scores()
}

/// The confusion matrix of a network on `data`, in eval mode.
pub fn confusion(net: &nn::FuncT<'static>, data: &Batches, classes: usize) -> Confusion {
    let _guard = tch::no_grad_guard();
    let mut confusion = Confusion::new(classes);
    for (image, mask) in data.images().iter().zip(data.masks()) {
        confusion.add_tensors(mask, &predict(net, image));
    }
    confusion
}
