//! Moving SIP messages: one UDP socket, or TCP connections (one to the trunk, opened on demand,
//! plus any the trunk opens to us). Every received message is handed on with where it came
//! from, so a response to it goes back the same way.

use super::message::{Message, ParseError, MAX_MESSAGE};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, Mutex};

/// UDP or TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Datagrams; the user agent retransmits.
    Udp,
    /// A stream; no retransmissions.
    Tcp,
}

impl Protocol {
    /// As in a Via header.
    pub fn via(self) -> &'static str {
        match self {
            Protocol::Udp => "UDP",
            Protocol::Tcp => "TCP",
        }
    }
}

type Stream = Arc<Mutex<OwnedWriteHalf>>;

/// Where a received message came from.
#[derive(Clone)]
pub struct Origin {
    /// The sender's address.
    pub addr: SocketAddr,
    stream: Option<Stream>,
}

/// Received messages go here.
pub type Inbound = mpsc::UnboundedSender<(Message, Origin)>;

/// The SIP transport.
pub struct Transport {
    protocol: Protocol,
    trunk: SocketAddr,
    udp: Option<Arc<UdpSocket>>,
    to_trunk: Mutex<Option<Stream>>,
    inbound: Inbound,
    local: SocketAddr,
}

impl Transport {
    /// Binds `bind` (UDP socket or TCP listener) and starts receiving.
    pub async fn start(
        protocol: Protocol,
        bind: SocketAddr,
        trunk: SocketAddr,
        inbound: Inbound,
    ) -> std::io::Result<Arc<Transport>> {
        match protocol {
            Protocol::Udp => {
                let socket = Arc::new(UdpSocket::bind(bind).await?);
                let local = socket.local_addr()?;
                let transport = Arc::new(Transport {
                    protocol,
                    trunk,
                    udp: Some(socket.clone()),
                    to_trunk: Mutex::new(None),
                    inbound: inbound.clone(),
                    local,
                });
                tokio::spawn(receive_datagrams(socket, inbound));
                Ok(transport)
            }
            Protocol::Tcp => {
                let listener = TcpListener::bind(bind).await?;
                let local = listener.local_addr()?;
                let transport = Arc::new(Transport {
                    protocol,
                    trunk,
                    udp: None,
                    to_trunk: Mutex::new(None),
                    inbound: inbound.clone(),
                    local,
                });
                tokio::spawn(accept(listener, inbound));
                Ok(transport)
            }
        }
    }

    /// UDP or TCP.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The bound SIP address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Sends a request (or an ACK) to the trunk.
    pub async fn send(&self, message: &Message) -> std::io::Result<()> {
        let bytes = message.to_bytes();
        match &self.udp {
            Some(socket) => socket.send_to(&bytes, self.trunk).await.map(|_| ()),
            None => {
                let stream = self.trunk_stream().await?;
                let result = stream.lock().await.write_all(&bytes).await;
                if result.is_err() {
                    // A broken connection is opened again for the next message.
                    *self.to_trunk.lock().await = None;
                }
                result
            }
        }
    }

    /// Sends a response back the way its request came.
    pub async fn reply(&self, message: &Message, origin: &Origin) -> std::io::Result<()> {
        let bytes = message.to_bytes();
        match (&origin.stream, &self.udp) {
            (Some(stream), _) => stream.lock().await.write_all(&bytes).await,
            (None, Some(socket)) => socket.send_to(&bytes, origin.addr).await.map(|_| ()),
            (None, None) => Ok(()),
        }
    }

    async fn trunk_stream(&self) -> std::io::Result<Stream> {
        let mut slot = self.to_trunk.lock().await;
        if let Some(stream) = slot.as_ref() {
            return Ok(stream.clone());
        }
        let connection = TcpStream::connect(self.trunk).await?;
        connection.set_nodelay(true)?;
        let stream = spawn_reader(connection, self.inbound.clone())?;
        *slot = Some(stream.clone());
        Ok(stream)
    }
}

async fn receive_datagrams(socket: Arc<UdpSocket>, inbound: Inbound) {
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(err) => {
                // ICMP "port unreachable" surfaces here on some systems; keep receiving.
                tracing::debug!(error = %err, "SIP receive error");
                continue;
            }
        };
        let datagram = &buf[..len];
        if datagram.iter().all(|b| b.is_ascii_whitespace()) {
            continue; // keep-alive
        }
        match Message::parse(datagram, true) {
            Ok((message, _)) => {
                let origin = Origin {
                    addr: from,
                    stream: None,
                };
                if inbound.send((message, origin)).is_err() {
                    return;
                }
            }
            Err(err) => tracing::debug!(%from, error = %err, "dropped a malformed SIP datagram"),
        }
    }
}

async fn accept(listener: TcpListener, inbound: Inbound) {
    loop {
        match listener.accept().await {
            Ok((connection, _)) => {
                let _ = connection.set_nodelay(true);
                if let Err(err) = spawn_reader(connection, inbound.clone()) {
                    tracing::debug!(error = %err, "SIP connection failed");
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "SIP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

fn spawn_reader(connection: TcpStream, inbound: Inbound) -> std::io::Result<Stream> {
    let peer = connection.peer_addr()?;
    let (mut read, write) = connection.into_split();
    let stream: Stream = Arc::new(Mutex::new(write));
    let origin = Origin {
        addr: peer,
        stream: Some(stream.clone()),
    };
    tokio::spawn(async move {
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = [0u8; 8192];
        loop {
            match read.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            loop {
                let skip = buf
                    .iter()
                    .take_while(|b| **b == b'\r' || **b == b'\n')
                    .count();
                buf.drain(..skip);
                match Message::parse(&buf, false) {
                    Ok((message, used)) => {
                        buf.drain(..used);
                        if inbound.send((message, origin.clone())).is_err() {
                            return;
                        }
                    }
                    Err(ParseError::Incomplete) => break,
                    Err(err) => {
                        tracing::warn!(%peer, error = %err, "closing a SIP connection that sent garbage");
                        return;
                    }
                }
            }
        }
    });
    Ok(stream)
}
