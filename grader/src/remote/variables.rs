//! The variables a runner lists, held to what the request can call for
//! before the grader allocates anything for them.

use fcn_common::FcnConfig;
use runner_protocol::{Tensors, Variable};
use tch::{Kind, Tensor, nn};

use super::connection::broken;

/// Most variables a listing may hold (FCN-8s has 40).
const MAX_VARIABLES: usize = 160;

/// Most elements a network built with `fcn` may list, which the grader
/// allocates: twice the largest the release's networks have at that width
/// (FCN-8s: 134.4 million at full width, 21 classes; 40 classes add 0.3
/// million), a width divisor d dividing that by d squared, plus room for a
/// small network's heads. The grader's memory is sized by its own request,
/// never by the runner's listing.
pub(super) fn network_elements(fcn: FcnConfig) -> i64 {
    const FULL_WIDTH: i64 = 135_000_000;
    let d = fcn.width_divisor.clamp(1, 1 << 10);
    2 * FULL_WIDTH / (d * d) + 4 * fcn.classes.clamp(1, 1 << 10).pow(2) * 16 * 16 + (1 << 20)
}

/// Most elements a fixed upsampling layer of `channels` and `stride` may
/// list: four times its weight.
pub(super) fn upsampling_elements(channels: i64, stride: i64) -> i64 {
    let kernel = fcn_common::upsampling_kernel_size(stride.clamp(1, 1 << 10));
    4 * (channels.clamp(0, 1 << 12) * kernel).pow(2) + 1024
}

/// A variable name as the listing gives it: dot-separated words of letters,
/// digits and underscores.
pub(super) fn valid_name(name: &str) -> bool {
    name.len() <= 128
        && name.split('.').count() <= 8
        && name.split('.').all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Creates under `path` the variables the runner listed, with the values it
/// sent (zeros where it sent none); returns them, sorted by name. At most
/// `most` elements together: what the request can call for.
pub(super) fn create(path: &nn::Path, listing: &[Variable], mut values: Tensors, most: i64) -> Vec<(String, Tensor)> {
    if listing.len() > MAX_VARIABLES {
        broken(format!("the runner listed {} variables (at most {MAX_VARIABLES})", listing.len()));
    }
    // The whole listing is read before anything is allocated for it.
    let mut elements = 0i64;
    for Variable { name, shape, .. } in listing {
        if !valid_name(name) || listing.iter().filter(|v| v.name == *name).count() > 1 {
            broken(format!("the runner listed a variable named {:?}", runner_protocol::clean_message(name)));
        }
        if shape.len() > 4 || shape.iter().any(|&d| !(0..=1 << 24).contains(&d)) {
            broken(format!("the runner listed {name} with shape {shape:?}"));
        }
        elements = elements.saturating_add(shape.iter().fold(1i64, |n, &d| n.saturating_mul(d)));
        if elements > most {
            broken(format!("the runner listed more than {most} parameters, more than this network can have"));
        }
    }
    let mut created = Vec::with_capacity(listing.len());
    for variable in listing {
        let Variable { name, shape, trainable } = variable;
        let mut words: Vec<&str> = name.split('.').collect();
        let last = words.pop().expect("a name has a word");
        let make = |parent: &nn::Path| if *trainable { parent.zeros(last, shape) } else { parent.zeros_no_train(last, shape) };
        let mut tensor = match words.split_first() {
            None => make(path),
            Some((first, rest)) => make(&rest.iter().fold(path.sub(*first), |parent, word| parent.sub(*word))),
        };
        if let Some(at) = values.iter().position(|(n, _)| n.strip_prefix("value.") == Some(name.as_str())) {
            let (_, value) = values.swap_remove(at);
            if value.size() != *shape || value.kind() != Kind::Float {
                broken(format!("the runner sent a value for {name} that does not fit its listing"));
            }
            let _guard = tch::no_grad_guard();
            tensor.copy_(&value);
        }
        created.push((name.clone(), tensor));
    }
    if let Some((name, _)) = values.first() {
        broken(format!("the runner sent {name}, which is not a listed variable"));
    }
    created.sort_by(|a, b| a.0.cmp(&b.0));
    created
}

#[cfg(test)]
mod tests {
    use super::*;
    use checks::Status;
    use fcn_common::FcnConfig;
    use tch::Device;

    /// What `create` says of `listing`, or None when it accepts it.
    fn refused(listing: &[Variable], most: i64) -> Option<String> {
        let store = nn::VarStore::new(Device::Cpu);
        let root = store.root();
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| create(&root, listing, Vec::new(), most)));
        match made {
            Ok(_) => None,
            Err(payload) => match payload.downcast::<Status>() {
                Ok(status) => Some(format!("{status:?}")),
                Err(_) => Some("another panic".into()),
            },
        }
    }

    #[test]
    fn a_listing_is_held_to_what_its_network_can_have() {
        let variable = |name: &str, shape: Vec<i64>| Variable { name: name.into(), shape, trainable: true };
        // The release's largest network fits at every width and class count
        // the checks ask for, with room for a wrong one twice as large...
        for (classes, d) in [(21, 1), (40, 1), (2, 16), (40, 4)] {
            let fcn = FcnConfig { classes, width_divisor: d };
            assert!(network_elements(fcn) > 2 * 134_362_751 / (d * d), "{fcn:?}");
        }
        // ...and far less than the runner could announce: the grader
        // allocates what it accepts. (Small listings, so that the test
        // allocates little; the cap is the same code at any size.)
        let fcn = FcnConfig { classes: 21, width_divisor: 64 };
        let most = network_elements(fcn);
        assert!(most < 2 << 20, "{most}");
        assert_eq!(refused(&[variable("fc6.weight", vec![most])], most), None);
        let over = refused(&[variable("fc6.weight", vec![most]), variable("fc7.weight", vec![1])], most);
        assert!(over.is_some_and(|why| why.contains("more than")));
        // Dimensions whose product overflows are refused, not wrapped.
        let huge = vec![1 << 24, 1 << 24, 1 << 24, 1 << 24];
        assert!(refused(&[variable("w", huge)], most).is_some());
        // An upsampling layer lists its weight alone.
        assert!(upsampling_elements(21, 32) >= 21 * 21 * 64 * 64);
        assert!(upsampling_elements(21, 32) < 4 * 21 * 21 * 64 * 64 + 2048);
    }
}
