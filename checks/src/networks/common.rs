//! What the network checks share: the networks' settings in the checks,
//! building and weighting networks, the images they run on, and comparing
//! what they compute.

use fcn_common::{Backbone, FcnConfig};
use tch::{Device, Kind, Tensor, nn};

use crate::check::ensure;

/// Largest relative difference allowed between two outputs of the same
/// network on the same weights (float32, CPU).
pub(super) const RELATIVE_TOLERANCE: f64 = 1e-5;

/// Every width divided by this in the quick checks.
pub(super) const NARROW: i64 = 16;

/// The networks' settings in the checks: narrow, with a number of classes
/// drawn from 2 to 40 for each grading (a network that hard-codes PASCAL
/// VOC's 21 shows it). The parameter counts at full width stay the paper's,
/// with 21.
pub(super) fn config() -> FcnConfig {
    use ndarray_rand::rand::{Rng, SeedableRng, rngs::StdRng};
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("class count"));
    FcnConfig { classes: rng.gen_range(2..=40), width_divisor: NARROW }
}

/// Input sizes (height, width) the output-size checks try.
pub(super) const SIZES: [(i64, i64); 9] =
    [(1, 1), (2, 2), (31, 31), (32, 32), (33, 33), (64, 64), (100, 100), (375, 500), (500, 500)];

/// Input sizes the same-output checks try (batch of 2).
pub(super) const COMPARED_SIZES: [(i64, i64); 3] = [(1, 1), (37, 50), (64, 64)];


/// The trainable variables of `store`, sorted by name.
pub(super) fn trainable(store: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut variables: Vec<(String, Tensor)> = store.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    variables
}

/// Draws every trainable variable of `store` at random, in name order:
/// weights scaled like Kaiming's initialisation, so that activations keep
/// their size through the layers, and biases of about one, so that no
/// mistake that involves a bias hides behind a zero.
pub(super) fn draw_weights(store: &nn::VarStore) {
    tch::manual_seed(crate::check::case_seed("random weights") as i64);
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


/// Builds a backbone or a network in a fresh CPU store, with a fixed seed.
pub(super) fn build<T>(build: fn(&nn::Path, FcnConfig) -> T, config: FcnConfig) -> (nn::VarStore, T) {
    tch::manual_seed(0);
    let store = nn::VarStore::new(Device::Cpu);
    let net = build(&store.root(), config);
    (store, net)
}

pub(super) fn backbone(build_backbone: fn(&nn::Path, FcnConfig) -> Backbone, config: FcnConfig) -> (nn::VarStore, Backbone) {
    build(build_backbone, config)
}

pub(super) fn network(
    build_network: fn(&nn::Path, FcnConfig) -> nn::FuncT<'static>,
    config: FcnConfig,
) -> (nn::VarStore, nn::FuncT<'static>) {
    build(build_network, config)
}

/// A batch of `n` random images, scaled like mean-subtracted pixel values.
pub(super) fn image(n: i64, h: i64, w: i64) -> Tensor {
    tch::manual_seed((n * 1_000_003 + h * 1009 + w) ^ crate::check::case_seed("images") as i64);
    Tensor::randn([n, 3, h, w], (Kind::Float, Device::Cpu)) * 50.0
}

/// (name, shape) of every variable, sorted by name.
pub(super) fn listing(store: &nn::VarStore) -> Vec<(String, Vec<i64>)> {
    let mut listing: Vec<_> = store.variables().into_iter().map(|(name, t)| (name, t.size())).collect();
    listing.sort();
    listing
}

pub(super) fn same_listing(what: &str, store: &nn::VarStore, reference: &nn::VarStore) -> Result<(), String> {
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
pub(super) fn copy_weights(store: &mut nn::VarStore, reference: &nn::VarStore) -> Result<(), String> {
    store.copy(reference).map_err(|e| format!("cannot copy the reference's weights by name ({e}); see the names check"))
}

/// `why` a network's output differs, with where: the first layer the
/// reference names (with `fcn_common::tap`) whose output the student's network,
/// naming it too, computes differently. Shapes and the size of the
/// difference are given, never the reference's values.
pub(super) fn first_difference(why: String, ours: &[(String, Tensor)], theirs: &[(String, Tensor)]) -> String {
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
pub(super) fn close(a: &Tensor, b: &Tensor, what: impl Fn() -> String) -> Result<(), String> {
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
