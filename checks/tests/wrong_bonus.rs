//! Each bonus exercise's checks can fail: a deliberately wrong implementation
//! of one function loses exactly the checks written to catch its mistake,
//! and passes every other bonus check.

use checks::{Bonus, BonusMistake, Solutions};
use fcn_common::Window;
use ndarray::Array2;
use tch::Tensor;

/// The reference with mistake `M` (none for `NO_MISTAKE`).
struct Mutant<const M: u8>;

const NO_MISTAKE: u8 = 255;
/// Zero insertion convolves with the kernel as given, not rotated: right
/// only for symmetric kernels.
const KERNEL_NOT_FLIPPED: u8 = 0;
/// The convolution matrix holds each row's taps reversed: true convolution,
/// as in the lecture's picture, where libtorch correlates.
const MATRIX_TAPS_REVERSED: u8 = 1;
/// Nearest-neighbour unpooling tiles the whole map instead of repeating
/// each pixel.
const NEAREST_TILES: u8 = 2;
/// Max-unpooling scatters into one flat axis for all channels of an image:
/// right for one channel only.
const UNPOOL_ACROSS_CHANNELS: u8 = 3;
/// The filter is spread with one zero too many between taps.
const SPREAD_ONE_TOO_FAR: u8 = 4;
/// The receptive field ignores the strides before each layer.
const RECEPTIVE_FIELD_IGNORES_STRIDES: u8 = 5;
/// The confusion matrix counts void pixels as the last class.
const VOID_COUNTED: u8 = 6;
/// Mean IU counts classes absent from both truth and prediction as 0.
const ABSENT_CLASSES_COUNT_ZERO: u8 = 7;
/// Mean IU leaves out every class with an IU of 0, not only the 0 / 0 ones.
const ZERO_IU_LEFT_OUT: u8 = 8;
/// Answers copied from the docs' worked examples, computing nothing: the
/// spread filter, the receptive fields and the metrics.
const COPIES_THE_DOCS: u8 = 9;
/// The convolution matrix rounds its output size up where the stride does
/// not divide (size + 2 padding - kernel): a last row of outputs whose
/// window hangs past the padded input, as if the input were zero there.
const OUTPUT_ROUNDS_UP: u8 = 10;

