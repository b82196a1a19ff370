//! The two pictures of a training run: predictions side by side (like the
//! paper's Figure 4) and the loss curves.

use image::{Rgb, RgbImage};
use tch::Tensor;

use crate::train::{Trained, predict};
use crate::voc::{Mask, Split, palette_colour};

const GAP: u32 = 4;
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

/// A mask in VOC's colours.
pub fn colourise(mask: &Mask) -> RgbImage {
    RgbImage::from_fn(mask.width, mask.height, |x, y| Rgb(palette_colour(mask.labels[(y * mask.width + x) as usize])))
}

/// A grid of pictures: one row per image, each row's pictures left to
/// right, separated by white gaps. All pictures must have their row's height.
pub fn grid(rows: &[Vec<RgbImage>]) -> RgbImage {
    let width = rows.iter().map(|r| r.iter().map(|p| p.width() + GAP).sum::<u32>()).max().unwrap_or(0) + GAP;
    let height = rows.iter().map(|r| r.iter().map(RgbImage::height).max().unwrap_or(0) + GAP).sum::<u32>() + GAP;
    let mut canvas = RgbImage::from_pixel(width, height, WHITE);
    let mut y = GAP;
    for row in rows {
        let mut x = GAP;
        for picture in row {
            image::imageops::replace(&mut canvas, picture, x as i64, y as i64);
            x += picture.width() + GAP;
        }
        y += row.iter().map(RgbImage::height).max().unwrap_or(0) + GAP;
    }
    canvas
}

/// The paper's Figure 4 for a staged run: a row for each of the first
/// `rows` images of `split` (whose preprocessed `inputs` the networks take):
/// the image, its ground truth, then each trained network's prediction.
pub fn figure4(split: &Split, inputs: &[Tensor], trained: &[Trained], rows: usize) -> Result<RgbImage, tch::TchError> {
    let mut grid = Vec::new();
    for (sample, input) in split.samples.iter().zip(inputs).take(rows) {
        let mut row = vec![sample.image.clone(), colourise(&sample.mask)];
        for stage in trained {
            let labels = Vec::<i64>::try_from(predict(&stage.net, input).flatten(0, -1))?;
            let (width, height) = (sample.mask.width, sample.mask.height);
            row.push(colourise(&Mask { width, height, labels: labels.into_iter().map(|l| l as u8).collect() }));
        }
        grid.push(row);
    }
    Ok(self::grid(&grid))
}

/// Colours of the curves, in order (red, blue, green, orange, purple, grey).
pub const CURVE_COLOURS: [(&str, [u8; 3]); 6] = [
    ("red", [220, 40, 40]),
    ("blue", [40, 80, 220]),
    ("green", [30, 160, 60]),
    ("orange", [240, 140, 20]),
    ("purple", [140, 60, 180]),
    ("grey", [110, 110, 110]),
];

/// Loss curves, one per series, drawn end to end on one time axis (the
/// stages of staged training follow each other), on a white canvas with a
/// frame; the y axis runs from 0 to the largest loss. Series beyond the
/// six colours reuse them.
pub fn loss_curves(series: &[&[f64]], width: u32, height: u32) -> RgbImage {
    let mut canvas = RgbImage::from_pixel(width, height, WHITE);
    let margin = 10;
    let (plot_w, plot_h) = (width - 2 * margin, height - 2 * margin);
    for x in margin..=margin + plot_w {
        canvas.put_pixel(x, margin + plot_h, Rgb([0, 0, 0]));
    }
    for y in margin..=margin + plot_h {
        canvas.put_pixel(margin, y, Rgb([0, 0, 0]));
    }
    let steps: usize = series.iter().map(|s| s.len()).max().unwrap_or(0);
    let top = series.iter().flat_map(|s| s.iter()).copied().filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    if steps < 2 || top <= 0.0 {
        return canvas;
    }
    for (n, losses) in series.iter().enumerate() {
        let colour = Rgb(CURVE_COLOURS[n % CURVE_COLOURS.len()].1);
        let point = |i: usize| {
            let x = margin as f64 + plot_w as f64 * i as f64 / (steps - 1) as f64;
            let y = margin as f64 + plot_h as f64 * (1.0 - losses[i].clamp(0.0, top) / top);
            (x, y)
        };
        for i in 1..losses.len() {
            let ((x0, y0), (x1, y1)) = (point(i - 1), point(i));
            // A straight segment, sampled finely enough to leave no holes.
            let samples = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
            for k in 0..=samples {
                let t = k as f64 / samples as f64;
                let (x, y) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
                canvas.put_pixel(x.round() as u32, y.round() as u32, colour);
            }
        }
    }
    canvas
}
