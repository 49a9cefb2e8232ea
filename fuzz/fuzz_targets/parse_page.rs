//! Fuzz target: `scrape_server::harness::parse_page` on the bytes libFuzzer makes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scrape_server::harness::parse_page(data));
