//! A local imitation of the prefecture search pages, served over real HTTP
//! on port 0: DSFR result cards over a known number of pages per site and
//! keyword, with the irregularities of the real sites (relative and absolute
//! links, missing descriptions and dates, entities, odd whitespace, three
//! date formats) and pages that can be made to hang.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::Datelike;
use percent_encoding::percent_decode_str;

pub const PAGE_SIZE: usize = 10;

/// A card as the fixture serves it, and what the scraper must extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureCard {
    /// The `href` in the page (often relative).
    pub href: String,
    /// The absolute link expected.
    pub link: String,
    /// The title as served (HTML, with entities and odd spacing).
    pub title_html: String,
    /// The title expected (text, whitespace collapsed).
    pub title: String,
    pub description_html: Option<String>,
    pub description: String,
    pub date_label: String,
    /// YYYY-MM-DD, empty when undated.
    pub published_on: String,
}

/// Number of cards per (domain, keyword); anything else has no result.
#[derive(Debug, Clone, Default)]
pub struct SiteSpec {
    pub counts: Vec<(&'static str, &'static str, usize)>,
}

impl SiteSpec {
    /// Three prefectures × two keywords, with a page count for each case:
    /// several pages, exactly one full page, no result at all.
    pub fn standard() -> SiteSpec {
        SiteSpec {
            counts: vec![
                ("www.morbihan.gouv.fr", "bovin", 23),
                ("www.morbihan.gouv.fr", "porcin", 10),
                ("www.finistere.gouv.fr", "bovin", 7),
                ("www.finistere.gouv.fr", "porcin", 0),
                ("www.corse-du-sud.gouv.fr", "bovin", 15),
                ("www.corse-du-sud.gouv.fr", "porcin", 31),
            ],
        }
    }
}

/// What a path does instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Never answers.
    Hang,
}

struct State {
    cards: HashMap<(String, String), Vec<FixtureCard>>,
    faults: Mutex<HashMap<String, Fault>>,
    hits: Mutex<Vec<String>>,
}

/// The running fixture site.
pub struct FixtureSite {
    addr: SocketAddr,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FixtureSite {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FixtureSite {
    pub async fn start(spec: SiteSpec) -> FixtureSite {
        let mut cards = HashMap::new();
        for (domain, keyword, count) in &spec.counts {
            cards.insert(((*domain).to_owned(), (*keyword).to_owned()), generate(domain, keyword, *count));
        }
        let state = Arc::new(State { cards, faults: Mutex::new(HashMap::new()), hits: Mutex::new(Vec::new()) });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fixture site");
        let addr = listener.local_addr().expect("fixture address");
        let app = axum::Router::new().fallback({
            let state = state.clone();
            move |request: Request<Body>| serve(state.clone(), request)
        });
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fixture site");
        });
        FixtureSite { addr, state, server }
    }

    /// The `--site-base-url` that points every domain at this site.
    pub fn base_url(&self) -> String {
        format!("http://{}/{{domain}}", self.addr)
    }

    /// The cards served for a site and keyword, in page order.
    pub fn cards(&self, domain: &str, keyword: &str) -> Vec<FixtureCard> {
        self.state.cards.get(&(domain.to_owned(), keyword.to_owned())).cloned().unwrap_or_default()
    }

    /// Pages a scraper fetches for a site and keyword: the pages with cards
    /// and the empty one after them.
    pub fn pages(&self, domain: &str, keyword: &str) -> u32 {
        (self.cards(domain, keyword).len().div_ceil(PAGE_SIZE) + 1) as u32
    }

    /// The path of page `page` (from 1) of a search.
    pub fn page_path(domain: &str, keyword: &str, page: usize) -> String {
        if page == 1 {
            format!("/{domain}/contenu/recherche/(searchtext)/{keyword}")
        } else {
            format!("/{domain}/contenu/recherche/(offset)/{}/(searchtext)/{keyword}", PAGE_SIZE * (page - 1))
        }
    }

    /// Makes a path misbehave.
    pub fn set_fault(&self, path: &str, fault: Fault) {
        self.state.faults.lock().expect("faults").insert(path.to_owned(), fault);
    }

