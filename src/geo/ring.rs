//! Rings: closed horizontal polygons in local metres (`[east_m, north_m]`, not closed, no repeated end).

/// Signed area of a ring in m² (positive when counter-clockwise seen from above).
pub fn ring_area_m2(ring: &[[f64; 2]]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum::<f64>()
        * 0.5
}

/// True when `p` lies inside `ring` (even-odd rule).
pub fn ring_contains(ring: &[[f64; 2]], p: [f64; 2]) -> bool {
    let mut inside = false;
    let n = ring.len();
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + n - 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0] {
            inside = !inside;
        }
    }
    inside
}

/// Axis-aligned bounds of a ring: (min, max); infinite for an empty ring.
pub fn ring_bounds(ring: &[[f64; 2]]) -> ([f64; 2], [f64; 2]) {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for p in ring {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_sign_follows_orientation() {
        let ccw = [[0.0, 0.0], [4.0, 0.0], [4.0, 3.0], [0.0, 3.0]];
        assert_eq!(ring_area_m2(&ccw), 12.0);
        let mut cw = ccw;
        cw.reverse();
        assert_eq!(ring_area_m2(&cw), -12.0);
        // An L: 4×3 minus the 2×2 corner.
        let l = [[0.0, 0.0], [4.0, 0.0], [4.0, 1.0], [2.0, 1.0], [2.0, 3.0], [0.0, 3.0]];
        assert_eq!(ring_area_m2(&l), 8.0);
    }

    #[test]
    fn point_in_ring_and_bounds() {
        let l = [[0.0, 0.0], [4.0, 0.0], [4.0, 1.0], [2.0, 1.0], [2.0, 3.0], [0.0, 3.0]];
        assert!(ring_contains(&l, [1.0, 2.0]));
        assert!(ring_contains(&l, [3.0, 0.5]));
        assert!(!ring_contains(&l, [3.0, 2.0]), "the L's missing corner");
        assert!(!ring_contains(&l, [5.0, 0.5]));
        assert_eq!(ring_bounds(&l), ([0.0, 0.0], [4.0, 3.0]));
    }
}
