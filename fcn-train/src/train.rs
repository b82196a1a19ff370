//! Training an FCN, and the paper's staged schedule: FCN-32s, then FCN-16s
//! started from it, then FCN-8s started from that.
//!
//! The optimiser is SGD with momentum and weight decay, with the release's
//! rule for biases: twice the learning rate and no decay. The loss is the
//! caller's (each [`Stage`] names it): exercise 4's per-pixel cross-entropy,
//! the student's or the reference's, which this crate does not hold, so
//! that the hand-out does not give it away.

use std::path::PathBuf;
use std::time::Instant;

use fcn_common::FcnConfig;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor, nn};

use crate::voc::{Split, mask_tensor, preprocess};

/// Builds a network under a path: `fcn32s`, `fcn16s`, `fcn8s`.
pub type Build = fn(&nn::Path, FcnConfig) -> nn::FuncT<'static>;

/// How to train.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Optimiser steps per stage.
    pub steps: usize,
    /// Images per step.
    pub batch: usize,
    pub learning_rate: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub seed: i64,
    pub device: Device,
    /// Show a progress bar (on stderr, when it is a terminal).
    pub progress: bool,
    /// Save each stage's weights here (`fcn32s.safetensors`, ...).
    pub checkpoints: Option<PathBuf>,
    /// Inputs are multiplied by this. The release feeds mean-subtracted
    /// 0..255 pixels (scale 1) to weights pre-trained on them; a network
    /// trained from scratch starts with Kaiming's initialisation, which
    /// assumes inputs of about unit variance, so it gets pixels divided by
    /// about their standard deviation, 58 ([`FROM_SCRATCH_INPUT_SCALE`]).
    pub input_scale: f64,
}

/// The training loop's revision: what a kept run (the grader's cache of the
/// reference's training) was computed by. Raise it with any change that
/// changes a run's results; 2: each step draws its own batch.
pub const REVISION: u32 = 2;

/// See [`Schedule::input_scale`].
pub const FROM_SCRATCH_INPUT_SCALE: f64 = 1.0 / 58.0;

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            steps: 300,
            batch: 8,
            learning_rate: 0.01,
            momentum: 0.9,
            weight_decay: 5e-4,
            seed: 0,
            device: Device::Cpu,
            progress: true,
            checkpoints: None,
            input_scale: FROM_SCRATCH_INPUT_SCALE,
        }
    }
}

/// SGD with momentum and weight decay; biases take twice the learning rate
/// and no decay, as in the release.
struct Sgd {
    /// (variable, is a bias, momentum buffer)
    variables: Vec<(Tensor, bool, Tensor)>,
    learning_rate: f64,
    momentum: f64,
    weight_decay: f64,
}

impl Sgd {
    fn new(store: &nn::VarStore, schedule: &Schedule) -> Self {
        let mut named: Vec<(String, Tensor)> =
            store.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let variables = named
            .into_iter()
            .map(|(name, t)| {
                let buffer = t.zeros_like();
                (t, name.ends_with(".bias"), buffer)
            })
            .collect();
        Sgd {
            variables,
            learning_rate: schedule.learning_rate,
            momentum: schedule.momentum,
            weight_decay: schedule.weight_decay,
        }
    }

    fn zero_grad(&mut self) {
        for (variable, _, _) in &mut self.variables {
            variable.zero_grad();
        }
    }

    fn step(&mut self) {
        let _guard = tch::no_grad_guard();
        for (variable, is_bias, buffer) in &mut self.variables {
            let grad = variable.grad();
            if !grad.defined() {
                continue;
            }
            let (rate, decay) =
                if *is_bias { (2.0 * self.learning_rate, 0.0) } else { (self.learning_rate, self.weight_decay) };
            let update = if decay > 0.0 { &grad + &*variable * decay } else { grad };
            let _ = buffer.g_mul_scalar_(self.momentum).g_add_(&update);
            let _ = variable.g_sub_(&(&*buffer * rate));
        }
    }
}

/// A split's images and masks as tensors on a device, ready to batch.
pub struct Batches {
    images: Vec<Tensor>,
    masks: Vec<Tensor>,
    same_size: bool,
}

impl Batches {
    /// The split's images, preprocessed as the release does and multiplied by
    /// `input_scale` (see [`Schedule::input_scale`]), and its masks.
    pub fn new(split: &Split, device: Device, input_scale: f64) -> Self {
        let images: Vec<Tensor> =
            split.samples.iter().map(|s| preprocess(&s.image, device) * input_scale).collect();
        let masks: Vec<Tensor> = split.samples.iter().map(|s| mask_tensor(&s.mask, device)).collect();
        let same_size = images.windows(2).all(|w| w[0].size() == w[1].size());
        Batches { images, masks, same_size }
    }

