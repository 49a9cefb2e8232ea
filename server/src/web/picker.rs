//! The places of a task, picked in the task and watch forms: the regions as
//! groups, a checkbox per prefecture, and one per region that takes all of
//! its prefectures; a filter box narrows the list as one types (the script
//! does that; without it every checkbox is shown and the form posts all
//! the same).

use maud::{Markup, html};

use crate::catalog::Catalog;
use crate::domain::text::fold;
use crate::web::form::Filled;

/// The picker, with what `filled` ticked and the messages of its fields.
pub fn places(catalog: &Catalog, filled: &Filled) -> Markup {
    let p = &filled.params;
    let regions: Vec<&str> = p.all("regions").collect();
    let prefectures: Vec<&str> = p.all("prefectures").collect();
    let errors = |name: &str| filled.errors.get(name).cloned().unwrap_or_default();
    let invalid = filled.errors.contains_key("regions") || filled.errors.contains_key("prefectures");
    html! {
        fieldset.places.invalid[invalid] #places aria-describedby="places-help regions-error prefectures-error" {
            legend { "Prefectures" }
            p.help #places-help {
                "None ticked: every prefecture. A region's box takes all of its prefectures."
            }
            // Shown by the script, which does the filtering.
            div.place-filter data-place-filter hidden {
                label for="place-filter" { "Filter" }
                input #place-filter type="search" autocomplete="off" placeholder="name, code or region"
                    aria-controls="place-groups" aria-describedby="places-picked";
                span #places-picked aria-live="polite" {}
            }
            div #place-groups .place-groups {
                @for region in catalog.regions() {
                    fieldset.region data-region=(region.code) data-search=(fold(&region.name)) {
                        legend {
                            label.check {
                                input type="checkbox" name="regions" value=(region.code)
                                    checked[regions.contains(&region.code.as_str())];
                                strong { (region.name) }
                            }
                        }
                        ul {
                            @for pref in catalog.prefectures_in(&region.code) {
                                li data-search=(fold(&format!("{} {}", pref.name, pref.code))) {
                                    label.check title=[pref.unsupported.as_deref()] {
                                        input type="checkbox" name="prefectures" value=(pref.code) data-region=(region.code)
                                            checked[prefectures.contains(&pref.code.as_str())]
                                            disabled[pref.unsupported.is_some()];
                                        (pref.name) " (" (pref.code) ")"
                                        @if pref.unsupported.is_some() { " — not supported" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.error #regions-error { @for (i, m) in errors("regions").iter().enumerate() { @if i > 0 { br; } (m) } }
            p.error #prefectures-error { @for (i, m) in errors("prefectures").iter().enumerate() { @if i > 0 { br; } (m) } }
        }
    }
}

/// The prefectures a form sent, less those of the regions it sent too: a
/// region's box takes the whole region, and the script ticks its
/// prefectures as well, so that the task names the region alone.
pub fn beyond_regions(catalog: &Catalog, regions: &[String], prefectures: Vec<String>) -> Vec<String> {
    let codes: Vec<&str> = regions.iter().filter_map(|r| catalog.region(r)).map(|r| r.code.as_str()).collect();
    prefectures
        .into_iter()
        .filter(|p| catalog.prefecture(p).is_none_or(|p| !codes.contains(&p.region_code.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefectures_of_a_region_sent_with_it_are_left_to_the_region() {
        let catalog = Catalog::builtin();
        let kept = |regions: &[&str], prefectures: &[&str]| {
            let regions: Vec<String> = regions.iter().map(|r| (*r).to_owned()).collect();
            beyond_regions(&catalog, &regions, prefectures.iter().map(|p| (*p).to_owned()).collect())
        };
        let bretagne = catalog.region("Bretagne").expect("a region").code.clone();
        assert_eq!(kept(&[&bretagne], &["56", "29", "2A", "nowhere"]), ["2A", "nowhere"]);
        assert_eq!(kept(&[], &["56", "29"]), ["56", "29"]);
    }
}
