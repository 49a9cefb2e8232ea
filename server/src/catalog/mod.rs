//! The catalog of prefectures and regions tasks can target: built in, and
//! replaceable or extensible from a file in the same format.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::spec::{Place, Places};
use crate::domain::text::fold;

const BUILTIN: &str = include_str!("builtin.txt");

/// A French region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// INSEE region code, e.g. `53`.
    pub code: String,
    pub name: String,
}

/// A département and the website of its prefecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefecture {
    /// INSEE département code: `01`…`95`, `2A`, `2B`, `971`…`976`.
    pub code: String,
    pub name: String,
    pub region_code: String,
    /// Host name of the prefecture's website, e.g. `www.morbihan.gouv.fr`.
    pub domain: String,
    /// The site profile its website follows (see `scrape::profile`); `None`:
    /// the default one, the prefecture sites'.
    pub profile: Option<String>,
    /// Where its search pages are when not at `https://{domain}`: a URL
    /// with a path, which the profile's page paths follow.
    pub base_url: Option<String>,
    /// Why its site cannot be searched (yet), when it cannot.
    pub unsupported: Option<String>,
}

/// A malformed catalog line.
#[derive(Debug, thiserror::Error)]
#[error("catalog line {line}: {reason}")]
pub struct CatalogError {
    pub line: usize,
    pub reason: String,
}

/// Regions and prefectures, looked up by code or by name (case-, accent- and
/// punctuation-insensitive).
#[derive(Debug, Clone)]
pub struct Catalog {
    regions: Vec<Region>,
    prefectures: Vec<Prefecture>,
    region_index: HashMap<String, usize>,
    prefecture_index: HashMap<String, usize>,
}

impl Catalog {
    /// The built-in catalog: 18 regions and 101 départements.
    pub fn builtin() -> Arc<Catalog> {
        static BUILT: std::sync::OnceLock<Arc<Catalog>> = std::sync::OnceLock::new();
        BUILT
            .get_or_init(|| Arc::new(Catalog::parse_onto(Catalog::empty(), BUILTIN).expect("valid built-in catalog")))
            .clone()
    }

    fn empty() -> Catalog {
        Catalog {
            regions: Vec::new(),
            prefectures: Vec::new(),
            region_index: HashMap::new(),
            prefecture_index: HashMap::new(),
        }
    }

    /// Applies a catalog file to the built-in catalog. Each line is
    /// `region|CODE|NAME` or `prefecture|CODE|NAME|REGION_CODE|DOMAIN`
    /// followed by optional `|key=value` fields: `profile=NAME` (the site
    /// profile; the prefecture one when none is named), `base=URL` (where
    /// the search pages are, when not at `https://DOMAIN`), `unsupported=WHY`
    /// (the site cannot be searched: tasks naming it are refused, tasks over
    /// its region skip it). An entry whose code exists replaces it, a new one
    /// is added. A first line `replace` starts from an empty catalog instead.
    /// `#` starts a comment.
    pub fn with_file(text: &str) -> Result<Catalog, CatalogError> {
        let replace = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')) == Some("replace");
        let base = if replace { Catalog::empty() } else { Catalog::builtin().as_ref().clone() };
        Catalog::parse_onto(base, text)
    }

