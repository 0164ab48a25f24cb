//! The command line: the flags, their defaults and limits, `--help`, and
//! `die`, the way out for anything the run cannot go on from.

/// What the command line asks for; `Args::parse` has the defaults.
pub struct Args {
    pub database: String,
    pub instances: usize,
    pub storm: usize,
    pub spread: usize,
    pub browse: usize,
    pub concurrency: usize,
    pub pool: u32,
    pub server: String,
    pub postgres: String,
    /// A transaction-pooling PgBouncer in front of `postgres`, for the
    /// instances.
    pub pooler: Option<String>,
}

impl Args {
    /// The flags of this process's command line; exits on `--help` (0) and
    /// on anything it cannot use (2).
    pub fn parse() -> Args {
        let mut a = Args {
            database: "sqlite".into(),
            instances: 1,
            storm: 1000,
            spread: 1000,
            browse: 2000,
            concurrency: 32,
            pool: 8,
            server: "target/release/slotkeeper".into(),
            postgres: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            pooler: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .unwrap_or_else(|| die(&format!("{flag} needs a value")))
            };
            let number = |v: String| {
                v.parse::<usize>()
                    .unwrap_or_else(|_| die(&format!("{flag}: not a number: {v}")))
            };
            match flag.as_str() {
                "--database" => a.database = value(),
                "--instances" => a.instances = number(value()).max(1),
                "--storm" => a.storm = number(value()).max(2),
                "--spread" => a.spread = number(value()),
                "--browse" => a.browse = number(value()),
                "--concurrency" => a.concurrency = number(value()).max(1),
                "--pool" => a.pool = number(value()).max(1) as u32,
                "--server" => a.server = value(),
                "--postgres" => a.postgres = value(),
                "--pooler" => a.pooler = Some(value()),
                "--help" | "-h" => {
                    // The usage text is the crate's doc comment, at the top
                    // of main.rs.
                    println!(
                        "{}",
                        include_str!("main.rs")
                            .lines()
                            .take_while(|l| l.starts_with("//!"))
                            .map(|l| l.trim_start_matches("//!").trim_start())
                            .collect::<Vec<_>>()
                            .join("\n")
                    );
                    std::process::exit(0);
                }
                other => die(&format!("unknown option {other}; see --help")),
            }
        }
        if a.database != "sqlite" && a.database != "postgres" {
            die("--database is sqlite or postgres");
        }
        if a.database == "sqlite" && a.pooler.is_some() {
            die("--pooler is for --database postgres");
        }
        if a.database == "sqlite" && a.instances > 1 {
            die("SQLite is for one app instance; use --database postgres for more");
        }
        a
    }
}

pub fn die(msg: &str) -> ! {
    eprintln!("slotkeeper-bench: {msg}");
    std::process::exit(2)
}
