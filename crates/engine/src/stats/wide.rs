//! Fast path of the exact standard deviation: fixed 256-bit integers
//! instead of heap big integers, for the common case (non-negative values
//! whose binary exponents span ≤ 47 bits, n < 2^20). The square root is
//! found from an f64 estimate and then proved correctly rounded by exact
//! midpoint comparisons, so the result equals the big-integer path's.

use std::cmp::Ordering;

/// Little-endian 256-bit unsigned integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct U256(pub(super) [u64; 4]);

impl U256 {
    const ZERO: U256 = U256([0; 4]);

    pub(super) fn from_u128(v: u128) -> U256 {
        U256([v as u64, (v >> 64) as u64, 0, 0])
    }

    fn bits(&self) -> u32 {
        for i in (0..4).rev() {
            if self.0[i] != 0 {
                return 64 * i as u32 + (64 - self.0[i].leading_zeros());
            }
        }
        0
    }

    /// Wrapping add (callers keep values far below 2^256).
    fn add(self, o: U256) -> U256 {
        let mut r = [0u64; 4];
        let mut carry = 0u128;
        for (i, slot) in r.iter_mut().enumerate() {
            let s = u128::from(self.0[i]) + u128::from(o.0[i]) + carry;
            *slot = s as u64;
            carry = s >> 64;
        }
        U256(r)
    }

    /// `self − o`, `None` if negative.
    fn sub(self, o: U256) -> Option<U256> {
        let mut r = [0u64; 4];
        let mut borrow = 0i128;
        for (i, slot) in r.iter_mut().enumerate() {
            let d = i128::from(self.0[i]) - i128::from(o.0[i]) - borrow;
            if d < 0 {
                *slot = (d + (1i128 << 64)) as u64;
                borrow = 1;
            } else {
                *slot = d as u64;
                borrow = 0;
            }
        }
        (borrow == 0).then_some(U256(r))
    }

    /// `self · m` (callers guarantee no overflow past 256 bits).
    fn mul_u64(self, m: u64) -> U256 {
        let mut r = [0u64; 4];
        let mut carry = 0u128;
        for (i, slot) in r.iter_mut().enumerate() {
            let p = u128::from(self.0[i]) * u128::from(m) + carry;
            *slot = p as u64;
            carry = p >> 64;
        }
        U256(r)
    }

    /// Full product of two values below 2^128 each.
    fn mul_128(a: u128, b: u128) -> U256 {
        let (a0, a1) = (a as u64, (a >> 64) as u64);
        let lo = U256::from_u128(b).mul_u64(a0);
        let hi = U256::from_u128(b).mul_u64(a1).shl(64);
        lo.add(hi)
    }

    /// `self << s` (callers guarantee the result fits).
    fn shl(self, s: u32) -> U256 {
        if s == 0 {
            return self;
        }
        let limbs = (s / 64) as usize;
        let bits = s % 64;
        let mut r = [0u64; 4];
        for i in (limbs..4).rev() {
            let src = i - limbs;
            let mut v = self.0[src] << bits;
            if bits > 0 && src > 0 {
                v |= self.0[src - 1] >> (64 - bits);
            }
            r[i] = v;
        }
        U256(r)
    }

    fn cmp(&self, o: &U256) -> Ordering {
        for i in (0..4).rev() {
            match self.0[i].cmp(&o.0[i]) {
                Ordering::Equal => continue,
                ord => return ord,
            }
        }
        Ordering::Equal
    }

    /// Approximate value as f64 (only used for the initial estimate).
    fn to_f64(self) -> f64 {
        let mut v = 0.0f64;
        for i in (0..4).rev() {
            v = v * 18446744073709551616.0 + self.0[i] as f64;
        }
        v
    }
}

/// Compares `a · 2^ea` with `b · 2^eb` exactly (both results ≤ 256 bits
/// after alignment, guaranteed by the callers' bounds).
fn cmp_scaled(a: U256, ea: i64, b: U256, eb: i64) -> Ordering {
    let (ba, bb) = (i64::from(a.bits()), i64::from(b.bits()));
    if ba == 0 || bb == 0 {
        return ba.cmp(&bb);
    }
    match (ba + ea).cmp(&(bb + eb)) {
        Ordering::Equal => {}
        ord => return ord,
    }
    if ea >= eb {
        a.shl((ea - eb) as u32).cmp(&b)
    } else {
        a.cmp(&b.shl((eb - ea) as u32))
    }
}

