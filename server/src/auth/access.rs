//! Who may call what: the one table of every RPC and the role it needs.
//!
//! A method missing from the table needs the operator role, so a new RPC
//! is never open by mistake; a test checks that every method of the API's
//! descriptors is classified here, so adding one means choosing its role.

use crate::auth::Role;

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health checks and server reflection.
    Open,
    /// A token with at least this role.
    Needs(Role),
}

/// Every RPC of the API, by its HTTP/2 path, with the role it needs.
pub const METHODS: &[(&str, Role)] = &[
    ("/scrape.v1.TaskService/StartTask", Role::Operator),
    ("/scrape.v1.TaskService/GetTask", Role::Viewer),
    ("/scrape.v1.TaskService/ListTasks", Role::Viewer),
    ("/scrape.v1.TaskService/StopTask", Role::Operator),
    ("/scrape.v1.TaskService/StopAllTasks", Role::Operator),
    ("/scrape.v1.TaskService/RestartTask", Role::Operator),
    ("/scrape.v1.TaskService/DeleteTask", Role::Operator),
    ("/scrape.v1.TaskService/PurgeTasks", Role::Operator),
    ("/scrape.v1.TaskService/StreamProgress", Role::Viewer),
    ("/scrape.v1.TaskService/ListTaskResults", Role::Viewer),
    ("/scrape.v1.TaskService/ListDocuments", Role::Viewer),
    ("/scrape.v1.TaskService/ExportTask", Role::Viewer),
    ("/scrape.v1.TaskService/ListTaskEvents", Role::Viewer),
    ("/scrape.v1.CatalogService/ListRegions", Role::Viewer),
    ("/scrape.v1.CatalogService/ListPrefectures", Role::Viewer),
    ("/scrape.v1.WatchService/CreateWatch", Role::Operator),
    ("/scrape.v1.WatchService/GetWatch", Role::Viewer),
    ("/scrape.v1.WatchService/ListWatches", Role::Viewer),
    ("/scrape.v1.WatchService/UpdateWatch", Role::Operator),
    ("/scrape.v1.WatchService/PauseWatch", Role::Operator),
    ("/scrape.v1.WatchService/ResumeWatch", Role::Operator),
    ("/scrape.v1.WatchService/DeleteWatch", Role::Operator),
    ("/scrape.v1.WatchService/RunWatchNow", Role::Operator),
    ("/scrape.v1.WatchService/ListWatchNews", Role::Viewer),
    ("/scrape.v1.WatchService/ListWatchEvents", Role::Viewer),
    ("/scrape.v1.WatchService/StreamWatchEvents", Role::Viewer),
];

/// Services anyone may call: load balancers probe health without a token,
/// and reflection only describes the API.
const OPEN_SERVICES: &[&str] =
    &["/grpc.health.v1.Health/", "/grpc.reflection.v1.ServerReflection/", "/grpc.reflection.v1alpha.ServerReflection/"];

/// What a call to `path` needs; unknown paths need the operator role.
pub fn access(path: &str) -> Access {
    if OPEN_SERVICES.iter().any(|prefix| path.starts_with(prefix)) {
        return Access::Open;
    }
    let role = METHODS.iter().find(|(method, _)| *method == path).map_or(Role::Operator, |(_, role)| *role);
    Access::Needs(role)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn every_method_of_the_api_has_a_role_in_the_table() {
        let set = prost_types::FileDescriptorSet::decode(scrape_api::FILE_DESCRIPTOR_SET).expect("descriptors");
        let mut methods = Vec::new();
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    methods.push(format!("/{}.{}/{}", file.package(), service.name(), method.name()));
                }
            }
        }
        assert!(methods.len() >= METHODS.len(), "{methods:?}");
        for method in &methods {
            assert!(
                METHODS.iter().any(|(known, _)| known == method),
                "{method} has no role in auth::access::METHODS: classify it as Viewer or Operator"
            );
        }
        for (known, _) in METHODS {
            assert!(methods.contains(&(*known).to_owned()), "{known} is not a method of the API");
        }
    }

    #[test]
    fn reading_needs_a_viewer_changing_needs_an_operator_and_the_unknown_needs_an_operator() {
        assert_eq!(access("/scrape.v1.TaskService/ListTasks"), Access::Needs(Role::Viewer));
        assert_eq!(access("/scrape.v1.TaskService/ExportTask"), Access::Needs(Role::Viewer));
        assert_eq!(access("/scrape.v1.TaskService/StopTask"), Access::Needs(Role::Operator));
        assert_eq!(access("/scrape.v1.WatchService/CreateWatch"), Access::Needs(Role::Operator));
        assert_eq!(access("/anything"), Access::Needs(Role::Operator));
        assert_eq!(access("/grpc.health.v1.Health/Check"), Access::Open);
        assert_eq!(access("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"), Access::Open);
    }
}
