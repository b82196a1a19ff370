//! Hidden checks for exercise 2 (VGG16 made fully convolutional) and
//! exercise 3 (FCN-16s and FCN-8s).
//!
//! Most checks run a narrow network (every width divided by 16: same layers,
//! names and spatial sizes, a fraction of the arithmetic); the parameter
//! counts are checked at the paper's width.

mod common;
mod dropout;
mod fcn;
mod gradients;
mod reference_process;
mod seeded;
mod variants;
mod vgg;

use crate::Implementation;
use crate::check::{Check, Exercise, Track};

pub use common::{parameter_counts_of, write_torchvision_vgg16};
pub use variants::{Fcn8s, Fcn8sAtOnce, Fcn16s, Fcn32s, Variant};

use reference_process::Job;

pub const VGG: Exercise = Exercise {
    id: "vgg",
    number: 2,
    title: "VGG16, made fully convolutional",
    track: Track::Core,
};
pub const FCN: Exercise = Exercise {
    id: "fcn",
    number: 3,
    title: "aligning maps, FCN-16s and FCN-8s",
    track: Track::Core,
};

pub fn vgg_checks<I: Implementation>() -> Vec<Check> {
    let check = |name, points, run| Check::new(VGG, name, points, run);
    vec![
        check("layer names and shapes", 1, vgg::vgg_names::<I>).public(),
        check("feature sizes for a 500x500 image", 1, vgg::vgg_feature_sizes::<I>),
        check("same features as the reference on the same weights", 2, vgg::vgg_same_features::<I>),
        check("dropout in training only", 1, vgg::vgg_dropout::<I>).public(),
        check("dropout after fc6 and fc7 at the paper's rate, inverted, nothing else random", 1, vgg::vgg_dropout_rate::<I>),
        check("pre-trained VGG16 weights load by name", 1, vgg::vgg_pretrained::<I>),
        check("parameter count at full width", 1, vgg::vgg_parameter_count::<I>),
        check("layers start as tch's defaults: Kaiming-uniform weights, zero biases", 1, vgg::vgg_initialisation::<I>),
        check("same parameter gradients as the reference, through pool3, pool4 and fc7", 1, gradients::vgg_same_gradients::<I>),
        check("backward pass in training mode reaches every parameter", 1, gradients::vgg_backward_in_training::<I>),
    ]
}

pub fn fcn_checks<I: Implementation>() -> Vec<Check> {
    let check = |name, points, run| Check::new(FCN, name, points, run);
    vec![
        check("FCN-16s: layer names and shapes", 1, fcn::names::<I, Fcn16s>),
        check("FCN-16s: output size equals input size", 1, fcn::output_sizes::<I, Fcn16s>).public(),
        check("FCN-16s: same output as the reference on the same weights", 2, fcn::same_output::<I, Fcn16s>),
        check("FCN-16s: upscore layers fixed, no bias", 1, fcn::upscore_fixed::<I, Fcn16s>).public(),
        check("FCN-16s: parameter counts at full width", 1, fcn::parameter_counts::<I, Fcn16s>),
        check("FCN-16s: starts from a trained FCN-32s by name", 1, fcn::staged::<I, Fcn16s>),
        check("FCN-8s: layer names and shapes", 1, fcn::names::<I, Fcn8s>),
        check("FCN-8s: output size equals input size", 1, fcn::output_sizes::<I, Fcn8s>).public(),
        check("FCN-8s: same output as the reference on the same weights", 2, fcn::same_output::<I, Fcn8s>),
        check("FCN-8s: upscore layers fixed, no bias", 1, fcn::upscore_fixed::<I, Fcn8s>).public(),
        check("FCN-8s: parameter counts at full width", 1, fcn::parameter_counts::<I, Fcn8s>),
        check("FCN-8s: starts from a trained FCN-16s by name", 1, fcn::staged::<I, Fcn8s>),
        check("FCN-8s: gradient reaches conv1_1 and every score layer", 1, gradients::gradients_reach::<I, Fcn8s>).public(),
        check("FCN-8s at once: same output as the reference", 1, fcn::same_output::<I, Fcn8sAtOnce>),
        check("FCN-16s: same parameter gradients as the reference on the same weights", 1, gradients::same_gradients::<I, Fcn16s>),
        check("FCN-8s: same parameter gradients as the reference on the same weights", 1, gradients::same_gradients::<I, Fcn8s>),
        check("FCN-8s at once: same parameter gradients as the reference", 1, gradients::same_gradients::<I, Fcn8sAtOnce>),
        check("nothing random in training mode beyond fc6 and fc7's dropout", 1, fcn::heads_deterministic::<I>),
        check(
            "FCN-16s, FCN-8s, FCN-8s at once: dropout inside each as the release's (after fc6 and fc7, per unit, new masks every pass)",
            1,
            dropout::fcn_dropouts::<I>,
        )
        .draws_alone(),
        check(
            "FCN-16s, FCN-8s, FCN-8s at once: same output and parameter gradients as the reference in training mode, under the same dropout masks",
            1,
            gradients::same_gradients_in_training::<I>,
        )
        .draws_alone(),
    ]
}


/// The reference process's side (`grader reference-pass JOBS`): runs the
/// jobs `request` lists (JSON) here, on one thread, with nothing else
/// drawing from libtorch's generator, and writes what they give to `out`.
pub fn serve_reference_jobs(request: &str, out: impl std::io::Write) -> Result<(), String> {
    tch::set_num_threads(1);
    let results = reference_process::jobs(request)?
        .iter()
        .map(|job| match job {
            Job::Gradients(pass) => seeded::reference_pass(pass),
            Job::DropoutMoments { network } => dropout::reference_moments(network),
        })
        .collect::<Result<Vec<_>, String>>()?;
    reference_process::write(results, out)
}
