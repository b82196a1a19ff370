//! Hidden checks for exercise 4's loss: the per-pixel softmax cross-entropy,
//! void left out, averaged over the labelled pixels, against the
//! reference's on random scores and labels.

use crate::Implementation;
use crate::check::{Check, case_seed, ensure, normal_tensor};
use crate::training::EXERCISE;
use ndarray_rand::rand::{Rng, SeedableRng, rngs::StdRng};
use solutions::loss as reference;
use tch::Tensor;

const DRAWS: usize = 40;
const VOID: i64 = fcn_common::VOID as i64;

pub fn checks<I: Implementation>() -> Vec<Check> {
    let check = |name, points, run| Check::new(EXERCISE, name, points, run);
    vec![
        check("loss: the docs' worked example, and random scores", 1, docs_example::<I>).public(),
        check("loss: random scores and labels, some void, against the reference", 2, random::<I>),
        check("loss: void pixels left out whatever their scores, classes absent, a batch all void", 1, void::<I>),
        check("loss: extreme scores, where a naive softmax overflows", 1, extreme::<I>),
    ]
}

/// Scores of `shape` (N x C x H x W), standard normal times `scale`.
fn scores(rng: &mut StdRng, shape: [usize; 4], scale: f32) -> Tensor {
    normal_tensor(rng, &shape, scale)
}

/// Labels for `scores`: a class of `0..classes` at each pixel, void with
/// probability `void`.
fn labels(rng: &mut StdRng, [n, _, h, w]: [usize; 4], classes: i64, void: f64) -> Tensor {
    let values: Vec<i64> =
        (0..n * h * w).map(|_| if rng.gen_bool(void) { VOID } else { rng.gen_range(0..classes) }).collect();
    Tensor::from_slice(&values).view([n as i64, h as i64, w as i64])
}

fn random_shape(rng: &mut StdRng) -> [usize; 4] {
    [rng.gen_range(1..=3), rng.gen_range(2..=8), rng.gen_range(1..=7), rng.gen_range(1..=7)]
}

/// The student's loss of `scores` and `labels` against the reference's:
/// one finite number, within rounding.
fn same_loss<I: Implementation>(scores: &Tensor, labels: &Tensor, what: &str) -> Result<(), String> {
    let got = I::pixel_loss(scores, labels);
    ensure(got.numel() == 1, || format!("{what}: the loss has shape {:?}; it should be one number", got.size()))?;
    let (got, expected) = (got.double_value(&[]), reference::pixel_loss(scores, labels).double_value(&[]));
    ensure((got - expected).abs() <= 1e-5 * expected.abs().max(1.0), || {
        let off = if got.is_finite() { format!("off by {:.3e}", (got - expected).abs()) } else { format!("{got}") };
        format!("{what} (scores {:?}): the loss is {off}", scores.size())
    })
}

fn docs_example<I: Implementation>() -> Result<(), String> {
    // N = 1, C = 2, H = 1, W = 2: pixel 1 scores [2, 0], class 0; pixel 2 void.
    let scores = Tensor::from_slice(&[2f32, 5., 0., -3.]).view([1, 2, 1, 2]);
    let labels = Tensor::from_slice(&[0i64, VOID]).view([1, 1, 2]);
    let got = I::pixel_loss(&scores, &labels);
    ensure(got.numel() == 1, || format!("the docs' example: the loss has shape {:?}; it should be one number", got.size()))?;
    let got = got.double_value(&[]);
    ensure((got - 0.126928).abs() < 1e-5, || format!("the docs' example: the loss is {got}, not as the docs work out"))?;
    random::<I>()
}

fn random<I: Implementation>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(case_seed("loss: random scores and labels"));
    (0..DRAWS).try_for_each(|draw| {
        let shape = random_shape(&mut rng);
        let scale = rng.gen_range(0.5..4.0);
        let (scores, labels) = (scores(&mut rng, shape, scale), labels(&mut rng, shape, shape[1] as i64, 0.3));
        same_loss::<I>(&scores, &labels, "random scores and labels")?;
        // The networks train through the loss: its gradient must reach the
        // scores, and be the reference's.
        if draw % 4 == 0 { same_gradient::<I>(&scores, &labels) } else { Ok(()) }
    })
}

/// The gradient of the student's loss with respect to `scores` against the
/// reference's, within rounding.
fn same_gradient<I: Implementation>(scores: &Tensor, labels: &Tensor) -> Result<(), String> {
    let Some(got) = I::pixel_loss_gradient(scores, labels) else {
        return Err(format!(
            "random scores and labels (scores {:?}): the loss has the right value, but no gradient reaches the \
             scores through it, so nothing could train with it; compute it with tensor operations, all the way \
             from the scores, without leaving autograd (no detach, no round trip through plain numbers)",
            scores.size()
        ));
    };
    let expected = crate::Solutions::pixel_loss_gradient(scores, labels).expect("the reference's loss has a gradient");
    let off = f64::try_from((&got - &expected).abs().max()).unwrap_or(f64::NAN);
    let scale = f64::try_from(expected.abs().max()).unwrap_or(1.0);
    ensure(off <= 1e-6 + 1e-4 * scale, || {
        format!("random scores and labels (scores {:?}): the loss's gradient with respect to the scores is off by {off:.3e}", scores.size())
    })
}

fn void<I: Implementation>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(case_seed("loss: void pixels and absent classes"));
    for _ in 0..DRAWS {
        let shape = random_shape(&mut rng);
        let scores = scores(&mut rng, shape, 2.0);
        // Only the first two classes appear.
        let labels = labels(&mut rng, shape, 2, 0.4);
        same_loss::<I>(&scores, &labels, "labels of two classes out of many")?;
        // Huge scores at void pixels change nothing.
        let void = labels.eq(VOID).unsqueeze(1);
        let loud = scores.where_scalarother(&void.logical_not(), 1e4);
        same_loss::<I>(&loud, &labels, "scores of 1e4 at void pixels, which count for nothing")?;
    }
    let shape = [2, 3, 4, 5];
    let all_void = Tensor::full([2, 4, 5], VOID, (tch::Kind::Int64, tch::Device::Cpu));
    same_loss::<I>(&scores(&mut rng, shape, 1.0), &all_void, "a batch of void pixels only (no labelled pixel: loss 0)")
}

fn extreme<I: Implementation>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(case_seed("loss: extreme scores"));
    (0..DRAWS).try_for_each(|_| {
        let shape = random_shape(&mut rng);
        let scale = rng.gen_range(100.0..3000.0);
        let (scores, labels) = (scores(&mut rng, shape, scale), labels(&mut rng, shape, shape[1] as i64, 0.2));
        same_loss::<I>(&scores, &labels, &format!("scores of about {scale:.0}"))
    })
}
