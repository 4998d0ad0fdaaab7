//! The runtime tile tree: one node per tile, in a generational arena.

use std::sync::Arc;

use glam::DMat4;
use slotmap::new_key_type;

use crate::tiles::bounds::{Volume, WorldBounds};
use crate::tiles::content::TileContent;
use crate::tiles::implicit::{ImplicitCoord, Subtree};
use crate::tiles::model::{Refine, SubdivisionScheme};

new_key_type! {
    /// A tile of the runtime tree. Keys of evicted tiles never come back to life.
    pub struct TileKey;
}

/// Identifies one request handed to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// What the selection decided about a tile in the last update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TileSelectionState {
    /// Not reached by the traversal.
    #[default]
    Unvisited,
    /// Outside every view (or every viewer request volume).
    Culled,
    /// Drawn.
    Rendered,
    /// Drawn and refined into additive children.
    RenderedAndRefined,
    /// Drawn in place of its REPLACE children, which are not all ready yet.
    RenderedInsteadOfChildren,
    /// Not drawn: its children are drawn instead.
    Refined,
    /// Would be drawn, but an ancestor is drawn instead until all its siblings are ready.
    Kicked,
    /// Wanted, but its content (or subtree) is still loading.
    Loading,
    /// Selected, but it has no content to draw.
    Empty,
}

/// A load with its outcome.
#[derive(Debug, Clone)]
pub(crate) enum Load<T> {
    Unloaded,
    Loading,
    Loaded(T),
    Failed,
}

impl<T> Load<T> {
    pub fn is_settled(&self) -> bool {
        matches!(self, Load::Loaded(_) | Load::Failed)
    }
}

/// What a content slot turned out to hold.
#[derive(Debug, Clone)]
pub(crate) enum Loaded {
    Content {
        content: Arc<TileContent>,
        bytes: usize,
        /// Drawable: the engine has prepared it (see `TilesetOptions::engine_prepares_content`).
        ready: bool,
    },
    /// An external tileset, now the node's child; `bytes` of JSON are accounted here.
    External { bytes: usize },
}

#[derive(Debug, Clone)]
pub(crate) struct ContentSlot {
    pub url: String,
    pub load: Load<Loaded>,
}

/// Children of a node and where they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Children {
    /// From the tileset JSON that holds this node; go only with that tileset.
    Static,
    /// Made from an external tileset or implicit availability; may be pruned when unused.
    Dynamic,
    /// Implicit children not made yet.
    Unexpanded,
}

/// Shared facts of one implicit tree.
#[derive(Debug)]
pub(crate) struct ImplicitContext {
    pub scheme: SubdivisionScheme,
    pub subtree_levels: u32,
    pub available_levels: u32,
    pub subtree_template: String,
    pub content_templates: Vec<String>,
    pub root_volume: Volume,
    pub ecef_from_tile: DMat4,
    pub root_geometric_error: f64,
    pub refine: Refine,
    pub tileset_url: Arc<str>,
    pub up_axis: UpAxis,
}

#[derive(Debug, Clone)]
pub(crate) struct ImplicitNode {
    pub ctx: Arc<ImplicitContext>,
    pub coord: ImplicitCoord,
    /// `Some` on subtree roots only.
    pub subtree: Option<Load<Arc<Subtree>>>,
    /// False on subtree roots until their subtree says which contents exist.
    pub contents_known: bool,
}

/// The up axis of glTF content (3D Tiles 1.0 `asset.gltfUpAxis`; Y unless said otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpAxis {
    X,
    #[default]
    Y,
    Z,
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub parent: Option<TileKey>,
    pub children: Vec<TileKey>,
    pub children_kind: Children,
    pub depth: u32,
    pub ecef_from_tile: DMat4,
    pub bounds: WorldBounds,
    pub viewer_request_volume: Option<WorldBounds>,
    pub geometric_error: f64,
    pub refine: Refine,
    pub contents: Vec<ContentSlot>,
    pub implicit: Option<ImplicitNode>,
    /// URL of the tileset JSON this tile came from.
    pub tileset_url: Arc<str>,
    pub up_axis: UpAxis,
    pub last_used: u64,
    pub state: TileSelectionState,
}

/// Approximate bytes a node costs, counted against the cache budget.
pub(crate) const NODE_BYTES: usize = std::mem::size_of::<Node>() + 96;

impl Node {
    /// True when some content slot is loaded or loading.
    pub fn holds_content(&self) -> bool {
        self.contents.iter().any(|s| matches!(s.load, Load::Loading | Load::Loaded(Loaded::Content { .. })))
    }

    /// True when some content slot is loaded (and so can be drawn).
    pub fn holds_loaded_content(&self) -> bool {
        self.contents.iter().any(|s| matches!(s.load, Load::Loaded(Loaded::Content { .. })))
    }

    /// Some loaded content waits for the engine to prepare it.
    pub fn awaits_engine(&self) -> bool {
        self.contents.iter().any(|s| matches!(s.load, Load::Loaded(Loaded::Content { ready: false, .. })))
    }

    /// External tileset loaded: always refine through this tile.
    pub fn is_external(&self) -> bool {
        self.contents.iter().any(|s| matches!(s.load, Load::Loaded(Loaded::External { .. })))
    }

    /// Has content that could be drawn (known, and not an external tileset).
    pub fn has_drawable_content(&self) -> bool {
        self.contents_known() && !self.contents.is_empty() && !self.is_external()
    }

    /// All contents settled (loaded or failed).
    pub fn contents_settled(&self) -> bool {
        self.contents.iter().all(|s| s.load.is_settled())
    }

    pub fn contents_known(&self) -> bool {
        self.implicit.as_ref().is_none_or(|i| i.contents_known)
    }

    /// Bytes of this node's loaded subtree (subtree roots of implicit tilesets).
    pub fn subtree_bytes(&self) -> usize {
        match self.implicit.as_ref().and_then(|i| i.subtree.as_ref()) {
            Some(Load::Loaded(s)) => s.byte_size(),
            _ => 0,
        }
    }

    /// Bytes of loaded content and external tilesets held by this node.
    pub fn loaded_bytes(&self) -> usize {
        self.contents
            .iter()
            .map(|s| match &s.load {
                Load::Loaded(Loaded::Content { bytes, .. } | Loaded::External { bytes }) => *bytes,
                _ => 0,
            })
            .sum()
    }
}
