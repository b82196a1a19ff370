//! # Fully convolutional networks for semantic segmentation: the reference
//!
//! The exercises solved. This crate has the same public API as the
//! `exercises` crate; the grader measures students' code against it.
//!
//! | exercise | module |
//! |---|---|
//! | 1. the bilinear upsampling filter | [`bilinear`] |
//! | 2. VGG16, made fully convolutional | [`vgg`] |
//! | worked example: FCN-32s | [`fcn32s`] |
//! | 3. aligning maps; FCN-16s and FCN-8s (and FCN-8s at once) | [`align`], [`fcn16s`], [`fcn8s`] |
//! | 4. the per-pixel loss | [`loss`] |
//!
//! The bonus track, graded apart from the core score:
//!
//! | bonus exercise | module |
//! |---|---|
//! | 5. transposed convolution, from scratch | [`transposed`] |
//! | 6. unpooling | [`unpooling`] |
//! | 7. dilated (atrous) convolution | [`dilated`] |
//! | 8. the segmentation metrics | [`metrics`] |

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
