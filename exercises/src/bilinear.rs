//! # Exercise 1: the bilinear upsampling filter
//!
//! A fully convolutional network sees the image through five 2x2 poolings, so
//! its class scores come out 32 times coarser than the input. To label every
//! pixel, FCN scales the score maps back up. The simplest good way to do that
//! is bilinear interpolation, and bilinear interpolation by an integer factor
//! is a *transposed convolution* with a fixed kernel: each coarse score is
//! multiplied by the kernel and the result is stamped into the output, one
//! stamp every `stride` pixels, with overlapping stamps added up.
//!
//! In one dimension, upsampling `[1, 2]` by 2 with the kernel `[0.5, 1, 0.5]`
//! stamps `[0.5, 1, 0.5]` at position 0 and `[1, 2, 1]` at position 2:
//!
//! ```text
//!   0.5  1    0.5
//!             1    2    1
//!   ---------------------
//!   0.5  1    1.5  2    1      (the middle three, 1 1.5 2, are the interpolation)
//! ```
//!
//! In two dimensions the kernel is the outer product of two such 1-D "tents".
//! FCN builds its upsampling layers this way and keeps them fixed: the
//! authors found that learning them gave no gain.
//!
//! The lecture's example in two dimensions: `[[1, 2], [3, 4]]` upsampled by 2
//! with the 3x3 kernel (the tent `[0.5, 1, 0.5]` times itself) and the border
//! cropped by one pixel (padding 1) is the bilinear interpolation between the
//! four values. Once your [`upsampling_weight`] works, this runs as a test
//! (`cargo test -p exercises --doc`):
//!
//! ```
//! use tch::Tensor;
//! use exercises::bilinear::upsampling_weight;
//!
//! let weight = Tensor::try_from(&upsampling_weight(1, 3)).unwrap();
//! let coarse = Tensor::from_slice(&[1f32, 2., 3., 4.]).view([1, 1, 2, 2]);
//! // stride 2, padding 1, no output padding, one group, no dilation
//! let fine = coarse.conv_transpose2d(&weight, None::<Tensor>, [2, 2], [1, 1], [0, 0], 1, [1, 1]);
//! let expected = Tensor::from_slice(&[1f32, 1.5, 2., 2., 2.5, 3., 3., 3.5, 4.]).view([1, 1, 3, 3]);
//! assert!(fine.allclose(&expected, 1e-6, 1e-6, false), "got {fine}");
//! ```
//!
//! You write three functions, each built on the one before:
//! 1. [`bilinear_filter`]: the `k x k` kernel,
//! 2. [`upsampling_weight`]: the kernel placed in a transposed-convolution
//!    weight for `C` channels,
//! 3. [`bilinear_upsampling`]: a fixed layer made from that weight, which every
//!    FCN head (exercises 2 and 3, and the FCN-32s example) uses.
//!
//! Run `cargo test -p exercises --test bilinear` to check your work.

// What the bodies need; unused while they are still `todo!()`.
#[allow(unused_imports)]
use fcn_common::{FixedUpsampling, upsampling_kernel_size};
#[allow(unused_imports)]
use ndarray::{Array2, Array4, s};
#[allow(unused_imports)]
use tch::{Tensor, nn};

/// The `size x size` bilinear interpolation kernel.
///
/// Each entry is the product of a "tent" evaluated along the rows and along
/// the columns. With integer division,
///
/// ```text
/// factor = (size + 1) / 2
/// center = factor - 1     if size is odd
///          factor - 0.5   if size is even
/// tent(i)      = 1 - |i - center| / factor
/// filter[i][j] = tent(i) * tent(j)
/// ```
///
/// `factor` is the upsampling factor the kernel is meant for, so the tent
/// falls from 1 at the centre to 0 one input pixel away. For an odd size the
/// centre is a pixel; for an even size it falls between the two middle pixels.
///
/// Worked example, `size = 4`: `factor = 2`, `center = 1.5`, so the tent is
/// `[0.25, 0.75, 0.75, 0.25]`, and the first two rows of the filter are
/// `[0.0625, 0.1875, 0.1875, 0.0625]` and `[0.1875, 0.5625, 0.5625, 0.1875]`.
/// For `size = 3` the tent is `[0.5, 1, 0.5]`.
///
/// Hint: compute the tent as a function of the index first; ndarray's
/// `Array2::from_shape_fn` then builds the filter in one line. Do the
/// arithmetic in `f64` and convert at the end.
///
/// # Panics
///
/// If `size` is 0.
pub fn bilinear_filter(size: usize) -> Array2<f32> {
    todo!("exercise 1: bilinear_filter(size = {size})")
}

/// The weight of a transposed convolution that upsamples each of `channels`
/// score maps on its own with the `size x size` bilinear filter.
///
/// A transposed-convolution weight has the shape
/// `[in_channels, out_channels, size, size]`: `weight[i][o]` is the kernel
/// that input channel `i` stamps into output channel `o`. Class `c`'s scores
/// must only feed class `c`'s upsampled map, so the filter sits on the
/// diagonal, `weight[c][c] = bilinear_filter(size)`, and every kernel off the
/// diagonal is all zeros.
///
/// Worked example: `upsampling_weight(2, 3)` has shape `[2, 2, 3, 3]`;
/// `weight[0][0]` and `weight[1][1]` are the 3x3 filter, `weight[0][1]` and
/// `weight[1][0]` are zeros.
///
/// Hint: start from `Array4::zeros` and assign the filter into the diagonal
/// slices with `slice_mut(s![c, c, .., ..])`.
pub fn upsampling_weight(channels: usize, size: usize) -> Array4<f32> {
    todo!("exercise 1: upsampling_weight(channels = {channels}, size = {size})")
}

/// A fixed bilinear upsampling layer for `channels` score maps, by `stride`.
///
/// The layer is a [`FixedUpsampling`]: a transposed convolution with no bias
/// whose weight is [`upsampling_weight`]`(channels, k)`, where
/// `k = upsampling_kernel_size(stride)` (for example 64 for FCN-32s's stride
/// of 32). The weight must be a variable of `path` named `weight`, so that it
/// is saved, loaded and moved to the GPU with the rest of the network under
/// the layer's name (`upscore.weight`, ...), and it must **not** be
/// trainable: the optimiser never sees it.
///
/// Hint: `path.zeros_no_train("weight", &[...])` creates an untrainable
/// variable on the right device; fill it with `copy_` from a tensor made of
/// your ndarray weight (`Tensor::try_from(&array)`). Copy under
/// `let _guard = tch::no_grad_guard();` so that autograd does not record the
/// copy.
pub fn bilinear_upsampling(path: &nn::Path, channels: i64, stride: i64) -> FixedUpsampling {
    let layer = path.components().collect::<Vec<_>>().join(".");
    todo!("exercise 1: bilinear_upsampling for `{layer}` ({channels} channels, stride {stride})")
}
