//! Emergency drills, engine-free: the hazards simulated on a shared drill clock (a flood over the ground, a gas
//! plume from a leak, an evacuation on the road graph) and the rasters they share. Every model is deterministic,
//! so every client and every wall screen shows the same state at the same drill time.

pub mod evacuation;
pub mod flood;
pub mod hazard;
pub mod hydrograph;
pub mod plume;
pub mod raster;
pub mod report;
pub mod session;
pub mod world;
