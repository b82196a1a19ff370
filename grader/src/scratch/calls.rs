//! Reads every call, path, method, import and macro of a from-scratch file
//! and finds the first that [`allowed`](super::allowed) does not allow.
//!
//! Sound by construction rather than by listing libtorch's spellings: the
//! file may reach only (1) the allowed names, (2) its own items and
//! bindings, (3) the other from-scratch files, which are read the same way.
//! A helper in another exercise file, a trait brought in from one, a
//! function pointer, a parenthesised path, autograd or a layer of tch's
//! `nn` all fall outside those three, however they are spelled.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

use super::allowed;

/// The first thing in `file` that reaches outside the list, said so that a
/// student knows what to change.
pub fn first_outside(file: &syn::File) -> Option<String> {
    let mut imported = Imported::default();
    imported.visit_file(file);
    let mut reader = Reader { imported: imported.names, found: None };
    reader.visit_file(file);
    reader.found
}

/// The names the file's imports bring in (`use std::cmp::max;` gives
/// `max`). Each import is itself held to the list, so a path that starts
/// with one of these names starts somewhere allowed.
#[derive(Default)]
struct Imported {
    names: HashSet<String>,
}

impl<'ast> Visit<'ast> for Imported {
    fn visit_use_tree(&mut self, tree: &'ast syn::UseTree) {
        match tree {
            syn::UseTree::Name(name) => {
                self.names.insert(name.ident.to_string());
            }
            syn::UseTree::Path(path) => self.visit_use_tree(&path.tree),
            syn::UseTree::Group(group) => group.items.iter().for_each(|t| self.visit_use_tree(t)),
            syn::UseTree::Rename(_) | syn::UseTree::Glob(_) => {}
        }
    }
}

struct Reader {
    imported: HashSet<String>,
    found: Option<String>,
}

impl Reader {
    fn refuse(&mut self, why: String) {
        self.found.get_or_insert(why);
    }

    /// A path used as a value or called: `f`, `Tensor::zeros`,
    /// `crate::transposed::insert_zeros`, `Kind::Float`, with its
    /// arguments when it is called directly.
    fn value_path(&mut self, path: &syn::Path, called_with: Option<&[&syn::Expr]>) {
        let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.path_names(&names, called_with.map(|args| (args.len() == 7 && is_one(args[5])) as usize));
    }

    /// A path's names; `dilation_one` is `Some(1)` for a direct call whose
    /// dilation is literally 1, `Some(0)` for another call, `None` for a
    /// path that is not called.
    fn path_names(&mut self, names: &[String], dilation_one: Option<usize>) {
        let shown = names.join("::");
        let Some(last) = names.last() else { return };
        if !self.path_ok(names) {
            self.refuse(format!("calls `{shown}`"));
        }
        if allowed::tensor_op(last) && last.trim_start_matches("f_") == "conv2d" {
            match dilation_one {
                Some(1) => {}
                Some(_) => self.refuse(format!("calls `{shown}` with a dilation")),
                None => self.refuse(format!("takes `{shown}` as a value instead of calling it")),
            }
        }
    }

    /// A name alone is the file's own, an import (each held to the list) or
    /// the prelude's; a longer path must start somewhere allowed.
    fn path_ok(&self, names: &[String]) -> bool {
        let (root, last) = (names[0].as_str(), names[names.len() - 1].as_str());
        names.len() == 1
            || match root {
                "crate" | "super" => names.get(1).is_some_and(|m| allowed::is_from_scratch_module(m)),
                "tch" => match names.get(1).map(String::as_str) {
                    Some("Tensor") => names.len() == 3 && allowed::tensor_op(last),
                    Some(item) => allowed::TCH_ITEMS.contains(&item),
                    None => false,
                },
                "Tensor" => names.len() == 2 && allowed::tensor_op(last),
                "Kind" | "Device" | "IndexOp" => true,
                "fcn_common" => names.get(1).is_some_and(|n| allowed::FCN_COMMON.contains(&n.as_str())),
                _ => {
                    allowed::STD_ROOTS.contains(&root)
                        || allowed::NDARRAY_ROOTS.contains(&root)
                        || allowed::is_from_scratch_module(root)
                        || self.imported.contains(root)
                }
            }
    }

