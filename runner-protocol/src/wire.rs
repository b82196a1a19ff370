//! How the values of the student's functions travel: each argument type
//! puts itself into a call (integers in order, tensors by the argument's
//! name) and is taken out on the runner's side; each answer type makes a
//! reply on the runner's side and is read back, strictly, on the grader's.
//!
//! The types here are those the table of the student's API
//! (`student_api::student_api!`) may use in its calls.

use std::collections::{HashMap, VecDeque};

use fcn_common::Window;
use fcn_common::align::{Layer, Placement};
use ndarray::{Array, Array2, Array4, Dimension};
use tch::{Device, Kind, Tensor};

use crate::{Reply, Tensors};

/// A call's arguments on their way to the runner.
#[derive(Default)]
pub struct Outgoing {
    pub integers: Vec<i64>,
    pub tensors: Tensors,
    /// Where the first tensor argument lives: tensor answers go back there.
    pub device: Option<Device>,
}

/// A call's arguments as the runner receives them.
pub struct Incoming {
    integers: VecDeque<i64>,
    tensors: HashMap<String, Tensor>,
}

impl Incoming {
    pub fn new(integers: Vec<i64>, tensors: Tensors) -> Incoming {
        Incoming { integers: integers.into(), tensors: tensors.into_iter().collect() }
    }

    fn integer(&mut self) -> i64 {
        self.integers.pop_front().expect("the grader sent fewer integers than the call takes")
    }

    fn tensor(&mut self, name: &str) -> Tensor {
        self.tensors.remove(name).unwrap_or_else(|| panic!("the grader sent no tensor {name}"))
    }
}

/// A value a student's function takes. `Owned` is what the runner holds, of
/// which the argument is lent (a tensor for `&Tensor`, a vector for a slice).
pub trait Argument<'a>: Sized {
    type Owned: 'a;
    /// Puts `self` into `call` as the argument `name` (the grader's side).
    fn put(&self, name: &str, call: &mut Outgoing);
    /// Takes the argument `name` out of `call` (the runner's side).
    fn take(name: &str, call: &mut Incoming) -> Self::Owned;
    fn lend(owned: &'a Self::Owned) -> Self;
}

impl<'a> Argument<'a> for usize {
    type Owned = usize;
    fn put(&self, _: &str, call: &mut Outgoing) {
        call.integers.push(*self as i64);
    }
    fn take(_: &str, call: &mut Incoming) -> usize {
        usize::try_from(call.integer()).expect("a count the grader sent is not negative")
    }
    fn lend(owned: &'a usize) -> usize {
        *owned
    }
}

impl<'a> Argument<'a> for i64 {
    type Owned = i64;
    fn put(&self, _: &str, call: &mut Outgoing) {
        call.integers.push(*self);
    }
    fn take(_: &str, call: &mut Incoming) -> i64 {
        call.integer()
    }
    fn lend(owned: &'a i64) -> i64 {
        *owned
    }
}

impl<'a> Argument<'a> for [i64; 2] {
    type Owned = [i64; 2];
    fn put(&self, _: &str, call: &mut Outgoing) {
        call.integers.extend(self);
    }
    fn take(_: &str, call: &mut Incoming) -> [i64; 2] {
        [call.integer(), call.integer()]
    }
    fn lend(owned: &'a [i64; 2]) -> [i64; 2] {
        *owned
    }
}

impl<'a> Argument<'a> for &'a Tensor {
    type Owned = Tensor;
    fn put(&self, name: &str, call: &mut Outgoing) {
        call.device.get_or_insert(self.device());
        call.tensors.push((name.to_owned(), self.shallow_clone()));
    }
    fn take(name: &str, call: &mut Incoming) -> Tensor {
        call.tensor(name)
    }
    fn lend(owned: &'a Tensor) -> &'a Tensor {
        owned
    }
}