    /// Batches of images (each 1 x 3 x H x W, preprocessed and scaled) and
    /// their masks (each 1 x H x W, int64), as [`Batches::new`] makes them.
    pub fn from_tensors(images: Vec<Tensor>, masks: Vec<Tensor>) -> Self {
        let same_size = images.windows(2).all(|w| w[0].size() == w[1].size());
        Batches { images, masks, same_size }
    }

    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// The preprocessed images, each 1 x 3 x H x W, in the split's order.
    pub fn images(&self) -> &[Tensor] {
        &self.images
    }

    /// The masks, each 1 x H x W, in the split's order.
    pub fn masks(&self) -> &[Tensor] {
        &self.masks
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }
}

/// One training run's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub network: String,
    /// Mean loss of each step.
    pub losses: Vec<f64>,
    pub seconds: f64,
    pub images_per_second: f64,
}

impl Record {
    /// How many steps [`Record::loss_ends`] averages at each end.
    pub const ENDS: usize = 10;

    /// The mean loss of the first and of the last [`Record::ENDS`] steps:
    /// one step's loss is noisy, ten say whether the run learnt.
    pub fn loss_ends(&self) -> (f64, f64) {
        loss_ends(&self.losses)
    }
}

/// The mean of the first and of the last [`Record::ENDS`] of `losses`.
pub fn loss_ends(losses: &[f64]) -> (f64, f64) {
    let mean = |l: &[f64]| l.iter().sum::<f64>() / l.len().max(1) as f64;
    let n = losses.len();
    (mean(&losses[..n.min(Record::ENDS)]), mean(&losses[n.saturating_sub(Record::ENDS)..]))
}

/// A training loss: N x C x H x W scores and N x H x W labels to a scalar
/// (exercise 4's `pixel_loss`).
pub type Loss = fn(&Tensor, &Tensor) -> Tensor;

/// The gradient of `loss` on `scores` and `labels` with respect to the
/// scores, back-propagated from the loss; `None` when no gradient reaches
/// them (a loss computed outside autograd, or not a scalar). What the
/// networks would train with.
pub fn loss_gradient(loss: Loss, scores: &Tensor, labels: &Tensor) -> Option<Tensor> {
    let scores = scores.detach().set_requires_grad(true);
    let value = loss(&scores, labels);
    if !value.requires_grad() || value.numel() != 1 {
        return None;
    }
    value.backward();
    let grad = scores.grad();
    grad.defined().then_some(grad)
}

/// Trains the network in `store` (built by the caller) for `schedule.steps`
/// steps on `data` with `loss`, drawing batches with the schedule's seed.
pub fn train(name: &str, store: &nn::VarStore, net: &nn::FuncT<'static>, loss: Loss, data: &Batches, schedule: &Schedule) -> Record {
    assert!(!data.is_empty(), "no training images");
    let mut sgd = Sgd::new(store, schedule);
    let progress = if schedule.progress { ProgressBar::new(schedule.steps as u64) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{prefix:>8} {bar:25} {pos}/{len} {msg} ETA {eta}").expect("a valid template"),
    );
    progress.set_prefix(name.to_owned());
    tch::manual_seed(schedule.seed);
    let started = Instant::now();
    let mut losses = Vec::with_capacity(schedule.steps);
    for step in 0..schedule.steps {
        // Each step draws its own batch, so that a run of fewer steps is the
        // same run cut short: its losses are the first of a longer run's.
        let picks = Tensor::randint(data.len() as i64, [schedule.batch as i64], (Kind::Int64, Device::Cpu));
        let picks = Vec::<i64>::try_from(&picks).expect("int64 indices");
        let picks = &picks[..];
        sgd.zero_grad();
        let pixel_loss = loss;
        let loss = if data.same_size {
            let images = Tensor::cat(&picks.iter().map(|&i| &data.images[i as usize]).collect::<Vec<_>>(), 0);
            let masks = Tensor::cat(&picks.iter().map(|&i| &data.masks[i as usize]).collect::<Vec<_>>(), 0);
            let loss = pixel_loss(&net.forward_t(&images, true), &masks);
            loss.backward();
            f64::try_from(&loss).expect("a scalar loss")
        } else {
            // Images of different sizes: one at a time, gradients summed.
            let mut total = 0.0;
            for &i in picks {
                let loss = pixel_loss(&net.forward_t(&data.images[i as usize], true), &data.masks[i as usize])
                    / picks.len() as f64;
                loss.backward();
                total += f64::try_from(&loss).expect("a scalar loss");
            }
            total
        };
        sgd.step();
        losses.push(loss);
        let rate = ((step + 1) * schedule.batch) as f64 / started.elapsed().as_secs_f64();
        progress.set_message(format!("loss {loss:.3}  {rate:.1} img/s"));
        progress.inc(1);
    }
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let images = (schedule.steps * schedule.batch) as f64;
    Record {
        network: name.to_owned(),
        images_per_second: if images > 0.0 { images / seconds } else { 0.0 },
        losses,
        seconds,
    }
}

/// The predicted class of every pixel: N x H x W.
pub fn predict(net: &nn::FuncT<'static>, images: &Tensor) -> Tensor {
    let _guard = tch::no_grad_guard();
    net.forward_t(images, false).argmax(1, false)
}

