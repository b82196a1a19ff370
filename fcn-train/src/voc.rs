//! PASCAL VOC's conventions and a loader for any folder laid out like
//! VOCdevkit's `VOC2012/`:
//!
//! ```text
//! JPEGImages/<id>.jpg (or .png)     the photos
//! SegmentationClass/<id>.png        the masks: palette PNGs, one index per pixel
//! ImageSets/Segmentation/train.txt  one <id> per line
//! ImageSets/Segmentation/val.txt
//! ```
//!
//! A mask pixel holds a class index (0 = background) or 255, "void": the band
//! along object borders (and anything unlabelled) that training and scoring
//! ignore.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

pub use fcn_common::VOID;

/// PASCAL VOC's 21 class names, by index.
pub const CLASS_NAMES: [&str; 21] = [
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
];

/// The colour VOC's palette gives index `index`: the bits of the index are
/// spread over the high bits of red, green and blue (1 = (128, 0, 0), 2 =
/// (0, 128, 0), 15 = (192, 128, 128), 255 = (224, 224, 192)).
pub fn palette_colour(index: u8) -> [u8; 3] {
    let mut colour = [0u8; 3];
    let mut bits = index;
    for shift in (0..8).rev() {
        for (channel, value) in colour.iter_mut().enumerate() {
            *value |= ((bits >> channel) & 1) << shift;
        }
        bits >>= 3;
    }
    colour
}

/// The whole 256-colour palette, as a PNG `PLTE` chunk wants it.
pub fn palette() -> Vec<u8> {
    (0..=255).flat_map(palette_colour).collect()
}

/// Why data could not be read. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a readable image: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{image} is {image_size:?} (width, height) but its mask {mask} is {mask_size:?}")]
    SizesDiffer { image: PathBuf, mask: PathBuf, image_size: (u32, u32), mask_size: (u32, u32) },
    #[error("{path}: pixel ({x}, {y}) has colour {colour:?}, which is not in VOC's palette")]
    NotInPalette { path: PathBuf, x: u32, y: u32, colour: [u8; 3] },
    #[error("{path}: pixel ({x}, {y}) is class {value}, but the set has {classes} classes (and 255 for void)")]
    ClassOutOfRange { path: PathBuf, x: u32, y: u32, value: u8, classes: u8 },
    #[error("{path}: no image {id}.jpg or {id}.png in {folder}")]
    MissingImage { path: PathBuf, id: String, folder: PathBuf },
    #[error("{path} lists no images")]
    EmptySplit { path: PathBuf },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io { path: path.to_owned(), source }
}

/// A mask: one class index (or [`VOID`]) per pixel, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    pub width: u32,
    pub height: u32,
    pub labels: Vec<u8>,
}

/// Writes `mask` as a palette PNG, as VOC's masks are.
pub fn write_mask(path: &Path, mask: &Mask) -> Result<(), DataError> {
    let file = File::create(path).map_err(io(path))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), mask.width, mask.height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_palette(palette());
    let encoded = encoder.write_header().and_then(|mut writer| writer.write_image_data(&mask.labels));
    encoded.map_err(|e| DataError::Io { path: path.to_owned(), source: std::io::Error::other(e) })
}

/// Reads a mask: a palette PNG's indices as they are, or, for a PNG in colour,
/// each colour looked up in VOC's palette. Indices must be below `classes` or
/// be 255.
pub fn read_mask(path: &Path, classes: u8) -> Result<Mask, DataError> {
    let unreadable = |reason: String| DataError::Unreadable { path: path.to_owned(), reason };
    let file = File::open(path).map_err(io(path))?;
    let mut decoder = png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(|e| unreadable(e.to_string()))?;
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    let labels = if info.color_type == png::ColorType::Indexed && info.bit_depth == png::BitDepth::Eight {
        let mut buffer = vec![0; reader.output_buffer_size().ok_or_else(|| unreadable("too large".into()))?];
        let frame = reader.next_frame(&mut buffer).map_err(|e| unreadable(e.to_string()))?;
        buffer.truncate(frame.buffer_size());
        buffer
    } else {
        let rgb = image::open(path).map_err(|e| unreadable(e.to_string()))?.to_rgb8();
        let mut lookup = std::collections::HashMap::new();
        for index in 0..=255u8 {
            lookup.entry(palette_colour(index)).or_insert(index);
        }
        let mut labels = Vec::with_capacity((width * height) as usize);
        for (x, y, pixel) in rgb.enumerate_pixels() {
            let index = lookup.get(&pixel.0).ok_or(DataError::NotInPalette {
                path: path.to_owned(),
                x,
                y,
                colour: pixel.0,
            })?;
            labels.push(*index);
        }
        labels
    };
    if let Some(at) = labels.iter().position(|&v| v >= classes && v != VOID) {
        let (x, y) = (at as u32 % width, at as u32 / width);
        return Err(DataError::ClassOutOfRange { path: path.to_owned(), x, y, value: labels[at], classes });
    }
    Ok(Mask { width, height, labels })
}

