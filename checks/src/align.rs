//! Hidden checks for exercise 3's first part: where a map's pixels sit, and
//! the crop offsets that line two maps up.
//!
//! Each answer is compared with the reference's on random layers, stacks
//! and pairs of maps; the release's five offsets and the docs' worked
//! example count only beside random cases, so that a table of the known
//! numbers earns nothing.

use crate::Implementation;
use crate::check::{Check, case_seed, ensure};
use crate::networks::FCN;
use fcn_common::align::{Blob, Layer, Placement, vgg16_layers};
use ndarray_rand::rand::{Rng, SeedableRng, rngs::StdRng};
use solutions::align as reference;

const DRAWS: usize = 200;

pub fn checks<I: Implementation>() -> Vec<Check> {
    let check = |name, points, run| Check::new(FCN, name, points, run);
    vec![
        check("alignment: the docs' worked example, and random layers", 1, docs_example::<I>).public(),
        check("alignment: one layer, random convolutions, poolings and transposed convolutions", 1, one_layer::<I>),
        check("alignment: random stacks of layers", 1, stacks::<I>),
        check("alignment: crop offsets of random maps, lined up or not", 1, random_offsets::<I>),
        check("alignment: the release's five crop offsets (FCN-32s, FCN-16s, FCN-8s)", 1, release_offsets::<I>),
        check("alignment: the release's crops fit their maps for every input of 1 to 500 pixels", 1, crops_fit::<I>),
    ]
}

/// Whether `got` is `expected` to within rounding; NaN never is.
fn close(got: f64, expected: f64) -> bool {
    (got - expected).abs() <= 1e-9 * expected.abs().max(1.0)
}

fn same_placement(got: Placement, expected: Placement, what: impl FnOnce() -> String) -> Result<(), String> {
    ensure(close(got.scale, expected.scale) && close(got.shift, expected.shift), || {
        format!("{}: got scale {}, shift {}; the scale or the shift is wrong", what(), got.scale, got.shift)
    })
}

fn random_layer(rng: &mut StdRng) -> Layer {
    let (kernel, stride) = (rng.gen_range(1..=8), rng.gen_range(1..=4));
    let padding = rng.gen_range(0..=(kernel / 2 + 2));
    if rng.gen_bool(0.3) { Layer::Transposed { kernel, stride, padding } } else { Layer::Slide { kernel, stride, padding } }
}

fn random_stack(rng: &mut StdRng, most: usize) -> Vec<Layer> {
    (0..rng.gen_range(0..=most)).map(|_| random_layer(rng)).collect()
}

/// The toy network of the module's docs, then random layers from random
/// placements.
fn docs_example<I: Implementation>() -> Result<(), String> {
    let a = [Layer::conv(3, 2), Layer::pool(2, 2)];
    let b = [&a[..], &[Layer::conv(3, 1), Layer::pool(2, 2), Layer::upsample(2)]].concat();
    same_placement(I::placement(&a), Placement { scale: 2.0, shift: -0.5 }, || "placement of the docs' map a".into())?;
    same_placement(I::placement(&b), Placement { scale: 2.0, shift: -2.5 }, || "placement of the docs' map b".into())?;
    let (a_to_b, b_to_a) = (I::crop_offset(&a, &b), I::crop_offset(&b, &a));
    ensure(a_to_b.is_none() && b_to_a == Some(1), || {
        format!("the docs' maps: crop_offset(a, b) gave {a_to_b:?} and crop_offset(b, a) gave {b_to_a:?}, not as the docs work out")
    })?;
    one_layer::<I>()
}

fn one_layer<I: Implementation>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(case_seed("alignment: random layers"));
    (0..DRAWS).try_for_each(|_| {
        let at = Placement { scale: rng.gen_range(0.05..40.0), shift: rng.gen_range(-200.0..200.0) };
        let layer = random_layer(&mut rng);
        same_placement(I::through(at, layer), reference::through(at, layer), || format!("through({at:?}, {layer:?})"))
    })
}

fn stacks<I: Implementation>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(case_seed("alignment: random stacks"));
    same_placement(I::placement(&[]), Placement::INPUT, || "placement of no layers (the input itself)".into())?;
    (0..DRAWS).try_for_each(|_| {
        let stack = random_stack(&mut rng, 12);
        same_placement(I::placement(&stack), reference::placement(&stack), || format!("placement({stack:?})"))
    })
}

