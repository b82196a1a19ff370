//! Exercise 3's checks: FCN-16s and FCN-8s (their gradients, dropout and
//! training-mode checks are in `gradients`, `dropout` and `seeded`).

use fcn_common::FcnConfig;
use fcn_common::taps::recording;
use tch::{Kind, Tensor, nn::ModuleT};

use super::common::{
    COMPARED_SIZES, SIZES, close, config, copy_weights, draw_weights, first_difference, image,
    network, parameter_counts_of, same_listing,
};
use super::variants::{Fcn8s, Fcn8sAtOnce, Fcn16s, Variant};
use crate::Implementation;
use crate::check::ensure;


pub(super) fn names<I: Implementation, V: Variant>() -> Result<(), String> {
    let config = config();
    let (store, _) = network(V::build::<I>, config);
    let (reference, _) = network(V::reference, config);
    same_listing(V::NAME, &store, &reference)?;
    computes::<I, V>()
}

pub(super) fn output_sizes<I: Implementation, V: Variant>() -> Result<(), String> {
    let config = config();
    let (_, net) = network(V::build::<I>, config);
    let _guard = tch::no_grad_guard();
    for (h, w) in SIZES {
        let output = net.forward_t(&image(1, h, w), false);
        let expected = [1, config.classes, h, w];
        ensure(output.size() == expected, || {
            format!("{} turns a 1x3x{h}x{w} input into {:?}, expected {expected:?}", V::NAME, output.size())
        })?;
    }
    computes::<I, V>()
}

pub(super) fn same_output<I: Implementation, V: Variant>() -> Result<(), String> {
    let config = config();
    let (mut store, net) = network(V::build::<I>, config);
    let (reference_store, reference) = network(V::reference, config);
    draw_weights(&reference_store);
    copy_weights(&mut store, &reference_store)?;
    let _guard = tch::no_grad_guard();
    for (h, w) in COMPARED_SIZES {
        let xs = image(2, h, w);
        let (ours, our_taps) = recording(|| net.forward_t(&xs, false));
        let (theirs, their_taps) = recording(|| reference.forward_t(&xs, false));
        close(&ours, &theirs, || format!("{}'s output for a {h}x{w} input (eval mode)", V::NAME))
            .map_err(|why| first_difference(why, &our_taps, &their_taps))?;
    }
    Ok(())
}

/// Whether `V` as `I` builds it computes: with weights drawn at random (as
/// the reference's are), its output changes between two images at least a
/// thousandth as much as the reference's does. The structural checks (names,
/// sizes, counts, the staged start, gradients, the heads' randomness) count
/// only for a network that does: zeros of the right shape, or zeros plus a
/// trace of the weights, pass none of them.
pub(super) fn computes<I: Implementation, V: Variant>() -> Result<(), String> {
    let config = config();
    let (store, net) = network(V::build::<I>, config);
    let (reference_store, reference) = network(V::reference, config);
    draw_weights(&store);
    draw_weights(&reference_store);
    let _guard = tch::no_grad_guard();
    let xs = image(2, 48, 48);
    let change = |output: Tensor| {
        let output = output.to_kind(Kind::Double);
        if output.size().first().copied().unwrap_or(0) < 2 {
            return f64::NAN;
        }
        f64::try_from((output.get(0) - output.get(1)).abs().max()).unwrap_or(f64::NAN)
    };
    let (ours, theirs) = (change(net.forward_t(&xs, false)), change(reference.forward_t(&xs, false)));
    ensure(ours.is_finite() && ours >= 1e-3 * theirs, || {
        format!(
            "{}'s output hardly changes with its input ({:.1e} of the change the reference's shows on weights drawn \
             alike): this check counts only for a network that computes",
            V::NAME,
            ours / theirs
        )
    })
}

