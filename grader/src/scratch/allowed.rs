//! What a from-scratch answer may call: elementary tensor operations
//! (making, reshaping, indexing, arithmetic, `matmul`, and `conv2d` without
//! dilation), the standard library, ndarray, and its own code. An allow-list
//! rather than a list of libtorch's operations to refuse: libtorch spells
//! each operation many ways (`_out`, `f_`, `g_`, `internal_`, `slow_`,
//! backward forms, autograd, layers), and a name that is not here is
//! refused whatever it turns out to reach.

/// The exercise files that rebuild one of libtorch's operations, and what
/// each rebuilds: the loss of exercise 4 and three of the bonus track. They
/// may call each other's functions (the reference's unpooling and dilation
/// reuse the transposed convolution's zero insertion), since each is held
/// to the same list.
pub const FROM_SCRATCH: [(&str, &str); 4] = [
    ("loss.rs", "the per-pixel loss"),
    ("transposed.rs", "a transposed convolution"),
    ("unpooling.rs", "unpooling"),
    ("dilated.rs", "the dilation"),
];

/// What the list allows, in a few words, for the notes of a refused file.
pub const SAID: &str = "an answer may call elementary tensor operations, the standard library, ndarray, \
    its own functions and the other from-scratch files', as the file's docs say";

/// The module names of [`FROM_SCRATCH`]'s files: `crate::transposed::...`.
pub fn is_from_scratch_module(name: &str) -> bool {
    FROM_SCRATCH.iter().any(|(file, _)| file.strip_suffix(".rs") == Some(name))
}

/// Tensor operations, called as methods (`x.narrow(...)`) or through the
/// type (`Tensor::zeros(...)`), with their fallible `f_` spellings. None of
/// them convolves transposed, unpools, upsamples, dilates or differentiates.
/// `conv2d` is here only with a dilation of 1 written out (see `calls.rs`).
pub const TENSOR: &[&str] = &[
    // Making tensors.
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "empty", "empty_like", "arange",
    "arange_start", "arange_start_step", "eye", "linspace", "from_slice", "from_slice2", "from", "try_from", "cat",
    "stack", "shallow_clone", "copy", "detach", "new",
    // Shapes and views.
    "size", "size1", "size2", "size3", "size4", "size5", "dim", "numel", "view", "reshape", "flatten", "unflatten",
    "permute", "transpose", "t", "unsqueeze", "squeeze", "squeeze_dim", "expand", "expand_as", "contiguous",
    "movedim", "swapaxes", "unfold", "chunk", "split", "unbind", "flip", "roll", "repeat", "tile",
    "repeat_interleave", "repeat_interleave_self_int", "repeat_interleave_self_tensor", "constant_pad_nd", "pad",
    "diag", "diagonal", "tril", "triu", "kron",
    // Indexing.
    "i", "narrow", "slice", "select", "index_select", "index", "index_put", "index_put_", "index_add",
    "index_add_", "index_fill", "index_fill_", "gather", "scatter", "scatter_", "scatter_add", "scatter_add_",
    "masked_fill", "masked_fill_", "masked_select", "masked_scatter", "nonzero", "argmax", "argmin",
    // Arithmetic and comparison.
    "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "neg", "sum", "sum_dim_intlist", "mean",
    "mean_dim", "prod", "matmul", "mm", "bmm", "mv", "dot", "outer", "einsum", "tensordot", "clamp", "clamp_min",
    "clamp_max", "abs", "max", "min", "max_dim", "min_dim", "maximum", "minimum", "amax", "amin", "eq", "ne",
    "gt", "lt", "ge", "le", "eq_tensor", "ne_tensor", "gt_tensor", "lt_tensor", "ge_tensor", "le_tensor",
    "where_self", "where_scalarother", "logical_and", "logical_or", "logical_not", "any", "all", "sqrt", "exp",
    "log", "pow", "pow_tensor_scalar", "floor", "ceil", "round", "remainder", "floor_divide", "sign", "cumsum",
    "allclose", "equal", "isnan", "isinf", "isfinite", "conv2d",
    // Kinds, devices, values.
    "to_kind", "to_device", "to", "kind", "device", "copy_", "fill_", "zero_", "double_value", "int64_value",
    "print", "is_contiguous", "defined",
    // Names the standard library shares with tch, harmless on a tensor.
    "iter", "next", "get", "take", "to_string", "clone", "fill", "as_ref", "try_into", "concat", "resize", "sort",
];

