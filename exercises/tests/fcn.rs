//! Exercise 3, aligning maps, FCN-16s and FCN-8s, and the FCN-32s worked
//! example: the public tests.
//!
//! Run them with `cargo test -p exercises --test fcn`, or one part alone:
//! `cargo test -p exercises --test fcn align` (the crop offsets, first),
//! then `fcn32s`, `fcn16s` and `fcn8s` (each network's tests are in a
//! module of its name, so each turns green on its own). The networks' tests
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

/// Exercise 3a: where a map's pixels sit, and the offsets that line two
/// maps up. The grader's hidden checks draw random layers, stacks and pairs
/// of maps, and check the release's five crops.
mod align {
    use exercises::align::{crop_offset, placement, through};
    use fcn_common::align::{Layer, Placement};
    use fcn_common::values::{Results, assert_matches};
    use tch::Tensor;

    /// The docs' toy network: map `a`, and map `b` that carries on from it.
    fn toy() -> (Vec<Layer>, Vec<Layer>) {
        let a = vec![Layer::conv(3, 2), Layer::pool(2, 2)];
        let b = [a.clone(), vec![Layer::conv(3, 1), Layer::pool(2, 2), Layer::upsample(2)]].concat();
        (a, b)
    }

    #[test]
    fn one_convolution_follows_the_docs_table() {
        let at = through(Placement::INPUT, Layer::conv(3, 2));
        assert_eq!(at, Placement { scale: 1.0, shift: -1.0 }, "through(input, 3x3 convolution padded by 2): see the docs' table");
    }

    #[test]
    fn the_docs_toy_network_sits_where_the_docs_work_out() {
        let (a, b) = toy();
        assert_eq!(placement(&[]), Placement::INPUT, "no layers: the input itself");
        assert_eq!(placement(&a), Placement { scale: 2.0, shift: -0.5 }, "placement of the docs' map a");
        assert_eq!(placement(&b), Placement { scale: 2.0, shift: -2.5 }, "placement of the docs' map b");
    }

    #[test]
    fn the_docs_toy_network_crops_as_the_docs_work_out() {
        let (a, b) = toy();
        assert_eq!(crop_offset(&b, &a), Some(1), "crop_offset(b, a): pixel 1 of b lies over pixel 0 of a");
        assert_eq!(crop_offset(&a, &b), None, "crop_offset(a, b): the offset would be negative");
        assert_eq!(crop_offset(&a, &a[..1]), None, "maps of different scales never line up");
    }

    /// The reference's values (exercises/tests/reference-values/align.json)
    /// for fixed layers, stacks and pairs of maps (an offset of None kept as -1).
    #[test]
    fn same_values_as_the_reference() {
        let layers = [
            Layer::conv(3, 100),
            Layer::Slide { kernel: 5, stride: 3, padding: 1 },
            Layer::pool(3, 2),
            Layer::Transposed { kernel: 7, stride: 3, padding: 2 },
            Layer::upsample(4),
            Layer::conv(7, 0),
        ];
        let from = Placement { scale: 4.0, shift: -10.5 };
        let placed = |at: Placement| [at.scale as f32, at.shift as f32];
        let one: Vec<f32> = layers.iter().flat_map(|&layer| placed(through(from, layer))).collect();
        let grown: Vec<f32> = (0..=layers.len()).flat_map(|n| placed(placement(&layers[..n]))).collect();
        let stack = [Layer::conv(3, 2), Layer::pool(2, 2), Layer::conv(5, 1), Layer::pool(3, 3), Layer::conv(3, 0)];
        let offsets: Vec<f32> = (0..=stack.len())
            .flat_map(|n| (0..=stack.len()).map(move |m| (n, m)))
            .map(|(n, m)| crop_offset(&stack[..n], &stack[..m]).map_or(-1.0, |c| c as f32))
            .collect();
        let mut results = Results::new();
        results.add("through a fixed placement, each of six layers", &Tensor::from_slice(&one));
        results.add("placement of a growing stack of six layers", &Tensor::from_slice(&grown));
        results.add("crop_offset between every two prefixes of a stack", &Tensor::from_slice(&offsets));
        assert_matches("the placements and offsets of fixed layers", &results, "align");
    }
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
