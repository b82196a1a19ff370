//! What the grader and the runner say to each other.
//!
//! The runner is the small binary built from a student's exercises (and
//! nothing else of the kit's that is not handed out). The grader sends it
//! [`Request`]s on its standard input; it answers each with a [`Reply`] on
//! the pipe it was given as its standard output. Tensors travel beside the
//! JSON as one safetensors buffer.
//!
//! The runner computes; it never judges. Every byte it sends is read as
//! hostile: [`read_frame`] refuses a frame over its size caps, JSON that does
//! not fit the schema exactly, and tensors that are not of the kinds the
//! protocol uses, before anything else looks at them.

use std::io::{self, Read, Write};

mod api;
pub mod wire;

pub use api::{Function, Layer, Network};

use safetensors::tensor::{Dtype, SafeTensors, View};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// Largest JSON part of a frame, in bytes.
pub const MAX_HEADER_BYTES: u32 = 1 << 20;
/// Largest tensor part of a frame, in bytes: a full-width FCN's fixed
/// upsampling weights with room to spare, not its whole weights.
pub const MAX_TENSOR_BYTES: u64 = 512 << 20;
/// Most tensors in one frame (an FCN has 40 variables).
pub const MAX_TENSORS: usize = 256;
/// Longest panic message the grader keeps from the runner.
pub const MAX_MESSAGE_CHARS: usize = 600;

/// `fcn_common::FcnConfig` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub classes: i64,
    pub width_divisor: i64,
}

/// Where the runner trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compute {
    Cpu,
    /// The first GPU the runner sees.
    Cuda,
}

/// The split a batch of training data belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Images and masks the networks train on.
    Train,
    /// Images alone: the runner predicts their pixels' classes.
    Val,
}

/// `fcn_train::train::Schedule` on the wire: how a stage trains.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    pub steps: usize,
    pub batch: usize,
    pub learning_rate: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub seed: i64,
}

/// What the grader asks. The tensors each request takes, and those its reply
/// carries, are named in the variant's docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// A plain function of the exercises on the integers and the tensors
    /// (named as its arguments) that [`wire`] puts in. Reply: its answer
    /// (`output`, or `number`).
    Call { function: Function, integers: Vec<i64> },
    /// A layer of the exercises built at the root of a fresh store, on the
    /// integers [`wire`] puts in. Reply: the listing, every variable's value,
    /// and what the layer holds besides its variables (a stride).
    Layer { layer: Layer, integers: Vec<i64> },
    /// Builds a network at the root of a fresh store, with seed 0. Reply:
    /// the listing; the values of the fixed variables, and of all variables
    /// when `values`.
    Build { network: Network, config: Config, values: bool },
    /// Builds the network, sets every variable from the tensors named
    /// `weight.<variable>`, and runs it on `input` with dropout's random
    /// draws seeded by `seed`. Reply: `output` (an FCN) or `pool3`, `pool4`
    /// and `fc7` (VGG16). With `keep`, the runner keeps this pass for one
    /// [`Request::Backward`]. With `taps`, the reply also holds what the
    /// network named with `fcn_common::tap`, as `tap.<name>`.
    Forward { network: Network, config: Config, train: bool, seed: i64, keep: bool, taps: bool },
    /// Back-propagates the upstream gradients (tensors named as the kept
    /// forward pass's outputs) through the kept pass. Reply: `grad.<variable>`
    /// for every trainable variable a gradient reached.
    Backward,
    /// The student's `pixel_loss` on `scores` (f32, N x C x H x W) and
    /// `labels` (int64, N x H x W), back-propagated from the loss. Reply:
    /// `grad`, the loss's gradient with respect to the scores (the scores'
    /// shape), or no tensor when no gradient reached them.
    LossGradient,
    /// A staged training run, 1: forgets any run before and starts one on
    /// `device`. The requests up to [`Request::TrainedWeights`] then fill
    /// it in. Reply: nothing.
    BeginTraining { device: Compute },
    /// A staged training run, 2: images (`images`, f32, N x 3 x H x W, as
    /// the training loop feeds them) added after those sent before to
    /// `split`, with their masks (`masks`, u8, N x H x W, 255 void) for the
    /// training split. Reply: nothing.
    TrainingData { split: Split },
    /// A staged training run, 3: one piece of a variable the first stage
    /// starts from (copied by name, as `fcn_common::init_from` does): the
    /// elements from `offset` on of the flattened variable `name` of shape
    /// `shape`, as `piece` (f32). Reply: nothing.
    StartWeights { name: String, shape: Vec<i64>, offset: i64 },
    /// A staged training run, 4: builds `network` and trains it with the
    /// kit's loop (`fcn_train::train::train_stage`), started from the weights
    /// sent (the first stage) or from the stage trained before. Reply: the
    /// trained network's listing; `number`, the seconds it trained;
    /// `losses` (f32, one per step); and `prediction.<k>` (u8, N x H x W),
    /// the predicted class of every pixel of the k-th batch of validation
    /// images sent.
    TrainStage { network: Network, config: Config, training: Training },
    /// A staged training run, 5: `count` elements from `offset` on of the
    /// flattened variable `name` of the stage trained last. Reply: `output`
    /// (f32, count).
    TrainedWeights { name: String, offset: i64, count: i64 },
}

