//! The reference's kept training losses
//! (`exercises/tests/reference-values/training-losses.json`, which the
//! students' Figure 4 run draws beside theirs) hold on this processor: the
//! reference's first steps of FCN-32s reproduce them closely. The rest of
//! the run is held by its trend, in the grader's training check's test.
//! `make test` runs this a second time under libtorch's basic kernels, as a
//! processor without AVX would compute it.

use std::path::Path;

use fcn_train::experiment::{Budget, synthetic_splits};
use fcn_train::reference_losses::{self, FIRST_STEPS, first_steps_difference};
use fcn_train::train::{Batches, Stage, Start, train_staged};
use tch::Device;

#[test]
fn the_reference_reproduces_the_kept_first_steps() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let kept = reference_losses::read(&root).unwrap_or_else(|e| panic!("{e}"));
    let device = Device::Cpu;
    let budget = Budget::for_device(device);
    let folder = tempfile::tempdir().unwrap();
    let (train, _) = synthetic_splits(folder.path(), budget.data(0)).unwrap();
    let mut schedule = budget.schedule(0, device);
    schedule.steps = FIRST_STEPS;
    schedule.progress = false;
    let batches = Batches::new(&train, device, schedule.input_scale);
    let stages = [Stage { name: "FCN-32s", build: solutions::fcn32s::fcn32s, loss: solutions::loss::pixel_loss }];
    let trained = train_staged(&stages, budget.config(), Start::Fresh, &batches, &schedule).unwrap();
    let ours = &trained[0].record.losses;
    // What scripts/measure-tolerances reads, under each kernel set.
    eprintln!("first-steps difference: {:e}", first_steps_difference(ours, &kept.stages[0].losses));
    if let Err(why) = reference_losses::check_first_steps(ours, &kept) {
        panic!(
            "{why}\n{} does not hold for this processor: if the reference or the training changed, write it again \
             with FCN_WRITE_REFERENCE_VALUES=$PWD cargo run -p solutions --example reference_figure4",
            reference_losses::FILE
        );
    }
}
