//! The student's crate through the runner, made from the one table of the
//! student's API (`student_api::student_api!`): each call's arguments put
//! into a request as `runner_protocol::wire` carries them and its answer
//! read back within what the table says a right answer holds; each layer
//! and network made from what the runner lists.

use checks::{Bonus, Implementation};
use fcn_common::FixedUpsampling;
use runner_protocol::wire::{Answer, Argument, Outgoing, Refused};
use runner_protocol::{Function, Layer, Network, Reply, Request, Tensors, Variable};
use tch::{Device, Tensor, nn};

use super::networks::{self, RemoteNetwork};
use super::training;
use super::variables::{create, upsampling_elements};
use super::connection::{broken, call_within, floats};

/// The student's crate, through the runner.
pub struct Remote;

/// The number of elements a table's `within` gives, as a count.
fn elements<N: TryInto<u64>>(count: N) -> u64 {
    count.try_into().unwrap_or(u64::MAX)
}

/// The bytes a reply may hold when a right answer has at most `elements`
/// numbers (the protocol's cap when the table gives no bound).
fn budget(elements: Option<u64>) -> u64 {
    elements.map_or(runner_protocol::MAX_TENSOR_BYTES, floats)
}

/// Sends `function` with `arguments`: its answer, from a reply of at most
/// `elements` numbers (the protocol's cap when the table gives none).
fn call<A: Answer>(function: Function, arguments: Outgoing, elements: Option<u64>) -> A {
    let budget = budget(elements);
    let device = arguments.device.unwrap_or(Device::Cpu);
    let request = Request::Call { function, integers: arguments.integers };
    let (reply, tensors) = call_within(&request, &arguments.tensors, budget);
    match A::read(reply, tensors, device) {
        Ok(answer) => answer,
        Err(Refused::Broken(why)) => broken(why),
        // An answer of the right kind and the wrong shape: the student's,
        // which the check reports as it reports a panic.
        Err(Refused::Wrong(why)) => panic!("{why}"),
    }
}

/// Builds `layer` on `arguments` in the runner, from a reply of at most
/// `elements` numbers; what the runner listed and sent.
fn layer(layer: Layer, arguments: &Outgoing, elements: Option<u64>) -> (Vec<Variable>, Tensors) {
    let budget = budget(elements);
    let request = Request::Layer { layer, integers: arguments.integers.clone() };
    match call_within(&request, &arguments.tensors, budget) {
        (Reply::Done { listing, .. }, tensors) => (listing, tensors),
        _ => unreachable!("call returns Done or ends the check"),
    }
}

/// The student's loss's gradient with respect to `scores`, computed in the
/// runner; read within the scores' size, and taken only as the scores'
/// shape in f32 (anything else is the student's wrong answer).
fn loss_gradient(scores: &Tensor, labels: &Tensor) -> Option<Tensor> {
    let tensors = vec![("scores".to_owned(), scores.to_kind(tch::Kind::Float)), ("labels".to_owned(), labels.shallow_clone())];
    let (_, mut sent) = call_within(&Request::LossGradient, &tensors, floats(elements(scores.numel())));
    let at = sent.iter().position(|(name, _)| name == "grad")?;
    let (_, grad) = sent.swap_remove(at);
    if grad.size() != scores.size() || grad.kind() != tch::Kind::Float {
        panic!("the loss's gradient came back as {:?} {:?}; the scores are {:?}", grad.kind(), grad.size(), scores.size());
    }
    Some(grad)
}

/// What a layer of the exercises is, made under `path` from what the
/// runner listed and sent for the `arguments` asked for.
trait RemoteLayer {
    fn remote(path: &nn::Path, listing: &[Variable], sent: Tensors, arguments: &[i64]) -> Self;
}

impl RemoteLayer for FixedUpsampling {
    fn remote(path: &nn::Path, listing: &[Variable], mut sent: Tensors, arguments: &[i64]) -> FixedUpsampling {
        let &[channels, stride] = arguments else { unreachable!("bilinear_upsampling takes channels and a stride") };
        let at = sent.iter().position(|(n, _)| n == "stride").unwrap_or_else(|| broken("the runner sent no stride".into()));
        let (_, got) = sent.swap_remove(at);
        let got = i64::try_from(got).unwrap_or_else(|_| broken("the runner's stride is not one integer".into()));
        // The layer's stride sizes what the checks compute with it, in the
        // grader's process: only the stride asked for is taken.
        if got != stride {
            panic!("bilinear_upsampling(path, {channels}, {stride}) made a layer of stride {got}");
        }
        let variables = create(path, listing, sent, upsampling_elements(channels, stride));
        let Some((_, weight)) = variables.iter().find(|(n, _)| n == "weight") else {
            let names: Vec<&String> = variables.iter().map(|(n, _)| n).collect();
            panic!("bilinear_upsampling made no variable named weight under its path (it made {names:?})")
        };
        FixedUpsampling { weight: weight.shallow_clone(), stride }
    }
}

