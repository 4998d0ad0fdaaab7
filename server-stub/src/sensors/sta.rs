//! OGC SensorThings API v1.1, read subset, at `/v1.1`: Things, Locations, Datastreams, Sensors,
//! ObservedProperties and Observations, with `$top`, `$skip`, `$orderby`, `$count`, `$filter`
//! and one level of `$expand`, paged by `@iot.nextLink`. One Thing, Location and Datastream per
//! sensor (ids = sensor index + 1); one Sensor and ObservedProperty per kind. Observations come
//! from the SQLite history. Restricted sensors do not exist for the public role.
//!
//! Every request's work is bounded: the request by `citytwin_sensorthings` (`$filter` by its
//! parser's limits, `$orderby` keys, one level of `$expand`, `$top`, `$skip`), pages with expanded
//! Observations to [`EXPAND_TOP`] entities, SQL to the store's time budget. In-memory filtering
//! runs off the async workers. Every touch of restricted data is audited, allowed or denied, and
//! for the public role a restricted id answers exactly as a missing one does.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use citytwin_protocol::sensors::SensorKind;
use citytwin_sensorthings::filter::{self, Expr, Resolve, Scalar};
use citytwin_sensorthings::request::{
    EXPAND_TOP, Options, RequestError, ResourcePath, Set, StaRequest, encode, parse_request,
};
use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};

use super::sim::Sensor;
use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::store::{Observation, QueryError};

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
        let args: Vec<SqlValue> = args.into_iter().map(sql_value).collect();
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

/// A filter's literal as the SQL parameter it binds to.
fn sql_value(s: Scalar) -> SqlValue {
    match s {
        Scalar::Num(n) => SqlValue::Real(n),
        Scalar::Str(s) => SqlValue::Text(s),
        Scalar::Bool(b) => SqlValue::Integer(b as i64),
        Scalar::Null => SqlValue::Null,
        Scalar::Time(t) => SqlValue::Integer(t),
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> ApiError {
        match e {
            RequestError::NotFound(m) => ApiError::not_found(m),
            RequestError::BadRequest(m) => ApiError::bad_request(m),
        }
    }
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