impl<const M: u8> BonusMistake for Mutant<M> {
    fn conv_transpose_by_zero_insertion(input: &Tensor, weight: &Tensor, stride: [i64; 2], padding: [i64; 2]) -> Tensor {
        if M != KERNEL_NOT_FLIPPED {
            return Solutions::conv_transpose_by_zero_insertion(input, weight, stride, padding);
        }
        let [_, _, kh, kw] = weight.size()[..] else { unreachable!() };
        let (ph, pw) = (kh - 1 - padding[0], kw - 1 - padding[1]);
        let spread = Solutions::insert_zeros(input, stride).constant_pad_nd([pw, pw, ph, ph]);
        spread.conv2d(&weight.transpose(0, 1), None::<Tensor>, [1, 1], [0, 0], [1, 1], 1)
    }
    fn convolution_matrix(weight: &Tensor, input_size: [i64; 2], stride: [i64; 2], padding: [i64; 2]) -> Tensor {
        let weight = if M == MATRIX_TAPS_REVERSED { weight.flip([2, 3]) } else { weight.shallow_clone() };
        if M == OUTPUT_ROUNDS_UP {
            let [_, cin, kh, kw] = weight.size()[..] else { unreachable!() };
            let grow = |size: i64, k: i64, s: i64, p: i64| size + (s - (size + 2 * p - k).rem_euclid(s)) % s;
            let [h, w] = input_size;
            let grown = [grow(h, kh, stride[0], padding[0]), grow(w, kw, stride[1], padding[1])];
            let matrix = Solutions::convolution_matrix(&weight, grown, stride, padding);
            let rows = matrix.size()[0];
            return matrix.view([rows, cin, grown[0], grown[1]]).narrow(2, 0, h).narrow(3, 0, w).reshape([rows, cin * h * w]);
        }
        Solutions::convolution_matrix(&weight, input_size, stride, padding)
    }
    fn conv_transpose_by_matrix(input: &Tensor, weight: &Tensor, stride: [i64; 2], padding: [i64; 2]) -> Tensor {
        let [n, _, h, w] = input.size()[..] else { unreachable!() };
        let [_, out, kh, kw] = weight.size()[..] else { unreachable!() };
        let (ho, wo) = ((h - 1) * stride[0] - 2 * padding[0] + kh, (w - 1) * stride[1] - 2 * padding[1] + kw);
        let matrix = <Self as BonusMistake>::convolution_matrix(weight, [ho, wo], stride, padding);
        input.flatten(1, -1).matmul(&matrix).view([n, out, ho, wo])
    }
    fn nearest_unpool(input: &Tensor, factor: i64) -> Tensor {
        match M {
            NEAREST_TILES => input.repeat([1, 1, factor, factor]),
            _ => Solutions::nearest_unpool(input, factor),
        }
    }
    fn max_unpool(input: &Tensor, indices: &Tensor, output_size: [i64; 2]) -> Tensor {
        if M != UNPOOL_ACROSS_CHANNELS {
            return Solutions::max_unpool(input, indices, output_size);
        }
        let [n, c, _, _] = input.size()[..] else { unreachable!() };
        let mut flat = Tensor::zeros([n, c * output_size[0] * output_size[1]], (input.kind(), input.device()));
        let _ = flat.scatter_(1, &indices.flatten(1, -1), &input.flatten(1, -1));
        flat.view([n, c, output_size[0], output_size[1]])
    }
    fn spread_filter(weight: &Tensor, dilation: [i64; 2]) -> Tensor {
        if M == COPIES_THE_DOCS {
            return Tensor::from_slice(&[1f32, 0., 0., 2., 0., 0., 3.]).view([1, 1, 1, 7]);
        }
        let dilation = if M == SPREAD_ONE_TOO_FAR { dilation.map(|d| d + 1) } else { dilation };
        Solutions::spread_filter(weight, dilation)
    }
    fn dilated_conv2d(input: &Tensor, weight: &Tensor, stride: [i64; 2], padding: [i64; 2], dilation: [i64; 2]) -> Tensor {
        input.conv2d(&<Self as BonusMistake>::spread_filter(weight, dilation), None::<Tensor>, stride, padding, [1, 1], 1)
    }
    fn receptive_field(layers: &[Window]) -> i64 {
        match M {
            COPIES_THE_DOCS => match layers.len() {
                18 => 212,
                19 => 404,
                n => (1 << (n + 1)) - 1,
            },
            RECEPTIVE_FIELD_IGNORES_STRIDES => 1 + layers.iter().map(|l| (l.kernel - 1) * l.dilation).sum::<i64>(),
            _ => Solutions::receptive_field(layers),
        }
    }
    fn confusion_matrix(truth: &Array2<u8>, prediction: &Array2<u8>, classes: usize) -> Array2<u64> {
        if M == COPIES_THE_DOCS {
            return ndarray::array![[2u64, 0, 0], [0, 1, 1], [0, 1, 0]];
        }
        if M != VOID_COUNTED {
            return Solutions::confusion_matrix(truth, prediction, classes);
        }
        let mut hist = Array2::zeros((classes, classes));
        for (&g, &p) in truth.iter().zip(prediction) {
            hist[[(g as usize).min(classes - 1), p as usize]] += 1;
        }
        hist
    }
    fn pixel_accuracy(hist: &Array2<u64>) -> f64 {
        if M == COPIES_THE_DOCS {
            return 0.6;
        }
        Solutions::pixel_accuracy(hist)
    }
    fn mean_accuracy(hist: &Array2<u64>) -> f64 {
        if M == COPIES_THE_DOCS {
            return 0.5;
        }
        Solutions::mean_accuracy(hist)
    }
    fn mean_iu(hist: &Array2<u64>) -> f64 {
        let (t, p) = (hist.sum_axis(ndarray::Axis(1)), hist.sum_axis(ndarray::Axis(0)));
        let ious: Vec<f64> = (0..hist.nrows()).map(|i| hist[[i, i]] as f64 / (t[i] + p[i] - hist[[i, i]]) as f64).collect();
        if M == COPIES_THE_DOCS {
            return 4.0 / 9.0;
        }
        let kept: Vec<f64> = match M {
            ABSENT_CLASSES_COUNT_ZERO => ious.iter().map(|iu| if iu.is_nan() { 0.0 } else { *iu }).collect(),
            ZERO_IU_LEFT_OUT => ious.into_iter().filter(|iu| !iu.is_nan() && *iu != 0.0).collect(),
            _ => return Solutions::mean_iu(hist),
        };
        kept.iter().sum::<f64>() / kept.len() as f64
    }
    fn frequency_weighted_iu(hist: &Array2<u64>) -> f64 {
        if M == COPIES_THE_DOCS {
            return 8.0 / 15.0;
        }
        Solutions::frequency_weighted_iu(hist)
    }
}

