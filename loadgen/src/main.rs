//! The `loadgen` binary: reads its settings, runs, prints the report, and exits 1 when
//! `--fail-on-errors` is set and any request got an unexpected answer.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = loadgen::settings::Settings::from_args_and_env();
    let fail_on_errors = settings.fail_on_errors;
    let report = loadgen::run::run(settings).await?;
    if fail_on_errors && report.unexpected() > 0 {
        eprintln!("loadgen: {} unexpected answers", report.unexpected());
        std::process::exit(1);
    }
    Ok(())
}
