//! Screenshots are checked before anything is sent upstream: the format by its magic
//! bytes (PNG, JPEG, WebP, GIF — never SVG, which can carry script), the size, and the
//! pixel dimensions read from the decoded header.

use std::fmt;

/// An accepted image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    WebP,
    /// GIF.
    Gif,
}

impl ImageFormat {
    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::WebP => "image/webp",
            ImageFormat::Gif => "image/gif",
        }
    }
}

/// Caps on one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest file, in bytes.
    pub max_bytes: usize,
    /// Largest width or height, in pixels.
    pub max_side: u32,
    /// Largest width × height.
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self { max_bytes: 10 << 20, max_side: 8192, max_pixels: 40_000_000 }
    }
}

/// An image that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedImage {
    /// Its format, from its bytes.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Why an image is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// Not one of the accepted formats (with what it looks like, when known).
    Unsupported(&'static str),
    /// The header is cut short or inconsistent.
    Corrupt(ImageFormat),
    /// Over the byte cap.
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The cap.
        limit: usize,
    },
    /// Over a pixel cap.
    TooManyPixels {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::Unsupported(what) => {
                write!(f, "{what} is not accepted; send a PNG, JPEG, WebP or GIF screenshot")
            }
            ImageError::Corrupt(format) => write!(f, "the {} header is damaged or cut short", format.media_type()),
            ImageError::TooLarge { bytes, limit } => {
                write!(f, "the image is {} KiB, more than the limit of {} KiB", bytes / 1024, limit / 1024)
            }
            ImageError::TooManyPixels { width, height } => {
                write!(f, "the image is {width}×{height} pixels, larger than allowed")
            }
        }
    }
}

/// Checks an image's bytes.
///
/// # Errors
///
/// [`ImageError`] saying what is wrong.
pub fn check_image(bytes: &[u8], limits: &ImageLimits) -> Result<CheckedImage, ImageError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooLarge { bytes: bytes.len(), limit: limits.max_bytes });
    }
    let format = sniff(bytes)?;
    let (width, height) = dimensions(format, bytes).ok_or(ImageError::Corrupt(format))?;
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt(format));
    }
    if width > limits.max_side || height > limits.max_side || u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImageError::TooManyPixels { width, height });
    }
    Ok(CheckedImage { format, width, height })
}

fn sniff(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(ImageFormat::Png)
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Ok(ImageFormat::Jpeg)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok(ImageFormat::WebP)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Ok(ImageFormat::Gif)
    } else {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
        let what = if head.contains("<svg") {
            "an SVG image (it can carry script)"
        } else if head.trim_start().starts_with('<') {
            "markup"
        } else {
            "this file type"
        };
        Err(ImageError::Unsupported(what))
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?)))
}

fn le16(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?)))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

fn dimensions(format: ImageFormat, bytes: &[u8]) -> Option<(u32, u32)> {
    match format {
        ImageFormat::Png => {
            (bytes.get(12..16)? == b"IHDR").then_some(())?;
            let width = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
            let height = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
            Some((width, height))
        }
        ImageFormat::Gif => Some((le16(bytes, 6)?, le16(bytes, 8)?)),
        ImageFormat::WebP => match bytes.get(12..16)? {
            b"VP8 " => {
                (bytes.get(23..26)? == [0x9d, 0x01, 0x2a]).then_some(())?;
                Some((le16(bytes, 26)? & 0x3fff, le16(bytes, 28)? & 0x3fff))
            }
            b"VP8L" => {
                (*bytes.get(20)? == 0x2f).then_some(())?;
                let bits = u32::from_le_bytes(bytes.get(21..25)?.try_into().ok()?);
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => Some((le24(bytes, 24)? + 1, le24(bytes, 27)? + 1)),
            _ => None,
        },
        ImageFormat::Jpeg => jpeg_dimensions(bytes),
    }
}

/// Walks the JPEG markers to the first start-of-frame.
fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        while *bytes.get(at)? != 0xff {
            at += 1;
        }
        while *bytes.get(at)? == 0xff {
            at += 1;
        }
        let marker = *bytes.get(at)?;
        at += 1;
        match marker {
            0xd0..=0xd9 | 0x01 => continue,
            0xc0..=0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => {
                return Some((be16(bytes, at + 5)?, be16(bytes, at + 3)?));
            }
            _ => at += usize::try_from(be16(bytes, at)?).ok()?,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 2×3 PNG header (enough for the check; not a full image).
    pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0]);
        bytes
    }

    #[test]
    fn each_format_is_recognised_with_its_dimensions() {
        let limits = ImageLimits::default();
        assert_eq!(
            check_image(&png(2, 3), &limits),
            Ok(CheckedImage { format: ImageFormat::Png, width: 2, height: 3 })
        );
        let gif = b"GIF89a\x40\x01\xf0\x00\x80\0\0".to_vec();
        assert_eq!(check_image(&gif, &limits).map(|i| (i.width, i.height)), Ok((320, 240)));
        let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00];
        jpeg.extend_from_slice(&[0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03]);
        assert_eq!(check_image(&jpeg, &limits).map(|i| (i.width, i.height)), Ok((640, 480)));
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x7f, 0x07, 0x00, 0x37, 0x04, 0x00]);
        assert_eq!(check_image(&vp8x, &limits).map(|i| (i.width, i.height)), Ok((1920, 1080)));
    }

    #[test]
    fn svg_markup_and_unknown_bytes_are_refused() {
        let limits = ImageLimits::default();
        let svg = b"<?xml version=\"1.0\"?><svg onload=\"alert(1)\"></svg>";
        let error = check_image(svg, &limits).unwrap_err();
        assert_eq!(
            error.to_string(),
            "an SVG image (it can carry script) is not accepted; send a PNG, JPEG, WebP or GIF screenshot"
        );
        assert_eq!(check_image(b"MZ\x90\0", &limits), Err(ImageError::Unsupported("this file type")));
    }

    #[test]
    fn caps_and_damage_are_refused() {
        let limits = ImageLimits { max_bytes: 64, max_side: 100, max_pixels: 5_000 };
        assert_eq!(check_image(&png(101, 10), &limits), Err(ImageError::TooManyPixels { width: 101, height: 10 }));
        assert_eq!(check_image(&png(90, 90), &limits), Err(ImageError::TooManyPixels { width: 90, height: 90 }));
        assert_eq!(check_image(&png(0, 10), &limits), Err(ImageError::Corrupt(ImageFormat::Png)));
        assert_eq!(check_image(&png(2, 2)[..18], &limits), Err(ImageError::Corrupt(ImageFormat::Png)));
        assert!(matches!(check_image(&[0u8; 65], &limits), Err(ImageError::TooLarge { bytes: 65, limit: 64 })));
    }
}
