//! End-to-end tests: real servers on port 0 with their own SQLite files (and
//! PostgreSQL databases, when the tests are built with
//! `SCRAPE_TEST_POSTGRES_URL`), the real client crate, and a local fixture
//! site over HTTP.

mod fixture;
mod helpers;
mod watch_helpers;

mod binary;
mod catalog;
mod cli;
mod cli_output;
mod crash;
mod dashboard;
mod export_safety;
mod exports;
mod faults;
mod hostile;
mod json_api;
mod leases;
mod lifecycle;
mod management;
mod options;
mod ordering;
mod pages;
mod persistence;
mod politeness;
mod proxy;
mod replicas;
mod security;
mod store_faults;
mod streaming;
mod unsupported;
mod validation;
mod watch_cli;
mod watch_notifications;
mod watch_pages;
mod watch_replicas;
mod watches;
mod word_search;
