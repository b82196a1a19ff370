//! Each network check is aimed at a mistake students make: a network with
//! that one mistake fails the check, and the reference passes it.

use checks::{Check, Implementation, Mistake, Solutions};
use fcn_common::{Backbone, FcnConfig, FixedUpsampling, VggFeatures, crop};
use fcn_common::values::{self, Results, network_results};
use tch::nn::ModuleT;
use tch::{Device, Tensor, nn};

/// One mistake each, numbered for the const parameter of [`Mutant`].
const PADDING_MISSING: u8 = 0;
const FLOOR_POOLING: u8 = 1;
const NO_RELU_AFTER_FC6: u8 = 2;
const DROPOUT_IN_EVAL: u8 = 3;
const CROP_OFF_BY_ONE: u8 = 4;
const UPSCORE_TRAINABLE_WITH_BIAS: u8 = 5;
const SKIP_ADDED_UNCROPPED: u8 = 6;
const POOL4_INSTEAD_OF_POOL3: u8 = 7;
const BACKBONE_UNDER_A_SUB_PATH: u8 = 8;
/// The crop off by one, in a network that names none of its layers.
const CROP_OFF_BY_ONE_UNNAMED: u8 = 9;
/// pool4 detached on its way into the skip: the right values, but no
/// gradient reaches the backbone through the skip.
const POOL4_SKIP_DETACHED: u8 = 10;
/// FCN-8s at once scaling the skip's scores instead of pool4: the same
/// values while the score layers' biases are zero.
const AT_ONCE_SCALES_SCORES: u8 = 11;
/// Dropout after fc7 at 0.3 instead of 0.5.
const DROPOUT_RATE_0_3: u8 = 12;
/// No dropout after fc6.
const NO_DROPOUT_AFTER_FC6: u8 = 13;
/// Dropout on pool4 too, in training.
const DROPOUT_ON_POOL4: u8 = 14;
/// Dropout on score_fr's scores too, in training.
const DROPOUT_ON_SCORES: u8 = 15;
/// No layers at all: zeros of the output's shape, an answer that computes
/// nothing.
const NO_LAYERS: u8 = 16;
/// PASCAL VOC's 21 classes, whatever the configuration asks for.
const CLASSES_HARD_CODED: u8 = 17;
/// An upsampling layer that computes with a copy of its weight, not the
/// variable it registered: loading or copying weights never reaches it.
const UPSCORE_KEEPS_ITS_OWN_TENSOR: u8 = 18;
/// Every layer declared and wired, and the output scaled by 1e-30: the
/// names, sizes, counts and gradients of a network, computing nothing.
const COMPUTES_NOTHING: u8 = 19;
/// The thirteen convolutions started as Caffe did, N(0, 0.01).
const GAUSSIAN_INIT: u8 = 20;
/// VGG16 hands pool3 and pool4 to the heads detached: the right features,
/// and no gradient back through them.
const POOLS_DETACHED: u8 = 21;
/// fc6's dropout in place, on the output ReLU's backward needs: right in
/// eval mode, a broken backward pass in training mode.
const DROPOUT_IN_PLACE: u8 = 22;
/// The FCN runs its backbone in eval mode always: no dropout in training.
const BACKBONE_ALWAYS_EVAL: u8 = 23;
/// The FCN's head drops fc7 out a second time (an effective rate of 0.75).
const FC7_DROPPED_TWICE: u8 = 24;
/// Dropout per channel (`Dropout2d`, as a popular PyTorch port has it), not
/// per unit.
const CHANNEL_DROPOUT: u8 = 25;
/// Dropout on pool5 too, before fc6.
const DROPOUT_ON_POOL5: u8 = 26;
/// Masks drawn once and used on every pass (here a fixed pattern, which
/// leaves libtorch's generator alone for the tests beside this one; a
/// network that reseeds inside its forward pass does the same).
const SAME_MASKS_EVERY_PASS: u8 = 27;
/// The FCN's head takes fc7 detached in training (say, to train the
/// heads first): fc6, fc7 and the backbone learn through the skips alone,
/// and eval mode shows nothing.
const FC7_DETACHED_IN_TRAINING: u8 = 28;
/// fc6's dropout passes the gradient straight through: the masks on the
/// way forward, none on the way back.
const DROPOUT_STRAIGHT_THROUGH: u8 = 29;

