//! The cache: evicts what this frame did not use, least recently used first and deeper first,
//! until the budget holds: tile content, and the nodes of external tilesets and implicit
//! subtrees once nothing below them is loaded (the anchors keep those forever).

use std::cmp::Reverse;

use super::Tileset;
use super::build::remove_descendants;
use super::node::{Children, Load, Loaded, TileKey};

/// Something the cache may free: a tile's content, or the dynamic children of a tile (with the
/// external tileset or subtree they came from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Candidate {
    /// Eviction order: the longest unused first, deeper first, content before structure.
    pub rank: (Reverse<u64>, Reverse<u32>, Evict),
    pub key: TileKey,
}

impl Tileset {
    /// What this frame did not use, in eviction order: content of tiles unused this frame and not
    /// drawn by the engine (`set_drawn`); and the dynamic children of any tile none of whose
    /// children was used this frame, ranked by the children's last use. Descendants sort first
    /// (older or deeper), and content before structure at equal rank, so a prune finds the content
    /// below it already gone. Ages count frames, so tilesets updated together rank against each
    /// other (see `update_shared`).
    pub(super) fn eviction_candidates(&self) -> Vec<Candidate> {
        let frame = self.frame;
        let mut candidates = Vec::new();
        let mut push = |used: u64, depth: u32, key, what| {
            candidates.push(Candidate { rank: (Reverse(frame - used), Reverse(depth), what), key })
        };
        for (key, n) in &self.nodes {
            if n.last_used < frame && n.loaded_bytes() > 0 && !self.drawn.contains(&key) {
                push(n.last_used, n.depth, key, Evict::Content);
            }
            if n.children_kind == Children::Dynamic || subtree_loaded(n) {
                let children_used = n.children.iter().map(|c| self.nodes[*c].last_used).max().unwrap_or(0);
                if children_used < frame {
                    push(children_used, n.depth, key, Evict::Children);
                }
            }
        }
        candidates.sort_unstable();
        candidates
    }

    /// Frees one candidate if it still can be; returns the tile whose content was unloaded.
    pub(super) fn evict_candidate(&mut self, c: Candidate) -> Option<TileKey> {
        if !self.nodes.contains_key(c.key) {
            return None;
        }
        match c.rank.2 {
            Evict::Content => self.unload_content(c.key).then_some(c.key),
            Evict::Children => {
                if !self.subtree_holds_content(c.key) {
                    self.prune(c.key);
                }
                None
            }
        }
    }

    /// Drops the loaded content of a tile (not its external tileset); true if there was any.
    fn unload_content(&mut self, key: TileKey) -> bool {
        let node = &mut self.nodes[key];
        let mut freed = 0;
        for slot in &mut node.contents {
            if let Load::Loaded(Loaded::Content { bytes, .. }) = slot.load {
                freed += bytes;
                slot.load = Load::Unloaded;
            }
        }
        self.payload_bytes -= freed;
        freed > 0
    }

    /// True when anything below `key` has content loaded or loading.
    fn subtree_holds_content(&self, key: TileKey) -> bool {
        let mut stack = self.nodes[key].children.clone();
        while let Some(k) = stack.pop() {
            let n = &self.nodes[k];
            if n.holds_content() {
                return true;
            }
            stack.extend_from_slice(&n.children);
        }
        false
    }

    /// Removes the dynamic descendants of `key` and what they were made from (its external
    /// tileset or its subtree), so that revisiting loads them again.
    fn prune(&mut self, key: TileKey) {
        let node = &self.nodes[key];
        if node.children_kind != Children::Dynamic && !subtree_loaded(node) {
            return;
        }
        // Subtree bytes of subtree roots among the descendants go with them.
        let mut stack = node.children.clone();
        let mut freed = 0;
        while let Some(k) = stack.pop() {
            let n = &self.nodes[k];
            freed += n.loaded_bytes() + n.subtree_bytes();
            stack.extend_from_slice(&n.children);
        }
        if self.nodes[key].children_kind == Children::Dynamic {
            remove_descendants(&mut self.nodes, key);
        }
        let node = &mut self.nodes[key];
        for slot in &mut node.contents {
            if let Load::Loaded(Loaded::External { bytes }) = slot.load {
                freed += bytes;
                slot.load = Load::Unloaded;
            }
        }
        node.children_kind = if node.implicit.is_some() { Children::Unexpanded } else { Children::Static };
        freed += node.subtree_bytes();
        if let Some(s) = node.implicit.as_mut().and_then(|i| i.subtree.as_mut())
            && matches!(s, Load::Loaded(_))
        {
            *s = Load::Unloaded;
        }
        self.payload_bytes -= freed;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Evict {
    Content,
    Children,
}

fn subtree_loaded(n: &super::node::Node) -> bool {
    matches!(n.implicit.as_ref().and_then(|i| i.subtree.as_ref()), Some(Load::Loaded(_)))
}
