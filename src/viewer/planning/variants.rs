//! The open study on the map: the site as a thin slab and each variant's massing, one entity
//! each, placed in the site's frame; only the shown variant is visible.

use bevy::asset::RenderAssetUsages;
use bevy::camera::visibility::RenderLayers;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;

use super::{CompareMode, Planning};
use crate::tiles::UpAxis;
use crate::tiles::prepare::z_up_from;
use crate::viewer::origin::GeoTransform;
use crate::viewer::views::{MAIN_VIEW_LAYER, SECOND_VIEW_LAYER};

/// An entity of the open study: the site slab (`variant: None`) or one variant's massing.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct StudyPart {
    pub variant: Option<usize>,
}

/// The site slab's height: enough to show above the ground tiles, low enough to walk over.
const SITE_SLAB_M: f64 = 0.4;

/// Colour of a massing by its use, in the city's palette; unknown uses are a neutral stone.
fn usage_colour(usage: &str) -> Color {
    match usage {
        "office" | "commercial" | "retail" | "hotel" => Color::srgb(0.55, 0.68, 0.86),
        "apartments" | "residential" | "house" => Color::srgb(0.93, 0.78, 0.58),
        "pavilion" | "park" => Color::srgb(0.56, 0.80, 0.52),
        _ => Color::srgb(0.85, 0.83, 0.78),
    }
}

fn to_bevy(m: &crate::extrude::Mesh) -> Mesh {
    let mut mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD);
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, m.positions.clone());
    mesh.insert_attribute(Mesh::ATTRIBUTE_NORMAL, m.normals.clone());
    mesh.insert_indices(Indices::U32(m.indices.clone()));
    mesh
}

/// Replaces the study's entities when another study opens (or the study closes).
pub fn spawn_study(
    mut commands: Commands,
    planning: Res<Planning>,
    mut spawned: Local<Option<String>>,
    parts: Query<Entity, With<StudyPart>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let open = planning.study.as_ref().map(|s| s.id.clone());
    if *spawned == open {
        return;
    }
    for e in &parts {
        commands.entity(e).despawn();
    }
    *spawned = open;
    let Some(study) = &planning.study else { return };
    // The extrusions are glTF y-up in the site's east-north-up frame.
    let placement = GeoTransform(study.site.frame.ecef_from_enu * z_up_from(UpAxis::Y));
    let site = StandardMaterial {
        base_color: Color::srgba(0.95, 0.55, 0.2, 0.55),
        alpha_mode: AlphaMode::Blend,
        perceptual_roughness: 1.0,
        ..default()
    };
    commands.spawn((
        StudyPart { variant: None },
        Mesh3d(meshes.add(to_bevy(&study.site_mesh(SITE_SLAB_M)))),
        MeshMaterial3d(materials.add(site)),
        placement,
        Transform::default(),
        Visibility::Inherited,
        RenderLayers::layer(0),
    ));
    for (i, v) in study.variants.iter().enumerate().filter(|(_, v)| !v.prisms.is_empty()) {
        let material = StandardMaterial { base_color: usage_colour(&v.usage), perceptual_roughness: 0.8, ..default() };
        commands.spawn((
            StudyPart { variant: Some(i) },
            Mesh3d(meshes.add(to_bevy(&v.mesh()))),
            MeshMaterial3d(materials.add(material)),
            placement,
            Transform::default(),
            Visibility::Hidden,
            RenderLayers::none(),
        ));
    }
}

/// Shows variant A in the main view and, when comparing, variant B in the second view; hides
/// the rest. The site is in both.
pub fn show_variant(planning: Res<Planning>, mut parts: Query<(&StudyPart, &mut Visibility, &mut RenderLayers)>) {
    if !planning.is_changed() {
        return;
    }
    let comparing = planning.mode != CompareMode::Toggle;
    for (part, mut vis, mut layers) in &mut parts {
        let Some(i) = part.variant else { continue };
        let mut views = Vec::new();
        if planning.shown == Some(i) {
            views.push(MAIN_VIEW_LAYER);
        }
        if comparing && planning.other == Some(i) {
            views.push(SECOND_VIEW_LAYER);
        }
        vis.set_if_neq(if views.is_empty() { Visibility::Hidden } else { Visibility::Inherited });
        layers.set_if_neq(RenderLayers::from_layers(&views));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiler::demo::demo_scenario;

    #[test]
    fn a_study_spawns_its_site_and_variants_and_shows_one() {
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, AssetPlugin::default()))
            .init_asset::<Mesh>()
            .init_asset::<StandardMaterial>()
            .init_resource::<Planning>()
            .add_systems(Update, (spawn_study, show_variant).chain());
        app.world_mut().resource_mut::<Planning>().open(&demo_scenario());
        app.update();
        app.update();
        let mut q = app.world_mut().query::<(&StudyPart, &Visibility)>();
        let mut parts: Vec<_> = q.iter(app.world()).map(|(p, v)| (p.variant, *v)).collect();
        parts.sort_by_key(|p| p.0);
        assert_eq!(
            parts,
            vec![
                (None, Visibility::Inherited),
                (Some(0), Visibility::Inherited),
                (Some(1), Visibility::Hidden),
                (Some(2), Visibility::Hidden)
            ]
        );
        app.world_mut().resource_mut::<Planning>().shown = Some(2);
        app.update();
        let shown: Vec<_> =
            q.iter(app.world()).filter(|(_, v)| **v == Visibility::Inherited).map(|(p, _)| p.variant).collect();
        assert_eq!(shown.len(), 2);
        assert!(shown.contains(&Some(2)) && shown.contains(&None));
        // Swiping A (2) against B (0): each on its own view's layer, the third hidden.
        {
            let mut p = app.world_mut().resource_mut::<Planning>();
            p.mode = CompareMode::Swipe { divider: 0.5 };
            p.other = Some(0);
        }
        app.update();
        let mut layered = app.world_mut().query::<(&StudyPart, &Visibility, &RenderLayers)>();
        for (part, vis, layers) in layered.iter(app.world()) {
            let want = match part.variant {
                Some(2) => Some(MAIN_VIEW_LAYER),
                Some(0) => Some(SECOND_VIEW_LAYER),
                _ => None,
            };
            match want {
                Some(layer) => assert!(*vis == Visibility::Inherited && *layers == RenderLayers::layer(layer)),
                None if part.variant.is_some() => assert_eq!(*vis, Visibility::Hidden),
                None => assert_eq!(*layers, RenderLayers::default(), "the site is in every view"),
            }
        }
        // Closing removes every part.
        app.world_mut().resource_mut::<Planning>().close();
        app.update();
        app.update();
        assert_eq!(q.iter(app.world()).count(), 0);
    }
}
