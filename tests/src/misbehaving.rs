//! Implementations that misbehave in every way a process can, for the
//! grader's self-check: each must be graded with the right status, and the
//! run must still finish with a valid report.
//!
//! Only `bilinear_filter` misbehaves; everything else is the reference. The
//! suite is exercise 1's first check, once per misbehaviour.

use crate::check::Check;
use crate::{Implementation, Solutions};
use fcn_kit::{Backbone, FcnConfig, FixedUpsampling};
use ndarray::{Array2, Array4};
use std::hint::black_box;
use tch::nn;

/// The ways to misbehave, with the name each check gets.
pub const MISBEHAVIOURS: [(u8, &str); 10] = [
    (PANICS, "misbehaving: panics"),
    (LIBTORCH_ERROR, "misbehaving: libtorch throws"),
    (ABORTS, "misbehaving: aborts"),
    (SEGFAULTS, "misbehaving: segmentation fault"),
    (OVERFLOWS_STACK, "misbehaving: overflows its stack"),
    (LOOPS_FOREVER, "misbehaving: loops forever"),
    (ALLOCATES_WITHOUT_BOUND, "misbehaving: allocates without bound"),
    (FLOODS_OUTPUT, "misbehaving: floods its output"),
    (EXITS, "misbehaving: exits the process"),
    (PRINTS_A_FAKE_PASS, "misbehaving: prints a fake pass, returns a wrong filter"),
];

pub const PANICS: u8 = 0;
pub const LIBTORCH_ERROR: u8 = 1;
pub const ABORTS: u8 = 2;
pub const SEGFAULTS: u8 = 3;
pub const OVERFLOWS_STACK: u8 = 4;
pub const LOOPS_FOREVER: u8 = 5;
pub const ALLOCATES_WITHOUT_BOUND: u8 = 6;
pub const FLOODS_OUTPUT: u8 = 7;
pub const EXITS: u8 = 8;
pub const PRINTS_A_FAKE_PASS: u8 = 9;

/// The reference, but `bilinear_filter` misbehaves in way `M`.
pub struct Misbehaving<const M: u8>;

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    recurse(depth + 1) + frame[3]
}

fn misbehave(kind: u8, size: usize) -> Array2<f32> {
    match kind {
        PANICS => panic!("index 7 out of range for slice of length {size}"),
        LIBTORCH_ERROR => {
            let product = tch::Tensor::zeros([2, 2], tch::kind::FLOAT_CPU).matmul(&tch::Tensor::zeros([3, 3], tch::kind::FLOAT_CPU));
            let _ = black_box(product);
            unreachable!("libtorch multiplied a 2x2 matrix by a 3x3 one")
        }
        ABORTS => std::process::abort(),
        // SAFETY: none: a write to an address no process owns is the crash
        // under test.
        SEGFAULTS => unsafe {
            std::ptr::without_provenance_mut::<u64>(16).write_volatile(1);
            unreachable!()
        },
        OVERFLOWS_STACK => {
            black_box(recurse(0));
            unreachable!()
        }
        LOOPS_FOREVER => loop {
            black_box(size);
        },
        ALLOCATES_WITHOUT_BOUND => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1; 64 << 20]);
                black_box(&hoard);
            }
        }
        FLOODS_OUTPUT => loop {
            println!("{}", "debug output ".repeat(100));
        },
        EXITS => std::process::exit(0),
        PRINTS_A_FAKE_PASS => {
            println!("test result: ok. 1 passed; 0 failed");
            println!(r#"{{"status":"passed"}}"#);
            eprintln!("passed");
            Array2::zeros((size, size))
        }
        _ => unreachable!("no misbehaviour {kind}"),
    }
}

impl<const M: u8> Implementation for Misbehaving<M> {
    fn bilinear_filter(size: usize) -> Array2<f32> {
        misbehave(M, size)
    }
    fn upsampling_weight(channels: usize, size: usize) -> Array4<f32> {
        Solutions::upsampling_weight(channels, size)
    }
    fn bilinear_upsampling(path: &nn::Path, channels: i64, stride: i64) -> FixedUpsampling {
        Solutions::bilinear_upsampling(path, channels, stride)
    }
    fn vgg16(path: &nn::Path, config: FcnConfig) -> Backbone {
        Solutions::vgg16(path, config)
    }
    fn fcn32s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        Solutions::fcn32s(path, config)
    }
    fn fcn16s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        Solutions::fcn16s(path, config)
    }
    fn fcn8s(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        Solutions::fcn8s(path, config)
    }
    fn fcn8s_atonce(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        Solutions::fcn8s_atonce(path, config)
    }
}

/// Exercise 1's first check against `Misbehaving<M>`, named `name`.
fn first_check<const M: u8>(name: &'static str) -> Check {
    let check = crate::bilinear::checks::<Misbehaving<M>>().swap_remove(0);
    Check { name, ..check }
}

/// One check per misbehaviour, in [`MISBEHAVIOURS`] order.
pub fn suite() -> Vec<Check> {
    let name = |kind: u8| MISBEHAVIOURS.iter().find(|(k, _)| *k == kind).expect("a named misbehaviour").1;
    vec![
        first_check::<PANICS>(name(PANICS)),
        first_check::<LIBTORCH_ERROR>(name(LIBTORCH_ERROR)),
        first_check::<ABORTS>(name(ABORTS)),
        first_check::<SEGFAULTS>(name(SEGFAULTS)),
        first_check::<OVERFLOWS_STACK>(name(OVERFLOWS_STACK)),
        first_check::<LOOPS_FOREVER>(name(LOOPS_FOREVER)),
        first_check::<ALLOCATES_WITHOUT_BOUND>(name(ALLOCATES_WITHOUT_BOUND)),
        first_check::<FLOODS_OUTPUT>(name(FLOODS_OUTPUT)),
        first_check::<EXITS>(name(EXITS)),
        first_check::<PRINTS_A_FAKE_PASS>(name(PRINTS_A_FAKE_PASS)),
    ]
}
