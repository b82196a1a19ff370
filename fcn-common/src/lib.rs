//! What the exercises crate and the reference crate share, so that neither has
//! its own copy: layer types, settings and helpers that are given, not
//! exercises.

pub mod align;
pub mod net;
pub mod receptive;
pub mod taps;
pub mod upsampling;
pub mod values;
pub mod weights;

/// The label of a void pixel in a mask (PASCAL VOC's 255): no class, left
/// out of the loss and the scores.
pub const VOID: u8 = 255;

pub use net::{Backbone, FcnConfig, VggFeatures, crop};
pub use receptive::Window;
pub use taps::tap;
pub use upsampling::{FixedUpsampling, upsampling_kernel_size};
pub use weights::{AsConv, Conversion, WeightsError, init_from, load_torchvision_vgg16};
