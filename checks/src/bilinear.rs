//! Hidden checks for exercise 1, the bilinear upsampling filter.

use crate::check::{Check, Exercise, Track, ensure};
use crate::Implementation;
use fcn_common::upsampling_kernel_size;
use ndarray::{Array2, Array4, ArrayD, Ix2, array};
use ndarray_rand::RandomExt;
use ndarray_rand::rand::{SeedableRng, rngs::StdRng};
use ndarray_rand::rand_distr::Uniform;
use tch::{Device, Tensor, nn, nn::Module};

pub const EXERCISE: Exercise = Exercise {
    id: "bilinear",
    number: 1,
    title: "the bilinear upsampling filter",
    track: Track::Core,
};

/// Absolute tolerance for values of order 1 computed in `f32`.
const TOLERANCE: f32 = 1e-5;

pub fn checks<I: Implementation>() -> Vec<Check> {
    let check = |name, points, run| Check::new(EXERCISE, name, points, run);
    vec![
        check("filter values, odd sizes 1 to 63", 2, filter_values_odd::<I>),
        check("filter values, even sizes 2 to 64", 2, filter_values_even::<I>),
        check("filter is symmetric", 1, filter_symmetric::<I>).public(),
        check("the lecture's 2x2 to 3x3 example", 1, lecture_example::<I>),
        check("weight: filter on the channel diagonal, zeros elsewhere", 1, weight_layout::<I>).public(),
        check("layer: one fixed variable named weight, no bias", 1, layer_is_fixed::<I>).public(),
        check("layer keeps a constant map constant", 1, layer_keeps_constants::<I>),
        check("layer interpolates bilinearly", 1, layer_interpolates::<I>),
    ]
}

fn filter_values_odd<I: Implementation>() -> Result<(), String> {
    (1..=63).step_by(2).try_for_each(filter_matches_reference::<I>)
}

fn filter_values_even<I: Implementation>() -> Result<(), String> {
    (2..=64).step_by(2).try_for_each(filter_matches_reference::<I>)
}

fn filter_matches_reference<I: Implementation>(size: usize) -> Result<(), String> {
    let filter = filter_of_size::<I>(size)?;
    let reference = solutions::bilinear::bilinear_filter(size);
    match first_difference(&filter, &reference) {
        None => Ok(()),
        Some((i, j)) => Err(format!("bilinear_filter({size}) is wrong at [{i}, {j}]")),
    }
}

fn filter_symmetric<I: Implementation>() -> Result<(), String> {
    for size in 1..=16 {
        let filter = filter_of_size::<I>(size)?;
        is_a_filter(&filter, &format!("bilinear_filter({size})"))?;
        let flipped = filter.slice(ndarray::s![..;-1, ..]).to_owned();
        ensure(first_difference(&filter, &filter.t().to_owned()).is_none(), || {
            format!("bilinear_filter({size}) is not symmetric about its diagonal")
        })?;
        ensure(first_difference(&filter, &flipped).is_none(), || {
            format!("bilinear_filter({size}) is not symmetric about its centre row")
        })?;
    }
    Ok(())
}

/// Seed 000's worked example: [[1, 2], [3, 4]] upsampled to 3x3 by a stride-2
/// transposed convolution with the size-3 filter (padding 1).
fn lecture_example<I: Implementation>() -> Result<(), String> {
    let weight = weight_of::<I>(1, 3)?;
    let input = Tensor::from_slice(&[1f32, 2., 3., 4.]).view([1, 1, 2, 2]);
    let output = input.conv_transpose2d(&weight, None::<Tensor>, [2, 2], [1, 1], [0, 0], 1, [1, 1]);
    let expected = array![[1f32, 1.5, 2.], [2., 2.5, 3.], [3., 3.5, 4.]];
    let output = to_array2(&output.view([3, 3]));
    ensure(first_difference(&output, &expected).is_none(), || {
        "upsampling [[1, 2], [3, 4]] by 2 with upsampling_weight(1, 3) and padding 1 \
         does not give the lecture's 3x3 result"
            .to_owned()
    })
}

