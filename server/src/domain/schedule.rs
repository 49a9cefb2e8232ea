//! When a watch runs: a cron expression on the wall clock of a time zone,
//! or a fixed interval; and which due time fires after a pause in the
//! scheduler (only the latest one: no burst of stale runs).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::domain::Violations;

/// Shortest interval accepted.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Longest interval accepted: a leap year.
pub const MAX_INTERVAL: Duration = Duration::from_secs(366 * 24 * 3600);
/// Longest cron expression accepted, in characters.
pub const MAX_EXPRESSION_LEN: usize = 200;

/// A schedule as a client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawSchedule {
    Cron { expression: String, time_zone: String },
    Interval(Duration),
}

/// A valid schedule.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Boxed: a compiled expression is much larger than an interval.
    Cron(Box<CronSchedule>),
    /// At least [`MIN_INTERVAL`], at most [`MAX_INTERVAL`].
    Interval(Duration),
}

/// A cron expression that matches some time, and the zone whose wall clock
/// it reads.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    expression: String,
    zone: Tz,
    cron: Cron,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        match (self, other) {
            (Schedule::Cron(a), Schedule::Cron(b)) => a.expression == b.expression && a.zone == b.zone,
            (Schedule::Interval(a), Schedule::Interval(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Schedule {}

/// What the scheduler does with a due time that has come: the one run it
/// fires, and the next due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Firing {
    /// The latest due time at or before now: the only one that runs, however
    /// many were missed while no scheduler was looking.
    pub slot: DateTime<Utc>,
    /// The first due time after it (`None`: the schedule never fires again).
    pub next: Option<DateTime<Utc>>,
}

impl CronSchedule {
    /// Five fields (minute hour day-of-month month day-of-week) or an alias
    /// (`@daily`), read on the wall clock of `time_zone` (UTC when empty).
    /// Problems are violations of `field.expression` and `field.time_zone`.
    pub fn parse(field: &str, expression: &str, time_zone: &str, violations: &mut Violations) -> Option<CronSchedule> {
        let expression = expression.split_whitespace().collect::<Vec<_>>().join(" ");
        let time_zone = time_zone.trim();
        let zone = if time_zone.is_empty() {
            Some(Tz::UTC)
        } else {
            let zone = Tz::from_str(time_zone).ok();
            if zone.is_none() {
                violations.add(
                    format!("{field}.time_zone"),
                    format!("unknown time zone {:?}: give an IANA name such as Europe/Paris or UTC", clip(time_zone)),
                );
            }
            zone
        };
        let cron = if expression.is_empty() {
            violations.add(format!("{field}.expression"), "is required, e.g. \"0 7 * * MON-FRI\"");
            None
        } else if expression.chars().count() > MAX_EXPRESSION_LEN {
            violations.add(format!("{field}.expression"), format!("must be at most {MAX_EXPRESSION_LEN} characters"));
            None
        } else {
            match parser().parse(&expression) {
                Ok(cron) => Some(cron),
                Err(e) => {
                    violations.add(
                        format!("{field}.expression"),
                        format!(
                            "{:?} is not a cron expression ({e}); give five fields: minute hour day-of-month \
                             month day-of-week, e.g. \"0 7 * * MON-FRI\"",
                            clip(&expression)
                        ),
                    );
                    None
                }
            }
        };
        let schedule = CronSchedule { expression, zone: zone?, cron: cron? };
        if schedule.next_after(Utc::now()).is_none() {
            violations.add(format!("{field}.expression"), "never matches a date (such as 30 February)");
            return None;
        }
        Some(schedule)
    }

    /// The expression, with its whitespace collapsed.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The IANA name of the zone.
    pub fn time_zone(&self) -> &str {
        self.zone.name()
    }

    fn next_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&self.zone);
        self.cron.find_next_occurrence(&local, false).ok().map(|t| t.with_timezone(&Utc))
    }

    fn latest_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&self.zone);
        self.cron.find_previous_occurrence(&local, true).ok().map(|t| t.with_timezone(&Utc))
    }
}

/// Five fields, no seconds or year: intervals are for anything finer.
fn parser() -> CronParser {
    CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build()
}

impl Schedule {
    /// The schedule of request field `field` (`watch.schedule`): required;
    /// a cron expression and time zone that exist, or an interval in range.
    pub fn parse(field: &str, raw: Option<RawSchedule>, violations: &mut Violations) -> Option<Schedule> {
        match raw {
            None => {
                violations.add(field, "is required: a cron expression with its time zone, or an interval");
                None
            }
            Some(RawSchedule::Cron { expression, time_zone }) => {
                CronSchedule::parse(&format!("{field}.cron"), &expression, &time_zone, violations)
                    .map(|c| Schedule::Cron(Box::new(c)))
            }
            Some(RawSchedule::Interval(interval)) => {
                if interval < MIN_INTERVAL {
                    violations.add(format!("{field}.interval"), "must be at least 1 second");
                    None
                } else if interval > MAX_INTERVAL {
                    violations.add(format!("{field}.interval"), "must be at most 366 days");
                    None
                } else {
                    Some(Schedule::Interval(interval))
                }
            }
        }
    }

