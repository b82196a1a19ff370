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
//! features flattened to 25088 numbers and gives 4096: output `o` is
//! `sum over i of W[o, i] * x[i] + b[o]`, where `i` runs over the flattened
//! window. A 7x7 convolution with 512 input channels and no padding computes,
//! at each position, `b[o] + sum over c, y, x of K[o, c, y, x] *
//! window[c, y, x]`: the same sum, if `K[o, c, y, x]` is the `W[o, i]` that multiplies
//! the same feature. So the fully connected layer *is* a 7x7 convolution,
//! once its weight is laid out as one: on a 7x7 map it gives the classifier's
//! 4096 numbers at its single position, and on a larger map it slides,
//! giving the classifier's answer at every 7x7 window. `fc7` (4096 to 4096)
//! becomes a 1x1 convolution the same way. This is how the paper turns a
//! network trained to classify whole images (VGG16 on ImageNet) into one that
//! scores every window, before fine-tuning it to segment.
//!
//! The whole question is which `i` is which `(c, y, x)`: the order in which
//! the classifier flattened its input. PyTorch's `flatten` (and torchvision's
//! VGG16, and Caffe) walk the last axis fastest: `i = (c * k + y) * k + x`.
//! For 2 channels and a 2x2 window, the 8 weights of one output
//! `[w0, w1, ..., w7]` multiply channel 0's `(0,0), (0,1), (1,0), (1,1)`,
//! then channel 1's, so the kernel is
//!
//! ```text
//! channel 0: [[w0, w1],     channel 1: [[w4, w5],
//!             [w2, w3]]                 [w6, w7]]
//! ```
//!
//! [`fully_connected_as_conv`] is yours to write. The kit's loader of
//! pre-trained weights (`fcn_common::load_torchvision_vgg16`) calls it for
//! fc6 and fc7, and the pre-training experiment (`cargo run -p exercises
//! --example pretraining`) uses it to start your FCNs from a classifier.
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
/// `nn::conv2d` makes a convolution under a sub-path (`path / "conv1_1"`),
/// with its padding in `nn::ConvConfig`; `max_pool2d` pools, and one of its
/// arguments is the ceil mode above. `cargo course hint vgg` shows the calls
/// if you are stuck on them.
///
/// Name what each layer computes with [`fcn_common::tap`], as the release's
/// prototxt names its blobs: `x = tap("conv1_1", x.apply(&conv).relu())` for
/// each convolution (after its ReLU), `pool1` ... `pool5`, and `fc6`, `fc7`
/// (after their dropout). A tap changes nothing; when your network's output
/// differs from the reference's, the tests name the first layer where it does.
pub fn vgg16(path: &nn::Path, config: FcnConfig) -> Backbone {
    todo!("exercise 2: vgg16 with {config:?} under {:?}", path.components().collect::<Vec<_>>())
}

/// The weight of a fully connected layer, `[out, channels * kernel *
/// kernel]`, as the weight of the convolution that computes the same layer on
/// every `kernel x kernel` window of a `channels`-channel map: `[out,
/// channels, kernel, kernel]`, so that the convolution's output at each
/// position equals the fully connected layer's output on the window there,
/// flattened as PyTorch flattens (see "A fully connected layer is a
/// convolution" above). The bias stays as it is.
///
/// fc6: `[4096, 25088]` with 512 channels and kernel 7 gives `[4096, 512, 7,
/// 7]`; fc7: `[4096, 4096]` with 4096 channels and kernel 1 gives `[4096,
/// 4096, 1, 1]`.
///
/// Panics, naming the sizes, if `weight` is not `[out, channels * kernel *
/// kernel]`.
pub fn fully_connected_as_conv(weight: &Tensor, channels: i64, kernel: i64) -> Tensor {
    todo!("exercise 2: fully_connected_as_conv for a weight of {:?}, {channels} channels, kernel {kernel}", weight.size())
}