/// Pairs of maps from one input: one that the layers of the other carry on
/// from (so that they often line up), its reverse, and unrelated ones.
fn random_pair(rng: &mut StdRng) -> (Vec<Layer>, Vec<Layer>) {
    let start = random_stack(rng, 8);
    let on: Vec<Layer> = match rng.gen_range(0..3) {
        // Stride-1 convolutions of odd kernels: same scale, a whole shift.
        0 => (0..rng.gen_range(1..=3)).map(|_| { let k = 2 * rng.gen_range(0..=3) + 1; Layer::conv(k, rng.gen_range(0..=k / 2)) }).collect(),
        // A pooling undone by an upsampling: same scale, some shift.
        1 => { let s = rng.gen_range(2..=4); vec![Layer::pool(s, s), Layer::upsample(s)] }
        _ => random_stack(rng, 3),
    };
    let longer = [start.clone(), on].concat();
    match rng.gen_range(0..4) {
        0 | 1 => (start, longer),
        2 => (longer, start),
        _ => (start, random_stack(rng, 8)),
    }
}

fn random_offsets<I: Implementation>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(case_seed("alignment: random pairs of maps"));
    let (mut lined_up, mut not) = (0, 0);
    for _ in 0..DRAWS {
        let (map, like) = random_pair(&mut rng);
        let (got, expected) = (I::crop_offset(&map, &like), reference::crop_offset(&map, &like));
        ensure(got == expected, || {
            let reason = if expected.is_some() { "they line up there" } else { "no crop lines them up" };
            format!("crop_offset(map = {map:?}, like = {like:?}) gave {got:?}; {reason}")
        })?;
        if expected.is_some() { lined_up += 1 } else { not += 1 }
    }
    // The draw must hold both kinds, or it proves nothing.
    assert!(lined_up >= DRAWS / 5 && not >= DRAWS / 5, "the draw held {lined_up} pairs that line up and {not} that do not");
    Ok(())
}

/// Each crop of the release: its name, the map cropped, the map it is lined up with.
fn release_crops() -> Vec<(&'static str, Vec<Layer>, Vec<Layer>)> {
    let head = |blob, after: &[Layer]| [vgg16_layers(blob), vec![Layer::conv(1, 0)], after.to_vec()].concat();
    let up = Layer::upsample;
    vec![
        ("FCN-32s's final crop (upscore to the image)", head(Blob::Fc7, &[up(32)]), Vec::new()),
        ("FCN-16s's pool4 crop (score_pool4 to upscore2)", head(Blob::Pool4, &[]), head(Blob::Fc7, &[up(2)])),
        ("FCN-16s's final crop (upscore16 to the image)", head(Blob::Fc7, &[up(2), up(16)]), Vec::new()),
        ("FCN-8s's pool3 crop (score_pool3 to upscore_pool4)", head(Blob::Pool3, &[]), head(Blob::Fc7, &[up(2), up(2)])),
        ("FCN-8s's final crop (upscore8 to the image)", head(Blob::Fc7, &[up(2), up(2), up(8)]), Vec::new()),
    ]
}

fn release_offsets<I: Implementation>() -> Result<(), String> {
    for (name, map, like) in release_crops() {
        let (got, expected) = (I::crop_offset(&map, &like), reference::crop_offset(&map, &like));
        ensure(got == expected, || format!("{name}: crop_offset gave {got:?}, which does not line the two maps up"))?;
    }
    random_offsets::<I>()
}

/// A map's size after `layers`, from an input of `size` pixels, as the
/// release computes it: pooling (stride above 1) rounds up, as Caffe's
/// does; a convolution rounds down.
fn size_after(layers: &[Layer], size: i64) -> i64 {
    layers.iter().fold(size, |n, layer| match *layer {
        Layer::Slide { kernel, stride, padding } => {
            let room = n + 2 * padding - kernel;
            if stride > 1 { (room + stride - 1).div_euclid(stride) + 1 } else { room.div_euclid(stride) + 1 }
        }
        Layer::Transposed { kernel, stride, padding } => (n - 1) * stride - 2 * padding + kernel,
    })
}

fn crops_fit<I: Implementation>() -> Result<(), String> {
    for (name, map, like) in release_crops() {
        let offset = I::crop_offset(&map, &like).ok_or_else(|| format!("{name}: crop_offset gave None"))?;
        for input in 1..=500 {
            let (outer, inner) = (size_after(&map, input), size_after(&like, input));
            ensure(offset >= 0 && offset + inner <= outer, || {
                format!("{name}: for an input of {input} pixels, a crop of {inner} at offset {offset} does not fit in the map of {outer}")
            })?;
        }
    }
    random_offsets::<I>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_release() {
        // The release's figures for a 500x500 image: pool5 is 22x22 (with
        // padding 100), fc7 16x16, upscore 544x544.
        let fc7 = vgg16_layers(Blob::Fc7);
        assert_eq!(size_after(&fc7[..fc7.len() - 2], 500), 22);
        assert_eq!(size_after(&fc7, 500), 16);
        assert_eq!(size_after(&[fc7, vec![Layer::upsample(32)]].concat(), 500), 544);
    }
}
