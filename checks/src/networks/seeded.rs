//! The reference's training-mode passes under a seed, for the check that
//! compares a student's FCN gradients in training mode with the
//! reference's under the same dropout masks.
//!
//! libtorch draws dropout masks from one generator per process, so "the
//! same masks" means "the same seed, and nobody else drawing in between".
//! A student's pass runs in their runner, which seeds its generator with the
//! seed the check asks for and draws alone. The reference's pass must do
//! the same: it runs in the reference process (`reference_process`).

use fcn_common::FcnConfig;
use tch::{Device, Kind, Tensor, nn, nn::ModuleT};

use super::common::{draw_weights, image, network, trainable};
use super::variants::{Fcn8s, Fcn8sAtOnce, Fcn16s, Variant};

use super::reference_process::{Pass, Tensors};

/// How the reference builds a network.
type Builder = fn(&nn::Path, FcnConfig) -> nn::FuncT<'static>;

/// The variants a [`Pass`] may name, and their reference builders.
const NETWORKS: [(&str, Builder); 3] =
    [(Fcn16s::NAME, Fcn16s::reference), (Fcn8s::NAME, Fcn8s::reference), (Fcn8sAtOnce::NAME, Fcn8sAtOnce::reference)];

/// Runs `pass` in this process: what it gives is every variable's value
/// (`weight.NAME`), the `input`, the `upstream` gradient of the output, the
/// `output` itself and every trainable variable's gradient (`grad.NAME`).
/// Random weights and input, then libtorch
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

