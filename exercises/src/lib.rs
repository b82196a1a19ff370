//! # Fully convolutional networks for semantic segmentation: the exercises
//!
//! Each module is one exercise. Its documentation explains the idea, the maths
//! and a worked example; the functions to write end in `todo!()`. Work through
//! them in order, and check each with its tests:
//!
//! | exercise | module | test |
//! |---|---|---|
//! | 1. the bilinear upsampling filter | [`bilinear`] | `cargo test -p exercises --test bilinear` |
//!
//! `cargo test -p exercises` runs them all. A test that fails with
//! "not yet implemented" is waiting for you; any other failure message says
//! what your code got wrong.

pub mod bilinear;
