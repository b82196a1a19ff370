//! # Exercise 3a: aligning two maps
//!
//! A skip adds two score maps of different layers, and the head's last step
//! crops the upsampled scores to the image. Both need to know which pixel
//! of one map lies over which pixel of the other. Padding, kernels and
//! strides shift every map a little: pixel 0 of pool4 is not over pixel 0
//! of the image. This exercise computes those shifts, and from them the
//! crop offsets that the FCN heads use (you will not find the numbers in
//! their docs: they come out of your [`crop_offset`]).
//!
//! ## Where a pixel sits
//!
//! Describe a map by where its pixels sit on the network's input: pixel `i`
//! of the map is centred on the input's coordinate `x = scale * i + shift`
//! ([`Placement`]). The input itself has `scale = 1`, `shift = 0`.
//!
//! **A convolution or a pooling** ([`Layer::Slide`]) with kernel `k`, stride
//! `s` and padding `p` computes its output pixel `j` from a window of its
//! input that starts at input pixel `s * j - p` (the padding comes first)
//! and is `k` wide, so the window's centre is at input pixel
//! `s * j - p + (k - 1) / 2`. If the input's pixel `i` sits at
//! `scale * i + shift`, the output's pixel `j` sits at
//!
//! ```text
//! x = scale * (s * j - p + (k - 1) / 2) + shift
//!   = (scale * s) * j + shift + scale * ((k - 1) / 2 - p)
//! ```
//!
//! **A transposed convolution** ([`Layer::Transposed`]) runs the other way:
//! input pixel `i` stamps a `k`-wide patch that starts at output pixel
//! `s * i - p` (padding `p` is cut off the result's sides), centred on
//! output pixel `s * i - p + (k - 1) / 2`. Read backwards, output pixel `o`
//! sits where input coordinate `(o + p - (k - 1) / 2) / s` does: divide the
//! scale by `s`, and the shift moves by `scale * (p - (k - 1) / 2) / s`.
//!
//! ReLU, dropout, a 1x1 convolution, a sum: none of them moves anything.
//!
//! ## Two maps, one crop
//!
//! `crop(map, like, c)` keeps the window of `map` that starts at pixel `c`
//! and has `like`'s size: map pixel `j + c` is put where `like`'s pixel `j`
//! is. They line up when both sit at the same place:
//!
//! ```text
//! scale_map * (j + c) + shift_map = scale_like * j + shift_like   for every j
//! ```
//!
//! so the scales must be equal and `c = (shift_like - shift_map) / scale`,
//! which must be a whole number, and not negative (a crop cannot start
//! before the map). The final crop of a head lines its scores up with the
//! image: there `like` is the input, a stack of no layers.
//!
//! ## A worked example
//!
//! A toy network (not the release's): `a` is a 3x3 convolution padded by 2
//! and a 2x2 pooling of stride 2; `b` goes on from `a` with a 3x3
//! convolution padded by 1, another such pooling, and a transposed
//! convolution of stride 2 and kernel 4. Can `b` be added to `a`?
//!
//! ```text
//! layer                    scale   shift
//! input                    1       0
//! conv 3x3, padding 2      1       0 + 1 * (1 - 2)         = -1
//! pool 2x2, stride 2       2       -1 + 1 * (0.5 - 0)      = -0.5    (a)
//! conv 3x3, padding 1      2       -0.5 + 2 * (1 - 1)      = -0.5
//! pool 2x2, stride 2       4       -0.5 + 2 * 0.5          = 0.5
//! transposed k 4, s 2      2       0.5 + 4 * (0 - 1.5) / 2 = -2.5    (b)
//! ```
//!
//! Both sit at scale 2, and `c = (-2.5 - (-0.5)) / 2 = -1` for cropping `a`
//! to `b`: negative, so `a` cannot be cropped to `b`. The other way round,
//! `b` cropped to `a` starts at `c = (-0.5 - (-2.5)) / 2 = 1`: pixel 1 of
//! `b` lies over pixel 0 of `a`. That is why the release pads conv1_1 by
//! 100: every deep map then starts before the image, so that each crop
//! offset is positive, whatever the image's size.
//!
//! The release's VGG16 as layers is [`fcn_common::align::vgg16_layers`];
//! an upscore layer of stride `s` is [`Layer::upsample`]`(s)`.
//!
//! Run `cargo test -p exercises --test fcn align` to check your work.

pub use fcn_common::align::{Layer, Placement};

/// Where the pixels of `layer`'s output sit, when those of its input sit at
/// `at`.
///
/// ```text
/// conv 3x3, padding 2 after the input: Placement { scale: 1.0, shift: -1.0 }
/// ```
pub fn through(at: Placement, layer: Layer) -> Placement {
    todo!("exercise 3: through({at:?}, {layer:?})")
}

/// Where the pixels of the map that `layers` make from the network's input
/// sit on that input: [`through`] each layer in turn, from
/// [`Placement::INPUT`]. No layers: the input itself.
pub fn placement(layers: &[Layer]) -> Placement {
    todo!("exercise 3: placement of {} layers", layers.len())
}

/// The offset `c` at which to crop the map that the layers `map` make so
/// that it lines up with the map that the layers `like` make (both from
/// the same input): map pixel `j + c` over `like`'s pixel `j`. `None` when
/// no crop lines them up: their scales differ, or `c` would not be a whole
/// number, or would be negative.
pub fn crop_offset(map: &[Layer], like: &[Layer]) -> Option<i64> {
    todo!("exercise 3: crop_offset of {} layers to {} layers", map.len(), like.len())
}
