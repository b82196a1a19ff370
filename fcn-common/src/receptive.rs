//! A layer as the receptive-field arithmetic sees it: a sliding window.

/// One sliding-window layer of a network: a convolution or a pooling, seen
/// only through the three numbers that decide how far its outputs see.
///
/// A `kernel`-wide window whose taps are `dilation` pixels apart, moved
/// `stride` pixels at a time. Channels, padding and weights do not matter to
/// the receptive field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub kernel: i64,
    pub stride: i64,
    pub dilation: i64,
}

impl Window {
    /// An ordinary convolution: `kernel` wide, stride 1, no dilation.
    pub const fn conv(kernel: i64) -> Self {
        Window {
            kernel,
            stride: 1,
            dilation: 1,
        }
    }

    /// A dilated ("atrous") convolution: `kernel` taps, `dilation` apart, stride 1.
    pub const fn dilated(kernel: i64, dilation: i64) -> Self {
        Window {
            kernel,
            stride: 1,
            dilation,
        }
    }

    /// A pooling (or strided convolution): `kernel` wide, moved by `stride`.
    pub const fn pool(kernel: i64, stride: i64) -> Self {
        Window {
            kernel,
            stride,
            dilation: 1,
        }
    }
}
