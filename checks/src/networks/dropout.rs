//! Dropout inside the FCNs themselves, seen through their output alone.
//!
//! The weights are set so that the output is a known linear function of
//! fc7 and fc7 carries pool5 unit by unit: fc6's unit j reads pool5's
//! channel j (mod its width) at its window's centre, fc7 is the identity,
//! score_fr's class c reads fc7's unit c, and the skips score nothing. Then
//! in eval mode the output is pool5, upsampled; in training mode each unit
//! at each position is pool5 times the masks of every dropout on its way,
//! each mask 0 or 1/q. Over many pixels and passes:
//!
//! - the output's mean over its eval-mode value is 1 (inverted scaling);
//! - its second moment over the eval-mode one grows with every dropout on
//!   the way (1/(q6 q7) at one position: a missing dropout, a second one, a
//!   rate other than 0.5, or a dropout on pool5 changes it) and with masks
//!   shared across positions (dropout per channel, not per unit, does not
//!   average out where the upsampling mixes positions);
//! - so does the spread of each class's map taken whole, which masks drawn
//!   per unit and position average out and masks shared by every position
//!   (dropout per channel) do not;
//! - two passes differ (a forward pass that reseeds draws the same masks).
//!
//! Both statistics are compared with the reference's own over the same
//! number of passes, at the spread those passes show.

use tch::{Device, Kind, Tensor, nn::ModuleT};

use fcn_common::FcnConfig;

use super::common::{config, draw_weights, image, network};
use super::fcn::computes;
use super::reference_process::{self, Job, Tensors};
use super::variants::{Fcn8s, Fcn8sAtOnce, Fcn16s, Variant};
use crate::Implementation;
use crate::check::ensure;

/// Training-mode passes per network. Measured with 16 (40 classes, two
/// 160x160 images, width / 32): the release's mean square about 2.2, with a
/// standard error of 0.034; the mistakes in checks/tests/wrong_networks.rs
/// lay 7 (a rate of 0.3 at fc7, which VGG16's own check catches) to 30 (no
/// dropout in training) standard errors away, dropout per channel 7 on the
/// mean square and far more on the spread of whole maps. 10 passes bring
/// each about 20% closer, and take about 5 to 8 s for the three networks
/// through a runner and the reference's, on one core or two.
const PASSES: usize = 10;
/// How far, in standard errors of the difference, the student's statistic
/// may be from the reference's; with the floor below, a false alarm needs
/// both a six-sigma draw and a shift beyond the floor.
const SIGMAS: f64 = 6.0;
/// Differences smaller than this fraction of the reference's statistic are
/// never a failure (the smallest mistake the check is aimed at, a rate of
/// 0.3 at fc7, moves the second moment by about 20%).
const FLOOR: f64 = 0.05;

/// The mean and second moment of each training pass over eval mode.
struct Moments {
    first: Vec<f64>,
    second: Vec<f64>,
    /// How much each class's map, as a whole, varies: its sum over its
    /// eval-mode sum, squared distance from 1, averaged over the maps.
    /// Masks drawn per unit and position average out over a map; masks
    /// shared by all positions (per channel) do not.
    maps: Vec<f64>,
}

/// The check on FCN-16s, FCN-8s and FCN-8s at once, in turn. The release's
/// statistics come from the reference process, where no other thread's
/// reseeding reaches its masks.
pub(super) fn fcn_dropouts<I: Implementation>() -> Result<(), String> {
    let jobs: Vec<Job> =
        [Fcn16s::NAME, Fcn8s::NAME, Fcn8sAtOnce::NAME].map(|name| Job::DropoutMoments { network: name.to_owned() }).to_vec();
    let theirs = reference_process::run(&jobs, |job| match job {
        Job::DropoutMoments { network } => reference_moments(network),
        other => unreachable!("{other:?} is not asked for here"),
    });
    fcn_dropout::<I, Fcn16s>(Moments::from_tensors(&theirs[0]))?;
    fcn_dropout::<I, Fcn8s>(Moments::from_tensors(&theirs[1]))?;
    fcn_dropout::<I, Fcn8sAtOnce>(Moments::from_tensors(&theirs[2]))
}

