//! Gradient checks: a network that computes the right values can still pass
//! the wrong gradient (a detached skip, a scale in the wrong place, an
//! in-place operation that breaks the backward pass in training mode).
//! Gradients of a student's network are computed in their runner and
//! carried back by [`Implementation::backward`].

use tch::{Device, Kind, Tensor, nn, nn::ModuleT};

use fcn_common::FcnConfig;

use super::common::{backbone, close, config, copy_weights, draw_weights, image, network, trainable};
use super::fcn::computes;
use super::reference_process::{self, Job};
use super::seeded;
use super::variants::{Fcn8s, Fcn8sAtOnce, Fcn16s, Variant};
use crate::Implementation;
use crate::check::ensure;

/// Every parameter of VGG16 gets the reference's gradient for the same
/// weights, input and upstream gradients on pool3, pool4 and fc7 together
/// (the three outputs the FCNs read), in eval mode.
pub(super) fn vgg_same_gradients<I: Implementation>() -> Result<(), String> {
    let config = config();
    let (mut store, vgg) = backbone(I::vgg16, config);
    let (reference_store, reference) = backbone(solutions::vgg::vgg16, config);
    draw_weights(&reference_store);
    copy_weights(&mut store, &reference_store)?;
    let xs = image(1, 64, 80);
    let (ours, theirs) = (vgg.forward_t(&xs, false), reference.forward_t(&xs, false));
    let pairs = [("pool3", &ours.pool3, &theirs.pool3), ("pool4", &ours.pool4, &theirs.pool4), ("fc7", &ours.fc7, &theirs.fc7)];
    for (name, a, b) in pairs {
        ensure(a.size() == b.size(), || {
            format!("VGG16's {name} has shape {:?}, expected {:?}; see the feature checks", a.size(), b.size())
        })?;
    }
    tch::manual_seed(crate::check::case_seed("VGG16 gradients: upstream") as i64);
    let upstream: Vec<Tensor> = pairs.iter().map(|(_, _, b)| Tensor::randn(b.size(), (Kind::Float, Device::Cpu))).collect();
    let loss = |features: &fcn_common::VggFeatures| {
        let outputs = [&features.pool3, &features.pool4, &features.fc7];
        outputs.iter().zip(&upstream).map(|(o, u)| (*o * u).sum(Kind::Float)).fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |a, b| a + b)
    };
    I::backward(&loss(&ours));
    loss(&theirs).backward();
    compare_gradients("VGG16", &store, &reference_store, vgg_suspect)
}

/// Where in VGG16 a wrong gradient enters, from the deepest layer whose
/// gradient differs: pool3 and pool4 each pass the upstream gradient of
/// their own output back to the layers before them.
fn vgg_suspect(differing: &[&str]) -> String {
    let layers = fcn_common::weights::TORCHVISION_VGG16_LAYERS.map(|(_, layer)| layer);
    let deepest = layers.iter().rev().find(|l| differing.iter().any(|d| d.split('.').next() == Some(**l)));
    match deepest {
        Some(&"conv4_3") => "Every layer after conv4_3 agrees: the gradient that enters through pool4 is wrong (is pool4 \
                             handed on detached, or taken before its pooling?)"
            .to_owned(),
        Some(&"conv3_3") => "Every layer after conv3_3 agrees: the gradient that enters through pool3 is wrong (is pool3 \
                             handed on detached, or taken before its pooling?)"
            .to_owned(),
        _ => "A path that computes the right values but not the right function of the weights (a detached output, an \
              operation in the wrong place) shows here"
            .to_owned(),
    }
}

/// The backward pass works in training mode (dropout on) and reaches every
/// parameter with a finite gradient: an in-place dropout that overwrites
/// what ReLU's backward needs breaks it there alone.
pub(super) fn vgg_backward_in_training<I: Implementation>() -> Result<(), String> {
    let config = config();
    let (store, vgg) = backbone(I::vgg16, config);
    draw_weights(&store);
    let features = vgg.forward_t(&image(1, 64, 64), true);
    let loss = features.pool3.sum(Kind::Float) + features.pool4.sum(Kind::Float) + features.fc7.sum(Kind::Float);
    I::backward(&loss);
    for (name, variable) in trainable(&store) {
        let grad = variable.grad();
        ensure(grad.defined(), || format!("VGG16 in training mode: no gradient reaches {name}"))?;
        let total = f64::try_from(grad.abs().sum(Kind::Float)).expect("a scalar");
        ensure(total.is_finite(), || format!("VGG16 in training mode: the gradient of {name} is not finite"))?;
        ensure(total > 0.0 || !name.starts_with("conv1_1"), || {
            format!("VGG16 in training mode: the gradient of {name} is zero")
        })?;
    }
    Ok(())
}

