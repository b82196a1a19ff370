//! Hidden checks for bonus exercise 6, unpooling.

use super::{random_tensor, same, spread_out};
use crate::Bonus;
use crate::check::{Check, Exercise, Track};
use ndarray_rand::rand::{Rng, SeedableRng, rngs::StdRng};
use tch::Tensor;

pub const EXERCISE: Exercise = Exercise {
    id: "unpooling",
    number: 6,
    title: "unpooling",
    track: Track::Bonus,
};

const DRAWS: usize = 30;

pub fn checks<I: Bonus>() -> Vec<Check> {
    let check = |name, points, run| Check::new(EXERCISE, name, points, run);
    vec![
        check("the lecture's 2x2 examples", 1, lecture_examples::<I>).public(),
        check(
            "nearest neighbour: random maps and factors",
            1,
            nearest_random::<I>,
        ),
        check(
            "bed of nails: random maps and factors",
            1,
            bed_of_nails_random::<I>,
        ),
        check(
            "max-unpooling equals max_unpool2d, random cases",
            2,
            max_unpool_random::<I>,
        ),
    ]
}

fn lecture_examples<I: Bonus>() -> Result<(), String> {
    let input = Tensor::from_slice(&[1f32, 2., 3., 4.]).view([1, 1, 2, 2]);
    #[rustfmt::skip]
    let nearest = Tensor::from_slice(&[1f32, 1., 2., 2.,
                                       1., 1., 2., 2.,
                                       3., 3., 4., 4.,
                                       3., 3., 4., 4.]).view([1, 1, 4, 4]);
    same(&I::nearest_unpool(&input, 2), &nearest, || {
        "nearest_unpool of [[1, 2], [3, 4]] by 2".to_owned()
    })?;
    #[rustfmt::skip]
    let nails = Tensor::from_slice(&[1f32, 0., 2., 0.,
                                     0., 0., 0., 0.,
                                     3., 0., 4., 0.,
                                     0., 0., 0., 0.]).view([1, 1, 4, 4]);
    same(&I::bed_of_nails_unpool(&input, 2), &nails, || {
        "bed_of_nails_unpool of [[1, 2], [3, 4]] by 2".to_owned()
    })
}

fn random_map(rng: &mut StdRng) -> Tensor {
    let shape = [
        rng.gen_range(1..=2),
        rng.gen_range(1..=3),
        rng.gen_range(1..=5),
        rng.gen_range(1..=5),
    ];
    random_tensor(rng, &shape)
}

fn nearest_random<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("nearest unpooling: random cases"));
    for _ in 0..DRAWS {
        let (input, factor) = (random_map(&mut rng), rng.gen_range(1..=4));
        let [_, _, h, w] = input.size()[..] else {
            unreachable!("a 4-D map")
        };
        let expected = input.upsample_nearest2d([h * factor, w * factor], None, None);
        same(&I::nearest_unpool(&input, factor), &expected, || {
            format!("nearest_unpool of a {:?} map by {factor}", input.size())
        })?;
    }
    Ok(())
}

fn bed_of_nails_random<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("bed of nails: random cases"));
    for _ in 0..DRAWS {
        let (input, factor) = (random_map(&mut rng), rng.gen_range(1..=4));
        let [n, c, h, w] = input.size()[..] else {
            unreachable!("a 4-D map")
        };
        let what = || {
            format!(
                "bed_of_nails_unpool of a {:?} map by {factor}",
                input.size()
            )
        };
        let unpooled = I::bed_of_nails_unpool(&input, factor);
        spread_out(&unpooled, &input, [factor, factor], [n, c, h * factor, w * factor], what)?;
    }
    Ok(())
}

fn max_unpool_random<I: Bonus>() -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(crate::check::case_seed("max unpooling: random cases"));
    for _ in 0..DRAWS {
        let window = rng.gen_range(2..=3);
        let (n, c) = (rng.gen_range(1..=2), rng.gen_range(1..=3));
        // Sizes that the window does not always divide: the rows and columns
        // left over are part of the output but never hold a maximum.
        let (h, w) = (
            rng.gen_range(window..=3 * window + 1),
            rng.gen_range(window..=3 * window + 1),
        );
        let map = random_tensor(&mut rng, &[n, c, h, w]);
        let (pooled, indices) =
            map.max_pool2d_with_indices([window, window], [window, window], [0, 0], [1, 1], false);
        let expected = pooled.max_unpool2d(&indices, [h, w]);
        same(&I::max_unpool(&pooled, &indices, [h, w]), &expected, || {
            format!(
                "max_unpool of a {:?} map, pooled {window}x{window} from {h}x{w}, against max_unpool2d",
                pooled.size()
            )
        })?;
    }
    Ok(())
}
