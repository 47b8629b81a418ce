//! The oracles of Airlock's fuzz targets, one function per target in [`targets`], and
//! the helpers they share: turning fuzz input into options and chunkings ([`Input`]),
//! and the browser oracle for sanitized HTML ([`browser`]).
//!
//! The oracles live in the main workspace so that CI replays the committed corpus
//! (`fuzz/corpus/<target>/`, seeds and regression inputs) with the normal test build:
//! `cargo test -p airlock-fuzz-oracles` (`tests/corpus.rs`) runs every input through its
//! target's function, deterministically, and a failure is a regression. `fuzz/` wraps
//! the same functions in libFuzzer targets and runs them coverage-guided
//! (`scripts/fuzz-smoke.sh`, and longer runs as `fuzz/README.md` describes).

pub mod browser;
pub mod targets;

/// A fuzz input taken apart: a flags byte, a seed for the chunking, and the payload.
pub struct Input<'a> {
    /// Bits that pick options (mode, chunk size, ...).
    pub flags: u8,
    /// Seeds the chunking.
    pub seed: u32,
    /// The rest.
    pub payload: &'a [u8],
}

impl<'a> Input<'a> {
    /// Reads the first byte as flags and the next four as the seed; short inputs get zeros.
    pub fn new(data: &'a [u8]) -> Self {
        let flags = data.first().copied().unwrap_or(0);
        let mut seed = [0u8; 4];
        for (slot, byte) in seed.iter_mut().zip(data.iter().skip(1)) {
            *slot = *byte;
        }
        Self { flags, seed: u32::from_le_bytes(seed), payload: data.get(5..).unwrap_or(&[]) }
    }

    /// The payload as text (invalid UTF-8 replaced, so no input is wasted).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.payload).into_owned()
    }

    /// Chunk lengths for the payload: pieces of 1 to `max` bytes, where `max` is
    /// picked by flag bits 4..6 (1, 2, 3, 7, 16, 64, 512, 4096).
    fn lengths(&self) -> impl Iterator<Item = usize> + use<> {
        let max = [1usize, 2, 3, 7, 16, 64, 512, 4096][usize::from((self.flags >> 4) & 7)];
        let mut state = u64::from(self.seed) | 1 << 40;
        std::iter::repeat_with(move || {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let next = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            1 + usize::try_from(next >> 33).unwrap_or(0) % max
        })
    }

    /// Splits `bytes` into chunks as the seed says.
    pub fn byte_chunks<'b>(&self, bytes: &'b [u8]) -> Vec<&'b [u8]> {
        let mut chunks = Vec::new();
        let mut rest = bytes;
        let mut lengths = self.lengths();
        while !rest.is_empty() {
            let n = lengths.next().unwrap_or(1).min(rest.len());
            let (head, tail) = rest.split_at(n);
            chunks.push(head);
            rest = tail;
        }
        chunks
    }

    /// Splits `text` into chunks at character boundaries as the seed says.
    pub fn str_chunks<'b>(&self, text: &'b str) -> Vec<&'b str> {
        let mut chunks = Vec::new();
        let mut rest = text;
        let mut lengths = self.lengths();
        while !rest.is_empty() {
            let mut n = lengths.next().unwrap_or(1).min(rest.len());
            while !rest.is_char_boundary(n) {
                n += 1;
            }
            let (head, tail) = rest.split_at(n);
            chunks.push(head);
            rest = tail;
        }
        chunks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_input_in_order() {
        let data = b"\x70\x01\x02\x03\x04h\xc3\xa9llo w\xc3\xb6rld";
        let input = Input::new(data);
        let text = input.text();
        assert_eq!(input.str_chunks(&text).concat(), text);
        assert_eq!(input.byte_chunks(input.payload).concat(), input.payload);
        assert!(Input::new(b"").payload.is_empty());
    }
}
