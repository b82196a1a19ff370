//! The students' public tests, run against the reference.
//!
//! The files are the ones in `exercises/tests/`, not copies: each is compiled
//! here with the name `exercises` standing for this crate.

extern crate solutions as exercises;

#[path = "../../exercises/tests/bilinear.rs"]
mod bilinear;
#[path = "../../exercises/tests/dilated.rs"]
mod dilated;
#[path = "../../exercises/tests/fcn.rs"]
mod fcn;
#[path = "../../exercises/tests/loss.rs"]
mod loss;
#[path = "../../exercises/tests/metrics.rs"]
mod metrics;
#[path = "../../exercises/tests/transposed.rs"]
mod transposed;
#[path = "../../exercises/tests/unpooling.rs"]
mod unpooling;
#[path = "../../exercises/tests/vgg.rs"]
mod vgg;
