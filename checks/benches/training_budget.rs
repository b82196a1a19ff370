//! The training checks' cost on a device: runs both training checks with the
//! reference as the student (so the staged run trains twice, once as the
//! student and once as the reference) and prints their times and the
//! training table. The pictures and training.json land in the folder given.
//!
//! `cargo bench -p checks --bench training_budget -- [cpu|cuda] [OUT]`

use std::time::Instant;

use checks::training::{self, TABLE_FILE, TrainingTable};
use checks::{Settings, Solutions};
use tch::Device;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let device = if args.iter().any(|a| a == "cuda") { Device::Cuda(0) } else { Device::Cpu };
    let out = std::path::PathBuf::from(
        args.iter().find(|a| *a != "cuda" && *a != "cpu").map_or("target/training-budget", String::as_str),
    );
    std::fs::create_dir_all(&out).expect("the output folder can be made");
    Settings { device, artifacts: Some(out.clone()), ..Settings::default() }.install();
    println!("device {device:?}, {} threads; budget {:?}", tch::get_num_threads(), training::Budget::for_device(device));
    for check in training::checks::<Solutions>() {
        let started = Instant::now();
        let status = checks::run(&check);
        println!("{}: {} in {:.1} s", check.name, status.label(), started.elapsed().as_secs_f64());
        if let Some(detail) = status.detail() {
            println!("  {detail}");
        }
    }
    let table: TrainingTable =
        serde_json::from_slice(&std::fs::read(out.join(TABLE_FILE)).expect("the staged check writes its table"))
            .expect("the table reads back");
    // Seconds per network, which the report's table leaves out.
    for row in &table.rows {
        println!("{} {}: {:.1} s", row.implementation, row.network, row.seconds);
    }
    println!("\n{}", table.markdown());
}
