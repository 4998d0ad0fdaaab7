//! OGC SensorThings API v1.1, read subset, at `/v1.1`: Things, Locations, Datastreams, Sensors,
//! ObservedProperties and Observations, with `$top`, `$skip`, `$orderby`, `$count`, `$filter`
//! and one level of `$expand`, paged by `@iot.nextLink`. One Thing, Location and Datastream per
//! sensor (ids = sensor index + 1); one Sensor and ObservedProperty per kind. Observations come
//! from the SQLite history. Restricted sensors do not exist for the public role.
//!
//! Every request's work is bounded: `$filter` by the parser's limits, `$orderby` to
//! [`MAX_ORDER_KEYS`] keys, `$expand` to one level of distinct sets, pages to [`MAX_TOP`] (and
//! [`EXPAND_TOP`] entities when each expands its Observations), `$skip` to [`MAX_SKIP`], SQL to the
//! store's time budget. In-memory filtering runs off the async workers. Every touch of restricted
//! data is audited, allowed or denied, and for the public role a restricted id answers exactly as
//! a missing one does.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use citytwin_protocol::sensors::SensorKind;
use serde_json::{Value, json};

use super::filter::{self, Expr, Resolve, Scalar};
use super::sim::Sensor;
use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::store::{Observation, QueryError};

const DEFAULT_TOP: usize = 100;
pub const MAX_TOP: usize = 10_000;
/// Entities per page, and observations per entity, when `$expand` reaches Observations.
pub const EXPAND_TOP: usize = 100;
pub const MAX_SKIP: usize = 1_000_000_000;
pub const MAX_ORDER_KEYS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Things,
    Locations,
    Datastreams,
    Sensors,
    ObservedProperties,
    Observations,
}

impl Set {
    fn parse(name: &str) -> Option<(Set, bool)> {
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

    fn name(self) -> &'static str {
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
struct Options {
    top: usize,
    skip: usize,
    count: bool,
    filter: Option<Expr>,
    order: Vec<(Vec<String>, bool)>,
    expand: Vec<String>,
    /// The options as given, to rebuild `@iot.nextLink`.
    given: Vec<(String, String)>,
}

fn decode(s: &str) -> Result<String, ApiError> {
    let bytes: Vec<u8> = {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(hex.ok_or_else(|| ApiError::bad_request("bad percent-encoding in the query"))?);
                i += 3;
            } else {
                out.push(if b[i] == b'+' { b' ' } else { b[i] });
                i += 1;
            }
        }
        out
    };
    String::from_utf8(bytes).map_err(|_| ApiError::bad_request("the query is not UTF-8"))
}

fn parse_options(raw: Option<&str>) -> Result<Options, ApiError> {
    let mut o = Options { top: DEFAULT_TOP, ..Default::default() };
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k)?, decode(v)?);
        let bad = |what: &str| ApiError::bad_request(format!("{k}={v:?}: {what}"));
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
                o.filter = Some(filter::parse(&v).map_err(|e| ApiError::bad_request(format!("$filter: {e}")))?)
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

fn encode(s: &str) -> String {
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

/// What each sensor-backed entity offers to `$filter` and `$orderby`.
struct Entity<'a> {
    set: Set,
    /// Sensor index, or kind index for Sensors and ObservedProperties.
    index: usize,
    sensor: Option<&'a Sensor>,
}

fn kind_of(index: usize) -> SensorKind {
    SensorKind::ALL[index % SensorKind::ALL.len()]
}

fn kind_index(k: SensorKind) -> usize {
    SensorKind::ALL.iter().position(|x| *x == k).expect("listed")
}

fn kind_str(k: SensorKind) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn thing_name(i: usize, s: &Sensor) -> String {
    format!("{} sensor {}", s.kind.name(), i + 1)
}

