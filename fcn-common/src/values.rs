//! Reference values: what the public tests compare a student's results with.
//!
//! The public tests run the student's code on fixed inputs and fixed weights
//! and compare what it computes, layer by layer, with what the reference
//! computed on the same inputs. The reference's side is a file of numbers in
//! `exercises/tests/reference-values/`, never its code: for each named
//! result, its shape and a short [`Fingerprint`] (mean, root mean square and
//! eight projections on fixed patterns), enough to tell whether two tensors
//! agree and to say by how much they do not.
//!
//! Why not insta, which keeps the other snapshots: insta compares text
//! exactly, and a value computed on another processor may differ in its last
//! bits. These files are compared with a tolerance.
//!
//! The maintainers write them from the reference, at the workspace's root:
//! `FCN_WRITE_REFERENCE_VALUES=$PWD cargo test -p solutions --test public`
//! (the students' test files, with `exercises` standing for the reference).

use std::path::Path;

use ndarray_rand::RandomExt;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor, nn};

/// Largest difference allowed between a fingerprint and the reference's, as
/// a fraction of the reference's root mean square. Measured under each of
/// libtorch's CPU kernel sets (AVX-512, AVX2, none), against files written
/// on another machine: at most 1.6e-6 (`scripts/measure-tolerances`,
/// `docs/tolerances.md`). A crop off by one, the smallest mistake the
/// public tests are known to catch, is 0.26.
pub const TOLERANCE: f64 = 1e-4;

/// Number of fixed patterns a tensor is projected on.
const PROJECTIONS: usize = 8;

/// The environment variable that makes [`assert_matches`] write the file
/// instead of comparing with it (for the reference only).
pub const WRITE: &str = "FCN_WRITE_REFERENCE_VALUES";

/// A tensor's shape and a few numbers that change when any of its values
/// does: the mean, the root mean square, and its projections on fixed
/// patterns, each divided by the square root of the number of elements (so
/// that all are of the order of the values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    pub shape: Vec<i64>,
    pub mean: f64,
    pub rms: f64,
    pub projections: Vec<f64>,
}

impl Fingerprint {
    pub fn of(tensor: &Tensor) -> Self {
        let _guard = tch::no_grad_guard();
        let flat = tensor.detach().to_device(Device::Cpu).to_kind(Kind::Double).reshape([-1]);
        let n = flat.numel();
        let scalar = |t: Tensor| f64::try_from(t).expect("a scalar");
        if n == 0 {
            return Fingerprint { shape: tensor.size(), mean: 0.0, rms: 0.0, projections: vec![0.0; PROJECTIONS] };
        }
        let root_n = (n as f64).sqrt();
        // Pattern k: cos(2 pi frac(i * phi_k)) with phi_k irrational, a
        // quasi-random +-1 wave that a shifted, flipped or rescaled tensor
        // projects on differently.
        let index = Tensor::arange(n as i64, (Kind::Double, Device::Cpu));
        let projections = (0..PROJECTIONS)
            .map(|k| {
                let phi = ((k + 2) as f64).sqrt().fract() + 0.1 * k as f64;
                let pattern = ((&index * phi).frac() * std::f64::consts::TAU).cos();
                scalar((&flat * pattern).sum(Kind::Double)) / root_n
            })
            .collect();
        Fingerprint {
            shape: tensor.size(),
            mean: scalar(flat.mean(Kind::Double)),
            rms: scalar(flat.square().mean(Kind::Double).sqrt()),
            projections,
        }
    }

    /// How far this is from `reference`, as a fraction of the reference's
    /// root mean square (0 when both are zero; infinite for a NaN).
    pub fn distance(&self, reference: &Fingerprint) -> f64 {
        let ours = std::iter::once(self.mean).chain(std::iter::once(self.rms)).chain(self.projections.iter().copied());
        let theirs =
            std::iter::once(reference.mean).chain(std::iter::once(reference.rms)).chain(reference.projections.iter().copied());
        let largest = ours.zip(theirs).map(|(a, b)| (a - b).abs()).fold(0.0, |m: f64, d| if d.is_nan() { f64::INFINITY } else { m.max(d) });
        if largest == 0.0 { 0.0 } else { largest / reference.rms.max(1e-30) }
    }
}

