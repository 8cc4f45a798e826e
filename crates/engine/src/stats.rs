//! Python 3.11 `math` / `statistics` helpers, bit for bit (engine.md §2.2).
//!
//! Every helper reproduces CPython's exact algorithm, including where it
//! raises: a raise in the reference makes the whole session yield nothing,
//! so the errors are surfaced as [`StatsError`] and propagated.
//!
//! `pstdev`/`stdev` take no f64 shortcut: the variance is computed exactly
//! over the rationals and its square root correctly rounded, as Python 3.11
//! does, so a CV sitting within an ulp of a threshold still lands on the
//! reference's side. A 256-bit fixed-width path (`stats::wide`) covers the usual
//! inputs; everything else goes through `num-bigint`.

mod wide;

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{ToPrimitive, Zero};

/// A case where the reference's `math`/`statistics` call raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsError {
    /// `math.fsum`: intermediate overflow, or `-inf + inf`.
    FsumOverflow,
    /// `statistics.(p)stdev` over a non-finite value (the 3.11 code then
    /// reads `.numerator` off a float and raises).
    NonFinite,
}

/// Python's `max(a, b)` for floats: returns `a` unless `b > a`.
#[inline]
pub fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Python's `min(a, b)` for floats: returns `a` unless `b < a`.
#[inline]
pub fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// `max(0.0, x)` as the reference writes it (NaN and -0.0 become 0.0).
#[inline]
pub fn clip0(x: f64) -> f64 {
    py_max(0.0, x)
}

/// CPython `math.fsum`: Shewchuk partials, then the half-even correction.
pub fn fsum<I: IntoIterator<Item = f64>>(xs: I) -> Result<f64, StatsError> {
    // The partials live inline up to 32 (as in CPython, which rarely needs
    // more than a few); fsum runs per statistic, and a heap vector per call
    // was a malloc/free pair each time. Beyond 32 they move to the heap.
    let mut it = xs.into_iter();
    let mut inline = [0.0f64; 32];
    let mut n = 0usize;
    let mut sums = Specials::default();
    for xsave in it.by_ref() {
        let (i, x) = msum_add(&mut inline[..n], xsave);
        n = i;
        if x != 0.0 {
            if !x.is_finite() {
                sums.add(xsave)?;
                n = 0;
            } else if n < inline.len() {
                inline[n] = x;
                n += 1;
            } else {
                let mut p = inline.to_vec();
                p.push(x);
                return fsum_heap(p, sums, it);
            }
        }
    }
    fsum_finish(&inline[..n], sums)
}

/// [`fsum`] once the partials outgrew the inline buffer.
fn fsum_heap(
    mut p: Vec<f64>,
    mut sums: Specials,
    rest: impl Iterator<Item = f64>,
) -> Result<f64, StatsError> {
    for xsave in rest {
        let (i, x) = msum_add(&mut p, xsave);
        p.truncate(i);
        if x != 0.0 {
            if !x.is_finite() {
                sums.add(xsave)?;
                p.clear();
            } else {
                p.push(x);
            }
        }
    }
    fsum_finish(&p, sums)
}

/// Non-finite inputs seen by [`fsum`].
#[derive(Default)]
struct Specials {
    special_sum: f64,
    inf_sum: f64,
}

impl Specials {
    /// The running sum became non-finite on input `xsave`: a finite input
    /// overflowed (CPython raises), else an inf/NaN input is summed aside.
    fn add(&mut self, xsave: f64) -> Result<(), StatsError> {
        if xsave.is_finite() {
            return Err(StatsError::FsumOverflow);
        }
        if xsave.is_infinite() {
            self.inf_sum += xsave;
        }
        self.special_sum += xsave;
        Ok(())
    }
}

