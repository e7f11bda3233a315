//! The metrics and health listener: `/metrics` (Prometheus text), `/livez` and `/readyz` on
//! one port (`metrics.listen`).
//!
//! It starts before anything else in start-up, so a service manager or a load balancer sees
//! a live process that says why it is not ready while it waits for Discord, the database or
//! the instance lock. The recorder is the `metrics` facade's: the kit and the modules record
//! through the facade, this module installs `metrics-exporter-prometheus`'s recorder once and
//! renders it from an axum route (the exporter's own listener is off, so the health
//! endpoints share the port).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poise::serenity_prelude as serenity;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use lounge_store::Store;

use crate::config::MetricsConfig;

/// How long `/readyz` waits for the database before calling it unreachable: well under a
/// probe's usual timeout (Kubernetes: 1 s by default is tight, 5 s common).
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often histograms are folded into their buckets when nobody scrapes (the exporter
/// leaves upkeep to its user when its own listener is off).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// Retrying a port another process holds (a predecessor still stopping on the same host):
/// the bot serves meanwhile, without its endpoints.
const BIND_RETRY_FIRST: Duration = Duration::from_secs(1);
const BIND_RETRY_MAX: Duration = Duration::from_secs(30);

/// Command latency buckets, in seconds: most commands answer in tens of milliseconds, engine
/// work and Discord round trips take up to a few seconds.
const COMMAND_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

const GATEWAY_LATENCY: &str = "lounge_gateway_latency_seconds";
const GATEWAY_CONNECTED: &str = "lounge_gateway_connected";
const DB_POOL_CONNECTIONS: &str = "lounge_db_pool_connections";

/// What start-up has reached, as far as readiness goes. Filled by `runtime` as each part
/// comes up; read by `/readyz` and by the gauges sampled at each scrape.
#[derive(Default)]
pub struct Health {
    store: OnceLock<Store>,
    shards: OnceLock<Arc<serenity::ShardManager>>,
    /// Shards a gauge was ever set for, so one that disappears reads as disconnected.
    seen_shards: Mutex<BTreeSet<u32>>,
}

impl Health {
    pub fn set_store(&self, store: &Store) {
        let _ = self.store.set(store.clone());
    }

    pub fn set_shards(&self, shards: Arc<serenity::ShardManager>) {
        let _ = self.shards.set(shards);
    }

    /// Every failing part, one short line each; empty when ready.
    async fn not_ready(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        match self.shards.get() {
            None => {
                reasons.push("gateway: not connected yet (start-up is still waiting)".to_owned());
            }
            Some(shards) => {
                let runners = shards.runners.lock().await;
                if !runners
                    .values()
                    .any(|r| r.stage == serenity::ConnectionStage::Connected)
                {
                    let stages: Vec<String> = runners
                        .iter()
                        .map(|(id, r)| format!("shard {id}: {:?}", r.stage))
                        .collect();
                    reasons.push(if stages.is_empty() {
                        "gateway: no shard running".to_owned()
                    } else {
                        format!("gateway: no shard connected ({})", stages.join(", "))
                    });
                }
            }
        }
        match self.store.get() {
            None => reasons.push("database: not open yet".to_owned()),
            Some(store) => {
                // One query pair that proves the server answers and says whether the schema
                // is this build's.
                match tokio::time::timeout(DATABASE_TIMEOUT, store.applied_schema_version()).await {
                    Err(_) => reasons.push(format!(
                        "database: no answer within {} s",
                        DATABASE_TIMEOUT.as_secs()
                    )),
                    Ok(Err(e)) => reasons.push(format!("database: unreachable: {e}")),
                    Ok(Ok(applied)) => {
                        let known = store.known_schema_version();
                        if applied != Some(known) {
                            reasons.push(format!(
                                "database: migrations not current (database at {}, this build has {known})",
                                applied.map_or_else(|| "none".to_owned(), |v| v.to_string())
                            ));
                        }
                    }
                }
            }
        }
        reasons
    }

    /// Sets the gauges that describe a state rather than count events: sampled at each
    /// scrape, so they are exactly as fresh as Prometheus asks.
    async fn sample(&self) {
        if let Some(store) = self.store.get() {
            let (open, idle) = store.pool_connections();
            let idle = idle as f64;
            metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle);
            metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "used")
                .set((f64::from(open) - idle).max(0.0));
        }
        if let Some(shards) = self.shards.get() {
            let runners = shards.runners.lock().await;
            let mut seen = self
                .seen_shards
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for &id in seen.iter() {
                if !runners.contains_key(&serenity::ShardId(id)) {
                    metrics::gauge!(GATEWAY_CONNECTED, "shard" => id.to_string()).set(0.0);
                }
            }
            for (id, runner) in runners.iter() {
                seen.insert(id.0);
                let shard = id.0.to_string();
                let connected = runner.stage == serenity::ConnectionStage::Connected;
                metrics::gauge!(GATEWAY_CONNECTED, "shard" => shard.clone())
                    .set(f64::from(u8::from(connected)));
                if let Some(latency) = runner.latency {
                    metrics::gauge!(GATEWAY_LATENCY, "shard" => shard).set(latency.as_secs_f64());
                }
            }
        }
    }
}