/// `xs`, tapped as `name` unless the mistake is to name nothing.
fn named(mistake: u8, name: &str, xs: Tensor) -> Tensor {
    if mistake == CROP_OFF_BY_ONE_UNNAMED { xs } else { fcn_common::tap(name, xs) }
}

/// The reference networks, written again with the mistake `M` in them.
struct Mutant<const M: u8>;

fn vgg16(path: &nn::Path, config: FcnConfig, mistake: u8) -> Backbone {
    let sub_path = path / "vgg";
    let path = if mistake == BACKBONE_UNDER_A_SUB_PATH { &sub_path } else { path };
    let names = [
        ("conv1_1", 64), ("conv1_2", 64), ("conv2_1", 128), ("conv2_2", 128),
        ("conv3_1", 256), ("conv3_2", 256), ("conv3_3", 256),
        ("conv4_1", 512), ("conv4_2", 512), ("conv4_3", 512),
        ("conv5_1", 512), ("conv5_2", 512), ("conv5_3", 512),
    ];
    let mut in_channels = 3;
    let convs: Vec<(String, nn::Conv2D)> = names
        .iter()
        .map(|&(name, width)| {
            let padding = if name == "conv1_1" && mistake != PADDING_MISSING { 100 } else { 1 };
            let out = config.channels(width);
            let ws_init = if mistake == GAUSSIAN_INIT {
                nn::Init::Randn { mean: 0.0, stdev: 0.01 }
            } else {
                nn::ConvConfig::default().ws_init
            };
            let conv = nn::conv2d(path / name, in_channels, out, 3, nn::ConvConfig { padding, ws_init, ..Default::default() });
            in_channels = out;
            (name.to_owned(), conv)
        })
        .collect();
    let fc6 = nn::conv2d(path / "fc6", in_channels, config.channels(4096), 7, Default::default());
    let fc7 = nn::conv2d(path / "fc7", config.channels(4096), config.channels(4096), 1, Default::default());
    let ceil = mistake != FLOOR_POOLING;
    Backbone::new(move |xs, train| {
        let train = train || mistake == DROPOUT_IN_EVAL;
        let (mut x, mut pool3, mut pool4) = (xs.shallow_clone(), None, None);
        for (name, conv) in &convs {
            x = named(mistake, name, x.apply(conv).relu());
            if matches!(name.as_str(), "conv1_2" | "conv2_2" | "conv3_3" | "conv4_3" | "conv5_3") {
                let pool = format!("pool{}", &name[4..5]);
                x = named(mistake, &pool, x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], ceil));
                match name.as_str() {
                    "conv3_3" if mistake == POOLS_DETACHED => pool3 = Some(x.detach()),
                    "conv4_3" if mistake == POOLS_DETACHED => pool4 = Some(x.detach()),
                    "conv3_3" => pool3 = Some(x.shallow_clone()),
                    "conv4_3" if mistake == DROPOUT_ON_POOL4 => pool4 = Some(x.dropout(0.5, train)),
                    "conv4_3" => pool4 = Some(x.shallow_clone()),
                    _ => {}
                }
            }
        }
        let x = if mistake == DROPOUT_ON_POOL5 { x.dropout(0.5, train) } else { x };
        let x = x.apply(&fc6);
        let x = if mistake == NO_RELU_AFTER_FC6 { x } else { x.relu() };
        let x = match mistake {
            NO_DROPOUT_AFTER_FC6 => x,
            DROPOUT_IN_PLACE => {
                let mut x = x;
                let _ = x.dropout_(0.5, train);
                x
            }
            CHANNEL_DROPOUT => x.feature_dropout(0.5, train),
            SAME_MASKS_EVERY_PASS if train => fixed_mask_dropout(&x),
            DROPOUT_STRAIGHT_THROUGH => &x + (x.dropout(0.5, train) - &x).detach(),
            _ => x.dropout(0.5, train),
        };
        let x = named(mistake, "fc6", x);
        let rate = if mistake == DROPOUT_RATE_0_3 { 0.3 } else { 0.5 };
        let x = x.apply(&fc7).relu();
        let x = match mistake {
            CHANNEL_DROPOUT => x.feature_dropout(rate, train),
            SAME_MASKS_EVERY_PASS if train => fixed_mask_dropout(&x),
            _ => x.dropout(rate, train),
        };
        let fc7 = named(mistake, "fc7", x);
        VggFeatures { pool3: pool3.unwrap(), pool4: pool4.unwrap(), fc7 }
    })
}

