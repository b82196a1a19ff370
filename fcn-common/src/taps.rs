//! Named intermediate outputs: the blobs of the release's prototxt.
//!
//! Caffe names what every layer computes (`conv1_1`, `pool4`, `score_fr`,
//! `upscore2`, `score_pool4c`, `fuse_pool4`, ...). A network here names them
//! with [`tap`]: `let h = tap("fuse_pool4", &upscore2 + crop(&score, &upscore2, 5));`.
//! A tap hands its tensor back unchanged and costs nothing unless someone
//! records. The checks record, so that when a network's output differs from
//! the reference's they can say at which named layer the two first part.

use std::cell::RefCell;

use tch::Tensor;

/// Most taps one recording keeps; a network has about 30.
pub const MAX_TAPS: usize = 64;

thread_local! {
    static RECORDING: RefCell<Option<Vec<(String, Tensor)>>> = const { RefCell::new(None) };
}

/// `xs`, unchanged; recorded under `name` while [`recording`] runs. A name
/// tapped twice keeps its first tensor.
pub fn tap(name: &str, xs: Tensor) -> Tensor {
    RECORDING.with_borrow_mut(|recording| {
        if let Some(taps) = recording {
            if taps.len() < MAX_TAPS && !taps.iter().any(|(n, _)| n == name) {
                taps.push((name.to_owned(), xs.shallow_clone()));
            }
        }
    });
    xs
}

/// Whether a [`recording`] is running on this thread.
pub fn is_recording() -> bool {
    RECORDING.with_borrow(Option::is_some)
}

/// Runs `f`; returns its result and what it tapped, in order.
pub fn recording<R>(f: impl FnOnce() -> R) -> (R, Vec<(String, Tensor)>) {
    /// Puts the outer recording back, also when `f` panics.
    struct Restore(Option<Option<Vec<(String, Tensor)>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(outer) = self.0.take() {
                RECORDING.with_borrow_mut(|recording| *recording = outer);
            }
        }
    }
    let mut restore = Restore(Some(RECORDING.with_borrow_mut(|recording| recording.replace(Vec::new()))));
    let result = f();
    let outer = restore.0.take().expect("restored once");
    let taps = RECORDING.with_borrow_mut(|recording| std::mem::replace(recording, outer)).unwrap_or_default();
    (result, taps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_while_recording_and_in_order() {
        let x = Tensor::from_slice(&[1.0f32, 2.0]);
        let _ = tap("before", x.shallow_clone());
        let (sum, taps) = recording(|| {
            let a = tap("a", &x * 2.0);
            let b = tap("b", &a + 1.0);
            let _ = tap("a", &b * 0.0);
            let (_, inner) = recording(|| tap("inner", b.shallow_clone()));
            assert_eq!(inner.len(), 1);
            f64::try_from(b.sum(tch::Kind::Float)).unwrap()
        });
        assert_eq!(sum, 8.0);
        let names: Vec<&str> = taps.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(Vec::<f32>::try_from(&taps[0].1).unwrap(), [2.0, 4.0]);
        assert!(!is_recording());
    }

    #[test]
    fn a_panic_ends_the_recording() {
        let caught = std::panic::catch_unwind(|| recording(|| panic!("inside")));
        assert!(caught.is_err());
        assert!(!is_recording());
    }
}
