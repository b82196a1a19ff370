//! The training checks' runs of a student's networks: in the student's
//! runner, on the device the grader chose, judged here.
//!
//! The grader sends the runner the training images and masks, the
//! validation images without their masks, the start (the reference's
//! initial weights, in pieces) and the schedule; the runner trains each
//! stage with the kit's own loop, its network resident from the first step
//! to the last, and replies with the losses and its predictions on the
//! validation images. The grader then reads the trained weights back, in
//! pieces, into the reference's network of the same stage and evaluates
//! that network itself: the scores come from weights the runner trained,
//! computed by code the runner never touched. The runner's own predictions
//! must agree with the grader's, so that a network that computes something
//! else after training than what it trained (a segmenter written by hand,
//! answers recovered from the data) is caught, never scored.

use std::time::Instant;

use checks::{Implementation, Net, Solutions, TrainingRun};
use fcn_metrics::{Confusion, Scores};
use fcn_train::train::{Batches, Record, Start, Trained, predict};
use runner_protocol::{Compute, Network, Reply, Request, Split, Tensors, Training};
use tch::{Device, Kind, Tensor, nn};

use super::connection::{broken, call, call_within, config, expect, reply_budget};

/// Most elements of a variable that cross in one frame (64 MiB of f32): a
/// full-width fc6 (103 M elements) crosses in seven pieces.
pub const PIECE: i64 = 1 << 24;
/// Most bytes of images in one [`Request::TrainingData`].
const DATA_BYTES: i64 = 64 << 20;
/// How many of the validation pixels the runner's predictions must label as
/// the grader's evaluation of its trained weights does. Both run the same
/// operations on the same weights; what differs is the order of float sums
/// (two processes, perhaps cuDNN's choice of algorithm), which moves a
/// pixel only where two classes tie.
pub const AGREEMENT: f64 = 0.99;

/// Trains `networks` in the runner as `run` says; the trained networks as
/// the reference's, holding the weights the runner trained, each with its
/// scores on the validation images, computed here.
pub fn train_staged(networks: &[Net], run: TrainingRun) -> Result<Vec<(Trained, Scores)>, String> {
    let device = run.schedule.device;
    call(&Request::BeginTraining { device: if device.is_cuda() { Compute::Cuda } else { Compute::Cpu } }, &[]);
    send_data(Split::Train, run.train);
    let val_batches = send_data(Split::Val, run.val);
    send_start(&run);
    let training = Training {
        steps: run.schedule.steps,
        batch: run.schedule.batch,
        learning_rate: run.schedule.learning_rate,
        momentum: run.schedule.momentum,
        weight_decay: run.schedule.weight_decay,
        seed: run.schedule.seed,
    };
    let mut trained = Vec::with_capacity(networks.len());
    for &net in networks {
        let started = Instant::now();
        let request = Request::TrainStage { network: network(net), config: config(run.config), training };
        // The losses, and one byte per validation pixel.
        let pixels: i64 = val_batches.iter().map(|b| b.numel() as i64 / 3).sum();
        let budget = reply_budget(&request).saturating_add(4 * training.steps as u64 + pixels as u64);
        let (reply, tensors) = call_within(&request, &[], budget);
        let Reply::Done { listing, .. } = reply else { unreachable!("call returns Done or ends the check") };
        let seconds = started.elapsed().as_secs_f64();
        let (losses, predictions) = split_reply(tensors, training.steps, &val_batches);
        let name = net.stage::<Solutions>().name;
        let (store, reference) = read_back(net, &run, &listing, name)?;
        let scores = score(name, &reference, &run, &val_batches, &predictions)?;
        let images = (training.steps * training.batch) as f64;
        let record = Record { network: name.to_owned(), losses, seconds, images_per_second: images / seconds.max(1e-9) };
        trained.push((Trained { record, store, net: reference }, scores));
    }
    Ok(trained)
}

fn network(net: Net) -> Network {
    match net {
        Net::Fcn32s => Network::Fcn32s,
        Net::Fcn16s => Network::Fcn16s,
        Net::Fcn8s => Network::Fcn8s,
    }
}

/// Sends `data` to the runner's `split`, in batches of images of one size
/// (of at most [`DATA_BYTES`]); returns the batches of images, as sent.
fn send_data(split: Split, data: &Batches) -> Vec<Tensor> {
    let mut sent = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let size = data.images()[at].size();
        let per_image = data.images()[at].numel() as i64 * 4;
        let mut end = at + 1;
        while end < data.len() && data.images()[end].size() == size && (end + 1 - at) as i64 * per_image <= DATA_BYTES {
            end += 1;
        }
        let images = Tensor::cat(&data.images()[at..end], 0).to_device(Device::Cpu);
        let mut tensors = vec![("images".to_owned(), images.shallow_clone())];
        if split == Split::Train {
            let masks = Tensor::cat(&data.masks()[at..end], 0).to_kind(Kind::Uint8).to_device(Device::Cpu);
            tensors.push(("masks".to_owned(), masks));
        }
        call(&Request::TrainingData { split }, &tensors);
        sent.push(images);
        at = end;
    }
    sent
}