/// One msum step: folds `x` into the partials `p`, compacting the nonzero
/// low parts to its front. Returns how many partials remain and the high
/// part still to append.
#[inline]
fn msum_add(p: &mut [f64], mut x: f64) -> (usize, f64) {
    let mut i = 0;
    for j in 0..p.len() {
        let mut y = p[j];
        if x.abs() < y.abs() {
            std::mem::swap(&mut x, &mut y);
        }
        let hi = x + y;
        let yr = hi - x;
        let lo = y - yr;
        if lo != 0.0 {
            p[i] = lo;
            i += 1;
        }
        x = hi;
    }
    (i, x)
}

/// The rounding of CPython's fsum over the final partials.
fn fsum_finish(p: &[f64], sums: Specials) -> Result<f64, StatsError> {
    let Specials {
        special_sum,
        inf_sum,
    } = sums;
    if special_sum != 0.0 {
        if inf_sum.is_nan() {
            return Err(StatsError::FsumOverflow);
        }
        return Ok(special_sum);
    }
    let mut hi = 0.0f64;
    let mut n = p.len();
    if n > 0 {
        n -= 1;
        hi = p[n];
        let mut lo = 0.0f64;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
    }
    Ok(hi)
}

/// `statistics.fmean` (unweighted): `fsum(xs) / n`. Callers guarantee n ≥ 1.
pub fn fmean(xs: &[f64]) -> Result<f64, StatsError> {
    Ok(fsum_slice(xs)? / xs.len() as f64)
}

/// [`fsum`] of a slice. CPython's fsum is the exact sum correctly rounded
/// (half-even), so when the values are normal and their exponents close
/// (the engine's time series: the usual case) the exact sum is taken as
/// one integer and rounded once; otherwise the partials run. The result is
/// the same either way, bit for bit; the integer sum is a few instructions
/// per value where the partials loop was a few per value per partial.
pub fn fsum_slice(xs: &[f64]) -> Result<f64, StatsError> {
    match fsum_fixed_point(xs) {
        Some(s) => Ok(s),
        None => fsum(xs.iter().copied()),
    }
}

/// The exact sum as an `i128` of units `2^emin`, rounded to f64; `None`
/// outside the bounds that make this exact and equal to CPython's result:
/// a non-finite or subnormal input (fsum's special cases, and a scaling
/// that could round), exponents more than 50 apart (the aligned values
/// stay below 2^103, so 2^20 of them sum below 2^123), or magnitudes
/// whose partial sums could overflow (fsum raises there).
fn fsum_fixed_point(xs: &[f64]) -> Option<f64> {
    if xs.len() >= 1 << 20 {
        return None;
    }
    let Some(Spread { emin, emax, .. }) = spread(xs) else {
        // All zeros (or none): CPython's empty partials give +0.0.
        return Some(0.0);
    };
    // emin ≥ 53: a nonzero integer sum is at least 2^(emin − 1075) ≥
    // 2^−1022, so scaling the rounded integer is exact (never subnormal).
    if emin < 53 || emax > 1900 || emax - emin > 50 {
        return None;
    }
    let mut acc = 0i128;
    if emax - emin <= 10 {
        // The usual spread: each aligned value fits an i64 (below 2^63),
        // so no 128-bit shift per value.
        for &x in xs {
            let bits = x.to_bits();
            if bits << 1 == 0 {
                continue;
            }
            // Normal (emin ≥ 53): the implicit bit needs no test.
            let e = ((bits >> 52) & 0x7FF) as u32;
            let v = (((bits & ((1u64 << 52) - 1)) | (1u64 << 52)) << (e - emin)) as i64;
            acc += i128::from(if bits >> 63 == 1 { -v } else { v });
        }
    } else {
        for &x in xs {
            let bits = x.to_bits();
            if bits << 1 == 0 {
                continue;
            }
            let (m, e) = unit(bits);
            let v = i128::from(m) << (e - emin);
            acc += if bits >> 63 == 1 { -v } else { v };
        }
    }
    // `as f64` rounds to nearest, ties to even.
    Some(acc as f64 * pow2(i64::from(emin) - 1075))
}

