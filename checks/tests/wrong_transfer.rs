//! Each check of exercise 2's `fully_connected_as_conv` is aimed at a
//! mistake students make: a conversion with that one mistake loses the
//! checks written for it.

use checks::{Implementation, Mistake, Solutions};
use tch::Tensor;

/// The window read as flattened channels last (`[k, k, channels]`), as
/// TensorFlow's NHWC layout flattens it.
const CHANNELS_LAST: u8 = 0;
/// Rows and columns of the kernel swapped.
const KERNEL_TRANSPOSED: u8 = 1;
/// The weight left as a 1x1 convolution of every input: `[out, in, 1, 1]`.
const ONE_BY_ONE: u8 = 2;
/// A kernel of the right shape that holds nothing: zeros.
const ZEROS: u8 = 3;
/// Every kernel assumed 7x7, as fc6's: fc7 (1x1) goes wrong.
const ALWAYS_SEVEN: u8 = 4;
/// The right layout, in double precision.
const DOUBLE: u8 = 5;

struct Mutant<const M: u8>;

fn wrong_conversion(weight: &Tensor, channels: i64, kernel: i64, mistake: u8) -> Tensor {
    let out = weight.size()[0];
    match mistake {
        CHANNELS_LAST => weight
            .reshape([out, kernel, kernel, channels])
            .permute([0, 3, 1, 2]),
        KERNEL_TRANSPOSED => weight
            .reshape([out, channels, kernel, kernel])
            .transpose(2, 3),
        ONE_BY_ONE => weight.reshape([out, -1, 1, 1]),
        ZEROS => weight.zeros_like().reshape([out, channels, kernel, kernel]),
        ALWAYS_SEVEN => weight.reshape([out, -1, 7, 7]),
        DOUBLE => weight
            .to_kind(tch::Kind::Double)
            .reshape([out, channels, kernel, kernel]),
        _ => weight.reshape([out, channels, kernel, kernel]),
    }
}

impl<const M: u8> Mistake for Mutant<M> {
    fn fully_connected_as_conv(weight: &Tensor, channels: i64, kernel: i64) -> Tensor {
        wrong_conversion(weight, channels, kernel, M)
    }
}

const DOCS: &str = "a fully connected layer as a convolution: the docs' example, and random layers";
const RANDOM: &str = "a fully connected layer as a convolution: at every position of random maps, the classifier's output on its window";
const RELEASE: &str =
    "fc6 and fc7 made convolutions (width / 16): the score map is the classifier at every window";

/// The conversion's checks that `I` does not pass.
fn failed<I: Implementation>() -> Vec<&'static str> {
    checks::transfer::checks::<I>()
        .iter()
        .filter(|check| !checks::run(check).passed())
        .map(|check| check.name)
        .collect()
}

#[test]
fn the_reference_passes_every_conversion_check_and_so_does_a_double_precision_answer() {
    assert_eq!(failed::<Solutions>(), Vec::<&str>::new());
    assert_eq!(
        failed::<Mutant<{ u8::MAX }>>(),
        Vec::<&str>::new(),
        "the mutants' own conversion, with no mistake"
    );
    assert_eq!(failed::<Mutant<DOUBLE>>(), Vec::<&str>::new());
    let names: Vec<&str> = checks::transfer::checks::<Solutions>()
        .iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, [DOCS, RANDOM, RELEASE], "every check is named here");
}

#[test]
fn another_flattening_order_loses_every_check() {
    assert_eq!(
        failed::<Mutant<CHANNELS_LAST>>(),
        [DOCS, RANDOM, RELEASE],
        "channels last"
    );
    assert_eq!(
        failed::<Mutant<KERNEL_TRANSPOSED>>(),
        [DOCS, RANDOM, RELEASE],
        "rows and columns swapped"
    );
}

#[test]
fn a_kernel_of_another_shape_or_of_nothing_loses_every_check() {
    assert_eq!(failed::<Mutant<ONE_BY_ONE>>(), [DOCS, RANDOM, RELEASE]);
    assert_eq!(failed::<Mutant<ZEROS>>(), [DOCS, RANDOM, RELEASE]);
}

#[test]
fn a_conversion_for_fc6_only_loses_the_checks_of_other_kernels() {
    assert_eq!(failed::<Mutant<ALWAYS_SEVEN>>(), [DOCS, RANDOM, RELEASE]);
}
