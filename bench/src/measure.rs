//! Measuring: one request's answer (`Sample`), a phase's answers and how
//! they are printed (`Phase`: counts, percentiles, requests per second),
//! and the two ways requests are sent (`burst`, `at_concurrency`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Barrier, Semaphore};

/// One request's answer, as the tables count it.
pub struct Sample {
    pub status: u16,
    pub latency: Duration,
    /// A 409 that carries alternatives.
    pub alternatives: bool,
}

/// The answers of one phase, and how long it took from first to last.
pub struct Phase {
    name: String,
    samples: Vec<Sample>,
    elapsed: Duration,
}

impl Phase {
    /// Waits for every task of a phase that started at `started`.
    pub async fn gather(
        name: &str,
        tasks: Vec<tokio::task::JoinHandle<Sample>>,
        started: Instant,
    ) -> Phase {
        let samples = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(|r| r.expect("a request task"))
            .collect();
        Phase {
            name: name.to_owned(),
            samples,
            elapsed: started.elapsed(),
        }
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let mut l: Vec<Duration> = self.samples.iter().map(|s| s.latency).collect();
        l.sort_unstable();
        if l.is_empty() {
            return Duration::ZERO;
        }
        l[((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1]
    }

    pub fn rps(&self) -> f64 {
        self.samples.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn count(&self, f: impl Fn(&Sample) -> bool) -> usize {
        self.samples.iter().filter(|s| f(s)).count()
    }

    pub fn print(&self) {
        let ok = self.count(|s| (200..300).contains(&s.status));
        let conflicts = self.count(|s| s.status == 409);
        let with_alternatives = self.count(|s| s.status == 409 && s.alternatives);
        let mut others: BTreeMap<u16, usize> = BTreeMap::new();
        for s in self
            .samples
            .iter()
            .filter(|s| !(200..300).contains(&s.status) && s.status != 409)
        {
            *others.entry(s.status).or_default() += 1;
        }
        let others = if others.is_empty() {
            "none".to_owned()
        } else {
            others
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}×{v}",
                        if *k == 0 {
                            "error".to_owned()
                        } else {
                            k.to_string()
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "  {:<34} {:>6} req  {:>6} ok  {:>6} conflicts ({} with alternatives)  other: {}",
            self.name,
            self.samples.len(),
            ok,
            conflicts,
            with_alternatives,
            others
        );
        println!(
            "  {:<34} p50 {:>7.1} ms  p90 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  {:>8.0} req/s",
            "",
            ms(self.percentile(0.50)),
            ms(self.percentile(0.90)),
            ms(self.percentile(0.99)),
            ms(self.percentile(1.0)),
            self.rps()
        );
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
/// Sends one request and times it to the end of its body; a request that
/// gets no answer counts as status 0.
async fn timed(req: reqwest::RequestBuilder) -> Sample {
    let t = Instant::now();
    match req.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            let text = res.text().await.unwrap_or_default();
            Sample {
                status,
                latency: t.elapsed(),
                alternatives: status == 409 && text.contains("\"alternatives\":[{"),
            }
        }
        Err(_) => Sample {
            status: 0,
            latency: t.elapsed(),
            alternatives: false,
        },
    }
}

/// Sends every request at once (a barrier releases them together).
pub async fn burst<F>(name: &str, n: usize, make: F) -> Phase
where
    F: Fn(usize) -> reqwest::RequestBuilder,
{
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let req = make(i);
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            timed(req).await
        }));
    }
    barrier.wait().await;
    let t = Instant::now();
    Phase::gather(name, tasks, t).await
}

/// Runs `n` requests, at most `c` at a time.
pub async fn at_concurrency<F>(name: &str, n: usize, c: usize, make: F) -> Phase
where
    F: Fn(usize) -> reqwest::RequestBuilder,
{
    let gate = Arc::new(Semaphore::new(c));
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let req = make(i);
        let permit = gate.clone().acquire_owned().await.expect("the gate");
        tasks.push(tokio::spawn(async move {
            let s = timed(req).await;
            drop(permit);
            s
        }));
    }
    Phase::gather(name, tasks, t).await
}
