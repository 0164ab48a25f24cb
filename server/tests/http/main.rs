//! The server over HTTP: the real app on a random port against a fresh
//! database, on SQLite and on Postgres (`on_both_databases!`), one binary.

#[macro_use]
mod support;

mod admin;
mod api;
mod operator;
mod pages;
mod site;
mod waitlist;
