//! Percentiles of measured durations.

use std::time::Duration;

/// p50, p99 and max of some durations, in milliseconds.
pub fn percentiles(mut samples: Vec<Duration>) -> serde_json::Value {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    serde_json::json!({
        "samples": samples.len(),
        "p50_ms": round(at(0.50)),
        "p99_ms": round(at(0.99)),
        "max_ms": round(at(1.0)),
    })
}

pub fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