/// Windows travel as their count, then kernel, stride and dilation each.
impl<'a> Argument<'a> for &'a [Window] {
    type Owned = Vec<Window>;
    fn put(&self, _: &str, call: &mut Outgoing) {
        call.integers.push(self.len() as i64);
        call.integers.extend(self.iter().flat_map(|w| [w.kernel, w.stride, w.dilation]));
    }
    fn take(_: &str, call: &mut Incoming) -> Vec<Window> {
        let count = call.integer();
        (0..count).map(|_| Window { kernel: call.integer(), stride: call.integer(), dilation: call.integer() }).collect()
    }
    fn lend(owned: &'a Vec<Window>) -> &'a [Window] {
        owned
    }
}

/// A placement travels as its two numbers' bits: exactly.
impl<'a> Argument<'a> for Placement {
    type Owned = Placement;
    fn put(&self, _: &str, call: &mut Outgoing) {
        call.integers.extend([self.scale.to_bits() as i64, self.shift.to_bits() as i64]);
    }
    fn take(_: &str, call: &mut Incoming) -> Placement {
        Placement { scale: f64::from_bits(call.integer() as u64), shift: f64::from_bits(call.integer() as u64) }
    }
    fn lend(owned: &'a Placement) -> Placement {
        *owned
    }
}

/// A layer travels as its kind (0 a slide, 1 a transposed convolution),
/// kernel, stride and padding.
fn put_layer(layer: &Layer, call: &mut Outgoing) {
    let (kind, kernel, stride, padding) = match *layer {
        Layer::Slide { kernel, stride, padding } => (0, kernel, stride, padding),
        Layer::Transposed { kernel, stride, padding } => (1, kernel, stride, padding),
    };
    call.integers.extend([kind, kernel, stride, padding]);
}

fn take_layer(call: &mut Incoming) -> Layer {
    let (kind, kernel, stride, padding) = (call.integer(), call.integer(), call.integer(), call.integer());
    match kind {
        0 => Layer::Slide { kernel, stride, padding },
        1 => Layer::Transposed { kernel, stride, padding },
        other => panic!("the grader sent a layer of kind {other}"),
    }
}

impl<'a> Argument<'a> for Layer {
    type Owned = Layer;
    fn put(&self, _: &str, call: &mut Outgoing) {
        put_layer(self, call);
    }
    fn take(_: &str, call: &mut Incoming) -> Layer {
        take_layer(call)
    }
    fn lend(owned: &'a Layer) -> Layer {
        *owned
    }
}

/// Layers travel as their count, then each layer.
impl<'a> Argument<'a> for &'a [Layer] {
    type Owned = Vec<Layer>;
    fn put(&self, _: &str, call: &mut Outgoing) {
        call.integers.push(self.len() as i64);
        self.iter().for_each(|layer| put_layer(layer, call));
    }
    fn take(_: &str, call: &mut Incoming) -> Vec<Layer> {
        let count = call.integer();
        (0..count).map(|_| take_layer(call)).collect()
    }
    fn lend(owned: &'a Vec<Layer>) -> &'a [Layer] {
        owned
    }
}

/// Label maps travel as u8 tensors.
impl<'a> Argument<'a> for &'a Array2<u8> {
    type Owned = Array2<u8>;
    fn put(&self, name: &str, call: &mut Outgoing) {
        let values: Vec<u8> = self.iter().copied().collect();
        call.tensors.push((name.to_owned(), Tensor::from_slice(&values).reshape([self.nrows() as i64, self.ncols() as i64])));
    }
    fn take(name: &str, call: &mut Incoming) -> Array2<u8> {
        let tensor = call.tensor(name);
        let size = tensor.size();
        let values: Vec<u8> = Vec::try_from(tensor.flatten(0, -1)).expect("u8 labels");
        Array2::from_shape_vec((size[0] as usize, size[1] as usize), values).expect("a label map")
    }
    fn lend(owned: &'a Array2<u8>) -> &'a Array2<u8> {
        owned
    }
}

