//! The reference passes every check, and its values are the published ones.

use assert_approx_eq::assert_approx_eq;
use checks::{Solutions, Status};

/// Every check but the training checks, which take minutes: the grader's
/// tests run those on the reference (`grader/tests/commands/cli.rs`).
fn untrained_checks() -> Vec<checks::Check> {
    checks::full_suite::<Solutions>().into_iter().filter(|c| c.exercise != checks::training::EXERCISE).collect()
}

#[test]
fn solutions_pass_every_check() {
    for check in untrained_checks() {
        assert_eq!(checks::run(&check), Status::Passed, "{check:?}");
    }
}

/// A grading draws its random cases afresh (`Settings::cases`), so the
/// reference must pass on cases nobody has looked at, not only on the kit's
/// own. Each run draws two sets; a failure names its set, and
/// `FCN_CASES=N[,N...]` runs those sets again.
#[test]
fn solutions_pass_every_check_on_fresh_cases() {
    let draws: Vec<u64> = match std::env::var("FCN_CASES") {
        Ok(list) => list.split(',').map(|n| n.trim().parse().expect("FCN_CASES: integers separated by commas")).collect(),
        Err(_) => (0..2).map(|_| checks::fresh_cases()).collect(),
    };
    for cases in draws {
        checks::Settings { cases, ..Default::default() }.install();
        for check in untrained_checks() {
            assert_eq!(checks::run(&check), Status::Passed, "cases {cases} (FCN_CASES={cases} draws them again): {check:?}");
        }
    }
}

/// The filters fcn-reference.md spells out: size 3 is the outer product of
/// [0.5, 1, 0.5], size 4 of [0.25, 0.75, 0.75, 0.25].
#[test]
fn reference_filters_are_the_published_ones() {
    let tents: [&[f32]; 3] = [&[1.0], &[0.5, 1.0, 0.5], &[0.25, 0.75, 0.75, 0.25]];
    for tent in tents {
        let filter = solutions::bilinear::bilinear_filter(tent.len());
        for (i, a) in tent.iter().enumerate() {
            for (j, b) in tent.iter().enumerate() {
                assert_approx_eq!(filter[[i, j]], a * b, 1e-7);
            }
        }
    }
}

#[test]
fn reference_filter_of_size_four() {
    let filter = solutions::bilinear::bilinear_filter(4);
    let rows: Vec<String> =
        filter.rows().into_iter().map(|row| row.iter().map(|v| format!("{v:.4}")).collect::<Vec<_>>().join(" ")).collect();
    insta::assert_snapshot!(rows.join("\n"));
}

/// fcn-reference.md's table: (trainable, fixed) parameters at full width,
/// 21 classes, for every variant.
#[test]
fn reference_parameter_counts_are_the_published_ones() {
    use checks::networks::{Fcn8s, Fcn8sAtOnce, Fcn16s, Fcn32s, Variant, parameter_counts_of};
    fn counts<V: Variant>() -> (i64, i64) {
        let store = tch::nn::VarStore::new(tch::Device::Cpu);
        let _net = V::reference(&store.root(), fcn_common::FcnConfig::default());
        parameter_counts_of(&store)
    }
    assert_eq!(counts::<Fcn32s>(), (134_346_581, 1_806_336));
    assert_eq!(counts::<Fcn16s>(), (134_357_354, 458_640));
    assert_eq!(counts::<Fcn8s>(), (134_362_751, 127_008));
    assert_eq!(counts::<Fcn8sAtOnce>(), (134_362_751, 127_008));
}
