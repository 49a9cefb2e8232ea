//! A site whose every answer takes a while: three pages of ten cards, then
//! an empty page, for any domain and keyword. It keeps a task running long
//! enough for a thousand subscribers to watch it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Starts the site; returns the base URL template for `--site-base-url`.
pub async fn start(delay: Duration) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0; 8192];
                let Ok(n) = stream.read(&mut buf).await else { return };
                let request = String::from_utf8_lossy(&buf[..n]);
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                tokio::time::sleep(delay).await;
                let body = page(&path);
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    Ok(format!("http://{addr}/{{domain}}"))
}

fn page(path: &str) -> String {
    let offset: usize =
        path.split("/(offset)/").nth(1).and_then(|rest| rest.split('/').next()?.parse().ok()).unwrap_or(0);
    let mut html = String::from("<!DOCTYPE html><html><body><main>");
    if offset < 30 {
        for i in 0..10 {
            html.push_str(&format!(
                r#"<div class="fr-card"><h3 class="fr-card__title"><a href="{path}/doc-{}">Arrêté n°{}</a></h3><p class="fr-card__desc">Élevage</p><p class="fr-card__detail">Publié le 01/02/2025</p></div>"#,
                offset + i,
                offset + i
            ));
        }
    }
    html.push_str("</main></body></html>");
    html
}
