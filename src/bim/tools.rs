//! The component tools' state and the feature state it gives each component: the selection
//! (highlighted, with everything below it), hidden products (with their subtrees), an isolated set
//! (the rest hidden, or see-through in x-ray), a storey cut (the storeys above hidden), IfcSpace
//! volumes shown or not, and a colouring by IFC type or any property.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::tree::GlobalIds;
use super::{MAX_SECTIONS, SectionPlane, SpatialTree};
use crate::feature_state::FeatureState;
use crate::theme::Theme;

/// How components are coloured.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Colouring {
    /// Their materials' colours.
    #[default]
    Materials,
    /// By a property of the tree: `type`, `name`, `storey` or `set / property`.
    By(String),
}

/// What the user did with the components of one model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComponentTools {
    pub selected: Option<String>,
    /// Hidden products (GlobalIds), each with everything below it.
    pub hidden: BTreeSet<String>,
    /// When set, only these products (with everything below them) are drawn solid.
    pub isolated: Option<BTreeSet<String>>,
    /// The rest see-through rather than hidden: around the isolated set, or else around the
    /// selection.
    pub xray: bool,
    /// Draw this storey (an index of the tree's storeys) and those below; hide those above.
    pub storey: Option<usize>,
    /// Draw IfcSpace volumes (off by default: they wrap the rooms).
    pub spaces: bool,
    pub colouring: Colouring,
    /// Section planes (at most [`MAX_SECTIONS`]), in the model frame.
    pub sections: Vec<SectionPlane>,
}

/// Each component's state, by GlobalId (through an index shared with the tree, so that building
/// the states for 30,000 components allocates no key); components not listed keep their own look.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComponentStates {
    index: Arc<GlobalIds>,
    states: Vec<FeatureState>,
}

impl ComponentStates {
    /// One component's state, the rest their own look (e.g. the city building a model replaces).
    pub fn one(global_id: &str, state: FeatureState) -> Self {
        Self { index: Arc::new([(global_id.to_owned(), 0)].into_iter().collect()), states: vec![state] }
    }

    /// Components and their states (later entries of one id win).
    pub fn from_states(states: impl IntoIterator<Item = (String, FeatureState)>) -> Self {
        let (mut index, mut list) = (GlobalIds::default(), Vec::new());
        for (id, state) in states {
            let next = list.len();
            let i = *index.entry(id).or_insert(next);
            if i == next {
                list.push(state);
            } else {
                list[i] = state;
            }
        }
        Self { index: Arc::new(index), states: list }
    }

    pub fn get(&self, global_id: &str) -> FeatureState {
        self.index.get(global_id).map_or_else(FeatureState::default, |i| self.states[*i])
    }

    /// The components whose state is not the default one.
    pub fn changed(&self) -> impl Iterator<Item = (&str, FeatureState)> {
        self.index.iter().map(|(id, i)| (id.as_str(), self.states[*i])).filter(|(_, s)| *s != FeatureState::default())
    }
}

