//! Site profiles: where a site's search pages are, how its result cards
//! look and how it writes dates. The prefecture profile is built in; each
//! catalog entry names the profile of its site; selectors are compiled once.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use scraper::Selector;
use url::Url;

use crate::scrape::dates::DateWords;

/// Last offset the prefecture profile fetches (101 pages of 10 results).
pub const DEFAULT_MAX_OFFSET: u32 = 1000;

/// The name of the built-in profile of the prefecture sites, and the
/// profile of every catalog entry that names none.
pub const PREFECTURE_PROFILE: &str = "prefecture";

/// How to search one kind of site and read its result cards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteProfile {
    /// What catalog entries call it.
    pub name: String,
    /// Path and query of the first result page; `{keyword}` is replaced by the
    /// percent-encoded keyword.
    pub first_page: String,
    /// Path and query of the following pages; `{offset}` is replaced too.
    pub next_page: String,
    /// Offset step between pages (results per page).
    pub page_step: u32,
    /// Last offset fetched: a site that never runs out of results is cut here.
    pub max_offset: u32,
    /// Where the results are in a page: only the text from the first start
    /// marker to the last end marker is parsed (when both are present), which
    /// spares parsing menus, headers and footers. `None`: the whole page.
    pub content_region: Option<(String, String)>,
    pub card_selector: String,
    pub title_selector: String,
    /// Where the title is when a card has no element of `title_selector`.
    pub heading_selector: String,
    pub link_selector: String,
    pub description_selector: String,
    pub date_selector: String,
    /// How the site spells dates.
    pub dates: DateWords,
    /// Appended to every page's query to ask the site only for
    /// publications between `{start}` and `{end}` (YYYY-MM-DD), when a task
    /// has a days limit; `None`: the site cannot, cards are filtered here
    /// only (they always are: a site may ignore its own filter).
    pub date_window: Option<String>,
}

impl SiteProfile {
    /// The search pages of the French prefecture websites (DSFR design).
    pub fn prefecture() -> SiteProfile {
        SiteProfile {
            name: PREFECTURE_PROFILE.into(),
            first_page: "/contenu/recherche/(searchtext)/{keyword}?SearchText={keyword}".into(),
            next_page: "/contenu/recherche/(offset)/{offset}/(searchtext)/{keyword}?SearchText={keyword}".into(),
            page_step: 10,
            max_offset: DEFAULT_MAX_OFFSET,
            // DSFR pages keep their content in <main>; the mega-menu, header
            // and footer are as large as the results. Cards hold details
            // (category, dates) in their start and end parts: the date is
            // read from whichever detail has one.
            content_region: Some(("<main".into(), "</main>".into())),
            card_selector: "div.fr-card".into(),
            title_selector: ".fr-card__title".into(),
            heading_selector: "h2, h3, h4, h5, h6".into(),
            link_selector: "a[href]".into(),
            description_selector: ".fr-card__desc".into(),
            date_selector: ".fr-card__detail".into(),
            dates: DateWords::french(),
            date_window: Some("&dateFilter[]={start}&dateFilter[]={end}&typedate=1".into()),
        }
    }

    /// Checks the templates and compiles the selectors.
    pub fn compile(self) -> Result<CompiledProfile, ProfileError> {
        if !self.first_page.starts_with('/') || !self.next_page.starts_with('/') {
            return Err(ProfileError("page templates must start with /".into()));
        }
        if !self.next_page.contains("{offset}") {
            return Err(ProfileError("the next-page template needs an {offset}".into()));
        }
        if self.page_step == 0 {
            return Err(ProfileError("the page step must be positive".into()));
        }
        let compile = |css: &str| Selector::parse(css).map_err(|e| ProfileError(format!("selector {css:?}: {e}")));
        Ok(CompiledProfile {
            card: compile(&self.card_selector)?,
            title: compile(&self.title_selector)?,
            heading: compile(&self.heading_selector)?,
            link: compile(&self.link_selector)?,
            description: compile(&self.description_selector)?,
            date: compile(&self.date_selector)?,
            profile: self,
        })
    }
}

/// An invalid profile.
#[derive(Debug, thiserror::Error)]
#[error("invalid site profile: {0}")]
pub struct ProfileError(String);

/// A profile with its selectors compiled.
pub struct CompiledProfile {
    pub profile: SiteProfile,
    pub(crate) card: Selector,
    pub(crate) title: Selector,
    pub(crate) heading: Selector,
    pub(crate) link: Selector,
    pub(crate) description: Selector,
    pub(crate) date: Selector,
}

impl fmt::Debug for CompiledProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledProfile").field("profile", &self.profile).finish_non_exhaustive()
    }
}

/// The profiles a server knows, by name.
#[derive(Debug, Clone)]
pub struct Profiles(BTreeMap<String, Arc<CompiledProfile>>);

