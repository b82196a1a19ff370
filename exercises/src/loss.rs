//! # Exercise 4: the per-pixel loss
//!
//! A segmentation network is a classifier at every pixel, and it learns as
//! one: at each labelled pixel, the softmax of its class scores should put
//! the probability on the right class. The loss is that classifier's
//! cross-entropy, at every pixel, over the pixels that are labelled.
//!
//! ## The maths
//!
//! At one pixel with scores `s_1 ... s_C` (one per class) and true class
//! `y`, the softmax gives class `c` the probability
//! `p_c = exp(s_c) / (exp(s_1) + ... + exp(s_C))`, and the cross-entropy is
//!
//! ```text
//! -log p_y = log(exp(s_1) + ... + exp(s_C)) - s_y
//! ```
//!
//! Written so, `exp` overflows as soon as a score passes about 88 (in
//! `f32`): `exp(100)` is infinite, and the loss becomes `inf - 100` or NaN.
//! Subtract the largest score `m` first: `log(sum exp(s_c)) = m + log(sum
//! exp(s_c - m))`, where every `exp` is at most 1 and one of them is 1.
//!
//! **Void pixels.** PASCAL VOC labels the outlines of objects and the
//! regions nobody could label 255 ("void"). They are no class: they add
//! nothing to the loss, and they do not count as pixels.
//!
//! **Normalisation.** The kit averages over the labelled pixels of the
//! whole batch: the sum of the per-pixel losses over the number of labelled
//! pixels (0 when no pixel is labelled, so that a batch of void trains
//! nothing rather than making NaN). The CVPR paper's nets did the same.
//! The authors' Caffe release summed instead (`normalize: false` in its
//! loss layer), which multiplies the gradient by the number of pixels, a
//! quarter of a million for a 500x500 image; that is why its learning rate
//! is 1e-10, where an averaged loss trains with 1e-4 or so. The two are the
//! same training, up to that factor in the step.
//!
//! ## A worked example
//!
//! Two pixels, two classes. The first has scores `[2, 0]` and class 0; the
//! second is void.
//!
//! ```text
//! pixel 1: log(exp(2) + exp(0)) - 2 = log(1 + exp(-2)) = 0.126928
//! pixel 2: void, left out
//! loss = 0.126928 / 1 labelled pixel = 0.126928
//! ```
//!
//! Use elementary tensor operations (arithmetic, `exp`, `log`, sums,
//! maxima, `gather`, comparisons, `where`): libtorch's own losses, softmax
//! and `logsumexp` are what this exercise builds, and the grader refuses a
//! file that calls them. The loss must stay differentiable: the training
//! loop back-propagates through it.
//!
//! Run `cargo test -p exercises --test loss` to check your work. The
//! grader's training checks then train your networks with your loss.

pub use fcn_common::VOID;
// What the body needs; unused while it is still `todo!()`.
#[allow(unused_imports)]
use tch::{Kind, Tensor};

/// The softmax cross-entropy of `scores` (N x C x H x W, float) against
/// `labels` (N x H x W, int64: a class in `0..C`, or [`VOID`]), averaged
/// over the labelled pixels: a scalar (a tensor of no dimensions), 0 when
/// every pixel is void.
pub fn pixel_loss(scores: &Tensor, labels: &Tensor) -> Tensor {
    todo!("exercise 4: pixel_loss of scores {:?} and labels {:?}", scores.size(), labels.size())
}
