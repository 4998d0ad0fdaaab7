//! Bounding volumes: the tileset's box/region/sphere in tile space, and their ECEF culling shapes.

use glam::{DMat3, DMat4, DVec3};

use super::model::BoundingVolume;
use crate::geo::{Cartographic, WGS84, enu_axes};

/// A bounding volume as written in the tileset, in its tile's coordinate system
/// (regions are always EPSG:4979 radians and metres, unaffected by transforms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Volume {
    Box { center: DVec3, half_axes: DMat3 },
    Region(Region),
    Sphere { center: DVec3, radius: f64 },
}

/// A geographic region: west, south, east, north in radians; heights in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub west_rad: f64,
    pub south_rad: f64,
    pub east_rad: f64,
    pub north_rad: f64,
    pub min_height_m: f64,
    pub max_height_m: f64,
}

/// A world-space (ECEF) culling shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WorldBounds {
    Box {
        center: DVec3,
        half_axes: DMat3,
    },
    Sphere {
        center: DVec3,
        radius: f64,
    },
    /// No usable volume: never culled, distance zero.
    Everywhere,
}

/// Which side of a plane a volume lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaneSide {
    Inside,
    Outside,
    Intersecting,
}

/// A plane `normal · p + d = 0`; the positive side is inside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plane {
    pub normal: DVec3,
    pub d: f64,
}

impl Plane {
    pub fn from_point_normal(point: DVec3, normal: DVec3) -> Self {
        let normal = normal.normalize();
        Self { normal, d: -normal.dot(point) }
    }

    pub fn signed_distance(&self, p: DVec3) -> f64 {
        self.normal.dot(p) + self.d
    }
}

impl Volume {
    /// Reads the first valid shape (box, then region, then sphere) of a tileset volume.
    pub fn from_json(v: &BoundingVolume) -> Option<Volume> {
        let finite = |a: &Vec<f64>, n| a.len() == n && a.iter().all(|x| x.is_finite());
        if let Some(b) = v.obb.as_ref().filter(|b| finite(b, 12)) {
            return Some(Volume::Box {
                center: DVec3::new(b[0], b[1], b[2]),
                half_axes: DMat3::from_cols(
                    DVec3::new(b[3], b[4], b[5]),
                    DVec3::new(b[6], b[7], b[8]),
                    DVec3::new(b[9], b[10], b[11]),
                ),
            });
        }
        if let Some(r) = v.region.as_ref().filter(|r| finite(r, 6)) {
            return Some(Volume::Region(Region {
                west_rad: r[0],
                south_rad: r[1],
                east_rad: r[2],
                north_rad: r[3],
                min_height_m: r[4],
                max_height_m: r[5],
            }));
        }
        if let Some(s) = v.sphere.as_ref().filter(|s| finite(s, 4)) {
            return Some(Volume::Sphere { center: DVec3::new(s[0], s[1], s[2]), radius: s[3].abs() });
        }
        None
    }

    /// The ECEF culling shape of this volume under the tile's composed transform.
    pub fn to_world(&self, ecef_from_tile: &DMat4) -> WorldBounds {
        match *self {
            Volume::Box { center, half_axes } => WorldBounds::Box {
                center: ecef_from_tile.transform_point3(center),
                half_axes: DMat3::from_mat4(*ecef_from_tile) * half_axes,
            },
            Volume::Sphere { center, radius } => {
                let m = DMat3::from_mat4(*ecef_from_tile);
                let scale = m.x_axis.length().max(m.y_axis.length()).max(m.z_axis.length());
                WorldBounds::Sphere { center: ecef_from_tile.transform_point3(center), radius: radius * scale }
            }
            Volume::Region(r) => r.to_world_box(),
        }
    }
}

impl Region {
    fn east_unwrapped(&self) -> f64 {
        if self.east_rad < self.west_rad { self.east_rad + std::f64::consts::TAU } else { self.east_rad }
    }

    /// A conservative ECEF box: the region is sampled on a grid at both heights, the samples are
    /// boxed in the east-north-up frame at the region's centre, and the box is padded by the
    /// ellipsoid's bulge between samples.
    pub fn to_world_box(&self) -> WorldBounds {
        const N: usize = 8;
        let east = self.east_unwrapped();
        let mid = Cartographic {
            lon_rad: 0.5 * (self.west_rad + east),
            lat_rad: 0.5 * (self.south_rad + self.north_rad),
            height_m: 0.0,
        };
        let origin = WGS84.ecef_from_cartographic(mid);
        let (e, n, u) = enu_axes(origin);
        let (mut lo, mut hi) = (DVec3::splat(f64::INFINITY), DVec3::splat(f64::NEG_INFINITY));
        for i in 0..=N {
            let lon = self.west_rad + (east - self.west_rad) * i as f64 / N as f64;
            for j in 0..=N {
                let lat = self.south_rad + (self.north_rad - self.south_rad) * j as f64 / N as f64;
                for h in [self.min_height_m, self.max_height_m] {
                    let p =
                        WGS84.ecef_from_cartographic(Cartographic { lon_rad: lon, lat_rad: lat, height_m: h }) - origin;
                    let local = DVec3::new(p.dot(e), p.dot(n), p.dot(u));
                    lo = lo.min(local);
                    hi = hi.max(local);
                }
            }
        }
        let step = ((east - self.west_rad).abs().max((self.north_rad - self.south_rad).abs())) / N as f64;
        let pad = (WGS84.a_m + self.max_height_m.max(0.0)) * (1.0 - (0.5 * step).cos());
        lo -= DVec3::splat(pad);
        hi += DVec3::splat(pad);
        let c = 0.5 * (lo + hi);
        let h = 0.5 * (hi - lo);
        WorldBounds::Box {
            center: origin + e * c.x + n * c.y + u * c.z,
            half_axes: DMat3::from_cols(e * h.x, n * h.y, u * h.z),
        }
    }

