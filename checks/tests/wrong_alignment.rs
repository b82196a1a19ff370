//! Each alignment check is aimed at a mistake students make: an
//! implementation with that one mistake loses the checks written for it,
//! and keeps the others.

use checks::{Implementation, Mistake, Solutions};
use fcn_common::align::{Layer, Placement};
use solutions::align as reference;

/// A transposed convolution placed by a convolution's rule.
const TRANSPOSED_AS_CONVOLUTION: u8 = 0;
/// A window's centre taken at its first pixel: no `(k - 1) / 2`.
const NO_CENTRE: u8 = 1;
/// The padding added to the shift instead of taken from it.
const PADDING_ADDED: u8 = 2;
/// A stack's layers applied from the last to the first.
const STACK_REVERSED: u8 = 3;
/// The offset's sign turned: `map` lined up with `like` the wrong way round.
const OFFSET_NEGATED: u8 = 4;
/// An offset rounded to a whole number where the maps do not line up.
const OFFSET_ROUNDED: u8 = 5;
/// An offset for maps of different scales.
const SCALES_IGNORED: u8 = 6;
/// The release's five offsets from a table, and 0 for every other pair.
const KNOWN_NUMBERS: u8 = 7;

struct Mutant<const M: u8>;

impl<const M: u8> Mistake for Mutant<M> {
    fn through(at: Placement, layer: Layer) -> Placement {
        let centre = |kernel: i64| if M == NO_CENTRE { 0.0 } else { (kernel - 1) as f64 / 2.0 };
        match layer {
            Layer::Transposed { kernel, stride, padding } if M == TRANSPOSED_AS_CONVOLUTION => {
                reference::through(at, Layer::Slide { kernel, stride, padding })
            }
            Layer::Slide { kernel, stride, padding } if matches!(M, NO_CENTRE | PADDING_ADDED) => {
                let padding = if M == PADDING_ADDED { -padding } else { padding };
                Placement { scale: at.scale * stride as f64, shift: at.shift + at.scale * (centre(kernel) - padding as f64) }
            }
            _ => reference::through(at, layer),
        }
    }
    fn placement(layers: &[Layer]) -> Placement {
        if M == STACK_REVERSED {
            layers.iter().rev().fold(Placement::INPUT, |at, &layer| reference::through(at, layer))
        } else {
            reference::placement(layers)
        }
    }
    fn crop_offset(map: &[Layer], like: &[Layer]) -> Option<i64> {
        let (outer, inner) = (reference::placement(map), reference::placement(like));
        let offset = (inner.shift - outer.shift) / outer.scale;
        match M {
            OFFSET_NEGATED => {
                let offset = -offset;
                (outer.scale == inner.scale && offset.fract() == 0.0 && offset >= 0.0).then_some(offset as i64)
            }
            OFFSET_ROUNDED => (outer.scale == inner.scale && offset >= 0.0).then_some(offset.round() as i64),
            SCALES_IGNORED => (offset.fract() == 0.0 && offset >= 0.0).then_some(offset as i64),
            KNOWN_NUMBERS => {
                // By the stacks' lengths: VGG16 to fc7 is 20 layers, to pool4 14, to
                // pool3 10; each head adds a 1x1 score layer and its upsamplings.
                let known = [(22, Some(19)), (15, Some(5)), (23, Some(27)), (11, Some(9)), (24, Some(31))];
                let kinds = (map.len(), like.len());
                known.iter().find(|(n, _)| kinds.0 == *n && (like.is_empty() || kinds.1 > 20)).map_or(Some(0), |(_, c)| *c)
            }
            _ => reference::crop_offset(map, like),
        }
    }
}

const DOCS: &str = "alignment: the docs' worked example, and random layers";
const ONE_LAYER: &str = "alignment: one layer, random convolutions, poolings and transposed convolutions";
const STACKS: &str = "alignment: random stacks of layers";
const RANDOM_OFFSETS: &str = "alignment: crop offsets of random maps, lined up or not";
const RELEASE: &str = "alignment: the release's five crop offsets (FCN-32s, FCN-16s, FCN-8s)";
const FIT: &str = "alignment: the release's crops fit their maps for every input of 1 to 500 pixels";

/// The alignment checks that `I` does not pass.
fn failed<I: Implementation>() -> Vec<&'static str> {
    checks::align::checks::<I>().iter().filter(|check| !checks::run(check).passed()).map(|check| check.name).collect()
}

#[test]
fn the_reference_passes_every_alignment_check() {
    assert_eq!(failed::<Solutions>(), Vec::<&str>::new());
    let names: Vec<&str> = checks::align::checks::<Solutions>().iter().map(|c| c.name).collect();
    assert_eq!(names, [DOCS, ONE_LAYER, STACKS, RANDOM_OFFSETS, RELEASE, FIT], "every check is named here");
}

#[test]
fn a_wrong_rule_for_one_layer_loses_the_one_layer_checks() {
    for (mistake, lost) in [
        (failed::<Mutant<TRANSPOSED_AS_CONVOLUTION>>(), "a transposed convolution placed as a convolution"),
        (failed::<Mutant<NO_CENTRE>>(), "no window centre"),
        (failed::<Mutant<PADDING_ADDED>>(), "padding added"),
    ] {
        assert_eq!(mistake, [DOCS, ONE_LAYER], "{lost}");
    }
}

#[test]
fn a_stack_applied_backwards_loses_the_stack_checks() {
    assert_eq!(failed::<Mutant<STACK_REVERSED>>(), [DOCS, STACKS]);
}

#[test]
fn wrong_offsets_lose_the_offset_checks() {
    assert_eq!(failed::<Mutant<OFFSET_NEGATED>>(), [DOCS, RANDOM_OFFSETS, RELEASE, FIT], "the offset negated");
    assert_eq!(failed::<Mutant<OFFSET_ROUNDED>>(), [RANDOM_OFFSETS, RELEASE, FIT], "an offset where the maps do not line up");
    assert_eq!(failed::<Mutant<SCALES_IGNORED>>(), [RANDOM_OFFSETS, RELEASE, FIT], "maps of different scales");
}

/// The release's numbers known by heart earn nothing: each check of them
/// has random pairs beside them.
#[test]
fn the_release_s_offsets_from_a_table_earn_nothing() {
    let known = <Mutant<KNOWN_NUMBERS> as Mistake>::crop_offset;
    let head = |blob, after: &[Layer]| [fcn_common::align::vgg16_layers(blob), vec![Layer::conv(1, 0)], after.to_vec()].concat();
    let up = Layer::upsample;
    use fcn_common::align::Blob::{Fc7, Pool3, Pool4};
    assert_eq!(known(&head(Fc7, &[up(32)]), &[]), Some(19), "the table holds FCN-32s's offset");
    assert_eq!(known(&head(Pool4, &[]), &head(Fc7, &[up(2)])), Some(5));
    assert_eq!(known(&head(Fc7, &[up(2), up(16)]), &[]), Some(27));
    assert_eq!(known(&head(Pool3, &[]), &head(Fc7, &[up(2), up(2)])), Some(9));
    assert_eq!(known(&head(Fc7, &[up(2), up(2), up(8)]), &[]), Some(31));
    assert_eq!(failed::<Mutant<KNOWN_NUMBERS>>(), [DOCS, RANDOM_OFFSETS, RELEASE, FIT]);
}
