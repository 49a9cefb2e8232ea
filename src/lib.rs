#![doc = include_str!("../README.api.md")]

/// Generated messages, clients and servers of the `scrape.v1` package.
pub mod pb {
    #![expect(clippy::allow_attributes, reason = "generated code")]
    tonic::include_proto!("scrape.v1");
}

/// The encoded `FileDescriptorSet` of `scrape.v1` (its imports, HTTP rules and
/// comments included), for server reflection and the JSON API.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("scrape_v1_descriptor");
