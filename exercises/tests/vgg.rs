//! Exercise 2, VGG16 made fully convolutional: the public tests.
//!
//! Run them with `cargo test -p exercises --test vgg`. Most use a narrow
//! network (every width divided by 16), which has the same layers, names and
//! spatial sizes as the real one and runs in a fraction of the time.

use exercises::vgg::vgg16;
use fcn_kit::FcnConfig;
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