/// Exact stdev fast path; `None` when the inputs are outside its bounds
/// (negative values, wide exponent spread, huge n, or a result that would
/// not be a normal f64), in which case the big-integer path runs.
pub(super) fn exact_stdev_u256(xs: &[f64], den: u64) -> Option<f64> {
    let n = xs.len() as u64;
    if n >= 1 << 20 || den == 0 {
        return None;
    }
    let Some(super::Spread {
        emin,
        emax,
        negative,
    }) = super::spread(xs)
    else {
        return Some(0.0);
    };
    // A subnormal (field 0) takes the general loop, which aligns to unit
    // exponents (a subnormal's is 1, see `unit`): so does the scale.
    let subnormal = emin == 0;
    let (emin, emax) = (emin.max(1), emax.max(1));
    if negative || emax - emin > 47 {
        return None;
    }
    let (sx, sxx) = if emax - emin <= 10 && !subnormal {
        let (sx, sxx) = narrow_loop(xs, emin);
        (U256::from_u128(sx), sxx)
    } else {
        let mut sx = U256::ZERO;
        let mut sxx = U256::ZERO;
        for &x in xs {
            let bits = x.to_bits();
            if bits << 1 == 0 {
                continue;
            }
            let (m, e) = super::unit(bits);
            let v = u128::from(m) << (e - emin);
            sx = sx.add(U256::from_u128(v));
            sxx = sxx.add(U256::mul_128(v, v));
        }
        (sx, sxx)
    };
    stdev_of_sums(sx, sxx, n, den, emin as i32 - 1075)
}

/// Σv and Σv² of a series' non-negative normal values aligned to its
/// smallest unit exponent `emin` (`x = v · 2^(emin − 1075)`), when the
/// exponents lie within 2^10 of each other (the usual case): every v is
/// below 2^64, so Σv fits a u128 and Σv² (below 2^148) a u128 plus a
/// carry word. Normal only (callers check `emin > 0`): the mantissa's
/// implicit bit is set without a test per value.
fn narrow_loop(xs: &[f64], emin: u32) -> (u128, U256) {
    let (mut sx, mut lo, mut hi) = (0u128, 0u128, 0u64);
    for &x in xs {
        let bits = x.to_bits();
        if bits << 1 == 0 {
            continue;
        }
        let e = (bits >> 52) as u32;
        let v = ((bits & ((1u64 << 52) - 1)) | (1u64 << 52)) << (e - emin);
        sx += u128::from(v);
        let (s, carry) = lo.overflowing_add(u128::from(v) * u128::from(v));
        lo = s;
        hi += u64::from(carry);
    }
    (sx, U256([lo as u64, (lo >> 64) as u64, hi, 0]))
}

/// Σv and Σv² of a series' aligned values with its exponent, exactly, for
/// the case shared by a mean and a standard deviation of the same series:
/// non-negative normal values whose exponents lie within 2^10 of each
/// other, n < 2^20, and magnitudes far from overflow (so `fsum` of the
/// series cannot raise and its result is the integer Σv rounded once, see
/// `fsum_fixed_point`). `Some((0, 0, 0))` when all values are zero.
pub(super) fn narrow_sums(xs: &[f64]) -> Option<(u128, U256, i32)> {
    if xs.len() >= 1 << 20 {
        return None;
    }
    let Some(super::Spread {
        emin,
        emax,
        negative,
    }) = super::spread(xs)
    else {
        return Some((0, U256::ZERO, 0));
    };
    if negative || emin < 53 || emax > 1900 || emax - emin > 10 {
        return None;
    }
    let (sx, sxx) = narrow_loop(xs, emin);
    Some((sx, sxx, emin as i32 - 1075))
}

