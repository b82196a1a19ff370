//! Hidden checks for bonus exercise 5, transposed convolution from scratch.

use super::{random_tensor, same};
use crate::Bonus;
use crate::check::{Check, Exercise, Track, ensure};
use ndarray_rand::rand::{Rng, SeedableRng, rngs::StdRng};
use tch::Tensor;

pub const EXERCISE: Exercise = Exercise {
    id: "transposed",
    number: 5,
    title: "transposed convolution, from scratch",
    track: Track::Bonus,
};

/// Random draws per check.
const DRAWS: usize = 40;

pub fn checks<I: Bonus>() -> Vec<Check> {
    let check = |name, points, run| Check::new(EXERCISE, name, points, run);
    vec![
        check("zero insertion: the docs' examples", 1, docs_examples::<I>).public(),
        check(
            "insert_zeros: random maps and strides",
            1,
            insert_zeros_random::<I>,
        ),
        check(
            "zero insertion equals conv_transpose2d, random cases",
            2,
            zero_insertion_random::<I>,
        ),
        check(
            "convolution matrix times an image is conv2d",
            1,
            matrix_is_the_convolution::<I>,
        )
        .public(),
        check(
            "convolution matrix of the lecture's 3-tap kernel",
            1,
            lecture_matrices::<I>,
        ),
        check(
            "transposed matrix equals conv_transpose2d, random cases",
            2,
            matrix_random::<I>,
        ),
    ]
}

fn docs_examples<I: Bonus>() -> Result<(), String> {
    let input = Tensor::from_slice(&[1f32, 2., 3., 4.]).view([1, 1, 2, 2]);
    let expected = Tensor::from_slice(&[1f32, 0., 2., 0., 0., 0., 3., 0., 4.]).view([1, 1, 3, 3]);
    same(&I::insert_zeros(&input, [2, 2]), &expected, || {
        "insert_zeros of [[1, 2], [3, 4]] by 2".to_owned()
    })?;
    let input = Tensor::from_slice(&[1f32, 2.]).view([1, 1, 1, 2]);
    let kernel = Tensor::from_slice(&[1f32, 2., 3.]).view([1, 1, 1, 3]);
    let expected = Tensor::from_slice(&[1f32, 2., 5., 4., 6.]).view([1, 1, 1, 5]);
    same(
        &I::conv_transpose_by_zero_insertion(&input, &kernel, [1, 2], [0, 0]),
        &expected,
        || {
            "conv_transpose_by_zero_insertion of [1, 2] with [1, 2, 3], stride 2 (the docs' worked example)".to_owned()
        },
    )
}

fn insert_zeros_random<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("insert zeros: random cases"));
    for _ in 0..DRAWS {
        let shape = [
            rng.gen_range(1..=2),
            rng.gen_range(1..=3),
            rng.gen_range(1..=6),
            rng.gen_range(1..=6),
        ];
        let stride = [rng.gen_range(1..=4), rng.gen_range(1..=4)];
        let input = random_tensor(&mut rng, &shape);
        // The zero insertion is the gradient-free upsampling of a transposed
        // convolution with a one-tap kernel of 1 per channel.
        let identity = Tensor::eye(shape[1], (tch::Kind::Float, tch::Device::Cpu))
            .view([shape[1], shape[1], 1, 1]);
        let expected =
            input.conv_transpose2d(&identity, None::<Tensor>, stride, [0, 0], [0, 0], 1, [1, 1]);
        same(&I::insert_zeros(&input, stride), &expected, || {
            format!("insert_zeros of a {shape:?} map, stride {stride:?}")
        })?;
    }
    Ok(())
}

/// A random transposed-convolution case: input, weight, stride, padding,
/// with a padding below the kernel and an output of at least one pixel.
fn draw(rng: &mut StdRng) -> (Tensor, Tensor, [i64; 2], [i64; 2]) {
    loop {
        let (n, cin, cout) = (
            rng.gen_range(1..=2),
            rng.gen_range(1..=4),
            rng.gen_range(1..=4),
        );
        let (h, w) = (rng.gen_range(1..=6), rng.gen_range(1..=6));
        let kernel = [rng.gen_range(1..=5), rng.gen_range(1..=5)];
        let stride = [rng.gen_range(1..=4), rng.gen_range(1..=4)];
        let padding = [rng.gen_range(0..kernel[0]), rng.gen_range(0..kernel[1])];
        let out_h = (h - 1) * stride[0] - 2 * padding[0] + kernel[0];
        let out_w = (w - 1) * stride[1] - 2 * padding[1] + kernel[1];
        if out_h >= 1 && out_w >= 1 {
            let input = random_tensor(rng, &[n, cin, h, w]);
            let weight = random_tensor(rng, &[cin, cout, kernel[0], kernel[1]]);
            return (input, weight, stride, padding);
        }
    }
}