/// Counts travel as i64 tensors.
impl<'a> Argument<'a> for &'a Array2<u64> {
    type Owned = Array2<u64>;
    fn put(&self, name: &str, call: &mut Outgoing) {
        call.tensors.push((name.to_owned(), counts_tensor(self)));
    }
    fn take(name: &str, call: &mut Incoming) -> Array2<u64> {
        let tensor = call.tensor(name);
        let size = tensor.size();
        let counts: Vec<i64> = Vec::try_from(tensor.flatten(0, -1)).expect("i64 counts");
        Array2::from_shape_vec((size[0] as usize, size[1] as usize), counts.into_iter().map(|c| c as u64).collect())
            .expect("a matrix of counts")
    }
    fn lend(owned: &'a Array2<u64>) -> &'a Array2<u64> {
        owned
    }
}

fn counts_tensor(counts: &Array2<u64>) -> Tensor {
    let values: Vec<i64> = counts.iter().map(|&c| c as i64).collect();
    Tensor::from_slice(&values).reshape([counts.nrows() as i64, counts.ncols() as i64])
}

/// Why an answer read back is not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The reply breaks the protocol: the runner, not the answer, is at fault.
    Broken(String),
    /// The reply is well formed and the answer it carries is wrong in a way
    /// its type shows (a matrix of three dimensions): the student's answer,
    /// which the check reports as it reports a panic.
    Wrong(String),
}

/// What a student's function returns.
pub trait Answer: Sized {
    /// The reply that carries `self` (the runner's side).
    fn reply(self) -> (Reply, Tensors);
    /// The answer a reply carries (the grader's side), a tensor placed on
    /// `device`; nothing in the reply is trusted.
    fn read(reply: Reply, tensors: Tensors, device: Device) -> Result<Self, Refused>;
}

fn done(tensors: Tensors) -> (Reply, Tensors) {
    (Reply::Done { listing: Vec::new(), number: None }, tensors)
}

/// The one tensor `output` of `kind`, and nothing else.
fn output(reply: Reply, mut tensors: Tensors, kind: Kind) -> Result<Tensor, Refused> {
    if !matches!(reply, Reply::Done { number: None, ref listing } if listing.is_empty()) {
        return Err(Refused::Broken("the runner's reply is not a tensor answer".into()));
    }
    match tensors.pop() {
        Some((name, tensor)) if tensors.is_empty() && name == "output" => {
            if tensor.kind() == kind {
                Ok(tensor)
            } else {
                Err(Refused::Broken(format!("the runner's output is of type {:?}, not {kind:?}", tensor.kind())))
            }
        }
        _ => Err(Refused::Broken("the runner's reply is not one tensor named output".into())),
    }
}

fn number(reply: Reply, tensors: Tensors) -> Result<f64, Refused> {
    match reply {
        Reply::Done { number: Some(value), listing } if listing.is_empty() && tensors.is_empty() => Ok(value),
        _ => Err(Refused::Broken("the runner's reply has no number".into())),
    }
}

fn array<D: Dimension>(tensor: Tensor, dims: usize, shape: impl Fn(&[usize]) -> D) -> Result<Array<f32, D>, Refused> {
    if tensor.dim() != dims {
        return Err(Refused::Wrong(format!("the result has {} dimensions, expected {dims}", tensor.dim())));
    }
    let size: Vec<usize> = tensor.size().iter().map(|&d| d as usize).collect();
    let values: Vec<f32> = Vec::try_from(tensor.flatten(0, -1)).map_err(|e: tch::TchError| Refused::Broken(e.to_string()))?;
    Array::from_shape_vec(shape(&size), values).map_err(|_| Refused::Broken("a reply's shape does not fit its values".into()))
}

fn float_tensor<D: Dimension>(array: Array<f32, D>) -> Tensor {
    let shape: Vec<i64> = array.shape().iter().map(|&d| d as i64).collect();
    let values: Vec<f32> = array.iter().copied().collect();
    Tensor::from_slice(&values).reshape(shape)
}

impl Answer for Array2<f32> {
    fn reply(self) -> (Reply, Tensors) {
        done(vec![("output".into(), float_tensor(self))])
    }
    fn read(reply: Reply, tensors: Tensors, _: Device) -> Result<Self, Refused> {
        array(output(reply, tensors, Kind::Float)?, 2, |s| ndarray::Dim([s[0], s[1]]))
    }
}