    /// The quadrant or octant `(dx, dy, dz)` of this region, `dz` splitting heights.
    pub fn child(&self, dx: u64, dy: u64, dz: Option<u64>, divisions: f64) -> Region {
        let east = self.east_unwrapped();
        let dlon = (east - self.west_rad) / divisions;
        let dlat = (self.north_rad - self.south_rad) / divisions;
        let (mut min_h, mut max_h) = (self.min_height_m, self.max_height_m);
        if let Some(dz) = dz {
            let dh = (max_h - min_h) / divisions;
            min_h += dh * dz as f64;
            max_h = min_h + dh;
        }
        let west = self.west_rad + dlon * dx as f64;
        let south = self.south_rad + dlat * dy as f64;
        let wrap = |a: f64| if a > std::f64::consts::PI { a - std::f64::consts::TAU } else { a };
        Region {
            west_rad: wrap(west),
            south_rad: south,
            east_rad: wrap(west + dlon),
            north_rad: south + dlat,
            min_height_m: min_h,
            max_height_m: max_h,
        }
    }
}

impl WorldBounds {
    pub fn center(&self) -> DVec3 {
        match *self {
            WorldBounds::Box { center, .. } | WorldBounds::Sphere { center, .. } => center,
            WorldBounds::Everywhere => DVec3::ZERO,
        }
    }

    /// Radius of a sphere enclosing the volume.
    pub fn radius(&self) -> f64 {
        match *self {
            WorldBounds::Box { half_axes, .. } => {
                (half_axes.x_axis + half_axes.y_axis + half_axes.z_axis).length().max(
                    (half_axes.x_axis.length_squared()
                        + half_axes.y_axis.length_squared()
                        + half_axes.z_axis.length_squared())
                    .sqrt(),
                )
            }
            WorldBounds::Sphere { radius, .. } => radius,
            WorldBounds::Everywhere => f64::INFINITY,
        }
    }

    /// Distance in metres from a point to the volume's surface (zero inside).
    pub fn distance_to(&self, p: DVec3) -> f64 {
        match *self {
            WorldBounds::Sphere { center, radius } => ((p - center).length() - radius).max(0.0),
            WorldBounds::Box { center, half_axes } => {
                let d = p - center;
                let mut sq = 0.0;
                for axis in [half_axes.x_axis, half_axes.y_axis, half_axes.z_axis] {
                    let len = axis.length();
                    if len > 0.0 {
                        let excess = (d.dot(axis) / len).abs() - len;
                        if excess > 0.0 {
                            sq += excess * excess;
                        }
                    }
                }
                // Degenerate (flat) boxes: the component along a zero axis is the residual.
                let flat = half_axes.x_axis.length() == 0.0
                    || half_axes.y_axis.length() == 0.0
                    || half_axes.z_axis.length() == 0.0;
                if flat {
                    let mut residual = d;
                    for axis in [half_axes.x_axis, half_axes.y_axis, half_axes.z_axis] {
                        let l2 = axis.length_squared();
                        if l2 > 0.0 {
                            residual -= axis * (d.dot(axis) / l2);
                        }
                    }
                    sq += residual.length_squared();
                }
                sq.sqrt()
            }
            WorldBounds::Everywhere => 0.0,
        }
    }

    pub fn contains(&self, p: DVec3) -> bool {
        self.distance_to(p) == 0.0
    }

