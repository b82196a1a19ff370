//! Times one forward pass of each reference FCN at the paper's width on a
//! 500x500 image (the paper's Table 1 setting), in eval mode.
//!
//! `cargo bench -p solutions --bench forward` (add `-- cuda` to use a GPU).

use fcn_common::FcnConfig;
use std::time::Instant;
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

type Build = fn(&nn::Path, FcnConfig) -> nn::FuncT<'static>;

fn main() {
    let device = if std::env::args().any(|a| a == "cuda") { Device::Cuda(0) } else { Device::Cpu };
    let networks: [(&str, Build); 3] = [
        ("FCN-32s", solutions::fcn32s::fcn32s),
        ("FCN-16s", solutions::fcn16s::fcn16s),
        ("FCN-8s", solutions::fcn8s::fcn8s),
    ];
    println!("device {device:?}, {} threads, input 1x3x500x500, eval mode", tch::get_num_threads());
    for (name, build) in networks {
        let store = nn::VarStore::new(device);
        let net = build(&store.root(), FcnConfig::default());
        let xs = Tensor::randn([1, 3, 500, 500], (Kind::Float, device)) * 50.0;
        let _guard = tch::no_grad_guard();
        let _warm_up = net.forward_t(&xs, false);
        let runs = 3;
        let started = Instant::now();
        for _ in 0..runs {
            let scores = net.forward_t(&xs, false);
            if device.is_cuda() {
                tch::Cuda::synchronize(0);
            }
            drop(scores);
        }
        println!("{name}: {:.0} ms per forward pass", started.elapsed().as_secs_f64() * 1000.0 / runs as f64);
    }
}
