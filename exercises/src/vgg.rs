//! # Exercise 2: VGG16, made fully convolutional
//!
//! VGG16 classifies a 224x224 image with 13 convolutions, 5 max-poolings and
//! three fully connected layers. FCN keeps all of it but the last classifier
//! and reads the two other fully connected layers as convolutions, so that the
//! network accepts an image of any size and answers with a *map* of scores,
//! one per coarse location, instead of one score vector.
//!
//! ## A fully connected layer is a convolution
//!
//! VGG16's first fully connected layer, `fc6`, sees pool5's 512 x 7 x 7
//! features flattened to 25088 numbers and gives 4096. Reshape its
//! `[4096, 25088]` weight to `[4096, 512, 7, 7]` and it becomes a 7x7
//! convolution with no padding: on a 7x7 input it computes exactly the same
//! 4096 numbers (one position), and on a larger input it slides, giving the
//! classifier's answer at every 7x7 window. `fc7` (4096 to 4096) becomes a 1x1
//! convolution the same way. You only build the layers here: given code,
//! `fcn_common::load_torchvision_vgg16`, does that reshaping when it loads VGG16
//! weights pre-trained on ImageNet into your network, by the names below.
//!
//! ## The layers
//!
//! | names | layer | output channels |
//! |---|---|---|
//! | `conv1_1`, `conv1_2` | 3x3 convolution + ReLU (conv1_1: padding 100, every other 3x3: padding 1) | 64 |
//! | pool1 | 2x2 max-pool, stride 2, **ceil mode** | |
//! | `conv2_1`, `conv2_2` | 3x3 + ReLU | 128 |
//! | pool2 | max-pool, ceil | |
//! | `conv3_1` .. `conv3_3` | 3x3 + ReLU | 256 |
//! | pool3 | max-pool, ceil | (returned: FCN-8s's skip) |
//! | `conv4_1` .. `conv4_3` | 3x3 + ReLU | 512 |
//! | pool4 | max-pool, ceil | (returned: FCN-16s's skip) |
//! | `conv5_1` .. `conv5_3` | 3x3 + ReLU | 512 |
//! | pool5 | max-pool, ceil | |
//! | `fc6` | 7x7 convolution, no padding + ReLU + dropout 0.5 | 4096 |
//! | `fc7` | 1x1 convolution + ReLU + dropout 0.5 | 4096 (returned) |
//!
//! Every convolution has a bias. The names are the variable names of the
//! authors' release and of the PyTorch port, so that published weights load
//! by name: `conv1_1.weight`, `conv1_1.bias`, ..., `fc7.bias`.
//!
//! ## Why padding 100
//!
//! fc6 needs a 7x7 input, which pool5 only has for images of about 200
//! pixels or more. Padding the first convolution by 100 pixels lets an image
//! of any size through, and makes the score map a little *larger* than the
//! image once upsampled, so that the heads can crop it to the image exactly
//! (at the offsets exercise 3 explains). For a 500x500 image: conv1_1 gives
//! 698x698, the pools 349, 175, 88, 44 and 22, and fc6 16.
//!
//! ## Why ceil mode
//!
//! Caffe rounds a pooling's output size up: a 175-pixel input gives 88, not
//! 87; the last window hangs over the edge and takes the maximum of what is
//! there. Rounding down would lose the last row and column and shift every
//! size above, and the crop offsets would no longer fit. In tch that is the
//! last argument of `max_pool2d`.
//!
//! ## Dropout
//!
//! fc6 and fc7 are each followed by dropout with probability 0.5 while
//! training, and by nothing at test time: pass `train` to `dropout`.
//! Use libtorch's `dropout` rather than masks of your own: the hidden checks
//! compare your networks' gradients in training mode with the reference's
//! under the same masks, the ones `dropout` draws after the same seed.
//!
//! ## Width
//!
//! `config.channels(64)` and so on give each layer's channel count, so that a
//! narrow network (for the quick tests) has the same layers and names.
//!
//! ## Initialisation
//!
//! tch starts a convolution's weight uniform in `±sqrt(6 / fan_in)` (Kaiming's
//! initialisation for ReLU networks, with fan-in = input channels x kernel
//! area) and its bias at zero. That keeps the activations of a deep ReLU
//! network of order one, which a network trained from scratch needs (the
//! kit's synthetic training run does that). In the paper, all of these layers
//! start from VGG16 trained on ImageNet instead, loaded over these values.
//!
//! Run `cargo test -p exercises --test vgg` to check your work.

// What the bodies need; unused while they are still `todo!()`.
#[allow(unused_imports)]
use fcn_common::{Backbone, FcnConfig, VggFeatures, tap};
#[allow(unused_imports)]
use tch::{Tensor, nn};

/// VGG16 made fully convolutional, with its variables under `path` named as
/// in the table above.
///
/// The returned [`Backbone`] runs the network: build the layers here, then
/// hand `Backbone::new` a `move` closure that owns them and computes the
/// features for an input `xs` (N x 3 x H x W) and a `train` flag.
///
/// Hint: `nn::conv2d(path / "conv1_1", 3, 64, 3, nn::ConvConfig { padding: 100,
/// ..Default::default() })` makes one layer. A list of the 13 names with
/// their channel counts, walked in a loop, saves typing; remember which
/// pool's output goes where. `xs.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1],
/// ceil_mode)` pools.
///
/// Name what each layer computes with [`fcn_common::tap`], as the release's
/// prototxt names its blobs: `x = tap("conv1_1", x.apply(&conv).relu())` for
/// each convolution (after its ReLU), `pool1` ... `pool5`, and `fc6`, `fc7`
/// (after their dropout). A tap changes nothing; when your network's output
/// differs from the reference's, the tests name the first layer where it does.
pub fn vgg16(path: &nn::Path, config: FcnConfig) -> Backbone {
    todo!("exercise 2: vgg16 with {config:?} under {:?}", path.components().collect::<Vec<_>>())
}
