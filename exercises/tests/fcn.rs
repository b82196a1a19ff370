//! Exercise 3, FCN-16s and FCN-8s, and the FCN-32s worked example: the
//! public tests.
//!
//! Run them with `cargo test -p exercises --test fcn`, or one network's
//! alone with `cargo test -p exercises --test fcn fcn16s` (each network's
//! tests are in a module of its name, so each turns green on its own). They
//! use a narrow network (every width divided by 16): same layers, names and
//! sizes.

use exercises::{fcn8s::fcn8s_atonce, fcn16s::fcn16s, fcn32s::fcn32s, fcn8s::fcn8s};
use fcn_common::FcnConfig;
use fcn_common::values::{Results, assert_matches, network_results};
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

type Build = fn(&nn::Path, FcnConfig) -> nn::FuncT<'static>;

fn build(build: Build) -> (nn::VarStore, nn::FuncT<'static>) {
    let store = nn::VarStore::new(Device::Cpu);
    let net = build(&store.root(), FcnConfig::narrow(16));
    (store, net)
}

fn image(h: i64, w: i64) -> Tensor {
    Tensor::randn([1, 3, h, w], (Kind::Float, Device::Cpu)) * 50.0
}

/// The tests every network has, in a module named after it, with the
/// network's own tests after them.
macro_rules! network_tests {
    ($name:ident { $($own:item)* }) => {
        mod $name {
            use super::*;

            #[test]
            fn output_has_one_score_map_per_class_at_the_input_size() {
                output_sizes(stringify!($name), $name);
            }

            /// Names and shapes of the head's variables (everything after fc7).
            #[test]
            fn head_variables_are_named_as_in_the_release() {
                head_names(stringify!($name), $name);
            }

            #[test]
            fn upscore_layers_are_not_trainable() {
                upscore_fixed(stringify!($name), $name);
            }

            /// Every layer you name with `fcn_common::tap` and the output, on
            /// fixed weights and a fixed image, against the reference's
            /// values (exercises/tests/reference-values/NAME.json). A failure
            /// names the first layer that differs.
            #[test]
            fn same_values_as_the_reference_on_fixed_weights() {
                same_values(stringify!($name), $name);
            }

            $($own)*
        }
    };
}

network_tests!(fcn32s {});

network_tests!(fcn16s {
    #[test]
    fn gradient_reaches_the_first_layer_and_the_skip_score_layer() {
        gradient_reaches("fcn16s", fcn16s, &["conv1_1.weight", "score_fr.weight", "score_pool4.weight"]);
    }

    #[test]
    fn the_pool4_skip_passes_gradient_into_the_backbone() {
        skip_passes_gradient("fcn16s", fcn16s, &["score_fr.weight"], "conv4_3.weight");
    }
});

network_tests!(fcn8s {
    #[test]
    fn gradient_reaches_the_first_layer_and_the_skip_score_layers() {
        gradient_reaches("fcn8s", fcn8s, &["conv1_1.weight", "score_fr.weight", "score_pool4.weight", "score_pool3.weight"]);
    }

    #[test]
    fn the_pool4_skip_passes_gradient_into_the_backbone() {
        skip_passes_gradient("fcn8s", fcn8s, &["score_fr.weight", "score_pool3.weight"], "conv4_3.weight");
    }

    #[test]
    fn the_pool3_skip_passes_gradient_into_the_backbone() {
        skip_passes_gradient("fcn8s", fcn8s, &["score_fr.weight", "score_pool4.weight"], "conv3_3.weight");
    }

    /// The at-once variant: its skips scaled as the release scales them.
    #[test]
    fn at_once_same_values_as_the_reference_on_fixed_weights() {
        same_values("fcn8s_atonce", fcn8s_atonce);
    }
});

fn output_sizes(name: &str, network: Build) {
    let (_store, net) = build(network);
    let _guard = tch::no_grad_guard();
    for (h, w) in [(1, 1), (31, 33), (64, 64), (100, 37)] {
        let output = net.forward_t(&image(h, w), false);
        assert_eq!(output.size(), [1, 21, h, w], "{name}: wrong output shape for a {h}x{w} input");
    }
}

fn same_values(name: &str, network: Build) {
    let (store, net) = build(network);
    let results = network_results(&store, |image| {
        let mut output = Results::new();
        output.add("output", &net.forward_t(image, false));
        output
    });
    assert_matches(&format!("{name} (width / 16) on fixed weights and a 36x44 image"), &results, name);
}

fn head_names(name: &str, network: Build) {
    let (store, _net) = build(network);
    let mut head: Vec<_> = store
        .variables()
        .into_iter()
        .filter(|(variable, _)| variable.starts_with("score") || variable.starts_with("upscore"))
        .map(|(variable, t)| format!("{name} {variable} {:?} {}", t.size(), if t.requires_grad() { "trainable" } else { "fixed" }))
        .collect();
    head.sort();
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(format!("{name}_head_width_16"), head.join("\n"));
    });
}

fn upscore_fixed(name: &str, network: Build) {
    let (store, _net) = build(network);
    for (variable, t) in store.variables() {
        if variable.starts_with("upscore") {
            assert!(!t.requires_grad(), "{name}: {variable} must not be trainable");
        }
    }
}

fn gradient_reaches(name: &str, network: Build, layers: &[&str]) {
    let (store, net) = build(network);
    net.forward_t(&image(40, 40), true).sum(Kind::Float).backward();
    let variables = store.variables();
    for layer in layers {
        let grad = variables[*layer].grad();
        assert!(
            grad.defined() && f64::try_from(grad.abs().sum(Kind::Float)).unwrap() > 0.0,
            "{name}: no gradient reaches {layer}"
        );
    }
}

/// A skip is there for its gradient as much as for its values: with every
/// other way from the output to a backbone layer cut (its score layers'
/// weights zero), the gradient must still reach that layer through the skip.
/// A skip whose input is detached computes the right values and fails here.
fn skip_passes_gradient(name: &str, network: Build, cut: &[&str], layer: &str) {
    let (store, net) = build(network);
    let variables = store.variables();
    {
        let _guard = tch::no_grad_guard();
        for score in cut {
            let _ = variables[*score].shallow_clone().zero_();
        }
    }
    net.forward_t(&image(40, 40), false).sum(Kind::Float).backward();
    let grad = variables[layer].grad();
    assert!(
        grad.defined() && f64::try_from(grad.abs().sum(Kind::Float)).unwrap() > 0.0,
        "{name}: with {cut:?} zero, no gradient reaches {layer}: the skip from its block passes none \
         (is the tensor it starts from detached?)"
    );
}
