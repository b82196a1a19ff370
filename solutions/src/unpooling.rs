//! # Bonus exercise 6: unpooling
//!
//! Pooling makes a map smaller; unpooling makes it larger again, with no
//! weights to learn. The lectures show three ways, each a different way of
//! filling the new pixels:
//!
//! ```text
//!        nearest     bed of nails   max-unpooling   (the map that was max-pooled)
//! 1 2    1 1 2 2     1 0 2 0        0 0 0 2         0 0 0 2
//! 3 4    1 1 2 2     0 0 0 0        0 1 0 0         0 1 0 0
//!        3 3 4 4     3 0 4 0        0 0 4 0         0 0 4 0
//!        3 3 4 4     0 0 0 0        0 3 0 0         0 3 0 1
//! ```
//!
//! * **Nearest neighbour** copies each value into its whole `f x f` block.
//! * **Bed of nails** puts each value in the top-left corner of its block and
//!   zeros everywhere else: the zero insertion of exercise 5, padded at the
//!   end to a whole multiple of the factor.
//! * **Max-unpooling** (DeconvNet, SegNet) remembers, for each pooling
//!   window, *where* its maximum was, and puts the value back at exactly that
//!   place. Above, `1 2 / 3 4` is the 2x2 max-pooling of the map on the far
//!   right; unpooling puts each maximum back where it was found and leaves
//!   zeros elsewhere (the 1 in the bottom-right corner, not a maximum, is
//!   lost). It keeps the fine location that pooling threw away, at the cost
//!   of storing the indices.
//!
//! libtorch's `max_pool2d_with_indices` returns, with the pooled map, the
//! position of each maximum as a flat index `row * width + column` into its
//! channel of the *unpooled* map; `max_unpool2d` undoes it. You write your
//! own.
//!
//! "From scratch" allows what bonus exercise 5's docs say (`transposed.rs`,
//! "What from scratch allows"): elementary tensor operations, `conv2d` with
//! a dilation of `[1, 1]`, the standard library, ndarray, your own
//! functions and those of the three from-scratch files; the grader reads
//! every call.

// What the bodies need; unused while they are still `todo!()`.
#[allow(unused_imports)]
use tch::Tensor;

/// Nearest-neighbour unpooling of `input` (`[n, c, h, w]`) by `factor`: the
/// result is `[n, c, h * factor, w * factor]`, and its pixel `(y, x)` is the
/// input's pixel `(y / factor, x / factor)`.
///
/// Hint: `Tensor::repeat_interleave_self_int` repeats each entry along one
/// axis; you need two axes.
pub fn nearest_unpool(input: &Tensor, factor: i64) -> Tensor {
    // STUB: todo!("bonus exercise 6: nearest_unpool of a {:?} map by {factor}", input.size())
    // BEGIN SOLUTION
    input
        .repeat_interleave_self_int(factor, 2, None)
        .repeat_interleave_self_int(factor, 3, None)
    // END SOLUTION
}

/// "Bed of nails" unpooling of `input` (`[n, c, h, w]`) by `factor`: the
/// result is `[n, c, h * factor, w * factor]`, with the input's pixel
/// `(i, j)` at `(i * factor, j * factor)` and zeros everywhere else.
///
/// Hint: as for `insert_zeros` in exercise 5, write into a strided view of a
/// tensor of zeros.
pub fn bed_of_nails_unpool(input: &Tensor, factor: i64) -> Tensor {
    // STUB: todo!("bonus exercise 6: bed_of_nails_unpool of a {:?} map by {factor}", input.size())
    // BEGIN SOLUTION
    // Exercise 5's zero insertion, then the last f - 1 rows and columns.
    let tail = factor - 1;
    crate::transposed::insert_zeros(input, [factor, factor]).constant_pad_nd([0, tail, 0, tail])
    // END SOLUTION
}

/// Max-unpooling: the `[n, c, h, w]` map `input` put back into a map of
/// `output_size = [height, width]` per channel, each value at the place
/// `indices` gives, zeros elsewhere. `indices` has `input`'s shape and holds,
/// as `max_pool2d_with_indices` returns them, flat positions
/// `row * width + column` within the value's own channel of the output.
///
/// Must equal `input.max_unpool2d(indices, output_size)`. Pooling windows do
/// not overlap in the checks, so no two values share a position.
///
/// Worked example: one channel, `input = [[5, 4]]`, `indices = [[1, 10]]`,
/// `output_size = [3, 4]` puts 5 at row 0, column 1 and 4 at row 2,
/// column 2.
///
/// Hint: flatten each channel of the output to one axis; then
/// `Tensor::scatter_` along that axis writes each value at its index.
pub fn max_unpool(input: &Tensor, indices: &Tensor, output_size: [i64; 2]) -> Tensor {
    // STUB: todo!("bonus exercise 6: max_unpool of a {:?} map with {:?} indices to {output_size:?}", input.size(), indices.size())
    // BEGIN SOLUTION
    let [n, c, _, _] = input.size()[..] else {
        panic!("unpooling takes [n, c, h, w], got {:?}", input.size())
    };
    let [height, width] = output_size;
    let mut unpooled = Tensor::zeros([n, c, height * width], (input.kind(), input.device()));
    let _ = unpooled.scatter_(2, &indices.flatten(2, -1), &input.flatten(2, -1));
    unpooled.view([n, c, height, width])
    // END SOLUTION
}
