//! Live markers, engine-free: sensor sites grouped into spatial chunks whose instance arrays are
//! updated in place as readings arrive (`chunks`), clusters at distance with hysteresis
//! (`cluster`), colour ramps and legends per sensor kind (`ramp`), CCTV camera frusta and
//! projections (`frustum`), their depth maps (`depth_map`) and MJPEG feeds cut into frames
//! (`mjpeg`). The viewer uploads a chunk's array only when it changed, paced over frames (`pace`).

pub mod chunks;
pub mod cluster;
pub mod depth_map;
pub mod frustum;
pub mod history;
pub mod mjpeg;
pub mod pace;
pub mod ramp;

pub use chunks::{Chunk, ChunkKey, MarkerChunks, MarkerInstance};
pub use cluster::{Detail, next_detail};
pub use ramp::{LegendEntry, legend, marker_color};
