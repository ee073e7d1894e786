//! Counting the connections a client opens: a tower layer around reqwest's
//! connector. Every connection that completes (TCP, and TLS when HTTPS) adds one;
//! requests that reuse a pooled HTTP/1.1 connection or share an HTTP/2 connection add
//! nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::watch;

/// Connections opened so far; clones share the count. A session task can wait for
/// the next one with [`Connections::subscribe`].
#[derive(Debug, Clone)]
pub struct Connections {
    count: Arc<watch::Sender<u64>>,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            count: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Connections {
    /// Connections opened so far.
    pub fn count(&self) -> u64 {
        *self.count.borrow()
    }

    /// A receiver that sees the count change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.count.subscribe()
    }

    fn opened(&self) {
        self.count.send_modify(|n| *n += 1);
    }
}

/// The layer given to `reqwest::ClientBuilder::connector_layer`.
#[derive(Debug, Clone)]
pub struct ConnectionLayer {
    connections: Connections,
}

impl ConnectionLayer {
    /// Counts into `connections`.
    pub fn new(connections: Connections) -> Self {
        Self { connections }
    }
}

impl<S> tower_layer::Layer<S> for ConnectionLayer {
    type Service = CountingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CountingService {
            inner,
            connections: self.connections.clone(),
        }
    }
}

/// The connector service wrapped by [`ConnectionLayer`].
#[derive(Debug, Clone)]
pub struct CountingService<S> {
    inner: S,
    connections: Connections,
}

impl<S, R> tower_service::Service<R> for CountingService<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let fut = self.inner.call(req);
        let connections = self.connections.clone();
        Box::pin(async move {
            let conn = fut.await?;
            connections.opened();
            Ok(conn)
        })
    }
}
