//! First response times: median and 90th percentile, per channel and unified.

use serde::Serialize;

/// Distribution of response delays in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DelayStats {
    /// Contacts that got a response (at any delay).
    pub count: u64,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
}

/// The `q` quantile of sorted values, linearly interpolated between the closest ranks
/// (NumPy's default): the median of an even count is the mean of the two middle values.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// Median and p90 of delays given in milliseconds.
pub fn delay_stats(delays_ms: &[i64]) -> DelayStats {
    let mut secs: Vec<f64> = delays_ms.iter().map(|&d| d as f64 / 1000.0).collect();
    secs.sort_unstable_by(|a, b| a.total_cmp(b));
    DelayStats {
        count: secs.len() as u64,
        median_s: quantile(&secs, 0.5),
        p90_s: quantile(&secs, 0.9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let wa = [50, 85, 85, 331, 1048, 5100, 8340, 93120].map(|s| s * 1000);
        let st = delay_stats(&wa);
        assert_eq!(st.median_s, Some(689.5));
        assert_eq!(st.count, 8);
        // p90: position 0.9 * 7 = 6.3 → 8340 + 0.3 * (93120 - 8340)
        assert!((st.p90_s.unwrap() - 33774.0).abs() < 1e-6);
        assert_eq!(delay_stats(&[]).median_s, None);
        assert_eq!(delay_stats(&[937_000]).p90_s, Some(937.0));
    }
}