/// `statistics.median`: sort ascending, middle element or mean of the two.
/// Callers guarantee n ≥ 1 and no NaN (all engine series are clipped).
pub fn median(xs: &[f64]) -> f64 {
    // Most series are short (a burst, a command's IATs): their keys go on
    // the stack, not into a fresh vector (a malloc/free pair per call was
    // 6 % of the pipeline's allocations).
    const ON_STACK: usize = 64;
    if xs.len() <= ON_STACK {
        let mut a = [0i64; ON_STACK];
        let keys = &mut a[..xs.len()];
        for (k, &x) in keys.iter_mut().zip(xs) {
            *k = total_order_key(x);
        }
        return median_of_keys(keys);
    }
    let mut keys: Vec<i64> = xs.iter().map(|&x| total_order_key(x)).collect();
    median_of_keys(&mut keys)
}

/// `x`'s place in [`f64::total_cmp`]'s order, as an integer: the selection
/// then compares integers instead of calling `total_cmp` per comparison
/// (−30 % of the medians' instructions). An involution on the bits, so
/// [`from_total_order_key`] is the same map.
#[inline]
fn total_order_key(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    b ^ ((((b >> 63) as u64) >> 1) as i64)
}

#[inline]
fn from_total_order_key(k: i64) -> f64 {
    f64::from_bits((k ^ ((((k >> 63) as u64) >> 1) as i64)) as u64)
}

/// The median of values given by their [`total_order_key`]s (reordered).
/// Selection instead of a full sort: `select_nth_unstable` in the total
/// order puts exactly the sorted `v[n/2]` at `n/2` and the rest of the
/// sorted lower half before it (its maximum is the sorted `v[n/2-1]`), so
/// the result is the same f64 as sorting. Empty input: NaN (callers never
/// pass it).
fn median_of_keys(keys: &mut [i64]) -> f64 {
    let n = keys.len();
    if n == 0 {
        return f64::NAN;
    }
    let (lower, &mut mid, _) = keys.select_nth_unstable(n / 2);
    let mid = from_total_order_key(mid);
    if n % 2 == 1 {
        mid
    } else {
        let below = lower
            .iter()
            .copied()
            .max()
            .map_or(mid, from_total_order_key);
        (below + mid) / 2.0
    }
}

/// `statistics.median` of integers: exact, `(a + b) / 2` true division.
pub fn median_u64(xs: &[u64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        // Python int true division is correctly rounded; the operands are
        // small counts, so f64 arithmetic is exact here.
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    }
}

/// `statistics.pstdev` (population), exact and correctly rounded.
pub fn pstdev(xs: &[f64]) -> Result<f64, StatsError> {
    let n = xs.len() as u64;
    exact_stdev(xs, n.saturating_mul(n))
}

/// `statistics.stdev` (sample), exact and correctly rounded. n ≥ 2.
pub fn stdev(xs: &[f64]) -> Result<f64, StatsError> {
    let n = xs.len() as u64;
    exact_stdev(xs, n.saturating_mul(n.saturating_sub(1)))
}

/// Coefficient of variation with the population stdev: `pstdev / fmean`.
pub fn cv_pop(xs: &[f64], mean: f64) -> Result<f64, StatsError> {
    Ok(pstdev(xs)? / mean)
}

/// Coefficient of variation with the sample stdev: `stdev / fmean`.
pub fn cv_samp(xs: &[f64], mean: f64) -> Result<f64, StatsError> {
    Ok(stdev(xs)? / mean)
}

