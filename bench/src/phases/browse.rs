//! Browsing: the booking page (not signed in, and signed in, rendered
//! each time) and the availability API at concurrency C, beside a trivial
//! handler.

use crate::measure::at_concurrency;
use crate::setup::Bench;
use chrono::NaiveDate;

pub async fn run(bench: &Bench, day: NaiveDate) {
    let (args, http, cookies) = (&bench.args, &bench.http, &bench.cookies);
    let date = day.format("%Y-%m-%d");
    println!(
        "\n== browse: {} requests each at concurrency {} (not signed in, unless said)",
        args.browse, args.concurrency
    );
    let page_url = |i: usize| format!("{}/venues/1?service=1&resource=1&date={date}", bench.url(i));
    let page = at_concurrency(
        "booking page (server-rendered)",
        args.browse,
        args.concurrency,
        |i| http.get(page_url(i)),
    )
    .await;
    // A signed-in customer's page is rendered for every request.
    let rendered = at_concurrency(
        "booking page, signed in (rendered each time)",
        args.browse,
        args.concurrency,
        |i| {
            http.get(page_url(i))
                .header("cookie", &cookies[i % cookies.len()])
        },
    )
    .await;
    let api = at_concurrency("availability API", args.browse, args.concurrency, |i| {
        http.get(format!(
            "{}/api/v1/venues/1/availability?date={date}&service_id=1&resource_id=1",
            bench.url(i)
        ))
    })
    .await;
    let trivial = at_concurrency(
        "trivial handler (/healthz)",
        args.browse,
        args.concurrency,
        |i| http.get(format!("{}/healthz", bench.url(i))),
    )
    .await;
    page.print();
    rendered.print();
    api.print();
    trivial.print();
    println!(
        "  page / trivial req/s: {:.2}; signed-in page / trivial: {:.2}; API / trivial: {:.2}",
        page.rps() / trivial.rps().max(1e-9),
        rendered.rps() / trivial.rps().max(1e-9),
        api.rps() / trivial.rps().max(1e-9)
    );
}