impl Resolve for Entity<'_> {
    fn scalar(&self, path: &[String]) -> Option<Scalar> {
        let id = Scalar::Num((self.index + 1) as f64);
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        if matches!(p.as_slice(), ["@iot.id"] | ["id"]) {
            return Some(id);
        }
        match (self.set, self.sensor) {
            (Set::Things | Set::Locations | Set::Datastreams, Some(s)) => match p.as_slice() {
                ["name"] => Some(Scalar::Str(thing_name(self.index, s))),
                ["properties", "kind"] | ["ObservedProperty", "name"] if self.set != Set::Locations => {
                    Some(Scalar::Str(if p[0] == "properties" { kind_str(s.kind) } else { s.kind.name().to_owned() }))
                }
                ["properties", "layer"] => Some(Scalar::Str(s.kind.layer().into())),
                ["properties", "restricted"] => Some(Scalar::Bool(s.kind.restricted())),
                ["unitOfMeasurement", "symbol"] => Some(Scalar::Str(s.kind.unit().1.into())),
                ["Thing", "@iot.id"] | ["Thing", "id"] => Some(id),
                ["Sensor", "@iot.id"] | ["ObservedProperty", "@iot.id"] => {
                    Some(Scalar::Num((kind_index(s.kind) + 1) as f64))
                }
                _ => None,
            },
            (Set::Sensors | Set::ObservedProperties, _) => match p.as_slice() {
                ["name"] => Some(Scalar::Str(kind_of(self.index).name().into())),
                _ => None,
            },
            _ => None,
        }
    }

    fn point(&self, path: &[String]) -> Option<(f64, f64)> {
        let s = self.sensor?;
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        match (self.set, p.as_slice()) {
            (Set::Locations, ["location"])
            | (Set::Things, ["Locations", "location"])
            | (Set::Datastreams, ["Thing", "Locations", "location"])
            | (Set::Datastreams, ["observedArea"]) => Some((s.lon_deg, s.lat_deg)),
            _ => None,
        }
    }
}

struct Links {
    base: String,
}

impl Links {
    fn entity(&self, set: Set, id: usize) -> String {
        format!("{}/{}({id})", self.base, set.name())
    }
}

fn thing_json(l: &Links, i: usize, s: &Sensor) -> Value {
    let me = l.entity(Set::Things, i + 1);
    json!({"@iot.id": i + 1, "@iot.selfLink": me, "name": thing_name(i, s),
        "description": format!("Simulated {} sensor", s.kind.name().to_lowercase()),
        "properties": {"kind": s.kind, "layer": s.kind.layer(), "restricted": s.kind.restricted(), "reportIntervalSeconds": s.interval_s},
        "Locations@iot.navigationLink": format!("{me}/Locations"), "Datastreams@iot.navigationLink": format!("{me}/Datastreams")})
}

fn location_json(l: &Links, i: usize, s: &Sensor) -> Value {
    let me = l.entity(Set::Locations, i + 1);
    json!({"@iot.id": i + 1, "@iot.selfLink": me, "name": format!("Location of {}", thing_name(i, s)),
        "description": "Where the sensor is mounted", "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [s.lon_deg, s.lat_deg]},
        "Things@iot.navigationLink": format!("{me}/Things")})
}

fn datastream_json(l: &Links, i: usize, s: &Sensor) -> Value {
    let me = l.entity(Set::Datastreams, i + 1);
    let (name, symbol, definition) = s.kind.unit();
    json!({"@iot.id": i + 1, "@iot.selfLink": me, "name": format!("{} of {}", s.kind.name(), thing_name(i, s)),
        "description": format!("{} readings", s.kind.name()),
        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        "unitOfMeasurement": {"name": name, "symbol": symbol, "definition": definition},
        "observedArea": {"type": "Point", "coordinates": [s.lon_deg, s.lat_deg]},
        "Thing@iot.navigationLink": format!("{me}/Thing"), "Sensor@iot.navigationLink": format!("{me}/Sensor"),
        "ObservedProperty@iot.navigationLink": format!("{me}/ObservedProperty"),
        "Observations@iot.navigationLink": format!("{me}/Observations")})
}

