//! SensorThings API v1.1 requests: the resource path (entity set, id, one navigation) and the
//! query options (`$top`, `$skip`, `$count`, `$filter`, `$orderby`, `$expand`), parsed and bounded
//! before any data is touched.

use thiserror::Error;

use crate::filter::{self, Expr};

/// Entities per page when `$top` is not given.
pub const DEFAULT_TOP: usize = 100;
pub const MAX_TOP: usize = 10_000;
/// Entities per page, and observations per entity, when `$expand` reaches Observations.
pub const EXPAND_TOP: usize = 100;
pub const MAX_SKIP: usize = 1_000_000_000;
pub const MAX_ORDER_KEYS: usize = 8;

/// Why a request was refused, as the HTTP status it answers with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// 404: no such path or entity set.
    #[error("{0}")]
    NotFound(String),
    /// 400: a malformed or unbounded request.
    #[error("{0}")]
    BadRequest(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    Things,
    Locations,
    Datastreams,
    Sensors,
    ObservedProperties,
    Observations,
}

impl Set {
    /// A set by its name in a path or `$expand`, and whether the name is plural (many).
    pub fn parse(name: &str) -> Option<(Set, bool)> {
        Some(match name {
            "Things" => (Set::Things, true),
            "Thing" => (Set::Things, false),
            "Locations" => (Set::Locations, true),
            "Datastreams" => (Set::Datastreams, true),
            "Datastream" => (Set::Datastreams, false),
            "Sensors" => (Set::Sensors, true),
            "Sensor" => (Set::Sensors, false),
            "ObservedProperties" => (Set::ObservedProperties, true),
            "ObservedProperty" => (Set::ObservedProperties, false),
            "Observations" => (Set::Observations, true),
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Set::Things => "Things",
            Set::Locations => "Locations",
            Set::Datastreams => "Datastreams",
            Set::Sensors => "Sensors",
            Set::ObservedProperties => "ObservedProperties",
            Set::Observations => "Observations",
        }
    }
}

/// Parsed query options.
#[derive(Debug, Default)]
pub struct Options {
    pub top: usize,
    pub skip: usize,
    pub count: bool,
    pub filter: Option<Expr>,
    /// Property paths, each descending or not.
    pub order: Vec<(Vec<String>, bool)>,
    pub expand: Vec<String>,
    /// The options as given, to rebuild `@iot.nextLink`.
    pub given: Vec<(String, String)>,
}

fn decode(s: &str) -> Result<String, RequestError> {
    let bytes: Vec<u8> = {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(hex.ok_or_else(|| RequestError::BadRequest("bad percent-encoding in the query".into()))?);
                i += 3;
            } else {
                out.push(if b[i] == b'+' { b' ' } else { b[i] });
                i += 1;
            }
        }
        out
    };
    String::from_utf8(bytes).map_err(|_| RequestError::BadRequest("the query is not UTF-8".into()))
}

pub fn parse_options(raw: Option<&str>) -> Result<Options, RequestError> {
    let mut o = Options { top: DEFAULT_TOP, ..Default::default() };
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k)?, decode(v)?);
        let bad = |what: &str| RequestError::BadRequest(format!("{k}={v:?}: {what}"));
        match k.as_str() {
            "$top" => o.top = v.parse::<usize>().map_err(|_| bad("not a count"))?.min(MAX_TOP),
            "$skip" => {
                o.skip = v.parse().map_err(|_| bad("not a count"))?;
                if o.skip > MAX_SKIP {
                    return Err(bad(&format!("at most {MAX_SKIP}; narrow the query with $filter instead")));
                }
            }
            "$count" => o.count = v.parse().map_err(|_| bad("expects true or false"))?,
            "$filter" => {
                o.filter = Some(filter::parse(&v).map_err(|e| RequestError::BadRequest(format!("$filter: {e}")))?)
            }
            "$orderby" => {
                o.order.clear();
                if v.split(',').count() > MAX_ORDER_KEYS {
                    return Err(bad(&format!("at most {MAX_ORDER_KEYS} keys")));
                }
                for part in v.split(',') {
                    let mut w = part.split_whitespace();
                    let path = w.next().ok_or_else(|| bad("empty"))?;
                    let desc = match w.next() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(_) => return Err(bad("direction must be asc or desc")),
                    };
                    o.order.push((path.split('/').map(str::to_owned).collect(), desc));
                }
            }
            "$expand" => {
                o.expand.clear();
                for part in v.split(',') {
                    let name = part.trim();
                    if name.contains('(') || name.contains('/') {
                        return Err(bad("only one level of $expand, without nested options"));
                    }
                    if Set::parse(name).is_none() {
                        return Err(bad(&format!("unknown {name}")));
                    }
                    if o.expand.iter().any(|e| e == name) {
                        return Err(bad(&format!("{name} twice")));
                    }
                    o.expand.push(name.to_owned());
                }
            }
            "$select" | "$resultFormat" => return Err(bad("not supported by this server")),
            k if k.starts_with('$') => return Err(bad("unknown query option")),
            _ => continue, // access_token and the like
        }
        o.given.push((k, v));
    }
    Ok(o)
}

