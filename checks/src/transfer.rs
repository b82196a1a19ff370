//! Hidden checks for exercise 2's `fully_connected_as_conv`: a trained
//! classifier made fully convolutional. Graded as the paper's claim reads:
//! the convolution made from a fully connected layer's weight gives, at every
//! position of a larger map, the fully connected layer's output on the window
//! there, flattened as PyTorch flattens it (on random weights and maps).

use ndarray_rand::rand::{Rng, SeedableRng, rngs::StdRng};
use tch::Tensor;

use crate::Implementation;
use crate::check::{Check, case_seed, ensure};
use crate::networks::VGG;

/// Random layers drawn by each check.
const DRAWS: usize = 12;

pub fn checks<I: Implementation>() -> Vec<Check> {
    let check = |name, points, run| Check::new(VGG, name, points, run);
    vec![
        check(
            "a fully connected layer as a convolution: the docs' example, and random layers",
            1,
            docs_example::<I>,
        )
        .public(),
        check(
            "a fully connected layer as a convolution: at every position of random maps, the classifier's output on its window",
            2,
            random::<I>,
        ),
        check(
            "fc6 and fc7 made convolutions (width / 16): the score map is the classifier at every window",
            1,
            release::<I>,
        ),
    ]
}

fn normal(rng: &mut StdRng, shape: &[usize]) -> Tensor {
    crate::check::normal_tensor(rng, shape, 1.0)
}

/// The student's convolution weight for a fully connected `weight` (`[out,
/// channels * kernel²]`) and `bias`, run as a convolution over `map` (`[N,
/// channels, H, W]`), against the fully connected layer applied to the
/// flattened window at every position.
fn every_window<I: Implementation>(
    map: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    kernel: i64,
    what: &str,
) -> Result<(), String> {
    let channels = map.size()[1];
    let out = weight.size()[0];
    let conv = I::fully_connected_as_conv(weight, channels, kernel);
    let expected_shape = [out, channels, kernel, kernel];
    ensure(conv.size() == expected_shape, || {
        format!(
            "{what}: the convolution's weight is {:?}, expected {expected_shape:?}",
            conv.size()
        )
    })?;
    ensure(conv.isfinite().all().int64_value(&[]) == 1, || {
        format!("{what}: the convolution's weight is not all finite")
    })?;
    let _guard = tch::no_grad_guard();
    let scores = map.conv2d(
        &conv.to_kind(tch::Kind::Float),
        Some(bias),
        [1, 1],
        [0, 0],
        [1, 1],
        1,
    );
    let [_, _, h, w] = map.size()[..] else {
        unreachable!("maps are 4-d")
    };
    for y in 0..=h - kernel {
        for x in 0..=w - kernel {
            // What the classifier sees: the window, flattened.
            let window = map.narrow(2, y, kernel).narrow(3, x, kernel).flatten(1, -1);
            let classifier = window.linear(weight, Some(bias));
            let here = scores.narrow(2, y, 1).narrow(3, x, 1).flatten(1, -1);
            let off = f64::try_from((&here - &classifier).abs().max()).unwrap_or(f64::NAN);
            let scale = f64::try_from(classifier.abs().max())
                .unwrap_or(1.0)
                .max(1.0);
            ensure(off <= 1e-4 * scale, || {
                format!(
                    "{what}: at position ({y}, {x}) of a {h}x{w} map, the convolution's scores differ from the \
                     classifier's on the window there by up to {off:.3e}"
                )
            })?;
        }
    }
    Ok(())
}

fn docs_example<I: Implementation>() -> Result<(), String> {
    // 2 channels, a 2x2 window, one output: weights 0..8 in flattening order.
    let weight = Tensor::arange(8, (tch::Kind::Float, tch::Device::Cpu)).view([1, 8]);
    let conv = I::fully_connected_as_conv(&weight, 2, 2);
    ensure(conv.size() == [1, 2, 2, 2], || {
        format!(
            "the docs' example: the weight is {:?}, expected [1, 2, 2, 2]",
            conv.size()
        )
    })?;
    let expected = Tensor::from_slice(&[0f32, 1., 2., 3., 4., 5., 6., 7.]).view([1, 2, 2, 2]);
    ensure(conv.to_kind(tch::Kind::Float).equal(&expected), || {
        "the docs' example (2 channels, 2x2 windows): the kernel is not laid out as the docs draw it".to_owned()
    })?;
    random::<I>()
}

fn random<I: Implementation>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(case_seed("transfer: random layers"));
    (0..DRAWS).try_for_each(|_| {
        let (channels, kernel, out) = (
            rng.gen_range(1..=6),
            rng.gen_range(1..=5),
            rng.gen_range(1..=5),
        );
        let (h, w) = (kernel + rng.gen_range(0..=4), kernel + rng.gen_range(0..=4));
        let n = rng.gen_range(1..=2);
        let map = normal(&mut rng, &[n, channels, h, w]);
        let weight = normal(&mut rng, &[out, channels * kernel * kernel]);
        let bias = normal(&mut rng, &[out]);
        let what = format!("{out} outputs of {channels} channels of {kernel}x{kernel} windows");
        every_window::<I>(&map, &weight, &bias, kernel as i64, &what)
    })
}

fn release<I: Implementation>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(case_seed("transfer: fc6 and fc7"));
    let config = fcn_common::FcnConfig::narrow(16);
    let (pool5, units) = (
        config.channels(512) as usize,
        config.channels(4096) as usize,
    );
    // fc6 on a 9x10 pool5 (a 4x3 score map, as a larger image gives), then
    // fc7 on fc6's map.
    let map = normal(&mut rng, &[1, pool5, 10, 9]);
    let (weight, bias) = (
        normal(&mut rng, &[units, pool5 * 49]) * 0.05,
        normal(&mut rng, &[units]),
    );
    every_window::<I>(
        &map,
        &weight,
        &bias,
        7,
        "fc6 (512 / 16 channels of 7x7 windows)",
    )?;
    let map = normal(&mut rng, &[1, units, 4, 3]);
    let (weight, bias) = (
        normal(&mut rng, &[units, units]) * 0.05,
        normal(&mut rng, &[units]),
    );
    every_window::<I>(&map, &weight, &bias, 1, "fc7 (4096 / 16 channels, 1x1)")
}
