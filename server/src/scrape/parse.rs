//! Extraction of result cards from a search page.

use scraper::{ElementRef, Html};
use url::Url;

use crate::domain::Card;
use crate::scrape::budget::{OverBudget, ParseBudget};
use crate::scrape::profile::CompiledProfile;

/// The cards of a page, in page order. Relative links are resolved against
/// `origin`, the site's canonical origin. Only the profile's content region
/// is parsed, and only when it stays within `budget`.
pub fn parse_cards(
    profile: &CompiledProfile,
    html: &str,
    origin: &Url,
    budget: &ParseBudget,
) -> Result<Vec<Card>, OverBudget> {
    let content = profile.content(html);
    budget.check(content)?;
    let document = Html::parse_document(content);
    let mut found = document.select(&profile.card);
    let cards: Vec<Card> =
        found.by_ref().take(budget.max_cards).filter_map(|card| parse_card(profile, card, origin)).collect();
    if found.next().is_some() {
        return Err(OverBudget::TooManyCards { max: budget.max_cards });
    }
    Ok(cards)
}

fn parse_card(profile: &CompiledProfile, card: ElementRef<'_>, origin: &Url) -> Option<Card> {
    let title_el = card.select(&profile.title).next().or_else(|| card.select(&profile.heading).next());
    // The link is the title's own when it has one, else the card's first link.
    let link_el =
        title_el.and_then(|t| t.select(&profile.link).next()).or_else(|| card.select(&profile.link).next())?;
    let href = link_el.value().attr("href")?.trim();
    if href.is_empty() || href.starts_with('#') || href.starts_with("javascript:") {
        return None;
    }
    let link = origin.join(href).ok()?;
    if !matches!(link.scheme(), "http" | "https") {
        return None;
    }
    let title = title_el.map(text_of).filter(|t| !t.is_empty()).unwrap_or_else(|| text_of(link_el));
    let description = card.select(&profile.description).next().map(text_of).unwrap_or_default();
    // The first detail that reads as a date, wherever it is in the card.
    let (date_label, published_on) = card
        .select(&profile.date)
        .map(text_of)
        .find_map(|label| profile.profile.dates.parse(&label).map(|date| (label, Some(date))))
        .unwrap_or_default();
    Some(Card { link: link.into(), title, description, date_label, published_on })
}

