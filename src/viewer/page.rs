//! The browser's options, read from the page's address: the desktop's settings under the same
//! defaults (`?tileset=URL` repeatable, `?server=URL`, `?camera=lon,lat,h,heading,pitch`, `?hud=0`,
//! `?theme=PROPERTY`, `?night=1`, `?sse=PX`, `?cache_mb=MB`, `?sensors=0`, `?sensor=INDEX`, `?cctv=ID`, `?bim=TOOLS`,
//! `?access_token=TOKEN` (presented to the data server), and a comparison:
//! `?scenario=ID&variant=ID&compare=swipe&other=ID&sun=YYYY-MM-DDTHH:MM&shadows=0`).

use anyhow::anyhow;
use bevy::prelude::*;

use super::layers::name_of;
use super::{Bookmark, DataServer, DrillStart, PlanningStart, TilesSettings, ViewerConfig};
use crate::protocol::catalog::TilesetLayer;

/// The viewer's configuration for a page at `origin` (e.g. `https://host:8080`) with the query
/// string `search` (with or without its `?`).
pub fn config_from_page(origin: &str, search: &str) -> anyhow::Result<ViewerConfig> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(search.trim_start_matches('?').as_bytes()).into_owned().collect();
    let get = |key: &str| pairs.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.clone());
    let server = get("server").map_or_else(|| origin.to_owned(), |s| s.trim_end_matches('/').to_owned());
    let tilesets: Vec<TilesetLayer> = pairs
        .iter()
        .filter(|(k, v)| k == "tileset" && !v.is_empty())
        .map(|(_, url)| TilesetLayer { id: url.clone(), name: name_of(url), url: url.clone() })
        .collect();
    let number = |key: &str| get(key).map(|v| v.parse::<f64>().map_err(|e| anyhow!("?{key}={v}: {e}")));
    let max_sse = number("sse").transpose()?;
    let cache_mb = number("cache_mb").transpose()?.map(|mb| mb as usize);
    let tiles = TilesSettings::from_options(max_sse, cache_mb).map_err(|e| anyhow!("?sse / ?cache_mb: {e}"))?;
    let camera = get("camera").map(|c| Bookmark::parse(&c)).transpose()?;
    Ok(ViewerConfig {
        window: Window { title: "citytwin".into(), ..default() },
        offscreen: false,
        lockstep: false,
        // The catalog's tilesets stream unless the page names others.
        catalog_tilesets: tilesets.is_empty(),
        tilesets,
        planning: get("scenario").map(|scenario| PlanningStart {
            scenario,
            variant: get("variant"),
            other: get("other"),
            compare: get("compare"),
            sun: get("sun"),
            shadows: get("shadows").as_deref() != Some("0"),
        }),
        theme: get("theme"),
        night: get("night").as_deref() == Some("1"),
        sensors_shown: get("sensors").as_deref() != Some("0"),
        sensor: get("sensor").map(|s| s.parse().map_err(|e| anyhow!("?sensor={s}: {e}"))).transpose()?,
        cctv: get("cctv").map(|s| s.parse().map_err(|e| anyhow!("?cctv={s}: {e}"))).transpose()?,
        bim: get("bim"),
        drill: get("drill").map(|d| DrillStart::parse(&d)).transpose().map_err(|e| anyhow!("?drill: {e}"))?,
        tiles,
        camera,
        hud: get("hud").as_deref() != Some("0"),
        data_server: Some(DataServer::new(&server, get("access_token"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_query_gives_the_desktops_settings_with_the_same_defaults() {
        let c = config_from_page("http://h:8080", "").unwrap();
        assert_eq!(c.data_server, Some(DataServer::new("http://h:8080", None)));
        assert!(c.catalog_tilesets && c.tilesets.is_empty() && c.hud && c.planning.is_none() && c.sensors_shown);
        assert_eq!(c.tiles, TilesSettings::default());
        let c = config_from_page(
            "http://h",
            "?tileset=http%3A%2F%2Fx%2Fcity%2Ftileset.json&sse=8&cache_mb=64&hud=0&scenario=s&shadows=0&server=http://o/&sensors=0&access_token=t0k",
        )
        .unwrap();
        assert_eq!(c.tilesets.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["city"]);
        assert!(!c.catalog_tilesets, "named tilesets replace the catalog's");
        assert_eq!((c.tiles.max_sse, c.tiles.cache_bytes), (8.0, 64 << 20));
        assert_eq!(c.data_server, Some(DataServer::new("http://o", Some("t0k".into()))));
        assert!(!c.hud && !c.sensors_shown);
        assert_eq!(c.planning.map(|p| (p.scenario, p.shadows)), Some(("s".into(), false)));
        assert!(config_from_page("http://h", "?sse=lots").is_err());
        assert!(config_from_page("http://h", "?cache_mb=1").is_err());
    }
}
