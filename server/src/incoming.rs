//! The connections handed to the HTTP server: accepted, then (under TLS)
//! handshaken, then read until their HTTP/2 preface or first HTTP/1.1
//! request head is complete — all within the handshake timeout. A client
//! that opens connections and sends nothing, or half a preface, is
//! disconnected instead of holding them forever; hyper's own 30-second
//! header timeout covers the later requests of an HTTP/1.1 connection.
//!
//! Each connection is prepared in its own task, so slow ones never hold up
//! the others, and at most [`MAX_PREPARING`] are prepared at once.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Connections being prepared at once; more wait in the listen backlog.
pub const MAX_PREPARING: usize = 1024;
/// The HTTP/2 connection preface.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Bytes read ahead before the connection is handed over anyway (hyper
/// then applies its own limits to a longer head).
const MAX_HEAD: usize = 16 * 1024;

/// How connections are prepared.
#[derive(Clone)]
pub struct Preparation {
    /// `None`: plain TCP.
    pub tls: Option<TlsAcceptor>,
    /// For the TLS handshake and the first request head together.
    pub timeout: Duration,
}

impl std::fmt::Debug for Preparation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preparation").field("tls", &self.tls.is_some()).field("timeout", &self.timeout).finish()
    }
}

/// Accepts on `listener` and yields the connections that are ready, until
/// the stream is dropped.
pub fn incoming(listener: TcpListener, preparation: Preparation) -> ReceiverStream<io::Result<Connection>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let preparing = Arc::new(Semaphore::new(MAX_PREPARING));
        loop {
            let Ok(permit) = preparing.clone().acquire_owned().await else { return };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = tx.closed() => return,
            };
            let (tcp, remote) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: the next accept may work.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let tx = tx.clone();
            let preparation = preparation.clone();
            tokio::spawn(async move {
                let prepared = tokio::time::timeout(preparation.timeout, prepare(tcp, &preparation)).await;
                drop(permit);
                match prepared {
                    Ok(Ok(connection)) => {
                        let _ = tx.send(Ok(connection)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%remote, error = %e, "connection dropped before its first request"),
                    Err(_) => tracing::debug!(%remote, "connection dropped: no complete first request in time"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

async fn prepare(tcp: TcpStream, preparation: &Preparation) -> io::Result<Connection> {
    let _ = tcp.set_nodelay(true);
    let info = TcpConnectInfo { local_addr: tcp.local_addr().ok(), remote_addr: tcp.peer_addr().ok() };
    let mut io: Box<dyn Io> = match &preparation.tls {
        None => Box::new(tcp),
        Some(acceptor) => Box::new(acceptor.accept(tcp).await?),
    };
    let head = read_head(&mut io).await?;
    Ok(Connection { io, head, at: 0, info })
}

/// Reads until the HTTP/2 preface, or an HTTP/1 request head, is complete.
async fn read_head(io: &mut Box<dyn Io>) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if head_is_complete(&head) {
            return Ok(head);
        }
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed before a complete request"));
        }
        head.extend_from_slice(&chunk[..n]);
    }
}

/// Whether `bytes` hold a whole HTTP/2 preface or HTTP/1 request head (or
/// more than is worth reading ahead).
fn head_is_complete(bytes: &[u8]) -> bool {
    if bytes.len() >= MAX_HEAD {
        return true;
    }
    let n = bytes.len().min(PREFACE.len());
    if bytes[..n] == PREFACE[..n] {
        return bytes.len() >= PREFACE.len();
    }
    memchr::memmem::find(bytes, b"\r\n\r\n").is_some()
}

/// What a connection is read and written through: TCP, or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A prepared connection: the bytes read ahead are read again first.
pub struct Connection {
    io: Box<dyn Io>,
    head: Vec<u8>,
    at: usize,
    info: TcpConnectInfo,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("remote", &self.info.remote_addr).finish()
    }
}

impl Connected for Connection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for Connection {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.at < self.head.len() {
            let n = (self.head.len() - self.at).min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.head[at..at + n]);
            self.at += n;
            if self.at == self.head.len() {
                self.head = Vec::new();
                self.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_is_complete_with_the_whole_preface_or_an_empty_line() {
        assert!(!head_is_complete(b""));
        assert!(!head_is_complete(&PREFACE[..10]));
        assert!(head_is_complete(PREFACE));
        assert!(!head_is_complete(b"GET / HTTP/1.1\r\nHost: x\r\n"));
        assert!(head_is_complete(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(head_is_complete(&vec![b'a'; MAX_HEAD]));
    }

    #[tokio::test]
    async fn a_connection_that_sends_half_a_preface_is_closed_after_the_timeout() {
        use tokio::io::AsyncWriteExt;
        use tokio_stream::StreamExt;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let mut ready = incoming(listener, Preparation { tls: None, timeout: Duration::from_millis(200) });
        let mut slow = TcpStream::connect(address).await.expect("connect");
        slow.write_all(&PREFACE[..10]).await.expect("half a preface");
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(30), slow.read(&mut byte)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "the server closed it: {read:?}");

        let mut quick = TcpStream::connect(address).await.expect("connect");
        quick.write_all(PREFACE).await.expect("a whole preface");
        let connection = tokio::time::timeout(Duration::from_secs(30), ready.next()).await.expect("handed over");
        let mut connection = connection.expect("a connection").expect("prepared");
        let mut replayed = vec![0u8; PREFACE.len()];
        connection.read_exact(&mut replayed).await.expect("the preface, read again");
        assert_eq!(replayed, PREFACE);
    }
}
