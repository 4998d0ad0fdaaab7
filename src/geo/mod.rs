//! Geodesy and geometry in f64: the WGS84 ellipsoid, geodetic ⇄ ECEF conversion, east-north-up
//! frames, rings and ray casts.

mod ellipsoid;
mod enu;
mod local;
mod ray;
mod ring;

pub use ellipsoid::{Cartographic, Ellipsoid, WGS84};
pub use enu::{ecef_from_enu, enu_axes};
pub use local::LocalFrame;
pub use ray::{ray_hits_box, ray_triangle};
pub use ring::{ring_area_m2, ring_bounds, ring_contains};
