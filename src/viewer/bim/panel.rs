//! The BIM panel: the object tree (site / building / storey / type / element) with search by
//! name, type or GlobalId, synced with picking both ways; the selected component's properties by
//! property set; and the tools: fly to, isolate, hide, show all, x-ray, spaces, storey cut,
//! colour by IFC type or any property (with a legend), section planes (axis-aligned or from the
//! picked face, moved by a slider), and measuring between two picks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use glam::DVec3;

use super::{BimModel, Measure, fly_to_component};
use crate::bim::{Colouring, ComponentTools, MAX_SECTIONS, SectionPlane, SpatialTree};
use crate::viewer::GeoCamera;
use crate::viewer::hud::HudSettings;
use crate::viewer::layers::Layer;

/// Search hits listed at most.
const MAX_HITS: usize = 200;
/// Tree levels drawn at most (deeper products are reached by search).
const MAX_DEPTH: usize = 24;

/// What the panel keeps between frames: the search, and each tree's children lists.
#[derive(Default)]
pub struct PanelState {
    search: String,
    children: Option<(usize, Vec<Vec<usize>>)>,
    /// The selection the tree last opened its way to.
    revealed: Option<String>,
}

pub fn bim_ui(
    mut contexts: EguiContexts,
    hud: Res<HudSettings>,
    mut models: Query<(&Layer, &mut BimModel)>,
    mut camera: ResMut<GeoCamera>,
    mut measure: ResMut<Measure>,
    mut state: Local<PanelState>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !hud.visible {
        return Ok(());
    }
    let Some((layer, mut model)) = models.iter_mut().next() else { return Ok(()) };
    egui::Window::new(format!("BIM · {}", layer.name)).default_pos([10.0, 420.0]).default_open(false).show(ctx, |ui| {
        let Some(tree) = model.tree.clone() else {
            ui.label(model.error.as_deref().unwrap_or("reading the spatial tree…"));
            return;
        };
        ui.label(format!(
            "{} products · {} storeys{}",
            tree.nodes.len(),
            tree.storeys.len(),
            if model.shown { "" } else { " · not on screen" }
        ));
        let mut chosen: Option<String> = None;
        ui.add(egui::TextEdit::singleline(&mut state.search).hint_text("search name, IFC type or GlobalId"));
        egui::ScrollArea::vertical().max_height(220.0).id_salt("bim-tree").show(ui, |ui| {
            if state.search.trim().is_empty() {
                tree_ui(ui, &tree, &mut state, model.tools.selected.as_deref(), &mut chosen);
            } else {
                let hits = tree.search(&state.search);
                ui.label(format!("{} found", hits.len()));
                for i in hits.into_iter().take(MAX_HITS) {
                    let n = &tree.nodes[i];
                    let selected = model.tools.selected.as_deref() == Some(n.id.as_str());
                    if ui
                        .selectable_label(selected, format!("{} · {}", n.ifc_type, n.name))
                        .on_hover_text(&n.id)
                        .clicked()
                    {
                        chosen = Some(n.id.clone());
                    }
                }
            }
        });
        if let Some(id) = chosen {
            fly_to_component(&tree, &id, &mut camera);
            model.tools.selected = Some(id);
        }
        ui.separator();
        let mut tools = model.tools.clone();
        tools_ui(ui, &tree, &mut tools, &mut camera);
        sections_ui(ui, &tree, &mut tools, model.picked_face);
        if tools != model.tools {
            model.tools = tools;
        }
        ui.separator();
        measure_ui(ui, &mut measure);
    });
    Ok(())
}

