//! Exercise 2, VGG16 made fully convolutional: the public tests.
//!
//! Run them with `cargo test -p exercises --test vgg`. Most use a narrow
//! network (every width divided by 16), which has the same layers, names and
//! spatial sizes as the real one and runs in a fraction of the time.

use exercises::vgg::{fully_connected_as_conv, vgg16};
use fcn_common::FcnConfig;
use fcn_common::values::{Results, assert_matches, network_results};
use tch::{Device, Kind, Tensor, nn};

fn image(h: i64, w: i64) -> Tensor {
    Tensor::randn([1, 3, h, w], (Kind::Float, Device::Cpu)) * 50.0
}

/// The architecture listing at the paper's width: every variable's name and
/// shape, in name order. The snapshot file `snapshots/vgg16_listing.snap` is
/// the listing the release has.
#[test]
fn variables_are_named_and_shaped_as_in_the_release() {
    let store = nn::VarStore::new(Device::Cpu);
    let _vgg = vgg16(&store.root(), FcnConfig::default());
    let mut listing: Vec<_> = store.variables().into_iter().map(|(name, t)| format!("{name} {:?}", t.size())).collect();
    listing.sort();
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("vgg16_listing", listing.join("\n"));
    });
}

#[test]
fn features_for_a_500x500_image_have_the_paper_sizes() {
    let store = nn::VarStore::new(Device::Cpu);
    let vgg = vgg16(&store.root(), FcnConfig::narrow(16));
    let features = vgg.forward_t(&image(500, 500), false);
    assert_eq!(features.pool3.size()[2..], [88, 88], "pool3 should be 88x88 for a 500x500 image");
    assert_eq!(features.pool4.size()[2..], [44, 44], "pool4 should be 44x44 for a 500x500 image");
    assert_eq!(features.fc7.size()[2..], [16, 16], "fc7 should be 16x16 for a 500x500 image");
}

#[test]
fn tiny_images_go_through() {
    let store = nn::VarStore::new(Device::Cpu);
    let vgg = vgg16(&store.root(), FcnConfig::narrow(16));
    for size in [1, 2, 31] {
        let fc7 = vgg.forward_t(&image(size, size), false).fc7;
        assert!(fc7.size()[2] >= 1, "a {size}x{size} image should give at least one fc7 position");
    }
}

#[test]
fn dropout_is_active_in_training_only() {
    let store = nn::VarStore::new(Device::Cpu);
    let vgg = vgg16(&store.root(), FcnConfig::narrow(16));
    let xs = image(64, 64);
    let eval = vgg.forward_t(&xs, false).fc7;
    assert!(eval.equal(&vgg.forward_t(&xs, false).fc7), "eval mode should be deterministic: is dropout on?");
    assert!(!eval.equal(&vgg.forward_t(&xs, true).fc7), "training mode should drop units: is dropout missing?");
}

/// The paper's dropout is 0.5 after fc6 (after its ReLU) and 0.5 after fc7,
/// inverted: survivors are doubled in training so that eval mode needs no
/// scaling. Setting fc6 to output 1 everywhere (weights 0, bias 1) makes it
/// visible in fc7:
/// - fc7 with weights 0 and bias 1 ignores fc6: half of fc7 is zero, the
///   rest is 2;
/// - fc7 with the identity as weights and bias 0 passes fc6 on: a unit
///   survives both dropouts a quarter of the time, and is then 4.
#[test]
fn dropout_drops_half_after_fc6_and_half_after_fc7_and_scales_the_rest() {
    let store = nn::VarStore::new(Device::Cpu);
    let config = FcnConfig::narrow(16);
    let vgg = vgg16(&store.root(), config);
    let variables = store.variables();
    let width = config.channels(4096);
    for (identity, zeros, survivor) in [(false, 0.5, 2.0), (true, 0.75, 4.0)] {
        {
            let _guard = tch::no_grad_guard();
            let _ = variables["fc6.weight"].shallow_clone().zero_();
            let _ = variables["fc6.bias"].shallow_clone().fill_(1.0);
            let fc7 = if identity { Tensor::eye(width, (Kind::Float, Device::Cpu)).reshape([width, width, 1, 1]) } else { Tensor::zeros([width, width, 1, 1], (Kind::Float, Device::Cpu)) };
            variables["fc7.weight"].shallow_clone().copy_(&fc7);
            let _ = variables["fc7.bias"].shallow_clone().fill_(if identity { 0.0 } else { 1.0 });
        }
        tch::manual_seed(0);
        let fc7 = vgg.forward_t(&Tensor::randn([4, 3, 32, 32], (Kind::Float, Device::Cpu)), true).fc7;
        let fraction = f64::try_from(fc7.eq(0.0).to_kind(Kind::Float).mean(Kind::Float)).unwrap();
        let setting = if identity { "with fc7 passing fc6 on" } else { "with fc7 ignoring fc6" };
        assert!(
            (fraction - zeros).abs() < 0.06,
            "{setting}, training mode zeroes {:.0}% of fc7; dropout of 0.5 after fc6 and after fc7 zeroes about {:.0}%",
            100.0 * fraction,
            100.0 * zeros
        );
        let kept = fc7.masked_select(&fc7.ne(0.0));
        let off = f64::try_from((&kept - survivor).abs().max()).unwrap();
        assert!(off < 1e-4, "{setting}, fc7's surviving units should all be {survivor} (inverted dropout); one is off by {off}");
    }
}

