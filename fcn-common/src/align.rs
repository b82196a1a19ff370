//! Layers as coordinate arithmetic sees them, and where a map's pixels sit
//! on the image: the types of exercise 3's alignment (`exercises::align`),
//! and the release's VGG16 written as such layers.

/// A layer as coordinate arithmetic sees it: only how its windows are laid
/// on its input matters, not its channels or weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// A convolution or a pooling: a `kernel`-wide window moved `stride`
    /// pixels at a time over its input, padded by `padding` pixels on each
    /// side.
    Slide { kernel: i64, stride: i64, padding: i64 },
    /// A transposed convolution: each input pixel stamps a `kernel`-wide
    /// patch on the output, the patches `stride` pixels apart, and `padding`
    /// pixels are cut off each side of the result.
    Transposed { kernel: i64, stride: i64, padding: i64 },
}

impl Layer {
    /// A convolution of stride 1: `kernel` wide, padded by `padding`.
    pub const fn conv(kernel: i64, padding: i64) -> Layer {
        Layer::Slide { kernel, stride: 1, padding }
    }

    /// A pooling without padding: `kernel` wide, moved by `stride`.
    pub const fn pool(kernel: i64, stride: i64) -> Layer {
        Layer::Slide { kernel, stride, padding: 0 }
    }

    /// The release's fixed bilinear upsampling by `stride`: a transposed
    /// convolution with a kernel of twice the stride and no padding.
    pub const fn upsample(stride: i64) -> Layer {
        Layer::Transposed { kernel: 2 * stride, stride, padding: 0 }
    }
}

/// Where the pixels of a map sit on the network's input: pixel `i` of the
/// map is centred on the input's coordinate `scale * i + shift` (in input
/// pixels; the input's own pixel `i` is centred on `i`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub scale: f64,
    pub shift: f64,
}

impl Placement {
    /// The input itself: pixel `i` at `i`.
    pub const INPUT: Placement = Placement { scale: 1.0, shift: 0.0 };
}

/// A blob of the release's VGG16 that a head of FCN reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blob {
    Pool3,
    Pool4,
    Fc7,
}

/// The release's VGG16 from the image up to `blob`, as layers (exercise
/// 2's network): thirteen 3x3 convolutions, conv1_1 padded by 100 and the
/// others by 1, a 2x2 pooling of stride 2 after each block, then fc6 (7x7)
/// and fc7 (1x1), unpadded. ReLU and dropout move nothing.
pub fn vgg16_layers(blob: Blob) -> Vec<Layer> {
    let mut layers = Vec::new();
    for (block, convolutions) in [2, 2, 3, 3, 3].into_iter().enumerate() {
        for n in 0..convolutions {
            layers.push(Layer::conv(3, if block == 0 && n == 0 { 100 } else { 1 }));
        }
        layers.push(Layer::pool(2, 2));
        match (block, blob) {
            (2, Blob::Pool3) | (3, Blob::Pool4) => return layers,
            _ => {}
        }
    }
    layers.extend([Layer::conv(7, 0), Layer::conv(1, 0)]);
    layers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backbone_has_the_release_s_layers() {
        let pool3 = vgg16_layers(Blob::Pool3);
        let pool4 = vgg16_layers(Blob::Pool4);
        let fc7 = vgg16_layers(Blob::Fc7);
        assert_eq!((pool3.len(), pool4.len(), fc7.len()), (10, 14, 20));
        assert_eq!(pool3[0], Layer::Slide { kernel: 3, stride: 1, padding: 100 });
        assert!(fc7.starts_with(&pool4) && pool4.starts_with(&pool3));
        let pools = fc7.iter().filter(|l| matches!(l, Layer::Slide { stride: 2, .. })).count();
        assert_eq!(pools, 5);
        assert_eq!(fc7[18..], [Layer::conv(7, 0), Layer::conv(1, 0)]);
    }
}
