//! Exercise 2's checks: VGG16 made fully convolutional (its gradient
//! checks are in `gradients`).

use fcn_common::FcnConfig;
use fcn_common::taps::recording;
use tch::{Device, Kind, Tensor};

use super::common::{
    COMPARED_SIZES, NARROW, backbone, close, config, copy_weights, draw_weights, first_difference, image,
    parameter_counts_of, same_listing, write_torchvision_vgg16,
};
use crate::Implementation;
use crate::check::ensure;


pub(super) fn vgg_names<I: Implementation>() -> Result<(), String> {
    let config = config();
    let (store, _) = backbone(I::vgg16, config);
    let (reference, _) = backbone(solutions::vgg::vgg16, config);
    same_listing("vgg16", &store, &reference)
}

pub(super) fn vgg_feature_sizes<I: Implementation>() -> Result<(), String> {
    let config = config();
    let (_, vgg) = backbone(I::vgg16, config);
    let _guard = tch::no_grad_guard();
    let features = vgg.forward_t(&image(1, 500, 500), false);
    let c = |n| config.channels(n);
    for (name, tensor, expected) in [
        ("pool3", &features.pool3, [1, c(256), 88, 88]),
        ("pool4", &features.pool4, [1, c(512), 44, 44]),
        ("fc7", &features.fc7, [1, c(4096), 16, 16]),
    ] {
        ensure(tensor.size() == expected, || {
            format!("for a 500x500 image (width divided by {NARROW}), {name} is {:?}, expected {expected:?}", tensor.size())
        })?;
    }
    Ok(())
}

pub(super) fn vgg_same_features<I: Implementation>() -> Result<(), String> {
    let config = config();
    let (mut store, vgg) = backbone(I::vgg16, config);
    let (reference_store, reference) = backbone(solutions::vgg::vgg16, config);
    draw_weights(&reference_store);
    copy_weights(&mut store, &reference_store)?;
    let _guard = tch::no_grad_guard();
    for (h, w) in COMPARED_SIZES {
        let xs = image(2, h, w);
        let (ours, our_taps) = recording(|| vgg.forward_t(&xs, false));
        let (theirs, their_taps) = recording(|| reference.forward_t(&xs, false));
        for (name, a, b) in
            [("pool3", ours.pool3, theirs.pool3), ("pool4", ours.pool4, theirs.pool4), ("fc7", ours.fc7, theirs.fc7)]
        {
            close(&a, &b, || format!("{name} for a {h}x{w} input (eval mode)"))
                .map_err(|why| first_difference(why, &our_taps, &their_taps))?;
        }
    }
    Ok(())
}

pub(super) fn vgg_dropout<I: Implementation>() -> Result<(), String> {
    let config = config();
    let (_, vgg) = backbone(I::vgg16, config);
    let _guard = tch::no_grad_guard();
    let xs = image(1, 64, 64);
    // Each pass from a seed of its own: dropout wrongly on in eval mode then
    // draws other masks, even if a check beside this one reseeds libtorch's
    // process-wide generator between the passes.
    tch::manual_seed(crate::check::case_seed("VGG16 dropout: first eval pass") as i64);
    let first = vgg.forward_t(&xs, false).fc7;
    tch::manual_seed(crate::check::case_seed("VGG16 dropout: second eval pass") as i64);
    let second = vgg.forward_t(&xs, false).fc7;
    ensure(first.equal(&second), || "fc7 changes between two evaluations of the same input: dropout is on in eval mode".to_owned())?;
    let trained = vgg.forward_t(&xs, true).fc7;
    ensure(!trained.equal(&first), || "fc7 in training mode equals fc7 in eval mode: dropout is missing".to_owned())
}

/// The paper's dropout: after fc6's ReLU and after fc7's, each unit
/// dropped with probability 0.5 in training, and the survivors scaled by 2
/// (inverted dropout, so that eval mode needs no scaling).
pub(super) const DROPOUT: f64 = 0.5;

