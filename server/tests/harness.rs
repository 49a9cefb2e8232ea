//! The fuzz targets' harness on the stable toolchain: the same entry points
//! as `fuzz/`, fed by proptest with arbitrary bytes and with mutations of
//! valid requests and pages, so that every `cargo test` runs them.

use proptest::prelude::*;
use prost::Message;
use scrape_api::pb;
use scrape_server::harness;

/// A valid request, then bytes flipped, cut or appended.
fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len().max(1);
    (prop::collection::vec((0..len, any::<u8>()), 0..8), 0..=len, prop::collection::vec(any::<u8>(), 0..16)).prop_map(
        move |(flips, cut, tail)| {
            let mut bytes = valid.clone();
            for (at, byte) in flips {
                if at < bytes.len() {
                    bytes[at] ^= byte;
                }
            }
            bytes.truncate(cut);
            bytes.extend(tail);
            bytes
        },
    )
}

fn start_task() -> Vec<u8> {
    pb::StartTaskRequest {
        keywords: vec!["bovin".into(), "porcin".into()],
        prefectures: vec!["56".into(), "Finistère".into()],
        exclude_keywords: vec!["méthanisation".into()],
        days_limit: 90,
        request_id: "veille".into(),
        ..Default::default()
    }
    .encode_to_vec()
}

const PAGE: &str = r#"<main><div class="fr-card"><h3 class="fr-card__title"><a href="/Publications/a">Arrêté</a></h3>
<p class="fr-card__desc">Élevage <strong>bovin</strong></p><p class="fr-card__detail">Publié le 12/03/2025</p></div></main>"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn start_task_requests_of_any_bytes_are_refused_or_valid(bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), mutated(start_task())]) {
        harness::decode_start_task(&bytes);
    }

    #[test]
    fn list_requests_of_any_bytes_are_refused_or_within_bounds(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        mutated(pb::ListTasksRequest { query: "morbihan".into(), page_size: 20, page_token: "WyJ0YXNrcyJd".into(), ..Default::default() }.encode_to_vec()),
    ]) {
        harness::decode_list_requests(&bytes);
    }

    #[test]
    fn search_pages_of_any_bytes_give_only_sound_cards(bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..512), mutated(PAGE.as_bytes().to_vec())]) {
        harness::parse_page(&bytes);
    }
}

#[test]
fn the_seed_corpus_of_the_fuzz_targets_passes_the_harness() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut seen = 0;
    for (target, run) in [
        ("parse_page", harness::parse_page as fn(&[u8])),
        ("decode_start_task", harness::decode_start_task),
        ("decode_list_requests", harness::decode_list_requests),
    ] {
        for entry in std::fs::read_dir(dir.join(target)).expect("the corpus directory") {
            run(&std::fs::read(entry.expect("an entry").path()).expect("a seed"));
            seen += 1;
        }
    }
    assert!(seen >= 3, "the corpus holds seeds");
}
