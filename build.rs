//! Compiles `proto/` into Rust (prost messages, tonic clients and servers) and
//! writes the encoded descriptor set that server reflection serves. The proto
//! compiler is `protox`, pure Rust: no system `protoc` is needed.

use std::path::PathBuf;

const PROTOS: &[&str] =
    &["proto/scrape/v1/tasks.proto", "proto/scrape/v1/catalog.proto", "proto/scrape/v1/watches.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(PROTOS)?;
    std::fs::write(out_dir.join("scrape_v1_descriptor.bin"), compiler.encode_file_descriptor_set())?;

    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
