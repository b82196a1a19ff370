//! Hidden checks for exercise 2 (VGG16 made fully convolutional) and
//! exercise 3 (FCN-16s and FCN-8s).
//!
//! Most checks run a narrow network (every width divided by 16: same layers,
//! names and spatial sizes, a fraction of the arithmetic); the parameter
//! counts are checked at the paper's width.

mod dropout;
mod gradients;
pub mod seeded;

use crate::Implementation;
use crate::check::{Check, Exercise, Track, ensure};
use fcn_common::taps::recording;
use fcn_common::{Backbone, FcnConfig};
use tch::{Device, Kind, Tensor, nn, nn::ModuleT};

pub const VGG: Exercise = Exercise {
    id: "vgg",
    number: 2,
    title: "VGG16, made fully convolutional",
    track: Track::Core,
};
pub const FCN: Exercise = Exercise {
    id: "fcn",
    number: 3,
    title: "FCN-16s and FCN-8s",
    track: Track::Core,
};

/// Largest relative difference allowed between two outputs of the same
/// network on the same weights (float32, CPU).
const RELATIVE_TOLERANCE: f64 = 1e-5;

/// Every width divided by this in the quick checks.
const NARROW: i64 = 16;

/// The networks' settings in the checks: narrow, with a number of classes
/// drawn from 2 to 40 for each grading (a network that hard-codes PASCAL
/// VOC's 21 shows it). The parameter counts at full width stay the paper's,
/// with 21.
fn config() -> FcnConfig {
    use ndarray_rand::rand::{Rng, SeedableRng, rngs::StdRng};
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed(2116));
    FcnConfig { classes: rng.gen_range(2..=40), width_divisor: NARROW }
}

/// Input sizes (height, width) the output-size checks try.
const SIZES: [(i64, i64); 9] =
    [(1, 1), (2, 2), (31, 31), (32, 32), (33, 33), (64, 64), (100, 100), (375, 500), (500, 500)];

/// Input sizes the same-output checks try (batch of 2).
const COMPARED_SIZES: [(i64, i64); 3] = [(1, 1), (37, 50), (64, 64)];

pub fn vgg_checks<I: Implementation>() -> Vec<Check> {
    let check = |name, points, run| Check::new(VGG, name, points, run);
    vec![
        check("layer names and shapes", 1, vgg_names::<I>).public(),
        check("feature sizes for a 500x500 image", 1, vgg_feature_sizes::<I>),
        check("same features as the reference on the same weights", 2, vgg_same_features::<I>),
        check("dropout in training only", 1, vgg_dropout::<I>).public(),
        check("dropout after fc6 and fc7 at the paper's rate, inverted, nothing else random", 1, vgg_dropout_rate::<I>),
        check("pre-trained VGG16 weights load by name", 1, vgg_pretrained::<I>),
        check("parameter count at full width", 1, vgg_parameter_count::<I>),
        check("layers start as tch's defaults: Kaiming-uniform weights, zero biases", 1, vgg_initialisation::<I>),
        check("same parameter gradients as the reference, through pool3, pool4 and fc7", 1, gradients::vgg_same_gradients::<I>),
        check("backward pass in training mode reaches every parameter", 1, gradients::vgg_backward_in_training::<I>),
    ]
}

