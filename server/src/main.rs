use app::backend::config::Settings;
use slotkeeper::Application;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("slotkeeper: {e}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(&settings.log_filter))
        .init();
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