/// One named result and its fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Named {
    pub name: String,
    #[serde(flatten)]
    pub fingerprint: Fingerprint,
}

/// A file of reference values: what was computed, and the results in the
/// order they were computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceValues {
    pub about: String,
    pub values: Vec<Named>,
}

/// Results to compare, in the order they are computed.
#[derive(Default)]
pub struct Results(Vec<(String, Tensor)>);

impl Results {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `tensor` under `name`.
    pub fn add(&mut self, name: impl Into<String>, tensor: &Tensor) -> &mut Self {
        self.0.push((name.into(), tensor.shallow_clone()));
        self
    }

    /// Adds what a network tapped (see [`crate::taps`]).
    pub fn extend(&mut self, taps: Vec<(String, Tensor)>) -> &mut Self {
        self.0.extend(taps);
        self
    }

    fn fingerprints(&self) -> Vec<Named> {
        self.0.iter().map(|(name, t)| Named { name: name.clone(), fingerprint: Fingerprint::of(t) }).collect()
    }
}

/// A tensor of `shape` with values drawn from N(0, 1) by a generator seeded
/// from `seed` alone: the same numbers on every machine and in every thread
/// (the tests run in parallel, so torch's global generator would not do).
pub fn normal(shape: &[i64], seed: &str) -> Tensor {
    let mut rng = StdRng::seed_from_u64(fnv1a(seed));
    let dims: Vec<usize> = shape.iter().map(|&d| usize::try_from(d).expect("a shape is not negative")).collect();
    let values = ndarray::ArrayD::<f32>::random_using(dims, StandardNormal, &mut rng);
    Tensor::from_slice(values.as_slice().expect("a new array is contiguous")).reshape(shape)
}

/// Gives every trainable variable of `store` fixed values that depend on its
/// name and shape alone: N(0, 2 / fan-in) for weights (so that activations
/// stay of order one through sixteen layers), N(0, 0.01) for biases. Fixed
/// variables (the bilinear upsampling) keep the values their code gave them.
pub fn fix_weights(store: &nn::VarStore) {
    let _guard = tch::no_grad_guard();
    for (name, mut variable) in store.variables() {
        if !variable.requires_grad() {
            continue;
        }
        let shape = variable.size();
        let values = normal(&shape, &name);
        let scale = if shape.len() > 1 { (2.0 / shape[1..].iter().product::<i64>().max(1) as f64).sqrt() } else { 0.1 };
        variable.copy_(&(values * scale));
    }
}

/// Where the files of reference values are, from the workspace's root.
pub const FOLDER: &str = "exercises/tests/reference-values";

/// Compares `ours` with the reference's values in `FOLDER/{file}.json`, and
/// panics naming the first result that differs, its shapes and by how much,
/// with the last that agrees. `what` says what was computed, for the message.
///
/// With [`WRITE`] set to the workspace's root, writes `ours` there instead
/// (the reference's run).
#[track_caller]
pub fn assert_matches(what: &str, ours: &Results, file: &str) {
    let relative = format!("{FOLDER}/{file}.json");
    if let Some(root) = std::env::var_os(WRITE) {
        let values = ReferenceValues { about: what.to_owned(), values: ours.fingerprints() };
        let text = serde_json::to_string_pretty(&values).expect("fingerprints serialize") + "\n";
        let path = Path::new(&root).join(&relative);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    if let Err(message) = check(ours, file) {
        panic!("{what}: {message}\n(the reference's values are in {relative})");
    }
}

/// Ok when `ours` agrees with the reference's values in `FOLDER/{file}.json`;
/// otherwise what differs first (see [`compare`]).
pub fn check(ours: &Results, file: &str) -> Result<(), String> {
    let relative = format!("{FOLDER}/{file}.json");
    // A test runs in its package's folder, one below the workspace's root.
    let root = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| Path::new("..").to_owned(), |dir| Path::new(&dir).join(".."));
    let text = std::fs::read_to_string(root.join(&relative))
        .unwrap_or_else(|e| panic!("cannot read the reference's values, {relative} ({e}); restore it from the hand-out"));
    let reference: ReferenceValues = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{relative} is not a file of reference values ({e}); restore it from the hand-out"));
    let ours = ours.fingerprints();
    if let Some(log) = std::env::var_os(MEASURE) {
        measure(Path::new(&log), file, &ours, &reference.values);
    }
    compare(&ours, &reference.values)
}

