//! citytwin-protocol: wire formats shared by the data server and the viewer: the layer catalog,
//! sensor kinds, the live stream's messages, the road graph, emergency drills and the video wall's frame lock. Engine-free serde types only;
//! its own crate so that the server needs no other part of citytwin.

pub mod catalog;
pub mod drill;
pub mod live;
pub mod live_binary;
pub mod roads;
pub mod sensors;
pub mod wall;
