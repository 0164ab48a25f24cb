use app::backend::config::Settings;
use clap::{Parser, Subcommand};
use slotkeeper::{cli, Application};
use tracing_subscriber::EnvFilter;

/// Slotkeeper: bookings for spas and restaurants, where a time is never
/// sold twice.
#[derive(Parser)]
#[command(version, after_help = cli::SETTINGS_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the app (what runs when no command is given).
    Serve,
    /// Makes the account with this email an admin, creating it if there is
    /// none: the way to the first admin of a new database. Admins appoint
    /// staff on the staff page.
    #[command(after_help = cli::SETTINGS_HELP)]
    CreateAdmin {
        /// The admin's email, used to log in.
        #[arg(long)]
        email: String,
        /// The name shown to staff, for a new account.
        #[arg(long, default_value = "Admin")]
        name: String,
        /// Reads the password from the first line of standard input (10
        /// characters or more). Without it, a new account gets a generated
        /// password, printed once; an existing account keeps its own.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[tokio::main]
async fn main() {
    let args = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("slotkeeper: {e}");
            std::process::exit(2);
        }
    };
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::CreateAdmin {
            email,
            name,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                if let Err(e) = std::io::stdin().read_line(&mut line) {
                    eprintln!("slotkeeper: cannot read the password: {e}");
                    std::process::exit(2);
                }
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            match cli::create_admin(&settings, &email, &name, password).await {
                Ok(said) => println!("{said}"),
                Err(e) => {
                    eprintln!("slotkeeper: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
}

async fn serve(settings: Settings) {
    let logs = tracing_subscriber::fmt().with_env_filter(EnvFilter::new(&settings.log_filter));
    if settings.log_json {
        logs.json()
            .with_current_span(false)
            .with_span_list(true)
            .init();
    } else {
        logs.init();
    }
    let leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(e) => {
            eprintln!("slotkeeper: Leptos settings: {e}");
            std::process::exit(2);
        }
    };
    tracing::info!(?settings, "starting");
    let app = match Application::build(settings, leptos_options).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("{e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = app.run_until_stopped().await {
        tracing::error!("server stopped: {e}");
        std::process::exit(1);
    }
}