/// The tree from its roots, storeys' elements grouped by IFC type; the path to the selection
/// opens once when the selection changes.
fn tree_ui(
    ui: &mut egui::Ui,
    tree: &Arc<SpatialTree>,
    state: &mut PanelState,
    selected: Option<&str>,
    chosen: &mut Option<String>,
) {
    let key = Arc::as_ptr(tree) as usize;
    if state.children.as_ref().is_none_or(|(k, _)| *k != key) {
        let mut children = vec![Vec::new(); tree.nodes.len() + 1];
        for (i, n) in tree.nodes.iter().enumerate() {
            children[n.parent.unwrap_or(tree.nodes.len())].push(i);
        }
        state.children = Some((key, children));
    }
    let reveal: BTreeSet<usize> = match selected {
        Some(id) if state.revealed.as_deref() != Some(id) => {
            state.revealed = Some(id.to_owned());
            tree.position(id).map(|i| tree.ancestors(i)).unwrap_or_default().into_iter().collect()
        }
        _ => BTreeSet::new(),
    };
    let Some((_, children)) = &state.children else { return };
    let view = TreeView { tree, children, selected, reveal: &reveal };
    for &root in &children[tree.nodes.len()] {
        view.node_ui(ui, root, chosen);
    }
}

struct TreeView<'a> {
    tree: &'a SpatialTree,
    children: &'a [Vec<usize>],
    selected: Option<&'a str>,
    reveal: &'a BTreeSet<usize>,
}

impl TreeView<'_> {
    fn node_ui(&self, ui: &mut egui::Ui, i: usize, chosen: &mut Option<String>) {
        let n = &self.tree.nodes[i];
        let label =
            format!("{} · {}", n.ifc_type.trim_start_matches("Ifc"), if n.name.is_empty() { &n.id } else { &n.name });
        let kids = &self.children[i];
        let is_selected = self.selected == Some(n.id.as_str());
        if kids.is_empty() || n.depth >= MAX_DEPTH {
            if ui.selectable_label(is_selected, label).on_hover_text(&n.id).clicked() {
                *chosen = Some(n.id.clone());
            }
            return;
        }
        let open = self.reveal.contains(&i).then_some(true);
        let header = egui::CollapsingHeader::new(label).id_salt(&n.id).open(open);
        let response = header.show(ui, |ui| {
            if n.ifc_type == "IfcBuildingStorey" {
                // Elements by type under a storey.
                let mut by_type: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
                for &k in kids {
                    by_type.entry(self.tree.nodes[k].ifc_type.as_str()).or_default().push(k);
                }
                for (ty, members) in by_type {
                    let open = members.iter().any(|m| self.reveal.contains(m)).then_some(true);
                    egui::CollapsingHeader::new(format!("{ty} ({})", members.len()))
                        .id_salt((&n.id, ty))
                        .open(open)
                        .show(ui, |ui| members.iter().for_each(|&m| self.node_ui(ui, m, chosen)));
                }
            } else {
                kids.iter().for_each(|&k| self.node_ui(ui, k, chosen));
            }
        });
        if response.header_response.secondary_clicked() || (is_selected && response.header_response.double_clicked()) {
            *chosen = Some(n.id.clone());
        }
        if is_selected {
            response.header_response.highlight();
        }
    }
}

