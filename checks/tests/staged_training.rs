//! A short CPU training run of the reference networks: the loss goes down,
//! the stages start from each other, the run is repeatable.

use fcn_common::FcnConfig;
use fcn_train::synthetic::{self, Spec};
use fcn_train::train::{Batches, Schedule, Stage, Start, train_staged};
use fcn_train::voc::read_split;

/// libtorch's random generator is one per process: tests that seed it take
/// turns.
static RANDOM: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn stages() -> [Stage; 3] {
    [
        Stage { name: "FCN-32s", build: solutions::fcn32s::fcn32s, loss: solutions::loss::pixel_loss },
        Stage { name: "FCN-16s", build: solutions::fcn16s::fcn16s, loss: solutions::loss::pixel_loss },
        Stage { name: "FCN-8s", build: solutions::fcn8s::fcn8s, loss: solutions::loss::pixel_loss },
    ]
}

#[test]
fn staged_training_learns_and_repeats() {
    let _turn = RANDOM.lock().unwrap_or_else(|e| e.into_inner());
    let folder = tempfile::tempdir().unwrap();
    synthetic::generate(folder.path(), Spec { seed: 1, train: 12, val: 1, size: 48 }).unwrap();
    let classes = synthetic::CLASS_NAMES.len() as u8;
    let schedule = Schedule { steps: 12, batch: 4, progress: false, ..Schedule::default() };
    let train = Batches::new(&read_split(folder.path(), "train", classes).unwrap(), schedule.device, schedule.input_scale);
    let config = FcnConfig { classes: classes as i64, width_divisor: 32 };

    let run = || train_staged(&stages(), config, Start::Fresh, &train, &schedule).unwrap();
    let first = run();
    assert_eq!(first.iter().map(|t| t.record.network.as_str()).collect::<Vec<_>>(), ["FCN-32s", "FCN-16s", "FCN-8s"]);
    let losses = &first[0].record.losses;
    let (start, end) = (losses[..3].iter().sum::<f64>(), losses[losses.len() - 3..].iter().sum::<f64>());
    assert!(end < start, "FCN-32s's loss does not go down: {losses:?}");
    for trained in &first {
        assert!(trained.record.images_per_second > 0.0);
    }
    let second = run();
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.record.losses, b.record.losses, "{} is not repeatable on CPU", a.record.network);
    }
}

#[test]
fn each_stage_starts_from_the_last_with_its_new_score_layer_at_zero() {
    let _turn = RANDOM.lock().unwrap_or_else(|e| e.into_inner());
    let folder = tempfile::tempdir().unwrap();
    synthetic::generate(folder.path(), Spec { seed: 2, train: 2, val: 1, size: 32 }).unwrap();
    let classes = synthetic::CLASS_NAMES.len() as u8;
    // No steps: each stage is exactly where it started.
    let schedule = Schedule { steps: 0, progress: false, ..Schedule::default() };
    let train = Batches::new(&read_split(folder.path(), "train", classes).unwrap(), schedule.device, 1.0);
    let config = FcnConfig { classes: classes as i64, width_divisor: 32 };
    let trained = train_staged(&stages(), config, Start::Fresh, &train, &schedule).unwrap();
    let [fcn32s, fcn16s, fcn8s] = [0, 1, 2].map(|i| trained[i].store.variables());
    for name in ["conv1_1.weight", "fc7.bias", "score_fr.weight"] {
        assert!(fcn16s[name].equal(&fcn32s[name]), "FCN-16s's {name} is not FCN-32s's");
        assert!(fcn8s[name].equal(&fcn32s[name]), "FCN-8s's {name} is not FCN-16s's");
    }
    for (store, name) in [(&fcn16s, "score_pool4.weight"), (&fcn16s, "score_pool4.bias"), (&fcn8s, "score_pool3.weight")] {
        assert_eq!(store[name].abs().sum(tch::Kind::Float).double_value(&[]), 0.0, "{name} does not start at zero");
    }
    assert!(fcn8s["score_pool4.weight"].equal(&fcn16s["score_pool4.weight"]));
}