impl Answer for Array4<f32> {
    fn reply(self) -> (Reply, Tensors) {
        done(vec![("output".into(), float_tensor(self))])
    }
    fn read(reply: Reply, tensors: Tensors, _: Device) -> Result<Self, Refused> {
        array(output(reply, tensors, Kind::Float)?, 4, |s| ndarray::Dim([s[0], s[1], s[2], s[3]]))
    }
}

impl Answer for Tensor {
    fn reply(self) -> (Reply, Tensors) {
        done(vec![("output".into(), self)])
    }
    fn read(reply: Reply, tensors: Tensors, device: Device) -> Result<Self, Refused> {
        Ok(output(reply, tensors, Kind::Float)?.to_device(device))
    }
}

impl Answer for Array2<u64> {
    fn reply(self) -> (Reply, Tensors) {
        done(vec![("output".into(), counts_tensor(&self))])
    }
    fn read(reply: Reply, tensors: Tensors, _: Device) -> Result<Self, Refused> {
        let tensor = output(reply, tensors, Kind::Int64)?;
        if tensor.dim() != 2 {
            return Err(Refused::Wrong(format!("the matrix has {} dimensions, expected 2", tensor.dim())));
        }
        let size = tensor.size();
        let counts: Vec<i64> = Vec::try_from(tensor.flatten(0, -1)).map_err(|e: tch::TchError| Refused::Broken(e.to_string()))?;
        if counts.iter().any(|&c| c < 0) {
            return Err(Refused::Wrong("the matrix has a negative count".into()));
        }
        Array2::from_shape_vec((size[0] as usize, size[1] as usize), counts.into_iter().map(|c| c as u64).collect())
            .map_err(|_| Refused::Broken("a reply's shape does not fit its values".into()))
    }
}

impl Answer for f64 {
    fn reply(self) -> (Reply, Tensors) {
        (Reply::Done { listing: Vec::new(), number: Some(self) }, Vec::new())
    }
    fn read(reply: Reply, tensors: Tensors, _: Device) -> Result<Self, Refused> {
        number(reply, tensors)
    }
}

/// Integers travel as numbers, and must come back whole.
impl Answer for i64 {
    fn reply(self) -> (Reply, Tensors) {
        (self as f64).reply()
    }
    fn read(reply: Reply, tensors: Tensors, _: Device) -> Result<Self, Refused> {
        let value = number(reply, tensors)?;
        if value.fract() != 0.0 || value.abs() > 1e15 {
            return Err(Refused::Broken(format!("the runner's integer answer {value} is not an integer")));
        }
        Ok(value as i64)
    }
}

/// A placement comes back as the bits of its two numbers, scale then
/// shift, in an i64 tensor: exactly, NaN included (doubles do not travel).
impl Answer for Placement {
    fn reply(self) -> (Reply, Tensors) {
        let bits = [self.scale.to_bits() as i64, self.shift.to_bits() as i64];
        done(vec![("output".into(), Tensor::from_slice(&bits))])
    }
    fn read(reply: Reply, tensors: Tensors, _: Device) -> Result<Self, Refused> {
        let tensor = output(reply, tensors, Kind::Int64)?;
        if tensor.size() != [2] {
            return Err(Refused::Broken(format!("the runner's placement has shape {:?}, not [2]", tensor.size())));
        }
        let bits: Vec<i64> = Vec::try_from(tensor).map_err(|e: tch::TchError| Refused::Broken(e.to_string()))?;
        Ok(Placement { scale: f64::from_bits(bits[0] as u64), shift: f64::from_bits(bits[1] as u64) })
    }
}

