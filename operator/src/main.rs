//! `operator run | crd | render <shop.yaml>`.
use std::process::ExitCode;

use anyhow::Context;
use kube::CustomResourceExt;

const USAGE: &str = "usage: operator run | crd | render <shop.yaml>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["crd"] => print_crd(),
        ["render", path] => render(path),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_crd() -> anyhow::Result<()> {
    print!("{}", serde_yaml::to_string(&operator::crd::Shop::crd())?);
    Ok(())
}

fn render(path: &str) -> anyhow::Result<()> {
    let yaml = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let shop = operator::render::parse_shop(&yaml)?;
    print!("{}", operator::render::render(&shop)?);
    Ok(())
}
