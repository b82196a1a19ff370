//! # Exercise 3a: FCN-16s, the first skip
//!
//! FCN-32s labels every pixel, but from features 32 pixels apart: its
//! outlines are blobs. The layers before pool5 see less of the image but see
//! it more finely. FCN-16s combines the two: *coarse, semantic* information
//! from the deep stride-32 scores and *fine, local* information from pool4,
//! at stride 16 (the skip architecture of the paper's Figure 3).
//!
//! ```text
//! fc7 ──score_fr──> upscore2 (x2) ───────────────┐
//!                                                 + ──upscore16 (x16)──> crop 27 ──> output
//! pool4 ──score_pool4──> crop 5 ─────────────────┘
//! ```
//!
//! * `score_fr`: 1x1 convolution, fc7's channels to `classes` (as FCN-32s).
//! * `upscore2`: fixed bilinear upsampling by 2 (kernel 4) of those scores.
//! * `score_pool4`: 1x1 convolution, pool4's 512 channels to `classes`.
//! * fuse: `upscore2` plus `score_pool4` cropped at offset 5 to `upscore2`'s
//!   size. The sum is a stride-16 score map.
//! * `upscore16`: fixed bilinear upsampling by 16 (kernel 32) of the sum,
//!   cropped at offset 27 to the input's size.
//!
//! ## Where the crop offsets come from
//!
//! Follow where each layer's pixel `i` sits on the image, as `x = a * i + b`.
//! A 3x3 convolution with padding `p` moves the centre by `1 - p` (so
//! conv1_1 gives `b = -99`, the others nothing); a 2x2 pooling doubles `a`
//! and adds `a / 2` to `b` before doubling (its window's centre is half a
//! pixel in); fc6's 7x7 window adds `3a`. That gives pool4 at
//! `x = 16i - 91.5` and fc6, fc7 and score_fr at `x = 32i + 12.5`. A transposed
//! convolution with stride `s` and kernel `k` places input `i` at output
//! `s * i + (k - 1) / 2`, so upscore2's pixel `j` sits at
//! `x = 16j - 11.5`. To add two maps their pixels must sit at the same place:
//! `16(j + c) - 91.5 = 16j - 11.5` gives pool4's crop `c = 5`. Upscore16 then
//! puts the fused pixel `j` at output `16j + 15.5`, i.e. output pixel `o`
//! at `x = o - 27`: crop 27. (FCN-32s's 19 comes the same way.)
//!
//! With padding 100 and ceil-mode pooling, these fixed offsets stay inside
//! the maps for every input size.
//!
//! Hint: FCN-32s in `fcn32s.rs` is your template. Crop with
//! [`fcn_common::crop`]`(map, like, offset)`. Name the blobs with
//! [`fcn_common::tap`] as the release does (`score_fr`, `upscore2`,
//! `score_pool4`, `score_pool4c` for the cropped one, `fuse_pool4`,
//! `upscore16`, `score`), and a wrong output is traced to its first layer.
//!
//! Run `cargo test -p exercises --test fcn fcn16s` to check your work (FCN-16s's tests alone;
//! `--test fcn` runs every network's).

// What the bodies need; unused while they are still `todo!()`.
#[allow(unused_imports)]
use crate::bilinear::bilinear_upsampling;
#[allow(unused_imports)]
use crate::vgg::vgg16;
#[allow(unused_imports)]
use fcn_common::{FcnConfig, crop, tap};
#[allow(unused_imports)]
use tch::nn;

/// FCN-16s under `path`: the backbone (`conv1_1` ... `fc7`), `score_fr`,
/// `upscore2`, `score_pool4` and `upscore16`. N x 3 x H x W images in,
/// N x classes x H x W scores out.
pub fn fcn16s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
    todo!("exercise 3: fcn16s with {config:?} under {:?}", path.components().collect::<Vec<_>>())
}
