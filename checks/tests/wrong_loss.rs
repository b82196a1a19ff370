//! Each loss check is aimed at a mistake students make: a loss with that
//! one mistake loses the checks written for it, and keeps the others.

use checks::{Implementation, Mistake, Solutions};
use tch::{Kind, Tensor};

const VOID: i64 = fcn_common::VOID as i64;

/// `exp` of the scores as they are, without the largest subtracted first.
const NAIVE_SOFTMAX: u8 = 0;
/// Void pixels read as class 0 and counted.
const VOID_COUNTED: u8 = 1;
/// Divided by every pixel, void ones included.
const MEAN_OVER_EVERY_PIXEL: u8 = 2;
/// The release's sum, not a mean.
const SUMMED: u8 = 3;
/// A mean per image, then over the images.
const MEAN_PER_IMAGE: u8 = 4;
/// No labelled pixel: 0 / 0.
const NOTHING_LABELLED_IS_NAN: u8 = 5;
/// The naive softmax, with void pixels left out by multiplying by 0.
const NAIVE_MASKED_BY_MULTIPLYING: u8 = 6;
/// The right value, computed outside autograd: no gradient reaches the scores.
const DETACHED: u8 = 7;
/// The right value, with a gradient of zeros (the loss detached, then tied
/// back to the scores by adding them times 0).
const GRADIENT_OF_ZEROS: u8 = 8;

struct Mutant<const M: u8>;

/// The per-pixel losses (N x H x W) and which pixels are labelled, with or
/// without the largest score subtracted first.
fn per_pixel(scores: &Tensor, labels: &Tensor, stable: bool) -> (Tensor, Tensor) {
    let labelled = labels.ne(VOID);
    let classes = labels.where_scalarother(&labelled, 0).unsqueeze(1);
    let top = if stable { scores.amax(1, true).detach() } else { scores.zeros_like().narrow(1, 0, 1) };
    let normaliser = (scores - &top).exp().sum_dim_intlist(1, true, Kind::Float).log() + top;
    ((normaliser - scores.gather(1, &classes, false)).squeeze_dim(1), labelled)
}

fn wrong_loss(scores: &Tensor, labels: &Tensor, mistake: u8) -> Tensor {
    let stable = !matches!(mistake, NAIVE_SOFTMAX | NAIVE_MASKED_BY_MULTIPLYING);
    let (losses, labelled) = per_pixel(scores, labels, stable);
    let count = labelled.sum(Kind::Float);
    let kept = if mistake == NAIVE_MASKED_BY_MULTIPLYING {
        &losses * labelled.to_kind(Kind::Float)
    } else {
        losses.where_scalarother(&labelled, 0.0)
    };
    match mistake {
        VOID_COUNTED => losses.mean(Kind::Float),
        MEAN_OVER_EVERY_PIXEL => kept.sum(Kind::Float) / losses.numel() as f64,
        SUMMED => kept.sum(Kind::Float),
        MEAN_PER_IMAGE => {
            let per_image = kept.sum_dim_intlist([1, 2].as_slice(), false, Kind::Float)
                / labelled.sum_dim_intlist([1, 2].as_slice(), false, Kind::Float).clamp_min(1.0);
            per_image.mean(Kind::Float)
        }
        NOTHING_LABELLED_IS_NAN => kept.sum(Kind::Float) / count,
        DETACHED => (kept.sum(Kind::Float) / count.clamp_min(1.0)).detach(),
        GRADIENT_OF_ZEROS => (kept.sum(Kind::Float) / count.clamp_min(1.0)).detach() + scores.sum(Kind::Float) * 0.0,
        _ => kept.sum(Kind::Float) / count.clamp_min(1.0),
    }
}

impl<const M: u8> Mistake for Mutant<M> {
    fn pixel_loss(scores: &Tensor, labels: &Tensor) -> Tensor {
        wrong_loss(scores, labels, M)
    }
}

const DOCS: &str = "loss: the docs' worked example, and random scores";
const RANDOM: &str = "loss: random scores and labels, some void, against the reference";
const VOID_CHECK: &str = "loss: void pixels left out whatever their scores, classes absent, a batch all void";
const EXTREME: &str = "loss: extreme scores, where a naive softmax overflows";

/// The loss checks that `I` does not pass.
fn failed<I: Implementation>() -> Vec<&'static str> {
    checks::loss::checks::<I>().iter().filter(|check| !checks::run(check).passed()).map(|check| check.name).collect()
}

#[test]
fn the_reference_passes_every_loss_check_and_a_right_rewrite_does_too() {
    assert_eq!(failed::<Solutions>(), Vec::<&str>::new());
    assert_eq!(failed::<Mutant<{ u8::MAX }>>(), Vec::<&str>::new(), "the mutants' own loss, with no mistake");
    let names: Vec<&str> = checks::loss::checks::<Solutions>().iter().map(|c| c.name).collect();
    assert_eq!(names, [DOCS, RANDOM, VOID_CHECK, EXTREME], "every check is named here");
}

#[test]
fn an_overflowing_softmax_loses_the_extreme_scores_check() {
    assert_eq!(failed::<Mutant<NAIVE_SOFTMAX>>(), [EXTREME]);
    assert_eq!(failed::<Mutant<NAIVE_MASKED_BY_MULTIPLYING>>(), [VOID_CHECK, EXTREME], "0 times infinity at a void pixel");
}

#[test]
fn void_pixels_counted_lose_the_value_checks() {
    assert_eq!(failed::<Mutant<VOID_COUNTED>>(), [DOCS, RANDOM, VOID_CHECK, EXTREME]);
    assert_eq!(failed::<Mutant<MEAN_OVER_EVERY_PIXEL>>(), [DOCS, RANDOM, VOID_CHECK, EXTREME]);
}

#[test]
fn another_normalisation_loses_the_value_checks() {
    assert_eq!(failed::<Mutant<SUMMED>>(), [DOCS, RANDOM, VOID_CHECK, EXTREME], "the release's sum");
    assert_eq!(failed::<Mutant<MEAN_PER_IMAGE>>(), [DOCS, RANDOM, VOID_CHECK, EXTREME], "a mean per image");
}

#[test]
fn nothing_labelled_must_cost_nothing() {
    assert_eq!(failed::<Mutant<NOTHING_LABELLED_IS_NAN>>(), [VOID_CHECK]);
}

#[test]
fn a_loss_no_network_could_train_with_loses_the_random_checks() {
    // The docs' check runs the random cases too: a fixed case counts only
    // beside them.
    assert_eq!(failed::<Mutant<DETACHED>>(), [DOCS, RANDOM], "no gradient reaches the scores");
    assert_eq!(failed::<Mutant<GRADIENT_OF_ZEROS>>(), [DOCS, RANDOM], "a gradient of zeros");
}
