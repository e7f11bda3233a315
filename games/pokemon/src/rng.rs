//! Random draws. Every draw consumes exactly one `u32` from the caller's RNG, which keeps
//! battles reproducible from a seed and lets tests script each roll (see `tests/util.rs`).

use rand::Rng;

/// A number in `0..n`, as Showdown draws it: the top of a 32-bit roll scaled to `n`.
/// The bias is below `n / 2^32`, far under anything a game can observe.
pub fn below<R: Rng + ?Sized>(rng: &mut R, n: u32) -> u32 {
    ((u64::from(rng.next_u32()) * u64::from(n)) >> 32) as u32
}

/// True with probability `num / den`.
pub fn chance<R: Rng + ?Sized>(rng: &mut R, num: u32, den: u32) -> bool {
    below(rng, den) < num
}

/// The `u32` that makes [`below`] return `value` for `n`; for scripting tests.
pub fn scripted(value: u32, n: u32) -> u32 {
    ((u64::from(value) << 32).div_ceil(u64::from(n))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_round_trips() {
        struct One(u32);
        impl rand::RngCore for One {
            fn next_u32(&mut self) -> u32 {
                self.0
            }
            fn next_u64(&mut self) -> u64 {
                u64::from(self.0)
            }
            fn fill_bytes(&mut self, _: &mut [u8]) {}
        }
        for n in [2, 3, 16, 100, 256, 65536] {
            for v in [0, 1, n / 2, n - 1] {
                assert_eq!(below(&mut One(scripted(v, n)), n), v, "{v} of {n}");
            }
        }
    }
}
