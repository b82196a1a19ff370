//! `runner`: a student's exercises, behind a pipe.
//!
//! The grader builds this binary from the hand-out's crates and the
//! student's exercise files alone, starts it in a sandbox, and sends it
//! requests (see `runner_protocol`). For each, the runner calls the
//! student's function on the inputs and weights it was sent and replies
//! with what the function computed. It never sees the reference, the checks
//! or a verdict, and nothing it prints is read as a result: its replies go
//! to a pipe of their own, and what student code prints goes to stderr.

use std::any::Any;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::os::fd::FromRawFd;
use std::panic::{self, AssertUnwindSafe};

use fcn_common::{FcnConfig, Window};
use ndarray::Array2;
use runner_protocol::{Config, Network, Operation, Reply, Request, Score, Tensors, Variable, read_frame, write_frame};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor, nn};

/// A forward pass kept for one backward pass: the store (whose variables
/// collect the gradients) and the outputs.
struct Kept {
    store: nn::VarStore,
    outputs: Tensors,
}

mod confine;
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
                let message = panic_message(payload.as_ref());
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

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a value that is not a message".to_owned()
    }
}

fn done(tensors: Tensors) -> (Reply, Tensors) {
    (Reply::Done { listing: Vec::new(), number: None }, tensors)
}

fn number(value: f64) -> (Reply, Tensors) {
    (Reply::Done { listing: Vec::new(), number: Some(value) }, Vec::new())
}

fn answer(request: Request, tensors: Tensors, state: &mut State) -> (Reply, Tensors) {
    let State { kept, training } = state;
    let mut named: HashMap<String, Tensor> = tensors.into_iter().collect();
    let mut take = |name: &str| named.remove(name).unwrap_or_else(|| panic!("the grader sent no tensor {name}"));
    use exercises::*;
    match request {
        Request::BilinearFilter { size } => done(vec![("output".into(), tensor(bilinear::bilinear_filter(size)))]),
        Request::UpsamplingWeight { channels, size } => {
            done(vec![("output".into(), tensor(bilinear::upsampling_weight(channels, size)))])
        }
        Request::BilinearUpsampling { channels, stride } => {
            let store = nn::VarStore::new(Device::Cpu);
            let layer = bilinear::bilinear_upsampling(&store.root(), channels, stride);
            let (listing, mut values) = listing(&store, true);
            values.push(("stride".into(), Tensor::from_slice(&[layer.stride])));
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
        Request::Operate { operation, arguments } => {
            let pair = |at: usize| [arguments[at], arguments[at + 1]];
            let output = match operation {
                Operation::InsertZeros => transposed::insert_zeros(&take("input"), pair(0)),
                Operation::ConvTransposeByZeroInsertion => {
                    transposed::conv_transpose_by_zero_insertion(&take("input"), &take("weight"), pair(0), pair(2))
                }
                Operation::ConvolutionMatrix => {
                    transposed::convolution_matrix(&take("weight"), pair(0), pair(2), pair(4))
                }
                Operation::ConvTransposeByMatrix => {
                    transposed::conv_transpose_by_matrix(&take("input"), &take("weight"), pair(0), pair(2))
                }
                Operation::NearestUnpool => unpooling::nearest_unpool(&take("input"), arguments[0]),
                Operation::BedOfNailsUnpool => unpooling::bed_of_nails_unpool(&take("input"), arguments[0]),
                Operation::MaxUnpool => unpooling::max_unpool(&take("input"), &take("indices"), pair(0)),
                Operation::SpreadFilter => dilated::spread_filter(&take("weight"), pair(0)),
                Operation::DilatedConv2d => {
                    dilated::dilated_conv2d(&take("input"), &take("weight"), pair(0), pair(2), pair(4))
                }
            };
            done(vec![("output".into(), output)])
        }
        Request::ReceptiveField { layers } => {
            let layers: Vec<Window> =
                layers.iter().map(|&[kernel, stride, dilation]| Window { kernel, stride, dilation }).collect();
            number(dilated::receptive_field(&layers) as f64)
        }
        Request::ConfusionMatrix { classes } => {
            let (truth, prediction) = (labels(&take("truth")), labels(&take("prediction")));
            let hist = metrics::confusion_matrix(&truth, &prediction, classes);
            let counts: Vec<i64> = hist.iter().map(|&c| c as i64).collect();
            let shape = [hist.nrows() as i64, hist.ncols() as i64];
            done(vec![("output".into(), Tensor::from_slice(&counts).reshape(shape))])
        }
        Request::Score { score } => {
            let hist = take("hist");
            let size = hist.size();
            let counts: Vec<i64> = Vec::try_from(hist.flatten(0, -1)).expect("i64 counts");
            let hist = Array2::from_shape_vec((size[0] as usize, size[1] as usize), counts.iter().map(|&c| c as u64).collect())
                .expect("a square matrix");
            number(match score {
                Score::PixelAccuracy => metrics::pixel_accuracy(&hist),
                Score::MeanAccuracy => metrics::mean_accuracy(&hist),
                Score::MeanIu => metrics::mean_iu(&hist),
                Score::FrequencyWeightedIu => metrics::frequency_weighted_iu(&hist),
            })
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

/// A network's forward pass: its named outputs.
type Forward = Box<dyn Fn(&Tensor, bool) -> Tensors>;

/// Builds `network` at the root of `store`.
fn build(network: Network, store: &nn::VarStore, config: Config) -> Forward {
    use exercises::*;
    let (path, config) = (store.root(), FcnConfig { classes: config.classes, width_divisor: config.width_divisor });
    let fcn = |net: nn::FuncT<'static>| -> Forward { Box::new(move |xs, train| vec![("output".into(), net.forward_t(xs, train))]) };
    match network {
        Network::Vgg16 => {
            let backbone = vgg::vgg16(&path, config);
            Box::new(move |xs, train| {
                let features = backbone.forward_t(xs, train);
                vec![("fc7".into(), features.fc7), ("pool3".into(), features.pool3), ("pool4".into(), features.pool4)]
            })
        }
        Network::Fcn32s => fcn(fcn32s::fcn32s(&path, config)),
        Network::Fcn16s => fcn(fcn16s::fcn16s(&path, config)),
        Network::Fcn8s => fcn(fcn8s::fcn8s(&path, config)),
        Network::Fcn8sAtOnce => fcn(fcn8s::fcn8s_atonce(&path, config)),
    }
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

fn tensor<D: ndarray::Dimension>(array: ndarray::Array<f32, D>) -> Tensor {
    let shape: Vec<i64> = array.shape().iter().map(|&d| d as i64).collect();
    let values: Vec<f32> = array.iter().copied().collect();
    Tensor::from_slice(&values).reshape(shape)
}

fn labels(tensor: &Tensor) -> Array2<u8> {
    let size = tensor.size();
    let values: Vec<u8> = Vec::try_from(tensor.flatten(0, -1)).expect("u8 labels");
    Array2::from_shape_vec((size[0] as usize, size[1] as usize), values).expect("a label map")
}
