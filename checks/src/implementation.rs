//! The API contract: what a crate of exercises must provide.
//!
//! The traits are made from the one table of the student's API
//! (`student_api::student_api!`). The `exercises` crate and the `solutions`
//! crate both implement them (through [`implementation!`], so a signature
//! that drifts apart fails to compile), the grader's view of a student's
//! crate does so through the runner, and the tests build deliberately wrong
//! implementations of them to prove that each check can fail.

use fcn_common::FcnConfig;
use fcn_metrics::{Scores, evaluate};
use fcn_train::train::{Batches, Schedule, Stage, Start, Trained};
use tch::Tensor;

/// A network of the staged schedule, by the exercise that builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Fcn32s,
    Fcn16s,
    Fcn8s,
}

impl Net {
    /// The stage that trains `I`'s version of this network.
    pub fn stage<I: Implementation>(self) -> Stage {
        match self {
            Net::Fcn32s => Stage { name: "FCN-32s", build: I::fcn32s, loss: I::pixel_loss },
            Net::Fcn16s => Stage { name: "FCN-16s", build: I::fcn16s, loss: I::pixel_loss },
            Net::Fcn8s => Stage { name: "FCN-8s", build: I::fcn8s, loss: I::pixel_loss },
        }
    }
}

/// What a training check asks an implementation to train: the data, the
/// start and the schedule of `fcn_train::train::train_staged`, and the
/// validation images the trained networks are scored on.
#[derive(Clone, Copy)]
pub struct TrainingRun<'a> {
    pub config: FcnConfig,
    pub start: Start<'a>,
    pub train: &'a Batches,
    pub val: &'a Batches,
    pub schedule: &'a Schedule,
}

/// Declares [`Implementation`] and [`Bonus`] from the table, with the core
/// trait's provided methods (`$provided`) after the table's.
macro_rules! traits {
    ([$($provided:tt)*]
     core {
        calls { $($call:ident = $cm:ident :: $cf:ident ($($ca:ident : $ct:ty),*) -> $cr:ty $(, within $cb:expr)? ;)* }
        layers { $($layer:ident = $lm:ident :: $lf:ident (path: $lp:ty $(, $la:ident : $lt:ty)*) -> $lr:ty $(, within $lb:expr)? ;)* }
        networks { $($network:ident = $nm:ident :: $nf:ident -> $nr:ty;)* }
     }
     bonus {
        calls { $($bonus:ident = $bm:ident :: $bf:ident ($($ba:ident : $bt:ty),*) -> $br:ty $(, within $bb:expr)? ;)* }
     }) => {
        /// One crate's answers to the exercises of the core track, as plain
        /// functions: those of the table of the student's API
        /// (`student_api::student_api!`), and how the checks run them.
        pub trait Implementation {
            $(
                #[doc = concat!("See `solutions::", stringify!($cm), "::", stringify!($cf), "`.")]
                fn $cf($($ca: $ct),*) -> $cr;
            )*
            $(
                #[doc = concat!("See `solutions::", stringify!($lm), "::", stringify!($lf), "`.")]
                fn $lf(path: $lp, $($la: $lt),*) -> $lr;
            )*
            $(
                #[doc = concat!("See `solutions::", stringify!($nm), "::", stringify!($nf), "`.")]
                fn $nf(path: &::tch::nn::Path, config: ::fcn_common::FcnConfig) -> $nr;
            )*
            $($provided)*
        }

        /// One crate's answers to the bonus exercises. Apart from
        /// [`Implementation`] so that an implementation of one track need not
        /// spell out the other.
        pub trait Bonus {
            $(
                #[doc = concat!("See `solutions::", stringify!($bm), "::", stringify!($bf), "`.")]
                fn $bf($($ba: $bt),*) -> $br;
            )*
        }
    };
}

