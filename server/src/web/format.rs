//! How values read on a page: times, durations, counts, and the short
//! descriptions of a task's targets.

use chrono::{DateTime, TimeDelta, Utc};

use crate::catalog::Catalog;
use crate::domain::TaskSpec;

/// A moment, to the second, in UTC (the same for every reader of a shared
/// dashboard).
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The machine-readable form for `<time datetime>`.
pub fn datetime(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A duration at the precision a person cares about: tenths of a second
/// for short runs, minutes and hours for long ones.
pub fn duration(delta: TimeDelta) -> String {
    let millis = delta.num_milliseconds().max(0);
    let seconds = millis / 1000;
    match seconds {
        0..10 => format!("{:.1} s", millis as f64 / 1000.0),
        10..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// A completion percentage as shown next to a progress bar: whole percents,
/// never rounded up to 100 before the end.
pub fn percent(value: f64) -> u32 {
    let floor = value.clamp(0.0, 100.0).floor();
    floor as u32
}

/// What a task searches, in a few words: its keywords and places.
pub fn targets(spec: &TaskSpec, catalog: &Catalog) -> String {
    let mut places: Vec<String> =
        spec.regions.iter().map(|code| catalog.region_name(code).to_owned()).collect::<Vec<_>>();
    places.extend(
        spec.prefectures.iter().map(|code| catalog.prefecture_by_code(code).map_or(code.clone(), |p| p.name.clone())),
    );
    match places.len() {
        0 => "every prefecture".to_owned(),
        1..=3 => places.join(", "),
        n => format!("{}, {} and {} more", places[0], places[1], n - 2),
    }
}

/// A prefecture code with its name, when the catalog knows it.
pub fn prefecture(catalog: &Catalog, code: &str) -> String {
    catalog.prefecture_by_code(code).map_or_else(|| code.to_owned(), |p| format!("{} ({})", p.name, p.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_human_precision() {
        assert_eq!(duration(TimeDelta::milliseconds(230)), "0.2 s");
        assert_eq!(duration(TimeDelta::seconds(42)), "42 s");
        assert_eq!(duration(TimeDelta::seconds(184)), "3 min 04 s");
        assert_eq!(duration(TimeDelta::seconds(3 * 3600 + 125)), "3 h 02 min");
        assert_eq!(duration(TimeDelta::seconds(-5)), "0.0 s");
    }

    #[test]
    fn percentages_reach_100_only_at_the_end() {
        assert_eq!(percent(99.9), 99);
        assert_eq!(percent(100.0), 100);
        assert_eq!(percent(f64::NAN), 0);
    }
}
