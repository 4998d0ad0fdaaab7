//! URI resolution as CesiumJS does it: relative to the referring tileset, with the referring
//! tileset's query parameters carried down to children, and `data:` URIs decoded in place.

use url::Url;

use super::TilesError;

/// Resolves `reference` against `base` (the URL of the tileset or subtree that names it).
/// Query parameters of `base` that `reference` does not set itself are appended, so an access
/// token on the root tileset reaches every tile, as in CesiumJS.
pub fn resolve(base: &str, reference: &str) -> Result<String, TilesError> {
    let err = |message: String| TilesError::Uri { uri: reference.to_owned(), message };
    if reference.starts_with("data:") {
        return Ok(reference.to_owned());
    }
    let base_url = Url::parse(base).map_err(|e| err(format!("base {base:?}: {e}")))?;
    let mut joined = base_url.join(reference).map_err(|e| err(e.to_string()))?;
    if base_url.query().is_some() && !matches!(joined.scheme(), "data") {
        let own: Vec<(String, String)> = joined.query_pairs().into_owned().collect();
        let inherited: Vec<(String, String)> =
            base_url.query_pairs().into_owned().filter(|(k, _)| !own.iter().any(|(ok, _)| ok == k)).collect();
        if !inherited.is_empty() {
            joined.query_pairs_mut().extend_pairs(inherited);
        }
    }
    Ok(joined.into())
}

/// Decodes a `data:` URI (base64 or percent-encoded) into its bytes.
pub fn decode_data_uri(uri: &str) -> Result<Vec<u8>, TilesError> {
    let err = |message: String| TilesError::Uri { uri: truncate(uri), message };
    let url = data_url::DataUrl::process(uri).map_err(|e| err(format!("{e:?}")))?;
    let (body, _fragment) = url.decode_to_vec().map_err(|e| err(format!("{e:?}")))?;
    Ok(body)
}

/// Expands an implicit-tiling template URI such as `content/{level}/{x}/{y}.glb`.
pub fn expand_template(template: &str, level: u32, x: u64, y: u64, z: Option<u64>) -> String {
    let mut out =
        template.replace("{level}", &level.to_string()).replace("{x}", &x.to_string()).replace("{y}", &y.to_string());
    if let Some(z) = z {
        out = out.replace("{z}", &z.to_string());
    }
    out
}

/// The file extension of a URL's path, lower-cased, without query or fragment.
pub fn extension(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let (_, ext) = name.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

fn truncate(uri: &str) -> String {
    uri.chars().take(48).collect::<String>() + if uri.len() > 48 { "…" } else { "" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_tileset() {
        let base = "https://tiles.example.test/city/tileset.json";
        assert_eq!(resolve(base, "0/0.b3dm").unwrap(), "https://tiles.example.test/city/0/0.b3dm");
        assert_eq!(resolve(base, "../other/t.json").unwrap(), "https://tiles.example.test/other/t.json");
        assert_eq!(resolve(base, "/abs.glb").unwrap(), "https://tiles.example.test/abs.glb");
        assert_eq!(resolve(base, "https://cdn.test/x.glb").unwrap(), "https://cdn.test/x.glb");
        assert_eq!(resolve("file:///data/a%20b/tileset.json", "c d.glb").unwrap(), "file:///data/a%20b/c%20d.glb");
    }

    #[test]
    fn query_parameters_are_carried_down_unless_the_child_sets_them() {
        let base = "https://t.test/tileset.json?token=abc&v=1";
        assert_eq!(resolve(base, "a.glb").unwrap(), "https://t.test/a.glb?token=abc&v=1");
        assert_eq!(resolve(base, "a.glb?v=2").unwrap(), "https://t.test/a.glb?v=2&token=abc");
        // Grandchildren inherit through the child tileset's resolved URL.
        let child = resolve(base, "sub/tileset.json").unwrap();
        assert_eq!(resolve(&child, "x.b3dm").unwrap(), "https://t.test/sub/x.b3dm?token=abc&v=1");
    }

    #[test]
    fn data_uris_decode_and_pass_through_resolution() {
        let uri = "data:application/octet-stream;base64,AAECAw==";
        assert_eq!(resolve("https://t.test/tileset.json", uri).unwrap(), uri);
        assert_eq!(decode_data_uri(uri).unwrap(), vec![0, 1, 2, 3]);
        assert_eq!(decode_data_uri("data:,hello%20world").unwrap(), b"hello world");
        assert!(decode_data_uri("data:;base64,@@@").is_err());
        assert!(decode_data_uri("nodata").is_err());
    }

    #[test]
    fn bad_base_is_an_error_not_a_panic() {
        assert!(resolve("not a url", "a.glb").is_err());
    }

    #[test]
    fn templates_and_extensions() {
        assert_eq!(expand_template("c/{level}/{x}_{y}.glb", 3, 5, 7, None), "c/3/5_7.glb");
        assert_eq!(expand_template("s/{level}.{x}.{y}.{z}.subtree", 1, 0, 1, Some(1)), "s/1.0.1.1.subtree");
        assert_eq!(extension("https://a/b/c.B3DM?x=1.json#f").as_deref(), Some("b3dm"));
        assert_eq!(extension("https://a/b/c"), None);
    }
}