/// One variable of a store the runner built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    pub shape: Vec<i64>,
    pub trainable: bool,
}

/// What the runner answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    /// The call returned. Which fields are set depends on the call.
    Done {
        #[serde(default)]
        listing: Vec<Variable>,
        #[serde(default)]
        number: Option<f64>,
    },
    /// The student's code reached a `todo!()`.
    NotAttempted,
    /// The student's code panicked, with this message.
    Panicked { message: String },
}

/// Named tensors, in order.
pub type Tensors = Vec<(String, Tensor)>;

/// Why a frame was refused.
#[derive(Debug)]
pub enum FrameError {
    /// The pipe failed or closed in the middle of a frame.
    Io(io::Error),
    /// The frame broke a rule of the protocol; what rule.
    Invalid(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Io(error) => write!(f, "{error}"),
            FrameError::Invalid(why) => f.write_str(why),
        }
    }
}

impl From<io::Error> for FrameError {
    fn from(error: io::Error) -> Self {
        FrameError::Io(error)
    }
}

/// Writes one frame: the JSON's length (u32, little-endian), the JSON, the
/// tensors' length (u64), the tensors as safetensors.
pub fn write_frame<M: Serialize>(out: &mut impl Write, message: &M, tensors: &[(String, Tensor)]) -> io::Result<()> {
    let header = serde_json::to_vec(message).map_err(io::Error::other)?;
    let payload = if tensors.is_empty() { Vec::new() } else { encode(tensors)? };
    out.write_all(&(header.len() as u32).to_le_bytes())?;
    out.write_all(&header)?;
    out.write_all(&(payload.len() as u64).to_le_bytes())?;
    out.write_all(&payload)?;
    out.flush()
}

/// Reads one frame; `None` at a clean end of the stream (before a frame).
pub fn read_frame<M: for<'de> Deserialize<'de>>(input: &mut impl Read) -> Result<Option<(M, Tensors)>, FrameError> {
    read_frame_within(input, MAX_TENSOR_BYTES)
}

