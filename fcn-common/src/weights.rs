//! Starting an FCN from trained weights, by variable name.
//!
//! Two starts the paper uses:
//!
//! * **Pre-trained VGG16.** The backbone starts from VGG16 trained on
//!   ImageNet. [`load_torchvision_vgg16`] reads torchvision's VGG16 weights,
//!   saved as safetensors (README, "Pre-trained VGG16", shows the two lines of
//!   Python), and turns the fully connected `classifier.0` and
//!   `classifier.3` into the convolutions `fc6` and `fc7` with the caller's
//!   [`AsConv`] (exercise 2's `fully_connected_as_conv`). ImageNet's
//!   classifier, `classifier.6`, is left out: `score_fr` replaces it.
//! * **Staged training.** FCN-16s starts from a trained FCN-32s and FCN-8s
//!   from a trained FCN-16s: [`init_from`] copies every variable the two
//!   networks share by name (the backbone and `score_fr`) and reports the new
//!   ones (the skip's score layer and upsamplings).
//!
//! Both only copy values into a network that is already built; they never add
//! or remove variables, and they refuse (with an error naming the tensor) to
//! copy anything whose shape does not fit.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use tch::{Tensor, nn};

/// torchvision's VGG16 module for each layer of the FCN backbone: its
/// `features.N` are the 13 convolutions (the ReLUs and poolings between them
/// take the other indices), its `classifier.0` and `classifier.3` are the two
/// fully connected layers FCN turns into `fc6` and `fc7`.
pub const TORCHVISION_VGG16_LAYERS: [(&str, &str); 15] = [
    ("features.0", "conv1_1"),
    ("features.2", "conv1_2"),
    ("features.5", "conv2_1"),
    ("features.7", "conv2_2"),
    ("features.10", "conv3_1"),
    ("features.12", "conv3_2"),
    ("features.14", "conv3_3"),
    ("features.17", "conv4_1"),
    ("features.19", "conv4_2"),
    ("features.21", "conv4_3"),
    ("features.24", "conv5_1"),
    ("features.26", "conv5_2"),
    ("features.28", "conv5_3"),
    ("classifier.0", "fc6"),
    ("classifier.3", "fc7"),
];

/// ImageNet's 1000-class layer: in the file, not used by an FCN.
const TORCHVISION_IGNORED: &str = "classifier.6";

/// Why weights could not be loaded. Each message names the file or variable
/// at fault and says what to check.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error(
        "cannot read {file} as safetensors ({reason}); write torchvision's VGG16 weights with \
         safetensors.torch.save_file as README's \"Pre-trained VGG16\" shows"
    )]
    NotSafetensors { file: PathBuf, reason: String },

    #[error("{file} has no tensor {name} (VGG16's {layer}); is it the state_dict of torchvision.models.vgg16?")]
    Missing { file: PathBuf, name: String, layer: String },

    #[error(
        "{file}: {name} has shape {found:?}, but this network's {layer} needs {expected:?}; \
         was the network built with another width divisor, or is the file another model?"
    )]
    WrongShape { file: PathBuf, name: String, layer: String, found: Vec<i64>, expected: Vec<i64> },

    #[error(
        "{file} has a tensor VGG16 does not: {name}; only torchvision's plain vgg16 (no batch \
         norm) is supported"
    )]
    Unexpected { file: PathBuf, name: String },

    #[error("{file}: {name} holds {kind}, not floating-point numbers")]
    NotFloat { file: PathBuf, name: String, kind: String },

    #[error(
        "turning {name} ({:?} in {file}) into a convolution gave {:?}, but the network's {layer} \
         is {:?}; fully_connected_as_conv should give [out, channels, kernel, kernel]",
        .shapes.found, .shapes.given, .shapes.expected
    )]
    NotConverted { file: PathBuf, name: String, layer: String, shapes: Box<Conversion> },

    #[error(
        "the network has no variable {name}; build it at the VarStore's root (vs.root()) with the \
         release's layer names"
    )]
    NotInNetwork { name: String },

    #[error(
        "{name} is {trained:?} in the trained network but {target:?} in the new one; build both \
         with the same classes and width divisor"
    )]
    ShapesDiffer { name: String, trained: Vec<i64>, target: Vec<i64> },
}

