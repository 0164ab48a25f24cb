//! The booking engine against real databases: every test runs on SQLite
//! and on Postgres (`…::on_sqlite`, `…::on_postgres`).

mod support;

mod admin;
mod booking;
mod calendar;
mod checker;
mod concurrency;
mod guard;
mod outbox;
mod promise;
mod seeding;
mod waitlist;
