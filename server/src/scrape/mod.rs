//! The scraping engine: site profiles, fetching, parsing, and running one
//! operation (one keyword on one site) page by page. It knows neither gRPC
//! nor the database: results leave through a [`PageSink`].

pub mod dates;
pub mod fetch;
pub mod filter;
pub mod limits;
pub mod operation;
pub mod parse;
pub mod profile;

pub use fetch::{FetchConfig, FetchError, Fetcher};
pub use filter::CardFilter;
pub use limits::{Limits, LimitsConfig};
pub use operation::{Cancelled, OperationReport, PageSink, Scraper};
pub use parse::Card;
pub use profile::{CompiledProfile, SiteBase, SiteProfile};