/// Dropout at 0.5 with the same mask on every pass: a fixed pattern of
/// kept units, scaled by 2.
fn fixed_mask_dropout(x: &Tensor) -> Tensor {
    let index = Tensor::arange(x.numel() as i64, (tch::Kind::Int64, x.device()));
    let kept = (index * 2_654_435_761i64).remainder(1000).lt(500).to_kind(x.kind()).view_as(x);
    x * kept * 2.0
}

fn upsampling(path: &nn::Path, channels: i64, stride: i64, mistake: u8) -> Box<dyn nn::Module> {
    if mistake == UPSCORE_TRAINABLE_WITH_BIAS {
        let k = fcn_common::upsampling_kernel_size(stride);
        let config = nn::ConvTransposeConfig { stride, ..Default::default() };
        Box::new(nn::conv_transpose2d(path, channels, channels, k, config))
    } else if mistake == UPSCORE_KEEPS_ITS_OWN_TENSOR {
        let layer = Solutions::bilinear_upsampling(path, channels, stride);
        Box::new(FixedUpsampling { weight: layer.weight.copy(), stride })
    } else {
        Box::new(Solutions::bilinear_upsampling(path, channels, stride))
    }
}

fn fcn(path: &nn::Path, config: FcnConfig, eight: bool, scales: (f64, f64), mistake: u8) -> nn::FuncT<'static> {
    if mistake == NO_LAYERS {
        let classes = config.classes;
        return nn::func_t(move |xs, _| {
            let size = xs.size();
            Tensor::zeros([size[0], classes, size[2], size[3]], (xs.kind(), xs.device()))
        });
    }
    if mistake == COMPUTES_NOTHING {
        let real = fcn(path, config, eight, scales, 255);
        return nn::func_t(move |xs, train| real.forward_t(xs, train) * 1e-30);
    }
    let config = if mistake == CLASSES_HARD_CODED { FcnConfig { classes: 21, ..config } } else { config };
    let backbone = vgg16(path, config, mistake);
    let conv1x1 = |name: &str, channels| nn::conv2d(path / name, channels, config.classes, 1, Default::default());
    let score_fr = conv1x1("score_fr", config.channels(4096));
    let score_pool4 = conv1x1("score_pool4", config.channels(512));
    let pool3_channels = if mistake == POOL4_INSTEAD_OF_POOL3 { 512 } else { 256 };
    let score_pool3 = eight.then(|| conv1x1("score_pool3", config.channels(pool3_channels)));
    let upscore2 = upsampling(&(path / "upscore2"), config.classes, 2, mistake);
    let last = if eight { ("upscore_pool4", 2) } else { ("upscore16", 16) };
    let upscore_next = upsampling(&(path / last.0), config.classes, last.1, mistake);
    let upscore8 = eight.then(|| upsampling(&(path / "upscore8"), config.classes, 8, mistake));
    let pool4_crop = match mistake {
        CROP_OFF_BY_ONE | CROP_OFF_BY_ONE_UNNAMED => 6,
        SKIP_ADDED_UNCROPPED => 0,
        _ => 5,
    };
    nn::func_t(move |xs, train| {
        let f = backbone.forward_t(xs, train && mistake != BACKBONE_ALWAYS_EVAL);
        let fc7 = match mistake {
            FC7_DROPPED_TWICE => f.fc7.dropout(0.5, train),
            FC7_DETACHED_IN_TRAINING if train => f.fc7.detach(),
            _ => f.fc7.shallow_clone(),
        };
        let scores = fc7.apply(&score_fr);
        let scores = if mistake == DROPOUT_ON_SCORES { scores.dropout(0.5, train) } else { scores };
        let coarse = named(mistake, "upscore2", upscore2.forward(&named(mistake, "score_fr", scores)));
        let skip = match mistake {
            POOL4_SKIP_DETACHED => (f.pool4.detach() * scales.0).apply(&score_pool4),
            AT_ONCE_SCALES_SCORES => f.pool4.apply(&score_pool4) * scales.0,
            _ => (&f.pool4 * scales.0).apply(&score_pool4),
        };
        let skip = named(mistake, "score_pool4", skip);
        let fused = named(mistake, "fuse_pool4", &coarse + named(mistake, "score_pool4c", crop(&skip, &coarse, pool4_crop)));
        let fused = upscore_next.forward(&fused);
        match (&score_pool3, &upscore8) {
            (Some(score_pool3), Some(upscore8)) => {
                let skip = if mistake == POOL4_INSTEAD_OF_POOL3 { &f.pool4 } else { &f.pool3 };
                let skip = (skip * scales.1).apply(score_pool3);
                let fused = &fused + crop(&skip, &fused, 9);
                crop(&upscore8.forward(&fused), xs, 31)
            }
            _ => crop(&fused, xs, 27),
        }
    })
}