impl Profiles {
    /// The built-in profiles: the prefecture sites'.
    pub fn builtin() -> Result<Profiles, ProfileError> {
        Profiles::of([SiteProfile::prefecture()])
    }

    pub fn of(profiles: impl IntoIterator<Item = SiteProfile>) -> Result<Profiles, ProfileError> {
        let mut map = BTreeMap::new();
        for profile in profiles {
            let compiled = profile.compile()?;
            map.insert(compiled.profile.name.clone(), Arc::new(compiled));
        }
        Ok(Profiles(map))
    }

    pub fn get(&self, name: &str) -> Option<&Arc<CompiledProfile>> {
        self.0.get(name)
    }

    /// The names known, for error messages.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Characters kept as they are in a keyword placed in a URL path or query.
const KEYWORD: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

impl CompiledProfile {
    /// The part of a page holding the results: its content region, or the
    /// whole page when the page lacks the region's markers.
    pub fn content<'a>(&self, html: &'a str) -> &'a str {
        let Some((start, end)) = &self.profile.content_region else { return html };
        // memchr's vectorised search: the markers are looked for in every page.
        let bytes = html.as_bytes();
        match (memchr::memmem::find(bytes, start.as_bytes()), memchr::memmem::rfind(bytes, end.as_bytes())) {
            // Both markers are ASCII, so both offsets are character boundaries.
            (Some(from), Some(to)) if from < to => &html[from..to + end.len()],
            _ => html,
        }
    }

    /// The path and query of the result page at `offset` (0 for the first),
    /// with the profile's date filter when `window` is given.
    pub fn page_path(&self, keyword: &str, offset: u32, window: Option<(NaiveDate, NaiveDate)>) -> String {
        let keyword = utf8_percent_encode(keyword, KEYWORD).to_string();
        let template = if offset == 0 { &self.profile.first_page } else { &self.profile.next_page };
        let mut path = template.replace("{keyword}", &keyword).replace("{offset}", &offset.to_string());
        if let (Some(filter), Some((start, end))) = (&self.profile.date_window, window) {
            let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
            path.push_str(&filter.replace("{start}", &day(start)).replace("{end}", &day(end)));
        }
        path
    }
}

/// Where a site's pages are fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteBase {
    /// The real site: `https://{domain}`.
    Real,
    /// A mirror or test server: a URL template with `{domain}`, e.g.
    /// `http://127.0.0.1:8088/{domain}`.
    Override(String),
}