/// `fmean(xs)`, then, when `wanted(mean)`, the coefficient of variation
/// `stdev(xs) / mean` (`pstdev` when `population`), with the errors of
/// those calls made in that order: the engine's per-burst and per-command
/// statistics. One exact pass gives both the sum the mean rounds and the
/// sums of the variance, where `fmean` then `cv_pop` would scan the series'
/// exponents and sum it twice. The engine calls it with n ≥ 2; its test
/// holds it equal to those two calls at every length.
pub fn mean_and_cv(
    xs: &[f64],
    population: bool,
    wanted: impl FnOnce(f64) -> bool,
) -> Result<(f64, Option<f64>), StatsError> {
    let n = xs.len() as u64;
    let den = if population {
        n.saturating_mul(n)
    } else {
        n.saturating_mul(n.saturating_sub(1))
    };
    if let (Some((sx, sxx, emin)), true) = (wide::narrow_sums(xs), den > 0) {
        // fsum's result: the exact integer sum rounded once (see
        // `fsum_fixed_point`; the same bounds hold here).
        let mean = sx as f64 * pow2(i64::from(emin)) / xs.len() as f64;
        if !wanted(mean) {
            return Ok((mean, None));
        }
        // All zeros: Σv = Σv² = 0, and the root is 0.
        let sd = wide::stdev_of_sums(wide::U256::from_u128(sx), sxx, n, den, emin)
            .unwrap_or_else(|| exact_stdev_big(xs, den));
        return Ok((mean, Some(sd / mean)));
    }
    let mean = fmean(xs)?;
    if !wanted(mean) {
        return Ok((mean, None));
    }
    let sd = if population { pstdev(xs)? } else { stdev(xs)? };
    Ok((mean, Some(sd / mean)))
}

/// `|x|` from its bits as an integer mantissa and a unit exponent:
/// `|x| = m · 2^(e − 1075)` with `m < 2^53`, subnormals at `e = 1` (so
/// [`decompose`]'s exponent is `e − 1075`). The exact sums align values
/// to the smallest `e` of a series.
#[inline]
fn unit(bits: u64) -> (u64, u32) {
    // Branch-free: this runs per value in the exact sums' loops.
    let field = ((bits >> 52) & 0x7FF) as u32;
    let frac = bits & ((1u64 << 52) - 1);
    (frac | (u64::from(field != 0) << 52), field.max(1))
}

/// The range of the biased exponent fields over a series' nonzero values,
/// and whether one of them is negative. The field is [`unit`]'s exponent
/// but for subnormals (0, not 1), so the scan needs no correction per
/// value; `emin == 0` tells that a subnormal is there. A non-finite value
/// has 2047.
struct Spread {
    emin: u32,
    emax: u32,
    negative: bool,
}

/// `None` when every value is ±0, or there are none.
fn spread(xs: &[f64]) -> Option<Spread> {
    let (mut emin, mut emax, mut negative) = (u32::MAX, 0u32, false);
    for &x in xs {
        let bits = x.to_bits();
        if bits << 1 == 0 {
            continue;
        }
        let e = ((bits >> 52) & 0x7FF) as u32;
        emin = emin.min(e);
        emax = emax.max(e);
        negative |= bits >> 63 == 1;
    }
    (emin != u32::MAX).then_some(Spread {
        emin,
        emax,
        negative,
    })
}

/// Splits a finite f64 into `(mantissa, exponent)` with `x = m · 2^e`.
pub(crate) fn decompose(x: f64) -> (i64, i32) {
    let bits = x.to_bits();
    let sign = if bits >> 63 == 1 { -1i64 } else { 1 };
    let exp_bits = ((bits >> 52) & 0x7FF) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i64;
    if exp_bits == 0 {
        (sign * frac, -1074)
    } else {
        (sign * (frac | (1i64 << 52)), exp_bits - 1075)
    }
}

/// sqrt of `(n·Σx² − (Σx)²) / den` over the exact rationals, correctly
/// rounded (as 3.11's `_ss` + `_float_sqrt_of_frac`).
fn exact_stdev(xs: &[f64], den: u64) -> Result<f64, StatsError> {
    if xs.iter().any(|x| !x.is_finite()) {
        return Err(StatsError::NonFinite);
    }
    if let Some(v) = wide::exact_stdev_u256(xs, den) {
        return Ok(v);
    }
    Ok(exact_stdev_big(xs, den))
}

