//! Pre-training, as the paper's start is made: VGG16 as torchvision builds
//! it (13 convolutions, then three fully connected layers), trained to
//! classify whole images, here to say which of the synthetic set's object
//! classes an image holds. It is saved in torchvision's layout, so that an
//! FCN starts from it as from ImageNet's VGG16: through
//! `fcn_common::load_torchvision_vgg16`, which makes fc6 and fc7
//! convolutions with exercise 2's `fully_connected_as_conv`.
//!
//! The classifier sees 224x224 images, as VGG16 does: five poolings bring
//! them to pool5's 7x7, which the first fully connected layer flattens.

use std::path::Path;
use std::time::Instant;

use fcn_common::FcnConfig;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use crate::synthetic::{self, CLASS_NAMES};
use crate::voc::preprocess;

/// The classifier's input size: VGG16's.
pub const IMAGE_SIZE: u32 = 224;

/// torchvision's VGG16 convolutions: each one's index in `features` and its
/// output channels at the paper's width (the ReLUs and poolings take the
/// indices between).
const CONVOLUTIONS: [(usize, i64); 13] = [
    (0, 64),
    (2, 64),
    (5, 128),
    (7, 128),
    (10, 256),
    (12, 256),
    (14, 256),
    (17, 512),
    (19, 512),
    (21, 512),
    (24, 512),
    (26, 512),
    (28, 512),
];

/// The object classes (not the background) the classifier answers for.
pub fn object_classes() -> i64 {
    CLASS_NAMES.len() as i64 - 1
}

/// VGG16 as torchvision's `vgg16()` builds it, at `config`'s width, with one
/// score per object class: variables `features.0.weight` ...
/// `classifier.6.bias`. Pooling rounds down, padding is 1 everywhere, and
/// the fully connected layers see pool5 flattened (channel, row, column).
pub fn classifier(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
    let features = path / "features";
    let mut channels = 3;
    let mut convolutions = Vec::new();
    for (index, width) in CONVOLUTIONS {
        let out = config.channels(width);
        let padded = nn::ConvConfig { padding: 1, ..nn::ConvConfig::default() };
        let conv = nn::conv2d(&features / index, channels, out, 3, padded);
        // A pooling follows conv1_2, conv2_2, conv3_3, conv4_3 and conv5_3.
        convolutions.push((conv, matches!(index, 2 | 7 | 14 | 21 | 28)));
        channels = out;
    }
    let units = config.channels(4096);
    let head = path / "classifier";
    let fc6 = nn::linear(&head / 0, channels * 7 * 7, units, Default::default());
    let fc7 = nn::linear(&head / 3, units, units, Default::default());
    let fc8 = nn::linear(&head / 6, units, object_classes(), Default::default());
    nn::func_t(move |xs, train| {
        // torchvision pools with floor rounding: 224 halves to 7 exactly.
        let pool5 = convolutions.iter().fold(xs.shallow_clone(), |x, (conv, pools)| {
            let y = x.apply(conv).relu();
            if *pools { y.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false) } else { y }
        });
        let hidden = pool5.flatten(1, -1).apply(&fc6).relu().dropout(0.5, train);
        hidden.apply(&fc7).relu().dropout(0.5, train).apply(&fc8)
    })
}

/// Whole images and what each holds: `images` N x 3 x 224 x 224
/// (preprocessed and scaled as the FCNs' inputs are), `present` N x classes,
/// 1 where the image holds the object class.
pub struct Labelled {
    pub images: Tensor,
    pub present: Tensor,
}

impl Labelled {
    /// `count` synthetic images drawn with `seed`, at the classifier's size.
    pub fn synthetic(seed: u64, count: usize, input_scale: f64, device: Device) -> Labelled {
        let mut rng = StdRng::seed_from_u64(seed);
        let (images, present): (Vec<Tensor>, Vec<Tensor>) = (0..count)
            .map(|_| {
                let (image, mask) = synthetic::sample(&mut rng, IMAGE_SIZE);
                let present: Vec<f32> = (1..CLASS_NAMES.len() as u8)
                    .map(|c| f32::from(u8::from(mask.labels.contains(&c))))
                    .collect();
                (
                    preprocess(&image, device) * input_scale,
                    Tensor::from_slice(&present).unsqueeze(0).to_device(device),
                )
            })
            .unzip();
        Labelled {
            images: Tensor::cat(&images, 0),
            present: Tensor::cat(&present, 0),
        }
    }

    pub fn len(&self) -> i64 {
        self.images.size()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How the classifier trains: Adam, on batches drawn with `seed`.
#[derive(Debug, Clone)]
pub struct Pretraining {
    pub steps: usize,
    pub batch: i64,
    pub learning_rate: f64,
    pub seed: i64,
}

/// What pre-training gave: the loss of each step, and the share of
/// (image, class) answers right on images it did not train on.
#[derive(Debug, Clone)]
pub struct Pretrained {
    pub losses: Vec<f64>,
    pub held_out_accuracy: f64,
    pub seconds: f64,
}

impl Pretrained {
    /// The mean loss of the first and of the last ten steps.
    pub fn loss_ends(&self) -> (f64, f64) {
        crate::train::loss_ends(&self.losses)
    }
}

/// Trains `classifier` (its variables in `store`) to tell which classes each
/// image of `train` holds (a binary cross-entropy per class), and scores it
/// on `held_out`.
pub fn pretrain(
    store: &nn::VarStore,
    classifier: &nn::FuncT<'static>,
    train: &Labelled,
    held_out: &Labelled,
    how: &Pretraining,
) -> Result<Pretrained, tch::TchError> {
    assert!(!train.is_empty(), "no images to pre-train on");
    let started = Instant::now();
    tch::manual_seed(how.seed);
    // Adam, not the FCNs' SGD: from tch's initialisation, SGD takes this
    // deep, narrow network (no batch normalisation) thousands of steps to
    // move off the base rates (measured: still at them after 150 steps at
    // rates 0.01 to 0.1); the run needs a classifier in a minute.
    let mut optimizer = nn::Adam::default().build(store, how.learning_rate)?;
    let mut losses = Vec::with_capacity(how.steps);
    for _ in 0..how.steps {
        let picks = Tensor::randint(train.len(), [how.batch], (Kind::Int64, Device::Cpu))
            .to_device(store.device());
        let scores = classifier.forward_t(&train.images.index_select(0, &picks), true);
        let loss = scores.binary_cross_entropy_with_logits::<Tensor>(
            &train.present.index_select(0, &picks),
            None,
            None,
            tch::Reduction::Mean,
        );
        optimizer.backward_step(&loss);
        losses.push(loss.double_value(&[]));
    }
    let _guard = tch::no_grad_guard();
    let answers = classifier
        .forward_t(&held_out.images, false)
        .gt(0.0)
        .to_kind(Kind::Float);
    let held_out_accuracy = answers
        .eq_tensor(&held_out.present)
        .to_kind(Kind::Float)
        .mean(Kind::Float)
        .double_value(&[]);
    Ok(Pretrained {
        losses,
        held_out_accuracy,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Saves the classifier's variables (`features.N.*`, `classifier.N.*`) as
/// safetensors, the layout `fcn_common::load_torchvision_vgg16` reads.
pub fn save(store: &nn::VarStore, file: &Path) -> Result<(), tch::TchError> {
    let mut named: Vec<(String, Tensor)> = store
        .variables()
        .into_iter()
        .map(|(name, t)| (name, t.detach().to_device(Device::Cpu)))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&named, file)
}
