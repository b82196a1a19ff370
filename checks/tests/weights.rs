//! Loading pre-trained VGG16 weights and staged initialisation: the given
//! code in `fcn_common::weights`, on the reference networks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use checks::networks::write_torchvision_vgg16;
use fcn_common::weights::{TORCHVISION_VGG16_LAYERS, torchvision_vgg16_plan};
use fcn_common::{FcnConfig, WeightsError, init_from, load_torchvision_vgg16};
use tch::{Device, Kind, Tensor, nn};

/// The reference's exercise 2 conversion of a fully connected layer.
const AS_CONV: fcn_common::AsConv = solutions::vgg::fully_connected_as_conv;

fn store() -> nn::VarStore {
    nn::VarStore::new(Device::Cpu)
}

fn shapes(store: &nn::VarStore) -> BTreeMap<String, Vec<i64>> {
    store.variables().into_iter().map(|(name, t)| (name, t.size())).collect()
}

/// A torchvision VGG16 file at width / 16 (seed 1) in a folder of its own,
/// kept while the folder is, and the configuration it fits.
fn narrow_file() -> (tempfile::TempDir, PathBuf, FcnConfig) {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("vgg16.safetensors");
    let config = FcnConfig::narrow(16);
    write_torchvision_vgg16(&file, config, 1).unwrap();
    (folder, file, config)
}

/// The file's tensors, by name.
fn read(file: &Path) -> BTreeMap<String, Tensor> {
    Tensor::read_safetensors(file).unwrap().into_iter().collect()
}

#[test]
fn a_narrow_torchvision_file_fills_the_backbone_by_name() {
    let (_folder, file, config) = narrow_file();
    let vs = store();
    let _net = solutions::fcn32s::fcn32s(&vs.root(), config);
    let score_fr_before = vs.variables()["score_fr.weight"].copy();

    let plan = load_torchvision_vgg16(&vs, &file, AS_CONV).unwrap();

    assert_eq!(plan.len(), 30, "13 convolutions and fc6, fc7: a weight and a bias each");
    let file = read(&file);
    let variables = vs.variables();
    for (module, layer) in TORCHVISION_VGG16_LAYERS {
        for parameter in ["weight", "bias"] {
            let source = &file[&format!("{module}.{parameter}")];
            let target = &variables[&format!("{layer}.{parameter}")];
            assert!(target.flatten(0, -1).equal(&source.flatten(0, -1)), "{layer}.{parameter} != {module}.{parameter}");
        }
    }
    // fc6's kernel for output 3, input channel 2, row 4, column 5 is entry
    // 2 * 49 + 4 * 7 + 5 of classifier.0's row 3: PyTorch's flatten order.
    let fc6 = &variables["fc6.weight"];
    assert_eq!(fc6.size(), [256, 32, 7, 7]);
    assert_eq!(fc6.double_value(&[3, 2, 4, 5]), file["classifier.0.weight"].double_value(&[3, 2 * 49 + 4 * 7 + 5]));
    assert_eq!(variables["fc7.weight"].size(), [256, 256, 1, 1]);
    assert!(variables["score_fr.weight"].equal(&score_fr_before), "loading touched a layer that is not VGG16's");
}

/// torchvision.models.vgg16().state_dict(): every name and shape.
fn torchvision_vgg16_full_width() -> Vec<(String, Vec<i64>)> {
    let convs: [(usize, i64, i64); 13] = [
        (0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256), (12, 256, 256), (14, 256, 256),
        (17, 256, 512), (19, 512, 512), (21, 512, 512), (24, 512, 512), (26, 512, 512), (28, 512, 512),
    ];
    let mut tensors = Vec::new();
    for (index, inputs, outputs) in convs {
        tensors.push((format!("features.{index}.weight"), vec![outputs, inputs, 3, 3]));
        tensors.push((format!("features.{index}.bias"), vec![outputs]));
    }
    for (index, inputs, outputs) in [(0, 25088, 4096), (3, 4096, 4096), (6, 4096, 1000)] {
        tensors.push((format!("classifier.{index}.weight"), vec![outputs, inputs]));
        tensors.push((format!("classifier.{index}.bias"), vec![outputs]));
    }
    tensors
}