/// The general big-integer path of [`exact_stdev`] (finite inputs).
fn exact_stdev_big(xs: &[f64], den: u64) -> f64 {
    let parts: Vec<(i64, i32)> = xs
        .iter()
        .filter(|x| **x != 0.0)
        .map(|&x| decompose(x))
        .collect();
    if parts.is_empty() {
        return 0.0;
    }
    let emin = parts.iter().map(|p| p.1).min().unwrap_or(0);
    let n = BigInt::from(xs.len() as u64);
    let mut sx = BigInt::zero();
    let mut sxx = BigInt::zero();
    for &(m, e) in &parts {
        let v = BigInt::from(m) << ((e - emin) as usize);
        sxx += &v * &v;
        sx += v;
    }
    let num = &n * &sxx - &sx * &sx;
    let num = match num.into_parts() {
        (Sign::Minus, _) => return f64::NAN,
        (_, mag) => mag,
    };
    if num.is_zero() {
        return 0.0;
    }
    sqrt_frac_rounded(&num, &BigUint::from(den), emin)
}

/// Correctly rounded `sqrt(num / den) · 2^scale` (num, den > 0).
fn sqrt_frac_rounded(num: &BigUint, den: &BigUint, scale: i32) -> f64 {
    // Enough bits that the round-to-odd integer root carries ≥ 110
    // significant bits: then one final rounding is correct.
    let nb = num.bits() as i64;
    let db = den.bits() as i64;
    let k = ((230 - (nb - db)) / 2 + 1).max(0);
    let shifted = num << (2 * k as usize);
    let q = &shifted / den;
    let mut a = q.sqrt();
    if &a * &a * den != shifted {
        a |= BigUint::from(1u8);
    }
    // Result = a · 2^(scale − k), with a's lowest bit sticky.
    round_to_f64(&a, i64::from(scale) - k)
}

/// Rounds `a · 2^s` (a > 0, lowest bit sticky) half-even to f64.
fn round_to_f64(a: &BigUint, s: i64) -> f64 {
    let bits = a.bits() as i64;
    let e_top = bits - 1 + s; // exponent of the leading bit
    let ulp_exp = (e_top - 52).max(-1074);
    let shift = ulp_exp - s;
    let mant: u64 = if shift <= 0 {
        return a.to_f64().unwrap_or(f64::INFINITY) * pow2(s);
    } else {
        let sh = shift as usize;
        let m = a >> sh;
        let rem = a - (&m << sh);
        let half = BigUint::from(1u8) << (sh - 1);
        let mut m = m.to_u64().unwrap_or(u64::MAX);
        if rem > half || (rem == half && m & 1 == 1) {
            m += 1;
        }
        m
    };
    if ulp_exp > 971 {
        return f64::INFINITY;
    }
    mant as f64 * pow2(ulp_exp)
}

/// Exact power of two as f64 (subnormal included); 0 / inf out of range.
fn pow2(e: i64) -> f64 {
    if e > 1023 {
        f64::INFINITY
    } else if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else if e >= -1074 {
        f64::from_bits(1u64 << (e + 1074))
    } else {
        0.0
    }
}

/// Outcome of Python 3.11 `statistics.correlation`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Correlation {
    Value(f64),
    /// `sqrt(sxx·syy) == 0`: the reference raises StatisticsError.
    Undefined,
}

