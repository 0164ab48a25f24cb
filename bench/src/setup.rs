//! What every phase works against (`Bench`: the instances, the database
//! and the engine on it, the HTTP client, the signed-in customers), how it
//! is set up with the run's heading, and how it is taken down.

use crate::args::{die, Args};
use crate::customers;
use crate::database::{self, Place};
use crate::instances::{memory, Instances};
use app::backend::db::Db;
use app::backend::engine::{Clock, Engine};
use app::domain::ids::UserId;
use std::time::Duration;

pub struct Bench {
    pub args: Args,
    place: Place,
    pub instances: Instances,
    pub db: Db,
    pub engine: Engine,
    pub http: reqwest::Client,
    pub customers: Vec<UserId>,
    /// The customers' session cookies, in the same order.
    pub cookies: Vec<String>,
}

impl Bench {
    /// Prints the heading, starts the instances on a fresh database and
    /// signs the customers in.
    pub async fn start(args: Args) -> Bench {
        let place = Place::new(&args);
        println!("slotkeeper-bench: {} with {} app instance(s); pool {} per instance; storm {}; spread {} at concurrency {}; browse {} at concurrency {}",
            args.database, args.instances, args.pool, args.storm, args.spread, args.concurrency, args.browse, args.concurrency);
        if let Some(pooler) = &args.pooler {
            println!("instances reach Postgres through the transaction pooler at {pooler}");
        }
        println!(
            "machine: {} cores; {}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory()
        );

        let instances = Instances::start(&args, &place.url).await;
        println!("instances: {}", instances.urls.join(" "));
        let db = database::connect(&args, &place.url).await;
        let engine = Engine::new(db.clone(), Clock::System);
        // A year of bookable days, for enough distinct slots.
        database::execute(&db, "UPDATE venues SET advance_days = 365")
            .await
            .unwrap_or_else(|e| die(&format!("widen the advance window: {e}")));

        // Customers: inserted with one hash, then signed in over HTTP (each
        // log-in verifies the password, as a real one does).
        let customers = customers::insert(&db, args.storm).await;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(2048)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        let cookies = customers::sign_in(&http, &instances, args.storm).await;

        Bench {
            args,
            place,
            instances,
            db,
            engine,
            http,
            customers,
            cookies,
        }
    }

    /// The base URL for the `i`th request.
    pub fn url(&self, i: usize) -> String {
        self.instances.url(i)
    }

    /// Closes the database, stops the instances, then removes the database.
    pub async fn finish(self) {
        self.db.close().await;
        drop(self.instances);
        self.place.remove(&self.args).await;
    }
}