#[test]
fn torchvision_names_and_shapes_fit_the_full_width_backbone() {
    let vs = store();
    let _vgg = solutions::vgg::vgg16(&vs.root(), FcnConfig::default());
    let plan = torchvision_vgg16_plan(Path::new("vgg16.safetensors"), &torchvision_vgg16_full_width(), &shapes(&vs))
        .unwrap();
    let fc6 = plan.iter().find(|a| a.source == "classifier.0.weight").unwrap();
    assert_eq!((fc6.target.as_str(), fc6.shape.as_slice()), ("fc6.weight", &[4096, 512, 7, 7][..]));
    let fc7 = plan.iter().find(|a| a.source == "classifier.3.weight").unwrap();
    assert_eq!((fc7.target.as_str(), fc7.shape.as_slice()), ("fc7.weight", &[4096, 4096, 1, 1][..]));
    let conv5_3 = plan.iter().find(|a| a.source == "features.28.bias").unwrap();
    assert_eq!((conv5_3.target.as_str(), conv5_3.shape.as_slice()), ("conv5_3.bias", &[512][..]));
    assert!(plan.iter().all(|a| !a.source.starts_with("classifier.6")), "ImageNet's classifier is not loaded");
}

fn full_width_plan_of(file: Vec<(String, Vec<i64>)>) -> Result<(), WeightsError> {
    let vs = store();
    let _vgg = solutions::vgg::vgg16(&vs.root(), FcnConfig::narrow(1));
    torchvision_vgg16_plan(Path::new("weights/vgg16.safetensors"), &file, &shapes(&vs)).map(drop)
}

#[test]
fn a_missing_tensor_is_named() {
    let file: Vec<_> = torchvision_vgg16_full_width().into_iter().filter(|(n, _)| n != "features.14.bias").collect();
    let error = full_width_plan_of(file).unwrap_err().to_string();
    assert!(error.contains("weights/vgg16.safetensors has no tensor features.14.bias"), "{error}");
    assert!(error.contains("conv3_3.bias"), "{error}");
}

#[test]
fn a_wrong_shape_is_named_with_both_shapes() {
    let mut file = torchvision_vgg16_full_width();
    file.iter_mut().find(|(n, _)| n == "classifier.0.weight").unwrap().1 = vec![4096, 9216];
    let error = full_width_plan_of(file).unwrap_err().to_string();
    assert!(error.contains("classifier.0.weight has shape [4096, 9216]"), "{error}");
    assert!(error.contains("fc6.weight needs [4096, 25088]"), "{error}");
}

#[test]
fn batch_norm_weights_are_refused() {
    let mut file = torchvision_vgg16_full_width();
    file.push(("features.1.running_mean".to_owned(), vec![64]));
    let error = full_width_plan_of(file).unwrap_err().to_string();
    assert!(error.contains("features.1.running_mean"), "{error}");
    assert!(error.contains("no batch norm"), "{error}");
}

#[test]
fn a_network_without_the_backbone_names_is_refused() {
    let vs = store();
    let _vgg = solutions::vgg::vgg16(&(vs.root() / "backbone"), FcnConfig::default());
    let error = torchvision_vgg16_plan(Path::new("vgg16.safetensors"), &torchvision_vgg16_full_width(), &shapes(&vs))
        .unwrap_err()
        .to_string();
    assert!(error.contains("no variable conv1_1.weight"), "{error}");
}

