//! The spatial tree of a BIM tileset: site → building → storey → space/element, each product once,
//! parents first, with its storey, bounds (the tileset's model frame, z up, metres) and property
//! sets.

use std::collections::BTreeMap;
use std::sync::Arc;

use glam::DVec3;
use serde::Deserialize;
use serde_json::Value;

/// The most products a tree may list.
pub const MAX_TREE_NODES: usize = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("not a citytwin spatial tree: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the spatial tree lists {0} products; at most {MAX_TREE_NODES} are read")]
    TooLarge(usize),
}

#[derive(Debug, Clone, Deserialize)]
struct Raw {
    placement: Option<super::Placement>,
    #[serde(default)]
    storeys: Vec<RawStorey>,
    nodes: Vec<RawNode>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawStorey {
    id: String,
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct RawNode {
    id: String,
    #[serde(rename = "type", default)]
    ifc_type: String,
    #[serde(default)]
    name: String,
    parent: Option<String>,
    storey: Option<String>,
    bounds: Option<[[f64; 3]; 2]>,
    #[serde(default)]
    psets: BTreeMap<String, BTreeMap<String, Value>>,
}

/// One product of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    pub id: String,
    pub ifc_type: String,
    pub name: String,
    /// Index of its parent in [`SpatialTree::nodes`] (always earlier).
    pub parent: Option<usize>,
    /// Index of its storey in [`SpatialTree::storeys`].
    pub storey: Option<usize>,
    /// Model-frame bounds (z up, metres); `None` without geometry.
    pub bounds: Option<(DVec3, DVec3)>,
    pub psets: BTreeMap<String, BTreeMap<String, Value>>,
    pub depth: usize,
}

/// A model's products in tree order, and its storeys lowest first: `(GlobalId, name)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpatialTree {
    /// Where the model stands (the tileset's root transform says the same).
    pub placement: Option<super::Placement>,
    pub nodes: Vec<TreeNode>,
    pub storeys: Vec<(String, String)>,
    index: Arc<GlobalIds>,
}

/// GlobalId → index of a product in tree order.
pub type GlobalIds = std::collections::HashMap<String, usize, foldhash::fast::FixedState>;