/// Installs the Prometheus recorder for the whole process (once: `run` is called once) and
/// describes the metrics.
fn install_recorder() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(lounge_kit::telemetry::COMMAND_DURATION_SECONDS.to_owned()),
            COMMAND_BUCKETS,
        )
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| format!("installing the metrics recorder: {e}"))?;
    lounge_kit::telemetry::describe();
    metrics::describe_gauge!(
        GATEWAY_LATENCY,
        metrics::Unit::Seconds,
        "The last heartbeat's round trip, per shard"
    );
    metrics::describe_gauge!(
        GATEWAY_CONNECTED,
        "1 while the shard is connected to the gateway, else 0"
    );
    metrics::describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Database pool connections, idle or checked out (used)"
    );
    metrics::describe_gauge!(
        "lounge_osrs_trips_due",
        "OSRS trips that ended but were still unpaid after the payout worker's last round"
    );
    metrics::describe_gauge!(
        "lounge_streamer_connected",
        "1 while the link to lounge-streamer is up, else 0 (absent when the link is off)"
    );
    Ok(handle)
}

#[derive(Clone)]
struct Shared {
    health: Arc<Health>,
    prometheus: PrometheusHandle,
}

/// The running listener; [`Listener::stop`] ends it.
pub struct Listener {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Listener {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

/// Starts the listener when `metrics.enabled`, in the background: a busy port is retried
/// (logged), never a reason for the bot not to serve.
pub fn start(config: &MetricsConfig, health: Arc<Health>) -> Result<Option<Listener>, String> {
    if !config.enabled {
        tracing::info!("metrics and health endpoints off (metrics.enabled = false)");
        return Ok(None);
    }
    let prometheus = install_recorder()?;
    let (stop, stopped) = watch::channel(false);
    let upkeep = tokio::spawn({
        let prometheus = prometheus.clone();
        let mut stopped = stopped.clone();
        async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => prometheus.run_upkeep(),
                    _ = stopped.wait_for(|s| *s) => return,
                }
            }
        }
    });
    let shared = Shared { health, prometheus };
    let serve = tokio::spawn(serve(config.listen, shared, stopped));
    Ok(Some(Listener {
        stop,
        tasks: vec![upkeep, serve],
    }))
}

async fn serve(listen: SocketAddr, shared: Shared, mut stopped: watch::Receiver<bool>) {
    let mut wait = BIND_RETRY_FIRST;
    let listener = loop {
        match tokio::net::TcpListener::bind(listen).await {
            Ok(listener) => break listener,
            Err(e) => {
                tracing::warn!(
                    %listen,
                    retry_in_s = wait.as_secs(),
                    "metrics.listen {listen}: {e}; retrying (the bot serves meanwhile)"
                );
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
                wait = (wait * 2).min(BIND_RETRY_MAX);
            }
        }
    };
    let addr = listener.local_addr().map_or(listen, |a| a);
    tracing::info!(%addr, "metrics listening on http://{addr} (/metrics, /livez, /readyz)");
    let app = axum::Router::new()
        .route("/livez", get(|| async { "alive\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render))
        .with_state(shared);
    let shutdown = async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::warn!(error = %e, "the metrics listener failed");
    }
}

async fn readyz(State(shared): State<Shared>) -> impl IntoResponse {
    let reasons = shared.health.not_ready().await;
    if reasons.is_empty() {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        let mut body = String::from("not ready\n");
        for reason in reasons {
            body.push_str(&reason);
            body.push('\n');
        }
        (StatusCode::SERVICE_UNAVAILABLE, body)
    }
}

async fn render(State(shared): State<Shared>) -> impl IntoResponse {
    shared.health.sample().await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        shared.prometheus.render(),
    )
}
