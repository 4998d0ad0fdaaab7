//! OData `$filter` for SensorThings: comparisons (`eq ne gt ge lt le`), `and`, `or`, `not`,
//! parentheses, numbers, `'strings'`, ISO 8601 times, `true`/`false`/`null`, and
//! `geo.intersects(path, geography'POLYGON((…))')`. Evaluated in memory for entities, or
//! translated to parameterised SQL for observations.
//!
//! Every filter is bounded before any work is done on it: its length ([`MAX_FILTER_BYTES`]), its
//! nesting of parentheses and `not` ([`MAX_DEPTH`]), its comparisons ([`MAX_TERMS`]) and the
//! vertices of its polygons ([`MAX_POLYGON_VERTICES`]). The parser's recursion, the evaluation, the
//! SQL it becomes and dropping it are therefore all bounded too.

use geo::{Contains, Intersects, Point, Polygon};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The longest `$filter` accepted, in bytes.
pub const MAX_FILTER_BYTES: usize = 16 * 1024;
/// The deepest nesting of parentheses and `not`.
pub const MAX_DEPTH: usize = 32;
/// The most comparisons and `geo.intersects` terms in one filter.
pub const MAX_TERMS: usize = 64;
/// The most polygon vertices over all `geo.intersects` terms of one filter.
pub const MAX_POLYGON_VERTICES: usize = 512;

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Num(f64),
    Str(String),
    Bool(bool),
    Null,
    /// Unix milliseconds.
    Time(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Vec<String>),
    Lit(Scalar),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(CmpOp, Operand, Operand),
    GeoIntersects(Vec<String>, Polygon<f64>),
}

/// What an entity offers to a filter.
pub trait Resolve {
    fn scalar(&self, path: &[String]) -> Option<Scalar>;
    /// A point location `(lon, lat)` for `geo.intersects`.
    fn point(&self, path: &[String]) -> Option<(f64, f64)>;
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Time(i64),
    Geography(String),
    LParen,
    RParen,
    Comma,
}

