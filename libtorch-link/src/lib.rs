//! Links a package's binaries and test binaries to libtorch, from its build script.
//!
//! Every package of the kit that produces something runnable (a binary, a test)
//! has this one-line `build.rs`:
//!
//! ```text
//! fn main() { libtorch_link::binaries_and_tests(); }
//! ```
//!
//! and lists `torch-sys` as a direct dependency and `libtorch-link` as a build
//! dependency. Two things follow for every binary and test of that package:
//!
//! * **No `LD_LIBRARY_PATH` needed.** The binary carries an rpath to libtorch's
//!   `lib` folder, so the loader finds `libtorch*.so` where the build found it.
//!   (An `LD_LIBRARY_PATH` that is set is still searched first, which is how a
//!   binary is pointed at another machine's libtorch.)
//! * **The CUDA part is linked.** `libtorch_cuda.so` registers the CUDA backend
//!   when it is loaded, but no symbol of it is used directly, so a linker that
//!   drops unused libraries (`--as-needed`, the default on most distributions)
//!   leaves it out and the binary never sees a GPU. Adding `-ltorch` again after
//!   `--no-as-needed` keeps `libtorch.so`, which pulls in the CUDA part.
//! * **The folder is known.** `env!("LIBTORCH_LIB_DIR")` is libtorch's `lib`
//!   folder, for tests that check the above.
//!
//! Why each package needs its own `build.rs`: a build script's link arguments
//! apply only to its own package's targets, and rustc places them after all
//! libraries, so `--no-as-needed` must be followed by a library of its own. The
//! libtorch folder reaches the script as `DEP_TCH_LIBTORCH_LIB`, which cargo
//! sets only for packages that depend on `torch-sys` (whose `links` key is
//! `tch`) directly.

use std::env;

/// Prints the cargo instructions that link this package's binaries and tests
/// to libtorch with an rpath, CUDA part included. Call it from `build.rs`.
///
/// # Panics
///
/// When the package does not depend on `torch-sys` directly (the libtorch
/// folder is then unknown to the build script).
pub fn binaries_and_tests() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let lib_dir = env::var("DEP_TCH_LIBTORCH_LIB").unwrap_or_else(|_| {
        panic!(
            "DEP_TCH_LIBTORCH_LIB is not set: add `torch-sys` to [dependencies] of {}, \
             next to `libtorch-link` in [build-dependencies]",
            env::var("CARGO_PKG_NAME").unwrap_or_default()
        )
    });
    println!("cargo:rustc-link-arg=-Wl,-rpath={lib_dir}");
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
    // For code that wants to know which libtorch it was built against.
    println!("cargo:rustc-env=LIBTORCH_LIB_DIR={lib_dir}");
}