/// The environment variable that makes [`check`] append, to the file it
/// names, each result's distance from the reference's (what
/// `scripts/measure-tolerances` reads to set [`TOLERANCE`]).
pub const MEASURE: &str = "FCN_MEASURE_VALUES";

fn measure(log: &Path, file: &str, ours: &[Named], reference: &[Named]) {
    use std::io::Write;
    let mut lines = String::new();
    for expected in reference {
        if let Some(got) = ours.iter().find(|n| n.name == expected.name && n.fingerprint.shape == expected.fingerprint.shape) {
            lines.push_str(&format!("{file}\t{}\t{:e}\n", expected.name, got.fingerprint.distance(&expected.fingerprint)));
        }
    }
    let appended = std::fs::OpenOptions::new().create(true).append(true).open(log).and_then(|mut f| f.write_all(lines.as_bytes()));
    appended.unwrap_or_else(|e| panic!("cannot append to {}: {e}", log.display()));
}

/// The image the public network tests run on: 1x3x36x44, of the spread of
/// pixels with the mean subtracted.
pub fn fixed_image() -> Tensor {
    normal(&[1, 3, 36, 44], "image") * 50.0
}

/// What a network computes on fixed weights ([`fix_weights`]) and the
/// [`fixed_image`], in eval mode: everything it taps, then what `forward`
/// returns.
pub fn network_results(store: &nn::VarStore, forward: impl FnOnce(&Tensor) -> Results) -> Results {
    fix_weights(store);
    let _guard = tch::no_grad_guard();
    let (outputs, taps) = crate::taps::recording(|| forward(&fixed_image()));
    let mut results = Results(taps);
    results.0.extend(outputs.0);
    results
}

/// Ok when every result the reference names agrees with ours; otherwise what
/// the first that differs is, in the student's terms.
pub fn compare(ours: &[Named], reference: &[Named]) -> Result<(), String> {
    let mut last_agreeing: Option<&str> = None;
    let mut not_named = Vec::new();
    for expected in reference {
        let Some(got) = ours.iter().find(|n| n.name == expected.name) else {
            not_named.push(expected.name.as_str());
            continue;
        };
        let (got, expected_fp) = (&got.fingerprint, &expected.fingerprint);
        let differs = if got.shape != expected_fp.shape {
            Some(format!("yours has shape {:?}, the reference's {:?}", got.shape, expected_fp.shape))
        } else {
            let distance = got.distance(expected_fp);
            (distance > TOLERANCE).then(|| {
                format!(
                    "the shape {:?} is right, but the values differ by {} of their size (root mean square; the \
                     tolerance is {TOLERANCE:.0e})",
                    got.shape,
                    if !distance.is_finite() {
                        "NaN".to_owned()
                    } else if distance >= 1e-3 {
                        format!("{distance:.3}")
                    } else {
                        format!("{distance:.1e}")
                    }
                )
            })
        };
        if let Some(differs) = differs {
            let before = match last_agreeing {
                Some(before) => format!(" Everything before it agrees (the last: {before})."),
                None => " It is the first result compared.".to_owned(),
            };
            let unnamed = if not_named.is_empty() {
                String::new()
            } else {
                format!(" Not compared, because your code does not name them with fcn_common::tap: {}.", not_named.join(", "))
            };
            return Err(format!("the first result that differs from the reference's is {}: {differs}.{before}{unnamed}", expected.name));
        }
        last_agreeing = Some(&expected.name);
    }
    Ok(())
}

