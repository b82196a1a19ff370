//! # Bonus exercise 5: transposed convolution, from scratch
//!
//! FCN's `upscore` layers (exercise 1) are transposed convolutions, and so are
//! the learned upsampling layers of DeconvNet and U-Net. libtorch gives you
//! `conv_transpose2d`; here you build it yourself, two ways, and see that
//! both are the same operation.
//!
//! **Way 1: insert zeros, then convolve.** Upsampling by an integer stride
//! `s` first spreads the input out, putting `s - 1` zeros between neighbours,
//! and then runs an ordinary convolution (stride 1) over the result. For the
//! result to be the transposed convolution, the convolution uses the kernel
//! *rotated by 180 degrees* (flipped along both axes) with its two channel
//! axes swapped, and pads the spread input by `k - 1 - p` on each side, where
//! `k` is the kernel size and `p` the transposed convolution's padding.
//!
//! **Way 2: the transposed matrix.** A convolution is linear, so it is a
//! matrix `C`: flatten the input image `x` into a vector and `C x` is the
//! flattened output. Each row of `C` is the kernel laid out at one output
//! position; the lecture's 1-D example with kernel `[x, y, z]` on five inputs
//! gives rows `[y z 0 0 0]`, `[x y z 0 0]`, ... (with a stride of 2, every
//! other row). The transposed convolution is multiplication by `C`
//! transposed: it maps the small side back to the large side.
//!
//! Shapes, as libtorch has them. A transposed convolution's weight is
//! `[in_channels, out_channels, kh, kw]`, which is exactly the weight of the
//! ordinary convolution it is the transpose of (going the other way, from
//! `out_channels` to `in_channels`). An `h`-row input gives
//! `(h - 1) * stride - 2 * padding + kh` rows.
//!
//! ## What "from scratch" allows
//!
//! The grader reads every call in this file and accepts only elementary
//! tensor operations (making, reshaping, indexing and slicing, arithmetic,
//! `matmul`, and `conv2d` with its dilation written as `[1, 1]`), the
//! standard library, ndarray, your own functions in this file, and the
//! functions of the other from-scratch files (`transposed.rs`,
//! `unpooling.rs`, `dilated.rs`). Anything else (libtorch's own operation in
//! any spelling, a helper in another exercise file, autograd, a type, trait,
//! module or macro of your own) makes the file count as not attempted, and
//! the report says which call did it. Call your helpers as functions
//! (`spread(x)`), not as methods.
//!
//! ## Why not "deconvolution"
//!
//! The transposed convolution is often called a deconvolution, as if it undid
//! the convolution. It does not: `C` transposed is not `C`'s inverse. With a
//! stride, `C` is not even square, so it has no inverse. Show it in the doc
//! test below, with the lecture's 3-tap kernel: compute `Cᵀ C` and see that it
//! is not the identity, and run an image through the convolution and then its
//! transpose and see that it does not come back. (`cargo test -p exercises
//! --doc` runs this test.)
//!
//! ```
//! use tch::{Device, Kind, Tensor};
//! use exercises::transposed::{conv_transpose_by_matrix, convolution_matrix};
//!
//! // The lecture's kernel [x, y, z] = [1, 2, 3], on a row of 5 pixels padded
//! // by one pixel each side: C is 5 x 5.
//! let kernel = Tensor::from_slice(&[1f32, 2., 3.]).view([1, 1, 1, 3]);
//! let c = convolution_matrix(&kernel, [1, 5], [1, 1], [0, 1]);
//! assert_eq!(c.size(), [5, 5]);
//! todo!("bonus exercise 5: show that C's transpose is not its inverse")
//! ```

// What the bodies need; unused while they are still `todo!()`.
#[allow(unused_imports)]
use ndarray::{Array2, ArrayD, Ix4};
#[allow(unused_imports)]
use tch::{Kind, Tensor};

/// Spreads each map of `input` (`[n, c, h, w]`) out by `stride`: the value at
/// `(i, j)` moves to `(i * stride[0], j * stride[1])`, and every other
/// position is zero. The result has `(h - 1) * stride[0] + 1` rows and
/// `(w - 1) * stride[1] + 1` columns, of the input's kind and device.
///
/// Worked example, stride 2 on a 2x2 map:
///
/// ```text
/// 1 2      1 0 2
/// 3 4  ->  0 0 0
///          3 0 4
/// ```
///
/// Hint: make a tensor of zeros of the output's shape, then write the input
/// into every `stride`-th row and column of it. `Tensor::slice(dim, start,
/// end, step)` gives a view of every `step`-th index, and `copy_` on that
/// view writes through to the tensor.
pub fn insert_zeros(input: &Tensor, stride: [i64; 2]) -> Tensor {
    todo!("bonus exercise 5: insert_zeros of a {:?} map, stride {stride:?}", input.size())
}