    pub fn plane_side(&self, plane: &Plane) -> PlaneSide {
        let (s, r) = match *self {
            WorldBounds::Sphere { center, radius } => (plane.signed_distance(center), radius),
            WorldBounds::Box { center, half_axes } => {
                let n = plane.normal;
                let r = n.dot(half_axes.x_axis).abs() + n.dot(half_axes.y_axis).abs() + n.dot(half_axes.z_axis).abs();
                (plane.signed_distance(center), r)
            }
            WorldBounds::Everywhere => return PlaneSide::Intersecting,
        };
        if s < -r {
            PlaneSide::Outside
        } else if s > r {
            PlaneSide::Inside
        } else {
            PlaneSide::Intersecting
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_box() -> Volume {
        Volume::Box { center: DVec3::ZERO, half_axes: DMat3::IDENTITY }
    }

    #[test]
    fn box_distance_and_planes() {
        let b = unit_box().to_world(&DMat4::IDENTITY);
        assert_eq!(b.distance_to(DVec3::new(0.5, 0.5, 0.5)), 0.0);
        assert!((b.distance_to(DVec3::new(4.0, 0.0, 0.0)) - 3.0).abs() < 1e-12);
        assert!((b.distance_to(DVec3::new(4.0, 5.0, 1.0)) - 5.0).abs() < 1e-12);
        let plane = Plane::from_point_normal(DVec3::new(2.0, 0.0, 0.0), DVec3::X);
        assert_eq!(b.plane_side(&plane), PlaneSide::Outside);
        let plane = Plane::from_point_normal(DVec3::new(0.5, 0.0, 0.0), DVec3::X);
        assert_eq!(b.plane_side(&plane), PlaneSide::Intersecting);
        let plane = Plane::from_point_normal(DVec3::new(-2.0, 0.0, 0.0), DVec3::X);
        assert_eq!(b.plane_side(&plane), PlaneSide::Inside);
    }

    #[test]
    fn flat_box_distance_counts_the_flat_axis() {
        let flat =
            WorldBounds::Box { center: DVec3::ZERO, half_axes: DMat3::from_cols(DVec3::X, DVec3::Y, DVec3::ZERO) };
        assert!((flat.distance_to(DVec3::new(0.0, 0.0, 3.0)) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn transforms_move_and_scale_boxes_and_spheres() {
        let m = DMat4::from_scale_rotation_translation(
            DVec3::new(2.0, 2.0, 4.0),
            glam::DQuat::IDENTITY,
            DVec3::new(100.0, 0.0, 0.0),
        );
        match unit_box().to_world(&m) {
            WorldBounds::Box { center, half_axes } => {
                assert_eq!(center, DVec3::new(100.0, 0.0, 0.0));
                assert_eq!(half_axes.z_axis, DVec3::new(0.0, 0.0, 4.0));
            }
            other => panic!("{other:?}"),
        }
        let s = Volume::Sphere { center: DVec3::X, radius: 1.0 }.to_world(&m);
        assert_eq!(s, WorldBounds::Sphere { center: DVec3::new(102.0, 0.0, 0.0), radius: 4.0 });
    }

    #[test]
    fn region_box_contains_every_point_of_the_region() {
        let regions = [
            // The Cesium sample city, metres across.
            Region {
                west_rad: -1.3197209591796106,
                south_rad: 0.6988424218,
                east_rad: -1.3196390408203893,
                north_rad: 0.6989055782,
                min_height_m: 0.0,
                max_height_m: 67.0,
            },
            // A continent-sized region across the antimeridian.
            Region {
                west_rad: 2.8,
                south_rad: -0.6,
                east_rad: -2.9,
                north_rad: 0.2,
                min_height_m: -100.0,
                max_height_m: 9000.0,
            },
            // The whole globe.
            Region {
                west_rad: -std::f64::consts::PI,
                south_rad: -std::f64::consts::FRAC_PI_2,
                east_rad: std::f64::consts::PI,
                north_rad: std::f64::consts::FRAC_PI_2,
                min_height_m: 0.0,
                max_height_m: 0.0,
            },
        ];
        for r in regions {
            let b = r.to_world_box();
            let east = r.east_unwrapped();
            for i in 0..=37 {
                for j in 0..=37 {
                    for h in [r.min_height_m, 0.5 * (r.min_height_m + r.max_height_m), r.max_height_m] {
                        let c = Cartographic {
                            lon_rad: r.west_rad + (east - r.west_rad) * i as f64 / 37.0,
                            lat_rad: r.south_rad + (r.north_rad - r.south_rad) * j as f64 / 37.0,
                            height_m: h,
                        };
                        let p = WGS84.ecef_from_cartographic(c);
                        assert!(b.distance_to(p) < 1e-6, "{r:?} misses {c:?} by {}", b.distance_to(p));
                    }
                }
            }
        }
    }

    #[test]
    fn region_children_tile_the_parent() {
        let r = Region {
            west_rad: 3.0,
            south_rad: 0.0,
            east_rad: -3.0,
            north_rad: 0.2,
            min_height_m: 0.0,
            max_height_m: 10.0,
        };
        let c = r.child(1, 1, Some(1), 2.0);
        assert!((c.north_rad - 0.2).abs() < 1e-12 && (c.min_height_m - 5.0).abs() < 1e-12);
        assert!((c.east_rad - -3.0).abs() < 1e-12, "{c:?}");
        let w = r.child(0, 0, None, 2.0);
        assert!((w.west_rad - 3.0).abs() < 1e-12);
    }
}
