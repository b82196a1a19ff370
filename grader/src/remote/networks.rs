//! A student's networks as the checks see them: variables listed by the
//! runner and made here, forward passes run there on the values sent, and
//! gradients carried back through the pass the runner kept.

use std::cell::{Cell, RefCell};

use fcn_common::{Backbone, FcnConfig, VggFeatures};
use runner_protocol::{Network, Reply, Request, Tensors};
use tch::{Device, Kind, Tensor, nn};

use super::variables::{create, network_elements, valid_name};
use super::connection::{broken, call, config, expect};

/// What a network of the exercises is, made from the runner's.
pub(super) trait RemoteNetwork {
    /// Builds `network` in the runner and its variables under `path`.
    fn remote(path: &nn::Path, network: Network, fcn: FcnConfig) -> Self;
}

impl RemoteNetwork for Backbone {
    fn remote(path: &nn::Path, network: Network, fcn: FcnConfig) -> Backbone {
        let variables = build(path, network, fcn);
        Backbone::new(move |xs, train| {
            let mut features = forward(network, fcn, &variables, xs, train, &["pool3", "pool4", "fc7"]).into_iter();
            let mut next = || features.next().expect("three features");
            VggFeatures { pool3: next(), pool4: next(), fc7: next() }
        })
    }
}

impl RemoteNetwork for nn::FuncT<'static> {
    fn remote(path: &nn::Path, network: Network, fcn: FcnConfig) -> nn::FuncT<'static> {
        let variables = build(path, network, fcn);
        nn::func_t(move |xs, train| forward(network, fcn, &variables, xs, train, &["output"]).remove(0))
    }
}

/// Builds `network` in the runner and its variables under `path`; returns
/// them. Narrow networks come with every value; full-width ones with the
/// fixed values alone (the checks only count their parameters).
fn build(path: &nn::Path, network: Network, fcn: FcnConfig) -> Vec<(String, Tensor)> {
    let request = Request::Build { network, config: config(fcn), values: fcn.width_divisor >= 4 };
    match call(&request, &[]) {
        (Reply::Done { listing, .. }, values) => create(path, &listing, values, network_elements(fcn)),
        _ => unreachable!("call returns Done or ends the check"),
    }
}

/// One forward pass in the runner, on the current values of `variables`.
/// In training mode, or in eval mode with autograd on, the outputs come back
/// as leaves, and the next [`backward`] carries their gradients to
/// `variables`.
fn forward(network: Network, fcn: FcnConfig, variables: &[(String, Tensor)], xs: &Tensor, train: bool, outputs: &[&str]) -> Vec<Tensor> {
    let seed = next_seed();
    // A pass whose gradients someone may ask for keeps its graph in the
    // runner: every training-mode pass, and an eval-mode one outside no_grad.
    let keep = train || grad_enabled();
    let mut tensors: Tensors = variables.iter().map(|(n, t)| (format!("weight.{n}"), t.detach())).collect();
    tensors.push(("input".to_owned(), xs.detach()));
    let taps = fcn_common::taps::is_recording();
    let request = Request::Forward { network, config: config(fcn), train, seed, keep, taps };
    let (_, reply) = call(&request, &tensors);
    let (tapped, reply): (Tensors, Tensors) = reply.into_iter().partition(|(name, _)| name.starts_with("tap."));
    retap(tapped, taps);
    let device = xs.device();
    let results: Vec<Tensor> = expect(reply, outputs, Kind::Float).into_iter().map(|t| t.to_device(device)).collect();
    if !keep {
        return results;
    }
    // Each output a leaf; the gradients they receive go back to the runner,
    // which carries them through the network it kept.
    let leaves: Vec<Tensor> = results.iter().map(|r| r.detach().set_requires_grad(true)).collect();
    let trainable: Vec<(String, Tensor)> =
        variables.iter().filter(|(_, t)| t.requires_grad()).map(|(n, t)| (n.clone(), t.shallow_clone())).collect();
    let names: Vec<String> = outputs.iter().map(|n| n.to_string()).collect();
    let received: Vec<Tensor> = leaves.iter().map(Tensor::shallow_clone).collect();
    DEFERRED.with_borrow_mut(|steps| steps.push(Box::new(move || {
        if received.iter().all(|leaf| !leaf.grad().defined()) {
            return;
        }
        let upstream: Tensors = names
            .iter()
            .zip(&received)
            .map(|(name, leaf)| {
                let grad = leaf.grad();
                (name.clone(), if grad.defined() { grad } else { leaf.zeros_like() })
            })
            .collect();
        let (_, grads) = call(&Request::Backward, &upstream);
        let mut surrogate = Tensor::zeros([], (Kind::Float, device));
        for (name, grad) in grads {
            let Some((_, variable)) = trainable.iter().find(|(n, _)| name.strip_prefix("grad.") == Some(n.as_str())) else {
                broken(format!("the runner sent {name}, which is not a trainable variable"))
            };
            if grad.size() != variable.size() || grad.kind() != Kind::Float {
                broken(format!("the runner sent {name} in a shape that is not its variable's"));
            }
            // d/dv of sum(v * g) is g: this puts the runner's gradient into v.grad.
            surrogate += (variable * grad.to_device(device)).sum(Kind::Float);
        }
        if surrogate.requires_grad() {
            surrogate.backward();
        }
    })));
    leaves
}

