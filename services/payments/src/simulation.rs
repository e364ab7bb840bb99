//! The simulated processor's latency and failures, and request fingerprints.

use ring::rand::{SecureRandom, SystemRandom};

use shopkit::faults::Faults;

use crate::config::Simulation;

/// The simulated processor did not answer.
#[derive(Debug, thiserror::Error)]
#[error("simulated processor failure")]
pub struct ProcessorError;

/// Fault flag: milliseconds the processor takes, instead of `PAYMENTS_SIMULATED_LATENCY_MS`.
pub const LATENCY_FLAG: &str = "paymentLatencyMs";
/// Fault flag: share of charges that fail (0 to 1), instead of `PAYMENTS_FAILURE_RATE`.
pub const FAILURE_RATE_FLAG: &str = "paymentFailureRate";

/// The simulation in force now: the configured one, with each fault flag that is on in place
/// of the matching setting.
pub fn effective(configured: &Simulation, faults: &Faults) -> Simulation {
    Simulation {
        latency: faults.number(LATENCY_FLAG).map_or(configured.latency, |_| faults.delay(LATENCY_FLAG)),
        failure_rate: faults.number(FAILURE_RATE_FLAG).map_or(configured.failure_rate, |rate| rate.clamp(0.0, 1.0)),
    }
}

/// Waits the simulated latency, then fails with the simulated probability.
pub async fn process(configured: &Simulation, faults: &Faults) -> Result<(), ProcessorError> {
    let simulation = effective(configured, faults);
    if !simulation.latency.is_zero() {
        tokio::time::sleep(simulation.latency).await;
    }
    if simulation.failure_rate <= 0.0 {
        return Ok(());
    }
    let mut bytes = [0u8; 4];
    // A broken system RNG counts as a processor failure rather than a silent success.
    SystemRandom::new().fill(&mut bytes).map_err(|_| ProcessorError)?;
    let draw = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX);
    if draw < simulation.failure_rate {
        tracing::info!(failure_rate = simulation.failure_rate, "simulated processor failure");
        Err(ProcessorError)
    } else {
        Ok(())
    }
}

/// A SHA-256 fingerprint of a request's non-secret fields (hex), to tell a replay from a
/// different request reusing an idempotency key.
pub fn request_hash(parts: &[&str]) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        context.update(part.as_bytes());
        context.update(&[0x1f]);
    }
    context.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn failure_rate_extremes_always_or_never_fail() {
        let never = Simulation { latency: Duration::ZERO, failure_rate: 0.0 };
        let always = Simulation { latency: Duration::ZERO, failure_rate: 1.0 };
        for _ in 0..20 {
            assert!(process(&never, &Faults::none()).await.is_ok());
            assert!(process(&always, &Faults::none()).await.is_err());
        }
    }

    #[test]
    fn hashes_separate_fields() {
        assert_ne!(request_hash(&["ab", "c"]), request_hash(&["a", "bc"]));
        assert_eq!(request_hash(&["x"]).len(), 64);
    }
}