impl<const M: u8> Mistake for Mutant<M> {
    fn vgg16(path: &nn::Path, config: FcnConfig) -> Backbone {
        vgg16(path, config, M)
    }
    fn fcn16s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        fcn(path, config, false, (1.0, 1.0), M)
    }
    fn fcn8s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        fcn(path, config, true, (1.0, 1.0), M)
    }
    fn fcn8s_atonce(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        fcn(path, config, true, (0.01, 0.0001), M)
    }
}

/// The check named `name`, for implementation `I`.
fn check<I: Implementation>(name: &str) -> Check {
    checks::suite::<I>().into_iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no check named {name:?}"))
}

/// Asserts that the check `name` fails on `Mutant<M>` and passes on the
/// reference.
fn caught<const M: u8>(name: &str) {
    assert!(checks::run(&check::<Solutions>(name)).passed(), "the reference fails {name:?}");
    let status = checks::run(&check::<Mutant<M>>(name));
    assert!(!status.passed(), "mistake {M} passes {name:?}");
}

#[test]
fn a_mistake_free_rewrite_passes_every_network_check() {
    // Mistake number 255 is none: proves the rewrite itself is right, so that
    // each failure below comes from its one mistake.
    for check in checks::networks::vgg_checks::<Mutant<255>>().iter().chain(&checks::networks::fcn_checks::<Mutant<255>>()) {
        let status = checks::run(check);
        assert!(status.passed(), "{check:?}: {status:?}");
    }
}

#[test]
fn padding_100_missing_is_caught() {
    caught::<PADDING_MISSING>("feature sizes for a 500x500 image");
    caught::<PADDING_MISSING>("FCN-8s: output size equals input size");
}

#[test]
fn floor_pooling_is_caught() {
    caught::<FLOOR_POOLING>("feature sizes for a 500x500 image");
    caught::<FLOOR_POOLING>("FCN-16s: output size equals input size");
}

#[test]
fn no_relu_after_fc6_is_caught() {
    caught::<NO_RELU_AFTER_FC6>("same features as the reference on the same weights");
}

#[test]
fn dropout_in_eval_is_caught() {
    caught::<DROPOUT_IN_EVAL>("dropout in training only");
}

#[test]
fn crop_off_by_one_is_caught() {
    caught::<CROP_OFF_BY_ONE>("FCN-16s: same output as the reference on the same weights");
}

#[test]
fn upscore_layers_that_are_not_there_are_not_fixed() {
    caught::<NO_LAYERS>("FCN-16s: upscore layers fixed, no bias");
    caught::<NO_LAYERS>("FCN-8s: upscore layers fixed, no bias");
    assert!(reason::<NO_LAYERS>("FCN-16s: upscore layers fixed, no bias").contains("there is no upscore"));
}

#[test]
fn an_upsampling_layer_that_ignores_its_variable_is_caught() {
    caught::<UPSCORE_KEEPS_ITS_OWN_TENSOR>("FCN-16s: same output as the reference on the same weights");
    caught::<UPSCORE_KEEPS_ITS_OWN_TENSOR>("FCN-8s: same output as the reference on the same weights");
}

#[test]
fn a_network_that_computes_nothing_earns_no_point() {
    let passed: Vec<&str> = checks::networks::fcn_checks::<Mutant<COMPUTES_NOTHING>>()
        .iter()
        .filter(|c| checks::run(c).passed())
        .map(|c| c.name)
        .collect();
    assert!(passed.is_empty(), "a network that computes nothing passes {passed:?}");
}