/// The selection's properties and the tools.
fn tools_ui(ui: &mut egui::Ui, tree: &SpatialTree, tools: &mut ComponentTools, camera: &mut GeoCamera) {
    if let Some(node) = tools.selected.as_deref().and_then(|id| tree.get(id)) {
        ui.strong(format!("{} · {}", node.ifc_type, node.name));
        ui.label(&node.id);
        ui.horizontal(|ui| {
            let id = node.id.clone();
            if ui.button("Fly to").clicked() {
                fly_to_component(tree, &id, camera);
            }
            if ui.button("Isolate").clicked() {
                tools.isolated = Some(BTreeSet::from([id.clone()]));
            }
            if ui.button("Hide").clicked() {
                tools.hidden.insert(id.clone());
                tools.selected = None;
            }
        });
        egui::ScrollArea::vertical().max_height(200.0).id_salt("bim-props").show(ui, |ui| {
            for (set, props) in &node.psets {
                egui::CollapsingHeader::new(set).id_salt(("pset", set)).show(ui, |ui| {
                    egui::Grid::new(("pset-grid", set)).striped(true).show(ui, |ui| {
                        for (k, v) in props {
                            ui.label(k);
                            ui.label(match v {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            });
                            ui.end_row();
                        }
                    });
                });
            }
        });
    } else {
        ui.label("pick a component, or choose one in the tree");
    }
    ui.horizontal(|ui| {
        ui.checkbox(&mut tools.xray, "X-ray the rest");
        ui.checkbox(&mut tools.spaces, "Spaces");
        let hidden = tools.hidden.len() + usize::from(tools.isolated.is_some());
        if ui.add_enabled(hidden > 0, egui::Button::new("Show all")).clicked() {
            tools.hidden.clear();
            tools.isolated = None;
        }
    });
    let storey_name = |s: Option<usize>| s.map_or("all storeys".to_owned(), |s| format!("up to {}", tree.storeys[s].1));
    egui::ComboBox::from_label("storeys").selected_text(storey_name(tools.storey)).show_ui(ui, |ui| {
        ui.selectable_value(&mut tools.storey, None, storey_name(None));
        for s in 0..tree.storeys.len() {
            ui.selectable_value(&mut tools.storey, Some(s), storey_name(Some(s)));
        }
    });
    let colouring_name = |c: &Colouring| match c {
        Colouring::Materials => "materials".to_owned(),
        Colouring::By(p) if p == "type" => "IFC type".to_owned(),
        Colouring::By(p) => p.clone(),
    };
    let mut colouring = tools.colouring.clone();
    egui::ComboBox::from_label("colour by").selected_text(colouring_name(&colouring)).show_ui(ui, |ui| {
        ui.selectable_value(&mut colouring, Colouring::Materials, "materials");
        for p in ["type".to_owned(), "storey".to_owned()].into_iter().chain(tree.properties()) {
            let c = Colouring::By(p);
            let name = colouring_name(&c);
            ui.selectable_value(&mut colouring, c, name);
        }
    });
    tools.colouring = colouring;
    if let Some(theme) = tools.theme(tree) {
        for (label, rgb) in theme.legend() {
            ui.horizontal(|ui| {
                let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2]));
                ui.label(label);
            });
        }
    }
}

/// The section planes: add one along an axis or from the picked face, move it, flip it, remove it.
fn sections_ui(ui: &mut egui::Ui, tree: &SpatialTree, tools: &mut ComponentTools, picked_face: Option<(DVec3, DVec3)>) {
    let Some((lo, hi)) = tree.bounds() else { return };
    let centre = 0.5 * (lo + hi);
    ui.horizontal(|ui| {
        ui.label("Section");
        let room = tools.sections.len() < MAX_SECTIONS;
        for axis in ["x", "y", "z"] {
            let plane = SectionPlane::axis(axis, centre.dot(SectionPlane::axis(axis, 1.0).expect("axis").normal));
            if ui.add_enabled(room, egui::Button::new(axis.to_uppercase())).clicked() {
                tools.sections.extend(plane);
            }
        }
        let face = picked_face.and_then(|(p, n)| SectionPlane::through(p, n));
        if ui.add_enabled(room && face.is_some(), egui::Button::new("from the picked face")).clicked() {
            // The face's normal points at the eye: cut what stands in front of the face.
            tools.sections.extend(face);
        }
    });
    let mut removed = None;
    for (i, plane) in tools.sections.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let (min, max) = plane.range(lo, hi);
            ui.add(egui::Slider::new(&mut plane.offset_m, min..=max).text("m").fixed_decimals(2));
            if ui.small_button("flip").clicked() {
                *plane = plane.flipped();
            }
            if ui.small_button("✕").clicked() {
                removed = Some(i);
            }
        });
    }
    if let Some(i) = removed {
        tools.sections.remove(i);
    }
}

/// Measuring: on, each pick is a point; the last two give distance, height and run.
fn measure_ui(ui: &mut egui::Ui, measure: &mut Measure) {
    let mut on = measure.on;
    ui.checkbox(&mut on, "Measure: pick two points");
    if on != measure.on {
        measure.on = on;
        measure.points.clear();
    }
    if let Some(m) = measure.result() {
        ui.label(format!(
            "distance {:.3} m · height {:+.3} m · horizontal {:.3} m",
            m.distance_m, m.height_m, m.horizontal_m
        ));
    } else if measure.on {
        ui.label(format!("{} of 2 points picked", measure.points.len()));
    }
}