macro_rules! remote {
    ([$($core_extra:tt)*]
     core {
        calls { $($call:ident = $cm:ident :: $cf:ident ($($ca:ident : $ct:ty),*) -> $cr:ty $(, within $cb:expr)? ;)* }
        layers { $($layer:ident = $lm:ident :: $lf:ident (path: $lp:ty $(, $la:ident : $lt:ty)*) -> $lr:ty $(, within $lb:expr)? ;)* }
        networks { $($network:ident = $nm:ident :: $nf:ident -> $nr:ty;)* }
     }
     bonus {
        calls { $($bonus:ident = $bm:ident :: $bf:ident ($($ba:ident : $bt:ty),*) -> $br:ty $(, within $bb:expr)? ;)* }
     }) => {
        /// The most numbers a right answer to each call holds, as the table
        /// says (`None`: the protocol's cap).
        #[allow(unused_variables)]
        mod within {
            use super::elements;
            $( pub fn $cf($($ca: $ct),*) -> Option<u64> { None $(.or(Some(elements($cb))))? } )*
            $( pub fn $lf($($la: $lt),*) -> Option<u64> { None $(.or(Some(elements($lb))))? } )*
            $( pub fn $bf($($ba: $bt),*) -> Option<u64> { None $(.or(Some(elements($bb))))? } )*
        }

        impl Implementation for Remote {
            $(
                fn $cf($($ca: $ct),*) -> $cr {
                    let mut arguments = Outgoing::default();
                    $( <$ct as Argument>::put(&$ca, stringify!($ca), &mut arguments); )*
                    call(Function::$call, arguments, within::$cf($($ca),*))
                }
            )*
            $(
                fn $lf(path: $lp, $($la: $lt),*) -> $lr {
                    let mut arguments = Outgoing::default();
                    $( <$lt as Argument>::put(&$la, stringify!($la), &mut arguments); )*
                    let (listing, sent) = layer(Layer::$layer, &arguments, within::$lf($($la),*));
                    <$lr as RemoteLayer>::remote(path, &listing, sent, &arguments.integers)
                }
            )*
            $(
                fn $nf(path: &nn::Path, config: fcn_common::FcnConfig) -> $nr {
                    <$nr as RemoteNetwork>::remote(path, Network::$network, config)
                }
            )*
            $($core_extra)*
        }

        impl Bonus for Remote {
            $(
                fn $bf($($ba: $bt),*) -> $br {
                    let mut arguments = Outgoing::default();
                    $( <$bt as Argument>::put(&$ba, stringify!($ba), &mut arguments); )*
                    call(Function::$bonus, arguments, within::$bf($($ba),*))
                }
            )*
        }
    };
}

student_api::student_api!(remote![
    fn seed_next_pass(seed: i64) {
        networks::seed_next_pass(seed);
    }

    fn backward(loss: &Tensor) {
        networks::backward(loss);
    }

    fn pixel_loss_gradient(scores: &Tensor, labels: &Tensor) -> Option<Tensor> {
        loss_gradient(scores, labels)
    }

    fn train_staged(
        networks: &[checks::Net],
        run: checks::TrainingRun,
    ) -> Result<Vec<(fcn_train::train::Trained, fcn_metrics::Scores)>, String> {
        training::train_staged(networks, run)
    }
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_read_within_what_its_request_can_call_for() {
        // A 64x64 filter is 16 KiB; a reply of the protocol's cap, 512 MiB,
        // is refused before it is read.
        assert!(floats(within::bilinear_filter(64).unwrap()) < 1 << 20);
        assert!(floats(within::upsampling_weight(21, 64).unwrap()) < 64 << 20);
        // A stride the runner chose cannot size the budget: the request's
        // does, and a huge one asked for is held to the protocol's cap.
        assert!(floats(within::bilinear_upsampling(3, 2).unwrap()) < 1 << 20);
        assert!(floats(within::bilinear_upsampling(3, i64::MAX).unwrap()) <= runner_protocol::MAX_TENSOR_BYTES);
        assert!(floats(within::confusion_matrix(&Default::default(), &Default::default(), 21).unwrap()) < 1 << 20);
        // Calls whose answers the table does not size get the cap.
        let input = Tensor::zeros([1], (tch::Kind::Float, Device::Cpu));
        assert_eq!(within::insert_zeros(&input, [2, 2]), None);
    }
}
