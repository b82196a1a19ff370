//! The reference's passes that draw from libtorch's generator, in a
//! process where nothing else draws.
//!
//! libtorch draws dropout masks from one generator per process. A check
//! that needs the reference's passes to draw what a seed alone decides (the
//! same masks as the student's runner, or masks no other thread's reseeding
//! reaches) asks for them as [`Job`]s. In the grader, where checks run side
//! by side on several threads, the jobs run in a process of their own
//! ([`Settings::reference_process`], the grader's `reference-pass`
//! command, which calls `networks::serve`). Where no such program is set
//! (the kit's own tests), they run here, and [`crate::run`] runs a check
//! marked `draws_alone` with no other check beside it.

use std::io::Cursor;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::check::{Settings, Status};

/// Named tensors, as a job gives them.
pub type Tensors = Vec<(String, Tensor)>;

/// One training-mode pass of a reference network: which, how wide, on
/// what, and the seed its dropout masks are drawn from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    /// `Variant::NAME`: FCN-16s, FCN-8s or FCN-8s at once.
    pub network: String,
    pub classes: i64,
    pub width_divisor: i64,
    /// The input batch: (images, height, width).
    pub input: (i64, i64, i64),
    /// libtorch's seed just before the pass.
    pub masks: i64,
}

/// What the reference process is asked to compute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// A seeded training pass with its gradients (`seeded::reference_pass`).
    Gradients(Pass),
    /// The release's dropout statistics for the variant named
    /// (`dropout::reference_moments`).
    DropoutMoments { network: String },
}

/// Runs `jobs` in the process [`Settings::reference_process`] names or,
/// without one, here with `here`. A reference process that fails ends the
/// check as skipped: the grader's fault costs the student nothing.
pub fn run(jobs: &[Job], here: impl Fn(&Job) -> Result<Tensors, String>) -> Vec<Tensors> {
    let Some(program) = Settings::current().reference_process else {
        return jobs.iter().map(|job| here(job).unwrap_or_else(|why| panic!("{why}"))).collect();
    };
    let skipped = |why: String| -> ! {
        std::panic::panic_any(Status::Skipped(format!(
            "the grader could not run the reference's passes in a process of their own ({why}); this check is \
             left out of the score"
        )))
    };
    // The run's cases with them: the reference's weights and images are
    // drawn from the same seeds as the student's.
    let request = Request { cases: Settings::current().cases, jobs: jobs.to_vec() };
    let request = serde_json::to_string(&request).expect("jobs serialise");
    let output = Command::new(&program)
        .args(["reference-pass", &request])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| skipped(format!("cannot start {}: {e}", program.display())));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        skipped(format!("{} {}: {}", program.display(), output.status, stderr.trim()));
    }
    let tensors = Tensor::load_multi_from_stream(Cursor::new(output.stdout))
        .unwrap_or_else(|e| skipped(format!("cannot read what it wrote: {e}")));
    (0..jobs.len())
        .map(|i| {
            let prefix = format!("{i}.");
            tensors.iter().filter_map(|(name, t)| Some((name.strip_prefix(&prefix)?.to_owned(), t.shallow_clone()))).collect()
        })
        .collect()
}

/// What the reference process is sent: the jobs, and the run's
/// [`Settings::cases`], from which the checks draw weights and images.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    cases: u64,
    jobs: Vec<Job>,
}

/// The jobs `request` lists (JSON, as [`run`] writes it), read for the
/// reference process's side, with the settings of the run that sent them
/// installed on this thread.
pub fn jobs(request: &str) -> Result<Vec<Job>, String> {
    let request: Request = serde_json::from_str(request).map_err(|e| format!("cannot read the jobs asked for: {e}"))?;
    Settings { cases: request.cases, ..Settings::default() }.install();
    Ok(request.jobs)
}

/// Writes what the jobs gave to `out`, each name prefixed with its job's
/// index: whole, then written, since libtorch's archive writer counts on
/// every write taking all it is given, which a pipe does not promise.
pub fn write(results: Vec<Tensors>, mut out: impl std::io::Write) -> Result<(), String> {
    let tensors: Tensors =
        results.into_iter().enumerate().flat_map(|(i, t)| t.into_iter().map(move |(n, t)| (format!("{i}.{n}"), t))).collect();
    let mut bytes = Vec::new();
    Tensor::save_multi_to_stream(&tensors, &mut bytes).map_err(|e| format!("cannot write the jobs' tensors: {e}"))?;
    out.write_all(&bytes).and_then(|()| out.flush()).map_err(|e| format!("cannot write the jobs' tensors: {e}"))
}
