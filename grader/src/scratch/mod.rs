//! What the grader refuses in a submitted file before building it: unsafe
//! code in any exercise, and in a bonus exercise that rebuilds one of
//! libtorch's operations "from scratch", anything beyond what such an
//! answer may call (`allowed.rs`, read by `calls.rs`).
//!
//! Decided from the submitted source, macro bodies included, so nothing can
//! hide in a macro. A refused file is graded as not attempted, and the
//! notes say why.

mod allowed;
mod calls;

use proc_macro2::{TokenStream, TokenTree};

use crate::submission::Submitted;

/// The submission with every refused file left out (it stays a stub), and
/// a note for each.
pub fn screen(submitted: &Submitted) -> (Submitted, Vec<String>) {
    let mut kept = submitted.clone();
    let mut notes = Vec::new();
    kept.files.retain(|(name, source)| match refusal(name, source) {
        Some(why) => {
            notes.push(format!("{name} {why}: graded as not attempted"));
            false
        }
        None => true,
    });
    (kept, notes)
}

/// No exercise file may hold `unsafe`: in edition 2024 that also rules out
/// `#[no_mangle]`, `#[export_name]` and `#[link_section]` (code run before
/// `main`, symbols that replace the C library's), which must be written
/// `#[unsafe(...)]`.
const UNSAFE: [&str; 1] = ["unsafe"];

/// Nor what reaches past Rust's checks without the word: assembly
/// (`global_asm!` runs no `unsafe` yet can put a constructor before `main`),
/// symbol and section attributes, foreign blocks (`extern`), and lints
/// turned off for unsafe code (`#![allow(unsafe_code)]` in a module would
/// lift lib.rs's `deny`, which cannot be `forbid`: ndarray's `s!` allows
/// unsafe code inside its own expansion).
const LOW_LEVEL: [&str; 8] =
    ["asm", "global_asm", "naked_asm", "link_section", "no_mangle", "export_name", "extern", "unsafe_code"];

/// Why `source`, the file `name`, is refused, if it is.
fn refusal(name: &str, source: &str) -> Option<String> {
    let file = syn::parse_file(source).ok()?; // A file that does not parse fails to compile: the build says so.
    let mut idents = Vec::new();
    collect_idents(quote::ToTokens::to_token_stream(&file), &mut idents);
    if let Some(word) = idents.iter().find(|i| UNSAFE.contains(&i.as_str())) {
        return Some(format!("uses `{word}`, and the exercises may not use unsafe code"));
    }
    if let Some(word) = idents.iter().find(|i| LOW_LEVEL.contains(&i.strip_prefix("r#").unwrap_or(i))) {
        return Some(format!("uses `{word}`, which places code or symbols outside Rust's checks; the exercises need none"));
    }
    // rustc stops a constant evaluation that runs for long; a file may not
    // turn that guard off (the build's time limit is the last resort).
    if idents.iter().any(|i| i == "long_running_const_eval") {
        return Some("turns off the compiler's limit on constant evaluation".to_owned());
    }
    if let Some((_, what)) = allowed::FROM_SCRATCH.iter().find(|(file, _)| *file == name) {
        if let Some(why) = calls::first_outside(&file) {
            return Some(format!("{why}, but this exercise builds {what} from scratch ({})", allowed::SAID));
        }
    }
    None
}

