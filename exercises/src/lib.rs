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
//! | 3a. aligning two maps: the crop offsets | [`align`] | `cargo test -p exercises --test fcn align` |
//! | worked example: FCN-32s (read it) | [`fcn32s`] | `cargo test -p exercises --test fcn fcn32s` |
//! | 3b, 3c. FCN-16s and FCN-8s | [`fcn16s`], [`fcn8s`] | `cargo test -p exercises --test fcn fcn16s`, then `fcn8s` |
//! | 4. the per-pixel loss (the grader then trains your networks with it) | [`loss`] | `cargo test -p exercises --test loss` |
//!
//! Then, if you want more, the bonus track: the other ways to upsample and to
//! see far that the lectures cover, and the metrics the paper reports. The
//! grader scores it on its own line; it does not change the core score.
//!
//! | bonus exercise | module | test |
//! |---|---|---|
//! | 5. transposed convolution, from scratch | [`transposed`] | `cargo test -p exercises --test transposed`, and the doc test: `cargo test -p exercises --doc` |
//! | 6. unpooling | [`unpooling`] | `cargo test -p exercises --test unpooling` |
//! | 7. dilated (atrous) convolution | [`dilated`] | `cargo test -p exercises --test dilated` |
//! | 8. the segmentation metrics | [`metrics`] | `cargo test -p exercises --test metrics` |
//!
//! `cargo test -p exercises` runs them all. A test that fails with
//! "not yet implemented" is waiting for you; any other failure message says
//! what your code got wrong. FCN-32s is complete, but it runs on your
//! exercises 1, 2 and 3a, so its tests pass once those do.
//!
//! Each exercise's `same_values_as_the_reference` test runs your code on
//! fixed inputs (the networks on fixed weights too) and compares what it
//! computes, layer by layer, with the reference's values: the numbers in
//! `exercises/tests/reference-values/`. A failure names the first layer that
//! differs. Once exercises 1 to 3 and the loss pass, `cargo run -p exercises --example
//! figure4` trains your networks (about a minute on two cores) and draws your
//! own Figure 4 and loss curve, beside the reference's, in `target/course/`.

// No unsafe code in the exercises (nor `#[no_mangle]`, `#[link_section]` or
// `#[export_name]`): the grader refuses a file that has any, and one that
// allows `unsafe_code` again. (`deny`, not `forbid`: ndarray's `s!` macro
// allows it inside its own expansion, which `forbid` would reject.)
#![deny(unsafe_code)]

pub mod align;
pub mod bilinear;
pub mod dilated;
pub mod fcn16s;
pub mod fcn32s;
pub mod fcn8s;
pub mod loss;
pub mod metrics;
pub mod transposed;
pub mod unpooling;
pub mod vgg;