pub(super) fn upscore_fixed<I: Implementation, V: Variant>() -> Result<(), String> {
    let (store, _) = network(V::build::<I>, config());
    let variables = store.variables();
    for (name, tensor) in &variables {
        if name.starts_with("upscore") {
            ensure(name.ends_with(".weight"), || format!("{}: {name} should not exist (no bias)", V::NAME))?;
            ensure(!tensor.requires_grad(), || format!("{}: {name} is trainable; it must stay fixed", V::NAME))?;
        }
    }
    // A layer is fixed only if it is there, and upsamples: every upscore
    // layer the release has, each with a weight that is not all zeros.
    let (reference, _) = network(V::reference, config());
    let mut expected: Vec<String> = reference.variables().into_keys().filter(|n| n.starts_with("upscore")).collect();
    expected.sort();
    for name in &expected {
        let tensor = variables.get(name).ok_or_else(|| format!("{}: there is no {name}", V::NAME))?;
        let largest = f64::try_from(tensor.abs().max()).unwrap_or(f64::NAN);
        ensure(largest.is_finite() && largest > 0.0, || {
            format!("{}: {name} is all zeros or not finite, so the layer upsamples nothing", V::NAME)
        })?;
    }
    computes::<I, V>()
}

pub(super) fn parameter_counts<I: Implementation, V: Variant>() -> Result<(), String> {
    let (store, _) = network(V::build::<I>, FcnConfig::default());
    let counts = parameter_counts_of(&store);
    ensure(counts == V::PARAMETERS, || {
        format!(
            "{} at full width has {} trainable and {} fixed parameters, expected {} and {}",
            V::NAME,
            counts.0,
            counts.1,
            V::PARAMETERS.0,
            V::PARAMETERS.1
        )
    })?;
    computes::<I, V>()
}

pub(super) fn staged<I: Implementation, V: Variant>() -> Result<(), String> {
    let config = config();
    let (trained, _) = network(|path, config| V::coarser(path, config).expect("a staged variant"), config);
    let (store, _) = network(V::build::<I>, config);
    let transfer = fcn_common::init_from(&trained, &store).map_err(|e| format!("{}: {e}", V::NAME))?;
    let (new, unused) = V::NEW_IN_STAGE;
    ensure(transfer.new == new, || {
        format!("{} should get every variable from the network it starts from except {new:?}; these had no match: {:?}", V::NAME, transfer.new)
    })?;
    ensure(transfer.unused == unused, || {
        format!("{} should use every variable of the network it starts from except {unused:?}; these were left: {:?}", V::NAME, transfer.unused)
    })?;
    computes::<I, V>()
}

/// The FCN heads are deterministic: only fc6 and fc7 have dropout. With
/// score_fr's weights zero, what fc7's dropout does cannot reach the output,
/// so the output in training mode must equal the output in eval mode; any
/// other randomness (dropout on a score layer, a skip, the fused scores)
/// shows as a difference.
pub(super) fn heads_deterministic<I: Implementation>() -> Result<(), String> {
    fn one<I: Implementation, V: Variant>() -> Result<(), String> {
        let config = config();
        let (store, net) = network(V::build::<I>, config);
        draw_weights(&store);
        let score_fr = store.variables().get("score_fr.weight").map(Tensor::shallow_clone);
        let score_fr = score_fr.ok_or_else(|| format!("{} has no variable score_fr.weight; see the names checks", V::NAME))?;
        let _guard = tch::no_grad_guard();
        let _ = score_fr.shallow_clone().zero_();
        let xs = image(2, 48, 48);
        let eval = net.forward_t(&xs, false);
        tch::manual_seed(crate::check::case_seed("FCN heads: training pass") as i64);
        let trained = net.forward_t(&xs, true);
        close(&trained, &eval, || {
            format!(
                "{}'s output in training mode, with score_fr's weights zero so that fc7's dropout cannot reach it, \
                 compared with eval mode: something after the backbone is random in training (only fc6 and fc7 \
                 have dropout)",
                V::NAME
            )
        })
    }
    one::<I, Fcn16s>()?;
    one::<I, Fcn8s>()?;
    one::<I, Fcn8sAtOnce>()?;
    computes::<I, Fcn16s>()?;
    computes::<I, Fcn8s>()?;
    computes::<I, Fcn8sAtOnce>()
}