/// No offset comes back as a reply with no number; an offset as an integer.
impl Answer for Option<i64> {
    fn reply(self) -> (Reply, Tensors) {
        match self {
            Some(value) => value.reply(),
            None => done(Vec::new()),
        }
    }
    fn read(reply: Reply, tensors: Tensors, device: Device) -> Result<Self, Refused> {
        match reply {
            Reply::Done { number: None, ref listing } if listing.is_empty() && tensors.is_empty() => Ok(None),
            reply => i64::read(reply, tensors, device).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value` put in as the grader does and taken out as the runner does.
    fn round_trip<'a, A: Argument<'a>>(value: A) -> A::Owned {
        let mut out = Outgoing::default();
        value.put("x", &mut out);
        A::take("x", &mut Incoming::new(out.integers, out.tensors))
    }

    #[test]
    fn arguments_arrive_as_they_were_sent() {
        assert_eq!(round_trip(7usize), 7);
        assert_eq!(round_trip([3i64, -4]), [3, -4]);
        let windows = [Window { kernel: 3, stride: 2, dilation: 1 }, Window { kernel: 1, stride: 1, dilation: 4 }];
        assert_eq!(round_trip(&windows[..]), windows);
        let at = Placement { scale: 1.0 / 3.0, shift: -91.5 };
        assert_eq!(round_trip(at), at);
        let layers = [Layer::conv(3, 100), Layer::pool(2, 2), Layer::Transposed { kernel: 5, stride: 3, padding: 1 }];
        assert_eq!(round_trip(layers[2]), layers[2]);
        assert_eq!(round_trip(&layers[..]), layers);
        let labels = Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as u8);
        assert_eq!(round_trip(&labels), labels);
        let counts = Array2::from_shape_fn((2, 2), |(i, j)| (i * 2 + j) as u64 * 1_000_000_000_000);
        assert_eq!(round_trip(&counts), counts);
    }

    /// What the grader reads of what the runner answered with `answer`,
    /// its tensors encoded and decoded as they cross the pipe.
    fn back<A: Answer>(answer: A) -> Result<A, Refused> {
        let (reply, tensors) = answer.reply();
        let tensors = crate::decode(&crate::encode(&tensors).expect("an answer's tensors travel")).expect("and decode");
        A::read(reply, tensors, Device::Cpu)
    }

    #[test]
    fn answers_come_back_and_a_wrong_reply_is_refused() {
        let filter = Array2::from_shape_fn((3, 3), |(i, j)| (i + j) as f32);
        assert_eq!(back(filter.clone()), Ok(filter));
        assert_eq!(back(12i64), Ok(12));
        assert_eq!(back(0.25f64), Ok(0.25));
        assert_eq!(back(Some(5i64)), Ok(Some(5)));
        assert_eq!(back(None::<i64>), Ok(None));
        let at = back(Placement { scale: 16.0, shift: f64::NAN }).unwrap();
        assert!(at.scale == 16.0 && at.shift.is_nan(), "a NaN comes back as the student's NaN");
        // A number where a tensor is due, a tensor of another kind or name,
        // a fraction for an integer: the runner's fault.
        let (number, none) = 0.5f64.reply();
        assert!(matches!(Array2::<f32>::read(number.clone(), none, Device::Cpu), Err(Refused::Broken(_))));
        assert!(matches!(i64::read(number, Vec::new(), Device::Cpu), Err(Refused::Broken(_))));
        let ints = Tensor::from_slice(&[1i64, 2]).reshape([1, 2]);
        let (reply, _) = Tensor::zeros([1], (Kind::Float, Device::Cpu)).reply();
        assert!(matches!(Tensor::read(reply.clone(), vec![("output".into(), ints)], Device::Cpu), Err(Refused::Broken(_))));
        let floats = Tensor::zeros([2], (Kind::Float, Device::Cpu));
        assert!(matches!(Tensor::read(reply, vec![("other".into(), floats)], Device::Cpu), Err(Refused::Broken(_))));
        // A well-formed answer of the wrong shape, or a negative count: the
        // student's answer.
        let (reply, tensors) = Tensor::zeros([2, 2, 2], (Kind::Float, Device::Cpu)).reply();
        assert!(matches!(Array2::<f32>::read(reply, tensors, Device::Cpu), Err(Refused::Wrong(_))));
        let (reply, _) = Tensor::zeros([1], (Kind::Float, Device::Cpu)).reply();
        let negative = Tensor::from_slice(&[-1i64, 0, 0, 1]).reshape([2, 2]);
        assert!(matches!(Array2::<u64>::read(reply, vec![("output".into(), negative)], Device::Cpu), Err(Refused::Wrong(_))));
    }
}
