//! The stored form of a rollup [`Day`]: one row per part — its totals (counts, hours, web-vital
//! histograms, losses), each dimension apart, and its staff traffic — so that a report reads only
//! what it shows (an overview over a year reads 365 small totals, not 365 whole days) and the
//! consumer rewrites only the parts a batch changed. Input: a day, or its stored parts as text.
//! Output: the other. Must not: count (the aggregate stage does).

use std::collections::BTreeMap;

use super::aggregate::{dim, Day, Tally};

/// The part holding a day's totals; every write of a day rewrites it, so its version is the day's.
pub const TOTALS: &str = "totals";
/// The part holding the day's staff traffic, whole.
pub const STAFF: &str = "staff";
/// The parts holding dimensions, each `{dimension: {value: counts}}` of the dimensions it groups:
/// the three that grow with a site's pages alone, the visit's small ones together (a batch
/// changes most of them at once: one row written, not eight), events with goals and revenue.
pub const GROUPS: &[(&str, &[&str])] = &[
    (dim::PAGES, &[dim::PAGES]),
    (dim::ENTRY, &[dim::ENTRY]),
    (dim::EXIT, &[dim::EXIT]),
    (
        "visits",
        &[
            dim::SOURCES,
            dim::CHANNELS,
            dim::REFERRERS,
            dim::UTM,
            dim::COUNTRIES,
            dim::DEVICES,
            dim::BROWSERS,
            dim::OS,
        ],
    ),
    (dim::EVENTS, &[dim::EVENTS, dim::GOALS, dim::REVENUE]),
];
/// Every dimension of a day, in its parts' order.
pub fn dimensions() -> impl Iterator<Item = &'static str> {
    GROUPS.iter().flat_map(|(_, dims)| dims.iter().copied())
}

/// Every part a day may have.
pub fn names() -> impl Iterator<Item = &'static str> {
    [TOTALS, STAFF]
        .into_iter()
        .chain(GROUPS.iter().map(|(part, _)| *part))
}

/// The part holding dimension `dimension`.
pub fn part_of(dimension: &str) -> Option<&'static str> {
    GROUPS
        .iter()
        .find(|(_, dims)| dims.contains(&dimension))
        .map(|(part, _)| *part)
}

fn json(value: &impl serde::Serialize) -> String {
    // Days hold only strings, integers and finite amounts: this cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// A day as its parts: (part, JSON). The totals always; a dimension part or the staff part when
/// the day has any of it.
pub fn split(day: &Day) -> Vec<(&'static str, String)> {
    let totals = Day {
        pageviews: day.pageviews,
        visitors: day.visitors,
        visits: day.visits,
        bounces: day.bounces,
        duration_ms: day.duration_ms,
        hours: day.hours.clone(),
        dims: BTreeMap::new(),
        vitals: day.vitals.clone(),
        lost: day.lost,
        staff: None,
    };
    let mut out = vec![(TOTALS, json(&totals))];
    for (part, dims) in GROUPS {
        let held: BTreeMap<&str, &BTreeMap<String, Tally>> = dims
            .iter()
            .filter_map(|d| day.dims.get(*d).map(|values| (*d, values)))
            .collect();
        if !held.is_empty() {
            out.push((*part, json(&held)));
        }
    }
    if let Some(staff) = &day.staff {
        out.push((STAFF, json(staff)));
    }
    out
}

/// One stored part as a day holding only what the part holds: the totals (without any dimension
/// or staff traffic), one part's dimensions, or the staff traffic — so the parts of a day add up
/// (what a reader that keeps parts apart sums); an error says why it cannot be read.
pub fn read_part(name: &str, text: &str) -> Result<Day, String> {
    if name == TOTALS {
        let mut totals = serde_json::from_str::<Day>(text).map_err(|e| e.to_string())?;
        totals.dims.clear();
        totals.staff = None;
        return Ok(totals);
    }
    if name == STAFF {
        let staff = serde_json::from_str::<Day>(text).map_err(|e| e.to_string())?;
        return Ok(Day {
            staff: Some(Box::new(staff)),
            ..Day::default()
        });
    }
    let mut reader = serde_json::Deserializer::from_str(text);
    let dims = super::aggregate::dims_in_bulk(&mut reader)
        .and_then(|dims| reader.end().map(|()| dims))
        .map_err(|e| e.to_string())?;
    Ok(Day {
        dims,
        ..Day::default()
    })
}

/// A part that could not be read: its name, its text, why.
pub type Unreadable = (String, String, String);

/// A day from its stored parts; a part that cannot be read counts as empty and is answered apart.
pub fn join(parts: Vec<(String, String)>) -> (Day, Vec<Unreadable>) {
    let mut day = Day::default();
    let mut unreadable = Vec::new();
    let mut rest = Vec::new();
    for (name, text) in parts {
        if name == TOTALS {
            match serde_json::from_str::<Day>(&text) {
                // (A whole day, as the single-row rollups held it, reads as its totals too.)
                Ok(totals) => day = totals,
                Err(e) => unreadable.push((name, text, e.to_string())),
            }
        } else {
            rest.push((name, text));
        }
    }
    for (name, text) in rest {
        match read_part(&name, &text) {
            Ok(part) if name == STAFF => day.staff = part.staff,
            Ok(part) => day.dims.extend(part.dims),
            Err(e) => unreadable.push((name, text, e)),
        }
    }
    (day, unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_splits_into_parts_and_joins_back() {
        let mut day = Day {
            pageviews: 3,
            visitors: 2,
            lost: 1,
            ..Day::default()
        };
        day.dims.entry(dim::PAGES.into()).or_default().insert(
            "/a".into(),
            Tally {
                visitors: 1,
                count: 2,
                amount: 0.0,
            },
        );
        day.audience(true).pageviews = 7;
        let parts = split(&day);
        assert_eq!(
            parts.iter().map(|p| p.0).collect::<Vec<_>>(),
            vec![TOTALS, dim::PAGES, STAFF]
        );
        assert!(
            !parts[0].1.contains("/a"),
            "totals hold no dimension: {}",
            parts[0].1
        );
        let owned = parts.into_iter().map(|(n, t)| (n.to_owned(), t)).collect();
        assert_eq!(join(owned), (day, vec![]));
        let (empty, bad) = join(vec![
            (dim::PAGES.into(), "{".into()),
            (TOTALS.into(), r#"{"pageviews":4}"#.into()),
        ]);
        assert_eq!((empty.pageviews, empty.dims.len(), bad.len()), (4, 0, 1));
    }
}