#[test]
fn a_file_that_is_not_safetensors_is_named() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("vgg16.pth");
    std::fs::write(&file, b"PK\x03\x04 a zip archive, as torch.save writes").unwrap();
    let error = load_torchvision_vgg16(&store(), &file, AS_CONV).unwrap_err();
    assert!(matches!(error, WeightsError::NotSafetensors { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("vgg16.pth") && message.contains("save_file"), "{message}");

    let absent = folder.path().join("absent.safetensors");
    let message = load_torchvision_vgg16(&store(), &absent, AS_CONV).unwrap_err().to_string();
    assert!(message.contains("absent.safetensors"), "{message}");
}

#[test]
fn a_conversion_that_gives_another_shape_is_named() {
    let (_folder, file, config) = narrow_file();
    let vs = store();
    let _vgg = solutions::vgg::vgg16(&vs.root(), config);
    fn flat(weight: &Tensor, _: i64, _: i64) -> Tensor {
        weight.unsqueeze(-1).unsqueeze(-1)
    }
    let message = load_torchvision_vgg16(&vs, &file, flat).unwrap_err().to_string();
    assert!(message.contains("classifier.0.weight") && message.contains("[256, 1568, 1, 1]"), "{message}");
    assert!(message.contains("fc6.weight") && message.contains("[256, 32, 7, 7]"), "{message}");
}

#[test]
fn integer_tensors_are_refused() {
    let (_folder, file, config) = narrow_file();
    let mut tensors: Vec<(String, Tensor)> = Tensor::read_safetensors(&file).unwrap();
    for (name, tensor) in &mut tensors {
        if name == "features.0.weight" {
            *tensor = tensor.to_kind(Kind::Int);
        }
    }
    Tensor::write_safetensors(&tensors, &file).unwrap();
    let vs = store();
    let _vgg = solutions::vgg::vgg16(&vs.root(), config);
    let message = load_torchvision_vgg16(&vs, &file, AS_CONV).unwrap_err().to_string();
    assert!(message.contains("features.0.weight holds Int"), "{message}");
}

#[test]
fn fcn16s_starts_from_fcn32s_and_fcn8s_from_fcn16s() {
    let config = FcnConfig::narrow(16);
    tch::manual_seed(3);
    let (vs32, vs16, vs8) = (store(), store(), store());
    let _n32 = solutions::fcn32s::fcn32s(&vs32.root(), config);
    let _n16 = solutions::fcn16s::fcn16s(&vs16.root(), config);
    let _n8 = solutions::fcn8s::fcn8s(&vs8.root(), config);

    let transfer = init_from(&vs32, &vs16).unwrap();
    assert_eq!(transfer.new, ["score_pool4.bias", "score_pool4.weight", "upscore16.weight", "upscore2.weight"]);
    assert_eq!(transfer.unused, ["upscore.weight"]);
    assert_eq!(transfer.copied.len(), 32, "the backbone's 30 variables and score_fr's 2");
    let (from, to) = (vs32.variables(), vs16.variables());
    for name in &transfer.copied {
        assert!(to[name].equal(&from[name]), "{name} not copied");
    }
    assert!(to["score_fr.weight"].requires_grad(), "a copied variable stays trainable");

    let transfer = init_from(&vs16, &vs8).unwrap();
    assert_eq!(transfer.new, ["score_pool3.bias", "score_pool3.weight", "upscore8.weight", "upscore_pool4.weight"]);
    assert_eq!(transfer.unused, ["upscore16.weight"]);
    assert!(vs8.variables()["score_pool4.weight"].equal(&vs16.variables()["score_pool4.weight"]));
}

#[test]
fn staged_initialisation_refuses_other_class_counts() {
    let (vs32, vs16) = (store(), store());
    let _n32 = solutions::fcn32s::fcn32s(&vs32.root(), FcnConfig { classes: 21, width_divisor: 16 });
    let _n16 = solutions::fcn16s::fcn16s(&vs16.root(), FcnConfig { classes: 5, width_divisor: 16 });
    let before = vs16.variables()["conv1_1.weight"].copy();
    let message = init_from(&vs32, &vs16).unwrap_err().to_string();
    assert!(message.contains("score_fr."), "{message}");
    assert!(message.contains("same classes"), "{message}");
    assert!(vs16.variables()["conv1_1.weight"].equal(&before), "nothing is copied when a shape differs");
}

/// The pre-training run's classifier (fcn-train's `pretraining`) is saved in
/// torchvision's layout: an FCN loads it as it loads ImageNet's VGG16, fc6
/// and fc7 made convolutions, its own classifier (`classifier.6`) left out.
#[test]
fn the_pre_training_run_s_classifier_loads_as_torchvision_s_vgg16() {
    use fcn_train::pretraining;
    let config = FcnConfig { classes: 5, width_divisor: 16 };
    let classifier_store = store();
    let classifier = pretraining::classifier(&classifier_store.root(), config);
    let images = Tensor::randn([2, 3, 224, 224], (Kind::Float, Device::Cpu));
    let scores = {
        let _guard = tch::no_grad_guard();
        nn::ModuleT::forward_t(&classifier, &images, false)
    };
    assert_eq!(scores.size(), [2, pretraining::object_classes()], "a score per object class and image");

    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("classifier.safetensors");
    pretraining::save(&classifier_store, &file).unwrap();
    let vs = store();
    let _net = solutions::fcn32s::fcn32s(&vs.root(), config);
    let plan = load_torchvision_vgg16(&vs, &file, AS_CONV).unwrap();
    assert_eq!(plan.len(), 30, "13 convolutions and fc6, fc7: a weight and a bias each");
    let (ours, theirs) = (vs.variables(), classifier_store.variables());
    assert!(ours["fc6.weight"].flatten(1, -1).equal(&theirs["classifier.0.weight"]), "fc6 is the classifier's first layer");
    assert!(ours["conv5_3.bias"].equal(&theirs["features.28.bias"]), "conv5_3 is torchvision's features.28");
}
