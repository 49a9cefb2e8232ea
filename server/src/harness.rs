//! Entry points for the fuzz targets (`fuzz/`) and their stable-toolchain
//! runner (the `harness` tests): hostile bytes in, and a panic if any rule
//! the rest of the server relies on is broken by what comes out.

use prost::Message;
use scrape_api::pb;

use crate::catalog::Catalog;
use crate::domain::text::is_hidden_or_control;
use crate::domain::{PageSize, TaskId, TaskSpec};
use crate::grpc::convert;
use crate::scrape::ParseBudget;
use crate::scrape::parse::parse_cards;
use crate::scrape::profile::{SiteProfile, canonical_origin};
use crate::service::{
    DocumentListRequest, DocumentListing, ResultListRequest, ResultListing, TaskListRequest, TaskListing,
};

/// A search page of any bytes: refused by the parse budget, or every card
/// found has a web link and trimmed text, and there are no more than the
/// budget's cards.
pub fn parse_page(bytes: &[u8]) {
    let html = String::from_utf8_lossy(bytes);
    let Ok(profile) = SiteProfile::prefecture().compile() else { return };
    let Ok(origin) = canonical_origin("www.morbihan.gouv.fr") else { return };
    let budget = ParseBudget::default();
    let Ok(cards) = parse_cards(&profile, &html, &origin, &budget) else { return };
    assert!(cards.len() <= budget.max_cards);
    for card in cards {
        assert!(card.link.starts_with("http://") || card.link.starts_with("https://"), "{}", card.link);
        assert_eq!(card.title.trim(), card.title);
    }
}

/// A `StartTask` request of any bytes: refused, or a task within the
/// limits whose text holds nothing invisible.
pub fn decode_start_task(bytes: &[u8]) {
    let Ok(request) = pb::StartTaskRequest::decode(bytes) else { return };
    let Ok(raw) = convert::raw_spec(request) else { return };
    match TaskSpec::parse(raw, &Catalog::builtin()) {
        Ok(spec) => {
            assert!(
                !spec.keywords.is_empty() && spec.total_operations() <= crate::domain::spec::DEFAULT_MAX_OPERATIONS
            );
            assert!(!spec.keywords.iter().any(|k| k.chars().any(is_hidden_or_control)));
        }
        Err(violations) => {
            assert!(!violations.is_empty());
            assert!(violations.to_string().len() < 64 * 1024, "a bounded error");
        }
    }
}

/// The list requests of any bytes: refused, or a page size within bounds.
pub fn decode_list_requests(bytes: &[u8]) {
    let catalog = Catalog::builtin();
    if let Ok(request) = pb::ListTasksRequest::decode(bytes) {
        let listing = TaskListing::parse(TaskListRequest {
            query: &request.query,
            page_size: request.page_size.into(),
            page_token: &request.page_token,
            ..TaskListRequest::default()
        });
        if let Ok(listing) = listing {
            assert!((1..=PageSize::MAX).contains(&listing.size.get()));
        }
    }
    if let Ok(request) = pb::ListDocumentsRequest::decode(bytes) {
        let _ = DocumentListing::parse(
            DocumentListRequest {
                task_id: &request.task_id,
                prefecture: &request.prefecture,
                keyword: &request.keyword,
                query: &request.query,
                page_size: request.page_size.into(),
                page_token: &request.page_token,
            },
            &catalog,
        );
    }
    if let Ok(request) = pb::ListTaskResultsRequest::decode(bytes) {
        let task = TaskId::parse_field("task_id", &request.task_id).unwrap_or_default();
        let _ = ResultListing::parse(
            task,
            ResultListRequest {
                prefecture: &request.prefecture,
                keyword: &request.keyword,
                page_size: request.page_size.into(),
                page_token: &request.page_token,
            },
            &catalog,
        );
    }
}
