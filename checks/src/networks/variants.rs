//! The FCN variants the checks build, by a student's implementation or by
//! the reference.

use fcn_common::FcnConfig;
use tch::nn;

use crate::Implementation;

/// One of the FCN variants, built by an implementation or by the reference.
pub trait Variant {
    const NAME: &'static str;
    /// (trainable, fixed) parameter counts at full width, 21 classes
    /// (fcn-reference.md).
    const PARAMETERS: (i64, i64);
    /// For staged training: the variables this variant has and the one it
    /// starts from does not (fcn-reference.md), and the coarser variant's own
    /// (fixed) upsampling it leaves behind.
    const NEW_IN_STAGE: (&'static [&'static str], &'static [&'static str]) = (&[], &[]);
    /// The coarser variant it starts from, built by the reference.
    fn coarser(_path: &nn::Path, _config: FcnConfig) -> Option<nn::FuncT<'static>> {
        None
    }
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static>;
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static>;
}

pub struct Fcn32s;
pub struct Fcn16s;
pub struct Fcn8s;
pub struct Fcn8sAtOnce;

impl Variant for Fcn32s {
    const NAME: &'static str = "FCN-32s";
    const PARAMETERS: (i64, i64) = (134_346_581, 1_806_336);
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        I::fcn32s(path, config)
    }
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        solutions::fcn32s::fcn32s(path, config)
    }
}

impl Variant for Fcn16s {
    const NAME: &'static str = "FCN-16s";
    const PARAMETERS: (i64, i64) = (134_357_354, 458_640);
    const NEW_IN_STAGE: (&'static [&'static str], &'static [&'static str]) = (
        &["score_pool4.bias", "score_pool4.weight", "upscore16.weight", "upscore2.weight"],
        &["upscore.weight"],
    );
    fn coarser(path: &nn::Path, config: FcnConfig) -> Option<nn::FuncT<'static>> {
        Some(solutions::fcn32s::fcn32s(path, config))
    }
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        I::fcn16s(path, config)
    }
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        solutions::fcn16s::fcn16s(path, config)
    }
}

impl Variant for Fcn8s {
    const NAME: &'static str = "FCN-8s";
    const PARAMETERS: (i64, i64) = (134_362_751, 127_008);
    const NEW_IN_STAGE: (&'static [&'static str], &'static [&'static str]) = (
        &["score_pool3.bias", "score_pool3.weight", "upscore8.weight", "upscore_pool4.weight"],
        &["upscore16.weight"],
    );
    fn coarser(path: &nn::Path, config: FcnConfig) -> Option<nn::FuncT<'static>> {
        Some(solutions::fcn16s::fcn16s(path, config))
    }
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        I::fcn8s(path, config)
    }
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        solutions::fcn8s::fcn8s(path, config)
    }
}

impl Variant for Fcn8sAtOnce {
    const NAME: &'static str = "FCN-8s at once";
    const PARAMETERS: (i64, i64) = Fcn8s::PARAMETERS;
    fn build<I: Implementation>(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        I::fcn8s_atonce(path, config)
    }
    fn reference(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {
        solutions::fcn8s::fcn8s_atonce(path, config)
    }
}