#[test]
fn caffes_gaussian_initialisation_is_caught_by_that_check_alone() {
    let failed: Vec<&str> = checks::networks::vgg_checks::<Mutant<GAUSSIAN_INIT>>()
        .iter()
        .filter(|c| !checks::run(c).passed())
        .map(|c| c.name)
        .collect();
    assert_eq!(failed, ["layers start as tch's defaults: Kaiming-uniform weights, zero biases"]);
    let why = reason::<GAUSSIAN_INIT>("layers start as tch's defaults: Kaiming-uniform weights, zero biases");
    assert!(why.contains("conv1_1.weight") && why.contains("Kaiming-uniform"), "{why}");
}

#[test]
fn a_class_count_hard_coded_is_caught() {
    for network in ["FCN-16s", "FCN-8s"] {
        caught::<CLASSES_HARD_CODED>(&format!("{network}: output size equals input size"));
        caught::<CLASSES_HARD_CODED>(&format!("{network}: same output as the reference on the same weights"));
    }
}

#[test]
fn trainable_upscore_with_bias_is_caught() {
    caught::<UPSCORE_TRAINABLE_WITH_BIAS>("FCN-16s: upscore layers fixed, no bias");
    caught::<UPSCORE_TRAINABLE_WITH_BIAS>("FCN-8s: parameter counts at full width");
}

/// The reason `name` gives for `Mutant<M>`.
fn reason<const M: u8>(name: &str) -> String {
    checks::run(&check::<Mutant<M>>(name)).detail().unwrap_or_else(|| panic!("mistake {M} passes {name:?}"))
}

#[test]
fn a_wrong_output_is_traced_to_the_first_named_layer_that_differs() {
    let crop = reason::<CROP_OFF_BY_ONE>("FCN-16s: same output as the reference on the same weights");
    assert!(crop.contains("The first named layer that differs is score_pool4c"), "{crop}");
    assert!(crop.contains("every layer you named before it agrees (the last: score_pool4)"), "{crop}");
    assert!(crop.contains("of shape [2, ") && crop.contains("largest difference"), "{crop}");
    let relu = reason::<NO_RELU_AFTER_FC6>("same features as the reference on the same weights");
    assert!(relu.contains("The first named layer that differs is fc6"), "{relu}");
    assert!(relu.contains("(the last: pool5)"), "{relu}");
    let unnamed = reason::<CROP_OFF_BY_ONE_UNNAMED>("FCN-16s: same output as the reference on the same weights");
    assert!(unnamed.contains("Name your layers' outputs with fcn_common::tap"), "{unnamed}");
}

#[test]
fn a_skip_that_passes_no_gradient_is_caught_by_its_gradients_alone() {
    let forward = "FCN-16s: same output as the reference on the same weights";
    let mutant = checks::run(&check::<Mutant<POOL4_SKIP_DETACHED>>(forward));
    assert!(mutant.passed(), "the detached skip computes the right values: {mutant:?}");
    caught::<POOL4_SKIP_DETACHED>("FCN-16s: same parameter gradients as the reference on the same weights");
    let why = reason::<POOL4_SKIP_DETACHED>("FCN-16s: same parameter gradients as the reference on the same weights");
    assert!(why.contains("conv4_3.weight") && why.contains("differ from the reference's"), "{why}");
    assert!(!why.contains("score_fr"), "score_fr's gradient is right: {why}");
    assert!(why.contains("reaches conv4_3 through the pool4 skip is wrong"), "{why}");
}

#[test]
fn pools_handed_on_detached_are_caught_by_vgg16s_own_gradients() {
    let gradients = "same parameter gradients as the reference, through pool3, pool4 and fc7";
    assert!(checks::run(&check::<Mutant<POOLS_DETACHED>>("same features as the reference on the same weights")).passed());
    caught::<POOLS_DETACHED>(gradients);
    let why = reason::<POOLS_DETACHED>(gradients);
    assert!(why.contains("conv3_3.weight") && !why.contains("fc7.weight"), "{why}");
}

#[test]
fn dropout_in_place_is_caught_in_training_mode_alone() {
    let training = "backward pass in training mode reaches every parameter";
    assert!(checks::run(&check::<Mutant<DROPOUT_IN_PLACE>>("same parameter gradients as the reference, through pool3, pool4 and fc7")).passed());
    caught::<DROPOUT_IN_PLACE>(training);
}

const FCN_DROPOUT: &str =
    "FCN-16s, FCN-8s, FCN-8s at once: dropout inside each as the release's (after fc6 and fc7, per unit, new masks every pass)";

