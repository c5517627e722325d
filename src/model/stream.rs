//! The generator behind every random stream: SplitMix64 (Steele, Lea &
//! Flood, 2014), the generator of Java's `SplittableRandom`.
//!
//! A stream is identified by a 64-bit seed hashed from (seed, run, purpose,
//! month, index); SplitMix64's whole state is that seed, so starting a
//! stream costs nothing, and each output is the seed advanced by a fixed odd
//! step and mixed by a bijective finaliser. Streams start at independent
//! hashed points of the 2⁶⁴ cycle and are a few hundred numbers long, so
//! they do not overlap in practice. Its output passes BigCrush.

use std::convert::Infallible;

use rand::rand_core::TryRng;

use crate::model::draws::mix64;

/// The golden-ratio step of SplitMix64.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// A SplitMix64 stream.
#[derive(Clone, Debug)]
pub struct Stream {
    state: u64,
}

impl Stream {
    #[inline]
    pub fn new(seed: u64) -> Stream {
        #[cfg(feature = "draw-count")]
        count::STREAMS.with(|c| c.set(c.get() + 1));
        Stream { state: seed }
    }

    #[inline]
    fn next(&mut self) -> u64 {
        #[cfg(feature = "draw-count")]
        count::DRAWS.with(|c| c.set(c.get() + 1));
        self.state = self.state.wrapping_add(GAMMA);
        mix64(self.state)
    }
}

/// Counts of streams started and 64-bit numbers drawn on this thread, kept
/// only in builds with the `draw-count` feature (the sampler bench).
#[cfg(feature = "draw-count")]
pub mod count {
    use std::cell::Cell;

    thread_local! {
        pub static STREAMS: Cell<u64> = const { Cell::new(0) };
        pub static DRAWS: Cell<u64> = const { Cell::new(0) };
    }

    /// (streams, draws) so far on this thread.
    pub fn read() -> (u64, u64) {
        (STREAMS.with(|c| c.get()), DRAWS.with(|c| c.get()))
    }
}

impl TryRng for Stream {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn matches_the_published_splitmix64_sequence() {
        // Reference values of SplitMix64 seeded with 1234567.
        let mut s = Stream::new(1_234_567);
        let expected: [u64; 3] = [
            6_457_827_717_110_365_317,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
        ];
        for e in expected {
            assert_eq!(s.next_u64(), e);
        }
    }
}
