//! Parametric massings: a footprint extruded floor by floor, stepping in at setbacks, as prisms.

use super::solid::Prism;
use crate::geo::ring_area_m2;
use crate::protocol::catalog::Setback;

/// Bounds on what a catalog may ask for: every massing is built in bounded time.
pub const MAX_FLOORS: u32 = 300;
pub const MAX_FOOTPRINT_VERTICES: usize = 1024;
pub const MAX_SETBACKS: usize = 32;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MassingError {
    #[error("the footprint needs 3 to {MAX_FOOTPRINT_VERTICES} finite points enclosing an area")]
    Footprint,
    #[error("floors must be 1 to {MAX_FLOORS} (got {0})")]
    Floors(u32),
    #[error("the floor height must be between 2 and 20 m (got {0})")]
    FloorHeight(f64),
    #[error("setbacks must rise floor by floor above the ground floor, at most {MAX_SETBACKS}, inset 0–100 m")]
    Setbacks,
    #[error("the setback at floor {0} leaves no floor plate")]
    SetbackTooDeep(u32),
}

/// The massing's prisms, ground tier first. `footprint_m` is in local metres, counter-clockwise.
pub fn massing_prisms(
    footprint_m: &[[f64; 2]],
    floors: u32,
    floor_height_m: f64,
    setbacks: &[Setback],
) -> Result<Vec<Prism>, MassingError> {
    let n = footprint_m.len();
    let finite = footprint_m.iter().flatten().all(|v| v.is_finite());
    if !(3..=MAX_FOOTPRINT_VERTICES).contains(&n) || !finite || ring_area_m2(footprint_m) < 1.0 {
        return Err(MassingError::Footprint);
    }
    if !(1..=MAX_FLOORS).contains(&floors) {
        return Err(MassingError::Floors(floors));
    }
    if !(2.0..=20.0).contains(&floor_height_m) {
        return Err(MassingError::FloorHeight(floor_height_m));
    }
    let rising = setbacks.windows(2).all(|w| w[0].from_floor < w[1].from_floor);
    let sane = setbacks.iter().all(|s| s.from_floor >= 1 && (0.0..=100.0).contains(&s.inset_m));
    if setbacks.len() > MAX_SETBACKS || !rising || !sane {
        return Err(MassingError::Setbacks);
    }
    let mut prisms = Vec::new();
    let mut outline = footprint_m.to_vec();
    let mut from = 0;
    for s in setbacks.iter().filter(|s| s.from_floor < floors) {
        prisms.push(tier(&outline, from, s.from_floor, floor_height_m));
        outline = inset(&outline, s.inset_m).ok_or(MassingError::SetbackTooDeep(s.from_floor))?;
        from = s.from_floor;
    }
    prisms.push(tier(&outline, from, floors, floor_height_m));
    Ok(prisms)
}

fn tier(outline: &[[f64; 2]], from_floor: u32, to_floor: u32, floor_height_m: f64) -> Prism {
    Prism {
        outline: outline.to_vec(),
        base_m: from_floor as f64 * floor_height_m,
        top_m: to_floor as f64 * floor_height_m,
        floors: to_floor - from_floor,
    }
}