fn weight_layout<I: Implementation>() -> Result<(), String> {
    for (channels, size) in [(1, 1), (2, 3), (3, 4), (5, 16), (21, 4)] {
        let weight = I::upsampling_weight(channels, size);
        let call = format!("upsampling_weight({channels}, {size})");
        ensure(weight.dim() == (channels, channels, size, size), || {
            format!("{call} has shape {:?}, expected [{channels}, {channels}, {size}, {size}]", weight.shape())
        })?;
        // The diagonal is compared with the implementation's own filter, so a
        // wrong filter costs points only in the filter checks; but it must be
        // a filter (finite, not all zeros), or an empty answer would pass.
        let filter = I::bilinear_filter(size);
        is_a_filter(&filter, &format!("bilinear_filter({size})"))?;
        for i in 0..channels {
            for o in 0..channels {
                let kernel = weight.slice(ndarray::s![i, o, .., ..]).to_owned();
                if i == o {
                    ensure(first_difference(&kernel, &filter).is_none(), || {
                        format!("{call}: the kernel [{i}][{o}] on the diagonal is not bilinear_filter({size})")
                    })?;
                } else {
                    ensure(kernel.iter().all(|&v| v == 0.0), || {
                        format!("{call}: the kernel [{i}][{o}] off the diagonal is not all zeros")
                    })?;
                }
            }
        }
    }
    Ok(())
}

fn layer_is_fixed<I: Implementation>() -> Result<(), String> {
    let (channels, stride) = (3, 2);
    let store = nn::VarStore::new(Device::Cpu);
    let layer = I::bilinear_upsampling(&(store.root() / "upscore"), channels, stride);
    let call = format!("bilinear_upsampling(path / \"upscore\", {channels}, {stride})");
    ensure(store.trainable_variables().is_empty(), || {
        format!("{call} adds a trainable variable; the upsampling must stay fixed")
    })?;
    let variables = store.variables();
    let mut names: Vec<_> = variables.keys().cloned().collect();
    names.sort();
    ensure(names == ["upscore.weight"], || {
        format!("{call} adds the variables {names:?}; expected exactly one, \"upscore.weight\"")
    })?;
    ensure(!layer.weight.requires_grad(), || format!("{call}: the weight requires a gradient"))?;
    ensure(layer.stride == stride, || format!("{call}: the layer's stride is {}", layer.stride))?;
    let size = upsampling_kernel_size(stride) as usize;
    let expected = I::upsampling_weight(channels as usize, size);
    let stored = to_array(&variables["upscore.weight"]);
    ensure(stored.shape() == expected.shape(), || {
        format!("{call}: the weight has shape {:?}, expected {:?}", stored.shape(), expected.shape())
    })?;
    ensure(stored.iter().zip(&expected).all(|(a, b)| (a - b).abs() <= TOLERANCE), || {
        format!("{call}: the stored weight is not upsampling_weight({channels}, {size})")
    })?;
    ensure(stored.iter().all(|v| v.is_finite()) && stored.iter().any(|&v| v > 0.0), || {
        format!("{call}: the stored weight is all zeros or not finite, so the layer upsamples nothing")
    })
}

/// Bilinear weights sum to one in every phase of the stride, so away from the
/// borders a constant input comes out unchanged.
fn layer_keeps_constants<I: Implementation>() -> Result<(), String> {
    let n = 8;
    for stride in 1..=8 {
        let k = upsampling_kernel_size(stride);
        let output = upsample::<I>(&Tensor::full([1, 2, n, n], 3.0, (tch::Kind::Float, Device::Cpu)), stride)?;
        // Outputs k - 1 ..= (n - 1) * stride receive every tap of the kernel.
        let interior = output.narrow(2, k - 1, (n - 1) * stride - k + 2).narrow(3, k - 1, (n - 1) * stride - k + 2);
        let worst = f32::try_from((interior - 3.0).abs().max()).expect("a scalar");
        ensure(worst <= TOLERANCE, || {
            format!("upsampling a constant map by {stride} does not give the constant away from the borders")
        })?;
    }
    Ok(())
}

