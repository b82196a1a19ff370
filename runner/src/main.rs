//! `runner`: a student's exercises, behind a pipe.
//!
//! The grader builds this binary from the hand-out's crates and the
//! student's exercise files alone, starts it in a sandbox, and sends it
//! requests (see `runner_protocol`). For each, the runner calls the
//! student's function on the inputs and weights it was sent and replies
//! with what the function computed. It never sees the reference, the checks
//! or a verdict, and nothing it prints is read as a result: its replies go
//! to a pipe of their own, and what student code prints goes to stderr.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::os::fd::FromRawFd;
use std::panic::{self, AssertUnwindSafe};

use fcn_common::FcnConfig;
use runner_protocol::wire::Incoming;
use runner_protocol::{Config, Network, Reply, Request, Tensors, Variable, read_frame, write_frame};
use tch::{Device, Kind, Tensor, nn};

/// A forward pass kept for one backward pass: the store (whose variables
/// collect the gradients) and the outputs.
struct Kept {
    store: nn::VarStore,
    outputs: Tensors,
}

mod confine;
mod dispatch;
mod training;

/// What the runner keeps between requests.
#[derive(Default)]
struct State {
    kept: Option<Kept>,
    training: Option<training::Session>,
}

fn main() {
    let replies = reply_pipe();
    // Before any student code runs: threads only, no process.
    if let Err(why) = confine::forbid_processes() {
        eprintln!("runner: {why}");
        std::process::exit(3);
    }
    panic::set_hook(Box::new(|_| {}));
    if let Some(threads) = std::env::var("FCN_RUNNER_THREADS").ok().and_then(|t| t.parse().ok()) {
        tch::set_num_threads(threads);
    }
    let mut requests = BufReader::new(std::io::stdin().lock());
    let mut replies = BufWriter::new(replies);
    let mut state = State::default();
    loop {
        let (request, tensors) = match read_frame::<Request>(&mut requests) {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(error) => {
                eprintln!("runner: a request it cannot read: {error}");
                std::process::exit(3);
            }
        };
        let (reply, out) = match panic::catch_unwind(AssertUnwindSafe(|| answer(request, tensors, &mut state))) {
            Ok(done) => done,
            Err(payload) => {
                let message = runner_protocol::panic_message(payload.as_ref());
                if message.starts_with("not yet implemented") {
                    (Reply::NotAttempted, Vec::new())
                } else {
                    (Reply::Panicked { message: runner_protocol::clean_message(&message) }, Vec::new())
                }
            }
        };
        if let Err(error) = write_frame(&mut replies, &reply, &out) {
            eprintln!("runner: cannot reply: {error}");
            std::process::exit(3);
        }
    }
}

/// The pipe the grader reads replies from: the stdout the runner was
/// started with. From here on, stdout is stderr, so that whatever student
/// code prints cannot mix with the replies.
fn reply_pipe() -> File {
    // SAFETY: dup and dup2 on the process's own standard descriptors; the
    // new descriptor is owned by the File from here on.
    unsafe {
        let fd = libc::dup(1);
        assert!(fd >= 0 && libc::dup2(2, 1) == 1, "runner: cannot set up its reply pipe");
        File::from_raw_fd(fd)
    }
}


fn done(tensors: Tensors) -> (Reply, Tensors) {
    (Reply::Done { listing: Vec::new(), number: None }, tensors)
}

