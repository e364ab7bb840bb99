//! The `loadgen` binary: reads its settings, runs, prints the report, and exits 1 when
//! `--fail-on-errors` is set and any request got an unexpected answer.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = match loadgen::settings::Settings::from_args_and_env(std::env::args().skip(1)) {
        Ok(settings) => settings,
        Err(loadgen::settings::SettingsError::Help) => {
            println!("{}", loadgen::settings::USAGE);
            return Ok(());
        }
        Err(error) => {
            eprintln!("loadgen: {error}\n\n{}", loadgen::settings::USAGE);
            std::process::exit(2);
        }
    };
    let fail_on_errors = settings.fail_on_errors;
    let report = loadgen::run::run(settings).await?;
    if fail_on_errors && report.unexpected() > 0 {
        eprintln!("loadgen: {} unexpected answers", report.unexpected());
        std::process::exit(1);
    }
    Ok(())
}