/// The shapes of a fully connected layer turned into a convolution that
/// does not fit: boxed, so that a `Result` of [`WeightsError`] stays small.
#[derive(Debug)]
pub struct Conversion {
    /// The layer's weight in the file.
    pub found: Vec<i64>,
    /// What the conversion gave.
    pub given: Vec<i64>,
    /// What the network's convolution is.
    pub expected: Vec<i64>,
}

/// One tensor of the file and the variable it fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// torchvision's name: `classifier.0.weight`.
    pub source: String,
    /// The network's name: `fc6.weight`.
    pub target: String,
    /// The variable's shape; a fully connected layer's weight is turned
    /// into a convolution's of this shape.
    pub shape: Vec<i64>,
}

/// A fully connected layer's weight `[out, channels * kernel * kernel]` as a
/// convolution's `[out, channels, kernel, kernel]`, given the weight,
/// `channels` and `kernel`: exercise 2's `fully_connected_as_conv`.
pub type AsConv = fn(&Tensor, i64, i64) -> Tensor;

/// Loads torchvision's VGG16 weights from the safetensors `file` into the
/// backbone variables of `store` (`conv1_1` ... `fc7`, at the store's root).
/// Any other variable (score layers, upsamplings) is left as it is.
///
/// The fully connected `classifier.0.weight` (`[4096, 25088]`) becomes
/// `fc6.weight` (`[4096, 512, 7, 7]`) through `as_conv`, and
/// `classifier.3.weight` (`[4096, 4096]`) becomes `fc7.weight`
/// (`[4096, 4096, 1, 1]`); a conversion that gives another shape is an error
/// naming the layer.
///
/// A narrow network (width divisor above 1) loads a file whose shapes are
/// divided the same way, which is what the tests write.
pub fn load_torchvision_vgg16(store: &nn::VarStore, file: &Path, as_conv: AsConv) -> Result<Vec<Assignment>, WeightsError> {
    let tensors = Tensor::read_safetensors(file)
        .map_err(|e| WeightsError::NotSafetensors { file: file.to_owned(), reason: e.to_string() })?;
    let file_shapes: Vec<(String, Vec<i64>)> = tensors.iter().map(|(name, t)| (name.clone(), t.size())).collect();
    let variables = store.variables();
    let network_shapes: BTreeMap<String, Vec<i64>> =
        variables.iter().map(|(name, t)| (name.clone(), t.size())).collect();
    let plan = torchvision_vgg16_plan(file, &file_shapes, &network_shapes)?;

    let tensors: HashMap<String, Tensor> = tensors.into_iter().collect();
    let _guard = tch::no_grad_guard();
    for assignment in &plan {
        let source = &tensors[&assignment.source];
        if !source.is_floating_point() {
            return Err(WeightsError::NotFloat {
                file: file.to_owned(),
                name: assignment.source.clone(),
                kind: format!("{:?}", source.kind()),
            });
        }
        let value = match assignment.shape.as_slice() {
            // A fully connected layer of the file, a convolution here.
            &[_, channels, kernel, _] if source.dim() == 2 => {
                let converted = as_conv(source, channels, kernel);
                if converted.size() != assignment.shape {
                    return Err(WeightsError::NotConverted {
                        file: file.to_owned(),
                        name: assignment.source.clone(),
                        layer: assignment.target.clone(),
                        shapes: Box::new(Conversion {
                            found: source.size(),
                            given: converted.size(),
                            expected: assignment.shape.clone(),
                        }),
                    });
                }
                converted
            }
            _ => source.shallow_clone(),
        };
        let mut target = variables[&assignment.target].shallow_clone();
        target.copy_(&value);
    }
    Ok(plan)
}