fn random_transposed_convolutions(
    name: &str,
    under_test: fn(&Tensor, &Tensor, [i64; 2], [i64; 2]) -> Tensor,
) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed(name));
    for _ in 0..DRAWS {
        let (input, weight, stride, padding) = draw(&mut rng);
        let expected =
            input.conv_transpose2d(&weight, None::<Tensor>, stride, padding, [0, 0], 1, [1, 1]);
        same(
            &under_test(&input, &weight, stride, padding),
            &expected,
            || {
                format!(
                    "{name} of a {:?} input with a {:?} weight, stride {stride:?}, padding {padding:?}, against conv_transpose2d",
                    input.size(),
                    weight.size()
                )
            },
        )?;
    }
    Ok(())
}

fn zero_insertion_random<I: Bonus>() -> Result<(), String> {
    random_transposed_convolutions("conv_transpose_by_zero_insertion", I::conv_transpose_by_zero_insertion)
}

fn matrix_random<I: Bonus>() -> Result<(), String> {
    random_transposed_convolutions("conv_transpose_by_matrix", I::conv_transpose_by_matrix)
}

fn matrix_is_the_convolution<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("convolution matrix: random cases"));
    for draw_number in 0..DRAWS {
        let (input, weight, stride, padding) = draw(&mut rng);
        // The transposed case's output is a valid input of the convolution
        // with the same weight, stride and padding; every other case grows
        // it by rows and columns the stride does not reach, so that the
        // convolution's output size rounds down.
        let image = input
            .conv_transpose2d(&weight, None::<Tensor>, stride, padding, [0, 0], 1, [1, 1])
            .get(0);
        let extra = |rng: &mut StdRng, s: i64| if draw_number % 2 == 1 && s > 1 { rng.gen_range(1..s) } else { 0 };
        let (extra_h, extra_w) = (extra(&mut rng, stride[0]), extra(&mut rng, stride[1]));
        let [c, h, w] = image.size()[..] else {
            unreachable!("a 3-D image")
        };
        let grown = random_tensor(&mut rng, &[c, h + extra_h, w + extra_w]);
        grown.narrow(1, 0, h).narrow(2, 0, w).copy_(&image);
        let image = grown;
        let [_, h, w] = image.size()[..] else {
            unreachable!("a 3-D image")
        };
        let expected = image
            .unsqueeze(0)
            .conv2d(&weight, None::<Tensor>, stride, padding, [1, 1], 1)
            .flatten(0, -1);
        let matrix = I::convolution_matrix(&weight, [h, w], stride, padding);
        let what = || {
            format!(
                "convolution_matrix of a {:?} weight on {h}x{w} inputs, stride {stride:?}, padding {padding:?}",
                weight.size()
            )
        };
        ensure(
            matrix.size() == [expected.size()[0], image.numel() as i64],
            || {
                format!(
                    "{}: the shape is {:?}, expected [{}, {}]",
                    what(),
                    matrix.size(),
                    expected.size()[0],
                    image.numel()
                )
            },
        )?;
        same(&matrix.matmul(&image.flatten(0, -1)), &expected, || {
            format!("{} times the flattened image, against conv2d", what())
        })?;
    }
    Ok(())
}

/// The lecture's matrices for a 3-tap kernel on five inputs padded by one,
/// written out in libtorch's convention (conv2d correlates: output j reads
/// inputs j - 1, j, j + 1 with taps 0, 1, 2).
fn lecture_matrices<I: Bonus>() -> Result<(), String> {
    let kernel = Tensor::from_slice(&[1f32, 2., 3.]).view([1, 1, 1, 3]);
    #[rustfmt::skip]
    let dense = [2f32, 3., 0., 0., 0.,
                 1., 2., 3., 0., 0.,
                 0., 1., 2., 3., 0.,
                 0., 0., 1., 2., 3.,
                 0., 0., 0., 1., 2.];
    let expected = Tensor::from_slice(&dense).view([5, 5]);
    same(
        &I::convolution_matrix(&kernel, [1, 5], [1, 1], [0, 1]),
        &expected,
        || "convolution_matrix of the kernel [1, 2, 3] on 5 inputs, padding 1, stride 1".to_owned(),
    )?;
    let strided = expected.index_select(0, &Tensor::from_slice(&[0i64, 2, 4]));
    same(
        &I::convolution_matrix(&kernel, [1, 5], [1, 2], [0, 1]),
        &strided,
        || "convolution_matrix of the kernel [1, 2, 3] on 5 inputs, padding 1, stride 2".to_owned(),
    )?;
    Ok(())
}