/// Every trainable variable's gradient, for the same weights (all drawn at
/// random, biases included), the same input and the same upstream gradient
/// of the output, in eval mode (dropout off).
pub(super) fn same_gradients<I: Implementation, V: Variant>() -> Result<(), String> {
    let config = config();
    let (mut store, net) = network(V::build::<I>, config);
    let (reference_store, reference) = network(V::reference, config);
    draw_weights(&reference_store);
    copy_weights(&mut store, &reference_store)?;
    let xs = image(1, 64, 80);
    let outputs = [net.forward_t(&xs, false), reference.forward_t(&xs, false)];
    ensure(outputs[0].size() == outputs[1].size(), || {
        format!("{}'s output has shape {:?}, expected {:?}; see the output checks", V::NAME, outputs[0].size(), outputs[1].size())
    })?;
    tch::manual_seed(crate::check::case_seed("FCN gradients: upstream") as i64);
    let upstream = Tensor::randn(outputs[1].size(), (Kind::Float, Device::Cpu));
    I::backward(&(&outputs[0] * &upstream).sum(Kind::Float));
    (&outputs[1] * &upstream).sum(Kind::Float).backward();
    compare_gradients(V::NAME, &store, &reference_store, suspect_path)
}

/// Where, from which parameters' gradients differ, the path that passes
/// the wrong gradient most likely is. Gradients flow from the output back
/// through the backbone, so when every layer from some depth on agrees and
/// the layers before it do not, the gradient that enters the backbone at
/// that depth is wrong: a skip taken there.
fn suspect_path(differing: &[&str]) -> String {
    let layer = |name: &&str| name.split('.').next().unwrap_or_default().to_owned();
    let layers: Vec<String> = differing.iter().map(layer).collect();
    let backbone_only = layers.iter().all(|l| l.starts_with("conv") || l.starts_with("fc"));
    let backbone_layers = fcn_common::weights::TORCHVISION_VGG16_LAYERS.map(|(_, layer)| layer);
    let deepest = backbone_layers.iter().rev().find(|l| layers.iter().any(|d| d == *l));
    let skip = match deepest {
        Some(l) if backbone_only && l.starts_with("conv4") => Some(("conv4_3", "pool4", "score_pool4")),
        Some(l) if backbone_only && l.starts_with("conv3") => Some(("conv3_3", "pool3", "score_pool3")),
        _ => None,
    };
    match skip {
        Some((last, pool, score)) => format!(
            "Every score layer's gradient agrees, and so does every backbone layer after {last}: the gradient \
             that reaches {last} through the {pool} skip is wrong (is {pool} detached, or scaled in the wrong \
             place, on its way into {score}?)"
        ),
        None => "A path that computes the right values but not the right function of the weights (a detached \
                 skip, a scale in the wrong place) shows here"
            .to_owned(),
    }
}


/// In training mode, dropout on: each FCN's output and every parameter's
/// gradient equal the reference's under the same dropout masks (the same
/// seed just before the pass, masks drawn by `dropout` after fc6 and then
/// after fc7). Eval mode leaves out what happens only in training: a skip
/// or fc7 handed on detached while training, a dropout whose backward pass
/// is not its forward pass's.
pub(super) fn same_gradients_in_training<I: Implementation>() -> Result<(), String> {
    let config = config();
    let names = [Fcn16s::NAME, Fcn8s::NAME, Fcn8sAtOnce::NAME];
    let passes: Vec<reference_process::Pass> = names
        .iter()
        .enumerate()
        .map(|(i, name)| reference_process::Pass {
            network: (*name).to_owned(),
            classes: config.classes,
            width_divisor: config.width_divisor,
            input: (2, 40 + 8 * i as i64, 56 - 4 * i as i64),
            masks: (crate::check::case_seed("FCN gradients in training: masks").wrapping_add(i as u64) >> 1) as i64,
        })
        .collect();
    let jobs: Vec<Job> = passes.iter().cloned().map(Job::Gradients).collect();
    let references = reference_process::run(&jobs, |job| match job {
        Job::Gradients(pass) => seeded::reference_pass(pass),
        other => unreachable!("{other:?} is not asked for here"),
    });
    in_training::<I, Fcn16s>(&passes[0], &references[0])?;
    in_training::<I, Fcn8s>(&passes[1], &references[1])?;
    in_training::<I, Fcn8sAtOnce>(&passes[2], &references[2])
}