impl SpatialTree {
    /// Reads `bim.json`. Nodes whose parent is not listed before them become roots, so any order
    /// or a cycle still gives a tree.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TreeError> {
        let raw: Raw = serde_json::from_slice(bytes)?;
        if raw.nodes.len() > MAX_TREE_NODES {
            return Err(TreeError::TooLarge(raw.nodes.len()));
        }
        let storeys: Vec<(String, String)> = raw.storeys.into_iter().map(|s| (s.id, s.name)).collect();
        let mut tree = Self { storeys, placement: raw.placement, ..Self::default() };
        let mut index = GlobalIds::default();
        for n in raw.nodes {
            if index.contains_key(&n.id) {
                continue;
            }
            let parent = n.parent.as_ref().and_then(|p| index.get(p).copied());
            let depth = parent.map_or(0, |p| tree.nodes[p].depth + 1);
            let storey = n.storey.as_ref().and_then(|s| tree.storeys.iter().position(|(id, _)| id == s));
            let bounds = n.bounds.map(|[a, b]| (DVec3::from(a), DVec3::from(b)));
            index.insert(n.id.clone(), tree.nodes.len());
            tree.nodes.push(TreeNode {
                id: n.id,
                ifc_type: n.ifc_type,
                name: n.name,
                parent,
                storey,
                bounds,
                psets: n.psets,
                depth,
            });
        }
        tree.index = Arc::new(index);
        Ok(tree)
    }

    pub fn get(&self, global_id: &str) -> Option<&TreeNode> {
        self.index.get(global_id).map(|i| &self.nodes[*i])
    }

    pub fn position(&self, global_id: &str) -> Option<usize> {
        self.index.get(global_id).copied()
    }

    /// The GlobalId index, shared.
    pub fn global_ids(&self) -> Arc<GlobalIds> {
        self.index.clone()
    }

    /// Products whose name, IFC type or GlobalId contains `query` (any case), in tree order.
    pub fn search(&self, query: &str) -> Vec<usize> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let hit = |n: &TreeNode| [&n.name, &n.ifc_type, &n.id].iter().any(|s| s.to_lowercase().contains(&q));
        (0..self.nodes.len()).filter(|i| hit(&self.nodes[*i])).collect()
    }

    /// `node` and every product below it.
    pub fn subtree(&self, node: usize) -> Vec<usize> {
        // Tree order puts a node's descendants right after it, deeper than it.
        let depth = self.nodes[node].depth;
        let below = self.nodes[node + 1..].iter().take_while(|n| n.depth > depth).count();
        (node..=node + below).collect()
    }

    /// The chain from a root down to `node`.
    pub fn ancestors(&self, node: usize) -> Vec<usize> {
        let mut chain = vec![node];
        while let Some(p) = self.nodes[*chain.last().expect("non-empty")].parent {
            chain.push(p);
        }
        chain.reverse();
        chain
    }

    /// The value of `property` for a product: `type`, `name`, `storey`, or `set / property`.
    pub fn value(&self, node: &TreeNode, property: &str) -> Value {
        match property {
            "type" => node.ifc_type.clone().into(),
            "name" => node.name.clone().into(),
            "storey" => node.storey.map_or(Value::Null, |s| self.storeys[s].1.clone().into()),
            _ => property
                .split_once(" / ")
                .and_then(|(set, name)| node.psets.get(set)?.get(name).cloned())
                .unwrap_or(Value::Null),
        }
    }

    /// The bounds of every product (model frame); `None` without geometry.
    pub fn bounds(&self) -> Option<(DVec3, DVec3)> {
        union(self.nodes.iter())
    }

    /// The bounds of a product with everything below it (an aggregate's parts carry the geometry).
    pub fn subtree_bounds(&self, node: usize) -> Option<(DVec3, DVec3)> {
        union(self.subtree(node).into_iter().map(|i| &self.nodes[i]))
    }

    /// Every property a product has, as `set / property`, without repeats, sorted.
    pub fn properties(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .nodes
            .iter()
            .flat_map(|n| n.psets.iter().flat_map(|(set, props)| props.keys().map(move |p| format!("{set} / {p}"))))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

fn union<'a>(nodes: impl Iterator<Item = &'a TreeNode>) -> Option<(DVec3, DVec3)> {
    nodes.filter_map(|n| n.bounds).reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A site, a building, two storeys, a wall and a door on the first, a slab on the second, a
    /// space with a chair in it, and a product whose parent is unknown.
    pub fn sample() -> SpatialTree {
        let json = serde_json::json!({
            "storeys": [{"id": "S1", "name": "Level 1"}, {"id": "S2", "name": "Level 2"}],
            "nodes": [
                {"id": "SITE", "type": "IfcSite", "name": "Site", "parent": null},
                {"id": "B", "type": "IfcBuilding", "name": "Duplex", "parent": "SITE"},
                {"id": "S1", "type": "IfcBuildingStorey", "name": "Level 1", "parent": "B", "storey": "S1"},
                {"id": "W", "type": "IfcWall", "name": "Basic Wall", "parent": "S1", "storey": "S1",
                    "bounds": [[0, 0, 0], [10, 0.3, 3]], "psets": {"Pset_WallCommon": {"IsExternal": true, "FireRating": "F90"}}},
                {"id": "D", "type": "IfcDoor", "name": "Door 1", "parent": "S1", "storey": "S1",
                    "bounds": [[2, 0, 0], [3, 0.3, 2.1]], "psets": {"Pset_DoorCommon": {"FireRating": "F30"}}},
                {"id": "SP", "type": "IfcSpace", "name": "Kitchen", "parent": "S1", "storey": "S1", "bounds": [[0, 0, 0], [4, 4, 3]]},
                {"id": "C", "type": "IfcFurnishingElement", "name": "Chair", "parent": "SP", "storey": "S1", "bounds": [[1, 1, 0], [1.5, 1.5, 1]]},
                {"id": "S2", "type": "IfcBuildingStorey", "name": "Level 2", "parent": "B", "storey": "S2"},
                {"id": "SL", "type": "IfcSlab", "name": "Floor", "parent": "S2", "storey": "S2", "bounds": [[0, 0, 3], [10, 8, 3.3]]},
                {"id": "X", "type": "IfcBuildingElementProxy", "name": "Orphan", "parent": "NOPE", "bounds": [[20, 0, 0], [21, 1, 1]]}
            ]
        });
        SpatialTree::from_json(&serde_json::to_vec(&json).unwrap()).unwrap()
    }

    #[test]
    fn the_tree_keeps_order_depth_storeys_and_subtrees() {
        let t = sample();
        assert_eq!(t.nodes.len(), 10);
        let depth: Vec<usize> = t.nodes.iter().map(|n| n.depth).collect();
        assert_eq!(depth, [0, 1, 2, 3, 3, 3, 4, 2, 3, 0]);
        let ids = |v: Vec<usize>| v.into_iter().map(|i| t.nodes[i].id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids(t.subtree(t.position("S1").unwrap())), ["S1", "W", "D", "SP", "C"]);
        assert_eq!(ids(t.ancestors(t.position("C").unwrap())), ["SITE", "B", "S1", "SP", "C"]);
        assert_eq!(t.get("SL").unwrap().storey, Some(1));
        assert_eq!(t.bounds(), Some((DVec3::ZERO, DVec3::new(21.0, 8.0, 3.3))));
        let space = t.position("SP").unwrap();
        assert_eq!(t.subtree_bounds(space), Some((DVec3::ZERO, DVec3::new(4.0, 4.0, 3.0))));
        assert_eq!(t.subtree_bounds(t.position("S1").unwrap()), Some((DVec3::ZERO, DVec3::new(10.0, 4.0, 3.0))));
        assert_eq!(t.get("X").unwrap().parent, None, "an unknown parent makes a root");
        assert_eq!(ids(t.search("fire")), Vec::<&str>::new(), "searches names, types and ids, not values");
        assert_eq!(ids(t.search("door")), ["D"]);
        assert_eq!(ids(t.search("ifcs")), ["SITE", "SP", "SL"]);
        assert_eq!(ids(t.search("  w ")), ["W"]);
        assert_eq!(t.value(t.get("W").unwrap(), "Pset_WallCommon / IsExternal"), Value::Bool(true));
        assert_eq!(t.value(t.get("D").unwrap(), "storey"), "Level 1");
        assert_eq!(t.value(t.get("D").unwrap(), "Pset_WallCommon / IsExternal"), Value::Null);
        assert_eq!(
            t.properties(),
            ["Pset_DoorCommon / FireRating", "Pset_WallCommon / FireRating", "Pset_WallCommon / IsExternal"]
        );
    }

    #[test]
    fn bad_trees_are_errors_not_panics() {
        assert!(SpatialTree::from_json(b"{").is_err());
        assert!(SpatialTree::from_json(b"{\"nodes\": 3}").is_err());
        // A cycle and a duplicate: each product once, the cycle broken.
        let json = br#"{"nodes": [{"id": "A", "parent": "B"}, {"id": "B", "parent": "A"}, {"id": "A"}]}"#;
        let t = SpatialTree::from_json(json).unwrap();
        assert_eq!(t.nodes.len(), 2);
        assert_eq!((t.nodes[0].parent, t.nodes[1].parent), (None, Some(0)));
    }
}
