//! Host names to server addresses, for the politeness limits and for the
//! HTTP client alike (one answer for both, so a request goes to the server
//! it was counted against). Answers come from the system's DNS servers and
//! are cached for their TTL; `--resolve NAME=ADDRESS` pins a name (or `*`,
//! every name) to an address, as curl's option does.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use hickory_resolver::TokioResolver;

/// A name pinned to an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// A host name, or `*` for every name.
    pub name: String,
    pub address: IpAddr,
}

impl FromStr for Pin {
    type Err = String;

    /// `NAME=ADDRESS`, e.g. `www.morbihan.gouv.fr=127.0.0.1` or `*=127.0.0.1`.
    fn from_str(text: &str) -> Result<Pin, String> {
        let (name, address) = text.split_once('=').ok_or_else(|| format!("{text:?} is not NAME=ADDRESS"))?;
        let address = address.trim().parse().map_err(|e| format!("{address:?} is not an IP address: {e}"))?;
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("{text:?} names no host"));
        }
        Ok(Pin { name, address })
    }
}

/// Resolves host names; cheap to clone.
#[derive(Clone)]
pub struct Resolver {
    pins: Arc<Vec<Pin>>,
    /// The system's DNS, or why it could not be set up.
    dns: Arc<Result<TokioResolver, String>>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver").field("pins", &self.pins).finish_non_exhaustive()
    }
}

impl Resolver {
    /// The system's DNS (as `/etc/resolv.conf` says), with these pins first.
    pub fn new(pins: Vec<Pin>) -> Resolver {
        let dns = TokioResolver::builder_tokio().map(|b| b.build()).map_err(|e| e.to_string());
        let dns = dns.and_then(|r| r.map_err(|e| e.to_string()));
        Resolver { pins: Arc::new(pins), dns: Arc::new(dns) }
    }

    /// The addresses of `host`: itself when it is an IP literal, its pin,
    /// or the DNS's answer (cached until its TTL runs out).
    pub async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let name = host.to_ascii_lowercase();
        if let Some(pin) =
            self.pins.iter().find(|p| p.name == name).or_else(|| self.pins.iter().find(|p| p.name == "*"))
        {
            return Ok(vec![pin.address]);
        }
        let dns = self.dns.as_ref().as_ref().map_err(|e| format!("no DNS configured: {e}"))?;
        let answer = dns.lookup_ip(name.as_str()).await.map_err(|e| format!("cannot resolve {host}: {e}"))?;
        let addresses: Vec<IpAddr> = answer.iter().collect();
        if addresses.is_empty() {
            return Err(format!("{host} has no address"));
        }
        Ok(addresses)
    }

    /// The server a host's requests go to: its first address.
    pub async fn server_of(&self, host: &str) -> Result<IpAddr, String> {
        Ok(self.lookup(host).await?[0])
    }
}

/// The HTTP client resolves through the same answers.
impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let addresses = resolver
                .lookup(name.as_str())
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            let addrs: reqwest::dns::Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literals_are_their_own_address_and_pins_come_before_the_dns() {
        let resolver = Resolver::new(vec![
            "www.morbihan.gouv.fr=127.0.0.1".parse().expect("pin"),
            "*=127.0.0.2".parse().expect("pin"),
        ]);
        assert_eq!(resolver.server_of("10.1.2.3").await, Ok("10.1.2.3".parse().expect("ip")));
        assert_eq!(resolver.server_of("[::1]").await, Ok("::1".parse().expect("ip")));
        assert_eq!(resolver.server_of("WWW.Morbihan.gouv.fr").await, Ok("127.0.0.1".parse().expect("ip")));
        assert_eq!(resolver.server_of("www.finistere.gouv.fr").await, Ok("127.0.0.2".parse().expect("ip")));
        assert!("no-equals".parse::<Pin>().is_err());
        assert!("x=not-an-ip".parse::<Pin>().is_err());
    }
}