/// [`read_frame`], with at most `max_tensor_bytes` of tensors (itself at most
/// [`MAX_TENSOR_BYTES`]): the grader reads each reply within what its
/// request can legitimately return, so that no reply sizes the grader's
/// memory.
pub fn read_frame_within<M: for<'de> Deserialize<'de>>(
    input: &mut impl Read,
    max_tensor_bytes: u64,
) -> Result<Option<(M, Tensors)>, FrameError> {
    let max_tensor_bytes = max_tensor_bytes.min(MAX_TENSOR_BYTES);
    let mut length = [0u8; 4];
    match input.read_exact(&mut length) {
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        result => result?,
    }
    let header_length = u32::from_le_bytes(length);
    if header_length > MAX_HEADER_BYTES {
        return Err(FrameError::Invalid(format!("a message of {header_length} bytes (at most {MAX_HEADER_BYTES})")));
    }
    let mut header = vec![0u8; header_length as usize];
    input.read_exact(&mut header)?;
    let message = serde_json::from_slice(&header)
        .map_err(|e| FrameError::Invalid(format!("a message that does not fit the protocol: {e}")))?;
    let mut length = [0u8; 8];
    input.read_exact(&mut length)?;
    let payload_length = u64::from_le_bytes(length);
    if payload_length > max_tensor_bytes {
        return Err(FrameError::Invalid(format!("{payload_length} bytes of tensors (at most {max_tensor_bytes})")));
    }
    let mut payload = vec![0u8; payload_length as usize];
    input.read_exact(&mut payload)?;
    let tensors = if payload.is_empty() { Vec::new() } else { decode(&payload).map_err(FrameError::Invalid)? };
    Ok(Some((message, tensors)))
}

/// A tensor's bytes as safetensors wants them.
struct Bytes {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Bytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// The kinds that travel: values (f32), indices and counts (i64), labels (u8).
fn dtype_of(kind: Kind) -> Option<(Dtype, usize)> {
    match kind {
        Kind::Float => Some((Dtype::F32, 4)),
        Kind::Int64 => Some((Dtype::I64, 8)),
        Kind::Uint8 => Some((Dtype::U8, 1)),
        _ => None,
    }
}

fn encode(tensors: &[(String, Tensor)]) -> io::Result<Vec<u8>> {
    let mut views = Vec::with_capacity(tensors.len());
    for (name, tensor) in tensors {
        let tensor = tensor.detach().to_device(Device::Cpu).contiguous();
        let (dtype, width) = dtype_of(tensor.kind())
            .ok_or_else(|| io::Error::other(format!("{name}: a {:?} tensor (only f32, i64 and u8 travel)", tensor.kind())))?;
        let numel = tensor.numel();
        let mut data = vec![0u8; numel * width];
        tensor.copy_data_u8(&mut data, numel);
        let shape = tensor.size().iter().map(|&d| d as usize).collect();
        views.push((name.clone(), Bytes { dtype, shape, data }));
    }
    let views: Vec<(String, &Bytes)> = views.iter().map(|(n, b)| (n.clone(), b)).collect();
    safetensors::tensor::serialize(views, &None).map_err(|e| io::Error::other(format!("{e:?}")))
}

fn decode(payload: &[u8]) -> Result<Tensors, String> {
    let parsed = SafeTensors::deserialize(payload).map_err(|e| format!("tensors that are not valid safetensors: {e:?}"))?;
    let mut names: Vec<String> = parsed.names().into_iter().cloned().collect();
    if names.len() > MAX_TENSORS {
        return Err(format!("{} tensors in one message (at most {MAX_TENSORS})", names.len()));
    }
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let view = parsed.tensor(&name).map_err(|e| format!("{name}: {e:?}"))?;
        if !matches!(view.dtype(), Dtype::F32 | Dtype::I64 | Dtype::U8) {
            return Err(format!("{name}: a tensor of type {:?} (only f32, i64 and u8 travel)", view.dtype()));
        }
        if view.shape().len() > 4 {
            return Err(format!("{name}: a tensor of {} dimensions (at most 4)", view.shape().len()));
        }
        let tensor = Tensor::try_from(view).map_err(|e| format!("{name}: {e}"))?;
        tensors.push((name, tensor));
    }
    Ok(tensors)
}

