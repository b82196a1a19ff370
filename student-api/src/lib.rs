//! The student's API, declared once.
//!
//! [`student_api!`] holds the table of every function the exercises ask a
//! student to write (and the worked example's): its name on the wire, its
//! module in the exercises crate, its signature and, for a plain call, how
//! many elements a right answer has at most. It hands the table to a macro
//! of the caller's, which makes its part from it:
//!
//! | part | made by | where |
//! |---|---|---|
//! | the traits the checks grade through, `Implementation` and `Bonus`, and `implementation!` (a crate's answers as those traits) | `traits`, `forward` | `checks/src/implementation.rs` |
//! | the protocol's `Function`, `Layer` and `Network` | `wire_names` | `runner-protocol/src/api.rs` |
//! | the runner's dispatch: a request to the student's function | `dispatch` | `runner/src/dispatch.rs` |
//! | the grader's view of a student's crate, every call sent to the runner | `remote` | `grader/src/remote/api.rs` |
//! | the deliberately wrong implementations' defaults, `Mistake` and `BonusMistake` (the reference's every function) | `mistakes` | `checks/src/mistake.rs` |
//!
//! So adding a function to an exercise is a line here, besides the function,
//! its checks and the registry (`exercises/info.toml`); a signature that
//! drifts apart anywhere fails to compile.
//!
//! The table has three kinds of entry:
//! - **calls**: plain functions of values (integers, tensors, arrays,
//!   windows), each travelling as a `runner_protocol::Request::Call`. The
//!   types they use are those `runner_protocol::wire` knows how to carry;
//!   `within` bounds the answer's elements in terms of the arguments (what
//!   the grader reads from the runner, never more), and without it the
//!   protocol's cap holds.
//! - **layers**: a function of a `tch::nn::Path` and values that registers
//!   variables under that path (the bilinear upsampling layer).
//! - **networks**: `fn(&nn::Path, FcnConfig)` building a network whose
//!   variables the grader lists and whose passes it runs in the runner.
//!
//! Types are written with absolute paths: the crate that expands a part
//! depends on `tch`, `ndarray` and `fcn_common`.

/// Calls `callback! { [extra] core { calls {..} layers {..} networks {..} }
/// bonus { calls {..} } }` with the table; see the crate's docs.
#[macro_export]
macro_rules! student_api {
    ($($callback:ident)::+ ! [$($extra:tt)*]) => {
        $($callback)::+! { [$($extra)*]
            core {
                calls {
                    BilinearFilter = bilinear::bilinear_filter(size: usize) -> ::ndarray::Array2<f32>,
                        within size * size;
                    UpsamplingWeight = bilinear::upsampling_weight(channels: usize, size: usize) -> ::ndarray::Array4<f32>,
                        within channels * channels * size * size;
                    FullyConnectedAsConv = vgg::fully_connected_as_conv(weight: &::tch::Tensor, channels: i64, kernel: i64)
                        -> ::tch::Tensor,
                        within weight.numel();
                    Through = align::through(at: ::fcn_common::align::Placement, layer: ::fcn_common::align::Layer)
                        -> ::fcn_common::align::Placement,
                        within 2;
                    Placement = align::placement(layers: &[::fcn_common::align::Layer]) -> ::fcn_common::align::Placement,
                        within 2;
                    CropOffset = align::crop_offset(map: &[::fcn_common::align::Layer], like: &[::fcn_common::align::Layer])
                        -> Option<i64>,
                        within 1;
                    PixelLoss = loss::pixel_loss(scores: &::tch::Tensor, labels: &::tch::Tensor) -> ::tch::Tensor,
                        within scores.numel();
                }
                layers {
                    BilinearUpsampling = bilinear::bilinear_upsampling(path: &::tch::nn::Path, channels: i64, stride: i64)
                        -> ::fcn_common::FixedUpsampling,
                        within (channels.clamp(0, 1 << 12) * ::fcn_common::upsampling_kernel_size(stride.clamp(1, 1 << 10))).pow(2);
                }
                networks {
                    Vgg16 = vgg::vgg16 -> ::fcn_common::Backbone;
                    Fcn32s = fcn32s::fcn32s -> ::tch::nn::FuncT<'static>;
                    Fcn16s = fcn16s::fcn16s -> ::tch::nn::FuncT<'static>;
                    Fcn8s = fcn8s::fcn8s -> ::tch::nn::FuncT<'static>;
                    Fcn8sAtOnce = fcn8s::fcn8s_atonce -> ::tch::nn::FuncT<'static>;
                }
            }
            bonus {
                calls {
                    InsertZeros = transposed::insert_zeros(input: &::tch::Tensor, stride: [i64; 2]) -> ::tch::Tensor;
                    ConvTransposeByZeroInsertion = transposed::conv_transpose_by_zero_insertion(
                        input: &::tch::Tensor, weight: &::tch::Tensor, stride: [i64; 2], padding: [i64; 2]) -> ::tch::Tensor;
                    ConvolutionMatrix = transposed::convolution_matrix(
                        weight: &::tch::Tensor, input_size: [i64; 2], stride: [i64; 2], padding: [i64; 2]) -> ::tch::Tensor;
                    ConvTransposeByMatrix = transposed::conv_transpose_by_matrix(
                        input: &::tch::Tensor, weight: &::tch::Tensor, stride: [i64; 2], padding: [i64; 2]) -> ::tch::Tensor;
                    NearestUnpool = unpooling::nearest_unpool(input: &::tch::Tensor, factor: i64) -> ::tch::Tensor;
                    BedOfNailsUnpool = unpooling::bed_of_nails_unpool(input: &::tch::Tensor, factor: i64) -> ::tch::Tensor;
                    MaxUnpool = unpooling::max_unpool(input: &::tch::Tensor, indices: &::tch::Tensor, output_size: [i64; 2])
                        -> ::tch::Tensor;
                    SpreadFilter = dilated::spread_filter(weight: &::tch::Tensor, dilation: [i64; 2]) -> ::tch::Tensor;
                    DilatedConv2d = dilated::dilated_conv2d(
                        input: &::tch::Tensor, weight: &::tch::Tensor, stride: [i64; 2], padding: [i64; 2], dilation: [i64; 2])
                        -> ::tch::Tensor;
                    ReceptiveField = dilated::receptive_field(layers: &[::fcn_common::Window]) -> i64;
                    ConfusionMatrix = metrics::confusion_matrix(
                        truth: &::ndarray::Array2<u8>, prediction: &::ndarray::Array2<u8>, classes: usize)
                        -> ::ndarray::Array2<u64>,
                        within classes * classes;
                    PixelAccuracy = metrics::pixel_accuracy(hist: &::ndarray::Array2<u64>) -> f64;
                    MeanAccuracy = metrics::mean_accuracy(hist: &::ndarray::Array2<u64>) -> f64;
                    MeanIu = metrics::mean_iu(hist: &::ndarray::Array2<u64>) -> f64;
                    FrequencyWeightedIu = metrics::frequency_weighted_iu(hist: &::ndarray::Array2<u64>) -> f64;
                }
            }
        }
    };
}