/// One image and its mask.
#[derive(Debug, Clone)]
pub struct Sample {
    pub id: String,
    pub image: image::RgbImage,
    pub mask: Mask,
}

/// A split of a VOCdevkit-style folder, read into memory.
#[derive(Debug, Clone)]
pub struct Split {
    pub samples: Vec<Sample>,
    pub classes: u8,
}

/// Reads split `split` (`train`, `val`) of the VOCdevkit-style folder `root`
/// (the folder that holds `JPEGImages/`), with `classes` classes.
pub fn read_split(root: &Path, split: &str, classes: u8) -> Result<Split, DataError> {
    let list = root.join("ImageSets/Segmentation").join(format!("{split}.txt"));
    let ids = std::fs::read_to_string(&list).map_err(io(&list))?;
    let ids: Vec<&str> = ids.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if ids.is_empty() {
        return Err(DataError::EmptySplit { path: list });
    }
    let samples = ids.iter().map(|id| read_sample(root, &list, id, classes)).collect::<Result<_, _>>()?;
    Ok(Split { samples, classes })
}

fn read_sample(root: &Path, list: &Path, id: &str, classes: u8) -> Result<Sample, DataError> {
    let folder = root.join("JPEGImages");
    let image_path = ["jpg", "png"]
        .iter()
        .map(|ext| folder.join(format!("{id}.{ext}")))
        .find(|p| p.exists())
        .ok_or_else(|| DataError::MissingImage { path: list.to_owned(), id: id.to_owned(), folder: folder.clone() })?;
    let image = image::open(&image_path)
        .map_err(|e| DataError::Unreadable { path: image_path.clone(), reason: e.to_string() })?
        .to_rgb8();
    let mask_path = root.join("SegmentationClass").join(format!("{id}.png"));
    let mask = read_mask(&mask_path, classes)?;
    if image.dimensions() != (mask.width, mask.height) {
        return Err(DataError::SizesDiffer {
            image: image_path,
            mask: mask_path,
            image_size: image.dimensions(),
            mask_size: (mask.width, mask.height),
        });
    }
    Ok(Sample { id: id.to_owned(), image, mask })
}

/// The per-channel mean the release subtracts, in BGR order (ImageNet's mean
/// pixel, as Caffe's VGG16 was trained with).
pub const MEAN_BGR: [f64; 3] = [104.00699, 116.66877, 122.67892];

/// The release's preprocessing: RGB to BGR (Caffe's VGG16 was trained on BGR
/// images), 0..255 values with the mean pixel subtracted, no scaling.
/// Returns 1 x 3 x H x W, float.
pub fn preprocess(image: &image::RgbImage, device: Device) -> Tensor {
    let (width, height) = image.dimensions();
    let rgb = Tensor::from_slice(image.as_raw()).view([height as i64, width as i64, 3]).to_kind(Kind::Float);
    let bgr = rgb.flip([2]) - Tensor::from_slice(&MEAN_BGR).to_kind(Kind::Float);
    bgr.permute([2, 0, 1]).unsqueeze(0).contiguous().to_device(device)
}

/// A mask as a 1 x H x W tensor of class indices (int64, 255 for void).
pub fn mask_tensor(mask: &Mask, device: Device) -> Tensor {
    Tensor::from_slice(&mask.labels)
        .view([1, mask.height as i64, mask.width as i64])
        .to_kind(Kind::Int64)
        .to_device(device)
}
