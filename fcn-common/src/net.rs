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
/// If either tensor is not a batch of maps (`N x C x H x W`), or the window
/// does not fit inside `xs`: the message gives both sizes and the offsets
/// that would fit, and points at the line that called `crop`.
#[track_caller]
pub fn crop(xs: &Tensor, like: &Tensor, offset: i64) -> Tensor {
    let (size, like_size) = (xs.size(), like.size());
    assert!(
        size.len() == 4 && like_size.len() == 4,
        "crop: both tensors must be N x C x H x W maps; the map to crop has shape {size:?}, the one to match {like_size:?}"
    );
    let (height, width) = (like_size[2], like_size[3]);
    let (h, w) = (size[2], size[3]);
    let fits = offset >= 0 && offset + height <= h && offset + width <= w;
    assert!(fits, "{}", crop_message(h, w, height, width, offset));
    xs.narrow(2, offset, height).narrow(3, offset, width)
}

/// Why a `height x width` window at `offset` does not fit in an `h x w`
/// map, in the terms of the exercise: which sizes, and what the offset must
/// satisfy.
fn crop_message(h: i64, w: i64, height: i64, width: i64, offset: i64) -> String {
    let most = (h - height).min(w - width);
    let fix = if most < 0 {
        "the map to crop is smaller than the one to match, so no offset fits: is the map to crop the coarser \
         one, or is an upsampling or a padding missing before it?"
            .to_owned()
    } else {
        format!("the offset must satisfy 0 <= offset <= {most}; in the release each crop offset comes from aligning the two maps' receptive fields")
    };
    format!(
        "crop: a {height}x{width} window at offset {offset} does not fit in the {h}x{w} map to crop \
         (offset + {height} <= {h} and offset + {width} <= {w} are needed); {fix}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(h: i64, w: i64) -> Tensor {
        Tensor::arange(h * w, (tch::Kind::Float, tch::Device::Cpu)).reshape([1, 1, h, w])
    }

    /// The panic message of `f`.
    fn panic_of(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let payload = std::panic::catch_unwind(f).expect_err("it panics");
        payload.downcast_ref::<String>().cloned().unwrap_or_default()
    }

    #[test]
    fn crop_takes_the_window_at_the_offset() {
        let window = crop(&map(6, 7), &map(2, 3), 2);
        assert_eq!(window.size(), [1, 1, 2, 3]);
        // Row 2, column 2 of a 6x7 map counted row by row: 2 * 7 + 2.
        assert_eq!(f64::try_from(window.get(0).get(0).get(0).get(0)).unwrap(), 16.0);
    }

    #[test]
    fn a_window_that_does_not_fit_is_told_in_sizes_and_offsets() {
        let message = panic_of(|| drop(crop(&map(10, 12), &map(8, 8), 3)));
        assert!(message.contains("a 8x8 window at offset 3 does not fit in the 10x12 map"), "{message}");
        assert!(message.contains("0 <= offset <= 2"), "{message}");
        let message = panic_of(|| drop(crop(&map(4, 4), &map(8, 8), 0)));
        assert!(message.contains("no offset fits"), "{message}");
        let message = panic_of(|| drop(crop(&map(10, 10), &map(8, 8), -1)));
        assert!(message.contains("0 <= offset <= 2"), "{message}");
        let message = panic_of(|| drop(crop(&Tensor::zeros([3, 3], (tch::Kind::Float, tch::Device::Cpu)), &map(2, 2), 0)));
        assert!(message.contains("N x C x H x W"), "{message}");
    }
}