    fn parse_onto(mut catalog: Catalog, text: &str) -> Result<Catalog, CatalogError> {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line == "replace" {
                continue;
            }
            let err = |reason: &str| CatalogError { line: n + 1, reason: reason.to_owned() };
            let fields: Vec<&str> = line.split('|').map(str::trim).collect();
            match fields.as_slice() {
                ["region", code, name] if !code.is_empty() && !name.is_empty() => {
                    let region = Region { code: normalize_code(code), name: (*name).to_owned() };
                    upsert(&mut catalog.regions, region, |r| &r.code);
                }
                ["prefecture", code, name, region, domain, extras @ ..]
                    if !code.is_empty() && !name.is_empty() && !domain.is_empty() =>
                {
                    if domain.contains(['/', ' ', ':']) {
                        return Err(err("the domain must be a bare host name"));
                    }
                    let mut prefecture = Prefecture {
                        code: normalize_code(code),
                        name: (*name).to_owned(),
                        region_code: normalize_code(region),
                        domain: domain.to_ascii_lowercase(),
                        profile: None,
                        base_url: None,
                        unsupported: None,
                    };
                    for extra in extras {
                        apply_extra(&mut prefecture, extra).map_err(|reason| err(&reason))?;
                    }
                    upsert(&mut catalog.prefectures, prefecture, |p| &p.code);
                }
                _ => {
                    return Err(err(
                        "expected region|CODE|NAME or prefecture|CODE|NAME|REGION_CODE|DOMAIN[|profile=…][|base=…][|unsupported=…]",
                    ));
                }
            }
        }
        if let Some(p) = catalog.prefectures.iter().find(|p| !catalog.regions.iter().any(|r| r.code == p.region_code)) {
            return Err(CatalogError {
                line: 0,
                reason: format!("prefecture {} names an unknown region code {}", p.code, p.region_code),
            });
        }
        catalog.prefectures.sort_by_key(|a| code_order(&a.code));
        catalog.regions.sort_by_key(|a| fold(&a.name));
        catalog.region_index = index(&catalog.regions, |r| [&r.code, &r.name]);
        catalog.prefecture_index = index(&catalog.prefectures, |p| [&p.code, &p.name]);
        Ok(catalog)
    }

    /// All regions, by name.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// All prefectures, by code.
    pub fn prefectures(&self) -> &[Prefecture] {
        &self.prefectures
    }

    /// The region with this code or name.
    pub fn region(&self, code_or_name: &str) -> Option<&Region> {
        lookup(&self.region_index, &self.regions, code_or_name)
    }

    /// The prefecture with this code or name.
    pub fn prefecture(&self, code_or_name: &str) -> Option<&Prefecture> {
        lookup(&self.prefecture_index, &self.prefectures, code_or_name)
    }

    /// The prefecture with exactly this code.
    pub fn prefecture_by_code(&self, code: &str) -> Option<&Prefecture> {
        self.prefecture_index.get(&code_key(code)).map(|&i| &self.prefectures[i])
    }

    /// The name of a region code, or the code itself when unknown.
    pub fn region_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.regions.iter().find(|r| r.code == code).map_or(code, |r| r.name.as_str())
    }

    /// The prefectures whose site cannot be searched, among those of the
    /// regions in `regions` (every region when it is empty and
    /// `every_prefecture` is true).
    pub fn unsupported_in<'a>(
        &'a self,
        regions: &'a [String],
        every_prefecture: bool,
    ) -> impl Iterator<Item = &'a Prefecture> + 'a {
        self.prefectures
            .iter()
            .filter(move |p| p.unsupported.is_some() && (every_prefecture || regions.contains(&p.region_code)))
    }

    /// The prefectures of a region, by code.
    pub fn prefectures_in<'a>(&'a self, region_code: &'a str) -> impl Iterator<Item = &'a Prefecture> + 'a {
        self.prefectures.iter().filter(move |p| p.region_code == region_code)
    }
}

impl Prefecture {
    fn place(&self) -> Place<'_> {
        Place { code: &self.code, region: &self.region_code, unsupported: self.unsupported.as_deref() }
    }
}

impl Places for Catalog {
    fn region_code(&self, name_or_code: &str) -> Option<&str> {
        self.region(name_or_code).map(|r| r.code.as_str())
    }

    fn place(&self, name_or_code: &str) -> Option<Place<'_>> {
        self.prefecture(name_or_code).map(Prefecture::place)
    }

    fn places(&self) -> Vec<Place<'_>> {
        self.prefectures.iter().map(Prefecture::place).collect()
    }
}