    /// Makes a path answer normally again.
    pub fn clear_fault(&self, path: &str) {
        self.state.faults.lock().expect("faults").remove(path);
    }

    /// Requests received for `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        self.state.hits.lock().expect("hits").iter().filter(|p| *p == path).count()
    }

    /// Every request received so far.
    pub fn total_hits(&self) -> usize {
        self.state.hits.lock().expect("hits").len()
    }
}

async fn serve(state: Arc<State>, request: Request<Body>) -> Response {
    let path = request.uri().path().to_owned();
    state.hits.lock().expect("hits").push(path.clone());
    let fault = state.faults.lock().expect("faults").get(&path).cloned();
    if let Some(Fault::Hang) = fault {
        std::future::pending::<()>().await;
    }
    let Some((domain, keyword, offset)) = parse_path(&path) else {
        return (StatusCode::NOT_FOUND, Html("<h1>Page introuvable</h1>")).into_response();
    };
    let cards = state.cards.get(&(domain.clone(), keyword.clone())).map(Vec::as_slice).unwrap_or_default();
    let page: Vec<&FixtureCard> = cards.iter().skip(offset).take(PAGE_SIZE).collect();
    Html(render_page(&domain, &keyword, offset, cards.len(), &page)).into_response()
}

/// `/{domain}/contenu/recherche/(searchtext)/{kw}` or
/// `/{domain}/contenu/recherche/(offset)/{n}/(searchtext)/{kw}`.
fn parse_path(path: &str) -> Option<(String, String, usize)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let decode = |s: &str| percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned());
    match segments.as_slice() {
        [domain, "contenu", "recherche", "(searchtext)", keyword] => Some((decode(domain)?, decode(keyword)?, 0)),
        [domain, "contenu", "recherche", "(offset)", offset, "(searchtext)", keyword] => {
            Some((decode(domain)?, decode(keyword)?, offset.parse().ok()?))
        }
        _ => None,
    }
}

/// Deterministic cards with every irregularity the scraper must handle.
fn generate(domain: &str, keyword: &str, count: usize) -> Vec<FixtureCard> {
    let months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    (0..count)
        .map(|i| {
            // Every fourth card of a porcin search is also a bovin result:
            // the same document, found by two operations.
            let shared = keyword != "bovin" && i % 4 == 0;
            let slug_keyword = if shared { "bovin" } else { keyword };
            let n = if shared { i / 4 } else { i };
            let slug = format!("Arrete-{slug_keyword}-{n}");
            let (href, link) = match n % 3 {
                0 => (format!("/Publications/Avis/{slug}"), format!("https://{domain}/Publications/Avis/{slug}")),
                1 => (format!("https://{domain}/Actualites/{slug}"), format!("https://{domain}/Actualites/{slug}")),
                _ => (format!("Publications/ICPE/{slug}?id={n}&amp;v=2"), format!("https://{domain}/Publications/ICPE/{slug}?id={n}&v=2")),
            };
            let title = format!("Arrêté préfectoral n°{n} – élevage {slug_keyword} & l'EARL « Le Guern »");
            let title_html = format!(
                "\n            Arrêté préfectoral&nbsp;n°{n}  –\n élevage {slug_keyword} &amp; l&#039;EARL «&nbsp;Le Guern&nbsp;»\n          "
            );
            // Some descriptions mention a word tasks may exclude.
            let extra = if n % 6 == 5 { " – unité de méthanisation" } else { "" };
            let (description_html, description) = if n % 5 == 4 {
                (None, String::new())
            } else {
                (
                    Some(format!(
                        "Le public est informé d'une demande d'<strong class=\"highlight\">élevage {slug_keyword}</strong>\n   à   Plouay ({n} animaux){extra}."
                    )),
                    format!("Le public est informé d'une demande d'élevage {slug_keyword} à Plouay ({n} animaux){extra}."),
                )
            };
            // Dates spread over the last three years, relative to today.
            let date = chrono::Utc::now().date_naive() - chrono::Days::new((n as u64 * 37) % 1100);
            let (d, m, y) = (date.day(), date.month(), date.year());
            let iso = date.format("%Y-%m-%d").to_string();
            let (date_label, published_on) = match n % 7 {
                3 => (String::new(), String::new()),
                0 => (format!("Publié le {d:02}/{m:02}/{y}"), iso),
                1 => (format!("Mis à jour le {d:02}/{m:02}/{y}"), iso),
                2 => (format!("Le {d:02}/{m:02}/{y}"), iso),
                _ => (format!("Publié le {d} {} {y}", months[(m - 1) as usize]), iso),
            };
            FixtureCard { href, link, title_html, title, description_html, description, date_label, published_on }
        })
        .collect()
}