impl ComponentTools {
    /// Tools from a spec such as `select=GLOBALID,xray,storey=Level 1,colour=type,spaces`
    /// (`isolate=ID`, `hide=ID` too): for the command line (`--bim`) and the page (`?bim=`).
    pub fn from_spec(spec: &str, tree: &SpatialTree) -> Result<Self, String> {
        let mut tools = Self::default();
        let known = |id: &str| tree.get(id).map(|_| id.to_owned()).ok_or_else(|| format!("no product {id}"));
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item.split_once('=').map_or((item, ""), |(k, v)| (k.trim(), v.trim()));
            match key {
                "select" => tools.selected = Some(known(value)?),
                "isolate" => {
                    tools.isolated.get_or_insert_default().insert(known(value)?);
                }
                "hide" => {
                    tools.hidden.insert(known(value)?);
                }
                "xray" => tools.xray = true,
                "spaces" => tools.spaces = true,
                "storey" => {
                    let s = tree.storeys.iter().position(|(id, name)| name == value || id == value);
                    tools.storey = Some(s.ok_or_else(|| format!("no storey {value}"))?);
                }
                "colour" => tools.colouring = Colouring::By(value.to_owned()),
                "section" => {
                    // `section=z:3.5`, `section=-x:4`.
                    let plane = value
                        .split_once(':')
                        .and_then(|(axis, at)| SectionPlane::axis(axis.trim(), at.trim().parse().ok()?))
                        .ok_or_else(|| format!("section={value}: expected AXIS:METRES, e.g. z:3.5 or -x:4"))?;
                    if tools.sections.len() == MAX_SECTIONS {
                        return Err(format!("at most {MAX_SECTIONS} section planes"));
                    }
                    tools.sections.push(plane);
                }
                _ => {
                    return Err(format!(
                        "unknown BIM tool {key:?} (select, isolate, hide, xray, spaces, storey, colour, section)"
                    ));
                }
            }
        }
        Ok(tools)
    }

    /// The colouring's theme over the values of the components (those with geometry).
    pub fn theme(&self, tree: &SpatialTree) -> Option<Theme> {
        self.themed_values(tree).0
    }

    /// The colouring's theme and each product's value of its property (null without geometry).
    fn themed_values(&self, tree: &SpatialTree) -> (Option<Theme>, Vec<serde_json::Value>) {
        let Colouring::By(property) = &self.colouring else { return (None, Vec::new()) };
        let values: Vec<serde_json::Value> = tree
            .nodes
            .iter()
            .map(|n| if n.bounds.is_some() { tree.value(n, property) } else { serde_json::Value::Null })
            .collect();
        (Theme::fit(property, &values), values)
    }

    /// The feature state of every product of `tree` under these tools, and the colouring's theme
    /// (for a legend).
    pub fn states(&self, tree: &SpatialTree) -> (ComponentStates, Option<Theme>) {
        let n = tree.nodes.len();
        // Flags that pass down the tree: parents come first.
        let (mut hidden, mut isolated, mut selected) = (vec![false; n], vec![false; n], vec![false; n]);
        for (i, node) in tree.nodes.iter().enumerate() {
            let from_parent = |v: &[bool]| node.parent.is_some_and(|p| v[p]);
            hidden[i] = self.hidden.contains(&node.id) || from_parent(&hidden);
            isolated[i] = self.isolated.as_ref().is_some_and(|s| s.contains(&node.id)) || from_parent(&isolated);
            selected[i] = self.selected.as_deref() == Some(node.id.as_str()) || from_parent(&selected);
        }
        let (theme, values) = self.themed_values(tree);
        let any_selected = selected.iter().any(|s| *s);
        // A theme's colour per value, worked out once per distinct value.
        let mut colours: HashMap<&serde_json::Value, Option<[u8; 3]>> = HashMap::new();
        let mut states = vec![FeatureState::default(); n];
        for (i, node) in tree.nodes.iter().enumerate().filter(|(_, n)| n.bounds.is_some()) {
            let mut state = FeatureState::default();
            let above_cut = self.storey.is_some_and(|s| node.storey.is_some_and(|own| own > s));
            let space_off = node.ifc_type == "IfcSpace" && !self.spaces;
            let outside = match &self.isolated {
                Some(_) => !isolated[i],
                None => self.xray && any_selected && !selected[i],
            };
            if hidden[i] || above_cut || space_off || (outside && !self.xray) {
                state = FeatureState::hidden();
            } else if outside {
                state.flags |= FeatureState::XRAY;
            }
            if let Some(theme) = &theme
                && let Some(rgb) = *colours.entry(&values[i]).or_insert_with(|| {
                    let v = &values[i];
                    (!v.is_null()).then(|| theme.colour(v))
                })
            {
                state.rgb = rgb;
                state.flags |= FeatureState::COLOURED;
            }
            if selected[i] {
                state.flags |= FeatureState::HIGHLIGHTED;
            }
            states[i] = state;
        }
        (ComponentStates { index: tree.global_ids(), states }, theme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bim::tree::tests::sample;

    fn flags(states: &ComponentStates, id: &str) -> u8 {
        states.get(id).flags
    }

    const H: u8 = FeatureState::HIDDEN;
    const X: u8 = FeatureState::XRAY;
    const L: u8 = FeatureState::HIGHLIGHTED;

    #[test]
    fn spaces_are_off_until_asked_for_and_hiding_takes_the_subtree() {
        let t = sample();
        let (s, _) = ComponentTools::default().states(&t);
        assert_eq!(flags(&s, "SP"), H, "the space is off by default");
        assert_eq!((flags(&s, "W"), flags(&s, "C")), (0, 0));
        let tools = ComponentTools { spaces: true, hidden: BTreeSet::from(["S1".into()]), ..Default::default() };
        let (s, _) = tools.states(&t);
        for id in ["W", "D", "SP", "C"] {
            assert_eq!(flags(&s, id), H, "{id} is on the hidden storey");
        }
        assert_eq!((flags(&s, "SL"), flags(&s, "X")), (0, 0));
    }

    #[test]
    fn isolate_and_xray_keep_the_chosen_solid() {
        let t = sample();
        let isolated = Some(BTreeSet::from(["D".to_owned(), "SP".to_owned()]));
        let tools = ComponentTools { isolated: isolated.clone(), spaces: true, ..Default::default() };
        let (s, _) = tools.states(&t);
        assert_eq!([flags(&s, "D"), flags(&s, "SP"), flags(&s, "C")], [0, 0, 0], "the chair is in the space");
        assert_eq!([flags(&s, "W"), flags(&s, "SL"), flags(&s, "X")], [H, H, H]);
        // X-ray: the rest see-through instead.
        let (s, _) = ComponentTools { xray: true, ..tools }.states(&t);
        assert_eq!([flags(&s, "W"), flags(&s, "SL"), flags(&s, "D")], [X, X, 0]);
        // X-ray around a selection: the selection highlighted, the rest see-through.
        let tools = ComponentTools { xray: true, selected: Some("W".into()), ..Default::default() };
        let (s, _) = tools.states(&t);
        assert_eq!([flags(&s, "W"), flags(&s, "D"), flags(&s, "SL")], [L, X, X]);
        assert_eq!(flags(&s, "SP"), H, "spaces stay off");
    }

    #[test]
    fn tools_come_from_a_spec() {
        let t = sample();
        let tools = ComponentTools::from_spec("select=W, xray,storey=Level 1,colour=type,spaces", &t).unwrap();
        let want = ComponentTools {
            selected: Some("W".into()),
            xray: true,
            storey: Some(0),
            colouring: Colouring::By("type".into()),
            spaces: true,
            ..Default::default()
        };
        assert_eq!(tools, want);
        assert_eq!(ComponentTools::from_spec("isolate=D,hide=C", &t).unwrap().hidden, BTreeSet::from(["C".into()]));
        assert!(ComponentTools::from_spec("select=NOPE", &t).unwrap_err().contains("no product NOPE"));
        assert!(ComponentTools::from_spec("storey=Level 9", &t).is_err());
        assert!(ComponentTools::from_spec("explode", &t).unwrap_err().contains("unknown BIM tool"));
        let cut = ComponentTools::from_spec("section=z:3.5,section=-x:4", &t).unwrap();
        assert_eq!(cut.sections, vec![SectionPlane::axis("z", 3.5).unwrap(), SectionPlane::axis("-x", 4.0).unwrap()]);
        assert!(ComponentTools::from_spec("section=z", &t).is_err());
    }

    #[test]
    fn the_storey_cut_hides_what_is_above() {
        let t = sample();
        let (s, _) = ComponentTools { storey: Some(0), ..Default::default() }.states(&t);
        assert_eq!([flags(&s, "W"), flags(&s, "SL"), flags(&s, "X")], [0, H, 0], "the orphan has no storey");
        let (s, _) = ComponentTools { storey: Some(1), ..Default::default() }.states(&t);
        assert_eq!(flags(&s, "SL"), 0);
    }

    #[test]
    fn colouring_by_type_or_property_gives_each_value_its_colour() {
        let t = sample();
        let (s, theme) = ComponentTools { colouring: Colouring::By("type".into()), ..Default::default() }.states(&t);
        let theme = theme.unwrap();
        assert_eq!(s.get("W").rgb, theme.colour(&"IfcWall".into()));
        assert_ne!(s.get("W").rgb, s.get("D").rgb);
        assert!(s.get("W").flags & FeatureState::COLOURED != 0);
        let by = Colouring::By("Pset_WallCommon / FireRating".into());
        let (s, _) = ComponentTools { colouring: by, ..Default::default() }.states(&t);
        assert!(s.get("W").flags & FeatureState::COLOURED != 0);
        assert_eq!(s.get("D").flags & FeatureState::COLOURED, 0, "no value: its own colour");
    }
}
