//! What the grader refuses in a submitted file before building it: unsafe
//! code in any exercise, and in a bonus exercise that rebuilds one of
//! libtorch's operations "from scratch", a call of that operation.
//!
//! Decided from the submitted source: every identifier of the file is read,
//! in macro bodies too, so nothing can hide in a macro. A refused file is
//! graded as not attempted, and the notes say why.

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

use crate::submission::Submitted;

/// libtorch's names (tch's fallible `f_`, in-place `g_` and `internal_`
/// spellings included) that each from-scratch file may not call.
const FORBIDDEN: [(&str, &str, &[&str]); 2] = [
    (
        "transposed.rs",
        "a transposed convolution",
        &[
            "conv_transpose1d",
            "conv_transpose2d",
            "conv_transpose3d",
            "convolution",
            "convolution_overrideable",
            "cudnn_convolution_transpose",
            "miopen_convolution_transpose",
            "slow_conv_transpose2d",
            "slow_conv_transpose3d",
            "conv_transpose_config",
        ],
    ),
    (
        "unpooling.rs",
        "unpooling",
        &["max_unpool1d", "max_unpool2d", "max_unpool3d", "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d"],
    ),
];

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
    if let Some((_, what, names)) = FORBIDDEN.iter().find(|(file, _, _)| *file == name) {
        if let Some(call) = idents.iter().find(|i| names.contains(&libtorch_name(i))) {
            return Some(format!("calls libtorch's `{call}`, but this exercise builds {what} from scratch"));
        }
    }
    if name == "dilated.rs" {
        let mut finder = DilatedCalls::default();
        finder.visit_file(&file);
        if let Some(found) = finder.found {
            return Some(format!("{found}, but this exercise builds the dilation from scratch (spread the filter)"));
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

/// tch's spellings of one libtorch operation: `f_conv2d`, `g_conv2d`,
/// `internal_conv2d` and `_conv2d` are all `conv2d`.
fn libtorch_name(ident: &str) -> &str {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    for prefix in ["internal_", "f_internal_", "f_", "g_", "_"] {
        if let Some(rest) = ident.strip_prefix(prefix) {
            return rest.trim_start_matches('_');
        }
    }
    ident
}

/// Finds a convolution given a dilation other than 1, or any generic
/// `convolution` call: in calls, in `ConvConfig`s, and in macro bodies.
#[derive(Default)]
struct DilatedCalls {
    found: Option<String>,
}

const CONVOLUTIONS: [&str; 3] = ["conv1d", "conv2d", "conv3d"];

impl DilatedCalls {
    /// A call of `name` with `args`, whose dilation (for a convolution) is
    /// argument `dilation_at`.
    fn call(&mut self, name: &str, args: &[&syn::Expr], dilation_at: usize) {
        let op = libtorch_name(name);
        if CONVOLUTIONS.contains(&op) && args.len() == dilation_at + 2 && !is_one(args[dilation_at]) {
            self.found.get_or_insert(format!("calls `{name}` with a dilation"));
        }
        if op.starts_with("convolution") {
            self.found.get_or_insert(format!("calls libtorch's `{name}`"));
        }
    }
}

impl<'ast> Visit<'ast> for DilatedCalls {
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        // tensor.conv2d(weight, bias, stride, padding, dilation, groups)
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        self.call(&call.method.to_string(), &args, 4);
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = &*call.func {
            // Tensor::conv2d(input, weight, bias, stride, padding, dilation, groups)
            let name = path.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            let args: Vec<&syn::Expr> = call.args.iter().collect();
            self.call(&name, &args, 5);
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_field_value(&mut self, field: &'ast syn::FieldValue) {
        if matches!(&field.member, syn::Member::Named(n) if n == "dilation") && !is_one(&field.expr) {
            self.found.get_or_insert("sets a convolution's `dilation`".to_owned());
        }
        syn::visit::visit_field_value(self, field);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // A macro's body is tokens, not code, until it expands: parse what
        // parses as expressions, and refuse a convolution among the rest.
        let parsed = mac.parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated);
        match parsed {
            Ok(exprs) => exprs.iter().for_each(|e| self.visit_expr(e)),
            Err(_) => {
                let mut idents = Vec::new();
                collect_idents(mac.tokens.clone(), &mut idents);
                if let Some(name) = idents.iter().find(|i| {
                    let name = libtorch_name(i);
                    CONVOLUTIONS.contains(&name) || name.starts_with("convolution")
                }) {
                    self.found.get_or_insert(format!("calls `{name}` inside a macro"));
                }
            }
        }
    }
}

/// Whether `expr` is literally 1, `[1, 1]`, `[1; n]`, or a reference to one.
fn is_one(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(int), .. }) => int.base10_digits() == "1",
        syn::Expr::Array(array) => array.elems.iter().all(is_one),
        syn::Expr::Repeat(repeat) => is_one(&repeat.expr),
        syn::Expr::Reference(reference) => is_one(&reference.expr),
        syn::Expr::Paren(paren) => is_one(&paren.expr),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solution(file: &str) -> String {
        std::fs::read_to_string(crate::grading::default_kit().join("solutions/src").join(file)).unwrap()
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

    #[test]
    fn calls_of_the_rebuilt_operation_are_refused() {
        let cases = [
            ("transposed.rs", "pub fn f(x: &Tensor, w: &Tensor) -> Tensor { x.conv_transpose2d(w, None::<Tensor>, [2, 2], [0, 0], [0, 0], 1, [1, 1]) }"),
            ("transposed.rs", "pub fn f(x: &Tensor, w: &Tensor) -> Tensor { Tensor::f_conv_transpose2d(x, w, None::<Tensor>, [2, 2], [0, 0], [0, 0], 1, [1, 1]).unwrap() }"),
            ("transposed.rs", "macro_rules! up { ($x:expr, $w:expr) => { $x.conv_transpose2d($w, None::<Tensor>, [2, 2], [0, 0], [0, 0], 1, [1, 1]) } }"),
            ("unpooling.rs", "pub fn max_unpool(x: &Tensor, i: &Tensor, s: [i64; 2]) -> Tensor { x.max_unpool2d(i, s) }"),
            ("dilated.rs", "pub fn d(x: &Tensor, w: &Tensor, s: [i64; 2], p: [i64; 2], d: [i64; 2]) -> Tensor { x.conv2d(w, None::<Tensor>, s, p, d, 1) }"),
            ("dilated.rs", "pub fn d(x: &Tensor, w: &Tensor) -> Tensor { Tensor::conv2d(x, w, None::<Tensor>, [1, 1], [0, 0], [2, 2], 1) }"),
            ("dilated.rs", "pub fn d(x: &Tensor, w: &Tensor) -> Tensor { x.convolution(w, None::<Tensor>, [1, 1], [0, 0], [1, 1], false, [0, 0], 1) }"),
            ("dilated.rs", "pub fn d() -> ConvConfig { ConvConfig { dilation: 2, ..Default::default() } }"),
            ("dilated.rs", "pub fn d(x: &Tensor, w: &Tensor, g: [i64; 2]) -> Tensor { std::hint::black_box(x.conv2d(w, None::<Tensor>, [1, 1], [0, 0], g, 1)) }"),
        ];
        for (file, source) in cases {
            assert!(refusal(file, source).is_some(), "{file}: {source}");
        }
        let allowed = "pub fn d(x: &Tensor, w: &Tensor) -> Tensor { x.conv2d(w, None::<Tensor>, [1, 1], [0, 0], [1; 2], 1) }";
        assert_eq!(refusal("dilated.rs", allowed), None);
    }
}
