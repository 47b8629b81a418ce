//! The `image_check` target: screenshot checks by magic bytes and header.

use airlock::generation::{ImageError, ImageFormat, ImageLimits, check_image};

fn magic(format: ImageFormat, bytes: &[u8]) -> bool {
    match format {
        ImageFormat::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        ImageFormat::Jpeg => bytes.starts_with(&[0xff, 0xd8, 0xff]),
        ImageFormat::WebP => bytes.get(..4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"),
        ImageFormat::Gif => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
    }
}

/// Screenshot checks by magic bytes and header (`airlock::generation::check_image`),
/// which run on untrusted uploads before anything is sent upstream.
///
/// Oracles: no panic (arithmetic overflow included: fuzz builds keep debug
/// assertions), an accepted image is within every cap and its format matches its magic
/// bytes, and accepting does not depend on caps it is within.
pub fn image_check(data: &[u8]) {
    let tight = ImageLimits { max_bytes: 4096, max_side: 300, max_pixels: 40_000 };
    let loose = ImageLimits { max_bytes: usize::MAX, max_side: u32::MAX, max_pixels: u64::MAX };
    for limits in [ImageLimits::default(), tight, loose] {
        match check_image(data, &limits) {
            Ok(image) => {
                assert!(data.len() <= limits.max_bytes);
                assert!(image.width > 0 && image.height > 0);
                assert!(image.width <= limits.max_side && image.height <= limits.max_side);
                assert!(u64::from(image.width) * u64::from(image.height) <= limits.max_pixels);
                assert!(magic(image.format, data), "{:?} without its magic bytes", image.format);
                // The same image under no caps: the same answer.
                assert_eq!(check_image(data, &loose), Ok(image));
            }
            Err(error) => {
                assert!(!error.to_string().is_empty());
                if let ImageError::TooLarge { bytes, limit } = error {
                    assert!(bytes > limit);
                }
            }
        }
    }
}
