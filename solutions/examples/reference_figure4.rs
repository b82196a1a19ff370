//! The students' Figure 4 run (exercises/examples/figure4.rs), on the
//! reference. At the workspace's root,
//! `FCN_WRITE_REFERENCE_VALUES=$PWD cargo run -p solutions --example reference_figure4`
//! writes the reference's losses that the students' run draws beside
//! theirs (exercises/tests/reference-values/training-losses.json).

extern crate solutions as exercises;

#[path = "../../exercises/examples/figure4.rs"]
mod figure4;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    figure4::main()
}
