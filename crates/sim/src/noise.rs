//! Hash-based deterministic noise: the same inputs always give the same value, with no state.
//! Used where a value must be a pure function of (seed, what, time), such as the CPU curve, which
//! is recomputed as time advances and must not change its past.

/// SplitMix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a seed and two coordinates.
pub(crate) fn hash3(seed: u64, a: u64, b: u64) -> u64 {
    mix(mix(mix(seed) ^ a) ^ b)
}

/// Uniform in `[0, 1)`.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Uniform in `[-1, 1)`.
pub(crate) fn signed(h: u64) -> f64 {
    unit(h) * 2.0 - 1.0
}

/// Smooth value noise in `[-1, 1]`: random knots every `period_s` seconds, smoothstep between.
pub(crate) fn smooth(seed: u64, channel: u64, t_s: i64, period_s: i64) -> f64 {
    let period = period_s.max(1);
    let k = t_s.div_euclid(period);
    let frac = t_s.rem_euclid(period) as f64 / period as f64;
    let a = signed(hash3(seed, channel, k as u64));
    let b = signed(hash3(seed, channel, (k + 1) as u64));
    let s = frac * frac * (3.0 - 2.0 * frac);
    a + (b - a) * s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_bounded_and_repeatable() {
        for t in (-10_000..10_000).step_by(37) {
            let v = smooth(7, 3, t, 3600);
            assert!((-1.0..=1.0).contains(&v));
            assert_eq!(v, smooth(7, 3, t, 3600));
        }
        let u = unit(hash3(1, 2, 3));
        assert!((0.0..1.0).contains(&u));
    }
}
