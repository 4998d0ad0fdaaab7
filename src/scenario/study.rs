//! A planning study ready to show: the site, each variant's prisms, mesh and figures, built once
//! from a catalog scenario (a variant that cannot be built says why; the others still show).

use glam::DVec3;

use super::metrics::{VariantMetrics, variant_metrics};
use super::solid::Prism;
use super::{Site, SiteError};
use crate::extrude::{Footprint, Mesh};
use crate::protocol::catalog::{Design, Scenario};

/// Storey height assumed for variants that do not say (models, tilesets).
pub const DEFAULT_FLOOR_HEIGHT_M: f64 = 3.0;

#[derive(Debug, Clone)]
pub struct Study {
    pub id: String,
    pub name: String,
    pub site: Site,
    pub variants: Vec<StudyVariant>,
}

#[derive(Debug, Clone)]
pub struct StudyVariant {
    pub id: String,
    pub name: String,
    /// The use (`office`, `apartments`, …); empty when the catalog does not say.
    pub usage: String,
    /// In the site's frame; empty for models and tilesets (drawn from their own content).
    pub prisms: Vec<Prism>,
    /// The figures, when the variant's geometry is known here (massings).
    pub metrics: Option<VariantMetrics>,
    /// Why the variant could not be built, when it could not.
    pub problem: Option<String>,
}

impl Study {
    pub fn new(scenario: &Scenario) -> Result<Self, SiteError> {
        let site = Site::new(&scenario.site)?;
        let variants = scenario
            .variants
            .iter()
            .map(|v| {
                let (usage, built) = match &v.design {
                    Design::Massing(m) => (m.usage.clone(), Some(site.massing(m).map_err(|e| e.to_string()))),
                    Design::Model { .. } | Design::Tileset { .. } => (String::new(), None),
                };
                let (prisms, problem) = match built {
                    Some(Ok(p)) => (p, None),
                    Some(Err(e)) => (Vec::new(), Some(e)),
                    None => (Vec::new(), None),
                };
                let metrics =
                    (!prisms.is_empty()).then(|| variant_metrics(&prisms, &site.outline_m, DEFAULT_FLOOR_HEIGHT_M));
                StudyVariant { id: v.id.clone(), name: v.name.clone(), usage, prisms, metrics, problem }
            })
            .collect();
        Ok(Self { id: scenario.id.clone(), name: scenario.name.clone(), site, variants })
    }

    /// The site's outline as a thin slab (`thickness_m` high) in the site's frame, glTF y-up.
    pub fn site_mesh(&self, thickness_m: f64) -> Mesh {
        let mut mesh = Mesh::default();
        let slab =
            Footprint { outer: &self.site.outline_m, holes: &[], bottom_m: 0.0, top_m: thickness_m, floor: false };
        mesh.add_extrusion(&slab, 0, DVec3::ZERO);
        mesh
    }
}

impl StudyVariant {
    /// The variant's prisms extruded in the site's frame (glTF y-up); one feature ID per prism.
    pub fn mesh(&self) -> Mesh {
        let mut mesh = Mesh::default();
        for (i, p) in self.prisms.iter().enumerate() {
            let tier = Footprint { outer: &p.outline, holes: &[], bottom_m: p.base_m, top_m: p.top_m, floor: false };
            mesh.add_extrusion(&tier, i as u32, DVec3::ZERO);
        }
        mesh
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::catalog::{Massing, Variant};

    fn scenario() -> Scenario {
        // About 100 × 100 m at Futian, Shenzhen.
        let (lon, lat, d) = (114.0579, 22.5431, 0.001);
        let square = |x0: f64, y0: f64, s: f64| vec![[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s]];
        let massing = |footprint, floors| {
            Design::Massing(Massing {
                footprint,
                floors,
                floor_height_m: 3.0,
                setbacks: Vec::new(),
                usage: "office".into(),
            })
        };
        Scenario {
            id: "s".into(),
            name: "S".into(),
            kind: "planning".into(),
            description: String::new(),
            site: square(lon, lat, d),
            variants: vec![
                Variant {
                    id: "a".into(),
                    name: "A".into(),
                    design: massing(square(lon + 0.0002, lat + 0.0002, 0.0003), 10),
                },
                Variant { id: "b".into(), name: "B".into(), design: massing(square(lon, lat, 0.0003), 0) },
                Variant {
                    id: "c".into(),
                    name: "C".into(),
                    design: Design::Tileset { url: "/tiles/c/tileset.json".into() },
                },
            ],
            drill: None,
        }
    }

    #[test]
    fn builds_what_it_can_and_says_why_not() {
        let study = Study::new(&scenario()).unwrap();
        let [a, b, c] = &study.variants[..] else { panic!("three variants") };
        let m = a.metrics.unwrap();
        assert_eq!((m.height_m, a.prisms.len(), a.problem.as_deref()), (30.0, 1, None));
        assert!((m.footprint_m2 - 31.0 * 33.3).abs() < 60.0, "about 31 × 33 m: {m:?}");
        assert!(b.problem.as_deref().unwrap().contains("floors"), "{:?}", b.problem);
        assert!(b.metrics.is_none() && b.prisms.is_empty());
        assert!(c.problem.is_none() && c.metrics.is_none(), "tilesets are drawn from their content");
    }

    #[test]
    fn meshes_are_closed_boxes_on_the_site() {
        let study = Study::new(&scenario()).unwrap();
        let mesh = study.variants[0].mesh();
        assert_eq!(mesh.triangle_count(), 4 * 2 + 2, "four walls and a roof");
        // glTF y-up: heights are y, 0 to 30 m.
        assert!(mesh.positions.iter().all(|p| p[1] == 0.0 || p[1] == 30.0));
        assert_eq!(study.site_mesh(0.3).triangle_count(), 4 * 2 + 2);
        assert!(Study::new(&Scenario { site: Vec::new(), ..scenario() }).is_err());
    }
}