student_api::student_api!(traits![
    /// Seeds libtorch's generator for the next forward pass of a network of
    /// this implementation: its dropout masks are then the reference's under
    /// the same seed. Here, in this process; the grader's view of a
    /// student's crate seeds the runner instead.
    fn seed_next_pass(seed: i64)
    where
        Self: Sized,
    {
        tch::manual_seed(seed);
    }

    /// Back-propagates `loss` through this implementation's networks: here,
    /// `loss.backward()`; the grader's view of a student's crate also
    /// carries the gradients through the passes its runner kept.
    fn backward(loss: &Tensor)
    where
        Self: Sized,
    {
        loss.backward();
    }

    /// Exercise 4: the gradient of this implementation's `pixel_loss` with
    /// respect to `scores`, back-propagated from the loss; `None` when no
    /// gradient reaches the scores (a loss computed outside autograd). Here,
    /// in this process; the grader's view of a student's crate asks the
    /// runner, and reads back at most the scores' size.
    fn pixel_loss_gradient(scores: &Tensor, labels: &Tensor) -> Option<Tensor>
    where
        Self: Sized,
    {
        fcn_train::train::loss_gradient(Self::pixel_loss, scores, labels)
    }

    /// Exercise 4: `networks`, trained in stages with the kit's loop
    /// (`fcn_train::train::train_staged`), each with its scores on the
    /// validation images. Here, in this process; the grader's view of a
    /// student's crate trains them in the student's runner instead, and
    /// hands back the trained weights in the reference's networks, scored by
    /// the grader itself.
    fn train_staged(networks: &[Net], run: TrainingRun) -> Result<Vec<(Trained, Scores)>, String>
    where
        Self: Sized,
    {
        let stages: Vec<Stage> = networks.iter().map(|n| n.stage::<Self>()).collect();
        let trained = fcn_train::train::train_staged(&stages, run.config, run.start, run.train, run.schedule)
            .map_err(|e| e.to_string())?;
        let classes = run.config.classes as usize;
        Ok(trained.into_iter().map(|t| { let scores = evaluate(&t.net, run.val, classes); (t, scores) }).collect())
    }
]);

/// The body of [`implementation!`]: each function of the table, forwarded to
/// the crate `$krate`'s.
#[doc(hidden)]
#[macro_export]
macro_rules! forward {
    ([$name:ident, $krate:ident]
     core {
        calls { $($call:ident = $cm:ident :: $cf:ident ($($ca:ident : $ct:ty),*) -> $cr:ty $(, within $cb:expr)? ;)* }
        layers { $($layer:ident = $lm:ident :: $lf:ident (path: $lp:ty $(, $la:ident : $lt:ty)*) -> $lr:ty $(, within $lb:expr)? ;)* }
        networks { $($network:ident = $nm:ident :: $nf:ident -> $nr:ty;)* }
     }
     bonus {
        calls { $($bonus:ident = $bm:ident :: $bf:ident ($($ba:ident : $bt:ty),*) -> $br:ty $(, within $bb:expr)? ;)* }
     }) => {
        impl $crate::Implementation for $name {
            $( fn $cf($($ca: $ct),*) -> $cr { $krate::$cm::$cf($($ca),*) } )*
            $( fn $lf(path: $lp, $($la: $lt),*) -> $lr { $krate::$lm::$lf(path, $($la),*) } )*
            $(
                fn $nf(path: &::tch::nn::Path, config: ::fcn_common::FcnConfig) -> $nr {
                    $krate::$nm::$nf(path, config)
                }
            )*
        }

        impl $crate::Bonus for $name {
            $( fn $bf($($ba: $bt),*) -> $br { $krate::$bm::$bf($($ba),*) } )*
        }
    };
}

/// Declares `$name`, the [`Implementation`] and [`Bonus`] given by crate
/// `$krate`: each function of the table of the student's API forwarded to
/// `$krate`'s, so a signature that drifts apart fails to compile.
#[macro_export]
macro_rules! implementation {
    ($(#[$meta:meta])* $name:ident, $krate:ident) => {
        $(#[$meta])*
        pub struct $name;

        $crate::student_api::student_api!($crate::forward![$name, $krate]);
    };
}

implementation!(
    /// The reference crate, `solutions/`.
    Solutions,
    solutions
);
