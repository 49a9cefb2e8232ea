//! End-to-end tests: real servers on port 0 with their own SQLite files (and
//! PostgreSQL databases, when the tests are built with
//! `SCRAPE_TEST_POSTGRES_URL`), the real client crate, and a local fixture
//! site over HTTP.

mod fixture;
mod helpers;

mod binary;
mod catalog;
mod cli;
mod cli_output;
mod crash;
mod dashboard;
mod exports;
mod faults;
mod leases;
mod lifecycle;
mod management;
mod options;
mod pages;
mod persistence;
mod proxy;
mod replicas;
mod store_faults;
mod streaming;
mod validation;
