//! A seeded synthetic segmentation set in VOCdevkit's layout, for checks and
//! CPU training: textured shapes of four classes over textured backgrounds.
//!
//! Two of the classes are thin (rods and rings a few pixels wide): at stride
//! 32 they are a fraction of one coarse cell, so FCN-8s's finer skips label
//! them visibly better than FCN-32s, as the paper's Figure 4 shows on VOC.
//! Like VOC's, the masks have a void band (255) along every object border.
//! The same seed gives the same bytes.

use std::path::Path;

use image::{Rgb, RgbImage};
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::{Rng, SeedableRng};

use crate::voc::{DataError, Mask, VOID, write_mask};

/// The classes, by mask index.
pub const CLASS_NAMES: [&str; 5] = ["background", "disc", "block", "rod", "ring"];

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub seed: u64,
    pub train: usize,
    pub val: usize,
    /// Images are `size` x `size` pixels.
    pub size: u32,
}

impl Default for Spec {
    fn default() -> Self {
        Spec { seed: 0, train: 96, val: 24, size: 96 }
    }
}

/// Writes the set into `root` (made if needed): `JPEGImages/synth_NNNN.png`,
/// `SegmentationClass/synth_NNNN.png` (palette masks),
/// `ImageSets/Segmentation/{train,val}.txt` and `class_names.txt`.
pub fn generate(root: &Path, spec: Spec) -> Result<(), DataError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DataError::Io { path, source }
    };
    let images = root.join("JPEGImages");
    let masks = root.join("SegmentationClass");
    let sets = root.join("ImageSets/Segmentation");
    for folder in [&images, &masks, &sets] {
        std::fs::create_dir_all(folder).map_err(io(folder))?;
    }
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut ids = Vec::new();
    for n in 0..spec.train + spec.val {
        let id = format!("synth_{n:04}");
        let (image, mask) = sample(&mut rng, spec.size);
        let image_path = images.join(format!("{id}.png"));
        image.save(&image_path).map_err(|e| DataError::Io { path: image_path.clone(), source: std::io::Error::other(e) })?;
        write_mask(&masks.join(format!("{id}.png")), &mask)?;
        ids.push(id);
    }
    let (train, val) = ids.split_at(spec.train);
    for (name, ids) in [("train", train), ("val", val)] {
        let path = sets.join(format!("{name}.txt"));
        std::fs::write(&path, ids.iter().map(|id| format!("{id}\n")).collect::<String>()).map_err(io(&path))?;
    }
    let path = root.join("class_names.txt");
    std::fs::write(&path, CLASS_NAMES.map(|n| format!("{n}\n")).concat()).map_err(io(&path))?;
    Ok(())
}

/// One shape: which pixels it covers.
enum Shape {
    Disc { cx: f32, cy: f32, r: f32 },
    Block { x0: f32, y0: f32, x1: f32, y1: f32 },
    Rod { x0: f32, y0: f32, x1: f32, y1: f32, half_width: f32 },
    Ring { cx: f32, cy: f32, r: f32, half_width: f32 },
}

impl Shape {
    fn class(&self) -> u8 {
        match self {
            Shape::Disc { .. } => 1,
            Shape::Block { .. } => 2,
            Shape::Rod { .. } => 3,
            Shape::Ring { .. } => 4,
        }
    }

