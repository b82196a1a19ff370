//! The reference's training-mode passes under a seed, for the check that
//! compares a student's FCN gradients in training mode with the
//! reference's under the same dropout masks.
//!
//! libtorch draws dropout masks from one generator per process, so "the
//! same masks" means "the same seed, and nobody else drawing in between".
//! A student's pass runs in their runner, which seeds its generator with the
//! seed the check asks for and draws alone. The reference's pass must do
//! the same; in the grader, where checks run side by side on several
//! threads, it runs in a process of its own ([`Settings::reference_process`],
//! the grader's `reference-pass` command, which calls [`serve`]). Where no
//! such program is set (the kit's own tests), it runs here, and
//! [`crate::run`] runs the check with no other check beside it.

use std::io::{Cursor, Write};
use std::process::{Command, Stdio};

use fcn_common::FcnConfig;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor, nn, nn::ModuleT};

use super::common::{draw_weights, image, network, trainable};
use super::variants::{Fcn8s, Fcn8sAtOnce, Fcn16s, Variant};
use crate::check::{Settings, Status};

/// One training-mode pass of a reference network: which, how wide, on
/// what, and the seed its dropout masks are drawn from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    /// [`Variant::NAME`]: FCN-16s, FCN-8s or FCN-8s at once.
    pub network: String,
    pub classes: i64,
    pub width_divisor: i64,
    /// The input batch: (images, height, width).
    pub input: (i64, i64, i64),
    /// libtorch's seed just before the pass.
    pub masks: i64,
}

/// What a [`Pass`] gives: every variable's value (`weight.NAME`), the
/// `input`, the `upstream` gradient of the output, the `output` itself and
/// every trainable variable's gradient (`grad.NAME`).
pub type Tensors = Vec<(String, Tensor)>;

/// How the reference builds a network.
type Builder = fn(&nn::Path, FcnConfig) -> nn::FuncT<'static>;

/// The variants a [`Pass`] may name, and their reference builders.
const NETWORKS: [(&str, Builder); 3] =
    [(Fcn16s::NAME, Fcn16s::reference), (Fcn8s::NAME, Fcn8s::reference), (Fcn8sAtOnce::NAME, Fcn8sAtOnce::reference)];

/// Runs `pass` in this process: random weights and input, then libtorch
/// seeded with `pass.masks`, the forward pass in training mode and the
/// backward pass of a random upstream gradient. Nothing else may draw from
/// libtorch's generator meanwhile.
pub fn reference_pass(pass: &Pass) -> Result<Tensors, String> {
    let Some(&(_, reference)) = NETWORKS.iter().find(|(name, _)| *name == pass.network) else {
        return Err(format!("no network called {:?} (one of FCN-16s, FCN-8s, FCN-8s at once)", pass.network));
    };
    let config = FcnConfig { classes: pass.classes, width_divisor: pass.width_divisor };
    let (store, net) = network(reference, config);
    draw_weights(&store);
    let (n, h, w) = pass.input;
    let xs = image(n, h, w);
    tch::manual_seed(pass.masks);
    let output = net.forward_t(&xs, true);
    tch::manual_seed(pass.masks ^ 0x0F0F);
    let upstream = Tensor::randn(output.size(), (Kind::Float, Device::Cpu));
    (&output * &upstream).sum(Kind::Float).backward();
    let mut tensors: Tensors = store.variables().into_iter().map(|(name, v)| (format!("weight.{name}"), v.detach())).collect();
    tensors.extend(trainable(&store).into_iter().map(|(name, v)| (format!("grad.{name}"), v.grad())));
    tensors.extend([("input".to_owned(), xs), ("upstream".to_owned(), upstream), ("output".to_owned(), output.detach())]);
    Ok(tensors)
}

/// Runs `passes`, in the process [`Settings::reference_process`] names or
/// else here. A reference process that fails ends the check as skipped:
/// the grader's fault costs the student nothing.
pub fn reference_passes(passes: &[Pass]) -> Vec<Tensors> {
    let Some(program) = Settings::current().reference_process else {
        return passes.iter().map(|pass| reference_pass(pass).unwrap_or_else(|why| panic!("{why}"))).collect();
    };
    let skipped = |why: String| -> ! {
        std::panic::panic_any(Status::Skipped(format!(
            "the grader could not run the reference's training passes in a process of their own ({why}); this \
             check is left out of the score"
        )))
    };
    let request = serde_json::to_string(passes).expect("passes serialise");
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
    (0..passes.len())
        .map(|i| {
            let prefix = format!("{i}.");
            tensors.iter().filter_map(|(name, t)| Some((name.strip_prefix(&prefix)?.to_owned(), t.shallow_clone()))).collect()
        })
        .collect()
}

/// The reference process's side: runs the passes `request` lists (JSON, as
/// [`reference_passes`] writes it) on one thread and writes what they give
/// to `out`, each name prefixed with its pass's index.
pub fn serve(request: &str, mut out: impl Write) -> Result<(), String> {
    let passes: Vec<Pass> = serde_json::from_str(request).map_err(|e| format!("cannot read the passes asked for: {e}"))?;
    tch::set_num_threads(1);
    let mut tensors = Vec::new();
    for (i, pass) in passes.iter().enumerate() {
        tensors.extend(reference_pass(pass)?.into_iter().map(|(name, t)| (format!("{i}.{name}"), t)));
    }
    // Whole, then written: libtorch's archive writer counts on every write
    // taking all it is given, which a pipe does not promise.
    let mut bytes = Vec::new();
    Tensor::save_multi_to_stream(&tensors, &mut bytes).map_err(|e| format!("cannot write the passes' tensors: {e}"))?;
    out.write_all(&bytes).and_then(|()| out.flush()).map_err(|e| format!("cannot write the passes' tensors: {e}"))
}
