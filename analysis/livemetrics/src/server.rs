//! The HTTP endpoint: `GET /metrics` answers the exposition (OpenMetrics text) of
//! the exporter's registry as it is at that moment; anything else is 404 (405 for a
//! method other than GET or HEAD). HTTP/1.1, one tokio task per connection.

use crate::error::MetricsError;
use crate::exporter::Exporter;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The exposition's content type (OpenMetrics text 1.0.0; Prometheus reads it).
pub const CONTENT_TYPE_OPENMETRICS: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A running metrics endpoint; [`Server::shutdown`] stops it (dropping it stops it
/// too).
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` (port 0: any free port) and serves `exporter` until stopped.
    pub async fn start(addr: SocketAddr, exporter: Arc<Exporter>) -> Result<Self, MetricsError> {
        let bind = |source| MetricsError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind)?;
        let local = listener.local_addr().map_err(bind)?;
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    accepted = listener.accept() => {
                        // A failed accept (too many open files) drops that connection only.
                        let Ok((stream, _)) = accepted else { continue };
                        let exporter = exporter.clone();
                        let mut stopped = stopped.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req| {
                                let exporter = exporter.clone();
                                async move { Ok::<_, std::convert::Infallible>(answer(&req, &exporter)) }
                            });
                            let conn = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service);
                            tokio::select! {
                                _ = conn => {}
                                _ = stopped.changed() => {}
                            }
                        });
                    }
                }
            }
        });
        Ok(Self {
            addr: local,
            stop,
            task: Some(task),
        })
    }

    /// The address it listens on (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops listening and closes the open connections.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The answer to one request.
fn answer(req: &Request<Incoming>, exporter: &Exporter) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, kind: &'static str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut()
            .insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static(kind));
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".into(),
        );
        r.headers_mut()
            .insert(ALLOW, hyper::header::HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    match req.uri().path() {
        "/metrics" => reply(StatusCode::OK, CONTENT_TYPE_OPENMETRICS, exporter.encode()),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "qoeprobe serves its metrics at /metrics\n".into(),
        ),
    }
}
