//! `grader train`: the staged training run on its own, for an instructor who
//! wants the numbers (or the real experiment, with VOCdevkit and pre-trained
//! VGG16).

use std::path::PathBuf;

use checks::{Implementation, Solutions, TrainingRun};
use clap::Args;
use fcn_common::FcnConfig;
use fcn_train::train::{Batches, Record, Schedule, Start};
use fcn_train::experiment::{Budget, synthetic_splits};
use fcn_train::voc;

use crate::suite::Target;
use anyhow::Context;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Whose networks to train.
    #[arg(long, value_enum, default_value_t = Target::Solutions)]
    target: Target,

    /// cpu, cuda, or auto (the GPU when there is one).
    #[arg(long, value_enum, default_value_t = crate::device::DeviceChoice::Auto)]
    device: crate::device::DeviceChoice,

    /// Optimiser steps per stage (FCN-32s, then FCN-16s, then FCN-8s).
    #[arg(long, default_value_t = 300)]
    steps: usize,

    /// Images per step.
    #[arg(long, default_value_t = 8)]
    batch: usize,

    /// Width divisor: 1 is the paper's network; 8 trains on a CPU in minutes.
    #[arg(long, default_value_t = 8)]
    width: i64,

    /// A VOCdevkit-style folder (the one holding JPEGImages/); default: the
    /// synthetic set, generated with --seed.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// Number of classes of --data (21 for PASCAL VOC).
    #[arg(long, default_value_t = 21)]
    classes: u8,

    /// torchvision VGG16 weights (safetensors) to start FCN-32s from.
    #[arg(long, value_name = "WEIGHTS")]
    vgg16: Option<PathBuf>,

    /// SGD learning rate (biases get twice this).
    #[arg(long, default_value_t = 0.01)]
    learning_rate: f64,

    /// Seed of the data, the initialisation and the batches.
    #[arg(long, default_value_t = 0)]
    seed: i64,

    /// Where checkpoints and the results go.
    #[arg(long, value_name = "DIR", default_value = "target/grader/train")]
    out: PathBuf,
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let device = crate::device::resolve(args.device)?;
    // The synthetic set's sizes are the training check's; the rest is the
    // command line's.
    let budget = Budget {
        mode: format!("{}, width / {}", if device.is_cuda() { "gpu" } else { "cpu" }, args.width),
        width_divisor: args.width,
        steps: args.steps,
        batch: args.batch,
        learning_rate: args.learning_rate,
        ..Budget::for_device(tch::Device::Cpu)
    };
    let (root, train, val, config) = match &args.data {
        Some(root) => {
            let split = |name| voc::read_split(root, name, args.classes);
            let config = FcnConfig { classes: i64::from(args.classes), width_divisor: args.width };
            (root.clone(), split("train")?, split("val")?, config)
        }
        None => {
            let root = args.out.join("synthetic");
            let (train, val) = synthetic_splits(&root, budget.data(args.seed as u64))?;
            (root, train, val, budget.config())
        }
    };
    let schedule = Schedule {
        progress: true,
        checkpoints: Some(args.out.join("checkpoints")),
        input_scale: if args.vgg16.is_some() { 1.0 } else { fcn_train::train::FROM_SCRATCH_INPUT_SCALE },
        ..budget.schedule(args.seed, device)
    };
    // The student's networks train in their runner, as in grading; this
    // process reads the trained weights back and evaluates them.
    let _built;
    type TrainStaged = fn(&[checks::Net], TrainingRun) -> Result<Vec<(fcn_train::train::Trained, fcn_metrics::Scores)>, String>;
    let train_staged: TrainStaged = match args.target {
        Target::Solutions => <Solutions as Implementation>::train_staged,
        Target::Exercises => {
            let kit = crate::kit::default_kit();
            let sandbox = crate::sandbox::Sandbox::choose(false, false)?;
            let runner_kit = crate::compile::RunnerKit::prepare(&kit, &kit.join("target/grader/runner"), sandbox)?;
            let submitted = crate::submission::from_crate(&kit.join("exercises/src"));
            let built = runner_kit.build_runner(&submitted, std::time::Duration::from_secs(600))?;
            for note in &built.notes {
                eprintln!("grader train: {note}");
            }
            let runner = crate::worker::RunnerSpec {
                binary: built.binary.clone(),
                libtorch: runner_kit.libtorch.clone(),
                sandbox: runner_kit.sandbox.clone(),
                threads: std::thread::available_parallelism().map_or(1, |n| n.get() as i32),
                memory_mib: None,
                output_mib: 16,
                cpu_seconds: None,
                gpu: device.is_cuda(),
            };
            let log = args.out.join("runner.log");
            std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
            let connection = runner.start(&log).context("cannot start the runner")?;
            crate::remote::connect(connection);
            _built = built;
            <crate::remote::Remote as Implementation>::train_staged
        }
    };
    println!(
        "Training {} on {} ({} train, {} val images), width 1/{}, {} steps of {} per stage, on {device:?}",
        args.target.name(),
        root.display(),
        train.samples.len(),
        val.samples.len(),
        args.width,
        args.steps,
        args.batch
    );
    let (train, val) =
        (Batches::new(&train, device, schedule.input_scale), Batches::new(&val, device, schedule.input_scale));
    // The reference turns fc6 and fc7 into convolutions: this is a start,
    // not something graded.
    let as_conv: fcn_common::AsConv = Solutions::fully_connected_as_conv;
    let start = args.vgg16.as_deref().map_or(Start::Fresh, |file| Start::Vgg16(file, as_conv));
    let trained = train_staged(&checks::training::STAGES, TrainingRun { config, start, train: &train, val: &val, schedule: &schedule })
        .map_err(anyhow::Error::msg)?;
    println!(
        "| network | pixel acc | mean acc | mean IU | f.w. IU | loss, first to last {} steps | seconds | images/s |",
        Record::ENDS
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (t, s) in &trained {
        let (first, last) = t.record.loss_ends();
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.3} to {:.3} | {:.1} | {:.1} |",
            t.record.network,
            100.0 * s.pixel_accuracy,
            100.0 * s.mean_accuracy,
            100.0 * s.mean_iu,
            100.0 * s.frequency_weighted_iu,
            first,
            last,
            t.record.seconds,
            t.record.images_per_second
        );
    }
    Ok(())
}
