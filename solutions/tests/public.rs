//! The students' public tests, run against the reference.
//!
//! The files are the ones in `exercises/tests/`, not copies: each is compiled
//! here with the name `exercises` standing for this crate.

extern crate solutions as exercises;

#[path = "../../exercises/tests/bilinear.rs"]
mod bilinear;
#[path = "../../exercises/tests/fcn.rs"]
mod fcn;
#[path = "../../exercises/tests/vgg.rs"]
mod vgg;