/// Moves every edge of a counter-clockwise ring `d` metres inwards (mitred corners). `None` when
/// an edge would turn over or vanish: the plate is too small for the inset.
pub fn inset(ring: &[[f64; 2]], d: f64) -> Option<Vec<[f64; 2]>> {
    let n = ring.len();
    let edge = |i: usize| {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = dx.hypot(dy);
        // Inward (left of a counter-clockwise edge) unit normal.
        (a, [dx / len, dy / len], [-dy / len, dx / len])
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (_, dir0, n0) = edge((i + n - 1) % n);
        let (p1, dir1, n1) = edge(i);
        // Where the two moved edge lines meet: p1 + d·n1 + t·dir1 lies on the previous edge's line.
        let cross = dir0[0] * dir1[1] - dir0[1] * dir1[0];
        let shifted = [p1[0] + d * n1[0], p1[1] + d * n1[1]];
        let corner = if cross.abs() < 1e-9 {
            shifted
        } else {
            let w = [d * (n0[0] - n1[0]), d * (n0[1] - n1[1])];
            let t = (w[0] * dir0[1] - w[1] * dir0[0]) / -cross;
            [shifted[0] + t * dir1[0], shifted[1] + t * dir1[1]]
        };
        out.push(corner);
    }
    // Every edge must keep its direction (no edge turned over) and the ring its orientation.
    let kept = (0..n).all(|i| {
        let (a, b) = (out[i], out[(i + 1) % n]);
        let (_, dir, _) = edge(i);
        (b[0] - a[0]) * dir[0] + (b[1] - a[1]) * dir[1] > 1e-6
    });
    (kept && ring_area_m2(&out) > 1.0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(w: f64, h: f64) -> Vec<[f64; 2]> {
        vec![[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]
    }

    #[test]
    fn insets_a_rectangle_and_an_l_exactly() {
        let r = inset(&rect(40.0, 20.0), 5.0).unwrap();
        assert_eq!(r, vec![[5.0, 5.0], [35.0, 5.0], [35.0, 15.0], [5.0, 15.0]]);
        // An L (4×3 minus the 2×2 corner) in 1 m: the reflex corner moves out diagonally.
        let l = [[0.0, 0.0], [40.0, 0.0], [40.0, 10.0], [20.0, 10.0], [20.0, 30.0], [0.0, 30.0]];
        let r = inset(&l, 2.0).unwrap();
        assert_eq!(r, vec![[2.0, 2.0], [38.0, 2.0], [38.0, 8.0], [18.0, 8.0], [18.0, 28.0], [2.0, 28.0]]);
        assert_eq!(ring_area_m2(&r), 36.0 * 6.0 + 16.0 * 20.0);
    }

    #[test]
    fn an_inset_deeper_than_the_plate_is_refused() {
        assert!(inset(&rect(40.0, 20.0), 9.9).is_some());
        assert!(inset(&rect(40.0, 20.0), 10.0).is_none());
        assert!(inset(&rect(40.0, 20.0), 25.0).is_none(), "edges turned over");
    }

    #[test]
    fn a_tower_on_a_podium() {
        // 30 floors of 3.5 m on 40×30; from floor 5 in by 5 m, from floor 20 in by 3 m more.
        let setbacks = [Setback { from_floor: 5, inset_m: 5.0 }, Setback { from_floor: 20, inset_m: 3.0 }];
        let p = massing_prisms(&rect(40.0, 30.0), 30, 3.5, &setbacks).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].base_m, p[0].top_m, p[0].floors, p[0].area_m2()), (0.0, 17.5, 5, 1200.0));
        assert_eq!((p[1].base_m, p[1].top_m, p[1].floors, p[1].area_m2()), (17.5, 70.0, 15, 600.0));
        assert_eq!((p[2].base_m, p[2].top_m, p[2].floors, p[2].area_m2()), (70.0, 105.0, 10, 24.0 * 14.0));
        // A setback above the top floor changes nothing.
        let p = massing_prisms(&rect(40.0, 30.0), 4, 3.5, &setbacks).unwrap();
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let r = rect(40.0, 30.0);
        assert_eq!(massing_prisms(&r[..2], 3, 3.0, &[]), Err(MassingError::Footprint));
        assert_eq!(
            massing_prisms(&[[0.0, 0.0], [f64::NAN, 0.0], [1.0, 1.0]], 3, 3.0, &[]),
            Err(MassingError::Footprint)
        );
        assert_eq!(massing_prisms(&r, 0, 3.0, &[]), Err(MassingError::Floors(0)));
        assert_eq!(massing_prisms(&r, 1000, 3.0, &[]), Err(MassingError::Floors(1000)));
        assert_eq!(massing_prisms(&r, 3, 0.5, &[]), Err(MassingError::FloorHeight(0.5)));
        let down = [Setback { from_floor: 5, inset_m: 1.0 }, Setback { from_floor: 2, inset_m: 1.0 }];
        assert_eq!(massing_prisms(&r, 10, 3.0, &down), Err(MassingError::Setbacks));
        let deep = [Setback { from_floor: 2, inset_m: 16.0 }];
        assert_eq!(massing_prisms(&r, 10, 3.0, &deep), Err(MassingError::SetbackTooDeep(2)));
        let mut cw = r.clone();
        cw.reverse();
        assert_eq!(massing_prisms(&cw, 3, 3.0, &[]), Err(MassingError::Footprint), "clockwise");
    }
}