/// The release's statistics for the variant named `network`, as tensors
/// (`first`, `second`, `maps`): the reference process's job.
pub(super) fn reference_moments(network: &str) -> Result<Tensors, String> {
    let reference: Build = match network {
        n if n == Fcn16s::NAME => Fcn16s::reference,
        n if n == Fcn8s::NAME => Fcn8s::reference,
        n if n == Fcn8sAtOnce::NAME => Fcn8sAtOnce::reference,
        _ => return Err(format!("no network called {network:?} (one of FCN-16s, FCN-8s, FCN-8s at once)")),
    };
    let (moments, _) = moments(reference, reference, network, false)?;
    let tensor = |values: &[f64]| Tensor::from_slice(values);
    Ok(vec![
        ("first".to_owned(), tensor(&moments.first)),
        ("second".to_owned(), tensor(&moments.second)),
        ("maps".to_owned(), tensor(&moments.maps)),
    ])
}

impl Moments {
    /// The statistics [`reference_moments`] gave (NaN for any missing, which
    /// no comparison passes).
    fn from_tensors(tensors: &Tensors) -> Moments {
        let values = |name: &str| {
            let found = tensors.iter().find(|(n, _)| n == name).map(|(_, t)| Vec::<f64>::try_from(t).ok());
            found.flatten().unwrap_or_else(|| vec![f64::NAN; PASSES])
        };
        Moments { first: values("first"), second: values("second"), maps: values("maps") }
    }
}

fn fcn_dropout<I: Implementation, V: Variant>(theirs: Moments) -> Result<(), String> {
    let (ours, repeated) = moments(V::build::<I>, V::reference, V::NAME, true)?;
    ensure(!repeated, || {
        format!(
            "{}: two training-mode passes of the same input give the same output: dropout draws the same masks on \
             every pass (is a generator reseeded inside the network?)",
            V::NAME
        )
    })?;
    for (what, got, expected) in [
        ("the mean of each pixel's output over its eval-mode value", &ours.first, &theirs.first),
        ("the mean square of each pixel's output over its eval-mode value", &ours.second, &theirs.second),
        ("the spread of each class's map taken whole (its sum over its eval-mode sum)", &ours.maps, &theirs.maps),
    ] {
        let (m, s) = mean_and_error(got);
        let (m_ref, s_ref) = mean_and_error(expected);
        let allowed = (SIGMAS * (s * s + s_ref * s_ref).sqrt()).max(FLOOR * m_ref.abs());
        ensure((m - m_ref).abs() <= allowed && m.is_finite(), || {
            let direction = if m > m_ref { "higher" } else { "lower" };
            format!(
                "{}: in training mode, with fc7 carrying pool5 unit by unit to the scores, {what} is {:.0}% \
                 {direction} than the release's (more than {SIGMAS} standard errors \
                 over {PASSES} passes): dropout should act after fc6 and after fc7 alone, on each unit at each \
                 position (not on whole channels), at rate 0.5, scaled by 2",
                V::NAME,
                100.0 * (m / m_ref - 1.0).abs()
            )
        })?;
    }
    computes::<I, V>()
}

fn mean_and_error(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (variance / n).sqrt())
}

type Build = fn(&tch::nn::Path, FcnConfig) -> tch::nn::FuncT<'static>;

