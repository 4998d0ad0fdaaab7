//! citytwin: an engine-free 3D Tiles core (`geo`, `tiles`) and, behind the `viewer` (desktop) and `web`
//! (browser) features, the Bevy client.
//!
//! `scenario` holds planning analysis (variants, metrics, sun and shadows); `drill` the simulated hazards of
//! emergency drills (flood, gas plume, evacuation).
//!
//! Everything in this crate compiles with `--no-default-features`: no Bevy, no I/O, no async runtime.
//! All geometry is f64 ECEF; the engine supplies bytes and receives decisions.

pub mod bim;
pub mod drill;
pub mod extrude;
pub mod feature_state;
pub mod geo;
pub mod markers;
pub mod scenario;
pub mod terrain;
pub mod theme;
pub mod tiles;
pub mod wall;

/// Wire formats shared with the data server (the `citytwin-protocol` crate in `src/protocol/`).
pub use citytwin_protocol as protocol;

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "client")]
pub mod platform;
#[cfg(feature = "tiler")]
pub mod tiler;
#[cfg(feature = "client")]
pub mod viewer;
