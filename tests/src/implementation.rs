//! The API contract: what a crate of exercises must provide.
//!
//! The `exercises` crate and the `solutions` crate both implement it (through
//! [`implementation!`], so a signature that drifts apart fails to compile),
//! and the tests build deliberately wrong implementations of it to prove that
//! each check can fail.

use fcn_kit::FixedUpsampling;
use ndarray::{Array2, Array4};
use tch::nn;

/// One crate's answers to the exercises, as plain functions.
pub trait Implementation {
    /// Exercise 1: see `solutions::bilinear::bilinear_filter`.
    fn bilinear_filter(size: usize) -> Array2<f32>;
    /// Exercise 1: see `solutions::bilinear::upsampling_weight`.
    fn upsampling_weight(channels: usize, size: usize) -> Array4<f32>;
    /// Exercise 1: see `solutions::bilinear::bilinear_upsampling`.
    fn bilinear_upsampling(path: &nn::Path, channels: i64, stride: i64) -> FixedUpsampling;
}

/// Declares `$name`, the [`Implementation`] given by crate `$krate`.
#[macro_export]
macro_rules! implementation {
    ($(#[$meta:meta])* $name:ident, $krate:ident) => {
        $(#[$meta])*
        pub struct $name;

        impl $crate::Implementation for $name {
            fn bilinear_filter(size: usize) -> $crate::ndarray::Array2<f32> {
                $krate::bilinear::bilinear_filter(size)
            }
            fn upsampling_weight(channels: usize, size: usize) -> $crate::ndarray::Array4<f32> {
                $krate::bilinear::upsampling_weight(channels, size)
            }
            fn bilinear_upsampling(
                path: &$crate::tch::nn::Path,
                channels: i64,
                stride: i64,
            ) -> $crate::fcn_kit::FixedUpsampling {
                $krate::bilinear::bilinear_upsampling(path, channels, stride)
            }
        }
    };
}

implementation!(
    /// The student crate, `exercises/`.
    Exercises,
    exercises
);
implementation!(
    /// The reference crate, `solutions/`.
    Solutions,
    solutions
);