pub fn parse_time(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub fn format_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let quoted = |i: &mut usize| -> Result<String, String> {
        // At the opening quote; '' is an escaped quote.
        let mut s = String::new();
        *i += 1;
        loop {
            match chars.get(*i) {
                None => return Err("unterminated string".into()),
                Some('\'') if chars.get(*i + 1) == Some(&'\'') => {
                    s.push('\'');
                    *i += 2;
                }
                Some('\'') => {
                    *i += 1;
                    return Ok(s);
                }
                Some(c) => {
                    s.push(*c);
                    *i += 1;
                }
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '\'' => out.push(Tok::Str(quoted(&mut i)?)),
            c if c.is_ascii_digit()
                || ((c == '-' || c == '.') && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "-:.+".contains(chars[i])) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word.contains('T') && word.matches('-').count() >= 2 {
                    out.push(Tok::Time(parse_time(&word).ok_or_else(|| format!("bad time {word:?}"))?));
                } else {
                    out.push(Tok::Num(word.parse().map_err(|_| format!("bad number {word:?}"))?));
                }
            }
            c if c.is_alphabetic() || c == '@' || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || "@_./".contains(chars[i])) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word == "geography" && chars.get(i) == Some(&'\'') {
                    out.push(Tok::Geography(quoted(&mut i)?));
                } else {
                    out.push(Tok::Ident(word));
                }
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    /// Current nesting of parentheses and `not`.
    depth: usize,
    terms: usize,
    vertices: usize,
}

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Ident(x)) if x.eq_ignore_ascii_case(w))
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, t: Tok) -> Result<(), String> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            other => Err(format!("expected {t:?}, found {other:?}")),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.not()?;
        while self.peek_word("and") {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    /// Runs `inner` one level deeper, refusing past [`MAX_DEPTH`].
    fn nested(&mut self, inner: impl FnOnce(&mut Self) -> Result<Expr, String>) -> Result<Expr, String> {
        if self.depth >= MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let e = inner(self);
        self.depth -= 1;
        e
    }

    /// Counts one comparison or `geo.intersects`, refusing past [`MAX_TERMS`].
    fn term(&mut self) -> Result<(), String> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(format!("more than {MAX_TERMS} comparisons"));
        }
        Ok(())
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.peek_word("not") {
            self.at += 1;
            return self.nested(|p| Ok(Expr::Not(Box::new(p.not()?))));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, String> {
        if matches!(self.toks.get(self.at), Some(Tok::LParen)) {
            self.at += 1;
            return self.nested(|p| {
                let e = p.or()?;
                p.expect(Tok::RParen)?;
                Ok(e)
            });
        }
        self.term()?;
        if self.peek_word("geo.intersects") {
            self.at += 1;
            self.expect(Tok::LParen)?;
            let Some(Tok::Ident(path)) = self.next() else {
                return Err("geo.intersects needs a property path first".into());
            };
            self.expect(Tok::Comma)?;
            let Some(Tok::Geography(wkt)) = self.next() else {
                return Err("geo.intersects needs geography'POLYGON((…))'".into());
            };
            self.expect(Tok::RParen)?;
            let polygon = polygon(&wkt, MAX_POLYGON_VERTICES - self.vertices)?;
            self.vertices += vertices(&polygon);
            return Ok(Expr::GeoIntersects(split_path(&path), polygon));
        }
        let left = self.operand()?;
        let op = match self.next() {
            Some(Tok::Ident(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" => CmpOp::Eq,
                "ne" => CmpOp::Ne,
                "gt" => CmpOp::Gt,
                "ge" => CmpOp::Ge,
                "lt" => CmpOp::Lt,
                "le" => CmpOp::Le,
                _ => return Err(format!("unknown operator {w:?}")),
            },
            other => return Err(format!("expected a comparison operator, found {other:?}")),
        };
        Ok(Expr::Cmp(op, left, self.operand()?))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        Ok(match self.next() {
            Some(Tok::Num(n)) => Operand::Lit(Scalar::Num(n)),
            Some(Tok::Str(s)) => Operand::Lit(Scalar::Str(s)),
            Some(Tok::Time(t)) => Operand::Lit(Scalar::Time(t)),
            Some(Tok::Ident(w)) if w == "true" || w == "false" => Operand::Lit(Scalar::Bool(w == "true")),
            Some(Tok::Ident(w)) if w == "null" => Operand::Lit(Scalar::Null),
            Some(Tok::Ident(w)) => Operand::Path(split_path(&w)),
            other => return Err(format!("expected a value or property, found {other:?}")),
        })
    }
}

fn split_path(p: &str) -> Vec<String> {
    p.split('/').map(str::to_owned).collect()
}

fn vertices(p: &Polygon<f64>) -> usize {
    p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()
}

/// A WKT `POLYGON` with at most `max_vertices` vertices. The WKT parser recurses into nested
/// collections, so the text is checked first: it must be a polygon (nesting depth 2) of bounded size.
fn polygon(src: &str, max_vertices: usize) -> Result<Polygon<f64>, String> {
    use std::str::FromStr;
    if !src.trim_start().get(..7).is_some_and(|w| w.eq_ignore_ascii_case("POLYGON")) {
        return Err("geo.intersects takes a POLYGON".into());
    }
    let mut depth = 0usize;
    for c in src.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > 2 {
            return Err("bad WKT: a POLYGON nests parentheses two deep".into());
        }
    }
    // Each vertex but the last of a ring is followed by a comma: commas bound the vertex count.
    if src.matches(',').count() >= max_vertices {
        return Err(format!("polygons may have at most {MAX_POLYGON_VERTICES} vertices in all"));
    }
    let w = wkt::Wkt::<f64>::from_str(src).map_err(|e| format!("bad WKT: {e}"))?;
    let g: geo::Geometry<f64> = w.try_into().map_err(|_| "WKT is not a geometry".to_string())?;
    match g {
        geo::Geometry::Polygon(p) => Ok(p),
        _ => Err("geo.intersects takes a POLYGON".into()),
    }
}

/// Parses a `$filter` expression.
pub fn parse(src: &str) -> Result<Expr, String> {
    if src.len() > MAX_FILTER_BYTES {
        return Err(format!("longer than {MAX_FILTER_BYTES} bytes"));
    }
    let mut p = Parser { toks: lex(src)?, at: 0, depth: 0, terms: 0, vertices: 0 };
    if p.toks.is_empty() {
        return Err("empty $filter".into());
    }
    let e = p.or()?;
    if p.at < p.toks.len() {
        return Err(format!("unexpected {:?} after the expression", p.toks[p.at]));
    }
    Ok(e)
}

