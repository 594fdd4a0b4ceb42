//! Export: a site's raw events and daily aggregates, for `GET /api/sites/{site}/export` (a GDPR
//! access or portability request, a move to another tool). Input: the request's query parameters,
//! the site's zone and today; then stored rows, a page at a time. Output: the checked request,
//! and each row as one NDJSON line or one CSV record (RFC 4180), columns in one fixed order.
//! Must not: do I/O, or write a CSV field a spreadsheet would run as a formula.

use serde_json::{Map, Value};

use crate::ingest::aggregate::Day;
use crate::stats::{format_date, parse_date};
use crate::zone::DAY_MS;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// Raw events (kept for the site's retention).
    Events,
    /// Daily aggregates (kept as long as the site).
    Days,
}

/// How to write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object a line.
    Ndjson,
    /// A header line, then one record a line.
    Csv,
}

/// A checked export request: what, how, and which local days (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Events or days.
    pub data: Data,
    /// NDJSON or CSV.
    pub format: Format,
    /// First local day (days since 1970-01-01).
    pub first_day: i64,
    /// Last local day.
    pub last_day: i64,
}

/// Most days one export spans (ten years: every day a site can have aggregates for).
pub const MAX_DAYS: i64 = 3660;

/// The columns of an exported event, in order (the `events` table's, less the site).
pub const EVENT_COLUMNS: &[&str] = &[
    "event_id",
    "ts",
    "received_at",
    "name",
    "hostname",
    "path",
    "referrer_host",
    "source",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "country",
    "device",
    "browser",
    "os",
    "visitor_key",
    "session_key",
    "order_id",
    "sender",
    "props",
];

/// The columns of an exported day in CSV (NDJSON holds the whole day).
pub const DAY_COLUMNS: &[&str] = &[
    "date",
    "visitors",
    "visits",
    "pageviews",
    "bounces",
    "duration_ms",
    "lost",
    "staff_visitors",
    "staff_visits",
    "staff_pageviews",
];

/// Reads the query parameters: `data` (`events`, the default, or `days`), `format` (`ndjson`,
/// the default, or `csv`), `from` and `to` (`YYYY-MM-DD`, local days, inclusive; by default the
/// last 30 days to `today`). A fault is a message naming the parameter.
pub fn parse(params: &[(String, String)], today: i64) -> Result<Request, String> {
    let mut data = Data::Events;
    let mut format = Format::Ndjson;
    let (mut from, mut to) = (None, None);
    for (key, value) in params {
        match key.as_str() {
            "data" => {
                data = match value.as_str() {
                    "events" => Data::Events,
                    "days" => Data::Days,
                    _ => return Err(format!("`data` is `events` or `days`, not `{value}`")),
                }
            }
            "format" => {
                format = match value.as_str() {
                    "ndjson" => Format::Ndjson,
                    "csv" => Format::Csv,
                    _ => return Err(format!("`format` is `ndjson` or `csv`, not `{value}`")),
                }
            }
            "from" | "to" => {
                let day = parse_date(value)
                    .ok_or_else(|| format!("`{key}` is a date, YYYY-MM-DD, not `{value}`"))?
                    .div_euclid(DAY_MS);
                if key == "from" {
                    from = Some(day);
                } else {
                    to = Some(day);
                }
            }
            _ => return Err(format!("unknown parameter `{key}`")),
        }
    }
    let last_day = to.unwrap_or(today);
    let first_day = from.unwrap_or(last_day - 29);
    if first_day > last_day {
        return Err("`from` is after `to`".into());
    }
    if last_day - first_day >= MAX_DAYS {
        return Err(format!("an export spans at most {MAX_DAYS} days"));
    }
    Ok(Request {
        data,
        format,
        first_day,
        last_day,
    })
}

impl Request {
    /// The header of the answer (CSV's column names; nothing for NDJSON).
    pub fn header(&self) -> String {
        match (self.format, self.data) {
            (Format::Ndjson, _) => String::new(),
            (Format::Csv, Data::Events) => csv_record(EVENT_COLUMNS.iter().map(|c| Some(*c))),
            (Format::Csv, Data::Days) => csv_record(DAY_COLUMNS.iter().map(|c| Some(*c))),
        }
    }

    /// The media type of the answer.
    pub fn content_type(&self) -> &'static str {
        match self.format {
            Format::Ndjson => "application/x-ndjson; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8; header=present",
        }
    }

    /// One stored event (a row holding [`EVENT_COLUMNS`]; `props` as its JSON text) as a line.
    pub fn event(&self, row: &Map<String, Value>) -> String {
        let value = |c: &str| row.get(c).cloned().unwrap_or(Value::Null);
        match self.format {
            Format::Ndjson => {
                // Written by hand to keep the columns' order (a JSON map here sorts its keys).
                let mut out = String::from("{");
                for (i, c) in EVENT_COLUMNS.iter().enumerate() {
                    let v = match (*c, value(c)) {
                        // The stored props text becomes the object it holds.
                        ("props", Value::String(text)) => {
                            serde_json::from_str(&text).unwrap_or(Value::String(text))
                        }
                        // D1 hands every number over as a float: whole ones are written whole.
                        (_, Value::Number(n)) => whole(&n).map_or(Value::Number(n), Value::from),
                        (_, v) => v,
                    };
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*c).to_owned()).to_string());
                    out.push(':');
                    out.push_str(&v.to_string());
                }
                out.push_str("}\n");
                out
            }
            Format::Csv => {
                let texts: Vec<Option<String>> =
                    EVENT_COLUMNS.iter().map(|c| text(&value(c))).collect();
                csv_record(texts.iter().map(Option::as_deref))
            }
        }
    }

    /// One stored day (its local day number and its document) as a line.
    pub fn day(&self, day: i64, data: &str) -> String {
        let date = format_date(day * DAY_MS);
        match self.format {
            Format::Ndjson => {
                let data = serde_json::from_str(data).unwrap_or(Value::Null);
                line(&serde_json::json!({"date": date, "data": data}))
            }
            Format::Csv => {
                let d: Day = serde_json::from_str(data).unwrap_or_default();
                let staff = d.staff.as_deref().cloned().unwrap_or_default();
                let numbers = [
                    d.visitors,
                    d.visits,
                    d.pageviews,
                    d.bounces,
                    d.duration_ms,
                    d.lost,
                    staff.visitors,
                    staff.visits,
                    staff.pageviews,
                ]
                .map(|n| n.to_string());
                csv_record(
                    std::iter::once(Some(date.as_str()))
                        .chain(numbers.iter().map(|n| Some(n.as_str()))),
                )
            }
        }
    }
}

