//! The customers who book: inserted straight into the database, then
//! signed in over HTTP for their session cookies.

use crate::args::die;
use crate::instances::Instances;
use app::backend::accounts::{self, NewUser};
use app::backend::db::Db;
use app::domain::admin::Role;
use app::domain::ids::UserId;
use app::domain::input::{DisplayName, Email, Password};
use chrono::Utc;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

const PASSWORD: &str = "bench-password-1";

/// Inserts `n` customers, `bench{i}@example.com`, all with one hash.
pub async fn insert(db: &Db, n: usize) -> Vec<UserId> {
    let hash = accounts::hash_password(&Password::parse(PASSWORD).expect("a password"))
        .await
        .expect("hash");
    let mut customers = Vec::with_capacity(n);
    let now = Utc::now().timestamp();
    for i in 0..n {
        let user = NewUser {
            email: Email::parse(&format!("bench{i}@example.com")).expect("an email"),
            display_name: DisplayName::parse(&format!("Bench {i}")).expect("a name"),
            role: Role::Customer,
        };
        let id = accounts::insert_user(db, &user, &hash, now)
            .await
            .expect("insert a customer")
            .expect("a new email");
        customers.push(id);
    }
    customers
}

/// Signs the `n` customers in, eight log-ins at a time, and says how long
/// it took; their session cookies, in order.
pub async fn sign_in(http: &reqwest::Client, instances: &Instances, n: usize) -> Vec<String> {
    let t = Instant::now();
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let req = http
            .post(format!("{}/api/v1/session", instances.url(i)))
            .json(
                &serde_json::json!({"email": format!("bench{i}@example.com"), "password": PASSWORD}),
            );
        let permit = gate.clone().acquire_owned().await.expect("the gate");
        tasks.push(tokio::spawn(async move {
            let res = req.send().await;
            drop(permit);
            res.ok().and_then(|r| {
                r.headers()
                    .get("set-cookie")?
                    .to_str()
                    .ok()?
                    .split(';')
                    .next()
                    .map(str::to_owned)
            })
        }));
    }
    let cookies: Vec<String> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.ok().flatten().unwrap_or_else(|| die("a log-in failed")))
        .collect();
    println!(
        "signed in {} customers in {:.1} s (each log-in verifies an argon2 hash)",
        n,
        t.elapsed().as_secs_f64()
    );
    cookies
}