/// FNV-1a, 64 bits: a seed from a name.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, t: &Tensor) -> Named {
        Named { name: name.to_owned(), fingerprint: Fingerprint::of(t) }
    }

    #[test]
    fn normal_depends_on_the_seed_alone() {
        let a = normal(&[3, 4], "conv1_1.weight");
        let _ = Tensor::randn([10], (Kind::Float, Device::Cpu));
        assert!(a.equal(&normal(&[3, 4], "conv1_1.weight")));
        assert!(!a.equal(&normal(&[3, 4], "conv1_2.weight")));
        let std = f64::try_from(normal(&[10_000], "x").std(true)).unwrap();
        assert!((std - 1.0).abs() < 0.05, "{std}");
    }

    #[test]
    fn a_fingerprint_tells_shifted_flipped_and_scaled_maps_apart() {
        let map = normal(&[1, 4, 20, 20], "map");
        let reference = Fingerprint::of(&map);
        assert_eq!(Fingerprint::of(&map.copy()).distance(&reference), 0.0);
        let nudged = &map * (1.0 + 1e-7);
        assert!(Fingerprint::of(&nudged).distance(&reference) < TOLERANCE);
        for (what, other) in [
            ("shifted by one pixel", map.roll([1], [3])),
            ("flipped", map.flip([2])),
            ("scaled by 1.01", &map * 1.01),
            ("one value changed", {
                let changed = map.copy();
                let _ = changed.view([-1]).narrow(0, 7, 1).fill_(3.0);
                changed
            }),
            ("rectified", map.relu()),
        ] {
            let distance = Fingerprint::of(&other).distance(&reference);
            assert!(distance > TOLERANCE, "{what}: {distance}");
        }
        assert_eq!(Fingerprint::of(&(&map * f64::NAN)).distance(&reference), f64::INFINITY);
    }

    #[test]
    fn compare_names_the_first_result_that_differs() {
        let a = normal(&[2, 3], "a");
        let b = normal(&[2, 3], "b");
        let reference = [named("a", &a), named("b", &b), named("c", &b)];
        assert_eq!(compare(&reference, &reference), Ok(()));

        let wrong = [named("a", &a), named("b", &(&b * 2.0)), named("c", &a)];
        let message = compare(&wrong, &reference).unwrap_err();
        assert!(message.contains("is b: the shape [2, 3] is right, but the values differ by "), "{message}");
        assert!(message.contains("the last: a"), "{message}");

        let reshaped = [named("a", &a.reshape([3, 2]))];
        let message = compare(&reshaped, &reference).unwrap_err();
        assert!(message.contains("is a: yours has shape [3, 2], the reference's [2, 3]"), "{message}");

        let untapped = [named("c", &a)];
        let message = compare(&untapped, &reference).unwrap_err();
        assert!(message.contains("is c:") && message.contains("fcn_common::tap: a, b"), "{message}");
    }

    #[test]
    fn a_file_round_trips_and_is_read_strictly() {
        let values = ReferenceValues { about: "x".into(), values: vec![named("a", &normal(&[5], "a"))] };
        let text = serde_json::to_string_pretty(&values).unwrap();
        assert_eq!(serde_json::from_str::<ReferenceValues>(&text).unwrap(), values);
        assert!(serde_json::from_str::<ReferenceValues>(&text.replacen("\"rms\"", "\"rns\"", 1)).is_err());
    }
}
