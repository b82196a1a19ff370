//! The students' pre-training experiment (exercises/examples/pretraining.rs),
//! on the reference: `cargo run -p solutions --example
//! reference_pretraining` gives the numbers the hand-out README reports.

extern crate solutions as exercises;

#[path = "../../exercises/examples/pretraining.rs"]
mod pretraining;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pretraining::main()
}
