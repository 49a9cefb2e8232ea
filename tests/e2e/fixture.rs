//! A local imitation of the prefecture search pages, served over real HTTP
//! on port 0: DSFR result cards over a known number of pages per site and
//! keyword, with the irregularities of the real sites (relative and absolute
//! links, missing descriptions and dates, entities, odd whitespace, three
//! date formats), pages that can be made to misbehave, and pages held
//! until the test releases them.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Datelike;
use percent_encoding::percent_decode_str;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

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
    /// How the card is written, as the real sites vary it: where its date
    /// detail is, whether its title has the title class.
    pub markup: Markup,
}

/// The ways the real sites write a result card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    /// Horizontal card, title in `.fr-card__title`, date in `fr-card__end`.
    Standard,
    /// The date detail in `fr-card__start`, after a category detail.
    DateInStart,
    /// A vertical card whose title is a plain heading, without the class.
    PlainHeading,
    /// A category detail in `fr-card__start` and the date in `fr-card__end`.
    DetailsInBoth,
}

/// Titles that a spreadsheet would take for formulas (keyword `formule`).
pub const FORMULAS: [&str; 4] =
    ["=HYPERLINK(\"https://evil.example\",\"ouvrir\")", "+33 1 02 03", "-2+3", "@SUM(A1:A9)"];

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
    /// Answers `status` (with this `Retry-After`, if any) to the next
    /// `times` requests, then normally.
    Status { status: u16, times: usize, retry_after: Option<String> },
    /// Announces a body longer than it sends, then closes the connection.
    Truncated,
    /// Answers a body of this many bytes.
    Oversized(usize),
    /// Answers a page whose results are this many nested `<div>` deep, as
    /// a hostile site might, with one card at the bottom.
    Nested(usize),
    /// Answers a page with this many result cards.
    Cards(usize),
    /// Redirects (302) to this absolute URL.
    RedirectTo(String),
    /// Sends the headers and the start of the body, then nothing more.
    StallBody,
    /// Closes the connection without answering, the next `times` requests.
    Reset { times: usize },
    /// Serves the page in windows-1252, declared in `Content-Type`.
    Windows1252,
    /// Redirects to itself.
    RedirectLoop,
    /// Serves the page gzip-compressed when the client accepts it.
    Gzip,
}

/// Holds the requests for some paths until the test releases them: a page
/// that stays loading exactly as long as the test needs a task to run.
/// Requests that reach a released gate pass at once.
#[derive(Debug, Clone)]
pub struct Gate(Arc<tokio::sync::watch::Sender<GateState>>);

#[derive(Debug, Clone, Copy, Default)]
struct GateState {
    /// Requests that reached the gate: held, or let through after the release.
    reached: usize,
    released: bool,
}

impl Gate {
    fn new() -> Gate {
        Gate(Arc::new(tokio::sync::watch::Sender::new(GateState::default())))
    }

    /// Waits until `n` requests have reached the gate (and, before the
    /// release, are held there, in flight).
    pub async fn wait_until_reached(&self, n: usize) {
        let mut state = self.0.subscribe();
        tokio::time::timeout(crate::helpers::DEADLINE, state.wait_for(|s| s.reached >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} request(s) at the gate within the deadline, not {}", self.reached()))
            .expect("the gate");
    }

    /// Requests that reached the gate so far.
    pub fn reached(&self) -> usize {
        self.0.borrow().reached
    }

    /// Lets the held requests, and every later one, through.
    pub fn release(&self) {
        self.0.send_modify(|s| s.released = true);
    }

    /// Counts a request in, and returns once the gate is released.
    async fn pass(&self) {
        self.0.send_modify(|s| s.reached += 1);
        let mut state = self.0.subscribe();
        // The gate holds the sender: the wait ends at the release, not before.
        let _ = state.wait_for(|s| s.released).await;
    }
}

/// One request as the fixture saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    /// The query string, as sent (without the `?`).
    pub query: String,
    pub at: Instant,
    pub user_agent: String,
    pub accept_encoding: String,
}

