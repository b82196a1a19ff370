//! # Exercise 3b: FCN-16s, the first skip
//!
//! FCN-32s labels every pixel, but from features 32 pixels apart: its
//! outlines are blobs. The layers before pool5 see less of the image but see
//! it more finely. FCN-16s combines the two: *coarse, semantic* information
//! from the deep stride-32 scores and *fine, local* information from pool4,
//! at stride 16 (the skip architecture of the paper's Figure 3).
//!
//! ```text
//! fc7 ──score_fr──> upscore2 (x2) ───────────────┐
//!                                                 + ──upscore16 (x16)──> crop ──> output
//! pool4 ──score_pool4──> crop ───────────────────┘
//! ```
//!
//! * `score_fr`: 1x1 convolution, fc7's channels to `classes` (as FCN-32s).
//! * `upscore2`: fixed bilinear upsampling by 2 (kernel 4) of those scores.
//! * `score_pool4`: 1x1 convolution, pool4's 512 channels to `classes`.
//! * fuse: `upscore2` plus `score_pool4` cropped to `upscore2`'s size, at
//!   the offset that lines the two up. The sum is a stride-16 score map.
//! * `upscore16`: fixed bilinear upsampling by 16 (kernel 32) of the sum,
//!   cropped to the input's size at the offset that lines it up with the
//!   image.
//!
//! ## Where the crop offsets come from
//!
//! From your [`crate::align::crop_offset`]: write down the layers from the
//! image to each of the two maps a crop lines up, as `fcn_common::align`
//! layers, and ask for the offset. The fused map sits where `upscore2`
//! does (the crop put `score_pool4` there), and the final crop lines the
//! upsampled scores up with the image, a stack of no layers. FCN-32s in
//! `fcn32s.rs` does this for its one crop. With padding 100 and ceil-mode
//! pooling, the offsets stay inside the maps for every input size.
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
use crate::align::crop_offset;
#[allow(unused_imports)]
use crate::bilinear::bilinear_upsampling;
#[allow(unused_imports)]
use crate::vgg::vgg16;
#[allow(unused_imports)]
use fcn_common::align::{Blob, Layer, vgg16_layers};
#[allow(unused_imports)]
use fcn_common::{FcnConfig, crop, tap};
#[allow(unused_imports)]
use tch::nn;

/// FCN-16s under `path`: the backbone (`conv1_1` ... `fc7`), `score_fr`,
/// `upscore2`, `score_pool4` and `upscore16`. N x 3 x H x W images in,
/// N x classes x H x W scores out.
pub fn fcn16s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
    // STUB: todo!("exercise 3: fcn16s with {config:?} under {:?}", path.components().collect::<Vec<_>>())
    // BEGIN SOLUTION
    let backbone = vgg16(path, config);
    let score_fr = nn::conv2d(path / "score_fr", config.channels(4096), config.classes, 1, Default::default());
    let score_pool4 = nn::conv2d(path / "score_pool4", config.channels(512), config.classes, 1, Default::default());
    let upscore2 = bilinear_upsampling(&(path / "upscore2"), config.classes, 2);
    let upscore16 = bilinear_upsampling(&(path / "upscore16"), config.classes, 16);
    // Each map as the layers from the image to it (a 1x1 score layer moves nothing).
    let upscored2 = [vgg16_layers(Blob::Fc7), vec![Layer::conv(1, 0), Layer::upsample(2)]].concat();
    let pool4 = [vgg16_layers(Blob::Pool4), vec![Layer::conv(1, 0)]].concat();
    let upscored16 = [upscored2.clone(), vec![Layer::upsample(16)]].concat();
    let pool4_offset = crop_offset(&pool4, &upscored2).expect("pool4's scores line up with upscore2");
    let offset = crop_offset(&upscored16, &[]).expect("upscore16 lines up with the image");
    nn::func_t(move |xs, train| {
        let features = backbone.forward_t(xs, train);
        let coarse = tap("upscore2", tap("score_fr", features.fc7.apply(&score_fr)).apply(&upscore2));
        let fine = tap("score_pool4", features.pool4.apply(&score_pool4));
        let fused = tap("fuse_pool4", &coarse + tap("score_pool4c", crop(&fine, &coarse, pool4_offset)));
        let upscored = tap("upscore16", fused.apply(&upscore16));
        tap("score", crop(&upscored, xs, offset))
    })
    // END SOLUTION
}
