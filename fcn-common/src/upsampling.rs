//! The upsampling layer type of every FCN head.

use tch::{Tensor, nn};

/// The kernel size FCN uses to upsample by `stride`: `2 * stride` for an even
/// stride (FCN's 2, 8, 16 and 32 give kernels of 4, 16, 32 and 64), and
/// `2 * stride - 1` for an odd one, so that the kernel stays centred on the
/// input pixel it spreads.
///
/// # Panics
///
/// If `stride` is not positive.
pub fn upsampling_kernel_size(stride: i64) -> i64 {
    assert!(stride >= 1, "an upsampling stride must be at least 1, got {stride}");
    2 * stride - stride % 2
}

/// A transposed convolution with fixed weights and no bias: FCN's `upscore`
/// layers.
///
/// `weight` has the shape `[channels, channels, k, k]` that
/// [`Tensor::conv_transpose2d`] expects (input channels first), and is built
/// by exercise 1 so that each channel is upsampled on its own, bilinearly. It
/// is registered in the `VarStore` as a variable that is not trainable: saved
/// and loaded by name with the rest of the network, never changed by the
/// optimiser.
///
/// The forward pass uses no padding, so an `n`-pixel input gives
/// `(n - 1) * stride + k` output pixels; the FCN heads crop the result.
#[derive(Debug)]
pub struct FixedUpsampling {
    /// `[channels, channels, k, k]`, not trainable.
    pub weight: Tensor,
    /// How far apart the copies of the kernel are placed in the output.
    pub stride: i64,
}

impl nn::Module for FixedUpsampling {
    fn forward(&self, xs: &Tensor) -> Tensor {
        xs.conv_transpose2d(&self.weight, None::<Tensor>, [self.stride; 2], [0; 2], [0; 2], 1, [1; 2])
    }
}
