//! Hidden checks for bonus exercise 7, dilated convolution.

use super::{random_tensor, same, spread_out};
use crate::Bonus;
use crate::check::{Check, Exercise, Track, ensure};
use fcn_common::Window;
use ndarray_rand::rand::{Rng, SeedableRng, rngs::StdRng};
use tch::Tensor;

pub const EXERCISE: Exercise = Exercise {
    id: "dilated",
    number: 7,
    title: "dilated (atrous) convolution",
    track: Track::Bonus,
};

const DRAWS: usize = 30;

pub fn checks<I: Bonus>() -> Vec<Check> {
    let check = |name, points, run| Check::new(EXERCISE, name, points, run);
    vec![
        check(
            "spread filter: the docs' example",
            1,
            spread_docs_example::<I>,
        )
        .public(),
        check(
            "spread filter: random filters and dilations",
            1,
            spread_random::<I>,
        ),
        check(
            "dilated convolution equals conv2d's dilation, random cases",
            2,
            dilated_random::<I>,
        ),
        check(
            "receptive field of doubling dilations grows exponentially",
            1,
            doubling_dilations::<I>,
        )
        .public(),
        check(
            "receptive field of VGG16 up to fc6 is the paper's 404",
            1,
            vgg16_receptive_field::<I>,
        ),
        check(
            "receptive field: random stacks of strides and dilations",
            1,
            random_stacks::<I>,
        ),
    ]
}

fn spread_docs_example<I: Bonus>() -> Result<(), String> {
    let filter = Tensor::from_slice(&[1f32, 2., 3.]).view([1, 1, 1, 3]);
    let expected = Tensor::from_slice(&[1f32, 0., 0., 2., 0., 0., 3.]).view([1, 1, 1, 7]);
    same(&I::spread_filter(&filter, [1, 3]), &expected, || {
        "spread_filter of [1, 2, 3] by 3".to_owned()
    })?;
    // A fixed case from the docs could be answered by copying it: it counts
    // only with random ones beside it.
    spread_random::<I>()
}

fn spread_random<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("spread filter: random cases"));
    for _ in 0..DRAWS {
        let shape = [
            rng.gen_range(1..=3),
            rng.gen_range(1..=3),
            rng.gen_range(1..=4),
            rng.gen_range(1..=4),
        ];
        let dilation = [rng.gen_range(1..=4), rng.gen_range(1..=4)];
        let weight = random_tensor(&mut rng, &shape);
        let expected_shape = [
            shape[0],
            shape[1],
            (shape[2] - 1) * dilation[0] + 1,
            (shape[3] - 1) * dilation[1] + 1,
        ];
        let what = || format!("spread_filter of a {shape:?} filter by {dilation:?}");
        spread_out(&I::spread_filter(&weight, dilation), &weight, dilation, expected_shape, what)?;
    }
    Ok(())
}

fn dilated_random<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("dilated convolution: random cases"));
    for _ in 0..DRAWS {
        let (n, cin, cout) = (
            rng.gen_range(1..=2),
            rng.gen_range(1..=3),
            rng.gen_range(1..=3),
        );
        let kernel = [rng.gen_range(1..=3), rng.gen_range(1..=3)];
        let dilation = [rng.gen_range(1..=4), rng.gen_range(1..=4)];
        let stride = [rng.gen_range(1..=3), rng.gen_range(1..=3)];
        let padding = [rng.gen_range(0..=4), rng.gen_range(0..=4)];
        // Large enough that the spread filter fits in the padded input.
        let h = (kernel[0] - 1) * dilation[0] + 1 + rng.gen_range(0..=6);
        let w = (kernel[1] - 1) * dilation[1] + 1 + rng.gen_range(0..=6);
        let input = random_tensor(&mut rng, &[n, cin, h, w]);
        let weight = random_tensor(&mut rng, &[cout, cin, kernel[0], kernel[1]]);
        let expected = input.conv2d(&weight, None::<Tensor>, stride, padding, dilation, 1);
        same(
            &I::dilated_conv2d(&input, &weight, stride, padding, dilation),
            &expected,
            || {
                format!(
                    "dilated_conv2d of a {:?} input with a {:?} weight, stride {stride:?}, padding {padding:?}, dilation {dilation:?}, against conv2d",
                    input.size(),
                    weight.size()
                )
            },
        )?;
    }
    Ok(())
}

fn doubling_dilations<I: Bonus>() -> Result<(), String> {
    for layers in 1..=10u32 {
        let stack: Vec<Window> = (0..layers).map(|l| Window::dilated(3, 1 << l)).collect();
        let field = I::receptive_field(&stack);
        let expected = (1i64 << (layers + 1)) - 1;
        ensure(field == expected, || {
            format!(
                "{layers} 3x3 convolutions with dilations 1, 2, 4, ...: receptive field {field}, expected {expected}"
            )
        })?;
    }
    // Beside the fixed stacks, random ones of stride 1: random kernels, each
    // dilation double the one before.
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("doubling dilations: random cases"));
    (0..DRAWS).try_for_each(|_| {
        let first: i64 = rng.gen_range(1..=3);
        let stack: Vec<Window> = (0..rng.gen_range(1..=8))
            .map(|l| Window { kernel: rng.gen_range(1..=7), stride: 1, dilation: first << l })
            .collect();
        same_field::<I>(&stack)
    })
}

/// The "rf size" of FCN-VGG16 in the paper's Table 1.
fn vgg16_receptive_field<I: Bonus>() -> Result<(), String> {
    let mut stack = Vec::new();
    for convolutions in [2, 2, 3, 3, 3] {
        stack.extend(std::iter::repeat_n(Window::conv(3), convolutions));
        stack.push(Window::pool(2, 2));
    }
    let field = I::receptive_field(&stack);
    ensure(field == 212, || {
        format!("VGG16's conv1_1 to pool5: receptive field {field}, expected 212")
    })?;
    stack.push(Window::conv(7));
    let field = I::receptive_field(&stack);
    ensure(field == 404, || {
        format!("VGG16's conv1_1 to fc6: receptive field {field}, expected the paper's 404")
    })?;
    random_stacks::<I>()
}

fn random_stacks<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("receptive field: random stacks"));
    (0..DRAWS).try_for_each(|_| {
        let stack: Vec<Window> = (0..rng.gen_range(1..=8))
            .map(|_| Window {
                kernel: rng.gen_range(1..=7),
                stride: rng.gen_range(1..=3),
                dilation: rng.gen_range(1..=4),
            })
            .collect();
        same_field::<I>(&stack)
    })
}

/// The implementation's receptive field of a random `stack` is the
/// reference's; the message says which way it is off, never the reference's
/// number.
fn same_field<I: Bonus>(stack: &[Window]) -> Result<(), String> {
    let (field, expected) = (I::receptive_field(stack), solutions::dilated::receptive_field(stack));
    ensure(field == expected, || {
        format!("receptive_field({stack:?}) is {field}: {}", if field > expected { "too large" } else { "too small" })
    })
}
