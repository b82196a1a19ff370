//! The API contract: what a crate of exercises must provide.
//!
//! The `exercises` crate and the `solutions` crate both implement it (through
//! [`implementation!`], so a signature that drifts apart fails to compile),
//! and the tests build deliberately wrong implementations of it to prove that
//! each check can fail.

use fcn_kit::{Backbone, FcnConfig, FixedUpsampling};
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
    /// Exercise 2: see `solutions::vgg::vgg16`.
    fn vgg16(path: &nn::Path, config: FcnConfig) -> Backbone;
    /// The worked example: see `solutions::fcn32s::fcn32s`.
    fn fcn32s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static>;
    /// Exercise 3: see `solutions::fcn16s::fcn16s`.
    fn fcn16s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static>;
    /// Exercise 3: see `solutions::fcn8s::fcn8s`.
    fn fcn8s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static>;
    /// Exercise 3: see `solutions::fcn8s::fcn8s_atonce`.
    fn fcn8s_atonce(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static>;
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
            fn vgg16(path: &$crate::tch::nn::Path, config: $crate::fcn_kit::FcnConfig) -> $crate::fcn_kit::Backbone {
                $krate::vgg::vgg16(path, config)
            }
            fn fcn32s(
                path: &$crate::tch::nn::Path,
                config: $crate::fcn_kit::FcnConfig,
            ) -> $crate::tch::nn::FuncT<'static> {
                $krate::fcn32s::fcn32s(path, config)
            }
            fn fcn16s(
                path: &$crate::tch::nn::Path,
                config: $crate::fcn_kit::FcnConfig,
            ) -> $crate::tch::nn::FuncT<'static> {
                $krate::fcn16s::fcn16s(path, config)
            }
            fn fcn8s(
                path: &$crate::tch::nn::Path,
                config: $crate::fcn_kit::FcnConfig,
            ) -> $crate::tch::nn::FuncT<'static> {
                $krate::fcn8s::fcn8s(path, config)
            }
            fn fcn8s_atonce(
                path: &$crate::tch::nn::Path,
                config: $crate::fcn_kit::FcnConfig,
            ) -> $crate::tch::nn::FuncT<'static> {
                $krate::fcn8s::fcn8s_atonce(path, config)
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