fn sensor_json(l: &Links, k: usize) -> Value {
    let kind = kind_of(k);
    let me = l.entity(Set::Sensors, k + 1);
    json!({"@iot.id": k + 1, "@iot.selfLink": me, "name": format!("{} sensor model", kind.name()),
        "description": format!("Simulated {} sensor", kind.name().to_lowercase()), "encodingType": "text/plain",
        "metadata": "citytwin simulator", "Datastreams@iot.navigationLink": format!("{me}/Datastreams")})
}

fn observed_property_json(l: &Links, k: usize) -> Value {
    let kind = kind_of(k);
    let me = l.entity(Set::ObservedProperties, k + 1);
    json!({"@iot.id": k + 1, "@iot.selfLink": me, "name": kind.name(), "definition": format!("urn:citytwin:def:{}", kind_str(kind)),
        "description": kind.name(), "Datastreams@iot.navigationLink": format!("{me}/Datastreams")})
}

fn observation_json(l: &Links, o: &Observation) -> Value {
    let me = l.entity(Set::Observations, o.id as usize);
    let t = filter::format_time(o.time_ms);
    json!({"@iot.id": o.id, "@iot.selfLink": me, "phenomenonTime": t, "resultTime": t, "result": o.result,
        "Datastream@iot.navigationLink": format!("{me}/Datastream")})
}

/// The scope of a request: a whole set, or what a navigation path narrows it to.
#[derive(Debug, Clone, Copy)]
enum Scope {
    All,
    Sensor(usize),
    Kind(usize),
    Observation(i64),
}

struct Request<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    links: Links,
}

