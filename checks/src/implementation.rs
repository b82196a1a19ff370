//! The API contract: what a crate of exercises must provide.
//!
//! The `exercises` crate and the `solutions` crate both implement it (through
//! [`implementation!`], so a signature that drifts apart fails to compile),
//! and the tests build deliberately wrong implementations of it to prove that
//! each check can fail.

use fcn_common::{Backbone, FcnConfig, FixedUpsampling, Window};
use fcn_metrics::{Scores, evaluate};
use fcn_train::train::{Batches, Schedule, Stage, Start, Trained};
use ndarray::{Array2, Array4};
use tch::{Tensor, nn};

/// A network of the staged schedule, by the exercise that builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Fcn32s,
    Fcn16s,
    Fcn8s,
}

impl Net {
    /// The stage that trains `I`'s version of this network.
    pub fn stage<I: Implementation>(self) -> Stage {
        match self {
            Net::Fcn32s => Stage { name: "FCN-32s", build: I::fcn32s },
            Net::Fcn16s => Stage { name: "FCN-16s", build: I::fcn16s },
            Net::Fcn8s => Stage { name: "FCN-8s", build: I::fcn8s },
        }
    }
}

/// What a training check asks an implementation to train: the data, the
/// start and the schedule of `fcn_train::train::train_staged`, and the
/// validation images the trained networks are scored on.
#[derive(Clone, Copy)]
pub struct TrainingRun<'a> {
    pub config: FcnConfig,
    pub start: Start<'a>,
    pub train: &'a Batches,
    pub val: &'a Batches,
    pub schedule: &'a Schedule,
}

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

    /// Seeds libtorch's generator for the next forward pass of a network of
    /// this implementation: its dropout masks are then the reference's under
    /// the same seed. Here, in this process; the grader's view of a
    /// student's crate seeds the runner instead.
    fn seed_next_pass(seed: i64)
    where
        Self: Sized,
    {
        tch::manual_seed(seed);
    }

    /// Exercise 4: `networks`, trained in stages with the kit's loop
    /// (`fcn_train::train::train_staged`), each with its scores on the
    /// validation images. Here, in this process; the grader's view of a
    /// student's crate trains them in the student's runner instead, and
    /// hands back the trained weights in the reference's networks, scored by
    /// the grader itself.
    fn train_staged(networks: &[Net], run: TrainingRun) -> Result<Vec<(Trained, Scores)>, String>
    where
        Self: Sized,
    {
        let stages: Vec<Stage> = networks.iter().map(|n| n.stage::<Self>()).collect();
        let trained = fcn_train::train::train_staged(&stages, run.config, run.start, run.train, run.schedule)
            .map_err(|e| e.to_string())?;
        let classes = run.config.classes as usize;
        Ok(trained.into_iter().map(|t| { let scores = evaluate(&t.net, run.val, classes); (t, scores) }).collect())
    }
}

/// One crate's answers to the bonus exercises. Apart from [`Implementation`]
/// so that an implementation of one track need not spell out the other.
pub trait Bonus {
    /// Bonus exercise 5: see `solutions::transposed::insert_zeros`.
    fn insert_zeros(input: &Tensor, stride: [i64; 2]) -> Tensor;
    /// Bonus exercise 5: see `solutions::transposed::conv_transpose_by_zero_insertion`.
    fn conv_transpose_by_zero_insertion(
        input: &Tensor,
        weight: &Tensor,
        stride: [i64; 2],
        padding: [i64; 2],
    ) -> Tensor;
    /// Bonus exercise 5: see `solutions::transposed::convolution_matrix`.
    fn convolution_matrix(
        weight: &Tensor,
        input_size: [i64; 2],
        stride: [i64; 2],
        padding: [i64; 2],
    ) -> Tensor;
    /// Bonus exercise 5: see `solutions::transposed::conv_transpose_by_matrix`.
    fn conv_transpose_by_matrix(
        input: &Tensor,
        weight: &Tensor,
        stride: [i64; 2],
        padding: [i64; 2],
    ) -> Tensor;
    /// Bonus exercise 6: see `solutions::unpooling::nearest_unpool`.
    fn nearest_unpool(input: &Tensor, factor: i64) -> Tensor;
    /// Bonus exercise 6: see `solutions::unpooling::bed_of_nails_unpool`.
    fn bed_of_nails_unpool(input: &Tensor, factor: i64) -> Tensor;
    /// Bonus exercise 6: see `solutions::unpooling::max_unpool`.
    fn max_unpool(input: &Tensor, indices: &Tensor, output_size: [i64; 2]) -> Tensor;
    /// Bonus exercise 7: see `solutions::dilated::spread_filter`.
    fn spread_filter(weight: &Tensor, dilation: [i64; 2]) -> Tensor;
    /// Bonus exercise 7: see `solutions::dilated::dilated_conv2d`.
    fn dilated_conv2d(
        input: &Tensor,
        weight: &Tensor,
        stride: [i64; 2],
        padding: [i64; 2],
        dilation: [i64; 2],
    ) -> Tensor;
    /// Bonus exercise 7: see `solutions::dilated::receptive_field`.
    fn receptive_field(layers: &[Window]) -> i64;
    /// Bonus exercise 8: see `solutions::metrics::confusion_matrix`.
    fn confusion_matrix(truth: &Array2<u8>, prediction: &Array2<u8>, classes: usize)
    -> Array2<u64>;
    /// Bonus exercise 8: see `solutions::metrics::pixel_accuracy`.
    fn pixel_accuracy(hist: &Array2<u64>) -> f64;
    /// Bonus exercise 8: see `solutions::metrics::mean_accuracy`.
    fn mean_accuracy(hist: &Array2<u64>) -> f64;
    /// Bonus exercise 8: see `solutions::metrics::mean_iu`.
    fn mean_iu(hist: &Array2<u64>) -> f64;
    /// Bonus exercise 8: see `solutions::metrics::frequency_weighted_iu`.
    fn frequency_weighted_iu(hist: &Array2<u64>) -> f64;
}

