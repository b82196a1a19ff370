//! Hidden checks for bonus exercise 8, the segmentation metrics, against the
//! kit's own implementation (`fcn_metrics`, which scores training).
//!
//! Each score check feeds the kit's confusion matrix to the student's score
//! function, so a wrong confusion matrix costs only the confusion checks.

use crate::Bonus;
use crate::check::{Check, Exercise, Track, ensure};
use fcn_metrics::{Confusion, Scores};
use ndarray::{Array2, array};
use ndarray_rand::rand::{Rng, SeedableRng, rngs::StdRng};

pub const EXERCISE: Exercise = Exercise {
    id: "metrics",
    number: 8,
    title: "the segmentation metrics",
    track: Track::Bonus,
};

/// Scores agree to this (they are ratios of counts in f64).
const TOLERANCE: f64 = 1e-9;

pub fn checks<I: Bonus>() -> Vec<Check> {
    let check = |name, points, run| Check::new(EXERCISE, name, points, run);
    vec![
        check("the docs' worked example", 1, docs_example::<I>).public(),
        check(
            "confusion matrix: random label maps with void pixels",
            1,
            confusion_random::<I>,
        ),
        check("the four scores: random label maps", 2, scores_random::<I>),
        check(
            "classes absent from both truth and prediction are left out",
            1,
            classes_absent_from_both::<I>,
        ),
        check(
            "a class predicted but never true counts 0 in the mean IU",
            1,
            class_predicted_but_never_true::<I>,
        ),
    ]
}

fn docs_example<I: Bonus>() -> Result<(), String> {
    let truth = array![[0u8, 0, 1], [1, 255, 2]];
    let prediction = array![[0u8, 0, 1], [2, 0, 1]];
    let hist = I::confusion_matrix(&truth, &prediction, 3);
    ensure(hist == array![[2u64, 0, 0], [0, 1, 1], [0, 1, 0]], || {
        format!("the confusion matrix of the docs' example is {hist:?}")
    })?;
    let hist = array![[2u64, 0, 0], [0, 1, 1], [0, 1, 0]];
    compare::<I>(
        &hist,
        &Scores {
            pixel_accuracy: 0.6,
            mean_accuracy: 0.5,
            mean_iu: 4.0 / 9.0,
            frequency_weighted_iu: 8.0 / 15.0,
        },
        "the docs' worked example",
    )?;
    // A fixed case from the docs could be answered by copying it: it counts
    // only with random ones beside it.
    confusion_random::<I>()?;
    scores_random::<I>()
}

/// A random label map of `shape` over `labels`, with about `void` of its
/// pixels void.
fn random_labels(rng: &mut StdRng, shape: (usize, usize), labels: &[u8], void: f64) -> Array2<u8> {
    Array2::from_shape_fn(shape, |_| {
        if rng.gen_bool(void) {
            255
        } else {
            labels[rng.gen_range(0..labels.len())]
        }
    })
}

/// The kit's confusion matrix of two label maps, as the exercise returns it.
fn kit_confusion(
    truth: &Array2<u8>,
    prediction: &Array2<u8>,
    classes: usize,
) -> (Confusion, Array2<u64>) {
    let mut confusion = Confusion::new(classes);
    for (&g, &p) in truth.iter().zip(prediction) {
        confusion.add(g, p);
    }
    let hist = Array2::from_shape_fn((classes, classes), |(g, p)| confusion.pixels(g, p));
    (confusion, hist)
}

/// `Err` unless the implementation's four scores of `hist` are `expected`.
fn compare<I: Bonus>(hist: &Array2<u64>, expected: &Scores, case: &str) -> Result<(), String> {
    let scores = [
        (
            "pixel_accuracy",
            I::pixel_accuracy(hist),
            expected.pixel_accuracy,
        ),
        (
            "mean_accuracy",
            I::mean_accuracy(hist),
            expected.mean_accuracy,
        ),
        ("mean_iu", I::mean_iu(hist), expected.mean_iu),
        (
            "frequency_weighted_iu",
            I::frequency_weighted_iu(hist),
            expected.frequency_weighted_iu,
        ),
    ];
    for (name, actual, expected) in scores {
        // Where and which way, never the reference's value (these cases are
        // random, and the message is the student's).
        ensure((actual - expected).abs() <= TOLERANCE, || {
            let which_way = if actual > expected { "too high" } else if actual < expected { "too low" } else { "not a number" };
            format!("{name} on {case} is {actual}: {which_way}")
        })?;
    }
    Ok(())
}

