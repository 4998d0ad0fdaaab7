//! Thematic colouring in the viewer: the property the city is coloured by (chosen in the HUD's
//! "Colour by" panel, with `--theme` or `?theme=`), fitted over the loaded tiles' values and
//! widened as tiles arrive, drawn through the feature state, and its legend.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::feature_state::{FeatureStyle, FeatureTable, tile_column};
use super::tiles::{TilePart, Tilesets};
use crate::theme::{Theme, TileProperties};

/// The property chosen, and those the loaded tiles offer.
#[derive(Resource, Debug, Clone, Default)]
pub struct ThemeChoice {
    pub property: Option<String>,
    pub offered: Vec<String>,
}

/// The properties on offer: those of the first tile that has any.
pub fn offer_properties(mut choice: ResMut<ThemeChoice>, sets: Tilesets, added: Query<&TilePart, Added<FeatureTable>>) {
    if !choice.offered.is_empty() {
        return;
    }
    for part in &added {
        let Some(t) = sets.get(part.layer) else { continue };
        let names = TileProperties::of(&t.contents(part.key)).map(|p| p.names()).unwrap_or_default();
        if !names.is_empty() {
            choice.offered = names;
            return;
        }
    }
}

/// Fits the theme when the choice changes (over every loaded tile) and widens it as tiles arrive.
pub fn fit_theme(
    choice: Res<ThemeChoice>,
    sets: Tilesets,
    all: Query<&TilePart, With<FeatureTable>>,
    added: Query<&TilePart, Added<FeatureTable>>,
    mut style: ResMut<FeatureStyle>,
) {
    let Some(property) = choice.property.as_deref() else {
        if style.theme.is_some() {
            style.theme = None;
        }
        return;
    };
    let refit = choice.is_changed() || style.theme.as_ref().is_none_or(|t| t.property() != property);
    let parts: Vec<&TilePart> = if refit { all.iter().collect() } else { added.iter().collect() };
    if parts.is_empty() {
        return;
    }
    // Each tile once (its parts share its feature table).
    let mut seen = std::collections::HashSet::new();
    let values: Vec<serde_json::Value> = parts
        .into_iter()
        .filter(|p| seen.insert((p.layer, p.key)))
        .flat_map(|p| tile_column(&sets, p, property).to_vec())
        .collect();
    if refit {
        style.theme = Theme::fit(property, &values);
    } else if let Some(theme) = style.bypass_change_detection().theme.as_mut()
        && theme.widen(&values)
    {
        style.set_changed();
    }
}

/// The "Colour by" panel: the property, and the legend of its colours.
pub fn theme_ui(
    mut contexts: EguiContexts,
    mut choice: ResMut<ThemeChoice>,
    style: Res<FeatureStyle>,
    hud: Res<super::hud::HudSettings>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !hud.visible || choice.offered.is_empty() {
        return Ok(());
    }
    egui::Window::new("Colour by").default_pos([10.0, 560.0]).resizable(false).show(ctx, |ui| {
        let current = choice.property.clone().unwrap_or_else(|| "material".to_owned());
        let mut picked = choice.property.clone();
        egui::ComboBox::from_id_salt("theme-property").selected_text(current).show_ui(ui, |ui| {
            ui.selectable_value(&mut picked, None, "material");
            for name in &choice.offered {
                ui.selectable_value(&mut picked, Some(name.clone()), name);
            }
        });
        if picked != choice.property {
            choice.property = picked;
        }
        if let Some(theme) = &style.theme {
            legend_ui(ui, theme);
        }
    });
    Ok(())
}

fn legend_ui(ui: &mut egui::Ui, theme: &Theme) {
    for (label, [r, g, b]) in theme.legend() {
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, egui::Color32::from_rgb(r, g, b));
            ui.label(label);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_choice_no_theme_and_a_choice_without_tiles_waits() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .init_resource::<ThemeChoice>()
            .init_resource::<FeatureStyle>()
            .init_resource::<crate::viewer::TilesSettings>()
            .add_systems(Update, fit_theme);
        app.world_mut().resource_mut::<FeatureStyle>().theme =
            Some(Theme::Ramp { property: "h".into(), min: 0.0, max: 1.0 });
        app.update();
        assert!(app.world().resource::<FeatureStyle>().theme.is_none(), "no property chosen");
        app.world_mut().resource_mut::<ThemeChoice>().property = Some("height".into());
        app.update();
        assert!(app.world().resource::<FeatureStyle>().theme.is_none(), "nothing loaded to fit");
    }
}