fn render_page(domain: &str, keyword: &str, offset: usize, total: usize, page: &[&FixtureCard]) -> String {
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="fr" data-fr-scheme="system">
<head>
  <meta charset="utf-8">
  <title>Recherche : {keyword} - Les services de l'État</title>
  <link rel="stylesheet" href="/extension/ezdsfr/design/dsfr/stylesheets/dsfr.min.css">
</head>
<body>
  <header role="banner" class="fr-header">
    <div class="fr-header__body"><div class="fr-container">
      <p class="fr-logo">Préfet<br>{domain}</p>
      <nav class="fr-nav" role="navigation" aria-label="Menu principal">
        <ul class="fr-nav__list">
          <li class="fr-nav__item"><a class="fr-nav__link" href="/">Accueil</a></li>
          <li class="fr-nav__item"><a class="fr-nav__link" href="/Actualites">Actualités</a></li>
          <li class="fr-nav__item"><a class="fr-nav__link" href="/Publications">Publications</a></li>
        </ul>
      </nav>
    </div></div>
  </header>
  <main id="contenu" role="main">
    <div class="fr-container">
      <h1 class="fr-h1">Recherche</h1>
"#
    );
    if page.is_empty() {
        let _ = write!(
            html,
            r#"      <div class="fr-alert fr-alert--info search-no-result">
        <h3 class="fr-alert__title">Aucun résultat</h3>
        <p>Aucun résultat ne correspond à votre recherche « {keyword} ».</p>
      </div>
"#
        );
    } else {
        let _ = writeln!(
            html,
            r#"      <p class="ezsr-results-count">Résultats {} à {} sur {total}</p>
      <div class="fr-grid-row fr-grid-row--gutters search-results">"#,
            offset + 1,
            offset + page.len()
        );
        for card in page {
            let description = card
                .description_html
                .as_ref()
                .map(|d| format!(r#"<p class="fr-card__desc">{d}</p>"#))
                .unwrap_or_default();
            let date = if card.date_label.is_empty() {
                String::new()
            } else {
                format!(
                    r#"<div class="fr-card__end"><p class="fr-card__detail fr-icon-calendar-line">{}</p></div>"#,
                    card.date_label
                )
            };
            let _ = write!(
                html,
                r#"
        <div class="fr-col-12">
          <div class="fr-card fr-enlarge-link fr-card--horizontal fr-card--sm">
            <div class="fr-card__body">
              <div class="fr-card__content">
                <h3 class="fr-card__title">
                  <a href="{}">{}</a>
                </h3>
                {description}
                <div class="fr-card__start"><ul class="fr-badges-group"><li><p class="fr-badge">Avis</p></li></ul></div>
                {date}
              </div>
            </div>
          </div>
        </div>"#,
                card.href, card.title_html
            );
        }
        let _ = write!(
            html,
            r#"
      </div>
      <nav role="navigation" class="fr-pagination" aria-label="Pagination">
        <ul class="fr-pagination__list">
          <li><a class="fr-pagination__link" href="/contenu/recherche/(searchtext)/{keyword}?SearchText={keyword}">1</a></li>
        </ul>
      </nav>
"#
        );
    }
    html.push_str(
        r#"    </div>
  </main>
  <footer class="fr-footer" role="contentinfo" id="footer">
    <ul class="fr-footer__bottom-list"><li><a href="/Mentions-legales">Mentions légales</a></li></ul>
  </footer>
</body>
</html>
"#,
    );
    html
}

/// The distinct links of some cards.
pub fn links<'a>(cards: impl IntoIterator<Item = &'a FixtureCard>) -> HashSet<String> {
    cards.into_iter().map(|c| c.link.clone()).collect()
}