/// Cropped by (k - stride) / 2, the layer's output equals bilinear
/// interpolation (PyTorch's, with align_corners = false) away from the borders.
fn layer_interpolates<I: Implementation>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("bilinear layer: random inputs"));
    let (h, w) = (6, 7);
    for stride in [2, 3, 4, 8] {
        let input = ArrayD::random_using(vec![1, 2, h, w], Uniform::new(-1f32, 1.), &mut rng);
        let input = Tensor::try_from(&input).expect("an f32 array converts");
        let k = upsampling_kernel_size(stride);
        let crop = (k - stride) / 2;
        let (out_h, out_w) = (h as i64 * stride, w as i64 * stride);
        let output = upsample::<I>(&input, stride)?.narrow(2, crop, out_h).narrow(3, crop, out_w);
        let expected = input.upsample_bilinear2d([out_h, out_w], false, None, None);
        let difference = (output - expected).narrow(2, stride, out_h - 2 * stride).narrow(3, stride, out_w - 2 * stride);
        let worst = f32::try_from(difference.abs().max()).expect("a scalar");
        ensure(worst <= TOLERANCE, || {
            format!("upsampling a random map by {stride} and cropping by {crop} is not bilinear interpolation inside the borders")
        })?;
    }
    Ok(())
}

fn filter_of_size<I: Implementation>(size: usize) -> Result<Array2<f32>, String> {
    let filter = I::bilinear_filter(size);
    ensure(filter.dim() == (size, size), || {
        format!("bilinear_filter({size}) has shape {:?}, expected [{size}, {size}]", filter.shape())
    })?;
    Ok(filter)
}

fn weight_of<I: Implementation>(channels: usize, size: usize) -> Result<Tensor, String> {
    let weight: Array4<f32> = I::upsampling_weight(channels, size);
    ensure(weight.dim() == (channels, channels, size, size), || {
        format!("upsampling_weight({channels}, {size}) has shape {:?}", weight.shape())
    })?;
    Ok(Tensor::try_from(&weight).expect("an f32 array converts"))
}

/// Runs `input` (N x C x H x W) through the implementation's layer and checks
/// the output's shape.
fn upsample<I: Implementation>(input: &Tensor, stride: i64) -> Result<Tensor, String> {
    let [n, c, h, w] = input.size()[..] else { unreachable!("checks pass 4-D inputs") };
    let store = nn::VarStore::new(Device::Cpu);
    let layer = I::bilinear_upsampling(&(store.root() / "upscore"), c, stride);
    let _guard = tch::no_grad_guard();
    let output = layer.forward(input);
    let k = upsampling_kernel_size(stride);
    let expected = [n, c, (h - 1) * stride + k, (w - 1) * stride + k];
    ensure(output.size() == expected, || {
        format!("the stride-{stride} layer turns a {h}x{w} map into {:?}, expected {expected:?}", output.size())
    })?;
    Ok(output)
}

/// The first index where the two arrays differ by more than the tolerance
/// (a NaN or an infinity on either side differs from everything), or where
/// their shapes differ.
fn first_difference(a: &Array2<f32>, b: &Array2<f32>) -> Option<(usize, usize)> {
    if a.dim() != b.dim() {
        return Some((0, 0));
    }
    let close = |x: f32, y: f32| x.is_finite() && y.is_finite() && (x - y).abs() <= TOLERANCE;
    a.indexed_iter().zip(b).find(|((_, x), y)| !close(**x, **y)).map(|((at, _), _)| at)
}

/// A check of a filter's form (its symmetry, its place in the weight) means
/// something only for a filter: finite values, not all zero.
fn is_a_filter(filter: &Array2<f32>, call: &str) -> Result<(), String> {
    ensure(filter.iter().all(|v| v.is_finite()), || format!("{call} has a value that is NaN or infinite"))?;
    ensure(filter.iter().any(|&v| v > 0.0), || format!("{call} has no positive value: it is not an interpolation filter"))
}

fn to_array(tensor: &Tensor) -> ArrayD<f32> {
    (&tensor.to_kind(tch::Kind::Float)).try_into().expect("a float tensor converts")
}

fn to_array2(tensor: &Tensor) -> Array2<f32> {
    to_array(tensor).into_dimensionality::<Ix2>().expect("a 2-D tensor")
}