/// How many standard deviations a dropped fraction may stray from the rate.
/// Two-sided, the chance that a right network strays further is below one
/// in a million (with its seed fixed, a check gives the same verdict every
/// time); a rate off by 0.1 is 12 deviations away at the sample size used.
pub(super) const DROPOUT_Z: f64 = 4.9;

/// fc6 and fc7 are set so that what dropout does shows in fc7 alone:
/// fc6's weights zero and its bias 1, so every unit of fc6 is 1 before its
/// dropout. Then, with fc7's weights zero and its bias 1, fc7 sees a 1 in
/// every unit whatever fc6's dropout did, and its own dropout leaves a
/// fraction 0.5 of zeros and survivors of 2. With fc7's weights the
/// identity and its bias zero, fc7 sees fc6's dropout too: 0.75 zeros and
/// survivors of 4. Before fc6 nothing may be random: pool3 and pool4 are
/// the same in both modes.
pub(super) fn vgg_dropout_rate<I: Implementation>() -> Result<(), String> {
    let config = config();
    let (store, vgg) = backbone(I::vgg16, config);
    draw_weights(&store);
    let variables = store.variables();
    let variable = |name: &str| {
        variables.get(name).map(Tensor::shallow_clone).ok_or_else(|| format!("vgg16 has no variable {name}; see the names check"))
    };
    let (fc6_weight, fc6_bias, fc7_weight, fc7_bias) =
        (variable("fc6.weight")?, variable("fc6.bias")?, variable("fc7.weight")?, variable("fc7.bias")?);
    let width = config.channels(4096);
    let xs = image(4, 32, 32);
    for (identity, rate, survivor) in [(false, DROPOUT, 1.0 / (1.0 - DROPOUT)), (true, 1.0 - (1.0 - DROPOUT).powi(2), 1.0 / (1.0 - DROPOUT).powi(2))] {
        let _guard = tch::no_grad_guard();
        let _ = fc6_weight.shallow_clone().zero_();
        let _ = fc6_bias.shallow_clone().fill_(1.0);
        let fc7 = if identity { Tensor::eye(width, (Kind::Float, Device::Cpu)).reshape([width, width, 1, 1]) } else { fc7_weight.zeros_like() };
        fc7_weight.shallow_clone().copy_(&fc7);
        let _ = fc7_bias.shallow_clone().fill_(if identity { 0.0 } else { 1.0 });
        let eval = vgg.forward_t(&xs, false);
        tch::manual_seed(crate::check::case_seed("VGG16 dropout rate: masks") as i64);
        let trained = vgg.forward_t(&xs, true);
        for (name, a, b) in [("pool3", &trained.pool3, &eval.pool3), ("pool4", &trained.pool4, &eval.pool4)] {
            ensure(a.equal(b), || format!("{name} differs between training and eval mode: only fc6 and fc7 have dropout"))?;
        }
        let units = trained.fc7.numel() as f64;
        let dropped = f64::try_from(trained.fc7.eq(0.0).sum(Kind::Float)).expect("a scalar");
        let fraction = dropped / units;
        let z = (dropped - rate * units) / (units * rate * (1.0 - rate)).sqrt();
        let setting = if identity { "fc7 passing fc6's units through" } else { "fc7 ignoring fc6" };
        ensure(z.abs() <= DROPOUT_Z, || {
            format!(
                "with every unit 1 before dropout ({setting}), training mode zeroes {:.1}% of fc7's {units} units; \
                 dropout after fc6 and after fc7 at the paper's rate zeroes {:.1}% (more than {DROPOUT_Z} standard \
                 deviations away)",
                100.0 * fraction,
                100.0 * rate
            )
        })?;
        let kept = trained.fc7.masked_select(&trained.fc7.ne(0.0));
        let off = f64::try_from((&kept - survivor).abs().max()).unwrap_or(0.0);
        ensure(off <= 1e-4 * survivor, || {
            format!(
                "with every unit 1 before dropout ({setting}), fc7's surviving units in training mode are not all \
                 {survivor}, as inverted dropout at the paper's rate makes them (one is off by {off:.3})"
            )
        })?;
    }
    Ok(())
}

