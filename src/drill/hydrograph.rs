//! Piecewise-linear series over drill time (river discharge, breach outflow, rain intensity), integrated
//! exactly so that what a source adds to a simulation is what its series says.

use serde::{Deserialize, Serialize};

/// `(t_s, value)` points in time order; linear between them, zero before the first and after the last.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Series {
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(points: Vec<(f64, f64)>) -> Self {
        Self { points }
    }

    /// Whether times are finite and non-decreasing and values finite and not negative.
    pub fn is_valid(&self) -> bool {
        self.points.iter().all(|(t, v)| t.is_finite() && v.is_finite() && *v >= 0.0)
            && self.points.windows(2).all(|w| w[0].0 <= w[1].0)
    }

    pub fn at(&self, t_s: f64) -> f64 {
        let p = &self.points;
        let Some(i) = p.iter().position(|(t, _)| *t > t_s) else {
            return match p.last() {
                Some((t, v)) if *t == t_s => *v,
                _ => 0.0,
            };
        };
        if i == 0 {
            return 0.0;
        }
        let ((t0, v0), (t1, v1)) = (p[i - 1], p[i]);
        if t1 > t0 { v0 + (v1 - v0) * (t_s - t0) / (t1 - t0) } else { v1 }
    }

    /// The integral from `t0_s` to `t1_s` (exact for the piecewise-linear series).
    pub fn integral(&self, t0_s: f64, t1_s: f64) -> f64 {
        if t1_s <= t0_s {
            return 0.0;
        }
        self.points
            .windows(2)
            .map(|w| {
                let (a, b) = (w[0].0.max(t0_s), w[1].0.min(t1_s));
                if b > a { 0.5 * (self.at_within(w, a) + self.at_within(w, b)) * (b - a) } else { 0.0 }
            })
            .sum()
    }

    fn at_within(&self, w: &[(f64, f64)], t_s: f64) -> f64 {
        let ((t0, v0), (t1, v1)) = (w[0], w[1]);
        v0 + (v1 - v0) * (t_s - t0) / (t1 - t0)
    }

    /// The last time the series is not zero after.
    pub fn end_s(&self) -> f64 {
        self.points.last().map_or(0.0, |p| p.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_integrals_of_a_triangle() {
        let s = Series::new(vec![(10.0, 0.0), (20.0, 100.0), (40.0, 0.0)]);
        assert!(s.is_valid());
        assert_eq!((s.at(0.0), s.at(15.0), s.at(20.0), s.at(30.0), s.at(50.0)), (0.0, 50.0, 100.0, 50.0, 0.0));
        assert_eq!(s.integral(0.0, 100.0), 1500.0);
        assert_eq!(s.integral(15.0, 30.0), 0.5 * (50.0 + 100.0) * 5.0 + 0.5 * (100.0 + 50.0) * 10.0);
        // Summed in pieces, the whole.
        let pieces: f64 = (0..50).map(|i| s.integral(i as f64, i as f64 + 1.0)).sum();
        assert!((pieces - 1500.0).abs() < 1e-9);
        assert!(!Series::new(vec![(1.0, 1.0), (0.0, 1.0)]).is_valid());
        assert!(!Series::new(vec![(0.0, -1.0)]).is_valid());
    }
}