/// Python 3.11 `statistics.correlation` (n ≥ 2, equal lengths).
pub fn correlation(x: &[f64], y: &[f64]) -> Result<Correlation, StatsError> {
    let n = x.len() as f64;
    let xbar = fsum_slice(x)? / n;
    let ybar = fsum_slice(y)? / n;
    let sxy = fsum(x.iter().zip(y).map(|(&xi, &yi)| (xi - xbar) * (yi - ybar)))?;
    let sxx = fsum(x.iter().map(|&xi| {
        let d = xi - xbar;
        d * d
    }))?;
    let syy = fsum(y.iter().map(|&yi| {
        let d = yi - ybar;
        d * d
    }))?;
    let den = (sxx * syy).sqrt();
    if den == 0.0 {
        return Ok(Correlation::Undefined);
    }
    Ok(Correlation::Value(sxy / den))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-point fsum equals the partials' fsum bit for bit, on
    /// series like the engine's and on sums built to land on or beside a
    /// rounding tie (where half-even decides), with cancellation and signs.
    #[test]
    fn fixed_point_fsum_equals_partials() {
        let mut next = crate::xorshift(0xD1B5_4A32_D192_ED03u64);
        let mut fixed = 0usize;
        for case in 0..70_000usize {
            let n = 1 + (next() % 40) as usize;
            let xs: Vec<f64> = (0..n)
                .map(|i| {
                    let r = next();
                    match case % 7 {
                        0 => (r % 3_000_000) as f64 / 1e6,
                        1 => f64::from_bits(0x3C00_0000_0000_0000 + (r % (1u64 << 61))),
                        2 => {
                            // 1.0, then values at and around half an ulp of it.
                            let half = f64::EPSILON / 2.0;
                            [1.0, half, -half, half / 1024.0, -half / 4096.0, 3.0][i % 6]
                                * if r & 1 == 0 {
                                    1.0
                                } else {
                                    2f64.powi((r % 9) as i32)
                                }
                        }
                        3 => {
                            let v = (r % 1000) as f64 * 0.001;
                            if r & 2 == 0 {
                                -v
                            } else {
                                v
                            }
                        }
                        4 => [0.0, -0.0, 1e-300, 1e300, 2.5][(r % 5) as usize],
                        // 53-bit integers, a few exponents apart: their sums
                        // pass 53 bits, so ties to even come up often.
                        5 => {
                            let m = ((1u64 << 52) | (r >> 12)) as f64;
                            let v = m * f64::from((r % 4) as u32 + 1);
                            if r & (1 << 5) == 0 {
                                -v
                            } else {
                                v
                            }
                        }
                        _ => f64::from_bits(r),
                    }
                })
                .collect();
            let want = fsum(xs.iter().copied());
            if let Some(v) = fsum_fixed_point(&xs) {
                fixed += 1;
                assert_eq!(Ok(v.to_bits()), want.map(f64::to_bits), "{xs:?}");
            }
            assert_eq!(
                fsum_slice(&xs).map(f64::to_bits),
                want.map(f64::to_bits),
                "{xs:?}"
            );
        }
        assert!(fixed > 30_000, "fixed-point path taken only {fixed} times");
        // Ties: 3·(2^52 + 1) lies halfway between two doubles and rounds
        // to the even one (up); so do 3a ± 4; 4a is a double.
        let a = (1u64 << 52) as f64 + 1.0;
        for xs in [
            vec![a, a, a],
            vec![a, a, a, 4.0],
            vec![a, a, a, -4.0],
            vec![a, a, a, a],
            vec![-a, -a, -a],
            vec![a, -a, a, a, a],
            vec![0.1; 10],
        ] {
            let v = fsum_fixed_point(&xs).map(f64::to_bits);
            assert!(v.is_some(), "{xs:?}");
            assert_eq!(v, fsum(xs.iter().copied()).ok().map(f64::to_bits), "{xs:?}");
        }
        assert_eq!(
            fsum_fixed_point(&[a, a, a]),
            Some(3.0 * (1u64 << 52) as f64 + 4.0)
        );
    }

    /// The fused mean and CV equal `fmean` then `cv_pop`/`cv_samp`, bit
    /// for bit and error for error, on engine-like series and on the edge
    /// cases (zeros, negatives, NaN, infinities, wide spreads, n < 2).
    #[test]
    fn mean_and_cv_equals_fmean_then_cv() {
        let mut next = crate::xorshift(0x2545_F491_4F6C_DD1Du64);
        let mut fused = 0usize;
        for case in 0..40_000usize {
            let n = (next() % 30) as usize;
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    let r = next();
                    match (case % 5, r % 50) {
                        (4, 0) => f64::NAN,
                        (4, 1) => f64::INFINITY,
                        (4, 2) => -0.5,
                        (4, 3) => 1e-310,
                        (4, 4) => 1e200,
                        (_, 5) => 0.0,
                        (0 | 4, _) => (r % 2_000_000) as f64 / 1e6,
                        (1, _) => (r % 5) as f64 * 0.125,
                        (2, _) => f64::from_bits(0x3F50_0000_0000_0000 + (r % (1u64 << 55))),
                        _ => (r % 1000) as f64 / 1e3 * 2f64.powi((r % 16) as i32),
                    }
                })
                .collect();
            for population in [true, false] {
                for strict in [true, false] {
                    let wanted = |m: f64| {
                        if strict {
                            m > 0.0
                        } else {
                            m > 0.0 || m.is_nan()
                        }
                    };
                    let want = fmean(&xs).and_then(|m| {
                        if !wanted(m) {
                            return Ok((m.to_bits(), None));
                        }
                        let cv = if population {
                            cv_pop(&xs, m)
                        } else {
                            cv_samp(&xs, m)
                        };
                        cv.map(|c| (m.to_bits(), Some(c.to_bits())))
                    });
                    let got = mean_and_cv(&xs, population, wanted)
                        .map(|(m, c)| (m.to_bits(), c.map(f64::to_bits)));
                    assert_eq!(got, want, "{xs:?} population={population}");
                    fused += usize::from(wide::narrow_sums(&xs).is_some());
                }
            }
        }
        assert!(fused > 50_000, "fused path taken only {fused} times");
    }

    /// The integer keys order values as `total_cmp` does and map back to
    /// the same bits (NaNs of both signs, zeros, infinities, subnormals).
    #[test]
    fn total_order_keys_follow_total_cmp() {
        let mut next = crate::xorshift(0x5DEE_CE66_D1CE_4E5Bu64);
        let mut vals = vec![
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
            f64::MIN_POSITIVE / 8.0,
            -f64::MIN_POSITIVE / 8.0,
            f64::MAX,
            f64::MIN,
            1.5,
            -1.5,
        ];
        vals.extend((0..2000).map(|_| f64::from_bits(next())));
        for &a in &vals {
            assert_eq!(
                from_total_order_key(total_order_key(a)).to_bits(),
                a.to_bits()
            );
            for &b in vals.iter().take(64) {
                assert_eq!(
                    total_order_key(a).cmp(&total_order_key(b)),
                    a.total_cmp(&b),
                    "{a} {b}"
                );
            }
        }
    }

    /// The selection median is the sort median, bit for bit (signed
    /// zeros, duplicates, odd and even lengths).
    #[test]
    fn median_select_equals_sort() {
        let mut next = crate::xorshift(0x9E37_79B9_7F4A_7C15u64);
        for n in 1..80usize {
            for _ in 0..40 {
                let v: Vec<f64> = (0..n)
                    .map(|_| match next() % 6 {
                        0 => 0.0,
                        1 => -0.0,
                        2 => (next() % 5) as f64 * 0.25,
                        _ => (next() % 1_000_000) as f64 / 997.0,
                    })
                    .collect();
                let mut sorted = v.clone();
                sorted.sort_by(|a, b| a.total_cmp(b));
                let want = if n % 2 == 1 {
                    sorted[n / 2]
                } else {
                    (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
                };
                assert_eq!(median(&v).to_bits(), want.to_bits(), "{v:?}");
            }
        }
    }

    // Expected values printed by CPython 3.11.7 (`repr(...)`).
    #[test]
    fn fsum_matches_cpython() {
        assert_eq!(fsum([1e-16, 1.0, 1e16]), Ok(1.0000000000000002e16));
        assert_eq!(fsum([0.1; 10]), Ok(1.0));
        assert_eq!(fsum([1e308, 1e308, -1e308]), Err(StatsError::FsumOverflow));
        assert_eq!(fsum([f64::INFINITY, 1.0]), Ok(f64::INFINITY));
        assert_eq!(
            fsum([f64::INFINITY, f64::NEG_INFINITY]),
            Err(StatsError::FsumOverflow)
        );
        assert_eq!(fsum([]), Ok(0.0));
        // 61 non-overlapping partials: more than the 32 held inline.
        let xs: Vec<f64> = (-30..=30).map(|j| 2f64.powi(30 * j)).collect();
        assert_eq!(fsum(xs.iter().copied()), Ok(8.452712506042846e+270));
        // Spilled, cancelled to nothing, then used again.
        let back = xs.iter().copied().chain(xs.iter().map(|x| -x)).chain([1.5]);
        assert_eq!(fsum(back), Ok(1.5));
        let top = xs.iter().copied().chain([1e-300, -2f64.powi(900)]);
        assert_eq!(fsum(top), Ok(7.872201973612277e+261));
    }

    #[test]
    fn stdev_matches_cpython() {
        #[allow(clippy::excessive_precision)]
        let cases: [(&[f64], f64, f64); 10] = [
            (
                &[1.5, 2.5, 2.5, 2.75, 3.25, 4.75],
                0.986893273527251,
                1.0810874155219827,
            ),
            (&[0.1, 0.2, 0.3], 0.0816496580927726, 0.09999999999999999),
            (
                &[1e-300, 3e-300, 2e-300],
                8.164965809277262e-301,
                1.0000000000000002e-300,
            ),
            (
                &[1e300, 1.0000000000001e300, 1.0000000000002e300],
                8.165120642207336e286,
                1.0000189630837032e287,
            ),
            (&[5e-324, 1e-323, 0.0], 5e-324, 5e-324),
            (
                &[1e16, 1.0, -1e16, 3.0],
                7071067811865475.0,
                8164965809277260.0,
            ),
            (
                &[0.123456789, 0.123456789, 0.12345679],
                4.714045205429051e-10,
                5.773502688857341e-10,
            ),
            (&[1e-10, 1e10, 0.5], 4714045207.792466, 5773502691.75192),
            (
                &[0.03, 0.05, 0.02, 0.031, 0.4, 1.2, 0.07],
                0.40466731107548237,
                0.4370906520336921,
            ),
            (&[7.0, 7.0, 7.0], 0.0, 0.0),
        ];
        for (xs, p, s) in cases {
            assert_eq!(pstdev(xs), Ok(p), "pstdev {xs:?}");
            assert_eq!(stdev(xs), Ok(s), "stdev {xs:?}");
        }
        assert_eq!(stdev(&[1.0, f64::INFINITY]), Err(StatsError::NonFinite));
    }

    #[test]
    fn correlation_and_median_match_cpython() {
        let x = [10.0, 200.0, 30.0, 4000.0, 5.0, 60.0];
        let y = [1.0, 2.5, 0.3, 8.0, 0.1, 1.5];
        assert_eq!(
            correlation(&x, &y),
            Ok(Correlation::Value(0.9667035994483747))
        );
        assert_eq!(
            correlation(&[1.0, 1.0], &[2.0, 3.0]),
            Ok(Correlation::Undefined)
        );
        assert_eq!(median(&[3.0, 1.0, 2.0, 4.0]), 2.5);
        assert_eq!(median_u64(&[1, 2, 3, 4]), 2.5);
        assert_eq!(clip0(f64::NAN), 0.0);
        assert_eq!(clip0(-0.0).to_bits(), 0.0f64.to_bits());
    }
}
