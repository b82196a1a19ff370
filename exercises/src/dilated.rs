//! # Bonus exercise 7: dilated (atrous) convolution
//!
//! FCN pools five times and then has to upsample by 32. Dilated convolution
//! (DeepLab's "atrous", French for "with holes") is the other way to see far
//! without pooling: keep the map's resolution and spread the *filter* out
//! instead. A 3x3 filter with dilation `d` has its nine taps `d` pixels apart:
//!
//! ```text
//! dilation 1      dilation 2
//! a b c           a . b . c
//! d e f           . . . . .
//! g h i           d . e . f
//!                 . . . . .
//!                 g . h . i
//! ```
//!
//! So a dilated convolution is an ordinary convolution with a bigger filter
//! that has zeros between its taps. You build it exactly that way, and check
//! it against libtorch's own `dilation` argument.
//!
//! "From scratch" allows what bonus exercise 5's docs say (`transposed.rs`,
//! "What from scratch allows"): elementary tensor operations, `conv2d` with
//! a dilation of `[1, 1]`, the standard library, ndarray, your own
//! functions and those of the three from-scratch files; the grader reads
//! every call.
//!
//! ## Receptive fields
//!
//! The receptive field of an output pixel is the width of the input window it
//! depends on. A stack of stride-1 layers widens it by `(k - 1) * d` per
//! layer of kernel `k` and dilation `d`. A layer after strided layers (pooling)
//! moves over its input in steps that are the product of the strides before
//! it, each step that many input pixels, so its widening is multiplied by
//! that product:
//!
//! ```text
//! receptive field = 1 + sum over layers l of (k_l - 1) * d_l * (s_1 * s_2 * ... * s_(l-1))
//! ```
//!
//! The lecture's example (Yu and Koltun): 3x3 convolutions with dilations 1,
//! 2, 4, ... give receptive fields 3, 7, 15, ..., `2^(n+1) - 1` after `n`
//! layers. The receptive field grows exponentially while the parameters
//! (nine per filter) grow linearly. And VGG16 up to fc6 (13 3x3
//! convolutions, five 2x2 poolings, then fc6 as a 7x7 convolution) sees 404
//! pixels: the "rf size" in the FCN paper's Table 1.

// What the bodies need; unused while they are still `todo!()`.
#[allow(unused_imports)]
use fcn_common::Window;
#[allow(unused_imports)]
use tch::Tensor;

/// The filter `weight` (`[out_channels, in_channels, kh, kw]`) spread out by
/// `dilation`: `[out_channels, in_channels, (kh - 1) * dilation[0] + 1,
/// (kw - 1) * dilation[1] + 1]`, with tap `(u, v)` at `(u * dilation[0],
/// v * dilation[1])` and zeros between the taps.
///
/// Worked example: the 1-D filter `[1, 2, 3]` with dilation 3 becomes
/// `[1, 0, 0, 2, 0, 0, 3]`.
///
/// Hint: this is exercise 5's zero insertion, applied to a filter.
pub fn spread_filter(weight: &Tensor, dilation: [i64; 2]) -> Tensor {
    todo!("bonus exercise 7: spread_filter of a {:?} weight, dilation {dilation:?}", weight.size())
}

/// The dilated convolution of `input` (`[n, in_channels, h, w]`) with
/// `weight` (`[out_channels, in_channels, kh, kw]`), no bias, built as an
/// ordinary convolution (dilation 1) with [`spread_filter`]. Must equal
/// `input.conv2d(weight, None, stride, padding, dilation, 1)`.
///
/// Hint: one line once `spread_filter` works. The stride and the padding are
/// the same in both forms: padding is added to the input, and the spread
/// filter covers exactly the input window the dilated one does.
pub fn dilated_conv2d(
    input: &Tensor,
    weight: &Tensor,
    stride: [i64; 2],
    padding: [i64; 2],
    dilation: [i64; 2],
) -> Tensor {
    todo!("bonus exercise 7: dilated_conv2d of a {:?} map with a {:?} weight, stride {stride:?}, padding {padding:?}, dilation {dilation:?}", input.size(), weight.size())
}

/// The receptive field, in input pixels along one axis, of one output pixel
/// of the stack `layers` (applied first to last): see the formula in the
/// module docs. An empty stack sees 1 pixel.
///
/// Worked example: `[Window::conv(3), Window::pool(2, 2), Window::conv(3)]`
/// sees `1 + 2 * 1 + 1 * 1 + 2 * 2 = 8` pixels.
///
/// Hint: walk the layers once, keeping two running numbers: the receptive
/// field so far, and the distance in input pixels between two neighbouring
/// positions of the current layer's input (the product of the strides so
/// far).
pub fn receptive_field(layers: &[Window]) -> i64 {
    todo!("bonus exercise 7: receptive_field of {} layers", layers.len())
}
