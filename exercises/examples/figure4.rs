//! Your own Figure 4: your FCN-32s, then your FCN-16s started from it, then
//! your FCN-8s started from that, trained on the kit's synthetic set as the
//! grader's training check trains them on a CPU (every width divided by 16,
//! 80 steps of 8 images per stage), with your loss. Run it once exercises 1
//! to 3 and the loss pass:
//!
//! ```sh
//! cargo run -p exercises --example figure4
//! ```
//!
//! It takes about two minutes on two cores, and writes two pictures into
//! `target/course/`:
//!
//! * `figure4.png`: for four validation images, the image, its ground truth,
//!   and what your FCN-32s, FCN-16s and FCN-8s predict (the paper's Figure 4:
//!   the skips sharpen the outlines);
//! * `loss.png`: your loss at each step (red) and the reference's on the same
//!   data and schedule (blue), the three stages end to end. Networks that
//!   compute what the reference's do draw the same curve for the first
//!   steps, and one of the same shape after: a long run of SGD magnifies
//!   the last bits in which two processors round their sums differently.

use std::error::Error;
use std::path::Path;

use exercises::loss::pixel_loss;
use exercises::{fcn8s::fcn8s, fcn16s::fcn16s, fcn32s::fcn32s};
use fcn_train::experiment::{Budget, synthetic_splits};
use fcn_train::pictures;
use fcn_train::reference_losses::{self, ReferenceLosses};
use fcn_train::train::{Batches, Record, Stage, Start, train_staged};
use tch::Device;

/// The seed of the data, the initial weights and the batches.
const SEED: i64 = 0;

pub fn main() -> Result<(), Box<dyn Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("target/course");
    let device = Device::Cpu;
    let budget = Budget::for_device(device);
    let (train, val) = synthetic_splits(&out.join("synthetic"), budget.data(SEED as u64))?;
    let mut schedule = budget.schedule(SEED, device);
    schedule.progress = true;
    let train_batches = Batches::new(&train, device, schedule.input_scale);
    let val_batches = Batches::new(&val, device, schedule.input_scale);
    let stages = [
        Stage { name: "FCN-32s", build: fcn32s, loss: pixel_loss },
        Stage { name: "FCN-16s", build: fcn16s, loss: pixel_loss },
        Stage { name: "FCN-8s", build: fcn8s, loss: pixel_loss },
    ];
    println!(
        "Training your FCN-32s, FCN-16s and FCN-8s ({}): {} steps of {} images per stage, {} images of {}x{}",
        budget.mode, budget.steps, budget.batch, budget.train_images, budget.image_size, budget.image_size
    );
    let trained = train_staged(&stages, budget.config(), Start::Fresh, &train_batches, &schedule)?;
    let ours: Vec<Record> = trained.iter().map(|t| t.record.clone()).collect();

    if let Some(write_root) = std::env::var_os(fcn_common::values::WRITE) {
        let about = format!("the reference's losses, {} (seed {SEED})", budget.mode);
        reference_losses::write(Path::new(&write_root), &ReferenceLosses { about, stages: ours.clone() })?;
    }
    let reference = reference_losses::read(&root)?;

    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let figure = out.join("figure4.png");
    pictures::figure4(&val, val_batches.images(), &trained, 4)?.save(&figure)?;
    let curve = |records: &[Record]| records.iter().flat_map(|r| r.losses.clone()).collect::<Vec<f64>>();
    let (yours, theirs) = (curve(&ours), curve(&reference.stages));
    let loss = out.join("loss.png");
    pictures::loss_curves(&[&yours, &theirs], 640, 320).save(&loss)?;

    println!("| network | your loss, first to last {} steps | the reference's | seconds |", Record::ENDS);
    println!("|---|---|---|---|");
    let ends = |record: &Record| {
        let (first, last) = record.loss_ends();
        format!("{first:.3} to {last:.3}")
    };
    for (yours, theirs) in ours.iter().zip(&reference.stages) {
        println!("| {} | {} | {} | {:.0} |", yours.network, ends(yours), ends(theirs), yours.seconds);
    }
    println!("Wrote target/course/figure4.png and target/course/loss.png (yours red, the reference's blue).");
    Ok(())
}