#[derive(Default)]
struct Traffic {
    hits: Vec<Hit>,
    in_flight: usize,
    max_in_flight: usize,
}

struct State {
    /// Cards per (domain, keyword), newest first; tests may add some.
    cards: Mutex<HashMap<(String, String), Vec<FixtureCard>>>,
    faults: Mutex<HashMap<String, Fault>>,
    /// The fault of every path without one of its own.
    default_fault: Mutex<Option<Fault>>,
    gates: Mutex<HashMap<String, Gate>>,
    /// The gate of every path without one of its own.
    default_gate: Mutex<Option<Gate>>,
    traffic: Mutex<Traffic>,
    /// Whether a search's `dateFilter[]` window is applied, as the real
    /// sites do (undated cards stay), or ignored, as a site may.
    date_filter: std::sync::atomic::AtomicBool,
    /// Connections held by a request that is never answered in full.
    stuck_connections: std::sync::atomic::AtomicUsize,
    /// Whether connections stay open for more requests, as most sites do.
    keep_alive: std::sync::atomic::AtomicBool,
}

/// The running fixture site: a small HTTP/1.1 server on a raw socket, so
/// that it can misbehave in every way a real site does.
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
        FixtureSite::start_at(spec, "127.0.0.1:0").await
    }

    /// A fixture site listening on `address` (another loopback address, say,
    /// for a second host).
    pub async fn start_at(spec: SiteSpec, address: &str) -> FixtureSite {
        let mut cards = HashMap::new();
        for (domain, keyword, count) in &spec.counts {
            cards.insert(((*domain).to_owned(), (*keyword).to_owned()), generate(domain, keyword, *count));
        }
        let state = Arc::new(State {
            cards: Mutex::new(cards),
            faults: Mutex::new(HashMap::new()),
            default_fault: Mutex::new(None),
            gates: Mutex::new(HashMap::new()),
            default_gate: Mutex::new(None),
            traffic: Mutex::new(Traffic::default()),
            date_filter: std::sync::atomic::AtomicBool::new(true),
            stuck_connections: std::sync::atomic::AtomicUsize::new(0),
            keep_alive: std::sync::atomic::AtomicBool::new(false),
        });
        let listener = TcpListener::bind(address).await.expect("bind the fixture site");
        let addr = listener.local_addr().expect("fixture address");
        let server = tokio::spawn({
            let state = state.clone();
            async move {
                let mut connections = tokio::task::JoinSet::new();
                while let Ok((stream, _)) = listener.accept().await {
                    connections.spawn(serve_connection(state.clone(), stream));
                    while connections.try_join_next().is_some() {}
                }
            }
        });
        FixtureSite { addr, state, server }
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The `--site-base-url` that points every domain at this site.
    pub fn base_url(&self) -> String {
        format!("http://{}/{{domain}}", self.addr)
    }

    /// The cards served for a site and keyword, in page order.
    pub fn cards(&self, domain: &str, keyword: &str) -> Vec<FixtureCard> {
        self.state
            .cards
            .lock()
            .expect("cards")
            .get(&(domain.to_owned(), keyword.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Publishes `n` more cards for a site and keyword, first in the results
    /// as the newest are on the real sites; returns them. They are new
    /// documents for a `bovin` search (the generator shares some cards of
    /// other keywords with `bovin`).
    pub fn add_cards(&self, domain: &str, keyword: &str, n: usize) -> Vec<FixtureCard> {
        let mut all = self.state.cards.lock().expect("cards");
        let cards = all.entry((domain.to_owned(), keyword.to_owned())).or_default();
        let before = cards.len();
        let added: Vec<FixtureCard> = generate(domain, keyword, before + n).split_off(before);
        cards.splice(0..0, added.iter().cloned());
        added
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

    /// Makes every path without a fault of its own misbehave (or, with
    /// `None`, answer normally).
    pub fn set_default_fault(&self, fault: Option<Fault>) {
        *self.state.default_fault.lock().expect("fault") = fault;
    }

    /// Makes the site ignore the date window of its searches (or apply it
    /// again), as a site may.
    pub fn set_date_filter(&self, applied: bool) {
        self.state.date_filter.store(applied, std::sync::atomic::Ordering::SeqCst);
    }

    /// Makes a path answer normally again.
    pub fn clear_fault(&self, path: &str) {
        self.state.faults.lock().expect("faults").remove(path);
    }

    /// Holds the requests for `path` (counted in flight) until the gate is
    /// released; then they are answered as usual, faults included.
    pub fn hold(&self, path: &str) -> Gate {
        let gate = Gate::new();
        self.state.gates.lock().expect("gates").insert(path.to_owned(), gate.clone());
        gate
    }

    /// Holds the requests for every path without a gate of its own.
    pub fn hold_all(&self) -> Gate {
        let gate = Gate::new();
        *self.state.default_gate.lock().expect("gate") = Some(gate.clone());
        gate
    }

    /// Makes the site keep connections open for more requests (or close
    /// each after its answer, the default).
    pub fn set_keep_alive(&self, keep: bool) {
        self.state.keep_alive.store(keep, std::sync::atomic::Ordering::SeqCst);
    }

    /// Connections held by a request never answered in full (hanging, or
    /// stalled mid-body) that the client has not closed.
    pub fn stuck_connections(&self) -> usize {
        self.state.stuck_connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Hit> {
        self.state.traffic.lock().expect("traffic").hits.clone()
    }

    /// Requests received for `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|h| h.path == path).count()
    }

    /// Every request received so far.
    pub fn total_hits(&self) -> usize {
        self.requests().len()
    }

    /// The most requests that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.traffic.lock().expect("traffic").max_in_flight
    }
}

/// Counts a request in flight for as long as it lives.
struct InFlight(Arc<State>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.traffic.lock().expect("traffic").in_flight -= 1;
    }
}

async fn serve_connection(state: Arc<State>, stream: TcpStream) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    // One request per connection (every answer says `Connection: close`),
    // unless the site keeps connections open for the next requests.
    while serve_request(&state, &mut reader, &mut write).await {}
}

/// What a connection was split into.
type Reader = BufReader<tokio::net::tcp::OwnedReadHalf>;
type Writer = tokio::net::tcp::OwnedWriteHalf;

/// Answers one request; returns whether the connection stays open for
/// another.
async fn serve_request(state: &Arc<State>, reader: &mut Reader, write: &mut Writer) -> bool {
    let keep_alive = state.keep_alive.load(std::sync::atomic::Ordering::SeqCst);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
        return false;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (path, query) = (path.to_owned(), query.to_owned());
    let in_flight = {
        let mut traffic = state.traffic.lock().expect("traffic");
        traffic.hits.push(Hit {
            path: path.clone(),
            query: query.clone(),
            at: Instant::now(),
            user_agent: headers.get("user-agent").cloned().unwrap_or_default(),
            accept_encoding: headers.get("accept-encoding").cloned().unwrap_or_default(),
        });
        traffic.in_flight += 1;
        traffic.max_in_flight = traffic.max_in_flight.max(traffic.in_flight);
        InFlight(state.clone())
    };
    let gate = {
        let gates = state.gates.lock().expect("gates");
        gates.get(&path).cloned().or_else(|| state.default_gate.lock().expect("gate").clone())
    };
    if let Some(gate) = gate {
        gate.pass().await;
    }
    let fault = take_fault(state, &path);
    let truncated = matches!(fault, Some(Fault::Truncated));
    let page = || {
        let (domain, keyword, offset) = parse_path(&path)?;
        let all = state.cards.lock().expect("cards");
        let cards = all.get(&(domain.clone(), keyword.clone())).map(Vec::as_slice).unwrap_or_default();
        let window = date_window(&query).filter(|_| state.date_filter.load(std::sync::atomic::Ordering::SeqCst));
        let cards: Vec<&FixtureCard> = cards
            .iter()
            .filter(|c| {
                window.as_ref().is_none_or(|(start, end)| {
                    c.published_on.is_empty() || (start.as_str()..=end.as_str()).contains(&c.published_on.as_str())
                })
            })
            .collect();
        let page: Vec<&FixtureCard> = cards.iter().skip(offset).take(PAGE_SIZE).copied().collect();
        Some(render_page(&domain, &keyword, offset, cards.len(), &page))
    };
    let html_type = "text/html; charset=utf-8";
    let bytes = match fault {
        Some(Fault::Hang) => {
            // Never answers; the connection ends only when the client closes it.
            wait_for_the_client_to_close(state, reader).await;
            return false;
        }
        Some(Fault::Reset { .. }) => return false,
        Some(Fault::StallBody) => {
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Type: {html_type}\r\nContent-Length: 100000\r\n\r\n<html><body>");
            drop(in_flight);
            if write.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            wait_for_the_client_to_close(state, reader).await;
            return false;
        }
        Some(Fault::Status { status, retry_after, .. }) => {
            let extra = retry_after.map(|r| format!("Retry-After: {r}\r\n")).unwrap_or_default();
            response(status, html_type, &extra, b"<h1>Erreur</h1>")
        }
        Some(Fault::RedirectLoop) => response(302, html_type, &format!("Location: {target}\r\n"), b""),
        Some(Fault::Nested(depth)) => {
            let card = r#"<div class="fr-card"><h3 class="fr-card__title"><a href="/profond">Profond</a></h3></div>"#;
            let body = format!(
                "<html><body><main>{}{card}{}</main></body></html>",
                "<div>".repeat(depth),
                "</div>".repeat(depth)
            );
            response(200, html_type, "", body.as_bytes())
        }
        Some(Fault::Cards(count)) => {
            let cards: String = (0..count)
                .map(|i| format!(r#"<div class="fr-card"><h3 class="fr-card__title"><a href="/carte-{i}">Carte {i}</a></h3></div>"#))
                .collect();
            response(200, html_type, "", format!("<html><body><main>{cards}</main></body></html>").as_bytes())
        }
        Some(Fault::RedirectTo(location)) => response(302, html_type, &format!("Location: {location}\r\n"), b""),
        Some(Fault::Oversized(size)) => {
            let mut body = b"<html><body>".to_vec();
            body.resize(size, b'x');
            response(200, html_type, "", &body)
        }
        Some(Fault::Truncated) => {
            let body = page().unwrap_or_default();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {html_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len() + 1000
            );
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&body.as_bytes()[..body.len() / 2]);
            bytes
        }
        other => match page() {
            None => response(404, html_type, "", "<h1>Page introuvable</h1>".as_bytes()),
            Some(html) => match other {
                Some(Fault::Windows1252) => {
                    let (encoded, _, _) = encoding_rs::WINDOWS_1252.encode(&html);
                    response(200, "text/html; charset=windows-1252", "", &encoded)
                }
                Some(Fault::Gzip) if headers.get("accept-encoding").is_some_and(|e| e.contains("gzip")) => {
                    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    std::io::Write::write_all(&mut encoder, html.as_bytes()).expect("gzip");
                    let body = encoder.finish().expect("gzip");
                    response(200, html_type, "Content-Encoding: gzip\r\n", &body)
                }
                _ => response(200, html_type, "", html.as_bytes()),
            },
        },
    };
    // The request stops counting as in flight once its answer is ready: the
    // client may send its next request as soon as it has read this one,
    // before this connection is closed.
    drop(in_flight);
    if keep_alive && !truncated {
        let bytes = keep_open(&bytes);
        return write.write_all(&bytes).await.is_ok();
    }
    let _ = write.write_all(&bytes).await;
    let _ = write.shutdown().await;
    false
}

/// Holds a connection whose request is never answered in full, counted as
/// stuck, until the client closes it.
async fn wait_for_the_client_to_close(state: &State, reader: &mut Reader) {
    state.stuck_connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let mut byte = [0u8; 1];
    while matches!(tokio::io::AsyncReadExt::read(reader, &mut byte).await, Ok(n) if n > 0) {}
    state.stuck_connections.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
}

/// The same answer, saying the connection stays open.
fn keep_open(bytes: &[u8]) -> Vec<u8> {
    let close = b"Connection: close\r\n";
    match bytes.windows(close.len()).position(|w| w == close) {
        Some(at) => [&bytes[..at], b"Connection: keep-alive\r\n".as_slice(), &bytes[at + close.len()..]].concat(),
        None => bytes.to_vec(),
    }
}

/// The fault of a path, counting down faults limited to some requests.
fn take_fault(state: &State, path: &str) -> Option<Fault> {
    let mut faults = state.faults.lock().expect("faults");
    let Some(fault) = faults.get_mut(path) else {
        return state.default_fault.lock().expect("fault").clone();
    };
    match fault {
        Fault::Status { times, .. } | Fault::Reset { times } => {
            if *times == 0 {
                return None;
            }
            *times -= 1;
        }
        _ => {}
    }
    Some(fault.clone())
}

fn response(status: u16, content_type: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        302 => "Found",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut bytes = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
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
            // The keyword `formule` finds titles a spreadsheet would run as formulas.
            let (title, title_html) = match keyword {
                "formule" => {
                    let formula = FORMULAS[n % FORMULAS.len()].to_owned();
                    (formula.clone(), formula.replace('&', "&amp;").replace('"', "&quot;"))
                }
                _ => (title, title_html),
            };
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
            let markup = [Markup::Standard, Markup::DateInStart, Markup::PlainHeading, Markup::DetailsInBoth][i % 4];
            FixtureCard { href, link, title_html, title, description_html, description, date_label, published_on, markup }
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
            let detail = |label: &str| format!(r#"<p class="fr-card__detail fr-icon-calendar-line">{label}</p>"#);
            let dated = |wrap: &dyn Fn(String) -> String| {
                if card.date_label.is_empty() { String::new() } else { wrap(detail(&card.date_label)) }
            };
            let badge = r#"<ul class="fr-badges-group"><li><p class="fr-badge">Avis</p></li></ul>"#;
            let category = r#"<p class="fr-card__detail">Arrêté</p>"#;
            let (card_class, title_tag, start, end) = match card.markup {
                Markup::Standard => (
                    "fr-card fr-enlarge-link fr-card--horizontal fr-card--sm",
                    r#"h3 class="fr-card__title""#,
                    badge.to_owned(),
                    dated(&|d| format!(r#"<div class="fr-card__end">{d}</div>"#)),
                ),
                Markup::DateInStart => (
                    "fr-card fr-enlarge-link fr-card--horizontal",
                    r#"h3 class="fr-card__title""#,
                    format!("{category}{}", dated(&|d| d)),
                    String::new(),
                ),
                Markup::PlainHeading => (
                    "fr-card fr-enlarge-link",
                    "h4",
                    badge.to_owned(),
                    dated(&|d| format!(r#"<div class="fr-card__end">{d}</div>"#)),
                ),
                Markup::DetailsInBoth => (
                    "fr-card fr-card--horizontal fr-card--no-arrow",
                    r#"h2 class="fr-card__title""#,
                    category.to_owned(),
                    dated(&|d| format!(r#"<div class="fr-card__end">{d}</div>"#)),
                ),
            };
            let title_end = title_tag.split(' ').next().unwrap_or("h3");
            let _ = write!(
                html,
                r#"
        <div class="fr-col-12">
          <div class="{card_class}">
            <div class="fr-card__body">
              <div class="fr-card__content">
                <{title_tag}>
                  <a href="{}">{}</a>
                </{title_end}>
                {description}
                <div class="fr-card__start">{start}</div>
                {end}
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

/// The `dateFilter[]=START&dateFilter[]=END` window of a search's query
/// (YYYY-MM-DD, compared as text).
fn date_window(query: &str) -> Option<(String, String)> {
    let days: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "dateFilter[]")
        .map(|(_, day)| day.into_owned())
        .collect();
    match days.as_slice() {
        [start, end] => Some((start.clone(), end.clone())),
        _ => None,
    }
}

/// The distinct links of some cards.
pub fn links<'a>(cards: impl IntoIterator<Item = &'a FixtureCard>) -> HashSet<String> {
    cards.into_iter().map(|c| c.link.clone()).collect()
}