/// Sends the first stage's start, variable by variable, in pieces.
fn send_start(run: &TrainingRun) {
    let made = nn::VarStore::new(Device::Cpu);
    let store = match run.start {
        // A fresh start: the student's own initialisation.
        Start::Fresh => return,
        Start::Weights(weights) => weights,
        Start::Like(build) => {
            tch::manual_seed(run.schedule.seed);
            let _net = build(&made.root(), run.config);
            &made
        }
        Start::Vgg16(file, as_conv) => {
            let _backbone = Solutions::vgg16(&made.root(), run.config);
            fcn_common::load_torchvision_vgg16(&made, file, as_conv).unwrap_or_else(|e| panic!("{e}"));
            &made
        }
    };
    let mut variables: Vec<(String, Tensor)> = store.variables().into_iter().collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, variable) in variables {
        let flat = variable.detach().view(-1);
        let mut offset = 0;
        while offset < flat.numel() as i64 {
            let count = PIECE.min(flat.numel() as i64 - offset);
            let request = Request::StartWeights { name: name.clone(), shape: variable.size(), offset };
            call(&request, &[("piece".to_owned(), flat.narrow(0, offset, count))]);
            offset += count;
        }
    }
}

/// The losses (one per step) and the predictions (one u8 map per image of
/// each validation batch, in its shape); anything else ends the check.
fn split_reply(tensors: Tensors, steps: usize, val: &[Tensor]) -> (Vec<f64>, Vec<Tensor>) {
    let (losses, predictions): (Tensors, Tensors) = tensors.into_iter().partition(|(n, _)| n == "losses");
    let losses = expect(losses, &["losses"], Kind::Float).remove(0);
    if losses.size() != [steps as i64] {
        broken(format!("the runner sent {:?} losses for {steps} steps", losses.size()));
    }
    let losses: Vec<f64> = Vec::<f32>::try_from(&losses).expect("f32 losses").into_iter().map(f64::from).collect();
    let names: Vec<String> = (0..val.len()).map(|k| format!("prediction.{k}")).collect();
    let predictions: Vec<Tensor> = expect(predictions, &names.iter().map(String::as_str).collect::<Vec<_>>(), Kind::Uint8);
    for ((name, prediction), images) in names.iter().zip(&predictions).zip(val) {
        let size = images.size();
        if prediction.size() != [size[0], size[2], size[3]] {
            broken(format!("the runner's {name} has shape {:?} for images {size:?}", prediction.size()));
        }
    }
    (losses, predictions)
}

/// The reference's network of `net`'s stage, with every variable it trains
/// read from the runner's trained network; a variable the runner's network
/// does not have, in the same shape, fails the check.
fn read_back(
    net: Net,
    run: &TrainingRun,
    listing: &[runner_protocol::Variable],
    name: &str,
) -> Result<(nn::VarStore, nn::FuncT<'static>), String> {
    tch::manual_seed(run.schedule.seed);
    let store = nn::VarStore::new(run.schedule.device);
    let reference = (net.stage::<Solutions>().build)(&store.root(), run.config);
    let mut variables: Vec<(String, Tensor)> = store.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    for (variable, tensor) in variables {
        let theirs = listing.iter().find(|v| v.name == variable);
        if theirs.is_none_or(|v| v.shape != tensor.size() || !v.trainable) {
            return Err(format!(
                "after training, your {name} has no trainable variable {variable} of shape {:?}: the grader scores the \
                 trained weights in the reference's {name}, which needs it (see exercise 3's checks of the names)",
                tensor.size()
            ));
        }
        let flat = tensor.detach().view(-1);
        let mut offset = 0;
        while offset < flat.numel() as i64 {
            let count = PIECE.min(flat.numel() as i64 - offset);
            let request = Request::TrainedWeights { name: variable.clone(), offset, count };
            let (_, reply) = call(&request, &[]);
            let piece = expect(reply, &["output"], Kind::Float).remove(0);
            if piece.size() != [count] {
                broken(format!("the runner sent {:?} elements of {variable} where {count} were asked for", piece.size()));
            }
            let _guard = tch::no_grad_guard();
            flat.narrow(0, offset, count).copy_(&piece);
            offset += count;
        }
    }
    Ok((store, reference))
}

/// The scores of `reference` (holding the weights the runner trained) on
/// the validation images; the runner's own predictions must be those
/// weights' (see [`AGREEMENT`]).
fn score(name: &str, reference: &nn::FuncT<'static>, run: &TrainingRun, val: &[Tensor], predictions: &[Tensor]) -> Result<Scores, String> {
    let device = run.schedule.device;
    let mut confusion = Confusion::new(run.config.classes as usize);
    let masks = run.val.masks();
    let (mut same, mut all, mut at) = (0i64, 0i64, 0usize);
    for (images, theirs) in val.iter().zip(predictions) {
        for n in 0..images.size()[0] {
            let ours = predict(reference, &images.narrow(0, n, 1).to_device(device)).to_device(Device::Cpu);
            let theirs = theirs.narrow(0, n, 1).to_kind(Kind::Int64);
            same += i64::try_from(ours.eq_tensor(&theirs).sum(Kind::Int64)).expect("a count");
            all += ours.numel() as i64;
            confusion.add_tensors(&masks[at], &ours);
            at += 1;
        }
    }
    let agreement = same as f64 / all.max(1) as f64;
    checks::check::ensure(agreement >= AGREEMENT, || {
        format!(
            "after training, your {name} labels {:.1}% of the validation pixels as its own trained weights do in the \
             reference's {name} (at least {:.0}% expected): what the network computes once trained is not what it \
             trained",
            100.0 * agreement,
            100.0 * AGREEMENT
        )
    })?;
    Ok(confusion.scores())
}