thread_local! {
    /// The seed a check asked for the next forward pass on this thread.
    static ASKED_SEED: Cell<Option<i64>> = const { Cell::new(None) };
    /// The steps that carry gradients over to the runners' networks, one
    /// per pass since the last [`backward`].
    static DEFERRED: RefCell<Vec<Box<dyn FnOnce()>>> = RefCell::new(Vec::new());
}

/// The next forward pass on this thread draws its masks from `seed`.
pub(super) fn seed_next_pass(seed: i64) {
    ASKED_SEED.set(Some(seed));
}

/// `loss.backward()`, then each pass's step since the last: a network whose
/// forward pass ran in the runner handed back its outputs as leaves, and
/// the step carries the gradient those leaves received over to the runner
/// and back into the network's variables here.
pub(super) fn backward(loss: &Tensor) {
    loss.backward();
    for step in DEFERRED.with_borrow_mut(std::mem::take) {
        step();
    }
}

/// A new seed for each forward pass, eval mode included (dropout left on in
/// eval mode then shows as two passes that differ). Drawn from a sequence of
/// this thread's own, not from libtorch's process-wide generator: with
/// `--jobs 2`, a check beside this one reseeding that generator could
/// otherwise hand two passes of this one the same seed.
/// A check that asked for a seed ([`checks::Implementation::seed_next_pass`]) gets
/// it instead, once.
fn next_seed() -> i64 {
    if let Some(seed) = ASKED_SEED.take() {
        return seed;
    }
    thread_local! {
        static STATE: Cell<u64> = Cell::new(checks::check::case_seed("runner passes") ^ 0x2545_F491_4F6C_DD1D);
    }
    STATE.with(|state| {
        // splitmix64
        let next = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 24) as i64
    })
}

/// Whether autograd records on this thread (false under `no_grad_guard`).
fn grad_enabled() -> bool {
    (Tensor::ones([], (Kind::Float, Device::Cpu)).set_requires_grad(true) * 1.0).requires_grad()
}

/// Hands the layers the runner's network named (`tap.<name>`) to this
/// thread's recording, where the checks compare them with the reference's.
/// They only ever explain a difference; they never decide a verdict.
fn retap(tapped: Tensors, asked: bool) {
    let most = if asked { fcn_common::taps::MAX_TAPS } else { 0 };
    if tapped.len() > most {
        broken(format!("the runner sent {} named layers where at most {most} were asked for", tapped.len()));
    }
    for (name, tensor) in tapped {
        let layer = name.strip_prefix("tap.").expect("a tap");
        if !valid_name(layer) || tensor.kind() != Kind::Float {
            broken(format!("the runner sent a named layer {:?} of type {:?}", runner_protocol::clean_message(layer), tensor.kind()));
        }
        let _ = fcn_common::tap(layer, tensor);
    }
}

