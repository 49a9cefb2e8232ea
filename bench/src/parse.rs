//! The parse floor: the engine's card extraction alone on every page of the
//! workload, read from the generated site, timed page by page on one core.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use scrape_server::scrape::parse::parse_cards;
use scrape_server::scrape::profile::canonical_origin;
use scrape_server::scrape::{ParseBudget, SiteProfile};
use serde_json::Value;

use crate::stats::round;

pub fn run(manifest: &Path, site_dir: &Path, keywords: &str, repeat: usize) -> anyhow::Result<()> {
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(manifest).context("manifest")?)?;
    let keywords: Vec<&str> = keywords.split(',').filter(|k| !k.is_empty()).collect();
    let page_size = manifest["page_size"].as_u64().context("page_size")?;
    let mut pages = Vec::new();
    let mut expected_cards = 0;
    let mut operations: Vec<&Value> = manifest["operations"]
        .as_object()
        .context("operations")?
        .values()
        .filter(|op| keywords.contains(&op["keyword"].as_str().unwrap_or_default()))
        .collect();
    operations.sort_by_key(|op| (op["domain"].as_str().map(str::to_owned), op["keyword"].as_str().map(str::to_owned)));
    for op in operations {
        let (domain, keyword) = (op["domain"].as_str().context("domain")?, op["keyword"].as_str().context("keyword")?);
        expected_cards += op["cards"].as_u64().context("cards")?;
        for page in 1..=op["pages"].as_u64().context("pages")? {
            let path = if page == 1 {
                format!("{domain}/contenu/recherche/(searchtext)/{keyword}")
            } else {
                format!("{domain}/contenu/recherche/(offset)/{}/(searchtext)/{keyword}", page_size * (page - 1))
            };
            let html = std::fs::read_to_string(site_dir.join(&path)).with_context(|| path.clone())?;
            pages.push((canonical_origin(domain)?, html));
        }
    }
    let profile = SiteProfile::prefecture().compile()?;
    // The same budget check as the server's, so the floor includes it.
    let budget = ParseBudget::default();
    let mut cards = 0u64;
    for (origin, html) in &pages {
        cards += parse_cards(&profile, html, origin, &budget)?.len() as u64;
    }
    anyhow::ensure!(cards == expected_cards, "extracted {cards} cards, the manifest has {expected_cards}");

    let mut best: Option<(f64, Vec<f64>)> = None;
    for _ in 0..repeat.max(1) {
        let mut times = Vec::with_capacity(pages.len());
        let all = Instant::now();
        for (origin, html) in &pages {
            let t = Instant::now();
            let _ = std::hint::black_box(parse_cards(&profile, html, origin, &budget));
            times.push(t.elapsed().as_secs_f64());
        }
        let total = all.elapsed().as_secs_f64();
        if best.as_ref().is_none_or(|(b, _)| total < *b) {
            best = Some((total, times));
        }
    }
    let (total, mut times) = best.context("at least one repeat")?;
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "scrape-tasks  median {:7.3} ms/page  mean {:7.3} ms  all {} pages {:6.2} s  ({:.1} pages/s on one core)",
        median * 1000.0,
        mean * 1000.0,
        pages.len(),
        total,
        pages.len() as f64 / total
    );
    let result = serde_json::json!({
        "median_ms": round(median * 1000.0),
        "mean_ms": round(mean * 1000.0),
        "total_s": round(total),
        "pages_per_s_one_core": round(pages.len() as f64 / total),
    });
    println!("SCRAPE_TASKS_PARSE {result}");
    Ok(())
}