fn answer(request: Request, tensors: Tensors, state: &mut State) -> (Reply, Tensors) {
    let State { kept, training } = state;
    let mut named: HashMap<String, Tensor> = tensors.into_iter().collect();
    let mut take = |name: &str| named.remove(name).unwrap_or_else(|| panic!("the grader sent no tensor {name}"));
    match request {
        Request::Call { function, integers } => dispatch::call(function, Incoming::new(integers, named.drain().collect())),
        Request::Layer { layer, integers } => {
            let store = nn::VarStore::new(Device::Cpu);
            let held = dispatch::layer(layer, Incoming::new(integers, named.drain().collect()), &store);
            let (listing, mut values) = listing(&store, true);
            values.extend(held);
            (Reply::Done { listing, number: None }, values)
        }
        Request::Build { network, config, values } => {
            tch::manual_seed(0);
            let store = nn::VarStore::new(Device::Cpu);
            let _network = build(network, &store, config);
            let (listing, values) = listing(&store, values);
            (Reply::Done { listing, number: None }, values)
        }
        Request::Forward { network, config, train, seed, keep, taps } => {
            *kept = None;
            tch::manual_seed(0);
            let store = nn::VarStore::new(Device::Cpu);
            let forward = build(network, &store, config);
            {
                let _guard = tch::no_grad_guard();
                for (name, mut variable) in store.variables() {
                    let value = take(&format!("weight.{name}"));
                    assert!(
                        value.size() == variable.size(),
                        "{name} has shape {:?} here and {:?} in the weights sent",
                        variable.size(),
                        value.size()
                    );
                    variable.copy_(&value);
                }
            }
            let input = take("input");
            tch::manual_seed(seed);
            let run = || {
                let _guard = (!keep).then(tch::no_grad_guard);
                forward(&input, train)
            };
            let (outputs, tapped) = if taps { fcn_common::taps::recording(run) } else { (run(), Vec::new()) };
            let mut reply: Tensors = outputs.iter().map(|(n, t)| (n.clone(), t.detach())).collect();
            reply.extend(tapped.into_iter().map(|(n, t)| (format!("tap.{n}"), t.detach())));
            if keep {
                *kept = Some(Kept { store, outputs });
            }
            done(reply)
        }
        Request::Backward => {
            let Kept { store, outputs } = kept.take().expect("a backward pass needs a kept forward pass before it");
            let mut total = Tensor::zeros([], (Kind::Float, Device::Cpu));
            for (name, output) in &outputs {
                total += (output * take(name)).sum(Kind::Float);
            }
            total.backward();
            let mut grads: Tensors = store
                .variables()
                .into_iter()
                .filter(|(_, v)| v.requires_grad() && v.grad().defined())
                .map(|(name, v)| (format!("grad.{name}"), v.grad()))
                .collect();
            grads.sort_by(|a, b| a.0.cmp(&b.0));
            done(grads)
        }
        Request::LossGradient => {
            let grad = fcn_train::train::loss_gradient(exercises::loss::pixel_loss, &take("scores"), &take("labels"));
            done(grad.map(|grad| ("grad".into(), grad.detach())).into_iter().collect())
        }
        Request::BeginTraining { device } => {
            *kept = None;
            *training = None;
            *training = Some(training::Session::begin(device));
            done(Vec::new())
        }
        Request::TrainingData { split } => {
            let masks = (split == runner_protocol::Split::Train).then(|| take("masks"));
            session(training).data(split, take("images"), masks);
            done(Vec::new())
        }
        Request::StartWeights { name, shape, offset } => {
            session(training).start_weights(&name, &shape, offset, &take("piece"));
            done(Vec::new())
        }
        Request::TrainStage { network, config, training: schedule } => {
            session(training).train_stage(network, config, schedule)
        }
        Request::TrainedWeights { name, offset, count } => {
            done(vec![("output".into(), session(training).weights(&name, offset, count))])
        }
    }
}

fn session(training: &mut Option<training::Session>) -> &mut training::Session {
    training.as_mut().expect("a training run begins with BeginTraining")
}

/// Builds `network` at the root of `store`.
fn build(network: Network, store: &nn::VarStore, config: Config) -> dispatch::Forward {
    dispatch::network(network, store, FcnConfig { classes: config.classes, width_divisor: config.width_divisor })
}

/// Every variable's name, shape and whether it trains, sorted by name; and
/// the values of the fixed ones (of all of them with `all_values`).
fn listing(store: &nn::VarStore, all_values: bool) -> (Vec<Variable>, Tensors) {
    let mut variables: Vec<(String, Tensor)> = store.variables().into_iter().collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    let listing = variables
        .iter()
        .map(|(name, t)| Variable { name: name.clone(), shape: t.size(), trainable: t.requires_grad() })
        .collect();
    let values = variables
        .into_iter()
        .filter(|(_, t)| all_values || !t.requires_grad())
        .map(|(name, t)| (format!("value.{name}"), t.detach()))
        .collect();
    (listing, values)
}
