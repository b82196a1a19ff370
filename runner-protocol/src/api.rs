//! The names the student's functions travel by, made from the one table
//! of the student's API (`student_api::student_api!`).

/// Declares [`Function`], [`Layer`] and [`Network`] from the table.
macro_rules! wire_names {
    ([]
     core {
        calls { $($call:ident = $cm:ident :: $cf:ident ($($ca:ident : $ct:ty),*) -> $cr:ty $(, within $cb:expr)? ;)* }
        layers { $($layer:ident = $lm:ident :: $lf:ident (path: $lp:ty $(, $la:ident : $lt:ty)*) -> $lr:ty $(, within $lb:expr)? ;)* }
        networks { $($network:ident = $nm:ident :: $nf:ident -> $nr:ty;)* }
     }
     bonus {
        calls { $($bonus:ident = $bm:ident :: $bf:ident ($($ba:ident : $bt:ty),*) -> $br:ty $(, within $bb:expr)? ;)* }
     }) => {
        /// A plain function of the exercises, core or bonus, by its name in
        /// the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Function {
            $(
                #[doc = concat!("`", stringify!($cm), "::", stringify!($cf), "`")]
                $call,
            )*
            $(
                #[doc = concat!("`", stringify!($bm), "::", stringify!($bf), "` (bonus)")]
                $bonus,
            )*
        }

        /// A function of the exercises that registers a layer's variables
        /// under a path.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Layer {
            $(
                #[doc = concat!("`", stringify!($lm), "::", stringify!($lf), "`")]
                $layer,
            )*
        }

        /// The networks a student builds (and the worked example).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Network {
            $(
                #[doc = concat!("`", stringify!($nm), "::", stringify!($nf), "`")]
                $network,
            )*
        }
    };
}

student_api::student_api!(wire_names![]);