/// [`same_gradients_in_training`] for one variant, given the reference's
/// pass.
fn in_training<I: Implementation, V: Variant>(pass: &reference_process::Pass, reference: &reference_process::Tensors) -> Result<(), String> {
    let take = |name: &str| {
        let found = reference.iter().find(|(n, _)| n == name).map(|(_, t)| t.shallow_clone());
        found.unwrap_or_else(|| panic!("the reference's pass gave no {name}"))
    };
    let config = FcnConfig { classes: pass.classes, width_divisor: pass.width_divisor };
    let (mut store, net) = network(V::build::<I>, config);
    let (reference_store, _) = network(V::reference, config);
    {
        let _guard = tch::no_grad_guard();
        for (name, mut variable) in reference_store.variables() {
            variable.copy_(&take(&format!("weight.{name}")));
        }
    }
    copy_weights(&mut store, &reference_store)?;
    let (xs, upstream, expected) = (take("input"), take("upstream"), take("output"));
    I::seed_next_pass(pass.masks);
    let output = net.forward_t(&xs, true);
    close(&output, &expected, || {
        format!(
            "{}'s output in training mode, under the reference's dropout masks (the same seed; masks drawn by \
             `dropout` after fc6, then after fc7, and nothing else random),",
            V::NAME
        )
    })?;
    I::backward(&(&output * &upstream).sum(Kind::Float));
    // The reference's gradients into its own variables: d/dv of sum(v * g) is g.
    let surrogate = trainable(&reference_store)
        .iter()
        .map(|(name, v)| (v * take(&format!("grad.{name}"))).sum(Kind::Float))
        .fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |a, b| a + b);
    surrogate.backward();
    compare_gradients(&format!("{} in training mode, under the reference's dropout masks", V::NAME), &store, &reference_store, suspect_path)
}

pub(super) fn gradients_reach<I: Implementation, V: Variant>() -> Result<(), String> {
    let (store, net) = network(V::build::<I>, config());
    I::backward(&net.forward_t(&image(1, 40, 40), true).sum(Kind::Float));
    let variables = store.variables();
    for name in ["conv1_1.weight", "score_fr.weight", "score_pool4.weight", "score_pool3.weight"] {
        let reached = variables.get(name).is_some_and(|v| {
            let grad = v.grad();
            grad.defined() && f64::try_from(grad.abs().sum(Kind::Float)).expect("a scalar") > 0.0
        });
        ensure(reached, || format!("{}: no gradient reaches {name}", V::NAME))?;
    }
    computes::<I, V>()
}

/// Every trainable variable of `reference` has, in `store`, a gradient
/// close to its own; `what` names the network in the message.
/// `suspect` says, from the names of the parameters whose gradients differ,
/// where to look.
fn compare_gradients(
    what: &str,
    store: &nn::VarStore,
    reference: &nn::VarStore,
    suspect: fn(&[&str]) -> String,
) -> Result<(), String> {
    let (ours, theirs) = (trainable(store), trainable(reference));
    let mut differing = Vec::new();
    let mut missing = Vec::new();
    for (name, variable) in &theirs {
        let expected = variable.grad();
        match ours.iter().find(|(n, _)| n == name).map(|(_, v)| v.grad()) {
            Some(got) if got.defined() => {
                if let Err(why) = close(&got, &expected, || format!("the gradient of {name}")) {
                    differing.push((name.as_str(), why));
                }
            }
            _ => missing.push(name.clone()),
        }
    }
    ensure(missing.is_empty(), || {
        format!("{}: no gradient reaches {} (is a tensor on its path detached, or the layer left out?)", what, missing.join(", "))
    })?;
    ensure(differing.is_empty(), || {
        let names: Vec<&str> = differing.iter().map(|(name, _)| *name).collect();
        format!(
            "{}: the gradients of {} of {} parameters differ from the reference's ({}); the first: {}. {}",
            what,
            differing.len(),
            theirs.len(),
            names.join(", "),
            differing[0].1,
            suspect(&names)
        )
    })
}