fn collect_idents(tokens: TokenStream, out: &mut Vec<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Group(group) => collect_idents(group.stream(), out),
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solution(file: &str) -> String {
        std::fs::read_to_string(crate::kit::default_kit().join("solutions/src").join(file)).unwrap()
    }

    #[test]
    fn the_reference_passes_the_screen() {
        for file in crate::submission::EXERCISE_FILES {
            assert_eq!(refusal(file, &solution(file)), None, "{file}");
        }
    }

    #[test]
    fn code_past_rusts_checks_is_refused_in_any_file() {
        let cases = [
            "#![allow(unsafe_code)]\npub fn f() {}",
            "std::arch::global_asm!(\".section .init_array\");\npub fn f() {}",
            "pub fn f() { unsafe { std::arch::asm!(\"nop\") } }",
            "#[link_section = \".init_array\"]\npub static F: fn() = f;\npub fn f() {}",
            "#[unsafe(export_name = \"getpid\")]\npub extern \"C\" fn f() -> i32 { 1 }",
            "extern \"C\" { fn getpid() -> i32; }\npub fn f() {}",
            "macro_rules! hide { () => { core::arch::global_asm!(\"\"); } }\nhide!();",
        ];
        for source in cases {
            assert!(refusal("bilinear.rs", source).is_some(), "{source}");
        }
    }

    /// Each way the first screen (a list of libtorch's names, read in the
    /// exercise's own file) let through, and the direct calls it caught.
    #[test]
    fn every_way_to_reach_libtorchs_own_operation_is_refused() {
        let x = "x: &Tensor, w: &Tensor";
        let cases = [
            ("transposed.rs", format!("pub fn f({x}) -> Tensor {{ x.conv_transpose2d(w, None::<Tensor>, [2, 2], [0, 0], [0, 0], 1, [1, 1]) }}")),
            ("transposed.rs", format!("pub fn f({x}) -> Tensor {{ Tensor::f_conv_transpose2d(x, w, None::<Tensor>, [2, 2], [0, 0], [0, 0], 1, [1, 1]).unwrap() }}")),
            ("transposed.rs", format!("pub fn f({x}, out: &Tensor) -> Tensor {{ Tensor::convolution_out(out, x, w, None::<Tensor>, [2, 2], [0, 0], [1, 1], true, [0, 0], 1) }}")),
            ("transposed.rs", "macro_rules! up { ($x:expr, $w:expr) => { $x.conv_transpose2d($w, None::<Tensor>, [2, 2], [0, 0], [0, 0], 1, [1, 1]) } }".to_owned()),
            // The gradient of a convolution is a transposed convolution.
            ("transposed.rs", format!("pub fn f({x}) -> Tensor {{ let x = x.detach().set_requires_grad(true); x.conv2d(w, None::<Tensor>, [2, 2], [0, 0], [1, 1], 1).sum(None).backward(); x.grad() }}")),
            ("transposed.rs", format!("pub fn f({x}) -> Tensor {{ let g = Tensor::run_backward(&[x], &[w], true, false); g[0].shallow_clone() }}")),
            // Helpers elsewhere: another exercise file, a trait from one, a
            // type whose impls can live anywhere, the kit's own layer.
            ("transposed.rs", format!("pub fn f({x}) -> Tensor {{ crate::bilinear::helper(x, w) }}")),
            ("transposed.rs", "use crate::bilinear::helper;\npub fn f(x: &Tensor) -> Tensor { helper(x) }".to_owned()),
            ("transposed.rs", "use crate::bilinear::*;\npub fn f(x: &Tensor) -> Tensor { x.shallow_clone() }".to_owned()),
            ("transposed.rs", "use super::bilinear::Up;\npub fn f(x: &Tensor) -> Tensor { Up::up(x) }".to_owned()),
            ("transposed.rs", "pub struct T;\npub fn f(x: &Tensor) -> Tensor { let _ = T.clone(); x.shallow_clone() }".to_owned()),
            ("transposed.rs", "#[path = \"bilinear.rs\"]\nmod b;\npub fn f(x: &Tensor) -> Tensor { b::zeros(x) }".to_owned()),
            ("transposed.rs", "pub fn f(x: &Tensor) -> Tensor { include!(\"bilinear.rs\"); x.shallow_clone() }".to_owned()),
            ("unpooling.rs", "pub fn f(x: &Tensor) -> Tensor { fcn_common::FixedUpsampling::new(x) }".to_owned()),
            ("unpooling.rs", "use fcn_common::FixedUpsampling;\npub fn f() {}".to_owned()),
            ("unpooling.rs", "pub fn f(vs: &tch::nn::Path) { let _ = tch::nn::conv_transpose2d(vs, 1, 1, 2, Default::default()); }".to_owned()),
            ("unpooling.rs", "use tch::nn;\npub fn f() {}".to_owned()),
            ("unpooling.rs", "use tch::Tensor as T;\npub fn f(x: &T) -> T { x.shallow_clone() }".to_owned()),
            // The operation's other spellings.
            ("unpooling.rs", "pub fn f(x: &Tensor, i: &Tensor, o: &Tensor) -> Tensor { x.max_unpool2d(i, [4, 4]) }".to_owned()),
            ("unpooling.rs", "pub fn f(x: &Tensor, i: &Tensor, o: &Tensor) -> Tensor { o.max_unpool2d_out(x, i, [4, 4]) }".to_owned()),
            ("unpooling.rs", "pub fn f(x: &Tensor, o: &Tensor) -> Tensor { Tensor::upsample_nearest2d_out(o, x, [4, 4], None, None) }".to_owned()),
            ("unpooling.rs", "pub fn f(x: &Tensor) -> Tensor { x.internal_upsample_nearest_exact2d([4, 4], None, None) }".to_owned()),
            ("unpooling.rs", "pub fn f(g: &Tensor, x: &Tensor, i: &Tensor) -> Tensor { g.max_pool2d_with_indices_backward(x, [2, 2], [2, 2], [0, 0], [1, 1], false, i) }".to_owned()),
            ("unpooling.rs", "pub fn f(x: &Tensor) -> Tensor { <Tensor as Clone>::clone(x) }".to_owned()),
            ("dilated.rs", format!("pub fn d({x}, s: [i64; 2], p: [i64; 2], d: [i64; 2]) -> Tensor {{ x.conv2d(w, None::<Tensor>, s, p, d, 1) }}")),
            ("dilated.rs", format!("pub fn d({x}) -> Tensor {{ Tensor::conv2d(x, w, None::<Tensor>, [1, 1], [0, 0], [2, 2], 1) }}")),
            ("dilated.rs", format!("pub fn d({x}) -> Tensor {{ (Tensor::conv2d)(x, w, None::<Tensor>, [1, 1], [0, 0], [2, 2], 1) }}")),
            ("dilated.rs", format!("pub fn d({x}) -> Tensor {{ let c = Tensor::conv2d; c(x, w, None::<Tensor>, [1, 1], [0, 0], [2, 2], 1) }}")),
            ("dilated.rs", format!("pub fn d({x}) -> Tensor {{ x.slow_conv_dilated2d(w, [3, 3], None::<Tensor>, [1, 1], [0, 0], [2, 2]) }}")),
            ("dilated.rs", format!("pub fn d({x}) -> Tensor {{ x.convolution(w, None::<Tensor>, [1, 1], [0, 0], [1, 1], false, [0, 0], 1) }}")),
            ("dilated.rs", "pub fn d() -> tch::nn::ConvConfig { tch::nn::ConvConfig { dilation: 2, ..Default::default() } }".to_owned()),
            ("dilated.rs", format!("pub fn d({x}, g: [i64; 2]) -> Tensor {{ std::hint::black_box(x.conv2d(w, None::<Tensor>, [1, 1], [0, 0], g, 1)) }}")),
            ("dilated.rs", format!("pub fn d({x}) -> Tensor {{ let v = ndarray::s![.., x.im2col([3, 3], [2, 2], [0, 0], [1, 1]).int64_value(&[0])]; x.shallow_clone() }}")),
        ];
        for (file, source) in cases {
            assert!(syn::parse_file(&source).is_ok(), "{source} does not parse");
            let why = refusal(file, &source);
            assert!(why.is_some(), "{file}: {source}");
        }
    }

    /// An honest answer written in another style than the reference's:
    /// iterators, ndarray and its `s!`, the std prelude, formatting macros,
    /// another from-scratch file's function, `conv2d` with a dilation of 1.
    #[test]
    fn an_honest_answer_in_its_own_style_passes() {
        let honest = r#"
use ndarray::{s, Array2};
use std::cmp::max;
use tch::{IndexOp, Kind, Tensor};

const ONE: i64 = 1;

pub fn f(x: &Tensor, w: &Tensor, k: i64) -> Tensor {
    let sizes: Vec<i64> = x.size().iter().map(|n| max(*n, ONE) * k).collect();
    let mut a = Array2::<f32>::zeros((3, 3));
    a.slice_mut(s![.., 0..3;2]).fill(1.0);
    assert_eq!(sizes.len(), 4, "got {:?}", sizes);
    let out = Tensor::zeros(&sizes[..], (Kind::Float, x.device()));
    let mut v = vec![0i64; 4];
    v.retain(|n| *n >= 0);
    v.sort_by(|a, b| a.cmp(b));
    let _ = 3u32.abs_diff(1);
    let _ = out.i((.., .., 0..2)).copy_(&x.i((.., .., 0..2)));
    let spread = crate::transposed::insert_zeros(w, [2, 2]);
    let y = x.conv2d(&spread, None::<Tensor>, [1, 1], [0, 0], [1, 1], 1);
    let y = Tensor::f_conv2d(&y, &spread, None::<Tensor>, [1, 1], [0, 0], [1; 2], 1).expect("a convolution");
    if matches!(x.kind(), Kind::Float | Kind::Double) { y } else { out.to_kind(Kind::Float) }
}
"#;
        for file in ["transposed.rs", "unpooling.rs", "dilated.rs"] {
            assert_eq!(refusal(file, honest), None, "{file}");
        }
    }
}