/// The element's text content with every whitespace run (no-break spaces
/// included) collapsed to one space, trimmed. Text nodes are joined as they
/// are: `d'<strong>élevage</strong>` reads `d'élevage`.
fn text_of(element: ElementRef<'_>) -> String {
    let mut out = String::new();
    // A space is owed between the last word written and the next one.
    let mut space = false;
    for node in element.text().filter(|node| !node.is_empty()) {
        if node.starts_with(char::is_whitespace) {
            space = true;
        }
        for word in node.split_whitespace() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
            space = true;
        }
        // Words of one node are separated; the next node may glue on.
        space = node.ends_with(char::is_whitespace);
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::scrape::profile::{SiteProfile, canonical_origin};

    fn parse(html: &str) -> Vec<Card> {
        let profile = SiteProfile::prefecture().compile().expect("valid");
        let origin = canonical_origin("www.morbihan.gouv.fr").expect("origin");
        parse_cards(&profile, html, &origin, &ParseBudget::default()).expect("within the budget")
    }

    const CARD: &str = r#"
      <div class="fr-col-12">
        <div class="fr-card fr-enlarge-link fr-card--horizontal">
          <div class="fr-card__body"><div class="fr-card__content">
            <h3 class="fr-card__title">
              <a href="/Publications/Avis/Elevage-bovin-GAEC-du-Moulin-100001" title="x">
                Arrêté préfectoral&nbsp;–  GAEC du Moulin &amp; fils
              </a>
            </h3>
            <p class="fr-card__desc">Le public est informé d'une demande d'<strong class="highlight">élevage bovin</strong>
               qui sera   étendu.</p>
            <div class="fr-card__end"><p class="fr-card__detail fr-icon-calendar-line">Publié le 12/03/2025</p></div>
          </div></div>
        </div>
      </div>"#;

    #[test]
    fn a_dsfr_card_gives_every_field() {
        let cards = parse(&format!("<html><body><main>{CARD}</main></body></html>"));
        assert_eq!(
            cards,
            [Card {
                link: "https://www.morbihan.gouv.fr/Publications/Avis/Elevage-bovin-GAEC-du-Moulin-100001".into(),
                title: "Arrêté préfectoral – GAEC du Moulin & fils".into(),
                description: "Le public est informé d'une demande d'élevage bovin qui sera étendu.".into(),
                date_label: "Publié le 12/03/2025".into(),
                published_on: NaiveDate::from_ymd_opt(2025, 3, 12),
            }]
        );
    }

    #[test]
    fn missing_parts_are_left_empty() {
        let html = r#"<div class="fr-card"><h2 class="fr-card__title"><a href="https://autre.example.org/doc?id=1">Sans date</a></h2></div>
                      <div class="fr-card"><a href="relative/page">Lien seul</a></div>"#;
        let cards = parse(html);
        assert_eq!(cards.len(), 2);
        assert_eq!(cards[0].link, "https://autre.example.org/doc?id=1");
        assert_eq!(cards[0].title, "Sans date");
        assert_eq!(cards[0].description, "");
        assert_eq!(cards[0].date_label, "");
        assert_eq!(cards[0].published_on, None);
        assert_eq!(cards[1].link, "https://www.morbihan.gouv.fr/relative/page");
        assert_eq!(cards[1].title, "Lien seul");
    }

    #[test]
    fn cards_without_a_usable_link_are_skipped() {
        let html = r##"<div class="fr-card"><h3 class="fr-card__title">Pas de lien</h3></div>
                       <div class="fr-card"><a href="#top">Ancre</a></div>
                       <div class="fr-card"><a href="mailto:x@y.fr">Courriel</a></div>"##;
        assert!(parse(html).is_empty());
    }

    #[test]
    fn malformed_markup_still_yields_the_cards() {
        // Unclosed paragraphs, divs and inline tags and stray end tags, as
        // broken CMS templates produce: the second card ends up nested in
        // the first, and each still gives its own link.
        let html = r#"<div class="fr-card"><h3 class="fr-card__title"><a href="/a">Premier</a></h3>
                      <p class="fr-card__desc">texte <b>non fermé
                      <div class="fr-card"><h3 class="fr-card__title"><a href="/b">Second</a></h3></span></div>"#;
        let cards = parse(html);
        let links: Vec<_> = cards.iter().map(|c| c.link.as_str()).collect();
        assert_eq!(links, ["https://www.morbihan.gouv.fr/a", "https://www.morbihan.gouv.fr/b"]);
        assert_eq!(cards[1].title, "Second");
    }

    #[test]
    fn only_the_content_region_is_read_when_the_page_has_one() {
        let card = |href: &str| {
            format!(r#"<div class="fr-card"><h3 class="fr-card__title"><a href="{href}">T</a></h3></div>"#)
        };
        let with_main =
            format!("<header>{}</header><main id=\"contenu\">{}</main><footer></footer>", card("/menu"), card("/doc"));
        let links: Vec<_> = parse(&with_main).into_iter().map(|c| c.link).collect();
        assert_eq!(links, ["https://www.morbihan.gouv.fr/doc"]);
        let without_main = format!("<body>{}{}</body>", card("/a"), card("/b"));
        assert_eq!(parse(&without_main).len(), 2, "a page without <main> is read whole");
    }

    #[test]
    fn the_date_is_read_from_whichever_detail_has_one_and_the_title_from_any_heading() {
        let html = r#"
          <div class="fr-card">
            <div class="fr-card__body"><div class="fr-card__content">
              <h4><a href="/a">Titre sans classe</a></h4>
              <div class="fr-card__start"><p class="fr-card__detail">Arrêté</p><p class="fr-card__detail">Le 01/02/2025</p></div>
            </div></div>
          </div>
          <div class="fr-card fr-card--horizontal">
            <h3 class="fr-card__title"><a href="/b">B</a></h3>
            <div class="fr-card__start"><p class="fr-card__detail">Avis</p></div>
            <div class="fr-card__end"><p class="fr-card__detail">Mis à jour le 05/10/2025</p></div>
          </div>
          <div class="fr-card"><h3 class="fr-card__title"><a href="/c">C</a></h3>
            <div class="fr-card__start"><p class="fr-card__detail">Communiqué</p></div></div>"#;
        let cards = parse(html);
        let got: Vec<_> = cards.iter().map(|c| (c.title.as_str(), c.date_label.as_str(), c.published_on)).collect();
        assert_eq!(
            got,
            [
                ("Titre sans classe", "Le 01/02/2025", NaiveDate::from_ymd_opt(2025, 2, 1)),
                ("B", "Mis à jour le 05/10/2025", NaiveDate::from_ymd_opt(2025, 10, 5)),
                ("C", "", None),
            ]
        );
    }

    #[test]
    fn a_page_with_more_cards_than_the_budget_is_refused() {
        let profile = SiteProfile::prefecture().compile().expect("valid");
        let origin = canonical_origin("www.morbihan.gouv.fr").expect("origin");
        let budget = ParseBudget { max_cards: 3, ..ParseBudget::default() };
        let card =
            |i: usize| format!(r#"<div class="fr-card"><h3 class="fr-card__title"><a href="/{i}">T</a></h3></div>"#);
        let three: String = (0..3).map(card).collect();
        assert_eq!(parse_cards(&profile, &three, &origin, &budget).map(|c| c.len()), Ok(3));
        let four: String = (0..4).map(card).collect();
        assert_eq!(parse_cards(&profile, &four, &origin, &budget), Err(OverBudget::TooManyCards { max: 3 }));
    }

    #[test]
    fn a_page_without_cards_gives_nothing() {
        let html = r#"<div class="fr-alert search-no-result"><h3 class="fr-alert__title">Aucun résultat</h3></div>"#;
        assert!(parse(html).is_empty());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::scrape::profile::{SiteProfile, canonical_origin};

    fn parse(html: &str) -> Vec<Card> {
        let profile = SiteProfile::prefecture().compile().expect("valid");
        let origin = canonical_origin("www.morbihan.gouv.fr").expect("origin");
        parse_cards(&profile, html, &origin, &ParseBudget::default()).unwrap_or_default()
    }

    fn card(href: &str, title: &str) -> String {
        format!(r#"<div class="fr-card"><h3 class="fr-card__title"><a href="{href}">{title}</a></h3></div>"#)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_markup_gives_only_web_links_and_trimmed_single_spaced_text(html in "(<[a-z/ =\"#:.-]{0,12}>|[^<]{0,20}|fr-card|href){0,60}") {
            for card in parse(&html) {
                prop_assert!(card.link.starts_with("http://") || card.link.starts_with("https://"), "{}", card.link);
                for text in [&card.title, &card.description, &card.date_label] {
                    prop_assert_eq!(text.trim(), text.as_str());
                    prop_assert!(!text.contains("  ") && !text.contains('\n'), "{:?}", text);
                }
            }
        }

        #[test]
        fn every_card_of_a_page_is_found_in_order_with_its_title(titles in prop::collection::vec("[A-Za-zéèà' ]{0,20}[A-Za-z]", 0..12)) {
            let html: String = titles.iter().enumerate().map(|(i, t)| card(&format!("/doc/{i}"), t)).collect();
            let cards = parse(&format!("<main>{html}</main>"));
            prop_assert_eq!(cards.len(), titles.len());
            for (i, (card, title)) in cards.iter().zip(&titles).enumerate() {
                prop_assert_eq!(&card.link, &format!("https://www.morbihan.gouv.fr/doc/{i}"));
                prop_assert_eq!(card.title.as_str(), title.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }

        #[test]
        fn links_that_are_not_web_links_are_never_kept(scheme in "(javascript|mailto|data|ftp|file|tel)", rest in "[a-z0-9/:.]{0,20}") {
            let href = format!("{scheme}:{rest}");
            prop_assert!(parse(&card(&href, "T")).is_empty());
        }
    }
}