impl Request<'_> {
    fn visible(&self, s: &Sensor) -> bool {
        visible_to(self.caller.role, s)
    }

    /// The answer to an id this caller may not see. For the public role a missing id is
    /// audited as well, so that a restricted id and a missing one cannot be told apart.
    async fn no_entity(&self, set: Set, id: i64) -> ApiError {
        if self.caller.role == Role::Public {
            self.state.audit(self.caller, "read", &format!("{} {id}", set.name()), false).await;
        }
        ApiError::not_found(format!("no entity with id {id}"))
    }

    /// A sensor by 1-based id, if it exists for this caller; restricted ones are audited.
    async fn sensor(&self, set: Set, id: i64) -> ApiResult<usize> {
        let sensors = &self.state.sim.sensors;
        let Some(i) = usize::try_from(id - 1).ok().filter(|i| *i < sensors.len()) else {
            return Err(self.no_entity(set, id).await);
        };
        if sensors[i].kind.restricted() {
            if !self.visible(&sensors[i]) {
                return Err(self.no_entity(set, id).await);
            }
            self.state
                .audit(self.caller, "read", &format!("{} {id} ({})", set.name(), sensors[i].kind.layer()), true)
                .await;
        }
        Ok(i)
    }

    fn entity_json(&self, set: Set, index: usize) -> Value {
        let sensors = &self.state.sim.sensors;
        match set {
            Set::Things => thing_json(&self.links, index, &sensors[index]),
            Set::Locations => location_json(&self.links, index, &sensors[index]),
            Set::Datastreams => datastream_json(&self.links, index, &sensors[index]),
            Set::Sensors => sensor_json(&self.links, index),
            Set::ObservedProperties => observed_property_json(&self.links, index),
            Set::Observations => Value::Null,
        }
    }

    async fn expand(&self, set: Set, index: usize, value: &mut Value, names: &[String]) -> ApiResult<()> {
        let sensors = &self.state.sim.sensors;
        for name in names {
            let (target, many) =
                Set::parse(name).ok_or_else(|| ApiError::bad_request(format!("$expand: unknown {name}")))?;
            let expanded = match (set, target) {
                (Set::Things, Set::Locations | Set::Datastreams)
                | (Set::Locations, Set::Things)
                | (Set::Datastreams, Set::Things) => {
                    let one = self.entity_json(target, index);
                    if many { json!([one]) } else { one }
                }
                (Set::Datastreams, Set::Sensors | Set::ObservedProperties) => {
                    self.entity_json(target, kind_index(sensors[index].kind))
                }
                (Set::Datastreams, Set::Observations) => {
                    let (rows, _) = self
                        .observations(
                            &Scope::Sensor(index),
                            &Options {
                                top: EXPAND_TOP,
                                order: vec![(vec!["phenomenonTime".into()], true)],
                                ..Default::default()
                            },
                        )
                        .await?;
                    Value::Array(rows.iter().map(|o| observation_json(&self.links, o)).collect())
                }
                (Set::Sensors | Set::ObservedProperties, Set::Datastreams) => Value::Array(
                    (0..sensors.len())
                        .filter(|i| kind_index(sensors[*i].kind) == index && self.visible(&sensors[*i]))
                        .take(EXPAND_TOP)
                        .map(|i| self.entity_json(Set::Datastreams, i))
                        .collect(),
                ),
                _ => return Err(ApiError::bad_request(format!("$expand: {} has no {name}", set.name()))),
            };
            value[name.as_str()] = expanded;
        }
        Ok(())
    }

    async fn observations(&self, scope: &Scope, o: &Options) -> ApiResult<(Vec<Observation>, Option<u64>)> {
        let mut args = Vec::new();
        let mut conds = vec![];
        match scope {
            Scope::Sensor(i) => conds.push(format!("datastream = {i}")),
            Scope::Observation(id) => conds.push(format!("id = {id}")),
            Scope::Kind(_) | Scope::All => {}
        }
        if let Some(f) = &o.filter {
            let column = |p: &[String]| match p.join("/").as_str() {
                "result" => Some("result"),
                "phenomenonTime" | "resultTime" => Some("time"),
                "@iot.id" | "id" => Some("id"),
                "Datastream/@iot.id" | "Datastream/id" => Some("(datastream + 1)"),
                _ => None,
            };
            conds.push(
                filter::to_sql(f, &column, &mut args).map_err(|e| ApiError::bad_request(format!("$filter: {e}")))?,
            );
        }
        let mut order = Vec::new();
        for (path, desc) in &o.order {
            let col = match path.join("/").as_str() {
                "phenomenonTime" | "resultTime" => "time",
                "result" => "result",
                "@iot.id" | "id" => "id",
                other => return Err(ApiError::bad_request(format!("$orderby: cannot order Observations by {other}"))),
            };
            order.push(format!("{col} {}", if *desc { "DESC" } else { "ASC" }));
        }
        order.push("id ASC".into());
        let asked = if conds.is_empty() { "1 = 1".to_owned() } else { conds.join(" AND ") };
        let public = self.caller.role < Role::Planner;
        // A public filter is checked for restricted rows it reached for: the answer never shows them,
        // but the attempt is audited. (A public id that finds nothing is audited as a missing entity,
        // once, whether it is restricted or absent.)
        let probe = public && o.filter.is_some() && matches!(scope, Scope::All | Scope::Kind(_));
        let sql_where = if public { format!("restricted = 0 AND ({asked})") } else { asked.clone() };
        let (store, top, skip, count) = (self.state.store.clone(), o.top, o.skip, o.count);
        let order = order.join(", ");
        let (rows, total, reached_restricted) = tokio::task::spawn_blocking(move || {
            let (rows, total) = store.query_observations(&sql_where, &args, &order, top, skip, count)?;
            let reached = probe && store.any_restricted(&asked, &args)?;
            Ok::<_, QueryError>((rows, total, reached))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(query_error)?;
        if reached_restricted {
            self.state.audit(self.caller, "read", "Observations of restricted datastreams", false).await;
        }
        // Rows of a restricted datastream reached through its own path were audited with it.
        let mut restricted: Vec<u32> = rows.iter().filter(|r| r.restricted).map(|r| r.datastream + 1).collect();
        restricted.dedup();
        if !restricted.is_empty() && !matches!(scope, Scope::Sensor(_)) {
            let ids: Vec<String> = restricted.iter().take(20).map(u32::to_string).collect();
            let more = if restricted.len() > 20 { ", …" } else { "" };
            let resource = format!("Observations of restricted Datastreams {}{more}", ids.join(", "));
            self.state.audit(self.caller, "read", &resource, true).await;
        }
        Ok((rows, total))
    }

    fn next_link(&self, path: &str, o: &Options, total: usize) -> Option<String> {
        if o.skip.saturating_add(o.top) >= total {
            return None;
        }
        let mut q: Vec<String> =
            o.given.iter().filter(|(k, _)| k != "$skip").map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        q.push(format!("$skip={}", o.skip + o.top));
        if !o.given.iter().any(|(k, _)| k == "$top") {
            q.push(format!("$top={}", o.top));
        }
        Some(format!("{}{path}?{}", self.links.base.trim_end_matches("/v1.1"), q.join("&")))
    }
}

fn visible_to(role: Role, s: &Sensor) -> bool {
    role.sees(s.kind)
}

/// The entities of `target` in `scope` that `role` may see, matching `filter`, in `order`.
fn matching(
    sensors: &[Sensor],
    role: Role,
    target: Set,
    scope: Scope,
    filter: Option<&Expr>,
    order: &[(Vec<String>, bool)],
) -> Vec<usize> {
    let candidates: Vec<usize> = match (scope, target) {
        (Scope::Sensor(i), Set::Sensors | Set::ObservedProperties) => vec![kind_index(sensors[i].kind)],
        (Scope::Sensor(i), _) => vec![i],
        (Scope::Kind(k), Set::Sensors | Set::ObservedProperties) => vec![k],
        (Scope::Kind(k), _) => {
            (0..sensors.len()).filter(|i| kind_index(sensors[*i].kind) == k && visible_to(role, &sensors[*i])).collect()
        }
        (_, Set::Sensors | Set::ObservedProperties) => {
            (0..SensorKind::ALL.len()).filter(|k| role.sees(kind_of(*k))).collect()
        }
        _ => (0..sensors.len()).filter(|i| visible_to(role, &sensors[*i])).collect(),
    };
    let entity = |i: usize| Entity {
        set: target,
        index: i,
        sensor: matches!(target, Set::Things | Set::Locations | Set::Datastreams).then(|| &sensors[i]),
    };
    let matched: Vec<usize> = match filter {
        Some(f) => candidates.into_iter().filter(|i| filter::eval(f, &entity(*i))).collect(),
        None => candidates,
    };
    if order.is_empty() {
        return matched;
    }
    // Keys once per entity, not once per comparison.
    let mut keyed: Vec<(Vec<Option<Scalar>>, usize)> =
        matched.into_iter().map(|i| (order.iter().map(|(p, _)| entity(i).scalar(p)).collect(), i)).collect();
    keyed.sort_by(|(ka, a), (kb, b)| {
        for ((x, y), (_, desc)) in ka.iter().zip(kb).zip(order) {
            let ord = match (x, y) {
                (Some(Scalar::Num(x)), Some(Scalar::Num(y))) => x.total_cmp(y),
                (Some(Scalar::Str(x)), Some(Scalar::Str(y))) => x.cmp(y),
                (Some(Scalar::Bool(x)), Some(Scalar::Bool(y))) => x.cmp(y),
                _ => std::cmp::Ordering::Equal,
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        a.cmp(b)
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// A store failure of a query built from a request: refused or too slow is the request's
/// answer (400, 503), anything else is internal.
fn query_error(e: QueryError) -> ApiError {
    match e {
        QueryError::Refused(_) => ApiError::bad_request(format!("the query is too complex: {e}")),
        QueryError::TooSlow => ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        QueryError::Database(e) => ApiError::internal(e),
    }
}

/// A resource path below `/v1.1`: an entity set, an entity id (≥ 1), a navigation (set, many).
#[derive(Debug, Clone, Copy)]
struct ResourcePath {
    set: Set,
    id: Option<i64>,
    nav: Option<(Set, bool)>,
}

/// A SensorThings request, parsed before any data is touched.
#[derive(Debug)]
pub struct StaRequest {
    /// `None` for the service root.
    path: Option<ResourcePath>,
    options: Options,
}

impl StaRequest {
    pub fn filter(&self) -> Option<&Expr> {
        self.options.filter.as_ref()
    }
}

/// Parses a request's path (starting `/v1.1`) and query; every bound on the options is checked here.
pub fn parse_request(path: &str, query: Option<&str>) -> ApiResult<StaRequest> {
    let rest = path.strip_prefix("/v1.1").ok_or_else(|| ApiError::not_found("not a SensorThings path"))?;
    let options = parse_options(query)?;
    if rest.is_empty() {
        return Ok(StaRequest { path: None, options });
    }
    let segments: Vec<&str> = rest.trim_start_matches('/').splitn(3, '/').collect();
    if segments.len() > 2 {
        return Err(ApiError::bad_request(
            "paths go at most one navigation deep, e.g. /v1.1/Datastreams(1)/Observations",
        ));
    }
    let (first, id) = match segments[0].split_once('(') {
        Some((name, tail)) => {
            let id = tail
                .strip_suffix(')')
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|id| *id >= 1)
                .ok_or_else(|| ApiError::bad_request(format!("bad entity id in {:?}", segments[0])))?;
            (name, Some(id))
        }
        None => (segments[0], None),
    };
    let set = Set::parse(first)
        .filter(|(_, many)| *many)
        .map(|(set, _)| set)
        .ok_or_else(|| ApiError::not_found(format!("no entity set {first:?}")))?;
    let nav = segments
        .get(1)
        .map(|n| Set::parse(n).ok_or_else(|| ApiError::not_found(format!("no navigation {n:?}"))))
        .transpose()?;
    Ok(StaRequest { path: Some(ResourcePath { set, id, nav }), options })
}

/// `GET /v1.1` and everything below it.
pub async fn handle(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let r = Request { state: &state, caller: &caller, links: Links { base: format!("http://{host}/v1.1") } };
    let path = uri.path().trim_end_matches('/');
    let StaRequest { path: resource, options: mut o } = parse_request(path, uri.query())?;
    if o.expand.iter().any(|e| e == "Observations") {
        o.top = o.top.min(EXPAND_TOP);
    }
    let Some(ResourcePath { set, id, nav }) = resource else {
        let sets = ["Things", "Locations", "Datastreams", "Sensors", "ObservedProperties", "Observations"];
        let value: Vec<Value> =
            sets.iter().map(|s| json!({"name": s, "url": format!("{}/{s}", r.links.base)})).collect();
        return Ok(Json(json!({"value": value, "serverSettings": {"conformance": [
            "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
            "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data"]}}))
        .into_response());
    };

    // Resolve the path to a target set, a scope, and whether one entity is asked for.
    let (target, scope, single) = match (set, id, nav) {
        (s, None, None) => (s, Scope::All, false),
        (_, None, Some(_)) => return Err(ApiError::bad_request("navigation needs an entity id first")),
        (Set::Observations, Some(id), None) => (Set::Observations, Scope::Observation(id), true),
        (Set::Sensors | Set::ObservedProperties, Some(id), n) => {
            let Some(k) =
                usize::try_from(id - 1).ok().filter(|k| *k < SensorKind::ALL.len() && r.caller.role.sees(kind_of(*k)))
            else {
                return Err(r.no_entity(set, id).await);
            };
            if kind_of(k).restricted() {
                state.audit(&caller, "read", &format!("{} {id} ({})", set.name(), kind_of(k).layer()), true).await;
            }
            match n {
                None => (set, Scope::Kind(k), true),
                Some((Set::Datastreams, true)) => (Set::Datastreams, Scope::Kind(k), false),
                Some(_) => return Err(ApiError::bad_request("Sensors and ObservedProperties navigate to Datastreams")),
            }
        }
        (Set::Observations, Some(id), Some((Set::Datastreams, false))) => {
            let (rows, _) = r.observations(&Scope::Observation(id), &Options { top: 1, ..Default::default() }).await?;
            let Some(o) = rows.first() else { return Err(r.no_entity(Set::Observations, id).await) };
            (Set::Datastreams, Scope::Sensor(o.datastream as usize), true)
        }
        (_, Some(id), n) => {
            let i = r.sensor(set, id).await?;
            match (set, n) {
                (s, None) => (s, Scope::Sensor(i), true),
                (Set::Things, Some((t @ (Set::Locations | Set::Datastreams), true)))
                | (Set::Locations, Some((t @ Set::Things, true))) => (t, Scope::Sensor(i), false),
                (Set::Datastreams, Some((Set::Observations, true))) => (Set::Observations, Scope::Sensor(i), false),
                (Set::Datastreams, Some((t @ Set::Things, false))) => (t, Scope::Sensor(i), true),
                (Set::Datastreams, Some((t @ (Set::Sensors | Set::ObservedProperties), false))) => {
                    (t, Scope::Kind(kind_index(state.sim.sensors[i].kind)), true)
                }
                _ => return Err(ApiError::bad_request(format!("{} has no such navigation", set.name()))),
            }
        }
    };

    if target == Set::Observations {
        let (rows, total) = r.observations(&scope, &o).await?;
        if let (true, Scope::Observation(id)) = (single, &scope) {
            let Some(obs) = rows.first() else { return Err(r.no_entity(Set::Observations, *id).await) };
            let mut v = observation_json(&r.links, obs);
            if o.expand.iter().any(|e| e == "Datastream") {
                v["Datastream"] = r.entity_json(Set::Datastreams, obs.datastream as usize);
            }
            return Ok(Json(v).into_response());
        }
        let mut body = json!({"value": rows.iter().map(|x| observation_json(&r.links, x)).collect::<Vec<_>>()});
        if let Some(n) = total {
            body["@iot.count"] = n.into();
        }
        let full_page = rows.len() == o.top;
        if full_page && total.is_none_or(|n| o.skip.saturating_add(o.top) < n as usize) {
            body["@iot.nextLink"] = r.next_link(path, &o, usize::MAX).into();
        }
        return Ok(Json(body).into_response());
    }

    // In-memory entities: candidates, filter and order off the async workers, then the page.
    let sensors = &state.sim.sensors;
    let (st, role, filter, order) = (state.clone(), caller.role, o.filter.clone(), o.order.clone());
    let matched =
        tokio::task::spawn_blocking(move || matching(&st.sim.sensors, role, target, scope, filter.as_ref(), &order))
            .await
            .map_err(ApiError::internal)?;
    if single {
        let i = *matched.first().ok_or_else(|| ApiError::not_found("no such entity"))?;
        let mut v = r.entity_json(target, i);
        r.expand(target, i, &mut v, &o.expand).await?;
        return Ok(Json(v).into_response());
    }
    let total = matched.len();
    let restricted_shown = matches!(target, Set::Things | Set::Locations | Set::Datastreams)
        && matched.iter().skip(o.skip).take(o.top).any(|i| sensors[*i].kind.restricted());
    if restricted_shown {
        state.audit(&caller, "list", &format!("{} with restricted sensors", target.name()), true).await;
    }
    let mut values = Vec::new();
    for &i in matched.iter().skip(o.skip).take(o.top) {
        let mut v = r.entity_json(target, i);
        r.expand(target, i, &mut v, &o.expand).await?;
        values.push(v);
    }
    let mut body = json!({"value": values});
    if o.count {
        body["@iot.count"] = total.into();
    }
    if let Some(next) = r.next_link(path, &o, total) {
        body["@iot.nextLink"] = next.into();
    }
    Ok(Json(body).into_response())
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
