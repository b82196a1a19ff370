//! From a request to the student's function, made from the one table of
//! the student's API (`student_api::student_api!`): each call's arguments
//! taken as `runner_protocol::wire` carries them, the function called, its
//! answer replied; each layer and network built from its name.

use fcn_common::{Backbone, FcnConfig};
use runner_protocol::wire::{Answer, Argument, Incoming};
use runner_protocol::{Function, Layer, Network, Reply, Tensors};
use tch::nn::{self, ModuleT};
use tch::Tensor;

/// A network's forward pass: its named outputs.
pub type Forward = Box<dyn Fn(&Tensor, bool) -> Tensors>;

/// What a network of the exercises gives on a forward pass, named as the
/// grader asks for it.
trait Outputs {
    fn into_forward(self) -> Forward;
}

impl Outputs for Backbone {
    fn into_forward(self) -> Forward {
        Box::new(move |xs, train| {
            let features = self.forward_t(xs, train);
            vec![("fc7".into(), features.fc7), ("pool3".into(), features.pool3), ("pool4".into(), features.pool4)]
        })
    }
}

impl Outputs for nn::FuncT<'static> {
    fn into_forward(self) -> Forward {
        Box::new(move |xs, train| vec![("output".into(), self.forward_t(xs, train))])
    }
}

/// What a layer of the exercises holds besides its variables, for the
/// grader to see.
trait Held {
    fn held(&self) -> Tensors;
}

impl Held for fcn_common::FixedUpsampling {
    fn held(&self) -> Tensors {
        vec![("stride".into(), Tensor::from_slice(&[self.stride]))]
    }
}

macro_rules! dispatch {
    ([]
     core {
        calls { $($call:ident = $cm:ident :: $cf:ident ($($ca:ident : $ct:ty),*) -> $cr:ty $(, within $cb:expr)? ;)* }
        layers { $($layer:ident = $lm:ident :: $lf:ident (path: $lp:ty $(, $la:ident : $lt:ty)*) -> $lr:ty $(, within $lb:expr)? ;)* }
        networks { $($network:ident = $nm:ident :: $nf:ident -> $nr:ty;)* }
     }
     bonus {
        calls { $($bonus:ident = $bm:ident :: $bf:ident ($($ba:ident : $bt:ty),*) -> $br:ty $(, within $bb:expr)? ;)* }
     }) => {
        /// Calls `function` on `arguments`: its answer, as a reply.
        pub fn call(function: Function, mut arguments: Incoming) -> (Reply, Tensors) {
            match function {
                $(
                    Function::$call => {
                        $( let $ca = <$ct as Argument>::take(stringify!($ca), &mut arguments); )*
                        exercises::$cm::$cf($(<$ct as Argument>::lend(&$ca)),*).reply()
                    }
                )*
                $(
                    Function::$bonus => {
                        $( let $ba = <$bt as Argument>::take(stringify!($ba), &mut arguments); )*
                        exercises::$bm::$bf($(<$bt as Argument>::lend(&$ba)),*).reply()
                    }
                )*
            }
        }

        /// Builds `layer` on `arguments` at the root of `store`: what it
        /// holds besides the variables it registered there.
        pub fn layer(layer: Layer, mut arguments: Incoming, store: &nn::VarStore) -> Tensors {
            match layer {
                $(
                    Layer::$layer => {
                        $( let $la = <$lt as Argument>::take(stringify!($la), &mut arguments); )*
                        exercises::$lm::$lf(&store.root(), $(<$lt as Argument>::lend(&$la)),*).held()
                    }
                )*
            }
        }

        /// Builds `network` at the root of `store`.
        pub fn network(network: Network, store: &nn::VarStore, config: FcnConfig) -> Forward {
            match network {
                $( Network::$network => exercises::$nm::$nf(&store.root(), config).into_forward(), )*
            }
        }
    };
}

student_api::student_api!(dispatch![]);