/// The network's training passes' moments, and whether two passes in a row
/// gave the same output, one that differs from eval mode's (looked at for
/// the student's network only: a network with no dropout at all shows in
/// the moments instead).
fn moments(
    build: Build,
    reference: Build,
    name: &str,
    student: bool,
) -> Result<(Moments, bool), String> {
    // The most classes the checks draw: each reads a unit of its own, and
    // more units make the statistics sharper. Half the other checks' width
    // (fc7 keeps 128 units, one for each class and more): a quarter of the
    // arithmetic, for the many passes.
    let config = FcnConfig { classes: 40, width_divisor: 2 * config().width_divisor };
    let (reference_store, _) = network(reference, config);
    draw_weights(&reference_store);
    carry_pool5(&reference_store, config.classes, config.channels(4096), config.channels(512));
    let (store, net) = network(build, config);
    let theirs = reference_store.variables();
    {
        let _guard = tch::no_grad_guard();
        for (variable_name, mut variable) in store.variables() {
            let value = theirs.get(&variable_name).ok_or_else(|| {
                format!("{name} has a variable the release does not, {variable_name}; see the names checks")
            })?;
            if value.size() != variable.size() {
                return Err(format!("{name}'s {variable_name} has another shape than the release's; see the names checks"));
            }
            variable.copy_(value);
        }
    }
    let _guard = tch::no_grad_guard();
    let xs = image(2, 160, 160);
    let eval = net.forward_t(&xs, false).to_kind(Kind::Double);
    let eval_sum = f64::try_from(eval.sum(Kind::Double)).unwrap_or(f64::NAN);
    // Each pixel's training value over its eval-mode one: a weighted mean of
    // the masks of the positions it mixes (weights and pool5 are never
    // negative), so bounded and well defined wherever eval mode is positive.
    let positive = eval.gt(0.0);
    ensure(eval_sum.is_finite() && eval_sum > 0.0, || {
        format!("{name}'s output in eval mode, with fc7 carrying pool5 to the scores, is not positive; see the output checks")
    })?;
    let mut first = Vec::with_capacity(PASSES);
    let mut second = Vec::with_capacity(PASSES);
    let mut maps = Vec::with_capacity(PASSES);
    let eval_maps = eval.sum_dim_intlist([2, 3].as_slice(), false, Kind::Double);
    let counted = eval_maps.gt(0.0);
    let mut previous: Option<Tensor> = None;
    // Pairs of passes in a row that gave the same output, one that differs
    // from eval mode's: all of them for masks drawn alike every pass. (Not
    // any one: in the kit's own tests, a network here in the process shares
    // libtorch's generator with tests beside it, which reseed it.)
    let mut same_pairs = 0;
    for pass in 0..PASSES {
        // A seed for each pass: a network here in the process (the kit's
        // tests) then draws new masks even if a check beside it reseeds
        // libtorch's process-wide generator; a runner gets a seed of its own
        // with each pass anyway.
        tch::manual_seed(crate::check::case_seed("FCN dropout: masks").wrapping_add(pass as u64) as i64);
        let trained = net.forward_t(&xs, true).to_kind(Kind::Double);
        ensure(trained.size() == eval.size(), || format!("{name}'s output in training mode has another shape than in eval mode"))?;
        let ratio = (&trained / eval.clamp_min(1e-30)).masked_select(&positive);
        first.push(f64::try_from(ratio.mean(Kind::Double)).unwrap_or(f64::NAN));
        second.push(f64::try_from(ratio.square().mean(Kind::Double)).unwrap_or(f64::NAN));
        let ratios = trained.sum_dim_intlist([2, 3].as_slice(), false, Kind::Double) / eval_maps.clamp_min(1e-30);
        let spread = (ratios - 1.0).square().masked_select(&counted).mean(Kind::Double);
        maps.push(f64::try_from(spread).unwrap_or(f64::NAN));
        if let Some(previous) = &previous {
            same_pairs += usize::from(previous.equal(&trained) && !trained.equal(&eval));
        }
        previous = Some(trained);
    }
    Ok((Moments { first, second, maps }, student && same_pairs == PASSES - 1))
}

/// Sets `store` (a reference FCN's variables) so that fc7 carries pool5 to
/// the scores: see the module docs.
fn carry_pool5(store: &tch::nn::VarStore, classes: i64, units: i64, pool5: i64) {
    let variables = store.variables();
    let _guard = tch::no_grad_guard();
    let set = |name: &str, value: Tensor| {
        let mut variable = variables[name].shallow_clone();
        variable.copy_(&value);
    };
    let cpu = (Kind::Float, Device::Cpu);
    let fc6 = Tensor::zeros([units, pool5, 7, 7], cpu);
    for unit in 0..units {
        let _ = fc6.get(unit).get(unit % pool5).get(3).get(3).fill_(1.0);
    }
    set("fc6.weight", fc6);
    set("fc6.bias", Tensor::zeros([units], cpu));
    set("fc7.weight", Tensor::eye(units, cpu).reshape([units, units, 1, 1]));
    set("fc7.bias", Tensor::zeros([units], cpu));
    let score = Tensor::zeros([classes, units], cpu);
    for class in 0..classes {
        let _ = score.get(class).get(class % units).fill_(1.0);
    }
    set("score_fr.weight", score.reshape([classes, units, 1, 1]));
    set("score_fr.bias", Tensor::zeros([classes], cpu));
    for (name, variable) in &variables {
        if name.starts_with("score_pool") {
            let _ = variable.shallow_clone().zero_();
        }
    }
}