impl SiteBase {
    /// Parses an override template; it must be an http(s) URL.
    pub fn parse_override(template: &str) -> Result<SiteBase, ProfileError> {
        let probe = template.replace("{domain}", "www.example.gouv.fr");
        let url = Url::parse(&probe).map_err(|e| ProfileError(format!("site base URL {template:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ProfileError(format!("site base URL {template:?} must be http or https")));
        }
        Ok(SiteBase::Override(template.trim_end_matches('/').to_owned()))
    }

    /// The URL fetched for `path_and_query` on the site `domain`, or on the
    /// site at `base_url` when its catalog entry gives one (an override
    /// then takes the base's host as the domain and keeps its path).
    pub fn url(&self, domain: &str, base_url: Option<&Url>, path_and_query: &str) -> Result<Url, url::ParseError> {
        let (domain, base_path) = match base_url {
            Some(base) => (base.host_str().unwrap_or(domain), base.path().trim_end_matches('/')),
            None => (domain, ""),
        };
        match (self, base_url) {
            (SiteBase::Real, Some(base)) => {
                Url::parse(&format!("{}{path_and_query}", base.as_str().trim_end_matches('/')))
            }
            (SiteBase::Real, None) => Url::parse(&format!("https://{domain}{path_and_query}")),
            (SiteBase::Override(template), _) => {
                Url::parse(&format!("{}{base_path}{path_and_query}", template.replace("{domain}", domain)))
            }
        }
    }
}

/// The canonical origin of a site, against which relative links are made
/// absolute, whatever the base the pages were fetched from.
pub fn canonical_origin(domain: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!("https://{domain}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_urls_follow_the_prefecture_templates() {
        let profile = SiteProfile::prefecture().compile().expect("valid");
        let base = SiteBase::Real;
        let first = base.url("www.morbihan.gouv.fr", None, &profile.page_path("bovin", 0, None)).expect("url");
        assert_eq!(
            first.as_str(),
            "https://www.morbihan.gouv.fr/contenu/recherche/(searchtext)/bovin?SearchText=bovin"
        );
        let third = base.url("www.morbihan.gouv.fr", None, &profile.page_path("bovin", 20, None)).expect("url");
        assert_eq!(
            third.as_str(),
            "https://www.morbihan.gouv.fr/contenu/recherche/(offset)/20/(searchtext)/bovin?SearchText=bovin"
        );
    }

    #[test]
    fn keywords_are_percent_encoded() {
        let profile = SiteProfile::prefecture().compile().expect("valid");
        assert_eq!(
            profile.page_path("élevage porcin", 0, None),
            "/contenu/recherche/(searchtext)/%C3%A9levage%20porcin?SearchText=%C3%A9levage%20porcin"
        );
        assert_eq!(
            profile.page_path("a/b?c&d", 0, None),
            "/contenu/recherche/(searchtext)/a%2Fb%3Fc%26d?SearchText=a%2Fb%3Fc%26d"
        );
    }

    #[test]
    fn the_base_url_override_points_every_domain_at_one_server() {
        let profile = SiteProfile::prefecture().compile().expect("valid");
        let base = SiteBase::parse_override("http://127.0.0.1:8088/{domain}/").expect("valid");
        let url = base.url("www.morbihan.gouv.fr", None, &profile.page_path("bovin", 0, None)).expect("url");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8088/www.morbihan.gouv.fr/contenu/recherche/(searchtext)/bovin?SearchText=bovin"
        );
        assert!(SiteBase::parse_override("ftp://x/{domain}").is_err());
        assert!(SiteBase::parse_override("not a url").is_err());
    }

    #[test]
    fn a_site_with_a_base_url_is_searched_under_its_path_and_so_is_its_mirror() {
        let profile = SiteProfile::prefecture().compile().expect("valid");
        let base = Url::parse("https://www.plateforme.gouv.fr/bretagne").expect("url");
        let real = SiteBase::Real.url("x.gouv.fr", Some(&base), &profile.page_path("bovin", 0, None)).expect("url");
        assert_eq!(
            real.as_str(),
            "https://www.plateforme.gouv.fr/bretagne/contenu/recherche/(searchtext)/bovin?SearchText=bovin"
        );
        let mirror = SiteBase::parse_override("http://127.0.0.1:8088/{domain}").expect("valid");
        let mirrored = mirror.url("x.gouv.fr", Some(&base), &profile.page_path("bovin", 0, None)).expect("url");
        assert_eq!(
            mirrored.as_str(),
            "http://127.0.0.1:8088/www.plateforme.gouv.fr/bretagne/contenu/recherche/(searchtext)/bovin?SearchText=bovin"
        );
    }

    #[test]
    fn a_days_limit_asks_the_site_for_its_date_window_on_every_page() {
        let profile = SiteProfile::prefecture().compile().expect("valid");
        let window = NaiveDate::from_ymd_opt(2026, 11, 29).zip(NaiveDate::from_ymd_opt(2026, 12, 1));
        let base = SiteBase::Real;
        let second = base.url("www.morbihan.gouv.fr", None, &profile.page_path("bovin", 10, window)).expect("url");
        assert_eq!(
            second.as_str(),
            "https://www.morbihan.gouv.fr/contenu/recherche/(offset)/10/(searchtext)/bovin?SearchText=bovin\
             &dateFilter[]=2026-11-29&dateFilter[]=2026-12-01&typedate=1"
        );
        let mut without = SiteProfile::prefecture();
        without.date_window = None;
        let without = without.compile().expect("valid");
        assert!(!without.page_path("bovin", 0, window).contains("dateFilter"));
    }

    #[test]
    fn bad_selectors_are_rejected() {
        let mut profile = SiteProfile::prefecture();
        profile.card_selector = "div..".into();
        assert!(profile.compile().is_err());
    }
}

#[cfg(test)]
mod properties {
    use percent_encoding::percent_decode_str;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_keyword_stays_inside_its_path_segment_and_query_value(keyword in any::<String>(), offset in 0u32..100_000) {
            let profile = SiteProfile::prefecture().compile().expect("valid");
            let path = profile.page_path(&keyword, offset, None);
            // The keyword adds no segment, query parameter or fragment of its own.
            let (before, query) = path.split_once('?').expect("a query");
            prop_assert!(!query.contains(['?', '#', '&', ' ']), "{}", path);
            prop_assert!(!before.contains(['#', ' ']), "{}", path);
            let encoded = query.strip_prefix("SearchText=").expect("the search parameter");
            prop_assert_eq!(percent_decode_str(encoded).decode_utf8().expect("UTF-8"), keyword.as_str());
            prop_assert!(before.ends_with(&format!("/(searchtext)/{encoded}")), "{}", path);
            prop_assert_eq!(before.contains(&format!("(offset)/{offset}/")), offset > 0);
            let url = SiteBase::Real.url("www.morbihan.gouv.fr", None, &path).expect("a URL");
            prop_assert_eq!(url.host_str(), Some("www.morbihan.gouv.fr"));
        }
    }
}