/// Matches the tensors of a torchvision VGG16 file (`file_shapes`: name and
/// shape of each) with a network's variables (`network_shapes`), without
/// touching any values: what [`load_torchvision_vgg16`] will copy where, or
/// the first reason it cannot. `file` is only used in error messages.
pub fn torchvision_vgg16_plan(
    file: &Path,
    file_shapes: &[(String, Vec<i64>)],
    network_shapes: &BTreeMap<String, Vec<i64>>,
) -> Result<Vec<Assignment>, WeightsError> {
    let file_shapes: BTreeMap<&str, &Vec<i64>> = file_shapes.iter().map(|(n, s)| (n.as_str(), s)).collect();
    let mut plan = Vec::with_capacity(2 * TORCHVISION_VGG16_LAYERS.len());
    for (module, layer) in TORCHVISION_VGG16_LAYERS {
        for parameter in ["weight", "bias"] {
            let source = format!("{module}.{parameter}");
            let target = format!("{layer}.{parameter}");
            let shape = network_shapes.get(&target).ok_or_else(|| WeightsError::NotInNetwork { name: target.clone() })?;
            let found = file_shapes.get(source.as_str()).ok_or_else(|| WeightsError::Missing {
                file: file.to_owned(),
                name: source.clone(),
                layer: target.clone(),
            })?;
            // torchvision's linear layers store [out, in]; the convolutions
            // that replace them are [out, in, k, k] with the same numbers.
            let expected = match (module.starts_with("classifier"), shape.as_slice()) {
                (true, [out, rest @ ..]) if parameter == "weight" => vec![*out, rest.iter().product()],
                _ => shape.clone(),
            };
            if **found != expected {
                return Err(WeightsError::WrongShape {
                    file: file.to_owned(),
                    name: source,
                    layer: target,
                    found: found.to_vec(),
                    expected,
                });
            }
            plan.push(Assignment { source, target, shape: shape.clone() });
        }
    }
    let known = |name: &str| {
        plan.iter().any(|a| a.source == name) || name.strip_prefix(TORCHVISION_IGNORED).is_some_and(|r| r.starts_with('.'))
    };
    if let Some(name) = file_shapes.keys().find(|name| !known(name)) {
        return Err(WeightsError::Unexpected { file: file.to_owned(), name: (*name).to_owned() });
    }
    Ok(plan)
}

/// What [`init_from`] did, by variable name (each list sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transfer {
    /// Variables of the new network given the trained network's values.
    pub copied: Vec<String>,
    /// Variables of the new network the trained one does not have: they keep
    /// their initial values (FCN-16s's `score_pool4`, `upscore2`,
    /// `upscore16`).
    pub new: Vec<String>,
    /// Variables of the trained network the new one does not have
    /// (FCN-32s's `upscore`).
    pub unused: Vec<String>,
}

/// Staged training's start: copies into `target` every variable of `trained`
/// with the same name. Fails, before copying anything, if a shared name has
/// two shapes. The two stores may be on different devices.
///
/// The release starts the new skip score layers at zero, so that the finer
/// network first predicts what the coarser one did; the training code does
/// that with the [`Transfer::new`] names.
pub fn init_from(trained: &nn::VarStore, target: &nn::VarStore) -> Result<Transfer, WeightsError> {
    let sources = trained.variables();
    let targets = target.variables();
    for (name, variable) in &targets {
        if let Some(source) = sources.get(name).filter(|s| s.size() != variable.size()) {
            return Err(WeightsError::ShapesDiffer {
                name: name.clone(),
                trained: source.size(),
                target: variable.size(),
            });
        }
    }
    let mut transfer = Transfer::default();
    let _guard = tch::no_grad_guard();
    for (name, variable) in &targets {
        match sources.get(name) {
            Some(source) => {
                variable.shallow_clone().copy_(source);
                transfer.copied.push(name.clone());
            }
            None => transfer.new.push(name.clone()),
        }
    }
    transfer.unused = sources.keys().filter(|name| !targets.contains_key(*name)).cloned().collect();
    for names in [&mut transfer.copied, &mut transfer.new, &mut transfer.unused] {
        names.sort();
    }
    Ok(transfer)
}