/// The message a panic carries (`panic!`'s text, `todo!`'s "not yet
/// implemented", ...), from its payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a value that is not a message".to_owned()
    }
}

/// `message` cut to [`MAX_MESSAGE_CHARS`] characters, control characters
/// (but newlines) dropped: text from student code that goes into a report.
pub fn clean_message(message: &str) -> String {
    let kept: String = message.chars().filter(|c| !c.is_control() || *c == '\n').collect();
    if kept.chars().count() <= MAX_MESSAGE_CHARS {
        kept
    } else {
        format!("{}...", kept.chars().take(MAX_MESSAGE_CHARS).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips() {
        let input = Tensor::arange(6, (Kind::Float, Device::Cpu)).reshape([2, 3]);
        let labels = Tensor::from_slice(&[1u8, 2, 255]);
        let mut buffer = Vec::new();
        let request = Request::Call { function: Function::InsertZeros, integers: vec![2, 3] };
        write_frame(&mut buffer, &request, &[("input".into(), input.shallow_clone()), ("labels".into(), labels)]).unwrap();
        let (back, tensors): (Request, Tensors) = read_frame(&mut buffer.as_slice()).unwrap().unwrap();
        assert_eq!(back, request);
        assert_eq!(tensors[0].0, "input");
        assert!(tensors[0].1.equal(&input));
        assert_eq!(Vec::<u8>::try_from(&tensors[1].1).unwrap(), [1, 2, 255]);
    }

    #[test]
    fn oversized_and_malformed_frames_are_refused() {
        let too_long = (MAX_HEADER_BYTES + 1).to_le_bytes();
        assert!(matches!(read_frame::<Reply>(&mut too_long.as_slice()), Err(FrameError::Invalid(_))));
        let mut unknown = Vec::new();
        write_frame(&mut unknown, &serde_json::json!({"reply": "done", "verdict": "passed"}), &[]).unwrap();
        assert!(matches!(read_frame::<Reply>(&mut unknown.as_slice()), Err(FrameError::Invalid(_))));
        let mut huge = Vec::new();
        write_frame(&mut huge, &Reply::NotAttempted, &[]).unwrap();
        let at = huge.len() - 8;
        huge[at..].copy_from_slice(&(MAX_TENSOR_BYTES + 1).to_le_bytes());
        assert!(matches!(read_frame::<Reply>(&mut huge.as_slice()), Err(FrameError::Invalid(_))));
        let mut garbage = Vec::new();
        write_frame(&mut garbage, &Reply::NotAttempted, &[]).unwrap();
        garbage.truncate(garbage.len() - 8);
        garbage.extend(16u64.to_le_bytes());
        garbage.extend([7u8; 16]);
        assert!(matches!(read_frame::<Reply>(&mut garbage.as_slice()), Err(FrameError::Invalid(_))));
        assert!(read_frame::<Reply>(&mut [].as_slice()).unwrap().is_none());
    }

    #[test]
    fn a_reply_beyond_its_requests_budget_is_refused_before_it_is_read() {
        let mut reply = Vec::new();
        let big = Tensor::zeros([1000], (Kind::Float, Device::Cpu));
        write_frame(&mut reply, &Reply::Done { listing: vec![], number: None }, &[("output".into(), big)]).unwrap();
        assert!(read_frame_within::<Reply>(&mut reply.as_slice(), 1 << 20).unwrap().is_some());
        let refused = read_frame_within::<Reply>(&mut reply.as_slice(), 1000);
        assert!(matches!(refused, Err(FrameError::Invalid(ref why)) if why.contains("(at most 1000)")), "{refused:?}");
    }

    #[test]
    fn messages_are_cut_and_cleaned() {
        let long = "x".repeat(5000);
        assert_eq!(clean_message(&long).chars().count(), MAX_MESSAGE_CHARS + 3);
        assert_eq!(clean_message("a\u{1b}[31mb\nc"), "a[31mb\nc");
    }
}
