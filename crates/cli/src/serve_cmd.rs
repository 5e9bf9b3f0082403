//! `tsmedia serve`: the site's management point and/or distribution point over HTTP(S).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use tsmedia_server::ServerOptions;

/// Arguments of `tsmedia serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Serve the management point (both roles when neither --mp nor --dp is given)
    #[arg(long)]
    mp: bool,
    /// Serve the distribution point (both roles when neither --mp nor --dp is given)
    #[arg(long)]
    dp: bool,
    /// Address to listen on, e.g. 0.0.0.0:8080
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// Which of the site's distribution points this server is (default: the only one)
    #[arg(long, value_name = "NAME")]
    dp_name: Option<String>,
    /// PEM certificate chain: serve HTTPS (needs --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Largest clock difference accepted on signed requests, in seconds
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    max_clock_skew: i64,
}

/// Runs the service until Ctrl-C.
pub fn run(site: &Path, args: ServeArgs) -> Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // A closed log pipe must not end requests (issue #15): lines that cannot be written
        // are dropped, and the formatter does not report it with a panicking eprintln!.
        .with_writer(|| tsmedia_server::LossyStderr)
        .log_internal_errors(false)
        .try_init();
    let both = !args.mp && !args.dp;
    let options = ServerOptions {
        mp: args.mp || both,
        dp: args.dp || both,
        dp_name: args.dp_name,
        max_clock_skew: args.max_clock_skew,
        ..ServerOptions::default()
    };
    let router = tsmedia_server::router(site, &options)
        .with_context(|| format!("starting the service for the site at {}", site.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let roles = match (options.mp, options.dp) {
        (true, true) => "management point and distribution point",
        (true, false) => "management point",
        _ => "distribution point",
    };
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(tsmedia_server::tls_config_from_files(&cert, &key)?),
        _ => None,
    };
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        eprintln!(
            "serving the {roles} on {scheme}://{}",
            listener.local_addr()?
        );
        tsmedia_server::serve_with(listener, router, tls, &options, shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(())
}