    /// A schedule read back from storage (it was valid when stored).
    pub fn from_stored(cron: Option<(&str, &str)>, interval: Option<Duration>) -> Option<Schedule> {
        let mut ignored = Violations::new();
        match (cron, interval) {
            (Some((expression, zone)), None) => CronSchedule::parse("schedule.cron", expression, zone, &mut ignored)
                .map(|c| Schedule::Cron(Box::new(c))),
            (None, Some(interval)) => Schedule::parse("schedule", Some(RawSchedule::Interval(interval)), &mut ignored),
            _ => None,
        }
    }

    /// The first due time strictly after `at`: the next cron match, or `at`
    /// plus the interval (an interval counts from the watch's creation or
    /// resumption, then from each due time).
    pub fn next_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(cron) => cron.next_after(at),
            Schedule::Interval(interval) => TimeDelta::from_std(*interval).ok().and_then(|d| at.checked_add_signed(d)),
        }
    }

    /// What fires for a due time `due` that has come (`due <= now`): the
    /// latest due time at or before `now` — one run, however many due times
    /// passed while no scheduler ran — and the due time after it.
    pub fn catch_up(&self, due: DateTime<Utc>, now: DateTime<Utc>) -> Firing {
        let slot = if now <= due {
            due
        } else {
            match self {
                Schedule::Cron(cron) => cron.latest_at_or_before(now).map_or(due, |latest| latest.max(due)),
                Schedule::Interval(interval) => {
                    let step = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX).max(1);
                    let behind = (now - due).num_microseconds().unwrap_or(i64::MAX);
                    due + TimeDelta::microseconds((behind / step) * step)
                }
            }
        };
        Firing { slot, next: self.next_after(slot) }
    }

    /// The wire form, for echoing it back.
    pub fn raw(&self) -> RawSchedule {
        match self {
            Schedule::Cron(cron) => {
                RawSchedule::Cron { expression: cron.expression.clone(), time_zone: cron.time_zone().to_owned() }
            }
            Schedule::Interval(interval) => RawSchedule::Interval(*interval),
        }
    }
}

impl fmt::Display for Schedule {
    /// `0 7 * * MON-FRI (Europe/Paris)`, `every 1h 30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron(cron) => write!(f, "{} ({})", cron.expression, cron.time_zone()),
            Schedule::Interval(interval) => {
                let secs = interval.as_secs();
                let parts =
                    [(secs / 86_400, "d"), (secs % 86_400 / 3600, "h"), (secs % 3600 / 60, "m"), (secs % 60, "s")];
                let text: Vec<String> =
                    parts.iter().filter(|(n, _)| *n > 0).map(|(n, unit)| format!("{n}{unit}")).collect();
                if text.is_empty() {
                    write!(f, "every {} ms", interval.as_millis())
                } else {
                    write!(f, "every {}", text.join(" "))
                }
            }
        }
    }
}