/// The transposed convolution of `input` (`[n, in_channels, h, w]`) with
/// `weight` (`[in_channels, out_channels, kh, kw]`), way 1: zeros inserted,
/// then an ordinary convolution. Must equal
/// `input.conv_transpose2d(weight, None, stride, padding, [0, 0], 1, [1, 1])`
/// for every stride of at least 1 and padding below the kernel size.
///
/// The recipe, per axis, with `k` the kernel size and `p` the padding:
/// 1. [`insert_zeros`] with the stride;
/// 2. pad the result with `k - 1 - p` zeros on each side;
/// 3. convolve, stride 1 and no padding, with the weight's channel axes
///    swapped (`[out, in, kh, kw]`) and each kernel flipped in both axes.
///
/// Why the flip: in the transposed convolution input pixel `i` *sends*
/// `weight[u] * input[i]` to output `i * s - p + u`; a convolution *gathers*
/// `kernel[u] * input[o - pad + u]` into output `o`. Matching the two makes
/// the gathered kernel the sent one read backwards.
///
/// Worked example, 1-D: input `[1, 2]`, kernel `[1, 2, 3]`, stride 2,
/// padding 0. Spread: `[1, 0, 2]`; padded by 2: `[0, 0, 1, 0, 2, 0, 0]`;
/// convolved with `[3, 2, 1]`: `[1, 2, 5, 4, 6]`, which is `1 * [1, 2, 3]`
/// stamped at 0 plus `2 * [1, 2, 3]` stamped at 2.
///
/// Hint: `Tensor::flip`, `Tensor::transpose` and `Tensor::constant_pad_nd`
/// (its padding list is last axis first: `[left, right, top, bottom]`).
pub fn conv_transpose_by_zero_insertion(
    input: &Tensor,
    weight: &Tensor,
    stride: [i64; 2],
    padding: [i64; 2],
) -> Tensor {
    todo!("bonus exercise 5: conv_transpose_by_zero_insertion of a {:?} map with a {:?} weight, stride {stride:?}, padding {padding:?}", input.size(), weight.size())
}

/// The matrix `C` of the convolution with `weight` (`[out_channels,
/// in_channels, kh, kw]`) over an input of `input_size = [h, w]`, with
/// `stride` and zero `padding`, as libtorch's `conv2d` computes it.
///
/// The input `[in_channels, h, w]` and the output `[out_channels, ho, wo]`
/// are flattened row-major (channel, then row, then column), and
/// `C` is `[out_channels * ho * wo, in_channels * h * w]` with
/// `ho = (h + 2 * padding[0] - kh) / stride[0] + 1` (likewise `wo`). Output
/// `(o, y, x)` is
///
/// ```text
/// sum over i, u, v of  weight[o][i][u][v] * input[i][y * stride[0] - padding[0] + u][x * stride[1] - padding[1] + v]
/// ```
///
/// where an index outside the input reads a padding zero. So the row of
/// output `(o, y, x)` holds `weight[o][i][u][v]` in the column of input pixel
/// `(i, y * stride[0] - padding[0] + u, x * stride[1] - padding[1] + v)`
/// whenever that pixel is inside the image; everything else is zero.
///
/// Return a `Float` tensor on the weight's device.
///
/// Hint: fill an `ndarray::Array2<f32>` of zeros with six nested loops (or
/// fewer, with iterators), then convert it with `Tensor::try_from`.
pub fn convolution_matrix(
    weight: &Tensor,
    input_size: [i64; 2],
    stride: [i64; 2],
    padding: [i64; 2],
) -> Tensor {
    todo!("bonus exercise 5: convolution_matrix of a {:?} weight on {input_size:?} inputs, stride {stride:?}, padding {padding:?}", weight.size())
}

/// The transposed convolution, way 2: multiplication by the transposed
/// [`convolution_matrix`]. Same arguments and result as
/// [`conv_transpose_by_zero_insertion`].
///
/// The transposed convolution with `weight` (`[in_channels, out_channels, kh,
/// kw]`) maps an `[in_channels, h, w]` input to `[out_channels, ho, wo]` with
/// `ho = (h - 1) * stride[0] - 2 * padding[0] + kh` (likewise `wo`). The
/// ordinary convolution with the same `weight`, stride and padding maps
/// `[out_channels, ho, wo]` back to `[in_channels, h, w]`: its matrix `C` is
/// `[in_channels * h * w, out_channels * ho * wo]`. Each flattened input image
/// `x` becomes `Cᵀ x`; for a batch of `n` images stacked as the rows of a
/// matrix `X` (`[n, in_channels * h * w]`), that is `X C`.
///
/// Hint: `flatten`, `matmul` and `view`; work out `ho` and `wo` first.
pub fn conv_transpose_by_matrix(
    input: &Tensor,
    weight: &Tensor,
    stride: [i64; 2],
    padding: [i64; 2],
) -> Tensor {
    todo!("bonus exercise 5: conv_transpose_by_matrix of a {:?} map with a {:?} weight, stride {stride:?}, padding {padding:?}", input.size(), weight.size())
}