pub fn fcn_checks<I: Implementation>() -> Vec<Check> {
    let check = |name, points, run| Check::new(FCN, name, points, run);
    vec![
        check("FCN-16s: layer names and shapes", 1, names::<I, Fcn16s>),
        check("FCN-16s: output size equals input size", 1, output_sizes::<I, Fcn16s>).public(),
        check("FCN-16s: same output as the reference on the same weights", 2, same_output::<I, Fcn16s>),
        check("FCN-16s: upscore layers fixed, no bias", 1, upscore_fixed::<I, Fcn16s>).public(),
        check("FCN-16s: parameter counts at full width", 1, parameter_counts::<I, Fcn16s>),
        check("FCN-16s: starts from a trained FCN-32s by name", 1, staged::<I, Fcn16s>),
        check("FCN-8s: layer names and shapes", 1, names::<I, Fcn8s>),
        check("FCN-8s: output size equals input size", 1, output_sizes::<I, Fcn8s>).public(),
        check("FCN-8s: same output as the reference on the same weights", 2, same_output::<I, Fcn8s>),
        check("FCN-8s: upscore layers fixed, no bias", 1, upscore_fixed::<I, Fcn8s>).public(),
        check("FCN-8s: parameter counts at full width", 1, parameter_counts::<I, Fcn8s>),
        check("FCN-8s: starts from a trained FCN-16s by name", 1, staged::<I, Fcn8s>),
        check("FCN-8s: gradient reaches conv1_1 and every score layer", 1, gradients::gradients_reach::<I, Fcn8s>).public(),
        check("FCN-8s at once: same output as the reference", 1, same_output::<I, Fcn8sAtOnce>),
        check("FCN-16s: same parameter gradients as the reference on the same weights", 1, gradients::same_gradients::<I, Fcn16s>),
        check("FCN-8s: same parameter gradients as the reference on the same weights", 1, gradients::same_gradients::<I, Fcn8s>),
        check("FCN-8s at once: same parameter gradients as the reference", 1, gradients::same_gradients::<I, Fcn8sAtOnce>),
        check("nothing random in training mode beyond fc6 and fc7's dropout", 1, heads_deterministic::<I>),
        check(
            "FCN-16s, FCN-8s, FCN-8s at once: dropout inside each as the release's (after fc6 and fc7, per unit, new masks every pass)",
            1,
            dropout::fcn_dropouts::<I>,
        ),
        check(
            "FCN-16s, FCN-8s, FCN-8s at once: same output and parameter gradients as the reference in training mode, under the same dropout masks",
            1,
            gradients::same_gradients_in_training::<I>,
        )
        .draws_alone(),
    ]
}

/// One of the FCN variants, built by an implementation or by the reference.
pub trait Variant {
    const NAME: &'static str;
    /// (trainable, fixed) parameter counts at full width, 21 classes
    /// (fcn-reference.md).
    const PARAMETERS: (i64, i64);
    /// For staged training: the variables this variant has and the one it
    /// starts from does not (fcn-reference.md), and the coarser variant's own
    /// (fixed) upsampling it leaves behind.
    const NEW_IN_STAGE: (&'static [&'static str], &'static [&'static str]) = (&[], &[]);
    /// The coarser variant it starts from, built by the reference.
    fn coarser(_path: &nn::Path, _config: FcnConfig) -> Option<nn::FuncT<'static>> {
        None
    }
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static>;
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static>;
}

pub struct Fcn32s;
pub struct Fcn16s;
pub struct Fcn8s;
pub struct Fcn8sAtOnce;

impl Variant for Fcn32s {
    const NAME: &'static str = "FCN-32s";
    const PARAMETERS: (i64, i64) = (134_346_581, 1_806_336);
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        I::fcn32s(path, config)
    }
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        solutions::fcn32s::fcn32s(path, config)
    }
}

impl Variant for Fcn16s {
    const NAME: &'static str = "FCN-16s";
    const PARAMETERS: (i64, i64) = (134_357_354, 458_640);
    const NEW_IN_STAGE: (&'static [&'static str], &'static [&'static str]) = (
        &["score_pool4.bias", "score_pool4.weight", "upscore16.weight", "upscore2.weight"],
        &["upscore.weight"],
    );
    fn coarser(path: &nn::Path, config: FcnConfig) -> Option<nn::FuncT<'static>> {
        Some(solutions::fcn32s::fcn32s(path, config))
    }
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        I::fcn16s(path, config)
    }
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        solutions::fcn16s::fcn16s(path, config)
    }
}

impl Variant for Fcn8s {
    const NAME: &'static str = "FCN-8s";
    const PARAMETERS: (i64, i64) = (134_362_751, 127_008);
    const NEW_IN_STAGE: (&'static [&'static str], &'static [&'static str]) = (
        &["score_pool3.bias", "score_pool3.weight", "upscore8.weight", "upscore_pool4.weight"],
        &["upscore16.weight"],
    );
    fn coarser(path: &nn::Path, config: FcnConfig) -> Option<nn::FuncT<'static>> {
        Some(solutions::fcn16s::fcn16s(path, config))
    }
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        I::fcn8s(path, config)
    }
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        solutions::fcn8s::fcn8s(path, config)
    }
}

impl Variant for Fcn8sAtOnce {
    const NAME: &'static str = "FCN-8s at once";
    const PARAMETERS: (i64, i64) = Fcn8s::PARAMETERS;
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        I::fcn8s_atonce(path, config)
    }
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        solutions::fcn8s::fcn8s_atonce(path, config)
    }
}