/// Percent-encodes a query key or value for a link.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~$@/:".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A resource path below `/v1.1`: an entity set, an entity id (≥ 1), a navigation (set, many).
#[derive(Debug, Clone, Copy)]
pub struct ResourcePath {
    pub set: Set,
    pub id: Option<i64>,
    pub nav: Option<(Set, bool)>,
}

/// A SensorThings request, parsed before any data is touched.
#[derive(Debug)]
pub struct StaRequest {
    /// `None` for the service root.
    pub path: Option<ResourcePath>,
    pub options: Options,
}

impl StaRequest {
    pub fn filter(&self) -> Option<&Expr> {
        self.options.filter.as_ref()
    }
}

/// Parses a request's path (starting `/v1.1`) and query; every bound on the options is checked here.
pub fn parse_request(path: &str, query: Option<&str>) -> Result<StaRequest, RequestError> {
    let rest = path.strip_prefix("/v1.1").ok_or_else(|| RequestError::NotFound("not a SensorThings path".into()))?;
    let options = parse_options(query)?;
    if rest.is_empty() {
        return Ok(StaRequest { path: None, options });
    }
    let segments: Vec<&str> = rest.trim_start_matches('/').splitn(3, '/').collect();
    if segments.len() > 2 {
        return Err(RequestError::BadRequest(
            "paths go at most one navigation deep, e.g. /v1.1/Datastreams(1)/Observations".into(),
        ));
    }
    let (first, id) = match segments[0].split_once('(') {
        Some((name, tail)) => {
            let id = tail
                .strip_suffix(')')
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|id| *id >= 1)
                .ok_or_else(|| RequestError::BadRequest(format!("bad entity id in {:?}", segments[0])))?;
            (name, Some(id))
        }
        None => (segments[0], None),
    };
    let set = Set::parse(first)
        .filter(|(_, many)| *many)
        .map(|(set, _)| set)
        .ok_or_else(|| RequestError::NotFound(format!("no entity set {first:?}")))?;
    let nav = segments
        .get(1)
        .map(|n| Set::parse(n).ok_or_else(|| RequestError::NotFound(format!("no navigation {n:?}"))))
        .transpose()?;
    Ok(StaRequest { path: Some(ResourcePath { set, id, nav }), options })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_reject() {
        let p = |path: &str| parse_request(path, None).map(|r| r.path.map(|p| (p.set, p.id, p.nav)));
        assert_eq!(p("/v1.1").unwrap(), None);
        assert_eq!(p("/v1.1/Things").unwrap(), Some((Set::Things, None, None)));
        assert_eq!(
            p("/v1.1/Datastreams(7)/Observations").unwrap(),
            Some((Set::Datastreams, Some(7), Some((Set::Observations, true))))
        );
        for bad in [
            "/v1.1/Things(0)",
            "/v1.1/Things(-9223372036854775808)",
            "/v1.1/Things(99999999999999999999)",
            "/v1.1/Things(1",
            "/v1.1/Thing(1)",
            "/v1.1/Things(1)/Datastreams/Observations",
            "/v1.1/Nothing",
            "/v2/Things",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_options_are_bounded() {
        let keys = ["name"; MAX_ORDER_KEYS + 1].join(",");
        assert!(parse_options(Some(&format!("$orderby={keys}"))).is_err());
        let keys = ["name"; MAX_ORDER_KEYS].join(",");
        assert_eq!(parse_options(Some(&format!("$orderby={keys}"))).unwrap().order.len(), MAX_ORDER_KEYS);
        assert!(parse_options(Some("$orderby=name&$orderby=name")).unwrap().order.len() == 1, "repeats replace");
        assert!(parse_options(Some(&format!("$skip={}", MAX_SKIP + 1))).is_err());
        assert!(parse_options(Some("$skip=18446744073709551615")).is_err());
        assert!(parse_options(Some("$expand=Locations,Locations")).is_err());
        assert!(parse_options(Some("$expand=Nothing")).is_err());
    }

    #[test]
    fn query_options_parse_and_reject() {
        let o = parse_options(Some(
            "$top=5&$skip=10&$count=true&$orderby=name%20desc,@iot.id&$expand=Datastreams,Locations&access_token=x",
        ))
        .unwrap();
        assert_eq!((o.top, o.skip, o.count), (5, 10, true));
        assert_eq!(o.order, vec![(vec!["name".to_owned()], true), (vec!["@iot.id".to_owned()], false)]);
        assert_eq!(o.expand, vec!["Datastreams", "Locations"]);
        assert_eq!(parse_options(Some("$top=999999")).unwrap().top, MAX_TOP);
        for bad in [
            "$top=-1",
            "$top=x",
            "$count=maybe",
            "$filter=name%20eq",
            "$orderby=name%20sideways",
            "$expand=Datastreams($top=1)",
            "$select=name",
            "$bogus=1",
            "$filter=%ZZ",
        ] {
            assert!(parse_options(Some(bad)).is_err(), "{bad}");
        }
    }
}