/// Every method of tch's `Tensor` (scripts/tch-tensor-methods writes the
/// list from the pinned tch's source). A method call's receiver type is not
/// known from the source, so a method of one of these names is taken for
/// the tensor's unless [`TENSOR`] allows it; any other name is a method of
/// the standard library's, ndarray's or the answer's own values (a
/// from-scratch file can bring in no trait that would add one to tensors).
const TCH_METHODS: &str = include_str!("tch-tensor-methods.txt");

fn tch_method(name: &str) -> bool {
    use std::sync::OnceLock;
    static NAMES: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| TCH_METHODS.lines().filter(|l| !l.starts_with('#')).collect());
    names.contains(name) || name.starts_with("internal_") || name.starts_with('_')
}

/// Macros an answer may use; their arguments are read like the rest.
pub const MACROS: &[&str] = &[
    "vec", "assert", "assert_eq", "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne", "panic",
    "format", "print", "println", "eprint", "eprintln", "unreachable", "todo", "unimplemented", "matches", "s",
];

/// What a path may start with. `tch` only for [`TCH_ITEMS`]; `Tensor` only
/// for [`TENSOR`]'s operations; `fcn_common` only for [`FCN_COMMON`].
pub const STD_ROOTS: &[&str] = &[
    "std", "core", "alloc", "Vec", "String", "Box", "Option", "Result", "Default", "Iterator", "IntoIterator",
    "From", "Into", "TryFrom", "TryInto", "Clone", "i8", "i16", "i32", "i64", "isize", "u8", "u16", "u32", "u64",
    "usize", "f32", "f64", "bool", "char", "str",
];

/// ndarray's roots: its crate, types and index helpers.
pub const NDARRAY_ROOTS: &[&str] = &[
    "ndarray", "Array", "Array1", "Array2", "Array3", "Array4", "Array5", "ArrayD", "ArrayView", "ArrayViewMut",
    "Axis", "Dim", "Ix1", "Ix2", "Ix3", "Ix4", "IxDyn",
];

/// tch's items an answer may name (`tch::Tensor`, `tch::Kind::Float`, ...).
pub const TCH_ITEMS: &[&str] = &["Tensor", "Kind", "Device", "IndexOp", "Scalar", "TchError", "kind", "no_grad", "no_grad_guard"];

/// fcn-common's items an answer may name: the receptive field's layer, and the
/// void label (a constant).
pub const FCN_COMMON: &[&str] = &["Window", "receptive", "VOID"];


/// Whether `name` is a tensor operation the list allows, in any of tch's
/// spellings that do the same (`f_zeros`, `zeros`).
pub fn tensor_op(name: &str) -> bool {
    let name = name.strip_prefix("r#").unwrap_or(name);
    TENSOR.contains(&name.strip_prefix("f_").unwrap_or(name))
}

/// Whether a method call of `name` is allowed: a tensor operation of the
/// list, or no tensor operation at all.
pub fn method(name: &str) -> bool {
    tensor_op(name) || !tch_method(name.strip_prefix("r#").unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tripwire for whoever extends the lists: no allowed name is one of
    /// the rebuilt operations or their relatives.
    #[test]
    fn no_allowed_name_is_a_rebuilt_operation() {
        let families = [
            "transpose2d", "convolution", "col2im", "im2col", "upsample", "unpool", "backward", "requires_grad", "slow_",
            "dilated", "internal", "cudnn", "miopen", "mkldnn", "pixel_shuffle", "interpolate", "_out",
        ];
        for name in TENSOR.iter().chain(TCH_ITEMS).chain(FCN_COMMON) {
            assert!(!families.iter().any(|f| name.contains(f)) && *name != "grad", "{name} reaches a rebuilt operation");
        }
    }

    /// The list of tch's methods is tch's: the operations the screen must
    /// refuse are in it, the standard library's own methods are not.
    #[test]
    fn the_method_list_is_tchs() {
        for name in ["conv_transpose2d", "f_conv_transpose2d", "convolution_out", "max_unpool2d_out", "upsample_nearest2d_out",
            "slow_conv_dilated2d", "max_pool2d_with_indices_backward", "col2im", "im2col", "backward", "grad", "apply", "forward"]
        {
            assert!(tch_method(name) && !method(name), "{name}");
        }
        for name in ["map", "collect", "zip", "retain", "sort_by", "abs_diff", "indexed_iter", "spawn", "narrow", "zeros"] {
            assert!(method(name), "{name}");
        }
    }
}
