//! `scrape.v1.CatalogService` over gRPC.

use std::sync::Arc;

use scrape_api::pb;
use scrape_api::pb::catalog_service_server::CatalogService as CatalogServiceApi;
use tonic::{Request, Response, Status};

use crate::catalog::Catalog;
use crate::domain::Violations;
use crate::grpc::convert;
use crate::grpc::status::invalid_argument;

/// The gRPC face of the catalog.
#[derive(Debug, Clone)]
pub struct CatalogApi {
    catalog: Arc<Catalog>,
}

impl CatalogApi {
    pub fn new(catalog: Arc<Catalog>) -> CatalogApi {
        CatalogApi { catalog }
    }
}

#[tonic::async_trait]
impl CatalogServiceApi for CatalogApi {
    async fn list_regions(
        &self,
        _request: Request<pb::ListRegionsRequest>,
    ) -> Result<Response<pb::ListRegionsResponse>, Status> {
        Ok(Response::new(pb::ListRegionsResponse {
            regions: self.catalog.regions().iter().map(convert::region).collect(),
        }))
    }

    async fn list_prefectures(
        &self,
        request: Request<pb::ListPrefecturesRequest>,
    ) -> Result<Response<pb::ListPrefecturesResponse>, Status> {
        let region = request.get_ref().region.trim();
        let prefectures: Vec<_> = if region.is_empty() {
            self.catalog.prefectures().iter().collect()
        } else {
            let found = self.catalog.region(region).ok_or_else(|| {
                invalid_argument(Violations::one("region", format!("unknown region {region:?}: see ListRegions")))
            })?;
            self.catalog.prefectures_in(&found.code).collect()
        };
        Ok(Response::new(pb::ListPrefecturesResponse {
            prefectures: prefectures.into_iter().map(|p| convert::prefecture(&self.catalog, p)).collect(),
        }))
    }
}
