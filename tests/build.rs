//! Chooses which outside services the end-to-end tests use, from the
//! environment of the build: `SCRAPE_TEST_POSTGRES_URL` enables the
//! PostgreSQL tests (cfg `scrape_postgres`); `SCRAPE_TEST_BROWSER=1` (or
//! `SCRAPE_REQUIRE_BROWSER`, its older name) the headless-Chromium ones (cfg
//! `scrape_browser`). A test whose service is not configured is reported as
//! ignored; one whose service is configured runs, and fails if the service
//! does not answer.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(scrape_postgres)");
    println!("cargo::rustc-check-cfg=cfg(scrape_browser)");
    for name in ["SCRAPE_TEST_POSTGRES_URL", "SCRAPE_TEST_BROWSER", "SCRAPE_REQUIRE_BROWSER"] {
        println!("cargo::rerun-if-env-changed={name}");
    }
    if set("SCRAPE_TEST_POSTGRES_URL").is_some() {
        println!("cargo::rustc-cfg=scrape_postgres");
    }
    if set("SCRAPE_TEST_BROWSER").is_some_and(|value| value != "0") || set("SCRAPE_REQUIRE_BROWSER").is_some() {
        println!("cargo::rustc-cfg=scrape_browser");
    }
}

/// The variable's value, unless it is unset or blank.
fn set(name: &str) -> Option<String> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}
