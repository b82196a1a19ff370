//! Deliberately wrong implementations, for the tests that show each check
//! can fail.
//!
//! A wrong implementation is the reference with one mistake in it. Its type
//! implements [`Mistake`] (or [`BonusMistake`]) and writes only the functions
//! it gets wrong: every other function of the table of the student's API
//! (`student_api::student_api!`) is the reference's, by default, and the type
//! is then an [`Implementation`] (a [`Bonus`]) through the impls below. So a
//! new function in the table needs no line in any test's mistakes.
//!
//! ```
//! use checks::{Mistake, Solutions};
//!
//! /// A bilinear filter of zeros: an answer that computes nothing.
//! struct Zeros;
//! impl Mistake for Zeros {
//!     fn bilinear_filter(size: usize) -> ndarray::Array2<f32> {
//!         ndarray::Array2::zeros((size, size))
//!     }
//! }
//!
//! let failed = checks::bilinear::checks::<Zeros>().iter().filter(|c| !checks::run(c).passed()).count();
//! assert!(failed > 0);
//! assert!(checks::bilinear::checks::<Solutions>().iter().all(|c| checks::run(c).passed()));
//! ```

use crate::{Bonus, Implementation, Solutions};

/// Declares [`Mistake`] and [`BonusMistake`] from the table, each function
/// the reference's by default, and makes every mistake an implementation.
macro_rules! mistakes {
    ([]
     core {
        calls { $($call:ident = $cm:ident :: $cf:ident ($($ca:ident : $ct:ty),*) -> $cr:ty $(, within $cb:expr)? ;)* }
        layers { $($layer:ident = $lm:ident :: $lf:ident (path: $lp:ty $(, $la:ident : $lt:ty)*) -> $lr:ty $(, within $lb:expr)? ;)* }
        networks { $($network:ident = $nm:ident :: $nf:ident -> $nr:ty;)* }
     }
     bonus {
        calls { $($bonus:ident = $bm:ident :: $bf:ident ($($ba:ident : $bt:ty),*) -> $br:ty $(, within $bb:expr)? ;)* }
     }) => {
        /// The core track's functions of a wrong implementation: each is the
        /// reference's unless the type writes its own.
        pub trait Mistake {
            $( fn $cf($($ca: $ct),*) -> $cr { <Solutions as Implementation>::$cf($($ca),*) } )*
            $( fn $lf(path: $lp, $($la: $lt),*) -> $lr { <Solutions as Implementation>::$lf(path, $($la),*) } )*
            $(
                fn $nf(path: &::tch::nn::Path, config: ::fcn_common::FcnConfig) -> $nr {
                    <Solutions as Implementation>::$nf(path, config)
                }
            )*
        }

        impl<M: Mistake> Implementation for M {
            $( fn $cf($($ca: $ct),*) -> $cr { <M as Mistake>::$cf($($ca),*) } )*
            $( fn $lf(path: $lp, $($la: $lt),*) -> $lr { <M as Mistake>::$lf(path, $($la),*) } )*
            $(
                fn $nf(path: &::tch::nn::Path, config: ::fcn_common::FcnConfig) -> $nr {
                    <M as Mistake>::$nf(path, config)
                }
            )*
        }

        /// The bonus track's functions of a wrong implementation: each is the
        /// reference's unless the type writes its own.
        pub trait BonusMistake {
            $( fn $bf($($ba: $bt),*) -> $br { <Solutions as Bonus>::$bf($($ba),*) } )*
        }

        impl<M: BonusMistake> Bonus for M {
            $( fn $bf($($ba: $bt),*) -> $br { <M as BonusMistake>::$bf($($ba),*) } )*
        }
    };
}

student_api::student_api!(mistakes![]);