fn compare(op: CmpOp, a: &Scalar, b: &Scalar) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (Scalar::Num(x), Scalar::Num(y)) => x.partial_cmp(y),
        (Scalar::Str(x), Scalar::Str(y)) => Some(x.cmp(y)),
        (Scalar::Time(x), Scalar::Time(y)) => Some(x.cmp(y)),
        (Scalar::Bool(x), Scalar::Bool(y)) => Some(x.cmp(y)),
        (Scalar::Null, Scalar::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match (op, ord) {
        (CmpOp::Ne, None) => true,
        (_, None) => false,
        (CmpOp::Eq, Some(o)) => o.is_eq(),
        (CmpOp::Ne, Some(o)) => o.is_ne(),
        (CmpOp::Gt, Some(o)) => o.is_gt(),
        (CmpOp::Ge, Some(o)) => o.is_ge(),
        (CmpOp::Lt, Some(o)) => o.is_lt(),
        (CmpOp::Le, Some(o)) => o.is_le(),
    }
}

fn value(o: &Operand, r: &impl Resolve) -> Scalar {
    match o {
        Operand::Lit(s) => s.clone(),
        Operand::Path(p) => r.scalar(p).unwrap_or(Scalar::Null),
    }
}

/// Evaluates a filter against an entity.
pub fn eval(e: &Expr, r: &impl Resolve) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, r) || eval(b, r),
        Expr::And(a, b) => eval(a, r) && eval(b, r),
        Expr::Not(a) => !eval(a, r),
        Expr::Cmp(op, a, b) => compare(*op, &value(a, r), &value(b, r)),
        Expr::GeoIntersects(path, poly) => {
            r.point(path).is_some_and(|(x, y)| poly.contains(&Point::new(x, y)) || poly.intersects(&Point::new(x, y)))
        }
    }
}