#[test]
fn dropout_mistakes_inside_the_fcns_are_caught() {
    for (mistake, says) in [
        (reason::<BACKBONE_ALWAYS_EVAL>(FCN_DROPOUT), "mean square"),
        (reason::<FC7_DROPPED_TWICE>(FCN_DROPOUT), "mean square"),
        (reason::<CHANNEL_DROPOUT>(FCN_DROPOUT), "than the release's"),
        (reason::<DROPOUT_ON_POOL5>(FCN_DROPOUT), "mean square"),
        (reason::<SAME_MASKS_EVERY_PASS>(FCN_DROPOUT), "the same masks"),
    ] {
        assert!(mistake.contains(says), "{mistake}");
    }
    // VGG16's own dropout check does not see the FCN's head or its mode.
    let vgg = "dropout after fc6 and fc7 at the paper's rate, inverted, nothing else random";
    for status in [
        checks::run(&check::<Mutant<BACKBONE_ALWAYS_EVAL>>(vgg)),
        checks::run(&check::<Mutant<FC7_DROPPED_TWICE>>(vgg)),
    ] {
        assert!(status.passed(), "{status:?}");
    }
}

#[test]
fn dropout_at_another_rate_missing_after_fc6_or_elsewhere_is_caught() {
    let rate = "dropout after fc6 and fc7 at the paper's rate, inverted, nothing else random";
    caught::<DROPOUT_RATE_0_3>(rate);
    caught::<NO_DROPOUT_AFTER_FC6>(rate);
    caught::<DROPOUT_ON_POOL4>(rate);
    assert!(reason::<DROPOUT_RATE_0_3>(rate).contains("fc7 ignoring fc6"), "{}", reason::<DROPOUT_RATE_0_3>(rate));
    assert!(reason::<NO_DROPOUT_AFTER_FC6>(rate).contains("fc7 passing fc6's units through"));
    assert!(reason::<DROPOUT_ON_POOL4>(rate).contains("pool4 differs between training and eval mode"));
    // The public check sees dropout in all three, and passes them.
    for passes in [
        checks::run(&check::<Mutant<DROPOUT_RATE_0_3>>("dropout in training only")),
        checks::run(&check::<Mutant<NO_DROPOUT_AFTER_FC6>>("dropout in training only")),
    ] {
        assert!(passes.passed(), "{passes:?}");
    }
}

#[test]
fn dropout_after_the_backbone_is_caught() {
    let heads = "nothing random in training mode beyond fc6 and fc7's dropout";
    caught::<DROPOUT_ON_SCORES>(heads);
    assert!(reason::<DROPOUT_ON_SCORES>(heads).contains("FCN-16s's output in training mode"), "{}", reason::<DROPOUT_ON_SCORES>(heads));
    // Eval mode never sees it: every other check of the heads passes it.
    for name in [
        "FCN-16s: same output as the reference on the same weights",
        "FCN-8s: same parameter gradients as the reference on the same weights",
        "dropout after fc6 and fc7 at the paper's rate, inverted, nothing else random",
    ] {
        let status = checks::run(&check::<Mutant<DROPOUT_ON_SCORES>>(name));
        assert!(status.passed(), "{name}: {status:?}");
    }
}

#[test]
fn at_once_scaling_the_scores_is_caught() {
    caught::<AT_ONCE_SCALES_SCORES>("FCN-8s at once: same output as the reference");
    caught::<AT_ONCE_SCALES_SCORES>("FCN-8s at once: same parameter gradients as the reference");
}

#[test]
fn skip_added_without_aligning_crop_is_caught() {
    caught::<SKIP_ADDED_UNCROPPED>("FCN-8s: same output as the reference on the same weights");
}

#[test]
fn pool4_instead_of_pool3_is_caught() {
    caught::<POOL4_INSTEAD_OF_POOL3>("FCN-8s: layer names and shapes");
    caught::<POOL4_INSTEAD_OF_POOL3>("FCN-8s: same output as the reference on the same weights");
}

#[test]
fn backbone_under_a_sub_path_is_caught() {
    caught::<BACKBONE_UNDER_A_SUB_PATH>("pre-trained VGG16 weights load by name");
    caught::<BACKBONE_UNDER_A_SUB_PATH>("FCN-16s: starts from a trained FCN-32s by name");
    caught::<BACKBONE_UNDER_A_SUB_PATH>("FCN-8s: starts from a trained FCN-16s by name");
}

type Build = fn(&nn::Path, FcnConfig) -> nn::FuncT<'static>;