/// Declares `$name`, the [`Implementation`] and [`Bonus`] given by crate
/// `$krate`.
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
            ) -> $crate::fcn_common::FixedUpsampling {
                $krate::bilinear::bilinear_upsampling(path, channels, stride)
            }
            fn vgg16(path: &$crate::tch::nn::Path, config: $crate::fcn_common::FcnConfig) -> $crate::fcn_common::Backbone {
                $krate::vgg::vgg16(path, config)
            }
            fn fcn32s(
                path: &$crate::tch::nn::Path,
                config: $crate::fcn_common::FcnConfig,
            ) -> $crate::tch::nn::FuncT<'static> {
                $krate::fcn32s::fcn32s(path, config)
            }
            fn fcn16s(
                path: &$crate::tch::nn::Path,
                config: $crate::fcn_common::FcnConfig,
            ) -> $crate::tch::nn::FuncT<'static> {
                $krate::fcn16s::fcn16s(path, config)
            }
            fn fcn8s(
                path: &$crate::tch::nn::Path,
                config: $crate::fcn_common::FcnConfig,
            ) -> $crate::tch::nn::FuncT<'static> {
                $krate::fcn8s::fcn8s(path, config)
            }
            fn fcn8s_atonce(
                path: &$crate::tch::nn::Path,
                config: $crate::fcn_common::FcnConfig,
            ) -> $crate::tch::nn::FuncT<'static> {
                $krate::fcn8s::fcn8s_atonce(path, config)
            }
        }

        impl $crate::Bonus for $name {
            fn insert_zeros(input: &$crate::tch::Tensor, stride: [i64; 2]) -> $crate::tch::Tensor {
                $krate::transposed::insert_zeros(input, stride)
            }
            fn conv_transpose_by_zero_insertion(
                input: &$crate::tch::Tensor,
                weight: &$crate::tch::Tensor,
                stride: [i64; 2],
                padding: [i64; 2],
            ) -> $crate::tch::Tensor {
                $krate::transposed::conv_transpose_by_zero_insertion(input, weight, stride, padding)
            }
            fn convolution_matrix(
                weight: &$crate::tch::Tensor,
                input_size: [i64; 2],
                stride: [i64; 2],
                padding: [i64; 2],
            ) -> $crate::tch::Tensor {
                $krate::transposed::convolution_matrix(weight, input_size, stride, padding)
            }
            fn conv_transpose_by_matrix(
                input: &$crate::tch::Tensor,
                weight: &$crate::tch::Tensor,
                stride: [i64; 2],
                padding: [i64; 2],
            ) -> $crate::tch::Tensor {
                $krate::transposed::conv_transpose_by_matrix(input, weight, stride, padding)
            }
            fn nearest_unpool(input: &$crate::tch::Tensor, factor: i64) -> $crate::tch::Tensor {
                $krate::unpooling::nearest_unpool(input, factor)
            }
            fn bed_of_nails_unpool(input: &$crate::tch::Tensor, factor: i64) -> $crate::tch::Tensor {
                $krate::unpooling::bed_of_nails_unpool(input, factor)
            }
            fn max_unpool(
                input: &$crate::tch::Tensor,
                indices: &$crate::tch::Tensor,
                output_size: [i64; 2],
            ) -> $crate::tch::Tensor {
                $krate::unpooling::max_unpool(input, indices, output_size)
            }
            fn spread_filter(weight: &$crate::tch::Tensor, dilation: [i64; 2]) -> $crate::tch::Tensor {
                $krate::dilated::spread_filter(weight, dilation)
            }
            fn dilated_conv2d(
                input: &$crate::tch::Tensor,
                weight: &$crate::tch::Tensor,
                stride: [i64; 2],
                padding: [i64; 2],
                dilation: [i64; 2],
            ) -> $crate::tch::Tensor {
                $krate::dilated::dilated_conv2d(input, weight, stride, padding, dilation)
            }
            fn receptive_field(layers: &[$crate::fcn_common::Window]) -> i64 {
                $krate::dilated::receptive_field(layers)
            }
            fn confusion_matrix(
                truth: &$crate::ndarray::Array2<u8>,
                prediction: &$crate::ndarray::Array2<u8>,
                classes: usize,
            ) -> $crate::ndarray::Array2<u64> {
                $krate::metrics::confusion_matrix(truth, prediction, classes)
            }
            fn pixel_accuracy(hist: &$crate::ndarray::Array2<u64>) -> f64 {
                $krate::metrics::pixel_accuracy(hist)
            }
            fn mean_accuracy(hist: &$crate::ndarray::Array2<u64>) -> f64 {
                $krate::metrics::mean_accuracy(hist)
            }
            fn mean_iu(hist: &$crate::ndarray::Array2<u64>) -> f64 {
                $krate::metrics::mean_iu(hist)
            }
            fn frequency_weighted_iu(hist: &$crate::ndarray::Array2<u64>) -> f64 {
                $krate::metrics::frequency_weighted_iu(hist)
            }
        }
    };
}

implementation!(
    /// The reference crate, `solutions/`.
    Solutions,
    solutions
);