    fn use_tree(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(&path.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Group(group) => group.items.iter().for_each(|t| self.use_tree(t, prefix)),
            syn::UseTree::Rename(rename) if rename.rename == "_" => {
                prefix.push(rename.ident.to_string());
                self.import(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(rename) => {
                self.refuse(format!("imports `{}` as `{}`: import it by its own name", rename.ident, rename.rename))
            }
            syn::UseTree::Name(name) => {
                prefix.push(name.ident.to_string());
                self.import(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => {
                prefix.push("*".to_owned());
                self.import(prefix);
                prefix.pop();
            }
        }
    }

    /// One imported path, `*` for a glob.
    fn import(&mut self, names: &[String]) {
        let root = names[0].as_str();
        let second = names.get(1).map(String::as_str);
        let ok = match root {
            "crate" | "super" => second.is_some_and(allowed::is_from_scratch_module),
            "self" => true,
            "tch" => second.is_some_and(|item| allowed::TCH_ITEMS.contains(&item)),
            "fcn_common" => second.is_some_and(|item| allowed::FCN_COMMON.contains(&item)),
            "ndarray" => true,
            _ => allowed::STD_ROOTS.contains(&root) && names.len() > 1,
        };
        if !ok {
            self.refuse(format!("imports `{}`", names.join("::")));
        }
    }

    /// A macro's tokens: read as expressions where they parse as such
    /// (`format!`, `assert_eq!`), otherwise token by token (`s![.., 0..n;2]`):
    /// a name after a lone `.` is a method, names joined by `::` a path.
    fn macro_body(&mut self, tokens: &TokenStream) {
        type Exprs = syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>;
        if let Ok(exprs) = syn::parse::Parser::parse2(Exprs::parse_terminated, tokens.clone()) {
            exprs.iter().for_each(|e| self.visit_expr(e));
            return;
        }
        let tokens: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let punct = |i: usize, c: char| matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == c);
        let mut at = 0;
        while at < tokens.len() {
            match &tokens[at] {
                TokenTree::Group(group) => self.macro_body(&group.stream()),
                TokenTree::Ident(ident) => {
                    let method = at >= 1 && punct(at - 1, '.') && !(at >= 2 && punct(at - 2, '.'));
                    if method {
                        let name = ident.to_string();
                        if !allowed::method(&name) || name.trim_start_matches("f_") == "conv2d" {
                            self.refuse(format!("calls the method `.{name}(...)` inside a macro"));
                        }
                    } else {
                        let mut names = vec![ident.to_string()];
                        while punct(at + 1, ':') && punct(at + 2, ':') {
                            match tokens.get(at + 3) {
                                Some(TokenTree::Ident(next)) => names.push(next.to_string()),
                                _ => break,
                            }
                            at += 3;
                        }
                        self.path_names(&names, Some(0));
                    }
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
            at += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Reader {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        match item {
            syn::Item::Mod(m) => self.refuse(format!("declares a module `{}`; write the answer in this file", m.ident)),
            syn::Item::ExternCrate(c) => self.refuse(format!("names the crate `{}`", c.ident)),
            syn::Item::Macro(m) if m.mac.path.is_ident("macro_rules") => {
                self.refuse("defines a macro; write a function instead".to_owned())
            }
            syn::Item::Use(u) => self.use_tree(&u.tree, &mut Vec::new()),
            // A type or trait of this file could take its behaviour from an
            // impl in another file (`impl Clone for crate::transposed::T`
            // in bilinear.rs): a from-scratch answer is functions.
            syn::Item::Struct(_) | syn::Item::Enum(_) | syn::Item::Union(_) | syn::Item::Trait(_) | syn::Item::Impl(_) => {
                self.refuse("defines a type, trait or impl; write the answer as functions".to_owned())
            }
            _ => syn::visit::visit_item(self, item),
        }
    }

    fn visit_expr_path(&mut self, expr: &'ast syn::ExprPath) {
        if expr.qself.is_some() {
            let shown = quote::quote!(#expr).to_string().replace(' ', "");
            return self.refuse(format!("calls `{shown}` through a qualified path"));
        }
        self.value_path(&expr.path, None);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        match &*call.func {
            syn::Expr::Path(path) if path.qself.is_none() => self.value_path(&path.path, Some(&args)),
            other => self.visit_expr(other),
        }
        args.iter().for_each(|a| self.visit_expr(a));
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let name = call.method.to_string();
        if !allowed::method(&name) {
            self.refuse(format!(
                "calls the method `.{name}(...)`"
            ));
        }
        if name.trim_start_matches("f_") == "conv2d" && !(call.args.len() == 6 && is_one(&call.args[4])) {
            self.refuse(format!("calls `{name}` with a dilation"));
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_struct(&mut self, expr: &'ast syn::ExprStruct) {
        self.value_path(&expr.path, None);
        syn::visit::visit_expr_struct(self, expr);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        let root = mac.path.segments.first().map(|s| s.ident.to_string()).unwrap_or_default();
        let path_ok = mac.path.segments.len() == 1 || ["std", "core", "ndarray"].contains(&root.as_str());
        if !(path_ok && allowed::MACROS.contains(&name.as_str())) {
            return self.refuse(format!("uses the macro `{name}!`"));
        }
        // `vec![x; n]` is an array expression, not a list.
        let tokens = &mac.tokens;
        if let Ok(repeat) = syn::parse2::<syn::ExprRepeat>(quote::quote!([#tokens])) {
            return self.visit_expr_repeat(&repeat);
        }
        self.macro_body(&mac.tokens);
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
