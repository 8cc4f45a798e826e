//! Two-peak (bimodality) detection for `cognitive.inter_command_consistency`
//! (profile `behave-0.1.4`; docs/DEVIATIONS.md row D-BIMODAL).
//!
//! The registry note defines `bimodal` as "LLM-assisted human (LLM-paced
//! bursts + human-thinking gaps)" and names the intended method: "true
//! bimodal detection (Hartigan dip / two-peak detection)". The reference
//! uses the coefficient of variation only, which a human whose quick
//! follow-ups (~1-2 s) and reading pauses (~10-40 s) form two clear peaks
//! often misses (CV 1.0-1.5 reads `variable`).
//!
//! Method: on the log of the gaps (pauses are multiplicative: a 2 s vs 20 s
//! split is the same shape as 20 s vs 200 s), find the optimal split into
//! two groups (exact 1-D two-means on the sorted values), then call the
//! sample bimodal when the two peaks are cleanly separated and far apart:
//!
//! * Ashman's D = √2·|μ₁−μ₂| / √(σ₁²+σ₂²) ≥ 2 (the standard criterion for a
//!   clean separation of a two-component mixture),
//! * the peaks' geometric means differ by at least a factor of 4 (an LLM or
//!   typing-speed pause versus a reading/thinking pause, not jitter around
//!   one tempo), and
//! * each peak holds at least 2 gaps.
//!
//! Gaps below 50 ms are floored before the log (timer noise, not pauses).
pub use crate::thresholds::{ASHMAN_D_MIN, GAP_FLOOR_S, PEAK_FOLD_MIN, PEAK_MIN_MEMBERS};

/// The optimal two-group split of the log gaps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoPeaks {
    /// Mean log gap of the low and high groups.
    pub low_mean: f64,
    pub high_mean: f64,
    /// Members of the smaller group.
    pub min_members: usize,
    /// Ashman's D (infinite when both groups have zero spread).
    pub ashman_d: f64,
}

/// Splits the log gaps into the two groups with the least within-group sum
/// of squares. `None` with fewer than `2 * PEAK_MIN_MEMBERS` gaps or any
/// non-finite gap.
pub fn two_peaks(gaps: &[f64]) -> Option<TwoPeaks> {
    if gaps.len() < 2 * PEAK_MIN_MEMBERS || gaps.iter().any(|g| !g.is_finite()) {
        return None;
    }
    let mut xs: Vec<f64> = gaps.iter().map(|&g| g.max(GAP_FLOOR_S).ln()).collect();
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let mut best: Option<(f64, usize)> = None;
    for k in PEAK_MIN_MEMBERS..=(n - PEAK_MIN_MEMBERS) {
        let ssw = sum_sq_dev(&xs[..k]) + sum_sq_dev(&xs[k..]);
        let better = match best {
            None => true,
            Some((b, _)) => ssw < b,
        };
        if better {
            best = Some((ssw, k));
        }
    }
    let (_, k) = best?;
    let (lo, hi) = xs.split_at(k);
    let (m1, m2) = (mean(lo), mean(hi));
    let var = sum_sq_dev(lo) / lo.len() as f64 + sum_sq_dev(hi) / hi.len() as f64;
    let ashman_d = if var > 0.0 {
        std::f64::consts::SQRT_2 * (m2 - m1).abs() / var.sqrt()
    } else if m2 > m1 {
        f64::INFINITY
    } else {
        0.0
    };
    Some(TwoPeaks {
        low_mean: m1,
        high_mean: m2,
        min_members: lo.len().min(hi.len()),
        ashman_d,
    })
}

/// True when the gaps form two clearly separated peaks (module docs).
pub fn is_bimodal(gaps: &[f64]) -> bool {
    two_peaks(gaps).is_some_and(|p| {
        p.min_members >= PEAK_MIN_MEMBERS
            && p.ashman_d >= ASHMAN_D_MIN
            && p.high_mean - p.low_mean >= PEAK_FOLD_MIN.ln()
    })
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn sum_sq_dev(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_follow_ups_plus_reading_pauses_are_bimodal() {
        let gaps = [1.2, 1.5, 1.1, 1.8, 25.0, 1.3, 30.0, 1.4, 18.0, 1.6, 1.2];
        assert!(is_bimodal(&gaps));
    }

    #[test]
    fn one_tempo_with_jitter_is_not() {
        // LW-style 2-8 s, FF-style 8-30 s, metronomic
        assert!(!is_bimodal(&[3.1, 4.5, 2.2, 7.9, 5.0, 3.8, 6.1, 2.9]));
        assert!(!is_bimodal(&[8.5, 29.0, 14.0, 22.0, 11.0, 17.5, 27.0, 9.2]));
        assert!(!is_bimodal(&[5.0, 5.0, 5.0, 5.0, 5.0]));
    }

    #[test]
    fn a_single_outlier_is_not_a_peak() {
        assert!(!is_bimodal(&[1.0, 1.2, 1.1, 0.9, 1.3, 60.0]));
    }

    #[test]
    fn too_few_gaps_or_bad_values() {
        assert!(two_peaks(&[1.0, 20.0, 1.0]).is_none());
        assert!(two_peaks(&[1.0, f64::NAN, 1.0, 30.0]).is_none());
        let p = two_peaks(&[1.0, 1.0, 30.0, 30.0]).expect("split");
        assert_eq!(p.min_members, 2);
        assert!(p.ashman_d.is_infinite());
        assert!(is_bimodal(&[1.0, 1.0, 30.0, 30.0]));
    }

    #[test]
    fn zero_gaps_are_floored() {
        let p = two_peaks(&[0.0, 0.0, 0.0, 0.0]).expect("split");
        assert_eq!(p.low_mean, GAP_FLOOR_S.ln());
        assert!(!is_bimodal(&[0.0, 0.0, 0.0, 0.0]));
    }
}
