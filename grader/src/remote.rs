//! The student's crate as the checks see it: an [`Implementation`] whose
//! every call crosses over to the runner, a process built from the
//! student's code alone and started in a sandbox.
//!
//! The checks stay as they are, generic over the implementation. What comes
//! back is data (tensors, variable listings, numbers), read strictly: names
//! and shapes are checked against what was asked before a check sees them.
//! When the runner dies or breaks the protocol, the call ends the check with
//! a [`Status`] (crashed) that the grader, not the runner, decided.

use std::cell::{Cell, RefCell};
use std::io::{BufReader, BufWriter};
use std::process::{Child, ChildStdin, ChildStdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use checks::{Bonus, Implementation, Status};
use fcn_common::{Backbone, FcnConfig, FixedUpsampling, VggFeatures, Window};
use ndarray::{Array2, Array4};
use runner_protocol::{Config, Network, Operation, Reply, Request, Score, Tensors, Variable, read_frame_within, write_frame};
use tch::{Device, Kind, Tensor, nn};

/// Most variables a listing may hold (FCN-8s has 40).
const MAX_VARIABLES: usize = 160;

/// Most elements a network built with `fcn` may list, which the grader
/// allocates: twice the largest the release's networks have at that width
/// (FCN-8s: 134.4 million at full width, 21 classes; 40 classes add 0.3
/// million), a width divisor d dividing that by d squared, plus room for a
/// small network's heads. The grader's memory is sized by its own request,
/// never by the runner's listing.
fn network_elements(fcn: FcnConfig) -> i64 {
    const FULL_WIDTH: i64 = 135_000_000;
    let d = fcn.width_divisor.clamp(1, 1 << 10);
    2 * FULL_WIDTH / (d * d) + 4 * fcn.classes.clamp(1, 1 << 10).pow(2) * 16 * 16 + (1 << 20)
}

/// Most elements a fixed upsampling layer of `channels` and `stride` may
/// list: four times its weight.
fn upsampling_elements(channels: i64, stride: i64) -> i64 {
    let kernel = fcn_common::upsampling_kernel_size(stride.clamp(1, 1 << 10));
    4 * (channels.clamp(0, 1 << 12) * kernel).pow(2) + 1024
}

/// A running runner: its pipes, and how to say why it ended.
pub struct Connection {
    pub child: Child,
    pub requests: BufWriter<ChildStdin>,
    pub replies: BufReader<ChildStdout>,
    /// Why the runner ended, from its exit status and what it printed.
    pub autopsy: Box<dyn Fn(std::process::ExitStatus) -> String + Send>,
    /// Set by the watchdog that stopped the runner for running too long.
    pub timed_out: Arc<AtomicBool>,
}

impl Connection {
    /// Stops the runner and everything it started, and reaps it.
    fn stop(&mut self) {
        let _ = self.child.kill();
        crate::worker::kill_group(&self.child);
        let _ = self.child.wait();
    }
}

thread_local! {
    /// The runner this thread's checks talk to, and how it was started.
    static CONNECTION: RefCell<Option<(Connection, crate::worker::RunnerSpec)>> = const { RefCell::new(None) };
}

/// Makes `connection` (started as `spec` says) the runner this thread's
/// checks talk to.
pub fn connect(connection: Connection, spec: crate::worker::RunnerSpec) {
    disconnect();
    CONNECTION.with_borrow_mut(|slot| *slot = Some((connection, spec)));
}

/// Stops this thread's runner, if it has one.
pub fn disconnect() {
    if let Some((mut connection, _)) = CONNECTION.with_borrow_mut(Option::take) {
        connection.stop();
    }
}

/// How this thread's runner was started, if it has one.
pub fn current_spec() -> Option<crate::worker::RunnerSpec> {
    CONNECTION.with_borrow(|slot| slot.as_ref().map(|(_, spec)| spec.clone()))
}

/// Stops this thread's runner after `timeout`, unless the guard it returns
/// is dropped first. A call waiting on a stopped runner ends its check as
/// timed out.
pub fn watchdog(timeout: Duration) -> Option<std::sync::mpsc::Sender<()>> {
    let (pid, flag) = CONNECTION.with_borrow(|slot| {
        slot.as_ref().map(|(connection, _)| (connection.child.id() as libc::pid_t, connection.timed_out.clone()))
    })?;
    let (guard, stop) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(timeout) {
            flag.store(true, Ordering::SeqCst);
            // SAFETY: kill(2) on the runner (bubblewrap, whose sandbox dies
            // with it) and on its process group when it is unsandboxed.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    });
    Some(guard)
}

/// Whether a watchdog stopped this thread's runner.
pub fn stopped_by_watchdog() -> bool {
    CONNECTION.with_borrow(|slot| slot.as_ref().is_some_and(|(connection, _)| connection.timed_out.load(Ordering::SeqCst)))
}

/// Ends the check: the runner broke, and the grader says how.
pub(crate) fn broken(why: String) -> ! {
    std::panic::panic_any(Status::Crashed(why))
}

/// Sends `request` with `tensors`; the reply, or the end of the check.
pub(crate) fn call(request: &Request, tensors: &[(String, Tensor)]) -> (Reply, Tensors) {
    call_within(request, tensors, reply_budget(request))
}

/// [`call`], reading a reply of at most `budget` bytes of tensors.
pub(crate) fn call_within(request: &Request, tensors: &[(String, Tensor)], budget: u64) -> (Reply, Tensors) {
    if let Err(why) = sendable(request, tensors) {
        cannot_send(request, &why);
    }
    let reply = CONNECTION.with_borrow_mut(|slot| {
        let (connection, _) = slot.as_mut().expect("the grader starts a runner before any check");
        let sent = write_frame(&mut connection.requests, request, tensors);
        let reply = match sent {
            Ok(()) => read_frame_within::<Reply>(&mut connection.replies, budget),
            Err(error) => Err(runner_protocol::FrameError::Io(error)),
        };
        match reply {
            Ok(Some((Reply::Done { listing, number }, tensors))) => Ok((Reply::Done { listing, number }, tensors)),
            Ok(Some((other, _))) => Ok((other, Vec::new())),
            Ok(None) | Err(runner_protocol::FrameError::Io(_)) => {
                let _ = connection.child.kill();
                let status = connection.child.wait();
                Err(if connection.timed_out.load(Ordering::SeqCst) {
                    Status::TimedOut(0)
                } else {
                    Status::Crashed(match status {
                        Ok(status) => (connection.autopsy)(status),
                        Err(error) => format!("the runner stopped answering ({error})"),
                    })
                })
            }
            Err(runner_protocol::FrameError::Invalid(why)) => {
                connection.stop();
                Err(Status::Crashed(format!("the runner's reply broke the protocol: {why}")))
            }
        }
    });
    match reply {
        Ok((Reply::NotAttempted, _)) => panic!("not yet implemented"),
        Ok((Reply::Panicked { message }, _)) => panic!("{}", runner_protocol::clean_message(&message)),
        Ok(done) => done,
        Err(status) => std::panic::panic_any(status),
    }
}

/// The most bytes of tensors a reply to `request` may hold: four times what
/// a right answer holds, where the request says how much that is (a wrong
/// shape is then still the student's answer, for the checks to judge), and
/// the protocol's cap otherwise. The grader never reads, nor allocates for,
/// more than its own request can call for.
pub(crate) fn reply_budget(request: &Request) -> u64 {
    const SLACK: u64 = 64 << 10;
    let floats = |elements: u64| elements.saturating_mul(16).saturating_add(SLACK);
    let budget = match *request {
        Request::BilinearFilter { size } => floats((size as u64).saturating_pow(2)),
        Request::UpsamplingWeight { channels, size } => floats((channels as u64 * size as u64).saturating_pow(2)),
        Request::BilinearUpsampling { channels, stride } => {
            let kernel = fcn_common::upsampling_kernel_size(stride.clamp(1, 1 << 10)) as u64;
            floats((channels.max(0) as u64 * kernel).saturating_pow(2))
        }
        Request::BeginTraining { .. } | Request::TrainingData { .. } | Request::StartWeights { .. } => SLACK,
        Request::TrainStage { .. } => SLACK,
        Request::TrainedWeights { count, .. } => (count.max(0) as u64).saturating_mul(4).saturating_add(SLACK),
        _ => runner_protocol::MAX_TENSOR_BYTES,
    };
    budget.min(runner_protocol::MAX_TENSOR_BYTES)
}

/// Whether the protocol can carry `request` with `tensors`: within the
/// frame's caps, which the runner enforces as the grader does.
fn sendable(request: &Request, tensors: &[(String, Tensor)]) -> Result<(), String> {
    let header = serde_json::to_vec(request).map_or(u64::MAX, |json| json.len() as u64);
    let bytes: u64 = tensors.iter().map(|(_, t)| (t.numel() * t.kind().elt_size_in_bytes()) as u64).sum();
    if header > u64::from(runner_protocol::MAX_HEADER_BYTES) {
        Err(format!("a request of {header} bytes (the protocol carries at most {})", runner_protocol::MAX_HEADER_BYTES))
    } else if bytes > runner_protocol::MAX_TENSOR_BYTES {
        Err(format!("{bytes} bytes of tensors (the protocol carries at most {})", runner_protocol::MAX_TENSOR_BYTES))
    } else if tensors.len() > runner_protocol::MAX_TENSORS {
        Err(format!("{} tensors (the protocol carries at most {})", tensors.len(), runner_protocol::MAX_TENSORS))
    } else {
        Ok(())
    }
}

/// The grader's own request does not fit the protocol: the grader's error,
/// never a verdict on the student. It stops with exit status 2.
fn cannot_send(request: &Request, why: &str) -> ! {
    let call = serde_json::to_value(request).ok().and_then(|v| v.get("call").cloned()).unwrap_or_default();
    eprintln!("grader: error: the grader cannot send its request {call} to the runner: {why}; this is the grader's fault, not the student's");
    std::process::exit(2)
}

/// The tensors named in `names`, in that order; each of `kind`, at most 4
/// dimensions. Anything else in the reply ends the check.
pub(crate) fn expect(mut tensors: Tensors, names: &[&str], kind: Kind) -> Vec<Tensor> {
    if tensors.len() != names.len() {
        broken(format!("the runner replied with {} tensors where {} were due", tensors.len(), names.len()));
    }
    names
        .iter()
        .map(|name| {
            let at = tensors.iter().position(|(n, _)| n == name).unwrap_or_else(|| broken(format!("the runner's reply has no {name}")));
            let (_, tensor) = tensors.swap_remove(at);
            if tensor.kind() != kind {
                broken(format!("the runner's {name} is of type {:?}, not {kind:?}", tensor.kind()));
            }
            tensor
        })
        .collect()
}

fn one(request: Request, tensors: &[(String, Tensor)], kind: Kind) -> Tensor {
    let (_, reply) = call(&request, tensors);
    expect(reply, &["output"], kind).remove(0)
}

fn number(request: Request, tensors: &[(String, Tensor)]) -> f64 {
    match call(&request, tensors) {
        (Reply::Done { number: Some(value), .. }, reply) if reply.is_empty() => value,
        _ => broken("the runner's reply has no number".to_owned()),
    }
}

pub(crate) fn config(config: FcnConfig) -> Config {
    Config { classes: config.classes, width_divisor: config.width_divisor }
}

fn arg(name: &str, tensor: &Tensor) -> (String, Tensor) {
    (name.to_owned(), tensor.shallow_clone())
}

/// A variable name as the listing gives it: dot-separated words of letters,
/// digits and underscores.
fn valid_name(name: &str) -> bool {
    name.len() <= 128
        && name.split('.').count() <= 8
        && name.split('.').all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Creates under `path` the variables the runner listed, with the values it
/// sent (zeros where it sent none); returns them, sorted by name. At most
/// `most` elements together: what the request can call for.
fn create(path: &nn::Path, listing: &[Variable], mut values: Tensors, most: i64) -> Vec<(String, Tensor)> {
    if listing.len() > MAX_VARIABLES {
        broken(format!("the runner listed {} variables (at most {MAX_VARIABLES})", listing.len()));
    }
    // The whole listing is read before anything is allocated for it.
    let mut elements = 0i64;
    for Variable { name, shape, .. } in listing {
        if !valid_name(name) || listing.iter().filter(|v| v.name == *name).count() > 1 {
            broken(format!("the runner listed a variable named {:?}", runner_protocol::clean_message(name)));
        }
        if shape.len() > 4 || shape.iter().any(|&d| !(0..=1 << 24).contains(&d)) {
            broken(format!("the runner listed {name} with shape {shape:?}"));
        }
        elements = elements.saturating_add(shape.iter().fold(1i64, |n, &d| n.saturating_mul(d)));
        if elements > most {
            broken(format!("the runner listed more than {most} parameters, more than this network can have"));
        }
    }
    let mut created = Vec::with_capacity(listing.len());
    for variable in listing {
        let Variable { name, shape, trainable } = variable;
        let mut words: Vec<&str> = name.split('.').collect();
        let last = words.pop().expect("a name has a word");
        let make = |parent: &nn::Path| if *trainable { parent.zeros(last, shape) } else { parent.zeros_no_train(last, shape) };
        let mut tensor = match words.split_first() {
            None => make(path),
            Some((first, rest)) => make(&rest.iter().fold(path.sub(*first), |parent, word| parent.sub(*word))),
        };
        if let Some(at) = values.iter().position(|(n, _)| n.strip_prefix("value.") == Some(name.as_str())) {
            let (_, value) = values.swap_remove(at);
            if value.size() != *shape || value.kind() != Kind::Float {
                broken(format!("the runner sent a value for {name} that does not fit its listing"));
            }
            let _guard = tch::no_grad_guard();
            tensor.copy_(&value);
        }
        created.push((name.clone(), tensor));
    }
    if let Some((name, _)) = values.first() {
        broken(format!("the runner sent {name}, which is not a listed variable"));
    }
    created.sort_by(|a, b| a.0.cmp(&b.0));
    created
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
/// as leaves, and the next `fcn_train::train::backward` carries their
/// gradients to `variables`.
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
    fcn_train::train::defer_backward(move || {
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
    });
    leaves
}

thread_local! {
    /// The seed a check asked for the next forward pass on this thread.
    static ASKED_SEED: Cell<Option<i64>> = const { Cell::new(None) };
}

/// A new seed for each forward pass, eval mode included (dropout left on in
/// eval mode then shows as two passes that differ). Drawn from a sequence of
/// this thread's own, not from libtorch's process-wide generator: with
/// `--jobs 2`, a check beside this one reseeding that generator could
/// otherwise hand two passes of this one the same seed.
/// A check that asked for a seed ([`Implementation::seed_next_pass`]) gets
/// it instead, once.
fn next_seed() -> i64 {
    if let Some(seed) = ASKED_SEED.take() {
        return seed;
    }
    thread_local! {
        static STATE: Cell<u64> = Cell::new(checks::check::case_seed(0x5EED) ^ 0x2545_F491_4F6C_DD1D);
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

fn network(path: &nn::Path, network: Network, fcn: FcnConfig) -> nn::FuncT<'static> {
    let variables = build(path, network, fcn);
    nn::func_t(move |xs, train| forward(network, fcn, &variables, xs, train, &["output"]).remove(0))
}

fn tensor_to<D: ndarray::Dimension>(tensor: &Tensor, shape: D) -> ndarray::Array<f32, D> {
    let values: Vec<f32> = Vec::try_from(tensor.flatten(0, -1)).expect("f32 values");
    ndarray::Array::from_shape_vec(shape, values).unwrap_or_else(|_| broken("a reply's shape does not fit its values".into()))
}

fn to_array<D: ndarray::Dimension>(tensor: Tensor, dims: usize, make: impl Fn(&[usize]) -> D) -> ndarray::Array<f32, D> {
    if tensor.dim() != dims {
        // A wrong shape is the student's answer: the checks compare it.
        panic!("the result has {} dimensions, expected {dims}", tensor.dim());
    }
    let shape: Vec<usize> = tensor.size().iter().map(|&d| d as usize).collect();
    tensor_to(&tensor, make(&shape))
}

/// The student's crate, through the runner.
pub struct Remote;

impl Implementation for Remote {
    fn bilinear_filter(size: usize) -> Array2<f32> {
        let output = one(Request::BilinearFilter { size }, &[], Kind::Float);
        to_array(output, 2, |s| ndarray::Dim([s[0], s[1]]))
    }

    fn upsampling_weight(channels: usize, size: usize) -> Array4<f32> {
        let output = one(Request::UpsamplingWeight { channels, size }, &[], Kind::Float);
        to_array(output, 4, |s| ndarray::Dim([s[0], s[1], s[2], s[3]]))
    }

    fn bilinear_upsampling(path: &nn::Path, channels: i64, stride: i64) -> FixedUpsampling {
        let (reply, mut tensors) = call(&Request::BilinearUpsampling { channels, stride }, &[]);
        let Reply::Done { listing, .. } = reply else { unreachable!("call returns Done or ends the check") };
        let at = tensors.iter().position(|(n, _)| n == "stride").unwrap_or_else(|| broken("the runner sent no stride".into()));
        let (_, sent) = tensors.swap_remove(at);
        let got = i64::try_from(sent).unwrap_or_else(|_| broken("the runner's stride is not one integer".into()));
        // The layer's stride sizes what the checks compute with it, in the
        // grader's process: only the stride asked for is taken.
        if got != stride {
            panic!("bilinear_upsampling(path, {channels}, {stride}) made a layer of stride {got}");
        }
        let variables = create(path, &listing, tensors, upsampling_elements(channels, stride));
        let weight = match variables.iter().find(|(n, _)| n == "weight") {
            Some((_, weight)) => weight.shallow_clone(),
            None => panic!("bilinear_upsampling made no variable named weight under its path (it made {:?})", variables.iter().map(|(n, _)| n).collect::<Vec<_>>()),
        };
        FixedUpsampling { weight, stride }
    }

    fn vgg16(path: &nn::Path, fcn: FcnConfig) -> Backbone {
        let variables = build(path, Network::Vgg16, fcn);
        Backbone::new(move |xs, train| {
            let mut features = forward(Network::Vgg16, fcn, &variables, xs, train, &["pool3", "pool4", "fc7"]).into_iter();
            let mut next = || features.next().expect("three features");
            VggFeatures { pool3: next(), pool4: next(), fc7: next() }
        })
    }

    fn fcn32s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        network(path, Network::Fcn32s, config)
    }

    fn fcn16s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        network(path, Network::Fcn16s, config)
    }

    fn fcn8s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        network(path, Network::Fcn8s, config)
    }

    fn fcn8s_atonce(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        network(path, Network::Fcn8sAtOnce, config)
    }

    fn seed_next_pass(seed: i64) {
        ASKED_SEED.set(Some(seed));
    }

    fn train_staged(
        networks: &[checks::Net],
        run: checks::TrainingRun,
    ) -> Result<Vec<(fcn_train::train::Trained, fcn_metrics::Scores)>, String> {
        crate::remote_training::train_staged(networks, run)
    }
}

fn operate(operation: Operation, arguments: &[i64], tensors: &[(String, Tensor)]) -> Tensor {
    let device = tensors.first().map_or(Device::Cpu, |(_, t)| t.device());
    one(Request::Operate { operation, arguments: arguments.to_vec() }, tensors, Kind::Float).to_device(device)
}

fn score(score: Score, hist: &Array2<u64>) -> f64 {
    let counts: Vec<i64> = hist.iter().map(|&c| c as i64).collect();
    let hist = Tensor::from_slice(&counts).reshape([hist.nrows() as i64, hist.ncols() as i64]);
    number(Request::Score { score }, &[("hist".to_owned(), hist)])
}

impl Bonus for Remote {
    fn insert_zeros(input: &Tensor, stride: [i64; 2]) -> Tensor {
        operate(Operation::InsertZeros, &stride, &[arg("input", input)])
    }

    fn conv_transpose_by_zero_insertion(input: &Tensor, weight: &Tensor, stride: [i64; 2], padding: [i64; 2]) -> Tensor {
        operate(Operation::ConvTransposeByZeroInsertion, &[stride, padding].concat(), &[arg("input", input), arg("weight", weight)])
    }

    fn convolution_matrix(weight: &Tensor, input_size: [i64; 2], stride: [i64; 2], padding: [i64; 2]) -> Tensor {
        operate(Operation::ConvolutionMatrix, &[input_size, stride, padding].concat(), &[arg("weight", weight)])
    }

    fn conv_transpose_by_matrix(input: &Tensor, weight: &Tensor, stride: [i64; 2], padding: [i64; 2]) -> Tensor {
        operate(Operation::ConvTransposeByMatrix, &[stride, padding].concat(), &[arg("input", input), arg("weight", weight)])
    }

    fn nearest_unpool(input: &Tensor, factor: i64) -> Tensor {
        operate(Operation::NearestUnpool, &[factor], &[arg("input", input)])
    }

    fn bed_of_nails_unpool(input: &Tensor, factor: i64) -> Tensor {
        operate(Operation::BedOfNailsUnpool, &[factor], &[arg("input", input)])
    }

    fn max_unpool(input: &Tensor, indices: &Tensor, output_size: [i64; 2]) -> Tensor {
        operate(Operation::MaxUnpool, &output_size, &[arg("indices", indices), arg("input", input)])
    }

    fn spread_filter(weight: &Tensor, dilation: [i64; 2]) -> Tensor {
        operate(Operation::SpreadFilter, &dilation, &[arg("weight", weight)])
    }

    fn dilated_conv2d(input: &Tensor, weight: &Tensor, stride: [i64; 2], padding: [i64; 2], dilation: [i64; 2]) -> Tensor {
        operate(Operation::DilatedConv2d, &[stride, padding, dilation].concat(), &[arg("input", input), arg("weight", weight)])
    }

    fn receptive_field(layers: &[Window]) -> i64 {
        let layers = layers.iter().map(|w| [w.kernel, w.stride, w.dilation]).collect();
        let value = number(Request::ReceptiveField { layers }, &[]);
        if value.fract() != 0.0 || value.abs() > 1e15 {
            broken(format!("the runner's receptive field {value} is not an integer"));
        }
        value as i64
    }

    fn confusion_matrix(truth: &Array2<u8>, prediction: &Array2<u8>, classes: usize) -> Array2<u64> {
        let labels = |a: &Array2<u8>| {
            let values: Vec<u8> = a.iter().copied().collect();
            Tensor::from_slice(&values).reshape([a.nrows() as i64, a.ncols() as i64])
        };
        let output = one(
            Request::ConfusionMatrix { classes },
            &[("prediction".to_owned(), labels(prediction)), ("truth".to_owned(), labels(truth))],
            Kind::Int64,
        );
        if output.dim() != 2 {
            panic!("the confusion matrix has {} dimensions, expected 2", output.dim());
        }
        let size = output.size();
        let counts: Vec<i64> = Vec::try_from(output.flatten(0, -1)).expect("i64 counts");
        if counts.iter().any(|&c| c < 0) {
            panic!("the confusion matrix has a negative count");
        }
        Array2::from_shape_vec((size[0] as usize, size[1] as usize), counts.into_iter().map(|c| c as u64).collect())
            .expect("a shape that fits")
    }

    fn pixel_accuracy(hist: &Array2<u64>) -> f64 {
        score(Score::PixelAccuracy, hist)
    }

    fn mean_accuracy(hist: &Array2<u64>) -> f64 {
        score(Score::MeanAccuracy, hist)
    }

    fn mean_iu(hist: &Array2<u64>) -> f64 {
        score(Score::MeanIu, hist)
    }

    fn frequency_weighted_iu(hist: &Array2<u64>) -> f64 {
        score(Score::FrequencyWeightedIu, hist)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_read_within_what_its_request_can_call_for() {
        // A 64x64 filter is 16 KiB; a reply of the protocol's cap, 512 MiB,
        // is refused before it is read.
        assert!(reply_budget(&Request::BilinearFilter { size: 64 }) < 1 << 20);
        assert!(reply_budget(&Request::UpsamplingWeight { channels: 21, size: 64 }) < 64 << 20);
        // A stride the runner chose cannot size the budget: the request's does.
        assert!(reply_budget(&Request::BilinearUpsampling { channels: 3, stride: 2 }) < 1 << 20);
        assert!(reply_budget(&Request::BilinearUpsampling { channels: 3, stride: i64::MAX }) <= runner_protocol::MAX_TENSOR_BYTES);
        // A piece of trained weights: what was asked for, not the cap.
        let piece = Request::TrainedWeights { name: "fc6.weight".into(), offset: 0, count: crate::remote_training::PIECE };
        assert!(reply_budget(&piece) < (4 * crate::remote_training::PIECE as u64) + (1 << 20));
        assert!(reply_budget(&Request::BeginTraining { device: runner_protocol::Compute::Cpu }) < 1 << 20);
    }

    /// What `create` says of `listing`, or None when it accepts it.
    fn refused(listing: &[Variable], most: i64) -> Option<String> {
        let store = nn::VarStore::new(Device::Cpu);
        let root = store.root();
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| create(&root, listing, Vec::new(), most)));
        match made {
            Ok(_) => None,
            Err(payload) => match payload.downcast::<Status>() {
                Ok(status) => Some(format!("{status:?}")),
                Err(_) => Some("another panic".into()),
            },
        }
    }

    #[test]
    fn a_listing_is_held_to_what_its_network_can_have() {
        let variable = |name: &str, shape: Vec<i64>| Variable { name: name.into(), shape, trainable: true };
        // The release's largest network fits at every width and class count
        // the checks ask for, with room for a wrong one twice as large...
        for (classes, d) in [(21, 1), (40, 1), (2, 16), (40, 4)] {
            let fcn = FcnConfig { classes, width_divisor: d };
            assert!(network_elements(fcn) > 2 * 134_362_751 / (d * d), "{fcn:?}");
        }
        // ...and far less than the runner could announce: the grader
        // allocates what it accepts. (Small listings, so that the test
        // allocates little; the cap is the same code at any size.)
        let fcn = FcnConfig { classes: 21, width_divisor: 64 };
        let most = network_elements(fcn);
        assert!(most < 2 << 20, "{most}");
        assert_eq!(refused(&[variable("fc6.weight", vec![most])], most), None);
        let over = refused(&[variable("fc6.weight", vec![most]), variable("fc7.weight", vec![1])], most);
        assert!(over.is_some_and(|why| why.contains("more than")));
        // Dimensions whose product overflows are refused, not wrapped.
        let huge = vec![1 << 24, 1 << 24, 1 << 24, 1 << 24];
        assert!(refused(&[variable("w", huge)], most).is_some());
        // An upsampling layer lists its weight alone.
        assert!(upsampling_elements(21, 32) >= 21 * 21 * 64 * 64);
        assert!(upsampling_elements(21, 32) < 4 * 21 * 21 * 64 * 64 + 2048);
    }

    #[test]
    fn a_request_the_protocol_cannot_carry_is_known_before_it_is_sent() {
        // A full-width FCN-8s's weights in one frame: 537 MB, over the cap.
        // (Never written to: the pages are not touched.)
        let weights = Tensor::empty([134_400_000], (Kind::Float, Device::Cpu));
        let request = Request::Forward {
            network: Network::Fcn8s,
            config: Config { classes: 21, width_divisor: 1 },
            train: true,
            seed: 0,
            keep: true,
            taps: false,
        };
        let refused = sendable(&request, &[("weight.all".to_owned(), weights.shallow_clone())]);
        assert!(matches!(refused, Err(ref why) if why.contains("537600000 bytes of tensors")), "{refused:?}");
        // The same weights in the training path's pieces each fit.
        let piece = weights.narrow(0, 0, crate::remote_training::PIECE);
        let start = Request::StartWeights { name: "fc6.weight".into(), shape: vec![134_400_000], offset: 0 };
        assert_eq!(sendable(&start, &[("piece".to_owned(), piece)]), Ok(()));
    }
}
