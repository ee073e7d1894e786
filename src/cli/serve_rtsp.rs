//! `qoeprobe serve rtsp`: an RTSP server (gst-rtsp-server) with a live test source,
//! H.264 over RTP, one shared media for every client. Prints `rtsp: <URL>`.

use std::net::SocketAddr;

/// The media every client gets: a moving test pattern, encoded live.
#[cfg(feature = "gstreamer")]
const LAUNCH: &str = "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=25/1 \
    ! x264enc tune=zerolatency speed-preset=veryfast bitrate=1000 key-int-max=25 \
    ! rtph264pay name=pay0 pt=96 config-interval=1 )";

/// Flags of `serve rtsp`.
#[derive(clap::Args, Debug, Clone)]
pub struct RtspArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub bind: SocketAddr,
}

/// Serves until SIGTERM or SIGINT.
#[cfg(feature = "gstreamer")]
pub async fn serve_forever(args: RtspArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    use gstreamer_rtsp_server as rtsp;
    use gstreamer_rtsp_server::prelude::*;

    gstreamer::init()
        .context("cannot initialize GStreamer (install the packages in scripts/packages.txt)")?;
    let server = rtsp::RTSPServer::new();
    server.set_address(&args.bind.ip().to_string());
    server.set_service(&args.bind.port().to_string());
    let factory = rtsp::RTSPMediaFactory::new();
    factory.set_launch(LAUNCH);
    factory.set_shared(true);
    server
        .mount_points()
        .context("the RTSP server has no mount points")?
        .add_factory("/live", factory);
    let main = gstreamer::glib::MainLoop::new(None, false);
    let source = server.attach(None).with_context(|| {
        format!(
            "cannot listen on {} for RTSP (is the port free? see --bind)",
            args.bind
        )
    })?;
    let port = server.bound_port();
    use std::io::Write;
    let ip = match args.bind.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "rtsp: rtsp://{ip}:{port}/live")?;
        out.flush()?;
    }
    let main2 = main.clone();
    let runner = std::thread::spawn(move || main2.run());
    fixtures::signal::shutdown().await?;
    main.quit();
    let _ = runner.join();
    source.remove();
    Ok(())
}

/// Serves until SIGTERM or SIGINT (this build has no GStreamer).
#[cfg(not(feature = "gstreamer"))]
pub async fn serve_forever(args: RtspArgs) -> anyhow::Result<()> {
    let _ = args.bind;
    anyhow::bail!(
        "this qoeprobe was built without GStreamer (cargo feature `gstreamer`), so it cannot serve RTSP; rebuild with default features"
    )
}