pub(super) fn vgg_pretrained<I: Implementation>() -> Result<(), String> {
    let config = config();
    let folder = tempfile::tempdir().map_err(|e| format!("the check cannot make a temporary folder: {e}"))?;
    let file = folder.path().join("vgg16.safetensors");
    write_torchvision_vgg16(&file, config, 7).map_err(|e| format!("the check cannot write {}: {e}", file.display()))?;
    let (store, vgg) = backbone(I::vgg16, config);
    // The reference's conversion: this check is of the names; the
    // conversion has checks of its own (`transfer`).
    let as_conv = solutions::vgg::fully_connected_as_conv;
    fcn_common::load_torchvision_vgg16(&store, &file, as_conv).map_err(|e| format!("loading torchvision's VGG16 layout: {e}"))?;
    let (reference_store, reference) = backbone(solutions::vgg::vgg16, config);
    fcn_common::load_torchvision_vgg16(&reference_store, &file, as_conv).expect("the reference loads torchvision's layout");
    let _guard = tch::no_grad_guard();
    let xs = image(1, 40, 40);
    let (ours, theirs) = (vgg.forward_t(&xs, false), reference.forward_t(&xs, false));
    close(&ours.fc7, &theirs.fc7, || "fc7 with pre-trained weights loaded (eval mode)".to_owned())
}

pub(super) fn vgg_parameter_count<I: Implementation>() -> Result<(), String> {
    let (store, _) = backbone(I::vgg16, FcnConfig::default());
    let (trainable, fixed) = parameter_counts_of(&store);
    let expected = 14_714_688 + 102_764_544 + 16_781_312;
    ensure(trainable == expected && fixed == 0, || {
        format!("vgg16 at full width has {trainable} trainable and {fixed} fixed parameters, expected {expected} and 0")
    })
}

/// How the backbone's layers start, as README states (tch's defaults, which
/// a network trained from scratch needs): every weight uniform on [-b, b]
/// with b = sqrt(6 / fan-in) (Kaiming's, for ReLU), every bias zero. Per
/// layer, at a quarter of the width (so that even conv1_1 has 432 weights):
/// no weight beyond b, and the mean of the squared weights within six of
/// its standard errors of b^2 / 3 (for n uniform values that mean has a
/// relative standard deviation of sqrt(0.8 / n)). A right initialisation
/// fails it less than once in 10^8 gradings (six standard errors, 15
/// layers); Caffe's habit of N(0, 0.01), Kaiming's normal form, or a fan-out
/// in place of the fan-in fails it.
pub(super) fn vgg_initialisation<I: Implementation>() -> Result<(), String> {
    let config = FcnConfig { width_divisor: 4, ..config() };
    let (store, _) = backbone(I::vgg16, config);
    let _guard = tch::no_grad_guard();
    let mut variables: Vec<(String, Tensor)> = store.variables().into_iter().collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, tensor) in variables {
        let values = tensor.to_kind(Kind::Double);
        let largest = f64::try_from(values.abs().max()).unwrap_or(f64::NAN);
        if name.ends_with(".bias") {
            ensure(largest == 0.0, || format!("{name} does not start at zero (tch's default for a bias)"))?;
            continue;
        }
        let size = tensor.size();
        let fan_in = size[1..].iter().product::<i64>().max(1) as f64;
        let bound = (6.0 / fan_in).sqrt();
        ensure(largest <= bound * (1.0 + 1e-5), || {
            format!("{name} starts with values beyond sqrt(6 / fan-in): not Kaiming-uniform (tch's default)")
        })?;
        let n = tensor.numel() as f64;
        let mean_square = f64::try_from(values.square().mean(Kind::Double)).unwrap_or(f64::NAN);
        let relative = mean_square / (bound * bound / 3.0) - 1.0;
        ensure(relative.abs() <= 6.0 * (0.8 / n).sqrt(), || {
            format!(
                "{name} starts with weights whose spread is not Kaiming-uniform's (tch's default): their mean square \
                 is {:+.0}% off",
                100.0 * relative
            )
        })?;
    }
    Ok(())
}

