//! # Worked example: FCN-32s
//!
//! The simplest FCN, complete: read it before exercise 3. It scores the
//! backbone's stride-32 features, upsamples the scores 32 times with the
//! fixed bilinear layer of exercise 1, and crops them to the image.
//!
//! ```text
//! image ──VGG16──> fc7 ──score_fr──> scores at 1/32 ──upscore (x32)──> crop ──> N x C x H x W
//! ```
//!
//! * `score_fr`: a 1x1 convolution from fc7's 4096 channels to one channel
//!   per class: a linear classifier applied at every coarse location.
//! * `upscore`: a fixed bilinear transposed convolution, stride 32, kernel 64,
//!   no bias (exercise 1).
//! * The crop: upsampled, the scores are larger than the image (544x544 for
//!   a 500x500 image) because of conv1_1's padding of 100. Pixel `x` of the
//!   image lines up with pixel `x + c` of the upsampled map, so the head
//!   keeps the image-sized window that starts at `c`. The offset comes from
//!   your [`crate::align::crop_offset`] (exercise 3's first part): the
//!   layers from the image to the upsampled scores, lined up with the image
//!   itself (no layers). Until it is written, this network stops there.
//!
//! ## Initialisation
//!
//! Here every convolution keeps tch's default (see exercise 2) and the
//! upsampling is bilinear and fixed (exercise 1). The release and the PyTorch
//! port start `score_fr` at zero instead, because their backbone comes
//! pre-trained: zero scores mean the network begins by predicting nothing in
//! particular, and the first gradient steps only teach the classifier. In
//! staged training (`fcn_common::init_from`), FCN-16s copies everything it shares
//! with a trained FCN-32s and starts its new `score_pool4` at zero, so that it
//! begins as good as FCN-32s and the skip only adds what it learns; FCN-8s
//! does the same from FCN-16s with `score_pool3`. (A score layer at zero still
//! learns: its gradient is its input times the loss gradient.)

use crate::align::crop_offset;
use crate::bilinear::bilinear_upsampling;
use crate::vgg::vgg16;
use fcn_common::align::{Blob, Layer, vgg16_layers};
use fcn_common::{FcnConfig, crop, tap};
use tch::nn;

/// FCN-32s under `path`: the backbone's variables (`conv1_1` ... `fc7`),
/// `score_fr` and `upscore`. The network maps N x 3 x H x W images to
/// N x classes x H x W scores.
pub fn fcn32s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
    let backbone = vgg16(path, config);
    let score_fr = nn::conv2d(path / "score_fr", config.channels(4096), config.classes, 1, Default::default());
    let upscore = bilinear_upsampling(&(path / "upscore"), config.classes, 32);
    // The upsampled scores: the backbone to fc7, score_fr (1x1), upscore.
    let upscored = [vgg16_layers(Blob::Fc7), vec![Layer::conv(1, 0), Layer::upsample(32)]].concat();
    let offset = crop_offset(&upscored, &[]).expect("FCN-32s's upsampled scores line up with the image");
    nn::func_t(move |xs, train| {
        let features = backbone.forward_t(xs, train);
        let scores = tap("score_fr", features.fc7.apply(&score_fr));
        let scores = tap("upscore", scores.apply(&upscore));
        tap("score", crop(&scores, xs, offset))
    })
}