/// The correctly rounded `sqrt((n·sxx − sx²) / den) · 2^emin`; `None` when
/// the result would not be a normal f64 (the big-integer path decides).
pub(super) fn stdev_of_sums(sx: U256, sxx: U256, n: u64, den: u64, emin: i32) -> Option<f64> {
    if den == 0 {
        return None;
    }
    // sx < 2^120, sxx < 2^220: both products below fit in 256 bits.
    let sx128 = u128::from(sx.0[0]) | (u128::from(sx.0[1]) << 64);
    let num = sxx.mul_u64(n).sub(U256::mul_128(sx128, sx128))?;
    if num == U256::ZERO {
        return Some(0.0);
    }
    // z = sqrt(num / den), then the answer is z · 2^emin.
    let mut z = (num.to_f64() / den as f64).sqrt();
    for _ in 0..8 {
        if !(z.is_normal()) {
            return None;
        }
        let (m, e) = super::decompose(z);
        let (m, e) = (m as u128, i64::from(e));
        // Upper midpoint (2m+1)·2^(e−1): compare its square with num/den.
        let q = 2 * m + 1;
        let up = cmp_scaled(U256::mul_128(q, q).mul_u64(den), 2 * (e - 1), num, 0);
        if up == Ordering::Less || (up == Ordering::Equal && m & 1 == 1) {
            z = f64::from_bits(z.to_bits() + 1);
            continue;
        }
        let (ql, el) = if m == 1u128 << 52 {
            (4 * m - 1, e - 2)
        } else {
            (2 * m - 1, e - 1)
        };
        let lo = cmp_scaled(U256::mul_128(ql, ql).mul_u64(den), 2 * el, num, 0);
        if lo == Ordering::Greater || (lo == Ordering::Equal && m & 1 == 1) {
            z = f64::from_bits(z.to_bits() - 1);
            continue;
        }
        let scaled = z * super::pow2(i64::from(emin));
        // Scaling by a power of two is exact only in the normal range.
        if !scaled.is_normal() {
            return None;
        }
        return Some(scaled);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic test inputs without a dependency.
    fn rng(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    #[test]
    fn narrow_sums_carry_past_128_bits() {
        // Aligned values just below 2^64 (exponents 10 apart, full
        // mantissas): Σx² passes 2^128 after a few elements.
        let big = f64::from_bits(0x3FEF_FFFF_FFFF_FFFF);
        let small = big / 1024.0;
        for n in [2usize, 3, 5, 17, 40, 300] {
            let xs: Vec<f64> = (0..n)
                .map(|i| if i % 3 == 0 { small } else { big })
                .collect();
            for den in [(n * n) as u64, (n * (n - 1)) as u64] {
                let v = exact_stdev_u256(&xs, den).expect("fast path");
                assert_eq!(
                    v.to_bits(),
                    super::super::exact_stdev_big(&xs, den).to_bits(),
                    "{n} / {den}"
                );
            }
        }
    }

    #[test]
    fn fast_path_equals_big_integer_path() {
        let mut st = 0x9E37_79B9_7F4A_7C15u64;
        let (mut fast, mut fast_subnormal) = (0, 0);
        // Four kinds of series 20,000 times, and a fifth with subnormals.
        for case in 0..25_000 {
            let n = 2 + (rng(&mut st) % 40) as usize;
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    let r = rng(&mut st);
                    match case % 5 {
                        // recorder-style microsecond timestamps differences
                        0 => (r % 1_500_000) as f64 / 1e6,
                        1 => (r % 7) as f64,
                        2 => f64::from_bits(0x3F00_0000_0000_0000 + (r % (1u64 << 58))),
                        3 => ((r % 1000) as f64 / 1e6) * if r & 1 == 0 { 1.0 } else { 1000.0 },
                        // subnormals (field 0) among the smallest normals
                        _ => f64::from_bits(((r % 40) << 52) | (r >> 12)),
                    }
                })
                .collect();
            for den in [(n * n) as u64, (n * (n - 1)) as u64] {
                if let Some(v) = exact_stdev_u256(&xs, den) {
                    if case % 5 == 4 {
                        fast_subnormal += usize::from(xs.iter().any(|x| !x.is_normal()));
                    } else {
                        fast += 1;
                    }
                    assert_eq!(
                        v.to_bits(),
                        super::super::exact_stdev_big(&xs, den).to_bits(),
                        "{xs:?} / {den}"
                    );
                }
            }
        }
        assert!(fast > 30_000, "fast path taken only {fast} times");
        assert!(
            fast_subnormal > 100,
            "fast path with subnormals taken only {fast_subnormal} times"
        );
    }
}
