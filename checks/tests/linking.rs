//! The test binaries link libtorch's CUDA part (see `libtorch-link`), so the
//! same build uses a GPU wherever there is one. This shows without a GPU too.

use std::path::Path;

#[test]
fn libtorch_cuda_part_is_linked() {
    let lib_dir = Path::new(env!("LIBTORCH_LIB_DIR"));
    if !lib_dir.join("libtorch_cuda.so").exists() {
        eprintln!("skipped: the libtorch in {} is a CPU-only build", lib_dir.display());
        return;
    }
    assert!(
        tch::utils::has_cudart(),
        "libtorch's CUDA part is not linked: does this package's build.rs call \
         libtorch_link::binaries_and_tests()?"
    );
}