/// One optional `key=value` field of a prefecture line (a bare word is a
/// profile name, as older files wrote it).
fn apply_extra(prefecture: &mut Prefecture, extra: &str) -> Result<(), String> {
    let (key, value) = extra.split_once('=').map_or(("profile", extra), |(k, v)| (k.trim(), v.trim()));
    if value.is_empty() {
        return Ok(());
    }
    match key {
        "profile" => prefecture.profile = Some(value.to_owned()),
        "base" => {
            let url = url::Url::parse(value).map_err(|e| format!("base URL {value:?}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!("base URL {value:?} must be an http(s) URL with a host"));
            }
            prefecture.base_url = Some(value.trim_end_matches('/').to_owned());
        }
        "unsupported" => prefecture.unsupported = Some(value.to_owned()),
        other => return Err(format!("unknown field {other:?}: expected profile=, base= or unsupported=")),
    }
    Ok(())
}

/// Codes are compared upper-cased, with one-digit codes zero-padded (`1` = `01`).
fn normalize_code(code: &str) -> String {
    let code = code.trim().to_ascii_uppercase();
    if code.len() == 1 && code.as_bytes()[0].is_ascii_digit() { format!("0{code}") } else { code }
}

fn code_key(code: &str) -> String {
    format!("code:{}", normalize_code(code))
}

fn name_key(name: &str) -> String {
    format!("name:{}", fold(name))
}

/// Sorts `2A`/`2B` between `19` and `21`, and overseas codes last.
fn code_order(code: &str) -> (u32, String) {
    let numeric = match code {
        "2A" => 200,
        "2B" => 201,
        other => other.parse::<u32>().map_or(u32::MAX, |n| n * 10),
    };
    (numeric, code.to_owned())
}

fn upsert<T>(items: &mut Vec<T>, item: T, key: impl Fn(&T) -> &String) {
    match items.iter().position(|existing| key(existing) == key(&item)) {
        Some(i) => items[i] = item,
        None => items.push(item),
    }
}

fn index<T>(items: &[T], keys: impl Fn(&T) -> [&String; 2]) -> HashMap<String, usize> {
    let mut map = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let [code, name] = keys(item);
        map.insert(code_key(code), i);
        map.insert(name_key(name), i);
    }
    map
}

