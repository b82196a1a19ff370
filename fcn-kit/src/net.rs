//! The pieces of an FCN that are given rather than exercises: its size
//! settings, the crop, and the type a VGG16 backbone returns.

use tch::Tensor;

/// How many classes an FCN scores and how wide its layers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FcnConfig {
    /// Output channels of the score layers: 21 for PASCAL VOC (20 classes and
    /// background).
    pub classes: i64,
    /// Every channel count of the paper is divided by this (1 = the paper's
    /// widths). Layer names and spatial sizes do not change, so a narrow
    /// network is a quick stand-in for checks and CPU training.
    pub width_divisor: i64,
}

impl Default for FcnConfig {
    fn default() -> Self {
        FcnConfig { classes: 21, width_divisor: 1 }
    }
}

impl FcnConfig {
    /// A narrow network with the same layers: `width_divisor` 16 turns VGG16's
    /// 64..512 channels into 4..32 and fc6/fc7's 4096 into 256.
    pub fn narrow(width_divisor: i64) -> Self {
        FcnConfig { width_divisor, ..Self::default() }
    }

    /// The channel count to use where the paper uses `paper_channels`.
    ///
    /// # Panics
    ///
    /// If the divisor is not positive or leaves no channel.
    pub fn channels(&self, paper_channels: i64) -> i64 {
        assert!(self.width_divisor >= 1, "width_divisor must be at least 1, got {}", self.width_divisor);
        let channels = paper_channels / self.width_divisor;
        assert!(channels >= 1, "width_divisor {} leaves no channel of {paper_channels}", self.width_divisor);
        channels
    }
}

/// What the fully convolutional VGG16 hands to the FCN heads.
#[derive(Debug)]
pub struct VggFeatures {
    /// After pool3: stride 8, the skip source of FCN-8s.
    pub pool3: Tensor,
    /// After pool4: stride 16, the skip source of FCN-16s and FCN-8s.
    pub pool4: Tensor,
    /// After fc7 (and its ReLU and dropout): stride 32, what `score_fr` scores.
    pub fc7: Tensor,
}

/// A VGG16 backbone: a function from an image batch (and whether the network
/// is training, for dropout) to its features. Build one with [`Backbone::new`]
/// from a closure that owns the layers.
pub struct Backbone {
    forward: Box<BackboneForward>,
}

/// What a backbone computes: features from images and the training flag.
type BackboneForward = dyn Fn(&Tensor, bool) -> VggFeatures + Send;

impl Backbone {
    pub fn new(forward: impl Fn(&Tensor, bool) -> VggFeatures + Send + 'static) -> Self {
        Backbone { forward: Box::new(forward) }
    }

    /// Runs the backbone on `xs` (N x 3 x H x W); `train` turns dropout on.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> VggFeatures {
        (self.forward)(xs, train)
    }
}

impl std::fmt::Debug for Backbone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Backbone")
    }
}

/// Caffe's `Crop` layer: the window of `xs` that starts `offset` pixels down
/// and right and has the height and width of `like`.
///
/// # Panics
///
/// If the window does not fit inside `xs`.
pub fn crop(xs: &Tensor, like: &Tensor, offset: i64) -> Tensor {
    let (height, width) = (like.size()[2], like.size()[3]);
    xs.narrow(2, offset, height).narrow(3, offset, width)
}
