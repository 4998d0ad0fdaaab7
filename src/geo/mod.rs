//! Geodesy in f64: the WGS84 ellipsoid, geodetic ⇄ ECEF conversion and east-north-up frames.

mod ellipsoid;
mod enu;

pub use ellipsoid::{Cartographic, Ellipsoid, WGS84};
pub use enu::{ecef_from_enu, enu_axes};
