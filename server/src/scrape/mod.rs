//! The scraping engine: site profiles, fetching, parsing, and searching one
//! site for one keyword page by page. It knows neither gRPC nor the
//! database: the caller takes each page's cards.

pub mod budget;
pub mod dates;
pub mod fetch;
pub mod filter;
pub mod limits;
pub mod parse;
pub mod parser_pool;
pub mod profile;
pub mod resolve;
pub mod search;

pub use budget::ParseBudget;
pub use fetch::{FetchConfig, FetchError, Fetcher};
pub use filter::CardFilter;
pub use limits::{Limits, LimitsConfig};
pub use parser_pool::ParserPool;
pub use profile::{CompiledProfile, Profiles, SiteBase, SiteProfile};
pub use resolve::{Pin, Resolver};
pub use search::{OperationReport, Page, Scraper, Search, SearchError, SearchState, ServerNotice, Site};