/// What the students' public value test of `file` says of a network.
fn public_values(build: Build, file: &str) -> Result<(), String> {
    let store = nn::VarStore::new(Device::Cpu);
    let net = build(&store.root(), FcnConfig::narrow(16));
    let results = network_results(&store, |image| {
        let mut output = Results::new();
        output.add("output", &net.forward_t(image, false));
        output
    });
    values::check(&results, file)
}

#[test]
fn the_public_value_tests_catch_the_mistakes_that_change_values() {
    for (build, file) in [
        (<Mutant<255> as Mistake>::fcn16s as Build, "fcn16s"),
        (<Mutant<255> as Mistake>::fcn8s, "fcn8s"),
        (<Mutant<255> as Mistake>::fcn8s_atonce, "fcn8s_atonce"),
    ] {
        assert_eq!(public_values(build, file), Ok(()), "the mistake-free rewrite, {file}");
    }
    for (mistake, build, file, first) in [
        (FLOOR_POOLING, <Mutant<FLOOR_POOLING> as Mistake>::fcn16s as Build, "fcn16s", "is pool2: yours has shape"),
        (NO_RELU_AFTER_FC6, <Mutant<NO_RELU_AFTER_FC6> as Mistake>::fcn16s, "fcn16s", "is fc6: the shape"),
        (DROPOUT_IN_EVAL, <Mutant<DROPOUT_IN_EVAL> as Mistake>::fcn16s, "fcn16s", "is fc6: the shape"),
        (CROP_OFF_BY_ONE, <Mutant<CROP_OFF_BY_ONE> as Mistake>::fcn16s, "fcn16s", "is score_pool4c: the shape"),
        (CROP_OFF_BY_ONE, <Mutant<CROP_OFF_BY_ONE> as Mistake>::fcn8s, "fcn8s", "is score_pool4c: the shape"),
        (AT_ONCE_SCALES_SCORES, <Mutant<AT_ONCE_SCALES_SCORES> as Mistake>::fcn8s_atonce, "fcn8s_atonce", "is score_pool4: the shape"),
    ] {
        let message = public_values(build, file).expect_err(&format!("mistake {mistake} passes the public {file} values"));
        assert!(message.contains(first), "mistake {mistake}, {file}: {message}");
    }
}



/// The training-mode gradient check, under the same dropout masks.
const SAME_GRADIENTS_IN_TRAINING: &str = "FCN-16s, FCN-8s, FCN-8s at once: same output and parameter gradients as the \
                                          reference in training mode, under the same dropout masks";

#[test]
fn fc7_detached_in_training_is_caught_in_training_mode_alone() {
    caught::<FC7_DETACHED_IN_TRAINING>(SAME_GRADIENTS_IN_TRAINING);
    let why = reason::<FC7_DETACHED_IN_TRAINING>(SAME_GRADIENTS_IN_TRAINING);
    assert!(why.contains("in training mode") && why.contains("no gradient reaches") && why.contains("fc7.weight"), "{why}");
    for passed in [
        "FCN-8s: same parameter gradients as the reference on the same weights",
        "FCN-8s: gradient reaches conv1_1 and every score layer",
        "backward pass in training mode reaches every parameter",
    ] {
        let status = checks::run(&check::<Mutant<FC7_DETACHED_IN_TRAINING>>(passed));
        assert!(status.passed(), "{passed:?}: {status:?}");
    }
}

#[test]
fn a_dropout_that_passes_gradients_straight_through_is_caught_in_training_mode_alone() {
    caught::<DROPOUT_STRAIGHT_THROUGH>(SAME_GRADIENTS_IN_TRAINING);
    let why = reason::<DROPOUT_STRAIGHT_THROUGH>(SAME_GRADIENTS_IN_TRAINING);
    assert!(why.contains("in training mode") && why.contains("differ from the reference's"), "{why}");
    for passed in [
        "same parameter gradients as the reference, through pool3, pool4 and fc7",
        "backward pass in training mode reaches every parameter",
        "FCN-16s, FCN-8s, FCN-8s at once: dropout inside each as the release's (after fc6 and fc7, per unit, new masks every pass)",
    ] {
        let status = checks::run(&check::<Mutant<DROPOUT_STRAIGHT_THROUGH>>(passed));
        assert!(status.passed(), "{passed:?}: {status:?}");
    }
}