fn lookup<'a, T>(index: &HashMap<String, usize>, items: &'a [T], query: &str) -> Option<&'a T> {
    index.get(&code_key(query)).or_else(|| index.get(&name_key(query))).map(|&i| &items[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_101_prefectures_in_18_regions() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.prefectures().len(), 101);
        assert_eq!(catalog.regions().len(), 18);
        let metropolitan = catalog.prefectures().iter().filter(|p| p.code.len() == 2).count();
        assert_eq!(metropolitan, 96);
        for p in catalog.prefectures() {
            assert!(catalog.regions().iter().any(|r| r.code == p.region_code), "{p:?}");
            assert!(p.domain.ends_with(".gouv.fr"), "{p:?}");
        }
    }

    #[test]
    fn prefectures_are_found_by_code_or_name_whatever_the_case_and_accents() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.prefecture("56").map(|p| p.name.as_str()), Some("Morbihan"));
        assert_eq!(catalog.prefecture("MORBIHAN").map(|p| p.code.as_str()), Some("56"));
        assert_eq!(catalog.prefecture("cotes d'armor").map(|p| p.code.as_str()), Some("22"));
        assert_eq!(catalog.prefecture("Finistere").map(|p| p.code.as_str()), Some("29"));
        assert_eq!(catalog.prefecture("2a").map(|p| p.name.as_str()), Some("Corse-du-Sud"));
        assert_eq!(catalog.prefecture("1").map(|p| p.name.as_str()), Some("Ain"));
        assert_eq!(catalog.prefecture("974").map(|p| p.name.as_str()), Some("La Réunion"));
        assert_eq!(catalog.prefecture("Atlantis"), None);
        assert_eq!(catalog.prefecture("99"), None);
    }

    #[test]
    fn regions_are_found_by_code_or_name_and_list_their_prefectures() {
        let catalog = Catalog::builtin();
        let bretagne = catalog.region("bretagne").expect("Bretagne");
        assert_eq!(bretagne.code, "53");
        let codes: Vec<_> = catalog.prefectures_in("53").map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["22", "29", "35", "56"]);
        assert_eq!(catalog.region("ILE DE FRANCE").map(|r| r.code.as_str()), Some("11"));
        assert_eq!(catalog.region("94").map(|r| r.name.as_str()), Some("Corse"));
        assert_eq!(catalog.prefectures_in("94").count(), 2);
    }

    #[test]
    fn corsica_sorts_between_19_and_21() {
        let catalog = Catalog::builtin();
        let codes: Vec<_> = catalog.prefectures().iter().map(|p| p.code.as_str()).collect();
        let at = codes.iter().position(|c| *c == "2A").expect("2A");
        assert_eq!(&codes[at - 1..at + 3], ["19", "2A", "2B", "21"]);
        assert_eq!(codes.last(), Some(&"976"));
    }

    #[test]
    fn a_file_extends_or_replaces_the_builtin_catalog() {
        let extended = Catalog::with_file(
            "region|53|Bretagne\nprefecture|56|Morbihan|53|mirror.example.org\nprefecture|99|Test|53|test.example.org\n",
        )
        .expect("valid file");
        assert_eq!(extended.prefectures().len(), 102);
        assert_eq!(extended.prefecture("56").map(|p| p.domain.as_str()), Some("mirror.example.org"));
        assert_eq!(extended.prefecture("56").map(|p| p.profile.clone()), Some(None));

        let replaced =
            Catalog::with_file("replace\nregion|1|Test\nprefecture|1|Only|1|only.example.org\n").expect("valid");
        assert_eq!(replaced.prefectures().len(), 1);
        assert_eq!(replaced.regions().len(), 1);
        assert_eq!(replaced.prefecture("Only").map(|p| p.code.as_str()), Some("01"));
    }

    #[test]
    fn an_entry_may_name_the_profile_of_its_site() {
        let catalog = Catalog::with_file("prefecture|99|Test|53|test.example.org|other\n").expect("valid");
        assert_eq!(catalog.prefecture("99").and_then(|p| p.profile.as_deref()), Some("other"));
    }

    #[test]
    fn an_entry_may_give_its_base_url_or_say_why_it_is_unsupported() {
        let catalog = Catalog::with_file(
            "prefecture|98|Plateforme|53|www.plateforme.gouv.fr|base=https://www.plateforme.gouv.fr/bretagne/\n\
             prefecture|97|Hors ligne|53|x.gouv.fr|unsupported=bot shield\n",
        )
        .expect("valid");
        let p = catalog.prefecture("98").expect("98");
        assert_eq!(p.base_url.as_deref(), Some("https://www.plateforme.gouv.fr/bretagne"));
        assert_eq!(p.unsupported, None);
        assert_eq!(catalog.prefecture("97").and_then(|p| p.unsupported.as_deref()), Some("bot shield"));
        let bretagne = ["53".to_owned()];
        let in_bretagne: Vec<_> = catalog.unsupported_in(&bretagne, false).map(|p| p.code.as_str()).collect();
        assert_eq!(in_bretagne, ["97"]);
        assert!(Catalog::with_file("prefecture|98|X|53|x.gouv.fr|base=ftp://x\n").is_err());
        assert!(Catalog::with_file("prefecture|98|X|53|x.gouv.fr|colour=blue\n").is_err());
    }

    #[test]
    fn paris_is_built_in_as_unsupported_with_the_reason() {
        let catalog = Catalog::builtin();
        let paris = catalog.prefecture("75").expect("Paris");
        assert!(paris.unsupported.as_deref().is_some_and(|why| !why.is_empty()));
        assert_eq!(catalog.unsupported_in(&[], true).count(), 1, "only Paris");
    }

    #[test]
    fn a_malformed_file_is_rejected_with_its_line() {
        let err = Catalog::with_file("region|53|Bretagne\nprefecture|56|Morbihan\n").expect_err("malformed");
        assert_eq!(err.line, 2);
        let err = Catalog::with_file("replace\nprefecture|56|Morbihan|77|x.gouv.fr\n").expect_err("unknown region");
        assert!(err.reason.contains("unknown region"), "{err}");
    }
}