/// One stage of the staged schedule.
#[derive(Debug, Clone, Copy)]
pub struct Stage {
    pub name: &'static str,
    pub build: Build,
    /// What it trains with.
    pub loss: Loss,
}

/// The outcome of a stage: its training record and the trained network.
pub struct Trained {
    pub record: Record,
    pub store: nn::VarStore,
    pub net: nn::FuncT<'static>,
}

/// Where the first stage's weights come from.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// The network's own initialisation, with the schedule's seed.
    Fresh,
    /// torchvision's VGG16 weights (safetensors) for the backbone, its fully
    /// connected layers made convolutions by the function given (exercise
    /// 2's `fully_connected_as_conv`).
    Vgg16(&'a std::path::Path, fcn_common::AsConv),
    /// The initial weights of the network `build` makes with the schedule's
    /// seed, copied by name: two implementations then start from the same
    /// weights, whatever order they create their layers in.
    Like(Build),
    /// The weights in this store, copied by name (what [`Start::Like`]
    /// makes, when it was made elsewhere: the grader sends a student's
    /// runner the reference's start).
    Weights(&'a nn::VarStore),
}

/// Where a stage's weights come from: the run's start (the first stage), or
/// the stage before it.
#[derive(Clone, Copy)]
pub enum Origin<'a> {
    Start(Start<'a>),
    Previous(&'a nn::VarStore),
}

/// Trains the stages in order, each started from the one before
/// ([`fcn_common::init_from`]) with its new score layers at zero, as the
/// release does; the first starts as `start` says.
pub fn train_staged(
    stages: &[Stage],
    config: FcnConfig,
    start: Start,
    train_data: &Batches,
    schedule: &Schedule,
) -> Result<Vec<Trained>, fcn_common::WeightsError> {
    let mut trained: Vec<Trained> = Vec::new();
    for (n, stage) in stages.iter().enumerate() {
        let from = trained.last().map_or(Origin::Start(start), |previous| Origin::Previous(&previous.store));
        let next = train_stage(n, stage, config, from, train_data, schedule)?;
        trained.push(next);
    }
    Ok(trained)
}

/// Stage `n` of a staged run (see [`train_staged`]): its network built with
/// seed `schedule.seed + n`, started as `from` says, trained.
pub fn train_stage(
    n: usize,
    stage: &Stage,
    config: FcnConfig,
    from: Origin,
    train_data: &Batches,
    schedule: &Schedule,
) -> Result<Trained, fcn_common::WeightsError> {
    let (store, net) = start_stage(n, stage, config, from, schedule)?;
    Ok(finish_stage(stage, store, net, train_data, schedule))
}

/// The first half of [`train_stage`]: stage `n`'s network, built and
/// started. What it started from may be dropped before [`finish_stage`]
/// trains it (at the paper's width, half a gigabyte).
pub fn start_stage(
    n: usize,
    stage: &Stage,
    config: FcnConfig,
    from: Origin,
    schedule: &Schedule,
) -> Result<(nn::VarStore, nn::FuncT<'static>), fcn_common::WeightsError> {
    tch::manual_seed(schedule.seed + n as i64);
    let store = nn::VarStore::new(schedule.device);
    let net = (stage.build)(&store.root(), config);
    match from {
        Origin::Previous(previous) => {
            let transfer = fcn_common::init_from(previous, &store)?;
            let variables = store.variables();
            let _guard = tch::no_grad_guard();
            for name in transfer.new.iter().filter(|n| n.starts_with("score_")) {
                let _ = variables[name].shallow_clone().zero_();
            }
        }
        Origin::Start(Start::Fresh) => {}
        Origin::Start(Start::Vgg16(weights, as_conv)) => {
            fcn_common::load_torchvision_vgg16(&store, weights, as_conv)?;
        }
        Origin::Start(Start::Like(build)) => {
            tch::manual_seed(schedule.seed);
            let like = nn::VarStore::new(schedule.device);
            let _net = build(&like.root(), config);
            fcn_common::init_from(&like, &store)?;
        }
        Origin::Start(Start::Weights(weights)) => {
            fcn_common::init_from(weights, &store)?;
        }
    }
    Ok((store, net))
}

/// The second half of [`train_stage`]: trains the started network, and
/// keeps its weights where the schedule says.
pub fn finish_stage(stage: &Stage, store: nn::VarStore, net: nn::FuncT<'static>, train_data: &Batches, schedule: &Schedule) -> Trained {
    let record = train(stage.name, &store, &net, stage.loss, train_data, schedule);
    if let Some(folder) = &schedule.checkpoints {
        let path = folder.join(format!("{}.safetensors", stage.name.to_lowercase().replace('-', "")));
        if let Err(error) = std::fs::create_dir_all(folder).map_err(tch::TchError::from).and_then(|()| store.save(&path)) {
            eprintln!("warning: could not save {}: {error}", path.display());
        }
    }
    Trained { record, store, net }
}
