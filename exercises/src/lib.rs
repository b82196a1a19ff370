//! # Fully convolutional networks for semantic segmentation: the exercises
//!
//! Each module is one exercise. Its documentation explains the idea, the maths
//! and a worked example; the functions to write end in `todo!()`. Work through
//! them in order, and check each with its tests:
//!
//! | exercise | module | test |
//! |---|---|---|
//! | 1. the bilinear upsampling filter | [`bilinear`] | `cargo test -p exercises --test bilinear` |
//! | 2. VGG16, made fully convolutional | [`vgg`] | `cargo test -p exercises --test vgg` |
//! | worked example: FCN-32s (read it) | [`fcn32s`] | `cargo test -p exercises --test fcn` |
//! | 3. FCN-16s and FCN-8s | [`fcn16s`], [`fcn8s`] | `cargo test -p exercises --test fcn` |
//!
//! `cargo test -p exercises` runs them all. A test that fails with
//! "not yet implemented" is waiting for you; any other failure message says
//! what your code got wrong. FCN-32s is complete, but it runs on your
//! exercises 1 and 2, so its tests pass once those do.

pub mod bilinear;
pub mod fcn16s;
pub mod fcn32s;
pub mod fcn8s;
pub mod vgg;
