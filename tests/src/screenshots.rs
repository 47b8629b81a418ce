//! Screenshots as users send them: real, decodable PNG and JPEG files of several
//! megabytes, made by real encoders from a deterministic picture (a page layout whose
//! panels are filled with noise, so the encoders cannot shrink them to a thumbnail).

/// A PNG of about `megabytes` MB: a 16:10 RGB picture, encoded by the `png` crate.
///
/// # Panics
///
/// Never for sizes a test asks for (the encoder writes to memory).
pub fn png(megabytes: f64, seed: u64) -> Vec<u8> {
    // Noise does not compress: about 3 bytes a pixel, plus a little for the flat parts.
    let (width, height) = sixteen_by_ten(megabytes * 1e6 / 3.0);
    let pixels = picture(width, height, seed);
    let mut out = Vec::with_capacity(pixels.len() + 4096);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(&pixels).expect("PNG data");
    writer.finish().expect("PNG end");
    out
}

/// A JPEG of about `megabytes` MB, encoded at quality 95 by `jpeg-encoder`.
///
/// # Panics
///
/// Never for sizes a test asks for.
pub fn jpeg(megabytes: f64, seed: u64) -> Vec<u8> {
    // Noise at quality 95 takes about 1.9 bytes a pixel.
    let (width, height) = sixteen_by_ten(megabytes * 1e6 / 1.9);
    let pixels = picture(width, height, seed);
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, 95);
    let (w, h) = (u16::try_from(width).expect("width"), u16::try_from(height).expect("height"));
    encoder.encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb).expect("JPEG");
    out
}

/// Width and height with `pixels` pixels in all, at 16:10.
fn sixteen_by_ten(pixels: f64) -> (u32, u32) {
    let height = (pixels / 1.6).sqrt();
    // Whole numbers well inside u32: the picture is at most a few thousand pixels a side.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    ((height * 1.6) as u32, height as u32)
}

/// RGB bytes of a page: a header bar, a sidebar and panels of noise on white.
fn picture(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        // xorshift64*: fast, deterministic, and more than random enough for an encoder.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            let header = y < height / 20;
            let sidebar = x < width / 40;
            let rgb = if header {
                [30, 41, 59]
            } else if sidebar {
                [241, 245, 249]
            } else {
                let noise = next().to_le_bytes();
                [noise[0], noise[1], noise[2]]
            };
            pixels.extend_from_slice(&rgb);
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_are_the_size_asked_for_and_decode() {
        let png_bytes = png(1.0, 1);
        assert!((0.9e6..1.2e6).contains(&(png_bytes.len() as f64)), "{}", png_bytes.len());
        let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buffer = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut buffer).expect("it decodes");

        let jpeg_bytes = jpeg(1.0, 1);
        assert!((0.7e6..1.3e6).contains(&(jpeg_bytes.len() as f64)), "{}", jpeg_bytes.len());
        assert!(jpeg_bytes.starts_with(&[0xff, 0xd8, 0xff]) && jpeg_bytes.ends_with(&[0xff, 0xd9]));
        assert_ne!(png(1.0, 1), png(1.0, 2), "seeds give different pictures");
    }
}
