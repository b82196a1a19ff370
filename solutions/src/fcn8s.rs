//! # Exercise 3c: FCN-8s, a second skip
//!
//! FCN-8s does again what FCN-16s did, one pooling earlier: it upsamples the
//! fused stride-16 scores by 2 and adds scores of pool3, at stride 8, before
//! the final upsampling by 8.
//!
//! ```text
//! fc7 ──score_fr──> upscore2 (x2) ──────┐
//!                                        + ──upscore_pool4 (x2)──┐
//! pool4 ──score_pool4──> crop ──────────┘                        + ──upscore8 (x8)──> crop
//! pool3 ──score_pool3──> crop ───────────────────────────────────┘
//! ```
//!
//! * `score_fr`, `upscore2`, `score_pool4` and the first fuse: as FCN-16s.
//! * `upscore_pool4`: fixed bilinear upsampling by 2 (kernel 4) of that sum.
//! * `score_pool3`: 1x1 convolution, pool3's 256 channels to `classes`,
//!   cropped to `upscore_pool4`'s size where the two line up, and added to it.
//! * `upscore8`: fixed bilinear upsampling by 8 (kernel 16) of the second
//!   sum, cropped to the input's size where it lines up with the image.
//!
//! The offsets come from your [`crate::align::crop_offset`], as in FCN-16s
//! (`fcn16s.rs`): each fused map sits where the upsampled map it was added
//! to does.
//!
//! ## FCN-8s at once
//!
//! The staged recipe trains FCN-32s, then FCN-16s from it, then FCN-8s from
//! that. The authors' "at-once" variant trains FCN-8s in one go instead, and
//! to keep the skips from overwhelming the deep scores early on it scales
//! pool4 by 0.01 and pool3 by 0.0001 before their score layers. Everything
//! else, names included, is FCN-8s.
//!
//! Name the blobs with [`fcn_common::tap`] as in FCN-16s, then `upscore_pool4`,
//! `score_pool3`, `score_pool3c`, `fuse_pool3`, `upscore8` and `score`.
//!
//! Run `cargo test -p exercises --test fcn fcn8s` to check your work (FCN-8s's tests alone;
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

/// FCN-8s under `path`: the backbone (`conv1_1` ... `fc7`), `score_fr`,
/// `upscore2`, `score_pool4`, `upscore_pool4`, `score_pool3` and `upscore8`.
/// N x 3 x H x W images in, N x classes x H x W scores out.
///
/// Given: your work is in [`fcn8s_with_skip_scales`].
pub fn fcn8s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
    fcn8s_with_skip_scales(path, config, 1.0, 1.0)
}

/// FCN-8s at once: FCN-8s with pool4 scaled by 0.01 and pool3 by 0.0001
/// before `score_pool4` and `score_pool3`.
///
/// Given: your work is in [`fcn8s_with_skip_scales`].
pub fn fcn8s_atonce(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
    fcn8s_with_skip_scales(path, config, 0.01, 0.0001)
}

/// FCN-8s with pool4 multiplied by `pool4_scale` and pool3 by `pool3_scale`
/// before their score layers: the network of the diagram above, with
/// variables under `path` named as listed for [`fcn8s`].
///
/// Hint: start from your FCN-16s; multiplying a tensor by an `f64` scales it.
pub fn fcn8s_with_skip_scales(
    path: &nn::Path,
    config: FcnConfig,
    pool4_scale: f64,
    pool3_scale: f64,
) -> nn::FuncT<'static> {
    // STUB: todo!("exercise 3: fcn8s_with_skip_scales(pool4_scale = {pool4_scale}, pool3_scale = {pool3_scale}) with {config:?} under {:?}", path.components().collect::<Vec<_>>())
    // BEGIN SOLUTION
    let backbone = vgg16(path, config);
    let score_fr = nn::conv2d(path / "score_fr", config.channels(4096), config.classes, 1, Default::default());
    let score_pool4 = nn::conv2d(path / "score_pool4", config.channels(512), config.classes, 1, Default::default());
    let score_pool3 = nn::conv2d(path / "score_pool3", config.channels(256), config.classes, 1, Default::default());
    let upscore2 = bilinear_upsampling(&(path / "upscore2"), config.classes, 2);
    let upscore_pool4 = bilinear_upsampling(&(path / "upscore_pool4"), config.classes, 2);
    let upscore8 = bilinear_upsampling(&(path / "upscore8"), config.classes, 8);
    // Each map as the layers from the image to it (a 1x1 score layer moves nothing).
    let upscored2 = [vgg16_layers(Blob::Fc7), vec![Layer::conv(1, 0), Layer::upsample(2)]].concat();
    let pool4 = [vgg16_layers(Blob::Pool4), vec![Layer::conv(1, 0)]].concat();
    let upscored_pool4 = [upscored2.clone(), vec![Layer::upsample(2)]].concat();
    let pool3 = [vgg16_layers(Blob::Pool3), vec![Layer::conv(1, 0)]].concat();
    let upscored8 = [upscored_pool4.clone(), vec![Layer::upsample(8)]].concat();
    let pool4_offset = crop_offset(&pool4, &upscored2).expect("pool4's scores line up with upscore2");
    let pool3_offset = crop_offset(&pool3, &upscored_pool4).expect("pool3's scores line up with upscore_pool4");
    let offset = crop_offset(&upscored8, &[]).expect("upscore8 lines up with the image");
    nn::func_t(move |xs, train| {
        let features = backbone.forward_t(xs, train);
        let coarse = tap("upscore2", tap("score_fr", features.fc7.apply(&score_fr)).apply(&upscore2));
        let pool4 = tap("score_pool4", (features.pool4 * pool4_scale).apply(&score_pool4));
        let fused = tap("fuse_pool4", &coarse + tap("score_pool4c", crop(&pool4, &coarse, pool4_offset)));
        let fused = tap("upscore_pool4", fused.apply(&upscore_pool4));
        let pool3 = tap("score_pool3", (features.pool3 * pool3_scale).apply(&score_pool3));
        let fused = tap("fuse_pool3", &fused + tap("score_pool3c", crop(&pool3, &fused, pool3_offset)));
        let upscored = tap("upscore8", fused.apply(&upscore8));
        tap("score", crop(&upscored, xs, offset))
    })
    // END SOLUTION
}