fn line(value: &Value) -> String {
    let mut text = value.to_string();
    text.push('\n');
    text
}

/// A number that is whole (and exact as an integer), as one.
fn whole(n: &serde_json::Number) -> Option<i64> {
    n.as_f64()
        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
        .map(|f| f as i64)
}

/// A stored value as a CSV field's text: `None` for null; integers without a fraction.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(whole(n).map_or_else(|| n.to_string(), |i| i.to_string())),
        other => Some(other.to_string()),
    }
}

/// One CSV record and its line end (CRLF, as RFC 4180 has it): a field holding a comma, quote,
/// CR or LF is quoted, quotes doubled; a field a spreadsheet would read as a formula (starting
/// with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'` (OWASP's advice). A null is empty.
pub fn csv_record<'a>(fields: impl Iterator<Item = Option<&'a str>>) -> String {
    let mut out = String::new();
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let Some(field) = field else { continue };
        let guarded;
        let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            guarded = format!("'{field}");
            guarded.as_str()
        } else {
            field
        };
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let today = 20_000;
        let r = parse(&[], today).unwrap();
        assert_eq!(
            (r.data, r.format, r.first_day, r.last_day),
            (Data::Events, Format::Ndjson, today - 29, today)
        );
        let r = parse(
            &params(&[
                ("data", "days"),
                ("format", "csv"),
                ("from", "2026-01-01"),
                ("to", "2026-01-31"),
            ]),
            today,
        )
        .unwrap();
        assert_eq!(
            (r.data, r.format, r.last_day - r.first_day),
            (Data::Days, Format::Csv, 30)
        );
        for (bad, says) in [
            (vec![("format", "xml")], "`format`"),
            (vec![("data", "people")], "`data`"),
            (vec![("from", "2026-02-30")], "`from`"),
            (vec![("to", "yesterday")], "`to`"),
            (vec![("from", "2026-02-02"), ("to", "2026-02-01")], "after"),
            (
                vec![("from", "2000-01-01"), ("to", "2026-01-01")],
                "at most",
            ),
            (vec![("site", "x")], "unknown parameter `site`"),
        ] {
            let err = parse(&params(&bad), today).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn csv_quotes_what_it_must_and_defuses_formulas() {
        let rec = csv_record(
            [
                Some("plain"),
                None,
                Some("a,b"),
                Some("say \"hi\""),
                Some("two\nlines"),
                Some("=SUM(A1)"),
                Some("-1"),
            ]
            .into_iter(),
        );
        assert_eq!(
            rec,
            "plain,,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",'=SUM(A1),'-1\r\n"
        );
    }

    #[test]
    fn an_event_is_one_line_either_way() {
        let row: Map<String, Value> = serde_json::from_str(
            r#"{"event_id":"e1","ts":1764000000000,"name":"cart_add","path":"/p","props":"{\"sku\":\"A,1\",\"n\":2}","country":null}"#,
        )
        .unwrap();
        let nd = Request {
            data: Data::Events,
            format: Format::Ndjson,
            first_day: 0,
            last_day: 0,
        };
        let line = nd.event(&row);
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let back: Map<String, Value> = serde_json::from_str(&line).unwrap();
        assert_eq!(back["props"]["sku"], "A,1");
        assert_eq!(back["country"], Value::Null);
        assert_eq!(back.keys().count(), EVENT_COLUMNS.len());
        assert!(
            line.starts_with(r#"{"event_id":"e1","ts":1764000000000,"received_at":null,"#),
            "{line}"
        );
        let float: Map<String, Value> = serde_json::from_str(r#"{"ts":1764000000000.0}"#).unwrap();
        assert!(
            nd.event(&float).contains(r#""ts":1764000000000,"#),
            "whole numbers written whole"
        );
        let csv = Request {
            format: Format::Csv,
            ..nd
        };
        let record = csv.event(&row);
        assert!(
            record.starts_with("e1,1764000000000,,cart_add,,/p,"),
            "{record}"
        );
        assert!(
            record.contains(r#""{""n"":2,""sku"":""A,1""}""#)
                || record.contains(r#""{""sku"":""A,1"",""n"":2}""#),
            "{record}"
        );
        assert_eq!(
            csv.header().trim_end().split(',').count(),
            EVENT_COLUMNS.len()
        );
    }
}
