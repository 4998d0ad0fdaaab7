//! Rings: joining multipolygon member ways end to end, and cleaning rings for extrusion.

use crate::geo::ring_area_m2;

/// Joins way node lists into closed rings (first node = last node). Returns the rings and how
/// many node lists could not be closed.
pub fn assemble(mut parts: Vec<Vec<i64>>) -> (Vec<Vec<i64>>, usize) {
    parts.retain(|p| p.len() >= 2);
    let mut rings = Vec::new();
    let mut unclosed = 0;
    while let Some(mut ring) = parts.pop() {
        while ring.first() != ring.last() {
            let end = *ring.last().expect("non-empty");
            let Some(i) = parts.iter().position(|p| p.first() == Some(&end) || p.last() == Some(&end)) else { break };
            let mut next = parts.swap_remove(i);
            if next.first() != Some(&end) {
                next.reverse();
            }
            ring.extend_from_slice(&next[1..]);
        }
        if ring.first() == ring.last() && ring.len() >= 4 {
            rings.push(ring);
        } else {
            unclosed += 1;
        }
    }
    (rings, unclosed)
}

/// Drops the closing point and repeated points; orients counter-clockwise (`ccw`) or clockwise.
/// Returns `None` for a ring with fewer than three distinct points or no area.
pub fn clean(mut ring: Vec<[f64; 2]>, ccw: bool) -> Option<Vec<[f64; 2]>> {
    ring.dedup_by(|a, b| (a[0] - b[0]).abs() < 1e-6 && (a[1] - b[1]).abs() < 1e-6);
    while ring.len() > 1 && {
        let (f, l) = (ring[0], ring[ring.len() - 1]);
        (f[0] - l[0]).abs() < 1e-6 && (f[1] - l[1]).abs() < 1e-6
    } {
        ring.pop();
    }
    if ring.len() < 3 || ring.iter().any(|p| !p[0].is_finite() || !p[1].is_finite()) {
        return None;
    }
    let area = ring_area_m2(&ring);
    if area.abs() < 1e-3 {
        return None;
    }
    if (area > 0.0) != ccw {
        ring.reverse();
    }
    Some(ring)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_ways_in_any_direction() {
        let (rings, unclosed) = assemble(vec![vec![1, 2, 3], vec![5, 4, 3], vec![5, 6, 1], vec![7, 8]]);
        assert_eq!(unclosed, 1);
        assert_eq!(rings.len(), 1);
        let r = &rings[0];
        assert_eq!(r.first(), r.last());
        assert_eq!(r.len(), 7);
    }

    #[test]
    fn cleaning_orients_and_rejects_degenerates() {
        let cw = vec![[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]];
        let ccw = clean(cw.clone(), true).unwrap();
        assert_eq!(ccw.len(), 4);
        assert!(ring_area_m2(&ccw) > 0.0);
        assert!(ring_area_m2(&clean(cw, false).unwrap()) < 0.0);
        assert!(clean(vec![[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], true).is_none(), "collinear");
        assert!(clean(vec![[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]], true).is_none(), "two distinct points");
        assert!(clean(vec![[0.0, 0.0], [f64::NAN, 0.0], [1.0, 1.0]], true).is_none());
    }
}