// ---------------------------------------------------------------- exercise 2

fn vgg_names<I: Implementation>() -> Result<(), String> {
    let config = config();
    let (store, _) = backbone(I::vgg16, config);
    let (reference, _) = backbone(solutions::vgg::vgg16, config);
    same_listing("vgg16", &store, &reference)
}

fn vgg_feature_sizes<I: Implementation>() -> Result<(), String> {
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

fn vgg_same_features<I: Implementation>() -> Result<(), String> {
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

fn vgg_dropout<I: Implementation>() -> Result<(), String> {
    let config = config();
    let (_, vgg) = backbone(I::vgg16, config);
    let _guard = tch::no_grad_guard();
    let xs = image(1, 64, 64);
    // Each pass from a seed of its own: dropout wrongly on in eval mode then
    // draws other masks, even if a check beside this one reseeds libtorch's
    // process-wide generator between the passes.
    tch::manual_seed(crate::check::case_seed(41) as i64);
    let first = vgg.forward_t(&xs, false).fc7;
    tch::manual_seed(crate::check::case_seed(43) as i64);
    let second = vgg.forward_t(&xs, false).fc7;
    ensure(first.equal(&second), || "fc7 changes between two evaluations of the same input: dropout is on in eval mode".to_owned())?;
    let trained = vgg.forward_t(&xs, true).fc7;
    ensure(!trained.equal(&first), || "fc7 in training mode equals fc7 in eval mode: dropout is missing".to_owned())
}

/// The paper's dropout: after fc6's ReLU and after fc7's, each unit
/// dropped with probability 0.5 in training, and the survivors scaled by 2
/// (inverted dropout, so that eval mode needs no scaling).
const DROPOUT: f64 = 0.5;

/// How many standard deviations a dropped fraction may stray from the rate.
/// Two-sided, the chance that a right network strays further is below one
/// in a million (with its seed fixed, a check gives the same verdict every
/// time); a rate off by 0.1 is 12 deviations away at the sample size used.
const DROPOUT_Z: f64 = 4.9;

/// fc6 and fc7 are set so that what dropout does shows in fc7 alone:
/// fc6's weights zero and its bias 1, so every unit of fc6 is 1 before its
/// dropout. Then, with fc7's weights zero and its bias 1, fc7 sees a 1 in
/// every unit whatever fc6's dropout did, and its own dropout leaves a
/// fraction 0.5 of zeros and survivors of 2. With fc7's weights the
/// identity and its bias zero, fc7 sees fc6's dropout too: 0.75 zeros and
/// survivors of 4. Before fc6 nothing may be random: pool3 and pool4 are
/// the same in both modes.
fn vgg_dropout_rate<I: Implementation>() -> Result<(), String> {
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
        tch::manual_seed(crate::check::case_seed(23) as i64);
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

fn vgg_pretrained<I: Implementation>() -> Result<(), String> {
    let config = config();
    let folder = tempfile::tempdir().map_err(|e| format!("the check cannot make a temporary folder: {e}"))?;
    let file = folder.path().join("vgg16.safetensors");
    write_torchvision_vgg16(&file, config, 7).map_err(|e| format!("the check cannot write {}: {e}", file.display()))?;
    let (store, vgg) = backbone(I::vgg16, config);
    fcn_common::load_torchvision_vgg16(&store, &file).map_err(|e| format!("loading torchvision's VGG16 layout: {e}"))?;
    let (reference_store, reference) = backbone(solutions::vgg::vgg16, config);
    fcn_common::load_torchvision_vgg16(&reference_store, &file).expect("the reference loads torchvision's layout");
    let _guard = tch::no_grad_guard();
    let xs = image(1, 40, 40);
    let (ours, theirs) = (vgg.forward_t(&xs, false), reference.forward_t(&xs, false));
    close(&ours.fc7, &theirs.fc7, || "fc7 with pre-trained weights loaded (eval mode)".to_owned())
}

fn vgg_parameter_count<I: Implementation>() -> Result<(), String> {
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
fn vgg_initialisation<I: Implementation>() -> Result<(), String> {
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

// ---------------------------------------------------------------- exercise 3

fn names<I: Implementation, V: Variant>() -> Result<(), String> {
    let config = config();
    let (store, _) = network(V::build::<I>, config);
    let (reference, _) = network(V::reference, config);
    same_listing(V::NAME, &store, &reference)?;
    computes::<I, V>()
}

fn output_sizes<I: Implementation, V: Variant>() -> Result<(), String> {
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

fn same_output<I: Implementation, V: Variant>() -> Result<(), String> {
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
fn computes<I: Implementation, V: Variant>() -> Result<(), String> {
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

fn upscore_fixed<I: Implementation, V: Variant>() -> Result<(), String> {
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

fn parameter_counts<I: Implementation, V: Variant>() -> Result<(), String> {
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

fn staged<I: Implementation, V: Variant>() -> Result<(), String> {
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
fn heads_deterministic<I: Implementation>() -> Result<(), String> {
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
        tch::manual_seed(crate::check::case_seed(37) as i64);
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

/// The trainable variables of `store`, sorted by name.
fn trainable(store: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut variables: Vec<(String, Tensor)> = store.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    variables
}

/// Draws every trainable variable of `store` at random, in name order:
/// weights scaled like Kaiming's initialisation, so that activations keep
/// their size through the layers, and biases of about one, so that no
/// mistake that involves a bias hides behind a zero.
fn draw_weights(store: &nn::VarStore) {
    tch::manual_seed(crate::check::case_seed(17) as i64);
    let _guard = tch::no_grad_guard();
    for (name, mut variable) in trainable(store) {
        let size = variable.size();
        let drawn = Tensor::randn(&size, (Kind::Float, variable.device()));
        let drawn = if name.ends_with(".bias") {
            drawn
        } else {
            let fan_in: i64 = size[1..].iter().product::<i64>().max(1);
            drawn * (2.0 / fan_in as f64).sqrt()
        };
        variable.copy_(&drawn);
    }
    // The fixed (upsampling) weights too, scaled: a layer must compute with
    // the variable it registered, which loading or copying weights reaches,
    // not with a tensor of its own.
    for (_, mut variable) in store.variables().into_iter().filter(|(_, v)| !v.requires_grad()) {
        let scaled = &variable * 1.5;
        variable.copy_(&scaled);
    }
}

// ---------------------------------------------------------------- helpers

/// Builds a backbone or a network in a fresh CPU store, with a fixed seed.
fn build<T>(build: fn(&nn::Path, FcnConfig) -> T, config: FcnConfig) -> (nn::VarStore, T) {
    tch::manual_seed(0);
    let store = nn::VarStore::new(Device::Cpu);
    let net = build(&store.root(), config);
    (store, net)
}

fn backbone(build_backbone: fn(&nn::Path, FcnConfig) -> Backbone, config: FcnConfig) -> (nn::VarStore, Backbone) {
    build(build_backbone, config)
}

fn network(
    build_network: fn(&nn::Path, FcnConfig) -> nn::FuncT<'static>,
    config: FcnConfig,
) -> (nn::VarStore, nn::FuncT<'static>) {
    build(build_network, config)
}

/// A batch of `n` random images, scaled like mean-subtracted pixel values.
fn image(n: i64, h: i64, w: i64) -> Tensor {
    tch::manual_seed((n * 1_000_003 + h * 1009 + w) ^ crate::check::case_seed(0) as i64);
    Tensor::randn([n, 3, h, w], (Kind::Float, Device::Cpu)) * 50.0
}

/// (name, shape) of every variable, sorted by name.
fn listing(store: &nn::VarStore) -> Vec<(String, Vec<i64>)> {
    let mut listing: Vec<_> = store.variables().into_iter().map(|(name, t)| (name, t.size())).collect();
    listing.sort();
    listing
}

fn same_listing(what: &str, store: &nn::VarStore, reference: &nn::VarStore) -> Result<(), String> {
    let (ours, theirs) = (listing(store), listing(reference));
    for (name, shape) in &theirs {
        match ours.iter().find(|(n, _)| n == name) {
            None => return Err(format!("{what} has no variable {name}")),
            Some((_, s)) => ensure(s == shape, || {
                format!("{what}: {name} has shape {s:?}, expected {shape:?} (width divided by {NARROW})")
            })?,
        }
    }
    match ours.iter().find(|(n, _)| !theirs.iter().any(|(m, _)| m == n)) {
        Some((name, _)) => Err(format!("{what} has a variable the release does not: {name}")),
        None => Ok(()),
    }
}

/// Copies the reference's weights into `store`, by name.
fn copy_weights(store: &mut nn::VarStore, reference: &nn::VarStore) -> Result<(), String> {
    store.copy(reference).map_err(|e| format!("cannot copy the reference's weights by name ({e}); see the names check"))
}

/// `why` a network's output differs, with where: the first layer the
/// reference names (with `fcn_common::tap`) whose output the student's network,
/// naming it too, computes differently. Shapes and the size of the
/// difference are given, never the reference's values.
fn first_difference(why: String, ours: &[(String, Tensor)], theirs: &[(String, Tensor)]) -> String {
    let mut last_agreeing: Option<&str> = None;
    for (name, expected) in theirs {
        let Some((_, got)) = ours.iter().find(|(n, _)| n == name) else { continue };
        let compared = if got.size() == expected.size() {
            close(got, expected, || format!("yours, of shape {:?},", got.size()))
        } else {
            Err(format!("yours has shape {:?}, the reference's {:?}", got.size(), expected.size()))
        };
        if let Err(differs) = compared {
            let agreed = match last_agreeing {
                Some(before) => format!("; every layer you named before it agrees (the last: {before})"),
                None => String::new(),
            };
            return format!("{why}. The first named layer that differs is {name}: {differs}{agreed}");
        }
        last_agreeing = Some(name);
    }
    match last_agreeing {
        Some(last) => format!("{why}. Every layer you named agrees, the last being {last}: look after it"),
        None => format!(
            "{why}. Name your layers' outputs with fcn_common::tap (conv1_1 ... fc7, score_fr, upscore2, ...: see the \
             exercise's docs) and this message will say which layer differs first"
        ),
    }
}

/// Ok when `a` has `b`'s shape and `max |a - b| <= 1e-5 * max |b|`.
fn close(a: &Tensor, b: &Tensor, what: impl Fn() -> String) -> Result<(), String> {
    ensure(a.size() == b.size(), || format!("{} has shape {:?}, expected {:?}", what(), a.size(), b.size()))?;
    let scale = f64::try_from(b.abs().max()).expect("a scalar").max(1e-12);
    let difference = f64::try_from((a - b).abs().max()).expect("a scalar");
    // By how much as a fraction only: an absolute difference would tell the
    // reference's values to a network (or a named layer) that returns zeros.
    ensure(difference <= RELATIVE_TOLERANCE * scale && !difference.is_nan(), || {
        format!(
            "{} differs from the reference's: the largest difference is {:.3e} of the largest value (the tolerance \
             is {RELATIVE_TOLERANCE:.0e})",
            what(),
            difference / scale
        )
    })
}

/// Writes a VGG16 file in torchvision's layout (`features.N`, `classifier.N`,
/// safetensors) with random weights of the shapes a network of `config`
/// loads, `classifier.6` included. The weights are scaled like Kaiming's
/// initialisation so that activations stay of order one.
pub fn write_torchvision_vgg16(file: &std::path::Path, config: FcnConfig, seed: i64) -> Result<(), tch::TchError> {
    let (store, _) = backbone(solutions::vgg::vgg16, config);
    let variables = store.variables();
    tch::manual_seed(seed);
    let random = |shape: &[i64]| {
        let fan_in: i64 = shape[1..].iter().product::<i64>().max(1);
        Tensor::randn(shape, (Kind::Float, Device::Cpu)) * (2.0 / fan_in as f64).sqrt()
    };
    let mut tensors = Vec::new();
    for (module, layer) in fcn_common::weights::TORCHVISION_VGG16_LAYERS {
        let weight = variables[&format!("{layer}.weight")].size();
        let weight = if module.starts_with("classifier") { vec![weight[0], weight[1..].iter().product()] } else { weight };
        tensors.push((format!("{module}.weight"), random(&weight)));
        tensors.push((format!("{module}.bias"), random(&[weight[0]]) * 0.1));
    }
    tensors.push(("classifier.6.weight".to_owned(), random(&[1000, config.channels(4096)])));
    tensors.push(("classifier.6.bias".to_owned(), random(&[1000])));
    Tensor::write_safetensors(&tensors, file)
}

/// (trainable, fixed) numbers of parameters.
pub fn parameter_counts_of(store: &nn::VarStore) -> (i64, i64) {
    store.variables().values().fold((0, 0), |(trainable, fixed), t| {
        let n = t.numel() as i64;
        if t.requires_grad() { (trainable + n, fixed) } else { (trainable, fixed + n) }
    })
}