/// The names of the bonus checks `Mutant<M>` fails.
fn failed<const M: u8>() -> Vec<&'static str> {
    checks::bonus::checks::<Mutant<M>>().iter().filter(|c| !checks::run(c).passed()).map(|c| c.name).collect()
}

#[test]
fn a_mistake_free_rewrite_passes_every_bonus_check() {
    assert_eq!(failed::<NO_MISTAKE>(), Vec::<&str>::new());
}

#[test]
fn an_unflipped_kernel_is_caught() {
    assert_eq!(
        failed::<KERNEL_NOT_FLIPPED>(),
        ["zero insertion: the docs' examples", "zero insertion equals conv_transpose2d, random cases"]
    );
}

#[test]
fn matrix_taps_in_convolution_order_are_caught() {
    assert_eq!(
        failed::<MATRIX_TAPS_REVERSED>(),
        [
            "convolution matrix times an image is conv2d",
            "convolution matrix of the lecture's 3-tap kernel",
            "transposed matrix equals conv_transpose2d, random cases"
        ]
    );
}

#[test]
fn an_output_size_rounded_up_is_caught() {
    assert_eq!(failed::<OUTPUT_ROUNDS_UP>(), ["convolution matrix times an image is conv2d"]);
}

#[test]
fn tiling_instead_of_nearest_neighbour_is_caught() {
    assert_eq!(
        failed::<NEAREST_TILES>(),
        ["the lecture's 2x2 examples", "nearest neighbour: random maps and factors"]
    );
}

#[test]
fn max_unpooling_across_channels_is_caught() {
    assert_eq!(failed::<UNPOOL_ACROSS_CHANNELS>(), ["max-unpooling equals max_unpool2d, random cases"]);
}

#[test]
fn a_filter_spread_one_too_far_is_caught() {
    assert_eq!(
        failed::<SPREAD_ONE_TOO_FAR>(),
        [
            "spread filter: the docs' example",
            "spread filter: random filters and dilations",
            "dilated convolution equals conv2d's dilation, random cases"
        ]
    );
}

#[test]
fn a_receptive_field_without_strides_is_caught() {
    assert_eq!(
        failed::<RECEPTIVE_FIELD_IGNORES_STRIDES>(),
        ["receptive field of VGG16 up to fc6 is the paper's 404", "receptive field: random stacks of strides and dilations"]
    );
}

#[test]
fn void_pixels_counted_are_caught() {
    assert_eq!(
        failed::<VOID_COUNTED>(),
        ["the docs' worked example", "confusion matrix: random label maps with void pixels"]
    );
}

#[test]
fn absent_classes_counted_as_zero_are_caught() {
    assert_eq!(failed::<ABSENT_CLASSES_COUNT_ZERO>(), ["classes absent from both truth and prediction are left out"]);
}

#[test]
fn zero_ious_left_out_are_caught() {
    // The docs' example has such a class too (class 2: IU 0).
    assert_eq!(
        failed::<ZERO_IU_LEFT_OUT>(),
        ["the docs' worked example", "a class predicted but never true counts 0 in the mean IU"]
    );
}

#[test]
fn answers_copied_from_the_docs_earn_nothing() {
    let expected: Vec<&str> = checks::bonus::checks::<Solutions>()
        .iter()
        .filter(|c| c.exercise.id == "dilated" || c.exercise.id == "metrics")
        .map(|c| c.name)
        .collect();
    assert_eq!(failed::<COPIES_THE_DOCS>(), expected);
}
