//! The `scrape-server` binary accepts every flag operators rely on.
//! (Building this test also builds the binary the end-to-end tests run.)

use std::process::Command;

#[test]
fn help_lists_every_documented_flag_and_its_environment_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_scrape-server")).arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for (flag, env) in [
        ("--listen", "SCRAPE_LISTEN"),
        ("--database-url", "DATABASE_URL"),
        ("--site-base-url", "SCRAPE_SITE_BASE_URL"),
        ("--export-dir", "SCRAPE_EXPORT_DIR"),
        ("--workers", "SCRAPE_WORKERS"),
        ("--concurrency", "SCRAPE_CONCURRENCY"),
        ("--per-host-concurrency", "SCRAPE_PER_HOST_CONCURRENCY"),
        ("--per-host-delay-ms", "SCRAPE_PER_HOST_DELAY_MS"),
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
        assert!(help.contains(env), "{env} missing from --help");
    }
}

#[test]
fn a_bad_flag_value_is_refused_before_anything_starts() {
    let output = Command::new(env!("CARGO_BIN_EXE_scrape-server"))
        .args(["--concurrency", "0", "--database-url", "sqlite:///nonexistent/dir/x.db"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--concurrency"));
}