/// The reference's values (exercises/tests/reference-values/vgg16.json): every
/// layer you name with `fcn_common::tap` and the three features, for fixed
/// weights (the same as the reference's, by name) and a fixed 36x44 image.
/// A failure names the first layer that differs.
#[test]
fn same_values_as_the_reference_on_fixed_weights() {
    let store = nn::VarStore::new(Device::Cpu);
    let vgg = vgg16(&store.root(), FcnConfig::narrow(16));
    let results = network_results(&store, |image| {
        let features = vgg.forward_t(image, false);
        let mut results = Results::new();
        results.add("features.pool3", &features.pool3).add("features.pool4", &features.pool4).add("features.fc7", &features.fc7);
        results
    });
    assert_matches("vgg16 (width / 16) on fixed weights and a 36x44 image", &results, "vgg16");
}

/// The module docs' example of `fully_connected_as_conv`: one output of 2
/// channels of 2x2 windows, its weights 0 to 7 in the order the classifier
/// flattened its input.
#[test]
fn fully_connected_as_conv_lays_out_the_docs_example() {
    let weight = Tensor::arange(8, (Kind::Float, Device::Cpu)).view([1, 8]);
    let conv = fully_connected_as_conv(&weight, 2, 2);
    assert_eq!(conv.size(), [1, 2, 2, 2], "[out, channels, kernel, kernel]");
    let channel = |c: i64| Vec::<Vec<f32>>::try_from(conv.get(0).get(c)).unwrap();
    assert_eq!(channel(0), [[0., 1.], [2., 3.]], "channel 0's window, as the docs draw it");
    assert_eq!(channel(1), [[4., 5.], [6., 7.]], "channel 1's window");
}

/// What the conversion is for: the convolution's score at every position
/// of a map larger than the window is the fully connected layer's output on
/// the window there, flattened as PyTorch flattens (`flatten`: channel, then
/// row, then column). fc6 is 7x7 (here at width / 16 on a 9x8 pool5); fc7 is
/// the same with a 1x1 window.
#[test]
fn fully_connected_as_conv_scores_every_window_as_the_classifier() {
    tch::manual_seed(5);
    for (channels, kernel, out, h, w) in [(32, 7, 16, 9, 8), (3, 2, 4, 5, 4), (256, 1, 8, 2, 3)] {
        let weight = Tensor::randn([out, channels * kernel * kernel], (Kind::Float, Device::Cpu));
        let bias = Tensor::randn([out], (Kind::Float, Device::Cpu));
        let map = Tensor::randn([1, channels, h, w], (Kind::Float, Device::Cpu));
        let conv = fully_connected_as_conv(&weight, channels, kernel);
        assert_eq!(conv.size(), [out, channels, kernel, kernel], "[out, channels, kernel, kernel]");
        let scores = map.conv2d(&conv, Some(&bias), [1, 1], [0, 0], [1, 1], 1);
        for y in 0..=h - kernel {
            for x in 0..=w - kernel {
                let window = map.narrow(2, y, kernel).narrow(3, x, kernel).flatten(1, -1);
                let classifier = window.linear(&weight, Some(&bias)).view([-1]);
                let here = scores.narrow(2, y, 1).narrow(3, x, 1).view([-1]);
                let off = f64::try_from((&here - &classifier).abs().max()).unwrap();
                assert!(
                    off < 1e-3,
                    "{channels} channels of {kernel}x{kernel} windows: at position ({y}, {x}) the convolution's scores \
                     differ from the classifier's on its window by {off:.2e}"
                );
            }
        }
    }
}

/// The reference's values (exercises/tests/reference-values/fully_connected_as_conv.json)
/// for fixed fully connected weights: fc6 and fc7 at width / 16, and a small
/// layer of 3 channels of 2x2 windows.
#[test]
fn fully_connected_as_conv_same_values_as_the_reference() {
    let mut results = Results::new();
    for (name, out, channels, kernel) in [("fc6", 256, 32, 7), ("fc7", 256, 256, 1), ("small", 5, 3, 2)] {
        let weight = fcn_common::values::normal(&[out, channels * kernel * kernel], &format!("fully connected {name}"));
        results.add(format!("{name}: [{out}, {}] as [{out}, {channels}, {kernel}, {kernel}]", channels * kernel * kernel), &fully_connected_as_conv(&weight, channels, kernel));
    }
    assert_matches("fully_connected_as_conv of fixed weights", &results, "fully_connected_as_conv");
}