    fn covers(&self, x: f32, y: f32) -> bool {
        match *self {
            Shape::Disc { cx, cy, r } => (x - cx).hypot(y - cy) <= r,
            Shape::Block { x0, y0, x1, y1 } => (x0..=x1).contains(&x) && (y0..=y1).contains(&y),
            Shape::Rod { x0, y0, x1, y1, half_width } => {
                let (dx, dy) = (x1 - x0, y1 - y0);
                let t = (((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                (x - x0 - t * dx).hypot(y - y0 - t * dy) <= half_width
            }
            Shape::Ring { cx, cy, r, half_width } => ((x - cx).hypot(y - cy) - r).abs() <= half_width,
        }
    }

    fn random(rng: &mut StdRng, size: f32) -> Shape {
        let s = size;
        match rng.gen_range(1..=4) {
            1 => Shape::Disc { cx: rng.gen_range(0.1..0.9) * s, cy: rng.gen_range(0.1..0.9) * s, r: rng.gen_range(0.08..0.2) * s },
            2 => {
                let (w, h) = (rng.gen_range(0.15..0.4) * s, rng.gen_range(0.15..0.4) * s);
                let (x0, y0) = (rng.gen_range(0.0..s - w), rng.gen_range(0.0..s - h));
                Shape::Block { x0, y0, x1: x0 + w, y1: y0 + h }
            }
            3 => {
                let (x0, y0) = (rng.gen_range(0.1..0.9) * s, rng.gen_range(0.1..0.9) * s);
                let angle = rng.gen_range(0.0..std::f32::consts::PI);
                let length = rng.gen_range(0.3..0.7) * s;
                Shape::Rod {
                    x0,
                    y0,
                    x1: x0 + length * angle.cos(),
                    y1: y0 + length * angle.sin(),
                    half_width: rng.gen_range(2.0..3.5),
                }
            }
            _ => Shape::Ring {
                cx: rng.gen_range(0.2..0.8) * s,
                cy: rng.gen_range(0.2..0.8) * s,
                r: rng.gen_range(0.12..0.3) * s,
                half_width: rng.gen_range(2.0..3.5),
            },
        }
    }
}

/// Each class's base colour; objects vary around it.
const CLASS_COLOURS: [[f32; 3]; 5] =
    [[110.0, 110.0, 100.0], [200.0, 60.0, 50.0], [50.0, 90.0, 190.0], [230.0, 200.0, 40.0], [60.0, 170.0, 80.0]];

/// How a region is painted: a base colour and a stripe pattern.
struct Texture {
    colour: [f32; 3],
    frequency: f32,
    angle: f32,
    phase: f32,
    contrast: f32,
}

impl Texture {
    fn random(rng: &mut StdRng, class: u8) -> Texture {
        let base = CLASS_COLOURS[class as usize];
        let jitter = if class == 0 { 60.0 } else { 25.0 };
        Texture {
            colour: base.map(|c| (c + rng.gen_range(-jitter..jitter)).clamp(0.0, 255.0)),
            frequency: rng.gen_range(0.2..0.8),
            angle: rng.gen_range(0.0..std::f32::consts::PI),
            phase: rng.gen_range(0.0..6.3),
            contrast: rng.gen_range(10.0..35.0),
        }
    }

    fn at(&self, x: f32, y: f32) -> [f32; 3] {
        let along = x * self.angle.cos() + y * self.angle.sin();
        let stripe = (along * self.frequency + self.phase).sin() * self.contrast;
        self.colour.map(|c| c + stripe)
    }
}

/// One image and its mask.
pub fn sample(rng: &mut StdRng, size: u32) -> (RgbImage, Mask) {
    let shapes: Vec<(Shape, Texture)> = (0..rng.gen_range(2..=4))
        .map(|_| {
            let shape = Shape::random(rng, size as f32);
            let texture = Texture::random(rng, shape.class());
            (shape, texture)
        })
        .collect();
    let background = Texture::random(rng, 0);
    let mut labels = vec![0u8; (size * size) as usize];
    let mut image = RgbImage::new(size, size);
    for y in 0..size {
        for x in 0..size {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            // Later shapes are drawn over earlier ones.
            let top = shapes.iter().rev().find(|(shape, _)| shape.covers(fx, fy));
            let (class, texture) = top.map_or((0, &background), |(shape, texture)| (shape.class(), texture));
            labels[(y * size + x) as usize] = class;
            let noise: f32 = rng.gen_range(-12.0..12.0);
            let colour = texture.at(fx, fy).map(|c| (c + noise).clamp(0.0, 255.0) as u8);
            image.put_pixel(x, y, Rgb(colour));
        }
    }
    (image, Mask { width: size, height: size, labels: with_void_borders(&labels, size) })
}

/// Marks every pixel next to a pixel of another class (8 neighbours) as void:
/// a band about two pixels wide along each border, as VOC's annotators drew.
fn with_void_borders(labels: &[u8], size: u32) -> Vec<u8> {
    let size = size as i64;
    let at = |x: i64, y: i64| labels[(y * size + x) as usize];
    let mut out = labels.to_vec();
    for y in 0..size {
        for x in 0..size {
            let here = at(x, y);
            let border = (-1..=1).any(|dy| {
                (-1..=1).any(|dx| {
                    let (nx, ny) = (x + dx, y + dy);
                    (0..size).contains(&nx) && (0..size).contains(&ny) && at(nx, ny) != here
                })
            });
            if border {
                out[(y * size + x) as usize] = VOID;
            }
        }
    }
    out
}