fn confusion_random<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("confusion matrix: random cases"));
    for case in 0..20 {
        let classes = rng.gen_range(2..=21);
        let shape = (rng.gen_range(1..=40), rng.gen_range(1..=40));
        let labels: Vec<u8> = (0..classes as u8).collect();
        let truth = random_labels(&mut rng, shape, &labels, 0.1);
        let prediction = random_labels(&mut rng, shape, &labels, 0.0);
        let (_, expected) = kit_confusion(&truth, &prediction, classes);
        let hist = I::confusion_matrix(&truth, &prediction, classes);
        ensure(hist == expected, || {
            format!(
                "confusion_matrix of random {shape:?} label maps over {classes} classes (case {case}) differs from the kit's"
            )
        })?;
    }
    Ok(())
}

fn scores_random<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("scores: random cases"));
    for case in 0..20 {
        let classes = rng.gen_range(2..=21);
        // Large enough that every class occurs in both maps.
        let labels: Vec<u8> = (0..classes as u8).collect();
        let truth = random_labels(&mut rng, (60, 60), &labels, 0.1);
        let prediction = random_labels(&mut rng, (60, 60), &labels, 0.0);
        let (confusion, hist) = kit_confusion(&truth, &prediction, classes);
        compare::<I>(
            &hist,
            &confusion.scores(),
            &format!("random 60x60 label maps over {classes} classes (case {case})"),
        )?;
    }
    Ok(())
}

fn classes_absent_from_both<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("classes absent from both"));
    for case in 0..20 {
        // 21 classes, of which only a few occur anywhere.
        let labels: Vec<u8> = (0..rng.gen_range(1..=5))
            .map(|_| rng.gen_range(0..21))
            .collect();
        let truth = random_labels(&mut rng, (30, 30), &labels, 0.1);
        let prediction = random_labels(&mut rng, (30, 30), &labels, 0.0);
        let (confusion, hist) = kit_confusion(&truth, &prediction, 21);
        compare::<I>(
            &hist,
            &confusion.scores(),
            &format!("maps using only the classes {labels:?} of 21 (case {case})"),
        )?;
    }
    Ok(())
}

fn class_predicted_but_never_true<I: Bonus>() -> Result<(), String> {
    // Class 1 is never true but predicted once: its accuracy is 0 / 0, its IU 0.
    let truth = array![[0u8, 0, 0, 0]];
    let prediction = array![[0u8, 0, 0, 1]];
    let (confusion, hist) = kit_confusion(&truth, &prediction, 2);
    compare::<I>(
        &hist,
        &confusion.scores(),
        "truth [0, 0, 0, 0] and prediction [0, 0, 0, 1] over 2 classes",
    )?;
    // And random maps where some classes are predicted but never true, and
    // every class occurs in one map or the other (so that only this rule
    // is at stake, not the one for classes absent from both).
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("a class predicted but never true"));
    for case in 0..20 {
        let classes = rng.gen_range(3..=8u8);
        let true_classes = rng.gen_range(1..classes);
        let truth_labels: Vec<u8> = (0..true_classes).collect();
        let all_labels: Vec<u8> = (0..classes).collect();
        let mut truth = random_labels(&mut rng, (12, 12), &truth_labels, 0.1);
        let mut prediction = random_labels(&mut rng, (12, 12), &all_labels, 0.0);
        for (at, label) in all_labels.iter().enumerate() {
            prediction[[0, at]] = *label;
            if *label < true_classes {
                truth[[1, at]] = *label;
            }
        }
        let (confusion, hist) = kit_confusion(&truth, &prediction, classes as usize);
        compare::<I>(
            &hist,
            &confusion.scores(),
            &format!("classes 0 to {} true, 0 to {} predicted (case {case})", true_classes - 1, classes - 1),
        )?;
    }
    Ok(())
}