/// Translates a filter to SQL, mapping property paths to column expressions with `column`. Every
/// literal becomes a numbered parameter (`?N`), pushed onto `args` for the caller to bind: no value
/// is ever written into the SQL text.
pub fn to_sql(
    e: &Expr,
    column: &dyn Fn(&[String]) -> Option<&'static str>,
    args: &mut Vec<Scalar>,
) -> Result<String, String> {
    let operand = |o: &Operand, args: &mut Vec<Scalar>| -> Result<String, String> {
        match o {
            Operand::Path(p) => {
                column(p).map(str::to_owned).ok_or_else(|| format!("cannot filter observations on {:?}", p.join("/")))
            }
            Operand::Lit(s) => {
                args.push(s.clone());
                Ok(format!("?{}", args.len()))
            }
        }
    };
    Ok(match e {
        Expr::Or(a, b) => format!("({} OR {})", to_sql(a, column, args)?, to_sql(b, column, args)?),
        Expr::And(a, b) => format!("({} AND {})", to_sql(a, column, args)?, to_sql(b, column, args)?),
        Expr::Not(a) => format!("(NOT {})", to_sql(a, column, args)?),
        Expr::Cmp(op, a, b) => {
            let sym = match op {
                CmpOp::Eq => "=",
                CmpOp::Ne => "<>",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
            };
            format!("({} {sym} {})", operand(a, args)?, operand(b, args)?)
        }
        Expr::GeoIntersects(..) => return Err("geo.intersects does not apply to Observations".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct E;
    impl Resolve for E {
        fn scalar(&self, path: &[String]) -> Option<Scalar> {
            match path.join("/").as_str() {
                "name" => Some(Scalar::Str("Noise sensor 7".into())),
                "@iot.id" => Some(Scalar::Num(7.0)),
                "properties/kind" => Some(Scalar::Str("noise".into())),
                "phenomenonTime" => Some(Scalar::Time(parse_time("2026-11-21T10:00:00Z").unwrap())),
                _ => None,
            }
        }
        fn point(&self, path: &[String]) -> Option<(f64, f64)> {
            (path.join("/") == "Locations/location").then_some((114.05, 22.54))
        }
    }

    fn t(src: &str) -> bool {
        eval(&parse(src).unwrap_or_else(|e| panic!("{src}: {e}")), &E)
    }

    #[test]
    fn comparisons_logic_and_literals() {
        assert!(t("@iot.id eq 7"));
        assert!(t("@iot.id gt 6 and @iot.id le 7"));
        assert!(t("not (@iot.id lt 7) and properties/kind eq 'noise'"));
        assert!(t("name eq 'x' or properties/kind ne 'pm25'"));
        // 12:00+02:00 is 10:00Z: not after 10:00Z.
        assert!(!t("phenomenonTime ge 2026-11-21T09:00:00Z and phenomenonTime lt 2026-11-21T12:00:00+02:00"));
        assert!(t("phenomenonTime ge 2026-11-21T09:00:00Z"));
        assert!(t("missing eq null"));
        assert!(!t("name eq 7"), "type mismatch is false");
        assert!(t("name eq 'Noise sensor 7'"));
        assert!(!t("name eq 'it''s'"));
    }

    #[test]
    fn geo_intersects_with_a_polygon() {
        assert!(t("geo.intersects(Locations/location, geography'POLYGON((114 22, 115 22, 115 23, 114 23, 114 22))')"));
        assert!(!t("geo.intersects(Locations/location, geography'POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))')"));
    }

    #[test]
    fn malformed_filters_are_errors() {
        for bad in [
            "",
            "@iot.id",
            "@iot.id eq",
            "@iot.id xx 3",
            "(a eq 1",
            "a eq 1)",
            "name eq 'open",
            "a eq 1 b",
            "geo.intersects(l, geography'POINT(1 2)')",
            "geo.intersects(l, geography'POLYGON((oops')",
            "t ge 2026-13-45T99:00:00Z",
            "a eq #",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn deep_wide_and_long_filters_are_refused_before_any_work() {
        let deep = format!("{}a eq 1{}", "(".repeat(3000), ")".repeat(3000));
        assert!(parse(&deep).unwrap_err().contains("nested deeper"));
        let nots = format!("{}a eq 1", "not ".repeat(10_000));
        assert!(parse(&nots).unwrap_err().contains("longer than"), "40 kB is refused for its length");
        let nots = format!("{}a eq 1", "not ".repeat(MAX_DEPTH + 1));
        assert!(parse(&nots).unwrap_err().contains("nested deeper"));
        let at_limit = format!("{}a eq 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&at_limit).is_ok(), "{MAX_DEPTH} levels are fine");
        let wide = vec!["a eq 1"; MAX_TERMS + 1].join(" and ");
        assert!(parse(&wide).unwrap_err().contains("comparisons"));
        assert!(parse(&vec!["a eq 1"; MAX_TERMS].join(" or ")).is_ok());
        let ring: Vec<String> = (0..MAX_POLYGON_VERTICES).map(|i| format!("{i} 0")).collect();
        let big = format!("geo.intersects(l, geography'POLYGON(({}, 0 0))')", ring.join(", "));
        assert!(parse(&big).unwrap_err().contains("vertices"));
        let nested = format!("geo.intersects(l, geography'GEOMETRYCOLLECTION({}')", "GEOMETRYCOLLECTION(".repeat(5000));
        assert!(parse(&nested).is_err());
        let nested = format!("geo.intersects(l, geography'POLYGON({}0 0{}')", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&nested).unwrap_err().contains("two deep"));
    }

    #[test]
    fn sql_translation_uses_parameters() {
        let col = |p: &[String]| match p.join("/").as_str() {
            "result" => Some("result"),
            "phenomenonTime" => Some("time"),
            _ => None,
        };
        let mut args = Vec::new();
        let e = parse("result gt 50 and not (phenomenonTime lt 2026-11-21T00:00:00Z)").unwrap();
        let sql = to_sql(&e, &col, &mut args).unwrap();
        assert_eq!(sql, "((result > ?1) AND (NOT (time < ?2)))");
        assert_eq!(args.len(), 2);
        assert!(to_sql(&parse("name eq 'x'").unwrap(), &col, &mut args).is_err());
        // Values only ever become parameters; anything else is a parse error, never SQL.
        assert!(parse("result eq 1; DROP TABLE observations").is_err());
        let mut args = Vec::new();
        let sql = to_sql(&parse("result eq '1; DROP TABLE observations'").unwrap(), &col, &mut args).unwrap();
        assert_eq!(sql, "(result = ?1)");
    }
}