fn clip(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn cron(expression: &str, zone: &str) -> Schedule {
        let mut violations = Violations::new();
        let raw = RawSchedule::Cron { expression: expression.into(), time_zone: zone.into() };
        let schedule = Schedule::parse("schedule", Some(raw), &mut violations);
        schedule.unwrap_or_else(|| panic!("{expression} in {zone}: {violations}"))
    }

    fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Europe::Paris.with_ymd_and_hms(y, m, d, h, min, 0).earliest().expect("a Paris time").to_utc()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("RFC 3339").to_utc()
    }

    #[test]
    fn weekday_mornings_in_paris_stay_at_seven_local_across_both_dst_changes() {
        let schedule = cron("0 7 * * MON-FRI", "Europe/Paris");
        // Friday 27 March 2026, then the clocks go forward on Sunday 29.
        let friday = schedule.next_after(utc("2026-03-27T05:00:00Z")).expect("next");
        assert_eq!(friday, utc("2026-03-27T06:00:00Z"), "07:00 CET is 06:00 UTC");
        let monday = schedule.next_after(friday).expect("next");
        assert_eq!(monday, utc("2026-03-30T05:00:00Z"), "07:00 CEST is 05:00 UTC, the weekend skipped");
        // Friday 23 October 2026, then the clocks go back on Sunday 25.
        let before = schedule.next_after(utc("2026-10-23T04:00:00Z")).expect("next");
        assert_eq!(before, utc("2026-10-23T05:00:00Z"));
        assert_eq!(schedule.next_after(before), Some(utc("2026-10-26T06:00:00Z")));
    }

    #[test]
    fn a_time_the_spring_change_skips_runs_once_right_after_the_gap() {
        // 02:30 does not exist in Paris on 29 March 2026 (02:00 → 03:00).
        let schedule = cron("30 2 * * *", "Europe/Paris");
        let runs: Vec<_> =
            std::iter::successors(schedule.next_after(paris(2026, 3, 28, 12, 0)), |at| schedule.next_after(*at))
                .take(3)
                .collect();
        assert_eq!(runs, [paris(2026, 3, 29, 3, 0), paris(2026, 3, 30, 2, 30), paris(2026, 3, 31, 2, 30)]);
        assert_eq!(runs[0], utc("2026-03-29T01:00:00Z"), "the first instant after the gap, once");
    }

    #[test]
    fn a_time_the_autumn_change_repeats_runs_once() {
        // 02:30 happens twice in Paris on 25 October 2026 (03:00 → 02:00).
        let schedule = cron("30 2 * * *", "Europe/Paris");
        let first = schedule.next_after(utc("2026-10-24T12:00:00Z")).expect("next");
        assert_eq!(first, utc("2026-10-25T00:30:00Z"), "the first 02:30, in summer time");
        assert_eq!(schedule.next_after(first), Some(utc("2026-10-26T01:30:00Z")), "not the second 02:30");
    }

    #[test]
    fn an_interval_counts_from_the_last_due_time() {
        let schedule = Schedule::Interval(Duration::from_secs(90));
        let start = utc("2026-12-01T10:00:00Z");
        assert_eq!(schedule.next_after(start), Some(utc("2026-12-01T10:01:30Z")));
        let firing = schedule.catch_up(utc("2026-12-01T10:01:30Z"), utc("2026-12-01T10:01:30.200Z"));
        assert_eq!(firing, Firing { slot: utc("2026-12-01T10:01:30Z"), next: Some(utc("2026-12-01T10:03:00Z")) });
    }

    #[test]
    fn after_downtime_an_interval_fires_once_for_the_latest_missed_time() {
        let schedule = Schedule::Interval(Duration::from_secs(3600));
        // Due at 10:00; the server came back at 15:20: five due times missed.
        let firing = schedule.catch_up(utc("2026-12-01T10:00:00Z"), utc("2026-12-01T15:20:00Z"));
        assert_eq!(firing.slot, utc("2026-12-01T15:00:00Z"));
        assert_eq!(firing.next, Some(utc("2026-12-01T16:00:00Z")), "the next one is in the future");
    }

    #[test]
    fn after_downtime_a_cron_schedule_fires_once_for_the_latest_missed_morning() {
        let schedule = cron("10 11 * * *", "Europe/Paris");
        // Due on Monday 11:10; back on Thursday at 09:00: Monday, Tuesday and
        // Wednesday were missed, Wednesday's is the one that runs.
        let firing = schedule.catch_up(paris(2026, 11, 30, 11, 10), paris(2026, 12, 3, 9, 0));
        assert_eq!(firing.slot, paris(2026, 12, 2, 11, 10));
        assert_eq!(firing.next, Some(paris(2026, 12, 3, 11, 10)));
    }

    #[test]
    fn invalid_expressions_and_zones_name_their_field() {
        let mut violations = Violations::new();
        let raw = RawSchedule::Cron { expression: "0 25 * * *".into(), time_zone: "Europe/Pariss".into() };
        assert!(Schedule::parse("watch.schedule", Some(raw), &mut violations).is_none());
        let fields: Vec<&str> = violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["watch.schedule.cron.time_zone", "watch.schedule.cron.expression"]);

        for bad in ["", "* * * *", "0 7 * * MON-FRI 2027", "*/5 * * * * *", "0 0 30 2 *"] {
            let mut violations = Violations::new();
            let raw = RawSchedule::Cron { expression: bad.into(), time_zone: "UTC".into() };
            assert!(Schedule::parse("s", Some(raw), &mut violations).is_none(), "{bad:?}");
            assert_eq!(violations.0[0].field, "s.cron.expression", "{bad:?}");
        }
        let mut violations = Violations::new();
        let short = RawSchedule::Interval(Duration::from_millis(999));
        assert!(Schedule::parse("s", Some(short), &mut violations).is_none());
        assert!(Schedule::parse("s", None, &mut violations).is_none());
        let fields: Vec<&str> = violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["s.interval", "s"]);
    }

    #[test]
    fn an_empty_zone_is_utc_and_aliases_are_accepted() {
        let schedule = cron("@daily", "");
        assert_eq!(schedule.to_string(), "@daily (UTC)");
        assert_eq!(schedule.next_after(utc("2026-12-01T10:00:00Z")), Some(utc("2026-12-02T00:00:00Z")));
        assert_eq!(Schedule::Interval(Duration::from_secs(5400)).to_string(), "every 1h 30m");
    }
}
