//! The prefecture picker of the task and watch forms in the browser: a
//! region's box ticks its prefectures, the filter box narrows the list as
//! one types, and the task started names what was ticked.

use super::browser::Browser;
use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, on_both_backends};

/// The prefecture codes whose boxes are shown (not filtered out).
async fn shown(browser: &Browser) -> Vec<String> {
    let codes = browser
        .eval(
            "return [...document.querySelectorAll('#place-groups input[name=prefectures]')]
                .filter(b => b.closest('li').hidden === false && b.closest('fieldset.region').hidden === false)
                .map(b => b.value);",
        )
        .await;
    serde_json::from_value(codes).expect("codes")
}

/// The prefecture codes ticked.
async fn ticked(browser: &Browser) -> Vec<String> {
    let codes = browser
        .eval("return [...document.querySelectorAll('input[name=prefectures]:checked')].map(b => b.value);")
        .await;
    serde_json::from_value(codes).expect("codes")
}

fn region_box(code: &str) -> String {
    format!("input[name=regions][value=\"{code}\"]")
}

fn prefecture_box(code: &str) -> String {
    format!("input[name=prefectures][value=\"{code}\"]")
}

/// Starts the task the form describes; returns its id.
async fn submitted(browser: &Browser) -> String {
    browser.fill("#keywords", "bovin").await;
    browser.click_to_page("form.start button[type=submit]").await;
    browser.wait_until("the task page opens", "document.querySelector('article.detail') !== null").await;
    let id = browser.eval("return document.querySelector('article.detail').dataset.task;").await;
    id.as_str().expect("an id").to_owned()
}

async fn prefectures_are_picked_by_region_and_found_with_the_filter_box(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let browser = Browser::open(&app).await;

    browser.goto("/tasks/new").await;
    assert_eq!(browser.eval("return document.querySelector('[data-place-filter]').hidden;").await, false);
    assert_eq!(shown(&browser).await.len(), 101, "every prefecture before filtering");
    assert_eq!(browser.text("#places-picked").await, "none ticked: every prefecture");

    browser.fill("#place-filter", "bret").await;
    assert_eq!(shown(&browser).await, ["22", "29", "35", "56"], "a region's name shows its prefectures");
    browser.click(&region_box("53")).await;
    assert_eq!(ticked(&browser).await, ["22", "29", "35", "56"], "the region's box ticks them all");
    browser.click(&prefecture_box("29")).await;
    assert_eq!(browser.eval(&format!("return document.querySelector('{}').checked;", region_box("53"))).await, false);
    assert_eq!(
        browser.eval(&format!("return document.querySelector('{}').indeterminate;", region_box("53"))).await,
        true
    );
    assert_eq!(browser.text("#places-picked").await, "3 prefectures ticked");

    // Accents, case and punctuation aside; a code finds its prefecture.
    browser.fill("#place-filter", "CORSE du").await;
    assert_eq!(shown(&browser).await, ["2A"]);
    browser.click(&prefecture_box("2A")).await;
    browser.fill("#place-filter", "finistère").await;
    assert_eq!(shown(&browser).await, ["29"]);
    browser.fill("#place-filter", "974").await;
    assert_eq!(shown(&browser).await, ["974"]);
    browser.fill("#place-filter", "").await;
    assert_eq!(shown(&browser).await.len(), 101, "filtering hides, it never unticks");
    assert_eq!(ticked(&browser).await, ["22", "35", "56", "2A"]);

    let id = submitted(&browser).await;
    let parameters = app.client.get_task(&id).await.expect("get").parameters.expect("parameters");
    assert!(parameters.regions.is_empty(), "{parameters:?}");
    assert_eq!(parameters.prefectures, ["22", "35", "56", "2A"]);

    // A whole region: the task names the region, not its prefectures again.
    browser.goto("/tasks/new").await;
    browser.click(&region_box("53")).await;
    let id = submitted(&browser).await;
    let parameters = app.client.get_task(&id).await.expect("get").parameters.expect("parameters");
    assert_eq!(parameters.regions, ["53"]);
    assert!(parameters.prefectures.is_empty(), "{parameters:?}");
    assert_eq!(parameters.target_prefectures, ["22", "29", "35", "56"]);

    // The watch form has the same picker.
    browser.goto("/watches/new").await;
    browser.fill("#place-filter", "morb").await;
    assert_eq!(shown(&browser).await, ["56"]);
    browser.close().await;
    app.stop().await;
}

on_both_backends!(browser: prefectures_are_picked_by_region_and_found_with_the_filter_box);
